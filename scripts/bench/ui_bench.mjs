// ui_bench.mjs: the web UI benchmark, measured in headless chromium, mlflowd's
// UI side by side with stock `mlflow server`'s UI on a copy of the same
// database (one runs.db opens in both) where the stock UI can do the same:
//   first rows of a many-run experiment visible, from navigation  (target < 1 s)
//   sort the runs by a metric column                             (< 300 ms)
//   sort the runs by duration (in the page, over every run)
//   scroll the runs table from the first to the last run         (< 3 s)
//   run page, from navigation                                    (< 300 ms)
//   chart of 10 runs x many points, from navigation              (< 500 ms)
//     (two times: the first frame drawn, from the cheap preview sample
//     or the min/max sample, whichever came first, and the frame with
//     the min/max sample that keeps every spike)
//   the UI's code and libraries, gzip-compressed as served       (< 150 KiB)
// Every timing is taken inside the page (performance.now() around a hash
// change or a click, polling each animation frame until the result shows),
// as the median of the scale's repetitions, each on a freshly loaded page.
// Run through scripts/bench/ui (which starts the servers and writes the report).
import { chromium } from '../../ui/node_modules/playwright-core/index.mjs';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const TARGETS = { first_rows: 1000, sort: 300, scroll: 3000, run_page: 300, chart: 500, size_kib: 150 };
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'];
// Longest a single measurement may take before it counts as failed.
const MEASURE_TIMEOUT_MS = 120000;

const med = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};

// ---- filling ----

// A keep-alive connection the server closed just as a request went out on it
// fails with "other side closed" before any answer: sent again (up to
// FILL_RETRIES times) on a new connection, and counted in the log.
const FILL_RETRIES = 2;
export const fillRetries = { n: 0 };

async function call(base, path, body) {
  let r;
  for (let attempt = 0; ; attempt++) {
    try {
      r = await fetch(`${base}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      break;
    } catch (e) {
      if (attempt >= FILL_RETRIES || e.cause?.code !== 'UND_ERR_SOCKET') throw e;
      fillRetries.n++;
    }
  }
  const j = await r.json();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(j).slice(0, 200)}`);
  return j;
}

async function pool(n, conc, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: conc }, async () => {
    while (next < n) await fn(next++);
  }));
}

// nRuns finished runs (5 params, 5 metrics each; the "score" metric and the
// duration in orders unlike creation's) and chartRuns of them with a history
// of chartPoints points.
const durationOf = (i, nRuns) => (((i * 104729) % nRuns) + 1) * 1000;

export async function fillBench(base, { nRuns, chartRuns, chartPoints }) {
  const eid = (await call(base, 'experiments/create', { name: 'ui-bench' })).experiment_id;
  const ids = new Array(nRuns);
  const t0 = 1_700_000_000_000;
  await pool(nRuns, 8, async (i) => {
    const name = `run-${String(i).padStart(5, '0')}`;
    const r = await call(base, 'runs/create', { experiment_id: eid, run_name: name, start_time: t0 + i * 1000 });
    const id = r.run.info.run_id;
    ids[i] = id;
    await call(base, 'runs/log-batch', {
      run_id: id,
      params: [['cfg', `cfg-${i}`], ['lr', String(10 ** -(1 + (i % 4)))], ['opt', i % 2 ? 'adam' : 'sgd'], ['layers', String(2 + (i % 5))], ['seed', String(i)]]
        .map(([key, value]) => ({ key, value })),
      metrics: [['score', ((i * 7919) % nRuns) / nRuns], ['loss', 1 / (i + 1)], ['acc', (i % 100) / 100], ['f1', (i % 37) / 37], ['auc', (i % 11) / 11]]
        .map(([key, value]) => ({ key, value, timestamp: t0 + i, step: 0 })),
      tags: [{ key: 'team', value: i % 3 ? 'vision' : 'nlp' }],
    });
    await call(base, 'runs/update', { run_id: id, status: 'FINISHED', end_time: t0 + i * 1000 + durationOf(i, nRuns) });
  });
  const BATCH = 1000;
  const chartIds = ids.slice(0, chartRuns);
  await pool(chartRuns * Math.ceil(chartPoints / BATCH), 4, async (j) => {
    const run = Math.floor(j / Math.ceil(chartPoints / BATCH));
    const from = (j % Math.ceil(chartPoints / BATCH)) * BATCH;
    const metrics = [];
    for (let s = from; s < Math.min(chartPoints, from + BATCH); s++) {
      metrics.push({ key: 'curve', value: Math.sin(s / 500 + run) + run * 0.1 + (s % 97 === 0 ? 0.5 : 0), timestamp: t0 + s, step: s });
    }
    await call(base, 'runs/log-batch', { run_id: chartIds[run], metrics });
  });
  // the score order, for the sort measurement
  const byScore = ids.map((id, i) => ({ id, s: ((i * 7919) % nRuns) / nRuns })).sort((a, b) => a.s - b.s);
  const byDuration = ids.map((id, i) => ({ id, d: durationOf(i, nRuns) })).sort((a, b) => a.d - b.d);
  return { eid, ids, chartIds, names: ids.map((_, i) => `run-${String(i).padStart(5, '0')}`), minScore: byScore[0].id, maxScore: byScore[byScore.length - 1].id,
    longest: byDuration[byDuration.length - 1].id };
}

