/**
 * The dashboard page: one HTML document, no build step, no internet (uPlot is
 * served by the dashboard itself). It reads `/events` with an EventSource,
 * fetches `/task/<id>` when a task is clicked and `/actor/<id>` when an actor
 * is, and shows either in the one detail area.
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
  button.task, button.actor { background: none; border: 0; color: inherit; cursor: pointer; font: inherit; text-decoration: underline; padding: 0; }
  tr.actor { cursor: pointer; } tr.actor:hover { background: #f6f6f6; }
  #detail { border: 1px solid #ddd; border-radius: 6px; padding: .6rem; min-height: 2rem; }
  #detail h3 { font-size: .9rem; margin: .6rem 0 .2rem; }
  #detail pre { margin: 0; padding: .4rem; background: #f7f7f7; max-height: 20rem; overflow: auto; }
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
<h2>Actors <span id="actor-count" class="muted"></span></h2>
<table><thead><tr><th>id</th><th>logic</th><th>thread</th><th>status</th><th>events processed</th></tr></thead><tbody id="actors"></tbody></table>
<h2>Recent failures</h2>
<table><thead><tr><th>task</th><th>error</th><th>attempts</th><th>at</th></tr></thead><tbody id="failures"></tbody></table>
<h2>Details</h2>
<div id="detail" class="muted">Click a task to see its lifecycle, or an actor to see its last snapshot.</div>
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
    '<tr><td>' + w.slot + (w.role === 'actors' ? ' <span class="muted">(actors)</span>' : '') + '</td><td>' + w.id + '</td><td>' + text(w.state) + '</td><td>' + w.tasks.map(taskButton).join(' ') + '</td><td>' + w.crashes + '</td><td>' + w.restarts + '</td></tr>').join('');
  $('failures').innerHTML = s.failures.map((f) =>
    '<tr><td><button class="failure" data-id="' + text(f.id) + '">' + text(f.id) + '</button></td><td>' + text(f.error.name + ': ' + f.error.message) + '</td><td>' + f.attempts + '</td><td>' + time(f.at) + '</td></tr>').join('');
  // The snapshot lists only the first actors spawned; the count is of them all.
  $('actor-count').textContent = s.actorCount + (s.actorCount === 1 ? ' live actor' : ' live actors') + (s.actors.length < s.actorCount ? ', showing the first ' + s.actors.length : '');
  $('actors').innerHTML = s.actors.map((a) =>
    '<tr class="actor" data-actor="' + text(a.id) + '"><td><button class="actor">' + text(a.id) + '</button></td><td>' + text(a.logic) + '</td><td>' + (a.workerId ?? '–') + '</td><td>' + text(a.status) + '</td><td>' + a.processed + '</td></tr>').join('');
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
function pretty(label, value) {
  return value === undefined ? '' : '<h3>' + label + '</h3><pre>' + text(JSON.stringify(value, null, 2)) + '</pre>';
}
// The whole row is the target, its id a button so that the keyboard reaches it too.
async function showActor(event) {
  const row = event.target.closest('tr[data-actor]');
  if (!row) return;
  const response = await fetch('/actor/' + encodeURIComponent(row.dataset.actor));
  const actor = await response.json();
  $('detail').classList.remove('muted');
  // It may have ended between the snapshot that listed it and the click.
  if (!response.ok) {
    $('detail').innerHTML = '<p class="error">' + text(actor.error) + '</p>';
    return;
  }
  const s = actor.snapshot;
  const said = s.status + (actor.workerId === undefined ? '' : ' on worker ' + actor.workerId) + ', ' + actor.processed + (actor.processed === 1 ? ' event' : ' events') + ' processed';
  $('detail').innerHTML = '<b>' + text(actor.id) + '</b> <span class="muted">' + text(actor.logic) + '</span><p class="where">' + text(said) + '</p>' +
    (s.error ? '<p class="error">' + text(s.error.name + ': ' + s.error.message) + '</p>' : '') +
    pretty('value', s.value) + pretty('context', s.context) + pretty('output', s.output);
}
$('actors').addEventListener('click', showActor);
</script>
</body>
</html>
`;
