/**
 * Docs cannot rot: every example runs here, and every code block in the docs
 * that names an example file is that file, verbatim.
 */
import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { beforeEach, describe, expect, it } from 'vitest';

import { natsAvailable } from './distributed/nats.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../', import.meta.url));

// The running test's signal: a test that times out kills its example, which
// would otherwise run on (and take the CPU) after the test has failed.
let signal: AbortSignal | undefined;
beforeEach((context) => {
  signal = context.signal;
});

async function runExample(file: string, env: Record<string, string> = {}, args: readonly string[] = []): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${file}`, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    timeout: 60_000,
    ...(signal ? { signal } : {}),
  });
  return stdout;
}

describe('examples run', () => {
  it('quickstart', async () => {
    expect(await runExample('quickstart.ts')).toBe('square-7: 49\ngreet-ada: "Hello, Ada! (task greet-ada, attempt 1)"\n');
  });

  it('embedding-actors: driving thread actors from a statechart keeps the process alive until it ends (6 runs)', async () => {
    // The process must not exit while the actor has events to process: it did in 3 of 8 runs before.
    const outputs = await Promise.all(Array.from({ length: 6 }, () => runExample('embedding-actors.ts')));
    for (const out of outputs) expect(out).toBe("{ owner: 'Ada', paidOut: 70 }\n");
  });

  it('virtual-actors: a key activated by its first event, and resumed from the store in the next run', async () => {
    expect(await runExample('virtual-actors.ts')).toBe('first run: ada has 120\nsecond run: ada has 125\n');
  });

  it('durability: a second run on the same store reads the results of the first and runs its unfinished task', async () => {
    const out = await runExample('durability.ts');
    expect(out).toBe(
      'first run: handed back 0, kept in the store\n' +
        'square-7 from the first run: done\n' +
        'square-9: 81, submitted in the first run, started no earlier than its delay\n',
    );
    // The page shows what it prints.
    expect(readFileSync(`${root}docs/durability.md`, 'utf8')).toContain(`It prints:\n\n\`\`\`\n${out}\`\`\`\n`);
  });

  it('actors: two accounts on worker threads, a transfer and a refused one, a final state', async () => {
    expect(await runExample('actors.ts')).toBe(
      'ada → bob 30: done\n' +
        'bob → ada 500: refused\n' +
        'ada: 70\n' +
        'bob: 50\n' +
        'bob closed: {"owner":"Bob","paidOut":50}; live: ada\n',
    );
  });

  it('scaling: an elastic pool grows for a burst, shrinks when idle, and scale(n) resizes it', async () => {
    expect(await runExample('scaling.ts')).toBe(
      'done: 300 of 300\n' +
        'idle: 1 thread\n' +
        'scaled: 3 threads\n' +
        'sizes: 2 (grow), 3 (grow), 4 (grow), 3 (shrink), 2 (shrink), 1 (shrink), 3 (scale)\n',
    );
  });

  it('retries', async () => {
    const out = await runExample('retries.ts');
    expect(out).toContain('fetch-1: done after 3 attempts');
    expect(out).toContain('parse-1 callback: failed');
    expect(out).toMatch(/failed: parse-1 after 2 attempts/);
    expect(out).toContain('unfinished: export-1');
    expect(out).toContain('export-1: cancelled');
  });

  it('reliability', async () => {
    expect(await runExample('reliability.ts')).toBe(
      [
        'stuck: failed, TaskTimeoutError after 2 attempts',
        'poison: failed, PoisonTaskError after 2 attempts',
        'report: cancelled, no longer needed',
        'handed back: a, b, c',
        'status: {"workers":2,"scheduled":0,"queued":0,"processing":0,"retrying":0,"done":0,"failed":2,"cancelled":4,"shutdown":true,"state":"stopped"}',
        '',
      ].join('\n'),
    );
  });

  it('scheduling', async () => {
    expect(await runExample('scheduling.ts')).toBe(
      [
        'urgent report finished ahead of over 100 bulk ones',
        'reminder: scheduled',
        'reminder: done, not before its time',
        'backpressure: never more than 300 waiting (maxQueue 300)',
        'page 14 is queued, held by rateLimit',
        '15 pages in at least 200 ms',
        'uploads: at most 1 at once',
        '',
      ].join('\n'),
    );
  });

  it('events', async () => {
    expect(await runExample('events.ts')).toBe(
      [
        'flaky: queued → processing → retrying → queued → processing → retrying → queued → processing → done',
        'retries: flaky ×2',
        'failed: parse-7 (SyntaxError)',
        'status updates for 20 tasks: fewer than 20',
        '',
      ].join('\n'),
    );
  });

  it('order workflow (a processor invoked by an app statechart)', async () => {
    expect(await runExample('order-workflow.ts')).toBe('order 42: ready\nthumbnails: 64, 128, 256\nchecksum: d0c38ba7b371\n');
  });

  it('metrics', async () => {
    expect(await runExample('metrics.ts')).toBe(
      [
        'finished: 39 done, 1 failed; 30 retries',
        'throughput: 40 in the last minute',
        'run time measured: 70 attempts, p50 ≤ p99 ≤ max: true',
        'queue wait measured: 70 times',
        'troupe_tasks_submitted_total 40',
        'troupe_tasks_finished_total{status="done"} 39',
        'troupe_tasks_finished_total{status="failed"} 1',
        'troupe_task_retries_total 30',
        '',
      ].join('\n'),
    );
  });

  it('tracing (docs/observability.md): the spans of a retried and a failed task under the request that submitted them', async () => {
    expect(await runExample('tracing.ts')).toBe(
      [
        'POST /orders/42',
        '  troupe.task (charge-42, 2 attempt(s)): done',
        '    troupe.attempt (attempt 1): retrying, ERROR card declined',
        '    troupe.attempt (attempt 2): done',
        '  troupe.task (receipt-42, 1 attempt(s)): failed, ERROR mail server down',
        '    troupe.attempt (attempt 1): failed, ERROR mail server down',
        "the charge's handler continued its attempt's span: true",
        'metrics: 1 done, 1 failed, 1 retry',
        '',
      ].join('\n'),
    );
  });

  it('inspection over a WebSocket on loopback, with @statelyai/inspect', async () => {
    expect(await runExample('inspection.ts')).toBe(
      [
        'actors: troupe.supervisor, troupe.task.report, troupe.worker.1',
        'report: queued.ready → processing → retrying → queued.ready → processing → done',
        '',
      ].join('\n'),
    );
  });

  it('the troupe command on examples/cli-tasks.jsonl (docs/cli.md)', async () => {
    const run = promisify(execFile);
    const cli = [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'run',
      'examples/cli-handlers.ts',
      '--input',
      'examples/cli-tasks.jsonl',
      '--max-retries',
      '0',
    ];
    const failure = await run(process.execPath, cli, { cwd: root, timeout: 60_000, ...(signal ? { signal } : {}) }).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    const documented = readFileSync(`${root}docs/cli.md`, 'utf8');
    // Results come in finishing order: the documented lines, in any order.
    for (const line of failure?.stdout.trim().split('\n') ?? []) expect(documented).toContain(line);
    expect(failure?.stdout.trim().split('\n')).toHaveLength(4);
    expect(failure?.stderr).toContain('troupe: line 4: not JSON (Unexpected end of JSON input)');
    expect(failure?.stderr).toMatch(/failed\s+2 \(1 invalid line\)\n/);
  });

  it('the usage errors docs/cli.md shows are what the command prints (`…` for the checkout)', async () => {
    const documented = readFileSync(`${root}docs/cli.md`, 'utf8');
    const block = /\n( *)```\n( *\$ npm run -s troupe -- [\s\S]*?)\n *```\n/.exec(documented);
    const indent = block?.[1] ?? '';
    const lines = (block?.[2] ?? '').split('\n').map((line) => line.slice(indent.length));
    const commands = lines.flatMap((line, i) => (line.startsWith('$ ') ? [i] : []));
    expect(commands).toHaveLength(2);
    for (const [n, at] of commands.entries()) {
      const args = (lines[at] as string).replace('$ npm run -s troupe -- ', '').split(' ');
      const expected = lines.slice(at + 1, commands[n + 1]).join('\n');
      const failure = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        cwd: root,
        timeout: 60_000,
        ...(signal ? { signal } : {}),
      }).then(
        () => undefined,
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(failure?.code, lines[at]).toBe(2);
      expect(failure?.stdout).toBe('');
      expect(failure?.stderr.replaceAll(root.slice(0, -1), '…').trimEnd()).toBe(expected);
    }
  });

  it('dashboard', async () => {
    expect(await runExample('dashboard.ts')).toBe(
      [
        'dashboard at http://127.0.0.1:<port>/#token=<token>',
        'failed: parse-bad',
        'parse-bad: SyntaxError; queued → processing → failed',
        'export: done after a cancel and a retry',
        'without the token: 401',
        '',
      ].join('\n'),
    );
  });

  it('the demo (npm start): each progress line agrees with itself, and the summary counts every task', { timeout: 60_000 }, async () => {
    // 2,000 tasks, as `npm start` runs: results come in batches, and a quarter's line falls inside one.
    const out = await runExample('demo.ts', { TROUPE_DEMO_TASKS: '2000' });
    const lines = out.split('\n').filter((line) => line.startsWith('['));
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      const [, hashes, finished, done, failed] = /^\[(#*)\.*\] (\d+)\/2000 {2}done (\d+) {2}failed (\d+) /.exec(line) ?? [];
      // The bar, the count and the done and failed counts beside them: one reading.
      expect(Number(done) + Number(failed), line).toBe(Number(finished));
      expect(hashes?.length, line).toBe(Math.round((Number(finished) / 2000) * 24));
    }
    expect(lines.at(-1)).toMatch(/^\[#{24}\] 2000\/2000 /);
    const summary = out.slice(out.indexOf('Summary'));
    const done = Number(/done\s+(\d+)/.exec(summary)?.[1]);
    const failed = Number(/failed\s+(\d+)/.exec(summary)?.[1]);
    expect(done + failed).toBe(2000);
    expect(out).toMatch(/tasks\/s/);
  });
});

// These need a NATS server with JetStream at NATS_URL (`nats-server -js`): skipped
// with a message without one, except in CI, where they must run.
describe('examples on NATS JetStream', () => {
  it('distributed: two nodes and a client', async (context) => {
    context.skip(!(await natsAvailable()), 'no NATS server');
    expect(await runExample('distributed.ts')).toBe(
      [
        'fetch-1: done after 2 attempts: fetched https://example.com/a.jpg on attempt 2',
        'huge-1: failed after 1 attempt: ImageTooLargeError (ERR_IMAGE_TOO_LARGE)',
        'img-1: done after 1 attempt: 160×90',
        'img-2: done after 1 attempt: 90×160',
        'img-3: done after 1 attempt: 160×120',
        'img-4: done after 1 attempt: 160×160',
        'img-1 again: refused, DuplicateTaskError',
        'img-3 read by a node: 160×120',
        'wait-1: cancel requested: true',
        'wait-1: cancelled, no longer needed',
        '',
      ].join('\n'),
    );
  });

  // Two processes under tsx and 2,000 tasks: slow on a loaded machine.
  it('the demo as a node (npm start -- --nats) and a client (npm start -- --nats --client)', { timeout: 60_000 }, async (context) => {
    context.skip(!(await natsAvailable()), 'no NATS server');
    const node = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts', '--nats'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(signal ? { signal } : {}),
    });
    let logged = '';
    const exited = new Promise<number | null>((resolve) => node.once('close', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        node.stdout.on('data', (chunk: Buffer) => {
          logged += chunk.toString();
          if (logged.includes('Waiting for tasks')) resolve();
        });
        node.stderr.on('data', (chunk: Buffer) => (logged += chunk.toString()));
        void exited.then((code) => reject(new Error(`the node exited (${code}) before it was up:\n${logged}`)));
      });
      // Enough tasks that the stream's backlog is read (once a second) while some still wait.
      const out = await runExample('demo.ts', { TROUPE_DEMO_TASKS: '2000' }, ['--nats', '--client']);
      const summary = out.slice(out.indexOf('Summary'));
      const done = Number(/done\s+(\d+)/.exec(summary)?.[1]);
      const failed = Number(/failed\s+(\d+)/.exec(summary)?.[1]);
      expect(done + failed).toBe(2000);
      // A finished run's last line says nothing of it waits or runs (it said `2000/2000  waiting 605`).
      const last = out.split('\n').findLast((line) => line.startsWith('['));
      expect(last).toMatch(/^\[#{24}\] 2000\/2000 {2}waiting 0 {2}running 0 {2}nodes \d+ /);
      expect(summary).toMatch(new RegExp(`nodes .*node-${node.pid} \\d+`));
    } finally {
      node.kill('SIGTERM');
    }
    // Ctrl-C or SIGTERM: the node shuts down cleanly and exits by itself.
    expect(await exited).toBe(0);
    expect(logged).toMatch(/node-\d+ stopped: \d+ done, \d+ failed here/);
  });
});

describe('docs', () => {
  const pagesIn = (folder: string) =>
    readdirSync(`${root}${folder}`)
      .filter((f) => f.endsWith('.md'))
      .map((f) => `${folder}/${f}`);
  // The pages of each part's detail (docs/internals/) are held to the same rules.
  const pages = ['README.md', ...pagesIn('docs'), ...pagesIn('docs/internals')];
  const blocks = (page: string) =>
    [...readFileSync(`${root}${page}`, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string);

  it.each(pages)('%s: blocks that name an example are that example, verbatim', (page) => {
    for (const block of blocks(page)) {
      const named = /^\/\/ (examples\/[\w.-]+\.ts)\n/.exec(block);
      if (named) expect(block, `${page} quotes ${named[1]}`).toBe(readFileSync(`${root}${named[1]}`, 'utf8'));
    }
  });

  it.each(pages.filter((page) => page.startsWith('docs/')))('%s opens with a complete example', (page) => {
    expect(blocks(page)[0]).toMatch(/^\/\/ examples\//);
  });
});
