/**
 * Failures with real processes against a real NATS JetStream server: a node
 * killed with SIGKILL mid-run, a client killed after submitting, the server
 * itself restarted mid-run. Each checks that every id ends with exactly one
 * stored terminal result and that nothing is lost.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';

import { createProcessor, natsBroker, type Processor, type TaskResult } from '../../src/index.js';
import { handlers } from '../helpers/index.js';
import { NATS_URL, natsAvailable, natsServerBinary, PrivateServer, removeStream, uniqueStream } from './nats.js';

const available = await natsAvailable();
const ACK_WAIT = 1_500;

interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Ids whose attempts it started, as it reported them. */
  readonly started: string[];
}

const children = new Set<ChildProcess>();
const processors: Processor[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  await Promise.all(processors.splice(0).map((processor) => processor.shutdown({ timeout: 1_000 })));
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function forkScript(script: string, env: Record<string, string>): ChildProcess {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  return child;
}

async function startNode(url: string, stream: string, concurrency = 8): Promise<Child> {
  const child = forkScript('./node-process.ts', {
    NATS_URL: url,
    STREAM: stream,
    ACK_WAIT: String(ACK_WAIT),
    CONCURRENCY: String(concurrency),
  });
  const started: string[] = [];
  const ready = new Promise<number>((resolve, reject) => {
    child.on('message', (message: { type: string; ids?: string[]; pid?: number }) => {
      if (message.type === 'ready') resolve(message.pid as number);
      else if (message.type === 'started') started.push(...(message.ids as string[]));
    });
    child.once('exit', (code) => reject(new Error(`node process exited with ${code} before it was ready`)));
  });
  return { process: child, pid: await ready, started };
}

/** Waits until every start the node reported so far is in `node.started`. */
async function flushStarts(node: Child): Promise<void> {
  // One listener for the whole wait: `once` in a loop would miss a message
  // emitted in the same turn as the one before it.
  const flushed = new Promise<void>((resolve) => {
    const listener = (message: { type: string }) => {
      if (message.type !== 'flushed') return;
      node.process.off('message', listener);
      resolve();
    };
    node.process.on('message', listener);
  });
  node.process.send({ type: 'flush' });
  await flushed;
}

/** Every put the results bucket ever took: one per id means no result was stored twice. */
async function resultsStored(url: string, stream: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.streams.info(`KV_${stream}-results`)).state.last_seq;
  } finally {
    await nc.close();
  }
}

function client(url: string, stream: string): Processor {
  const processor = createProcessor({ workers: 0, broker: natsBroker({ servers: url, stream }) });
  processors.push(processor);
  return processor;
}

/** Three node processes and a client on a fresh stream of the shared server, removed after the test. */
async function threeNodesAndAClient(label: string): Promise<{ stream: string; nodes: Child[]; submitter: Processor }> {
  const stream = uniqueStream(label);
  cleanups.push(() => removeStream(stream));
  const nodes = await Promise.all([startNode(NATS_URL, stream), startNode(NATS_URL, stream), startNode(NATS_URL, stream)]);
  const submitter = client(NATS_URL, stream);
  await submitter.ready;
  return { stream, nodes, submitter };
}

type Told = TaskResult<{ pid: number; attempt: number }>;

