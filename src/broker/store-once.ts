import { decodeResult, keyOf } from './codec.js';
import type { BrokerSession } from './session.js';

/**
 * Writes a task's one terminal result to the results bucket, as the
 * bucket's `create` does (a publish to the key's subject that the stream
 * stores only if the key holds nothing), so whoever stores first decides.
 * When the key exists, the result there stands if it is of this submission
 * (an earlier delivery stored it, or the task ended before a cancel); a
 * result of an earlier submission of the id is replaced. Resolves `stored`
 * when `data` is now the result, `kept` when the one there stands; throws
 * when the server cannot say (the caller tries again, or gives up).
 */
export async function storeOnce(session: BrokerSession, id: string, data: Uint8Array, submission: string): Promise<'stored' | 'kept'> {
  try {
    await session.publisher.publish(session.resultSubject(id), data, session.createOnly);
    return 'stored';
  } catch {
    // It exists, or the server is away: the lookup tells which.
  }
  const key = keyOf(id);
  const entry = await session.results.get(key);
  if (!entry || entry.operation !== 'PUT') throw new Error(`No result could be stored or read under ${key}`);
  if (decodeResult(entry.value).submission === submission) return 'kept';
  await session.results.update(key, data, entry.revision);
  return 'stored';
}
