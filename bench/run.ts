/**
 * `npm run bench`: runs every scenario, each contender in a fresh process,
 * alternating contenders within each round so that drift of the machine
 * (thermal, a noisy neighbour) spreads over all of them instead of landing on
 * one. Prints the tables, writes bench/results/latest.{json,md} and the
 * generated section of docs/performance.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { calibrateCpu } from './calibrate.js';
import { CPU_ITERATIONS_ENV, ONLY, QUICK, ROUNDS, SIZES } from './config.js';
import { updatePerformanceDoc } from './docs.js';
import { minutes, num } from './format.js';
import { loadAverage, machine, sourceDigest, versions } from './machine.js';
import { renderMarkdown } from './report.js';
import type { RunResult, Sample, ScenarioResult } from './results.js';
import { SCENARIOS } from './scenarios/index.js';
import type { Metrics, Scenario } from './scenarios/scenario.js';
import { childCommand, runChild } from './spawn.js';
import { median, summarize, type Summary } from './stats.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function describeSample(scenario: Scenario, metrics: Metrics): string {
  return scenario.metrics
    .filter((m) => metrics[m.key] !== undefined)
    .map((m) => `${num(metrics[m.key], m.digits)} ${m.label}`)
    .join(', ');
}

/**
 * Names the contenders the time cap cut short (see `capMs` in config.ts), with
 * the median count they reached, so a shrunk scenario says so under its table.
 */
function capNote(samples: Record<string, Sample[]>): string {
  const capped = Object.entries(samples).flatMap(([contender, list]) => {
    const hits = list.filter((s) => s.metrics?.capped === 1);
    if (hits.length === 0) return [];
    const counts = hits.map((s) => s.metrics?.tasks as number);
    return [`${contender} (${hits.length} of ${list.length} runs, median ${num(median(counts), 0)} tasks)`];
  });
  return capped.length > 0 ? ` **Stopped by the time cap before the full count:** ${capped.join('; ')}.` : '';
}

async function runScenario(scenario: Scenario, env: NodeJS.ProcessEnv, problems: string[], captionInfo: string): Promise<ScenarioResult> {
  const start = performance.now();
  const rounds = scenario.rounds(ROUNDS);
  const samples: Record<string, Sample[]> = Object.fromEntries(scenario.contenders.map((c) => [c, []]));
  const flags = scenario.nodeFlags ?? [];
  for (let round = 1; round <= rounds; round++) {
    for (const contender of scenario.contenders) {
      const outcome = await runChild(scenario.id, contender, flags, env, scenario.timeoutMs);
      const sample: Sample = { round, ...outcome };
      samples[contender]?.push(sample);
      const repro = `\`${QUICK ? 'BENCH_QUICK=1 ' : ''}${childCommand(scenario.id, contender, flags)}\``;
      if (outcome.error) problems.push(`${scenario.id} / ${contender}, round ${round}: ${outcome.error.split('\n')[0]} (rerun: ${repro})`);
      if (outcome.closeError) problems.push(`${scenario.id} / ${contender}, round ${round}: after measuring, ${outcome.closeError} (rerun: ${repro})`);
      const what = outcome.metrics ? describeSample(scenario, outcome.metrics) : `FAILED: ${outcome.error?.split('\n')[0]}`;
      log(`  [${scenario.id}] round ${round}/${rounds} ${contender}: ${what} (${(outcome.wallMs / 1_000).toFixed(1)} s)`);
    }
  }
  const byContender = new Map<string, Metrics[]>(
    Object.entries(samples).map(([c, list]) => [c, list.flatMap((s) => (s.metrics ? [s.metrics] : []))]),
  );
  scenario.derive?.(byContender);
  const summary: Record<string, Record<string, Summary>> = {};
  for (const [contender, list] of byContender) {
    summary[contender] = {};
    for (const metric of scenario.metrics) {
      const values = list.flatMap((m) => (m[metric.key] === undefined ? [] : [m[metric.key] as number]));
      if (values.length > 0) (summary[contender] as Record<string, Summary>)[metric.key] = summarize(values);
    }
  }
  return {
    id: scenario.id,
    title: scenario.title,
    caption: `${scenario.caption(SIZES)}${captionInfo}${capNote(samples)}`,
    rounds,
    contenders: scenario.contenders,
    subjects: scenario.subjects,
    metrics: scenario.metrics,
    samples,
    summary,
    wallMs: performance.now() - start,
  };
}

async function main(): Promise<void> {
  const start = performance.now();
  const loadAverageAtStart = loadAverage();
  const sourceAtStart = sourceDigest();
  const scenarios = ONLY.length > 0 ? SCENARIOS.filter((s) => ONLY.includes(s.id)) : SCENARIOS;
  if (scenarios.length === 0) throw new Error(`BENCH_ONLY matched no scenario; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  const cpu = calibrateCpu();
  log(`troupe bench${QUICK ? ' (BENCH_QUICK smoke run)' : ''}: ${ROUNDS} round(s); a ≈1 ms cpu task = ${num(cpu.iterations, 0)} iterations (${cpu.ms.toFixed(3)} ms here)`);
  const env = { ...process.env, [CPU_ITERATIONS_ENV]: String(cpu.iterations) };
  const problems: string[] = [];
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    log(`${scenario.title}`);
    const info = scenario.id === 'cpu' ? ` Calibrated: ${num(cpu.iterations, 0)} iterations ≈ ${cpu.ms.toFixed(2)} ms on the orchestrator's main thread.` : '';
    results.push(await runScenario(scenario, env, problems, info));
  }
  if (sourceDigest() !== sourceAtStart) {
    problems.push('src/ changed while the run was going: Troupe samples may mix code versions; run again on a settled tree.');
  }
  const run: RunResult = {
    date: new Date().toISOString(),
    quick: QUICK,
    rounds: ROUNDS,
    sizes: SIZES,
    cpu: { iterations: cpu.iterations, calibratedMs: cpu.ms },
    machine: machine(),
    loadAverageAtStart,
    versions: versions(),
    wallMs: performance.now() - start,
    scenarios: results,
    problems,
  };
  const markdown = renderMarkdown(run);
  // A smoke run must not overwrite the real numbers, nor a partial run the docs.
  const name = QUICK ? 'quick' : ONLY.length > 0 ? 'partial' : 'latest';
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}${name}.json`, `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(`${RESULTS}${name}.md`, markdown);
  process.stdout.write(`\n${markdown}`);
  const written = [`bench/results/${name}.json`, `bench/results/${name}.md`];
  if (name === 'latest') {
    if (updatePerformanceDoc(markdown)) written.push('docs/performance.md');
    else log('docs/performance.md has no <!-- bench:start --> / <!-- bench:end --> markers: not updated');
  }
  log(`\nwrote ${written.join(', ')} in ${minutes(run.wallMs)}`);
}

await main();
