// logged_models.js: an experiment's MLflow 3 logged models (the experiment
// page's Models tab, #/experiments/<id>/models): search, a table of them, and
// for the chosen one its params, metrics, tags and artifacts.
import { api } from '../api.js';
import { setQuery } from '../app.js';
import { h, clear, errorBox, emptyState } from '../dom.js';
import { fmtTime, relTime, fmtNumber } from '../lib/format.js';
import { artifactBrowser, loggedModelSource } from './artifacts.js';

// Models per page of the search.
const PAGE_SIZE = 100;

function statusLabel(s) {
  return String(s || '').replace(/^LOGGED_MODEL_/, '');
}

function kvTable(rows, testid) {
  return rows.length
    ? h('table', { class: 'table kv', dataset: { testid } }, h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('td', { class: 'mono' }, k), h('td', {}, v)))))
    : h('p', { class: 'muted' }, 'None.');
}

function detail(m, experimentId) {
  const info = m.info;
  const box = h('div', { class: 'panel lm-detail', dataset: { testid: 'logged-model-detail' } });
  const artBox = h('div', {});
  box.append(
    h('h3', {}, info.name, ' ', h('span', { class: 'muted mono' }, info.model_id)),
    h('div', { class: 'overview' },
      h('div', {}, 'Status'), h('div', {}, statusLabel(info.status)),
      h('div', {}, 'Created'), h('div', {}, fmtTime(info.creation_timestamp_ms)),
      h('div', {}, 'Source run'), h('div', {}, info.source_run_id
        ? h('a', { class: 'mono', href: `#/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(info.source_run_id)}` }, info.source_run_id)
        : '—'),
      h('div', {}, 'Type'), h('div', {}, info.model_type || ''),
      h('div', {}, 'Artifact URI'), h('div', { class: 'mono' }, info.artifact_uri || ''),
      h('div', {}, 'Load it'), h('div', { class: 'mono' }, `mlflow.pyfunc.load_model("models:/${info.model_id}")`)),
    h('div', { class: 'grid2' },
      h('div', {}, h('h4', {}, 'Parameters'), kvTable((m.data?.params || []).map((p) => [p.key, p.value]), 'lm-params')),
      h('div', {}, h('h4', {}, 'Metrics'), kvTable((m.data?.metrics || []).map((x) => [x.key, fmtNumber(x.value)]), 'lm-metrics'))),
    h('h4', {}, 'Tags'),
    kvTable((info.tags || []).map((t) => [t.key, t.value]), 'lm-tags'),
    h('h4', {}, 'Artifacts'),
    artBox);
  const cleanup = artifactBrowser(artBox, loggedModelSource(info.model_id));
  return { box, cleanup };
}

export default async function render(root, route) {
  const experimentId = route.params.experimentId;
  const page = h('div', { class: 'logged-models', dataset: { testid: 'logged-models' } });
  root.appendChild(page);
  const ctl = new AbortController();
  let filter = route.query.get('modelFilter') || '';
  let chosen = route.query.get('model') || '';
  const input = h('input', { type: 'search', placeholder: 'Filter, e.g. name = \'model\' or metrics.acc > 0.9', value: filter, dataset: { testid: 'lm-filter' } });
  const errEl = h('div', {});
  const tableEl = h('div', {});
  const detailEl = h('div', {});
  let detailCleanup = null;
  page.append(
    h('form', { class: 'toolbar', onSubmit: (e) => { e.preventDefault(); filter = input.value.trim(); setQuery({ modelFilter: filter }); load(); } },
      input, h('button', { class: 'btn', type: 'submit' }, 'Search')),
    errEl, tableEl, detailEl);

  const show = (m) => {
    if (detailCleanup) detailCleanup();
    detailCleanup = null;
    clear(detailEl);
    for (const tr of tableEl.querySelectorAll('tr.selected')) tr.classList.remove('selected');
    if (!m) return;
    tableEl.querySelector(`tr[data-id="${CSS.escape(m.info.model_id)}"]`)?.classList.add('selected');
    const d = detail(m, experimentId);
    detailEl.appendChild(d.box);
    detailCleanup = d.cleanup;
  };

  async function load() {
    clear(errEl);
    clear(tableEl).appendChild(h('div', { class: 'muted' }, 'Loading…'));
    const models = [];
    let token;
    try {
      do {
        const res = await api('mlflow/logged-models/search', { method: 'POST', signal: ctl.signal, body: {
          experiment_ids: [experimentId], max_results: PAGE_SIZE, ...(filter ? { filter } : {}),
          order_by: [{ field_name: 'creation_time', ascending: false }], ...(token ? { page_token: token } : {}) } });
        models.push(...(res.models || []));
        token = res.next_page_token;
      } while (token && models.length < 10 * PAGE_SIZE);
    } catch (e) {
      if (e.name === 'AbortError') return;
      clear(tableEl);
      errEl.appendChild(errorBox(e));
      return;
    }
    clear(tableEl);
    if (!models.length) {
      tableEl.appendChild(filter ? emptyState('No logged model matches this filter')
        : emptyState('No logged models', h('p', {}, 'Models logged with ', h('code', {}, 'mlflow.<flavor>.log_model(...)'), ' in this experiment show here.')));
      return;
    }
    const metricKeys = [...new Set(models.flatMap((m) => (m.data?.metrics || []).map((x) => x.key)))].sort().slice(0, 6);
    tableEl.appendChild(h('table', { class: 'table', dataset: { testid: 'logged-models-table' } },
      h('thead', {}, h('tr', {}, ['Name', 'Model ID', 'Status', 'Created', 'Source run', ...metricKeys].map((c) => h('th', {}, c)))),
      h('tbody', {}, models.map((m) => {
        const mv = Object.fromEntries((m.data?.metrics || []).map((x) => [x.key, x.value]));
        return h('tr', { class: 'clickable', dataset: { testid: 'logged-model-row', id: m.info.model_id },
          onClick: () => { chosen = m.info.model_id; setQuery({ model: chosen }); show(m); } },
        h('td', {}, h('button', { class: 'btn-link' }, m.info.name)),
        h('td', { class: 'mono' }, m.info.model_id),
        h('td', {}, statusLabel(m.info.status)),
        h('td', { title: fmtTime(m.info.creation_timestamp_ms) }, relTime(m.info.creation_timestamp_ms)),
        h('td', { class: 'mono' }, (m.info.source_run_id || '').slice(0, 8)),
        metricKeys.map((k) => h('td', { class: 'num' }, k in mv ? fmtNumber(mv[k]) : '')));
      }))));
    show(models.find((m) => m.info.model_id === chosen) || null);
  }
  await load();
  return () => { ctl.abort(); if (detailCleanup) detailCleanup(); };
}
