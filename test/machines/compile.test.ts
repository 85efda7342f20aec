/**
 * The compiler takes only what it can run exactly as XState would; the task
 * machine's equivalence to an actor is checked in task.model.test.ts. These
 * check that it refuses the rest loudly instead of mis-running it.
 */
import { describe, expect, it } from 'vitest';
import { assign, createMachine, setup } from 'xstate';

import { compileMachine } from '../../src/machines/compile.js';

describe('compileMachine', () => {
  it('refuses nested states', () => {
    const machine = createMachine({ initial: 'a', states: { a: { initial: 'x', states: { x: {} } } } });
    expect(() => compileMachine(machine)).toThrow(/compound state "a"/);
  });

  it('refuses eventless transitions', () => {
    const machine = createMachine({ initial: 'a', states: { a: { always: 'b' }, b: {} } });
    expect(() => compileMachine(machine)).toThrow(/eventless transition of "a"/);
  });

  it('refuses custom (side-effecting) actions', () => {
    const machine = setup({ actions: { log: () => {} } }).createMachine({
      initial: 'a',
      states: { a: { on: { go: { target: 'b', actions: 'log' } } }, b: {} },
    });
    expect(() => compileMachine(machine)).toThrow(/action "log"/);
  });

  it('refuses wildcard transitions', () => {
    const machine = createMachine({ initial: 'a', states: { a: { on: { '*': 'b' } }, b: {} } });
    expect(() => compileMachine(machine)).toThrow(/wildcard/);
  });

  it('runs guards in order, falls back to the root, and keeps context immutable', () => {
    const machine = setup({
      types: { context: {} as { n: number }, events: {} as { type: 'inc' } | { type: 'reset' } },
      guards: { small: ({ context }) => context.n < 2 },
    }).createMachine({
      context: { n: 0 },
      initial: 'counting',
      on: { reset: { target: '.stopped', actions: assign({ n: 0 }) } },
      states: {
        counting: {
          on: { inc: [{ guard: 'small', actions: assign({ n: ({ context }) => context.n + 1 }) }, { target: 'stopped' }] },
        },
        stopped: { type: 'final' },
      },
    });
    const compiled = compileMachine<{ n: number }, { type: 'inc' } | { type: 'reset' }, undefined>(machine);
    const effects: never[] = [];
    const start = compiled.initial(undefined, effects);
    const one = compiled.transition(start, { type: 'inc' }, effects);
    expect(start.context.n).toBe(0);
    expect(one).toMatchObject({ state: 'counting', context: { n: 1 }, final: false });
    const two = compiled.transition(one, { type: 'inc' }, effects);
    expect(compiled.transition(two, { type: 'inc' }, effects)).toMatchObject({ state: 'stopped', final: true });
    expect(compiled.transition(one, { type: 'reset' }, effects)).toMatchObject({ state: 'stopped', context: { n: 0 } });
    expect(compiled.transition(one, { type: 'unknown' }, effects)).toBe(one);
  });
});
