/**
 * With a store, an actor's snapshot is journaled with its thread's report, and
 * an ask resolves only once the commit that holds the snapshot after its
 * event is on disk: a process killed after the answer resumes at least there.
 */
import { describe, expect, it } from 'vitest';

import type { ActorRef } from '../../src/actors/actor-ref.js';
import { resolveOptions } from '../../src/options/resolve.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { heldStore } from '../helpers/held-store.js';
import { fixture } from '../helpers/index.js';

describe('an actor with a store', () => {
  it('answers an ask once the snapshot after its event is on disk', async () => {
    const options = resolveOptions({ handlers: fixture('actors.ts'), workers: 1 });
    // Writes are acknowledged at once, except while held: then they wait for the test.
    const store = heldStore('/tmp/actors.db');
    store.ackAll();
    const { writer } = store;
    const supervisor = new Supervisor(options, undefined, { writer, recovered: { tasks: [], results: [], actors: [] } });
    await supervisor.ready.promise;
    const ref = await new Promise<ActorRef>((resolve, reject) =>
      supervisor.send({
        type: 'actor.spawn',
        id: 'account',
        logic: 'counter',
        input: undefined,
        snapshot: undefined,
        restart: 'on-crash',
        reply: { resolve, reject },
      }),
    );

    store.hold();
    let answered = false;
    const asked = ref.ask({ type: 'add', by: 7 }).then((snapshot) => {
      answered = true;
      return snapshot;
    });
    const write = await store.next((changes) => changes.actors.some((actor) => actor.id === 'account'));
    expect(write.changes.actors).toMatchObject([{ id: 'account', logic: 'counter', snapshot: { context: { count: 7 } } }]);
    // A turn of the event loop later, the answer still waits for the disk.
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    store.ackAll();
    expect(await asked).toMatchObject({ context: { count: 7 } });

    supervisor.send({ type: 'shutdown', timeout: 1_000, drain: true });
    const { actors } = await supervisor.stopped.promise;
    expect(actors).toMatchObject([{ id: 'account', logic: 'counter', snapshot: { context: { count: 7 } } }]);
  });
});
