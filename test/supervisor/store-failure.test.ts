/**
 * A write to the task store that fails mid-run (a full disk, an I/O error)
 * puts the processor in its `error` state with a StoreError naming the
 * cause: new submits are refused, nothing already acknowledged is dropped,
 * running attempts finish, and no waiter hangs.
 */
import { describe, expect, it } from 'vitest';

import { StoreError } from '../../src/errors/errors.js';
import { observableOf } from '../../src/observe/rx.js';
import { resolveOptions } from '../../src/options/resolve.js';
import type { Changes, OpenStore, StoreWriter } from '../../src/store/store.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { normalizeTask } from '../../src/task/normalize.js';
import { heldStore } from '../helpers/held-store.js';
import { handlers, nextEvent } from '../helpers/index.js';

/** A store whose writes succeed until `fail()` is called, then fail as a full disk would. */
function flakyStore(): OpenStore & { fail(): void; commits: Changes[] } {
  let failing = false;
  const commits: Changes[] = [];
  const writer: StoreWriter = {
    path: '/tmp/flaky.db',
    async write(changes) {
      if (failing) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      commits.push(structuredClone(changes));
      return 0.1;
    },
    size: () => 0,
    readActor: async () => undefined,
    close: async () => {},
  };
  return { writer, recovered: { tasks: [], results: [], actors: [] }, commits, fail: () => (failing = true) };
}

describe('a failed store write', () => {
  it('stops new work with StoreError, and drops nothing acknowledged', async () => {
    const options = resolveOptions({ handlers, workers: 1 });
    const store = flakyStore();
    const supervisor = new Supervisor(options, undefined, store);
    await supervisor.ready.promise;
    const submit = (id: string, handler = 'default') =>
      supervisor.send({ type: 'task.submit', task: normalizeTask({ id, handler, payload: id }, options) });

    submit('before');
    await supervisor.committed();
    expect(store.commits.flatMap((commit) => commit.tasks.map((task) => task.id))).toContain('before');
    expect(await supervisor.tasks.result('before')).toMatchObject({ status: 'done', value: 'before' });

    const running = nextEvent(observableOf(supervisor.events), 'task.started', (event) => event.id === 'running');
    submit('running', 'waitForAbort');
    await supervisor.committed();
    await running;
    store.fail();
    const failed = nextEvent(observableOf(supervisor.events), 'processor.error');
    submit('after');
    await expect(supervisor.committed()).rejects.toBeInstanceOf(StoreError);
    const { error } = await failed;
    expect(error).toMatchObject({ code: 'ERR_STORE', path: '/tmp/flaky.db', cause: { code: 'SQLITE_FULL' } });
    expect(supervisor.phase).toBe('error');
    expect(supervisor.error).toBe(error);
    // What was accepted still ends (`after` waits behind `running` on the one thread), and no waiter hangs.
    supervisor.send({ type: 'task.cancel', id: 'running', reason: 'done with it' });
    expect(await supervisor.tasks.result('running')).toMatchObject({ status: 'cancelled' });
    expect(await supervisor.tasks.result('after')).toMatchObject({ status: 'done' });
    supervisor.send({ type: 'shutdown', timeout: 1_000, drain: true });
    expect(await supervisor.stopped.promise).toEqual({ unfinished: [], actors: [] });
  });
});

describe('effects with a store', () => {
  it("wait for their own commit: one commit's acknowledgement runs no effect of a later one", async () => {
    const options = resolveOptions({ handlers, workers: 1 });
    const { writer, next, ackThrough, ackAll } = heldStore();
    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
    const supervisor = new Supervisor(options, undefined, { writer, recovered: { tasks: [], results: [], actors: [] } });
    await supervisor.ready.promise;
    const done: string[] = [];
    const submit = (id: string, handler: string, payload: unknown) =>
      supervisor.send({ type: 'task.submit', task: normalizeTask({ id, handler, payload, callback: () => done.push(id) }, options) });

    // `a` ends at once; `b` 50 ms later, so its result reaches the supervisor in a later message and a later commit.
    submit('a', 'default', 'a');
    submit('b', 'sleep', { ms: 50 });
    // Sent to the thread once the write that has them as processing is acknowledged (write-ahead).
    ackThrough(await next((changes) => changes.tasks.some((task) => task.id === 'b' && task.state === 'processing')));
    const resultOfA = await next((changes) => changes.results.some((result) => result.id === 'a'));
    const resultOfB = await next((changes) => changes.results.some((result) => result.id === 'b'));
    expect(resultOfB).not.toBe(resultOfA);
    ackThrough(resultOfA);
    await turn();
    expect(done).toEqual(['a']);
    ackThrough(resultOfB);
    await turn();
    expect(done).toEqual(['a', 'b']);
    supervisor.send({ type: 'shutdown', timeout: 1_000, drain: true });
    ackAll();
    await supervisor.stopped.promise;
  });

  it('send an attempt to its thread only after a commit that holds it, not with an earlier batch released by an earlier commit', async () => {
    const options = resolveOptions({ handlers, workers: 1, concurrency: 2 });
    const { writer, held, next, ackThrough, ackAll } = heldStore();
    const supervisor = new Supervisor(options, undefined, { writer, recovered: { tasks: [], results: [], actors: [] } });
    await supervisor.ready.promise;
    const submit = (id: string, handler: string, payload: unknown) =>
      supervisor.send({ type: 'task.submit', task: normalizeTask({ id, handler, payload }, options) });
    const processing = (id: string) => (changes: Changes) => changes.tasks.some((task) => task.id === id && task.state === 'processing');
    const resultOf = (id: string) => (changes: Changes) => changes.results.some((result) => result.id === id);

    // `a` takes 50 ms, `b` none: sent together, `b`'s result would be written long before `a`'s.
    submit('a', 'sleep', { ms: 50 });
    const first = await next(processing('a'));
    // Dispatched while the commit with `a` is being written: `b` is in the next one.
    submit('b', 'default', 'b');
    const second = await next(processing('b'));
    expect(second).not.toBe(first);
    ackThrough(first);
    // `a` runs; `b`, on the same thread, waits for a commit that holds it, so it has not run when `a` ends.
    await next(resultOf('a'));
    expect(held.some(({ changes }) => resultOf('b')(changes))).toBe(false);
    // From here every write is acknowledged: `b`'s batch may wait for a commit after its own.
    ackAll();
    const resultOfB = await next(resultOf('b'));
    expect(held.indexOf(resultOfB)).toBeGreaterThan(held.indexOf(second));
    supervisor.send({ type: 'shutdown', timeout: 1_000, drain: true });
    await supervisor.stopped.promise;
  });
});
