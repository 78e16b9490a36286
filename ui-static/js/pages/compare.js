// compare.js: #/compare-runs?runs=[...]&experiments=[...]: runs side by side
// (params, metrics, tags, with "differences only"), their metric histories
// overlaid in one chart (uPlot), a scatter of any two keys and a parallel
// coordinates plot (both drawn here as SVG).
import { api } from '../api.js';
import { h, clear, errorBox, emptyState } from '../dom.js';
import { fmtNumber, fmtTime, tagMap } from '../lib/format.js';

// Most runs one comparison loads (MLflow's get-history-bulk-interval takes up to 100).
const MAX_COMPARE_RUNS = 100;
// Points per run asked for a chart (the server samples longer histories).
const CHART_POINTS = 1000;
const COLORS = ['#1463b8', '#d9480f', '#2b8a3e', '#862e9c', '#c92a2a', '#0b7285', '#e67700', '#5c940d',
  '#364fc7', '#a61e4d'];
const SVG = 'http://www.w3.org/2000/svg';

export const colorOf = (i) => COLORS[i % COLORS.length];

function parseList(s) {
  if (!s) return [];
  try {
    const v = JSON.parse(s);
    return Array.isArray(v) ? v.map(String) : [String(v)];
  } catch {
    return s.split(',').map((x) => x.trim()).filter(Boolean);
  }
}

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function runName(r) {
  return r.info.run_name || tagMap(r.data.tags)['mlflow.runName'] || r.info.run_id.slice(0, 8);
}

function runHref(r) {
  return `#/experiments/${encodeURIComponent(r.info.experiment_id)}/runs/${encodeURIComponent(r.info.run_id)}`;
}

// Values of each run for each key of one kind: Map key -> array (per run) of value or undefined.
function keyTable(runs, listOf) {
  const m = new Map();
  runs.forEach((r, i) => {
    for (const { key, value } of listOf(r)) {
      if (!m.has(key)) m.set(key, new Array(runs.length).fill(undefined));
      m.get(key)[i] = value;
    }
  });
  return new Map([...m.entries()].sort((a, b) => a[0].localeCompare(b[0])));
}

function differs(values) {
  const s = new Set(values.map((v) => (v === undefined ? '\u0000' : String(v))));
  return s.size > 1;
}

