export { createProcessor, Processor } from './processor.js';
export { natsBroker } from './broker/nats-broker.js';
export type { NatsBroker, NatsBrokerOptions } from './broker/nats-broker.js';
export type { ClusterStatus } from './actors/broker-client.js';
export type { NodeBeat } from './actors/broker-node.js';
export { processorLogic } from './processor-logic.js';
export type { ProcessorLogicEvent, ProcessorParentEvent, ProcessorSnapshot } from './processor-logic.js';
export type { ProcessorStatus, ShutdownOptions, ShutdownOutcome } from './processor.js';
export type { ProcessorOptions, BackoffOptions, RetentionOptions, RestartOptions } from './options.js';
export type { Clock } from './clock.js';
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
} from './task.js';
export type { ProcessorEvent, ProcessorEventType } from './events.js';
export { ofType } from './streams.js';
export type { Dashboard, DashboardOptions } from './dashboard/server.js';
export type { ProcessorMetrics, WorkerMetrics } from './metrics.js';
export type { Percentiles } from './log-histogram.js';
export type { EventOf } from './streams.js';
export type { InspectionObserver } from './actors/inspection.js';
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
} from './errors.js';
export type { TroupeErrorCode } from './errors.js';
export { taskMachine } from './machines/task.js';
export type { TaskMachine, TaskContext, TaskEvent, TaskEntered, TaskMachineInput } from './machines/task.js';
export { backoffDelay } from './machines/backoff.js';
export { serializeError, deserializeError } from './serialize-error.js';
export type { SerializedError } from './serialize-error.js';
