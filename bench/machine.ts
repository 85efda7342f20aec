/** Where and with what a run was made, for the report: numbers mean little without it. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Machine {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly availableParallelism: number;
  readonly memoryGB: number;
  readonly platform: string;
  readonly node: string;
}

/** The 1-minute load average, read before the run starts: well above 0 means something else was competing for the cores. */
export function loadAverage(): number {
  return Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    memoryGB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

export function packageVersion(dir: string): string {
  try {
    return (JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** Troupe's commit, read-only: flags uncommitted changes under src/ (the code measured). */
function troupeRevision(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const clean = (() => {
      try {
        execFileSync('git', ['diff', '--quiet', 'HEAD', '--', 'src'], { cwd: ROOT, stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    return clean ? commit : `${commit} + uncommitted src/ changes`;
  } catch {
    return 'unknown';
  }
}

export interface Versions {
  readonly troupe: string;
  readonly troupeRevision: string;
  readonly piscina: string;
  readonly tinypool: string;
  readonly workerpool: string;
  readonly tinybench: string;
}

export function versions(): Versions {
  return {
    troupe: packageVersion(ROOT),
    troupeRevision: troupeRevision(),
    piscina: packageVersion(`${ROOT}/node_modules/piscina`),
    tinypool: packageVersion(`${ROOT}/node_modules/tinypool`),
    workerpool: packageVersion(`${ROOT}/node_modules/workerpool`),
    tinybench: packageVersion(`${ROOT}/node_modules/tinybench`),
  };
}

/**
 * A digest of every file under src/: read at the start and the end of a run,
 * it tells whether Troupe's code changed while the run was going (each child
 * process loads src/ afresh, so samples would then mix versions).
 */
export function sourceDigest(): string {
  const hash = createHash('sha256');
  const files = readdirSync(`${ROOT}src`, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => `${entry.parentPath}/${entry.name}`)
    .sort();
  for (const file of files) hash.update(file).update(readFileSync(file));
  return hash.digest('hex').slice(0, 12);
}
