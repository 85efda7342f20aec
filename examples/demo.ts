// examples/demo.ts
// `npm start`: runs TROUPE_DEMO_TASKS (default 2,000) small hashing tasks through
// the default pool, about 10% of attempts failing at random, with a live
// progress line and a summary at the end.
import { createProcessor, type FailedResult, type TaskResult } from '../src/index.js';
import type { HashJob } from './demo-handlers.js';

const DEFAULT_TASKS = 2_000;
const FAILURE_RATE = 0.1;
const ROUNDS = 400; // about 0.3 ms of SHA-256 per attempt
const MAX_RETRIES = 2; // so that, at 10% per attempt, about 1 task in 1,000 fails for good
const REDRAW_MS = 100;

function taskCount(): number {
  const raw = process.env.TROUPE_DEMO_TASKS;
  if (raw === undefined || raw === '') return DEFAULT_TASKS;
  const count = Number(raw);
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new TypeError(`Expected \`TROUPE_DEMO_TASKS\` to be a positive integer, got \`${raw}\``);
  }
  return count;
}

const total = taskCount();
const tty = process.stdout.isTTY === true;

const processor = createProcessor({
  handlers: new URL('./demo-handlers.ts', import.meta.url),
  maxRetries: MAX_RETRIES,
  backoff: { delay: 10 },
});

let retries = 0;
processor.events.subscribe((event) => {
  if (event.type === 'task.retrying') retries++;
});

const startup = performance.now();
await processor.ready;
const { workers } = processor.getStatus();
console.log(
  `Troupe demo: ${total} tasks on ${workers} worker threads ` +
    `(started in ${Math.round(performance.now() - startup)} ms)`,
);

const started = performance.now();
let finished = 0;
let nextMilestone = 1; // in quarters of `total`, for logs that are not a terminal

function progressLine(): string {
  const { queued, processing, retrying, done, failed } = processor.getStatus();
  const width = 24;
  const filled = Math.round((finished / total) * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return (
    `[${bar}] ${finished}/${total}  done ${done}  failed ${failed}  retries ${retries}  ` +
    `queued ${queued}  running ${processing}  backing off ${retrying}  ${seconds} s`
  );
}

function draw(): void {
  process.stdout.write(`\r${progressLine()}\x1b[K`);
}

// A terminal gets one line redrawn at most 10 times a second; a log gets a line per quarter.
const redraw = tty ? setInterval(draw, REDRAW_MS) : undefined;

function onFinished(): void {
  finished++;
  if (tty) return;
  let crossed = false;
  while (nextMilestone <= 4 && finished >= (total * nextMilestone) / 4) {
    crossed = true;
    nextMilestone++;
  }
  if (crossed) console.log(progressLine());
}

const pending: Promise<TaskResult<string>>[] = [];
for (let i = 0; i < total; i++) {
  const job: HashJob = { text: `task ${i}`, rounds: ROUNDS, failureRate: FAILURE_RATE };
  const id = processor.submit({ id: `hash-${i}`, payload: job });
  const result = processor.result<string>(id);
  void result.then(onFinished);
  pending.push(result);
}
const results = await Promise.all(pending);
const wall = performance.now() - started;

if (redraw !== undefined) {
  clearInterval(redraw);
  draw();
  process.stdout.write('\n');
}

const done = results.filter((result) => result.status === 'done').length;
const failed = results.filter((result): result is FailedResult => result.status === 'failed');
console.log(
  [
    'Summary',
    `  done        ${done}`,
    `  failed      ${failed.length}${failed.length > 0 ? ` (each after ${MAX_RETRIES + 1} attempts)` : ''}`,
    `  retries     ${retries}`,
    `  wall time   ${(wall / 1000).toFixed(2)} s`,
    `  throughput  ${Math.round(total / (wall / 1000))} tasks/s`,
  ].join('\n'),
);
for (const result of failed.slice(0, 3)) console.log(`  e.g. ${result.id}: ${result.error.message}`);

const { unfinished } = await processor.shutdown();
// Every task must be accounted for: a demo that lost one should not exit 0.
if (done + failed.length !== total || unfinished.length !== 0) {
  console.error(`Lost tasks: ${total - done - failed.length} unaccounted, ${unfinished.length} unfinished`);
  process.exitCode = 1;
}
