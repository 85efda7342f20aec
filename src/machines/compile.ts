/**
 * An XState machine of one level of nesting compiled to transition tables,
 * for the per-task hot path. XState's `machine.transition` is general
 * (nesting at any depth, parallel and history states, eventless
 * transitions, spawning) and pays for that generality on every event: about
 * 35 µs of the main thread per task in Troupe's profiles, a third of its
 * whole budget. The task machine uses none of it, so this
 * reads the machine's own definition into plain tables once, and steps them
 * with XState's semantics for that subset. The machine stays the one source
 * of the lifecycle; a model-based test (test/machines/task.model.test.ts)
 * checks that the tables behave exactly as an XState actor on every event
 * sequence up to a depth and on thousands of random ones.
 *
 * ## The contract
 *
 * **Machines it compiles**: atomic and final states under the root, and
 * compound states there whose children are all atomic (one level of
 * nesting: the task machine's `queued` and where it waits); transitions on
 * event types (no wildcards), each with at most one target among those
 * states (no self-transitions) and guards by name or inline (`{ type,
 * params }` with static params); transitions of a compound state and of
 * the root, taken when no transition of a state below is enabled; entry
 * and exit actions; the actions `assign`, `emit`, `raise` (delayed or not,
 * by a named or inline delay) and `cancel` (by a static id); `context` as
 * a value or a function of `input`. Anything else (deeper nesting,
 * parallel or history states, final states inside a compound one,
 * `always`, `invoke`, `after` on the root, re-entering transitions, custom
 * actions, spawning) is refused when compiling, with an
 * {@link UnsupportedMachineError} that names it, never mis-run. Semantics
 * kept: the active state's own candidates first, then its parent's, then
 * the root's, in order, the first whose guard holds; a transition exits
 * the states below its domain (XState's `getTransitionDomain`: the source
 * itself when the target lies inside it, else the nearest common
 * ancestor), innermost first, then runs its actions, then enters from the
 * domain down to the target, and into a compound target's initial child;
 * raised events processed to completion before the step ends; nothing
 * after a final state.
 *
 * **What it reads of XState**, which is not XState's public API: the root
 * `StateNode` (`machine.root` and its descendants: `key`, `type`,
 * `states`, `entry`, `exit`, `always`, `invoke`, `initial.target`,
 * `parent`, `config.context`/`always`/`reenter`, and
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
    super(`Cannot compile machine "${machine}": ${what} is not supported by Troupe's machine compiler (machines/compile.ts)`);
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
  /** The atomic state it leads to (a compound target resolved to its initial child); undefined for one without a target. */
  readonly target: State | undefined;
  /**
   * Everything it runs, in XState's order: the exit actions of the states
   * it leaves (innermost first), its own actions, then the entry actions of
   * the states it enters (outermost first). Laid out once per active state,
   * since what a transition of a parent leaves depends on the child it is
   * taken from.
   */
  readonly actions: readonly Action[];
}

/** An atomic or final state: the only kind a snapshot is in. */
interface State {
  /** Its path from the root: `processing`, or `queued.ready` for a child of a compound state. */
  readonly key: string;
  readonly final: boolean;
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
  readonly reenter?: boolean;
}

