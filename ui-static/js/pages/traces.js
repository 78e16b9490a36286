// traces.js: the Traces tab of an experiment (a searchable table of its traces:
// status, latency, request and response previews, tags) and the trace view
// (#/experiments/<id>/traces/<trace_id>: the span tree as a waterfall, each
// span's inputs, outputs, attributes and events, and the trace's assessments).
// Spans come from /traces/get when the server keeps them in its tracking store,
// else from the trace's traces.json artifact (the client's fallback).
import { h, clear, errorBox, emptyState } from '../dom.js';
import { api } from '../api.js';
import { setQuery, parseHash } from '../app.js';
import { fmtTime, fmtDuration } from '../lib/format.js';

const PAGE = 100;
const V3 = '../3.0/'; // api() paths are relative to /ajax-api/2.0/
const seg = encodeURIComponent;

function stateClass(state) {
  return state === 'OK' ? 'status-FINISHED' : state === 'ERROR' ? 'status-FAILED' : 'status-RUNNING';
}

function durationOf(info) {
  const d = info.execution_duration;
  if (!d) return null;
  const s = parseFloat(d);
  return Number.isFinite(s) ? Math.round(s * 1000) : null;
}

function preview(text, max = 120) {
  if (!text) return '';
  return text.length > max ? text.slice(0, max) + '…' : text;
}

// ---- the list ----

export default async function render(root, route) {
  if (route.params.traceId) return renderTrace(root, route.params.experimentId, route.params.traceId);
  return renderList(root, route.params.experimentId, route.query);
}

export async function renderList(root, eid, query = parseHash().query) {
  const state = { filter: query.get('traceFilter') || '', order: query.get('traceOrder') || 'timestamp_ms DESC' };
  const filter = h('input', { type: 'search', value: state.filter, placeholder: "status = 'ERROR' and tags.env = 'prod'",
    style: { flex: '1', minWidth: '320px' }, dataset: { testid: 'trace-filter' }, spellcheck: 'false' });
  const message = h('div', { class: 'filter-error', dataset: { testid: 'traces-message' } });
  const body = h('tbody', {});
  const more = h('button', { class: 'btn', style: { display: 'none' }, dataset: { testid: 'traces-more' } }, 'Load more');
  const count = h('div', { class: 'muted', dataset: { testid: 'traces-status' } });
  const headCell = (label, key) => {
    if (!key) return h('th', {}, label);
    const [cur, dir] = state.order.split(' ');
    const mark = cur === key ? (dir === 'ASC' ? ' ▲' : ' ▼') : '';
    return h('th', { class: 'sortable', onClick: () => {
      state.order = `${key} ${cur === key && dir === 'DESC' ? 'ASC' : 'DESC'}`;
      setQuery({ traceOrder: state.order });
      reload();
    } }, label + mark);
  };
  const head = h('thead', {});
  const table = h('table', { class: 'table', dataset: { testid: 'traces-table' } }, head, body);
  root.append(h('div', { class: 'toolbar' }, filter), message, table, more, count);

  let token = null;
  let shown = 0;
  let gen = 0;
  function paintHead() {
    clear(head).appendChild(h('tr', {}, headCell('Trace'), headCell('Name', 'name'), headCell('Status', 'status'),
      headCell('Request time', 'timestamp_ms'), headCell('Latency', 'execution_time_ms'), headCell('Request'),
      headCell('Response'), headCell('Tags'), headCell('Run')));
  }
  async function load(first) {
    const my = ++gen;
    let resp;
    try {
      resp = await api(V3 + 'mlflow/traces/search', { method: 'POST', body: {
        locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: String(eid) } }],
        filter: state.filter || undefined, order_by: [state.order], max_results: PAGE, page_token: first ? undefined : token } });
    } catch (e) {
      if (my !== gen) return;
      clear(message).appendChild(errorBox(e));
      return;
    }
    if (my !== gen) return;
    clear(message);
    const traces = resp.traces || [];
    token = resp.next_page_token || null;
    for (const t of traces) body.appendChild(traceRow(eid, t));
    shown += traces.length;
    more.style.display = token ? '' : 'none';
    count.textContent = shown ? `${shown} trace${shown > 1 ? 's' : ''}${token ? ' (more on the server)' : ''}` : '';
    if (first && !shown) {
      body.appendChild(h('tr', {}, h('td', { colspan: 9 }, emptyState(state.filter ? 'No trace matches this filter.' : 'No traces in this experiment yet.',
        h('pre', { class: 'mono' }, 'import mlflow\n\n@mlflow.trace\ndef answer(q):\n    return q.upper()\n\nanswer("hi")')))));
    }
  }
  function reload() {
    clear(body);
    shown = 0;
    token = null;
    paintHead();
    load(true);
  }
  filter.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    state.filter = filter.value.trim();
    setQuery({ traceFilter: state.filter });
    reload();
  });
  more.addEventListener('click', () => load(false));
  reload();
  return () => { gen++; };
}