function asNumber(v) {
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

function compareTable(title, testid, runs, table, { diffOnly, numeric }) {
  const rows = [...table.entries()].filter(([, vals]) => !diffOnly || differs(vals));
  return h('div', { class: 'cmp-section' },
    h('h3', {}, `${title} `, h('span', { class: 'muted' }, `(${rows.length}${diffOnly ? ` of ${table.size}` : ''})`)),
    rows.length
      ? h('div', { class: 'cmp-scroll' }, h('table', { class: 'table cmp-table', dataset: { testid } },
        h('thead', {}, h('tr', {}, h('th', {}, 'Key'), runs.map((r, i) =>
          h('th', { title: r.info.run_id }, h('span', { class: 'legend-swatch', style: { background: colorOf(i) } }), runName(r))))),
        h('tbody', {}, rows.map(([k, vals]) => h('tr', { class: differs(vals) ? 'cmp-diff' : null, dataset: { key: k } },
          h('td', { class: 'mono' }, k),
          vals.map((v) => h('td', { class: numeric ? 'num' : null }, v === undefined ? '' : numeric ? fmtNumber(v) : String(v))))))))
      : h('p', { class: 'muted' }, diffOnly && table.size ? 'All runs have the same values.' : 'None.'));
}

// ---- metric chart (uPlot) ----

async function drawMetricChart(box, runs, key, signal) {
  clear(box).appendChild(h('div', { class: 'muted' }, 'Loading…'));
  const res = await api('mlflow/metrics/get-history-bulk-interval', {
    query: { run_ids: runs.map((r) => r.info.run_id), metric_key: key, max_results: CHART_POINTS }, signal,
  });
  const byRun = new Map();
  for (const p of res.metrics || []) {
    if (!byRun.has(p.run_id)) byRun.set(p.run_id, []);
    byRun.get(p.run_id).push(p);
  }
  const { default: uPlot } = await import('../lib/uplot.js');
  const tables = [];
  const series = [{ label: 'step' }];
  runs.forEach((r, i) => {
    const pts = (byRun.get(r.info.run_id) || []).slice().sort((a, b) => a.step - b.step);
    if (!pts.length) return;
    tables.push([pts.map((p) => Number(p.step)), pts.map((p) => asNumber(p.value))]);
    series.push({ label: runName(r), stroke: colorOf(i), width: 1.5, spanGaps: true, points: { show: pts.length < 50 } });
  });
  clear(box);
  if (!tables.length) {
    box.appendChild(h('p', { class: 'muted' }, `No run has a history of ${key}.`));
    return null;
  }
  const data = uPlot.join(tables);
  const width = Math.max(320, box.clientWidth || 800);
  return new uPlot({ width, height: 320, series, axes: [{ label: 'step' }, { label: key }], scales: { x: { time: false } },
    legend: { live: true } }, data, box);
}

// ---- scatter and parallel coordinates (SVG) ----

function keyOptions(params, metrics) {
  return [...[...metrics.keys()].map((k) => ({ id: `metrics.${k}`, label: `metric: ${k}` })),
    ...[...params.keys()].map((k) => ({ id: `params.${k}`, label: `param: ${k}` }))];
}

function valuesFor(id, params, metrics) {
  const [kind, ...rest] = id.split('.');
  const key = rest.join('.');
  return (kind === 'metrics' ? metrics : params).get(key) || [];
}

// A scale for an axis: numbers when every present value is one, else categories.
function axisScale(vals, lo0, hi0) {
  const inset = (hi0 - lo0) * 0.03; // keep the extreme points off the frame
  const lo = lo0 + inset, hi = hi0 - inset;
  const present = vals.filter((v) => v !== undefined);
  const nums = present.map(asNumber);
  if (present.length && nums.every((n) => n !== null)) {
    let min = Math.min(...nums);
    let max = Math.max(...nums);
    if (min === max) { min -= 1; max += 1; }
    return { numeric: true, min, max, pos: (v) => (asNumber(v) === null ? null : lo + ((asNumber(v) - min) / (max - min)) * (hi - lo)) };
  }
  const cats = [...new Set(present.map(String))].sort();
  const step = cats.length > 1 ? (hi - lo) / (cats.length - 1) : 0;
  return { numeric: false, cats, pos: (v) => (v === undefined ? null : cats.length > 1 ? lo + cats.indexOf(String(v)) * step : (lo + hi) / 2) };
}

function scatterPlot(runs, xs, ys, xLabel, yLabel) {
  const W = 560, H = 360, L = 64, R = 16, T = 16, B = 44;
  const sx = axisScale(xs, L, W - R);
  const sy = axisScale(ys, H - B, T);
  const el = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'cmp-svg', 'data-testid': 'scatter' });
  el.appendChild(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }));
  el.appendChild(svg('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }));
  const ticks = (s, horizontal) => {
    const vals = s.numeric ? [s.min, (s.min + s.max) / 2, s.max] : s.cats;
    for (const v of vals) {
      const p = s.pos(v);
      el.appendChild(horizontal
        ? svg('text', { x: p, y: H - B + 14, 'text-anchor': 'middle', class: 'tick' }, s.numeric ? fmtNumber(v) : v)
        : svg('text', { x: L - 4, y: p + 4, 'text-anchor': 'end', class: 'tick' }, s.numeric ? fmtNumber(v) : v));
    }
  };
  ticks(sx, true);
  ticks(sy, false);
  el.appendChild(svg('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis-label' }, xLabel));
  el.appendChild(svg('text', { x: 12, y: (T + H - B) / 2, 'text-anchor': 'middle', class: 'axis-label', transform: `rotate(-90 12 ${(T + H - B) / 2})` }, yLabel));
  let n = 0;
  runs.forEach((r, i) => {
    const x = sx.pos(xs[i]);
    const y = sy.pos(ys[i]);
    if (x === null || y === null) return;
    n++;
    el.appendChild(svg('circle', { cx: x, cy: y, r: 5, fill: colorOf(i), class: 'pt' },
      svg('title', {}, `${runName(r)}\n${xLabel}: ${xs[i]}\n${yLabel}: ${ys[i]}`)));
  });
  return { el, n };
}

