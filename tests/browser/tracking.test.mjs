// tracking.test.mjs: browser tests of the tracking pages (experiments list, runs
// table, run page, charts) against a real mlflowd filled by fill_tracking.py.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fill, launch, withPage } from './harness.mjs';

let srv;
let browser;
let ids;

const rows = (page) => page.locator('[data-testid=run-row]');
const statusText = (page) => page.locator('[data-testid=runs-status]').textContent();
// names of the rows in the page, top to bottom (kept rows need not be in DOM order)
const inOrder = () => [...document.querySelectorAll('[data-testid=run-row]')]
  .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top)).map((r) => r.querySelector('a').textContent);
const shownInOrder = (page) => page.evaluate(inOrder);
// (a function, not a string: the UI's Content-Security-Policy forbids eval)
const firstShown = (page, name) => page.waitForFunction((want) => [...document.querySelectorAll('[data-testid=run-row]')]
  .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))[0]?.querySelector('a').textContent === want, name);

async function apiPost(path, body) {
  const r = await fetch(`${srv.url}/api/2.0/mlflow/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text);
}

before(async () => {
  srv = await startServer();
  ids = await fill(srv.url, 'fill_tracking.py');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('experiments list: search, create, rename, delete and restore', async (t) => {
  await withPage(browser, srv.url, t, async ({ page, go }) => {
    await go('#/');
    await page.waitForSelector('[data-testid=experiment-row]');
    assert.equal(await page.locator('[data-testid=experiment-row]').count(), 3); // Default, "many" and "long"
    // sort on the server by name (ascending first), kept in the URL
    await page.click('th[data-sort=name]');
    await page.waitForFunction(() => /sort=name/.test(location.hash));
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=experiment-row] td:first-child')].map((x) => x.textContent).join() === 'Default,long,many');
    await page.click('th[data-sort=name]');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=experiment-row] td:first-child')].map((x) => x.textContent).join() === 'many,long,Default');
    await page.fill('[data-testid=experiment-search]', 'MAN');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=experiment-row]').length === 1);
    assert.match(page.url(), /search=MAN/);

    await page.fill('[data-testid=experiment-search]', '');
    await page.click('[data-testid=create-experiment]');
    await page.fill('dialog input[name=name]', 'made <b>here</b>');
    await page.click('dialog button[type=submit]');
    await page.waitForSelector('[data-testid=experiment-name]');
    assert.equal(await page.textContent('[data-testid=experiment-name]'), 'made <b>here</b>');
    assert.match(page.url(), /#\/experiments\/\d+$/);

    await go('#/experiments');
    const row = page.locator('[data-testid=experiment-row]', { hasText: 'made <b>here</b>' });
    await row.getByRole('button', { name: 'Rename' }).click();
    await page.fill('dialog input[name=name]', 'renamed');
    await page.click('dialog button[type=submit]');
    await page.locator('[data-testid=experiment-row]', { hasText: 'renamed' }).waitFor();
    await page.locator('[data-testid=experiment-row]', { hasText: 'renamed' }).getByRole('button', { name: 'Delete' }).click();
    await page.click('dialog button[type=submit]');
    await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid=experiment-row]')].some((r) => r.textContent.includes('renamed')));
    await page.selectOption('[data-testid=experiment-view]', 'deleted');
    await page.locator('[data-testid=experiment-row]', { hasText: 'renamed' }).getByRole('button', { name: 'Restore' }).click();
    await page.waitForSelector('[data-testid=empty]');
    await page.selectOption('[data-testid=experiment-view]', 'active');
    await page.locator('[data-testid=experiment-row]', { hasText: 'renamed' }).waitFor();
  });
});

test('runs table: virtualized rows, every page fetched while scrolling, keys beyond the first page', async (t) => {
  await withPage(browser, srv.url, t, async ({ page, go }) => {
    const searches = [];
    page.on('request', (r) => { if (r.url().includes('/runs/search')) searches.push(JSON.parse(r.postData())); });
    await go(`#/experiments/${ids.experiment_id}`);
    await rows(page).first().waitFor();
    // the param of the last-created run (not on the first page) is a column at once
    await page.locator('[data-col="params.only_in_last"]').waitFor();
    assert.ok(await rows(page).count() < 100, 'only the visible rows are in the DOM');
    // scroll to the end until every run is loaded; no "load more" button
    for (let i = 0; i < 200 && !/^\d+ runs$/.test(await statusText(page)); i++) {
      await page.evaluate(() => { const w = document.querySelector('[data-testid=runs-grid]'); w.scrollTop = w.scrollHeight; });
      await page.waitForTimeout(50);
    }
    assert.equal(await statusText(page), `${700 + 4} runs`);
    assert.ok(searches.length >= 2 && searches.every((s) => s.max_results <= 5000));
    assert.ok(searches.slice(1).every((s) => s.page_token), 'later pages use page tokens');
    await page.evaluate(() => { const w = document.querySelector('[data-testid=runs-grid]'); w.scrollTop = w.scrollHeight; });
    await page.locator('[data-testid=run-row]', { hasText: 'run-0000' }).waitFor();
    assert.ok(await rows(page).count() < 100);
  });
});

