import { InvalidOptionError, InvalidTaskError } from '../errors/errors.js';

/**
 * The one checker behind every refusal of bad input: processor options,
 * broker options, task fields and method arguments. Each refusal names the
 * field, what was expected and what was given, in one shape (p-queue's):
 * ``Expected `concurrency` to be a positive integer, got `0` (number)``.
 * A check throws and changes nothing; it never fills a default itself.
 */

/** Renders a value for an error message: `0` (number), `"x"` (string). */
export function describe(value: unknown): string {
  if (typeof value === 'string') return `\`${JSON.stringify(value)}\` (string)`;
  if (value === null) return '`null`';
  if (typeof value === 'object') return `\`${Object.prototype.toString.call(value).slice(8, -1)}\` (object)`;
  if (typeof value === 'function') return '`function` (function)';
  // What is left is a primitive, which String renders as itself.
  const primitive = value as number | boolean | bigint | symbol | undefined;
  return `\`${String(primitive)}\` (${typeof value})`;
}

/** What a number must be, and how the refusal says so. */
export interface NumberRule {
  readonly expected: string;
  readonly test: (value: number) => boolean;
}

export const positiveInteger: NumberRule = { expected: 'a positive integer', test: (v) => Number.isSafeInteger(v) && v >= 1 };
export const nonNegativeInteger: NumberRule = { expected: 'a non-negative integer', test: (v) => Number.isSafeInteger(v) && v >= 0 };
export const nonNegativeNumber: NumberRule = { expected: 'a non-negative number', test: (v) => Number.isFinite(v) && v >= 0 };
export const fraction: NumberRule = { expected: 'a number from 0 to 1', test: (v) => Number.isFinite(v) && v >= 0 && v <= 1 };
export const integer: NumberRule = { expected: 'an integer', test: (v) => Number.isSafeInteger(v) };
/** Any number but NaN (a bound may be Infinity). */
export const aNumber: NumberRule = { expected: 'a number', test: (v) => !Number.isNaN(v) };

/** Which error a refusal raises: options and tasks have their own classes. */
export type Refusal = (field: string, message: string) => Error;

export const refuseOption: Refusal = (field, message) => new InvalidOptionError(field, message);
export const refuseTask: Refusal = (field, message) => new InvalidTaskError(field, message);

/** `value` if it is a number that meets `rule`; else throws, naming `field`. Missing is as wrong as malformed. */
export function checkNumber(field: string, value: unknown, rule: NumberRule, refuse: Refusal = refuseOption): number {
  if (typeof value !== 'number' || !rule.test(value)) {
    throw refuse(field, `Expected \`${field}\` to be ${rule.expected}, got ${describe(value)}`);
  }
  return value;
}

/** `fallback` when `value` is undefined; else as {@link checkNumber}. */
export function optionalNumber(field: string, value: unknown, fallback: number, rule: NumberRule, refuse: Refusal = refuseOption): number {
  return value === undefined ? fallback : checkNumber(field, value, rule, refuse);
}

/** `fallback` when `value` is undefined; else `value` if it is a boolean, or throws, naming `field`. */
export function optionalBoolean(field: string, value: unknown, fallback: boolean, refuse: Refusal = refuseOption): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw refuse(field, `Expected \`${field}\` to be a boolean, got ${describe(value)}`);
  return value;
}

/** A plain object (not an array, not null); `{}` when undefined. */
export function checkObject(field: string, value: unknown, refuse: Refusal = refuseOption): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw refuse(field, `Expected \`${field}\` to be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}
