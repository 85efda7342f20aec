import { randomUUID } from 'node:crypto';
import { InvalidTaskError } from './errors.js';
import { describe } from './options.js';
import type { TaskInput, TaskResult } from './task.js';

/** A task after `submit` checked it and filled its defaults. */
export interface NormalizedTask {
  readonly id: string;
  /** The structured clone taken at submit: later changes by the caller do not leak in. */
  readonly payload: unknown;
  readonly handler: string;
  readonly maxRetries: number;
  readonly timeout: number | undefined;
  readonly callback: ((result: TaskResult) => void) | undefined;
}

export interface TaskDefaults {
  readonly maxRetries: number;
  readonly timeout: number | undefined;
}

function nonNegativeInteger(field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidTaskError(field, `Expected \`${field}\` to be a non-negative integer, got ${describe(value)}`);
  }
  return value;
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
  const maxRetries = nonNegativeInteger('maxRetries', input.maxRetries) ?? defaults.maxRetries;
  const timeout = nonNegativeInteger('timeout', input.timeout) ?? defaults.timeout;
  let payload: unknown;
  try {
    payload = structuredClone(input.payload);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new InvalidTaskError('payload', `Expected \`payload\` to be structured-cloneable: ${reason}`, { cause });
  }
  return {
    id: id ?? randomUUID(),
    payload,
    handler: handler ?? 'default',
    maxRetries,
    timeout: timeout === 0 ? undefined : timeout,
    callback,
  };
}
