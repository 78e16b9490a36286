// models.js: #/models: the registered models, with search by name, paging,
// and creating a model.
import { api } from '../api.js';
import { navigate, setQuery } from '../app.js';
import { h, clear, emptyState, formDialog } from '../dom.js';
import { fmtTime, relTime } from '../lib/format.js';
import { registryError, attempt, modelHref, versionHref } from '../lib/registry.js';

// Models per page (MLflow's UI uses 10/25/50/100; the server allows up to 1000).
const PAGE_SIZE = 50;

function filterFor(text) {
  const t = text.trim();
  if (!t) return undefined;
  return `name ILIKE '%${t.replace(/'/g, "\\'")}%'`;
}

export default async function render(root, route) {
  const page = h('div', { class: 'page', dataset: { testid: 'models-page' } });
  root.appendChild(page);
  const ctl = new AbortController();
  let search = route.query.get('search') || '';
  const input = h('input', { type: 'search', placeholder: 'Search models by name', value: search, dataset: { testid: 'model-search' } });
  const body = h('div', {});
  const create = h('button', { class: 'btn btn-primary', dataset: { testid: 'create-model' }, onClick: async () => {
    const v = await formDialog({ title: 'Create model', submit: 'Create', fields: [
      { name: 'name', label: 'Name', required: true }, { name: 'description', label: 'Description (Markdown)', type: 'textarea' }] });
    if (v === null) return;
    const ok = await attempt(() => api('mlflow/registered-models/create', { method: 'POST',
      body: { name: v.name, ...(v.description ? { description: v.description } : {}) } }));
    if (ok) navigate(modelHref(v.name));
  } }, 'Create model');
  page.append(h('div', { class: 'page-header' }, h('div', { class: 'grow' }, h('h1', {}, 'Registered models')), create),
    h('form', { class: 'toolbar', onSubmit: (e) => { e.preventDefault(); search = input.value; setQuery({ search }); load(); } },
      input, h('button', { class: 'btn', type: 'submit' }, 'Search')),
    body);

  let token = null;
  async function load(more = false) {
    if (!more) { clear(body).appendChild(h('div', { class: 'muted' }, 'Loading…')); token = null; }
    let res;
    try {
      res = await api('mlflow/registered-models/search', { signal: ctl.signal, query: {
        filter: filterFor(search), max_results: PAGE_SIZE, order_by: 'name ASC', page_token: more ? token : undefined } });
    } catch (e) {
      if (e.name === 'AbortError') return;
      clear(body).appendChild(registryError(e));
      if (e.code === 'ENDPOINT_NOT_FOUND') create.disabled = true;
      return;
    }
    const models = res.registered_models || [];
    token = res.next_page_token || null;
    let tbody = body.querySelector('tbody');
    if (!more) {
      clear(body);
      if (!models.length) {
        body.appendChild(search
          ? emptyState(`No model matches "${search}"`)
          : emptyState('No registered models yet', h('p', {}, 'Register one from a run\'s artifacts with ',
            h('code', {}, 'mlflow.register_model("runs:/<run_id>/model", "name")'), ' or with Create model.')));
        return;
      }
      tbody = h('tbody', {});
      body.appendChild(h('table', { class: 'table', dataset: { testid: 'models-table' } },
        h('thead', {}, h('tr', {}, ['Name', 'Latest version', 'Aliases', 'Created', 'Last modified', 'Tags'].map((c) => h('th', {}, c)))),
        tbody));
    }
    for (const m of models) {
      const latest = (m.latest_versions || []).reduce((a, v) => (!a || Number(v.version) > Number(a.version) ? v : a), null);
      tbody.appendChild(h('tr', { dataset: { testid: 'model-row', name: m.name } },
        h('td', {}, h('a', { href: modelHref(m.name) }, m.name)),
        h('td', {}, latest ? h('a', { href: versionHref(m.name, latest.version) }, `Version ${latest.version}`) : ''),
        h('td', {}, (m.aliases || []).map((a) => h('span', { class: 'tag-chip' }, `@${a.alias}: v${a.version}`))),
        h('td', { title: fmtTime(m.creation_timestamp) }, relTime(m.creation_timestamp)),
        h('td', { title: fmtTime(m.last_updated_timestamp) }, relTime(m.last_updated_timestamp)),
        h('td', {}, (m.tags || []).map((t) => h('span', { class: 'tag-chip', title: `${t.key}: ${t.value}` }, `${t.key}: ${t.value}`)))));
    }
    body.querySelector('.load-more')?.remove();
    if (token) body.appendChild(h('button', { class: 'btn load-more', onClick: () => load(true) }, 'Load more'));
  }
  await load();
  return () => ctl.abort();
}
