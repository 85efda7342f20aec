import { inspect } from 'node:util';

/**
 * An AbortSignal's reason, as the reason of the task it cancels: an Error's
 * message, a string as it is, anything else rendered (never `[object Object]`).
 */
export function abortReason(signal: AbortSignal): string {
  const why: unknown = signal.reason;
  if (why instanceof Error) return why.message;
  if (why === undefined) return 'aborted';
  return typeof why === 'string' ? why : inspect(why, { breakLength: Infinity });
}