describe.skipIf(!available)(`failures with real processes (${NATS_URL})`, () => {
  it(
    'loses nothing when a node is killed with SIGKILL mid-run: its tasks are redelivered and finish elsewhere',
    { timeout: 60_000 },
    async () => {
      const { stream, nodes, submitter } = await threeNodesAndAClient('sigkill');
      const total = 2_000;
      // 25 ms a task: the victim, killed just as it reports a start, still holds that attempt.
      const ids = Array.from({ length: total }, (_, n) => submitter.submit({ id: `k${n}`, handler: 'napAndTell', payload: { ms: 25 } }));
      const results = Promise.all(ids.map((id) => submitter.result(id) as Promise<Told>));

      const victim = nodes[0] as Child;
      while (victim.started.length < 100) await once(victim.process, 'message');
      victim.process.kill('SIGKILL');
      const killedAt = victim.started.length;

      const finished = await results;
      expect(finished.map((result) => result.status)).toEqual(ids.map(() => 'done'));
      expect(new Set(finished.map((result) => result.id)).size).toBe(total);
      // What the victim held when it died (running, or waiting in its prefetch) was delivered
      // again and ran on another node: the only way a task that never fails takes a second attempt.
      const redelivered = finished.filter((result) => result.attempts > 1);
      expect(redelivered.length).toBeGreaterThan(0);
      for (const result of redelivered) expect(result.status === 'done' && result.value.pid).not.toBe(victim.pid);
      // Exactly one stored terminal result per id: the bucket took one put per task, no more.
      const stored = await resultsStored(NATS_URL, stream);
      expect(stored).toBe(total);
      console.log(
        `SIGKILL test: the victim had reported ${killedAt} starts when it was killed; ${redelivered.length} tasks were delivered again ` +
          `and finished on another node; results stored: ${stored} for ${total} ids (duplicates stored: ${stored - total})`,
      );
    },
  );

  it(
    'fails a task that takes its node down on every delivery, once its attempts are spent, before it takes them all',
    { timeout: 60_000 },
    async () => {
      const { nodes, submitter } = await threeNodesAndAClient('poison');
      const poison = submitter.submit({ id: 'poison', handler: 'killProcess', payload: null, maxRetries: 1 });
      const result = await submitter.result(poison);
      expect(result).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'ERR_POISON_TASK', crashes: 2 } });
      // Two deliveries took two nodes down; the third node stored the failure without running it, and still works.
      const alive = nodes.filter((node) => node.process.exitCode === null && node.process.signalCode === null);
      expect(alive).toHaveLength(1);
      const after = submitter.submit({ id: 'after', handler: 'napAndTell', payload: { ms: 1 } });
      expect(await submitter.result(after)).toMatchObject({ status: 'done', value: { pid: (alive[0] as Child).pid } });
    },
  );

  it('runs each id once when two client processes submit the same ids at once', { timeout: 60_000 }, async () => {
    const stream = uniqueStream('twins');
    cleanups.push(() => removeStream(stream));
    const node = await startNode(NATS_URL, stream, 20);
    const count = 200;
    const clients = [0, 1].map(() => forkScript('./client-process.ts', { NATS_URL, STREAM: stream, COUNT: String(count), PREFIX: 'd' }));
    type Submitted = { accepted: string[]; refused: string[] };
    const submitted = await Promise.all(clients.map((child) => once(child, 'message').then(([message]) => message as Submitted)));
    // The stream took each id from exactly one of them; the other was told DuplicateTaskError.
    const accepted = submitted.flatMap((report) => report.accepted);
    expect(accepted.sort()).toEqual(Array.from({ length: count }, (_, n) => `d${n}`).sort());
    expect(submitted.flatMap((report) => report.refused)).toEqual(Array.from({ length: count }, () => 'DuplicateTaskError'));
    for (const child of clients) child.send({ type: 'await' });
    const results = await Promise.all(
      clients.map((child) => once(child, 'message').then(([message]) => (message as { statuses: string[] }).statuses)),
    );
    expect(results.flat()).toEqual(accepted.map(() => 'done'));
    // And each ran once: the node started every id once, no id twice. Its last
    // starts may still wait in its batch for the next turn: ask for them first.
    await flushStarts(node);
    expect(node.started.length).toBe(count);
    expect(new Set(node.started).size).toBe(count);
    expect(await resultsStored(NATS_URL, stream)).toBe(count);
  });

  it('gives a restarted client the results of what its predecessor submitted, from the results bucket', { timeout: 60_000 }, async () => {
    const stream = uniqueStream('client');
    cleanups.push(() => removeStream(stream));
    const node = createProcessor({ handlers, workers: 1, concurrency: 20, broker: natsBroker({ stream }) });
    processors.push(node);
    await node.ready;
    const count = 300;
    const first = forkScript('./client-process.ts', { NATS_URL, STREAM: stream, COUNT: String(count), PREFIX: 'c' });
    await once(first, 'message');
    first.kill('SIGKILL');
    await once(first, 'exit');

    const second = client(NATS_URL, stream);
    await second.ready;
    const results = await Promise.all(Array.from({ length: count }, (_, n) => second.result(`c${n}`)));
    expect(results.map((result) => result.status)).toEqual(results.map(() => 'done'));
  });

  const binary = natsServerBinary();
  if (!binary && process.env['CI']) throw new Error('CI must run the server-restart test, but no nats-server binary was found');
  it.skipIf(!binary)(
    'ends every task a server without file storage lost, failed, and works again after it',
    { timeout: 60_000 },
    async () => {
      const server = await PrivateServer.start(binary as string);
      cleanups.push(() => server.dispose());
      const broker = natsBroker({ servers: server.url, stream: uniqueStream('memory'), storage: 'memory', ackWait: ACK_WAIT });
      const node = createProcessor({ handlers, workers: 1, broker });
      const submitter = createProcessor({ workers: 0, broker });
      processors.push(node, submitter);
      await Promise.all([node.ready, submitter.ready]);
      const started = firstValueFrom(node.events.pipe(filter((event) => event.type === 'task.started')));
      const ids = Array.from({ length: 30 }, (_, n) => submitter.submit({ id: `m${n}`, handler: 'sleep', payload: { ms: 100 } }));
      const results = Promise.all(ids.map((id) => submitter.result(id)));
      await started;
      await server.down();
      await server.up();
      // The stream went with the server: what it held ends failed, none waits forever.
      const ended = await results;
      const lost = ended.filter((result) => result.status === 'failed');
      expect(lost.length).toBeGreaterThan(0);
      for (const result of lost)
        expect(result).toMatchObject({ error: { code: 'ERR_BROKER', message: expect.stringContaining('lost it') } });
      expect(ended.every((result) => result.status === 'done' || result.status === 'failed')).toBe(true);
      // The stream, consumers and buckets are back: new work flows.
      const after = await submitter.submitAsync({ id: 'after-restart', handler: 'sleep', payload: { ms: 1 } });
      expect(await submitter.result(after)).toMatchObject({ status: 'done' });
    },
  );

  it.skipIf(!binary)('loses nothing when the NATS server restarts mid-run (file storage)', { timeout: 90_000 }, async () => {
    const server = await PrivateServer.start(binary as string);
    cleanups.push(() => server.dispose());
    const stream = uniqueStream('restart');
    const nodes = await Promise.all([startNode(server.url, stream), startNode(server.url, stream)]);
    const submitter = client(server.url, stream);
    await submitter.ready;
    let finished = 0;
    let quarterDone!: () => void;
    const quarter = new Promise<void>((resolve) => (quarterDone = resolve));
    const submit = (n: number) =>
      submitter.submit({ id: `r${n}`, handler: 'napAndTell', payload: { ms: 10 }, callback: () => ++finished === 150 && quarterDone() });
    const before = Array.from({ length: 600 }, (_, n) => submit(n));
    const results = before.map((id) => submitter.result(id));
    await quarter;
    await server.down();
    // Submitted while the server is away: published once it is back.
    const during = Array.from({ length: 200 }, (_, n) => submit(600 + n));
    results.push(...during.map((id) => submitter.result(id)));
    await server.up();

    const all = await Promise.all(results);
    expect(all.map((result) => result.status)).toEqual(all.map(() => 'done'));
    expect(await resultsStored(server.url, stream)).toBe(800);
    await Promise.all(nodes.map(flushStarts));
    expect(nodes.every((node) => node.started.length > 0)).toBe(true);
  });
});
