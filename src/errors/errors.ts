/**
 * errors/: every error Troupe raises (this file), each a class with a
 * `code`, and how they cross threads and the broker keeping class, code and
 * cause (serialize.ts).
 */

/**
 * Every error Troupe raises carries a `code` from this union, so callers can
 * branch on `error.code` even after the error has crossed a thread boundary.
 */
export type TroupeErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_TASK'
  | 'ERR_DUPLICATE_TASK'
  | 'ERR_QUEUE_FULL'
  | 'ERR_UNKNOWN_TASK'
  | 'ERR_PROCESSOR_SHUTDOWN'
  | 'ERR_WORKER_START'
  | 'ERR_WORKER_CRASHED'
  | 'ERR_TASK_TIMEOUT'
  | 'ERR_TASK_CANCELLED'
  | 'ERR_POISON_TASK'
  | 'ERR_RESTART_INTENSITY'
  | 'ERR_UNKNOWN_HANDLER'
  | 'ERR_BROKER'
  | 'ERR_STORE'
  | 'ERR_STORE_LOCKED'
  | 'ERR_DUPLICATE_ACTOR'
  | 'ERR_INVALID_ACTOR'
  | 'ERR_INVALID_EVENT'
  | 'ERR_ACTOR_STOPPED'
  | 'ERR_ASK_TIMEOUT'
  | 'ERR_ACTOR_FAILED'
  | 'ERR_ACTOR_START';

/**
 * Base class of every error Troupe raises.
 *
 * @example
 * ```ts
 * try {
 *   processor.submit({ id: 'a', payload: 1 });
 * } catch (error) {
 *   if (error instanceof TroupeError && error.code === 'ERR_DUPLICATE_TASK') retryLater();
 * }
 * ```
 */
export class TroupeError extends Error {
  override name = 'TroupeError';
  readonly code: TroupeErrorCode;
  constructor(code: TroupeErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** `createProcessor` was given an option it cannot use. */
export class InvalidOptionError extends TroupeError {
  override name = 'InvalidOptionError';
  /** Dotted path of the offending option, e.g. `backoff.factor`. */
  readonly option: string;
  constructor(option: string, message: string) {
    super('ERR_INVALID_OPTION', message);
    this.option = option;
  }
}

/** `submit` was given a task it cannot accept; nothing was queued. */
export class InvalidTaskError extends TroupeError {
  override name = 'InvalidTaskError';
  /** The field of the task that was wrong, e.g. `id` or `payload`. */
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super('ERR_INVALID_TASK', message, options);
    this.field = field;
  }
}

/** A task with this id is already queued, processing or retrying. */
export class DuplicateTaskError extends TroupeError {
  override name = 'DuplicateTaskError';
  readonly taskId: string;
  constructor(taskId: string) {
    super('ERR_DUPLICATE_TASK', `Task \`${taskId}\` is already queued, processing or retrying`);
    this.taskId = taskId;
  }
}

/**
 * `submit` found `maxQueue` tasks already waiting (scheduled, queued or
 * retrying): the task was not accepted. Wait for room with
 * `onSizeLessThan(maxQueue)`, or use `submitAsync`.
 */
export class QueueFullError extends TroupeError {
  override name = 'QueueFullError';
  readonly maxQueue: number;
  constructor(maxQueue: number) {
    super('ERR_QUEUE_FULL', `The queue is full: ${maxQueue} tasks are already waiting (maxQueue)`);
    this.maxQueue = maxQueue;
  }
}

/** `result(id)` was asked for an id the processor has never accepted (or has forgotten). */
export class UnknownTaskError extends TroupeError {
  override name = 'UnknownTaskError';
  readonly taskId: string;
  constructor(taskId: string) {
    super('ERR_UNKNOWN_TASK', `No task \`${taskId}\` is known to this processor`);
    this.taskId = taskId;
  }
}

/** The processor is shutting down or shut down and accepts no new work. */
export class ProcessorShutdownError extends TroupeError {
  override name = 'ProcessorShutdownError';
  constructor(message = 'The processor is shut down and accepts no new tasks') {
    super('ERR_PROCESSOR_SHUTDOWN', message);
  }
}

/** A worker thread could not start, usually because the handler module failed to load. */
export class WorkerStartError extends TroupeError {
  override name = 'WorkerStartError';
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_WORKER_START', message, options);
  }
}

