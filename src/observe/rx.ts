import type * as Rx from 'rxjs';
import type { Observable } from 'rxjs';

import type { Broadcast } from '../util/broadcast.js';
import { loadOnUse } from '../util/load-on-use.js';

/**
 * rxjs, loaded the first time a public Observable is asked for (an
 * import of Troupe that loaded it up front took 60–70 ms and 1.6 MB of
 * heap for its 230 modules; see `util/load-on-use.ts`).
 */
export const rx = loadOnUse<typeof Rx>('rxjs');

/** A broadcast as an rxjs Observable: each subscription listens to it until unsubscribed. */
export function observableOf<T>(broadcast: Broadcast<T>): Observable<T> {
  return new (rx().Observable)<T>((subscriber) => broadcast.subscribe(subscriber));
}

/**
 * The key an object is an Observable by, to whatever takes one by it
 * (rxjs's `from`, XState): rxjs's own `observable`, computed as rxjs
 * computes it, `Symbol.observable` where a polyfill made one and
 * `'@@observable'` where none did (Node has none of its own).
 */
export const OBSERVABLE: symbol | '@@observable' = (Symbol as { readonly observable?: symbol }).observable ?? '@@observable';
