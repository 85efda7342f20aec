import { deserialize } from 'node:v8';

import { PoisonTaskError, WorkerCrashedError } from '../errors/errors.js';
import { type Backoff, backoffDelay } from '../machines/backoff.js';
import type { StoredTask } from '../store/store.js';
import type { NormalizedTask } from '../task/normalize.js';
import { failedResult } from '../task/results.js';
import type { FailedResult } from '../task/types.js';

/** How a task of an earlier run comes back: queued again (when it is due), or ended for good. */
export type Resumption =
  | {
      readonly kind: 'run';
      readonly task: NormalizedTask;
      readonly attempts: number;
      readonly crashes: number;
      readonly submittedAt: number;
    }
  | { readonly kind: 'failed'; readonly result: FailedResult };

/**
 * What becomes of a stored, unfinished task when a processor opens its
 * store. A scheduled or retrying task comes back due when it was; a queued
 * one, queued. One that was `processing` had its attempt cut short by the
 * process dying: that is charged as a thread crash is, so a task that takes
 * the whole process down each time it runs ends `failed` with
 * `PoisonTaskError` after `maxCrashes` such deaths instead of crash-looping
 * the service; otherwise it retries after the backoff, unless that was its
 * last attempt. A recovered task has no callback and no signal: functions
 * are not stored.
 */
export function resume(stored: StoredTask, now: number, maxCrashes: number, backoff: Backoff): Resumption {
  const { id, handler, priority, maxRetries, timeout, submittedAt, attempts } = stored;
  const payload: unknown = deserialize(stored.payload);
  let { crashes, dueAt } = stored;
  if (stored.state === 'processing') {
    crashes++;
    const crash = new WorkerCrashedError(0, null, { cause: new Error('The process died while this attempt ran') });
    const poisoned = crashes >= maxCrashes;
    if (poisoned || attempts > maxRetries) {
      const error = poisoned ? new PoisonTaskError(id, crashes, { cause: crash }) : crash;
      return { kind: 'failed', result: failedResult(stored, error, payload, { attempts, submittedAt, startedAt: undefined }) };
    }
    dueAt = now + backoffDelay(attempts, backoff);
  }
  const runAt = stored.state === 'queued' || dueAt === undefined ? undefined : Math.max(now, dueAt);
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
  return { kind: 'run', task, attempts, crashes, submittedAt };
}