function traceRow(eid, t) {
  const tags = Object.entries(t.tags || {}).filter(([k]) => !k.startsWith('mlflow.'));
  const run = (t.trace_metadata || {})['mlflow.sourceRun'];
  const ms = durationOf(t);
  return h('tr', { dataset: { testid: 'trace-row' } },
    h('td', { class: 'mono', title: t.trace_id }, h('a', { href: `#/experiments/${seg(eid)}/traces/${seg(t.trace_id)}` }, t.trace_id.slice(0, 11) + '…')),
    h('td', { style: { maxWidth: '220px', overflowWrap: 'anywhere' } }, (t.tags || {})['mlflow.traceName'] || ''),
    h('td', {}, h('span', { class: 'status ' + stateClass(t.state) }, t.state)),
    h('td', {}, t.request_time ? fmtTime(Date.parse(t.request_time)) : ''),
    h('td', { class: 'num' }, ms === null ? '' : fmtDuration(ms)),
    h('td', { class: 'mono', title: t.request_preview || '' }, preview(t.request_preview)),
    h('td', { class: 'mono', title: t.response_preview || '' }, preview(t.response_preview)),
    h('td', { style: { maxWidth: '200px' } }, tags.map(([k, v]) => h('span', { class: 'tag-chip', title: `${k}=${v}` }, `${k}=${v}`))),
    h('td', { class: 'mono' }, run ? h('a', { href: `#/experiments/${seg(eid)}/runs/${seg(run)}` }, run.slice(0, 8)) : ''));
}

// ---- spans, from either form the server can give ----

// An OTLP JSON AnyValue as a plain value.
function anyValue(v) {
  if (!v || typeof v !== 'object') return null;
  if ('string_value' in v) return v.string_value;
  if ('bool_value' in v) return v.bool_value;
  if ('int_value' in v) return Number(v.int_value);
  if ('double_value' in v) return v.double_value;
  if ('array_value' in v) return (v.array_value.values || []).map(anyValue);
  if ('kvlist_value' in v) return Object.fromEntries((v.kvlist_value.values || []).map((kv) => [kv.key, anyValue(kv.value)]));
  return null;
}

function b64hex(s) {
  if (!s) return null;
  try {
    return [...atob(s)].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  } catch {
    return s;
  }
}

function parseJsonAttr(v) {
  if (typeof v !== 'string') return v;
  try { return JSON.parse(v); } catch { return v; }
}

// OTLP JSON span (from /traces/get) -> {id, parent, name, start, end, status, attrs, events}
function fromOtlp(s) {
  const attrs = Object.fromEntries((s.attributes || []).map((a) => [a.key, anyValue(a.value)]));
  return {
    id: b64hex(s.span_id), parent: b64hex(s.parent_span_id), name: s.name || '',
    start: Number(s.start_time_unix_nano || 0), end: Number(s.end_time_unix_nano || 0),
    status: (s.status && s.status.code) || 'STATUS_CODE_UNSET', message: (s.status && s.status.message) || '',
    attrs,
    events: (s.events || []).map((e) => ({ name: e.name, time: Number(e.time_unix_nano || 0),
      attrs: Object.fromEntries((e.attributes || []).map((a) => [a.key, anyValue(a.value)])) })),
  };
}

