/**
 * The package as a user gets it: packed with `npm pack`, installed from the
 * tarball into a scratch project, and run from compiled JavaScript with plain
 * `node`, with a `.js` handler module and (under tsx) a `.ts` one; its
 * `troupe` command too.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { beforeAll, describe, expect, it } from 'vitest';

import { NATS_URL, natsAvailable } from './distributed/nats.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let project = '';

const main = (handlers: string) => `
import { createProcessor } from 'troupe';
const processor = createProcessor({ handlers: new URL('${handlers}', import.meta.url), workers: 1 });
const result = await processor.result(processor.submit({ payload: 21 }));
console.log(result.status, result.value);
await processor.shutdown();
`;

// A node and a client on NATS: the broker's client libraries come with the package.
const mainNats = `
import { createProcessor, natsBroker } from 'troupe';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
const stream = 'package_' + process.pid;
const broker = natsBroker({ servers: process.env.NATS_URL, stream, storage: 'memory' });
const node = createProcessor({ handlers: new URL('./handlers.js', import.meta.url), workers: 1, broker });
const client = createProcessor({ workers: 0, broker });
const result = await client.result(await client.submitAsync({ payload: 21 }));
console.log(result.status, result.value);
await Promise.all([node.shutdown(), client.shutdown()]);
const nc = await connect({ servers: process.env.NATS_URL });
const jsm = await jetstreamManager(nc);
for (const name of [stream, 'KV_' + stream + '-results', 'KV_' + stream + '-nodes']) await jsm.streams.delete(name);
await nc.close();
`;

// What a processor loads: the NATS client only when a broker is opened, rxjs,
// prom-client and the OpenTelemetry api only when a stream, a registry or a
// trace asks for them (all CommonJS, so listed in require's cache), and then
// the very copy the app imports.
const mainLoaded = `
import { createRequire } from 'node:module';
import { createProcessor } from 'troupe';
const cache = createRequire(import.meta.url).cache;
const loaded = (...names) => names.filter((name) => Object.keys(cache).some((path) => path.includes('/node_modules/' + name + '/'))).join(' ') || 'none';
const processor = createProcessor({ handlers: new URL('./handlers.js', import.meta.url), workers: 1 });
await processor.result(processor.submit({ payload: 21 }));
console.log(loaded('@nats-io', 'rxjs', 'prom-client', '@opentelemetry/api'));
const { Observable } = await import('rxjs');
const { Registry } = await import('prom-client');
console.log(processor.events instanceof Observable, processor.metricsRegistry instanceof Registry);
await processor.shutdown();
`;

const natsUp = await natsAvailable();

describe('the packed package', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    const packs = mkdtempSync(join(tmpdir(), 'troupe-pack-'));
    // `prepack` builds dist/ first.
    const { stdout } = await run(npm, ['pack', '--pack-destination', packs, '--silent'], { cwd: root, timeout: 120_000 });
    const tarball = join(packs, stdout.trim().split('\n').at(-1) as string);
    project = mkdtempSync(join(tmpdir(), 'troupe-consumer-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const { version: tsx } = (await import('tsx/package.json', { with: { type: 'json' } })).default as { version: string };
    // --engine-strict: the install fails if any package it brings needs a newer Node than this one (CI runs the
    // lowest that package.json's `engines` claims), instead of warning EBADENGINE.
    await run(npm, ['install', tarball, `tsx@${tsx}`, '--engine-strict', '--no-audit', '--no-fund', '--prefer-offline', '--silent'], {
      cwd: project,
      timeout: 150_000,
    });
    writeFileSync(join(project, 'handlers.js'), 'export default function double(n) { return n * 2; }\n');
    writeFileSync(join(project, 'handlers.ts'), 'export default function double(n: number): number { return n * 2; }\n');
    writeFileSync(join(project, 'main.js'), main('./handlers.js'));
    writeFileSync(join(project, 'main-ts.js'), main('./handlers.ts'));
    writeFileSync(join(project, 'main-nats.js'), mainNats);
    writeFileSync(join(project, 'main-loaded.js'), mainLoaded);
  }, 180_000);

  it('runs a task with plain node and a .js handler module', async () => {
    const { stdout } = await run(process.execPath, ['main.js'], { cwd: project, timeout: 30_000 });
    expect(stdout).toBe('done 42\n');
  });

  it('loads the NATS client, rxjs, prom-client and the OpenTelemetry api only when used, and then the copy the app imports', async () => {
    const { stdout } = await run(process.execPath, ['main-loaded.js'], { cwd: project, timeout: 30_000 });
    expect(stdout).toBe('none\ntrue true\n');
  });

  it('runs a .ts handler module when the app runs under tsx', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'main-ts.js'], { cwd: project, timeout: 30_000 });
    expect(stdout).toBe('done 42\n');
  });

  it.skipIf(!natsUp)('runs a node and a client on NATS JetStream, its NATS client installed with it', async () => {
    const { stdout } = await run(process.execPath, ['main-nats.js'], { cwd: project, timeout: 30_000, env: { ...process.env, NATS_URL } });
    expect(stdout).toBe('done 42\n');
  });

  it('installs the troupe command', async () => {
    const { stdout } = await run(join(project, 'node_modules/.bin/troupe'), ['run', '--help'], { cwd: project, timeout: 30_000 });
    expect(stdout).toContain('Usage: troupe run [options] <handlers>');
  });
});
