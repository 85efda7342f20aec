/** A processor as an XState actor in the user's own statechart. */
import { describe, expect, it } from 'vitest';
import { assign, createActor, setup, waitFor } from 'xstate';

import { DuplicateTaskError, InvalidOptionError, processorLogic, type ProcessorParentEvent } from '../../src/index.js';

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
