// examples/demo.ts
// `npm start`: runs TROUPE_DEMO_TASKS (default 2,000) small hashing tasks through
// the default pool, about 10% of attempts failing at random, with a live
// progress line and a summary at the end.
//
// On NATS JetStream (a server at NATS_URL, default nats://127.0.0.1:4222), the
// same work shared by several processes through the stream `troupe_demo`:
// `npm start -- --nats` is a worker node, running until Ctrl-C;
// `npm start -- --nats --client` submits the tasks to the nodes, shows their
// progress and a summary (with each node's share), and exits.
import {
  BrokerError,
  createProcessor,
  type FailedResult,
  type NatsBroker,
  natsBroker,
  type Processor,
  type TaskResult,
} from '../src/index.js';
import type { HashJob } from './demo-handlers.js';

const DEFAULT_TASKS = 2_000;
const FAILURE_RATE = 0.1;
const ROUNDS = 400; // about 0.3 ms of SHA-256 per attempt
const MAX_RETRIES = 2; // so that, at 10% per attempt, about 1 task in 1,000 fails for good
const REDRAW_MS = 100;
const STREAM = 'troupe_demo';
/** Nodes publish their counts once a second: the client waits this long for their last ones. */
const BEAT_MS = 1_200;

function taskCount(): number {
  const raw = process.env.TROUPE_DEMO_TASKS;
  if (raw === undefined || raw === '') return DEFAULT_TASKS;
  const count = Number(raw);
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new TypeError(`Expected \`TROUPE_DEMO_TASKS\` to be a positive integer, got \`${raw}\``);
  }
  return count;
}

function demoMode(args: readonly string[]): 'local' | 'node' | 'client' {
  const unknown = args.filter((arg) => arg !== '--nats' && arg !== '--client');
  if (unknown.length > 0) throw new TypeError(`Expected \`--nats\` or \`--nats --client\`, got \`${unknown.join(' ')}\``);
  if (!args.includes('--nats')) {
    if (args.includes('--client')) throw new TypeError('Expected `--client` with `--nats`');
    return 'local';
  }
  return args.includes('--client') ? 'client' : 'node';
}

const mode = demoMode(process.argv.slice(2));
const tty = process.stdout.isTTY === true;
const handlers = new URL('./demo-handlers.ts', import.meta.url);

function bar(finished: number, total: number): string {
  const width = 24;
  const filled = Math.round((finished / total) * width);
  return '#'.repeat(filled) + '.'.repeat(width - filled);
}

/** One reading of a run's counts: the tasks finished, and the line that shows this reading. */
interface Reading {
  readonly finished: number;
  readonly line: string;
}

/**
 * The progress of `total` tasks: on a terminal one line redrawn at most 10
 * times a second, in a log a line per quarter. Each line comes from one
 * `read()`, bar and counts alike, so they agree: a bar counted in the results'
 * callbacks beside counts from `getStatus()` read `500/2000  done 501`, as the
 * processor counts a batch of results before their callbacks run. The last
 * line is `stop()`'s, drawn once the counts beside the bar are final.
 */
function progress(total: number, read: () => Reading): { changed(): void; stop(): void } {
  let nextMilestone = 1; // in quarters of `total`
  const draw = () => process.stdout.write(`\r${read().line}\x1b[K`);
  const redraw = tty ? setInterval(draw, REDRAW_MS) : undefined;
  return {
    /** A task finished: in a log, the line, once the count reaches the next quarter (but the last). */
    changed() {
      if (tty) return;
      const { finished, line } = read();
      if (finished >= total) return;
      let crossed = false;
      while (finished >= (total * nextMilestone) / 4) {
        crossed = true;
        nextMilestone++;
      }
      if (crossed) console.log(line);
    },
    stop() {
      if (!tty) return void console.log(read().line);
      clearInterval(redraw);
      draw();
      process.stdout.write('\n');
    },
  };
}

function summary(results: readonly TaskResult<string>[], retries: number, wall: number, extra: readonly string[] = []): FailedResult[] {
  const done = results.filter((result) => result.status === 'done').length;
  const failed = results.filter((result): result is FailedResult => result.status === 'failed');
  console.log(
    [
      'Summary',
      `  done        ${done}`,
      `  failed      ${failed.length}${failed.length > 0 ? ` (each after ${MAX_RETRIES + 1} attempts)` : ''}`,
      `  retries     ${retries}`,
      `  wall time   ${(wall / 1000).toFixed(2)} s`,
      `  throughput  ${Math.round(results.length / (wall / 1000))} tasks/s`,
      ...extra,
    ].join('\n'),
  );
  for (const result of failed.slice(0, 3)) console.log(`  e.g. ${result.id}: ${result.error.message}`);
  return failed;
}

