import type { AnyStateMachine, EventObject } from 'xstate';

/**
 * A flat XState machine compiled to a transition table, for the per-task hot
 * path. XState's `machine.transition` is general (nested and parallel states,
 * history, eventless transitions, spawning) and pays for that generality on
 * every event: about 35 µs of the main thread per task in Troupe's profiles,
 * a third of its whole budget. The task machine uses none of it, so this
 * reads the machine's own definition (its states, transitions, guards,
 * actions and delays, from `machine.root` and `machine.implementations`) into
 * plain tables once, and steps them with XState's semantics for that subset.
 *
 * It is not a second description of the lifecycle: the machine stays the one
 * source, and anything outside the subset (nested states, `always`, custom
 * actions, spawning…) is refused when compiling, not mis-run. A model-based
 * test checks that it behaves exactly as an XState actor on every event
 * sequence up to a depth and on thousands of random ones.
 */

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
  initial(input: I, effects: Effect[]): CompiledSnapshot<C>;
  /** The next snapshot, or the same one when no transition is enabled. */
  transition(snapshot: CompiledSnapshot<C>, event: E | EventObject, effects: Effect[]): CompiledSnapshot<C>;
}

type Args = { context: unknown; event: EventObject };
type Fn = (args: Args, params: unknown) => unknown;

/** One resolved action: it updates the context or records an effect. */
type Action = (context: object, event: EventObject, effects: Effect[], raised: EventObject[]) => object;

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

class UnsupportedMachineError extends Error {
  constructor(machine: string, what: string) {
    super(`Cannot compile machine "${machine}": ${what} is not supported by the flat-machine compiler`);
    this.name = 'UnsupportedMachineError';
  }
}

interface Node {
  key: string;
  type: string;
  states: Record<string, Node>;
  entry: unknown[];
  exit: unknown[];
  always?: unknown[];
  invoke: unknown[];
  transitions: Map<string, Array<{ target?: Node[]; guard?: unknown; actions: unknown[]; reenter: boolean }>>;
  initial?: { target: Node[] };
  config: { context?: unknown; always?: unknown; invoke?: unknown; output?: unknown };
}

interface Implementations {
  actions: Record<string, unknown>;
  guards: Record<string, unknown>;
  delays: Record<string, unknown>;
}

