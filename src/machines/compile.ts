/**
 * A flat XState machine compiled to transition tables, for the per-task hot
 * path. XState's `machine.transition` is general (nested and parallel states,
 * history, eventless transitions, spawning) and pays for that generality on
 * every event: about 35 µs of the main thread per task in Troupe's profiles,
 * a third of its whole budget. The task machine uses none of it, so this
 * reads the machine's own definition into plain tables once, and steps them
 * with XState's semantics for that subset. The machine stays the one source
 * of the lifecycle; a model-based test (test/machines/task.model.test.ts)
 * checks that the tables behave exactly as an XState actor on every event
 * sequence up to a depth and on thousands of random ones.
 *
 * ## The contract
 *
 * **Machines it compiles**: one level of atomic and final states under the
 * root; transitions on event types (no wildcards), each with at most one
 * target among those states (no self-transitions) and guards by name or
 * inline (`{ type, params }` with static params); root transitions, taken
 * when no transition of the state itself is enabled; entry and exit
 * actions; the actions `assign`, `emit`, `raise` (delayed or not, by a
 * named or inline delay) and `cancel` (by a static id); `context` as a
 * value or a function of `input`. Anything else (nested or parallel
 * states, `always`, `invoke`, `after` on the root, custom actions, spawning)
 * is refused when compiling, with an {@link UnsupportedMachineError} that
 * names it, never mis-run. Semantics kept: a state's own candidates before
 * the root's, in order, the first whose guard holds; exit, transition, then
 * entry actions; raised events processed to completion before the step
 * ends; nothing after a final state.
 *
 * **What it reads of XState**, which is not XState's public API: the root
 * `StateNode` (`machine.root`: `key`, `type`, `states`, `entry`, `exit`,
 * `always`, `invoke`, `initial.target`, `config.context`/`always`, and
 * `transitions`, a `Map` of event type to candidates with `target`,
 * `guard`, `actions`), `machine.implementations` (`actions`, `guards`,
 * `delays`), and the objects XState's action creators return (`type`
 * `xstate.assign` with `assignment`; `xstate.emit` with `event`;
 * `xstate.raise` with `event`, `id`, `delay`; `xstate.cancel` with
 * `sendId`). `package.json` pins `xstate` to the minor these were checked
 * on; each read is checked as it is made, so a change of shape fails with
 * an {@link XStateShapeError} naming the field, at compile time, and
 * test/machines/compile.test.ts compiles a machine that uses every one of
 * them against the installed XState.
 */
import type { AnyStateMachine, EventObject } from 'xstate';

import { ScratchList, type Sink } from '../util/scratch-list.js';

/** What a step asks its runner to do, in XState's order, once the new state is stored. */
export type Effect =
  | { readonly kind: 'emit'; readonly event: EventObject }
  | { readonly kind: 'schedule'; readonly id: string; readonly event: EventObject; readonly delay: number }
  | { readonly kind: 'cancel'; readonly id: string };

export interface CompiledSnapshot<C> {
  readonly state: string;
  readonly context: C;
  readonly final: boolean;
}

export interface CompiledMachine<C, E extends EventObject, I> {
  initial(input: I, effects: Sink<Effect>): CompiledSnapshot<C>;
  /** The next snapshot, or the same one when no transition is enabled. */
  transition(snapshot: CompiledSnapshot<C>, event: E | EventObject, effects: Sink<Effect>): CompiledSnapshot<C>;
}

/** The machine uses something outside the subset this compiler runs. */
export class UnsupportedMachineError extends Error {
  override name = 'UnsupportedMachineError';
  constructor(machine: string, what: string) {
    super(`Cannot compile machine "${machine}": ${what} is not supported by the flat-machine compiler`);
  }
}

/** XState's internals are not the shape this compiler reads (see the contract above). */
export class XStateShapeError extends Error {
  override name = 'XStateShapeError';
  constructor(path: string, expected: string) {
    super(
      `XState's internals changed: expected ${path} to be ${expected}. machines/compile.ts reads them; ` +
        'install the xstate version package.json pins, or update the compiler and its contract.',
    );
  }
}

type Args = { context: unknown; event: EventObject };
type Fn = (args: Args, params: unknown) => unknown;

/** One resolved action: it updates the context or records an effect. */
type Action = (context: object, event: EventObject, effects: Sink<Effect>, raised: Sink<EventObject>) => object;

interface Transition {
  readonly guard: ((context: object, event: EventObject) => boolean) | undefined;
  readonly target: State | undefined;
  readonly actions: readonly Action[];
}

