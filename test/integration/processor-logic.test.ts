/** A processor as an XState actor in the user's own statechart. */
import { describe, expect, it } from 'vitest';
import { assign, createActor, type InspectionEvent, setup, waitFor } from 'xstate';

import {
  type ActorSnapshot,
  ActorStoppedError,
  DuplicateTaskError,
  InvalidActorError,
  InvalidEventError,
  InvalidOptionError,
  processorLogic,
  type ProcessorParentEvent,
} from '../../src/index.js';
import { fixture, settle } from '../helpers/index.js';

const handlers = new URL('../fixtures/handlers.ts', import.meta.url);

const parent = setup({
  types: { context: {} as { received: ProcessorParentEvent[] }, events: {} as ProcessorParentEvent },
  actors: { tasks: processorLogic },
}).createMachine({
  context: { received: [] },
  invoke: { id: 'tasks', src: 'tasks', input: { handlers, workers: 1 } },
  on: {
    '*': { actions: assign({ received: ({ context, event }) => [...context.received, event] }) },
  },
});

describe('processorLogic', () => {
  it('takes task.submit and task.cancel, sends results to its parent, and its snapshot carries the status', async () => {
    const actor = createActor(parent).start();
    try {
      const tasks = actor.getSnapshot().children['tasks']!;
      tasks.send({ type: 'task.submit', task: { id: 'a', payload: 'A' } });
      tasks.send({ type: 'task.submit', task: { id: 'b', handler: 'waitForAbort', payload: null } });
      tasks.send({ type: 'task.submit', task: { id: 'a', payload: 'again' } });
      tasks.send({ type: 'task.cancel', id: 'b', reason: 'not needed' });
      const done = await waitFor(actor, (s) => s.context.received.filter((e) => e.type !== 'task.rejected').length === 2);
      const byId = Object.fromEntries(done.context.received.map((event) => [`${event.type}:${event.id}`, event]));
      expect(byId['task.done:a']).toMatchObject({ result: { status: 'done', value: 'A' } });
      expect(byId['task.cancelled:b']).toMatchObject({ result: { status: 'cancelled', reason: 'not needed' } });
      const rejected = byId['task.rejected:a'];
      expect(rejected?.type === 'task.rejected' && rejected.error).toBeInstanceOf(DuplicateTaskError);
      const status = await waitFor(tasks, (s) => (s.context as { done?: number } | undefined)?.done === 1);
      expect(status.context).toMatchObject({ done: 1, cancelled: 1, queued: 0, processing: 0, workers: 1 });
    } finally {
      actor.stop();
    }
  });

  it('stopping it shuts the processor down', async () => {
    const actor = createActor(parent).start();
    const tasks = actor.getSnapshot().children['tasks']!;
    await waitFor(tasks, (s) => (s.context as { state?: string } | undefined)?.state === 'running');
    actor.stop();
    expect(tasks.getSnapshot().status).toBe('stopped');
  });

  it('ends in error for options createProcessor would refuse', () => {
    const broken = setup({ actors: { tasks: processorLogic } }).createMachine({
      invoke: { id: 'tasks', src: 'tasks', input: { handlers, workers: -1 } },
    });
    const actor = createActor(broken);
    const errors: unknown[] = [];
    actor.subscribe({ error: (error) => errors.push(error) });
    actor.start();
    // Unhandled, the child's error stops its parent with it, as any failed child actor does.
    expect(errors).toEqual([expect.any(InvalidOptionError)]);
    expect((errors[0] as InvalidOptionError).message).toMatch(/`workers`/);
  });
});

/** A statechart that drives thread actors through processorLogic, keeping every event it hears. */
const driver = setup({
  types: { context: {} as { received: ProcessorParentEvent[] }, events: {} as ProcessorParentEvent },
  actors: { tasks: processorLogic },
}).createMachine({
  context: { received: [] },
  invoke: { id: 'tasks', src: 'tasks', input: { handlers: fixture('actors.ts'), workers: 1 } },
  on: {
    '*': { actions: assign({ received: ({ context, event }) => [...context.received, event] }) },
  },
});

type Received = { context: { received: ProcessorParentEvent[] } };
const snapshotsOf = (state: Received, id: string): ActorSnapshot[] =>
  state.context.received.flatMap((event) => (event.type === 'actor.snapshot' && event.id === id ? [event.snapshot] : []));