/** Compiles a flat machine (one level of atomic and final states); throws on anything else. */
export function compileMachine<C extends object, E extends EventObject, I>(machine: AnyStateMachine): CompiledMachine<C, E, I> {
  const root = machine.root as unknown as Node;
  const impl = machine.implementations as unknown as Implementations;
  const refuse = (what: string): never => {
    throw new UnsupportedMachineError(root.key, what);
  };

  /** An action or guard reference (a name, `{ type, params }`, or inline) as its implementation and params. */
  const lookUp = (ref: unknown, table: Record<string, unknown>): { implementation: unknown; params: unknown } => {
    if (typeof ref === 'string') return { implementation: table[ref], params: undefined };
    if (typeof ref === 'object' && ref !== null && 'type' in ref) {
      const { type, params } = ref as { type: string; params?: unknown };
      if (typeof params === 'function') refuse('dynamic params');
      return { implementation: table[type], params };
    }
    return { implementation: ref, params: undefined };
  };

  const action = (ref: unknown): Action => {
    const { implementation, params } = lookUp(ref, impl.actions);
    const builtin = implementation as { type?: string } & Record<string, unknown>;
    switch (typeof implementation === 'function' ? builtin.type : undefined) {
      case 'xstate.assign': {
        const assignment = builtin['assignment'] as Fn | Record<string, unknown>;
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
      case 'xstate.emit': {
        const emitted = builtin['event'] as Fn | EventObject;
        return (context, event, effects) => {
          const resolved = typeof emitted === 'function' ? (emitted({ context, event }, params) as EventObject) : emitted;
          effects.push({ kind: 'emit', event: resolved });
          return context;
        };
      }
      case 'xstate.raise': {
        const raisedEvent = builtin['event'] as Fn | EventObject;
        const id = builtin['id'] as string | undefined;
        const delayRef = builtin['delay'];
        const delay: unknown = typeof delayRef === 'string' ? impl.delays[delayRef] : delayRef;
        return (context, event, effects, raised) => {
          const args = { context, event };
          const resolved = typeof raisedEvent === 'function' ? (raisedEvent(args, params) as EventObject) : raisedEvent;
          const ms = typeof delay === 'function' ? (delay as Fn)(args, params) : delay;
          if (typeof ms === 'number') effects.push({ kind: 'schedule', id: id ?? resolved.type, event: resolved, delay: ms });
          else raised.push(resolved);
          return context;
        };
      }
      case 'xstate.cancel': {
        const sendId = builtin['sendId'];
        if (typeof sendId !== 'string') refuse('a dynamic cancel id');
        return (context, _event, effects) => {
          effects.push({ kind: 'cancel', id: sendId as string });
          return context;
        };
      }
      default:
        return refuse(`action ${JSON.stringify(typeof ref === 'string' ? ref : (builtin.type ?? String(ref)))}`);
    }
  };

  const guard = (ref: unknown): Transition['guard'] => {
    if (ref === undefined) return undefined;
    const { implementation: check, params } = lookUp(ref, impl.guards);
    if (typeof check !== 'function' || 'check' in check) return refuse(`guard ${JSON.stringify(ref)}`);
    const fn = check as Fn;
    return (context, event) => fn({ context, event }, params) === true;
  };

  // States first, then their transitions, which point at states.
  const states = new Map<string, State>();
  for (const [key, node] of Object.entries(root.states)) {
    if (node.type !== 'atomic' && node.type !== 'final') refuse(`the ${node.type} state "${key}"`);
    if (node.always?.length || node.config.always) refuse(`the eventless transition of "${key}"`);
    if (node.invoke.length > 0) refuse(`the invoke in "${key}"`);
    states.set(key, {
      key,
      final: node.type === 'final',
      entry: node.entry.map(action),
      exit: node.exit.map(action),
      on: new Map(),
    });
  }
  if (root.entry.length > 0 || root.exit.length > 0) refuse('a root entry or exit action');
  if (root.invoke.length > 0 || root.config.always) refuse('a root invoke or eventless transition');

  const transitions = (node: Node): Map<string, Transition[]> => {
    const table = new Map<string, Transition[]>();
    for (const [type, candidates] of node.transitions) {
      if (type === '*' || type.includes('.*')) refuse(`the wildcard transition "${type}"`);
      table.set(
        type,
        candidates.map((candidate) => {
          if ((candidate.target?.length ?? 0) > 1) refuse('a transition with several targets');
          const targetNode = candidate.target?.[0];
          const target = targetNode && states.get(targetNode.key);
          if (targetNode && (!target || targetNode !== root.states[targetNode.key])) refuse(`the target "${targetNode.key}"`);
          if (target && node.key === target.key) refuse(`the self-transition of "${node.key}"`);
          return { guard: guard(candidate.guard), target, actions: candidate.actions.map(action) };
        }),
      );
    }
    return table;
  };

  // A state's own candidates come first; the root's apply when none of them is enabled.
  const rootOn = transitions(root);
  for (const [key, node] of Object.entries(root.states)) {
    const on = (states.get(key) as State).on;
    for (const [type, candidates] of transitions(node)) on.set(type, candidates);
    for (const [type, candidates] of rootOn) on.set(type, [...(on.get(type) ?? []), ...candidates]);
  }

  const initialKey = root.initial?.target[0]?.key;
  const initialState = initialKey === undefined ? undefined : states.get(initialKey);
  if (!initialState) return refuse('a machine without an initial state');
  const contextConfig = root.config.context;

  const runAll = (actions: readonly Action[], context: object, event: EventObject, effects: Effect[], raised: EventObject[]) => {
    for (let i = 0; i < actions.length; i++) context = (actions[i] as Action)(context, event, effects, raised);
    return context;
  };

  const select = (state: State, context: object, event: EventObject): Transition | undefined => {
    const candidates = state.on.get(event.type);
    if (!candidates) return undefined;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i] as Transition;
      if (!candidate.guard || candidate.guard(context, event)) return candidate;
    }
    return undefined;
  };

  // Steps are not re-entrant (actions are pure), so one buffer serves them all.
  const raised: EventObject[] = [];

  return {
    initial(input, effects) {
      const init = { type: 'xstate.init', input } as EventObject;
      let context =
        typeof contextConfig === 'function'
          ? (contextConfig as (args: { input: unknown }) => object)({ input })
          : { ...(contextConfig as object) };
      raised.length = 0;
      context = runAll(initialState.entry, context, init, effects, raised);
      return step({ state: initialState.key, context, final: initialState.final }, effects) as CompiledSnapshot<C>;
    },
    transition(snapshot, event, effects) {
      if (snapshot.final) return snapshot;
      raised.length = 0;
      const next = microstep(snapshot, event, effects);
      return (raised.length === 0 ? next : step(next, effects)) as CompiledSnapshot<C>;
    },
  };

  /** Takes the enabled transition for one event, if any: exit, transition actions, entry. */
  function microstep(snapshot: CompiledSnapshot<object>, event: EventObject, effects: Effect[]): CompiledSnapshot<object> {
    const state = states.get(snapshot.state) as State;
    const taken = select(state, snapshot.context, event);
    if (!taken) return snapshot;
    const { target } = taken;
    let context = snapshot.context;
    if (target) context = runAll(state.exit, context, event, effects, raised);
    context = runAll(taken.actions, context, event, effects, raised);
    if (!target) return { state: state.key, context, final: false };
    context = runAll(target.entry, context, event, effects, raised);
    return { state: target.key, context, final: target.final };
  }

  /** Processes raised events to completion, as XState's macrostep does; a final state drops the rest. */
  function step(snapshot: CompiledSnapshot<object>, effects: Effect[]): CompiledSnapshot<object> {
    for (let i = 0; i < raised.length && !snapshot.final; i++) {
      snapshot = microstep(snapshot, raised[i] as EventObject, effects);
    }
    raised.length = 0;
    return snapshot;
  }
}
