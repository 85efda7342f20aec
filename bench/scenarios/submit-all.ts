/**
 * Distributed scenario C (`--distributed`, issue 16): everything submitted
 * at once, as a batch job does, through a real engine on this machine, Troupe
 * against BullMQ. `troupe-nats`: one node (2 threads, `concurrency: 64`) and
 * a pure client in one process on NATS JetStream (memory storage): the
 * client submits every task, then awaits every result. `bullmq`: BullMQ on
 * the loopback Redis, `addBulk` of every job, then one `Worker` with
 * `concurrency: 64` running the same no-op function (in the main thread, as
 * BullMQ runs a processor by default), done when it has completed them all.
 * `troupe`: the same Troupe node in memory, for scale.
 */
import type { Processor, TaskResult } from '../../src/index.js';
import { openNodeAndClient } from '../cluster/pair.js';
import { DISTRIBUTED_SIZES } from '../config.js';
import { HANDLERS } from '../contenders/pool.js';
import { phase } from '../protocol.js';
import { closeLater } from './open.js';
import type { Scenario } from './scenario.js';

const CONCURRENCY = 64;
const REDIS_URL = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

function check(result: TaskResult): void {
  if (result.status !== 'done') throw new Error(`task ${result.id} ended ${result.status}`);
}

/** Troupe in memory, or a node and a client on one NATS stream: the processor to submit to. */
async function openTroupe(broker: boolean): Promise<Processor> {
  if (!broker) {
    const { createProcessor } = await import('../contenders/troupe.js');
    const processor = createProcessor({ handlers: HANDLERS, workers: 2, concurrency: CONCURRENCY });
    closeLater({ close: async () => void (await processor.shutdown()) });
    await processor.ready;
    return processor;
  }
  return openNodeAndClient('submit_all', { workers: 2, concurrency: CONCURRENCY });
}

async function runTroupe(processor: Processor, total: number, offset: number): Promise<number> {
  const start = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < total; i++) ids.push(processor.submit({ id: `t${offset + i}`, handler: 'noop', payload: i }));
  for (const result of await Promise.all(ids.map((id) => processor.result(id)))) check(result);
  return performance.now() - start;
}

/** BullMQ: a queue of its own on the loopback Redis, `addBulk`, one Worker; resolves with the ms from the first add to the last completion. */
async function runBullmq(total: number, warmup: number): Promise<number> {
  const { Queue, Worker } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const { noop } = (await import(HANDLERS.href)) as { noop: (payload: unknown) => unknown };
  // A client per role, as BullMQ's docs have it for ESM (a Worker blocks on its own connection).
  const redis = () => new Redis({ host: REDIS_URL.hostname, port: Number(REDIS_URL.port || 6379), maxRetriesPerRequest: null });
  const name = `troupe-bench-${process.pid}-${Date.now().toString(36)}`;
  const queue = new Queue(name, { connection: redis() });
  let completed = 0;
  let waiting: { count: number; resolve: () => void } | undefined;
  const worker = new Worker(name, async (job) => noop(job.data), { connection: redis(), concurrency: CONCURRENCY, autorun: true });
  worker.on('completed', () => {
    completed++;
    if (waiting && completed >= waiting.count) waiting.resolve();
  });
  worker.on('failed', (job, error) => {
    throw new Error(`bullmq job ${job?.id} failed: ${error.message}`);
  });
  closeLater({
    async close() {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    },
  });
  await worker.waitUntilReady();
  const batch = async (count: number) => {
    const done = new Promise<void>((resolve) => (waiting = { count: completed + count, resolve }));
    // Jobs removed once complete, as a queue that runs for days must: the Redis memory stays flat.
    await queue.addBulk(Array.from({ length: count }, (_, i) => ({ name: 'noop', data: i, opts: { removeOnComplete: true } })));
    await done;
  };
  await batch(warmup);
  const start = performance.now();
  await batch(total);
  return performance.now() - start;
}

export const submitAll: Scenario = {
  id: 'submit-all',
  title: 'C. Submit everything at once: Troupe on NATS against BullMQ on Redis',
  caption: () => {
    const d = DISTRIBUTED_SIZES;
    return (
      `${d.submitAllTasks.toLocaleString('en')} no-op tasks submitted at once, after ${d.submitAllWarmup.toLocaleString('en')} untimed; tasks/s from the first submit to the last result (higher is better). ` +
      `\`troupe-nats\`: one node (2 threads, \`concurrency: ${CONCURRENCY}\`) and a pure client in one process, NATS JetStream with memory storage; ` +
      `\`bullmq\`: \`addBulk\`, then one \`Worker\` (\`concurrency: ${CONCURRENCY}\`, the processor in the main thread, \`removeOnComplete\`) on the loopback Redis; ` +
      '`troupe`: the same node in memory.'
    );
  },
  contenders: ['troupe', 'troupe-nats', 'bullmq'],
  subjects: ['troupe-nats'],
  metrics: [{ key: 'tasksPerSec', label: 'tasks/s', better: 'higher', digits: 0, compare: 'ratio' }],
  rounds: (r) => r,
  timeoutMs: 120_000,
  async run(contender) {
    const { submitAllTasks: total, submitAllWarmup: warmup } = DISTRIBUTED_SIZES;
    phase('start');
    if (contender === 'bullmq') {
      phase('measure');
      return { tasksPerSec: (total / (await runBullmq(total, warmup))) * 1_000 };
    }
    if (contender !== 'troupe' && contender !== 'troupe-nats')
      throw new Error(`submit-all runs troupe, troupe-nats, bullmq, not ${contender}`);
    const processor = await openTroupe(contender === 'troupe-nats');
    phase('warm-up');
    await runTroupe(processor, warmup, 0);
    phase('measure');
    return { tasksPerSec: (total / (await runTroupe(processor, total, warmup))) * 1_000 };
  },
};
