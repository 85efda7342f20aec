import type * as PromClient from 'prom-client';
import type { Histogram, Registry } from 'prom-client';

import type { FinalTaskState } from '../task/types.js';
import { loadOnUse } from '../util/load-on-use.js';
import type { BucketCounts } from './bucket-counts.js';

const promClient = loadOnUse<typeof PromClient>('prom-client');

/** What prom-client's registry reads of a histogram when it is scraped. */
type Scraped = Awaited<ReturnType<Histogram['get']>>;
type ScrapedValue = Scraped['values'][number];

/** A processor's counts as the registry reads them, at scrape time. */
export interface PrometheusCounts {
  submitted(): number;
  retries(): number;
  finished(): Readonly<Record<FinalTaskState, number>>;
  readonly queueWait: BucketCounts;
  readonly runTime: BucketCounts;
  /** Crashes and restarts by slot, since start. */
  slots(): ReadonlyMap<number, { readonly crashes: number; readonly restarts: number }>;
  resized(): { readonly added: number; readonly retired: number };
  /** Unfinished tasks by state, now. */
  tasks(): Readonly<Record<string, number>>;
  /** Threads ready to take tasks, now. */
  readyWorkers(): number;
  /** Virtual actors: keys by phase now, activations, passivations and timers fired since start. */
  virtualActors(): { active: number; passive: number; activations: number; passivations: number; timersFired: number };
  /** With a task store: its commit times, and its file's size now. */
  readonly store: { readonly commits: BucketCounts; size(): number } | undefined;
}

/** The upper bounds of every Troupe histogram, in seconds. */
export const SECONDS_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

/**
 * A processor's measurements as a prom-client `Registry`, in Prometheus'
 * naming scheme (`troupe_*`, seconds, `_total` counters; see
 * docs/metrics.md). Built, and prom-client loaded, the first time someone
 * asks for it; until then a task's only Prometheus cost is its two
 * histograms' counts. Every metric reads `counts` when it is scraped, so
 * the registry holds nothing per task and misses nothing that happened
 * before it was built.
 */
export function prometheusRegistry(counts: PrometheusCounts): Registry {
  const { Counter, Gauge, Registry } = promClient();
  const registry = new Registry();
  const registers = [registry];
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
      for (const [status, count] of Object.entries(counts.finished())) if (count > 0) this.inc({ status }, count);
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
  histogram('troupe_task_queue_wait_seconds', 'Time from entering the queue to starting in a thread.', counts.queueWait, registers);
  histogram('troupe_task_run_seconds', 'Time from starting in a thread to the outcome, per attempt.', counts.runTime, registers);
  // Labelled by slot, not worker id: every replacement thread is a new
  // worker, so ids would grow the label's values without bound.
  new Counter({
    name: 'troupe_worker_crashes_total',
    help: 'Worker threads that exited unexpectedly, by slot.',
    labelNames: ['slot'],
    registers,
    collect() {
      this.reset();
      for (const [slot, { crashes }] of counts.slots()) if (crashes > 0) this.inc({ slot: String(slot) }, crashes);
    },
  });
  new Counter({
    name: 'troupe_worker_restarts_total',
    help: 'Worker threads started to replace crashed ones, by slot.',
    labelNames: ['slot'],
    registers,
    collect() {
      this.reset();
      for (const [slot, { restarts }] of counts.slots()) if (restarts > 0) this.inc({ slot: String(slot) }, restarts);
    },
  });
  new Gauge({
    name: 'troupe_tasks',
    help: 'Unfinished tasks, by state.',
    labelNames: ['state'],
    registers,
    collect() {
      for (const [state, count] of Object.entries(counts.tasks())) this.set({ state }, count);
    },
  });
  const store = counts.store;
  if (store) {
    histogram(
      'troupe_store_commit_seconds',
      "Time a transaction of the task store's thread takes (each holds one turn's commit, or several that queued up)",
      store.commits,
      registers,
    );
    new Gauge({
      name: 'troupe_store_size_bytes',
      help: "The task store's file on disk, database and write-ahead log.",
      registers,
      collect() {
        this.set(store.size());
      },
    });
  }
  new Counter({
    name: 'troupe_pool_resized_total',
    help: 'Task threads the pool grew by (change="added") or retired (change="retired"): scale, or an elastic pool.',
    labelNames: ['change'],
    registers,
    collect() {
      this.reset();
      for (const [change, count] of Object.entries(counts.resized())) if (count > 0) this.inc({ change }, count);
    },
  });
  new Gauge({
    name: 'troupe_virtual_actors',
    help: 'Virtual actors (actorOf) by phase: on a thread (phase="active") or passivated (phase="passive").',
    labelNames: ['phase'],
    registers,
    collect() {
      const { active, passive } = counts.virtualActors();
      this.set({ phase: 'active' }, active);
      this.set({ phase: 'passive' }, passive);
    },
  });
  new Counter({
    name: 'troupe_virtual_actor_changes_total',
    help: 'Virtual actors activated, passivated, and activated because a delayed event fell due (change="timer").',
    labelNames: ['change'],
    registers,
    collect() {
      this.reset();
      const { activations, passivations, timersFired } = counts.virtualActors();
      for (const [change, count] of [
        ['activated', activations],
        ['passivated', passivations],
        ['timer', timersFired],
      ] as const) {
        if (count > 0) this.inc({ change }, count);
      }
    },
  });
  new Gauge({
    name: 'troupe_workers',
    help: 'Worker threads ready to take tasks.',
    registers,
    collect() {
      this.set(counts.readyWorkers());
    },
  });
  return registry;
}

