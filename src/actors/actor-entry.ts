import { deserializeError, type SerializedError } from '../errors/serialize.js';
import type { InspectedActor } from '../observe/inspection.js';
import { Broadcast } from '../util/broadcast.js';
import { Queue } from '../util/queue.js';
import { type ActorChannel, ActorRef, type ActorState } from './actor-ref.js';
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

/**
 * Where an actor is in its life, as the directory keeps it. Each phase
 * carries what only it has: the thread it is on (`host`), the spawn waiting
 * for the thread's first report, the `stop()` calls waiting for the last.
 *
 * `oneAtATime`: its thread died with events in flight and did not say
 * which one killed it (see `ActorInProgress`). Those events go again one at
 * a time, each once the last is reported processed, so that if one kills
 * the thread again it is known, and is not delivered a third time. It holds
 * while the actor restarts, and ends once nothing is held.
 */
export type ActorPhase =
  /** Its spawn went to `host`; `spawn` resolves at the thread's first report. Events sent meanwhile follow it. */
  | { readonly name: 'spawning'; readonly host: ActorHost; readonly spawn: Reply<ActorRef> }
  /** On `host`, taking events. */
  | { readonly name: 'running'; readonly host: ActorHost; readonly oneAtATime: boolean }
  /** Its thread died, or its logic failed: off any thread, it waits out its restart backoff, then for a ready thread. Events sent meanwhile are held. */
  | { readonly name: 'restarting'; readonly oneAtATime: boolean }
  /**
   * `stop()` was called: it takes no more events, and its thread stops it
   * behind those sent. `stops` resolve once the thread reports it stopped;
   * `spawn` is the spawn still waiting, when it was stopped before it ran.
   * `keep`: stopped by shutdown, not for good, so with a store it stays
   * stored, to be resumed.
   */
  | {
      readonly name: 'stopping';
      readonly host: ActorHost;
      readonly spawn: Reply<ActorRef> | undefined;
      readonly stops: Array<Reply<void>>;
      keep: boolean;
    }
  /** Over: out of the directory, its id free. Its ref still reads its last snapshot. */
  | { readonly name: 'ended' };

/** The thread it is on: none while it restarts, and once it has ended. */
export function hostOf(phase: ActorPhase): ActorHost | undefined {
  return phase.name === 'restarting' || phase.name === 'ended' ? undefined : phase.host;
}

/** Whether `send` and `ask` reach it: not once it is stopping or has ended. */
export function takesEvents(phase: ActorPhase): boolean {
  return phase.name === 'spawning' || phase.name === 'running' || phase.name === 'restarting';
}

/** Whether an event sent now goes straight to its thread, rather than waiting its turn among the held ones. */
export function sendsAtOnce(phase: ActorPhase): phase is Extract<ActorPhase, { readonly name: 'spawning' | 'running' }> {
  return phase.name === 'spawning' || (phase.name === 'running' && !phase.oneAtATime);
}

/** The spawn waiting for its thread's first report, if any. */
export function pendingSpawn(phase: ActorPhase): Reply<ActorRef> | undefined {
  return phase.name === 'spawning' || phase.name === 'stopping' ? phase.spawn : undefined;
}

/**
 * The thread whose process it keeps alive, if any: the one it is on, while a
 * spawn or a stop there is unanswered, events sent there are not yet
 * reported processed, or it has work pending between events.
 */
export function needsThread(entry: ActorEntry): ActorHost | undefined {
  const { phase } = entry;
  if (phase.name === 'restarting' || phase.name === 'ended') return undefined;
  const waiting = phase.name !== 'running' || entry.inFlight.size > 0 || entry.pendingWork;
  return waiting ? phase.host : undefined;
}

/** What an entry is made of. */
export interface ActorEntryInit {
  readonly id: string;
  readonly logic: string;
  readonly input: unknown;
  readonly restartOn: RestartOn;
  readonly restarts: RestartSchedule;
  /** The snapshot it starts from (given, or stored by an earlier run), if any. */
  readonly persisted: unknown;
  readonly phase: ActorPhase;
  readonly channel: ActorChannel;
}

/**
 * One actor, as the supervisor's directory keeps it: its phase, the events
 * on their way and the asks waiting. Its ref reads it (as `ActorState`),
 * and keeps reading its last snapshot after it ended.
 */
export class ActorEntry implements ActorState {
  readonly id: string;
  readonly logic: string;
  readonly ref: ActorRef;
  readonly input: unknown;
  /** What restarts it: its thread dying, always; its logic's error too with `'on-error'`. */
  readonly restartOn: RestartOn;
  readonly restarts: RestartSchedule;
  /** Written only through the directory, which keeps the count of actors per thread with it. */
  phase: ActorPhase;
  snapshot: ActorSnapshot = { status: 'active' };
  processed = 0;
  readonly changes = new Broadcast<ActorSnapshot>();
  readonly asks = new Map<number, Ask>();
  /** XState's persisted snapshot, as its thread last reported it while active: what a restart restores. */
  persisted: unknown;
  /** Events its thread has reported processed, in this incarnation, and in the ones before (threads that died). */
  reported = 0;
  earlier = 0;
  /** Events sent to this incarnation and not yet reported processed, oldest first. */
  readonly inFlight = new Queue<Delivery>();
  /** Events held back: while it restarts, and while they go one at a time. */
  readonly held = new Queue<Delivery>();
  /**
   * Its thread last reported it with work pending between events (timers,
   * invoked work: `ActorReport.pendingWork`). Assumed until a thread first
   * reports it, as it starts or restarts from a snapshot that may have some.
   */
  pendingWork = true;
  /** The thread it keeps alive now, as the directory counted it (see `needsThread`). */
  keeping: ActorHost | undefined;
  /** How an inspector sees it (`troupe.actor.<id>`), once one has. */
  inspected: InspectedActor | undefined;

  constructor({ id, logic, input, restartOn, restarts, persisted, phase, channel }: ActorEntryInit) {
    this.id = id;
    this.logic = logic;
    this.input = input;
    this.restartOn = restartOn;
    this.restarts = restarts;
    this.persisted = persisted;
    this.phase = phase;
    this.ref = new ActorRef(this, channel);
  }

  get workerId(): number | undefined {
    return hostOf(this.phase)?.id;
  }

  get stopping(): boolean {
    return this.phase.name === 'stopping';
  }
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
