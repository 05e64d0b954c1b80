// Graph: the live graphs as task groups (one node per kind of task, edges where one kind's tasks depend on
// another's), laid out in columns by dependency depth. A million-task graph of five kinds draws five nodes.
import { colourOf, count, h, syncRows } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const NODE_W = 190;
const NODE_H = 58;
const GAP_X = 70;
const GAP_Y = 18;

function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

export function renderGraph(main) {
  const svg = s('svg', { id: 'graph-svg', role: 'img', 'aria-label': 'task groups', preserveAspectRatio: 'xMinYMin meet' });
  const edges = s('g');
  const nodes = s('g');
  svg.append(edges, nodes);
  const empty = h('p', { class: 'empty' }, 'No live graph: submit one and its task groups show here.');
  main.append(h('section', { class: 'card graph' }, h('h2', {}, 'Task groups', h('span', { class: 'note' }, 'one node per task prefix; the bar is done / total')), svg, empty));
  let layoutKey = '';
  let positions = new Map();
  return {
    update(state) {
      const prefixes = state.snapshot.prefixes;
      empty.hidden = prefixes.length > 0;
      const key = prefixes.map((prefix) => `${prefix.id}<${prefix.dependsOn.join(',')}`).sort().join('|');
      if (key !== layoutKey) {
        layoutKey = key;
        positions = layout(prefixes);
        const width = Math.max(...[...positions.values()].map((p) => p.x + NODE_W), 300);
        const height = Math.max(...[...positions.values()].map((p) => p.y + NODE_H), 80);
        svg.setAttribute('viewBox', `0 0 ${width + 10} ${height + 10}`);
        svg.style.maxHeight = `${height + 10}px`;
        svg.style.maxWidth = `${width + 10}px`;
        edges.replaceChildren(...prefixes.flatMap((prefix) => prefix.dependsOn.filter((from) => positions.has(from)).map((from) => {
          const a = positions.get(from);
          const b = positions.get(prefix.id);
          const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
          return s('path', { class: 'edge', d: `M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2},${y2}` });
        })));
      }
      syncRows(nodes, prefixes, (prefix) => prefix.id, (prefix) => s('g', { class: 'node' },
        s('rect', { class: 'box', width: NODE_W, height: NODE_H, rx: 10 }),
        s('rect', { x: 0, y: 0, width: 5, height: NODE_H, rx: 2, fill: colourOf(prefix.id) }),
        s('text', { x: 14, y: 20 }),
        s('rect', { x: 14, y: 30, width: NODE_W - 28, height: 7, rx: 3, fill: 'var(--soft)' }),
        s('rect', { x: 14, y: 30, width: 0, height: 7, rx: 3, fill: colourOf(prefix.id), class: 'done' }),
        s('text', { x: 14, y: 51, class: 'counts' })),
      (node, prefix) => {
        const p = positions.get(prefix.id);
        node.setAttribute('transform', `translate(${p.x},${p.y})`);
        const st = prefix.states;
        const live = st.released + st.waiting + st.queued + st['no-worker'] + st.processing + st.memory + st.erred;
        const done = st.memory + st.released;
        node.children[2].textContent = prefix.name.length > 24 ? `${prefix.name.slice(0, 23)}…` : prefix.name;
        node.children[4].setAttribute('width', String(live === 0 ? NODE_W - 28 : ((NODE_W - 28) * done) / live));
        node.children[5].textContent = `${count(live)} live · ${count(st.processing)} running${st.erred ? ` · ${count(st.erred)} erred` : ''}`;
        node.dataset.live = String(live);
      });
    },
  };
}

/** Columns by longest dependency path (cycles cannot occur: groups follow the task graph's order). */
function layout(prefixes) {
  const byId = new Map(prefixes.map((prefix) => [prefix.id, prefix]));
  const depth = new Map();
  const depthOf = (prefix, seen = new Set()) => {
    if (depth.has(prefix.id)) return depth.get(prefix.id);
    if (seen.has(prefix.id)) return 0;
    seen.add(prefix.id);
    let d = 0;
    for (const from of prefix.dependsOn) if (byId.has(from)) d = Math.max(d, depthOf(byId.get(from), seen) + 1);
    depth.set(prefix.id, d);
    return d;
  };
  const columns = [];
  for (const prefix of prefixes) (columns[depthOf(prefix)] ??= []).push(prefix.id);
  const positions = new Map();
  columns.forEach((ids, column) => ids.forEach((id, row) => positions.set(id, { x: 5 + column * (NODE_W + GAP_X), y: 5 + row * (NODE_H + GAP_Y) })));
  return positions;
}
