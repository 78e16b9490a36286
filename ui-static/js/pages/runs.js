// pages/runs.js: the experiment page (#/experiments/<id>[/runs|/chart|/models]):
// header with the Markdown description, and the runs table: every param, metric
// and tag key of the experiment as a column (mlflowd/experiments/keys), server-side
// sort and filter, virtualized rows fed by runs/search pages fetched while
// scrolling, nested runs, selection for compare / delete / restore, CSV download.
// View state (filter, sort, columns, lifecycle) lives in the URL query. Sorting
// by duration is done here, over every run of the filter (MLflow's search-runs
// has no order key for it). While runs are RUNNING the loaded rows refresh by
// themselves in place.
import { api, isMissingEndpoint } from '../api.js';
import { h, clear, errorBox, emptyState, formDialog, confirmDialog, toast } from '../dom.js';
import { fmtTime, relTime, fmtDuration, runDuration, fmtNumber, sourceName } from '../lib/format.js';
import { noteEditor } from '../lib/note.js';
import { setQuery, replaceHash, parseHash, seg } from '../app.js';

const ROW = 28;               // px, fixed row height (virtualization)
const FIRST_PAGE = 100;       // runs in the first request (a screenful and more): first rows fast
const PAGE = 1000;            // runs in the second request; each later one doubles it
const MAX_PAGE = 5000;        // up to this many (fewer round trips through a long experiment)
const PREFETCH = 3000;        // keep this many rows loaded beyond the last visible one
const OVERSCAN = 8;           // rows rendered above and below the viewport
const DEFAULT_MAX_KEYS = 40;  // default columns per kind (the chooser shows all)
const CHART_RUNS = 10;        // runs charted when none are selected
const DURATION_KEY = 'duration'; // orderByKey of the duration sort (done in the page)
const CLIENT_SORT_MAX = 50000;   // runs loaded at most for the duration sort
const REFRESH_MS = 5000;         // refresh of the loaded rows while a run is RUNNING
const IDLE_PROBE_MS = 30000;     // otherwise: how often to ask whether a run is RUNNING
const REFRESH_MAX = 1000;        // rows re-read by one refresh (the first ones)
const NOTE = 'mlflow.note.content';
const PARENT = 'mlflow.parentRunId';

const ATTRS = [
  { id: 'attr.run_name', label: 'Run name', width: 240, sort: 'attributes.run_name' },
  { id: 'attr.created', label: 'Created', width: 130, sort: 'attributes.start_time' },
  { id: 'attr.duration', label: 'Duration', width: 108, sort: DURATION_KEY },
  { id: 'attr.source', label: 'Source', width: 150, sort: 'tags.`mlflow.source.name`' },
  { id: 'attr.user', label: 'User', width: 110, sort: 'attributes.user_id' },
  { id: 'attr.status', label: 'Status', width: 96, sort: 'attributes.status' },
  { id: 'attr.datasets', label: 'Datasets', width: 180, sort: null },
];

// "name (context)" of each dataset input of a run
function datasetsText(run) {
  return (run.inputs?.dataset_inputs || []).map((d) => {
    const ctx = (d.tags || []).find((t) => t.key === 'mlflow.data.context');
    return `${d.dataset?.name || '?'}${ctx ? ` (${ctx.value})` : ''}`;
  }).join(', ');
}

function quoteKey(k) {
  return '`' + k + '`';
}

// A run from runs/search turned into flat lookups once.
function prepRun(r) {
  const metrics = Object.create(null);
  const params = Object.create(null);
  const tags = Object.create(null);
  for (const m of r.data?.metrics || []) metrics[m.key] = m.value;
  for (const p of r.data?.params || []) params[p.key] = p.value;
  for (const t of r.data?.tags || []) tags[t.key] = t.value;
  return { id: r.info.run_id || r.info.run_uuid, info: r.info, metrics, params, tags, inputs: r.inputs };
}