/** The thread running an attempt exited or crashed before the attempt settled. */
export class WorkerCrashedError extends TroupeError {
  override name = 'WorkerCrashedError';
  /** The thread's exit code; `null` when it is not known. */
  readonly exitCode: number | null;
  readonly workerId: number;
  constructor(workerId: number, exitCode: number | null, options?: ErrorOptions) {
    super(
      'ERR_WORKER_CRASHED',
      `Worker ${workerId} exited${exitCode === null ? '' : ` with code ${exitCode}`} while running the task`,
      options,
    );
    this.exitCode = exitCode;
    this.workerId = workerId;
  }
}

/** An attempt ran longer than its `timeout`. */
export class TaskTimeoutError extends TroupeError {
  override name = 'TaskTimeoutError';
  /** The timeout that expired, in ms. */
  readonly timeout: number;
  constructor(timeout: number) {
    super('ERR_TASK_TIMEOUT', `The attempt did not settle within ${timeout} ms`);
    this.timeout = timeout;
  }
}

/**
 * The reason a running handler's `ctx.signal` aborts when its task is
 * cancelled (by `cancel`, or by a shutdown deadline, reason `'shutdown'`).
 */
export class TaskCancelledError extends TroupeError {
  override name = 'TaskCancelledError';
  readonly reason: string;
  constructor(reason: string) {
    super('ERR_TASK_CANCELLED', `The task was cancelled: ${reason}`);
    this.reason = reason;
  }
}

/** The task's attempts crashed their thread `maxCrashes` times: it is not tried again. */
export class PoisonTaskError extends TroupeError {
  override name = 'PoisonTaskError';
  readonly taskId: string;
  readonly crashes: number;
  constructor(taskId: string, crashes: number, options?: ErrorOptions) {
    super('ERR_POISON_TASK', `Task \`${taskId}\` crashed its worker thread ${crashes} times and will not be retried`, options);
    this.taskId = taskId;
    this.crashes = crashes;
  }
}

/**
 * Threads crashed more than `restart.maxRestarts` times within
 * `restart.window` ms: the processor stopped restarting them and refuses new
 * tasks. Tasks already accepted are kept and handed back by `shutdown`.
 */
export class RestartIntensityError extends TroupeError {
  override name = 'RestartIntensityError';
  readonly maxRestarts: number;
  readonly window: number;
  constructor(maxRestarts: number, window: number, options?: ErrorOptions) {
    super(
      'ERR_RESTART_INTENSITY',
      `Worker threads crashed more than ${maxRestarts} times within ${window} ms; the processor stopped restarting them`,
      options,
    );
    this.maxRestarts = maxRestarts;
    this.window = window;
  }
}

/** The task named a handler that the handler module does not export. Never retried. */
export class UnknownHandlerError extends TroupeError {
  override name = 'UnknownHandlerError';
  readonly handler: string;
  constructor(handler: string, available: readonly string[]) {
    super(
      'ERR_UNKNOWN_HANDLER',
      `The handler module exports no function \`${handler}\`${
        available.length ? ` (it exports ${available.map((name) => `\`${name}\``).join(', ')})` : ''
      }`,
    );
    this.handler = handler;
  }
}

type TroupeErrorClass = new (...args: never[]) => TroupeError;

/**
 * The broker (NATS JetStream) could not be reached, or refused an operation
 * Troupe needed from it; `cause` holds the client's error.
 */
export class BrokerError extends TroupeError {
  override name = 'BrokerError';
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_BROKER', message, options);
  }
}

/**
 * The task store could not be opened (not a Troupe store, a newer schema,
 * the package missing) or a write to it failed; `cause` holds the driver's
 * error, and `path` names the file.
 */
export class StoreError extends TroupeError {
  override name = 'StoreError';
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super('ERR_STORE', message, options);
    this.path = path;
  }
}

/** Another processor has the store's file open: one process per file. */
export class StoreLockedError extends TroupeError {
  override name = 'StoreLockedError';
  readonly path: string;
  constructor(path: string, options?: ErrorOptions) {
    super('ERR_STORE_LOCKED', `The task store ${path} is in use by another processor (one process per file)`, options);
    this.path = path;
  }
}

/** `spawn` was given an id a live actor has. */
export class DuplicateActorError extends TroupeError {
  override name = 'DuplicateActorError';
  readonly actorId: string;
  constructor(actorId: string) {
    super('ERR_DUPLICATE_ACTOR', `Actor \`${actorId}\` is already running: stop it first, or spawn under another id`);
    this.actorId = actorId;
  }
}

/** `spawn` named an export of the handler module that is not XState actor logic, or a bad id or option. */
export class InvalidActorError extends TroupeError {
  override name = 'InvalidActorError';
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_INVALID_ACTOR', message, options);
  }
}