/** A state node of the machine as compiled: its place in the tree and its entry and exit actions. */
interface Placed {
  readonly node: Node;
  /** Its path from the root, dot-separated; '' for the root. */
  readonly key: string;
  /** The compound state it is a child of, the root's placing for a state directly under the root, none for the root. */
  readonly parent: Placed | undefined;
  readonly entry: readonly Action[];
  readonly exit: readonly Action[];
  /** For a compound state, its initial child. */
  initial: Placed | undefined;
  /** For an atomic or final state, the state snapshots are in. */
  readonly state: State | undefined;
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

/** Whether `node` lies inside `ancestor`, at any depth below it. */
function isInside(node: Placed, ancestor: Placed): boolean {
  for (let up = node.parent; up; up = up.parent) if (up === ancestor) return true;
  return false;
}

/**
 * Places the root's states and, under a compound one, its children, with
 * their actions compiled; transitions come next, as they point at states.
 * Returns every placing by its node, the root's first.
 */
function placeStates(root: Node, scope: Scope): Map<Node, Placed> {
  const placed = new Map<Node, Placed>();
  const rootPlaced: Placed = { node: root, key: '', parent: undefined, entry: [], exit: [], initial: undefined, state: undefined };
  placed.set(root, rootPlaced);
  const place = (value: unknown, key: string, parent: Placed): Placed => {
    const node = readNode(value, `machine.root.states.${key.replaceAll('.', '.states.')}`);
    const nested = parent !== rootPlaced;
    if (node.type === 'compound' && nested) scope.refuse(`the compound state "${key}" inside another`);
    if (node.type === 'final' && nested) scope.refuse(`the final state "${key}" inside a compound state`);
    if (node.type !== 'atomic' && node.type !== 'final' && node.type !== 'compound') scope.refuse(`the ${node.type} state "${key}"`);
    if (node.always?.length || node.config.always) scope.refuse(`the eventless transition of "${key}"`);
    if (node.invoke.length > 0) scope.refuse(`the invoke in "${key}"`);
    const atomic = node.type !== 'compound';
    const placing: Placed = {
      node,
      key,
      parent,
      entry: node.entry.map((ref) => compileAction(ref, scope)),
      exit: node.exit.map((ref) => compileAction(ref, scope)),
      initial: undefined,
      state: atomic ? { key, final: node.type === 'final', on: new Map() } : undefined,
    };
    placed.set(node, placing);
    if (!atomic) {
      for (const [child, childNode] of Object.entries(node.states)) place(childNode, `${key}.${child}`, placing);
      placing.initial = initialOf(node, placed, `machine.root.states.${key}`, scope);
    }
    return placing;
  };
  for (const [key, value] of Object.entries(root.states)) place(value, key, rootPlaced);
  return placed;
}

/** The initial child of a compound node (or of the root), placed. */
function initialOf(node: Node, placed: Map<Node, Placed>, path: string, scope: Scope): Placed {
  expect(node.initial === undefined || Array.isArray(node.initial.target), `${path}.initial.target`, 'an array of state nodes');
  const target = node.initial?.target[0];
  const initial = target && placed.get(target);
  return initial ?? scope.refuse(`a ${path === 'machine.root' ? 'machine' : 'compound state'} without an initial state`);
}

/**
 * One transition of `source` (the state, compound state or root that
 * declares it), as taken while `active` is the atomic state the machine is
 * in: XState's exit set, actions and entry set, flattened.
 */
function compileTransition(candidate: Candidate, source: Placed, active: Placed, placed: Map<Node, Placed>, scope: Scope): Transition {
  if (candidate.reenter) scope.refuse(`the re-entering transition of "${source.key || '(root)'}"`);
  if ((candidate.target?.length ?? 0) > 1) scope.refuse('a transition with several targets');
  const own = candidate.actions.map((ref) => compileAction(ref, scope));
  const guard = compileGuard(candidate.guard, scope);
  const targetNode = candidate.target?.[0];
  if (!targetNode) return { guard, target: undefined, actions: own };
  const target = placed.get(targetNode) ?? scope.refuse(`the target "${targetNode.key}"`);
  if (target === source) scope.refuse(`the self-transition of "${source.key}"`);
  // The domain: the source itself when the target lies inside it, else their nearest common ancestor.
  let domain = source;
  if (!isInside(target, source)) {
    domain = target.parent as Placed;
    while (!isInside(source, domain)) domain = domain.parent as Placed;
  }
  const exits: Action[] = [];
  for (let node: Placed | undefined = active; node && node !== domain && isInside(node, domain); node = node.parent)
    exits.push(...node.exit);
  const entered: Placed[] = [];
  for (let node: Placed | undefined = target; node && node !== domain; node = node.parent) entered.unshift(node);
  if (target.initial) entered.push(target.initial);
  const entries = entered.flatMap((node) => node.entry);
  const leaf = (target.initial ?? target).state as State;
  return { guard, target: leaf, actions: [...exits, ...own, ...entries] };
}

/** Every atomic state's transitions: its own candidates for an event first, then its compound parent's, then the root's. */
function compileTransitions(placed: Map<Node, Placed>, scope: Scope): void {
  for (const active of placed.values()) {
    const state = active.state;
    if (!state) continue;
    for (let source: Placed | undefined = active; source; source = source.parent) {
      for (const [type, candidates] of source.node.transitions) {
        if (type === '*' || type.includes('.*')) scope.refuse(`the wildcard transition "${type}"`);
        const compiled = candidates.map((candidate) => compileTransition(candidate, source, active, placed, scope));
        state.on.set(type, [...(state.on.get(type) ?? []), ...compiled]);
      }
    }
  }
}

/**
 * Compiles a machine of atomic and final states, and compound states of
 * atomic ones, under its root; throws on anything else.
 */
export function compileMachine<C extends object, E extends EventObject, I>(machine: AnyStateMachine): CompiledMachine<C, E, I> {
  const root = readNode(machine.root, 'machine.root');
  const scope: Scope = {
    impl: readImplementations(machine),
    refuse: (what) => {
      throw new UnsupportedMachineError(root.key, what);
    },
  };
  const placed = placeStates(root, scope);
  if (root.entry.length > 0 || root.exit.length > 0) scope.refuse('a root entry or exit action');
  if (root.invoke.length > 0 || root.config.always) scope.refuse('a root invoke or eventless transition');
  compileTransitions(placed, scope);
  const initial = initialOf(root, placed, 'machine.root', scope);
  const entry = initial.initial ? [...initial.entry, ...initial.initial.entry] : initial.entry;
  return new Tables<C, E, I>((initial.initial ?? initial).state as State, entry, root.config.context);
}

/**
 * A state's path as XState writes its `value`: `processing` as it is,
 * `queued.ready` as `{ queued: 'ready' }`.
 */
export function stateValue(key: string): string | Record<string, string> {
  const dot = key.indexOf('.');
  return dot === -1 ? key : { [key.slice(0, dot)]: key.slice(dot + 1) };
}

// ── stepping ─────────────────────────────────────────────────────────────────

/** The compiled machine: its states, stepped with XState's semantics for the subset. */
class Tables<C, E extends EventObject, I> implements CompiledMachine<C, E, I> {
  readonly #initial: State;
  /** The entry actions of the initial state, and of its parent when it is a compound state's initial child. */
  readonly #initialEntry: readonly Action[];
  readonly #context: unknown;
  /** Events raised in the step being taken: steps are not re-entrant (actions are pure), so one buffer serves them all. */
  readonly #raised = new ScratchList<EventObject>();

