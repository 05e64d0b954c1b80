// A section another package adds to the dashboard (Jobs, Models, ...), drawn from its description alone: tiles,
// then tables whose columns say how to draw their cells. Read from /api/v1/x/<id> every 2 s while the page is
// open; the server reads the section's source at most that often, whoever watches. Elements are kept per tile,
// table and row (an expanded list of ids stays open across refreshes).
import { count, h, syncRows } from './format.js';

const REFRESH_MS = 2000;
const TONE_CLASS = { ok: 'ok', bad: 'bad', warn: 'warn', active: 'active', muted: '' };

export function renderExtension(main, id) {
  const title = h('h1', {}, id);
  const source = h('p', { class: 'muted section-source' });
  const readAt = h('span', { class: 'muted section-read' });
  const banner = h('div', { class: 'banner bad', id: 'section-error', hidden: true });
  const tiles = h('section', { class: 'totals', id: 'section-tiles' });
  const tables = h('div', { class: 'stack', id: 'section-tables' });
  main.append(h('div', { class: 'section-head' }, h('div', {}, title, source), readAt), banner, tiles, tables);
  let stopped = false;
  let timer;

  async function refresh() {
    if (stopped) return;
    const response = await fetch(`/api/v1/x/${encodeURIComponent(id)}`).catch(() => undefined);
    if (stopped) return;
    if (response?.status === 401) {
      location.assign('/login');
      return;
    }
    if (response?.ok) draw(await response.json());
    else if (response?.status === 404) {
      title.textContent = id;
      showBanner(`This dashboard has no section '${id}'.`);
    } else showBanner('The dashboard did not answer; trying again.');
    timer = setTimeout(refresh, REFRESH_MS);
  }

  function showBanner(text) {
    banner.hidden = false;
    banner.textContent = text;
  }

  function draw(answer) {
    title.textContent = answer.title || id;
    document.title = `${title.textContent} · Loom dashboard`;
    source.textContent = answer.source ?? '';
    const now = answer.readAtMs ?? Date.now();
    readAt.textContent = answer.readAtMs ? `read ${new Date(answer.readAtMs).toLocaleTimeString()}` : '';
    if (answer.error) {
      const stale = answer.readAtMs ? ` Showing what was read at ${new Date(answer.readAtMs).toLocaleTimeString()}.` : '';
      showBanner(`Cannot read this section since ${new Date(answer.error.sinceMs).toLocaleTimeString()} (${answer.error.code}): ${answer.error.message}.${stale}`);
      banner.dataset.code = answer.error.code;
    } else {
      banner.hidden = true;
      delete banner.dataset.code;
    }
    syncRows(tiles, answer.tiles ?? [], (tile) => tile.label,
      () => h('div', { class: 'card stat' }, h('div', { class: 'label' }), h('div', { class: 'value' }), h('div', { class: 'sub' })),
      (card, tile) => {
        card.dataset.label = tile.label;
        card.className = `card stat${tile.tone ? ` tone-${tile.tone}` : ''}`;
        card.children[0].textContent = tile.label;
        card.children[1].textContent = typeof tile.value === 'number' ? count(tile.value) : String(tile.value);
        card.children[2].textContent = tile.sub ?? '';
      });
    tiles.hidden = (answer.tiles ?? []).length === 0;
    // What is shown during an outage is the last read: dimmed, so it is not taken for the present.
    tiles.classList.toggle('stale', Boolean(answer.error));
    tables.classList.toggle('stale', Boolean(answer.error));
    syncRows(tables, answer.tables ?? [], (table) => table.id, makeTable, (card, table) => updateTable(card, table, now));
  }

  void refresh();
  return { dispose() { stopped = true; clearTimeout(timer); } };
}

function makeTable(table) {
  return h('section', { class: 'card', id: `x-${table.id}` },
    h('h2', {}, h('span', { class: 'title' }), h('span', { class: 'note' })),
    h('div', { class: 'table-scroll' }, h('table', {}, h('thead', {}, h('tr', {})), h('tbody', {}))),
    h('p', { class: 'empty', hidden: true }),
    h('p', { class: 'muted omitted', hidden: true }));
}

