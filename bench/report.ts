/** Renders a run as Markdown: a header naming machine and versions, the targets, one table per scenario. */
import { delta, minutes, num, ratio } from './format.js';
import type { DistributedRunResult, RunResult, ScenarioResult } from './results.js';
import type { Metric } from './scenarios/scenario.js';
import { checkTargets } from './targets.js';

type Row = string[];

function table(header: Row, align: Row, rows: Row[]): string {
  const line = (cells: Row) => `| ${cells.join(' | ')} |`;
  return [line(header), line(align), ...rows.map(line)].join('\n');
}

function compareHeader(subject: string, metric: Metric, many: boolean): string {
  const op = metric.compare === 'delta' ? '−' : '÷';
  return `${subject} ${op} this${many ? ` (${metric.label})` : ''}`;
}

function scenarioTable(s: ScenarioResult): string {
  const compared = s.metrics.filter((m) => m.compare);
  const subjects = s.subjects.filter((name) => s.contenders.includes(name));
  const header: Row = ['contender'];
  const align: Row = [':--'];
  for (const m of s.metrics) {
    header.push(m.label, 'min–max');
    align.push('--:', '--:');
  }
  for (const subject of subjects) {
    for (const m of compared) {
      header.push(compareHeader(subject, m, compared.length > 1));
      align.push('--:');
    }
  }
  const rows = s.contenders.map((name): Row => {
    const samples = s.samples[name] ?? [];
    const ok = samples.filter((x) => x.metrics).length;
    const summary = s.summary[name] ?? {};
    const label = ok < samples.length ? `${name} (${samples.length - ok} of ${samples.length} failed)` : name;
    const row: Row = [label];
    for (const m of s.metrics) {
      const sm = summary[m.key];
      row.push(num(sm?.median, m.digits), sm ? `${num(sm.min, m.digits)}–${num(sm.max, m.digits)}` : '–');
    }
    for (const subject of subjects) {
      for (const m of compared) {
        if (subject === name) {
          row.push('—');
          continue;
        }
        const a = s.summary[subject]?.[m.key]?.median;
        const b = summary[m.key]?.median;
        const value = a === undefined || b === undefined ? undefined : m.compare === 'delta' ? a - b : a / b;
        row.push(m.compare === 'delta' ? delta(value, m.digits) : ratio(value));
      }
    }
    return row;
  });
  return table(header, align, rows);
}

function targetsTable(run: RunResult): string {
  const rows = checkTargets(run).map((t): Row => [
    t.target,
    t.measure,
    t.measured,
    t.met === undefined ? 'no data' : t.met ? 'met' : '**missed**',
  ]);
  return table(['target', 'measured as', 'measured', ''], [':--', ':--', '--:', ':--'], rows);
}

export function header(run: RunResult): string {
  const { machine: m, versions: v } = run;
  return [
    `Run of ${run.date}${run.quick ? ' (**BENCH_QUICK smoke run: tiny counts, not a measurement**)' : ''}, ${minutes(run.wallMs)} in all.`,
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs (available parallelism ${m.availableParallelism}), ${m.memoryGB} GB, ${m.platform}; Node ${m.node}; 1-minute load average before the run: ${run.loadAverageAtStart}.`,
    `Versions: troupe ${v.troupe} (${v.troupeRevision}), piscina ${v.piscina}, tinypool ${v.tinypool}, workerpool ${v.workerpool}, tinybench ${v.tinybench}.`,
    `Each cell is the median of ${run.rounds} fresh processes per contender (min–max across them); contenders alternate within each round.`,
  ].join('\n');
}

export function renderMarkdown(run: RunResult): string {
  const parts = [header(run), '### Targets', targetsTable(run)];
  for (const s of run.scenarios) parts.push(`### ${s.title}`, `${s.caption}`, scenarioTable(s));
  if (run.problems.length > 0) {
    parts.push('### Problems seen in this run', run.problems.map((p) => `- ${p}`).join('\n'));
  }
  return `${parts.join('\n\n')}\n`;
}

/**
 * The `--distributed` run: the same tables, no issue-3 targets (they are
 * about the in-memory mode), a header naming the NATS server instead of the
 * peers.
 */
export function renderDistributedMarkdown(run: DistributedRunResult): string {
  const { machine: m, versions: v } = run;
  const head = [
    `Distributed run of ${run.date}${run.quick ? ' (**BENCH_QUICK smoke run: tiny counts, not a measurement**)' : ''}, ${minutes(run.wallMs)} in all.`,
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs (available parallelism ${m.availableParallelism}), ${m.memoryGB} GB, ${m.platform}; Node ${m.node}; 1-minute load average before the run: ${run.loadAverageAtStart}.`,
    `Versions: troupe ${v.troupe} (${v.troupeRevision}), nats-server ${v.natsServer} (${run.natsUrl}, same machine), @nats-io/jetstream ${v.natsJetstream}.`,
    `Each cell is the median of ${run.rounds} fresh processes per row (min–max across them); rows alternate within each round.`,
  ].join('\n');
  const parts = [head];
  for (const s of run.scenarios) parts.push(`### ${s.title}`, `${s.caption}`, scenarioTable(s));
  if (run.problems.length > 0) {
    parts.push('### Problems seen in this run', run.problems.map((p) => `- ${p}`).join('\n'));
  }
  return `${parts.join('\n\n')}\n`;
}
