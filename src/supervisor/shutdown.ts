import type { ActorDirectory } from '../actors/directory.js';
import type { StoppedActor } from '../actors/types.js';
import { handedBack } from '../task/results.js';
import type { TaskInput } from '../task/types.js';
import type { Clock } from '../util/clock.js';
import type { Journal } from './journal.js';
import type { TaskRecord } from './task-record.js';
import type { WorkerPool } from './worker-pool.js';

/**
 * What `shutdown` keeps while the supervisor stops: whether queued tasks
 * still start (`drain`), the deadline, and the inputs of the tasks it hands
 * back. Owned by the supervisor and called inside its messages; the
 * deadline reaches the supervisor as a message, through the callback it is
 * given.
 */
export class Shutdown {
  #drain = true;
  #deadline: unknown;
  readonly #unfinished: TaskInput[] = [];
  readonly #clock: Clock;
  readonly #expire: () => void;
  /** With a store, what shutdown leaves unfinished stays in it, to run at the next start. */
  readonly #keeps: boolean;

  constructor(clock: Clock, expire: () => void, keeps: boolean) {
    this.#clock = clock;
    this.#expire = expire;
    this.#keeps = keeps;
  }

  /**
   * Shutdown begins: of the `unfinished` tasks, those not running that
   * `handsBack` names are handed back now; with `timeout` above 0, `expire`
   * is called that many ms from now.
   */
  begin(timeout: number, drain: boolean, unfinished: Iterable<TaskRecord>): void {
    this.#drain = drain;
    for (const record of unfinished) if (record.state !== 'processing' && this.handsBack(record)) this.handBack(record);
    if (timeout > 0) this.#arm(timeout);
  }

  #arm(ms: number): void {
    this.#deadline = this.#clock.setTimeout(() => {
      this.#deadline = undefined;
      this.#expire();
    }, ms);
  }

  /**
   * Whether a task that is not running is handed back now rather than run:
   * every one without `drain`; a broker's always (another node runs it).
   */
  handsBack(record: TaskRecord): boolean {
    return !this.#drain || record.remote;
  }

  /**
   * Hands a task back for shutdown: a broker's task to the broker, and with
   * a store to the store, which keeps it queued for the next start (its
   * machine ends `handedBack`); otherwise it is cancelled and its input kept,
   * to return in `unfinished`.
   */
  handBack(record: TaskRecord): void {
    if (record.remote || this.#keeps) return record.lifecycle.send({ type: 'task.handBack', reason: 'shutdown' });
    const runAt = record.state === 'scheduled' ? record.runAt : undefined;
    this.#unfinished.push(handedBack(record.task, record.payload, record.transfer, runAt));
    record.lifecycle.send({ type: 'task.cancel', reason: 'shutdown' });
  }

  /** The deadline passed: every task still unfinished is handed back. */
  handBackAll(unfinished: Iterable<TaskRecord>): void {
    for (const record of unfinished) this.handBack(record);
  }

  /**
   * The tasks are done or handed back: what was handed back is returned,
   * once. The actors stop next, under the same deadline: it stays armed,
   * and `expire` is called again if it passes while they stop. If it has
   * passed already, they get `grace` ms from now (the processor's
   * `abortGrace`: how long code asked to stop may take before its thread is
   * terminated).
   */
  end(grace: number): TaskInput[] {
    if (this.#deadline === undefined) this.#arm(grace);
    return this.#unfinished.splice(0);
  }

  /** The actors have stopped: no deadline is needed any more. */
  actorsStopped(): void {
    if (this.#deadline !== undefined) this.#clock.clearTimeout(this.#deadline);
    this.#deadline = undefined;
  }
}

/**
 * The last steps of a stop, once the tasks are done or handed back: the
 * actors stop, each behind the events sent to it (their threads report their
 * last snapshots), or at the deadline as last reported (see
 * `ActorDirectory.stopOverdue`); then the threads, terminated whatever they
 * run; then the store closes. Resolves with the stopped actors, to resume
 * them.
 */
export async function stopInOrder(
  actors: ActorDirectory,
  shutdown: Shutdown,
  pool: WorkerPool,
  journal: Journal | undefined,
): Promise<StoppedActor[]> {
  const stopped = await actors.stopAll();
  shutdown.actorsStopped();
  await pool.stopAll();
  await journal?.close();
  return stopped;
}
