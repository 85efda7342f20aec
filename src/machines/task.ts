/**
 * machines/: the task machine (this file), the one description of a task's
 * lifecycle, with its backoff; the compiler that turns it into tables
 * (compile.ts); and the runner that steps every task through them
 * (lifecycles.ts). Machines do no I/O: what one needs comes in its input.
 */
import { assign, cancel, emit, raise, setup } from 'xstate';

import { TaskTimeoutError } from '../errors/errors.js';
import type { TaskError, TaskState } from '../task/types.js';
import { type Backoff, backoffDelay } from './backoff.js';

/** Which limit of its handler holds a task back (see `supervisor/limits.ts`). */
export type HeldBy = 'handlerConcurrency' | 'rateLimit';

/**
 * How a task that runs isolated runs: `thread`, alone on an empty thread (it
 * was on a thread that died with other attempts on it); `process`, with
 * nothing else running in the process (it was running, beside others, each
 * time the process died twice).
 */
export type Isolation = 'thread' | 'process';

/**
 * Why a task was handed back unfinished: `shutdown`, given back at shutdown
 * to the broker or to the store, to run elsewhere or at the next start;
 * `retry`, a broker's task about to retry, which the broker delivers again
 * after the backoff to whichever node has room.
 */
export type HandBackReason = 'shutdown' | 'retry';

/**
 * Every state a task's machine can be in: the public {@link TaskState}s,
 * and `handedBack`, the end of a task this process gives back unfinished
 * (it has no result here).
 */
export type TaskMachineState = TaskState | 'handedBack';

/**
 * Where a queued task waits, the sub-states of `queued`:
 * - `ready`: in the dispatcher's ready queue, in priority order;
 * - `isolated`: in a line of tasks that run isolated (see {@link Isolation});
 * - `held`: at its handler's gate (`handlerConcurrency`, `rateLimit.perHandler`);
 * - `parked`: set aside until an earlier attempt of its id has stopped;
 * - `windowed`: sent to a thread, waiting in its window to start.
 */
export type Whereabouts = 'ready' | 'isolated' | 'held' | 'parked' | 'windowed';

/** What a task machine is created with. */
export interface TaskMachineInput {
  readonly id: string;
  readonly handler: string;
  readonly maxRetries: number;
  readonly timeout: number | undefined;
  readonly backoff: Backoff;
  /** Wait before the task is queued (a delayed task), in ms; `undefined` queues it at once. */
  readonly startDelay: number | undefined;
  /**
   * Attempts already made elsewhere: a task taken from a broker starts with
   * the attempts its earlier deliveries used, so retries and backoff go on
   * counting across nodes. 0 when omitted.
   */
  readonly attempts?: number;
  /** Runs isolated from the start: a stored task suspected of earlier process deaths. */
  readonly isolation?: Isolation | undefined;
}

export interface TaskContext extends TaskMachineInput {
  /** Attempts started so far. */
  readonly attempts: number;
  /** The error of the last failed attempt. */
  readonly error: TaskError | undefined;
  /** The handler's return value, once `done`. */
  readonly value: unknown;
  /** The wait before the next attempt, while `retrying`. */
  readonly retryDelay: number | undefined;
  /** Why the task was cancelled, once `cancelled`. */
  readonly reason: string | undefined;
  /** While `held`: the limit that holds it. */
  readonly heldBy: HeldBy | undefined;
  /** Set once it runs isolated: from then on it waits in the isolated line, never in the ready queue. */
  readonly isolation: Isolation | undefined;
  /** Once `handedBack`: why. */
  readonly handedBack: HandBackReason | undefined;
  /** Once `handedBack`: it was handed back with its attempt in a thread (running, or waiting in the window). */
  readonly interrupted: boolean;
}

export type TaskEvent =
  /** Its thread started an attempt (sent into a free slot, or reported started from the window). */
  | { readonly type: 'task.dispatch' }
  | { readonly type: 'task.succeed'; readonly value: unknown }
  | { readonly type: 'task.fail'; readonly error: TaskError; readonly retryable?: boolean }
  | { readonly type: 'task.cancel'; readonly reason?: string }
  /**
   * The attempt was lost through no fault of its own (its thread was
   * stopped for another task, or it was taken back from a window): not
   * charged; back in line.
   */
  | { readonly type: 'task.release' }
  /**
   * Like `task.release`, but the attempt was on a thread that died with
   * others on it, so the cause cannot be told: it runs isolated from now on.
   */
  | { readonly type: 'task.suspect' }
  /** A delayed task is due (raised by the machine itself, on its clock). */
  | { readonly type: 'task.due' }
  /** Its handler's gate does not admit it now: it waits there. */
  | { readonly type: 'task.hold'; readonly limit: HeldBy }
  /** Its handler's gate admits it: back in line. */
  | { readonly type: 'task.admit' }
  /** An earlier attempt of its id is still stopping: it waits until that one has. */
  | { readonly type: 'task.park' }
  /** The earlier attempt of its id has stopped: back in line. */
  | { readonly type: 'task.unpark' }
  /** Sent to a thread whose run slots are full: it waits in the thread's window. */
  | { readonly type: 'task.window' }
  /** Given back unfinished, to a broker or a store: its own end, not `cancelled`. */
  | { readonly type: 'task.handBack'; readonly reason: HandBackReason }
  /** It can never run (the threads could not start): it fails with `error`, whatever its state. */
  | { readonly type: 'task.giveUp'; readonly error: TaskError };

