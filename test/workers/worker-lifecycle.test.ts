/**
 * A worker's lifecycle: one phase, moved by verbs, read by predicates. What
 * each phase lets the thread take, and what `metrics()` reports for it.
 */
import { describe, expect, it } from 'vitest';

import { AttemptWindow } from '../../src/workers/attempt-window.js';
import { WorkerLifecycle } from '../../src/workers/worker-lifecycle.js';

type Step = (lifecycle: WorkerLifecycle) => void;

/** A lifecycle taken through `steps`, in order. */
function after(...steps: Step[]): WorkerLifecycle {
  const lifecycle = new WorkerLifecycle();
  for (const step of steps) step(lifecycle);
  return lifecycle;
}

const start: Step = (l) => l.start();
const loaded: Step = (l) => l.loaded();
const fail: Step = (l) => l.fail();
const reserve: Step = (l) => l.reserve();
const unreserve: Step = (l) => l.unreserve();
const isolate: Step = (l) => l.isolate(7);
const settle: Step = (l) => l.settled(7);
const settleOther: Step = (l) => l.settled(8);
const retire: Step = (l) => l.retire();
const kill: Step = (l) => l.kill(7);
const stop: Step = (l) => l.stop();
const up = [start, loaded];

/** The predicates, as one object to compare. */
function read(l: WorkerLifecycle) {
  return { takesWork: l.takesWork, isReserved: l.isReserved, isUp: l.isUp, isRetiring: l.isRetiring, isStopping: l.isStopping };
}

const none = { takesWork: false, isReserved: false, isUp: false, isRetiring: false, isStopping: false };

describe('the worker lifecycle', () => {
  it.each([
    ['new', [], 'idle', 'idle', none],
    ['starting', [start], 'starting', 'starting', none],
    ['failed to start', [start, fail], 'failed', 'failed', none],
    ['ready', up, 'ready', 'ready', { ...none, takesWork: true, isUp: true }],
    ['reserved', [...up, reserve], 'ready', 'ready', { ...none, isReserved: true, isUp: true }],
    ['reserved, then not', [...up, reserve, unreserve], 'ready', 'ready', { ...none, takesWork: true, isUp: true }],
    ['running one isolated', [...up, isolate], 'ready', 'ready', { ...none, isUp: true }],
    ['isolated, another attempt settled', [...up, isolate, settleOther], 'ready', 'ready', { ...none, isUp: true }],
    ['isolated, it settled', [...up, isolate, settle], 'ready', 'ready', { ...none, takesWork: true, isUp: true }],
    ['isolated, reserved meanwhile', [...up, isolate, reserve], 'ready', 'ready', { ...none, isReserved: true, isUp: true }],
    ['isolated, reserved, it settled', [...up, isolate, reserve, settle], 'ready', 'ready', { ...none, isReserved: true, isUp: true }],
    [
      'isolated, reserved and not, it settled',
      [...up, isolate, reserve, unreserve, settle],
      'ready',
      'ready',
      { ...none, takesWork: true, isUp: true },
    ],
    ['retiring', [...up, retire], 'retiring', 'retiring', { ...none, isUp: true, isRetiring: true }],
    ['reserved, then retiring', [...up, reserve, retire], 'retiring', 'retiring', { ...none, isUp: true, isRetiring: true }],
    ['killed for an attempt', [...up, kill], 'killing', 'ready', { ...none, isUp: true }],
    ['killed, then retiring', [...up, kill, retire], 'killing', 'retiring', { ...none, isUp: true, isRetiring: true }],
    ['retiring, then killed', [...up, retire, kill], 'killing', 'retiring', { ...none, isUp: true, isRetiring: true }],
    ['stopped while starting', [start, stop], 'stopping', 'starting', { ...none, isStopping: true }],
    ['stopped while starting, then loaded', [start, stop, loaded], 'stopping', 'starting', { ...none, isStopping: true }],
    ['stopped while ready', [...up, stop], 'stopping', 'ready', { ...none, isStopping: true }],
    ['stopped while retiring', [...up, retire, stop], 'stopping', 'retiring', { ...none, isRetiring: true, isStopping: true }],
    ['stopped while killed', [...up, kill, stop], 'stopping', 'ready', { ...none, isStopping: true }],
    ['stopped after a failed start', [start, fail, stop], 'failed', 'failed', none],
    ['stopped before it started', [stop], 'exited', 'exited', none],
  ] as const)('%s: in %s, reported %s', (_situation, steps, phase, state, predicates) => {
    const lifecycle = after(...steps);
    expect(lifecycle.phase.name).toBe(phase);
    expect(lifecycle.state).toBe(state);
    expect(read(lifecycle)).toEqual(predicates);
  });

  it('says which attempt the thread was killed for, the first one only', () => {
    const lifecycle = after(...up, kill, (l) => l.kill(9));
    expect(lifecycle.phase).toEqual({ name: 'killing', killedFor: 7, was: 'ready' });
  });

  it('hands the phase it exited from to the caller, and ends exited', () => {
    const lifecycle = after(...up, kill);
    expect(lifecycle.exit()).toEqual({ name: 'killing', killedFor: 7, was: 'ready' });
    expect(lifecycle.hasExited).toBe(true);
    lifecycle.start();
    lifecycle.loaded();
    expect(lifecycle.phase.name).toBe('exited');
  });
});

describe('the attempt window (2 run slots, a window of 4)', () => {
  it('takes up to its run slots, then refills the window only from half empty to full', () => {
    const window = new AttemptWindow(2, 4);
    const room: boolean[] = [];
    // Filling from empty: refilling from the start, up to 6 held.
    for (let held = 0; held <= 6; held++) {
      window.follow(held);
      room.push(window.hasRoom(held));
    }
    expect(room).toEqual([true, true, true, true, true, true, false]);
    // Draining: no room again until half the window (2 of 4) is free.
    window.follow(5);
    expect(window.hasRoom(5)).toBe(false);
    window.follow(4);
    expect(window.hasRoom(4)).toBe(true);
    expect(window.hasFreeSlot(2)).toBe(false);
    expect(window.hasFreeSlot(1)).toBe(true);
  });
});
