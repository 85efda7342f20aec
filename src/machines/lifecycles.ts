import type { EventObject } from 'xstate';

import { InspectedActor, type Inspection, machineSnapshot } from '../observe/inspection.js';
import type { Clock } from '../util/clock.js';
import { ScratchList } from '../util/scratch-list.js';
import { type CompiledSnapshot, compileMachine, type Effect, stateValue } from './compile.js';
import { type TaskContext, type TaskEntered, type TaskEvent, taskMachine, type TaskMachineInput, type Whereabouts } from './task.js';

/** The state a task's machine is in, by its path: `processing`, `queued.ready`, `handedBack`, … */
export type TaskStatePath = `queued.${Whereabouts}` | Exclude<TaskEntered['state'], 'queued'>;

/** One task's lifecycle: the task machine, evaluated for one task. */
export interface TaskLifecycle<O = unknown> {
  readonly context: TaskContext;
  /** The state it is in now: where it waits, while `queued`. */
  readonly state: TaskStatePath;
  /** Whether it has reached a final state. */
  readonly final: boolean;
  /**
   * Whoever keeps the task (the supervisor's record of it), set by them once
   * made: `entered` hands the lifecycle back, so its keeper is found without
   * a lookup by id.
   */
  owner: O | undefined;
  send(event: TaskEvent): void;
  /**
   * Leaves the lifecycle where it is, unfinished: its timers are cleared and
   * later events are ignored. For a task handed to another owner (a broker
   * that will deliver its next attempt, maybe to another node).
   */
  stop(): void;
}

/**
 * Creates lifecycles. The supervisor sees every state a task enters through
 * `entered`, always while it is processing its mailbox (a machine's own
 * timers are routed through `timer`, a message, before they are delivered).
 */
export interface TaskLifecycles<O = unknown> {
  create(input: TaskMachineInput): TaskLifecycle<O>;
}

export interface LifecycleHooks<O = unknown> {
  /** A task entered a state. Called during a supervisor message, with the task's lifecycle. */
  readonly entered: (event: TaskEntered, lifecycle: TaskLifecycle<O>) => void;
  /**
   * A machine timer fired (a backoff or an attempt timeout). The supervisor
   * turns it into a message and calls `fire` when it processes it.
   */
  readonly timer: (fire: () => void) => void;
}

/** The task machine as transition tables: compiled once, when this module loads. */
const compiled = compileMachine<TaskContext, TaskEvent, TaskMachineInput>(taskMachine);

/** One task: its snapshot and its pending machine timers. */
class CompiledTask<O> implements TaskLifecycle<O> {
  snapshot!: CompiledSnapshot<TaskContext>;
  owner: O | undefined = undefined;
  /** Only tasks that are waiting on a backoff or a timeout have any. */
  timers: Map<string, unknown> | undefined;
  /** How an inspector sees it, once one is attached. */
  ref: InspectedActor | undefined;
  readonly #lifecycles: CompiledLifecycles<O>;

  constructor(lifecycles: CompiledLifecycles<O>) {
    this.#lifecycles = lifecycles;
  }

  get context(): TaskContext {
    return this.snapshot.context;
  }

  get state(): TaskStatePath {
    return this.snapshot.state as TaskStatePath;
  }

  get final(): boolean {
    return this.snapshot.final;
  }

  send(event: TaskEvent | EventObject): void {
    if (!this.stopped) this.#lifecycles.transition(this, event);
  }

  stopped = false;

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.#lifecycles.stop(this);
  }
}

/**
 * Every task's machine stepped through its compiled tables (see
 * `machines/compile.ts`) instead of an XState actor per task. What an actor
 * would do around the machine is done here: entry emits go to the
 * supervisor, delayed events (backoff, attempt timeout) become timers on the
 * clock, cancelled when the machine cancels them or the task ends.
 *
 * Not re-entrant by design: the supervisor calls it only while processing a
 * message, and a machine timer reaches it as a message too.
 */