/**
 * Emitted on entry to every top-level state, so the owner of the actor
 * learns of transitions it did not cause (a backoff or a timeout expiring)
 * without polling. It carries the context by reference: no copy per
 * transition. Where a queued task waits is not announced: the parts that
 * move it there sent the event.
 */
export interface TaskEntered {
  readonly type: 'task.entered';
  readonly state: TaskMachineState;
  readonly context: TaskContext;
}

/** Into line: the isolated one for a task that runs isolated, else the ready queue. */
const intoLine = [{ guard: 'isIsolated', target: '#task.queued.isolated' }, { target: '#task.queued.ready' }] as const;

/** A task in a line may be held at its gate, parked behind an earlier attempt, sent into a window, or started. */
const inLine = {
  'task.hold': { target: 'held', actions: 'recordHold' },
  'task.park': { target: 'parked' },
  'task.window': { target: 'windowed' },
  'task.dispatch': { target: '#task.processing', actions: 'startAttempt' },
} as const;

/**
 * The lifecycle of one task. It does no I/O: its owner (the supervisor) and
 * the parts it calls send events as they move the task (hold it at a gate,
 * park it, send it into a window, start it) and as its attempt settles;
 * the machine decides between retrying and failing, and keeps the backoff
 * and the attempt timeout as named delays on the actor's clock.
 *
 * ```
 * scheduled ──due (at once unless delayed)──▶ queued
 *   queued: ready | isolated ──hold──▶ held ──admit──▶ ready | isolated
 *           ready | isolated ──park──▶ parked ──unpark──▶ ready | isolated
 *           ready | isolated ──window──▶ windowed ──release/suspect──▶ ready | isolated
 * queued (ready, isolated, windowed) ──dispatch──▶ processing ──succeed──▶ done
 *   ▲  ▲──────release / suspect─────┤ (not charged)
 *   │                               │ fail / attemptTimeout
 *   └──retryDelay── retrying ◀── canRetry ┤
 *                                         └──▶ failed
 * any non-final state ──cancel──▶ cancelled, ──handBack──▶ handedBack, ──giveUp──▶ failed
 * ```
 */
