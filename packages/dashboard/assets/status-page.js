// Status: cluster totals, memory and processing per worker, the task stream, progress per kind of task, a
// throughput chart (uPlot) and the latest failures.
import { bytes, colourOf, count, h, rate, syncRows } from './format.js';

const PROGRESS_STATES = ['memory', 'processing', 'queued', 'waiting', 'erred'];
const CHART_POINTS = 480;

export function renderStatus(main, state) {
  const totals = h('section', { class: 'totals', id: 'totals' });
  const memory = h('div', { id: 'memory' });
  const processing = h('div', { id: 'processing' });
  const canvas = h('canvas', { id: 'task-stream' });
  const progress = h('div', { id: 'progress' });
  const chartBox = h('div', { id: 'throughput' });
  const failures = h('ul', { class: 'failures', id: 'failures' });
  const memoryLegend = h('div', { class: 'legend' },
    h('span', {}, h('i', { style: { background: 'var(--managed)' } }), 'managed'),
    h('span', {}, h('i', { style: { background: 'var(--unmanaged)' } }), 'unmanaged'),
    h('span', {}, h('i', { style: { background: 'repeating-linear-gradient(45deg, var(--spilled) 0 3px, transparent 3px 6px)' } }), 'spilled'),
    h('span', {}, h('i', { style: { background: 'var(--ink)', opacity: 0.35 } }), 'spill'),
    h('span', {}, h('i', { style: { background: 'var(--warn)' } }), 'pause'),
    h('span', {}, h('i', { style: { background: 'var(--bad)' } }), 'terminate'));
  main.append(
    totals,
    h('div', { class: 'grid' },
      h('div', { class: 'stack' },
        h('section', { class: 'card' }, h('h2', {}, 'Memory per worker', h('span', { class: 'note' }, 'against its limit')), memory, memoryLegend),
        h('section', { class: 'card' }, h('h2', {}, 'Processing per worker', h('span', { class: 'note' }, 'tasks sent, by thread')), processing),
        h('section', { class: 'card' }, h('h2', {}, 'Throughput', h('span', { class: 'note' }, 'tasks / s')), chartBox)),
      h('div', { class: 'stack' },
        h('section', { class: 'card stream' }, h('h2', {}, 'Task stream', h('span', { class: 'note', id: 'stream-note' }, 'rows: worker threads; strips: transfers (red), spill reads (orange), spill writes (brown)')), canvas),
        h('section', { class: 'card' }, h('h2', {}, 'Progress', h('span', { class: 'note' }, 'by task prefix')), progress),
        h('section', { class: 'card' }, h('h2', {}, 'Recent failures'), failures))));

  const series = { t: [], rate: [] };
  let chart;
  /** Per kind of task: the forgotten count when the page first saw it live, so progress counts this run only. */
  const baselines = new Map();

  function ensureChart() {
    if (chart || typeof uPlot === 'undefined' || chartBox.clientWidth === 0) return;
    const styles = getComputedStyle(document.documentElement);
    const ink = styles.getPropertyValue('--muted');
    const grid = styles.getPropertyValue('--line');
    const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    chart = new uPlot({
      width: chartBox.clientWidth,
      height: 160,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(10, max * 1.15)] } },
      axes: [{ ...axis, space: 80, values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })) }, { ...axis, size: 56 }],
      series: [{}, { stroke: styles.getPropertyValue('--accent'), width: 2, fill: 'color-mix(in srgb, ' + styles.getPropertyValue('--accent') + ' 18%, transparent)', points: { show: false } }],
    }, [series.t, series.rate], chartBox);
  }

  return {
    update(state) {
      const snapshot = state.snapshot;
      const t = snapshot.totals;
      syncRows(totals, [
        ['workers', 'Workers', count(t.workers), `${count(t.threads)} threads`],
        ['tasks-per-second', 'Tasks / s', rate(snapshot.tasksPerSecond), `${count(t.finishedTotal)} done`],
        ['tasks', 'Tasks', count(t.tasks), `${count(snapshot.taskCounts.processing)} processing`],
        ['stored', 'Stored', bytes(t.managedBytes), `of ${bytes(t.memoryLimitBytes)}`],
        ['spilled', 'Spilled', bytes(t.spilledBytes), `RSS ${bytes(t.rssBytes)}`],
        ['erred', 'Failed runs', count(t.erredTotal), `${count(snapshot.taskCounts.erred)} erred now`],
        ['clients', 'Clients', count(t.clients), ''],
      ], ([key]) => key, ([key]) => h('div', { class: 'card stat', id: `total-${key}` }, h('div', { class: 'label' }), h('div', { class: 'value' }), h('div', { class: 'sub' })),
      (card, [, label, value, sub]) => {
        card.children[0].textContent = label;
        card.children[1].textContent = value;
        card.children[2].textContent = sub;
      });

      syncRows(memory, snapshot.workers, (worker) => worker.id, () => h('div', { class: 'bar-row' },
        h('span', { class: 'name' }),
        h('div', { class: 'track' }, h('span', { class: 'managed' }), h('span', { class: 'unmanaged' }), h('span', { class: 'spilled' }),
          h('i', { class: 'tick spill' }), h('i', { class: 'tick pause' }), h('i', { class: 'tick terminate' })),
        h('span', { class: 'figure' })),
      (row, worker) => {
        const limit = worker.memoryLimit || 1;
        const pct = (value) => `${Math.min(100, (value / limit) * 100)}%`;
        // The worker's own policy; a threshold it turned off (0) is not drawn.
        const th = worker.thresholds ?? snapshot.thresholds;
        const tick = (element, fraction) => {
          element.style.left = `${fraction * 100}%`;
          element.style.display = fraction > 0 ? '' : 'none';
        };
        row.children[0].textContent = worker.name;
        row.children[0].title = worker.address;
        const track = row.children[1];
        track.children[0].style.width = pct(worker.managedBytes);
        track.children[1].style.width = pct(worker.unmanagedBytes);
        track.children[2].style.width = pct(worker.spilledBytes);
        tick(track.children[3], th.spill);
        tick(track.children[4], th.pause);
        tick(track.children[5], th.terminate);
        row.children[2].textContent = `${bytes(worker.rssBytes)} / ${bytes(worker.memoryLimit)}`;
        row.classList.toggle('near', th.target > 0 && worker.rssBytes >= th.target * limit);
        row.classList.toggle('paused', worker.paused);
        row.dataset.workerId = worker.id;
        row.dataset.managed = String(worker.managedBytes);
        row.dataset.rss = String(worker.rssBytes);
        row.dataset.spilled = String(worker.spilledBytes);
        row.dataset.limit = String(worker.memoryLimit);
      });

      syncRows(processing, snapshot.workers, (worker) => worker.id, () => h('div', { class: 'bar-row' },
        h('span', { class: 'name' }), h('div', { class: 'track' }, h('span', { class: 'processing' })), h('span', { class: 'figure' })),
      (row, worker) => {
        row.children[0].textContent = worker.name;
        const scale = Math.max(worker.nthreads * 2, worker.processing);
        row.children[1].children[0].style.width = `${(worker.processing / scale) * 100}%`;
        row.children[2].textContent = `${count(worker.processing)} on ${worker.nthreads} thread${worker.nthreads === 1 ? '' : 's'}`;
        row.dataset.processing = String(worker.processing);
      });

      state.stream.draw(canvas, snapshot.workers);

      const names = new Map(snapshot.prefixes.map((prefix) => [prefix.id, prefix.name]));
      syncRows(progress, snapshot.prefixes, (prefix) => prefix.id, (prefix) => h('div', { class: 'progress-row' },
        h('span', { class: 'name' }, h('span', { class: 'swatch', style: { background: colourOf(prefix.id) } }), h('span', {})),
        h('div', { class: 'track' }, ...PROGRESS_STATES.map((name) => h('span', { class: name, style: name === 'erred' ? {} : { background: colourOf(prefix.id) } }))),
        h('span', { class: 'figure' })),
      (row, prefix) => {
        const s = prefix.states;
        const live = s.released + s.waiting + s.queued + s['no-worker'] + s.processing + s.memory + s.erred;
        if (!baselines.has(prefix.id)) baselines.set(prefix.id, s.forgotten);
        const finishedBefore = Math.max(0, s.forgotten - baselines.get(prefix.id));
        const done = s.memory + finishedBefore + s.released;
        const total = live + finishedBefore;
        row.children[0].children[1].textContent = names.get(prefix.id) ?? prefix.id;
        const spans = row.children[1].children;
        const widths = { memory: done, processing: s.processing, queued: s.queued + s['no-worker'], waiting: s.waiting, erred: s.erred };
        PROGRESS_STATES.forEach((name, index) => { spans[index].style.width = `${total === 0 ? 0 : (widths[name] / total) * 100}%`; });
        row.children[2].textContent = `${count(done)} / ${count(total)}${s.erred ? ` · ${count(s.erred)} erred` : ''}`;
        row.classList.toggle('done', total > 0 && done === total);
        row.dataset.done = String(done);
        row.dataset.total = String(total);
        row.dataset.erred = String(s.erred);
        row.dataset.name = names.get(prefix.id) ?? prefix.id;
      });
      for (const id of baselines.keys()) if (!names.has(id)) baselines.delete(id);
      if (snapshot.prefixes.length === 0 && progress.childElementCount === 0) progress.append(h('div', { class: 'empty', 'data-key': 'empty' }, 'No tasks yet: submit a graph and it shows here.'));

      syncRows(failures, [...state.failures].reverse(), (failure) => String(failure.seq), () => h('li', {}, h('span', { class: 'code' }), h('span', { class: 'message' })),
        (item, failure) => {
          item.children[0].textContent = failure.code;
          item.children[1].textContent = `${failure.key} on ${failure.worker}: ${failure.message}`;
          item.children[1].title = failure.message;
        });
      if (state.failures.length === 0) failures.replaceChildren(h('li', { class: 'empty', 'data-key': 'none' }, 'None.'));

      series.t.push(snapshot.atMs / 1000);
      series.rate.push(snapshot.tasksPerSecond);
      if (series.t.length > CHART_POINTS) { series.t.shift(); series.rate.shift(); }
      ensureChart();
      chart?.setData([series.t, series.rate]);
    },
    dispose() {
      chart?.destroy();
    },
  };
}