test('runs table: server sort, filter with inline errors, view state in the URL, nested runs', async (t) => {
  await withPage(browser, srv.url, t, async (p) => {
    const { page, go } = p;
    p.allow(/runs\/search/); // the invalid filter answers 400
    await go(`#/experiments/${ids.experiment_id}`);
    await rows(page).first().waitFor();
    await page.click('[data-col="metrics.m"]'); // descending first
    await page.waitForFunction(() => document.querySelector('[data-testid=run-row] a')?.textContent === 'run-0699');
    assert.match(decodeURIComponent(page.url()), /orderByKey=metrics\.`m`/);
    await page.click('[data-col="metrics.m"]');
    await page.waitForFunction(() => document.querySelector('[data-testid=run-row] a')?.textContent === 'run-0000');

    await page.fill('[data-testid=run-filter]', 'metrics.m < 10 and params.p != "3"');
    await page.press('[data-testid=run-filter]', 'Enter');
    await page.waitForFunction(() => (document.querySelector('[data-testid=runs-status]')?.textContent ?? '') === '9 runs');
    await page.fill('[data-testid=run-filter]', 'metrics.m <== 1');
    await page.press('[data-testid=run-filter]', 'Enter');
    await page.locator('[data-testid=runs-message] [data-testid=error]').waitFor();
    assert.match(await page.textContent('[data-testid=runs-message]'), /INVALID_PARAMETER_VALUE.*comparator/);

    // a shared link opens the same view
    await page.fill('[data-testid=run-filter]', 'metrics.m < 10');
    await page.press('[data-testid=run-filter]', 'Enter');
    await page.waitForFunction(() => (document.querySelector('[data-testid=runs-status]')?.textContent ?? '') === '10 runs');
    const url = page.url();
    await page.goto('about:blank');
    await page.goto(url);
    await page.waitForFunction(() => document.querySelector('[data-testid=runs-status]')?.textContent === '10 runs');
    assert.equal(await page.inputValue('[data-testid=run-filter]'), 'metrics.m < 10');
    assert.equal(await rows(page).first().locator('a').textContent(), 'run-0000');

    // nested runs: children under their parent, shown on expand
    await page.fill('[data-testid=run-filter]', 'attributes.start_time >= 1700000700000');
    await page.press('[data-testid=run-filter]', 'Enter');
    await page.waitForFunction(() => (document.querySelector('[data-testid=runs-status]')?.textContent ?? '') === '4 runs');
    assert.equal(await rows(page).count(), 2); // parent and live; children folded
    assert.equal(await rows(page).filter({ hasText: 'live' }).locator('.cell').nth(7).textContent(), 'train-ds (training)') // checkbox, name, created, duration, source, user, status, datasets;
    await page.locator('[data-testid=run-row]', { hasText: 'parent' }).locator('[data-testid=expand]').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length === 4);
    const names = await rows(page).locator('a').allTextContents();
    assert.equal(names.indexOf('parent') + 1, names.findIndex((n) => n.startsWith('child-')));

    // column chooser: hide the metric column, kept in the URL
    await page.click('[data-testid=columns-button]');
    await page.locator('[data-testid=column-chooser] label', { hasText: /^ ?m$/ }).locator('input').uncheck();
    await page.waitForFunction(() => !document.querySelector('[data-col="metrics.m"]'));
    assert.match(decodeURIComponent(page.url()), /columns=\[/);
  });
});