// ---- in-page helpers ----

// Evaluated in the page (as an expression, so the page's CSP, which forbids
// eval, does not apply): change the hash or run act, then poll each frame
// until done() holds; resolves to the elapsed ms, or null on timeout.
// With first (a second predicate), resolves to {done, first}: first is the
// elapsed ms at the first frame where first() held (at the latest, done's).
async function timed(page, { hash = null, done, act = null, since0 = false, first = null }) {
  const expr = `(async () => {
    const done = ${done};
    const first = ${first || 'null'};
    let tFirst = null;
    const t0 = ${since0 ? 0 : 'performance.now()'};
    ${act || `location.hash = ${JSON.stringify(hash)};`}
    while (!done()) {
      if (first && tFirst === null && first()) tFirst = performance.now() - t0;
      if (performance.now() - t0 > ${MEASURE_TIMEOUT_MS}) return null;
      await new Promise((r) => requestAnimationFrame(r));
    }
    const t = performance.now() - t0;
    return first ? { done: t, first: tFirst === null ? t : tFirst } : t;
  })()`;
  return page.evaluate(expr);
}

async function freshPage(browser, base, startHash, ready) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(MEASURE_TIMEOUT_MS);
  await page.goto(`${base}/${startHash}`);
  await page.waitForFunction(ready, null, { timeout: MEASURE_TIMEOUT_MS });
  return { page, close: () => ctx.close() };
}

// ---- the measurements, per UI ----

function textHas(s) {
  return `() => document.body && document.body.textContent.includes(${JSON.stringify(s)})`;
}

const UIS = {
  mlflowd: {
    shell: '#/experiments',
    shellReady: () => !!document.querySelector('[data-testid=experiment-row], [data-testid=experiments-table]'),
    firstRows: (d) => `() => !!document.querySelector('[data-testid=run-row][data-run-id="${d.ids[d.ids.length - 1]}"]')`,
    // the score header; clicked once it sorts descending
    sort: (d) => ({
      act: `document.querySelector('[data-testid=col-header][data-col="metrics.score"]').click()`,
      done: `() => { const r = document.querySelector('[data-testid=run-row]'); return !!r && (r.dataset.runId === ${JSON.stringify(d.maxScore)} || r.dataset.runId === ${JSON.stringify(d.minScore)}); }`,
    }),
    // the Duration header: every run of the experiment is loaded, then sorted in the page (longest first)
    sortDuration: (d) => ({
      act: `document.querySelector('[data-testid=col-header][data-col="attr.duration"]').click()`,
      done: `() => { const r = [...document.querySelectorAll('[data-testid=run-row]')].find((e) => e.style.top === '0px'); return !!r && r.dataset.runId === ${JSON.stringify(d.longest)}; }`,
    }),
    scroll: (d) => ({
      act: `window.__scrollTimer = setInterval(() => { const g = document.querySelector('[data-testid=runs-grid]'); g.scrollTop = g.scrollHeight; }, 16)`,
      done: `() => !!document.querySelector('[data-testid=run-row][data-run-id="${d.ids[0]}"]')`,
    }),
    runPage: (d, i) => ({ hash: `#/experiments/${d.eid}/runs/${d.ids[i]}`, done: textHas(`cfg-${i}`) }),
    chart: (d) => ({
      hash: `#/metric/curve?runs=${encodeURIComponent(JSON.stringify(d.chartIds))}&experiments=${encodeURIComponent(JSON.stringify([d.eid]))}`,
      // "N points · T ms" once the min/max sample is drawn; a canvas before that is the preview
      done: `() => { const c = document.querySelector('[data-testid=chart-card]'); return !!c && !!c.querySelector('canvas') && / ms/.test(c.textContent); }`,
      first: `() => !!document.querySelector('[data-testid=chart-card] canvas')`,
    }),
  },
  stock: {
    shell: '#/experiments',
    shellReady: () => document.body.textContent.includes('ui-bench'),
    // stock opens an experiment on its GenAI overview; its runs table is the runs tab
    expHash: (d) => `#/experiments/${d.eid}/runs`,
    firstRows: (d) => textHas(d.names[d.names.length - 1]),
    sort: null, // its grid sorts through a column menu: not driven here
    scroll: null, // "Load more" 100 runs at a time: not comparable
    runPage: (d, i) => ({ hash: `#/experiments/${d.eid}/runs/${d.ids[i]}`, done: textHas(`cfg-${i}`) }),
    // its metric page parses runs and experiments as raw JSON and the key from
    // metric= (plus its plot options); timed from the start of a page load of
    // that URL, its bundle's load included
    chartByLoad: true,
    chart: (d) => ({
      hash: `#/metric/curve?runs=${JSON.stringify(d.chartIds)}&metric=%22curve%22&experiments=${JSON.stringify([d.eid])}`
        + '&plot_metric_keys=%5B%22curve%22%5D&plot_layout={}&x_axis=step&y_axis_scale=linear&line_smoothness=1&show_point=false'
        + '&deselected_curves=[]&last_linear_y_axis_range=[]',
      done: `() => document.querySelectorAll('.js-plotly-plot .scatterlayer path.js-line').length >= ${d.chartIds.length}`,
    }),
  },
};

