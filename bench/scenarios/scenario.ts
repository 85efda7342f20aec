/** What a scenario declares: how the orchestrator runs it, and how the report shows it. */
import type { Sizes } from '../config.js';

export interface Metric {
  readonly key: string;
  /** Column header, with its unit. */
  readonly label: string;
  readonly better: 'higher' | 'lower';
  readonly digits: number;
  /**
   * How subjects (Troupe's variants) are compared to each row: `ratio` is
   * subject ÷ row (as the targets are stated), `delta` is subject − row.
   * Omitted: no comparison column.
   */
  readonly compare?: 'ratio' | 'delta';
}

/** What a child process measures in one fresh process. */
export type Metrics = Record<string, number>;

export interface RunContext {
  readonly sizes: Sizes;
  /** Loop iterations of one ≈1 ms `cpu` task, calibrated once by the orchestrator. */
  readonly cpuIterations: number;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** The sentence under the table: what was run, and how to read it. */
  caption(sizes: Sizes): string;
  /** Run in this order in every round, so contenders alternate A/B/C/A/B/C. */
  readonly contenders: readonly string[];
  /** The contenders whose ratios to every row are reported (Troupe's variants). */
  readonly subjects: readonly string[];
  readonly metrics: readonly Metric[];
  /** Fresh processes per contender; most scenarios take the run's default. */
  rounds(defaultRounds: number): number;
  /** A child that takes longer is killed and its sample reported failed. */
  readonly timeoutMs: number;
  /** Extra node flags for the child, such as `--expose-gc`. */
  readonly nodeFlags?: readonly string[];
  /** Measures one contender in the current (fresh) process. */
  run(contender: string, context: RunContext): Promise<Metrics>;
  /** Adds metrics computed across contenders (the CPU speedup), once all samples are in. */
  derive?(samples: ReadonlyMap<string, Metrics[]>): void;
}