// MLflow's span dict (traces.json) -> the same shape
function fromDict(s) {
  const attrs = Object.fromEntries(Object.entries(s.attributes || {}).map(([k, v]) => [k, parseJsonAttr(v)]));
  return {
    id: b64hex(s.span_id), parent: b64hex(s.parent_span_id), name: s.name || '',
    start: Number(s.start_time_unix_nano || 0), end: Number(s.end_time_unix_nano || 0),
    status: (s.status && s.status.code) || 'STATUS_CODE_UNSET', message: (s.status && s.status.message) || '',
    attrs, events: (s.events || []).map((e) => ({ name: e.name, time: Number(e.time_unix_nano || 0), attrs: e.attributes || {} })),
  };
}

async function loadSpans(trace) {
  if (trace.spans && trace.spans.length) return trace.spans.map(fromOtlp);
  const loc = (trace.trace_info.tags || {})['mlflow.artifactLocation'] || '';
  const m = /^mlflow-artifacts:\/(.*)$/.exec(loc);
  if (!m) return [];
  const resp = await fetch(`ajax-api/2.0/mlflow-artifacts/artifacts/${m[1].replace(/^\/+/, '')}/traces.json`);
  if (!resp.ok) return [];
  const data = await resp.json();
  return (data.spans || []).map(fromDict);
}

// Nanoseconds as a duration ("<1ms" below a millisecond).
function spanDur(ns) {
  return ns > 0 && ns < 1e6 ? '<1ms' : fmtDuration(ns / 1e6);
}

function show(v) {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}

// ---- the trace view ----

