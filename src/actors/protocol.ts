/**
 * What crosses between the actor directory and the actors a thread runs:
 * orders in, one report per actor per message out. The worker actor carries
 * them on its thread's batch port without reading them (see
 * `workers/protocol.ts` for the port's other messages).
 */
import type { SerializedError } from '../errors/serialize.js';
import type { ActorSnapshot } from './types.js';

/** An order for one actor hosted by a thread. Orders for an actor arrive, and are carried out, in the order sent. */
export type ActorOrder =
  /** `snapshot`: a persisted snapshot to restore (a restart after its thread died), instead of starting afresh. */
  | { readonly kind: 'spawn'; readonly id: string; readonly logic: string; readonly input?: unknown; readonly snapshot?: unknown }
  /** `ask`: answer with the snapshot right after this event. */
  | { readonly kind: 'event'; readonly id: string; readonly event: { readonly type: string }; readonly ask?: number }
  /** Stops it once the orders before this one are carried out: the thread reports its last snapshot (`stopped`). */
  | { readonly kind: 'stop'; readonly id: string }
  /** While an inspector watches: report every event each actor processes, with the snapshot right after it (`trace`). */
  | { readonly kind: 'trace'; readonly on: boolean };

/**
 * What became of one actor since its last report: at most one per actor per
 * message, however many events it processed (its latest snapshot), with the
 * answers to the asks among them, each the snapshot right after its event.
 */
export interface ActorReport {
  readonly actor: string;
  /**
   * While it is active, XState's persisted snapshot (`getPersistedSnapshot()`):
   * what a restart restores, and a superset of its plain snapshot, which the
   * main thread takes from it (one copy of the context crosses, not two).
   * Once it has ended, its plain snapshot.
   */
  readonly snapshot: ActorSnapshot;
  /** Events it has processed since it was spawned (none once it has ended: what is sent after is not processed). */
  readonly processed: number;
  /** It ended in `error` while processing this event (its number, as `processed` counts), not on its own later. */
  readonly erredOn?: number;
  /** It was stopped by a `stop` order: `snapshot` is its last, persisted (restorable) while it was active. */
  readonly stopped?: true;
  /** While traced: each event it processed, in order, with its plain snapshot right after. */
  readonly trace?: ReadonlyArray<readonly [event: { readonly type: string }, snapshot: ActorSnapshot]>;
  /** Each ask's snapshot right after its event; `null` when that is `snapshot` (its event was the last). */
  readonly answers?: ReadonlyArray<readonly [ask: number, snapshot: ActorSnapshot | null]>;
  /**
   * It has work pending between events: a delayed event waiting for its
   * timer, or invoked work still running (see `pending-work.ts`). The main
   * thread keeps the thread referenced meanwhile; a later report says when
   * it is over.
   */
  readonly pendingWork?: true;
  /** The spawn failed: the logic threw as it started (`ActorStartError`, with what it threw as its cause). */
  readonly failed?: SerializedError;
}

/**
 * The actor event a thread was processing as it exited through
 * `process.exit`, which killed it: what the thread says as it dies (see
 * `ThreadDying` in `workers/protocol.ts`).
 */
export interface ActorInProgress {
  readonly actor: string;
  /** The event's number, as the actor's `processed` counts them on this thread (see `ActorReport.processed`). */
  readonly delivery: number;
}