async function measureUi(browser, kind, base, d, reps, log) {
  const ui = UIS[kind];
  const out = {};
  const expHash = ui.expHash ? ui.expHash(d) : `#/experiments/${d.eid}`;
  const runsReady = ui.firstRows(d);
  const once = async (name, fn) => {
    const xs = [];
    for (let r = 0; r < reps; r++) {
      try {
        xs.push(await fn(r));
      } catch (e) {
        log(`${kind} ${name}: ${e.message.split('\n')[0]}`);
        xs.push(null);
      }
    }
    out[name] = med(xs);
    out[`${name}_all`] = xs;
    log(`${kind} ${name}: ${xs.map((x) => (x === null ? 'failed' : x.toFixed(0))).join(', ')} ms`);
  };
  await once('first_rows', async () => {
    const p = await freshPage(browser, base, ui.shell, ui.shellReady);
    try { return await timed(p.page, { hash: expHash, done: runsReady }); } finally { await p.close(); }
  });
  if (ui.sort) {
    await once('sort', async () => {
      const p = await freshPage(browser, base, expHash, runsReady);
      try {
        await p.page.waitForSelector('[data-testid=col-header][data-col="metrics.score"]');
        return await timed(p.page, ui.sort(d));
      } finally { await p.close(); }
    });
  }
  if (ui.sortDuration) {
    await once('sort_duration', async () => {
      const p = await freshPage(browser, base, expHash, runsReady);
      try {
        await p.page.waitForSelector('[data-testid=col-header][data-col="attr.duration"]');
        return await timed(p.page, ui.sortDuration(d));
      } finally { await p.close(); }
    });
  }
  if (ui.scroll) {
    await once('scroll', async () => {
      const p = await freshPage(browser, base, expHash, runsReady);
      try { return await timed(p.page, ui.scroll(d)); } finally { await p.close(); }
    });
  }
  await once('run_page', async (r) => {
    const p = await freshPage(browser, base, expHash, runsReady);
    try { return await timed(p.page, ui.runPage(d, (r * 37 + 5) % d.ids.length)); } finally { await p.close(); }
  });
  const firsts = [];
  await once('chart', async () => {
    if (ui.chartByLoad) {
      const c = ui.chart(d);
      const p = await freshPage(browser, base, c.hash, `() => true`);
      try {
        return await timed(p.page, { done: c.done, act: '/* timed from the navigation start */', since0: true });
      } finally { await p.close(); }
    }
    const p = await freshPage(browser, base, ui.shell, ui.shellReady);
    try {
      const t = await timed(p.page, ui.chart(d));
      if (t && typeof t === 'object') { firsts.push(t.first); return t.done; }
      return t;
    } finally { await p.close(); }
  });
  if (firsts.length) {
    out.chart_first = med(firsts);
    out.chart_first_all = firsts;
    log(`${kind} chart, first frame: ${firsts.map((x) => x.toFixed(0)).join(', ')} ms`);
  }
  return out;
}