export const taskMachine = setup({
  types: {
    context: {} as TaskContext,
    events: {} as TaskEvent,
    input: {} as TaskMachineInput,
    emitted: {} as TaskEntered,
  },
  actions: {
    startAttempt: assign({ attempts: ({ context }) => context.attempts + 1, retryDelay: undefined }),
    releaseAttempt: assign({ attempts: ({ context }) => context.attempts - 1 }),
    recordSuccess: assign({ value: ({ event }) => (event.type === 'task.succeed' ? event.value : undefined) }),
    recordFailure: assign({
      error: ({ event, context }) => (event.type === 'task.fail' || event.type === 'task.giveUp' ? event.error : context.error),
    }),
    scheduleRetry: assign({ retryDelay: ({ context }) => backoffDelay(context.attempts, context.backoff) }),
    recordCancel: assign({
      reason: ({ event }) => (event.type === 'task.cancel' && event.reason !== undefined ? event.reason : 'cancelled'),
    }),
    recordHold: assign({ heldBy: ({ event, context }) => (event.type === 'task.hold' ? event.limit : context.heldBy) }),
    clearHold: assign({ heldBy: undefined }),
    isolate: assign({ isolation: ({ context }) => context.isolation ?? 'thread' }),
    recordHandBack: assign(({ event, context }, params: { interrupted: boolean }) => ({
      handedBack: event.type === 'task.handBack' ? event.reason : context.handedBack,
      interrupted: params.interrupted,
    })),
    announce: emit(({ context }, params: { state: TaskMachineState }) => ({
      type: 'task.entered' as const,
      state: params.state,
      context,
    })),
  },
  guards: {
    canRetry: ({ context, event }) => event.type === 'task.fail' && event.retryable !== false && context.attempts <= context.maxRetries,
    hasTimeout: ({ context }) => context.timeout !== undefined && context.timeout > 0,
    isIsolated: ({ context }) => context.isolation !== undefined,
  },
  delays: {
    retryDelay: ({ context }) => context.retryDelay ?? 0,
    attemptTimeout: ({ context }) => (context.timeout ? context.timeout : Infinity),
    // Not a number: raised at once, in the same step (XState's rule for a
    // delay that resolves to none), so an undelayed task passes straight on.
    startDelay: ({ context }) => context.startDelay as number,
  },
}).createMachine({
  id: 'task',
  // Field by field: this runs once per task, and a spread of the input
  // showed up as a hot spot in profiles.
  context: ({ input }) => ({
    id: input.id,
    handler: input.handler,
    maxRetries: input.maxRetries,
    timeout: input.timeout,
    backoff: input.backoff,
    startDelay: input.startDelay,
    attempts: input.attempts ?? 0,
    error: undefined,
    value: undefined,
    retryDelay: undefined,
    reason: undefined,
    heldBy: undefined,
    isolation: input.isolation,
    handedBack: undefined,
    interrupted: false,
  }),
  initial: 'scheduled',
  on: {
    'task.cancel': { target: '.cancelled', actions: 'recordCancel' },
    'task.handBack': { target: '.handedBack', actions: { type: 'recordHandBack', params: { interrupted: false } } },
    'task.giveUp': { target: '.failed', actions: 'recordFailure' },
  },
  states: {
    scheduled: {
      entry: [
        { type: 'announce', params: { state: 'scheduled' } },
        raise({ type: 'task.due' as const }, { id: 'task.due', delay: 'startDelay' }),
      ],
      exit: cancel('task.due'),
      on: { 'task.due': intoLine },
    },
    queued: {
      entry: { type: 'announce', params: { state: 'queued' } },
      initial: 'ready',
      states: {
        ready: { on: inLine },
        isolated: { on: inLine },
        held: { on: { 'task.admit': intoLine.map((to) => ({ ...to, actions: 'clearHold' })) } },
        parked: { on: { 'task.unpark': intoLine } },
        windowed: {
          on: {
            'task.dispatch': { target: '#task.processing', actions: 'startAttempt' },
            'task.release': intoLine,
            'task.suspect': { target: 'isolated', actions: 'isolate' },
            // Sent and not started: its attempt is stopped with it, uncharged.
            'task.handBack': { target: '#task.handedBack', actions: { type: 'recordHandBack', params: { interrupted: true } } },
          },
        },
      },
    },
    processing: {
      entry: { type: 'announce', params: { state: 'processing' } },
      // An attempt without a limit gets an infinite delay, which Troupe's
      // lifecycles never arm as a timer (a flat state with no eventless
      // check is the cheapest shape for the common path). The guard keeps
      // the machine right on a clock that would fire it anyway: Node runs a
      // setTimeout of Infinity after 1 ms.
      after: {
        attemptTimeout: {
          guard: 'hasTimeout',
          actions: raise(({ context }) => ({
            type: 'task.fail' as const,
            error: new TaskTimeoutError(context.timeout ?? 0),
          })),
        },
      },
      on: {
        'task.succeed': { target: 'done', actions: 'recordSuccess' },
        'task.release': intoLine.map((to) => ({ ...to, actions: 'releaseAttempt' })),
        'task.suspect': { target: '#task.queued.isolated', actions: ['releaseAttempt', 'isolate'] },
        'task.fail': [
          { guard: 'canRetry', target: 'retrying', actions: ['recordFailure', 'scheduleRetry'] },
          { target: 'failed', actions: 'recordFailure' },
        ],
        // Interrupted, not by its own fault: the attempt is given back.
        'task.handBack': { target: 'handedBack', actions: ['releaseAttempt', { type: 'recordHandBack', params: { interrupted: true } }] },
      },
    },
    retrying: {
      entry: { type: 'announce', params: { state: 'retrying' } },
      after: { retryDelay: intoLine },
    },
    done: { type: 'final', entry: { type: 'announce', params: { state: 'done' } } },
    failed: { type: 'final', entry: { type: 'announce', params: { state: 'failed' } } },
    cancelled: { type: 'final', entry: { type: 'announce', params: { state: 'cancelled' } } },
    handedBack: { type: 'final', entry: { type: 'announce', params: { state: 'handedBack' } } },
  },
});

export type TaskMachine = typeof taskMachine;
