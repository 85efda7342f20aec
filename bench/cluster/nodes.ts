/**
 * Starts cluster nodes (node.ts), each in a fresh process, from the child that
 * measures, and stops them again. Nodes are separate processes because that
 * is the point of a cluster: each has its own main thread, event loop and
 * NATS connection, as on separate machines (here sharing the 2 cores).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { CLOSED, type ClosedMessage, CPU, type CpuMessage, ERROR, type ErrorMessage, READY } from '../protocol.js';
import type { NodeSettings } from './node.js';

const ENTRY = fileURLToPath(new URL('./node-entry.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/** One node process: its tagged stdout lines handed to whoever waits for that tag. */
class NodeProcess {
  readonly name: string;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting = new Map<string, ((message: unknown) => void)[]>();
  #buffer = '';
  #stderr = '';
  readonly exited: Promise<number | string>;

  constructor(settings: NodeSettings) {
    this.name = settings.name;
    this.#child = spawn(process.execPath, [ENTRY, JSON.stringify(settings)], { cwd: ROOT, env: process.env, stdio: 'pipe' });
    this.#child.stdout.setEncoding('utf8').on('data', (chunk: string) => this.#read(chunk));
    this.#child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.#stderr = (this.#stderr + chunk).slice(-2_000)));
    // A node that is gone must not fail a write to it with EPIPE: its exit says it.
    this.#child.stdin.on('error', () => {});
    this.exited = new Promise((resolve) => this.#child.on('close', (code, signal) => resolve(signal ?? code ?? 'unknown')));
  }

  #read(chunk: string): void {
    this.#buffer += chunk;
    let end: number;
    while ((end = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 1);
      for (const [tag, waiters] of this.#waiting) {
        if (!line.startsWith(tag) || waiters.length === 0) continue;
        waiters.shift()?.(JSON.parse(line.slice(tag.length)));
      }
    }
  }

  /** The next message with `tag`. */
  next<T>(tag: string): Promise<T> {
    return new Promise((resolve) => {
      const waiters = this.#waiting.get(tag) ?? [];
      waiters.push(resolve as (message: unknown) => void);
      this.#waiting.set(tag, waiters);
    });
  }

  write(line: string): void {
    this.#child.stdin.write(`${line}\n`);
  }

  end(): void {
    this.#child.stdin.end();
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }

  describeExit(how: number | string): string {
    return `node ${this.name} exited (${how}); stderr: ${this.#stderr.trim().slice(-1_000) || '(empty)'}`;
  }
}

function timeout(ms: number, what: string): { promise: Promise<never>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1_000} s`)), ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

export interface Cluster {
  /**
   * Rejects when a node exits before `stop`: a measurement races it, so that
   * a crashed node fails the sample at once instead of leaving the client
   * waiting for results that will not come until the child's timeout.
   */
  readonly failed: Promise<never>;
  /** The nodes' process CPU time so far, summed, in µs. */
  cpuUs(): Promise<number>;
  /** Closes every node's stdin and waits for it to shut down; rejects naming the nodes that did not close cleanly. */
  stop(): Promise<void>;
}

/** Starts `count` nodes on `stream` and resolves once all have joined (`ready`). */
export async function startNodes(count: number, settings: Omit<NodeSettings, 'name'>): Promise<Cluster> {
  const nodes = Array.from({ length: count }, (_, i) => new NodeProcess({ ...settings, name: `bench-node-${i + 1}` }));
  let stopping = false;
  const failed = new Promise<never>((_, reject) => {
    for (const node of nodes) {
      void node.exited.then((how) => {
        if (!stopping) reject(new Error(node.describeExit(how)));
      });
    }
  });
  // Marked handled: nobody races it once the measurement is over.
  failed.catch(() => {});
  const join = (node: NodeProcess) =>
    Promise.race([
      node.next(READY),
      node.next<ErrorMessage>(ERROR).then((message) => Promise.reject(new Error(`node ${node.name} could not start: ${message.error}`))),
    ]);
  const limit = timeout(READY_TIMEOUT_MS, `starting ${count} node(s)`);
  try {
    await Promise.race([Promise.all(nodes.map(join)), failed, limit.promise]);
  } catch (error) {
    for (const node of nodes) node.kill();
    throw error;
  } finally {
    limit.clear();
  }
  return {
    failed,
    async cpuUs() {
      const answers = nodes.map((node) => {
        const answer = node.next<CpuMessage>(CPU);
        node.write('cpu');
        return answer;
      });
      const all = await Promise.race([Promise.all(answers), failed]);
      return all.reduce((sum, { us }) => sum + us, 0);
    },
    async stop() {
      stopping = true;
      const problems = await Promise.all(
        nodes.map(async (node) => {
          const closed = node.next<ClosedMessage>(CLOSED);
          node.end();
          const limit = timeout(STOP_TIMEOUT_MS, `stopping node ${node.name}`);
          try {
            const how = await Promise.race([node.exited, limit.promise]);
            if (how !== 0) return node.describeExit(how);
            // It has exited, so its last line has been read: undefined if it never sent one.
            const message = await Promise.race([closed, Promise.resolve(undefined)]);
            if (message?.error) return `node ${node.name} did not shut down cleanly: ${message.error}`;
            return undefined;
          } catch (error) {
            node.kill();
            return error instanceof Error ? error.message : String(error);
          } finally {
            limit.clear();
          }
        }),
      );
      const failures = problems.filter((p): p is string => p !== undefined);
      if (failures.length > 0) throw new Error(failures.join('; '));
    },
  };
}
