import { deserialize } from 'node:v8';

import { PoisonTaskError, WorkerCrashedError } from '../errors/errors.js';
import { type Backoff, backoffDelay } from '../machines/backoff.js';
import type { Recovered, StoredTask } from '../store/store.js';
import type { NormalizedTask } from '../task/normalize.js';
import { failedResult } from '../task/results.js';
import type { FailedResult, TaskResult } from '../task/types.js';
import type { Resumed } from './messages.js';

/** How a task of an earlier run comes back: queued again (when it is due), or ended for good. */
export type Resumption =
  | {
      readonly kind: 'run';
      readonly task: NormalizedTask;
      readonly attempts: number;
      readonly crashes: number;
      readonly suspected: number;
      readonly submittedAt: number;
    }
  | { readonly kind: 'failed'; readonly result: FailedResult };

/** Process deaths a task may be running at, beside others, before it runs isolated in the process. */
export const SUSPICIONS_BEFORE_ISOLATION = 2;

/**
 * What becomes of a stored, unfinished task when a processor opens its
 * store. A scheduled or retrying task comes back due when it was; a queued
 * one, queued. One that was `processing` had its attempt cut short by the
 * process dying. When it was the only task running (`alone`), the death is
 * charged to it as a thread crash is, so a task that takes the whole
 * process down each time it runs ends `failed` with `PoisonTaskError` after
 * `maxCrashes` such deaths instead of crash-looping the service; otherwise
 * it retries after the backoff, unless that was its last attempt. When
 * others ran beside it, the cause cannot be told: nobody is charged, each
 * is queued again with its interrupted attempt given back and one more
 * suspicion, and one suspected twice runs isolated in the process from
 * then on, where a death is its own. A recovered task has no callback and
 * no signal: functions are not stored.
 */
export function resume(stored: StoredTask, alone: boolean, now: number, maxCrashes: number, backoff: Backoff): Resumption {
  const { id, handler, priority, maxRetries, timeout, submittedAt } = stored;
  const payload: unknown = deserialize(stored.payload);
  let { attempts, crashes, suspected, dueAt } = stored;
  let state = stored.state;
  if (state === 'processing' && !alone) {
    suspected++;
    attempts--;
    state = 'queued';
  }
  if (state === 'processing') {
    crashes++;
    const crash = new WorkerCrashedError(0, null, { cause: new Error('The process died while this attempt ran') });
    const poisoned = crashes >= maxCrashes;
    if (poisoned || attempts > maxRetries) {
      const error = poisoned ? new PoisonTaskError(id, crashes, { cause: crash }) : crash;
      return { kind: 'failed', result: failedResult(stored, error, payload, { attempts, submittedAt, startedAt: undefined }) };
    }
    dueAt = now + backoffDelay(attempts, backoff);
  }
  const runAt = state === 'queued' || dueAt === undefined ? undefined : Math.max(now, dueAt);
  const task: NormalizedTask = {
    id,
    payload,
    transfer: undefined,
    handler,
    priority,
    delay: undefined,
    runAt,
    maxRetries,
    timeout,
    callback: undefined,
    signal: undefined,
  };
  return { kind: 'run', task, attempts, crashes, suspected, submittedAt };
}

/** Where the supervisor takes what recovery decides, each inside its own bookkeeping. */
export interface RecoveryParts {
  readonly now: number;
  readonly maxCrashes: number;
  readonly backoff: Backoff;
  /** A result of an earlier run, retained again. */
  retain(result: TaskResult): void;
  /** A task to queue again, as a `task.submit` message. */
  requeue(task: NormalizedTask, attempts: number, submittedAt: number, resumed: Resumed): void;
  /** A task that ended for good as it was recovered (row `key`): its result is stored. */
  failed(result: FailedResult, key: number): void;
  /**
   * Reports it (its `task.failed` event), once `announceAfter()` resolves (the
   * processor is ready and the result on disk), a turn later, outside any
   * supervisor message: recovery runs inside `createProcessor`, before anyone
   * can have subscribed to `events`, so it waits until someone who subscribes
   * before `await processor.ready`, or right after it, can hear it.
   */
  announce(result: FailedResult): void;
  announceAfter(): Promise<void>;
}

/**
 * The store's results are retained again, and its unfinished tasks queued
 * again (a `processing` one charged for the process that died under it,
 * when it ran alone; see `resume`), before anything else is accepted.
 */
export function recover({ tasks, results }: Recovered, parts: RecoveryParts): void {
  for (const result of results) parts.retain(result);
  const alone = tasks.filter((stored) => stored.state === 'processing').length === 1;
  for (const stored of tasks) {
    const resumed = resume(stored, alone, parts.now, parts.maxCrashes, parts.backoff);
    if (resumed.kind === 'run') {
      const { task, attempts, crashes, suspected, submittedAt } = resumed;
      parts.requeue(task, attempts, submittedAt, { crashes, suspected, key: stored.key });
    } else {
      const { result } = resumed;
      parts.failed(result, stored.key);
      parts.announceAfter().then(
        () => setImmediate(() => parts.announce(result)),
        () => {},
      );
    }
  }
}
