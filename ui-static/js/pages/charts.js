// pages/charts.js: metric history charts of one or many runs (uPlot): one card
// per metric, drawn when it scrolls into view from sampled histories (mlflowd's
// get-history-bulk-minmax: the min/max-keeping sample, with a cheap preview
// drawn if it comes first; else MLflow's get-history-bulk-interval; never the
// full series),
// x axis step / wall time /
// relative time, log scale, EMA smoothing, and zoom that re-fetches the zoomed
// step range at full detail. Used by the run page, the experiment's chart tab
// and the metric page.
import { api, isMissingEndpoint } from '../api.js';
import { h, clear, errorBox } from '../dom.js';
import { fmtNumber, fmtTime } from '../lib/format.js';

const MAX_RUNS_PER_REQUEST = 100;   // the server's cap on run_ids per request
const MAX_POINTS_PER_RUN = 2500;    // the server's cap on max_results
const POINT_BUDGET = 40000;         // sampled points per chart over all runs (overview)
const ZOOM_DEBOUNCE_MS = 150;
const HAIRLINE_POINTS = 2000;       // above this many points a chart's lines are 1 pixel wide
const LIVE_MS = 5000;               // refresh of charts of a RUNNING run
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function runColor(i) {
  if (i < PALETTE.length) return PALETTE[i];
  return `hsl(${(i * 137.508) % 360}, 60%, 45%)`;
}

let uplotP = null;
function loadUplot() {
  if (!uplotP) uplotP = import('../lib/uplot.js').then((m) => m.default);
  return uplotP;
}

// mlflowd's min/max-keeping sampler (up to 4 points per bucket); servers
// without it answer 404 ENDPOINT_NOT_FOUND and their charts keep MLflow's
// first-point-per-bucket samples.
let minmax = true;

// One sampled read of runIds, in requests of at most 100 runs: Map runId -> points.
async function fetchChunks(path, runIds, key, maxResults, range, signal, extra = null) {
  const out = new Map(runIds.map((id) => [id, []]));
  const chunks = [];
  for (let i = 0; i < runIds.length; i += MAX_RUNS_PER_REQUEST) chunks.push(runIds.slice(i, i + MAX_RUNS_PER_REQUEST));
  await Promise.all(chunks.map(async (ids) => {
    const query = { run_ids: ids, metric_key: key, max_results: Math.max(1, Math.min(MAX_POINTS_PER_RUN, Math.round(maxResults))), ...extra };
    if (range) { query.start_step = Math.floor(range[0]); query.end_step = Math.ceil(range[1]); }
    const r = await api(path, { query, signal });
    for (const m of r.metrics || []) {
      const list = out.get(m.run_id);
      if (list) list.push(m);
    }
  }));
  return out;
}

const BULK = 'mlflow/metrics/get-history-bulk-interval';
const MINMAX = 'mlflowd/metrics/get-history-bulk-minmax';

// Sampled history of key for runs: Map runId -> [{step, timestamp, value}] in
// step order, about maxResults points per run. From mlflowd, two reads of
// the same buckets (maxResults / 4 per run) asked for at once: the min/max
// sample (each bucket's first, last, lowest and highest point, so every
// spike is kept), the result, and a preview (sample=first: each bucket's
// first point, one index seek each), given to onFirst(series) to draw only
// if it comes first. The server reads the min/max sample from per-block
// summaries of the series (32 steps a row), so it usually comes first and
// the preview is dropped; a series older than the summaries is summarized
// by its first min/max read, which then reads every point, and there the
// preview draws the chart meanwhile. A server without the min/max sampler
// (404) gets MLflow's get-history-bulk-interval (first point of each of
// maxResults buckets).
export async function fetchSampled(runIds, key, maxResults, range = null, signal, onFirst = null) {
  const n = Math.max(1, Math.min(MAX_POINTS_PER_RUN, Math.round(maxResults)));
  if (!minmax) return fetchChunks(BULK, runIds, key, n, range, signal);
  const previewCtl = new AbortController();
  const stopPreview = () => previewCtl.abort();
  signal?.addEventListener('abort', stopPreview, { once: true });
  let settled = false;
  const mmP = fetchChunks(MINMAX, runIds, key, n / 4, range, signal).catch((e) => {
    if (!isMissingEndpoint(e)) throw e;
    minmax = false;
    return null;
  }).finally(() => { settled = true; stopPreview(); signal?.removeEventListener('abort', stopPreview); });
  if (onFirst) {
    // the preview is only a first frame: any failure of it leaves the min/max read to answer
    fetchChunks(MINMAX, runIds, key, n / 4, range, previewCtl.signal, { sample: 'first' })
      .then((preview) => { if (!settled && !signal?.aborted) onFirst(preview); }, () => {});
  }
  const mm = await mmP;
  return mm || fetchChunks(BULK, runIds, key, n, range, signal);
}