export async function renderTrace(root, eid, traceId) {
  const page = h('div', { class: 'page', dataset: { testid: 'trace-view' } });
  root.appendChild(page);
  let trace;
  let spans;
  try {
    trace = (await api(V3 + 'mlflow/traces/get', { query: { trace_id: traceId } })).trace;
    spans = await loadSpans(trace);
  } catch (e) {
    page.appendChild(errorBox(e));
    return;
  }
  const info = trace.trace_info;
  const tags = info.tags || {};
  const ms = durationOf(info);
  page.append(
    h('div', { class: 'crumbs' }, h('a', { href: `#/experiments/${seg(eid)}/traces` }, '← Traces')),
    h('h2', { dataset: { testid: 'trace-name' } }, tags['mlflow.traceName'] || info.trace_id),
    h('div', { class: 'meta' },
      h('span', { class: 'status ' + stateClass(info.state) }, info.state), ' ',
      h('span', { class: 'mono' }, info.trace_id), ' · ',
      info.request_time ? fmtTime(Date.parse(info.request_time)) : '', ms === null ? '' : ` · ${fmtDuration(ms)}`));

  const byId = new Map(spans.map((s) => [s.id, s]));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parent && byId.has(s.parent)) {
      if (!children.has(s.parent)) children.set(s.parent, []);
      children.get(s.parent).push(s);
    } else {
      roots.push(s);
    }
  }
  const t0 = Math.min(...spans.map((s) => s.start));
  const t1 = Math.max(...spans.map((s) => s.end || s.start));
  const total = Math.max(1, t1 - t0);
  const detail = h('div', { class: 'span-detail', dataset: { testid: 'span-detail' } });
  const tree = h('div', { class: 'waterfall', dataset: { testid: 'waterfall' } });
  let selectedRow = null;

  function select(s, row) {
    if (selectedRow) selectedRow.classList.remove('selected');
    selectedRow = row;
    row.classList.add('selected');
    const a = s.attrs;
    const rest = Object.entries(a).filter(([k]) => !['mlflow.spanInputs', 'mlflow.spanOutputs'].includes(k));
    clear(detail).append(
      h('h3', {}, s.name, ' ', h('span', { class: 'tag-chip' }, a['mlflow.spanType'] || 'UNKNOWN')),
      h('div', { class: 'muted' }, `${spanDur(s.end - s.start)} · ${s.status.replace('STATUS_CODE_', '')}${s.message ? ' · ' + s.message : ''}`),
      h('h4', {}, 'Inputs'), h('pre', { class: 'mono', dataset: { testid: 'span-inputs' } }, show(a['mlflow.spanInputs'])),
      h('h4', {}, 'Outputs'), h('pre', { class: 'mono', dataset: { testid: 'span-outputs' } }, show(a['mlflow.spanOutputs'])),
      h('h4', {}, 'Attributes'),
      h('table', { class: 'table' }, h('tbody', {}, rest.map(([k, v]) => h('tr', {}, h('td', { class: 'mono' }, k), h('td', { class: 'mono' }, show(v)))))),
      s.events.length ? h('h4', {}, 'Events') : null,
      ...s.events.map((e) => h('div', { class: 'span-event', dataset: { testid: 'span-event' } },
        h('b', {}, e.name), ' ', h('span', { class: 'muted' }, `+${spanDur(e.time - s.start)}`),
        Object.keys(e.attrs).length ? h('pre', { class: 'mono' }, show(e.attrs)) : null)));
  }

  function addRow(s, depth) {
    const left = ((s.start - t0) / total) * 100;
    const width = Math.max(0.3, (((s.end || s.start) - s.start) / total) * 100);
    const row = h('div', { class: 'wf-row', dataset: { testid: 'span-row' }, tabindex: 0 },
      h('div', { class: 'wf-name', style: { paddingLeft: `${8 + depth * 16}px` } },
        h('span', { class: 'wf-type' }, s.attrs['mlflow.spanType'] || ''), ' ', s.name),
      h('div', { class: 'wf-track' },
        h('div', { class: 'wf-bar' + (s.status === 'STATUS_CODE_ERROR' ? ' wf-error' : ''), style: { left: left + '%', width: width + '%' } }),
        h('span', { class: 'wf-dur' }, spanDur(s.end - s.start))));
    row.addEventListener('click', () => select(s, row));
    row.addEventListener('keydown', (e) => { if (e.key === 'Enter') select(s, row); });
    tree.appendChild(row);
    for (const c of (children.get(s.id) || []).sort((x, y) => x.start - y.start)) addRow(c, depth + 1);
    return row;
  }
  if (!spans.length) {
    tree.appendChild(emptyState('This trace has no spans stored.'));
  } else {
    const firstRow = roots.sort((x, y) => x.start - y.start).map((r) => addRow(r, 0))[0];
    select(roots[0], firstRow);
  }
  page.appendChild(h('div', { class: 'trace-layout' }, tree, detail));

  const assessments = info.assessments || [];
  page.append(h('h3', {}, 'Assessments'));
  if (!assessments.length) {
    page.appendChild(h('div', { class: 'muted' }, 'No assessments. mlflow.log_feedback(trace_id=..., name=..., value=...) adds one.'));
  } else {
    page.appendChild(h('table', { class: 'table', dataset: { testid: 'assessments' } },
      h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Value', 'Source', 'Rationale', 'Valid'].map((c) => h('th', {}, c)))),
      h('tbody', {}, assessments.map((a) => {
        const kind = a.feedback ? 'feedback' : 'expectation';
        const body = a.feedback || a.expectation || {};
        const value = 'value' in body ? body.value : body.serialized_value ? parseJsonAttr(body.serialized_value.value) : null;
        return h('tr', { dataset: { testid: 'assessment-row' } }, h('td', {}, a.assessment_name), h('td', {}, kind),
          h('td', { class: 'mono' }, show(value)), h('td', {}, `${(a.source || {}).source_type || ''} ${(a.source || {}).source_id || ''}`),
          h('td', {}, a.rationale || ''), h('td', {}, a.valid === false ? 'overridden' : 'yes'));
      }))));
  }
  const userTags = Object.entries(tags).filter(([k]) => !k.startsWith('mlflow.'));
  page.append(h('h3', {}, 'Tags'), userTags.length
    ? h('div', {}, userTags.map(([k, v]) => h('span', { class: 'tag-chip' }, `${k}=${v}`)))
    : h('div', { class: 'muted' }, 'No tags.'));
}
