/**
 * The compiler takes only what it can run exactly as XState would; the task
 * machine's equivalence to an actor is checked in task.model.test.ts. These
 * check that it refuses the rest loudly instead of mis-running it.
 */
import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';
import { assign, cancel, createActor, createMachine, emit, raise, setup } from 'xstate';

import { compileMachine, type Effect, stateValue, XStateShapeError } from '../../src/machines/compile.js';

describe('compileMachine', () => {
  it('refuses states nested more than one level, parallel states, and final states inside a compound one', () => {
    const deep = createMachine({ initial: 'a', states: { a: { initial: 'x', states: { x: { initial: 'y', states: { y: {} } } } } } });
    expect(() => compileMachine(deep)).toThrow(/compound state "a.x" inside another/);
    const parallel = createMachine({ initial: 'a', states: { a: { type: 'parallel', states: { x: {}, y: {} } } } });
    expect(() => compileMachine(parallel)).toThrow(/parallel state "a"/);
    const innerFinal = createMachine({ initial: 'a', states: { a: { initial: 'x', states: { x: { type: 'final' } } } } });
    expect(() => compileMachine(innerFinal)).toThrow(/final state "a.x" inside a compound state/);
  });

  it('runs one level of compound states as XState does: exits innermost first, enters outermost first, a child by default', () => {
    type Ev = { type: 'in' } | { type: 'hop' } | { type: 'out' } | { type: 'back' } | { type: 'up' };
    const note = (name: string) => ({ type: 'note' as const, params: { name } });
    const machine = setup({
      types: { context: {} as { log: string[] }, events: {} as Ev },
      actions: { note: assign({ log: ({ context }, params: { name: string }) => [...context.log, params.name] }) },
    }).createMachine({
      context: { log: [] },
      initial: 'idle',
      on: { up: '.idle' },
      states: {
        idle: { exit: note('exit idle'), on: { in: 'busy', hop: 'busy.second' } },
        busy: {
          entry: note('enter busy'),
          exit: note('exit busy'),
          initial: 'first',
          // A parent's transition, taken from whichever child is active.
          on: { out: { target: 'idle', actions: note('out') } },
          states: {
            first: { entry: note('enter first'), exit: note('exit first'), on: { hop: 'second' } },
            second: { entry: note('enter second'), exit: note('exit second'), on: { back: 'first' } },
          },
        },
      },
    });
    const compiled = compileMachine<{ log: string[] }, Ev, undefined>(machine);
    const actor = createActor(machine).start();
    let ours = compiled.initial(undefined, []);
    for (const type of ['in', 'hop', 'out', 'hop', 'back', 'up', 'in', 'up'] as const) {
      ours = compiled.transition(ours, { type }, []);
      actor.send({ type });
      const value = actor.getSnapshot().value;
      expect(stateValue(ours.state)).toEqual(value);
      expect(ours.context.log).toEqual(actor.getSnapshot().context.log);
    }
    expect(ours.context.log.slice(0, 7)).toEqual([
      'exit idle',
      'enter busy',
      'enter first',
      'exit first',
      'enter second',
      'exit second',
      'exit busy',
    ]);
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

describe('what the compiler reads of XState', () => {
  it('finds every internal it reads, in the installed XState, on a machine that uses each one', () => {
    // assign (object and function forms), emit, raise (at once, by a named delay, by an inline one), cancel,
    // guards by name with params and inline, root transitions, context from input, final states.
    const machine = setup({
      types: {
        context: {} as { n: number; seen: string[] },
        events: {} as { type: 'go' } | { type: 'tick' } | { type: 'stop' } | { type: 'again' },
        input: {} as { start: number },
        emitted: {} as { type: 'entered'; n: number },
      },
      actions: {
        count: assign({ n: ({ context }) => context.n + 1 }),
        note: assign(({ context, event }) => ({ seen: [...context.seen, event.type] })),
        tell: emit(({ context }) => ({ type: 'entered' as const, n: context.n })),
      },
      guards: { below: ({ context }, params: { max: number }) => context.n < params.max },
      delays: { soon: 10 },
    }).createMachine({
      context: ({ input }) => ({ n: input.start, seen: [] }),
      initial: 'idle',
      on: { stop: '.done' },
      states: {
        idle: {
          entry: [{ type: 'tell' }, raise({ type: 'tick' })],
          on: { tick: { actions: 'note' }, go: { target: 'busy', guard: { type: 'below', params: { max: 5 } }, actions: 'count' } },
        },
        busy: {
          entry: [raise({ type: 'again' }, { id: 'later', delay: 'soon' }), raise({ type: 'tick' }, { id: 'inline', delay: () => 5 })],
          exit: cancel('later'),
          on: { again: { target: 'idle', guard: ({ context }) => context.n > 0 } },
        },
        done: { type: 'final' },
      },
    });
    const compiled = compileMachine<{ n: number; seen: string[] }, { type: 'go' } | { type: 'stop' }, { start: number }>(machine);
    const effects: Effect[] = [];
    const idle = compiled.initial({ start: 1 }, effects);
    expect(idle).toMatchObject({ state: 'idle', context: { n: 1, seen: ['tick'] } });
    expect(effects.splice(0)).toEqual([{ kind: 'emit', event: { type: 'entered', n: 1 } }]);
    const busy = compiled.transition(idle, { type: 'go' }, effects);
    expect(busy).toMatchObject({ state: 'busy', context: { n: 2 } });
    expect(effects.splice(0)).toEqual([
      { kind: 'schedule', id: 'later', event: { type: 'again' }, delay: 10 },
      { kind: 'schedule', id: 'inline', event: { type: 'tick' }, delay: 5 },
    ]);
    expect(compiled.transition(busy, { type: 'stop' }, effects)).toMatchObject({ state: 'done', final: true });
    expect(effects.splice(0)).toEqual([{ kind: 'cancel', id: 'later' }]);
  });

  it('names the internal that changed shape instead of running a machine it misreads', () => {
    const machine = createMachine({ initial: 'a', states: { a: {} } });
    // The root with its transitions moved out of the Map the compiler reads (its getters kept).
    const root: unknown = Object.assign(Object.create(Object.getPrototypeOf(machine.root) as object), machine.root, { transitions: {} });
    const moved = { ...machine, root } as unknown as typeof machine;
    expect(() => compileMachine(moved)).toThrow(XStateShapeError);
    expect(() => compileMachine(moved)).toThrow(/machine\.root\.transitions/);
    const noTables = { ...machine, root: machine.root, implementations: { actions: {} } } as unknown as typeof machine;
    expect(() => compileMachine(noTables)).toThrow(/machine\.implementations\.guards/);
  });

  it('runs on the XState minor that package.json pins', () => {
    const pinned = (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }
    ).dependencies['xstate'] as string;
    const installed = (
      JSON.parse(readFileSync(new URL('../../node_modules/xstate/package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
    // `~5.33.3`: the compiler's reads were checked on 5.33; another minor may have moved them.
    expect(pinned, 'package.json pins xstate to one minor (~), the one compile.ts was checked on').toMatch(/^~\d+\.\d+\.\d+$/);
    expect(installed.split('.').slice(0, 2)).toEqual(pinned.slice(1).split('.').slice(0, 2));
  });
});
