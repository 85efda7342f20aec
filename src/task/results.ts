import type { TaskInfo, TaskResult } from './types.js';

/** A finished task as `getTask(id)` describes it, from its result. */
export function resultInfo(result: TaskResult): TaskInfo {
  return {
    id: result.id,
    state: result.status,
    handler: result.handler,
    priority: result.priority,
    runAt: undefined,
    blockedBy: undefined,
    attempts: result.attempts,
    maxRetries: result.maxRetries,
    timeout: result.timeout,
    submittedAt: result.submittedAt,
    startedAt: result.startedAt,
    lastError: result.status === 'failed' ? result.error : undefined,
    retryDelay: undefined,
  };
}
