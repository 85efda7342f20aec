import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** The server the distributed tests use: `NATS_URL`, as the demo and `.ci/run` do. */
export const NATS_URL = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url.replace(/^nats:/, 'http:'));
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 4222) });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Whether the distributed tests can run. Without a server they are skipped
 * with a message, except in CI, where a missing server is a failure: CI must
 * run them (`.ci/run` starts one).
 */
export async function natsAvailable(): Promise<boolean> {
  if (await reachable(NATS_URL)) return true;
  if (process.env['CI']) throw new Error(`CI must run the distributed tests, but no NATS server answers at ${NATS_URL}`);
  console.warn(`Skipping the distributed tests: no NATS server at ${NATS_URL} (start one with \`nats-server -js\`, or set NATS_URL)`);
  return false;
}

let streams = 0;
/** A stream name of its own for each test, so tests never see each other's tasks. */
export function uniqueStream(label: string): string {
  return `t_${label}_${process.pid}_${Date.now().toString(36)}_${++streams}`;
}

/** Deletes a test's stream and buckets, so the shared server does not fill up. */
export async function removeStream(stream: string, url = NATS_URL): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of [stream, `KV_${stream}-results`, `KV_${stream}-nodes`]) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** The nats-server binary, if this machine has one (Debian's package puts it in /usr/sbin). */
export function natsServerBinary(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/usr/local/bin', '/usr/bin'])) {
    const candidate = join(dir, 'nats-server');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/**
 * A JetStream server of a test's own, on a free loopback port, with file
 * storage in a temporary folder: it can be stopped and started again on the
 * same port and store, as a server restart does.
 */
export class PrivateServer {
  readonly url: string;
  #child: ChildProcess | undefined;
  private constructor(
    readonly binary: string,
    readonly port: number,
    readonly store: string,
    readonly args: readonly string[],
  ) {
    this.url = `nats://127.0.0.1:${port}`;
  }

  /** `args`: more of nats-server's flags, e.g. `['--user', 'a', '--pass', 'b']`. */
  static async start(binary: string, args: readonly string[] = []): Promise<PrivateServer> {
    const server = new PrivateServer(binary, await freePort(), mkdtempSync(join(tmpdir(), 'troupe-nats-')), args);
    await server.up();
    return server;
  }

  /** Starts the server and resolves when it logs that it is ready (it logs to stderr); rejects if it exits first. */
  async up(): Promise<void> {
    const child = spawn(this.binary, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.store, ...this.args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`nats-server exited (${code}) before it was ready:\n${log}`));
      child.once('exit', onExit);
      child.stderr.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (!log.includes('Server is ready')) return;
        child.off('exit', onExit);
        child.stderr.removeAllListeners('data');
        child.stderr.resume(); // keep draining its log, unread
        resolve();
      });
    });
  }

  async down(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  }

  async dispose(): Promise<void> {
    await this.down();
    rmSync(this.store, { recursive: true, force: true });
  }
}
