/**
 * The task store against real crashes: a processor in a process of its own,
 * SIGKILLed at chosen points of a run (while it submits, while it runs, while
 * it recovers), then started again on the same file until it is idle. Every
 * task whose submitAsync resolved must end with exactly one result, with its
 * value; a task whose result was on disk before a kill never runs again.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

import { readStoredResults } from '../../src/store/sqlite-results.js';

const SCRIPT = new URL('../fixtures/store-process.ts', import.meta.url);
const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

type Message = { ready?: true; acked?: string; done?: string; value?: unknown; failed?: string; code?: string; idle?: true };

interface Run {
  readonly child: ChildProcess;
  readonly messages: Message[];
  /** Resolves at the first message that `until` accepts; rejects if the process exits first. */
  next(until: (message: Message) => boolean): Promise<Message>;
  readonly exited: Promise<number | null>;
}

let dir: string | undefined;
const children = new Set<ChildProcess>();
afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function start(args: string[]): Run {
  const child = fork(SCRIPT, args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.add(child);
  const messages: Message[] = [];
  const waiting = new Set<{ until: (message: Message) => boolean; resolve: (message: Message) => void }>();
  child.on('message', (message: Message) => {
    messages.push(message);
    for (const waiter of [...waiting]) {
      if (!waiter.until(message)) continue;
      waiting.delete(waiter);
      waiter.resolve(message);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    messages,
    exited,
    next: (until) =>
      new Promise((resolve, reject) => {
        waiting.add({ until, resolve });
        void exited.then((code) => reject(new Error(`the processor exited (${code}) before the awaited message`)));
      }),
  };
}

async function kill(run: Run): Promise<void> {
  run.child.kill('SIGKILL');
  await run.exited;
  children.delete(run.child);
}

/** Runs `resume` until a run reaches idle, killing none; returns every message of it and how many runs died meanwhile. */
async function finish(path: string, log: string, threads = '2'): Promise<{ messages: Message[]; deaths: number }> {
  for (let deaths = 0; ; deaths++) {
    const run = start([path, 'resume', '0', log, threads]);
    const outcome = await Promise.race([run.next((message) => message.idle === true).then(() => 'idle'), run.exited.then(() => 'died')]);
    if (outcome === 'idle') {
      run.child.send('stop');
      await run.exited;
      return { messages: run.messages, deaths };
    }
    children.delete(run.child);
  }
}

function readResults(path: string): Map<string, { status: string; value?: unknown; error?: { code?: string } }> {
  const db = new Database(path, { readonly: true });
  try {
    const tasks = (db.prepare('SELECT count(*) AS n FROM tasks').get() as { n: number }).n;
    expect(tasks, 'no task left unfinished in the store').toBe(0);
    return readStoredResults(db);
  } finally {
    db.close();
  }
}

function runsById(log: string): Map<string, number> {
  const runs = new Map<string, number>();
  for (const id of readFileSync(log, 'utf8').split('\n')) if (id) runs.set(id, (runs.get(id) ?? 0) + 1);
  return runs;
}

describe('a processor with a store, SIGKILLed', () => {
  it(
    'ends every acknowledged task once, with its value, across kills while submitting, running and recovering',
    { timeout: 90_000 },
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'troupe-store-'));
      const path = join(dir, 'tasks.db');
      const log = join(dir, 'runs.log');
      const COUNT = 3_000;
      const acked = new Set<string>();
      const doneBefore = new Set<string>();
      // Killed mid-run, after 400 results (it may still be submitting).
      const first = start([path, 'submit', String(COUNT), log]);
      let done = 0;
      await first.next((message) => message.done !== undefined && ++done === 400);
      await kill(first);
      for (const message of first.messages) {
        if (message.acked) acked.add(message.acked);
        if (message.done) doneBefore.add(message.done);
      }
      // Killed while recovering: as soon as it is open again, before it is idle.
      const recovering = start([path, 'resume', '0', log]);
      await recovering.next((message) => message.ready === true);
      await kill(recovering);
      // Killed while running what is left: after 300 more results, or once idle if
      // fewer were left (the first run may finish most of them before its kill lands).
      const running = start([path, 'resume', '0', log]);
      let results = 0;
      await running.next((message) => (message.done !== undefined && ++results === 300) || message.idle === true);
      await kill(running);
      const { deaths } = await finish(path, log);
      expect(deaths).toBe(0);

      const stored = readResults(path);
      for (const id of acked) {
        const result = stored.get(id);
        expect(result, `${id} has a result`).toBeDefined();
        expect(result).toMatchObject({ status: 'done', value: Number(id.slice(1)) });
      }
      const runs = runsById(log);
      // Finished and on disk before the first kill: never run again.
      for (const id of doneBefore) expect(runs.get(id), `${id} ran once`).toBe(1);
      const twice = [...runs.values()].filter((n) => n > 1).length;
      // Only attempts a kill interrupted, or whose result was not yet committed, may run again. Per thread and kill:
      // what its window holds (concurrency 1 + window 64, the defaults with a store), and as many results sent back
      // and not yet on disk (the thread's next batch waits for the commit that holds them). Two threads, three kills.
      const perThread = 2 * (1 + 64);
      expect(twice).toBeLessThanOrEqual(3 * 2 * perThread);
      console.log(`store crash test: ${acked.size} acknowledged, ${stored.size} results, ${twice} ran more than once over 3 kills`);
    },
  );

  it(
    'fails a task that kills its whole process each time after maxCrashes deaths, and charges nobody beside it',
    { timeout: 60_000 },
    async () => {
      dir = mkdtempSync(join(tmpdir(), 'troupe-store-'));
      const path = join(dir, 'tasks.db');
      const log = join(dir, 'runs.log');
      // Two threads: the poison task dies beside others, and a death with several tasks running charges none of them.
      const first = start([path, 'poison', '0', log, '2']);
      await first.exited; // the poison task takes it down
      children.delete(first.child);
      const { messages, deaths } = await finish(path, log, '2');
      // maxCrashes is 2. A death with others running beside it is charged to nobody; twice suspected, the poison task
      // runs alone in the process, where its next two deaths are its own: at most 2 + 2 deaths after the first.
      expect(deaths).toBeGreaterThanOrEqual(1);
      expect(deaths).toBeLessThanOrEqual(4);
      console.log(`poison task: the process died ${deaths + 1} times before it ended failed`);
      // It ended while the store was opened (no subscriber yet): its result tells.
      expect(messages.find((message) => message.done === 'poison')).toBeUndefined();
      const stored = readResults(path);
      expect(stored.get('poison')).toMatchObject({ status: 'failed', error: { code: 'ERR_POISON_TASK' } });
      for (let i = 0; i < 10; i++) expect(stored.get(`t${i}`)).toMatchObject({ status: 'done', value: i });
      // It ran beside the poison task at its deaths, and was charged for none of them.
      expect(stored.get('slow')).toMatchObject({ status: 'done', value: 'slow' });
    },
  );
});
