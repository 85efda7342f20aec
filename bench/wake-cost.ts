/**
 * What a `postMessage` to a worker thread costs the sender, by how long the
 * thread has been idle: a batch of 8 attempt-shaped objects, posted 2,000
 * times after spinning `gap` µs between posts (so the receiver has gone
 * back to sleep, or has not). On a virtual machine, waking a thread that
 * sleeps is paid by the sender, and it is most of the cost: this is why a
 * thread's default `window` is 64 (refills of 32 or more at a time), see
 * docs/performance.md, "What this run says".
 *
 *   node --import tsx bench/wake-cost.ts
 */
import { Worker } from 'node:worker_threads';

const worker = new Worker(`require('node:worker_threads').parentPort.on('message', () => {});`, { eval: true });
await new Promise<void>((resolve) => worker.once('online', resolve));
const batch = Array.from({ length: 8 }, (_, i) => ({
  token: i,
  id: crypto.randomUUID(),
  handler: 'noop',
  attempt: 1,
  payload: i,
  windowed: true,
}));

function spin(us: number): void {
  const until = performance.now() + us / 1_000;
  while (performance.now() < until);
}

console.log('idle before each post   median     p90    mean  (µs the post takes the sender)');
for (const gap of [0, 20, 100, 1_000]) {
  const times = new Float64Array(2_000);
  for (let i = 0; i < times.length; i++) {
    spin(gap);
    const start = performance.now();
    worker.postMessage(batch);
    times[i] = (performance.now() - start) * 1_000;
  }
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  times.sort();
  const at = (q: number) => (times[Math.floor(times.length * q)] as number).toFixed(1).padStart(7);
  console.log(`${`${gap} µs`.padEnd(20)} ${at(0.5)} ${at(0.9)} ${mean.toFixed(1).padStart(7)}`);
}
await worker.terminate();
