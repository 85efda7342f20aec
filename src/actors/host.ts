import type { ActorInProgress, ActorOrder } from './protocol.js';

/**
 * A thread that runs actors, as the directory sees it: a worker actor
 * (`workers/worker.ts`) is one. The directory sends it orders and says when
 * it must keep the process alive; it knows nothing else of threads.
 */
export interface ActorHost {
  /** The worker's id, as `metrics().workers` and `ActorRef.workerId` show it. */
  readonly id: number;
  /** Attempts it holds: of two threads with as many actors, the least busy takes the next. */
  readonly held: number;
  /** An order for one of its actors; the orders of one turn go in one message. */
  sendActors(order: ActorOrder): void;
  /**
   * Whether its actors need the process alive, as they would under XState
   * in one thread: a spawn or a stop not yet answered, events sent and not
   * yet reported processed, or work pending between events (timers,
   * invoked work). Idle actors do not keep it alive.
   */
  keepAlive(on: boolean): void;
}

/** How a thread that ran actors ended. */
export interface HostExit {
  /** The exit code; `null` if the thread never reported one. */
  readonly code: number | null;
  /** The actor event it was processing when it called `process.exit`, as it said. */
  readonly dying?: ActorInProgress | undefined;
}