  constructor(initial: State, initialEntry: readonly Action[], context: unknown) {
    this.#initial = initial;
    this.#initialEntry = initialEntry;
    this.#context = context;
  }

  initial(input: I, effects: Sink<Effect>): CompiledSnapshot<C> {
    const init = { type: 'xstate.init', input } as EventObject;
    const config = this.#context;
    let context = typeof config === 'function' ? (config as (args: { input: unknown }) => object)({ input }) : { ...(config as object) };
    this.#raised.clear();
    context = runAll(this.#initialEntry, context, init, effects, this.#raised);
    const { key, final } = this.#initial;
    return this.#settle({ state: key, context, final, at: this.#initial }, effects) as unknown as CompiledSnapshot<C>;
  }

  transition(snapshot: CompiledSnapshot<C>, event: E | EventObject, effects: Sink<Effect>): CompiledSnapshot<C> {
    if (snapshot.final) return snapshot;
    this.#raised.clear();
    const next = this.#microstep(snapshot as unknown as Stepped, event, effects);
    return (this.#raised.size === 0 ? next : this.#settle(next, effects)) as unknown as CompiledSnapshot<C>;
  }

  /** Takes the enabled transition for one event, if any: exit, transition actions, entry. */
  #microstep(snapshot: Stepped, event: EventObject, effects: Sink<Effect>): Stepped {
    const state = snapshot.at;
    const taken = select(state, snapshot.context, event);
    if (!taken) return snapshot;
    const context = runAll(taken.actions, snapshot.context, event, effects, this.#raised);
    const target = taken.target ?? state;
    return { state: target.key, context, final: target.final, at: target };
  }

  /** Processes raised events to completion, as XState's macrostep does; a final state drops the rest. */
  #settle(snapshot: Stepped, effects: Sink<Effect>): Stepped {
    const raised = this.#raised;
    for (let i = 0; i < raised.size && !snapshot.final; i++) snapshot = this.#microstep(snapshot, raised.at(i), effects);
    raised.clear();
    return snapshot;
  }
}

/** A snapshot as the tables make it: with the state it is in, so a step needs no lookup by name. */
interface Stepped extends CompiledSnapshot<object> {
  readonly at: State;
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
