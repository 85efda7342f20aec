/**
 * Scenario 11: what OpenTelemetry tracing costs Troupe. `troupe`: no tracer
 * provider registered, so each task pays one check; `troupe-traced`: the
 * SDK's provider registered, so each task makes a `troupe.task` and a
 * `troupe.attempt` span (exported to nowhere); `troupe-tracing-off`: the
 * provider registered and `tracing: false`.
 */
import { openPool } from './open.js';
import type { Scenario } from './scenario.js';
import { noopThroughput } from './throughput.js';

export const tracing: Scenario = {
  id: 'tracing',
  title: '11. OpenTelemetry tracing',
  caption: (s) =>
    `Troupe's no-op throughput as in scenario 1 (${s.inspectTasks.toLocaleString('en')} tasks or ${s.capMs / 1_000} s, ${s.inFlight.toLocaleString('en')} in flight): ` +
    "with no tracer provider registered (`troupe`), with the SDK's `NodeTracerProvider` registered, every span sampled, batched by a `BatchSpanProcessor` (queue 100,000, batches of 1,000: none dropped) and exported to nowhere (`troupe-traced`), and with that provider and `tracing: false` (`troupe-tracing-off`). " +
    'Tasks/s, higher is better; the ratios are each variant ÷ the row.',
  contenders: ['troupe', 'troupe-traced', 'troupe-tracing-off'],
  subjects: ['troupe-traced', 'troupe-tracing-off'],
  metrics: [{ key: 'tasksPerSec', label: 'tasks/s', better: 'higher', digits: 0, compare: 'ratio' }],
  rounds: (r) => r,
  timeoutMs: 60_000,
  async run(contender, { sizes }) {
    return noopThroughput(await openPool(contender), sizes, sizes.inspectTasks);
  },
};
