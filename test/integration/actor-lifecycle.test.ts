/**
 * What happens to an actor over its life, with real threads: restarts after
 * its logic throws (`restart: 'on-error'`), `stop`, the snapshots shutdown
 * hands back and `spawn({ snapshot })` resumes, and how inspectors see it.
 */
import { describe, expect, it } from 'vitest';
import { type InspectionEvent, SimulatedClock } from 'xstate';

import { ActorFailedError, type ActorSnapshot, ActorStoppedError, InvalidActorError } from '../../src/index.js';
import { fixture, nextEvent, nextEvents, useProcessor } from '../helpers/index.js';

const make = useProcessor({ handlers: fixture('actors.ts'), workers: 2, restart: { minDelay: 1, maxDelay: 1 } });
const count = (snapshot: ActorSnapshot) => (snapshot.context as { count: number }).count;

describe("restart: 'on-error'", () => {
  it('restarts it from the snapshot before the event that threw: that ask rejects with the error, the rest is processed in order', async () => {
    const processor = make();
    const counter = await processor.spawn('counter', { restart: 'on-error' });
    expect(count(await counter.ask({ type: 'add', by: 3 }))).toBe(3);
    // One batch: two incs are processed after the last snapshot (3), then boom throws; note was sent after it.
    counter.send({ type: 'inc' });
    counter.send({ type: 'inc' });
    const boom = counter.ask({ type: 'boom' });
    counter.send({ type: 'note', text: 'after' });
    await expect(boom).rejects.toThrow(RangeError);
    // Restored at 3, the incs go again and boom does not: 5, then note, then this inc.
    const after = await counter.ask({ type: 'inc' });
    expect(after).toMatchObject({ status: 'active', context: { count: 6, log: ['after'] } });
    expect(counter.processed).toBe(6); // add, inc, inc, boom, note, inc: each once
    expect(processor.actor(counter.id)).toBe(counter);
  });

  it('past the restart intensity, ends in error with ActorFailedError caused by the logic error', async () => {
    const processor = make({ restart: { minDelay: 1, maxDelay: 1, maxRestarts: 1 } });
    const counter = await processor.spawn('counter', { restart: 'on-error' });
    const failed = new Promise<unknown>((resolve) => counter.subscribe({ error: resolve }));
    await expect(counter.ask({ type: 'boom' })).rejects.toThrow(RangeError);
    await expect(counter.ask({ type: 'boom' })).rejects.toThrow(RangeError);
    const error = await failed;
    expect(error).toBeInstanceOf(ActorFailedError);
    expect((error as Error).cause).toBeInstanceOf(RangeError);
    expect(counter.getSnapshot().status).toBe('error');
  });

  it('does not come back when it throws on an event sent before stop(): it ends in error and the stop resolves', async () => {
    const processor = make();
    const counter = await processor.spawn('counter', { restart: 'on-error' });
    const boom = counter.ask({ type: 'boom' });
    const stopped = counter.stop();
    await expect(boom).rejects.toThrow(RangeError);
    await stopped;
    expect(counter.getSnapshot().status).toBe('error');
    expect(processor.actors()).toEqual([]);
  });

  it('is refused for anything but on-crash or on-error', async () => {
    const processor = make();
    await expect(processor.spawn('counter', { restart: 'always' as never })).rejects.toBeInstanceOf(InvalidActorError);
    await expect(processor.spawn('counter', { snapshot: 5 })).rejects.toThrow(/persisted snapshot object/);
    expect(processor.actors()).toEqual([]);
  });
});

