/**
 * The thread must start the same way from compiled JavaScript under plain
 * `node` as under tsx and vitest, with JavaScript and TypeScript handlers.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
// Inside node_modules so the build resolves the project's dependencies.
const outDir = `${root}node_modules/.cache/troupe-dist-test`;

beforeAll(async () => {
  await run(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`, '--outDir', outDir], {
    cwd: root,
  });
  mkdirSync(outDir, { recursive: true });
  // Package scope lookup stops at node_modules: declare the build ESM.
  writeFileSync(`${outDir}/package.json`, '{ "type": "module" }\n');
}, 60_000);

async function runWithNode(handlers: string, payload: unknown): Promise<unknown> {
  const script = `
    import { createProcessor } from ${JSON.stringify(`${outDir}/index.js`)};
    const p = createProcessor({ handlers: ${JSON.stringify(handlers)}, workers: 1 });
    await p.ready;
    const result = await p.result(p.submit({ payload: ${JSON.stringify(payload)} }));
    await p.shutdown();
    console.log(JSON.stringify(result.status === 'done' ? result.value : result));
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '--eval', script], { cwd: root, timeout: 30_000 });
  return JSON.parse(stdout);
}

describe('compiled dist under plain node', () => {
  it('runs a JavaScript handler module', async () => {
    expect(await runWithNode(`${root}test/fixtures/plain-handlers.js`, 21)).toBe(42);
  });

  it('runs a TypeScript handler module (through tsx in the thread)', async () => {
    expect(await runWithNode(`${root}test/fixtures/handlers.ts`, { echo: true })).toEqual({ echo: true });
  });
});
