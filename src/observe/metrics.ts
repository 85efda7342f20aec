import type { Registry } from 'prom-client';

import type { FinalTaskState } from '../task/types.js';
import { BucketCounts } from './bucket-counts.js';
import { LogHistogram, type Percentiles } from './log-histogram.js';
import { prometheusRegistry, SECONDS_BUCKETS } from './prometheus.js';

/** One worker actor as `metrics()` reports it. */
export interface WorkerMetrics {
  readonly id: number;
  /** Its place in the pool, from 1: a replacement thread takes the slot of the one it replaces, and an added thread the lowest free one. */
  readonly slot: number;
  /** `actors` for a thread kept for actors (`actorThreads`); `tasks` for the others, which run actors too when none is kept. */
  readonly role: 'tasks' | 'actors';
  readonly threadId: number;
  /** `starting`, `ready`, `retiring` (leaving the pool: finishing what runs), `failed` or `exited`. */
  readonly state: string;
  /** Attempts in its thread now, running or waiting in its window. */
  readonly held: number;
  /** The ids of the first few of them (up to 5). */
  readonly tasks: readonly string[];
  /** Threads in this slot that crashed, and that were started to replace them, since start. */
  readonly crashes: number;
  readonly restarts: number;
}

/** What `processor.metrics()` returns. Times are in ms. */
/** Virtual actors (`actorOf`): keys by phase now, and what happened to them since start. */
export interface VirtualActorMetrics {
  /** Keys on a thread now (activating, active or passivating). */
  readonly active: number;
  /** Keys passivated: their snapshot kept, no actor running. */
  readonly passive: number;
  readonly activations: number;
  readonly passivations: number;
  /** Passivated keys activated because a delayed event of theirs fell due. */
  readonly timersFired: number;
}

export interface ProcessorMetrics {
  /** Unfinished tasks by state, now. */
  readonly tasks: { readonly scheduled: number; readonly queued: number; readonly processing: number; readonly retrying: number };
  /** Tasks finished since start, by final state. */
  readonly finished: { readonly done: number; readonly failed: number; readonly cancelled: number };
  readonly submitted: number;
  readonly retries: number;
  /** Tasks finished in the last 60 s, and that per second. */
  readonly throughput: { readonly lastMinute: number; readonly perSecond: number };
  /** From entering the queue (at submit, when due, after a backoff) to starting in a thread. */
  readonly queueWait: Percentiles;
  /** From starting in a thread to the attempt's outcome, per attempt. */
  readonly runTime: Percentiles;
  /** The worker actors now: a crashed one is replaced by a new one with a new id. */
  readonly workers: readonly WorkerMetrics[];
  /** Threads that exited unexpectedly, since start. */
  readonly crashes: number;
  /** Threads started to replace crashed ones, since start. */
  readonly restarts: number;
  /** Task threads the pool grew by (`scale`, an elastic pool's growth) and shrank by (retired), since start. */
  readonly resized: { readonly added: number; readonly retired: number };
  /** Virtual actors (`actorOf`). */
  readonly virtualActors: VirtualActorMetrics;
  /** With a `store`: its file, its size and how long its commits take. */
  readonly store?: StoreMetrics;
}

/** A task store as `metrics()` reports it. */
export interface StoreMetrics {
  readonly path: string;
  /** The file's size on disk, database and write-ahead log, in bytes. */
  readonly bytes: number;
  /** Group commits since start. */
  readonly commits: number;
  /** How long a commit takes, in ms. */
  readonly commitMs: Percentiles;
}

/** Live counts read at scrape time, so a gauge costs nothing per task. */
export interface MetricsSource {
  tasks(): ProcessorMetrics['tasks'];
  /** Each thread, with the crashes and restarts of its slot as `metrics` counts them. */
  workers(metrics: Metrics): readonly WorkerMetrics[];
  /** Virtual actors' counts (O(keys): read at scrape time only). */
  virtualActors(): VirtualActorMetrics;
  /** With a store: its file and size (read at scrape time: a `stat`). */
  readonly store?: { readonly path: string; size(): number } | undefined;
}

/**
 * A processor's measurements, owned by its supervisor and updated as tasks
 * move: each step is O(1) and allocates nothing (a counter, a bucket of a
 * log-histogram and of a Prometheus histogram's counts), so memory stays
 * flat however many tasks pass. Exposed as a plain object (`metrics()`) and
 * as a prom-client `Registry` (`registry`, built on first use: see
 * `prometheus.ts`) whose metrics read these counts when it is scraped.
 */
