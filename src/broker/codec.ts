import { deserialize, serialize } from 'node:v8';

import { deserializeError, type SerializedError, serializeError } from '../errors/serialize.js';
import type { ProcessorEvent } from '../observe/events.js';
import type { NormalizedTask } from '../task/normalize.js';
import type { TaskResult } from '../task/types.js';

/**
 * What travels through the broker is V8's serialization: the structured
 * clone that `postMessage` uses in-process, so a payload that works on one
 * machine (Dates, Maps, typed arrays, BigInts) works across machines too.
 * Errors go flattened (`serializeError`) so they come back as their class,
 * with code and cause.
 */

/** A task as it waits in the stream. */
export interface WireTask {
  readonly id: string;
  readonly handler: string;
  readonly payload: unknown;
  readonly priority: number;
  readonly maxRetries: number;
  readonly timeout: number | undefined;
  readonly submittedAt: number;
  /** Tells this submission of the id from an earlier one whose result is still stored. */
  readonly submission: string;
  /** A delayed start: epoch ms. */
  readonly runAt: number | undefined;
}

/** A terminal result as the results bucket holds it. */
export interface StoredResult {
  readonly submission: string;
  readonly result: TaskResult;
}

/** Task ids are any string; keys and subject tokens are not: base64url fits both. */
export function keyOf(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url') || '_';
}

export function encodeTask(task: NormalizedTask, submission: string, submittedAt: number, runAt: number | undefined): Uint8Array {
  const { id, handler, payload, priority, maxRetries, timeout } = task;
  const wire: WireTask = { id, handler, payload, priority, maxRetries, timeout, submittedAt, submission, runAt };
  return serialize(wire);
}

export function decodeTask(data: Uint8Array): WireTask {
  return deserialize(data) as WireTask;
}

type Flat<T> = T extends { error: unknown } ? Omit<T, 'error'> & { error: SerializedError } : T;

function flatten(result: TaskResult): Flat<TaskResult> {
  return result.status === 'failed' ? { ...result, error: serializeError(result.error) } : result;
}

function rebuild(result: Flat<TaskResult>): TaskResult {
  return result.status === 'failed' ? { ...result, error: deserializeError(result.error) } : result;
}

export function encodeResult(stored: StoredResult): Uint8Array {
  return serialize({ submission: stored.submission, result: flatten(stored.result) });
}

export function decodeResult(data: Uint8Array): StoredResult {
  const stored = deserialize(data) as { submission: string; result: Flat<TaskResult> };
  return { submission: stored.submission, result: rebuild(stored.result) };
}

/** Task events from one node, many per message. */
export function encodeEvents(node: string, events: readonly ProcessorEvent[]): Uint8Array {
  const flat = events.map((event) => {
    if ('result' in event && typeof event.result === 'object') return { ...event, result: flatten(event.result) };
    if (event.type === 'task.retrying') return { ...event, error: serializeError(event.error) };
    return event;
  });
  return serialize({ node, events: flat });
}

export function decodeEvents(data: Uint8Array): { node: string; events: ProcessorEvent[] } {
  const batch = deserialize(data) as { node: string; events: Array<Record<string, unknown>> };
  const { node } = batch;
  const events = batch.events.map((event) => {
    if (typeof event['result'] === 'object' && event['result'] !== null) {
      return { ...event, result: rebuild(event['result'] as Flat<TaskResult>), node };
    }
    if (event['type'] === 'task.retrying') return { ...event, error: deserializeError(event['error'] as SerializedError), node };
    return { ...event, node };
  }) as unknown as ProcessorEvent[];
  return { node: batch.node, events };
}