export class CompiledLifecycles<O = unknown> implements TaskLifecycles<O> {
  readonly #clock: Clock;
  readonly #hooks: LifecycleHooks<O>;
  readonly #inspection: Inspection | undefined;
  readonly #parent: InspectedActor | undefined;
  /** Filled by a step, run once its snapshot is stored, as an actor runs deferred actions. */
  readonly #effects = new ScratchList<Effect>();

  /**
   * With `inspection`, each task appears to XState inspection observers as
   * an actor named `troupe.task.<id>`, child of `parent`, with its events and
   * snapshots, while an observer is attached.
   */
  constructor(clock: Clock, hooks: LifecycleHooks<O>, inspection?: Inspection, parent?: InspectedActor) {
    this.#clock = clock;
    this.#hooks = hooks;
    this.#inspection = inspection;
    this.#parent = parent;
  }

  create(input: TaskMachineInput): TaskLifecycle<O> {
    const task = new CompiledTask<O>(this);
    task.snapshot = compiled.initial(input, this.#effects);
    if (this.#inspection?.active) this.#inspected(task);
    this.#apply(task);
    return task;
  }

  transition(task: CompiledTask<O>, event: TaskEvent | EventObject, source?: InspectedActor): void {
    const before = task.snapshot;
    if (before.final) return;
    const inspection = this.#inspection;
    const ref = inspection?.active ? this.#inspected(task) : undefined;
    if (ref) inspection?.received(ref, event, source ?? this.#parent);
    task.snapshot = compiled.transition(before, event, this.#effects);
    if (task.snapshot === before) return;
    if (ref) {
      inspection?.changed(ref, event);
      if (task.snapshot.final) inspection?.stopped(ref);
    }
    this.#apply(task);
  }

  stop(task: CompiledTask<O>): void {
    if (task.timers) for (const key of [...task.timers.keys()]) this.#cancel(task, key);
    if (task.ref) this.#inspection?.stopped(task.ref);
  }

  /** The task's inspected actor, announced the first time an observer needs it. */
  #inspected(task: CompiledTask<O>): InspectedActor {
    if (task.ref) return task.ref;
    const ref = new InspectedActor(
      `troupe.task.${task.snapshot.context.id}`,
      () => machineSnapshot(stateValue(task.snapshot.state), task.snapshot.context, task.snapshot.final),
      this.#parent,
    );
    task.ref = ref;
    this.#inspection?.started(ref);
    return ref;
  }

  #apply(task: CompiledTask<O>): void {
    const effects = this.#effects;
    try {
      for (let i = 0; i < effects.size; i++) {
        const effect = effects.at(i);
        if (effect.kind === 'emit') this.#hooks.entered(effect.event as TaskEntered, task);
        else if (effect.kind === 'schedule') this.#schedule(task, effect.id, effect.event, effect.delay);
        else this.#cancel(task, effect.id);
      }
    } finally {
      effects.clear();
    }
    if (task.snapshot.final && task.timers) {
      for (const key of [...task.timers.keys()]) this.#cancel(task, key);
    }
  }

  #schedule(task: CompiledTask<O>, key: string, event: EventObject, delay: number): void {
    // An attempt without a time limit asks for an infinite delay: nothing to arm.
    if (delay === Infinity) return;
    this.#cancel(task, key);
    const timers = (task.timers ??= new Map());
    timers.set(
      key,
      this.#clock.setTimeout(() => {
        timers.delete(key);
        // A machine's own delayed event: it sends it to itself.
        this.#hooks.timer(() => {
          if (!task.stopped) this.transition(task, event, task.ref);
        });
      }, delay),
    );
  }

  #cancel(task: CompiledTask<O>, key: string): void {
    const timer = task.timers?.get(key);
    if (timer === undefined || !task.timers) return;
    this.#clock.clearTimeout(timer);
    task.timers.delete(key);
  }
}
