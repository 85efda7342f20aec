import type { KV } from '@nats-io/kv';

import { decodeResult } from './codec.js';

/**
 * Writes a task's one terminal result to the results bucket: with `create`,
 * which refuses a key that exists, so whoever stores first decides. When
 * the key exists, the result there stands if it is of this submission (an
 * earlier delivery stored it, or the task ended before a cancel); a result
 * of an earlier submission of the id is replaced. Resolves `stored` when
 * `data` is now the result, `kept` when the one there stands; throws when
 * the server cannot say (the caller tries again, or gives up).
 */
export async function storeOnce(results: KV, key: string, data: Uint8Array, submission: string): Promise<'stored' | 'kept'> {
  try {
    await results.create(key, data);
    return 'stored';
  } catch {
    // It exists, or the server is away: the lookup tells which.
  }
  const entry = await results.get(key);
  if (!entry || entry.operation !== 'PUT') throw new Error(`No result could be stored or read under ${key}`);
  if (decodeResult(entry.value).submission === submission) return 'kept';
  await results.update(key, data, entry.revision);
  return 'stored';
}
