/**
 * Virtual actors in one process (`actorOf`): always addressable, activated
 * by their first event on a thread, restored from their persisted snapshot
 * or started with the input of the ref that activated them, events from one
 * sender in order, every refusal typed. (Over a broker: issue 27, later.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';

import {
  type ActorSnapshot,
  ActorStartError,
  ActorStoppedError,
  AskTimeoutError,
  createProcessor,
  InvalidActorError,
  InvalidEventError,
  natsBroker,
  type Processor,
  ProcessorShutdownError,
  sqliteStore,
} from '../../src/index.js';
import { fixture, useProcessor } from '../helpers/index.js';

const make = useProcessor({ handlers: fixture('actors.ts'), workers: 1 });
const count = (snapshot: ActorSnapshot) => (snapshot.context as { count: number }).count;

describe('actorOf', () => {
  it("is addressable at once and runs nothing until its first event, which activates it with the sender's input", async () => {
    const processor = make();
    const ada = processor.actorOf('counter', 'ada', { input: { start: 10 } });
    expect({ logic: ada.logic, key: ada.key, id: ada.id }).toEqual({ logic: 'counter', key: 'ada', id: 'counter/ada' });
    expect(ada.getSnapshot()).toBeUndefined();
    await processor.ready;
    expect(processor.actors()).toHaveLength(0);
    ada.send({ type: 'inc' });
    expect(count(await ada.ask({ type: 'add', by: 5 }))).toBe(16);
    expect(ada.getSnapshot()).toMatchObject({ status: 'active', context: { count: 16 } });
    // Another ref to the same key reaches the same actor; its input does not restart it.
    const again = processor.actorOf('counter', 'ada', { input: { start: 1_000 } });
    expect(count(await again.ask({ type: 'inc' }))).toBe(17);
    expect(processor.actors().map((ref) => ref.id)).toEqual(['counter/ada']);
  });

  it("keeps the order of one sender's events, those sent while it activates included", async () => {
    const processor = make();
    const ref = processor.actorOf('counter', 'ordered');
    for (let i = 0; i < 50; i++) ref.send({ type: 'note', text: String(i) });
    const { context } = await ref.ask({ type: 'note', text: 'last' });
    expect((context as { log: string[] }).log).toEqual([...Array.from({ length: 50 }, (_, i) => String(i)), 'last']);
  });

  it('gives each key its own actor', async () => {
    const processor = make();
    const keys = ['a', 'b', 'c'];
    const answers = await Promise.all(
      keys.map((key, i) => processor.actorOf('counter', key, { input: { start: i * 10 } }).ask({ type: 'inc' })),
    );
    expect(answers.map(count)).toEqual([1, 11, 21]);
  });

  it('streams its snapshots to a subscriber from before its first activation', async () => {
    const processor = make();
    const ref = processor.actorOf('counter', 'watched');
    const seen: number[] = [];
    const second = new Promise<void>((resolve) =>
      ref.subscribe((snapshot) => {
        seen.push(count(snapshot));
        if (count(snapshot) === 2) resolve();
      }),
    );
    ref.send({ type: 'inc' });
    ref.send({ type: 'inc' });
    await second;
    // Its activation's first snapshot, then the latest of each report from its thread (one or both events).
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(2);
  });

  it("restarts from the snapshot before the event that threw with restart: 'on-error', as a thread actor does", async () => {
    const processor = make();
    const ref = processor.actorOf('counter', 'sturdy', { restart: 'on-error' });
    expect(count(await ref.ask({ type: 'add', by: 3 }))).toBe(3);
    await expect(ref.ask({ type: 'boom' })).rejects.toThrow(RangeError);
    expect(count(await ref.ask({ type: 'inc' }))).toBe(4);
    // Without it, its logic's error ends it.
    const fragile = processor.actorOf('counter', 'fragile');
    await expect(fragile.ask({ type: 'boom' })).rejects.toThrow(RangeError);
    await expect(fragile.ask({ type: 'inc' })).rejects.toBeInstanceOf(ActorStoppedError);
  });

  it('refuses what it cannot use at the call, changing nothing', () => {
    const processor = make();
    expect(() => processor.actorOf('', 'k')).toThrow(InvalidActorError);
    expect(() => processor.actorOf('counter', '')).toThrow(InvalidActorError);
    expect(() => processor.actorOf('counter', 42 as never)).toThrow(/`key`/);
    expect(() => processor.actorOf('counter', 'k', { input: () => 1 })).toThrow(/structured-cloned/);
    expect(() => processor.actorOf('counter', 'k', { restart: 'always' as never })).toThrow(/`restart`/);
    const ref = processor.actorOf('counter', 'k');
    expect(() => ref.send({ kind: 'inc' } as never)).toThrow(InvalidEventError);
    expect(() => ref.send('inc' as never)).toThrow(InvalidEventError);
    expect(ref.getSnapshot()).toBeUndefined();
  });

  it('answers an ask with InvalidActorError naming it when the module has no such actor logic', async () => {
    const processor = make();
    const ref = processor.actorOf('nobody', 'k');
    const error = await ref.ask({ type: 'hello' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidActorError);
    expect((error as Error).message).toMatch(/`nobody`/);
  });

  it('answers with ActorStartError when its logic throws as it starts, and with ActorStoppedError once it has ended', async () => {
    const processor = make();
    await expect(processor.actorOf('broken', 'b').ask({ type: 'x' })).rejects.toBeInstanceOf(ActorStartError);
    const ref = processor.actorOf('counter', 'done');
    expect((await ref.ask({ type: 'finish' })).status).toBe('done');
    await expect(ref.ask({ type: 'inc' })).rejects.toBeInstanceOf(ActorStoppedError);
    expect(ref.getSnapshot()).toMatchObject({ status: 'done', output: { total: 0 } });
  });

  it('times an ask out with AskTimeoutError, activation included', async () => {
    const processor = make();
    const ref = processor.actorOf('counter', 'slow');
    await ref.ask({ type: 'inc' });
    ref.send({ type: 'hang' });
    await expect(ref.ask({ type: 'inc' }, { timeout: 100 })).rejects.toBeInstanceOf(AskTimeoutError);
    await processor.shutdown({ timeout: 0 });
  });

  it('is refused at the call with a broker, until virtual actors run over NATS', async () => {
    const processor = createProcessor({
      handlers: fixture('actors.ts'),
      workers: 0,
      broker: natsBroker({ servers: 'nats://127.0.0.1:1', stream: 'virtual-refused' }),
    });
    processor.ready.catch(() => {});
    expect(() => processor.actorOf('counter', 'k')).toThrow(InvalidActorError);
    await processor.shutdown({ timeout: 0 });
  });

  it('refuses after shutdown with ProcessorShutdownError', async () => {
    const processor = make();
    const ref = processor.actorOf('counter', 'late');
    await processor.shutdown();
    await expect(ref.ask({ type: 'inc' })).rejects.toBeInstanceOf(ProcessorShutdownError);
  });
});

/** Resolves once an inspector sees the thread actor `troupe.actor.<id>` stop: a virtual actor passivated. */
function stopped(seen: InspectionEvent[], id: string, count = 1): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const stops = seen.filter(
        (event) =>
          event.actorRef.sessionId === `troupe.actor.${id}` &&
          event.type === '@xstate.snapshot' &&
          (event.snapshot as { status?: string }).status === 'stopped',
      );
      if (stops.length >= count) resolve();
      else waiters.push(check);
    };
    check();
  });
}
const waiters: Array<() => void> = [];
function observer(seen: InspectionEvent[]) {
  return (event: InspectionEvent) => {
    seen.push(event);
    for (const waiter of waiters.splice(0)) waiter();
  };
}