/** Submits `total` tasks and waits for every result. */
function submitAll(processor: Processor, total: number, prefix: string, onFinished: () => void): Promise<TaskResult<string>[]> {
  const pending: Promise<TaskResult<string>>[] = [];
  for (let i = 0; i < total; i++) {
    const job: HashJob = { text: `task ${i}`, rounds: ROUNDS, failureRate: FAILURE_RATE };
    const id = processor.submit({ id: `${prefix}hash-${i}`, payload: job });
    const result = processor.result<string>(id);
    void result.then(onFinished);
    pending.push(result);
  }
  return Promise.all(pending);
}

/** Every task must be accounted for: a demo that lost one should not exit 0. */
async function finish(processor: Processor, total: number, results: readonly TaskResult[]): Promise<void> {
  const { unfinished } = await processor.shutdown();
  const ended = results.filter((result) => result.status === 'done' || result.status === 'failed').length;
  if (ended !== total || unfinished.length !== 0) {
    console.error(`Lost tasks: ${total - ended} unaccounted, ${unfinished.length} unfinished`);
    process.exitCode = 1;
  }
}

// ── npm start: one process, its own pool ─────────────────────────────────────

async function runLocal(): Promise<void> {
  const total = taskCount();
  const processor = createProcessor({ handlers, maxRetries: MAX_RETRIES, backoff: { delay: 10 } });

  let retries = 0;
  processor.events.subscribe((event) => {
    if (event.type === 'task.retrying') retries++;
  });

  const startup = performance.now();
  await processor.ready;
  const { workers } = processor.getStatus();
  console.log(`Troupe demo: ${total} tasks on ${workers} worker threads ` + `(started in ${Math.round(performance.now() - startup)} ms)`);

  const started = performance.now();
  const shown = progress(total, () => {
    const { queued, processing, retrying, done, failed } = processor.getStatus();
    const finished = done + failed;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const line =
      `[${bar(finished, total)}] ${finished}/${total}  done ${done}  failed ${failed}  retries ${retries}  ` +
      `queued ${queued}  running ${processing}  backing off ${retrying}  ${seconds} s`;
    return { finished, line };
  });
  const results = await submitAll(processor, total, '', () => shown.changed());
  const wall = performance.now() - started;
  shown.stop();

  summary(results, retries, wall);
  await finish(processor, total, results);
}

// ── npm start -- --nats: a worker node ───────────────────────────────────────

/** `ready`, or a message saying how to get a server when there is none. */
async function connected(processor: Processor, broker: NatsBroker): Promise<boolean> {
  try {
    await processor.ready;
    return true;
  } catch (error) {
    if (!(error instanceof BrokerError)) throw error;
    console.error(`${error.message}: start one with \`nats-server -js\`, or set NATS_URL (now ${broker.servers.join(', ')})`);
    process.exitCode = 1;
    await processor.shutdown();
    return false;
  }
}

/**
 * The same settings in every demo process: each one brings the stream and
 * its consumer to them. In memory, results kept 10 minutes: the demo leaves
 * nothing behind on the server. A node that is killed has its tasks
 * delivered to the others after 5 s (`ackWait`), not the default 30 s.
 */
function demoBroker(name?: string): NatsBroker {
  return natsBroker({ stream: STREAM, storage: 'memory', resultTtl: 600_000, ackWait: 5_000, ...(name ? { name } : {}) });
}

