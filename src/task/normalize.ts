import { MessagePort, type TransferListItem } from 'node:worker_threads';

import { InvalidTaskError } from '../errors/errors.js';
import { isDetached } from '../util/detached.js';
import { randomId } from '../util/uuid.js';
import { checkNumber, describe, integer, nonNegativeInteger, nonNegativeNumber, type NumberRule, refuseTask } from '../util/validate.js';
import type { TaskInput, TaskResult } from './types.js';

/** A task after `submit` checked it and filled its defaults. */
export interface NormalizedTask {
  readonly id: string;
  /** The structured clone taken at submit: later changes by the caller do not leak in. */
  readonly payload: unknown;
  /** The payload's buffers to move rather than copy, as found in `payload`. */
  readonly transfer: readonly TransferListItem[] | undefined;
  readonly handler: string;
  readonly priority: number;
  /** A delayed start: in ms from submit, or at an epoch ms. At most one is set. */
  readonly delay: number | undefined;
  readonly runAt: number | undefined;
  readonly maxRetries: number;
  readonly timeout: number | undefined;
  readonly callback: ((result: TaskResult) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

export interface TaskDefaults {
  readonly maxRetries: number;
  readonly timeout: number | undefined;
}

const delayMs: NumberRule = { expected: 'a non-negative number of ms', test: nonNegativeNumber.test };
const epochMs: NumberRule = { expected: 'a Date or a finite epoch ms', test: (v) => Number.isFinite(v) };

/** A field that may be left out: `undefined`, or checked. */
function optional(field: string, value: unknown, rule: NumberRule): number | undefined {
  return value === undefined ? undefined : checkNumber(field, value, rule, refuseTask);
}

/**
 * Checks everything about a task that does not depend on the processor's
 * state, synchronously, so a bad task is refused at the `submit` that made it.
 */
export function normalizeTask(input: TaskInput, defaults: TaskDefaults): NormalizedTask {
  if (typeof input !== 'object' || input === null) {
    throw new InvalidTaskError('task', `Expected the task to be an object, got ${describe(input)}`);
  }
  const { id, handler, callback } = input;
  if (id !== undefined && (typeof id !== 'string' || id.length === 0)) {
    throw new InvalidTaskError('id', `Expected \`id\` to be a non-empty string, got ${describe(id)}`);
  }
  if (handler !== undefined && (typeof handler !== 'string' || handler.length === 0)) {
    throw new InvalidTaskError('handler', `Expected \`handler\` to be a non-empty string, got ${describe(handler)}`);
  }
  if (callback !== undefined && typeof callback !== 'function') {
    throw new InvalidTaskError('callback', `Expected \`callback\` to be a function, got ${describe(callback)}`);
  }
  const maxRetries = optional('maxRetries', input.maxRetries, nonNegativeInteger) ?? defaults.maxRetries;
  const delay = optional('delay', input.delay, delayMs);
  const runAt = optional('runAt', input.runAt instanceof Date ? input.runAt.getTime() : input.runAt, epochMs);
  if (delay !== undefined && runAt !== undefined) {
    throw new InvalidTaskError('runAt', 'Expected at most one of `delay` and `runAt`, got both');
  }
  const priority = checkNumber('priority', input.priority ?? 0, integer, refuseTask);
  const timeout = optional('timeout', input.timeout, nonNegativeInteger) ?? defaults.timeout;
  const { transfer, signal } = input;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidTaskError('signal', `Expected \`signal\` to be an AbortSignal, got ${describe(signal)}`);
  }
  if (transfer !== undefined && !Array.isArray(transfer)) {
    throw new InvalidTaskError('transfer', `Expected \`transfer\` to be an array of transferables, got ${describe(transfer)}`);
  }
  transfer?.forEach((item, index) => {
    const ok = item instanceof MessagePort || (item instanceof ArrayBuffer && !isDetached(item));
    if (!ok) {
      throw new InvalidTaskError(
        'transfer',
        `Expected \`transfer[${index}]\` to be an ArrayBuffer that is not detached, or a MessagePort, got ${describe(item)}`,
      );
    }
  });
  let payload: unknown;
  let moved: readonly TransferListItem[] | undefined;
  try {
    if (transfer?.length) {
      // Cloned together, the list keeps pointing at the buffers inside the
      // clone: the caller's are detached, nothing is copied.
      ({ payload, transfer: moved } = structuredClone({ payload: input.payload, transfer }, { transfer: transfer as TransferListItem[] }));
    } else {
      payload = structuredClone(input.payload);
    }
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const field = transfer?.length ? 'transfer' : 'payload';
    const expected = field === 'transfer' ? 'transferable and not detached' : 'structured-cloneable';
    throw new InvalidTaskError(field, `Expected \`${field}\` to be ${expected}: ${reason}`, { cause });
  }
  return {
    id: id ?? randomId(),
    payload,
    transfer: moved,
    handler: handler ?? 'default',
    priority,
    delay,
    runAt,
    maxRetries,
    timeout: timeout === 0 ? undefined : timeout,
    callback,
    signal,
  };
}
