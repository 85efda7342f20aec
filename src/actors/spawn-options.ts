import { InvalidActorError } from '../errors/errors.js';
import { describe } from '../util/validate.js';
import type { ActorOfOptions, RestartOn, SpawnOptions } from './types.js';

/** `spawn`'s options once checked: what goes to the supervisor. */
export interface CheckedSpawn {
  readonly id: string | undefined;
  readonly input: unknown;
  readonly snapshot: unknown;
  readonly restart: RestartOn;
}

/**
 * Refuses, at the call and changing nothing, what `spawn` cannot use: a
 * logic name that is not a string, an empty id, an unknown `restart`, a
 * snapshot that is not an object, an input or snapshot that cannot be
 * structured-cloned to a thread. Whether the logic exists is known only to
 * the threads, which loaded the module: the supervisor checks that.
 */
export function checkSpawn(logic: unknown, { id, input, snapshot, restart = 'on-crash' }: SpawnOptions): CheckedSpawn {
  if (typeof logic !== 'string' || logic === '')
    throw new InvalidActorError(`Expected \`logic\` to be an export name, got ${describe(logic)}`);
  if (id !== undefined && (typeof id !== 'string' || id === '')) {
    throw new InvalidActorError(`Expected \`id\` to be a non-empty string, got ${describe(id)}`);
  }
  if (restart !== 'on-crash' && restart !== 'on-error') {
    throw new InvalidActorError(`Expected \`restart\` to be 'on-crash' or 'on-error', got ${describe(restart)}`);
  }
  if (snapshot !== undefined && (typeof snapshot !== 'object' || snapshot === null)) {
    throw new InvalidActorError(`Expected \`snapshot\` to be a persisted snapshot object (as shutdown returns), got ${describe(snapshot)}`);
  }
  for (const [name, value] of [
    ['input', input],
    ['snapshot', snapshot],
  ] as const) {
    try {
      structuredClone(value);
    } catch (cause) {
      throw new InvalidActorError(`The ${name} of \`${logic}\` cannot be structured-cloned to a thread: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
  return { id, input, snapshot, restart };
}

/**
 * Refuses, at the call and changing nothing, what `actorOf` cannot use: a
 * logic name or key that is not a non-empty string, options that are not an
 * object, an input that cannot be structured-cloned to a thread.
 */
export function checkActorOf(
  logic: unknown,
  key: unknown,
  options: ActorOfOptions | undefined,
): { readonly input: unknown; readonly restart: RestartOn } {
  if (typeof logic !== 'string' || logic === '' || logic.includes('/')) {
    throw new InvalidActorError(`Expected \`logic\` to be an export name, got ${describe(logic)}`);
  }
  if (typeof key !== 'string' || key === '') throw new InvalidActorError(`Expected \`key\` to be a non-empty string, got ${describe(key)}`);
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidActorError(`Expected the options of \`actorOf\` to be an object, got ${describe(options)}`);
  }
  const input = options?.input;
  const restart = options?.restart ?? 'on-crash';
  if (restart !== 'on-crash' && restart !== 'on-error') {
    throw new InvalidActorError(`Expected \`restart\` to be 'on-crash' or 'on-error', got ${describe(restart)}`);
  }
  try {
    structuredClone(input);
  } catch (cause) {
    throw new InvalidActorError(`The input of \`${logic}/${key}\` cannot be structured-cloned to a thread: ${(cause as Error).message}`, {
      cause,
    });
  }
  return { input, restart };
}
