import type { Subscription as NatsSubscription } from '@nats-io/transport-node';
import type { Observable } from 'rxjs';

import { BrokerError, DuplicateTaskError, InvalidTaskError, ProcessorShutdownError, UnknownTaskError } from '../errors/errors.js';
import { type ProcessorEvent, TASK_EVENT_STATE } from '../observe/events.js';
import { rx } from '../observe/rx.js';
import type { ClusterStatus } from '../observe/status.js';
import type { NormalizedTask } from '../task/normalize.js';
import { cancelledResult, failedResult, taskInfo } from '../task/results.js';
import { RetainedResults } from '../task/retained.js';
import type { FailedResult, TaskInfo, TaskResult } from '../task/types.js';
import { abortReason } from '../util/abort-reason.js';
import { Broadcast } from '../util/broadcast.js';
import { Conditions } from '../util/conditions.js';
import { randomId } from '../util/uuid.js';
import { ClusterView } from './cluster-view.js';
import { decodeEvents, decodeResult, decodeTask, encodeResult, encodeTask, keyOf } from './codec.js';
import { SendTogether } from './send-together.js';
import type { BrokerSession } from './session.js';
import { storeOnce } from './store-once.js';
import type { Submission } from './submission.js';
import { activeTraceHeaders } from './trace-headers.js';
import { Watches } from './watches.js';

/** A task whose publish has failed this long ends failed (a server down for good, a stream deleted), so no wait hangs. */
const PUBLISH_GIVE_UP = 60_000;
const RETRY_PAUSE = 250;

/**
 * The client side of a broker, in every process (a node is also a client):
 * it publishes tasks to the stream with their id's key as message id (the
 * stream's duplicate window refuses an id taken within it, whichever
 * process took it), learns results from the results bucket (a watch, set at
 * its first wait on a result, plus a lookup for an id it did not submit),
 * runs callbacks and resolves `result()` for the tasks it submitted, follows
 * the task events of every node (from its first submit or listener), and
 * reads the cluster's status. It owns its submissions; nothing else touches
 * them.
 */
