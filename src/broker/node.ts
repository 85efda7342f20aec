import { hostname } from 'node:os';
import { serialize } from 'node:v8';

import type { JsMsg } from '@nats-io/jetstream';
import type { Subscription as NatsSubscription } from '@nats-io/transport-node';

import { BrokerError, PoisonTaskError } from '../errors/errors.js';
import type { ProcessorEvent } from '../observe/events.js';
import type { NodeBeat } from '../observe/status.js';
import type { TaskSubmit } from '../supervisor/messages.js';
import type { RemoteTaskHooks, Supervisor } from '../supervisor/supervisor.js';
import type { NormalizedTask } from '../task/normalize.js';
import { failedResult } from '../task/results.js';
import type { FailedResult, TaskResult } from '../task/types.js';
import type { Unsubscribable } from '../util/broadcast.js';
import { decodeResult, decodeTask, encodeEvents, encodeResult, keyOf, type WireTask } from './codec.js';
import { NODE_BEAT } from './node-beat.js';
import { SendTogether } from './send-together.js';
import type { BrokerSession } from './session.js';
import { storeOnce } from './store-once.js';
import { traceDelivery, traceHeadersOf } from './trace-headers.js';

/** A delivered task this node holds: waiting, running, or storing its result. */
interface Flight {
  /** The latest delivery: the one whose ack counts. */
  msg: JsMsg;
  readonly submission: string;
  /** Cancelled before it reached the supervisor. */
  cancelled: string | undefined;
}

const RETRY_PAUSE = 250;
/** How long a closing node keeps trying to store results while the server is away. */
const CLOSE_GRACE = 10_000;

/**
 * The node side of a broker: it pulls tasks from the shared consumer, never
 * more than its threads can run plus `prefetch`, hands each to the
 * supervisor (which runs it under the task machine, its attempt number taken
 * from the delivery count), keeps every task it holds alive with in-progress
 * heartbeats, and gives each back: a retry as a `nak` with the backoff delay,
 * an end as a stored result followed by `ack` (`term` for failed and
 * cancelled). It owns the deliveries it holds; the supervisor never sees a
 * message.
 */
export class BrokerNode implements RemoteTaskHooks {
  readonly #session: BrokerSession;
  readonly #supervisor: Supervisor;
  #capacity: number;
  #workers: number;
  readonly #tracing: boolean;
  readonly #flights = new Map<string, Flight>();
  /** Results and acks on their way: waited for before the connection closes. */
  readonly #writes = new Set<Promise<void>>();
  /**
   * `pulling` until shutdown; `draining` once it stops pulling (deliveries
   * go straight back) while what it holds finishes; `abandoning` when,
   * closing, the server has been away too long: writes still failing give up.
   */
  #stage: 'pulling' | 'draining' | 'abandoning' = 'pulling';
  #room: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #beat: NodeJS.Timeout;
  #cancels: NatsSubscription | undefined;
  #events: Unsubscribable | undefined;
  #outbox: ProcessorEvent[] = [];
  /** Deliveries waiting for the end of the turn to reach the supervisor together (see `#handOver`). */
  #handingOver: Array<{ readonly submit: TaskSubmit; readonly flight: Flight }> = [];
  /** Results, acks and relayed events of one turn leave together, at its end (see `send-together.ts`). */
  readonly #sends = new SendTogether(setImmediate);

  /**
   * The node's threads were scaled to `workers`: it holds as many deliveries
   * as they run and prefetch (`perWorker` each), or what the broker's
   * settings say beyond that. Fewer: it pulls nothing until it holds less.
   */
  resized(workers: number, perWorker: { readonly slots: number; readonly prefetch: number }): void {
    this.#workers = workers;
    this.#capacity = workers * perWorker.slots + (this.#session.config.prefetch ?? workers * perWorker.prefetch);
    this.#roomMade();
  }