// Bytes of every embedded UI file, gzip-compressed as mlflowd serves it.
export async function uiSize(base, root) {
  const files = [];
  const walk = (dir) => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p); else files.push('/' + relative(join(root, 'ui-static'), p));
    }
  };
  walk(join(root, 'ui-static'));
  const cm = readFileSync(join(root, 'CMakeLists.txt'), 'utf8');
  const vendor = /set\(UI_VENDOR([^)]*)\)/.exec(cm)[1].trim().split(/\s+/).map((v) => `/static-files/vendor/${v.split('/').pop()}`);
  let app = 0;
  let lib = 0;
  for (const f of [...files, ...vendor]) {
    if (/\.(ico|png)$/.test(f)) continue;
    const r = await fetch(`${base}${f}`, { headers: { 'Accept-Encoding': 'gzip' } });
    const n = Number(r.headers.get('content-length'));
    await r.arrayBuffer();
    if (f.startsWith('/static-files/vendor/')) lib += n; else app += n;
  }
  return { app_bytes: app, lib_bytes: lib, total_kib: (app + lib) / 1024, files: files.length + vendor.length };
}

export async function runUiBench({ servers, data, reps, chromiumPath, log }) {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, headless: true });
  const results = {};
  try {
    for (const [kind, base] of Object.entries(servers)) results[kind] = await measureUi(browser, kind, base, data, reps, log);
  } finally {
    await browser.close();
  }
  return results;
}

// ---- the command: scripts/bench/ui [--scale tiny|small|full] [--out FILE] [--json FILE] [--no-stock] ----

const SCALES = {
  tiny: { nRuns: 300, chartRuns: 10, chartPoints: 2000, reps: 1 },
  small: { nRuns: 2000, chartRuns: 10, chartPoints: 20000, reps: 3 },
  full: { nRuns: 10000, chartRuns: 10, chartPoints: 100000, reps: 3 },
};

