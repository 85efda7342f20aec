import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

import { createProcessor } from '../create-processor.js';
import type { ProcessorOptions } from '../options/types.js';
import type { Processor } from '../processor.js';
import { sqliteStore } from '../store/options.js';
import { openResultReader, type ResultReader } from '../store/result-reader.js';
import type { TaskInput, TaskResult } from '../task/types.js';
import { serveDashboardWithToken } from './dashboard.js';
import { LineWriter } from './line-writer.js';
import { readLines } from './lines.js';
import type { Progress } from './progress.js';

export interface RunOptions {
  readonly handlers: string;
  /** A JSONL file, or `-` for stdin. */
  readonly input: string;
  /** A JSONL file, or `-` for stdout. */
  readonly output: string;
  /** Passed on to `createProcessor`. */
  readonly processor: Pick<ProcessorOptions, 'workers' | 'maxRetries' | 'timeout' | 'concurrency' | 'broker'>;
  /** Tasks accepted and unfinished at most: the rest of the file waits unread. */
  readonly inFlight: number;
  /** Serve the dashboard on this port (loopback, with a token made for the run) for the length of the run. */
  readonly dashboard?: number;
  /**
   * Keep tasks and results in this SQLite file, so that the same run,
   * started again after a crash, runs only the lines without a result.
   */
  readonly store?: string;
  /** The line count, when known up front (for the progress bar's total and ETA). */
  readonly total: number | undefined;
  readonly progress: Progress;
  /** Aborted by Ctrl-C: stop reading, shut down, write what is left to resume from. */
  readonly signal: AbortSignal;
}

export interface RunSummary {
  readonly lines: number;
  readonly done: number;
  readonly failed: number;
  /** Lines that were not a task: reported, and written as failed results. */
  readonly invalid: number;
  /** With a store: lines whose result an earlier run left in it (written out, not run again). */
  readonly earlier: number;
  readonly retries: number;
  /** With a broker, interrupted: tasks submitted that go on in the cluster (their results are in its bucket, not in the output). */
  readonly elsewhere: number;
  readonly unfinished: number;
  readonly unfinishedPath: string | undefined;
  readonly interrupted: boolean;
  readonly ms: number;
}

/**
 * One line of the input as a task; throws with the reason when it is not
 * one. `lineIds`: a line without an id gets `line-<n>`, so that a run
 * started again finds its task in the store.
 */
