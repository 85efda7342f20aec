/**
 * Actors in the task store: what shutdown leaves is resumed by a later run
 * spawning the same id, what ended or was stopped for good is forgotten, and
 * an ask's answer is on disk before it resolves, so a SIGKILLed process
 * resumes at least there.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { type ActorSnapshot, createProcessor, InvalidActorError, type Processor, sqliteStore } from '../../src/index.js';
import { fixture } from '../helpers/index.js';

let dir: string;
const open: Processor[] = [];
const children = new Set<ChildProcess>();
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const p of open.splice(0)) await p.shutdown({ timeout: 0 });
  rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  dir = mkdtempSync(join(tmpdir(), 'troupe-actors-'));
  return join(dir, 'tasks.db');
}

function make(path: string): Processor {
  const p = createProcessor({ handlers: fixture('actors.ts'), workers: 1, store: sqliteStore({ path }) });
  open.push(p);
  return p;
}

/** Shuts `p` down and forgets it: the file is free for the next processor. */
async function close(p: Processor) {
  const outcome = await p.shutdown();
  open.splice(open.indexOf(p), 1);
  return outcome;
}

const count = (snapshot: ActorSnapshot) => (snapshot.context as { count: number }).count;

describe('actors in the store', () => {
  it('resumes an actor that shutdown stopped when a later run spawns its id; forgets it once stopped for good', async () => {
    const path = scratch();
    const first = make(path);
    const account = await first.spawn('counter', { id: 'account', input: { start: 1 } });
    await account.ask({ type: 'add', by: 4 });
    account.send({ type: 'note', text: 'last' });
    const over = await first.spawn('counter', { id: 'over' });
    await over.ask({ type: 'finish' });
    await close(first);

    const second = make(path);
    await second.ready;
    // A final state ended `over`: only `account` is left to resume.
    expect(second.storedActors()).toEqual([{ id: 'account', logic: 'counter' }]);
    await expect(second.spawn('tally', { id: 'account' })).rejects.toThrow(InvalidActorError);
    await expect(second.spawn('tally', { id: 'account' })).rejects.toThrow(/stored with logic `counter`/);
    const resumed = await second.spawn('counter', { id: 'account' });
    expect(resumed.getSnapshot()).toMatchObject({ status: 'active', context: { count: 5, log: ['last'] } });
    expect(second.storedActors()).toEqual([]);
    expect(count(await resumed.ask({ type: 'inc' }))).toBe(6);
    await resumed.stop();
    await close(second);

    const third = make(path);
    await third.ready;
    expect(third.storedActors()).toEqual([]);
    const fresh = await third.spawn('counter', { id: 'account' });
    expect(count(fresh.getSnapshot())).toBe(0);
  });

  it.each([
    ['a thread actor', 'actor-store-process.ts'],
    ['a virtual actor, passivated and read back mid-run', 'virtual-store-process.ts'],
  ])('an ask resolves once its snapshot is on disk: after SIGKILL %s resumes at least there', async (_kind, file) => {
    const path = scratch();
    const script = fixture(file);
    const run = (mode: string) => {
      const child = fork(script, [path, mode], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      children.add(child);
      return child;
    };
    const asking = run('ask');
    const acked = await new Promise<number>((resolve) =>
      asking.on('message', (message: { asked?: number }) => {
        if ((message.asked ?? 0) >= 20) resolve(message.asked as number);
      }),
    );
    const exited = new Promise((resolve) => asking.once('exit', resolve));
    asking.kill('SIGKILL');
    await exited;
    const resuming = run('resume');
    const resumed = await new Promise<number>((resolve) =>
      resuming.once('message', (message: { resumed: number }) => resolve(message.resumed)),
    );
    expect(resumed).toBeGreaterThanOrEqual(acked);
  });
});
