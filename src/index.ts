export { createProcessor, Processor } from './processor.js';
export { natsBroker } from './broker/options.js';
export type { NatsBroker, NatsBrokerOptions } from './broker/options.js';
export { processorLogic } from './integrations/xstate.js';
export type { ProcessorLogicEvent, ProcessorParentEvent, ProcessorSnapshot } from './integrations/xstate.js';
export type { ShutdownOptions, ShutdownOutcome } from './processor.js';
export type { ProcessorStatus, ClusterStatus, NodeBeat } from './observe/status.js';
export type { ProcessorOptions, BackoffOptions, RetentionOptions, RestartOptions } from './options/types.js';
export type { Clock } from './util/clock.js';
export type {
  TaskInput,
  TaskResult,
  DoneResult,
  FailedResult,
  CancelledResult,
  TaskInfo,
  TaskState,
  FinalTaskState,
  TaskError,
  TaskHandler,
  HandlerContext,
} from './task/types.js';
export type { ProcessorEvent, ProcessorEventType } from './observe/events.js';
export { ofType } from './observe/streams.js';
export type { Dashboard, DashboardOptions } from './dashboard/server.js';
export type { ProcessorMetrics, WorkerMetrics } from './observe/metrics.js';
export type { Percentiles } from './observe/log-histogram.js';
export type { EventOf } from './observe/streams.js';
export type { InspectionObserver } from './observe/inspection.js';
export {
  TroupeError,
  InvalidOptionError,
  InvalidTaskError,
  DuplicateTaskError,
  QueueFullError,
  UnknownTaskError,
  ProcessorShutdownError,
  WorkerStartError,
  WorkerCrashedError,
  TaskTimeoutError,
  TaskCancelledError,
  PoisonTaskError,
  RestartIntensityError,
  UnknownHandlerError,
  BrokerError,
} from './errors/errors.js';
export type { TroupeErrorCode } from './errors/errors.js';
export { taskMachine } from './machines/task.js';
export type { TaskMachine, TaskContext, TaskEvent, TaskEntered, TaskMachineInput } from './machines/task.js';
export { backoffDelay } from './machines/backoff.js';
export { serializeError, deserializeError } from './errors/serialize.js';
export type { SerializedError } from './errors/serialize.js';
