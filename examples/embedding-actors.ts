// examples/embedding-actors.ts
import { assign, createActor, sendTo, setup, toPromise } from 'xstate';

import { processorLogic, type ProcessorParentEvent } from '../src/index.js';

const bank = setup({
  types: { context: {} as { closed: unknown }, events: {} as ProcessorParentEvent },
  actors: { tasks: processorLogic },
}).createMachine({
  context: { closed: undefined },
  invoke: { id: 'tasks', src: 'tasks', input: { handlers: new URL('./actors-handlers.ts', import.meta.url) } },
  entry: [
    sendTo('tasks', { type: 'actor.spawn', logic: 'account', id: 'ada', input: { owner: 'Ada', opening: 100 } }),
    // Sent before the actor runs: they wait for it, then go in order.
    sendTo('tasks', { type: 'actor.send', id: 'ada', event: { type: 'withdraw', amount: 30 } }),
    sendTo('tasks', { type: 'actor.send', id: 'ada', event: { type: 'close' } }),
  ],
  initial: 'open',
  states: {
    open: {
      on: {
        'actor.snapshot': {
          guard: ({ event }) => event.snapshot.status === 'done',
          target: 'closed',
          actions: assign({ closed: ({ event }) => event.snapshot.output }),
        },
        'actor.rejected': { target: 'closed', actions: ({ event }) => console.error(event.id, event.error) },
      },
    },
    closed: { type: 'final' },
  },
  output: ({ context }) => context.closed,
});

console.log(await toPromise(createActor(bank).start())); // { owner: 'Ada', paidOut: 70 }
