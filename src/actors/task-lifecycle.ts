import type { TaskContext, TaskEntered, TaskEvent, TaskMachineInput } from '../machines/task.js';

/** One task's lifecycle: the task machine, evaluated for one task. */
export interface TaskLifecycle {
  readonly context: TaskContext;
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
