// Shared helpers of the pages: number and byte formats, one colour per kind of task, small DOM builders.
export function bytes(value) {
  if (!Number.isFinite(value) || value <= 0) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const power = Math.min(units.length - 1, Math.floor(Math.log2(value) / 10));
  const scaled = value / 2 ** (10 * power);
  return `${scaled >= 100 || power === 0 ? scaled.toFixed(0) : scaled.toFixed(1)} ${units[power]}`;
}

export function count(value) {
  return Math.round(value).toLocaleString('en-US');
}

export function rate(value) {
  return value >= 100 ? count(value) : value.toFixed(1);
}

export function ago(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms ago`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s ago`;
  return `${Math.round(ms / 60_000)} min ago`;
}

/** A stable, well-spread colour per kind of task (hash of its id onto the hue circle). */
const colours = new Map();
export function colourOf(id) {
  let colour = colours.get(id);
  if (colour === undefined) {
    let hash = 2166136261;
    for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 16777619);
    const hue = ((hash >>> 0) % 360 + 360) % 360;
    colour = `hsl(${hue} 70% 55%)`;
    colours.set(id, colour);
  }
  return colour;
}

/** An element with attributes and children; strings become text (never HTML). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'style') Object.assign(element.style, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return element;
}

/**
 * Keeps one child per key inside `parent`, creating with `make` and refreshing with `update`; children whose key
 * is gone are removed, so the page holds as many rows as there are things, however long it stays open.
 */
export function syncRows(parent, items, keyOf, make, update) {
  const existing = new Map();
  for (const child of [...parent.children]) existing.set(child.dataset.key, child);
  let previous = null;
  for (const item of items) {
    const key = keyOf(item);
    let row = existing.get(key);
    if (row === undefined) {
      row = make(item);
      row.dataset.key = key;
    }
    existing.delete(key);
    update(row, item);
    const expected = previous === null ? parent.firstElementChild : previous.nextElementSibling;
    if (row !== expected) parent.insertBefore(row, expected);
    previous = row;
  }
  for (const stale of existing.values()) stale.remove();
}
