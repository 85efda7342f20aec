import type { ProcessorEvent } from '../observe/events.js';
import type { Metrics } from '../observe/metrics.js';
import type { Attempt } from './task-record.js';

export interface AttemptStartsParts {
  readonly metrics: Metrics;
  /** Reports an event once the supervisor's mailbox is empty. */
  readonly emit: (event: ProcessorEvent) => void;
  /** Whether anyone listens to the events: a task's are not built for no one. */
  readonly listened: () => boolean;
}

/**
 * How an attempt's start is told: its task's machine enters `processing`
 * (its timeout runs from now), its wait in line is measured, and
 * `task.started` is announced. One part, because two others start
 * attempts: the dispatcher, for one sent into a free run slot (it starts on
 * arrival), and the outcomes, for one its thread reports started from the
 * window. Owned by the supervisor and called inside its messages.
 */
export class AttemptStarts {
  readonly #parts: AttemptStartsParts;

  constructor(parts: AttemptStartsParts) {
    this.#parts = parts;
  }

  start(attempt: Attempt): void {
    const { record } = attempt;
    attempt.started = true;
    record.startedAt = Date.now();
    record.runStart = performance.now();
    this.#parts.metrics.started(record.runStart - record.queuedAt);
    record.lifecycle.send({ type: 'task.dispatch' });
    if (!this.#parts.listened()) return;
    const { attempts } = record.lifecycle.context;
    this.#parts.emit({ type: 'task.started', id: record.task.id, attempt: attempts, workerId: attempt.worker.id });
  }
}