function parallelPlot(runs, axes) {
  const W = Math.max(480, axes.length * 140), H = 340, T = 36, B = 28, L = 60, R = 60;
  const el = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'cmp-svg', 'data-testid': 'parallel' });
  const gap = axes.length > 1 ? (W - L - R) / (axes.length - 1) : 0;
  const scales = axes.map((a) => axisScale(a.vals, H - B, T));
  runs.forEach((r, i) => {
    const pts = [];
    axes.forEach((a, j) => {
      const y = scales[j].pos(a.vals[i]);
      if (y !== null) pts.push(`${L + j * gap},${y}`);
    });
    if (pts.length > 1) {
      el.appendChild(svg('polyline', { points: pts.join(' '), fill: 'none', stroke: colorOf(i), 'stroke-width': 2, class: 'pc-line' },
        svg('title', {}, runName(r))));
    }
  });
  axes.forEach((a, j) => {
    const x = L + j * gap;
    const s = scales[j];
    el.appendChild(svg('line', { x1: x, y1: T, x2: x, y2: H - B, class: 'axis' }));
    el.appendChild(svg('text', { x, y: T - 14, 'text-anchor': 'middle', class: 'axis-label' }, a.label.length > 22 ? `${a.label.slice(0, 21)}…` : a.label,
      svg('title', {}, a.label)));
    const vals = s.numeric ? [s.min, s.max] : s.cats;
    for (const v of vals) {
      el.appendChild(svg('text', { x: x + 4, y: s.pos(v) + 4, class: 'tick' }, s.numeric ? fmtNumber(v) : v));
    }
  });
  return el;
}

function select(options, value, onChange, testid) {
  const el = h('select', { dataset: { testid }, onChange: () => onChange(el.value) },
    options.map((o) => h('option', { value: o.id, selected: o.id === value }, o.label)));
  return el;
}

