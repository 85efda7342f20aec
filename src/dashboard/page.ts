/**
 * The dashboard page: one HTML document, no build step, no internet (uPlot is
 * served by the dashboard itself). It reads `/events` with an EventSource and
 * fetches `/task/<id>` when a failure is clicked.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Troupe</title>
<link rel="stylesheet" href="/uplot.css">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
  h1 { font-size: 1.3rem; margin: 0 0 1rem; } h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
  .counts { display: flex; gap: 1rem; flex-wrap: wrap; }
  .count { border: 1px solid #ddd; border-radius: 6px; padding: .5rem .8rem; min-width: 6rem; }
  .count b { display: block; font-size: 1.4rem; }
  table { border-collapse: collapse; } td, th { padding: .2rem .6rem; border-bottom: 1px solid #eee; text-align: left; }
  button.failure { background: none; border: 0; color: #b00; cursor: pointer; font: inherit; text-decoration: underline; padding: 0; }
  button.task { background: none; border: 0; color: inherit; cursor: pointer; font: inherit; text-decoration: underline; padding: 0; }
  #detail { border: 1px solid #ddd; border-radius: 6px; padding: .6rem; min-height: 2rem; }
  .muted { color: #888; }
</style>
</head>
<body>
<h1>Troupe <span id="state" class="muted"></span></h1>
<div class="counts">
  <div class="count">scheduled<b id="count-scheduled">0</b></div>
  <div class="count">queued<b id="count-queued">0</b></div>
  <div class="count">processing<b id="count-processing">0</b></div>
  <div class="count">retrying<b id="count-retrying">0</b></div>
  <div class="count">done<b id="count-done">0</b></div>
  <div class="count">failed<b id="count-failed">0</b></div>
  <div class="count">cancelled<b id="count-cancelled">0</b></div>
</div>
<h2>Throughput and run time</h2>
<div id="chart"></div>
<div id="cluster" hidden>
<h2>Cluster <span id="backlog" class="muted"></span></h2>
<table><thead><tr><th>node</th><th>host</th><th>pid</th><th>threads</th><th>held</th><th>holds</th><th>done</th><th>failed</th></tr></thead><tbody id="nodes"></tbody></table>
</div>
<div id="store" hidden>
<h2>Store</h2>
<p id="store-line"></p>
</div>
<h2>Workers</h2>
<table><thead><tr><th>slot</th><th>worker</th><th>state</th><th>holds</th><th>crashes</th><th>restarts</th></tr></thead><tbody id="workers"></tbody></table>
<h2>Recent failures</h2>
<table><thead><tr><th>task</th><th>error</th><th>attempts</th><th>at</th></tr></thead><tbody id="failures"></tbody></table>
<h2>Task</h2>
<div id="detail" class="muted">Click a failed task to see its lifecycle.</div>
<script src="/uplot.js"></script>
<script>
const $ = (id) => document.getElementById(id);
const text = (value) => String(value).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const time = (ms) => new Date(ms).toLocaleTimeString();
const points = [[], [], []];
const chart = new uPlot({
  width: Math.min(900, window.innerWidth - 48), height: 220,
  series: [{}, { label: 'tasks/s', stroke: '#2a6', scale: 'rate' }, { label: 'run p50 ms', stroke: '#36c', scale: 'ms' }],
  axes: [{}, { scale: 'rate', label: 'tasks/s' }, { scale: 'ms', side: 1, label: 'ms' }],
}, points, $('chart'));
let last;
const source = new EventSource('/events');
source.onmessage = (message) => {
  const s = JSON.parse(message.data);
  $('state').textContent = s.status.state;
  for (const key of ['scheduled', 'queued', 'processing', 'retrying', 'done', 'failed', 'cancelled']) $('count-' + key).textContent = s.status[key];
  const finished = s.status.done + s.status.failed + s.status.cancelled;
  if (last) {
    points[0].push(s.at / 1000);
    points[1].push(((finished - last.finished) * 1000) / Math.max(1, s.at - last.at));
    points[2].push(s.runTime.p50 ?? null);
    if (points[0].length > 240) points.forEach((p) => p.shift());
    chart.setData(points);
  }
  last = { at: s.at, finished };
  // With a task store: its file, its size, and how long its group commits take.
  const store = s.store;
  $('store').hidden = !store;
  if (store) {
    const ms = (v) => (v === undefined || v === null ? '–' : v.toFixed(2) + ' ms');
    $('store-line').textContent = store.path + ': ' + (store.bytes / 1048576).toFixed(1) + ' MB, ' + store.commits + ' commits, p50 ' + ms(store.commitMs.p50) + ', p99 ' + ms(store.commitMs.p99);
  }
  // With a broker: the stream's backlog and every live node, from their heartbeats.
  const cluster = s.status.cluster;
  $('cluster').hidden = !cluster;
  if (cluster) {
    $('backlog').textContent = cluster.waiting + ' waiting, ' + cluster.delivered + ' delivered, ' + cluster.scheduled + ' scheduled';
    $('nodes').innerHTML = cluster.nodes.map((n) =>
      '<tr><td>' + text(n.node) + '</td><td>' + text(n.host) + '</td><td>' + n.pid + '</td><td>' + n.workers + '</td><td>' + n.held + '</td><td>' + n.processing + '</td><td>' + n.done + '</td><td>' + n.failed + '</td></tr>').join('');
  }
  $('workers').innerHTML = s.workers.map((w) =>
    '<tr><td>' + w.slot + '</td><td>' + w.id + '</td><td>' + text(w.state) + '</td><td>' + w.tasks.map(taskButton).join(' ') + '</td><td>' + w.crashes + '</td><td>' + w.restarts + '</td></tr>').join('');
  $('failures').innerHTML = s.failures.map((f) =>
    '<tr><td><button class="failure" data-id="' + text(f.id) + '">' + text(f.id) + '</button></td><td>' + text(f.error.name + ': ' + f.error.message) + '</td><td>' + f.attempts + '</td><td>' + time(f.at) + '</td></tr>').join('');
};
function taskButton(id) {
  return '<button class="task" data-id="' + text(id) + '">' + text(id) + '</button>';
}
// Why a queued task has not started (TaskInfo.waitingFor).
const WAITING = {
  thread: 'in the ready queue, until a thread has room',
  rateLimit: 'held by the processor-wide rate limit',
  handlerConcurrency: "held by its handler's concurrency cap",
  handlerRateLimit: "held by its handler's rate limit",
  slot: "in a thread's window, behind what it runs (worker ",
  emptyThread: 'a crash suspect: it runs only alone, on an empty thread',
  previousAttempt: 'an earlier attempt of its id is still stopping',
};
function where(info) {
  if (!info) return '';
  let said = info.state;
  if (info.state === 'queued' && info.waitingFor) said += ': ' + WAITING[info.waitingFor] + (info.waitingFor === 'slot' ? info.workerId + ')' : '');
  else if (info.workerId !== undefined) said += ' on worker ' + info.workerId;
  return '<p class="where">' + text(said) + '</p>';
}
async function showTask(event) {
  const id = event.target.dataset && event.target.dataset.id;
  if (!id) return;
  const task = await (await fetch('/task/' + encodeURIComponent(id))).json();
  const steps = task.timeline.map((t) => '<li>' + time(t.at) + ' ' + text(t.state) + (t.attempt ? ' (attempt ' + t.attempt + ')' : '') + '</li>').join('');
  $('detail').classList.remove('muted');
  $('detail').innerHTML = '<b>' + text(task.id) + '</b>' + where(task.task) + (task.error ? '<p class="error">' + text(task.error.name + ': ' + task.error.message) + '</p>' : '') + '<ol>' + steps + '</ol>';
}
$('failures').addEventListener('click', showTask);
$('workers').addEventListener('click', showTask);
</script>
</body>
</html>
`;
