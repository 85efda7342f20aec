/**
 * The broker's JetStream publisher (src/broker/publisher.ts), against the
 * real server: what `js.publish` and the bucket's `create` answered, it
 * answers, and every publish ends, with an acknowledgement or a BrokerError.
 */
import { type JetStreamManager, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { JetStreamPublisher } from '../../src/broker/publisher.js';
import { BrokerError } from '../../src/index.js';
import { NATS_URL, natsAvailable, uniqueStream } from './nats.js';

const available = await natsAvailable();

describe.skipIf(!available)('JetStreamPublisher', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const stream = uniqueStream('publisher');

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], storage: StorageType.Memory });
  });

  afterAll(async () => {
    await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  });

  /** What the results bucket's `create` sends: store only if the subject holds nothing. */
  const createOnly = () => {
    const made = headers();
    made.set('Nats-Expected-Last-Subject-Sequence', '0');
    return made;
  };

  const withId = (id: string) => {
    const made = headers();
    made.set('Nats-Msg-Id', id);
    return made;
  };

  it('resolves with the stream and sequence, and says when a message id was taken within the duplicate window', async () => {
    const publisher = new JetStreamPublisher(nc, 5_000);
    const first = await publisher.publish(`${stream}.a`, new Uint8Array([1]), withId('one'));
    const again = await publisher.publish(`${stream}.a`, new Uint8Array([2]), withId('one'));
    const other = await publisher.publish(`${stream}.b`, new Uint8Array([3]), undefined);
    expect(first).toEqual({ stream, seq: first.seq, duplicate: false });
    expect(again).toEqual({ stream, seq: first.seq, duplicate: true });
    expect(other.seq).toBe(first.seq + 1);
    publisher.close();
  });

  it('answers many publishes in one turn, each with its own acknowledgement', async () => {
    const publisher = new JetStreamPublisher(nc, 5_000);
    const acks = await Promise.all(
      Array.from({ length: 500 }, (_, i) => publisher.publish(`${stream}.many`, new Uint8Array([i % 256]), withId(`m${i}`))),
    );
    const seqs = acks.map((ack) => ack.seq);
    expect(new Set(seqs).size).toBe(500);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    publisher.close();
  });

  it('refuses a create-only publish to a subject that holds a message, naming why', async () => {
    const publisher = new JetStreamPublisher(nc, 5_000);
    await publisher.publish(`${stream}.key`, new Uint8Array([1]), createOnly());
    const refused = publisher.publish(`${stream}.key`, new Uint8Array([2]), createOnly());
    await expect(refused).rejects.toBeInstanceOf(BrokerError);
    await expect(refused).rejects.toThrow(/wrong last sequence.*\(10071\)/);
    publisher.close();
  });

  it('rejects at once when no stream takes the subject', async () => {
    const publisher = new JetStreamPublisher(nc, 60_000);
    await expect(publisher.publish(`${stream}_none.x`, new Uint8Array([1]), undefined)).rejects.toThrow(/no responders/);
    publisher.close();
  });

  it('rejects a publish nobody answers once its timeout has passed, and every waiting one on close', async () => {
    const silent = nc.subscribe(`${stream}_silent.>`); // takes the message, never answers
    const quick = new JetStreamPublisher(nc, 300);
    const unanswered = quick.publish(`${stream}_silent.x`, new Uint8Array([1]), undefined);
    await expect(unanswered).rejects.toThrow(/did not answer a publish .* within 300 ms/);
    quick.close();
    const patient = new JetStreamPublisher(nc, 60_000);
    const waiting = patient.publish(`${stream}_silent.y`, new Uint8Array([1]), undefined);
    patient.close();
    await expect(waiting).rejects.toThrow(/connection closed before JetStream answered/);
    silent.unsubscribe();
  });
});
