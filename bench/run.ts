/**
 * `npm run bench`: runs every scenario, each contender in a fresh process,
 * alternating contenders within each round so that drift of the machine
 * (thermal, a noisy neighbour) spreads over all of them instead of landing on
 * one. Prints the tables, writes bench/results/latest.{json,md} and the
 * generated section of docs/performance.md.
 *
 * `npm run bench -- --distributed`: runs the NATS JetStream scenarios instead
 * (and only them), the same way, against the server at `NATS_URL`. Prints
 * the tables and writes bench/results/distributed.{json,md}; it leaves
 * docs/performance.md alone, whose generated section is the in-memory run's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { calibrateCpu } from './calibrate.js';
import { CPU_ITERATIONS_ENV, DISTRIBUTED_SIZES, ONLY, QUICK, ROUNDS, SIZES } from './config.js';
import { updatePerformanceDoc } from './docs.js';
import { minutes, num } from './format.js';
import { loadAverage, machine, packageVersion, sourceDigest, versions } from './machine.js';
import { renderDistributedMarkdown, renderMarkdown } from './report.js';
import type { DistributedRunResult, RunResult, Sample, ScenarioResult } from './results.js';
import { DISTRIBUTED_SCENARIOS, SCENARIOS } from './scenarios/index.js';
import type { Metrics, Scenario } from './scenarios/scenario.js';
import { childCommand, runChild } from './spawn.js';
import { median, summarize, type Summary } from './stats.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const FLAGS = ['--distributed'];
const args = process.argv.slice(2);
const unknownArgs = args.filter((arg) => !FLAGS.includes(arg));
// A typo must not quietly run the full in-memory bench for ten minutes.
if (unknownArgs.length > 0) throw new Error(`unknown argument(s) ${unknownArgs.join(' ')}; known: ${FLAGS.join(' ')}`);
const DISTRIBUTED = args.includes('--distributed');

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
      if (outcome.closeError)
        problems.push(`${scenario.id} / ${contender}, round ${round}: after measuring, ${outcome.closeError} (rerun: ${repro})`);
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
      if (values.length > 0) summary[contender][metric.key] = summarize(values);
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

/** `BENCH_ONLY`'s pick of `all`, in their order. */
function select(all: readonly Scenario[]): readonly Scenario[] {
  const scenarios = ONLY.length > 0 ? all.filter((s) => ONLY.includes(s.id)) : all;
  if (scenarios.length === 0) throw new Error(`BENCH_ONLY matched no scenario; known: ${all.map((s) => s.id).join(', ')}`);
  return scenarios;
}

/** Writes bench/results/<name>.{json,md}; returns the paths written. */
function save(name: string, run: object, markdown: string): string[] {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}${name}.json`, `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(`${RESULTS}${name}.md`, markdown);
  return [`bench/results/${name}.json`, `bench/results/${name}.md`];
}

async function main(): Promise<void> {
  const start = performance.now();
  const loadAverageAtStart = loadAverage();
  const sourceAtStart = sourceDigest();
  const scenarios = select(SCENARIOS);
  const cpu = calibrateCpu();
  log(
    `troupe bench${QUICK ? ' (BENCH_QUICK smoke run)' : ''}: ${ROUNDS} round(s); a ≈1 ms cpu task = ${num(cpu.iterations, 0)} iterations (${cpu.ms.toFixed(3)} ms here)`,
  );
  const env = { ...process.env, [CPU_ITERATIONS_ENV]: String(cpu.iterations) };
  const problems: string[] = [];
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    log(`${scenario.title}`);
    const info =
      scenario.id === 'cpu'
        ? ` Calibrated: ${num(cpu.iterations, 0)} iterations ≈ ${cpu.ms.toFixed(2)} ms on the orchestrator's main thread.`
        : '';
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
  const written = save(name, run, markdown);
  process.stdout.write(`\n${markdown}`);
  if (name === 'latest') {
    if (updatePerformanceDoc(markdown)) written.push('docs/performance.md');
    else log('docs/performance.md has no <!-- bench:start --> / <!-- bench:end --> markers: not updated');
  }
  log(`\nwrote ${written.join(', ')} in ${minutes(run.wallMs)}`);
}

async function mainDistributed(): Promise<void> {
  const start = performance.now();
  const loadAverageAtStart = loadAverage();
  const sourceAtStart = sourceDigest();
  const scenarios = select(DISTRIBUTED_SCENARIOS);
  // Only this run loads the NATS client; the in-memory run never needs it.
  const { STREAM_PREFIX_ENV, natsServer, newPrefix, sweepStreams } = await import('./cluster/nats.js');
  const server = await natsServer();
  const prefix = newPrefix();
  log(
    `troupe bench --distributed${QUICK ? ' (BENCH_QUICK smoke run)' : ''}: ${ROUNDS} round(s); nats-server ${server.version} at ${server.url}, streams ${prefix}_*`,
  );
  const env = { ...process.env, [STREAM_PREFIX_ENV]: prefix };
  const problems: string[] = [];
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    log(`${scenario.title}`);
    results.push(await runScenario(scenario, env, problems, ''));
  }
  // A child killed by its timeout, or failed, could not delete its streams.
  const left = await sweepStreams(prefix);
  if (left.length > 0) log(`deleted ${left.length} stream(s) that failed children left on the server: ${left.join(', ')}`);
  if (sourceDigest() !== sourceAtStart) {
    problems.push('src/ changed while the run was going: Troupe samples may mix code versions; run again on a settled tree.');
  }
  const { troupe, troupeRevision } = versions();
  const run: DistributedRunResult = {
    date: new Date().toISOString(),
    quick: QUICK,
    rounds: ROUNDS,
    sizes: DISTRIBUTED_SIZES,
    machine: machine(),
    loadAverageAtStart,
    versions: {
      troupe,
      troupeRevision,
      natsServer: server.version,
      natsJetstream: packageVersion(`${ROOT}/node_modules/@nats-io/jetstream`),
    },
    natsUrl: server.url,
    wallMs: performance.now() - start,
    scenarios: results,
    problems,
  };
  const markdown = renderDistributedMarkdown(run);
  const name = QUICK ? 'distributed-quick' : ONLY.length > 0 ? 'distributed-partial' : 'distributed';
  const written = save(name, run, markdown);
  process.stdout.write(`\n${markdown}`);
  log(
    `\nwrote ${written.join(', ')} in ${minutes(run.wallMs)}; docs/performance.md is left alone: paste the tables above where they belong`,
  );
}

await (DISTRIBUTED ? mainDistributed() : main());