export class Metrics {
  readonly #source: MetricsSource;
  readonly #queueWait = new LogHistogram();
  readonly #runTime = new LogHistogram();
  readonly #finished = { done: 0, failed: 0, cancelled: 0 };
  #submitted = 0;
  #retries = 0;
  #restarts = 0;
  #crashes = 0;
  readonly #resized = { added: 0, retired: 0 };
  readonly #slots = new Map<number, { crashes: number; restarts: number }>();
  /** Tasks finished per second, for the last 60 s: a ring indexed by the second. */
  readonly #perSecond = new Float64Array(60);
  readonly #secondOf = new Float64Array(60).fill(-1);

  // Per task, Prometheus sees only these two histograms' counts; everything else it reads from the counts above.
  readonly #promWait = new BucketCounts(SECONDS_BUCKETS);
  readonly #promRun = new BucketCounts(SECONDS_BUCKETS);
  readonly #commitTimes = new LogHistogram();
  readonly #promCommit: BucketCounts | undefined;
  #commits = 0;
  #registry: Registry | undefined;

  constructor(source: MetricsSource) {
    this.#source = source;
    if (source.store) this.#promCommit = new BucketCounts(SECONDS_BUCKETS);
  }

  /** The measurements as a prom-client `Registry`, in Prometheus' naming scheme (see docs/metrics.md). */
  get registry(): Registry {
    return (this.#registry ??= this.#buildRegistry());
  }

  #buildRegistry(): Registry {
    const source = this.#source;
    const store = source.store;
    const commits = this.#promCommit;
    return prometheusRegistry({
      submitted: () => this.#submitted,
      retries: () => this.#retries,
      finished: () => this.#finished,
      queueWait: this.#promWait,
      runTime: this.#promRun,
      slots: () => this.#slots,
      resized: () => this.#resized,
      tasks: () => source.tasks(),
      readyWorkers: () => source.workers(this).filter((worker) => worker.state === 'ready').length,
      virtualActors: () => source.virtualActors(),
      store: store && commits ? { commits, size: () => store.size() } : undefined,
    });
  }

  submitted(): void {
    this.#submitted++;
  }

  /** A task left the queue for a thread after `ms`. */
  started(ms: number): void {
    this.#queueWait.record(ms);
    this.#promWait.record(ms / 1_000);
  }

  /** An attempt ran for `ms`. */
  ran(ms: number): void {
    this.#runTime.record(ms);
    this.#promRun.record(ms / 1_000);
  }

  /** A group commit of the task store took `ms`. */
  committed(ms: number): void {
    this.#commits++;
    this.#commitTimes.record(ms);
    this.#promCommit?.record(ms / 1_000);
  }

  retried(): void {
    this.#retries++;
  }

  finished(status: FinalTaskState, now: number): void {
    this.#finished[status]++;
    const second = Math.floor(now / 1_000);
    const slot = second % 60;
    if (this.#secondOf[slot] !== second) {
      this.#secondOf[slot] = second;
      this.#perSecond[slot] = 0;
    }
    this.#perSecond[slot]!++;
  }

  crashed(slot: number): void {
    this.#crashes++;
    this.#slot(slot).crashes++;
  }

  restarted(slot: number): void {
    this.#restarts++;
    this.#slot(slot).restarts++;
  }

  /** The pool of task threads grew (`delta` > 0) or shrank. */
  resized(delta: number): void {
    const change = delta > 0 ? 'added' : 'retired';
    this.#resized[change] += Math.abs(delta);
  }

  /** Crashes and restarts of a slot, since start. */
  ofSlot(slot: number): { readonly crashes: number; readonly restarts: number } {
    return { ...this.#slot(slot) };
  }

  #slot(slot: number): { crashes: number; restarts: number } {
    let counts = this.#slots.get(slot);
    if (!counts) this.#slots.set(slot, (counts = { crashes: 0, restarts: 0 }));
    return counts;
  }

  snapshot(now: number): ProcessorMetrics {
    const second = Math.floor(now / 1_000);
    let lastMinute = 0;
    for (let slot = 0; slot < 60; slot++) {
      // The current second and the 59 before it.
      if (second - (this.#secondOf[slot] as number) < 60) lastMinute += this.#perSecond[slot] as number;
    }
    return {
      tasks: this.#source.tasks(),
      finished: { ...this.#finished },
      submitted: this.#submitted,
      retries: this.#retries,
      throughput: { lastMinute, perSecond: lastMinute / 60 },
      queueWait: this.#queueWait.percentiles(),
      runTime: this.#runTime.percentiles(),
      workers: this.#source.workers(this),
      crashes: this.#crashes,
      restarts: this.#restarts,
      resized: { ...this.#resized },
      virtualActors: this.#source.virtualActors(),
      ...(this.#source.store ? { store: this.#storeMetrics(this.#source.store) } : {}),
    };
  }

  #storeMetrics(store: { readonly path: string; size(): number }): StoreMetrics {
    return { path: store.path, bytes: store.size(), commits: this.#commits, commitMs: this.#commitTimes.percentiles() };
  }
}
