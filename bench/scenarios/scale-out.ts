/**
 * Distributed scenario A (`--distributed`): whether nodes' capacities add up.
 * The task sleeps, so a node is bounded by its `concurrency`, not by the CPU:
 * one node on one thread runs at most concurrency ÷ 20 ms tasks/s, and a
 * second and third node on the same stream should add as much again. The
 * child measuring is the cluster's pure client (`workers: 0`); the nodes are
 * processes of their own (cluster/nodes.ts).
 *
 * What the machine can carry caps this: every task costs CPU in the client,
 * a node and nats-server, all on the same 2 cores. The CPU columns say how
 * close a row came to that ceiling, so a shortfall can be told from a limit
 * of the design.
 */
import os from 'node:os';

import type { Processor } from '../../src/index.js';
import type { Cluster } from '../cluster/nodes.js';
import { DISTRIBUTED_SIZES } from '../config.js';
import { num } from '../format.js';
import { phase } from '../protocol.js';
import { median } from '../stats.js';
import { closeLater } from './open.js';
import type { Metrics, Scenario } from './scenario.js';

const SLEEP_MS = 20;

/** Scenario contender → node processes. */
function nodeCount(contender: string): number {
  const match = /^([1-9])-nodes?$/.exec(contender);
  if (!match) throw new Error(`the scale-out scenario runs 1-node, 2-nodes, 3-nodes, not ${JSON.stringify(contender)}`);
  return Number(match[1]);
}

/** Tasks/s a node would reach if the broker cost nothing. */
function idealPerNode(): number {
  return (DISTRIBUTED_SIZES.nodeConcurrency * 1_000) / SLEEP_MS;
}

/** Busy and total CPU time of the whole machine so far (every core, every process), ms. */
function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/**
 * Submits `total` sleeps at once and waits for every result: the stream holds
 * the whole backlog, so no node ever waits for the client to submit more.
 */
async function drain(client: Processor, total: number, cluster: Cluster): Promise<void> {
  const ids = Array.from({ length: total }, () => client.submit({ handler: 'sleep', payload: { ms: SLEEP_MS } }));
  const results = await Promise.race([Promise.all(ids.map((id) => client.result(id))), cluster.failed]);
  const bad = results.find((result) => result.status !== 'done');
  if (bad)
    throw new Error(
      `task ${bad.id} ended ${bad.status}: ${bad.status === 'failed' ? bad.error.message : bad.status === 'cancelled' ? bad.reason : ''}`,
    );
}

export const scaleOut: Scenario = {
  id: 'scale-out',
  title: 'A. Scale-out: capacity adding up',
  caption: () => {
    const s = DISTRIBUTED_SIZES;
    return (
      `${s.scaleTasks.toLocaleString('en')} tasks that each sleep ${SLEEP_MS} ms, submitted at once by a pure client (\`workers: 0\`) and drained by 1, 2 or 3 node processes on one stream, ` +
      `each \`workers: 1, concurrency: ${s.nodeConcurrency}\` (so ${num(idealPerNode(), 0)} tasks/s ideal per node), after ${s.scaleWarmup.toLocaleString('en')} untimed; NATS JetStream, memory storage, all on this machine. ` +
      'Tasks/s (higher is better); × 1 node = this ÷ the median of 1 node; % of ideal = tasks/s ÷ (nodes × ideal per node). ' +
      'CPU µs/task: process CPU of the client and the nodes together per task (nats-server not included); machine CPU %: every core busy over the timed window, whatever ran on it.'
    );
  },
  contenders: ['1-node', '2-nodes', '3-nodes'],
  subjects: [],
  metrics: [
    { key: 'tasksPerSec', label: 'tasks/s', better: 'higher', digits: 0 },
    { key: 'scaling', label: '× 1 node', better: 'higher', digits: 2 },
    { key: 'ofIdeal', label: '% of ideal', better: 'higher', digits: 0 },
    { key: 'cpuUsPerTask', label: 'CPU µs/task', better: 'lower', digits: 0 },
    { key: 'machineBusy', label: 'machine CPU %', better: 'lower', digits: 0 },
  ],
  rounds: (r) => r,
  timeoutMs: 90_000,
  async run(contender) {
    const nodes = nodeCount(contender);
    const s = DISTRIBUTED_SIZES;
    // Imported here, not at the top: every child imports this module, and
    // only a child of this scenario may load Troupe and the NATS client.
    const { createProcessor, natsBroker } = await import('../contenders/troupe.js');
    const { NATS_URL, deleteStreams, streamName } = await import('../cluster/nats.js');
    const { startNodes } = await import('../cluster/nodes.js');
    const stream = streamName('scale');
    const broker = natsBroker({ servers: NATS_URL, stream, storage: 'memory', ackWait: 30_000, name: 'bench-client' });
    phase('start');
    const client = createProcessor({ workers: 0, broker });
    let cluster: Cluster | undefined;
    closeLater({
      async close() {
        await client.shutdown();
        await cluster?.stop();
        await deleteStreams(stream);
      },
    });
    // The client first: the stream and buckets exist before the nodes look for them.
    await client.ready;
    cluster = await startNodes(nodes, { servers: NATS_URL, stream, workers: 1, concurrency: s.nodeConcurrency });
    // Every node pulls, JIT-compiled, before the clock starts.
    phase('warm-up');
    await drain(client, s.scaleWarmup * nodes, cluster);
    phase('measure');
    const nodesBefore = await cluster.cpuUs();
    const clientBefore = process.cpuUsage();
    const machineBefore = machineCpu();
    const start = performance.now();
    await drain(client, s.scaleTasks, cluster);
    const ms = performance.now() - start;
    const machineAfter = machineCpu();
    const clientCpu = process.cpuUsage(clientBefore);
    const nodesCpu = (await cluster.cpuUs()) - nodesBefore;
    const tasksPerSec = (s.scaleTasks / ms) * 1_000;
    return {
      tasksPerSec,
      ofIdeal: (tasksPerSec / (nodes * idealPerNode())) * 100,
      cpuUsPerTask: (nodesCpu + clientCpu.user + clientCpu.system) / s.scaleTasks,
      machineBusy: ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100,
      tasks: s.scaleTasks,
    };
  },
  derive(samples: ReadonlyMap<string, Metrics[]>) {
    const one = (samples.get('1-node') ?? []).map((m) => m.tasksPerSec as number);
    if (one.length === 0) return;
    const base = median(one);
    for (const list of samples.values()) for (const m of list) if (m.tasksPerSec) m.scaling = m.tasksPerSec / base;
  },
};
