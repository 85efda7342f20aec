import type { TroupeErrorCode } from '../errors/errors.js';
import { TroupeError } from '../errors/errors.js';
import type { TaskPage } from '../supervisor/task-view.js';
import type { TaskInfo, TaskInput, TaskResult, TaskState } from '../task/types.js';
import type { Access } from './auth.js';
import type { TimelineEntry } from './timeline.js';

/** What the API reads and does to tasks, beside what it reads of the processor: the supervisor's task view is one. */
export interface DashboardTasks {
  page(state: TaskState, after: string | undefined, limit: number): TaskPage;
  input(id: string): TaskInput | undefined;
}

/** What the API may do to a processor: a `Processor` is one. */
export interface DashboardActions {
  getTask(id: string): TaskInfo | undefined;
  getResult(id: string): TaskResult | undefined;
  submit(task: TaskInput): string;
  cancel(id: string, reason?: string): boolean;
  clearResults(): void;
}

export type ApiErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'token_required'
  | 'not_found'
  | 'method_not_allowed'
  | 'not_cancellable'
  | 'not_retryable'
  | 'input_unknown'
  | TroupeErrorCode;

/** Why the API refused a request: answered as `{ error: { code, message } }` with `status`. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** An answer: the status and the body to send as JSON. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

export const STATES: readonly TaskState[] = ['scheduled', 'queued', 'processing', 'retrying', 'done', 'failed', 'cancelled'];
/** A page's size when `limit` is not given, and the most it may ask for. */
export const PAGE_LIMIT = { default: 50, max: 500 } as const;

/**
 * The dashboard's JSON API under `/api/`: tasks by state a page at a time, a
 * task's view, cancel, retry and clearing the results. `answer` throws
 * `ApiError` for a request it refuses; a refused request changes nothing.
 */
export function createApi(
  processor: DashboardActions,
  tasks: DashboardTasks,
  timeline: (id: string) => readonly TimelineEntry[] | undefined,
) {
  function list(query: URLSearchParams): ApiAnswer {
    const state = query.get('state');
    if (!STATES.includes(state as TaskState)) {
      throw new ApiError(400, 'bad_request', `Expected \`state\` to be one of ${STATES.join(', ')}, got ${shown(state)}`);
    }
    const limitText = query.get('limit');
    const limit = limitText === null ? PAGE_LIMIT.default : Number(limitText);
    if (!/^\d+$/.test(limitText ?? '1') || limit < 1 || limit > PAGE_LIMIT.max) {
      throw new ApiError(400, 'bad_request', `Expected \`limit\` to be an integer from 1 to ${PAGE_LIMIT.max}, got ${shown(limitText)}`);
    }
    const after = query.get('after') ?? undefined;
    const page = tasks.page(state as TaskState, after, limit);
    const next = page.tasks.length === limit ? page.tasks.at(-1)?.id : undefined;
    return { status: 200, body: { state, size: page.size, tasks: page.tasks, ...(next === undefined ? {} : { next }) } };
  }

  function view(id: string): ApiAnswer {
    const task = processor.getTask(id);
    const steps = timeline(id);
    if (!task && !steps) throw new ApiError(404, 'not_found', `No task ${shown(id)}: unknown, or its result is no longer retained`);
    const result = processor.getResult(id);
    const input = tasks.input(id);
    const shownResult = result?.status === 'failed' ? withoutPayload(result) : result;
    return { status: 200, body: { id, task, ...(input ? { payload: input.payload } : {}), result: shownResult, timeline: steps ?? [] } };
  }

  function cancel(id: string): ApiAnswer {
    const task = known(id);
    if (!processor.cancel(id, 'cancelled from the dashboard')) {
      throw new ApiError(409, 'not_cancellable', `Task ${shown(id)} has already ended (${task.state})`);
    }
    return { status: 200, body: { id, cancelled: true } };
  }

  function retry(id: string): ApiAnswer {
    const task = known(id);
    if (task.state !== 'failed' && task.state !== 'cancelled') {
      throw new ApiError(409, 'not_retryable', `Only a failed or cancelled task can be retried; ${shown(id)} is ${task.state}`);
    }
    const input = tasks.input(id);
    if (!input) throw new ApiError(409, 'input_unknown', `The payload of ${shown(id)} is no longer known, so it cannot be resubmitted`);
    try {
      processor.submit(input);
    } catch (error) {
      if (error instanceof TroupeError) throw new ApiError(409, error.code, error.message);
      throw error;
    }
    return { status: 200, body: { id, retried: true } };
  }

  function known(id: string): TaskInfo {
    const task = processor.getTask(id);
    if (!task) throw new ApiError(404, 'not_found', `No task ${shown(id)}: unknown, or its result is no longer retained`);
    return task;
  }

  return {
    /** Answers a request for `url` under `/api/`, made with `access`. */
    answer(method: string, url: URL, access: Access): ApiAnswer {
      const path = url.pathname.slice('/api'.length);
      const match = /^\/tasks\/([^/]+)(?:\/(cancel|retry))?$/.exec(path);
      const action = path === '/results/clear' ? 'clear' : match?.[2];
      if (action === undefined) {
        if (method !== 'GET') throw new ApiError(405, 'method_not_allowed', `${method} ${url.pathname}: only GET`);
        if (path === '/tasks') return list(url.searchParams);
        if (match) return view(decoded(match[1] as string));
        throw new ApiError(404, 'not_found', `No route ${url.pathname}`);
      }
      if (method !== 'POST') throw new ApiError(405, 'method_not_allowed', `${method} ${url.pathname}: only POST`);
      if (access !== 'act')
        throw new ApiError(
          403,
          'token_required',
          'Actions need the dashboard to be served with a `token`, sent as `Authorization: Bearer <token>`',
        );
      if (action === 'clear') {
        processor.clearResults();
        return { status: 200, body: { cleared: true } };
      }
      const id = decoded(match?.[1] as string);
      return action === 'cancel' ? cancel(id) : retry(id);
    },
  };
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, 'bad_request', `Expected a task id, URI-encoded, got ${shown(segment)}`);
  }
}

/** A failed result without its payload: the view shows the payload once, beside it. */
function withoutPayload(result: TaskResult & { status: 'failed' }): Omit<TaskResult & { status: 'failed' }, 'payload'> {
  const { payload: _payload, ...rest } = result;
  return rest;
}

function shown(value: string | null): string {
  return value === null ? 'nothing' : `\`${value}\``;
}
