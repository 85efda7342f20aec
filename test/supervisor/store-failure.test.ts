/**
 * A write to the task store that fails mid-run (a full disk, an I/O error)
 * puts the processor in its `error` state with a StoreError naming the
 * cause: new submits are refused, nothing already acknowledged is dropped,
 * running attempts finish, and no waiter hangs.
 */
import { describe, expect, it } from 'vitest';

import { StoreError } from '../../src/errors/errors.js';
import { resolveOptions } from '../../src/options/resolve.js';
import type { Changes, OpenStore, StoreWriter } from '../../src/store/store.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { normalizeTask } from '../../src/task/normalize.js';
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
    close: async () => {},
  };
  return { writer, recovered: { tasks: [], results: [] }, commits, fail: () => (failing = true) };
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

    const running = nextEvent(supervisor.events, 'task.started', (event) => event.id === 'running');
    submit('running', 'waitForAbort');
    await supervisor.committed();
    await running;
    store.fail();
    const failed = nextEvent(supervisor.events, 'processor.error');
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
    expect(await supervisor.stopped.promise).toEqual({ unfinished: [] });
  });
});