async function runNode(): Promise<void> {
  const name = `node-${process.pid}`;
  const broker = demoBroker(name);
  const processor = createProcessor({ handlers, maxRetries: MAX_RETRIES, backoff: { delay: 10 }, broker });
  if (!(await connected(processor, broker))) return;
  const { workers } = processor.getStatus();
  console.log(`Troupe demo node ${name}: ${workers} worker threads on stream ${STREAM} at ${broker.servers.join(', ')}`);
  console.log('Waiting for tasks from `npm start -- --nats --client`; Ctrl-C to stop.');

  const line = () => {
    const { queued, processing, done, failed } = processor.getStatus();
    return `${name}: done ${done}  failed ${failed}  retries ${processor.metrics().retries}  queued ${queued}  running ${processing}`;
  };
  // A terminal gets one line redrawn; a log gets a line a second while anything changes.
  let last = '';
  const redraw = setInterval(
    () => {
      const now = line();
      if (tty) process.stdout.write(`\r${now}\x1b[K`);
      else if (now !== last) console.log(now);
      last = now;
    },
    tty ? REDRAW_MS : 1_000,
  );

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(redraw);
  if (tty) process.stdout.write(`\r${line()}\x1b[K\n`);
  // Running attempts finish here; tasks waiting on this node go back to the stream for the others.
  await processor.shutdown();
  const { done, failed } = processor.getStatus();
  console.log(`${name} stopped: ${done} done, ${failed} failed here; what it held went back to the stream.`);
}

// ── npm start -- --nats --client: submits, shows progress, exits ─────────────

async function runClient(): Promise<void> {
  const total = taskCount();
  const broker = demoBroker();
  // No threads: the nodes run the tasks. maxRetries travels with each task.
  const processor = createProcessor({ workers: 0, maxRetries: MAX_RETRIES, broker });
  if (!(await connected(processor, broker))) return;

  const nodes = () => processor.getStatus().cluster?.nodes ?? [];
  // The nodes' status arrives a moment after connecting.
  for (let waited = 0; nodes().length === 0 && waited < BEAT_MS; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  // Each node's tasks finished since it started: when this run began, and as last heard (a node may stop meanwhile;
  // what it finished in its last second is not heard of).
  const before = new Map(nodes().map((node) => [node.node, node.done + node.failed]));
  const latest = new Map(before);
  const listen = setInterval(() => {
    for (const node of nodes()) latest.set(node.node, node.done + node.failed);
  }, REDRAW_MS);
  console.log(
    `Troupe demo client: ${total} tasks to stream ${STREAM} at ${broker.servers.join(', ')}, ${before.size} node${before.size === 1 ? '' : 's'} running`,
  );
  if (before.size === 0) console.log('No node yet: the tasks wait in the stream until `npm start -- --nats` runs.');

  // Ids of this run's own: the stream refuses an id it saw in the last 2 minutes.
  const run = Date.now().toString(36);
  const started = performance.now();
  let finished = 0;
  let wall: number | undefined;
  const cluster = () => {
    const { waiting = 0, nodes: live = [] } = processor.getStatus().cluster ?? {};
    return { waiting, running: live.reduce((sum, node) => sum + node.processing, 0), nodes: live.length };
  };
  const shown = progress(total, () => {
    const { waiting, running, nodes: live } = cluster();
    const seconds = ((wall ?? performance.now() - started) / 1000).toFixed(1);
    return {
      finished,
      line: `[${bar(finished, total)}] ${finished}/${total}  waiting ${waiting}  running ${running}  nodes ${live}  ${seconds} s`,
    };
  });
  const results = await submitAll(processor, total, `${run}-`, () => {
    finished++;
    shown.changed();
  });
  wall = performance.now() - started;

  // Each node's share, from the counts the nodes publish once a second. The stream's backlog (`waiting`) is read
  // once a second too: until a reading after the last result, the line can show tasks of this run waiting or
  // running (`2000/2000  waiting 605`). So the last line waits for them as well, a little longer when a reading is
  // late; tasks of other clients, if any, still show.
  await new Promise((resolve) => setTimeout(resolve, BEAT_MS));
  for (let waited = 0; waited < 2 * BEAT_MS; waited += REDRAW_MS) {
    const { waiting, running } = cluster();
    if (waiting === 0 && running === 0) break;
    await new Promise((resolve) => setTimeout(resolve, REDRAW_MS));
  }
  shown.stop();
  clearInterval(listen);
  const live = new Set(nodes().map((node) => node.node));
  const shares = [...latest]
    .map(([node, finished]) => {
      const share = finished - (before.get(node) ?? 0);
      return live.has(node) ? `${node} ${share}` : `${node} at least ${share} (stopped)`;
    })
    .sort();
  const retries = results.reduce((sum, result) => sum + result.attempts - 1, 0);
  summary(results, retries, wall, [`  nodes       ${shares.join(', ') || 'none seen'}`]);
  await finish(processor, total, results);
}

await (mode === 'local' ? runLocal() : mode === 'node' ? runNode() : runClient());
