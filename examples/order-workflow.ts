// examples/order-workflow.ts
import { assign, createActor, enqueueActions, setup, toPromise } from 'xstate';

import { processorLogic, type ProcessorParentEvent } from '../src/index.js';

const SIZES = [64, 128, 256];

/** An order needs three thumbnails and a checksum before it can ship; a processor does the work. */
const orderMachine = setup({
  types: {
    context: {} as { thumbnails: number[]; checksum: string | undefined },
    events: {} as ProcessorParentEvent,
    output: {} as { thumbnails: number[]; checksum: string | undefined },
  },
  actors: { tasks: processorLogic },
}).createMachine({
  id: 'order',
  context: { thumbnails: [], checksum: undefined },
  initial: 'working',
  states: {
    working: {
      // The processor lives as long as this state: leaving it stops the processor.
      invoke: { id: 'tasks', src: 'tasks', input: { handlers: new URL('./order-handlers.ts', import.meta.url), workers: 2 } },
      initial: 'submitting',
      states: {
        submitting: {
          entry: enqueueActions(({ enqueue }) => {
            for (const size of SIZES) {
              const task = { id: `thumb-${size}`, handler: 'thumbnail', payload: { image: 'order-42.png', size } };
              enqueue.sendTo('tasks', { type: 'task.submit', task });
            }
            const task = { id: 'checksum', handler: 'checksum', payload: { document: 'order 42: 3 prints' } };
            enqueue.sendTo('tasks', { type: 'task.submit', task });
          }),
        },
      },
      on: {
        'task.done': [
          {
            guard: ({ event }) => event.id === 'checksum',
            actions: assign({ checksum: ({ event }) => String(event.result.value) }),
          },
          {
            actions: assign({ thumbnails: ({ context, event }) => [...context.thumbnails, (event.result.value as { size: number }).size] }),
          },
        ],
        'task.failed': 'failed',
        'task.rejected': 'failed',
      },
      always: {
        guard: ({ context }) => context.thumbnails.length === SIZES.length && context.checksum !== undefined,
        target: 'ready',
      },
    },
    ready: { type: 'final' },
    failed: { type: 'final' },
  },
  output: ({ context }) => context,
});

const order = createActor(orderMachine).start();
const { thumbnails, checksum } = await toPromise(order);
console.log(`order 42: ${order.getSnapshot().value as string}`);
console.log(`thumbnails: ${[...thumbnails].sort((a, b) => a - b).join(', ')}`);
console.log(`checksum: ${checksum}`);
