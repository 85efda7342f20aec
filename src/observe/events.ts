/**
 * observe/: what users watch: the events (this file), rxjs streams
 * (streams.ts, rx.ts), the status shapes (status.ts), metrics and their
 * histograms (metrics.ts, log-histogram.ts, bucket-counts.ts) and their
 * Prometheus registry (prometheus.ts), XState inspection (inspection.ts),
 * and OpenTelemetry spans (tracing.ts, otel-api.ts).
 */
import type { CancelledResult, DoneResult, FailedResult, TaskError, TaskState } from '../task/types.js';

/**
 * Everything a processor reports on `processor.events`, a union keyed on
 * dot-separated `type`s so that prefixes (`task.`, `worker.`) group them.
 */
export type ProcessorEvent = Relayable<Event>;

/**
 * With a broker, `events` also carries the task events of the other nodes
 * (relayed in batches, best effort); those name the node that sent them.
 */
type Relayable<E> = E extends { readonly type: `task.${string}` }
  ? E & {
      /** The node this event comes from, when another node relayed it (broker mode); absent on this process's own events. */
      readonly node?: string;
    }
  : E;

type Event =
  /** A delayed task was accepted; it is queued at `runAt` (epoch ms on the processor's clock). */
  | { readonly type: 'task.scheduled'; readonly id: string; readonly runAt: number }
  | { readonly type: 'task.queued'; readonly id: string; readonly attempts: number }
  | { readonly type: 'task.started'; readonly id: string; readonly attempt: number; readonly workerId: number }
  | {
      readonly type: 'task.retrying';
      readonly id: string;
      readonly attempt: number;
      /** Backoff before the next attempt, ms. */
      readonly delay: number;
      readonly error: TaskError;
    }
  | { readonly type: 'task.done'; readonly id: string; readonly result: DoneResult }
  | { readonly type: 'task.failed'; readonly id: string; readonly result: FailedResult }
  | { readonly type: 'task.cancelled'; readonly id: string; readonly result: CancelledResult }
  | {
      readonly type: 'worker.started';
      readonly workerId: number;
      /** The `worker_threads` thread id (`threadId` inside the thread). */
      readonly threadId: number;
      readonly handlers: readonly string[];
    }
  | {
      readonly type: 'worker.exited';
      readonly workerId: number;
      readonly threadId: number;
      readonly exitCode: number | null;
      readonly error: Error | undefined;
      /** True when the processor stopped the thread (shutdown, or it retired); false for a crash. */
      readonly expected: boolean;
    }
  /**
   * The thread leaves the pool (a scale down, or an elastic pool's idle
   * thread): it takes nothing new, gives back what waits in its window,
   * and exits (`worker.exited`, expected) once its running attempts end.
   */
  | {
      readonly type: 'worker.retiring';
      readonly workerId: number;
      readonly threadId: number;
      readonly reason: 'scale' | 'grow' | 'shrink';
    }
  /**
   * The pool of task threads changed size: `scale(n)` (`reason: 'scale'`),
   * or an elastic pool grew for waiting tasks (`'grow'`) or shrank after an
   * idle thread (`'shrink'`). Threads join as `worker.started`.
   */
  | { readonly type: 'pool.resized'; readonly workers: number; readonly previous: number; readonly reason: 'scale' | 'grow' | 'shrink' }
  | { readonly type: 'callback.error'; readonly id: string; readonly error: unknown }
  | { readonly type: 'processor.ready' }
  | { readonly type: 'processor.error'; readonly error: Error }
  | { readonly type: 'processor.shutdown'; readonly unfinished: number };

export type ProcessorEventType = ProcessorEvent['type'];

/** The state each task event announces a task entered. */
export const TASK_EVENT_STATE: Readonly<Partial<Record<ProcessorEventType, TaskState>>> = {
  'task.scheduled': 'scheduled',
  'task.queued': 'queued',
  'task.started': 'processing',
  'task.retrying': 'retrying',
  'task.done': 'done',
  'task.failed': 'failed',
  'task.cancelled': 'cancelled',
};