function parseLine(text: string, line: number, lineIds: boolean): TaskInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`line ${line}: not JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`line ${line}: expected an object`);
  const { id, handler, payload } = value as Record<string, unknown>;
  if (!('payload' in value)) throw new Error(`line ${line}: no "payload"`);
  const named = id !== undefined ? (id as string) : lineIds ? `line-${line}` : undefined;
  return { payload, ...(named !== undefined ? { id: named } : {}), ...(handler !== undefined ? { handler: handler as string } : {}) };
}

function resultLine(result: TaskResult, line: number): string {
  const { id, status, attempts } = result;
  const base = { id, line, status, attempts };
  if (result.status === 'done') return JSON.stringify({ ...base, value: result.value });
  if (result.status === 'failed') {
    const { name, message, code } = result.error as Error & { code?: string };
    return JSON.stringify({ ...base, error: { name, message, ...(code ? { code } : {}) } });
  }
  return JSON.stringify({ ...base, reason: result.reason });
}

/**
 * Runs a JSONL file of tasks through a processor: streamed line by line, at
 * most `inFlight` unfinished at once (the rest of the file is not read until
 * there is room), results written as they finish. On abort it stops reading,
 * shuts the processor down, and writes every task it did not finish (handed
 * back, or never read) to `<output>.unfinished.jsonl`, so the run resumes with
 * `--input` on that file. With a `store`, the run itself resumes: started
 * again (after an abort, a crash or `kill -9`), the tasks the last run left
 * unfinished go on from the store, lines whose result the store holds are
 * written out without running again, and only the rest run.
 */
export async function runFile(options: RunOptions): Promise<RunSummary> {
  const started = performance.now();
  const processor: Processor = createProcessor({
    handlers: options.handlers,
    ...options.processor,
    maxQueue: options.inFlight,
    // Every result is written out as it finishes: none needs keeping in memory. The store keeps them all, for a rerun.
    retention: { maxResults: 0, maxFailed: 0 },
    ...(options.store ? { store: sqliteStore({ path: options.store, retention: { maxResults: Infinity, maxFailed: Infinity } }) } : {}),
  });
  // The handler module loads (and the store opens) before a line is read or the output touched: a typo in the
  // module's path fails the run at once, with nothing written (WorkerStartError, which the command reports).
  try {
    await processor.ready;
  } catch (error) {
    await processor.shutdown({ timeout: 0 });
    throw error;
  }
  const out: Writable = options.output === '-' ? process.stdout : createWriteStream(options.output);
  const results = new LineWriter(out);
  const reader: ResultReader | undefined = options.store ? openResultReader(options.store) : undefined;
  const { progress } = options;
  const served = options.dashboard === undefined ? undefined : await serveDashboardWithToken(processor, options.dashboard);
  const dashboard = served?.dashboard;
  if (served) progress.log(`troupe: dashboard at ${served.url}`);
  progress.start(options.total);
  const counts = { lines: 0, done: 0, failed: 0, invalid: 0, earlier: 0, retries: 0, elsewhere: 0 };
  const record = (result: TaskResult, line: number) => {
    if (result.status === 'done') counts.done++;
    else counts.failed++;
    results.write(resultLine(result, line));
  };
  // With a store: ids submitted by this run (their results come through `result`), tasks of the last run that it
  // left unfinished and that go on (by id: the line that names them, once read), and those that ended before their
  // line was read. The last two hold at most what the last run left unfinished.
  const submitted = new Set<string>();
  const resumedAt = new Map<string, number>();
  const endedEarly = new Map<string, TaskResult>();
  /** With a store: whether the line's task needs no submitting: it ended, or goes on, from the last run. */
  const resumeFromStore = (id: string, line: number): boolean => {
    const ended = endedEarly.get(id);
    if (ended) {
      endedEarly.delete(id);
      record(ended, line);
      return true;
    }
    const info = processor.getTask(id);
    if (info && info.state !== 'done' && info.state !== 'failed' && info.state !== 'cancelled') {
      resumedAt.set(id, line);
      return true;
    }
    const stored = reader?.get(id);
    if (!stored) return false;
    counts.earlier++;
    record(stored, line);
    return true;
  };
  processor.events.subscribe((event) => {
    if (event.type === 'task.retrying') counts.retries++;
    if (!reader || (event.type !== 'task.done' && event.type !== 'task.failed' && event.type !== 'task.cancelled')) return;
    const { id, result } = event;
    if (submitted.has(id) || (result.status === 'cancelled' && result.reason === 'shutdown')) return;
    const line = resumedAt.get(id);
    if (line === undefined) endedEarly.set(id, result);
    else {
      resumedAt.delete(id);
      record(result, line);
    }
  });
  processor.status$.subscribe((status) => progress.update(counts.done + counts.failed, { ...status, failed: counts.failed }, counts.lines));

  const input = options.input === '-' ? process.stdin : createReadStream(options.input);
  const lines = readLines(input);
  // Tasks to resume from: lines never read into a task once interrupted, then
  // the tasks shutdown hands back. Streamed to the file, not kept.
  const resumePath = `${options.output === '-' ? (options.input === '-' ? 'troupe' : options.input) : options.output}.unfinished.jsonl`;
  let resume: { stream: WriteStream; lines: LineWriter } | undefined;
  let resumed = 0;
  const toResume = async (text: string) => {
    if (!resume) {
      const stream = createWriteStream(resumePath);
      resume = { stream, lines: new LineWriter(stream) };
    }
    resumed++;
    resume.lines.write(text);
    await resume.lines.room();
  };
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
  };
  options.signal.addEventListener('abort', onAbort, { once: true });

  try {
    for await (const text of lines) {
      // Results (from the store above all, which replays them as fast as lines are read) wait in the output's
      // buffer: no more is read until it has room, so a slow output does not make the run hold the whole file.
      await results.room();
      if (interrupted) {
        // With a store, the same command resumes: nothing more to read.
        if (reader) break;
        // Not read into a task: it goes to the resume file as it was.
        if (text.trim() !== '') await toResume(text);
        continue;
      }
      const line = ++counts.lines;
      if (text.trim() === '') continue;
      let task: TaskInput;
      try {
        task = parseLine(text, line, reader !== undefined);
      } catch (error) {
        counts.invalid++;
        counts.failed++;
        progress.log(`troupe: ${(error as Error).message}`);
        results.write(
          JSON.stringify({
            id: null,
            line,
            status: 'failed',
            attempts: 0,
            error: { name: 'InvalidTaskError', message: (error as Error).message },
          }),
        );
        continue;
      }
      if (reader && resumeFromStore(task.id as string, line)) continue;
      try {
        const id = await processor.submitAsync(task, { signal: options.signal });
        if (reader) submitted.add(id);
        processor.result(id).then(
          (result) => {
            submitted.delete(id);
            if (result.status === 'cancelled' && result.reason === 'shutdown') return; // handed back below
            record(result, line);
          },
          // With a broker, interrupted: the task goes on in the cluster, its result in the bucket.
          () => counts.elsewhere++,
        );
      } catch (error) {
        if (interrupted) {
          if (!reader) await toResume(text);
          continue;
        }
        counts.invalid++;
        counts.failed++;
        progress.log(`troupe: line ${line}: ${(error as Error).message}`);
        results.write(
          JSON.stringify({
            id: task.id ?? null,
            line,
            status: 'failed',
            attempts: 0,
            error: { name: (error as Error).name, message: (error as Error).message },
          }),
        );
      }
    }
    if (!interrupted) await Promise.race([processor.onIdle(), once(options.signal, 'abort')]);
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }

  // Interrupted: running attempts get a moment to finish; the rest is handed back.
  const { unfinished } = await processor.shutdown(interrupted ? { drain: false, timeout: 5_000 } : {});
  await results.room();
  for (const task of unfinished) await toResume(JSON.stringify({ id: task.id, handler: task.handler, payload: task.payload }));
  if (resume) {
    const done = once(resume.stream, 'close');
    resume.stream.end();
    await done;
  }
  progress.stop();
  reader?.close();
  await dashboard?.close();
  if (out !== process.stdout) {
    out.end();
    await once(out, 'close');
  }
  return {
    ...counts,
    unfinished: resumed,
    unfinishedPath: resume ? resumePath : undefined,
    interrupted,
    ms: performance.now() - started,
  };
}
