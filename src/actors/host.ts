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
  /** Answers someone awaits from its actors went up (+1) or down (-1): while any is awaited it keeps the process alive. */
  awaitAnswers(delta: number): void;
}

/** How a thread that ran actors ended. */
export interface HostExit {
  /** The exit code; `null` if the thread never reported one. */
  readonly code: number | null;
  /** The actor event it was processing when it called `process.exit`, as it said. */
  readonly dying?: ActorInProgress | undefined;
}
