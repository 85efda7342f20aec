import { PoisonTaskError, WorkerCrashedError } from '../errors/errors.js';
import { deserializeError } from '../errors/serialize.js';
import type { Metrics } from '../observe/metrics.js';
import type { WireOutcome } from '../workers/protocol.js';
import type { ThreadExit } from '../workers/thread-handle.js';
import type { SettledAttempt, StartedAttempt } from '../workers/worker.js';
import type { AttemptStarts } from './attempt-starts.js';
import type { Attempts } from './attempts.js';
import type { Dispatcher } from './dispatcher.js';
import type { Limits } from './limits.js';
import type { TaskRegistry } from './registry.js';
import type { Attempt } from './task-record.js';

export interface OutcomeParts {
  readonly registry: TaskRegistry;
  readonly attempts: Attempts;
  readonly dispatcher: Dispatcher;
  readonly limits: Limits;
  readonly metrics: Metrics;
  /** Crashes that make a task poison (`maxCrashes`). */
  readonly maxCrashes: number;
  /** Tells a start: its machine, its wait, its event. */
  readonly starts: AttemptStarts;
}

/**
 * Turns what worker actors report about attempts into what task machines
 * hear: a start (`task.dispatch`), a verdict (`task.succeed`, `task.fail`),
 * an uncharged return to the line (`task.release`), and for a thread that
 * died, a crash charged to the attempt that caused it, or, when the cause
 * cannot be told, every attempt it held made a suspect that runs isolated
 * from then on (`task.suspect`). Owned by the supervisor and called inside
 * its messages; a machine's answer comes back to the supervisor as a
 * message of its own.
 */
export class Outcomes {
  readonly #parts: OutcomeParts;
  /** Handlers of limited attempts that left their threads in the message being processed. */
  readonly #ended: string[] = [];

  constructor(parts: OutcomeParts) {
    this.#parts = parts;
  }

  /**
   * A thread's report: attempts it started, attempts that settled. Freed slots
   * are refilled (and the new attempts sent) before the settled tasks'
   * machines and results are updated: the thread waits for its next task for
   * as long as that takes, and for a CPU-bound pool that wait is the overhead.
   */
  reported(started: readonly StartedAttempt[], settled: readonly SettledAttempt[]): void {
    const { attempts, dispatcher, metrics } = this.#parts;
    for (const { token, id } of started) {
      const attempt = attempts.find(id, token);
      if (attempt && !attempt.started && this.#owns(attempt)) this.#parts.starts.start(attempt);
    }
    const verdicts: Array<[Attempt, Exclude<WireOutcome, { unstarted: true }>]> = [];
    for (const { token, id, outcome } of settled) {
      const attempt = this.#leftThread(id, token);
      if (!attempt) continue;
      const { record } = attempt;
      if (!outcome.ok && outcome.returned) {
        record.payload = outcome.returned.payload;
        record.transfer = outcome.returned.transfer;
      }
      if (!this.#owns(attempt)) continue;
      if ('unstarted' in outcome) this.#putBack(attempt, false);
      else verdicts.push([attempt, outcome]);
    }
    dispatcher.dispatch();
    dispatcher.flush();
    for (const [attempt, outcome] of verdicts) {
      // It ended without a start on record (it could not be sent at all): it started and ended here.
      if (!attempt.started) this.#parts.starts.start(attempt);
      const { record } = attempt;
      metrics.ran(performance.now() - record.runStart);
      // The machine is the arbiter: if it already left `processing` it ignores these.
      record.lifecycle.send(
        outcome.ok
          ? { type: 'task.succeed', value: outcome.value }
          : { type: 'task.fail', error: deserializeError(outcome.error), retryable: outcome.retryable },
      );
    }
  }

  /**
   * A thread exited with these attempts on it. Stopped by the supervisor
   * (shutdown), each goes back in line, uncharged. Alone on a thread that
   * crashed, an attempt is the cause: it is charged. With others beside it,
   * the cause cannot be told (a thread's reports of what it started and
   * finished travel in batches), and neither when the worker killed the
   * thread for another attempt's sake: every attempt it held becomes a
   * suspect, put back uncharged, that runs isolated from now on, where a
   * crash is its own.
   */
  lost(lost: readonly StartedAttempt[], exit: ThreadExit, expected: boolean, killedFor: number | undefined): void {
    const alone = lost.length === 1;
    for (const { token, id } of lost) {
      const attempt = this.#leftThread(id, token);
      if (!attempt || !this.#owns(attempt)) continue;
      if (expected) this.#putBack(attempt, false);
      else if (alone && killedFor === undefined) this.#crashed(attempt, exit);
      else this.#putBack(attempt, true);
    }
  }

  /**
   * The handlers whose gates are to learn that an attempt left its thread:
   * each from a message of its own, sent once the tasks' own transitions are
   * queued, so the next task's `task.started` never precedes this one's
   * `task.done` (a cap read from the events holds too).
   */
  takeEnded(): string[] {
    return this.#ended.splice(0);
  }

  /**
   * The attempt `token` of `id` left its thread (settled, or lost with it):
   * it leaves the table, and a task of its id parked behind it goes back in
   * line. Returns the attempt, if it was still in the table.
   */
  #leftThread(id: string, token: number): Attempt | undefined {
    const { attempts, limits, dispatcher, registry } = this.#parts;
    const attempt = attempts.find(id, token);
    if (!attempt) return undefined;
    attempts.close(attempt);
    const { handler } = attempt.record.task;
    if (limits.hasGate(handler)) this.#ended.push(handler);
    dispatcher.unpark(registry.get(id));
    return attempt;
  }

  /** Whether the attempt is still its task's own (not orphaned, not of an ended or replaced task). */
  #owns(attempt: Attempt): boolean {
    return !attempt.orphaned && this.#parts.registry.holds(attempt.record);
  }

  /**
   * The attempt ended without a verdict (taken back, or lost with a thread
   * stopped for another reason): the task waits again, uncharged, at its
   * place in line; `suspect`, it runs isolated from now on.
   */
  #putBack(attempt: Attempt, suspect: boolean): void {
    const { record } = attempt;
    // Started, it re-enters `queued`, which puts it back in line; from a window, it goes back now.
    if (attempt.started) record.lifecycle.send({ type: suspect ? 'task.suspect' : 'task.release' });
    else this.#parts.dispatcher.takeBack(record, suspect);
  }

  /** The attempt took its thread down, alone on it: it is charged, and poison past `maxCrashes`. */
  #crashed(attempt: Attempt, exit: ThreadExit): void {
    const { record, worker } = attempt;
    const crash = new WorkerCrashedError(worker.id, exit.code, exit.error ? { cause: exit.error } : undefined);
    const crashes = ++record.crashes;
    const poisoned = crashes >= this.#parts.maxCrashes;
    if (!attempt.started) this.#parts.starts.start(attempt);
    record.lifecycle.send({
      type: 'task.fail',
      error: poisoned ? new PoisonTaskError(record.task.id, crashes, { cause: crash }) : crash,
      retryable: !poisoned,
    });
  }
}
