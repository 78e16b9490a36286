// ui.test.mjs: the web UI in headless chromium against a real mlflowd filled
// by the stock mlflow client (fill.py): every page and action of the artifact
// browser, compare, registry, logged models and not-found pages, and XSS
// payloads in every user string that reaches the UI. Run by ctest `browser`
// (tests/browser/run) or: MLFLOWD_BIN=build/mlflowd node --test tests/browser/
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fill, launch, withPage, WAIT_MS } from './harness.mjs';

let srv;
let browser;
let ids;
let base;

before(async () => {
  srv = await startServer();
  base = srv.url;
  ids = await fill(base);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const REGISTRY_404 = /\/(ajax-api\/2\.0\/mlflow\/(registered-models|model-versions)\/|model-versions\/get-artifact)/;

async function hasFile(path) {
  return (await fetch(`${base}${path}`, { method: 'HEAD' })).status === 200;
}

// The artifact browser of a run: through the run page's tab when the UI has
// one, else rendered alone into the shell.
async function openArtifacts(p, runId, path = '') {
  if (await hasFile('/js/pages/run.js')) {
    await p.go(`#/experiments/${ids.experiment_id}/runs/${runId}/artifacts${path ? '/' + path : ''}`);
  } else {
    await p.go('#/experiments');
    await p.page.evaluate(async ([rid, eid, ap]) => {
      const m = await import('/js/pages/artifacts.js');
      const main = document.getElementById('main');
      main.replaceChildren();
      const box = document.createElement('div');
      main.appendChild(box);
      await m.default(box, { params: { runId: rid, experimentId: eid, artifactPath: ap }, query: new URLSearchParams(), path: '' });
    }, [runId, ids.experiment_id, path]);
  }
  await p.page.locator('[data-testid=artifact-tree] [data-testid=artifact-node], [data-testid=artifact-preview], .art-preview [data-testid=empty]').first().waitFor();
}

async function select(p, path) {
  await p.page.locator(`[data-testid=artifact-node][data-path="${path.replace(/["\\]/g, '\\$&')}"]`).click();
}

function preview(p) {
  return p.page.locator('[data-testid=artifact-preview]');
}

describe('artifacts', () => {
  test('tree lists the run root; text, JSON, YAML and downloads', async (t) => {
    await withPage(browser, base, t, async (p) => {
      await openArtifacts(p, ids.run_ids[0]);
      const names = await p.page.locator('[data-testid=artifact-tree] > div > [data-testid=artifact-node]').evaluateAll(
        (els) => els.map((e) => e.dataset.path));
      const files = ['config.json', 'data.tsv', 'notes.txt', 'params.yaml', 'README.md', 'report.html', 'table.csv'];
      assert.deepEqual(names, ['model', 'nested', 'plots', ...files.sort((a, b) => a.localeCompare(b))]);
      await select(p, 'notes.txt');
      await preview(p).locator('pre', { hasText: 'hello from the artifact browser' }).waitFor();
      const dl = p.page.locator('[data-testid=artifact-download]');
      assert.match(await dl.getAttribute('href'), /get-artifact\?path=notes.txt&run_uuid=/);
      assert.equal(await dl.getAttribute('download'), 'notes.txt');
      const body = await p.page.evaluate(async (href) => (await fetch(href)).text(), await dl.getAttribute('href'));
      assert.equal(body, 'hello from the artifact browser\nline two\n');
      await select(p, 'config.json');
      await preview(p).locator('pre', { hasText: '"layers": [' }).waitFor();
      await select(p, 'params.yaml');
      await preview(p).locator('pre', { hasText: 'layers:' }).waitFor();
    });
  });

  test('Markdown, CSV and TSV previews', async (t) => {
    await withPage(browser, base, t, async (p) => {
      await openArtifacts(p, ids.run_ids[0]);
      await select(p, 'README.md');
      await preview(p).locator('h1', { hasText: 'Model card' }).waitFor();
      const a = preview(p).locator('.md a');
      assert.equal(await a.getAttribute('target'), '_blank');
      assert.match(await a.getAttribute('rel'), /noopener/);
      await select(p, 'table.csv');
      const table = preview(p).locator('[data-testid=artifact-table]');
      await table.waitFor();
      assert.deepEqual(await table.locator('th').allTextContents(), ['a', 'b', 'c']);
      assert.deepEqual(await table.locator('tbody tr').first().locator('td').allTextContents(), ['1', '2', 'three, with comma']);
      await select(p, 'data.tsv');
      await preview(p).locator('td', { hasText: 'alpha' }).waitFor();
    });
  });

  test('HTML renders in a sandboxed frame whose scripts never run', async (t) => {
    await withPage(browser, base, t, async (p) => {
      p.allowConsole(/Blocked script execution in 'about:srcdoc'/);
      await openArtifacts(p, ids.run_ids[0]);
      await select(p, 'report.html');
      const frame = preview(p).locator('iframe');
      await frame.waitFor();
      assert.equal(await frame.getAttribute('sandbox'), '');
      const h1 = p.page.frameLocator('[data-testid=artifact-preview] iframe').locator('h1', { hasText: 'Report' });
      await h1.waitFor();
      assert.equal(await h1.evaluate((e) => getComputedStyle(e).color), 'rgb(200, 0, 0)'); // its own styles apply
      assert.equal(await p.page.evaluate(() => window.__xss), undefined);
    });
  });

  test('folders load lazily; images preview', async (t) => {
    await withPage(browser, base, t, async (p) => {
      const lists = [];
      p.page.on('request', (r) => { if (r.url().includes('/artifacts/list')) lists.push(new URL(r.url()).searchParams.get('path')); });
      await openArtifacts(p, ids.run_ids[0]);
      assert.ok(!lists.includes('nested'), 'a closed folder is not listed');
      await select(p, 'nested');
      await select(p, 'nested/deeper');
      await select(p, 'nested/deeper/leaf.txt');
      await preview(p).locator('pre', { hasText: 'leaf' }).waitFor();
      assert.ok(lists.includes('nested') && lists.includes('nested/deeper'));
      await select(p, 'plots');
      await select(p, 'plots/curve.png');
      const img = preview(p).locator('img');
      await img.waitFor();
      await p.page.waitForFunction(() => document.querySelector('[data-testid=artifact-preview] img')?.complete, null, { timeout: WAIT_MS });
      assert.equal(await img.evaluate((e) => e.naturalWidth), 48);
    });
  });

  test('a folder holding MLmodel shows the model: flavors, signature, how to load it', async (t) => {
    await withPage(browser, base, t, async (p) => {
      await openArtifacts(p, ids.run_ids[0]);
      await select(p, 'model');
      const view = p.page.locator('[data-testid=model-view]');
      await view.waitFor();
      assert.match(await view.locator('[data-testid=flavors]').textContent(), /python_function/);
      const inputs = view.locator('[data-testid=signature-inputs] tbody tr');
      assert.deepEqual(await inputs.first().locator('td').allTextContents(), ['x', 'double', 'yes']);
      assert.match(await view.locator('[data-testid=load-snippet]').textContent(), new RegExp(`runs:/${ids.run_ids[0]}/model`));
    });
  });

  test('deep link to a file opens its folders and previews it', async (t) => {
    await withPage(browser, base, t, async (p) => {
      await openArtifacts(p, ids.run_ids[0], 'nested/deeper/leaf.txt');
      await preview(p).locator('pre', { hasText: 'leaf' }).waitFor();
      assert.equal(await p.page.locator('[data-testid=artifact-node].selected').getAttribute('data-path'), 'nested/deeper/leaf.txt');
    });
  });

  test('a run without artifacts says so', async (t) => {
    await withPage(browser, base, t, async (p) => {
      await openArtifacts(p, ids.run_ids[2]);
      await p.page.locator('[data-testid=empty]', { hasText: 'No artifacts' }).waitFor();
    });
  });
});

describe('compare runs', () => {
  const hash = () => `#/compare-runs?runs=${encodeURIComponent(JSON.stringify(ids.run_ids))}&experiments=${encodeURIComponent(JSON.stringify([ids.experiment_id]))}`;

  test('params, metrics and tags side by side; differences only', async (t) => {
    await withPage(browser, base, t, async (p) => {
      await p.go(hash());
      const params = p.page.locator('[data-testid=compare-params]');
      await params.waitFor();
      assert.deepEqual(await params.locator('tbody tr').evaluateAll((r) => r.map((e) => e.dataset.key)), ['epochs', 'lr', 'optimizer']);
      assert.equal(await p.page.locator('[data-testid=compare-run-link]').count(), 3);
      assert.deepEqual(await params.locator('tr[data-key=lr] td').allTextContents(), ['lr', '0.1', '0.01', '0.01']);
      await p.page.locator('[data-testid=diff-only]').check();
      assert.deepEqual(await p.page.locator('[data-testid=compare-params] tbody tr').evaluateAll((r) => r.map((e) => e.dataset.key)), ['lr', 'optimizer']);
      assert.equal(await p.page.locator('[data-testid=compare-tags] tr[data-key=team]').count(), 0);
      assert.equal(await p.page.locator('[data-testid=compare-tags] tr[data-key=stage]').count(), 1);
    });
  });

  test('metric chart overlays every run and follows the metric chosen', async (t) => {
    await withPage(browser, base, t, async (p) => {
      const asked = [];
      p.page.on('request', (r) => { if (r.url().includes('get-history-bulk-interval')) asked.push(new URL(r.url()).searchParams); });
      await p.go(hash());
      await p.page.locator('[data-testid=compare-chart] canvas').waitFor();
      assert.equal(await p.page.locator('[data-testid=compare-chart] .u-legend .u-series').count(), 4); // x + 3 runs
      await p.page.locator('[data-testid=chart-metric]').selectOption('loss');
      await p.page.waitForFunction(() => document.querySelector('[data-testid=compare-chart] .u-legend')?.textContent.includes('run-a'));
      const last = asked[asked.length - 1];
      assert.equal(last.get('metric_key'), 'loss');
      assert.deepEqual(last.getAll('run_ids').sort(), [...ids.run_ids].sort());
    });
  });

  test('scatter of any two keys and parallel coordinates', async (t) => {
    await withPage(browser, base, t, async (p) => {
      await p.go(hash());
      const scatter = p.page.locator('[data-testid=scatter]');
      await scatter.waitFor();
      assert.equal(await scatter.locator('circle').count(), 3);
      await p.page.locator('[data-testid=scatter-x]').selectOption('params.optimizer');
      await p.page.locator('[data-testid=scatter-y]').selectOption('metrics.f1');
      assert.equal(await p.page.locator('[data-testid=scatter] circle').count(), 3);
      assert.match(await p.page.locator('[data-testid=scatter]').textContent(), /sgd/);
      const pc = p.page.locator('[data-testid=parallel]');
      assert.equal(await pc.locator('polyline').count(), 3);
    });
  });

  test('no runs, and a run that does not exist', async (t) => {
    await withPage(browser, base, t, async (p) => {
      p.allow(/runs\/get\?run_id=0{32}/);
      await p.go('#/compare-runs');
      await p.page.locator('[data-testid=empty]', { hasText: 'No runs to compare' }).waitFor();
      await p.go(`#/compare-runs?runs=${encodeURIComponent(JSON.stringify([ids.run_ids[0], '0'.repeat(32)]))}`);
      await p.page.locator('[data-testid=error]', { hasText: '0'.repeat(32) }).waitFor();
      await p.page.locator('[data-testid=compare-params]').waitFor();
    });
  });
});

describe('logged models', () => {
  test('the experiment\'s logged models, with params, metrics and artifacts', async (t) => {
    await withPage(browser, base, t, async (p) => {
      if (await hasFile('/js/pages/runs.js')) {
        await p.go(`#/experiments/${ids.experiment_id}/models`);
      } else {
        await p.go('#/experiments');
        await p.page.evaluate(async (eid) => {
          const m = await import('/js/pages/logged_models.js');
          const main = document.getElementById('main');
          main.replaceChildren();
          await m.default(main, { params: { experimentId: eid }, query: new URLSearchParams(), path: '' });
        }, ids.experiment_id);
      }
      const row = p.page.locator('[data-testid=logged-model-row]');
      await row.first().waitFor();
      assert.equal(await row.count(), 1);
      assert.equal(await row.getAttribute('data-id'), ids.model_id);
      await row.click();
      const d = p.page.locator('[data-testid=logged-model-detail]');
      await d.waitFor();
      assert.match(await d.locator('[data-testid=lm-params]').textContent(), /scale\s*2/);
      assert.match(await d.locator('[data-testid=lm-metrics]').textContent(), /rmse\s*0\.25/);
      await d.locator('[data-testid=model-view]').waitFor();
      assert.match(await d.locator('[data-testid=load-snippet]').textContent(), new RegExp(`models:/${ids.model_id}`));
      await d.locator('[data-testid=artifact-node][data-path="requirements.txt"]').click();
      await d.locator('[data-testid=artifact-preview] pre', { hasText: 'mlflow' }).waitFor();
      // search with the logged-models filter grammar
      await p.page.locator('[data-testid=lm-filter]').fill("name = 'nothing-like-it'");
      await p.page.locator('[data-testid=lm-filter]').press('Enter');
      await p.page.locator('[data-testid=logged-models] [data-testid=empty]').waitFor();
      await p.page.locator('[data-testid=lm-filter]').fill("name = 'doubler'");
      await p.page.locator('[data-testid=lm-filter]').press('Enter');
      await p.page.locator('[data-testid=logged-model-row]').waitFor();
    });
  });
});

describe('registry pages without a registry', () => {
  for (const [name, hash] of [['models', '#/models'], ['model', '#/models/some-model'], ['version', '#/models/some-model/versions/1']]) {
    test(`${name} page says when the server has no registry`, async (t) => {
      await withPage(browser, base, t, async (p) => {
        p.allow(REGISTRY_404);
        // a server without the registry answers its endpoints as mlflowd answers any unknown one
        await p.page.route(REGISTRY_404, (r) => r.fulfill({ status: 404, contentType: 'application/json',
          body: JSON.stringify({ error_code: 'ENDPOINT_NOT_FOUND', message: `No API endpoint for GET ${new URL(r.request().url()).pathname}` }) }));
        await p.go(hash);
        await p.page.locator('[data-testid=no-registry]').waitFor();
      });
    });
  }
});

async function registryPresent() {
  return (await fetch(`${base}/ajax-api/2.0/mlflow/registered-models/search`)).status !== 404;
}

describe('registry', () => {
  test('create, search, describe, tag, alias, stage, rename and delete', async (t) => {
    if (!(await registryPresent())) {
      t.skip('this server has no model registry');
      return;
    }
    await withPage(browser, base, t, async (p) => {
      const page = p.page;
      // a version to work on, registered through the client's REST calls
      const post = (path, body, method = 'POST') => fetch(`${base}/ajax-api/2.0/mlflow/${path}`, {
        method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
      await p.go('#/models');
      await page.locator('[data-testid=create-model]').click();
      await page.locator('dialog input[name=name]').fill('ui-model');
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=model-name]', { hasText: 'ui-model' }).waitFor();
      await post('model-versions/create', { name: 'ui-model', source: `runs:/${ids.run_ids[0]}/model`, run_id: ids.run_ids[0] });
      await page.reload();
      await page.locator('[data-testid=version-row]').first().waitFor();
      // description
      await page.locator('[data-testid=edit-description]').click();
      await page.locator('dialog textarea').fill('A **bold** model');
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=description] strong', { hasText: 'bold' }).waitFor();
      // tag
      await page.locator('[data-testid=tags-add]').click();
      await page.locator('dialog input[name=key]').fill('team');
      await page.locator('dialog input[name=value]').fill('vision');
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=tags] tr[data-key=team]').waitFor();
      // alias
      await page.locator('[data-testid=add-alias]').click();
      await page.locator('dialog input[name=alias]').fill('champion');
      await page.locator('dialog input[name=version]').fill('1');
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=aliases] [data-alias=champion]').waitFor();
      await page.reload();
      await page.locator('[data-testid=tags] tr[data-key=team]').waitFor();
      await page.locator('[data-testid=aliases] [data-alias=champion]').waitFor();
      // search
      await p.go('#/models');
      await page.locator('[data-testid=model-search]').fill('ui-mod');
      await page.locator('[data-testid=model-search]').press('Enter');
      await page.locator('[data-testid=model-row][data-name=ui-model]').waitFor();
      await page.locator('[data-testid=model-search]').fill('zzz-none');
      await page.locator('[data-testid=model-search]').press('Enter');
      await page.locator('[data-testid=empty]').waitFor();
      // version page: stage, signature
      await p.go('#/models/ui-model/versions/1');
      await page.locator('[data-testid=source-run]', { hasText: ids.run_ids[0] }).waitFor();
      await page.locator('[data-testid=stage-select]').selectOption('Staging');
      await page.locator('[data-testid=transition-stage]').click();
      await page.locator('[data-testid=stage]', { hasText: 'Staging' }).waitFor();
      await page.locator('[data-testid=version-signature] [data-testid=signature-inputs]').waitFor();
      // the version's description, tag and alias
      await page.locator('[data-testid=edit-description]').click();
      await page.locator('dialog textarea').fill('version *one*');
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=description] em', { hasText: 'one' }).waitFor();
      await page.locator('[data-testid=tags-add]').click();
      await page.locator('dialog input[name=key]').fill('validated');
      await page.locator('dialog input[name=value]').fill('yes');
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=tags] tr[data-key=validated]').waitFor();
      await page.locator('[data-testid=tags] tr[data-key=validated] button').click();
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=tags] tr[data-key=validated]').waitFor({ state: 'detached' });
      await page.locator('[data-testid=add-alias]').click();
      await page.locator('dialog input[name=alias]').fill('candidate');
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=aliases] [data-alias=candidate]').waitFor();
      await page.reload();
      await page.locator('[data-testid=stage]', { hasText: 'Staging' }).waitFor();
      await page.locator('[data-testid=description] em', { hasText: 'one' }).waitFor();
      await page.locator('[data-testid=aliases] [data-alias=candidate]').waitFor();
      assert.equal(await page.locator('[data-testid=tags] tr[data-key=validated]').count(), 0);
      await page.locator('[data-testid=aliases] [data-alias=candidate] button').click();
      await page.locator('[data-testid=aliases] [data-alias=candidate]').waitFor({ state: 'detached' });
      // a second version, deleted from its page
      await post('model-versions/create', { name: 'ui-model', source: `runs:/${ids.run_ids[0]}/model`, run_id: ids.run_ids[0] });
      await p.go('#/models/ui-model/versions/2');
      await page.locator('[data-testid=delete-version]').click();
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=model-page]').waitFor();
      assert.deepEqual(await page.locator('[data-testid=version-row]').evaluateAll((r) => r.map((e) => e.dataset.version)), ['1']);
      // the model's tag and alias deleted
      await page.locator('[data-testid=tags] tr[data-key=team] button').click();
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=tags] tr[data-key=team]').waitFor({ state: 'detached' });
      await page.locator('[data-testid=aliases] [data-alias=champion] button').click();
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=aliases] [data-alias=champion]').waitFor({ state: 'detached' });
      const m = await (await fetch(`${base}/ajax-api/2.0/mlflow/registered-models/get?name=ui-model`)).json();
      assert.deepEqual([m.registered_model.tags ?? [], m.registered_model.aliases ?? []], [[], []]);
      // rename, then delete
      await p.go('#/models/ui-model');
      await page.locator('[data-testid=rename-model]').click();
      await page.locator('dialog input[name=name]').fill('ui-model-2');
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=model-name]', { hasText: 'ui-model-2' }).waitFor();
      await page.locator('[data-testid=delete-model]').click();
      await page.locator('dialog button[type=submit]').click();
      await page.locator('[data-testid=models-page]').waitFor();
      const r = await fetch(`${base}/ajax-api/2.0/mlflow/registered-models/get?name=ui-model-2`);
      assert.equal(r.status, 404);
    });
  });
});