function updateTable(card, table, now) {
  const [heading, scroll, empty, omitted] = card.children;
  heading.children[0].textContent = table.title;
  heading.children[1].textContent = table.note ?? '';
  const head = scroll.querySelector('thead tr');
  const signature = JSON.stringify(table.columns);
  if (head.dataset.signature !== signature) {
    head.dataset.signature = signature;
    head.replaceChildren(...table.columns.map((column) => h('th', { class: alignOf(column) }, column.label)));
    scroll.querySelector('tbody').replaceChildren();
  }
  const rowKey = table.rowKey ?? table.columns[0]?.key;
  syncRows(scroll.querySelector('tbody'), table.rows, (row) => String(row[rowKey]),
    () => h('tr', {}, ...table.columns.map((column) => h('td', { class: alignOf(column), 'data-col': column.key }))),
    (tr, row) => table.columns.forEach((column, index) => drawCell(tr.children[index], column, row[column.key], now)));
  scroll.hidden = table.rows.length === 0;
  empty.hidden = table.rows.length > 0;
  empty.textContent = table.empty ?? 'Nothing yet.';
  omitted.hidden = !(table.omitted > 0);
  omitted.textContent = table.omitted > 0 ? `and ${count(table.omitted)} more not listed` : '';
}

function alignOf(column) {
  if (column.wrap) return 'wrap';
  return column.format === 'number' || column.format === 'duration' ? 'num' : '';
}

/** Draws a cell when its value changed (times always: they are relative to the read). */
function drawCell(td, column, value, now) {
  const format = column.format ?? 'text';
  const signature = format === 'time' ? `${JSON.stringify(value)}@${now}` : JSON.stringify(value ?? null);
  if (td.dataset.signature === signature) return;
  td.dataset.signature = signature;
  if (value === null || value === undefined || value === '') {
    td.replaceChildren(h('span', { class: 'muted' }, '—'));
    return;
  }
  switch (format) {
    case 'number':
      td.textContent = typeof value === 'number' ? count(value) : String(value);
      return;
    case 'duration':
      td.textContent = duration(Number(value));
      return;
    case 'code':
      td.replaceChildren(h('code', {}, String(value)));
      return;
    case 'time': {
      const at = typeof value === 'number' ? value : Date.parse(String(value));
      td.replaceChildren(Number.isFinite(at) ? h('span', { title: new Date(at).toLocaleString() }, relative(at - now)) : String(value));
      return;
    }
    case 'pill': {
      const tone = column.tones?.[String(value)];
      td.replaceChildren(h('span', { class: `pill ${TONE_CLASS[tone] ?? ''}` }, String(value)));
      return;
    }
    case 'progress': {
      const fraction = Math.max(0, Math.min(1, Number(value.fraction) || 0));
      td.replaceChildren(h('span', { class: 'progress-cell' },
        h('span', { class: 'track mini' }, h('span', { class: 'processing', style: { width: `${fraction * 100}%` } })),
        h('span', { class: 'figure' }, `${Math.round(fraction * 100)} %`),
        value.message ? h('span', { class: 'muted message' }, value.message) : ''));
      return;
    }
    case 'ids': {
      const noun = value.noun ?? 'ids';
      if (value.total === 0) {
        td.replaceChildren(h('span', { class: 'muted' }, `no ${noun}`));
        return;
      }
      const more = value.total - value.ids.length;
      // A refresh with the same ids leaves this element alone (the signature above), so it stays open.
      td.replaceChildren(h('details', { class: 'ids' },
        h('summary', {}, `${count(value.total)} ${noun}`),
        h('div', { class: 'id-list' }, ...value.ids.map((item) => h('code', {}, item))),
        more > 0 ? h('div', { class: 'muted' }, `and ${count(more)} more`) : ''));
      return;
    }
    default:
      td.textContent = String(value);
  }
}

function duration(ms) {
  if (!Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** "12 s ago", "5 min ago", "3 h ago", "2 d ago", or "in ..." for a time to come. */
function relative(deltaMs) {
  const span = Math.abs(deltaMs);
  const text = span < 1000 ? 'now'
    : span < 60_000 ? `${Math.round(span / 1000)} s`
      : span < 3_600_000 ? `${Math.round(span / 60_000)} min`
        : span < 86_400_000 ? `${Math.round(span / 3_600_000)} h`
          : `${Math.round(span / 86_400_000)} d`;
  if (text === 'now') return text;
  return deltaMs < 0 ? `${text} ago` : `in ${text}`;
}