  /** `slots`: attempts its threads run at once; `prefetch`: how many more it holds, unless the broker's settings say. */
  /** `tracing`: a delivered task's spans join the submitter's trace, read from its headers (see `trace-headers.ts`). */
  constructor(session: BrokerSession, supervisor: Supervisor, slots: number, prefetch: number, workers: number, tracing: boolean) {
    this.#session = session;
    this.#tracing = tracing;
    this.#supervisor = supervisor;
    this.#workers = workers;
    this.#capacity = slots + (session.config.prefetch ?? prefetch);
    // A third of ack_wait: two heartbeats may be lost before a live node's task is redelivered.
    this.#heartbeat = setInterval(
      () => {
        for (const flight of this.#flights.values()) answer(() => flight.msg.working());
      },
      Math.max(100, Math.floor(session.config.ackWait / 3)),
    );
    this.#beat = setInterval(() => this.#publishBeat(), NODE_BEAT);
    this.#heartbeat.unref();
    this.#beat.unref();
  }

  /** Starts pulling once the threads are up; listens for cancellations and relays this node's events. */
  start(): void {
    const session = this.#session;
    this.#cancels = session.nc.subscribe(session.cancelSubject, {
      callback: (error, msg) => {
        if (error) return;
        let notice: { id: string; reason: string };
        try {
          notice = JSON.parse(msg.string()) as { id: string; reason: string };
        } catch {
          return; // not a notice Troupe sent
        }
        const { id, reason } = notice;
        const flight = this.#flights.get(id);
        if (!flight) return; // not held here
        // Its cancelled result is stored already: this only stops the attempt.
        if (this.#supervisor.tasks.has(id)) this.#supervisor.send({ type: 'task.cancel', id, reason });
        else flight.cancelled = reason;
      },
    });
    this.#events = this.#supervisor.events.subscribe((event) => this.#relay(event));
    this.#publishBeat();
    this.#loop = Promise.all([this.#pull(), this.#schedule()]).then(() => {});
  }

  async #pull(): Promise<void> {
    const consumer = this.#session.consumer;
    if (!consumer) return;
    while (this.#pulling) {
      const free = this.#capacity - this.#flights.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.#room = resolve));
        continue;
      }
      try {
        const batch = await consumer.fetch({ max_messages: free, expires: 1_000 });
        let received = 0;
        for await (const msg of batch) {
          received++;
          this.#deliver(msg);
        }
        // A pull on a consumer that no longer exists ends empty, without an
        // error: an idle second is when to make sure it is still there.
        if (received === 0 && this.#pulling) await consumer.info();
      } catch {
        // The server is restarting, or the connection is being re-established,
        // or the consumer is gone (a server without file storage restarted).
        if (this.#pulling) {
          void this.#session.restore();
          await pause();
        }
      }
    }
  }

  /**
   * Delayed tasks: one not yet due goes back with a nak for the time left
   * (on its own consumer, so waiting never counts as an attempt); a due one
   * is published to the ready subjects, with its submission as message id
   * (moved once, whichever node and however often), then acked.
   */
  async #schedule(): Promise<void> {
    const { scheduler, js } = this.#session;
    if (!scheduler) return;
    while (this.#pulling) {
      try {
        const batch = await scheduler.fetch({ max_messages: 256, expires: 1_000 });
        for await (const msg of batch) {
          if (!this.#pulling) {
            answer(() => msg.nak());
            continue;
          }
          let wire: WireTask;
          try {
            wire = decodeTask(msg.data);
          } catch {
            answer(() => msg.term());
            continue;
          }
          const wait = (wire.runAt ?? 0) - Date.now();
          if (wait > 0) {
            answer(() => msg.nak(wait));
            continue;
          }
          this.#track(
            js
              .publish(this.#session.subject(wire.id), msg.data, {
                msgID: `due:${wire.submission}`,
                // Its trace goes on with it.
                headers: this.#session.headersOf(traceHeadersOf(msg.headers)),
              })
              .then(() => answer(() => msg.ack())),
            () => answer(() => msg.nak(RETRY_PAUSE)),
          );
        }
      } catch {
        if (this.#pulling) {
          void this.#session.restore();
          await pause();
        }
      }
    }
  }

  #deliver(msg: JsMsg): void {
    if (!this.#pulling) return answer(() => msg.nak());
    let wire: WireTask;
    try {
      wire = decodeTask(msg.data);
    } catch {
      // Not a task Troupe published: it would come back forever.
      return answer(() => msg.term());
    }
    const held = this.#flights.get(wire.id);
    if (held) {
      // Delivered again while this node still holds it (a heartbeat came late):
      // the newest delivery is the one to answer.
      held.msg = msg;
      return;
    }
    const flight: Flight = { msg, submission: wire.submission, cancelled: undefined };
    this.#flights.set(wire.id, flight);
    const attempts = msg.info.deliveryCount - 1;
    // At-least-once delivery: an earlier delivery may have stored its result
    // and died before its ack. That result stands; the task does not run again.
    // A first delivery has no earlier one: it skips the round trip (a
    // cancel that stored its result just now still wins, when this node stores).
    const stored = attempts === 0 ? Promise.resolve(null) : this.#session.results.get(keyOf(wire.id));
    this.#track(
      stored.then((entry) => {
        if (entry && entry.operation === 'PUT' && decodeResult(entry.value).submission === wire.submission) {
          this.#flights.delete(wire.id);
          answer(() => msg.ack());
          return this.#roomMade();
        }
        if (!this.#pulling) return this.returned(wire.id);
        // More deliveries than attempts allowed, with no answer for the last:
        // the task took its node down (or silenced it) each time. It is not
        // run again, or it would take every node down in turn.
        if (attempts > wire.maxRetries) return this.#store(poisoned(wire, attempts), flight);
        const task: NormalizedTask = {
          id: wire.id,
          payload: wire.payload,
          transfer: undefined,
          handler: wire.handler,
          priority: wire.priority,
          delay: undefined,
          runAt: undefined,
          maxRetries: wire.maxRetries,
          timeout: wire.timeout,
          callback: undefined,
          signal: undefined,
        };
        const trace = this.#tracing ? traceDelivery(task, msg.headers) : undefined;
        this.#handOver({ type: 'task.submit', task, attempts, submittedAt: wire.submittedAt, trace }, flight);
      }),
      () => this.returned(wire.id),
    );
  }

  /**
   * Gives a delivered task to the supervisor at the end of the turn, with the
   * others delivered in it. The messages of one fetch reach this node a
   * microtask apart, and the thread's batch leaves a microtask after its first
   * attempt: handed over one by one, each task went to its thread alone, and
   * came back alone, a socket write per result (10,800 writes for 10,000
   * tasks). Handed over together, they share the thread's message, and their
   * results and acks share writes.
   */
  #handOver(submit: TaskSubmit, flight: Flight): void {
    if (this.#handingOver.push({ submit, flight }) === 1) setImmediate(() => this.#handOverAll());
  }

  #handOverAll(): void {
    const ready = this.#handingOver;
    this.#handingOver = [];
    for (const { submit, flight } of ready) {
      const { id } = submit.task;
      if (this.#flights.get(id) !== flight) continue; // given back meanwhile
      if (!this.#pulling) {
        this.returned(id);
        continue;
      }
      this.#supervisor.send(submit);
      // Cancelled while it waited to be handed over: the cancel follows it.
      if (flight.cancelled !== undefined) this.#supervisor.send({ type: 'task.cancel', id, reason: flight.cancelled });
    }
  }

  // ── RemoteTaskHooks: called by the supervisor after the message that decided ──

  retry(id: string, delay: number): void {
    const flight = this.#flights.get(id);
    if (!flight) return;
    this.#flights.delete(id);
    answer(() => flight.msg.nak(delay));
    this.#roomMade();
  }

  returned(id: string): void {
    const flight = this.#flights.get(id);
    if (!flight) return;
    this.#flights.delete(id);
    answer(() => flight.msg.nak());
    this.#roomMade();
  }

  finished(result: TaskResult): void {
    const flight = this.#flights.get(result.id);
    if (!flight) return;
    this.#track(this.#store(result, flight), () => this.returned(result.id));
  }

  /**
   * Stores the one terminal result, then acks. `create` refuses a key that
   * exists: if an earlier delivery of this submission stored one, that one
   * stands; a result of an earlier submission of the id is replaced. The
   * task stays held (heartbeats go on) until the result is stored; if the
   * server is away, the write is tried again until it is back.
   */
  async #store(result: TaskResult, flight: Flight): Promise<void> {
    const data = encodeResult({ submission: flight.submission, result });
    await this.#sends.ready();
    for (;;) {
      if (this.#stage === 'abandoning') throw new BrokerError(`Could not store the result of task \`${result.id}\``);
      try {
        await storeOnce(this.#session, result.id, data, flight.submission);
        break;
      } catch {
        // The server is away: try again.
      }
      await pause();
    }
    this.#flights.delete(result.id);
    await this.#sends.ready();
    if (result.status === 'done') answer(() => flight.msg.ack());
    else answer(() => flight.msg.term());
    this.#roomMade();
  }

  #track(work: Promise<void>, onError: () => void): void {
    const tracked = work.catch(onError).finally(() => this.#writes.delete(tracked));
    this.#writes.add(tracked);
  }

  #roomMade(): void {
    const room = this.#room;
    this.#room = undefined;
    room?.();
  }

  #relay(event: ProcessorEvent): void {
    if (!event.type.startsWith('task.')) return;
    if (this.#outbox.length === 0) void this.#sends.ready().then(() => this.#flushEvents());
    this.#outbox.push(event);
  }

  #flushEvents(): void {
    const events = this.#outbox;
    this.#outbox = [];
    if (events.length === 0 || this.#session.nc.isClosed()) return;
    try {
      this.#session.nc.publish(this.#session.eventsSubject(this.#session.node), encodeEvents(this.#session.node, events));
    } catch {
      // Events are best effort (core NATS); results never depend on them.
    }
  }

  #publishBeat(): void {
    const { scheduled, queued, processing, retrying, done, failed, cancelled } = this.#supervisor.tasks.counts();
    const beat: NodeBeat = {
      node: this.#session.node,
      host: hostname(),
      pid: process.pid,
      workers: this.#workers,
      held: this.#flights.size,
      queued: scheduled + queued + retrying,
      processing,
      done,
      failed,
      cancelled,
      at: Date.now(),
    };
    this.#session.nodes.put(keyOf(this.#session.node), serialize(beat)).catch(() => {});
  }

  /** Takes deliveries: it has not stopped pulling. */
  get #pulling(): boolean {
    return this.#stage === 'pulling';
  }

  /**
   * Stops pulling (tasks delivered from now on go straight back), then, once
   * the supervisor has drained, waits for the results and acks on their way.
   */
  stopPulling(): void {
    if (this.#stage === 'pulling') this.#stage = 'draining';
    // The pulls run out by themselves (within a second): stopping them would
    // drop messages already on their way, which only ackWait would bring back.
    // Each one that arrives now is given straight back.
    this.#roomMade();
  }

  async close(): Promise<void> {
    this.stopPulling();
    await this.#loop;
    const deadline = setTimeout(() => (this.#stage = 'abandoning'), CLOSE_GRACE);
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes]);
    clearTimeout(deadline);
    // Anything still held (its result could not be stored) goes back now, not after ack_wait.
    for (const id of [...this.#flights.keys()]) this.returned(id);
    this.#flushEvents();
    clearInterval(this.#heartbeat);
    clearInterval(this.#beat);
    this.#cancels?.unsubscribe();
    this.#events?.unsubscribe();
    await this.#session.nodes.delete(keyOf(this.#session.node)).catch(() => {});
  }
}

function poisoned(wire: WireTask, attempts: number): FailedResult {
  const cause = new Error(`Delivered ${attempts} times, and each time its node died or went silent before answering`);
  return failedResult(wire, new PoisonTaskError(wire.id, attempts, { cause }), wire.payload, {
    attempts,
    submittedAt: wire.submittedAt,
    startedAt: undefined,
  });
}

function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE));
}

/**
 * Acks, naks, terms and heartbeats are fire-and-forget: one that cannot be
 * sent (the connection closed under it) is one the server never heard, and
 * it redelivers the task after `ackWait`, which is the answer it needs.
 */
function answer(send: () => void): void {
  try {
    send();
  } catch {
    // See above.
  }
}
