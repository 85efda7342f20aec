import type { RunSummary } from './run.js';

/** `1 invalid line`, `2 invalid lines`: the count, grouped, and the noun in the number it takes. */
function count(n: number, noun: string): string {
  return `${n.toLocaleString('en')} ${noun}${n === 1 ? '' : 's'}`;
}

/** The table `troupe run` prints on stderr at the end, one `label  value` row per line. */
export function summaryTable(summary: RunSummary, peakRssMb: number): string {
  const rows: Array<[string, string]> = [
    ['lines', summary.lines.toLocaleString('en')],
    ['done', summary.done.toLocaleString('en')],
    ['failed', `${summary.failed.toLocaleString('en')}${summary.invalid ? ` (${count(summary.invalid, 'invalid line')})` : ''}`],
    ...(summary.earlier
      ? [['from the store', `${summary.earlier.toLocaleString('en')} (finished by an earlier run, not run again)`] as [string, string]]
      : []),
    ['retries', summary.retries.toLocaleString('en')],
    ['unfinished', summary.unfinished ? `${summary.unfinished.toLocaleString('en')} → ${summary.unfinishedPath}` : '0'],
    ...(summary.elsewhere
      ? [['left running', `${summary.elsewhere.toLocaleString('en')} (in the cluster; results in its bucket)`] as [string, string]]
      : []),
    ['wall time', `${(summary.ms / 1_000).toFixed(2)} s`],
    ['rate', `${Math.round(((summary.done + summary.failed) / summary.ms) * 1_000).toLocaleString('en')} tasks/s`],
    ['peak RSS', `${peakRssMb.toFixed(0)} MB`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n');
}