function fmtMs(v, target) {
  if (v === null || v === undefined) return 'n/a';
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ms${target ? (v < target ? ' ✓' : ' ✗') : ''}`;
}

// " (2 of 3 failed: ...)" when some repetitions timed out or failed (the median is of the others)
function failedNote(r, key) {
  const all = r?.[`${key}_all`];
  if (!all) return '';
  const bad = all.filter((x) => x === null).length;
  return bad ? ` (${bad} of ${all.length} failed or took over ${MEASURE_TIMEOUT_MS / 1000} s; median of the others)` : '';
}

export function report({ scale, sc, res, size, machine, date }) {
  const rows = [
    ['First rows of the experiment visible, from navigation', 'first_rows', TARGETS.first_rows],
    ['Sort by a metric column', 'sort', TARGETS.sort],
    [`Sort by duration (every one of the ${sc.nRuns.toLocaleString('en')} runs loaded, sorted in the page)`, 'sort_duration', null],
    [`Scroll the runs table from the first to the last of ${sc.nRuns.toLocaleString('en')} runs`, 'scroll', TARGETS.scroll],
    ['Run page, from navigation', 'run_page', TARGETS.run_page],
    [`Chart of ${sc.chartRuns} runs x ${sc.chartPoints.toLocaleString('en')} points, from navigation: first frame (preview or min/max sample, whichever came first)`, 'chart_first', TARGETS.chart],
    [`Chart of ${sc.chartRuns} runs x ${sc.chartPoints.toLocaleString('en')} points, from navigation${res.mlflowd?.chart_first !== undefined ? ': every spike drawn (min/max sample)' : ''}`, 'chart', TARGETS.chart],
  ];
  const hasStock = !!res.stock;
  let t = `<!-- ui-bench:begin (written by scripts/bench/ui; do not edit by hand) -->\n## Web UI (scripts/bench/ui, scale ${scale}, ${date})\n\n`;
  t += `Headless Debian chromium (playwright-core), ${machine}. An experiment of ${sc.nRuns.toLocaleString('en')} runs `
    + `(5 params, 5 metrics, 1 tag each) and ${sc.chartRuns} runs with a ${sc.chartPoints.toLocaleString('en')}-point history, `
    + `written through mlflowd's REST API; stock \`mlflow server\` 3.17.2 serves a copy of the same database file. `
    + `Each time is the median of ${sc.reps} measurement(s), each on a freshly loaded page, taken in the page from the hash change `
    + `(or click) to the frame where the result shows: the newest run's row; the run with the highest or lowest score first; `
    + `the oldest run's row; the run's unique param value; every series drawn. Stock's chart is timed from the start of `
    + `a page load of its metric page's URL (its bundle of several MB included).\n\n`;
  t += `| measure | target | mlflowd UI |${hasStock ? ' stock MLflow UI |' : ''}\n|---|---|---|${hasStock ? '---|' : ''}\n`;
  for (const [label, key, target] of rows) {
    t += `| ${label} | ${target ? `< ${target} ms` : '—'} | ${fmtMs(res.mlflowd?.[key], target)}${failedNote(res.mlflowd, key)} |`;
    if (hasStock) t += ` ${key in res.stock ? fmtMs(res.stock[key]) + failedNote(res.stock, key) : key === 'chart_first' ? 'see next row' : 'not comparable'} |`;
    t += '\n';
  }
  t += `| UI code + libraries, gzip as served | < ${TARGETS.size_kib} KiB | ${size.total_kib.toFixed(1)} KiB ${size.total_kib < TARGETS.size_kib ? '✓' : '✗'} `
    + `(${(size.app_bytes / 1024).toFixed(1)} KiB of its own code, ${(size.lib_bytes / 1024).toFixed(1)} KiB of libraries, ${size.files} files) |`
    + `${hasStock ? ` ${res.stock.size_kib ? `${res.stock.size_kib.toFixed(0)} KiB (JS+CSS the first page loads, as transferred)` : 'n/a'} |` : ''}\n`;
  t += `\nStock's runs table sorts through a column menu and loads 100 runs per "Load more" click, so the sort and the `
    + `scroll are measured on mlflowd's UI only. mlflowd's runs table asks for 100 runs first, then pages of 1,000 `
    + `doubling up to 5,000, and draws only the rows in view; its charts ask the server for sampled series `
    + `(at most about two points per pixel) and draw them with uPlot on a canvas; stock draws the full series with Plotly. `
    + `mlflowd's chart asks for two samples at once: its min/max sample, which keeps each bucket's first, last, lowest `
    + `and highest point, read from per-block summaries of the series (one row per 32 steps, kept by mlflowd's writer `
    + `and, for other programs writing the file, by triggers on the metrics table), and a preview (each bucket's first point, one index seek each; spikes between them are missing), `
    + `drawn only if it comes first. The target applies to the frame with the min/max sample. Charts of more than `
    + `2,000 points draw 1-pixel lines (the software rasterizer's fast path).\n`;
  if (scale === 'tiny') t += `\nAt scale tiny the numbers only show that the benchmark runs.\n`;
  t += '<!-- ui-bench:end -->\n';
  return t;
}