function toNum(v) {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return Number(v);
}

// Exponential moving average with TensorBoard's debiasing; weight in [0, 1).
export function ema(values, weight) {
  if (!weight) return values;
  const out = new Array(values.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !isFinite(v)) { out[i] = v; continue; }
    last = last * weight + (1 - weight) * v;
    n++;
    out[i] = last / (1 - Math.pow(weight, n));
  }
  return out;
}

// uPlot's aligned data from per-run series: [xs, ys(run0), ys(run1), ...].
// t0s: each run's first timestamp (relative time), else taken from series.
export function alignSeries(runIds, series, xAxis, smoothing, logY, t0s = null) {
  const perRun = runIds.map((id) => {
    const pts = series.get(id) || [];
    let t0 = t0s && t0s.has(id) ? t0s.get(id) : Infinity;
    if (xAxis === 'relative' && t0 === Infinity) for (const p of pts) t0 = Math.min(t0, p.timestamp);
    const xs = new Float64Array(pts.length);
    const ys = new Array(pts.length);
    pts.forEach((p, i) => {
      xs[i] = xAxis === 'step' ? p.step : xAxis === 'wall' ? p.timestamp / 1000 : (p.timestamp - t0) / 1000;
      ys[i] = toNum(p.value);
    });
    // order by x (wall/relative time may differ from step order)
    if (xAxis !== 'step') {
      const idx = [...xs.keys()].sort((a, b) => xs[a] - xs[b]);
      return { xs: Float64Array.from(idx, (i) => xs[i]), ys: idx.map((i) => ys[i]) };
    }
    return { xs, ys };
  });
  const all = new Set();
  for (const r of perRun) for (const x of r.xs) all.add(x);
  const xs = Float64Array.from(all).sort();
  const pos = new Map();
  xs.forEach((x, i) => pos.set(x, i));
  const data = [xs];
  for (const r of perRun) {
    const sm = ema(r.ys, smoothing);
    const col = new Array(xs.length).fill(null);
    for (let i = 0; i < r.xs.length; i++) {
      let v = sm[i];
      if (!isFinite(v) || (logY && v <= 0)) v = null;
      col[pos.get(r.xs[i])] = v;
    }
    data.push(col);
  }
  return data;
}