test('runs table: select, compare link, delete and restore', async (t) => {
  await withPage(browser, srv.url, t, async ({ page, go }) => {
    await go(`#/experiments/${ids.experiment_id}?searchFilter=${encodeURIComponent('metrics.m < 2')}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=runs-status]')?.textContent === '2 runs');
    // CSV of the filtered runs with the shown columns
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=download-csv]')]);
    const csv = (await (await import('node:fs/promises')).readFile(await download.path(), 'utf8')).trim().split('\n');
    assert.equal(csv.length, 3);
    assert.equal(csv[0], 'run_id,Run name,Created,Duration,Source,User,Status,Datasets,metrics.loss,metrics.m,params.alpha,params.only_in_last,params.p,tags.group,tags.team');
    assert.ok(csv.slice(1).some((l) => l.includes(',run-0001,') && l.includes(',0.5,') && l.endsWith(',FINISHED,,,1,,,1,1,')), csv.join('\n'));

    await page.click('[data-testid=select-all]');
    assert.equal(await page.isEnabled('[data-testid=compare]'), true);
    const ids2 = await rows(page).evaluateAll((els) => els.map((e) => e.dataset.runId));
    await page.click('[data-testid=compare]');
    await page.waitForFunction(() => location.hash.startsWith('#/compare-runs?'));
    const q = new URLSearchParams(new URL(page.url()).hash.split('?')[1]);
    assert.deepEqual(JSON.parse(q.get('runs')).sort(), ids2.sort());
    assert.deepEqual(JSON.parse(q.get('experiments')), [ids.experiment_id]);
    await page.goBack();
    await page.waitForFunction(() => document.querySelector('[data-testid=runs-status]')?.textContent === '2 runs');
    await page.click('[data-testid=select-all]');
    await page.click('[data-testid=delete-runs]');
    await page.click('dialog button[type=submit]');
    await page.locator('[data-testid=empty]').waitFor();
    await page.selectOption('[data-testid=run-lifecycle]', 'deleted');
    await page.waitForFunction(() => document.querySelector('[data-testid=runs-status]')?.textContent === '2 runs');
    await page.click('[data-testid=select-all]');
    await page.click('[data-testid=delete-runs]'); // "Restore" in the deleted view
    await page.locator('[data-testid=empty]').waitFor();
    const r = await apiPost('runs/search', { experiment_ids: [ids.experiment_id], filter: 'metrics.m < 2' });
    assert.equal(r.runs.length, 2);
  });
});

test('run page: overview, tags edited in place, note, rename, live refresh of a RUNNING run', async (t) => {
  await withPage(browser, srv.url, t, async (p) => {
    const { page, go } = p;
    p.allow(/model-versions\/search/); // no registry on this server
    await go(`#/experiments/${ids.experiment_id}/runs/${ids.live}`);
    await page.locator('[data-testid=run-overview]').waitFor();
    assert.equal(await page.textContent('[data-testid=run-status]'), 'RUNNING');
    assert.match(await page.textContent('[data-testid=params-table]'), /alpha\s*0\.5/);
    await page.locator('[data-testid=tag-row][data-key=team]').waitFor();
    assert.match(await page.textContent('[data-testid=run-overview]'), /train-ds \(d1g3st\) · training/);

    await page.click('[data-testid=add-tag]');
    await page.fill('dialog input[name=key]', 'stage');
    await page.fill('dialog textarea[name=value]', '<b>x</b>');
    await page.click('dialog button[type=submit]');
    await page.locator('[data-testid=tag-row][data-key=stage]', { hasText: '<b>x</b>' }).waitFor();
    await page.locator('[data-testid=tag-row][data-key=team] [data-testid=delete-tag]').click();
    await page.click('dialog button[type=submit]');
    await page.waitForFunction(() => !document.querySelector('[data-testid=tag-row][data-key=team]'));

    await page.click('[data-testid=run-note-edit]');
    await page.fill('[data-testid=run-note-text]', 'Hello **world**');
    await page.click('[data-testid=run-note-save]');
    await page.locator('[data-testid=run-note] strong', { hasText: 'world' }).waitFor();

    await page.click('[data-testid=rename-run]');
    await page.fill('dialog input[name=name]', 'live renamed');
    await page.click('dialog button[type=submit]');
    await page.waitForFunction(() => (document.querySelector('[data-testid=run-name]')?.textContent ?? '') === 'live renamed');

    // the RUNNING run refreshes by itself
    await apiPost('runs/log-metric', { run_id: ids.live, key: 'new_metric', value: 7, timestamp: Date.now(), step: 1 });
    await page.locator('[data-testid=metrics-table]', { hasText: 'new_metric' }).waitFor();
    await apiPost('runs/update', { run_id: ids.live, status: 'FINISHED', end_time: Date.now() });
    await page.waitForFunction(() => document.querySelector('[data-testid=run-status]')?.textContent === 'FINISHED');

    const tags = (await (await fetch(`${srv.url}/api/2.0/mlflow/runs/get?run_id=${ids.live}`)).json()).run.data.tags;
    assert.ok(tags.some((x) => x.key === 'stage' && x.value === '<b>x</b>'));
    assert.ok(tags.some((x) => x.key === 'mlflow.note.content' && x.value === 'Hello **world**'));
    assert.ok(!tags.some((x) => x.key === 'team'));

    // parent and child links
    await go(`#/runs/${ids.parent}`);
    await page.locator('[data-testid=child-runs] a', { hasText: 'child-0' }).click();
    await page.locator('[data-testid=parent-link]', { hasText: 'parent' }).waitFor();
  });
});

test('charts: metric page draws from sampled histories, axis changes re-fetch', async (t) => {
  await withPage(browser, srv.url, t, async ({ page, go }) => {
    const calls = [];
    page.on('request', (r) => { if (r.url().includes('/metrics/')) calls.push(r.url()); });
    await go(`#/metric/loss?runs=${encodeURIComponent(JSON.stringify([ids.live]))}&experiments=${encodeURIComponent(JSON.stringify([ids.experiment_id]))}`);
    await page.locator('[data-testid=chart-card] canvas').first().waitFor();
    await page.waitForFunction(() => / ms/.test((document.querySelector('[data-testid=chart-card] h4')?.textContent ?? '')));
    // the min/max sample and, asked beside it, the preview (each bucket's first point), over the same buckets
    const mm = calls.filter((u) => u.includes('mlflowd/metrics/get-history-bulk-minmax') && u.includes('metric_key=loss'));
    const firstAt = mm.findIndex((u) => new URL(u).searchParams.get('sample') === 'first');
    const minmaxAt = mm.findIndex((u) => !new URL(u).searchParams.has('sample'));
    assert.ok(minmaxAt === 0 && firstAt === 1, calls.join('\n'));
    assert.equal(new Set(mm.map((u) => new URL(u).searchParams.get('max_results'))).size, 1);
    assert.ok(!calls.some((u) => u.includes('metrics/get-history?')), 'never the full history');
    // drag-zoom re-fetches the zoomed step range
    const over = await page.locator('[data-testid=chart-card] .u-over').first().boundingBox();
    await page.mouse.move(over.x + over.width * 0.3, over.y + 20);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.6, over.y + 30, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction(() => (document.querySelector('[data-testid=chart-card] h4')?.textContent ?? '').includes('zoomed'));
    assert.ok(calls.some((u) => /start_step=\d+&end_step=\d+/.test(u)), calls.join('\n'));
    const before = calls.length;
    await page.selectOption('[data-testid=x-axis]', 'relative');
    await page.waitForFunction(() => /x_axis=relative/.test(location.hash));
    assert.ok(calls.length > before);
    await page.locator('[data-testid=smoothing]').evaluate((el) => { el.value = '0.9'; el.dispatchEvent(new Event('input')); });
    await page.check('[data-testid=log-scale]');
    await page.waitForFunction(() => /line_smoothness=90/.test(location.hash) && /y_axis_scale=log/.test(location.hash));
    await page.locator('[data-testid=chart-card] canvas').first().waitFor();
    // the options come back from the URL
    await page.reload();
    await page.locator('[data-testid=chart-card] canvas').first().waitFor();
    assert.equal(await page.inputValue('[data-testid=x-axis]'), 'relative');
    assert.equal(await page.isChecked('[data-testid=log-scale]'), true);
    assert.equal(await page.inputValue('[data-testid=smoothing]'), '0.9');
    // on a time axis a zoom re-reads the steps shown inside the zoomed time range
    await page.waitForFunction(() => / ms/.test((document.querySelector('[data-testid=chart-card] h4')?.textContent ?? '')));
    const zoomCalls = calls.length;
    const box2 = await page.locator('[data-testid=chart-card] .u-over').first().boundingBox();
    await page.mouse.move(box2.x + box2.width * 0.2, box2.y + 20);
    await page.mouse.down();
    await page.mouse.move(box2.x + box2.width * 0.5, box2.y + 30, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction(() => (document.querySelector('[data-testid=chart-card] h4')?.textContent ?? '').includes('zoomed'));
    const zc = calls.slice(zoomCalls).find((u) => /start_step=\d+&end_step=\d+/.test(u));
    assert.ok(zc, calls.slice(zoomCalls).join('\n'));
    const zq = new URL(zc).searchParams;
    assert.ok(Number(zq.get('start_step')) > 0 && Number(zq.get('end_step')) < 49, zc);

    // a long history is read again with the min/max sampler, which keeps its spike
    // the min/max sample itself, not the preview (sample=first) asked beside it
    const minmax = page.waitForResponse((r) => r.url().includes('mlflowd/metrics/get-history-bulk-minmax') &&
      r.url().includes('metric_key=spiky') && !new URL(r.url()).searchParams.has('sample'));
    await go(`#/metric/spiky?runs=${encodeURIComponent(JSON.stringify([ids.long]))}`);
    const body = await (await minmax).json();
    assert.ok(body.metrics.some((m) => m.step === 1234 && m.value === 100), 'the spike is in the sample');
    await page.waitForFunction(() => /points/.test((document.querySelector('[data-testid=chart-card] h4')?.textContent ?? '')));
    // a chart of fewer than 2,000 points draws 1.5-pixel lines, a denser one 1-pixel lines
    // (the software rasterizer's fast path)
    const widthOf = async (metric) => {
      const card = `[data-testid=chart-card][data-metric=${metric}]`;
      await page.waitForFunction((sel) => /points/.test(document.querySelector(`${sel} h4`)?.textContent ?? ''), card);
      const t = await page.textContent(`${card} h4`);
      return [Number(/(\d+) points/.exec(t)[1]), await page.getAttribute(`${card} .chart-plot`, 'data-line-width')];
    };
    const [few, thick] = await widthOf('spiky');
    assert.ok(few <= 2000 && thick === '1.5', `${few} points, width ${thick}`);
    await go(`#/metric/noisy?runs=${encodeURIComponent(JSON.stringify(ids.noisy))}`);
    const [many, thin] = await widthOf('noisy');
    assert.ok(many > 2000 && thin === '1', `${many} points, width ${thin}`);

    await go(`#/experiments/${ids.experiment_id}/chart`);
    await page.locator('[data-testid=chart-card][data-metric=m] canvas').waitFor();
    // a card's title opens the metric page of the same runs
    await page.locator('[data-testid=chart-card][data-metric=m] [data-testid=chart-metric-link]').click();
    await page.waitForFunction(() => location.hash.startsWith('#/metric/m?runs='));
    assert.equal(JSON.parse(new URLSearchParams(page.url().split('?')[1]).get('runs')).length, 10);
    await page.locator('[data-testid=chart-card] canvas').first().waitFor();
  });
});

test('user strings are rendered as text: no markup from names, params, tags or notes', async (t) => {
  const xss = '<img src=x onerror="window.__xss=1">';
  const exp = await apiPost('experiments/create', { name: `x ${xss}`, tags: [{ key: 'mlflow.note.content', value: xss }] });
  const run = (await apiPost('runs/create', { experiment_id: exp.experiment_id, run_name: xss, tags: [{ key: 'mlflow.note.content', value: xss }] })).run;
  await apiPost('runs/log-batch', { run_id: run.info.run_id, params: [{ key: 'p', value: xss }], tags: [{ key: 't', value: xss }] });
  await withPage(browser, srv.url, t, async (p) => {
    const { page, go } = p;
    p.allow(/model-versions\/search|\/x$/); // no registry; the sanitized note keeps a same-origin <img src=x>
    p.allowConsole(/inline event handler/); // the sanitizer's inert parse of the note, refused by the CSP
    await go(`#/experiments/${exp.experiment_id}`);
    await page.locator('[data-testid=run-row] a', { hasText: xss }).waitFor();
    assert.equal(await page.textContent('[data-testid=experiment-name]'), `x ${xss}`);
    await page.locator('[data-testid=run-row] a').click();
    await page.locator('[data-testid=params-table]', { hasText: xss }).waitFor();
    await page.locator('[data-testid=tag-row][data-key=t]', { hasText: xss }).waitFor();
    assert.equal(await page.textContent('[data-testid=run-name]'), xss);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator('[onerror]').count(), 0);
  });
});

test('a fresh server shows the two lines of Python that log a first run', async (t) => {
  const fresh = await startServer();
  t.after(() => fresh.stop());
  await withPage(browser, fresh.url, t, async ({ page, go }) => {
    await go('#/');
    const snippet = await page.locator('[data-testid=first-run-snippet]').textContent();
    assert.equal(snippet.split('\n').length, 2);
    assert.ok(snippet.includes(`set_tracking_uri("${fresh.url}")`) && snippet.includes('mlflow.start_run()'));
    await go('#/experiments/0');
    await page.locator('[data-testid=first-run-snippet]').waitFor();
  });
});

test('runs whose parent tags form a loop stay in the table', async (t) => {
  const exp = await apiPost('experiments/create', { name: 'loop' });
  const a = (await apiPost('runs/create', { experiment_id: exp.experiment_id, run_name: 'a' })).run.info.run_id;
  const b = (await apiPost('runs/create', { experiment_id: exp.experiment_id, run_name: 'b' })).run.info.run_id;
  const c = (await apiPost('runs/create', { experiment_id: exp.experiment_id, run_name: 'c' })).run.info.run_id;
  await apiPost('runs/set-tag', { run_id: a, key: 'mlflow.parentRunId', value: b });
  await apiPost('runs/set-tag', { run_id: b, key: 'mlflow.parentRunId', value: a });
  await apiPost('runs/set-tag', { run_id: c, key: 'mlflow.parentRunId', value: c });
  await withPage(browser, srv.url, t, async ({ page, go }) => {
    await go(`#/experiments/${exp.experiment_id}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=runs-status]')?.textContent === '3 runs');
    assert.deepEqual((await rows(page).locator('a').allTextContents()).sort(), ['a', 'b', 'c']);
  });
});

test('unknown experiments and runs show the server message, not a blank page', async (t) => {
  await withPage(browser, srv.url, t, async (p) => {
    const { page, go } = p;
    p.allow(/experiments\/get|mlflowd\/experiments\/keys|runs\/search|runs\/get/);
    await go('#/experiments/987654');
    await page.locator('[data-testid=error]', { hasText: 'RESOURCE_DOES_NOT_EXIST' }).waitFor();
    await go('#/runs/0123456789abcdef0123456789abcdef');
    await page.locator('[data-testid=error]', { hasText: 'RESOURCE_DOES_NOT_EXIST' }).waitFor();
    await go('#/experiments/not-a-number');
    await page.locator('[data-testid=error]', { hasText: 'INVALID_PARAMETER_VALUE' }).waitFor();
  });
});

test('runs table: refreshes by itself while runs are RUNNING (scroll, selection and unchanged rows kept); duration sort', async (t) => {
  const exp = await apiPost('experiments/create', { name: 'live-table' });
  const eid = exp.experiment_id;
  const t0 = Date.now() - 10 * 86400000;
  const made = [];
  for (let i = 0; i < 60; i++) {
    const run = (await apiPost('runs/create', { experiment_id: eid, run_name: `r${i}`, start_time: t0 + i * 1000 })).run.info.run_id;
    await apiPost('runs/log-metric', { run_id: run, key: 'acc', value: i / 100, timestamp: t0, step: 0 });
    await apiPost('runs/update', { run_id: run, status: 'FINISHED', end_time: t0 + i * 1000 + (i + 1) * 1000 }); // duration (i + 1) s
    made.push(run);
  }
  const live = (await apiPost('runs/create', { experiment_id: eid, run_name: 'live', start_time: t0 + 30500 })).run.info.run_id;
  await apiPost('runs/log-metric', { run_id: live, key: 'acc', value: 0.5, timestamp: t0, step: 0 });
  await withPage(browser, srv.url, t, async ({ page, go }) => {
    const searches = [];
    page.on('request', (r) => { if (r.url().includes('/runs/search')) searches.push(JSON.parse(r.postData())); });
    await go(`#/experiments/${eid}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=runs-status]')?.textContent === '61 runs');
    // select the newest run, scroll down to the running one
    await page.locator(`[data-run-id="${made[59]}"] input[type=checkbox]`).check();
    await page.evaluate(() => { document.querySelector('[data-testid=runs-grid]').scrollTop = 560; });
    const liveRow = page.locator(`[data-testid=run-row][data-run-id="${live}"]`);
    await liveRow.waitFor();
    assert.equal(await liveRow.locator('.status').textContent(), 'RUNNING');
    await page.evaluate((id) => { document.querySelector(`[data-run-id="${id}"]`).dataset.mark = 'kept'; }, made[40]);
    // the run logs, finishes, and a new run starts
    await apiPost('runs/log-metric', { run_id: live, key: 'acc', value: 0.75, timestamp: t0 + 1, step: 1 });
    await apiPost('runs/update', { run_id: live, status: 'FINISHED', end_time: t0 + 5 * 86400000 }); // 5 days
    const late = (await apiPost('runs/create', { experiment_id: eid, run_name: 'late', start_time: t0 + 100000 })).run.info.run_id;
    await page.waitForFunction((id) => document.querySelector(`[data-run-id="${id}"] .status`)?.textContent === 'FINISHED', live, { timeout: 60000 });
    await page.waitForFunction(() => /^62 runs/.test((document.querySelector('[data-testid=runs-status]')?.textContent ?? '')));
    assert.ok((await liveRow.textContent()).includes('0.75'), await liveRow.textContent());
    assert.equal(await page.evaluate(() => document.querySelector('[data-testid=runs-grid]').scrollTop), 560);
    assert.match(await statusText(page), /1 selected/);
    // the unchanged row is the same element (moved one row down by the new run), not drawn again
    assert.equal(await page.evaluate((id) => document.querySelector(`[data-run-id="${id}"]`).dataset.mark, made[40]), 'kept');
    await page.evaluate(() => { document.querySelector('[data-testid=runs-grid]').scrollTop = 0; });
    await page.locator(`[data-run-id="${made[59]}"] input[type=checkbox]:checked`).waitFor();
    assert.equal((await shownInOrder(page))[0], 'late');

    // duration: MLflow's search-runs has no order key for it; sorted in the page over every run
    const before = searches.length;
    await page.click('[data-col="attr.duration"]'); // longest first
    assert.match(page.url(), /orderByKey=duration/);
    await firstShown(page, 'late'); // RUNNING for 10 days
    assert.deepEqual((await shownInOrder(page)).slice(0, 4), ['late', 'live', 'r59', 'r58']);
    await page.click('[data-col="attr.duration"]');
    await firstShown(page, 'r0');
    assert.deepEqual((await shownInOrder(page)).slice(0, 3), ['r0', 'r1', 'r2']);
    assert.ok(searches.slice(before).every((s) => !JSON.stringify(s.order_by).includes('duration')), 'the server is never asked to sort by duration');
  });
});
