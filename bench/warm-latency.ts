/**
 * How Troupe's round-trip latency depends on how warm its code is: one
 * no-op task at a time, on the compiled `dist/` (as the benchmark runs it),
 * timed after `warm` untimed round trips. The benchmark's latency scenario
 * times 2,000 after 200; on some machines Troupe's path is still being
 * optimised by then (see docs/performance.md, "What this run says").
 *
 *   npm run build && node --import tsx bench/warm-latency.ts [warm] [timed]
 */
import type * as Troupe from '../src/index.js';

const warm = Number(process.argv[2] ?? 200);
const timed = Number(process.argv[3] ?? 2_000);
const dist = new URL('../dist/index.js', import.meta.url);
const { createProcessor } = (await import(dist.href)) as typeof Troupe;
const processor = createProcessor({ handlers: new URL('./workers/handlers.mjs', import.meta.url), workers: 2 });
await processor.ready;

const roundTrip = (i: number) => new Promise<unknown>((resolve) => processor.submit({ handler: 'noop', payload: i, callback: resolve }));
for (let i = 0; i < warm; i++) await roundTrip(i);
const times = new Float64Array(timed);
const cpu = process.cpuUsage();
for (let i = 0; i < timed; i++) {
  const start = performance.now();
  await roundTrip(i);
  times[i] = (performance.now() - start) * 1_000;
}
const { user, system } = process.cpuUsage(cpu);
times.sort();
const at = (q: number) => (times[Math.min(timed - 1, Math.floor(timed * q))] as number).toFixed(1);
console.log(
  `after ${warm.toLocaleString('en')} untimed: p50 ${at(0.5)} µs, p99 ${at(0.99)} µs, ` +
    `process CPU ${((user + system) / timed).toFixed(0)} µs per round trip`,
);
await processor.shutdown();
