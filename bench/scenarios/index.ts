/** The scenarios in the order they run and are reported (the order). */
import { cpu } from './cpu.js';
import { inspect } from './inspect.js';
import { latency } from './latency.js';
import { memory } from './memory.js';
import { priority } from './priority.js';
import { retry } from './retry.js';
import type { Scenario } from './scenario.js';
import { startup } from './startup.js';
import { throughput } from './throughput.js';

export const SCENARIOS: readonly Scenario[] = [throughput, cpu, latency, retry, memory, startup, inspect, priority];

export function findScenario(id: string): Scenario {
  const scenario = SCENARIOS.find((s) => s.id === id);
  if (!scenario) throw new Error(`unknown scenario ${JSON.stringify(id)}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  return scenario;
}
