/**
 * Actors of your own on the worker threads (`processor.spawn`), with real
 * threads: order, asks, snapshots, final states, logic errors, a thread
 * that dies under an actor, placement, and every refusal.
 */
import { filter, firstValueFrom, from, lastValueFrom, map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';

import {
  ActorFailedError,
  type ActorSnapshot,
  ActorStartError,
  ActorStoppedError,
  AskTimeoutError,
  DuplicateActorError,
  InvalidActorError,
  InvalidEventError,
  type Processor,
  ProcessorShutdownError,
  WorkerCrashedError,
} from '../../src/index.js';
import { fixture, nextEvent, useProcessor } from '../helpers/index.js';

const make = useProcessor({ handlers: fixture('actors.ts'), workers: 2 });
const count = (snapshot: ActorSnapshot) => (snapshot.context as { count: number }).count;

/** What `promise` rejects with; it fails the test if it resolves. */
function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as Error,
  );
}

/** How many threads have crashed (exited unasked) so far. */
function countCrashes(processor: Processor): () => number {
  let crashes = 0;
  processor.events.subscribe((event) => {
    if (event.type === 'worker.exited' && !event.expected) crashes++;
  });
  return () => crashes;
}

describe('processor.spawn', () => {
  it('delivers events in the order sent: 10,000 sends, then an ask sees every one', async () => {
    const processor = make();
    const counter = await processor.spawn('counter', { id: 'counter-1', input: { start: 5 } });
    expect(counter.id).toBe('counter-1');
    expect(counter.getSnapshot()).toMatchObject({ status: 'active', value: 'counting', context: { count: 5 } });
    for (let i = 0; i < 10_000; i++) counter.send(i % 2 ? { type: 'inc' } : { type: 'note', text: String(i) });
    const after = await counter.ask({ type: 'add', by: 100 });
    expect(count(after)).toBe(5 + 5_000 + 100);
    const log = (after.context as { log: string[] }).log;
    expect(log).toHaveLength(5_000);
    expect(log.slice(0, 3)).toEqual(['0', '2', '4']);
    expect(log.at(-1)).toBe('9998');
    expect(counter.getSnapshot()).toEqual(after);
  });

  it('answers each ask with the snapshot right after its event, and streams snapshots to subscribers', async () => {
    const processor = make();
    const counter = await processor.spawn('counter');
    const seen: number[] = [];
    counter.subscribe((snapshot) => seen.push(count(snapshot)));
    const answers = await Promise.all([counter.ask({ type: 'inc' }), counter.ask({ type: 'inc' }), counter.ask({ type: 'add', by: 10 })]);
    expect(answers.map(count)).toEqual([1, 2, 12]);
    expect(seen.at(-1)).toBe(12);
    const tally = await processor.spawn('tally', { id: 'tally' });
    expect((await tally.ask({ type: 'plus', n: 4 })).context).toBe(4);
  });

  it('is an Observable to rxjs: from(ref) gives its snapshots, and completes when it stops', async () => {
    const processor = make();
    const counter = await processor.spawn('counter');
    const third = firstValueFrom(
      from(counter).pipe(
        map(count),
        filter((n) => n >= 3),
      ),
    );
    for (let i = 0; i < 3; i++) counter.send({ type: 'inc' });
    expect(await third).toBe(3);
    const statuses = lastValueFrom(from(counter).pipe(map((snapshot) => snapshot.status)));
    await counter.stop();
    expect(await statuses).toBe('stopped');
  });

  it('ends with status done and the output at a final state; the id is free again', async () => {
    const processor = make();
    const counter = await processor.spawn('counter', { id: 'c' });
    const completed = new Promise<ActorSnapshot[]>((resolve) => {
      const all: ActorSnapshot[] = [];
      counter.subscribe({ next: (snapshot) => all.push(snapshot), complete: () => resolve(all) });
    });
    counter.send({ type: 'add', by: 3 });
    const final = await counter.ask({ type: 'finish' });
    expect(final).toMatchObject({ status: 'done', output: { total: 3 } });
    expect((await completed).at(-1)).toMatchObject({ status: 'done' });
    expect(() => counter.send({ type: 'inc' })).toThrow(ActorStoppedError);
    await expect(counter.ask({ type: 'inc' })).rejects.toBeInstanceOf(ActorStoppedError);
    expect(processor.actor('c')).toBeUndefined();
    expect((await processor.spawn('counter', { id: 'c' })).getSnapshot()).toMatchObject({ status: 'active' });
  });

  it('ends in error when its logic throws: the ask rejects with that error, subscribers hear it', async () => {
    const processor = make();
    const counter = await processor.spawn('counter');
    const errored = new Promise<unknown>((resolve) => counter.subscribe({ error: resolve }));
    const asked = counter.ask({ type: 'boom' });
    // Sent behind it, in flight when it failed: not processed, and its ask gets the same error.
    const behind = counter.ask({ type: 'inc' });
    await expect(asked).rejects.toMatchObject({ name: 'RangeError', message: 'the counter blew up' });
    await expect(behind).rejects.toMatchObject({ name: 'RangeError', message: 'the counter blew up' });
    await expect(counter.ask({ type: 'inc' })).rejects.toBeInstanceOf(ActorStoppedError);
    expect(await errored).toMatchObject({ message: 'the counter blew up' });
    expect(counter.getSnapshot()).toMatchObject({ status: 'error' });
    // It failed as it started: spawn rejects with the logic's error, as the cause of one that names the actor.
    await expect(processor.spawn('broken')).rejects.toMatchObject({ cause: { name: 'TypeError', message: 'no context for you' } });
    expect(processor.actors()).toEqual([]);
  });

  it('names the actor and its logic when it throws as it starts: ActorStartError, with what it threw as its cause', async () => {
    const processor = make();
    const error = await rejection(processor.spawn('broken', { id: 'broken-1' }));
    expect(error).toBeInstanceOf(ActorStartError);
    expect(error).toMatchObject({ name: 'ActorStartError', code: 'ERR_ACTOR_START', actorId: 'broken-1', logic: 'broken' });
    expect(error.message).toBe('Actor `broken-1` (logic `broken`) failed as it started: no context for you');
    // The cause crossed the thread with its class.
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(error.cause).toMatchObject({ message: 'no context for you' });
    // Its id is free: nothing else knew of it.
    expect(processor.actor('broken-1')).toBeUndefined();
  });

  it("keeps the code, cause and fields of what its logic throws, in the ask's rejection and the snapshot; a Troupe error keeps its class", async () => {
    const processor = make();
    const ledger = await processor.spawn('counter');
    const audited = await rejection(ledger.ask({ type: 'audit' }));
    for (const error of [audited, ledger.getSnapshot().error as Error]) {
      // A class of the user's own comes back as an Error with its name, code, cause and fields.
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ name: 'LedgerError', message: 'the ledger is closed', code: 'E_LEDGER', account: 'ada' });
      expect(error.cause).toBeInstanceOf(TypeError);
      expect(error.cause).toMatchObject({ message: 'no ledger for 2026' });
    }
    const troupe = await processor.spawn('counter');
    const refused = await rejection(troupe.ask({ type: 'refuse' }));
    for (const error of [refused, troupe.getSnapshot().error as Error]) {
      expect(error).toBeInstanceOf(InvalidEventError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_EVENT', message: 'refunds are not events' });
      expect(error.cause).toBeInstanceOf(RangeError);
      expect(error.cause).toMatchObject({ message: 'amount below zero' });
    }
  });

  it('goes to the thread with the fewest actors; stop frees its id; actor() and actors() list the live ones', async () => {
    const processor = make();
    await processor.ready;
    const refs = await Promise.all(['a', 'b', 'c', 'd'].map((id) => processor.spawn('counter', { id })));
    const perThread = new Map<number | undefined, number>();
    for (const ref of refs) perThread.set(ref.workerId, (perThread.get(ref.workerId) ?? 0) + 1);
    expect([...perThread.values()]).toEqual([2, 2]);
    expect(processor.actor('b')).toBe(refs[1]);
    const done = new Promise<void>((resolve) => refs[1]?.subscribe({ complete: resolve }));
    await refs[1]?.stop();
    await done;
    expect(refs[1]?.getSnapshot().status).toBe('stopped');
    expect(processor.actor('b')).toBeUndefined();
    expect(processor.actors().map((ref) => ref.id)).toEqual(['a', 'c', 'd']);
    await (await processor.spawn('counter', { id: 'b' })).stop();
  });

  it('refuses, at the call and changing nothing: a duplicate id, logic that is not exported, a bad event', async () => {
    const processor = make();
    const counter = await processor.spawn('counter', { id: 'only' });
    await expect(processor.spawn('counter', { id: 'only' })).rejects.toBeInstanceOf(DuplicateActorError);
    await expect(processor.spawn('nope')).rejects.toThrow(
      /`nope` is not actor logic .* `broken`, `counter`, `tally`, its functions `spin`/,
    );
    await expect(processor.spawn('spin')).rejects.toBeInstanceOf(InvalidActorError);
    await expect(processor.spawn('counter', { input: { f: () => 1 } })).rejects.toBeInstanceOf(InvalidActorError);
    expect(() => counter.send({ kind: 'inc' } as never)).toThrow(InvalidEventError);
    expect(() => counter.send('inc' as never)).toThrow(InvalidEventError);
    expect(() => counter.send({ type: 'note', text: () => 'x' })).toThrow(/cannot be structured-cloned/);
    expect(() => counter.send({ type: 'note', text: Symbol('x') })).toThrow(/cannot be structured-cloned/);
    await expect(counter.ask({ type: 'inc' }, { timeout: -1 })).rejects.toBeInstanceOf(InvalidEventError);
    expect(count(await counter.ask({ type: 'inc' }))).toBe(1);
    expect(processor.actors()).toHaveLength(1);
  });

  it('rejects an ask that gets no answer in time with AskTimeoutError (the thread is held by a task)', async () => {
    const clock = new SimulatedClock();
    const processor = make({ workers: 1, clock });
    const counter = await processor.spawn('counter');
    const started = new Promise<void>((resolve) => processor.events.subscribe((event) => event.type === 'task.started' && resolve()));
    processor.submit({ handler: 'spin', payload: { ms: 2_000 } });
    await started;
    const asked = counter.ask({ type: 'inc' }, { timeout: 1_000 });
    clock.increment(1_000);
    await expect(asked).rejects.toBeInstanceOf(AskTimeoutError);
    await expect(asked).rejects.toMatchObject({ code: 'ERR_ASK_TIMEOUT', actorId: counter.id });
    // The timed-out event still counts as sent: once the task lets the thread go, it is processed before this one.
    expect(count(await counter.ask({ type: 'inc' }))).toBe(2);
    expect(counter.processed).toBe(2);
  });

  it('with actorThreads, runs actors on threads of their own: a long task holds up no ask, and tasks never go there', async () => {
    const processor = make({ workers: 1, actorThreads: 1, abortGrace: 10 });
    const counter = await processor.spawn('counter');
    const threads = processor.metrics().workers;
    expect(threads.map(({ role }) => role).sort()).toEqual(['actors', 'tasks']);
    const actorThread = threads.find(({ role }) => role === 'actors')?.id;
    expect(counter.workerId).toBe(actorThread);
    const started: number[] = [];
    processor.events.subscribe((event) => event.type === 'task.started' && started.push(event.workerId));
    const first = new Promise<void>((resolve) => processor.events.subscribe((event) => event.type === 'task.started' && resolve()));
    const ids = [processor.submit({ handler: 'spin', payload: { ms: 60_000 } }), processor.submit({ handler: 'spin', payload: { ms: 1 } })];
    await first;
    // The task thread spins for a minute: the actor's thread answers at once.
    expect(count(await counter.ask({ type: 'inc' }))).toBe(1);
    processor.cancel(ids[0] as string);
    await processor.result(ids[1] as string);
    expect(started.length).toBeGreaterThan(0);
    expect(started.every((workerId) => workerId !== actorThread)).toBe(true);
    expect(processor.getStatus().workers).toBe(1);
  });

  it('comes back from its last snapshot when its thread dies: the ask in flight rejects, what is sent meanwhile arrives in order', async () => {
    const processor = make({ restart: { minDelay: 1, maxDelay: 1 } });
    const counter = await processor.spawn('counter', { id: 'survivor' });
    expect(count(await counter.ask({ type: 'add', by: 5 }))).toBe(5);
    const crashed = counter.ask({ type: 'exit' });
    // Sent while the thread dies and the actor comes back: they wait, and reach the restored actor in order.
    counter.send({ type: 'inc' });
    counter.send({ type: 'note', text: 'after' });
    await expect(crashed).rejects.toBeInstanceOf(WorkerCrashedError);
    const after = await counter.ask({ type: 'inc' });
    expect(after).toMatchObject({ status: 'active', context: { count: 7, log: ['after'] } });
    expect(processor.actor('survivor')).toBe(counter);
  });

  it('does not deliver again the event that killed its thread: one crash, every other event applied once, in order', async () => {
    const processor = make({ restart: { minDelay: 1, maxDelay: 1 } });
    const crashes = countCrashes(processor);
    const counter = await processor.spawn('counter');
    expect(count(await counter.ask({ type: 'add', by: 10 }))).toBe(10);
    // One batch: the thread dies at exit; the note and inc before it were processed but not yet reported.
    counter.send({ type: 'note', text: 'a' });
    counter.send({ type: 'inc' });
    counter.send({ type: 'exit' });
    counter.send({ type: 'note', text: 'b' });
    // An ask in that batch was in flight when the thread died: it rejects, and its event is not sent again.
    await expect(counter.ask({ type: 'inc' })).rejects.toBeInstanceOf(WorkerCrashedError);
    counter.send({ type: 'inc' });
    // From the last snapshot (10), what was sent goes again in order, batched: a, inc, b, then this inc and the ask.
    const after = await counter.ask({ type: 'note', text: 'done' });
    expect(after).toMatchObject({ status: 'active', context: { count: 12, log: ['a', 'b', 'done'] } });
    expect(crashes()).toBe(1);
  });

  it('survives one fatal event with maxRestarts: 1: the thread names the event as it dies, so it costs one restart', async () => {
    const processor = make({ restart: { minDelay: 1, maxDelay: 1, maxRestarts: 1 } });
    const counter = await processor.spawn('counter', { id: 'once' });
    const crashed = nextEvent(processor.events, 'worker.exited');
    counter.send({ type: 'inc' });
    counter.send({ type: 'exit' });
    counter.send({ type: 'inc' });
    await crashed;
    const after = await counter.ask({ type: 'add', by: 10 });
    expect(after).toMatchObject({ status: 'active', context: { count: 12 } });
    expect(processor.actor('once')).toBe(counter);
  });

  it('without word from the dying thread (out of memory), sends the events again one at a time and drops the one that kills it alone', async () => {
    const processor = make({ resourceLimits: { maxOldGenerationSizeMb: 16 }, restart: { minDelay: 1, maxDelay: 1 } });
    const crashes = countCrashes(processor);
    const counter = await processor.spawn('counter');
    expect(count(await counter.ask({ type: 'add', by: 10 }))).toBe(10);
    const crashed = nextEvent(processor.events, 'worker.exited');
    counter.send({ type: 'inc' });
    counter.send({ type: 'hog' });
    counter.send({ type: 'note', text: 'after' });
    expect((await crashed).error).toMatchObject({ code: 'ERR_WORKER_OUT_OF_MEMORY' });
    // Again one at a time from 10: inc, then hog kills the thread alone in flight and is dropped, then the note and the ask.
    const after = await counter.ask({ type: 'inc' });
    expect(after).toMatchObject({ status: 'active', context: { count: 12, log: ['after'] } });
    expect(crashes()).toBe(2);
  });

  it('ends in error with ActorFailedError once its thread died more often than the restart policy allows', async () => {
    const processor = make({ restart: { minDelay: 1, maxDelay: 1, maxRestarts: 1 } });
    const counter = await processor.spawn('counter');
    const failed = new Promise<unknown>((resolve) => counter.subscribe({ error: resolve }));
    await expect(counter.ask({ type: 'exit' })).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(counter.ask({ type: 'exit' })).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(await failed).toBeInstanceOf(ActorFailedError);
    expect(counter.getSnapshot()).toMatchObject({ status: 'error', error: { code: 'ERR_ACTOR_FAILED' } });
    expect(processor.actors()).toEqual([]);
  });

  it('refuses spawn once shutting down, and stops every actor at shutdown', async () => {
    const processor = make();
    const counter = await processor.spawn('counter');
    const completed = new Promise<void>((resolve) => counter.subscribe({ complete: resolve }));
    await processor.shutdown();
    await completed;
    expect(counter.getSnapshot().status).toBe('stopped');
    await expect(processor.spawn('counter')).rejects.toBeInstanceOf(ProcessorShutdownError);
  });
});
