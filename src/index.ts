export type { ActorRef } from './actors/actor-ref.js';
export type { ActorEvent, ActorOfOptions, ActorSnapshot, AskOptions, SpawnOptions } from './actors/types.js';
export type { VirtualActorRef } from './actors/virtual-ref.js';
export type { NatsBroker, NatsBrokerOptions } from './broker/options.js';
export { natsBroker } from './broker/options.js';
export { createProcessor } from './create-processor.js';
export type { Dashboard, DashboardOptions } from './dashboard/server.js';
export type { TroupeErrorCode } from './errors/errors.js';
export {
  ActorFailedError,
  ActorStartError,
  ActorStoppedError,
  AskTimeoutError,
  BrokerError,
  DuplicateActorError,
  DuplicateTaskError,
  InvalidActorError,
  InvalidEventError,
  InvalidOptionError,
  InvalidTaskError,
  PoisonTaskError,
  ProcessorShutdownError,
  QueueFullError,
  RestartIntensityError,
  StoreError,
  StoreLockedError,
  TaskCancelledError,
  TaskTimeoutError,
  TroupeError,
  UnknownHandlerError,
  UnknownTaskError,
  WorkerCrashedError,
  WorkerStartError,
} from './errors/errors.js';
export type { SerializedError } from './errors/serialize.js';
export { deserializeError, serializeError } from './errors/serialize.js';
export type { ProcessorLogicEvent, ProcessorParentEvent, ProcessorSnapshot } from './integrations/xstate.js';
export { processorLogic } from './integrations/xstate.js';
export { backoffDelay } from './machines/backoff.js';
export type { TaskContext, TaskEntered, TaskEvent, TaskMachine, TaskMachineInput } from './machines/task.js';
export { taskMachine } from './machines/task.js';
export type { ProcessorEvent, ProcessorEventType } from './observe/events.js';
export type { InspectionObserver } from './observe/inspection.js';
export type { Percentiles } from './observe/log-histogram.js';
export type { ProcessorMetrics, StoreMetrics, WorkerMetrics } from './observe/metrics.js';
export type { ClusterStatus, NodeBeat, ProcessorStatus } from './observe/status.js';
export type { EventOf } from './observe/streams.js';
export { ofType } from './observe/streams.js';
export type { BackoffOptions, Broker, ProcessorOptions, RestartOptions, RetentionOptions } from './options/types.js';
export type { ShutdownOptions, ShutdownOutcome } from './processor.js';
export { Processor } from './processor.js';
export type { SqliteStore, SqliteStoreOptions } from './store/options.js';
export { sqliteStore } from './store/options.js';
export type {
  CancelledResult,
  DoneResult,
  FailedResult,
  FinalTaskState,
  HandlerContext,
  TaskError,
  TaskHandler,
  TaskInfo,
  TaskInput,
  TaskResult,
  TaskState,
  TraceContext,
} from './task/types.js';
export type { Clock } from './util/clock.js';
