/**
 * The broker mode against a real NATS JetStream server, with every node in
 * this process: what each call promises across nodes. The failure tests with
 * real processes are in failover.test.ts.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { filter, firstValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';

import { encodeEvents } from '../../src/broker/codec.js';
import {
  BrokerError,
  createProcessor,
  DuplicateTaskError,
  InvalidActorError,
  InvalidOptionError,
  natsBroker,
  type NatsBrokerOptions,
  type Processor,
  type ProcessorOptions,
  ProcessorShutdownError,
  QueueFullError,
  type TaskResult,
  UnknownTaskError,
} from '../../src/index.js';
import { handlers } from '../helpers/index.js';
import { NATS_URL, natsAvailable, natsServerBinary, PrivateServer, removeStream, uniqueStream } from './nats.js';

const available = await natsAvailable();

describe('natsBroker options (no server needed)', () => {
  it.each([
    [{ stream: 'a.b' }, 'broker.stream'],
    [{ stream: '' }, 'broker.stream'],
    [{ servers: [] }, 'broker.servers'],
    [{ ackWait: 0 }, 'broker.ackWait'],
    [{ resultTtl: 1.5 }, 'broker.resultTtl'],
    [{ resultTtl: 1_000, duplicateWindow: 2_000 }, 'broker.duplicateWindow'],
    [{ storage: 'disk' }, 'broker.storage'],
    [{ prefetch: -1 }, 'broker.prefetch'],
    [{ name: '' }, 'broker.name'],
    [{ connection: { servers: 'nats://elsewhere:4222' } }, 'broker.connection'],
    [{ connection: 'user:pass' }, 'broker.connection'],
  ])('refuses %j, naming %s', (options, option) => {
    expect(() => natsBroker(options as NatsBrokerOptions)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option }));
  });

  it('refuses a broker not made by natsBroker(), and workers: 0 without one', () => {
    expect(() => createProcessor({ handlers, broker: { kind: 'redis' } as never })).toThrow(InvalidOptionError);
    expect(() => createProcessor({ handlers, workers: 0 })).toThrow(expect.objectContaining({ option: 'workers' }));
  });

  it('fails ready with BrokerError when no server answers, and then refuses submits', async () => {
    const processor = createProcessor({ workers: 0, broker: natsBroker({ servers: 'nats://127.0.0.1:1' }) });
    await expect(processor.ready).rejects.toBeInstanceOf(BrokerError);
    expect(() => processor.submit({ payload: 1 })).toThrow(BrokerError);
    await processor.shutdown({ timeout: 0 });
  });

  it('refuses spawn with InvalidActorError: actors run on the threads of one process', async () => {
    const processor = createProcessor({ workers: 0, broker: natsBroker({ servers: 'nats://127.0.0.1:1' }) });
    await expect(processor.spawn('counter', { id: 'c' })).rejects.toThrow(InvalidActorError);
    await expect(processor.spawn('counter')).rejects.toThrow(/not available with a broker/);
    expect(processor.actors()).toEqual([]);
    await expect(processor.ready).rejects.toBeInstanceOf(BrokerError);
    await processor.shutdown({ timeout: 0 });
  });
});

const binary = natsServerBinary();

describe.skipIf(!binary)('a server that wants credentials', () => {
  it('connects with the connection options given, and fails ready with BrokerError without them', async () => {
    const server = await PrivateServer.start(binary as string, ['--user', 'troupe', '--pass', 's3cret']);
    try {
      const stream = uniqueStream('auth');
      const refused = createProcessor({ workers: 0, broker: natsBroker({ servers: server.url, stream }) });
      await expect(refused.ready).rejects.toMatchObject({ code: 'ERR_BROKER', cause: expect.anything() });
      await refused.shutdown({ timeout: 0 });
      const broker = natsBroker({ servers: server.url, stream, storage: 'memory', connection: { user: 'troupe', pass: 's3cret' } });
      const node = createProcessor({ handlers, workers: 1, broker });
      await node.ready;
      expect(await node.result(await node.submitAsync({ payload: 'in' }))).toMatchObject({ status: 'done', value: 'in' });
      await node.shutdown();
    } finally {
      await server.dispose();
    }
  });
});

describe.skipIf(!available)(`broker mode on NATS JetStream (${NATS_URL})`, () => {
  let stream = '';
  let processors: Processor[] = [];

  afterEach(async () => {
    await Promise.all(processors.map((processor) => processor.shutdown({ timeout: 1_000 })));
    processors = [];
    if (stream) await removeStream(stream);
    stream = '';
  });

  /** Processors sharing one fresh stream: nodes of one cluster. */
  function cluster(label: string, brokerOptions: NatsBrokerOptions = {}) {
    stream = uniqueStream(label);
    const broker = natsBroker({ stream, storage: 'memory', ackWait: 2_000, ...brokerOptions });
    return (options: Partial<ProcessorOptions> = {}) => {
      const processor = createProcessor({ handlers, workers: 1, backoff: { delay: 20, jitter: 0 }, broker, ...options });
      processors.push(processor);
      return processor;
    };
  }

  it('runs tasks submitted by a pure client on the nodes, and gives every result back', async () => {
    const node = cluster('results');
    const a = node({ concurrency: 4 });
    const b = node({ concurrency: 4 });
    const client = node({ workers: 0, handlers: undefined });
    await Promise.all([a.ready, b.ready, client.ready]);
    const seen: string[] = [];
    const ids = Array.from({ length: 60 }, (_, i) =>
      client.submit({
        id: `t${i}`,
        handler: 'processTask',
        payload: { n: i, when: new Date(0) },
        callback: (result) => seen.push(result.id),
      }),
    );
    const results = await Promise.all(ids.map((id) => client.result(id)));
    expect(results.map((result) => result.status)).toEqual(ids.map(() => 'done'));
    // The payload crossed the broker as a structured clone: the Date is a Date.
    expect(results[7]).toMatchObject({ id: 't7', value: { taskId: 't7', data: { n: 7, when: new Date(0) } } });
    expect(seen.sort()).toEqual([...ids].sort());
    await client.onIdle();
    // Any node reads any result, from the results bucket.
    expect(await a.result('t3')).toMatchObject({ status: 'done', id: 't3' });
  });

  it('scales a node: it runs on the new threads and reports them in its beat', async () => {
    const node = cluster('scale');
    const a = node({ concurrency: 2 });
    await a.ready;
    await a.scale(3);
    expect(a.getStatus().workers).toBe(3);
    const workers = new Set<number>();
    a.events.subscribe((event) => event.type === 'task.started' && event.node === undefined && workers.add(event.workerId));
    const ids = Array.from({ length: 90 }, (_, i) => a.submit({ id: `s${i}`, handler: 'sleep', payload: { ms: 5 } }));
    const results = await Promise.all(ids.map((id) => a.result(id)));
    expect(results.map((result) => result.status)).toEqual(ids.map(() => 'done'));
    expect(workers.size).toBe(3);
    await expect.poll(() => a.getStatus().cluster?.nodes[0]?.workers, { timeout: 5_000 }).toBe(3);
  });

  it('retries with backoff through the broker, the attempt counted from the delivery count', async () => {
    const node = cluster('retries');
    const a = node();
    const b = node();
    await Promise.all([a.ready, b.ready]);
    const retrying = firstValueFrom(a.events.pipe(filter((event) => event.type === 'task.retrying')));
    const id = a.submit({ id: 'flaky', handler: 'flaky', payload: { succeedOn: 3 }, maxRetries: 3 });
    expect(await a.result(id)).toMatchObject({ status: 'done', attempts: 3, value: { attempt: 3 } });
    expect(await retrying).toMatchObject({ id: 'flaky', attempt: 1, delay: 20 });
  });

  it('keeps an attempt longer than ackWait on its node with heartbeats: it is not delivered again', async () => {
    const node = cluster('heartbeat', { ackWait: 600 });
    const a = node();
    const b = node();
    await Promise.all([a.ready, b.ready]);
    const starts: string[] = [];
    for (const processor of [a, b]) {
      processor.events.subscribe((event) => {
        if (event.type === 'task.started' && event.node === undefined) starts.push(event.id);
      });
    }
    // Five times ackWait: without heartbeats it would be delivered again to the idle node.
    const id = a.submit({ id: 'long', handler: 'sleep', payload: { ms: 3_000 } });
    expect(await a.result(id)).toMatchObject({ status: 'done', attempts: 1 });
    expect(starts).toEqual(['long']);
  });

  it('stores the final failure with its typed error, and terminates the message', async () => {
    const node = cluster('failure');
    const a = node();
    await a.ready;
    const id = a.submit({ id: 'doomed', handler: 'throwCustom', payload: null, maxRetries: 1 });
    const result = await a.result(id);
    expect(result).toMatchObject({ status: 'failed', attempts: 2 });
    const error = (result as Extract<TaskResult, { status: 'failed' }>).error;
    expect(error).toMatchObject({ name: 'QuotaError', code: 'E_QUOTA', limit: 5, message: 'quota exceeded' });
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(a.getFailedTasks().get('doomed')).toMatchObject({ status: 'failed' });
    // Nothing is left in the stream: the consumer has no message waiting or in flight.
    await expect.poll(() => a.getStatus().cluster, { timeout: 5_000 }).toMatchObject({ waiting: 0, delivered: 0 });
  });

  it('refuses an id taken within the duplicate window, across processes, and runs it once', async () => {
    const node = cluster('duplicates');
    const worker = node({ concurrency: 2 });
    const one = node({ workers: 0, handlers: undefined });
    const two = node({ workers: 0, handlers: undefined });
    await Promise.all([worker.ready, one.ready, two.ready]);
    const starts: string[] = [];
    worker.events.subscribe((event) => {
      if (event.type === 'task.started') starts.push(event.id);
    });
    const outcomes = await Promise.allSettled([
      one.submitAsync({ id: 'same', handler: 'sleep', payload: { ms: 50 } }),
      two.submitAsync({ id: 'same', handler: 'sleep', payload: { ms: 50 } }),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(DuplicateTaskError);
    // A plain submit of the taken id joins the task that holds it: same result, one run.
    const [winner, loser] = outcomes[0].status === 'fulfilled' ? [one, two] : [two, one];
    const joined = new Promise<TaskResult>((resolve) =>
      loser.submit({ id: 'same', handler: 'sleep', payload: { ms: 50 }, callback: resolve }),
    );
    expect(await winner.result('same')).toMatchObject({ status: 'done', value: 50 });
    expect(await joined).toMatchObject({ status: 'done', value: 50 });
    await worker.onIdle();
    expect(starts).toEqual(['same']);
  });

  it('runs ids that differ only in surrounding spaces as different tasks, and an id with a line break', async () => {
    const node = cluster('ids');
    const worker = node();
    const client = node({ workers: 0, handlers: undefined });
    await Promise.all([worker.ready, client.ready]);
    const ids = ['a', ' a', 'a ', 'line\nbreak', 'tab\there'];
    for (const [i, id] of ids.entries()) client.submit({ id, payload: i });
    const results = await Promise.all(ids.map((id) => client.result(id)));
    expect(results.map((result) => [result.id, result.status, result.status === 'done' && result.value])).toEqual(
      ids.map((id, i) => [id, 'done', i]),
    );
  });

  it("counts backpressure and idleness on this process's own submissions, wherever they run", async () => {
    const node = cluster('backpressure');
    const worker = node();
    const client = node({ workers: 0, handlers: undefined, maxQueue: 2 });
    await Promise.all([worker.ready, client.ready]);
    client.submit({ id: 'a', handler: 'sleep', payload: { ms: 100 } });
    client.submit({ id: 'b', handler: 'sleep', payload: { ms: 100 } });
    expect(() => client.submit({ id: 'c', handler: 'sleep', payload: { ms: 1 } })).toThrow(QueueFullError);
    expect(client.getTask('c')).toBeUndefined();
    // submitAsync waits for room instead: one of the first two has to end.
    const third = client.submitAsync({ id: 'c', handler: 'sleep', payload: { ms: 1 } });
    expect(await third).toBe('c');
    expect(client.getResult('a') ?? client.getResult('b')).toMatchObject({ status: 'done' });
    await client.onIdle();
    expect(['a', 'b', 'c'].map((id) => client.getResult(id)?.status)).toEqual(['done', 'done', 'done']);
  });

  it('refuses an id this process has unfinished at the call', async () => {
    const node = cluster('local-duplicate');
    const client = node({ workers: 0, handlers: undefined });
    await client.ready;
    client.submit({ id: 'x', payload: 1 });
    expect(() => client.submit({ id: 'x', payload: 2 })).toThrow(DuplicateTaskError);
    expect(() => client.submit({ id: 'y', payload: 1, delay: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_TASK', field: 'delay' }),
    );
    // Larger than the server's max_payload (1 MB by default): refused at the call, not retried forever.
    expect(() => client.submit({ id: 'huge', payload: new Uint8Array(2 ** 21) })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_TASK', field: 'payload' }),
    );
    await expect(client.submitAsync({ id: 'huge', payload: new Uint8Array(2 ** 21) })).rejects.toMatchObject({ field: 'payload' });
    expect(client.getStatus().cluster).toBeDefined();
    await expect(client.result('huge')).rejects.toBeInstanceOf(UnknownTaskError);
  });

  it('drops a message on its subjects that is not a task, and goes on', async () => {
    const node = cluster('garbage');
    const worker = node();
    await worker.ready;
    const nc = await connect({ servers: NATS_URL });
    await jetstream(nc).publish(`${stream}.tasks.bogus`, new TextEncoder().encode('not a task'));
    await nc.close();
    const id = worker.submit({ payload: 'after' });
    expect(await worker.result(id)).toMatchObject({ status: 'done', value: 'after' });
    await expect.poll(() => worker.getStatus().cluster, { timeout: 5_000 }).toMatchObject({ waiting: 0, delivered: 0 });
  });

  it('starts a delayed task no earlier than due, on any node, and cancels one before it is due', async () => {
    const node = cluster('delayed');
    const worker = node();
    const client = node({ workers: 0, handlers: undefined });
    await Promise.all([worker.ready, client.ready]);
    const submittedAt = Date.now();
    client.submit({ id: 'later', handler: 'sleep', payload: { ms: 1 }, delay: 400 });
    client.submit({ id: 'never', handler: 'sleep', payload: { ms: 1 }, runAt: new Date(submittedAt + 60_000) });
    await expect.poll(() => client.getStatus().cluster?.scheduled ?? 0, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(client.cancel('never', 'plans changed')).toBe(true);
    expect(await client.result('never')).toMatchObject({ status: 'cancelled', reason: 'plans changed' });
    const result = await client.result('later');
    expect(result).toMatchObject({ status: 'done', attempts: 1 });
    expect(result.startedAt).toBeGreaterThanOrEqual(submittedAt + 400);
    await expect.poll(() => client.getStatus().cluster, { timeout: 5_000 }).toMatchObject({ scheduled: 0, waiting: 0, delivered: 0 });
  });

  it('ends every result() wait at shutdown, leaving the task in the stream for the nodes', async () => {
    const node = cluster('waits');
    const client = node({ workers: 0, handlers: undefined });
    await client.ready;
    const id = await client.submitAsync({ id: 'no-node-yet', payload: 1 });
    const waiting = expect(client.result(id)).rejects.toBeInstanceOf(ProcessorShutdownError);
    expect(await client.shutdown()).toEqual({ unfinished: [], actors: [] });
    await waiting;
    // A node started later runs it, and another client reads its result.
    const worker = node();
    const reader = node({ workers: 0, handlers: undefined });
    await Promise.all([worker.ready, reader.ready]);
    expect(await reader.result(id)).toMatchObject({ status: 'done', value: 1 });
  });

  it('sends results only to a process that has waited on one: a node that never does watches none', async () => {
    const node = cluster('watchers');
    const worker = node();
    const client = node({ workers: 0, handlers: undefined });
    await Promise.all([worker.ready, client.ready]);
    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      const watchers = async () => (await jsm.streams.info(`KV_${stream}-results`)).state.consumer_count;
      expect(await watchers()).toBe(0);
      expect(await client.result(client.submit({ id: 'first', handler: 'processTask', payload: 1 }))).toMatchObject({ status: 'done' });
      expect(await watchers()).toBe(1);
      // The node reads a result it did not submit: from then on it watches too.
      expect(await worker.result('first')).toMatchObject({ status: 'done', id: 'first' });
      expect(await watchers()).toBe(2);
    } finally {
      await nc.close();
    }
  });

  it("sends the nodes' task events only to a process that listens to them, and drops a message there that is not a batch", async () => {
    const node = cluster('listeners');
    const worker = node();
    await worker.ready;
    const nc = await connect({ servers: NATS_URL });
    try {
      // A request to a subject no one subscribes to is answered at once with "no responders".
      const noResponders = await nc.request(`${stream}.events.probe`, '', { timeout: 2_000 }).then(
        () => false,
        (error: unknown) => (error as { isNoResponders?: () => boolean }).isNoResponders?.() === true,
      );
      expect(noResponders).toBe(true);
      const relayed = firstValueFrom(worker.events.pipe(filter((event) => 'node' in event && event.node === 'elsewhere')));
      // A round trip on the node's connection: its subscription, sent before it, is on the server.
      await worker.submitAsync({ handler: 'processTask', payload: 1 });
      nc.publish(`${stream}.events.probe`, 'not a batch of events');
      nc.publish(`${stream}.events.elsewhere`, encodeEvents('elsewhere', [{ type: 'task.queued', id: 'x', attempts: 0 }]));
      expect(await relayed).toMatchObject({ type: 'task.queued', id: 'x', node: 'elsewhere' });
    } finally {
      await nc.close();
    }
  });

  it('rejects result() for an id no one submitted, and finds one another process submitted', async () => {
    const node = cluster('unknown');
    const worker = node();
    const other = node({ workers: 0, handlers: undefined });
    await Promise.all([worker.ready, other.ready]);
    await expect(other.result('never-submitted')).rejects.toBeInstanceOf(UnknownTaskError);
    const id = await worker.submitAsync({ id: 'theirs', handler: 'sleep', payload: { ms: 100 } });
    // Still in the stream or running: `other` waits for it rather than calling it unknown.
    expect(await other.result(id)).toMatchObject({ status: 'done', value: 100 });
  });

  it('cancels a task waiting in the stream and one running on a node', async () => {
    const node = cluster('cancel', { prefetch: 0 });
    const worker = node();
    const client = node({ workers: 0, handlers: undefined });
    await Promise.all([worker.ready, client.ready]);
    const started = firstValueFrom(worker.events.pipe(filter((event) => event.type === 'task.started' && event.id === 'running')));
    client.submit({ id: 'running', handler: 'waitForAbort', payload: null });
    client.submit({ id: 'waiting', handler: 'sleep', payload: { ms: 1 } });
    await started;
    // One thread, no prefetch: `waiting` is still in the stream.
    expect(client.cancel('waiting', 'not needed')).toBe(true);
    expect(client.cancel('running', 'user left')).toBe(true);
    expect(await client.result('running')).toMatchObject({ status: 'cancelled', reason: 'user left' });
    expect(await client.result('waiting')).toMatchObject({ status: 'cancelled', reason: 'not needed' });
    await expect.poll(() => client.getStatus().cluster, { timeout: 5_000 }).toMatchObject({ waiting: 0, delivered: 0 });
  });

  it('follows a task running on another node in getTask and task$, from the relayed events', async () => {
    const node = cluster('task-stream');
    const worker = node();
    const client = node({ workers: 0, handlers: undefined });
    await Promise.all([worker.ready, client.ready]);
    const id = client.submit({ id: 'followed', handler: 'flaky', payload: { succeedOn: 2 } });
    expect(client.getTask(id)).toMatchObject({ id, state: 'queued', attempts: 0, handler: 'flaky' });
    const states = await firstValueFrom(client.task$(id).pipe(toArray()));
    expect(states.map((info) => info.state)).toEqual(['queued', 'processing', 'retrying', 'queued', 'processing', 'done']);
    expect(states.at(-1)).toMatchObject({ attempts: 2 });
    expect(states[2]).toMatchObject({ lastError: { message: 'Simulated failure 1' }, retryDelay: 20 });
    expect(client.getTask(id)).toMatchObject({ state: 'done', attempts: 2 });
  });

  it('relays task events between nodes, and shows the nodes in getStatus().cluster', async () => {
    const node = cluster('events', { name: undefined });
    const worker = node();
    const watcher = node({ workers: 0, handlers: undefined });
    await Promise.all([worker.ready, watcher.ready]);
    const done = firstValueFrom(watcher.events.pipe(filter((event) => event.type === 'task.done' && event.id === 'seen')));
    worker.submit({ id: 'seen', payload: 'hello' });
    expect(await done).toMatchObject({ id: 'seen', result: { status: 'done', value: 'hello' }, node: expect.any(String) });
    await expect.poll(() => watcher.getStatus().cluster?.nodes.length, { timeout: 5_000 }).toBe(1);
    expect(watcher.getStatus().cluster?.nodes[0]).toMatchObject({ pid: process.pid, workers: 1 });
  });

  it('gives queued tasks back to the stream at shutdown, for another node to run', async () => {
    const node = cluster('handback', { prefetch: 10 });
    const leaving = node();
    const client = node({ workers: 0, handlers: undefined });
    await Promise.all([leaving.ready, client.ready]);
    const started = firstValueFrom(leaving.events.pipe(filter((event) => event.type === 'task.started')));
    const ids = Array.from({ length: 8 }, (_, i) => client.submit({ id: `h${i}`, handler: 'sleep', payload: { ms: 100 } }));
    await started;
    const outcome = await leaving.shutdown({ timeout: 5_000 });
    expect(outcome.unfinished).toEqual([]);
    const stayer = node();
    await stayer.ready;
    const results = await Promise.all(ids.map((id) => client.result(id)));
    expect(results.every((result) => result.status === 'done')).toBe(true);
  });
});