test('unknown routes show the not-found page', async (t) => {
  await withPage(browser, base, t, async (p) => {
    await p.go('#/no/such/page');
    await p.page.locator('[data-testid=notfound]').waitFor();
  });
});

describe('XSS payloads never run', () => {
  // Each page is opened and left to settle; a payload that ran would set
  // window.__xss, open a dialog (which fails the page) or request /x.
  const pages = () => [
    '#/experiments',
    `#/experiments/${ids.xss_experiment_id}`,
    `#/experiments/${ids.xss_experiment_id}/runs/${ids.xss_run_ids[0]}`,
    `#/compare-runs?runs=${encodeURIComponent(JSON.stringify(ids.xss_run_ids))}`,
    ...(ids.xss_model ? ['#/models', `#/models/${encodeURIComponent(ids.xss_model)}`,
      `#/models/${encodeURIComponent(ids.xss_model)}/versions/1`] : []),
  ];
  test('on every page holding the payloads', async (t) => {
    await withPage(browser, base, t, async (p) => {
      p.allow(/\/x$/); // <img src=x> kept as an inert image by the sanitizer
      for (const hash of pages()) {
        if (/\/runs\/[^/]+$/.test(hash) && !(await hasFile('/js/pages/run.js'))) continue;
        if (/^#\/experiments\/\d+$/.test(hash) && !(await hasFile('/js/pages/runs.js'))) continue;
        await p.go(hash);
        await p.page.waitForLoadState('networkidle');
        await p.page.waitForTimeout(300);
        const bad = await p.page.evaluate(() => ({
          flag: window.__xss,
          handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).map((e) => e.outerHTML.slice(0, 80)),
          scripts: [...document.querySelectorAll('script')].filter((s) => !s.src).length,
          jsLinks: [...document.querySelectorAll('a[href]')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href'))).length,
        }));
        assert.deepEqual(bad, { flag: undefined, handlers: [], scripts: 0, jsLinks: 0 }, hash);
      }
      // the payloads are shown as text
      await p.go(`#/compare-runs?runs=${encodeURIComponent(JSON.stringify(ids.xss_run_ids))}`);
      await p.page.locator('[data-testid=compare-params] td', { hasText: '<img src=x onerror=' }).first().waitFor();
      await p.page.locator('[data-testid=compare-run-link]', { hasText: '<script>' }).waitFor();
    });
  });

  test('in artifact names, Markdown and file contents', async (t) => {
    await withPage(browser, base, t, async (p) => {
      p.allow(/\/x$/);
      await openArtifacts(p, ids.xss_run_ids[0]);
      const nodes = p.page.locator('[data-testid=artifact-node]');
      const paths = await nodes.evaluateAll((els) => els.map((e) => e.dataset.path));
      assert.ok(paths.some((x) => x.startsWith('<img src=x onerror=')), paths.join(' | '));
      for (const path of paths) {
        await select(p, path);
        await preview(p).waitFor();
        await p.page.waitForTimeout(200);
      }
      const bad = await p.page.evaluate(() => ({
        flag: window.__xss,
        handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
        jsLinks: [...document.querySelectorAll('a[href]')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href'))).length,
      }));
      assert.deepEqual(bad, { flag: undefined, handlers: 0, jsLinks: 0 });
    });
  });

  test('in sanitized Markdown', async (t) => {
    await withPage(browser, base, t, async (p) => {
      p.allow(/\/x$/);
      await p.go('#/experiments');
      const out = await p.page.evaluate(async () => {
        const { renderMarkdown } = await import('/js/lib/markdown.js');
        const div = document.createElement('div');
        div.appendChild(renderMarkdown('<img src=x onerror="window.__xss=1">\n\n<script>window.__xss=1</script>\n\n'
          + '[a](javascript:window.__xss=1) <svg onload="window.__xss=1"></svg> <iframe src="javascript:1"></iframe>'
          + '\n\n![ext](https://example.com/a.png) [ok](https://example.com)'));
        document.body.appendChild(div);
        await new Promise((r) => setTimeout(r, 200));
        return {
          flag: window.__xss,
          handlers: [...div.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
          active: div.querySelectorAll('script, iframe, svg, object, embed').length,
          jsLinks: [...div.querySelectorAll('a[href]')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href'))).length,
          text: div.textContent,
          links: [...div.querySelectorAll('a[href]')].map((a) => a.outerHTML),
        };
      });
      assert.deepEqual([out.flag, out.handlers, out.active, out.jsLinks], [undefined, 0, 0, 0]);
      assert.match(out.text, /<img src=x onerror=/); // raw HTML is shown as text
      assert.ok(out.links.includes('<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">ok</a>'), out.links.join(' '));
    });
  });
});
