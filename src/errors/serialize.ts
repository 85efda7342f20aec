import { inspect } from 'node:util';

import { errorClasses, type TroupeErrorCode } from './errors.js';

/**
 * An error flattened to structured-cloneable data, so it can cross a thread
 * (or a process) and be rebuilt with its class, code, cause and own fields.
 * Comlink alone would keep only `name`, `message` and `stack`.
 */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly cause?: SerializedError;
  /** Own enumerable fields of the original (e.g. `exitCode`), where cloneable. */
  readonly props?: Record<string, unknown>;
}

const MAX_CAUSE_DEPTH = 8;
const RESERVED = new Set(['name', 'message', 'stack', 'code', 'cause']);
const BUILTINS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function isErrorLike(value: unknown): value is Error {
  return (
    value instanceof Error ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as Error).message === 'string' &&
      typeof (value as Error).name === 'string')
  );
}

function cloneable(value: unknown): boolean {
  if (value === null || ['string', 'number', 'boolean', 'undefined', 'bigint'].includes(typeof value)) return true;
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Flattens anything a handler may throw. A thrown non-Error (a string, an
 * object) becomes a `NonError` whose message describes the value.
 */
export function serializeError(value: unknown, depth = 0): SerializedError {
  if (!isErrorLike(value)) {
    const message = typeof value === 'string' ? value : inspect(value, { depth: 2, breakLength: Infinity });
    return cloneable(value) ? { name: 'NonError', message, props: { value } } : { name: 'NonError', message };
  }
  const record = value as unknown as Record<string, unknown>;
  let props: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    if (RESERVED.has(key) || !cloneable(record[key])) continue;
    (props ??= {})[key] = record[key];
  }
  const code = record.code;
  const cause = record.cause;
  return {
    name: value.name,
    message: value.message,
    ...(typeof value.stack === 'string' ? { stack: value.stack } : {}),
    ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
    ...(cause !== undefined && depth < MAX_CAUSE_DEPTH ? { cause: serializeError(cause, depth + 1) } : {}),
    ...(props ? { props } : {}),
  };
}

/**
 * Rebuilds an error from {@link serializeError}'s output. Troupe's own errors
 * come back as their class (matched by `code`), built-in errors as their
 * built-in class, anything else as an `Error` carrying the original `name`.
 */
export function deserializeError(data: SerializedError): Error {
  const error = new Error(data.message);
  const troupeClass = data.code !== undefined ? errorClasses[data.code as TroupeErrorCode] : undefined;
  const prototype =
    troupeClass && troupeClass.name === data.name ? (troupeClass.prototype as Error) : (BUILTINS[data.name]?.prototype ?? Error.prototype);
  Object.setPrototypeOf(error, prototype);
  const target = error as unknown as Record<string, unknown>;
  if (data.props) Object.assign(target, data.props);
  Object.defineProperty(error, 'name', { value: data.name, writable: true, configurable: true, enumerable: false });
  if (data.stack !== undefined) error.stack = data.stack;
  else delete target.stack;
  if (data.code !== undefined) target.code = data.code;
  if (data.cause !== undefined) {
    Object.defineProperty(error, 'cause', {
      value: deserializeError(data.cause),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return error;
}