describe('stop', () => {
  it('stops it after the events already sent, with its last value and context; sends after stop() are refused', async () => {
    const processor = make();
    const counter = await processor.spawn('counter');
    for (let i = 0; i < 3; i++) counter.send({ type: 'inc' });
    const stopped = counter.stop();
    expect(() => counter.send({ type: 'inc' })).toThrow(ActorStoppedError);
    await expect(counter.ask({ type: 'inc' })).rejects.toBeInstanceOf(ActorStoppedError);
    await stopped;
    expect(counter.getSnapshot()).toMatchObject({ status: 'stopped', value: 'counting', context: { count: 3 } });
    expect(processor.actor(counter.id)).toBeUndefined();
  });

  it('resolves a stop made while the actor was starting, when it fails as it starts', async () => {
    const processor = make();
    await processor.ready;
    const spawning = processor.spawn('broken', { id: 'broken-1' });
    // The ref is listed from the spawn on, before its thread reports it running.
    const stopped = processor.actor('broken-1')?.stop();
    await expect(spawning).rejects.toThrow('no context for you');
    await expect(stopped).resolves.toBeUndefined();
    expect(processor.actor('broken-1')).toBeUndefined();
  });
});

describe('shutdown and restore', () => {
  it('shutdown returns each live actor with its persisted snapshot; spawn({ id, snapshot }) resumes it', async () => {
    const first = make();
    const counter = await first.spawn('counter', { id: 'account-1', input: { start: 10 } });
    const tally = await first.spawn('tally', { id: 'tally-1' });
    const finished = await first.spawn('counter', { id: 'over' });
    await finished.ask({ type: 'finish' });
    // Sent just before shutdown: stopped behind them, the snapshots include them.
    counter.send({ type: 'add', by: 5 });
    counter.send({ type: 'note', text: 'kept' });
    tally.send({ type: 'plus', n: 2 });
    const { actors } = await first.shutdown();
    // An actor that ended by itself has nothing to resume.
    expect(actors.map(({ id, logic }) => `${id}:${logic}`).sort()).toEqual(['account-1:counter', 'tally-1:tally']);
    expect(counter.getSnapshot()).toMatchObject({ status: 'stopped', context: { count: 15 } });

    const second = make();
    for (const { id, logic, snapshot } of actors) await second.spawn(logic, { id, snapshot });
    const resumed = second.actor('account-1');
    expect(resumed?.getSnapshot()).toMatchObject({ status: 'active', value: 'counting', context: { count: 15, log: ['kept'] } });
    expect(count(await resumed!.ask({ type: 'inc' }))).toBe(16);
    expect((await second.actor('tally-1')!.ask({ type: 'plus', n: 1 })).context).toBe(3);
  });

  it('stops the actors after the tasks: a task running at shutdown is done before any actor reports itself stopped', async () => {
    // Actors on a thread of their own: stopped first, their answer would come while the task still runs.
    const processor = make({ workers: 1, actorThreads: 1 });
    const counters = await Promise.all(['a', 'b'].map((id) => processor.spawn('counter', { id })));
    const order: string[] = [];
    processor.events.subscribe((event) => {
      if (event.type === 'task.done') order.push(`task ${event.id}`);
    });
    for (const counter of counters) {
      counter.subscribe((snapshot) => {
        if (snapshot.status === 'stopped') order.push(`actor ${counter.id}`);
      });
    }
    const started = nextEvent(processor.events, 'task.started');
    const id = processor.submit({ id: 'long', handler: 'spin', payload: { ms: 300 } });
    await started;
    const { actors } = await processor.shutdown();
    expect(await processor.result(id)).toMatchObject({ status: 'done', value: 300 });
    expect(order[0]).toBe('task long');
    expect(order.slice(1).sort()).toEqual(['actor a', 'actor b']);
    expect(actors.map(({ id }) => id).sort()).toEqual(['a', 'b']);
  });
});

