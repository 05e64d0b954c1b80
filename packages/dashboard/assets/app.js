// The dashboard's pages: one event stream (server-sent events, a few updates a second) feeds whichever page is
// open; navigation between pages happens here without reloading, so the stream and its history carry over.
import { renderStatus } from './status-page.js';
import { renderWorkers, renderWorker } from './workers-page.js';
import { renderGraph } from './graph-page.js';
import { renderExtension } from './extension-page.js';
import { TaskStream } from './task-stream.js';
import { h } from './format.js';

const state = {
  snapshot: undefined,
  failures: [],
  stream: new TaskStream(4000),
  updates: 0,
  listeners: new Set(),
};
/** For tests and the curious: what the page holds. */
window.loomDashboard = state;

const main = document.getElementById('page');
const connection = document.getElementById('connection');
let current = undefined;

function route() {
  const path = location.pathname;
  current?.dispose?.();
  main.replaceChildren();
  for (const link of document.querySelectorAll('#nav a')) link.classList.toggle('active', path.startsWith(link.getAttribute('href')));
  if (path.startsWith('/workers/')) current = renderWorker(main, state, decodeURIComponent(path.slice('/workers/'.length)));
  else if (path === '/workers') current = renderWorkers(main, state);
  else if (path === '/graph') current = renderGraph(main, state);
  else if (path.startsWith('/x/')) current = renderExtension(main, path.slice(3));
  else current = renderStatus(main, state);
  if (state.snapshot) current.update?.(state);
}

document.addEventListener('click', (event) => {
  const link = event.target.closest?.('a[href^="/"]');
  if (!link || event.metaKey || event.ctrlKey || link.target) return;
  event.preventDefault();
  if (link.getAttribute('href') !== location.pathname) history.pushState(null, '', link.getAttribute('href'));
  route();
});
window.addEventListener('popstate', route);

function applyUpdate(update, replace) {
  state.snapshot = update.snapshot;
  if (replace) state.failures = [];
  state.failures = [...state.failures, ...update.failures].slice(-20);
  state.stream.add(update.events, update.snapshot, replace);
  state.updates += 1;
  current?.update?.(state);
}

function connect() {
  const source = new EventSource('/api/v1/events');
  source.addEventListener('init', (event) => {
    connection.dataset.state = 'live';
    connection.textContent = 'live';
    applyUpdate(JSON.parse(event.data), true);
  });
  source.addEventListener('update', (event) => applyUpdate(JSON.parse(event.data), false));
  source.addEventListener('unauthorized', () => {
    source.close();
    location.assign('/login');
  });
  source.addEventListener('error', async () => {
    connection.dataset.state = 'lost';
    connection.textContent = 'reconnecting';
    if (source.readyState !== EventSource.CLOSED) return;
    // The server refused the stream: logged out (go log in) or gone (try again shortly).
    const probe = await fetch('/api/v1/snapshot').catch(() => undefined);
    if (probe?.status === 401) location.assign('/login');
    else setTimeout(connect, 2000);
  });
}

async function addExtensions() {
  const response = await fetch('/api/v1/extensions').catch(() => undefined);
  if (!response?.ok) return;
  const nav = document.getElementById('nav');
  for (const { id, title } of await response.json()) nav.append(h('a', { href: `/x/${encodeURIComponent(id)}`, 'data-page': id }, title));
}

// The logout button only means something on a cluster with a token.
fetch('/api/v1/session')
  .then((response) => response.json())
  .then(({ tokenRequired }) => { document.getElementById('logout').hidden = !tokenRequired; })
  .catch(() => undefined);
route();
connect();
void addExtensions();
