// examples/actors-handlers.ts: the handler module; its actor-logic exports can be spawned by name
import { assign, setup } from 'xstate';

/** A bank account: deposits, withdrawals it refuses when the balance is short, and closing it. */
export const account = setup({
  types: {
    context: {} as { owner: string; balance: number; lastWithdrawal: 'paid' | 'refused' | 'none' },
    input: {} as { owner: string; opening: number },
    events: {} as { type: 'deposit'; amount: number } | { type: 'withdraw'; amount: number } | { type: 'close' },
  },
  guards: {
    covered: ({ context, event }) => event.type === 'withdraw' && event.amount <= context.balance,
  },
}).createMachine({
  context: ({ input }) => ({ owner: input.owner, balance: input.opening, lastWithdrawal: 'none' as const }),
  initial: 'open',
  states: {
    open: {
      on: {
        deposit: { actions: assign({ balance: ({ context, event }) => context.balance + event.amount }) },
        withdraw: [
          {
            guard: 'covered',
            actions: assign({ balance: ({ context, event }) => context.balance - event.amount, lastWithdrawal: 'paid' }),
          },
          { actions: assign({ lastWithdrawal: 'refused' }) },
        ],
        close: 'closed',
      },
    },
    closed: { type: 'final' },
  },
  output: ({ context }) => ({ owner: context.owner, paidOut: context.balance }),
});