const rejectionsOf = (state: Received, id: string | undefined): Error[] =>
  state.context.received.flatMap((event) => (event.type === 'actor.rejected' && event.id === id ? [event.error] : []));
const count = (snapshot: ActorSnapshot | undefined) => (snapshot?.context as { count: number } | undefined)?.count;

describe('processorLogic drives thread actors', () => {
  it('spawns one and forwards its snapshots to the parent, in order; sends right after the spawn wait for it', async () => {
    const actor = createActor(driver).start();
    try {
      const tasks = actor.getSnapshot().children['tasks']!;
      tasks.send({ type: 'actor.spawn', logic: 'counter', id: 'c1', input: { start: 2 } });
      tasks.send({ type: 'actor.send', id: 'c1', event: { type: 'inc' } });
      tasks.send({ type: 'actor.send', id: 'c1', event: { type: 'inc' } });
      const state = await waitFor(actor, (s) => count(snapshotsOf(s, 'c1').at(-1)) === 4);
      const snapshots = snapshotsOf(state, 'c1');
      expect(snapshots[0]).toMatchObject({ status: 'active', value: 'counting', context: { count: 2 } });
      const counts = snapshots.map(count);
      expect(counts).toEqual([...counts].sort((a, b) => a! - b!));
      expect(snapshots.every((snapshot) => snapshot.status === 'active')).toBe(true);
      expect(state.context.received.filter((event) => event.type === 'actor.rejected')).toEqual([]);
    } finally {
      actor.stop();
    }
  });

  it('addresses virtual actors by logic and key: the first event activates one, its snapshots come back across events', async () => {
    const actor = createActor(driver).start();
    try {
      const tasks = actor.getSnapshot().children['tasks']!;
      tasks.send({ type: 'virtual.send', logic: 'counter', key: 'v', input: { start: 5 }, event: { type: 'inc' } });
      tasks.send({ type: 'virtual.send', logic: 'counter', key: 'v', input: { start: 99 }, event: { type: 'inc' } });
      const state = await waitFor(actor, (s) => count(snapshotsOf(s, 'counter/v').at(-1)) === 7);
      const counts = snapshotsOf(state, 'counter/v').map(count);
      expect(counts).toEqual([...counts].sort((a, b) => a! - b!));
      // A logic the module does not export: refused, naming it, and nothing else changes.
      tasks.send({ type: 'virtual.send', logic: 'nope', key: 'k', event: { type: 'inc' } });
      const refused = await waitFor(actor, (s) => rejectionsOf(s, 'nope/k').length === 1);
      expect(rejectionsOf(refused, 'nope/k')[0]).toBeInstanceOf(InvalidActorError);
    } finally {
      actor.stop();
    }
  });

  it('reports a refused spawn and a refused send as actor.rejected, and goes on', async () => {
    const actor = createActor(driver).start();
    try {
      const tasks = actor.getSnapshot().children['tasks']!;
      tasks.send({ type: 'actor.spawn', logic: 'nope', id: 'n1' });
      // Held behind the spawn, then refused with it: there is no actor `n1`.
      tasks.send({ type: 'actor.send', id: 'n1', event: { type: 'inc' } });
      tasks.send({ type: 'actor.send', id: 'ghost', event: { type: 'inc' } });
      const refused = await waitFor(actor, (s) => rejectionsOf(s, 'n1').length === 2 && rejectionsOf(s, 'ghost').length === 1);
      const [spawn, held] = rejectionsOf(refused, 'n1');
      expect(spawn).toBeInstanceOf(InvalidActorError);
      expect(spawn!.message).toMatch(/`nope` is not actor logic/);
      expect(held).toBeInstanceOf(ActorStoppedError);
      const [ghost] = rejectionsOf(refused, 'ghost');
      expect(ghost).toBeInstanceOf(ActorStoppedError);
      expect(ghost).toMatchObject({ actorId: 'ghost', message: expect.stringContaining('`ghost`') });
      expect(refused.context.received.some((event) => event.type === 'actor.snapshot')).toBe(false);

      // Nothing else changed: the processor still spawns, and a bad event is refused at the send.
      tasks.send({ type: 'actor.spawn', logic: 'counter', id: 'n1' });
      tasks.send({ type: 'actor.send', id: 'n1', event: { kind: 'inc' } as never });
      tasks.send({ type: 'actor.send', id: 'n1', event: { type: 'inc' } });
      const after = await waitFor(actor, (s) => count(snapshotsOf(s, 'n1').at(-1)) === 1);
      expect(rejectionsOf(after, 'n1')[2]).toBeInstanceOf(InvalidEventError);
      expect(tasks.getSnapshot().status).toBe('active');
    } finally {
      actor.stop();
    }
  });

  it('forwards the last snapshot: done with the output, error with the error, and nothing after it', async () => {
    const actor = createActor(driver).start();
    try {
      const tasks = actor.getSnapshot().children['tasks']!;
      tasks.send({ type: 'actor.spawn', logic: 'counter', id: 'c2', input: { start: 5 } });
      tasks.send({ type: 'actor.send', id: 'c2', event: { type: 'add', by: 3 } });
      tasks.send({ type: 'actor.send', id: 'c2', event: { type: 'finish' } });
      tasks.send({ type: 'actor.spawn', logic: 'counter', id: 'c3' });
      tasks.send({ type: 'actor.send', id: 'c3', event: { type: 'boom' } });
      const ended = await waitFor(
        actor,
        (s) => snapshotsOf(s, 'c2').at(-1)?.status === 'done' && snapshotsOf(s, 'c3').at(-1)?.status === 'error',
      );
      expect(snapshotsOf(ended, 'c2').at(-1)).toMatchObject({ status: 'done', output: { total: 8 } });
      expect(snapshotsOf(ended, 'c3').at(-1)).toMatchObject({ status: 'error', error: { message: 'the counter blew up' } });
      expect(snapshotsOf(ended, 'c3').filter((snapshot) => snapshot.status === 'error')).toHaveLength(1);

      // The actor has ended: a send to it is refused, and no snapshot came in between.
      tasks.send({ type: 'actor.send', id: 'c2', event: { type: 'inc' } });
      const refused = await waitFor(actor, (s) => rejectionsOf(s, 'c2').length === 1);
      expect(rejectionsOf(refused, 'c2')[0]).toBeInstanceOf(ActorStoppedError);
      expect(snapshotsOf(refused, 'c2')).toEqual(snapshotsOf(ended, 'c2'));
      expect(snapshotsOf(refused, 'c3')).toEqual(snapshotsOf(ended, 'c3'));
    } finally {
      actor.stop();
    }
  });

  it('sends its parent nothing more once stopped: the stopped actors it spawned are not forwarded', async () => {
    let stopped!: () => void;
    const actorStopped = new Promise<void>((resolve) => (stopped = resolve));
    const inspect = (event: InspectionEvent) => {
      const snapshot = event.type === '@xstate.snapshot' ? (event.snapshot as { status?: string }) : undefined;
      if (event.actorRef.sessionId === 'troupe.actor.c4' && snapshot?.status === 'stopped') stopped();
    };
    const switchable = setup({
      types: {
        context: {} as { received: ProcessorParentEvent[] },
        events: {} as ProcessorParentEvent | { type: 'off' },
      },
      actors: { tasks: processorLogic },
    }).createMachine({
      context: { received: [] },
      initial: 'on',
      states: {
        on: {
          invoke: { id: 'tasks', src: 'tasks', input: { handlers: fixture('actors.ts'), workers: 1, inspect } },
          on: { off: 'off' },
        },
        off: {},
      },
      on: {
        '*': { actions: assign({ received: ({ context, event }) => [...context.received, event as ProcessorParentEvent] }) },
      },
    });
    const actor = createActor(switchable).start();
    try {
      actor.getSnapshot().children['tasks']!.send({ type: 'actor.spawn', logic: 'counter', id: 'c4' });
      const running = await waitFor(actor, (s) => snapshotsOf(s, 'c4').length === 1);
      // Leaving the state stops processorLogic: its processor shuts down, which stops `c4`.
      actor.send({ type: 'off' });
      await actorStopped;
      await settle();
      expect(snapshotsOf(actor.getSnapshot(), 'c4')).toEqual(snapshotsOf(running, 'c4'));
    } finally {
      actor.stop();
    }
  });
});