describe('passivation', () => {
  it('passivates a key idle for actorIdleTimeout, and its next event activates it again from its snapshot', async () => {
    const seen: InspectionEvent[] = [];
    const processor = make({ actorIdleTimeout: 100, inspect: observer(seen) });
    const ref = processor.actorOf('counter', 'p', { input: { start: 1 } });
    expect(count(await ref.ask({ type: 'add', by: 4 }))).toBe(5);
    await stopped(seen, 'counter/p');
    expect(processor.actors()).toHaveLength(0);
    // Passivated, not stopped: to its refs it is as live as before.
    expect(ref.getSnapshot()).toMatchObject({ status: 'active', context: { count: 5 } });
    expect(processor.metrics().virtualActors).toMatchObject({ active: 0, passive: 1, activations: 1, passivations: 1 });
    // Without a store: restored from the snapshot kept in memory; the new ref's input is not used.
    expect(count(await processor.actorOf('counter', 'p', { input: { start: 100 } }).ask({ type: 'inc' }))).toBe(6);
    expect(processor.metrics().virtualActors).toMatchObject({ active: 1, passive: 0, activations: 2 });
  });

  it('activates a passivated key when a delayed event of its falls due, at its due time', async () => {
    const seen: InspectionEvent[] = [];
    const processor = make({ handlers: fixture('reminders.ts'), actorIdleTimeout: 100, inspect: observer(seen) });
    const ref = processor.actorOf('reminder', 'r', { input: { delay: 800 } });
    const rang = new Promise<ActorSnapshot>((resolve) =>
      ref.subscribe((snapshot) => {
        if (snapshot.value === 'rang') resolve(snapshot);
      }),
    );
    const { armedAt } = (await ref.ask({ type: 'arm' })).context as { armedAt: number };
    await stopped(seen, 'reminder/r');
    expect(processor.actors()).toHaveLength(0);
    const { firedAt } = (await rang).context as { firedAt: number };
    expect(firedAt).toBeGreaterThanOrEqual(armedAt + 800);
    expect(processor.metrics().virtualActors).toMatchObject({ passivations: 1, timersFired: 1, activations: 2 });
  });

  it('never passivates with actorIdleTimeout: Infinity, and refuses a timeout that is not a positive integer', async () => {
    expect(() => make({ actorIdleTimeout: 0 })).toThrow(/actorIdleTimeout/);
    expect(() => make({ actorIdleTimeout: -1 })).toThrow(/actorIdleTimeout/);
    const processor = make({ actorIdleTimeout: Infinity });
    await processor.actorOf('counter', 'forever').ask({ type: 'inc' });
    expect(processor.metrics().virtualActors).toMatchObject({ active: 1, passivations: 0 });
  });
});