export class BrokerClient {
  readonly #relayed = new Broadcast<ProcessorEvent>();
  #events: Observable<ProcessorEvent> | undefined;
  /**
   * Task events from other nodes (and callback errors). The nodes' events
   * are listened to from the first subscriber here or the first submit, not
   * from start: a process that does neither is sent none.
   */
  get events(): Observable<ProcessorEvent> {
    return (this.#events ??= new (rx().Observable)<ProcessorEvent>((subscriber) => {
      this.#listen();
      return this.#relayed.subscribe(subscriber);
    }));
  }
  /** Set once connected; every use of it before then awaits `#opened`. */
  #session: BrokerSession | undefined;
  readonly #opened: Promise<BrokerSession>;
  readonly #tracing: boolean;
  readonly #submissions = new Map<string, Submission>();
  /** `result(id)` calls for ids this process did not submit (or has finished), by id. */
  readonly #waiters = new Map<string, Array<(result: TaskResult) => void>>();
  readonly #results: RetainedResults;
  readonly #conditions = new Conditions();
  readonly #publishing = new Set<Promise<void>>();
  /** Rejects every `result()` still waiting, at shutdown. */
  readonly #stopWaiting = new Set<() => void>();
  #closed = false;
  #eventsSub: NatsSubscription | undefined;
  #listening = false;
  readonly #watches = new Watches();
  readonly #cluster = new ClusterView(() => this.#session);
  /**
   * The results watch, set when this process first waits on a result (a
   * submit, a `result()` of another process's task), not at start: a node
   * that never does is not sent every result of the cluster.
   */
  #resultsWatched: Promise<void> | undefined;
  /** Publishes started in one turn leave together, once its microtasks have run (see `send-together.ts`). */
  readonly #publishes = new SendTogether((run) => process.nextTick(run));

  /** `tracing`: each submit carries the context active at it in the message's headers (see `trace-headers.ts`). */
  constructor(opened: Promise<BrokerSession>, retention: { maxResults: number; maxFailed: number }, tracing: boolean) {
    this.#opened = opened;
    this.#tracing = tracing;
    opened.then(
      (session) => (this.#session = session),
      () => {},
    );
    this.#results = new RetainedResults(retention);
  }

  /** Watches the nodes; resolves once the watch is set. Results and the nodes' events are followed from the first need of them. */
  async start(): Promise<void> {
    const session = await this.#opened;
    await this.#watch();
    // After a reconnect the watches are set again, and what was awaited
    // meanwhile is looked up, so no waiter is left behind (`#recheck`).
    void (async () => {
      for await (const status of session.nc.status()) {
        if (status.type === 'reconnect') void this.#recheck();
      }
    })();
    await this.#cluster.poll();
  }

  /**
   * Watches the nodes bucket, and the results bucket once this process
   * waits on results: set at start (results: at the first wait), and set
   * again after every reconnect (a watch whose bucket was lost with a server
   * that kept nothing on disk goes quiet without ending). The new watch is
   * set before the old one stops, and results stored in between are looked
   * up (`#recheck`).
   */
  async #watch(): Promise<void> {
    const session = await this.#opened;
    if (this.#resultsWatched) await this.#watchResults(session);
    this.#watches.follow('nodes', await session.nodes.watch(), (entry) => this.#cluster.update(entry));
  }

  /**
   * Subscribes to every node's task events, once: for `events` and for the
   * progress (`getTask`) of this process's submissions running elsewhere.
   * Subscribed before a submit's publish leaves (one connection keeps its
   * order), so no event of the task can come first.
   */
  #listen(): void {
    if (this.#listening || this.#closed) return;
    this.#listening = true;
    const subscribe = (session: BrokerSession) => {
      if (this.#closed) return;
      const own = session.eventsSubject(session.node);
      this.#eventsSub = session.nc.subscribe(session.allEventsSubject, {
        callback: (error, msg) => {
          // This process's own events are on its stream already.
          // Decoded only while someone listens, or while this process waits on tasks whose progress they tell.
          if (error || msg.subject === own || (!this.#relayed.observed && this.#submissions.size === 0)) return;
          let events: ProcessorEvent[];
          try {
            events = decodeEvents(msg.data).events;
          } catch {
            return; // not a batch of events (anyone may publish here): thrown here, it would close the connection's reader
          }
          for (const event of events) {
            this.note(event);
            this.#relayed.next(event);
          }
        },
      });
    };
    if (this.#session) subscribe(this.#session);
    else this.#opened.then(subscribe, () => {});
  }

  /**
   * Resolves once results are watched: at once after the first time. A
   * publish waits for it, so a task's result, stored after the task is,
   * cannot come before the watch; a lookup waits for it, so a result stored
   * after the lookup reaches the watch. Rejects if the server cannot be
   * reached (the next wait tries again).
   */
  #resultsWatch(session: BrokerSession): Promise<void> {
    const watched = (this.#resultsWatched ??= this.#watchResults(session));
    watched.catch(() => {
      if (this.#resultsWatched === watched) this.#resultsWatched = undefined;
    });
    return watched;
  }

  async #watchResults(session: BrokerSession): Promise<void> {
    this.#watches.follow('results', await session.results.watch({ include: 'updates' }), (entry) => {
      // A watching process is sent every result of the cluster: once it
      // waits on none any more, it skips decoding them.
      if (this.#submissions.size === 0 && this.#waiters.size === 0) return;
      if (entry.operation !== 'PUT') return;
      const stored = decodeResult(entry.value);
      this.#arrived(stored.submission, stored.result);
    });
  }

  // ── queries ────────────────────────────────────────────────────────────────

  /**
   * Follows a task event of any node (this one's too) for the submissions it
   * concerns: what `getTask` and `task$` show of a task running elsewhere.
   * Events are best effort, so this is the last state heard of, not a promise.
   */
  note(event: ProcessorEvent): void {
    const state = TASK_EVENT_STATE[event.type];
    if (state === undefined) return;
    const entry = this.#submissions.get((event as { id: string }).id);
    if (!entry) return;
    entry.state = state;
    entry.retryDelay = undefined;
    switch (event.type) {
      case 'task.started':
        entry.attempts = event.attempt;
        entry.startedAt ??= Date.now();
        return;
      case 'task.retrying':
        entry.lastError = event.error;
        entry.retryDelay = event.delay;
        return;
      default:
        return;
    }
  }

  /** A task this process submitted that has not ended, as far as the events tell. */
  taskInfo(id: string): TaskInfo | undefined {
    const entry = this.#submissions.get(id);
    if (!entry) return undefined;
    const { state, attempts, submittedAt, startedAt, lastError, retryDelay, runAt } = entry;
    return taskInfo(entry.task, { state, attempts, submittedAt, startedAt, lastError, retryDelay, runAt });
  }

  /** Tasks this process submitted that have not ended. */
  get unfinished(): number {
    return this.#submissions.size;
  }

  has(id: string): boolean {
    return this.#submissions.has(id);
  }

  getResult(id: string): TaskResult | undefined {
    return this.#results.get(id);
  }

  getFailedTasks(): Map<string, FailedResult> {
    return this.#results.failed();
  }

  clearResults(): void {
    this.#results.clear();
  }

  cluster(): ClusterStatus {
    return this.#cluster.status();
  }

  until(holds: () => boolean): Promise<void> {
    return this.#conditions.until(holds);
  }

  // ── submitting ─────────────────────────────────────────────────────────────

  /**
   * Publishes a task. Resolves once the stream holds it. Rejects with
   * `DuplicateTaskError` when the id was taken within the duplicate window:
   * with `strict` the submission is dropped (`submitAsync`), without it the
   * submission joins the task that holds the id (`submit`, which has already
   * returned). A publish that fails is tried again (with the same message id,
   * so the stream keeps one copy) until the broker answers.
   */
  submit(task: NormalizedTask, strict: boolean): Promise<void> {
    const submission = randomId();
    const now = Date.now();
    const runAt = task.runAt ?? (task.delay !== undefined ? now + task.delay : undefined);
    // Not yet due: it waits on the delayed subjects, where a node's scheduler moves it when it is.
    const delayed = runAt !== undefined && runAt > now;
    // Encoded now: the task is what it was at the call, and one too large is refused at it.
    const data = encodeTask(task, submission, now, delayed ? runAt : undefined);
    const oversize = this.#oversize(data);
    if (oversize) throw oversize;
    const entry: Submission = {
      submission,
      callback: task.callback,
      joined: false,
      published: false,
      task,
      waiters: [],
      onAbort: undefined,
      submittedAt: now,
      runAt: delayed ? runAt : undefined,
      state: delayed ? 'scheduled' : 'queued',
      attempts: 0,
      startedAt: undefined,
      lastError: undefined,
      retryDelay: undefined,
      trace: this.#tracing ? activeTraceHeaders() : undefined,
    };
    this.#submissions.set(task.id, entry);
    this.#listen();
    if (task.signal) {
      const signal = task.signal;
      entry.onAbort = () => this.cancel(task.id, abortReason(signal));
      // Aborted already: cancelled as soon as the stream holds it (the cancel waits for the publish).
      if (signal.aborted) entry.onAbort();
      else signal.addEventListener('abort', entry.onAbort, { once: true });
    }
    const published = this.#publish(task, entry, data, delayed, strict);
    this.#publishing.add(published);
    const untrack = () => this.#publishing.delete(published);
    published.then(untrack, untrack);
    return published;
  }

  /** A message larger than the server takes would be refused on every try. */
  #oversize(data: Uint8Array): InvalidTaskError | undefined {
    const limit = this.#session?.nc.info?.max_payload;
    if (limit === undefined || data.byteLength <= limit) return undefined;
    return new InvalidTaskError(
      'payload',
      `The task is ${data.byteLength} bytes encoded; the NATS server takes messages of at most ${limit} bytes (max_payload)`,
    );
  }

  async #publish(task: NormalizedTask, entry: Submission, data: Uint8Array, delayed: boolean, strict: boolean): Promise<void> {
    let session: BrokerSession;
    try {
      session = await this.#opened;
    } catch (error) {
      // Never reached the broker: it ends here, failed, with the reason.
      this.#arrived(entry.submission, brokerFailure(task, error));
      throw error;
    }
    await this.#publishes.ready();
    const oversize = this.#oversize(data);
    if (oversize) {
      this.#arrived(entry.submission, brokerFailure(task, oversize));
      throw oversize;
    }
    const subject = delayed ? session.delayedSubject(task.id) : session.subject(task.id);
    const giveUp = Date.now() + PUBLISH_GIVE_UP;
    let retried = false;
    for (;;) {
      if (this.#closed) throw new BrokerError(`Task \`${task.id}\` was not published: the processor shut down`);
      let sent = false;
      try {
        await this.#resultsWatch(session);
        sent = true;
        const ack = await session.publisher.publish(subject, data, session.taskHeaders(task.id, entry.trace));
        if (ack.duplicate && !retried) {
          if (strict) {
            this.#forget(task.id, entry);
            throw new DuplicateTaskError(task.id);
          }
          entry.joined = true;
          void this.#lookup(task.id);
        } else if (ack.duplicate) {
          // A publish that timed out may have been stored: the copy the stream holds may be this one's.
          entry.joined = true;
        }
        entry.published = true;
        return;
      } catch (error) {
        if (error instanceof DuplicateTaskError) throw error;
        // The same message id every time: the stream keeps one copy however many tries reach it.
        if (Date.now() > giveUp) {
          const failure = new BrokerError(`Task \`${task.id}\` could not be published for ${PUBLISH_GIVE_UP / 1000} s`, { cause: error });
          this.#arrived(entry.submission, brokerFailure(task, failure));
          throw failure;
        }
        // Only a publish sent may have been stored (a watch not set sends nothing).
        if (sent) retried = true;
        void session.restore(); // the stream may be gone (a server without file storage restarted)
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE));
      }
    }
  }

  /** Looks up a stored result of `id`, for the waiters of a submission that joined another, or after a reconnect. */
  async #lookup(id: string): Promise<void> {
    try {
      await this.#read(id);
    } catch {
      // The watch delivers it when the server is back.
    }
  }

  /** Reads the stored result of `id` into the waiters, if there is one; throws if the server cannot say. */
  async #read(id: string): Promise<void> {
    const entry = await (await this.#opened).results.get(keyOf(id));
    if (entry && entry.operation === 'PUT') {
      const stored = decodeResult(entry.value);
      this.#arrived(stored.submission, stored.result);
    }
  }

  /**
   * After a reconnect: a result stored while the connection was down is
   * looked up, and a task the server lost (one without file storage
   * restarted: no result, not in the stream) ends failed, so no wait hangs.
   */
  async #recheck(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    try {
      await session.restore();
      await this.#watch();
    } catch {
      // The server is away again: the next reconnect sets them.
    }
    for (const id of this.#waiters.keys()) void this.#lookup(id);
    for (const [id, entry] of this.#submissions) {
      if (!entry.published) continue; // its publish is still being tried
      void (async () => {
        try {
          if (!(await this.#missing(id, entry, session))) return;
          // A node may still hold it and store its result: it gets the time a
          // silent node gets before its tasks are given to others.
          await new Promise((resolve) => setTimeout(resolve, session.config.ackWait));
          if (!(await this.#missing(id, entry, session))) return;
          const lost = new BrokerError(
            `Task \`${id}\` is gone from the stream with no result: the server lost it (was it restarted without file storage?)`,
          );
          // Stored like any result, so whoever stores first decides, and every process reads the same.
          const failure = brokerFailure(entry.task, lost);
          await session.results.create(keyOf(id), encodeResult({ submission: entry.submission, result: failure })).catch(() => 0);
          await this.#read(id);
        } catch {
          // The server is away again: the next reconnect looks again.
        }
      })();
    }
  }

  /** Neither a result nor a message in the stream: the task is gone. Throws if the server cannot say. */
  async #missing(id: string, entry: Submission, session: BrokerSession): Promise<boolean> {
    await this.#read(id);
    if (this.#submissions.get(id) !== entry || (await session.pending(id))) return false;
    await this.#read(id); // it may have ended between the two looks
    return this.#submissions.get(id) === entry;
  }

  #forget(id: string, entry: Submission): void {
    if (this.#submissions.get(id) === entry) this.#submissions.delete(id);
    if (entry.onAbort) entry.task.signal?.removeEventListener('abort', entry.onAbort);
    this.#conditions.check();
  }

  /** A terminal result was stored. */
  #arrived(submission: string, result: TaskResult): void {
    const { id } = result;
    const entry = this.#submissions.get(id);
    if (entry && (entry.joined || entry.submission === submission)) {
      this.#forget(id, entry);
      this.#results.store(result);
      if (entry.callback) {
        try {
          entry.callback(result);
        } catch (error) {
          this.#relayed.next({ type: 'callback.error', id, error });
        }
      }
      for (const resolve of entry.waiters) resolve(result);
    }
    if (this.#submissions.has(id)) return; // a newer submission of the id is still running
    const waiters = this.#waiters.get(id);
    if (waiters) {
      this.#waiters.delete(id);
      for (const resolve of waiters) resolve(result);
    }
  }

  // ── results ────────────────────────────────────────────────────────────────

  /**
   * The task's terminal result, from whichever node ran it. For an id this
   * process did not submit, the results bucket is asked, then the stream: an
   * id found in neither is unknown (never submitted, or its result expired).
   */
  result(id: string): Promise<TaskResult> {
    const known = this.#submissions.has(id) ? undefined : this.getResult(id);
    if (known) return Promise.resolve(known);
    // Every wait ends: with the result, or when this process shuts down (the task itself goes on in the cluster).
    return new Promise((resolve, reject) => {
      const stop = () =>
        reject(
          new ProcessorShutdownError(
            'The processor shut down while waiting; the task goes on in the cluster: read its result from another process',
          ),
        );
      this.#stopWaiting.add(stop);
      this.#await(
        id,
        (result) => {
          this.#stopWaiting.delete(stop);
          resolve(result);
        },
        (error) => {
          this.#stopWaiting.delete(stop);
          reject(error);
        },
      );
    });
  }

  /** Waits on this process's own submission; for any other id, asks the results bucket, then the stream, and waits if it is still there. */
  #await(id: string, resolve: (result: TaskResult) => void, reject: (error: Error) => void): void {
    const entry = this.#submissions.get(id);
    if (entry) {
      entry.waiters.push(resolve);
      return;
    }
    const waiters = this.#waiters.get(id) ?? [];
    waiters.push(resolve);
    this.#waiters.set(id, waiters);
    const give = (error: Error) => {
      const list = this.#waiters.get(id);
      const index = list?.indexOf(resolve) ?? -1;
      if (index === -1) return; // resolved meanwhile
      list?.splice(index, 1);
      if (list?.length === 0) this.#waiters.delete(id);
      reject(error);
    };
    void (async () => {
      try {
        await this.#resultsWatch(await this.#opened);
        await this.#read(id);
        if (!this.#waiters.get(id)?.includes(resolve)) return;
        const pending = await (await this.#opened).pending(id);
        if (pending) return; // in the stream: its result is on its way
        await this.#read(id); // it may have ended between the two looks
        give(new UnknownTaskError(id));
      } catch (error) {
        give(new BrokerError(`Could not look up task \`${id}\``, { cause: error }));
      }
    })();
  }

  // ── cancelling ─────────────────────────────────────────────────────────────

  /**
   * Stores the task's cancelled result, unless a result was stored first,
   * then tells every node (the one holding it aborts the attempt) and
   * deletes the message from the stream. The stored result is what counts:
   * a node that takes the task later finds it and does not run it; a node
   * that finishes it meanwhile finds it and keeps it.
   */
  cancel(id: string, reason: string): void {
    void this.#cancel(id, reason).catch(() => {});
  }

  async #cancel(id: string, reason: string): Promise<void> {
    const session = await this.#opened;
    // A cancel right after submit must find the task in the stream.
    if (this.#submissions.get(id)?.published === false) await Promise.allSettled([...this.#publishing]);
    const { stream } = session.config;
    const message = await session.pending(id);
    if (!message) return; // ended, or never submitted
    const wire = decodeTask(message.data);
    const result = cancelledResult(wire, reason, { attempts: 0, submittedAt: wire.submittedAt, startedAt: undefined });
    const data = encodeResult({ submission: wire.submission, result });
    if ((await storeOnce(session, id, data, wire.submission)) === 'kept') return; // it ended first
    session.nc.publish(session.cancelSubject, JSON.stringify({ id, reason }));
    await session.jsm.streams.deleteMessage(stream, message.seq).catch(() => false);
  }

  // ── shutdown ───────────────────────────────────────────────────────────────

  /**
   * Waits up to `timeout` for publishes still on their way; the tasks whose
   * publish did not complete are returned (handed back by `shutdown`).
   */
  async close(timeout: number): Promise<NormalizedTask[]> {
    const publishing = [...this.#publishing];
    if (publishing.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(publishing), new Promise((resolve) => (timer = setTimeout(resolve, timeout)))]);
      clearTimeout(timer);
    }
    this.#closed = true;
    const unpublished: NormalizedTask[] = [];
    for (const [id, entry] of this.#submissions) {
      if (!entry.published) {
        unpublished.push(entry.task);
        this.#forget(id, entry);
      }
    }
    this.#cluster.close();
    for (const stop of [...this.#stopWaiting]) stop();
    this.#stopWaiting.clear();
    this.#watches.close();
    this.#eventsSub?.unsubscribe();
    this.#relayed.complete();
    return unpublished;
  }
}

function brokerFailure(task: NormalizedTask, error: unknown): FailedResult {
  const cause =
    error instanceof BrokerError || error instanceof InvalidTaskError
      ? error
      : new BrokerError('The broker could not be reached', { cause: error });
  return failedResult(task, cause, task.payload, { attempts: 0, submittedAt: Date.now(), startedAt: undefined });
}
