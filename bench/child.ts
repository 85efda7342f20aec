/**
 * One measurement in a fresh process: `node bench/child-entry.mjs <scenario>
 * <contender>` (the entry registers tsx, then imports this). The orchestrator
 * spawns it; it also runs by hand, which is how a failure in the report is
 * reproduced. Prints its result as a tagged JSON line (protocol.ts).
 */
import { cpuIterations, SIZES } from './config.js';
import { CLOSED, ERROR, phase, RESULT, send } from './protocol.js';
import { findScenario } from './scenarios/index.js';
import { closeAll } from './scenarios/open.js';

const CLOSE_TIMEOUT_MS = 15_000;

async function main(): Promise<number> {
  const [scenarioId = '', contender = ''] = process.argv.slice(2);
  try {
    const scenario = findScenario(scenarioId);
    const metrics = await scenario.run(contender, { sizes: SIZES, cpuIterations: cpuIterations() });
    send(RESULT, { metrics });
  } catch (error) {
    send(ERROR, { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    return 1;
  }
  // Closing is reported, not timed: a pool that cannot shut down is a finding.
  phase('close');
  const start = performance.now();
  try {
    await closeAll(CLOSE_TIMEOUT_MS);
    send(CLOSED, { ms: performance.now() - start });
  } catch (error) {
    send(CLOSED, { ms: performance.now() - start, error: error instanceof Error ? error.message : String(error) });
  }
  return 0;
}

// Exit explicitly: a pool that left a handle open must not keep the child alive.
process.exit(await main());
