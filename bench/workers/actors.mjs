/**
 * The actor scenario's handler module: a counter machine to spawn, and the
 * same no-op task handler as handlers.mjs, so that the task row runs on a
 * processor loaded from the very same module.
 */
import { assign, setup } from 'xstate';

export function noop(payload) {
  return payload;
}

export const counter = setup({}).createMachine({
  context: { count: 0 },
  on: { inc: { actions: assign({ count: ({ context }) => context.count + 1 }) } },
});