async function main() {
  const { spawn, spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync, copyFileSync, existsSync, writeFileSync } = await import('node:fs');
  const { tmpdir, cpus, loadavg } = await import('node:os');
  const { dirname, resolve } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const { createServer } = await import('node:net');
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const args = process.argv.slice(2);
  const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
  const scale = opt('--scale', 'tiny');
  const load0 = (await import('node:os')).loadavg()[0];
  const sc = SCALES[scale];
  if (!sc) throw new Error(`unknown scale ${scale} (tiny, small or full)`);
  const withStock = !args.includes('--no-stock');
  const out = opt('--out', scale === 'full' ? join(root, 'docs', 'benchmarks.md') : join(root, 'build', 'ui-bench-tiny.md'));
  const mlflowdBin = process.env.MLFLOWD_BIN || join(root, 'build', 'mlflowd');
  const py = process.env.MLF_VENV_PY || join(root, '.venv', 'bin', 'python');
  const log = (m) => process.stderr.write(`ui-bench: ${m}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'mlflowd-uibench-'));
  const port = () => new Promise((res) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
  const waitUp = async (url, proc, secs) => {
    for (let i = 0; i < secs * 10; i++) {
      if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
      try { if ((await fetch(`${url}/health`)).ok) return; } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${url} did not come up`);
  };
  const stop = async (proc) => {
    if (proc.exitCode !== null) return;
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  };
  const startMlflowd = async (db) => {
    const p = await port();
    const proc = spawn(mlflowdBin, ['--backend-store', db, '--artifacts-destination', join(dir, 'art'), '--host', '127.0.0.1', '--port', String(p), '--quiet'], { stdio: 'ignore' });
    const url = `http://127.0.0.1:${p}`;
    await waitUp(url, proc, 30);
    return { proc, url };
  };
  try {
    const db = join(dir, 'runs.db');
    // Stock serves only the schema heads its release knows, mlflowd creates
    // new stores at a newer one: with stock in the comparison, stock's own
    // store code creates the empty store (mlflowd serves that head as it is).
    if (withStock && existsSync(py)) {
      const made = spawnSync(py, ['-c', 'import sys; from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore; '
        + 'SqlAlchemyStore("sqlite:///" + sys.argv[1], sys.argv[2])', db, join(dir, 'stock-art')], { stdio: 'inherit', timeout: 300000 });
      if (made.status !== 0) throw new Error('stock mlflow could not create the store');
    }
    let m = await startMlflowd(db);
    log(`filling ${sc.nRuns} runs and ${sc.chartRuns} x ${sc.chartPoints} points`);
    const t0 = Date.now();
    const data = await fillBench(m.url, sc);
    log(`filled in ${((Date.now() - t0) / 1000).toFixed(1)} s${fillRetries.n ? ` (${fillRetries.n} request(s) sent again after the server closed the connection)` : ''}`);
    const size = await uiSize(m.url, root);
    await stop(m.proc);
    const stockDb = join(dir, 'stock.db');
    copyFileSync(db, stockDb);
    m = await startMlflowd(db);
    const res = {};
    Object.assign(res, await runUiBench({ servers: { mlflowd: m.url }, data, reps: sc.reps, chromiumPath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', log }));
    await stop(m.proc);
    if (withStock && existsSync(py)) {
      const p = await port();
      const proc = spawn(py, ['-m', 'mlflow', 'server', '--backend-store-uri', `sqlite:///${stockDb}`, '--default-artifact-root', join(dir, 'stock-art'),
        '--host', '127.0.0.1', '--port', String(p), '--workers', '1'], { stdio: 'ignore', detached: true, env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' } });
      const url = `http://127.0.0.1:${p}`;
      try {
        await waitUp(url, proc, 180);
        Object.assign(res, await runUiBench({ servers: { stock: url }, data, reps: sc.reps, chromiumPath: process.env.CHROMIUM_BIN || '/usr/bin/chromium', log }));
        res.stock.size_kib = await stockFirstLoadKib(url, process.env.CHROMIUM_BIN || '/usr/bin/chromium');
      } catch (e) {
        log(`stock: ${e.message}`);
      } finally {
        try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* gone */ }
        await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
      }
    }
    const machine = `${cpus().length} CPUs (${cpus()[0]?.model || 'unknown'}), load average ${load0.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end`;
    const text = report({ scale, sc, res, size, machine, date: new Date().toISOString().slice(0, 10) });
    let doc = existsSync(out) ? readFileSync(out, 'utf8') : '';
    const b = doc.indexOf('<!-- ui-bench:begin');
    const e = doc.indexOf('<!-- ui-bench:end -->');
    if (b >= 0 && e > b) doc = doc.slice(0, b) + text + doc.slice(e + '<!-- ui-bench:end -->\n'.length);
    else doc = doc + (doc && !doc.endsWith('\n\n') ? '\n' : '') + text;
    writeFileSync(out, doc);
    writeFileSync(opt('--json', join(dirname(out), `ui-bench-${scale}.json`)), JSON.stringify({ scale, sc, res, size, machine, section: text }, null, 2));
    log(`report written to ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// JS and CSS bytes (as transferred) the stock UI's first page loads.
async function stockFirstLoadKib(url, chromiumPath) {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    let bytes = 0;
    page.on('response', async (r) => {
      if (!/\.(js|css)(\?|$)/.test(r.url())) return;
      const n = Number(r.headers()['content-length'] || 0);
      if (n) bytes += n;
      else { try { bytes += (await r.body()).length; } catch { /* gone */ } }
    });
    // its page keeps polling (never network-idle): the experiments list shown, then 2 s for late chunks
    await page.goto(`${url}/#/experiments`, { waitUntil: 'load', timeout: MEASURE_TIMEOUT_MS });
    await page.waitForFunction(UIS.stock.shellReady, null, { timeout: MEASURE_TIMEOUT_MS });
    await page.waitForTimeout(2000);
    return bytes / 1024;
  } finally {
    await browser.close();
  }
}

import { pathToFileURL } from 'node:url';
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
