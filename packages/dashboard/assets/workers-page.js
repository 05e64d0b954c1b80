// Workers: a table of every worker (from the stream's snapshot), each linking to its own page with its recent
// tasks, failures and log lines (read from /api/v1/workers/<id> once a second while the page is open).
import { ago, bytes, colourOf, count, h, syncRows } from './format.js';

export function renderWorkers(main, state) {
  const body = h('tbody', { id: 'workers-body' });
  const note = h('p', { class: 'muted', id: 'workers-note' });
  main.append(h('section', { class: 'card' },
    h('h2', {}, 'Workers'),
    h('table', {}, h('thead', {}, h('tr', {}, ...['Name', 'Address', 'Threads', 'Resources', 'Memory', 'Managed', 'Spilled', 'Processing', 'In memory', 'Last heartbeat', 'State']
      .map((title, index) => h('th', { class: index >= 2 && index !== 3 && index !== 4 && index !== 10 ? 'num' : '' }, title)))), body),
    note));
  return {
    update(state) {
      const snapshot = state.snapshot;
      syncRows(body, snapshot.workers, (worker) => worker.id, () => h('tr', {}, ...Array.from({ length: 11 }, (_, index) => h('td', { class: index >= 2 && index !== 3 && index !== 4 && index !== 10 ? 'num' : '' }))),
        (row, worker) => {
          const cells = row.children;
          cells[0].replaceChildren(h('a', { href: `/workers/${encodeURIComponent(worker.id)}` }, worker.name));
          cells[1].textContent = worker.address;
          cells[2].textContent = String(worker.nthreads);
          cells[3].textContent = Object.entries(worker.resources).map(([name, amount]) => `${name}=${amount}`).join(', ') || '—';
          cells[4].replaceChildren(memoryBar(worker, worker.thresholds ?? snapshot.thresholds));
          cells[5].textContent = bytes(worker.managedBytes);
          cells[6].textContent = bytes(worker.spilledBytes);
          cells[7].textContent = count(worker.processing);
          cells[8].textContent = count(worker.inMemory);
          cells[9].textContent = ago(worker.lastSeenMsAgo);
          cells[10].replaceChildren(statePill(worker));
        });
      note.textContent = snapshot.workersOmitted > 0 ? `and ${snapshot.workersOmitted} more (the page lists the first ${snapshot.workers.length}; /api/v1/workers has all)` : '';
    },
  };
}

function memoryBar(worker, thresholds) {
  const limit = worker.memoryLimit || 1;
  const pct = (value) => `${Math.min(100, (value / limit) * 100)}%`;
  return h('div', { class: 'track mini', title: `${bytes(worker.rssBytes)} of ${bytes(worker.memoryLimit)}` },
    h('span', { class: 'managed', style: { width: pct(worker.managedBytes) } }),
    h('span', { class: 'unmanaged', style: { width: pct(worker.unmanagedBytes) } }),
    ...(thresholds.pause > 0 ? [h('i', { class: 'tick pause', style: { left: `${thresholds.pause * 100}%` } })] : []));
}

function statePill(worker) {
  if (worker.paused) return h('span', { class: 'pill bad' }, 'paused');
  if (worker.closing) return h('span', { class: 'pill warn' }, 'closing');
  return h('span', { class: 'pill ok' }, 'running');
}

