// traces.test.mjs: browser tests of the Traces tab and the trace view against a
// real mlflowd filled by fill_traces.py (the mlflow client's @mlflow.trace).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, fill, launch, withPage } from './harness.mjs';

let srv;
let browser;
let ids;

before(async () => {
  srv = await startServer();
  ids = await fill(srv.url, 'fill_traces.py');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('traces tab: table, filter with the server error inline, sort', async (t) => {
  await withPage(browser, srv.url, t, async ({ page, go, allow }) => {
    await go(`#/experiments/${ids.experiment_id}/traces`);
    await page.waitForSelector('[data-testid=trace-row]');
    assert.equal(await page.locator('[data-testid=trace-row]').count(), 3);
    const rowOf = (id) => page.locator('[data-testid=trace-row]', { has: page.locator(`a[href$="/traces/${id}"]`) });
    const failedRow = rowOf(ids.failed);
    assert.match(await failedRow.textContent(), /ERROR/);
    assert.match(await failedRow.textContent(), /broken/);
    const firstRow = rowOf(ids.first);
    assert.match(await firstRow.textContent(), /what is mlflowd\?/);
    assert.equal(await firstRow.locator(`a[href*="/runs/${ids.run_id}"]`).count(), 1);
    await page.screenshot({ path: `${process.env.BROWSER_SCREENS || 'build/browser-screens'}/traces-tab.png` });

    await page.fill('[data-testid=trace-filter]', "status = 'ERROR'");
    await page.press('[data-testid=trace-filter]', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=trace-row]').length === 1);
    assert.match(page.url(), /traceFilter=/);

    allow(/traces\/search/);
    await page.fill('[data-testid=trace-filter]', 'nonsense.key = 1');
    await page.press('[data-testid=trace-filter]', 'Enter');
    await page.waitForSelector('[data-testid=traces-message] [data-testid=error]');
    assert.match(await page.textContent('[data-testid=traces-message]'), /INVALID_PARAMETER_VALUE/);

    await page.fill('[data-testid=trace-filter]', '');
    await page.press('[data-testid=trace-filter]', 'Enter');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=trace-row]').length === 3);
    await page.click('th:has-text("Request time")');
    // while the sorted page loads the table may have no row: wait for one, never read a missing one
    await page.waitForFunction((first) => {
      const a = document.querySelector('[data-testid=trace-row] a');
      return !!a && a.getAttribute('href').endsWith(first);
    }, ids.first);
  });
});

test('trace view: waterfall, span details, events, assessments', async (t) => {
  await withPage(browser, srv.url, t, async ({ page, go }) => {
    await go(`#/experiments/${ids.experiment_id}/traces`);
    await page.click(`a[href$="/traces/${ids.first}"]`);
    await page.waitForSelector('[data-testid=span-row]');
    assert.equal(await page.textContent('[data-testid=trace-name]'), 'answer');
    const names = await page.locator('[data-testid=span-row]').allTextContents();
    assert.equal(names.length, 3);
    assert.match(names[0], /answer/);
    assert.match(await page.textContent('[data-testid=span-inputs]'), /what is mlflowd\?/);
    await page.locator('[data-testid=span-row]', { hasText: 'retrieve' }).click();
    assert.match(await page.textContent('[data-testid=span-inputs]'), /"query": "what is mlflowd\?"/);
    assert.match(await page.textContent('[data-testid=span-outputs]'), /doc-2/);
    assert.match(await page.textContent('[data-testid=span-event]'), /cache-miss/);
    const rows = await page.locator('[data-testid=assessment-row]').allTextContents();
    assert.equal(rows.length, 2);
    assert.ok(rows.some((r) => /helpful.*feedback.*true.*HUMAN reviewer.*clear answer/.test(r)), rows.join(' | '));
    assert.ok(rows.some((r) => /expected.*expectation/.test(r)), rows.join(' | '));
    await page.screenshot({ path: `${process.env.BROWSER_SCREENS || 'build/browser-screens'}/trace-view.png`, fullPage: true });
  });
});

test('trace names, inputs and tags that are XSS payloads render as text', async (t) => {
  await withPage(browser, srv.url, t, async ({ page, go }) => {
    await go(`#/experiments/${ids.experiment_id}/traces`);
    await page.waitForSelector('[data-testid=trace-row]');
    await go(`#/experiments/${ids.experiment_id}/traces/${ids.xss}`);
    await page.waitForSelector('[data-testid=span-row]');
    assert.match(await page.textContent('[data-testid=trace-name]'), /<img src=x/);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator('img[src=x]').count(), 0);
  });
});
