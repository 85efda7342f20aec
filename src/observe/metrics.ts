import { Counter, Gauge, Registry } from 'prom-client';

import type { FinalTaskState } from '../task/types.js';
import { CountedHistogram } from './counted-histogram.js';
import { LogHistogram, type Percentiles } from './log-histogram.js';

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
  workers(): readonly WorkerMetrics[];
  /** With a store: its file and size (read at scrape time: a `stat`). */
  readonly store?: { readonly path: string; size(): number } | undefined;
}

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * A processor's measurements, owned by its supervisor and updated as tasks
 * move: each step is O(1) and allocates nothing (a counter, a bucket of a
 * log-histogram and of a Prometheus histogram), so memory stays flat however
 * many tasks pass. Exposed as a plain object (`metrics()`) and as a
 * prom-client `Registry` in Prometheus' naming scheme (`troupe_*`, seconds,
 * `_total` counters; see docs/metrics.md), whose counters of tasks read
 * these counts when it is scraped.
 */
export class Metrics {
  readonly registry = new Registry();
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

  // Per task, Prometheus sees only these two histograms' counts, which allocate nothing; its counters of tasks are read
  // from the counts above when it scrapes.
  readonly #promWait: CountedHistogram;
  readonly #promRun: CountedHistogram;
  readonly #promCrashes: Counter<'slot'>;
  readonly #promRestarts: Counter<'slot'>;
  readonly #promResized: Counter<'change'>;
  readonly #commitTimes = new LogHistogram();
  #commits = 0;
  readonly #promCommit: CountedHistogram | undefined;

  constructor(source: MetricsSource) {
    this.#source = source;
    const registers = [this.registry];
    const counts = { submitted: () => this.#submitted, retries: () => this.#retries, finished: this.#finished };
    new Counter({
      name: 'troupe_tasks_submitted_total',
      help: 'Tasks accepted by submit.',
      registers,
      collect() {
        this.reset();
        this.inc(counts.submitted());
      },
    });
    new Counter({
      name: 'troupe_tasks_finished_total',
      help: 'Tasks that reached a final state, by status.',
      labelNames: ['status'],
      registers,
      collect() {
        this.reset();
        // A status shows once a task has ended with it, as it would counted one by one.
        for (const [status, count] of Object.entries(counts.finished)) if (count > 0) this.inc({ status }, count);
      },
    });
    new Counter({
      name: 'troupe_task_retries_total',
      help: 'Failed attempts that were retried.',
      registers,
      collect() {
        this.reset();
        this.inc(counts.retries());
      },
    });
    this.#promWait = new CountedHistogram({
      name: 'troupe_task_queue_wait_seconds',
      help: 'Time from entering the queue to starting in a thread.',
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#promRun = new CountedHistogram({
      name: 'troupe_task_run_seconds',
      help: 'Time from starting in a thread to the outcome, per attempt.',
      buckets: SECONDS_BUCKETS,
      registers,
    });
    // Labelled by slot, not worker id: every replacement thread is a new
    // worker, so ids would grow the label's values without bound.
    this.#promCrashes = new Counter({
      name: 'troupe_worker_crashes_total',
      help: 'Worker threads that exited unexpectedly, by slot.',
      labelNames: ['slot'],
      registers,
    });
    this.#promRestarts = new Counter({
      name: 'troupe_worker_restarts_total',
      help: 'Worker threads started to replace crashed ones, by slot.',
      labelNames: ['slot'],
      registers,
    });
    new Gauge({
      name: 'troupe_tasks',
      help: 'Unfinished tasks, by state.',
      labelNames: ['state'],
      registers,
      collect() {
        for (const [state, count] of Object.entries(source.tasks())) this.set({ state }, count);
      },
    });
    const store = source.store;
    if (store) {
      this.#promCommit = new CountedHistogram({
        name: 'troupe_store_commit_seconds',
        help: "Time a transaction of the task store's thread takes (each holds one turn's commit, or several that queued up)",
        buckets: SECONDS_BUCKETS,
        registers,
      });
      new Gauge({
        name: 'troupe_store_size_bytes',
        help: "The task store's file on disk, database and write-ahead log.",
        registers,
        collect() {
          this.set(store.size());
        },
      });
    }
    this.#promResized = new Counter({
      name: 'troupe_pool_resized_total',
      help: 'Task threads the pool grew by (change="added") or retired (change="retired"): scale, or an elastic pool.',
      labelNames: ['change'],
      registers,
    });
    new Gauge({
      name: 'troupe_workers',
      help: 'Worker threads ready to take tasks.',
      registers,
      collect() {
        this.set(source.workers().filter((worker) => worker.state === 'ready').length);
      },
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
    this.#promCrashes.inc({ slot: String(slot) });
  }

  restarted(slot: number): void {
    this.#restarts++;
    this.#slot(slot).restarts++;
    this.#promRestarts.inc({ slot: String(slot) });
  }

  /** The pool of task threads grew (`delta` > 0) or shrank. */
  resized(delta: number): void {
    const change = delta > 0 ? 'added' : 'retired';
    this.#resized[change] += Math.abs(delta);
    this.#promResized.inc({ change }, Math.abs(delta));
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
      workers: this.#source.workers(),
      crashes: this.#crashes,
      restarts: this.#restarts,
      resized: { ...this.#resized },
      ...(this.#source.store ? { store: this.#storeMetrics(this.#source.store) } : {}),
    };
  }

  #storeMetrics(store: { readonly path: string; size(): number }): StoreMetrics {
    return { path: store.path, bytes: store.size(), commits: this.#commits, commitMs: this.#commitTimes.percentiles() };
  }
}
