/**
 * Scenario 6: the import of the library in a fresh process, then the time
 * from constructing the pool to the first result. Kept apart: the import is
 * paid once per process whatever the pool does (by every run of a CLI, every
 * cold start of a serverless function), the start-up by each pool.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { phase } from '../protocol.js';
import { loadPool } from './open.js';
import type { Scenario } from './scenario.js';

export const startup: Scenario = {
  id: 'startup',
  title: '6. Start-up',
  caption: () =>
    "Import: `await import(...)` of the library in a fresh `node` process of its own (no tsx, nothing else loaded): Troupe's `dist/index.js`, the peers' packages, `node:worker_threads` for raw. " +
    'Start-up: time from `createProcessor(...)` / `new Piscina(...)` (and the others) to the first no-op result, 2 threads, library already imported. ms, lower is better.',
  contenders: ['troupe', 'piscina', 'tinypool', 'workerpool', 'raw'],
  subjects: ['troupe'],
  metrics: [
    { key: 'importMs', label: 'import ms', better: 'lower', digits: 1, compare: 'ratio' },
    { key: 'ms', label: 'start-up ms', better: 'lower', digits: 1, compare: 'ratio' },
  ],
  rounds: (r) => r,
  timeoutMs: 60_000,
  async run(contender) {
    phase('import');
    const importMs = await timeImport(contender);
    const create = await loadPool(contender);
    phase('first task');
    const start = performance.now();
    const pool = create();
    await pool.run('noop', 0);
    return { importMs, ms: performance.now() - start };
  },
};

/** What each contender's users import. */
const LIBRARY: Record<string, string> = {
  troupe: new URL('../../dist/index.js', import.meta.url).href,
  piscina: 'piscina',
  tinypool: 'tinypool',
  workerpool: 'workerpool',
  raw: 'node:worker_threads',
};

/**
 * The library's import, timed in a `node` of its own: this child runs under
 * tsx, whose loader hooks would charge every module of a library a toll no
 * user running plain `node` pays.
 */
async function timeImport(contender: string): Promise<number> {
  const library = LIBRARY[contender];
  if (!library) throw new Error(`no library to import for ${contender}`);
  const code = `const start = performance.now(); await import(${JSON.stringify(library)}); console.log(performance.now() - start);`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    timeout: 30_000,
  });
  return Number(stdout.trim());
}
