// mlflow_ui.test.mjs: MLflow's own web UI (the pinned mlflow wheel's built UI in .venv,
// served by `mlflowd --static-dir mlflow`) on data logged by the real client (fill.py):
// experiments list, runs table with a filter and a sort, run page (overview, params,
// metrics, tags, artifact previews), metric charts, the metric and compare pages, and the
// GenAI traces view. Every page must load without an error banner, a page error, a console
// error or a failed request (harness.mjs), apart from the answers stock MLflow fails too.
//
//   node --test tests/browser/mlflow_ui.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, startServer, fill, launch, withPage, WAIT_MS } from './harness.mjs';

let srv, browser, ids, hasRegistry;

// Shown by MLflow's UI when a request it needs fails.
const ERROR_TEXTS = ["Can't load run details", 'Experiment load error', 'Error while loading', 'Request failed',
  'An error occurred', 'Something went wrong', 'Run page loading'];

before(async () => {
  // `--static-dir mlflow` finds the UI in the mlflow package of the python3 on PATH: the venv's.
  process.env.PATH = `${join(ROOT, '.venv', 'bin')}:${process.env.PATH}`;
  srv = await startServer(['--static-dir', 'mlflow']);
  ids = await fill(srv.url);
  // MLflow 3.17.2's compare page fails ("Something went wrong", stock included) when a
  // compared run has no artifacts while the first listing to arrive has some: its common-
  // artifacts view reads `files` of every listing, which MLflow leaves out when empty. Give
  // runs b and c a file, so the page is deterministic.
  for (const rid of ids.run_ids.slice(1)) {
    const r = await fetch(`${srv.url}/api/2.0/mlflow-artifacts/artifacts/${ids.experiment_id}/${rid}/artifacts/notes.txt`,
      { method: 'PUT', body: 'notes' });
    assert.equal(r.status, 200);
  }
  const r = await fetch(`${srv.url}/ajax-api/2.0/mlflow/model-versions/search?filter=name%3D%27x%27`);
  hasRegistry = r.status !== 404;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

// What every page of MLflow's UI does that is not mlflowd's to fix.
function expectStockFailures(p) {
  // The UI asks for the signed-in user on every page; without authentication stock MLflow
  // answers 404 too, and the UI expects it.
  p.allow(/\/ajax-api\/2\.0\/mlflow\/users\/current$/);
  if (!hasRegistry) {
    // The model registry's endpoints live on their own in mlflowd; without them the run
    // page's "Registered models/prompts" lookups answer 404 (and the UI logs it).
    p.allow(/\/ajax-api\/2\.0\/mlflow\/model-versions\/search/);
  }
}

// Drop the UI's uncaught rejection of the registry lookup (only when there is no registry),
// and the browser's note that a ResizeObserver callback of MLflow's bundle resized the page
// again within one frame (its Plotly charts do that on a slow machine, against any server).
function dropRegistryPageError(p) {
  for (let i = p.problems.length - 1; i >= 0; i--) {
    if (!hasRegistry && /^page error: \w{1,2}$/.test(p.problems[i])) p.problems.splice(i, 1);
    else if (/^console error: .*ResizeObserver loop completed with undelivered notifications/.test(p.problems[i]))
      p.problems.splice(i, 1);
  }
}

async function noErrorBanner(p) {
  const text = await p.page.locator('body').innerText();
  for (const e of ERROR_TEXTS) assert.ok(!text.includes(e), `the page shows "${e}"`);
  assert.equal(await p.page.evaluate(() => window.__xss), undefined, 'an XSS payload ran');
}

// withPage with the stock failures expected and the registry's page error dropped.
async function onPage(t, body) {
  await withPage(browser, srv.url, t, async (p) => {
    expectStockFailures(p);
    try {
      await body(p);
    } finally {
      dropRegistryPageError(p);
    }
  });
}

const text = (p, s) => p.page.getByText(s, { exact: false }).first().waitFor({ timeout: WAIT_MS });

test('experiments list', async (t) => {
  await onPage(t, async (p) => {
    await p.go('#/experiments');
    await text(p, 'ui-demo');
    await text(p, 'Default');
    await noErrorBanner(p);
  });
});

test('runs table with a filter and a sort', async (t) => {
  await onPage(t, async (p) => {
    const searches = [];
    p.page.on('request', (r) => {
      if (r.url().endsWith('/ajax-api/2.0/mlflow/runs/search')) searches.push(JSON.parse(r.postData() || '{}'));
    });
    const filter = encodeURIComponent('params.optimizer = "adam"');
    const sort = encodeURIComponent('metrics.`loss`');
    await p.go(`#/experiments/${ids.experiment_id}/runs?searchFilter=${filter}&orderByKey=${sort}&orderByAsc=false`);
    await text(p, '2 matching runs');
    // the count shows before the grid has drawn its rows: wait for both rows
    for (const name of ['run-a', 'run-c'])
      await p.page.locator('[role="row"]', { hasText: name }).first().waitFor({ timeout: WAIT_MS });
    const rows = await p.page.locator('[role="row"]').allInnerTexts();
    const order = rows.map((r) => (r.match(/run-[abc]/) || [])[0]).filter(Boolean);
    // loss DESC: run-a's last loss (1/60) is above run-c's (1/62); run-b (sgd) is filtered out
    assert.deepEqual(order, ['run-a', 'run-c']);
    assert.ok(searches.some((s) => s.filter === 'params.optimizer = "adam"' &&
      JSON.stringify(s.order_by || []).includes('loss')), JSON.stringify(searches));
    await text(p, 'Demo'); // the experiment header (GraphQL MlflowGetExperimentQuery)
    await noErrorBanner(p);
  });
});

// One page visit goes through the run page's tabs as a user would (each visit of the
// harness ends with a wait for the network to settle, which the run page's auto-refresh
// keeps from happening).
test('run page: overview, metric charts, artifact previews', async (t) => {
  await onPage(t, async (p) => {
    const graphql = [];
    const sampled = [];
    p.page.on('response', (r) => {
      if (r.url().endsWith('/graphql')) graphql.push(r.status());
      if (r.url().includes('/metrics/get-history-bulk-interval')) sampled.push(r.status());
    });
    await p.go(`#/experiments/${ids.experiment_id}/runs/${ids.run_ids[0]}`);
    await text(p, 'About this run');
    await text(p, ids.run_ids[0]);
    await text(p, 'optimizer');
    await text(p, 'adam');
    await text(p, '0.016666666666666666'); // latest loss
    await text(p, 'vision'); // tag team=vision
    await text(p, 'Notes of'); // the run's Markdown description
    assert.ok(graphql.length >= 2 && graphql.every((s) => s === 200), `GraphQL answers: ${graphql}`);
    await noErrorBanner(p);

    await p.page.getByText('Model metrics', { exact: true }).first().click();
    await text(p, 'run-a (loss)'); // the legend of the loss chart
    await text(p, 'run-a (acc)');
    await p.page.locator('.js-plotly-plot').first().waitFor({ timeout: WAIT_MS });
    assert.ok(sampled.length >= 1 && sampled.every((s) => s === 200), `bulk-interval answers: ${sampled}`);
    await noErrorBanner(p);

    await p.page.getByText('Artifacts', { exact: true }).first().click();
    await p.page.getByText('notes.txt', { exact: true }).first().click();
    await text(p, 'hello from the artifact browser');
    await p.page.getByText('config.json', { exact: true }).first().click();
    await text(p, '"layers"');
    await p.page.getByText('plots', { exact: true }).first().click();
    await p.page.getByText('curve.png', { exact: true }).first().click();
    await text(p, 'plots/curve.png');
    // the preview is an <img> of the PNG's bytes (fill.py draws it 48x32)
    await p.page.waitForFunction(() => [...document.images].some((i) => i.complete && i.naturalWidth === 48 &&
      i.naturalHeight === 32), null, { timeout: WAIT_MS });
    await noErrorBanner(p);
  });
});

test('metric page of three runs', async (t) => {
  await onPage(t, async (p) => {
    const q = `?runs=${JSON.stringify(ids.run_ids)}&metric=${encodeURIComponent('"loss"')}` +
      `&experiments=${JSON.stringify([ids.experiment_id])}&plot_metric_keys=${encodeURIComponent('["loss"]')}` +
      '&plot_layout={}&x_axis=step&y_axis_scale=linear&line_smoothness=1&show_point=false' +
      '&deselected_curves=[]&last_linear_y_axis_range=[]';
    await p.go(`#/metric${q}`);
    await text(p, 'Comparing 3 Runs');
    await text(p, 'run-c (loss)');
    await p.page.locator('.js-plotly-plot').first().waitFor({ timeout: WAIT_MS });
    await noErrorBanner(p);
  });
});

test('compare runs page', async (t) => {
  await onPage(t, async (p) => {
    await p.go(`#/compare-runs?runs=${JSON.stringify(ids.run_ids)}&experiments=${JSON.stringify([ids.experiment_id])}`);
    await text(p, 'Comparing 3 Runs');
    await text(p, 'Parallel Coordinates Plot');
    await text(p, ids.run_ids[2]);
    await noErrorBanner(p);
  });
});

test('traces view shows its empty state', async (t) => {
  await onPage(t, async (p) => {
    // The empty state embeds a video from mlflow.org, which this machine cannot reach.
    p.page.on('requestfailed', () => {});
    await p.go(`#/experiments/${ids.experiment_id}/traces`);
    await text(p, 'Start tracing');
    await noErrorBanner(p);
    for (let i = p.problems.length - 1; i >= 0; i--)
      if (/https:\/\/mlflow\.org\//.test(p.problems[i])) p.problems.splice(i, 1);
  });
});
