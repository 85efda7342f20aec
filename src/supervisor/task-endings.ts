import { TaskCancelledError } from '../errors/errors.js';
import type { TaskContext } from '../machines/task.js';
import type { ProcessorEvent } from '../observe/events.js';
import type { Metrics } from '../observe/metrics.js';
import { finalResult } from '../task/results.js';
import type { FinalTaskState } from '../task/types.js';
import type { Attempts } from './attempts.js';
import type { Dispatcher } from './dispatcher.js';
import type { Journal } from './journal.js';
import type { RemoteTaskHooks } from './messages.js';
import type { TaskRegistry } from './registry.js';
import { abandonWaiters, deliverResult, type TaskRecord } from './task-record.js';

export interface EndingParts {
  readonly registry: TaskRegistry;
  readonly dispatcher: Dispatcher;
  readonly attempts: Attempts;
  readonly metrics: Metrics;
  readonly journal: Journal | undefined;
  /** A broker's node: where a task of the broker's goes when it ends, retries or leaves. */
  readonly remote: RemoteTaskHooks | undefined;
  /** Runs an effect once the supervisor's mailbox is empty. */
  readonly defer: (effect: () => void) => void;
  /** Reports an event once the supervisor's mailbox is empty. */
  readonly emit: (event: ProcessorEvent) => void;
  /** Whether anyone listens to the events: a task's are not built for no one. */
  readonly listened: () => boolean;
  /** A task's callback threw (called from a deferred effect). */
  readonly callbackFailed: (id: string, error: unknown) => void;
  /** A task left the supervisor: a shutdown waiting for the last one may stop. */
  readonly left: () => void;
}

/**
 * How a task leaves the supervisor: it ends (its result stored, its
 * callback, waiters and events told), or it is handed back unfinished (to
 * the broker, at shutdown or to retry elsewhere, or kept by the store for
 * the next start): its machine's `handedBack`. And how its attempt leaves
 * `processing` early. Owned by the supervisor and called inside its
 * messages, when the task's machine entered the state.
 */
export class TaskEndings {
  readonly #parts: EndingParts;

  constructor(parts: EndingParts) {
    this.#parts = parts;
  }

  /**
   * The machine left `processing`, or ended while its attempt waited in a
   * window. If the attempt has not settled (it timed out, or was cancelled)
   * it is orphaned: abort it in the thread. It stays in the attempts table
   * until it stops, so no second attempt of the id can start.
   */
  leaveProcessing(record: TaskRecord, reason: Error | undefined): void {
    const attempt = this.#parts.attempts.of(record);
    if (!attempt) return;
    attempt.orphaned = true;
    attempt.worker.abort(attempt.token, reason ?? new Error('The attempt was abandoned'));
  }

  finish(record: TaskRecord, state: FinalTaskState, context: TaskContext): void {
    const { registry, dispatcher, journal, remote, defer } = this.#parts;
    const { id } = record.task;
    this.#stopListening(record);
    // Running, or sent and waiting in a thread's window: either way it is stopped there.
    this.leaveProcessing(record, state === 'cancelled' ? new TaskCancelledError(context.reason ?? 'cancelled') : context.error);
    dispatcher.forget(record);
    registry.remove(record, state);
    this.#parts.metrics.finished(state, Date.now());
    const progress = { attempts: context.attempts, submittedAt: record.submittedAt, startedAt: record.startedAt };
    const result = finalResult(record.task, state, context, record.payload, progress);
    // A cancelled task's payload stays as long as its result, so it can be resubmitted (a failed result holds its own).
    registry.results.storeEnded(result, state === 'cancelled' ? { payload: record.payload } : undefined);
    journal?.ended(record, result);
    if (record.remote && remote) defer(() => remote.finished(result));
    if (record.task.callback || record.waiters) {
      defer(() => deliverResult(record, result, (error) => this.#parts.callbackFailed(id, error)));
    }
    if (this.#parts.listened()) this.#parts.emit({ type: `task.${result.status}`, id, result } as ProcessorEvent);
    this.#parts.left();
  }

  /**
   * Its machine ended `handedBack`: not an end, nothing is announced but a
   * broker's retry. A broker's task about to retry leaves this node for the
   * broker to deliver again after the backoff, to whichever node has room;
   * at shutdown, the broker delivers it again at once, or the store keeps
   * it for the next start, and whoever awaits its result here is told it
   * will not come.
   */
  handedBack(record: TaskRecord, context: TaskContext): void {
    const { registry, dispatcher, journal, remote, defer } = this.#parts;
    const { id } = record.task;
    this.#stopListening(record);
    this.leaveProcessing(record, new TaskCancelledError('shutdown'));
    dispatcher.forget(record);
    registry.remove(record, undefined);
    if (context.handedBack === 'retry') {
      const delay = context.retryDelay ?? 0;
      const error = context.error ?? new Error('unknown failure');
      this.#parts.emit({ type: 'task.retrying', id, attempt: context.attempts, delay, error });
      if (remote) defer(() => remote.retry(id, delay, error));
    } else {
      if (record.remote && remote) defer(() => remote.returned(id));
      else journal?.kept(record);
      if (record.waiters) defer(() => abandonWaiters(record));
    }
    this.#parts.left();
  }

  /** A long-lived signal must not keep every finished task it served alive. */
  #stopListening(record: TaskRecord): void {
    if (record.onAbort) record.task.signal?.removeEventListener('abort', record.onAbort);
  }
}
