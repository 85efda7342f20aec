/**
 * Whether an actor keeps the process alive, as under XState in one thread:
 * while it has events to process, a delayed transition or invoked work
 * pending, and not once it is idle. Each run is a script in a process of its
 * own (test/fixtures/actor-keep-alive.ts), as users run theirs: inside
 * vitest the process never exits early, so only there does it show.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { fixture } from '../helpers/index.js';

const run = promisify(execFile);
const script = fileURLToPath(fixture('actor-keep-alive.ts'));

/** Runs the script in `mode`: its exit code and what it printed. A process that does not exit by itself fails at `timeout`. */
async function runScript(mode: string, timeout: number): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script, mode], { timeout, killSignal: 'SIGKILL' });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; killed?: boolean; stdout?: string };
    if (failed.killed) throw new Error(`The \`${mode}\` script did not exit by itself within ${timeout} ms`, { cause: error });
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '' };
  }
}

describe('an actor and the process', () => {
  it('keeps it alive while the actor has events, a delayed transition or an invoked promise pending: 8 runs of 8', async () => {
    const runs: Array<{ code: number; stdout: string }> = [];
    // One after the other: the machine has two cores, shared with the other test files.
    for (let i = 0; i < 8; i++) runs.push(await runScript('pending', 15_000));
    expect(runs).toEqual(Array.from({ length: 8 }, () => ({ code: 0, stdout: '{"total":10,"quote":20}\n' })));
  }, 120_000);

  it('lets it exit once the actor is idle, without stop or shutdown', async () => {
    for (let i = 0; i < 2; i++) expect(await runScript('idle', 15_000)).toEqual({ code: 0, stdout: '{"count":1,"log":[]}\n' });
  }, 60_000);
});
