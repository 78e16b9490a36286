// harness.mjs: what the browser tests share: a real mlflowd on a free port
// with a fresh store, filled through the stock mlflow client (fill.py), and
// Debian's chromium driven by the pinned playwright-core. Every page a test
// opens fails the test on a console error, an uncaught page error, a failed
// request or an HTTP error answer it did not declare, and on failure its
// screenshot is written to build/browser-screens/.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { chromium } from '../../ui/node_modules/playwright-core/index.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const SCREEN_DIR = process.env.BROWSER_SCREENS || join(ROOT, 'build', 'browser-screens');
const PY = process.env.MLF_VENV_PY || join(ROOT, '.venv', 'bin', 'python');
// Bounded waits: generous, since the machine may be loaded.
export const WAIT_MS = 30000;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'];

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
    s.on('error', rej);
  });
}

async function waitHealth(url, proc) {
  const end = Date.now() + WAIT_MS;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`mlflowd exited with status ${proc.exitCode}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('mlflowd did not answer /health');
}

// Start mlflowd on a fresh store; returns {url, stop()}.
export async function startServer(extraArgs = []) {
  const bin = process.env.MLFLOWD_BIN || join(ROOT, 'build', 'mlflowd');
  const dir = mkdtempSync(join(tmpdir(), 'mlflowd-browser-'));
  const port = await freePort();
  const proc = spawn(bin, ['--backend-store', join(dir, 'runs.db'), '--artifacts-destination', join(dir, 'artifacts'),
    '--host', '127.0.0.1', '--port', String(port), '--quiet', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log = (log + d).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  await waitHealth(url, proc);
  return {
    url, dir, proc,
    log: () => log,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Fill the server through the mlflow client; returns fill.py's ids.
export async function fill(url, script = 'fill.py') {
  const { stdout } = await promisify(execFile)(PY, [join(ROOT, 'tests', 'browser', script), url],
    { env: { ...process.env, MLFLOW_TRACKING_URI: url, PYTHONWARNINGS: 'ignore' }, maxBuffer: 1 << 24, timeout: 300000 });
  const last = stdout.trim().split('\n').pop();
  return JSON.parse(last);
}

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

// A page that records every problem. allow(re): HTTP error answers whose URL
// matches re are expected (e.g. the registry's 404 on a server without one),
// and so are the console lines the browser logs for them.
export async function openPage(browser, base, t) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const problems = [];
  const allowed = [];
  const allowedConsole = [];
  const expectedStatus = (url) => allowed.some((re) => re.test(url));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    const loc = m.location()?.url || '';
    if (/^Failed to load resource/.test(text) && expectedStatus(loc)) return;
    if (allowedConsole.some((re) => re.test(text))) return;
    problems.push(`console error: ${text} (${loc})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText || '';
    if (/ERR_ABORTED/.test(why)) return; // a navigation or an AbortController cut it short
    problems.push(`request failed: ${r.method()} ${r.url()} ${why}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !expectedStatus(r.url())) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  page.on('dialog', async (d) => { problems.push(`dialog opened: ${d.type()} ${d.message()}`); await d.dismiss(); });
  const api = {
    page,
    problems,
    allow(re) { allowed.push(re); },
    allowConsole(re) { allowedConsole.push(re); },
    async go(hash) {
      await page.goto(`${base}/${hash}`);
      await page.waitForLoadState('load');
    },
    // Fails the test with the recorded problems; screenshot on any failure.
    async done() {
      assert.deepEqual(problems, [], 'problems on the page');
    },
    async close() { await context.close(); },
  };
  if (t) t.after(() => context.close().catch(() => {}));
  return api;
}

// Run body(p) on a fresh page; the page's problems fail it; screenshot on failure.
export async function withPage(browser, base, t, body) {
  const p = await openPage(browser, base, t);
  try {
    await body(p);
    // let late requests and errors surface
    await p.page.waitForLoadState('networkidle').catch(() => {});
    await p.done();
  } catch (e) {
    p.failed = true;
    mkdirSync(SCREEN_DIR, { recursive: true });
    const name = t.name.replace(/[^\w.-]+/g, '_').slice(0, 80);
    await p.page.screenshot({ path: join(SCREEN_DIR, `${name}.png`), fullPage: true }).catch(() => {});
    if (p.problems.length) e.message += `\nproblems on the page:\n  ${p.problems.join('\n  ')}`;
    throw e;
  }
}
