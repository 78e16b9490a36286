// app.js: the shell of the UI: hash router in MLflow's URL scheme, route table,
// header navigation. Pages are ES modules loaded on first use.
import { h, clear, errorBox } from './dom.js';

// First match wins. names[i] is the name of capture group i+1 (decoded).
export const routes = [
  { pattern: /^\/(?:experiments\/?)?$/, names: [], load: () => import('./pages/experiments.js') },
  { pattern: /^\/experiments\/([^/]+)\/runs\/([^/]+)(?:\/(overview|metrics|model-metrics|system-metrics|artifacts)(?:\/(.*))?)?\/?$/,
    names: ['experimentId', 'runId', 'tab', 'artifactPath'], load: () => import('./pages/run.js') },
  { pattern: /^\/runs\/([^/]+)(?:\/(overview|metrics|model-metrics|system-metrics|artifacts)(?:\/(.*))?)?\/?$/,
    names: ['runId', 'tab', 'artifactPath'], load: () => import('./pages/run.js') },
  { pattern: /^\/experiments\/([^/]+)(?:\/(runs|chart|models))?\/?$/, names: ['experimentId', 'tab'],
    load: () => import('./pages/runs.js') },
  { pattern: /^\/metric\/(.+)$/, names: ['metricKey'], load: () => import('./pages/metric.js') },
  // registry, compare and not-found pages:
  { pattern: /^\/compare-runs\/?$/, names: [], load: () => import('./pages/compare.js') },
  { pattern: /^\/models\/?$/, names: [], load: () => import('./pages/models.js') },
  { pattern: /^\/models\/([^/]+)\/versions\/([^/]+)\/?$/, names: ['name', 'version'], load: () => import('./pages/model_version.js') },
  { pattern: /^\/models\/([^/]+)\/?$/, names: ['name'], load: () => import('./pages/model.js') },
];

const NOTFOUND = () => import('./pages/notfound.js');

let current = null; // { hash, cleanup, container }
let renderSeq = 0;

export function parseHash(hash = location.hash) {
  let s = hash.replace(/^#/, '');
  if (!s.startsWith('/')) s = '/' + s;
  const qi = s.indexOf('?');
  const path = qi >= 0 ? s.slice(0, qi) : s;
  const query = new URLSearchParams(qi >= 0 ? s.slice(qi + 1) : '');
  return { path, query };
}

function decode(s) {
  try { return decodeURIComponent(s); } catch { return s; }
}

export function matchRoute(path) {
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    const params = {};
    r.names.forEach((n, i) => { if (m[i + 1] !== undefined) params[n] = decode(m[i + 1]); });
    return { route: r, params };
  }
  return null;
}

export function navigate(hash) {
  if (!hash.startsWith('#')) hash = '#' + hash;
  if (location.hash === hash) render();
  else location.hash = hash;
}

// Replace the current route's query (obj: key -> value; null/'' removes it)
// without re-rendering the page; the page keeps its own state.
export function setQuery(obj, { replace = true } = {}) {
  const { path, query } = parseHash();
  for (const [k, v] of Object.entries(obj)) {
    if (v === null || v === undefined || v === '') query.delete(k);
    else query.set(k, typeof v === 'string' ? v : JSON.stringify(v));
  }
  const qs = query.toString();
  const hash = '#' + path + (qs ? '?' + qs : '');
  if (current) current.hash = hash;
  if (replace) history.replaceState(history.state, '', hash);
  else history.pushState(history.state, '', hash);
}

// Encode one path segment of a hash route.
export function seg(s) {
  return encodeURIComponent(s);
}

function updateNav(path) {
  const section = path.startsWith('/models') ? 'models' : 'experiments';
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === section);
}

async function render() {
  const hash = location.hash || '#/';
  if (current && current.hash === hash) return;
  const seq = ++renderSeq;
  if (current && typeof current.cleanup === 'function') {
    try { current.cleanup(); } catch (e) { console.error(e); }
  }
  const main = document.getElementById('main');
  const container = h('div', { class: 'page-root' });
  clear(main).appendChild(container);
  current = { hash, cleanup: null, container };
  const { path, query } = parseHash(hash);
  updateNav(path);
  const m = matchRoute(path);
  const route = { params: m ? m.params : {}, query, path };
  try {
    const mod = await (m ? m.route.load() : NOTFOUND());
    if (seq !== renderSeq) return;
    const cleanup = await mod.default(container, route);
    if (seq !== renderSeq) { if (typeof cleanup === 'function') cleanup(); return; }
    current.cleanup = cleanup;
  } catch (e) {
    if (seq !== renderSeq) return;
    console.error(e);
    clear(container).appendChild(h('div', { class: 'page' },
      m ? errorBox(e) : h('div', { class: 'empty' }, h('div', { class: 'empty-title' }, 'Page not found'),
        h('p', {}, h('a', { href: '#/' }, 'Back to experiments')))));
  }
}

window.addEventListener('hashchange', render);
window.addEventListener('unhandledrejection', (ev) => console.error('unhandled', ev.reason));
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', render);
else render();
