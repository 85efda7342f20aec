import { deserializeError, type SerializedError } from '../errors/serialize.js';
import type { InspectedActor } from '../observe/inspection.js';
import type { Queue } from '../util/queue.js';
import type { ActorRef, ActorState } from './actor-ref.js';
import type { ActorHost } from './host.js';
import type { ActorEvent, ActorSnapshot, RestartOn } from './types.js';

/** A spawn, an ask or a stop waiting for its answer. */
export interface Reply<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

/** An ask waiting for the snapshot after its event. */
export interface Ask extends Reply<ActorSnapshot> {
  readonly timer: unknown;
  /** The event's type and the timeout, for the error if it times out. */
  readonly type: string;
  readonly timeout: number;
  /** The thread its event went to, once sent: its answer keeps that thread ref'd. */
  worker: ActorHost | undefined;
}

/** An event on its way to an actor; `ask` names the ask waiting for the snapshot after it. */
export interface Delivery {
  readonly event: ActorEvent;
  readonly ask: number | undefined;
}

/**
 * When to restart an actor, and when to stop trying: the processor's
 * `restart` policy, one per actor (`supervisor/restart-policy.ts` is one).
 */
export interface RestartSchedule {
  /** Records a restart at `now` (ms): the wait before it, or `undefined` past the intensity. */
  next(now: number): number | undefined;
}

/** The restart policy's intensity, as `ActorFailedError` names it (the processor's `restart` option). */
export interface RestartIntensity {
  readonly maxRestarts: number;
  readonly window: number;
}

/** One live actor, as the supervisor's directory keeps it. */
export interface ActorEntry {
  readonly state: ActorState;
  readonly ref: ActorRef;
  readonly input: unknown;
  /** What restarts it: its thread dying, always; its logic's error too with `'on-error'`. */
  readonly restartOn: RestartOn;
  readonly restarts: RestartSchedule;
  worker: ActorHost | undefined;
  /** Until its thread first reports it running. */
  spawned: Reply<ActorRef> | undefined;
  readonly asks: Map<number, Ask>;
  /** XState's persisted snapshot, as its thread last reported it while active: what a restart restores. */
  persisted: unknown;
  /** Events its thread has reported processed, in this incarnation, and in the ones before (threads that died). */
  reported: number;
  earlier: number;
  /** Events sent to this incarnation and not yet reported processed, oldest first. */
  readonly inFlight: Queue<Delivery>;
  /** Events held back: while it restarts, and while it recovers one event at a time. */
  readonly held: Queue<Delivery>;
  /**
   * Its thread died with events in flight, and did not say which one killed
   * it (see `ThreadDying`): they go again one at a time, each once the last
   * is reported processed, so that if one kills the thread again it is
   * known, and is not delivered a third time.
   */
  careful: boolean;
  /** Its thread died, or its logic failed: it waits for its restart backoff, or for a ready thread. */
  restarting: boolean;
  /** `stop()` calls waiting for its thread to report it stopped. */
  stopping: Array<Reply<void>> | undefined;
  /** Stopped by shutdown, not for good: with a store, it stays stored, to be resumed. */
  keep: boolean;
  /** How an inspector sees it (`troupe.actor.<id>`), once one has. */
  inspected: InspectedActor | undefined;
}

/**
 * A snapshot from a thread as a ref shows it: the plain fields of XState's
 * (persisted) snapshot, its error back as its class.
 */
export function plain(snapshot: ActorSnapshot): ActorSnapshot {
  const shown: { -readonly [K in keyof ActorSnapshot]: ActorSnapshot[K] } = { status: snapshot.status };
  if ('value' in snapshot) shown.value = snapshot.value;
  if ('context' in snapshot) shown.context = snapshot.context;
  if (snapshot.status === 'done') shown.output = snapshot.output;
  if (snapshot.status === 'error' && snapshot.error !== undefined) shown.error = deserializeError(snapshot.error as SerializedError);
  return shown;
}

/** Takes everything out of a queue, oldest first. */
export function drain<T>(queue: Queue<T>): T[] {
  const items: T[] = [];
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) items.push(item);
  return items;
}

/** `a`, `b` for an error message; `none` when empty. */
export function list(names: Iterable<string>): string {
  const all = [...names].map((name) => `\`${name}\``);
  return all.length === 0 ? 'none' : all.join(', ');
}
