// A section another package adds to the dashboard (jobs, models, ...): its data as a table, refreshed every 2 s.
import { h } from './format.js';

export function renderExtension(main, id) {
  const title = h('h2', {}, id);
  const body = h('div', {});
  main.append(h('section', { class: 'card' }, title, body));
  let stopped = false;
  async function refresh() {
    if (stopped) return;
    const response = await fetch(`/api/v1/x/${encodeURIComponent(id)}`).catch(() => undefined);
    if (response?.ok) body.replaceChildren(table(await response.json()));
    else body.replaceChildren(h('p', { class: 'empty' }, `No section '${id}'.`));
    setTimeout(refresh, 2000);
  }
  void refresh();
  return { dispose() { stopped = true; } };
}

function table(data) {
  const rows = Array.isArray(data) ? data : [data];
  if (rows.length === 0) return h('p', { class: 'empty' }, 'Nothing yet.');
  const columns = [...new Set(rows.flatMap((row) => (row && typeof row === 'object' ? Object.keys(row) : ['value'])))];
  return h('table', {},
    h('thead', {}, h('tr', {}, ...columns.map((column) => h('th', {}, column)))),
    h('tbody', {}, ...rows.slice(0, 500).map((row) => h('tr', {}, ...columns.map((column) => {
      const value = row && typeof row === 'object' ? row[column] : row;
      return h('td', {}, value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value));
    })))));
}
