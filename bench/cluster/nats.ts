/**
 * The NATS server the `--distributed` run uses, and the streams it leaves
 * there. Every measurement gets streams of its own, named under the run's
 * prefix, so that samples never share a backlog, and the orchestrator can
 * delete whatever a killed child could not.
 */
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** Set by the orchestrator: the stream name prefix of this run. */
export const STREAM_PREFIX_ENV = 'BENCH_STREAM_PREFIX';

/** A prefix unique to this run (a child run by hand makes its own). */
export function newPrefix(): string {
  return `bench_${Date.now().toString(36)}`;
}

let streams = 0;

/** A stream name no other measurement uses: run prefix, the scenario's tag, this process. */
export function streamName(tag: string): string {
  const prefix = process.env[STREAM_PREFIX_ENV] ?? newPrefix();
  return `${prefix}_${tag}_${process.pid}_${streams++}`;
}

/** What Troupe creates for `stream`: the work queue and its two key-value buckets. */
function created(stream: string): string[] {
  return [stream, `KV_${stream}-results`, `KV_${stream}-nodes`];
}

async function withManager<T>(use: (jsm: JetStreamManager) => Promise<T>): Promise<T> {
  const nc = await connect({ servers: NATS_URL, timeout: 5_000 });
  try {
    return await use(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

async function deleteIfThere(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    return await jsm.streams.delete(name);
  } catch (error) {
    // Not created (a run that failed early) is what we wanted anyway.
    if (error instanceof Error && /not found/i.test(error.message)) return false;
    throw error;
  }
}

/** Deletes `stream` and its buckets. */
export async function deleteStreams(stream: string): Promise<void> {
  await withManager(async (jsm) => {
    for (const name of created(stream)) await deleteIfThere(jsm, name);
  });
}

/** Deletes every stream of the run still on the server; returns their names. */
export async function sweepStreams(prefix: string): Promise<string[]> {
  return withManager(async (jsm) => {
    const left: string[] = [];
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`)) left.push(name);
    }
    for (const name of left) await deleteIfThere(jsm, name);
    return left;
  });
}

export interface NatsServer {
  readonly url: string;
  readonly version: string;
}

/**
 * Checks, before anything is spawned, that the server answers and has
 * JetStream, so that a missing server is one clear error rather than a
 * timeout in every child.
 */
export async function natsServer(): Promise<NatsServer> {
  let nc;
  try {
    nc = await connect({ servers: NATS_URL, timeout: 5_000 });
  } catch (error) {
    throw new Error(
      `--distributed needs a NATS server with JetStream at ${NATS_URL} (set NATS_URL): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.getAccountInfo();
    return { url: NATS_URL, version: nc.info?.version ?? 'unknown' };
  } catch (error) {
    throw new Error(
      `the NATS server at ${NATS_URL} has no JetStream (start it with -js): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  } finally {
    await nc.close();
  }
}
