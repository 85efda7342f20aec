/**
 * One node of a benchmark cluster, in a process of its own, as a node runs
 * in production: `node bench/cluster/node-entry.mjs '<NodeSettings as JSON>'`.
 * The child measuring (the cluster's client) spawns it (nodes.ts) and talks
 * to it over stdin/stdout: the node says when it has joined, answers `cpu`
 * with its process's CPU time, and shuts down when its stdin closes, which
 * is also what happens if the child that spawned it dies.
 */
import { createInterface } from 'node:readline';

import { HANDLERS } from '../contenders/pool.js';
import { createProcessor, natsBroker } from '../contenders/troupe.js';
import { CLOSED, CPU, ERROR, READY, send } from '../protocol.js';

export interface NodeSettings {
  readonly servers: string;
  readonly stream: string;
  readonly name: string;
  readonly workers: number;
  readonly concurrency: number;
}

const SHUTDOWN_TIMEOUT_MS = 10_000;

function message(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

async function main(): Promise<number> {
  const settings = JSON.parse(process.argv[2] ?? '') as NodeSettings;
  const broker = natsBroker({
    servers: settings.servers,
    stream: settings.stream,
    storage: 'memory',
    ackWait: 30_000,
    name: settings.name,
  });
  const processor = createProcessor({ handlers: HANDLERS, workers: settings.workers, concurrency: settings.concurrency, broker });
  try {
    await processor.ready;
  } catch (error) {
    send(ERROR, { error: message(error) });
    return 1;
  }
  send(READY, { name: settings.name });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'cpu') {
      const { user, system } = process.cpuUsage();
      send(CPU, { us: user + system });
    }
  }
  const start = performance.now();
  try {
    const { unfinished } = await processor.shutdown({ timeout: SHUTDOWN_TIMEOUT_MS });
    const error = unfinished.length > 0 ? `${unfinished.length} task(s) still unfinished at shutdown` : undefined;
    send(CLOSED, { ms: performance.now() - start, ...(error ? { error } : {}) });
  } catch (error) {
    send(CLOSED, { ms: performance.now() - start, error: message(error) });
  }
  return 0;
}

// Exit explicitly, as child.ts does: a handle left open must not keep the node alive.
process.exit(await main());
