/** The shape of bench/results/latest.json: every raw sample, and the summaries the tables show. */
import type { DistributedSizes, Sizes } from './config.js';
import type { Machine, Versions } from './machine.js';
import type { Metric, Metrics } from './scenarios/scenario.js';
import type { Summary } from './stats.js';

export interface Sample {
  readonly round: number;
  /** Absent when the child failed; see `error`. */
  readonly metrics?: Metrics;
  readonly error?: string;
  readonly closeError?: string;
  /** Whole child process, spawn to exit. */
  readonly wallMs: number;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly rounds: number;
  readonly contenders: readonly string[];
  readonly subjects: readonly string[];
  readonly metrics: readonly Metric[];
  readonly samples: Record<string, Sample[]>;
  /** Per contender, per metric key, over its successful samples. */
  readonly summary: Record<string, Record<string, Summary>>;
  readonly wallMs: number;
}

export interface RunResult {
  readonly date: string;
  readonly quick: boolean;
  readonly rounds: number;
  readonly sizes: Sizes;
  readonly cpu: { readonly iterations: number; readonly calibratedMs: number };
  readonly machine: Machine;
  /** Other work on the machine skews every number; see machine.ts. */
  readonly loadAverageAtStart: number;
  readonly versions: Versions;
  readonly wallMs: number;
  readonly scenarios: ScenarioResult[];
  /** Failures, timeouts and pools that would not close, each with a command that reruns it. */
  readonly problems: string[];
}

/** The shape of bench/results/distributed.json (`--distributed`): as `RunResult`, with the NATS side instead of the peers. */
export interface DistributedRunResult {
  readonly date: string;
  readonly quick: boolean;
  readonly rounds: number;
  readonly sizes: DistributedSizes;
  readonly machine: Machine;
  readonly loadAverageAtStart: number;
  readonly versions: Pick<Versions, 'troupe' | 'troupeRevision'> & { readonly natsServer: string; readonly natsJetstream: string };
  readonly natsUrl: string;
  readonly wallMs: number;
  readonly scenarios: ScenarioResult[];
  readonly problems: string[];
}

/** The median of one metric of one contender, if it has one. */
export function medianOf(run: RunResult, scenario: string, contender: string, key: string): number | undefined {
  const value = run.scenarios.find((s) => s.id === scenario)?.summary[contender]?.[key]?.median;
  return value === undefined || Number.isNaN(value) ? undefined : value;
}
