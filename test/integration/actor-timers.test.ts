/**
 * Delayed events that outlive their actor: an `after` delay pending when an
 * actor is persisted (shutdown, a store) fires at its due time once the
 * actor is restored, and one the restored actor leaves is cancelled as
 * usual. XState alone restores such a machine waiting forever.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { type ActorRef, type ActorSnapshot, createProcessor, type Processor, sqliteStore } from '../../src/index.js';
import { fixture, useProcessor } from '../helpers/index.js';

const make = useProcessor({ handlers: fixture('reminders.ts'), workers: 1 });

type Reminder = { delay: number; armedAt: number; firedAt: number | undefined };

/** Resolves with the first snapshot of `ref` in state `value`, the current one included. */
function reaches(ref: ActorRef, value: string): Promise<ActorSnapshot> {
  return new Promise((resolve) => {
    const subscription = ref.subscribe((snapshot) => {
      if (snapshot.value !== value) return;
      queueMicrotask(() => subscription.unsubscribe());
      resolve(snapshot);
    });
  });
}

describe('delayed events of a restored actor', () => {
  it('persists a pending after delay with its due time, and fires it then once the actor is resumed', async () => {
    const first = make();
    const reminder = await first.spawn('reminder', { id: 'r', input: { delay: 1_500 } });
    const armed = (await reminder.ask({ type: 'arm' })).context as Reminder;
    const { actors } = await first.shutdown();
    const [stopped] = actors;
    const delays = (stopped?.snapshot as { delayedEvents?: Array<{ dueAt: number }> }).delayedEvents;
    expect(delays).toHaveLength(1);
    expect(delays?.[0]?.dueAt).toBeGreaterThanOrEqual(armed.armedAt + 1_500);

    const second = make();
    const resumed = await second.spawn('reminder', { id: 'r', snapshot: stopped?.snapshot });
    expect(resumed.getSnapshot()).toMatchObject({ value: 'waiting' });
    const rang = (await reaches(resumed, 'rang')).context as Reminder;
    // At its due time, not a whole delay after the resume, and not before.
    expect(rang.firedAt).toBeGreaterThanOrEqual(armed.armedAt + 1_500);
    expect(rang.armedAt).toBe(armed.armedAt);
  });

  it('cancels a restored delay when the actor leaves its state, as XState cancels any', async () => {
    const first = make();
    const early = await first.spawn('reminder', { id: 'early', input: { delay: 1_000 } });
    const late = await first.spawn('reminder', { id: 'late', input: { delay: 1_600 } });
    await early.ask({ type: 'arm' });
    await late.ask({ type: 'arm' });
    const { actors } = await first.shutdown();

    const second = make();
    for (const { id, logic, snapshot } of actors) await second.spawn(logic, { id, snapshot });
    const restoredEarly = second.actor('early') as ActorRef;
    expect((await restoredEarly.ask({ type: 'disarm' })).value).toBe('idle');
    // `late` rings after `early` was due: by then `early`'s delay would have fired, had it not been cancelled.
    await reaches(second.actor('late') as ActorRef, 'rang');
    expect(restoredEarly.getSnapshot()).toMatchObject({ value: 'idle', context: { firedAt: undefined } });
  });

  it('an overdue delay fires at once when the actor is resumed', async () => {
    const first = make();
    const reminder = await first.spawn('reminder', { id: 'r', input: { delay: 60_000 } });
    await reminder.ask({ type: 'arm' });
    const { actors } = await first.shutdown();
    const snapshot = actors[0]?.snapshot as { delayedEvents: Array<{ dueAt: number }> };
    // As if resumed a minute later.
    const overdue = { ...snapshot, delayedEvents: snapshot.delayedEvents.map((delay) => ({ ...delay, dueAt: delay.dueAt - 60_000 })) };
    const second = make();
    const resumed = await second.spawn('reminder', { id: 'r', snapshot: overdue });
    expect((await reaches(resumed, 'rang')).value).toBe('rang');
  });
});

describe('delayed events with a store', () => {
  let dir: string;
  const open: Processor[] = [];
  afterEach(async () => {
    for (const p of open.splice(0)) await p.shutdown({ timeout: 0 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('an actor shutdown kept in the store fires its pending delay after the next start resumes it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'troupe-timers-'));
    const path = join(dir, 'tasks.db');
    const first = createProcessor({ handlers: fixture('reminders.ts'), workers: 1, store: sqliteStore({ path }) });
    const reminder = await first.spawn('reminder', { id: 'r', input: { delay: 1_500 } });
    const armed = (await reminder.ask({ type: 'arm' })).context as Reminder;
    await first.shutdown();

    const second = createProcessor({ handlers: fixture('reminders.ts'), workers: 1, store: sqliteStore({ path }) });
    open.push(second);
    expect(second.storedActors()).toEqual([{ id: 'r', logic: 'reminder' }]);
    const resumed = await second.spawn('reminder', { id: 'r' });
    const rang = (await reaches(resumed, 'rang')).context as Reminder;
    expect(rang.firedAt).toBeGreaterThanOrEqual(armed.armedAt + 1_500);
  });
});
