/**
 * The dashboard page: one HTML document, no build step, no internet (uPlot is
 * served by the dashboard itself). It reads the snapshots at `/events` as a
 * stream, lists tasks by state a page at a time from `/api/tasks`, fetches
 * `/api/tasks/<id>` when a task is clicked or searched and `/actor/<id>` when
 * an actor is, and shows either in the one detail area, with Cancel and
 * Retry when it has the token. The token comes once, in the URL's
 * `#token=` (then stripped from the URL) or typed in, and stays in
 * `sessionStorage`; every request sends it as a bearer token, never as a
 * cookie.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Troupe</title>
<link rel="icon" href="data:,">
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
  #auth { margin: 0 0 1rem; } #auth input, #search { width: 18rem; }
  .pager { margin: .4rem 0; display: flex; gap: .5rem; align-items: center; }
  .actions button { margin-right: .5rem; }
  .refused { color: #b00; }
</style>
</head>
<body>
<h1>Troupe <span id="state" class="muted"></span></h1>
<div id="auth"></div>
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
<h2>Workers <span id="pool" class="muted"></span></h2>
<table><thead><tr><th>slot</th><th>worker</th><th>state</th><th>holds</th><th>crashes</th><th>restarts</th></tr></thead><tbody id="workers"></tbody></table>
<h2>Actors <span id="actor-count" class="muted"></span></h2>
<table><thead><tr><th>id</th><th>logic</th><th>thread</th><th>status</th><th>events processed</th></tr></thead><tbody id="actors"></tbody></table>
<h2>Tasks</h2>
<div class="pager">
  <select id="list-state" aria-label="state">
    <option>scheduled</option><option>queued</option><option>processing</option><option>retrying</option>
    <option>done</option><option selected>failed</option><option>cancelled</option>
  </select>
  <span id="list-size" class="muted"></span>
  <button id="first-page">first page</button><button id="next-page" disabled>next page</button>
  <form id="search-form"><input id="search" placeholder="task id" aria-label="task id"> <button>show</button></form>
</div>
<table><thead><tr><th>task</th><th>state</th><th>handler</th><th>attempts</th><th>submitted</th></tr></thead><tbody id="tasks"></tbody></table>
<h2>Recent failures</h2>
<table><thead><tr><th>task</th><th>error</th><th>attempts</th><th>at</th></tr></thead><tbody id="failures"></tbody></table>
<h2>Details</h2>
<div id="detail" class="muted">Click a task to see its lifecycle, or an actor to see its last snapshot.</div>
<script src="/uplot.js"></script>
<script>
const $ = (id) => document.getElementById(id);
// The token: from the URL's fragment once (never sent to the server in the URL, and stripped from it), then from sessionStorage.
const fragment = new URLSearchParams(location.hash.slice(1));
if (fragment.get('token')) {
  sessionStorage.setItem('troupe-token', fragment.get('token'));
  history.replaceState(null, '', location.pathname + location.search);
}
const token = () => sessionStorage.getItem('troupe-token');
async function request(path, options = {}) {
  const headers = token() ? { authorization: 'Bearer ' + token() } : {};
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) showAuth(token() ? 'The dashboard refused the token: give it again.' : 'This dashboard needs its token.');
  return response;
}
function showAuth(problem) {
  const given = token();
  $('auth').innerHTML = given && !problem
    ? '<span class="muted">actions enabled with the token</span> <button id="forget-token">forget it</button>'
    : (problem ? '<span class="refused">' + text(problem) + '</span> ' : '<span class="muted">To cancel and retry tasks, give the dashboard’s token:</span> ') +
      '<form id="token-form" style="display:inline"><input id="token" type="password" autocomplete="off" aria-label="token"> <button>use it</button></form>';
}
$('auth').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem('troupe-token', $('token').value);
  location.reload();
});
$('auth').addEventListener('click', (event) => {
  if (event.target.id !== 'forget-token') return;
  sessionStorage.removeItem('troupe-token');
  location.reload();
});
const text = (value) => String(value).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const time = (ms) => new Date(ms).toLocaleTimeString();
const points = [[], [], []];
const chart = new uPlot({
  width: Math.min(900, window.innerWidth - 48), height: 220,
  series: [{}, { label: 'tasks/s', stroke: '#2a6', scale: 'rate' }, { label: 'run p50 ms', stroke: '#36c', scale: 'ms' }],
  axes: [{}, { scale: 'rate', label: 'tasks/s' }, { scale: 'ms', side: 1, label: 'ms' }],
}, points, $('chart'));
let last;
// Server-Sent Events read with fetch, not EventSource: EventSource cannot send the token. Reconnects as EventSource would.
async function follow() {
  try {
    const response = await request('/events');
    if (!response.ok) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      let end;
      while ((end = buffered.indexOf('\\n\\n')) >= 0) {
        const message = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (message.startsWith('data: ')) render(JSON.parse(message.slice('data: '.length)));
      }
    }
  } catch {}
  setTimeout(follow, 1000);
}
function render(s) {
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
  // The pool's size as last set, and what scale() or an elastic pool added and retired since start.
  $('pool').textContent = s.status.workers + ' task threads' + (s.resized.added + s.resized.retired > 0 ? ' · ' + s.resized.added + ' added, ' + s.resized.retired + ' retired' : '');
  $('workers').innerHTML = s.workers.map((w) =>
    '<tr><td>' + w.slot + (w.role === 'actors' ? ' <span class="muted">(actors)</span>' : '') + '</td><td>' + w.id + '</td><td>' + text(w.state) + '</td><td>' + w.tasks.map(taskButton).join(' ') + '</td><td>' + w.crashes + '</td><td>' + w.restarts + '</td></tr>').join('');
  $('failures').innerHTML = s.failures.map((f) =>
    '<tr><td><button class="failure" data-id="' + text(f.id) + '">' + text(f.id) + '</button></td><td>' + text(f.error.name + ': ' + f.error.message) + '</td><td>' + f.attempts + '</td><td>' + time(f.at) + '</td></tr>').join('');
  // The snapshot lists only the first actors spawned; the count is of them all.
  $('actor-count').textContent = s.actorCount + (s.actorCount === 1 ? ' live actor' : ' live actors') + (s.actors.length < s.actorCount ? ', showing the first ' + s.actors.length : '');
  $('actors').innerHTML = s.actors.map((a) =>
    '<tr class="actor" data-actor="' + text(a.id) + '"><td><button class="actor">' + text(a.id) + '</button></td><td>' + text(a.logic) + '</td><td>' + (a.workerId ?? '–') + '</td><td>' + text(a.status) + '</td><td>' + a.processed + '</td></tr>').join('');
  // The page of tasks shown follows the run, at most once a second.
  if (s.at - listedAt >= 1000) void listTasks();
}
// Tasks by state, a page at a time: the cursor is the last id of the page before.
const PAGE_SIZE = 20;
let cursors = [];
let nextCursor;
let listedAt = 0;
async function listTasks() {
  listedAt = Date.now();
  const after = cursors.at(-1);
  const response = await request('/api/tasks?state=' + $('list-state').value + '&limit=' + PAGE_SIZE + (after ? '&after=' + encodeURIComponent(after) : ''));
  if (!response.ok) return;
  const page = await response.json();
  nextCursor = page.next;
  $('next-page').disabled = !page.next;
  $('list-size').textContent = page.size + ' ' + page.state + (cursors.length ? ', page ' + (cursors.length + 1) : '');
  $('tasks').innerHTML = page.tasks.map((t) =>
    '<tr><td>' + taskButton(t.id) + '</td><td>' + text(t.state) + '</td><td>' + text(t.handler) + '</td><td>' + t.attempts + '</td><td>' + time(t.submittedAt) + '</td></tr>').join('');
}
$('list-state').addEventListener('change', () => { cursors = []; void listTasks(); });
$('first-page').addEventListener('click', () => { cursors = []; void listTasks(); });
$('next-page').addEventListener('click', () => { if (nextCursor) { cursors.push(nextCursor); void listTasks(); } });
$('search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = $('search').value.trim();
  if (id) void showTask(id);
});
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
async function showTask(id) {
  const response = await request('/api/tasks/' + encodeURIComponent(id));
  const view = await response.json();
  $('detail').classList.remove('muted');
  if (!response.ok) {
    $('detail').innerHTML = '<p class="error">' + text(view.error.message) + '</p>';
    return;
  }
  const result = view.result;
  const steps = view.timeline.map((t) => '<li>' + time(t.at) + ' ' + text(t.state) + (t.attempt ? ' (attempt ' + t.attempt + ')' : '') + '</li>').join('');
  const state = view.task ? view.task.state : result && result.status;
  $('detail').dataset.id = view.id;
  $('detail').innerHTML = '<b>' + text(view.id) + '</b> <span class="muted">' + text(view.task ? view.task.handler : '') + '</span>' + where(view.task) +
    (result && result.status === 'failed' ? '<p class="error">' + text(result.error.name + ': ' + result.error.message) + '</p>' : '') +
    (result && result.status === 'cancelled' ? '<p class="where">' + text('cancelled: ' + result.reason) + '</p>' : '') +
    actions(state) + pretty('payload', view.payload) + (result && result.status === 'done' ? pretty('value', result.value) : '') +
    '<h3>lifecycle</h3><ol>' + steps + '</ol>';
}
// Cancel and Retry, only with the token: without it the server refuses every action.
function actions(state) {
  if (!token()) return '<p class="muted">Cancel and Retry need the token.</p>';
  const unfinished = state === 'scheduled' || state === 'queued' || state === 'processing' || state === 'retrying';
  return '<p class="actions">' + (unfinished ? '<button data-action="cancel">Cancel</button>' : '') +
    (state === 'failed' || state === 'cancelled' ? '<button data-action="retry">Retry</button>' : '') + '<span id="action-said"></span></p>';
}
$('detail').addEventListener('click', async (event) => {
  const action = event.target.dataset && event.target.dataset.action;
  if (!action) return;
  const id = $('detail').dataset.id;
  const response = await request('/api/tasks/' + encodeURIComponent(id) + '/' + action, { method: 'POST' });
  const answer = await response.json();
  if (!response.ok) {
    $('action-said').innerHTML = ' <span class="refused">refused: ' + text(answer.error.message) + ' (' + text(answer.error.code) + ')</span>';
    return;
  }
  await showTask(id);
  $('action-said').textContent = action === 'cancel' ? ' cancelled' : ' resubmitted';
  void listTasks();
});
function clickedTask(event) {
  const id = event.target.dataset && event.target.dataset.id;
  if (id) void showTask(id);
}
$('failures').addEventListener('click', clickedTask);
$('workers').addEventListener('click', clickedTask);
$('tasks').addEventListener('click', clickedTask);
function pretty(label, value) {
  return value === undefined ? '' : '<h3>' + label + '</h3><pre>' + text(JSON.stringify(value, null, 2)) + '</pre>';
}
// The whole row is the target, its id a button so that the keyboard reaches it too.
async function showActor(event) {
  const row = event.target.closest('tr[data-actor]');
  if (!row) return;
  const response = await request('/actor/' + encodeURIComponent(row.dataset.actor));
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
showAuth();
void follow();
void listTasks();
</script>
</body>
</html>
`;
