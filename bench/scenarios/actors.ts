/**
 * Scenario 10: actors of your own (`processor.spawn`, issue 15). `troupe-actors`
 * spawns 100 counters over 2 threads, times single asks one at a time; then
 * sends them events round-robin as fast as `send` returns, and waits for the
 * last one with an ask to each. `troupe-virtual` does the same with 100
 * virtual actors (`actorOf`, issue 27), each activated by one ask first.
 * `troupe` is the same processor, on the same module, running no-op tasks:
 * 1,024 in flight for the rate, one at a time for the round trip. The
 * ratios say what an actor message costs against a task; virtual against
 * thread actors is read across the two rows.
 */
import type { Processor } from '../../src/index.js';
import { roundTrips, runWindow } from '../drive.js';
import { phase } from '../protocol.js';
import type { Scenario } from './scenario.js';

const ACTORS = 100;
const MODULE = new URL('../workers/actors.mjs', import.meta.url);

export const actors: Scenario = {
  id: 'actors',
  title: '10. Actors',
  caption: (s) =>
    `\`troupe-actors\` (spawned) and \`troupe-virtual\` (\`actorOf\`, activated first): ${s.throughputTasks.toLocaleString('en')} events sent round-robin to ${ACTORS} actors on 2 threads (then one ask each, to wait for the last), events/s; and the p50 of ${s.latencyTasks.toLocaleString('en')} asks one at a time, µs. ` +
    '`troupe`: the same processor and module running no-op tasks, the p50 of one at a time (warmed up alike), then tasks/s with 1,024 in flight. The ratio is actors ÷ tasks.',
  contenders: ['troupe', 'troupe-actors', 'troupe-virtual'],
  subjects: ['troupe-actors', 'troupe-virtual'],
  metrics: [
    { key: 'perSec', label: 'messages/s', better: 'higher', digits: 0, compare: 'ratio' },
    { key: 'p50', label: 'round trip p50 µs', better: 'lower', digits: 1, compare: 'ratio' },
  ],
  rounds: (r) => r,
  timeoutMs: 90_000,
  async run(contender, { sizes }) {
    const { createProcessor } = await import('../contenders/troupe.js');
    const processor: Processor = createProcessor({ handlers: MODULE, workers: 2 });
    await processor.ready;
    try {
      if (contender === 'troupe') {
        // Round trips first, warmed up alike in both rows (the same count, one at a time), then the rate.
        const task = () => processor.result(processor.submit({ handler: 'noop', payload: 1 }));
        phase('round trips');
        const { p50 } = await roundTrips(sizes.latencyTasks, sizes.warmupTasks, task);
        phase('tasks');
        const run = await runWindow({ total: sizes.throughputTasks, inFlight: sizes.inFlight, capMs: sizes.capMs }, (i) =>
          processor.result(processor.submit({ handler: 'noop', payload: i })),
        );
        return { perSec: (run.tasks / run.ms) * 1_000, p50 };
      }
      if (contender !== 'troupe-actors' && contender !== 'troupe-virtual') {
        throw new Error(`the actor scenario runs troupe, troupe-actors and troupe-virtual only, not ${contender}`);
      }
      const event = { type: 'inc' };
      phase('spawn');
      const refs =
        contender === 'troupe-actors'
          ? await Promise.all(Array.from({ length: ACTORS }, (_, i) => processor.spawn('counter', { id: `a${i}` })))
          : Array.from({ length: ACTORS }, (_, i) => processor.actorOf('counter', `a${i}`));
      // Virtual: each activated by its first event, as warm as a spawned one before the clock starts.
      if (contender === 'troupe-virtual') await Promise.all(refs.map((ref) => ref.ask(event)));
      const first = refs[0] as (typeof refs)[number];
      phase('round trips');
      const { p50 } = await roundTrips(sizes.latencyTasks, sizes.warmupTasks, () => first.ask(event));
      phase('sends');
      const start = performance.now();
      for (let i = 0; i < sizes.throughputTasks; i++) (refs[i % ACTORS] as (typeof refs)[number]).send(event);
      await Promise.all(refs.map((ref) => ref.ask(event, { timeout: 60_000 })));
      const perSec = ((sizes.throughputTasks + ACTORS) / (performance.now() - start)) * 1_000;
      return { perSec, p50 };
    } finally {
      await processor.shutdown();
    }
  },
};