describe('shutdown with an actor that never returns', () => {
  it('does not hang: past the deadline its thread is terminated, and it is returned with its last snapshot', async () => {
    const clock = new SimulatedClock();
    const processor = make({ clock });
    await processor.ready;
    const stuck = await processor.spawn('counter', { id: 'stuck' });
    const fine = await processor.spawn('counter', { id: 'fine' });
    expect(stuck.workerId).not.toBe(fine.workerId);
    expect(count(await stuck.ask({ type: 'add', by: 4 }))).toBe(4);
    stuck.send({ type: 'hang' });
    const lost = stuck.ask({ type: 'inc' }, { timeout: 60_000 }).then(
      () => 'answered',
      (error: unknown) => error,
    );
    const exits = nextEvents(processor.events, 'worker.exited', 2);
    const outcome = processor.shutdown({ timeout: 5_000 });
    // The actors are being stopped: the one on the free thread has stopped; the other's thread is held.
    await new Promise<void>((resolve) => fine.subscribe({ complete: resolve }));
    clock.increment(5_000);
    const { actors } = await outcome;
    expect(actors.find(({ id }) => id === 'stuck')?.snapshot).toMatchObject({ status: 'active', context: { count: 4 } });
    expect(actors.map(({ id }) => id).sort()).toEqual(['fine', 'stuck']);
    expect(stuck.getSnapshot()).toMatchObject({ status: 'stopped', context: { count: 4 } });
    expect(await lost).toBeInstanceOf(ActorStoppedError);
    expect((await exits).every(({ expected }) => expected)).toBe(true);
  });

  it('past a deadline that handed the tasks back, gives the actors abortGrace more', async () => {
    const clock = new SimulatedClock();
    const processor = make({ clock, abortGrace: 200 });
    const stuck = await processor.spawn('counter', { id: 'stuck' });
    stuck.send({ type: 'hang' });
    const outcome = processor.shutdown({ timeout: 0 });
    clock.increment(199);
    expect(stuck.getSnapshot().status).toBe('active');
    clock.increment(1);
    expect(stuck.getSnapshot().status).toBe('stopped');
    expect((await outcome).actors).toEqual([expect.objectContaining({ id: 'stuck', logic: 'counter' })]);
  });
});

describe('inspection', () => {
  const shown = (event: InspectionEvent) => {
    if (event.type === '@xstate.event') return `event ${event.event.type}`;
    if (event.type === '@xstate.snapshot') {
      const snapshot = event.snapshot as unknown as ActorSnapshot;
      return `snapshot ${snapshot.status} ${count(snapshot)}`;
    }
    return event.type;
  };

  it('shows each actor as troupe.actor.<id>: every event delivered and the snapshot after it, in order', async () => {
    const events: InspectionEvent[] = [];
    const processor = make({ inspect: (event) => events.push(event) });
    const counter = await processor.spawn('counter', { id: 'watched' });
    counter.send({ type: 'inc' });
    counter.send({ type: 'add', by: 2 });
    await counter.ask({ type: 'inc' });
    await counter.stop();
    const mine = events.filter((event) => event.actorRef.sessionId === 'troupe.actor.watched');
    expect(mine.map(shown)).toEqual([
      '@xstate.actor',
      'snapshot active 0',
      'event inc',
      'snapshot active 1',
      'event add',
      'snapshot active 3',
      'event inc',
      'snapshot active 4',
      'snapshot stopped 4',
    ]);
    expect((mine[0]?.actorRef as { _parent?: { id: string } } | undefined)?._parent?.id).toBe('troupe.supervisor');
  });

  it('an observer attached later sees a live actor from its next events; once it leaves, nothing more is traced', async () => {
    const processor = make();
    const counter = await processor.spawn('counter', { id: 'late' });
    await counter.ask({ type: 'inc' });
    const events: InspectionEvent[] = [];
    const inspecting = processor.inspect((event) => events.push(event));
    // The threads learn of the observer on the batch port: the ask's answer follows it.
    await counter.ask({ type: 'add', by: 2 });
    const mine = () => events.filter((event) => event.actorRef.sessionId === 'troupe.actor.late').map(shown);
    expect(mine()).toEqual(['@xstate.actor', 'snapshot active 1', 'event add', 'snapshot active 3']);
    inspecting.unsubscribe();
    await counter.ask({ type: 'inc' });
    expect(mine()).toHaveLength(4);
  });
});
