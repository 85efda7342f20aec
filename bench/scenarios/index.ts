/** The scenarios in the order they run and are reported (the order). */
import { actors } from './actors.js';
import { brokerOverhead } from './broker-overhead.js';
import { cpu } from './cpu.js';
import { dashboard } from './dashboard.js';
import { inspect } from './inspect.js';
import { latency } from './latency.js';
import { memory } from './memory.js';
import { priority } from './priority.js';
import { retry } from './retry.js';
import { scaleOut } from './scale-out.js';
import type { Scenario } from './scenario.js';
import { startup } from './startup.js';
import { store } from './store.js';
import { submitAll } from './submit-all.js';
import { throughput } from './throughput.js';
import { tracing } from './tracing.js';

export const SCENARIOS: readonly Scenario[] = [
  throughput,
  cpu,
  latency,
  retry,
  memory,
  startup,
  inspect,
  priority,
  store,
  actors,
  tracing,
  dashboard,
];

/** `npm run bench -- --distributed`: these instead, against a NATS server (Troupe only). */
export const DISTRIBUTED_SCENARIOS: readonly Scenario[] = [scaleOut, brokerOverhead, submitAll];

export function findScenario(id: string): Scenario {
  const all = [...SCENARIOS, ...DISTRIBUTED_SCENARIOS];
  const scenario = all.find((s) => s.id === id);
  if (!scenario) throw new Error(`unknown scenario ${JSON.stringify(id)}; known: ${all.map((s) => s.id).join(', ')}`);
  return scenario;
}