describe('actorOf with a store', () => {
  let dir: string;
  const open: Processor[] = [];
  afterEach(async () => {
    for (const p of open.splice(0)) await p.shutdown({ timeout: 0 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('activates a key again in the next run from its stored snapshot, not from the input', async () => {
    dir = mkdtempSync(join(tmpdir(), 'troupe-virtual-'));
    const path = join(dir, 'tasks.db');
    const first = createProcessor({ handlers: fixture('actors.ts'), workers: 1, store: sqliteStore({ path }) });
    expect(count(await first.actorOf('counter', 'ada', { input: { start: 5 } }).ask({ type: 'add', by: 2 }))).toBe(7);
    await first.shutdown();

    const second = createProcessor({ handlers: fixture('actors.ts'), workers: 1, store: sqliteStore({ path }) });
    open.push(second);
    expect(count(await second.actorOf('counter', 'ada', { input: { start: 100 } }).ask({ type: 'inc' }))).toBe(8);
  });

  it('keeps nothing of a passivated key in memory, and reads its snapshot back from the file when it is activated', async () => {
    dir = mkdtempSync(join(tmpdir(), 'troupe-virtual-'));
    const seen: InspectionEvent[] = [];
    const processor = createProcessor({
      handlers: fixture('actors.ts'),
      workers: 1,
      store: sqliteStore({ path: join(dir, 'tasks.db') }),
      actorIdleTimeout: 100,
      inspect: observer(seen),
    });
    open.push(processor);
    const ref = processor.actorOf('counter', 'kept', { input: { start: 3 } });
    expect(count(await ref.ask({ type: 'add', by: 4 }))).toBe(7);
    await stopped(seen, 'counter/kept');
    // Its passivation completes once its last snapshot is on disk: an ask answered after the next commit follows it.
    await processor.actorOf('counter', 'fence').ask({ type: 'inc' });
    // Its snapshot is in the file only.
    expect(ref.getSnapshot()).toBeUndefined();
    // The fence is the one active.
    expect(processor.metrics().virtualActors).toMatchObject({ active: 1, passive: 1, passivations: 1 });
    expect(count(await processor.actorOf('counter', 'kept', { input: { start: 100 } }).ask({ type: 'inc' }))).toBe(8);
    expect(processor.metrics().virtualActors).toMatchObject({ passive: 0, activations: 3 });
  });

  it('wakes a key the last run left with a delayed event pending, at its due time, with no event sent to it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'troupe-virtual-'));
    const path = join(dir, 'tasks.db');
    const first = createProcessor({ handlers: fixture('reminders.ts'), workers: 1, store: sqliteStore({ path }) });
    const { armedAt } = (await first.actorOf('reminder', 'r', { input: { delay: 1_200 } }).ask({ type: 'arm' })).context as {
      armedAt: number;
    };
    await first.shutdown();

    const second = createProcessor({ handlers: fixture('reminders.ts'), workers: 1, store: sqliteStore({ path }) });
    open.push(second);
    const rang = await new Promise<ActorSnapshot>((resolve) =>
      second.actorOf('reminder', 'r').subscribe((snapshot) => {
        if (snapshot.value === 'rang') resolve(snapshot);
      }),
    );
    expect((rang.context as { firedAt: number }).firedAt).toBeGreaterThanOrEqual(armedAt + 1_200);
    expect(second.metrics().virtualActors).toMatchObject({ timersFired: 1, activations: 1 });
  });
});