interface State {
  readonly key: string;
  readonly final: boolean;
  readonly entry: readonly Action[];
  readonly exit: readonly Action[];
  readonly on: Map<string, readonly Transition[]>;
}

/** A `StateNode` as far as the compiler reads it. */
interface Node {
  readonly key: string;
  readonly type: string;
  readonly states: Record<string, Node>;
  readonly entry: unknown[];
  readonly exit: unknown[];
  readonly always?: unknown[];
  readonly invoke: unknown[];
  readonly transitions: Map<string, Candidate[]>;
  readonly initial?: { readonly target: Node[] };
  readonly config: { readonly context?: unknown; readonly always?: unknown };
}

interface Candidate {
  readonly target?: Node[];
  readonly guard?: unknown;
  readonly actions: unknown[];
}

interface Implementations {
  readonly actions: Record<string, unknown>;
  readonly guards: Record<string, unknown>;
  readonly delays: Record<string, unknown>;
}

/** What compiling one machine needs at hand: its implementations, and how to refuse. */
interface Scope {
  readonly impl: Implementations;
  readonly refuse: (what: string) => never;
}

// ── reading XState ───────────────────────────────────────────────────────────

function expect(ok: boolean, path: string, expected: string): void {
  if (!ok) throw new XStateShapeError(path, expected);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A state node, its shape checked field by field. */
function readNode(value: unknown, path: string): Node {
  expect(isObject(value), path, 'a StateNode object');
  const node = value as Record<string, unknown>;
  expect(typeof node['key'] === 'string', `${path}.key`, 'a string');
  expect(typeof node['type'] === 'string', `${path}.type`, 'a string');
  expect(isObject(node['states']), `${path}.states`, 'an object');
  for (const field of ['entry', 'exit', 'invoke'] as const) expect(Array.isArray(node[field]), `${path}.${field}`, 'an array');
  expect(node['transitions'] instanceof Map, `${path}.transitions`, 'a Map of event types to candidates');
  expect(isObject(node['config']), `${path}.config`, 'an object');
  for (const [type, candidates] of node['transitions'] as Map<string, unknown>) {
    expect(Array.isArray(candidates), `${path}.transitions.get(${JSON.stringify(type)})`, 'an array');
    for (const candidate of candidates as unknown[]) {
      expect(isObject(candidate) && Array.isArray(candidate['actions']), `a transition candidate of ${path}`, 'an object with actions');
    }
  }
  return node as unknown as Node;
}

function readImplementations(machine: AnyStateMachine): Implementations {
  const impl: unknown = machine.implementations;
  expect(isObject(impl), 'machine.implementations', 'an object');
  for (const table of ['actions', 'guards', 'delays'] as const) {
    expect(isObject((impl as Record<string, unknown>)[table]), `machine.implementations.${table}`, 'an object');
  }
  return impl as Implementations;
}

/** A built-in action's field: `xstate.assign`'s `assignment`, `xstate.raise`'s `event`, … */
function builtinField(action: Record<string, unknown>, field: string): unknown {
  expect(field in action, `the ${String(action['type'])} action's ${field}`, 'present');
  return action[field];
}

// ── compiling ────────────────────────────────────────────────────────────────

/** An action or guard reference (a name, `{ type, params }`, or inline) as its implementation and params. */
function lookUp(ref: unknown, table: Record<string, unknown>, scope: Scope): { implementation: unknown; params: unknown } {
  if (typeof ref === 'string') return { implementation: table[ref], params: undefined };
  if (isObject(ref) && 'type' in ref) {
    const { type, params } = ref as { type: string; params?: unknown };
    if (typeof params === 'function') scope.refuse('dynamic params');
    return { implementation: table[type], params };
  }
  return { implementation: ref, params: undefined };
}

function compileAction(ref: unknown, scope: Scope): Action {
  const { implementation, params } = lookUp(ref, scope.impl.actions, scope);
  const builtin = (typeof implementation === 'function' ? implementation : {}) as Record<string, unknown>;
  switch (builtin['type']) {
    case 'xstate.assign':
      return compileAssign(builtinField(builtin, 'assignment') as Fn | Record<string, unknown>, params);
    case 'xstate.emit': {
      const emitted = builtinField(builtin, 'event') as Fn | EventObject;
      return (context, event, effects) => {
        const resolved = typeof emitted === 'function' ? (emitted({ context, event }, params) as EventObject) : emitted;
        effects.push({ kind: 'emit', event: resolved });
        return context;
      };
    }
    case 'xstate.raise':
      return compileRaise(builtin, params, scope);
    case 'xstate.cancel': {
      const sendId = builtinField(builtin, 'sendId');
      if (typeof sendId !== 'string') scope.refuse('a dynamic cancel id');
      return (context, _event, effects) => {
        effects.push({ kind: 'cancel', id: sendId });
        return context;
      };
    }
    default: {
      const name = typeof ref === 'string' ? ref : typeof builtin['type'] === 'string' ? builtin['type'] : typeof ref;
      return scope.refuse(`action ${JSON.stringify(name)}`);
    }
  }
}

function compileAssign(assignment: Fn | Record<string, unknown>, params: unknown): Action {
  if (typeof assignment === 'function') {
    return (context, event) => ({ ...context, ...(assignment({ context, event }, params) as object) });
  }
  const keys = Object.keys(assignment);
  return (context, event) => {
    const next: Record<string, unknown> = { ...context };
    for (const key of keys) {
      const value = assignment[key];
      next[key] = typeof value === 'function' ? (value as Fn)({ context, event }, params) : value;
    }
    return next;
  };
}

/** `raise`: with a delay that resolves to a number, a timer (`schedule`); without one, an event processed in this step. */
function compileRaise(builtin: Record<string, unknown>, params: unknown, scope: Scope): Action {
  const raisedEvent = builtinField(builtin, 'event') as Fn | EventObject;
  const id = builtinField(builtin, 'id') as string | undefined;
  const delayRef = builtinField(builtin, 'delay');
  const delay: unknown = typeof delayRef === 'string' ? scope.impl.delays[delayRef] : delayRef;
  return (context, event, effects, raised) => {
    const args = { context, event };
    const resolved = typeof raisedEvent === 'function' ? (raisedEvent(args, params) as EventObject) : raisedEvent;
    const ms = typeof delay === 'function' ? (delay as Fn)(args, params) : delay;
    if (typeof ms === 'number') effects.push({ kind: 'schedule', id: id ?? resolved.type, event: resolved, delay: ms });
    else raised.push(resolved);
    return context;
  };
}

function compileGuard(ref: unknown, scope: Scope): Transition['guard'] {
  if (ref === undefined) return undefined;
  const { implementation: check, params } = lookUp(ref, scope.impl.guards, scope);
  // A higher-order guard (`and`, `or`, `not`) carries `check`: not in the subset.
  if (typeof check !== 'function' || 'check' in check) return scope.refuse(`guard ${JSON.stringify(ref)}`);
  const fn = check as Fn;
  return (context, event) => fn({ context, event }, params) === true;
}

/** The root's direct children as states, their actions compiled; their transitions come next, as they point at states. */
function compileStates(root: Node, scope: Scope): Map<string, State> {
  const states = new Map<string, State>();
  for (const [key, value] of Object.entries(root.states)) {
    const node = readNode(value, `machine.root.states.${key}`);
    if (node.type !== 'atomic' && node.type !== 'final') scope.refuse(`the ${node.type} state "${key}"`);
    if (node.always?.length || node.config.always) scope.refuse(`the eventless transition of "${key}"`);
    if (node.invoke.length > 0) scope.refuse(`the invoke in "${key}"`);
    states.set(key, {
      key,
      final: node.type === 'final',
      entry: node.entry.map((ref) => compileAction(ref, scope)),
      exit: node.exit.map((ref) => compileAction(ref, scope)),
      on: new Map(),
    });
  }
  return states;
}

function compileTransitions(node: Node, root: Node, states: Map<string, State>, scope: Scope): Map<string, Transition[]> {
  const table = new Map<string, Transition[]>();
  for (const [type, candidates] of node.transitions) {
    if (type === '*' || type.includes('.*')) scope.refuse(`the wildcard transition "${type}"`);
    table.set(
      type,
      candidates.map((candidate) => {
        if ((candidate.target?.length ?? 0) > 1) scope.refuse('a transition with several targets');
        const targetNode = candidate.target?.[0];
        const target = targetNode && states.get(targetNode.key);
        if (targetNode && (!target || targetNode !== root.states[targetNode.key])) scope.refuse(`the target "${targetNode.key}"`);
        if (target && node.key === target.key) scope.refuse(`the self-transition of "${node.key}"`);
        const actions = candidate.actions.map((ref) => compileAction(ref, scope));
        return { guard: compileGuard(candidate.guard, scope), target, actions };
      }),
    );
  }
  return table;
}

/** Compiles a flat machine (one level of atomic and final states); throws on anything else. */
export function compileMachine<C extends object, E extends EventObject, I>(machine: AnyStateMachine): CompiledMachine<C, E, I> {
  const root = readNode(machine.root, 'machine.root');
  const scope: Scope = {
    impl: readImplementations(machine),
    refuse: (what) => {
      throw new UnsupportedMachineError(root.key, what);
    },
  };
  const states = compileStates(root, scope);
  if (root.entry.length > 0 || root.exit.length > 0) scope.refuse('a root entry or exit action');
  if (root.invoke.length > 0 || root.config.always) scope.refuse('a root invoke or eventless transition');
  // A state's own candidates come first; the root's apply when none of them is enabled.
  const rootOn = compileTransitions(root, root, states, scope);
  for (const [key, value] of Object.entries(root.states)) {
    const on = (states.get(key) as State).on;
    for (const [type, candidates] of compileTransitions(value, root, states, scope)) on.set(type, candidates);
    for (const [type, candidates] of rootOn) on.set(type, [...(on.get(type) ?? []), ...candidates]);
  }
  expect(root.initial === undefined || Array.isArray(root.initial.target), 'machine.root.initial.target', 'an array of state nodes');
  const initialKey = root.initial?.target[0]?.key;
  const initialState = initialKey === undefined ? undefined : states.get(initialKey);
  if (!initialState) return scope.refuse('a machine without an initial state');
  return new Tables<C, E, I>(states, initialState, root.config.context);
}

// ── stepping ─────────────────────────────────────────────────────────────────

/** The compiled machine: its states, stepped with XState's semantics for the subset. */
class Tables<C, E extends EventObject, I> implements CompiledMachine<C, E, I> {
  readonly #states: Map<string, State>;
  readonly #initial: State;
  readonly #context: unknown;
  /** Events raised in the step being taken: steps are not re-entrant (actions are pure), so one buffer serves them all. */
  readonly #raised = new ScratchList<EventObject>();

  constructor(states: Map<string, State>, initial: State, context: unknown) {
    this.#states = states;
    this.#initial = initial;
    this.#context = context;
  }

  initial(input: I, effects: Sink<Effect>): CompiledSnapshot<C> {
    const init = { type: 'xstate.init', input } as EventObject;
    const config = this.#context;
    let context = typeof config === 'function' ? (config as (args: { input: unknown }) => object)({ input }) : { ...(config as object) };
    this.#raised.clear();
    context = runAll(this.#initial.entry, context, init, effects, this.#raised);
    const { key, final } = this.#initial;
    return this.#settle({ state: key, context, final }, effects) as CompiledSnapshot<C>;
  }

  transition(snapshot: CompiledSnapshot<C>, event: E | EventObject, effects: Sink<Effect>): CompiledSnapshot<C> {
    if (snapshot.final) return snapshot;
    this.#raised.clear();
    const next = this.#microstep(snapshot as CompiledSnapshot<object>, event, effects);
    return (this.#raised.size === 0 ? next : this.#settle(next, effects)) as CompiledSnapshot<C>;
  }

  /** Takes the enabled transition for one event, if any: exit, transition actions, entry. */
  #microstep(snapshot: CompiledSnapshot<object>, event: EventObject, effects: Sink<Effect>): CompiledSnapshot<object> {
    const state = this.#states.get(snapshot.state) as State;
    const taken = select(state, snapshot.context, event);
    if (!taken) return snapshot;
    const { target } = taken;
    const raised = this.#raised;
    let context = snapshot.context;
    if (target) context = runAll(state.exit, context, event, effects, raised);
    context = runAll(taken.actions, context, event, effects, raised);
    if (!target) return { state: state.key, context, final: false };
    context = runAll(target.entry, context, event, effects, raised);
    return { state: target.key, context, final: target.final };
  }

  /** Processes raised events to completion, as XState's macrostep does; a final state drops the rest. */
  #settle(snapshot: CompiledSnapshot<object>, effects: Sink<Effect>): CompiledSnapshot<object> {
    const raised = this.#raised;
    for (let i = 0; i < raised.size && !snapshot.final; i++) snapshot = this.#microstep(snapshot, raised.at(i), effects);
    raised.clear();
    return snapshot;
  }
}

function runAll(actions: readonly Action[], context: object, event: EventObject, effects: Sink<Effect>, raised: Sink<EventObject>): object {
  for (let i = 0; i < actions.length; i++) context = (actions[i] as Action)(context, event, effects, raised);
  return context;
}

/** The first candidate for the event whose guard holds, if any. */
function select(state: State, context: object, event: EventObject): Transition | undefined {
  const candidates = state.on.get(event.type);
  if (!candidates) return undefined;
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i] as Transition;
    if (!candidate.guard || candidate.guard(context, event)) return candidate;
  }
  return undefined;
}