/** An event for an actor that is not a plain `{ type: string }` object, or cannot be structured-cloned to its thread. */
export class InvalidEventError extends TroupeError {
  override name = 'InvalidEventError';
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_INVALID_EVENT', message, options);
  }
}

/** The actor was stopped (or ended: done, error) before it could answer. */
export class ActorStoppedError extends TroupeError {
  override name = 'ActorStoppedError';
  readonly actorId: string;
  constructor(actorId: string, status: string) {
    super('ERR_ACTOR_STOPPED', `Actor \`${actorId}\` is ${status}: it takes no more events`);
    this.actorId = actorId;
  }
}

/** An `ask` got no answer in time; its event still counts as sent. */
export class AskTimeoutError extends TroupeError {
  override name = 'AskTimeoutError';
  readonly actorId: string;
  constructor(actorId: string, timeout: number, eventType: string) {
    super('ERR_ASK_TIMEOUT', `Actor \`${actorId}\` did not answer \`${eventType}\` within ${timeout} ms (the event was sent)`);
    this.actorId = actorId;
  }
}

/** An actor failed (its thread died; with restart 'on-error', its logic threw) more often than the `restart` policy allows: it is not restarted again. */
export class ActorFailedError extends TroupeError {
  override name = 'ActorFailedError';
  readonly actorId: string;
  constructor(actorId: string, maxRestarts: number, window: number, options?: ErrorOptions) {
    super(
      'ERR_ACTOR_FAILED',
      `Actor \`${actorId}\` failed (its thread died, or with restart 'on-error' its logic threw) more than ${maxRestarts} times within ${window} ms: it is not restarted again`,
      options,
    );
    this.actorId = actorId;
  }
}

/**
 * An actor's logic threw as it started (a context factory, an entry
 * action, a snapshot it could not be restored from): `spawn` rejects with
 * it. Its `cause` is what the logic threw, kept across the thread.
 *
 * @example
 * ```ts
 * try {
 *   await processor.spawn('account', { id: 'ada' }); // no `input`: its context factory throws
 * } catch (error) {
 *   if (error instanceof ActorStartError) console.error(error.actorId, error.logic, error.cause);
 * }
 * ```
 */
export class ActorStartError extends TroupeError {
  override name = 'ActorStartError';
  readonly actorId: string;
  /** The export of the handler module it runs. */
  readonly logic: string;
  constructor(actorId: string, logic: string, options?: ErrorOptions) {
    // What an Error says; anything else thrown is in `cause` only.
    const said = (options?.cause as { message?: unknown } | undefined)?.message;
    const why = typeof said === 'string' ? `: ${said}` : '';
    super('ERR_ACTOR_START', `Actor \`${actorId}\` (logic \`${logic}\`) failed as it started${why}`, options);
    this.actorId = actorId;
    this.logic = logic;
  }
}

/**
 * Classes by code, so that an error serialised in a thread comes back as the
 * same class on the main thread.
 */
export const errorClasses: Readonly<Record<TroupeErrorCode, TroupeErrorClass>> = {
  ERR_INVALID_OPTION: InvalidOptionError,
  ERR_INVALID_TASK: InvalidTaskError,
  ERR_DUPLICATE_TASK: DuplicateTaskError,
  ERR_QUEUE_FULL: QueueFullError,
  ERR_UNKNOWN_TASK: UnknownTaskError,
  ERR_PROCESSOR_SHUTDOWN: ProcessorShutdownError,
  ERR_WORKER_START: WorkerStartError,
  ERR_WORKER_CRASHED: WorkerCrashedError,
  ERR_TASK_TIMEOUT: TaskTimeoutError,
  ERR_TASK_CANCELLED: TaskCancelledError,
  ERR_POISON_TASK: PoisonTaskError,
  ERR_RESTART_INTENSITY: RestartIntensityError,
  ERR_UNKNOWN_HANDLER: UnknownHandlerError,
  ERR_BROKER: BrokerError,
  ERR_STORE: StoreError,
  ERR_STORE_LOCKED: StoreLockedError,
  ERR_DUPLICATE_ACTOR: DuplicateActorError,
  ERR_INVALID_ACTOR: InvalidActorError,
  ERR_INVALID_EVENT: InvalidEventError,
  ERR_ACTOR_STOPPED: ActorStoppedError,
  ERR_ASK_TIMEOUT: AskTimeoutError,
  ERR_ACTOR_FAILED: ActorFailedError,
  ERR_ACTOR_START: ActorStartError,
};
