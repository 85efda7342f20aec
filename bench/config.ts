/**
 * Run sizes, read from the environment so the orchestrator and every child
 * process it spawns (which inherit its environment) agree on them.
 *
 * - `BENCH_QUICK=1`: a smoke run with tiny counts, one round; it writes
 *   bench/results/quick.* and leaves latest.* and docs/performance.md alone.
 * - `BENCH_ROUNDS=n`: fresh processes per contender and scenario (default 3).
 * - `BENCH_ONLY=throughput,latency`: run only these scenarios (for working on one).
 *
 * `npm run bench -- --distributed` runs the NATS scenarios instead, with
 * `DISTRIBUTED_SIZES`; the same three variables apply (its smoke run writes
 * bench/results/distributed-quick.*), and two more:
 * - `NATS_URL`: the server (default `nats://127.0.0.1:4222`), JetStream enabled.
 * - `BENCH_NODE_CONCURRENCY=n`: a scale-out node's `concurrency` (default 5).
 */

export interface Sizes {
  /** Scenario 1: no-op tasks timed, and the in-flight window every throughput driver keeps. */
  readonly throughputTasks: number;
  readonly inFlight: number;
  /** Untimed tasks run first in every throughput-style measurement (JIT, thread start). */
  readonly warmupTasks: number;
  /** Scenario 2: ≈1 ms CPU-bound tasks. */
  readonly cpuTasks: number;
  /** Scenario 3: sequential round trips timed, after `latencyWarmup` untimed ones. */
  readonly latencyTasks: number;
  readonly latencyWarmup: number;
  /** Scenario 4: tasks of which 30% fail their first attempt. */
  readonly retryTasks: number;
  /** Scenario 5: no-op tasks run before the heap is measured. */
  readonly memoryTasks: number;
  /** Scenarios 7 and 11: no-op tasks timed with and without an inspector, a tracer provider. */
  readonly inspectTasks: number;
  /**
   * Time cap of one timed window in the throughput-style scenarios (1, 4, 7):
   * a contender still short of the task count stops there, and the caption
   * says so. Keeps the whole run under 10 minutes whatever Troupe's speed.
   */
  readonly capMs: number;
  /** The same for scenario 5's long run. */
  readonly memoryCapMs: number;
}

const FULL: Sizes = {
  throughputTasks: 200_000,
  inFlight: 1_024,
  warmupTasks: 3_000,
  cpuTasks: 2_000,
  latencyTasks: 2_000,
  latencyWarmup: 200,
  retryTasks: 20_000,
  memoryTasks: 1_000_000,
  inspectTasks: 200_000,
  capMs: 5_000,
  memoryCapMs: 20_000,
};

const SMOKE: Sizes = {
  throughputTasks: 5_000,
  inFlight: 1_024,
  warmupTasks: 500,
  cpuTasks: 100,
  latencyTasks: 200,
  latencyWarmup: 20,
  retryTasks: 2_000,
  memoryTasks: 5_000,
  inspectTasks: 5_000,
  capMs: 3_000,
  memoryCapMs: 3_000,
};

/** Sizes of the `--distributed` run (scenarios/scale-out.ts, scenarios/broker-overhead.ts). */
export interface DistributedSizes {
  /** Scale-out: 20 ms sleeps the cluster drains, after `scaleWarmup` untimed ones. */
  readonly scaleTasks: number;
  readonly scaleWarmup: number;
  /**
   * A scale-out node's async tasks at once on its one thread. It is what
   * bounds a node (concurrency ÷ 20 ms tasks/s); kept low enough by default
   * that three nodes stay within what 2 cores can carry of the broker's
   * per-task work, so that the table shows nodes adding up rather than the
   * machine's ceiling.
   */
  readonly nodeConcurrency: number;
  /** Broker overhead: no-op tasks timed per mode, after `brokerWarmup` untimed ones. */
  readonly brokerTasks: number;
  readonly brokerWarmup: number;
  /** Broker overhead: sequential round trips timed, after `brokerLatencyWarmup` untimed ones. */
  readonly brokerLatencyTasks: number;
  readonly brokerLatencyWarmup: number;
  /** Submit-all (Troupe on NATS against BullMQ on Redis): tasks submitted at once, after that many untimed. */
  readonly submitAllTasks: number;
  readonly submitAllWarmup: number;
}

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

export const QUICK = process.env.BENCH_QUICK === '1';
export const SIZES: Sizes = QUICK ? SMOKE : FULL;
export const ROUNDS = positiveInteger('BENCH_ROUNDS', QUICK ? 1 : 3);
export const DISTRIBUTED_SIZES: DistributedSizes = {
  scaleTasks: QUICK ? 300 : 1_500,
  scaleWarmup: QUICK ? 50 : 150,
  nodeConcurrency: positiveInteger('BENCH_NODE_CONCURRENCY', 5),
  brokerTasks: QUICK ? 300 : 2_000,
  brokerWarmup: QUICK ? 100 : 500,
  brokerLatencyTasks: QUICK ? 50 : 200,
  brokerLatencyWarmup: QUICK ? 10 : 20,
  submitAllTasks: QUICK ? 1_000 : 10_000,
  submitAllWarmup: QUICK ? 200 : 1_000,
};
export const ONLY = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);

/** Set by the orchestrator after calibrating; see calibrate.ts. */
export const CPU_ITERATIONS_ENV = 'BENCH_CPU_ITERATIONS';

export function cpuIterations(): number {
  return positiveInteger(CPU_ITERATIONS_ENV, 100_000);
}