// The charts of runs ([{id, name}]) for metricKeys, with a shared control bar.
// opts: {xAxis, logY, smoothing, onOptions(opts), live: () => bool}. Returns cleanup.
export function renderRunsCharts(root, { runs, metricKeys, namesP = null, experimentId = null, live = null, xAxis = 'step', logY = false, smoothing = 0, onOptions = null, single = false }) {
  const opts = { xAxis, logY, smoothing };
  const cards = [];
  let closed = false;
  let liveTimer = null;

  const xSel = h('select', { dataset: { testid: 'x-axis' } }, h('option', { value: 'step' }, 'Step'), h('option', { value: 'wall' }, 'Wall time'), h('option', { value: 'relative' }, 'Relative time'));
  xSel.value = opts.xAxis;
  const logBox = h('input', { type: 'checkbox', checked: opts.logY, dataset: { testid: 'log-scale' } });
  const smooth = h('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: opts.smoothing, dataset: { testid: 'smoothing' } });
  const smoothVal = h('span', { class: 'mono' }, String(opts.smoothing));
  let pending = 0;
  const changed = (refetch) => {
    opts.xAxis = xSel.value; opts.logY = logBox.checked; opts.smoothing = Number(smooth.value);
    smoothVal.textContent = opts.smoothing.toFixed(2);
    if (onOptions) onOptions({ ...opts });
    if (refetch) { for (const c of cards) c.update(true); return; }
    // redraws (smoothing slider, log scale): at most one per frame
    if (pending) return;
    pending = requestAnimationFrame(() => { pending = 0; for (const c of cards) c.update(false); });
  };
  xSel.addEventListener('change', () => changed(true));
  logBox.addEventListener('change', () => changed(false));
  smooth.addEventListener('input', () => changed(false));

  const chips = runs.map((r, i) => h('span', { class: 'tag-chip', title: r.id },
    h('span', { class: 'legend-swatch', style: { background: runColor(i) } }), h('span', {}, r.name)));
  const legend = h('div', { class: 'chart-legend' }, runs.length > 1 ? chips : null);
  // names that arrive later (namesP: Promise of Map id -> name)
  if (namesP) namesP.then((names) => runs.forEach((r, i) => { if (names.has(r.id)) { r.name = names.get(r.id); chips[i].lastChild.textContent = r.name; } }));
  root.append(
    h('div', { class: 'chart-controls' },
      h('label', {}, 'X axis ', xSel),
      h('label', {}, logBox, ' Log scale'),
      h('label', {}, 'Smoothing ', smooth, smoothVal),
      h('span', { class: 'muted' }, 'Drag to zoom (re-fetches the range at full detail), double-click to reset.')),
    legend);
  if (!metricKeys.length) { root.appendChild(h('div', { class: 'empty' }, 'No metrics')); return () => {}; }
  const grid = h('div', { class: single ? '' : 'charts' });
  root.appendChild(grid);

  const io = new IntersectionObserver((entries) => {
    for (const e of entries) if (e.isIntersecting) { const c = cards.find((x) => x.el === e.target); if (c) { io.unobserve(c.el); c.start(); } }
  }, { rootMargin: '200px' });

  loadUplot().catch(() => {}); // in parallel with the first data requests
  for (const key of metricKeys) {
    const card = makeCard(key);
    cards.push(card);
    grid.appendChild(card.el);
  }
  // cards already in view start now, the others when scrolled near
  for (const card of cards) {
    if (root.isConnected && card.el.getBoundingClientRect().top < window.innerHeight + 200) card.start();
    else io.observe(card.el);
  }

  function makeCard(key) {
    // the card's metric page, with the current axis options (kept fresh for the link's use)
    const metricHref = () => `#/metric/${encodeURIComponent(key)}?runs=${encodeURIComponent(JSON.stringify(runs.map((r) => r.id)))}` +
      (experimentId ? `&experiments=${encodeURIComponent(JSON.stringify([experimentId]))}` : '') +
      `&x_axis=${opts.xAxis}&y_axis_scale=${opts.logY ? 'log' : 'linear'}&line_smoothness=${Math.round(opts.smoothing * 100)}`;
    const link = single ? null : h('a', { href: metricHref(), dataset: { testid: 'chart-metric-link' } }, key);
    if (link) for (const ev of ['mouseenter', 'focus', 'pointerdown']) link.addEventListener(ev, () => { link.href = metricHref(); });
    const title = h('span', { class: 'grow', title: key }, link || key);
    const info = h('span', { class: 'muted', style: { fontWeight: 'normal', fontSize: '12px' } });
    const resetBtn = h('button', { class: 'btn btn-small', style: { display: 'none' } }, 'Reset zoom');
    const plotBox = h('div', { class: 'chart-plot' });
    const hover = h('div', { class: 'chart-hover muted mono' }, '\u00a0');
    const el = h('div', { class: 'chart-card', dataset: { testid: 'chart-card', metric: key } },
      h('h4', {}, title, info, resetBtn), plotBox, hover);
    if (single) el.style.minHeight = '480px';
    const ids = runs.map((r) => r.id);
    let overview = null;   // sampled full-range series
    let zoomed = null;     // {range: step range, xRange: time range (time axes), series}
    const t0s = new Map(); // each run's first timestamp, from the overview (relative time)
    let plot = null;
    let ctl = null;
    let zoomTimer = null;
    let settingData = false;
    let started = false;

    const width = () => Math.max(300, plotBox.clientWidth || 480);
    const height = () => (single ? 420 : 240);
    const perRun = () => Math.max(50, Math.min(MAX_POINTS_PER_RUN, Math.round(width()), Math.floor(POINT_BUDGET / ids.length)));

    async function load(range, xRange = null) {
      if (ctl) ctl.abort();
      ctl = new AbortController();
      info.textContent = 'loading…';
      const t0 = performance.now();
      try {
        const my = ctl;
        const series = await fetchSampled(ids, key, range ? Math.min(MAX_POINTS_PER_RUN, Math.round(width() * 2)) : perRun(), range, ctl.signal,
          (first) => {
            if (closed || my !== ctl) return;
            info.textContent = 'refining…';
            if (range) zoomed = { range, xRange, series: first }; else setOverview(first);
            draw();
          });
        if (closed) return;
        let n = 0;
        for (const s of series.values()) n += s.length;
        if (range) zoomed = { range, xRange, series }; else setOverview(series);
        // the count and time are shown once the chart holds this sample
        await draw();
        if (closed || my !== ctl) return;
        info.textContent = `${n} points${range ? ' (zoomed)' : ''} · ${Math.round(performance.now() - t0)} ms`;
      } catch (e) {
        if (e.name === 'AbortError') return;
        clear(plotBox).appendChild(errorBox(e));
        plot = null;
        info.textContent = '';
      }
    }

    function setOverview(series) {
      overview = series;
      zoomed = null;
      for (const [id, pts] of series) {
        let t0 = Infinity;
        for (const p of pts) t0 = Math.min(t0, p.timestamp);
        if (t0 !== Infinity) t0s.set(id, t0);
      }
    }
    const xOf = (p, t0) => (opts.xAxis === 'step' ? p.step : opts.xAxis === 'wall' ? p.timestamp / 1000 : (p.timestamp - t0) / 1000);

    let drawSeq = 0;
    async function draw() {
      const seq = ++drawSeq;
      const uPlot = await loadUplot();
      if (closed || seq !== drawSeq) return; // a later draw supersedes this one
      const series = zoomed ? zoomed.series : overview;
      if (!series) return;
      const data = alignSeries(ids, series, opts.xAxis, opts.smoothing, opts.logY, t0s);
      // Charts of many points get 1-pixel lines: a software rasterizer
      // (Chromium without a GPU) draws those on its hairline path, several
      // times faster than 1.5 pixels (10 noisy runs of 1,250 points: 180 ms
      // instead of 900 ms from navigation to the drawn chart)
      let total = 0;
      for (const pts of series.values()) total += pts.length;
      const lineWidth = total > HAIRLINE_POINTS ? 1 : 1.5;
      const fmtX = opts.xAxis === 'wall' ? (v) => fmtTime(v * 1000) : opts.xAxis === 'relative' ? (v) => `${fmtNumber(v)} s` : (v) => `step ${v}`;
      const cfg = {
        width: width(), height: height(),
        legend: { show: false },
        cursor: { drag: { x: true, y: false, setScale: true }, focus: { prox: 16 } },
        focus: { alpha: 0.3 },
        scales: { x: { time: opts.xAxis === 'wall' }, y: { distr: opts.logY ? 3 : 1 } },
        axes: [{ label: opts.xAxis === 'step' ? 'step' : opts.xAxis === 'wall' ? '' : 'seconds', size: 40 }, { size: 60, values: (u, vals) => vals.map((v) => fmtNumber(v)) }],
        series: [{ value: (u, v) => (v === null ? '' : fmtX(v)) }, ...runs.map((r, i) => ({
          label: r.name, stroke: runColor(i), width: lineWidth, spanGaps: true, points: { show: false },
        }))],
        hooks: {
          setScale: [(u, scaleKey) => { if (scaleKey === 'x' && !settingData) onZoom(u); }],
          setCursor: [(u) => showHover(u)],
        },
      };
      if (plot) { plot.destroy(); plot = null; }
      clear(plotBox);
      plotBox.dataset.lineWidth = String(lineWidth);
      settingData = true;
      plot = new uPlot(cfg, data, plotBox);
      if (zoomed) {
        const [min, max] = opts.xAxis === 'step' ? zoomed.range : (zoomed.xRange || [null, null]);
        if (min !== null) plot.setScale('x', { min, max });
      }
      settingData = false;
      plot.over.addEventListener('dblclick', resetZoom);
      resetBtn.style.display = zoomed ? '' : 'none';
    }

    function showHover(u) {
      const i = u.cursor.idx;
      if (i === null || i === undefined) { hover.textContent = '\u00a0'; return; }
      const x = u.data[0][i];
      const parts = [];
      for (let s = 1; s < u.data.length; s++) {
        const v = u.data[s][i];
        if (v !== null && v !== undefined) parts.push(`${runs.length > 1 ? runs[s - 1].name + ': ' : ''}${fmtNumber(v)}`);
      }
      hover.textContent = `${u.series[0].value(u, x)}  ${parts.slice(0, 6).join('  ')}${parts.length > 6 ? ` (+${parts.length - 6})` : ''}`;
    }

    // A zoom (drag) re-reads the zoomed range at full detail. On a time axis
    // the range is read by steps: those of the points shown inside it.
    function onZoom(u) {
      const { min, max } = u.scales.x;
      if (min === null || max === null) return;
      clearTimeout(zoomTimer);
      zoomTimer = setTimeout(() => {
        const d = u.data[0];
        if (!d.length) return;
        if (min <= d[0] && max >= d[d.length - 1] && !zoomed) return; // the whole range: nothing to refine
        if (opts.xAxis === 'step') {
          if (zoomed && Math.floor(min) === Math.floor(zoomed.range[0]) && Math.ceil(max) === Math.ceil(zoomed.range[1])) return;
          load([min, max]);
          return;
        }
        if (zoomed && zoomed.xRange && Math.abs(min - zoomed.xRange[0]) < 1e-9 && Math.abs(max - zoomed.xRange[1]) < 1e-9) return;
        const series = zoomed ? zoomed.series : overview;
        let lo = Infinity;
        let hi = -Infinity;
        for (const id of ids) {
          for (const p of series.get(id) || []) {
            const x = xOf(p, t0s.get(id));
            if (x >= min && x <= max) { lo = Math.min(lo, p.step); hi = Math.max(hi, p.step); }
          }
        }
        if (lo <= hi) load([lo, hi], [min, max]);
      }, ZOOM_DEBOUNCE_MS);
    }

    function resetZoom() {
      clearTimeout(zoomTimer);
      if (!zoomed) return;
      zoomed = null;
      draw();
    }
    resetBtn.addEventListener('click', resetZoom);

    return {
      el,
      start() { started = true; load(null); },
      update(refetch) {
        if (!started) return;
        if (refetch) { zoomed = null; load(null); } else draw();
      },
      refresh() { if (started && !zoomed) load(null); },
      resize() { if (plot) plot.setSize({ width: width(), height: height() }); },
      destroy() { closed = true; if (ctl) ctl.abort(); clearTimeout(zoomTimer); if (plot) plot.destroy(); },
    };
  }

  const onResize = () => cards.forEach((c) => c.resize());
  window.addEventListener('resize', onResize);
  if (live) {
    const tick = () => { if (closed) return; if (live()) { cards.forEach((c) => c.refresh()); liveTimer = setTimeout(tick, LIVE_MS); } };
    liveTimer = setTimeout(tick, LIVE_MS);
  }
  return () => {
    closed = true;
    if (pending) cancelAnimationFrame(pending);
    clearTimeout(liveTimer);
    io.disconnect();
    window.removeEventListener('resize', onResize);
    cards.forEach((c) => c.destroy());
  };
}
