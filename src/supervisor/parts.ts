import { ActorDirectory } from '../actors/directory.js';
import { VirtualActors } from '../actors/virtual.js';
import { CompiledLifecycles, type TaskLifecycles } from '../machines/lifecycles.js';
import type { ProcessorEvent } from '../observe/events.js';
import type { InspectedActor, Inspection } from '../observe/inspection.js';
import { Metrics } from '../observe/metrics.js';
import type { ResolvedOptions } from '../options/types.js';
import type { OpenStore } from '../store/store.js';
import { TimerQueue } from '../util/timer-queue.js';
import { AttemptStarts } from './attempt-starts.js';
import { Attempts } from './attempts.js';
import { Dispatcher } from './dispatcher.js';
import { Journal } from './journal.js';
import { Limits } from './limits.js';
import type { RemoteTaskHooks, SupervisorMessage } from './messages.js';
import { Outcomes } from './outcomes.js';
import type { LifecycleView } from './processor-lifecycle.js';
import { TaskRegistry } from './registry.js';
import { Resizer } from './resizer.js';
import { RestartPolicy } from './restart-policy.js';
import { Shutdown } from './shutdown.js';
import { TaskEndings } from './task-endings.js';
import type { TaskRecord } from './task-record.js';
import { TaskView } from './task-view.js';
import { WorkerPool } from './worker-pool.js';

/**
 * What the parts may ask of the supervisor that owns them: its own address
 * and what it does once its mailbox is empty. Nothing else of it: a part
 * acts only inside the supervisor's messages, and anything it has to say
 * later comes back as a message.
 */
export interface SupervisorPorts {
  /** A message to the supervisor's mailbox. */
  readonly send: (message: SupervisorMessage) => void;
  /** Runs an effect once the mailbox is empty. */
  readonly defer: (effect: () => void) => void;
  /** Reports an event once the mailbox is empty (nothing when nobody listens). */
  readonly emit: (event: ProcessorEvent) => void;
  /** Whether anyone listens to the events: a task's are not built for no one. */
  readonly listened: () => boolean;
  /** A task's callback threw (called from a deferred effect). */
  readonly callbackFailed: (id: string, error: unknown) => void;
  /** A task left the supervisor: a shutdown waiting for the last one may stop. */
  readonly left: () => void;
  /** The processor's stage and fault. */
  readonly lifecycle: LifecycleView;
  /** XState inspection of everything, while an observer is attached; `root` is the supervisor as inspectors see it. */
  readonly inspection: Inspection;
  readonly root: InspectedActor;
}

/** The parts a supervisor owns and calls inside its messages, built once, each with the parts it needs. */
export interface SupervisorParts {
  /** Every machine delay of every task, and the limits' timers, on one timer of the clock. */
  readonly timers: TimerQueue;
  readonly registry: TaskRegistry;
  readonly attempts: Attempts;
  /** With a store: every change, written in groups. */
  readonly journal: Journal | undefined;
  readonly limits: Limits;
  readonly pool: WorkerPool;
  /** Counters and histograms of everything that passes; read by `metrics()` and Prometheus. */
  readonly metrics: Metrics;
  readonly dispatcher: Dispatcher;
  readonly outcomes: Outcomes;
  readonly endings: TaskEndings;
  readonly actors: ActorDirectory;
  readonly virtualActors: VirtualActors;
  readonly resizer: Resizer;
  readonly shutdown: Shutdown;
  /** Every task's machine, stepped through its compiled tables. */
  readonly lifecycles: TaskLifecycles<TaskRecord>;
  /** Its tasks, read-only. */
  readonly tasks: TaskView;
}

/**
 * Builds a supervisor's parts in dependency order: each is made with parts
 * made before it, and reaches the supervisor only through `ports`. `store`:
 * the opened task store, if any; `remote`: where a broker's node takes the
 * broker's tasks back.
 */
export function buildParts(
  options: ResolvedOptions,
  ports: SupervisorPorts,
  store: OpenStore | undefined,
  remote: RemoteTaskHooks | undefined,
): SupervisorParts {
  const { send, defer, emit, listened, inspection, root } = ports;
  const timers = new TimerQueue(options.clock);
  const registry = new TaskRegistry(options.retention);
  const attempts = new Attempts();
  const journal =
    store &&
    new Journal(
      store.writer,
      store.recovered,
      (error) => send({ type: 'store.failed', error }),
      (ms) => send({ type: 'store.committed', ms }),
    );
  const limits = new Limits(options, timers, () => send({ type: 'limits.open' }));
  const release = journal && ((go: () => void) => journal.beforeSending(go));
  const pool = new WorkerPool(options, inspection, root, send, (slot) => send({ type: 'worker.respawn', slot }), release);
  const actors = new ActorDirectory({
    timers,
    restart: options.restart,
    restartSchedule: () => new RestartPolicy(options.restart),
    ready: () => pool.forActors,
    send,
    defer,
    refusal: () => ports.lifecycle.refusal(),
    inspection,
    root,
    ...(journal && store ? { journal, stored: store.recovered.actors } : {}),
  });
  const virtualActors = new VirtualActors({
    directory: actors,
    timers,
    send,
    defer,
    refusal: () => ports.lifecycle.refusal(),
    idleTimeout: options.actorIdleTimeout,
    readStored: store && ((id) => store.writer.readActor(id)),
    stored: store?.recovered.actors,
  });
  const metrics = new Metrics({
    tasks: () => {
      const { scheduled, queued, processing, retrying } = registry.counts();
      return { scheduled, queued, processing, retrying };
    },
    workers: (counts) => pool.metrics(counts),
    virtualActors: () => virtualActors.counts(),
    store: store?.writer,
  });
  const starts = new AttemptStarts({ metrics, emit, listened });
  const moved = journal && ((record: TaskRecord) => journal.changed(record, undefined));
  const dispatcher = new Dispatcher({ pool, limits, attempts, inspection, started: (attempt) => starts.start(attempt), moved });
  const outcomes = new Outcomes({ registry, attempts, dispatcher, limits, metrics, starts, maxCrashes: options.maxCrashes });
  const { callbackFailed, left } = ports;
  const endings = new TaskEndings({
    registry,
    dispatcher,
    attempts,
    metrics,
    journal,
    remote,
    defer,
    emit,
    listened,
    callbackFailed,
    left,
  });
  const resizer = new Resizer({
    pool,
    elastic: options.elastic,
    clock: options.clock,
    metrics,
    waiting: () => dispatcher.waiting,
    hostsActors: (worker) => actors.hosts(worker),
    running: () => ports.lifecycle.running,
    emit,
    idleTimer: (worker) => send({ type: 'worker.idle', worker }),
  });
  const shutdown = new Shutdown(options.clock, () => send({ type: 'shutdown.deadline' }), store !== undefined);
  // One listener for every task: no closure per task.
  const lifecycles = new CompiledLifecycles<TaskRecord>(
    timers,
    {
      entered: ({ type, state, context }, lifecycle) => send({ type, state, context, lifecycle }),
      timer: (fire) => send({ type: 'task.timer', fire }),
    },
    inspection,
    root,
  );
  const tasks = new TaskView(registry, dispatcher, attempts);
  return {
    timers,
    registry,
    attempts,
    journal,
    limits,
    pool,
    metrics,
    dispatcher,
    outcomes,
    endings,
    actors,
    virtualActors,
    resizer,
    shutdown,
    lifecycles,
    tasks,
  };
}
