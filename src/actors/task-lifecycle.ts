import { createActor } from 'xstate';
import type { Clock } from '../clock.js';
import { taskMachine, type TaskContext, type TaskEntered, type TaskEvent, type TaskMachineInput } from '../machines/task.js';
import type { ResolvedOptions } from '../options.js';

/** One task's lifecycle: the task machine, evaluated for one task. */
export interface TaskLifecycle {
  readonly context: TaskContext;
  send(event: TaskEvent): void;
}

/**
 * Creates lifecycles. The supervisor sees every state a task enters through
 * `entered`, always while it is processing its mailbox (a machine's own
 * timers are routed through `timer`, a message, before they are delivered).
 */
export interface TaskLifecycles {
  create(input: TaskMachineInput): TaskLifecycle;
}

export interface LifecycleHooks {
  /** A task entered a state. Called during a supervisor message. */
  readonly entered: (event: TaskEntered) => void;
  /**
   * A machine timer fired (a backoff or an attempt timeout). The supervisor
   * turns it into a message and calls `fire` when it processes it.
   */
  readonly timer: (fire: () => void) => void;
}

/**
 * Each task is a standalone XState actor, named `troupe.task.<id>`, so an
 * inspection observer sees every lifecycle as an actor with its events and
 * snapshots. Used when `inspect` is set: it costs several times the compiled
 * tables of `CompiledLifecycles`.
 */
export class ActorLifecycles implements TaskLifecycles {
  readonly #clock: Clock;
  readonly #inspect: ResolvedOptions['inspect'];
  readonly #onEntered: (event: TaskEntered) => void;

  constructor({ clock, inspect }: Pick<ResolvedOptions, 'clock' | 'inspect'>, { entered }: LifecycleHooks) {
    this.#inspect = inspect;
    // A transition the actor made on its own timer emits from inside the
    // actor's step. Handled there, the supervisor would send events back to
    // an actor still mid-step (they would queue behind it, and it would read
    // a stale snapshot), so it is handled a microtask later.
    let inTimer = false;
    this.#onEntered = (event) => (inTimer ? queueMicrotask(() => entered(event)) : entered(event));
    const base = clock;
    const never = Symbol('never');
    this.#clock = {
      // The machine asks for an infinite delay for attempts without a limit.
      setTimeout: (fn, ms) => {
        if (ms === Infinity) return never;
        return base.setTimeout((...args: unknown[]) => {
          inTimer = true;
          try {
            fn(...args);
          } finally {
            inTimer = false;
          }
        }, ms);
      },
      clearTimeout: (id) => {
        if (id !== never) base.clearTimeout(id);
      },
    };
  }

  create(input: TaskMachineInput): TaskLifecycle {
    const actor = createActor(taskMachine, {
      id: `troupe.task.${input.id}`,
      input,
      clock: this.#clock,
      ...(this.#inspect ? { inspect: this.#inspect } : {}),
    });
    actor.on('task.entered', this.#onEntered);
    actor.start();
    return {
      get context() {
        return actor.getSnapshot().context;
      },
      send: (event) => actor.send(event),
    };
  }
}
