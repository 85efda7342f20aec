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
}

export type TaskEvent =
  | { readonly type: 'task.dispatch' }
  | { readonly type: 'task.succeed'; readonly value: unknown }
  | { readonly type: 'task.fail'; readonly error: TaskError; readonly retryable?: boolean }
  | { readonly type: 'task.cancel'; readonly reason?: string }
  /** The attempt was lost through no fault of its own (its thread was stopped for another task): not charged. */
  | { readonly type: 'task.release' }
  /** A delayed task is due (raised by the machine itself, on its clock). */
  | { readonly type: 'task.due' };

/**
 * Emitted on entry to every state, so the owner of the actor learns of
 * transitions it did not cause (a backoff or a timeout expiring) without
 * polling. It carries the context by reference: no copy per transition.
 */
export interface TaskEntered {
  readonly type: 'task.entered';
  readonly state: TaskState;
  readonly context: TaskContext;
}

/**
 * The lifecycle of one task. It does no I/O: its owner (the supervisor)
 * sends `task.dispatch` when a worker takes it and `task.succeed` /
 * `task.fail` when the attempt settles; the machine decides between retrying
 * and failing, and keeps the backoff and the attempt timeout as named delays
 * on the actor's clock.
 *
 * ```
 * scheduled ──due (at once unless delayed)──▶ queued
 * queued ──dispatch──▶ processing ──succeed──▶ done
 *   ▲  ▲──────release─────┤ (not charged)
 *   │                     │ fail / attemptTimeout
 *   └──retryDelay── retrying ◀── canRetry ┤
 *                                         └──▶ failed
 * any non-final state ──cancel──▶ cancelled
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
    recordFailure: assign({ error: ({ event, context }) => (event.type === 'task.fail' ? event.error : context.error) }),
    scheduleRetry: assign({ retryDelay: ({ context }) => backoffDelay(context.attempts, context.backoff) }),
    recordCancel: assign({
      reason: ({ event }) => (event.type === 'task.cancel' && event.reason !== undefined ? event.reason : 'cancelled'),
    }),
    announce: emit(({ context }, params: { state: TaskState }) => ({
      type: 'task.entered' as const,
      state: params.state,
      context,
    })),
  },
  guards: {
    canRetry: ({ context, event }) => event.type === 'task.fail' && event.retryable !== false && context.attempts <= context.maxRetries,
    hasTimeout: ({ context }) => context.timeout !== undefined && context.timeout > 0,
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
  }),
  initial: 'scheduled',
  on: {
    'task.cancel': { target: '.cancelled', actions: 'recordCancel' },
  },
  states: {
    scheduled: {
      entry: [
        { type: 'announce', params: { state: 'scheduled' } },
        raise({ type: 'task.due' as const }, { id: 'task.due', delay: 'startDelay' }),
      ],
      exit: cancel('task.due'),
      on: { 'task.due': 'queued' },
    },
    queued: {
      entry: { type: 'announce', params: { state: 'queued' } },
      on: { 'task.dispatch': { target: 'processing', actions: 'startAttempt' } },
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
        'task.release': { target: 'queued', actions: 'releaseAttempt' },
        'task.fail': [
          { guard: 'canRetry', target: 'retrying', actions: ['recordFailure', 'scheduleRetry'] },
          { target: 'failed', actions: 'recordFailure' },
        ],
      },
    },
    retrying: {
      entry: { type: 'announce', params: { state: 'retrying' } },
      after: { retryDelay: 'queued' },
    },
    done: { type: 'final', entry: { type: 'announce', params: { state: 'done' } } },
    failed: { type: 'final', entry: { type: 'announce', params: { state: 'failed' } } },
    cancelled: { type: 'final', entry: { type: 'announce', params: { state: 'cancelled' } } },
  },
});

export type TaskMachine = typeof taskMachine;