function csvCell(v) {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

export default async function render(root, route) {
  const eid = route.params.experimentId;
  const q = route.query;
  let tab = ['chart', 'models', 'traces'].includes(route.params.tab) ? route.params.tab : 'runs';
  let colsParam = null;
  try { colsParam = q.get('columns') ? JSON.parse(q.get('columns')) : null; } catch { colsParam = null; }
  if (!colsParam) {
    try { colsParam = JSON.parse(localStorage.getItem(`mlflowd.columns.${eid}`) || 'null'); } catch { colsParam = null; }
  }
  const state = {
    filter: q.get('searchFilter') || '',
    orderKey: q.get('orderByKey') || 'attributes.start_time',
    asc: q.get('orderByAsc') === 'true',
    deleted: (q.get('lifecycleFilter') || '').toLowerCase() === 'deleted',
    columns: Array.isArray(colsParam) ? colsParam : null, // null: the default set
  };

  let cleanupFns = [];
  let closed = false;
  const page = h('div', { class: 'page page-wide' });
  root.appendChild(page);

  // ---- experiment + keys, in parallel with the first page of runs ----
  const expP = api('mlflow/experiments/get', { query: { experiment_id: eid } });
  // resolves to the keys, or null (a server without the endpoint: keys come
  // from the runs loaded), or {error}; never rejects, even if the page bails out
  const keysP = api('mlflowd/experiments/keys', { query: { experiment_id: eid } })
    .catch((e) => (isMissingEndpoint(e) ? null : { error: e }));

  // ---- runs state ----
  let rows = [];            // prepared runs, in server order
  let byId = new Map();
  let display = [];         // [{run, depth, nkids}]
  let token = null;
  let done = false;
  let loading = null;       // the in-flight page promise
  let gen = 0;              // bumps on every reset: stale pages are dropped
  let ctl = null;
  let loadError = null;
  const expanded = new Set();
  const selected = new Set();
  const keys = { metrics: new Set(), params: new Set(), tags: new Set() };
  let keysTruncated = false; // the server listed only the first keys of some kind

  // the duration sort is done here over every run: the server sends them newest first
  const clientSort = () => state.orderKey === DURATION_KEY;
  const capped = () => clientSort() && !done && rows.length >= CLIENT_SORT_MAX;

  function body() {
    return {
      experiment_ids: [eid],
      filter: state.filter,
      run_view_type: state.deleted ? 'DELETED_ONLY' : 'ACTIVE_ONLY',
      order_by: [clientSort() ? 'attributes.start_time DESC' : `${state.orderKey} ${state.asc ? 'ASC' : 'DESC'}`],
    };
  }

  // rows by duration (runs without one last, whatever the direction), ties newest first
  function byDuration(list) {
    const now = Date.now();
    const keyed = list.map((r) => ({ r, d: runDuration(r.info, now) }));
    keyed.sort((a, b) => {
      if (a.d === null || b.d === null) return (a.d === null) - (b.d === null);
      if (a.d !== b.d) return state.asc ? a.d - b.d : b.d - a.d;
      return Number(b.r.info.start_time || 0) - Number(a.r.info.start_time || 0);
    });
    return keyed.map((x) => x.r);
  }

  async function fetchPage() {
    if (loading || done) return loading;
    const my = gen;
    ctl = new AbortController();
    const size = rows.length || clientSort() ? Math.min(MAX_PAGE, Math.max(PAGE, rows.length)) : FIRST_PAGE;
    const req = { ...body(), max_results: size };
    if (token) req.page_token = token;
    loading = (async () => {
      try {
        const r = await api('mlflow/runs/search', { method: 'POST', body: req, signal: ctl.signal });
        if (my !== gen) return;
        const fresh = (r.runs || []).map(prepRun);
        let newKeys = false;
        for (const run of fresh) {
          if (byId.has(run.id)) continue;
          byId.set(run.id, run);
          rows.push(run);
          for (const k in run.metrics) if (!keys.metrics.has(k)) { keys.metrics.add(k); newKeys = true; }
          for (const k in run.params) if (!keys.params.has(k)) { keys.params.add(k); newKeys = true; }
          for (const k in run.tags) if (!keys.tags.has(k)) { keys.tags.add(k); newKeys = true; }
        }
        token = r.next_page_token || null;
        done = !token;
        loadError = null;
        if (newKeys) buildColumns();
        buildDisplay();
      } catch (e) {
        if (e.name === 'AbortError' || my !== gen) return;
        loadError = e;
        done = true;
      } finally {
        if (my === gen) loading = null;
      }
      if (my === gen) { paint(); maybePrefetch(); }
    })();
    return loading;
  }

  function reset() {
    gen++;
    if (ctl) ctl.abort();
    loading = null;
    rows = [];
    byId = new Map();
    display = [];
    token = null;
    done = false;
    loadError = null;
    selected.clear();
    rowCache.clear();
    if (grid) grid.wrap.scrollTop = 0;
    paint();
    return fetchPage();
  }

  // reuse: keep the row elements of runs whose data and place in the tree did
  // not change (a refresh then repaints only the rows that changed)
  function buildDisplay(reuse = false) {
    const old = new Map();
    if (reuse) for (const [idx, el] of rowCache) { const d = display[idx]; if (d) old.set(d.run, { el, depth: d.depth, nkids: d.nkids }); }
    const kids = new Map();
    const top = [];
    // a parent chain that loops (A under B under A) leaves its runs at the top
    const loops = (r) => {
      const seenUp = new Set([r.id]);
      for (let p = r.tags[PARENT]; p && byId.has(p); p = byId.get(p).tags[PARENT]) {
        if (seenUp.has(p)) return true;
        seenUp.add(p);
      }
      return false;
    };
    for (const r of clientSort() ? byDuration(rows) : rows) {
      const p = r.tags[PARENT];
      if (p && p !== r.id && byId.has(p) && !loops(r)) {
        if (!kids.has(p)) kids.set(p, []);
        kids.get(p).push(r);
      } else top.push(r);
    }
    const out = [];
    const seen = new Set();
    const add = (r, depth) => {
      if (seen.has(r.id)) return;
      seen.add(r.id);
      const ks = kids.get(r.id) || [];
      out.push({ run: r, depth, nkids: ks.length });
      if (expanded.has(r.id)) for (const c of ks) add(c, depth + 1);
    };
    for (const r of top) add(r, 0);
    display = out;
    rowCache.clear();
    out.forEach((d, i) => {
      const o = old.get(d.run);
      if (!o || o.depth !== d.depth || o.nkids !== d.nkids) return;
      o.el.style.top = i * ROW + 'px';
      rowCache.set(i, o.el);
    });
  }

  // ---- refresh while runs are RUNNING ----
  // The first rows (up to REFRESH_MAX) are read again in the current order and
  // merged in place: unchanged runs keep their objects (and their row
  // elements), new runs appear where the server puts them, selection and
  // scroll position stay. Checked every REFRESH_MS while a loaded run is
  // RUNNING, else every IDLE_PROBE_MS with a one-run search for RUNNING runs;
  // never while the page is hidden, another tab is shown or a page is loading.
  let refreshTimer = null;
  const sigOf = (r) => JSON.stringify([r.info, r.metrics, r.params, r.tags, r.inputs]);
  async function refresh() {
    const my = gen;
    const n = Math.min(REFRESH_MAX, Math.max(FIRST_PAGE, rows.length));
    const r = await api('mlflow/runs/search', { method: 'POST', body: { ...body(), max_results: n } });
    if (my !== gen || closed || loading) return;
    let newKeys = false;
    const fresh = (r.runs || []).map(prepRun).map((f) => {
      const o = byId.get(f.id);
      for (const k in f.metrics) if (!keys.metrics.has(k)) { keys.metrics.add(k); newKeys = true; }
      for (const k in f.params) if (!keys.params.has(k)) { keys.params.add(k); newKeys = true; }
      for (const k in f.tags) if (!keys.tags.has(k)) { keys.tags.add(k); newKeys = true; }
      // a RUNNING run's duration grows: its row is drawn again
      return o && f.info.status !== 'RUNNING' && sigOf(o) === sigOf(f) ? o : f;
    });
    const ids = new Set(fresh.map((f) => f.id));
    const all = rows.length <= n;
    rows = fresh.concat(all ? [] : rows.slice(n).filter((x) => !ids.has(x.id)));
    byId = new Map(rows.map((x) => [x.id, x]));
    if (all) { token = r.next_page_token || null; done = !token; }
    if (newKeys) buildColumns();
    buildDisplay(!newKeys);
    paint();
  }
  async function probeRunning() {
    const running = "attributes.status = 'RUNNING'";
    const r = await api('mlflow/runs/search', { method: 'POST', body: {
      experiment_ids: [eid], filter: state.filter ? `${state.filter} and ${running}` : running, run_view_type: 'ACTIVE_ONLY', max_results: 1 } });
    return (r.runs || []).length > 0;
  }
  async function refreshTick() {
    let next = IDLE_PROBE_MS;
    try {
      if (!document.hidden && tab === 'runs' && grid && !loading && !loadError && !state.deleted && !(clientSort() && !done)) {
        if (rows.some((r) => r.info.status === 'RUNNING') || await probeRunning()) {
          await refresh();
          if (rows.some((r) => r.info.status === 'RUNNING')) next = REFRESH_MS;
        }
      }
    } catch { /* the next tick tries again */ }
    if (!closed) refreshTimer = setTimeout(refreshTick, next);
  }

  // ---- columns ----
  let columns = [];
  function allColumnIds() {
    const ids = ATTRS.map((a) => a.id);
    for (const k of [...keys.metrics].sort()) ids.push('metrics.' + k);
    for (const k of [...keys.params].sort()) ids.push('params.' + k);
    for (const k of [...keys.tags].sort()) ids.push('tags.' + k);
    return ids;
  }
  function defaultColumnIds() {
    const ids = ATTRS.map((a) => a.id);
    [...keys.metrics].sort().slice(0, DEFAULT_MAX_KEYS).forEach((k) => ids.push('metrics.' + k));
    [...keys.params].sort().slice(0, DEFAULT_MAX_KEYS).forEach((k) => ids.push('params.' + k));
    [...keys.tags].filter((k) => !k.startsWith('mlflow.')).sort().slice(0, DEFAULT_MAX_KEYS).forEach((k) => ids.push('tags.' + k));
    return ids;
  }
  function colOf(id) {
    const a = ATTRS.find((x) => x.id === id);
    if (a) return { ...a, kind: 'attr' };
    const dot = id.indexOf('.');
    const kind = id.slice(0, dot);
    const key = id.slice(dot + 1);
    if (kind === 'metrics') return { id, kind, key, label: key, width: 110, num: true, sort: `metrics.${quoteKey(key)}` };
    if (kind === 'params') return { id, kind, key, label: key, width: 120, sort: `params.${quoteKey(key)}` };
    if (kind === 'tags') return { id, kind, key, label: key, width: 130, sort: `tags.${quoteKey(key)}` };
    return null;
  }
  function buildColumns() {
    const ids = state.columns || defaultColumnIds();
    columns = ids.map(colOf).filter(Boolean);
    if (grid) paintHeader();
    rowCache.clear();
  }

  function cellValue(col, run) {
    const i = run.info;
    switch (col.id) {
      case 'attr.run_name': return i.run_name || run.tags['mlflow.runName'] || run.id;
      case 'attr.created': return fmtTime(i.start_time);
      case 'attr.duration': return fmtDuration(runDuration(i));
      case 'attr.source': return run.tags['mlflow.source.name'] || '';
      case 'attr.user': return i.user_id || run.tags['mlflow.user'] || '';
      case 'attr.status': return i.status || '';
      case 'attr.datasets': return datasetsText(run);
      default:
        if (col.kind === 'metrics') return run.metrics[col.key];
        if (col.kind === 'params') return run.params[col.key];
        if (col.kind === 'tags') return run.tags[col.key];
    }
    return '';
  }

  function runHref(run) {
    return `#/experiments/${seg(run.info.experiment_id || eid)}/runs/${seg(run.id)}`;
  }

  // ---- the grid (virtualized) ----
  let grid = null;
  const rowCache = new Map(); // display index -> row element (valid for one display/columns state)
  const mounted = new Map();  // display index -> mounted element

  function makeRow(idx) {
    const d = display[idx];
    const run = d.run;
    const el = h('div', { class: 'grid-row' + (selected.has(run.id) ? ' selected' : ''), dataset: { testid: 'run-row', runId: run.id } });
    el.style.top = idx * ROW + 'px';
    const cb = h('input', { type: 'checkbox', checked: selected.has(run.id), 'aria-label': 'select run' });
    cb.addEventListener('change', () => {
      if (cb.checked) selected.add(run.id); else selected.delete(run.id);
      el.classList.toggle('selected', cb.checked);
      paintToolbar();
    });
    el.appendChild(h('div', { class: 'cell check' }, cb));
    for (const col of columns) {
      const c = h('div', { class: 'cell' + (col.num ? ' num' : '') + (col.id === 'attr.run_name' ? ' pin' : '') });
      c.style.width = col.width + 'px';
      if (col.id === 'attr.run_name') {
        c.appendChild(h('span', { class: 'indent', style: { width: d.depth * 16 + 'px' } }));
        if (d.nkids) {
          c.appendChild(h('span', { class: 'twisty', title: `${d.nkids} child run${d.nkids > 1 ? 's' : ''}`, dataset: { testid: 'expand' },
            onClick: () => { if (expanded.has(run.id)) expanded.delete(run.id); else expanded.add(run.id); buildDisplay(); paint(); } },
          expanded.has(run.id) ? '▾' : '▸'));
        } else c.appendChild(h('span', { class: 'twisty' }));
        const name = cellValue(col, run);
        c.appendChild(h('a', { href: runHref(run), title: name }, name));
      } else if (col.id === 'attr.created') {
        c.title = fmtTime(run.info.start_time);
        c.textContent = relTime(run.info.start_time);
      } else if (col.id === 'attr.source') {
        c.title = run.tags['mlflow.source.name'] || '';
        c.textContent = sourceName(run.tags);
      } else if (col.id === 'attr.status') {
        const s = run.info.status || '';
        c.appendChild(h('span', { class: `status status-${s}` }, s));
      } else {
        const v = cellValue(col, run);
        if (v !== undefined && v !== null) {
          const text = col.num ? fmtNumber(v) : String(v);
          c.textContent = text;
          c.title = String(v);
        }
      }
      el.appendChild(c);
    }
    return el;
  }

  function paintRows() {
    if (!grid) return;
    const { wrap, bodyEl } = grid;
    const total = display.length;
    bodyEl.style.height = (total + (done ? 0 : 1)) * ROW + 'px';
    const y = wrap.scrollTop - bodyEl.offsetTop;
    const first = Math.max(0, Math.floor(y / ROW) - OVERSCAN);
    const last = Math.min(total, Math.ceil((y + wrap.clientHeight) / ROW) + OVERSCAN);
    for (const [idx, el] of mounted) {
      if (idx < first || idx >= last || rowCache.get(idx) !== el) { el.remove(); mounted.delete(idx); }
    }
    for (let i = first; i < last; i++) {
      if (mounted.has(i)) continue;
      let el = rowCache.get(i);
      if (!el) { el = makeRow(i); rowCache.set(i, el); }
      bodyEl.appendChild(el);
      mounted.set(i, el);
    }
    if (rowCache.size > 4 * (last - first + 1)) {
      for (const i of rowCache.keys()) if (!mounted.has(i)) rowCache.delete(i);
    }
    grid.lastVisible = last;
    if (!done) {
      grid.loadingRow.style.top = total * ROW + 'px';
      grid.loadingRow.textContent = loadError ? '' : 'Loading more runs…';
      if (!grid.loadingRow.parentNode) bodyEl.appendChild(grid.loadingRow);
    } else grid.loadingRow.remove();
  }

  function maybePrefetch() {
    if (done || loading || !grid) return;
    if (clientSort() ? !capped() : display.length - (grid.lastVisible || 0) < PREFETCH || rows.length - display.length > 0 && display.length < PREFETCH) fetchPage();
  }

  function sortBy(col) {
    if (!col.sort) return;
    if (state.orderKey === col.sort) state.asc = !state.asc;
    else { state.orderKey = col.sort; state.asc = col.id === 'attr.run_name'; }
    syncUrl();
    paintHeader();
    reset();
  }

  function paintHeader() {
    if (!grid) return;
    const { groupRow, headRow } = grid;
    clear(groupRow);
    clear(headRow);
    const allBox = h('input', { type: 'checkbox', 'aria-label': 'select all loaded runs', dataset: { testid: 'select-all' } });
    allBox.checked = display.length > 0 && display.every((d) => selected.has(d.run.id));
    allBox.addEventListener('change', () => {
      if (allBox.checked) display.forEach((d) => selected.add(d.run.id)); else selected.clear();
      rowCache.clear(); paint();
    });
    groupRow.appendChild(h('div', { style: { width: '32px' } }));
    headRow.appendChild(h('div', { class: 'cell check' }, allBox));
    let group = null;
    let groupEl = null;
    for (const col of columns) {
      const g = col.kind === 'attr' ? 'Run' : col.kind === 'metrics' ? 'Metrics' : col.kind === 'params' ? 'Parameters' : 'Tags';
      if (g !== group) {
        group = g;
        groupEl = h('div', {}, g);
        groupEl.style.width = '0px';
        groupRow.appendChild(groupEl);
      }
      groupEl.style.width = parseInt(groupEl.style.width, 10) + col.width + 'px';
      const active = state.orderKey === col.sort;
      const cell = h('div', { class: 'cell' + (col.sort ? ' sortable' : '') + (col.num ? ' num' : '') + (col.id === 'attr.run_name' ? ' pin' : ''), title: col.sort ? `${col.label} (click to sort)` : col.label,
        dataset: { testid: 'col-header', col: col.id } }, col.label, active ? (state.asc ? ' ▲' : ' ▼') : '');
      cell.style.width = col.width + 'px';
      if (col.sort) cell.addEventListener('click', () => sortBy(col));
      headRow.appendChild(cell);
    }
  }

  function paintStatus() {
    if (!grid) return;
    clear(grid.status);
    const n = rows.length;
    grid.status.append(done ? `${n} run${n === 1 ? '' : 's'}`
      : capped() ? `Sorted by duration: the newest ${n} runs only`
        : clientSort() ? `Loading every run to sort by duration: ${n} loaded…` : `${n} runs loaded, loading more as you scroll…`);
    if (selected.size) grid.status.append(h('span', {}, `${selected.size} selected`));
  }

  function paintEmpty() {
    if (!grid) return;
    clear(grid.message);
    if (loadError) {
      grid.message.appendChild(errorBox(loadError));
      if (loadError.code === 'INVALID_PARAMETER_VALUE') grid.filterInput.classList.add('invalid');
    } else {
      grid.filterInput.classList.remove('invalid');
      if (done && !rows.length) {
        grid.message.appendChild(state.filter || state.deleted
          ? emptyState(state.deleted ? 'No deleted runs' : 'No run matches this filter')
          : emptyState('No runs in this experiment yet', h('p', {}, 'Log one from Python:'),
            h('pre', { dataset: { testid: 'first-run-snippet' } }, `import mlflow; mlflow.set_tracking_uri("${location.origin}"); mlflow.set_experiment(experiment_id="${eid}")\n` +
              'with mlflow.start_run(): mlflow.log_metric("accuracy", 0.9)')));
      }
    }
    grid.wrap.style.display = done && !rows.length ? 'none' : '';
  }

  function paintToolbar() {
    if (!grid) return;
    const n = selected.size;
    grid.compareBtn.disabled = n < 2;
    grid.deleteBtn.disabled = n < 1;
    grid.deleteBtn.textContent = state.deleted ? `Restore${n ? ` (${n})` : ''}` : `Delete${n ? ` (${n})` : ''}`;
    grid.deleteBtn.className = state.deleted ? 'btn' : 'btn btn-danger';
    paintStatus();
  }

  function paint() {
    if (!grid) return;
    paintHeader();
    paintRows();
    paintEmpty();
    paintToolbar();
  }

  function syncUrl() {
    setQuery({
      searchFilter: state.filter || null,
      orderByKey: state.orderKey === 'attributes.start_time' ? null : state.orderKey,
      orderByAsc: state.asc ? 'true' : null,
      lifecycleFilter: state.deleted ? 'Deleted' : null,
      columns: state.columns ? JSON.stringify(state.columns) : null,
    });
  }

  // ---- actions ----
  function compare() {
    const ids = [...selected];
    location.hash = `#/compare-runs?runs=${encodeURIComponent(JSON.stringify(ids))}&experiments=${encodeURIComponent(JSON.stringify([eid]))}`;
  }

  async function deleteOrRestore() {
    const ids = [...selected];
    if (!ids.length) return;
    const restore = state.deleted;
    if (!restore && !await confirmDialog('Delete runs', `Delete ${ids.length} run${ids.length > 1 ? 's' : ''}? They stay restorable from the Deleted view.`)) return;
    const results = await Promise.allSettled(ids.map((id) => api(`mlflow/runs/${restore ? 'restore' : 'delete'}`, { method: 'POST', body: { run_id: id } })));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length) toast(failed[0].reason);
    else toast(`${restore ? 'Restored' : 'Deleted'} ${ids.length} run${ids.length > 1 ? 's' : ''}`);
    reset();
  }

  async function downloadCsv() {
    grid.csvBtn.disabled = true;
    const old = grid.csvBtn.textContent;
    try {
      while (!done) {
        grid.csvBtn.textContent = `Loading… ${rows.length}`;
        await fetchPage();
        if (loadError) throw loadError;
      }
      const cols = columns;
      const lines = [['run_id', ...cols.map((c) => (c.kind === 'attr' ? c.label : c.id))].map(csvCell).join(',')];
      for (const run of clientSort() ? byDuration(rows) : rows) {
        lines.push([run.id, ...cols.map((c) => {
          if (c.id === 'attr.duration') { const d = runDuration(run.info); return d === null ? '' : d / 1000; }
          return cellValue(c, run);
        })].map(csvCell).join(','));
      }
      const blob = new Blob([lines.join('\n') + '\n'], { type: 'text/csv' });
      const a = h('a', { href: URL.createObjectURL(blob), download: `runs-experiment-${eid}.csv` });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (e) { toast(e); } finally { grid.csvBtn.disabled = false; grid.csvBtn.textContent = old; }
  }

  function chooser(anchor) {
    const existing = anchor.parentNode.querySelector('.chooser');
    if (existing) { existing.remove(); return; }
    const chosen = new Set(columns.map((c) => c.id));
    const search = h('input', { type: 'search', placeholder: 'Filter columns', style: { width: '100%' }, dataset: { testid: 'column-search' } });
    const list = h('div', {});
    const box = h('div', { class: 'chooser', dataset: { testid: 'column-chooser' } },
      search,
      keysTruncated ? h('div', { class: 'muted' }, 'This experiment has more keys than the server lists; more appear as their runs load.') : null,
      h('div', { class: 'toolbar' },
        h('button', { class: 'btn btn-small', onClick: () => { state.columns = allColumnIds(); apply(); } }, 'All'),
        h('button', { class: 'btn btn-small', onClick: () => { state.columns = ATTRS.map((a) => a.id); apply(); } }, 'None'),
        h('button', { class: 'btn btn-small', onClick: () => { state.columns = null; localStorage.removeItem(`mlflowd.columns.${eid}`); apply(); } }, 'Default')),
      list);
    function apply() {
      try {
        if (state.columns) localStorage.setItem(`mlflowd.columns.${eid}`, JSON.stringify(state.columns));
      } catch { /* storage full or disabled: the URL still holds the view */ }
      syncUrl();
      buildColumns();
      paint();
      chosen.clear();
      columns.forEach((c) => chosen.add(c.id));
      fill();
    }
    function fill() {
      clear(list);
      const f = search.value.toLowerCase();
      const groups = [['Attributes', ATTRS.map((a) => a.id)], ['Metrics', [...keys.metrics].sort().map((k) => 'metrics.' + k)],
        ['Parameters', [...keys.params].sort().map((k) => 'params.' + k)], ['Tags', [...keys.tags].sort().map((k) => 'tags.' + k)]];
      for (const [title, ids] of groups) {
        const shown = ids.filter((id) => id.toLowerCase().includes(f) || (colOf(id)?.label || '').toLowerCase().includes(f));
        if (!shown.length) continue;
        list.appendChild(h('h4', {}, title));
        for (const id of shown) {
          const cb = h('input', { type: 'checkbox', checked: chosen.has(id) });
          cb.addEventListener('change', () => {
            const cur = state.columns ? [...state.columns] : columns.map((c) => c.id);
            if (cb.checked) { if (!cur.includes(id)) cur.push(id); } else cur.splice(cur.indexOf(id), 1);
            // keep the attribute, metric, param, tag order
            const order = allColumnIds();
            state.columns = cur.sort((a, b) => order.indexOf(a) - order.indexOf(b));
            apply();
          });
          list.appendChild(h('label', { title: id }, cb, ' ', colOf(id)?.label || id));
        }
      }
    }
    search.addEventListener('input', fill);
    fill();
    anchor.parentNode.appendChild(box);
    search.focus();
    const close = (ev) => {
      if (ev.type === 'keydown' ? ev.key !== 'Escape' : (box.contains(ev.target) || ev.target === anchor)) return;
      box.remove();
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    cleanupFns.push(() => { document.removeEventListener('mousedown', close); document.removeEventListener('keydown', close); });
  }

  // ---- build the page ----
  fetchPage(); // the first page of runs, while the experiment and its keys load
  let exp;
  try {
    exp = (await expP).experiment;
  } catch (e) {
    page.appendChild(errorBox(e));
    page.appendChild(h('p', {}, h('a', { href: '#/' }, 'Back to experiments')));
    return;
  }
  const expTags = {};
  for (const t of exp.tags || []) expTags[t.key] = t.value;

  const title = h('h1', { dataset: { testid: 'experiment-name' } }, exp.name);
  page.appendChild(h('div', { class: 'breadcrumb' }, h('a', { href: '#/experiments' }, 'Experiments'), ' / '));
  page.appendChild(h('div', { class: 'page-header' },
    h('div', { class: 'grow' }, title,
      h('div', { class: 'meta' },
        h('span', {}, 'Experiment ID: ', h('b', { class: 'mono' }, exp.experiment_id)),
        h('span', {}, 'Artifact location: ', h('b', { class: 'mono' }, exp.artifact_location || '')),
        exp.lifecycle_stage === 'deleted' ? h('span', { class: 'status status-FAILED' }, 'DELETED') : null)),
    h('button', { class: 'btn', onClick: async () => {
      const v = await formDialog({ title: 'Rename experiment', fields: [{ name: 'name', label: 'New name', value: exp.name, required: true }] });
      if (!v) return;
      try {
        await api('mlflow/experiments/update', { method: 'POST', body: { experiment_id: eid, new_name: v.name.trim() } });
        exp.name = v.name.trim();
        title.textContent = exp.name;
      } catch (e) { toast(e); }
    } }, 'Rename')));
  page.appendChild(noteEditor({ text: expTags[NOTE] || '', testid: 'experiment-note',
    save: (text) => api('mlflow/experiments/set-experiment-tag', { method: 'POST', body: { experiment_id: eid, key: NOTE, value: text } }) }));

  const tabsEl = h('div', { class: 'tabs' });
  const tabBody = h('div', {});
  page.append(tabsEl, tabBody);

  // runs table DOM (kept across tab switches)
  const filterInput = h('input', { type: 'search', placeholder: 'metrics.rmse < 1 and params.model = "tree"', value: state.filter,
    style: { flex: '1', minWidth: '320px' }, dataset: { testid: 'run-filter' }, spellcheck: 'false' });
  filterInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { state.filter = filterInput.value.trim(); syncUrl(); reset(); }
  });
  filterInput.addEventListener('search', () => { if (!filterInput.value && state.filter) { state.filter = ''; syncUrl(); reset(); } });
  const viewSel = h('select', { dataset: { testid: 'run-lifecycle' } }, h('option', { value: 'active' }, 'Active'), h('option', { value: 'deleted' }, 'Deleted'));
  viewSel.value = state.deleted ? 'deleted' : 'active';
  viewSel.addEventListener('change', () => { state.deleted = viewSel.value === 'deleted'; syncUrl(); reset(); });
  const colBtn = h('button', { class: 'btn', dataset: { testid: 'columns-button' } }, 'Columns');
  colBtn.addEventListener('click', () => chooser(colBtn));
  const compareBtn = h('button', { class: 'btn', dataset: { testid: 'compare' }, onClick: compare }, 'Compare');
  const deleteBtn = h('button', { class: 'btn btn-danger', dataset: { testid: 'delete-runs' }, onClick: deleteOrRestore }, 'Delete');
  const csvBtn = h('button', { class: 'btn', dataset: { testid: 'download-csv' }, onClick: () => downloadCsv() }, 'Download CSV');
  const expandBtn = h('button', { class: 'btn', title: 'Show or hide every child run', onClick: () => {
    const parents = rows.filter((r) => rows.some((c) => c.tags[PARENT] === r.id));
    const allOpen = parents.every((p) => expanded.has(p.id));
    parents.forEach((p) => (allOpen ? expanded.delete(p.id) : expanded.add(p.id)));
    buildDisplay(); paint();
  } }, 'Expand/collapse children');
  const groupRow = h('div', { class: 'grid-group' });
  const headRow = h('div', { class: 'grid-head' });
  const bodyEl = h('div', { class: 'grid-body' });
  const wrap = h('div', { class: 'grid-wrap', dataset: { testid: 'runs-grid' } }, h('div', { class: 'grid-sticky' }, groupRow, headRow), bodyEl);
  const message = h('div', { class: 'filter-error', dataset: { testid: 'runs-message' } });
  const status = h('div', { class: 'grid-status', dataset: { testid: 'runs-status' } });
  const loadingRow = h('div', { class: 'grid-row muted', style: { paddingLeft: '40px', lineHeight: ROW + 'px' } });
  const runsView = h('div', {},
    h('div', { class: 'toolbar' }, filterInput, viewSel, h('span', { class: 'rel' }, colBtn), expandBtn, compareBtn, deleteBtn, csvBtn),
    message, wrap, status);
  grid = { wrap, bodyEl, groupRow, headRow, status, message, filterInput, compareBtn, deleteBtn, csvBtn, loadingRow, lastVisible: 0 };

  let raf = 0;
  wrap.addEventListener('scroll', () => {
    if (raf) return;
    raf = requestAnimationFrame(() => { raf = 0; paintRows(); maybePrefetch(); });
  }, { passive: true });
  const onResize = () => { paintRows(); maybePrefetch(); };
  window.addEventListener('resize', onResize);
  cleanupFns.push(() => window.removeEventListener('resize', onResize));

  let chartCleanup = null;
  function showTab(name) {
    tab = name;
    if (typeof chartCleanup === 'function') { try { chartCleanup(); } catch (e) { console.error(e); } }
    chartCleanup = null;
    clear(tabsEl);
    for (const [id, label] of [['runs', 'Runs'], ['chart', 'Chart'], ['models', 'Models'], ['traces', 'Traces']]) {
      tabsEl.appendChild(h('button', { class: 'tab' + (id === name ? ' active' : ''), dataset: { testid: `tab-${id}` }, onClick: () => {
        if (id === tab) return;
        const { query } = parseHash();
        const qs = query.toString();
        replaceHash(`#/experiments/${seg(eid)}${id === 'runs' ? '' : '/' + id}${qs ? '?' + qs : ''}`);
        showTab(id);
      } }, label));
    }
    clear(tabBody);
    if (name === 'runs') {
      tabBody.appendChild(runsView);
      paint();
    } else if (name === 'chart') {
      const box = h('div', {});
      tabBody.appendChild(box);
      renderChartTab(box);
    } else if (name === 'traces') {
      const box = h('div', {});
      tabBody.appendChild(box);
      import('./traces.js')
        .then((m) => m.renderList(box, eid))
        .then((c) => { chartCleanup = c; })
        .catch((e) => { console.error(e); box.appendChild(errorBox(new Error('The traces view could not be loaded: ' + e.message))); });
    } else {
      const box = h('div', {});
      tabBody.appendChild(box);
      import('./logged_models.js')
        .then((m) => m.default(box, { params: { experimentId: eid }, query: new URLSearchParams(), path: route.path }))
        .then((c) => { chartCleanup = c; })
        .catch((e) => { console.error(e); box.appendChild(errorBox(new Error('The logged models view could not be loaded: ' + e.message))); });
    }
  }

  async function renderChartTab(box) {
    box.appendChild(h('div', { class: 'muted' }, 'Loading…'));
    if (loading) await loading;
    if (!rows.length && !done) await fetchPage();
    const chosen = selected.size ? rows.filter((r) => selected.has(r.id)) : display.slice(0, CHART_RUNS).map((d) => d.run);
    clear(box);
    if (loadError) { box.appendChild(errorBox(loadError)); return; }
    const metricKeys = [...keys.metrics].sort();
    try {
      const m = await import('./charts.js');
      if (!box.isConnected) return;
      box.appendChild(h('div', { class: 'muted' }, selected.size
        ? `Charting the ${chosen.length} selected run${chosen.length > 1 ? 's' : ''}.`
        : `Charting the first ${chosen.length} runs of the table (select runs to chart others).`));
      const inner = h('div', {});
      box.appendChild(inner);
      chartCleanup = m.renderRunsCharts(inner, { runs: chosen.map((r) => ({ id: r.id, name: r.info.run_name || r.id })), metricKeys, experimentId: eid });
    } catch (e) { console.error(e); box.appendChild(errorBox(e)); }
  }

  buildColumns();
  showTab(tab);
  maybePrefetch();
  refreshTimer = setTimeout(refreshTick, REFRESH_MS);
  // keys from the server (every run's), else only those of the runs loaded
  keysP.then((k) => {
    if (!k || closed) return;
    if (k.error) { page.insertBefore(errorBox(k.error), tabsEl); return; }
    keysTruncated = !!k.truncated;
    (k.metrics || []).forEach((x) => keys.metrics.add(x));
    (k.params || []).forEach((x) => keys.params.add(x));
    (k.tags || []).forEach((x) => keys.tags.add(x));
    buildColumns();
    paint();
  });

  return () => {
    closed = true;
    gen++;
    clearTimeout(refreshTimer);
    if (ctl) ctl.abort();
    if (raf) cancelAnimationFrame(raf);
    if (typeof chartCleanup === 'function') chartCleanup();
    cleanupFns.forEach((f) => f());
  };
}
