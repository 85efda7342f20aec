import type { NormalizedTask } from '../task/normalize.js';
import type { TaskResult, TaskState } from '../task/types.js';
import type { TraceHeaders } from './trace-headers.js';

/** One task this process submitted that has not ended yet. */
export interface Submission {
  readonly submission: string;
  readonly callback: ((result: TaskResult) => void) | undefined;
  /** Its id was already taken (another submission holds it): whatever result that id gets is this one's. */
  joined: boolean;
  /** The broker has it. */
  published: boolean;
  readonly task: NormalizedTask;
  readonly waiters: Array<(result: TaskResult) => void>;
  onAbort: (() => void) | undefined;
  readonly submittedAt: number;
  /** When it is due, for a delayed start. */
  readonly runAt: number | undefined;
  /** What the task events of the nodes have told of it so far. */
  state: TaskState;
  attempts: number;
  startedAt: number | undefined;
  lastError: Error | undefined;
  retryDelay: number | undefined;
  /** The context active at `submit`, for the message's headers, when the app traces. */
  readonly trace: TraceHeaders | undefined;
}