export default async function render(root, route) {
  const ids = [...new Set(parseList(route.query.get('runs')))].slice(0, MAX_COMPARE_RUNS);
  const page = h('div', { class: 'page page-wide', dataset: { testid: 'compare-page' } });
  root.appendChild(page);
  page.appendChild(h('h1', {}, `Comparing ${ids.length} run${ids.length === 1 ? '' : 's'}`));
  if (!ids.length) {
    page.appendChild(emptyState('No runs to compare', h('p', {}, 'Select two or more runs in an experiment and press Compare.')));
    return null;
  }
  const ctl = new AbortController();
  const status = h('div', { class: 'muted' }, 'Loading…');
  page.appendChild(status);
  const results = await Promise.allSettled(ids.map((id) => api('mlflow/runs/get', { query: { run_id: id }, signal: ctl.signal })));
  status.remove();
  const runs = [];
  const missing = [];
  results.forEach((r, i) => (r.status === 'fulfilled' ? runs.push(r.value.run) : missing.push([ids[i], r.reason])));
  for (const [id, err] of missing) page.appendChild(errorBox(new Error(`Run ${id}: ${err.message}`)));
  if (!runs.length) return null;

  const exps = [...new Set(runs.map((r) => r.info.experiment_id))];
  page.appendChild(h('div', { class: 'breadcrumb' }, 'Experiment', exps.length > 1 ? 's ' : ' ',
    exps.map((e, i) => [i ? ', ' : '', h('a', { href: `#/experiments/${encodeURIComponent(e)}` }, e)])));

  const params = keyTable(runs, (r) => r.data.params || []);
  const metrics = keyTable(runs, (r) => r.data.metrics || []);
  const tags = keyTable(runs, (r) => (r.data.tags || []).filter((t) => !t.key.startsWith('mlflow.')));

  // run header
  page.appendChild(h('div', { class: 'cmp-scroll' }, h('table', { class: 'table cmp-table', dataset: { testid: 'compare-runs' } },
    h('thead', {}, h('tr', {}, h('th', {}, 'Run'), runs.map((r, i) => h('th', {},
      h('span', { class: 'legend-swatch', style: { background: colorOf(i) } }),
      h('a', { href: runHref(r), dataset: { testid: 'compare-run-link' } }, runName(r)))))),
    h('tbody', {},
      h('tr', {}, h('td', {}, 'Run ID'), runs.map((r) => h('td', { class: 'mono' }, r.info.run_id))),
      h('tr', {}, h('td', {}, 'Start time'), runs.map((r) => h('td', {}, fmtTime(r.info.start_time)))),
      h('tr', {}, h('td', {}, 'Status'), runs.map((r) => h('td', {}, h('span', { class: `status status-${r.info.status}` }, r.info.status))))))));

  const diffOnly = route.query.get('diff') === '1';
  const diffBox = h('input', { type: 'checkbox', checked: diffOnly, dataset: { testid: 'diff-only' } });
  const tablesEl = h('div', {});
  const drawTables = () => {
    const o = { diffOnly: diffBox.checked };
    clear(tablesEl).append(
      compareTable('Parameters', 'compare-params', runs, params, o),
      compareTable('Metrics', 'compare-metrics', runs, metrics, { ...o, numeric: true }),
      compareTable('Tags', 'compare-tags', runs, tags, o));
  };
  diffBox.addEventListener('change', drawTables);
  page.appendChild(h('div', { class: 'toolbar' }, h('label', {}, diffBox, ' Show differences only')));
  page.appendChild(tablesEl);
  drawTables();

  // metric chart
  const metricKeys = [...metrics.keys()];
  const chartBox = h('div', { class: 'cmp-chart', dataset: { testid: 'compare-chart' } });
  let plot = null;
  const drawChart = async (key) => {
    if (plot) { plot.destroy(); plot = null; }
    try {
      plot = await drawMetricChart(chartBox, runs, key, ctl.signal);
    } catch (e) {
      if (e.name !== 'AbortError') clear(chartBox).appendChild(errorBox(e));
    }
  };
  page.appendChild(h('h3', {}, 'Metric history'));
  if (metricKeys.length) {
    page.appendChild(h('div', { class: 'toolbar' }, h('label', {}, 'Metric ',
      select(metricKeys.map((k) => ({ id: k, label: k })), metricKeys[0], drawChart, 'chart-metric'))));
    page.appendChild(chartBox);
    drawChart(metricKeys[0]);
  } else page.appendChild(h('p', { class: 'muted' }, 'These runs have no metrics.'));

  // scatter
  const opts = keyOptions(params, metrics);
  if (opts.length) {
    let xId = opts[0].id;
    let yId = (opts[1] || opts[0]).id;
    const scatterBox = h('div', {});
    const drawScatter = () => {
      const { el, n } = scatterPlot(runs, valuesFor(xId, params, metrics), valuesFor(yId, params, metrics),
        opts.find((o) => o.id === xId).label, opts.find((o) => o.id === yId).label);
      clear(scatterBox).appendChild(el);
      if (!n) scatterBox.appendChild(h('p', { class: 'muted' }, 'No run has both values.'));
    };
    page.appendChild(h('h3', {}, 'Scatter'));
    page.appendChild(h('div', { class: 'toolbar' },
      h('label', {}, 'X ', select(opts, xId, (v) => { xId = v; drawScatter(); }, 'scatter-x')),
      h('label', {}, 'Y ', select(opts, yId, (v) => { yId = v; drawScatter(); }, 'scatter-y'))));
    page.appendChild(scatterBox);
    drawScatter();

    // parallel coordinates: the params that differ, then the metrics
    const defaults = [...[...params.entries()].filter(([, v]) => differs(v)).map(([k]) => `params.${k}`),
      ...metricKeys.map((k) => `metrics.${k}`)].slice(0, 8);
    const chosen = new Set(defaults.length ? defaults : opts.slice(0, 4).map((o) => o.id));
    const pcBox = h('div', { class: 'cmp-scroll' });
    const drawPc = () => {
      const axes = [...chosen].map((id) => opts.find((o) => o.id === id)).filter(Boolean)
        .map((o) => ({ label: o.label.replace(/^(metric|param): /, ''), vals: valuesFor(o.id, params, metrics) }));
      clear(pcBox).appendChild(axes.length >= 2 ? parallelPlot(runs, axes) : h('p', { class: 'muted' }, 'Choose two or more axes.'));
    };
    const chooser = h('details', { class: 'pc-chooser' }, h('summary', {}, 'Axes'),
      opts.map((o) => h('label', { class: 'pc-axis' }, h('input', {
        type: 'checkbox', checked: chosen.has(o.id),
        onChange: (e) => { if (e.target.checked) chosen.add(o.id); else chosen.delete(o.id); drawPc(); },
      }), ' ', o.label)));
    page.appendChild(h('h3', {}, 'Parallel coordinates'));
    page.appendChild(chooser);
    page.appendChild(pcBox);
    drawPc();
  }

  return () => { ctl.abort(); if (plot) plot.destroy(); };
}