/**
 * Registers a histogram without labels that prom-client reads from
 * `counts` when it is scraped, in the shape its own histograms give: a
 * cumulative `_bucket` per bound, `+Inf`, `_sum`, `_count`. (The registry
 * asks a metric for `getForPromString()` when it has one, else `get()`:
 * both are answered.)
 */
function histogram(name: string, help: string, counts: BucketCounts, registers: Registry[]): void {
  new (countedHistogram())({ name, help, buckets: [...counts.bounds], registers }, counts);
}

type CountedHistogram = new (config: PromClient.HistogramConfiguration<string>, counts: BucketCounts) => Histogram;
let counted: CountedHistogram | undefined;

/** The class, made once prom-client is loaded: it extends prom-client's `Histogram`. */
function countedHistogram(): CountedHistogram {
  return (counted ??= class extends promClient().Histogram {
    readonly #name: string;
    readonly #help: string;
    readonly #counts: BucketCounts;

    constructor(config: PromClient.HistogramConfiguration<string>, counts: BucketCounts) {
      super(config);
      this.#name = config.name;
      this.#help = config.help;
      this.#counts = counts;
    }

    override observe(): void {
      throw new Error(`${this.#name} is read from its counts, not observed`);
    }

    override async get(): Promise<Scraped> {
      return this.getForPromString();
    }

    async getForPromString(): Promise<Scraped> {
      const name = this.#name;
      const { bounds, counts, sum, count } = this.#counts;
      const bucket = `${name}_bucket`;
      const values: ScrapedValue[] = [];
      let cumulative = 0;
      bounds.forEach((bound, i) => {
        cumulative += counts[i] as number;
        values.push({ metricName: bucket, labels: { le: bound }, value: cumulative });
      });
      values.push(
        { metricName: bucket, labels: { le: '+Inf' }, value: count },
        { metricName: `${name}_sum`, labels: {}, value: sum },
        { metricName: `${name}_count`, labels: {}, value: count },
      );
      // As prom-client's own histograms answer at run time: its typings say `type` is an enum and list a `collect`, neither of which it gives.
      return { name, help: this.#help, type: 'histogram', values, aggregator: 'sum' } as unknown as Scraped;
    }
  });
}
