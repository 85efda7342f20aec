/**
 * The shapes of what a processor reports about itself: its phase, its
 * counts, and with a broker the cluster's. Read by `getStatus()`,
 * `status$`, the dashboard and the broker's heartbeats alike.
 */

/**
 * Where the processor is, as `getStatus().state` tells it: `starting` until
 * every thread is up; `running`; `error` when the threads could not start
 * or crashed past the restart intensity, or the task store failed;
 * `draining` after `shutdown` (with a fault or without); `stopped` once it
 * resolved. The supervisor keeps a stage and a fault apart
 * (`supervisor/processor-lifecycle.ts`); this is what they read as.
 */
export type Phase = 'starting' | 'running' | 'error' | 'draining' | 'stopped';

/** Tasks by state: live counts, and totals of finished tasks since start. */
export interface StatusCounts {
  /** Delayed tasks not yet due. */
  readonly scheduled: number;
  readonly queued: number;
  readonly processing: number;
  readonly retrying: number;
  /** Tasks finished `done` since start (not reset by `clearResults`). */
  readonly done: number;
  readonly failed: number;
  readonly cancelled: number;
}

/** What `getStatus()` returns: live counts and totals since start. */
export interface ProcessorStatus extends StatusCounts {
  /** Worker threads the pool keeps. */
  readonly workers: number;
  /** True once `shutdown` was called. */
  readonly shutdown: boolean;
  /**
   * `starting` until every thread is up; `running`; `error` when the threads
   * could not start or crashed past the restart intensity, or the task store
   * could not be opened or written (new submits are refused); `draining`
   * after `shutdown`, even after such a fault; `stopped` once it resolved.
   */
  readonly state: Phase;
  /**
   * With a broker: the stream's backlog and every live node's counts (about a
   * second old). The counts above are then this process's own: the tasks
   * its threads hold.
   */
  readonly cluster?: ClusterStatus;
}

/** The cluster as the broker and the nodes' heartbeats show it; counts are a second old at most. */
export interface ClusterStatus {
  /** Tasks with a delayed start, not yet due. */
  readonly scheduled: number;
  /** In the stream, not yet delivered to any node. */
  readonly waiting: number;
  /** Delivered and not yet answered: running or held by a node, or waiting out a retry delay. */
  readonly delivered: number;
  /** Nodes heard from in the last 3 seconds. */
  readonly nodes: readonly NodeBeat[];
}

/** What a node publishes about itself on `<stream>-nodes`. */
export interface NodeBeat {
  readonly node: string;
  readonly host: string;
  readonly pid: number;
  readonly workers: number;
  /** Tasks delivered to it and not yet given back. */
  readonly held: number;
  readonly queued: number;
  readonly processing: number;
  readonly done: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly at: number;
}