export function renderWorker(main, state, id) {
  const title = h('h1', {}, id);
  const subtitle = h('p', { class: 'muted' });
  const stats = h('section', { class: 'totals' });
  const tasks = h('tbody', { id: 'worker-tasks' });
  const failures = h('ul', { class: 'failures' });
  const logs = h('ul', { class: 'logs', id: 'worker-logs' });
  const logsNote = h('span', { class: 'note' });
  main.append(h('p', {}, h('a', { href: '/workers' }, '← Workers')), title, subtitle, stats,
    h('div', { class: 'grid' },
      h('section', { class: 'card' }, h('h2', {}, 'Recent tasks', h('span', { class: 'note' }, 'newest first')),
        h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Prefix'), h('th', { class: 'num' }, 'Thread'), h('th', { class: 'num' }, 'Finished'), h('th', { class: 'num' }, 'Duration'), h('th', {}, 'Outcome'))), tasks)),
      h('section', { class: 'card' }, h('h2', {}, 'Failures'), failures),
      h('section', { class: 'card wide', id: 'worker-logs-card' }, h('h2', {}, 'Logs', logsNote), logs)));
  let stopped = false;
  async function refresh() {
    if (stopped) return;
    const response = await fetch(`/api/v1/workers/${encodeURIComponent(id)}`).catch(() => undefined);
    if (response?.ok) {
      const detail = await response.json();
      const w = detail.worker;
      const names = new Map(detail.prefixes.map((prefix) => [prefix.id, prefix.name]));
      title.textContent = w.name;
      subtitle.textContent = `${w.address} · ${w.nthreads} thread${w.nthreads === 1 ? '' : 's'} · last heartbeat ${ago(w.lastSeenMsAgo)}`;
      syncRows(stats, [
        ['memory', 'Memory (RSS)', bytes(w.rssBytes), `of ${bytes(w.memoryLimit)}`],
        ['managed', 'Managed', bytes(w.managedBytes), `${count(w.inMemory)} results`],
        ['spilled', 'Spilled', bytes(w.spilledBytes), `${bytes(w.spillWriteBytesTotal)} written, ${bytes(w.spillReadBytesTotal)} read back in all`],
        ['transfers', 'Transfers', bytes(w.transferIncomingBytesTotal), `fetched from peers; ${bytes(w.transferOutgoingBytesTotal)} sent`],
        ['in-flight', 'In flight', `${bytes(w.transferIncomingBytes)} in`, `${count(w.transferIncomingCalls)} fetches open · ${bytes(w.transferOutgoingBytes)} out to ${count(w.transferOutgoingCalls)} reader${w.transferOutgoingCalls === 1 ? '' : 's'}`],
        ['processing', 'Processing', count(w.processing), w.paused ? 'paused' : 'running'],
      ], ([key]) => key, () => h('div', { class: 'card stat' }, h('div', { class: 'label' }), h('div', { class: 'value' }), h('div', { class: 'sub' })),
      (card, [, label, value, sub]) => {
        card.children[0].textContent = label;
        card.children[1].textContent = value;
        card.children[2].textContent = sub;
      });
      syncRows(tasks, detail.tasks.slice(-50).reverse(), (task) => String(task.seq), () => h('tr', {}, h('td', {}), h('td', { class: 'num' }), h('td', { class: 'num' }), h('td', { class: 'num' }), h('td', {})),
        (row, task) => {
          row.children[0].replaceChildren(h('span', { class: 'swatch', style: { display: 'inline-block', width: '10px', height: '10px', borderRadius: '3px', marginRight: '6px', background: colourOf(task.prefix) } }), names.get(task.prefix) ?? task.prefix.slice(0, 12));
          // 0: no task thread (a transfer or spill I/O, or a result the worker already held).
          row.children[1].textContent = task.thread > 0 ? String(task.thread) : '–';
          row.children[2].textContent = new Date(task.stopMs).toLocaleTimeString();
          row.children[3].textContent = `${(task.stopMs - task.startMs).toFixed(1)} ms`;
          row.children[4].replaceChildren(task.kind === 'error' ? h('span', { class: 'pill bad' }, 'error') : task.kind === 'compute' ? h('span', { class: 'pill ok' }, 'ok') : h('span', { class: 'pill' }, task.kind));
        });
      syncRows(failures, detail.failures.slice().reverse(), (failure) => String(failure.seq), () => h('li', {}, h('span', { class: 'code' }), h('span', { class: 'message' })),
        (item, failure) => {
          item.children[0].textContent = failure.code;
          item.children[1].textContent = `${failure.key}: ${failure.message}`;
        });
      if (detail.failures.length === 0) failures.replaceChildren(h('li', { class: 'empty', 'data-key': 'none' }, 'None.'));
      renderLogs(logs, logsNote, detail.logs, detail.logsDropped);
    } else if (response?.status === 404) {
      subtitle.textContent = 'This worker is not connected (it left the cluster, or never joined).';
    }
    setTimeout(refresh, 1000);
  }
  void refresh();
  return { dispose() { stopped = true; } };
}

/** Lines a worker page shows: the newest, newest first. */
const LOG_LINES_SHOWN = 200;

// Log text comes from the worker's log records, which carry whatever a task or an error message put there:
// it is set as text (h() and textContent), never parsed as HTML.
function renderLogs(list, note, lines, dropped) {
  note.textContent = `newest first · at the worker's log level${dropped > 0 ? ` · ${count(dropped)} lines not sent (more than a heartbeat carries)` : ''}`;
  syncRows(list, lines.slice(-LOG_LINES_SHOWN).reverse(), (line) => String(line.seq),
    () => h('li', {}, h('span', { class: 'time' }), h('span', { class: 'level' }), h('span', { class: 'message' }), h('code', { class: 'fields' })),
    (item, line) => {
      const [time, level, message, fields] = item.children;
      item.dataset.level = line.level;
      time.textContent = new Date(line.timeMs).toLocaleTimeString();
      level.textContent = line.level;
      level.className = `level ${line.level}`;
      message.textContent = line.msg;
      fields.textContent = line.fields;
      fields.hidden = line.fields === '';
    });
  if (lines.length === 0) list.replaceChildren(h('li', { class: 'empty', 'data-key': 'none' }, 'None yet.'));
}
