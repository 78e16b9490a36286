// pages/experiments.js: the experiments list (#/ and #/experiments): search by
// name, sort, create, rename, delete, restore. View state lives in the URL query.
import { api } from '../api.js';
import { h, clear, errorBox, emptyState, formDialog, confirmDialog, toast } from '../dom.js';
import { fmtTime, relTime } from '../lib/format.js';
import { setQuery, seg } from '../app.js';

const PAGE = 100;
const SORTS = {
  last_update_time: 'Last modified',
  creation_time: 'Created',
  name: 'Name',
};

// The SQL LIKE pattern for a substring search, with LIKE's wildcards escaped
// the way MLflow's search accepts them (they match literally only as data).
function likeQuote(s) {
  return "'%" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "%'";
}

// The two lines of Python that log a first run to this server.
function firstRun() {
  return h('div', {}, h('p', {}, 'Log a first run from Python:'),
    h('pre', { dataset: { testid: 'first-run-snippet' } },
      `import mlflow; mlflow.set_tracking_uri("${location.origin}")\n` +
      'with mlflow.start_run(): mlflow.log_metric("accuracy", 0.9)'));
}

export default async function render(root, route) {
  const q = route.query;
  const state = {
    search: q.get('search') || '',
    view: q.get('view') === 'deleted' ? 'deleted' : 'active',
    sort: SORTS[q.get('sort')] ? q.get('sort') : 'last_update_time',
    asc: q.get('asc') === 'true' ? true : (q.get('asc') === 'false' ? false : null),
  };
  const isAsc = () => (state.asc === null ? state.sort === 'name' : state.asc);

  const list = h('div', {});
  const status = h('div', { class: 'grid-status' });
  let token = null;
  let items = [];
  let ctl = null;

  const searchBox = h('input', { type: 'search', placeholder: 'Search experiments by name', value: state.search,
    dataset: { testid: 'experiment-search' } });
  let timer = null;
  searchBox.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.search = searchBox.value; sync(); load(true); }, 250);
  });
  const viewSel = h('select', { dataset: { testid: 'experiment-view' }, onChange: () => { state.view = viewSel.value; sync(); load(true); } },
    h('option', { value: 'active' }, 'Active'), h('option', { value: 'deleted' }, 'Deleted'));
  viewSel.value = state.view;

  function sync() {
    setQuery({ search: state.search || null, view: state.view === 'deleted' ? 'deleted' : null,
      sort: state.sort === 'last_update_time' ? null : state.sort, asc: state.asc === null ? null : String(state.asc) });
  }

  async function create() {
    const v = await formDialog({ title: 'Create experiment', submit: 'Create', fields: [
      { name: 'name', label: 'Name', required: true },
      { name: 'artifact_location', label: 'Artifact location (optional)', placeholder: 'default: the server\'s artifact root' },
    ] });
    if (!v) return;
    try {
      const body = { name: v.name.trim() };
      if (v.artifact_location.trim()) body.artifact_location = v.artifact_location.trim();
      const r = await api('mlflow/experiments/create', { method: 'POST', body });
      location.hash = `#/experiments/${seg(r.experiment_id)}`;
    } catch (e) { toast(e); }
  }

  async function rename(exp) {
    const v = await formDialog({ title: 'Rename experiment', fields: [{ name: 'name', label: 'New name', value: exp.name, required: true }] });
    if (!v) return;
    try {
      await api('mlflow/experiments/update', { method: 'POST', body: { experiment_id: exp.experiment_id, new_name: v.name.trim() } });
      load(true);
    } catch (e) { toast(e); }
  }

  async function del(exp) {
    if (!await confirmDialog('Delete experiment', `Delete "${exp.name}" and mark its runs deleted? It can be restored from the Deleted view.`)) return;
    try {
      await api('mlflow/experiments/delete', { method: 'POST', body: { experiment_id: exp.experiment_id } });
      load(true);
    } catch (e) { toast(e); }
  }

  async function restore(exp) {
    try {
      await api('mlflow/experiments/restore', { method: 'POST', body: { experiment_id: exp.experiment_id } });
      load(true);
    } catch (e) { toast(e); }
  }

  function header(key, label) {
    const active = state.sort === key;
    return h('th', { class: 'sortable', dataset: { sort: key }, onClick: () => {
      if (active) state.asc = !isAsc(); else { state.sort = key; state.asc = null; }
      sync(); load(true);
    } }, label, active ? (isAsc() ? ' ▲' : ' ▼') : '');
  }

  function table() {
    if (!items.length) {
      if (state.search || state.view === 'deleted') {
        return emptyState(state.view === 'deleted' ? 'No deleted experiments' : 'No experiment matches this search');
      }
      return emptyState('No experiments yet', firstRun(),
        h('p', {}, 'or ', h('button', { class: 'btn btn-primary', onClick: create }, 'Create an experiment')));
    }
    return h('table', { class: 'table', dataset: { testid: 'experiments-table' } },
      h('thead', {}, h('tr', {}, header('name', 'Name'), h('th', {}, 'ID'), header('creation_time', 'Created'),
        header('last_update_time', 'Last modified'), h('th', {}, 'Artifact location'), h('th', {}, 'Tags'), h('th', {}, ''))),
      h('tbody', {}, items.map((e) => h('tr', { dataset: { testid: 'experiment-row', id: e.experiment_id } },
        h('td', {}, state.view === 'deleted' ? h('span', {}, e.name)
          : h('a', { href: `#/experiments/${seg(e.experiment_id)}` }, e.name)),
        h('td', { class: 'mono' }, e.experiment_id),
        h('td', { title: fmtTime(e.creation_time) }, relTime(e.creation_time)),
        h('td', { title: fmtTime(e.last_update_time) }, relTime(e.last_update_time)),
        h('td', { class: 'mono muted' }, e.artifact_location || ''),
        h('td', {}, (e.tags || []).filter((t) => !t.key.startsWith('mlflow.')).slice(0, 5)
          .map((t) => h('span', { class: 'tag-chip', title: `${t.key}: ${t.value}` }, `${t.key}: ${t.value}`))),
        h('td', { style: { whiteSpace: 'nowrap' } }, state.view === 'deleted'
          ? h('button', { class: 'btn btn-small', onClick: () => restore(e) }, 'Restore')
          : [h('button', { class: 'btn btn-small', onClick: () => rename(e) }, 'Rename'), ' ',
            h('button', { class: 'btn btn-small btn-danger', onClick: () => del(e) }, 'Delete')])))));
  }

  async function load(reset) {
    if (ctl) ctl.abort();
    ctl = new AbortController();
    if (reset) { token = null; items = []; }
    const query = {
      max_results: PAGE,
      order_by: [`${state.sort} ${isAsc() ? 'ASC' : 'DESC'}`],
      view_type: state.view === 'deleted' ? 'DELETED_ONLY' : 'ACTIVE_ONLY',
      page_token: token || undefined,
    };
    if (state.search.trim()) query.filter = `name ILIKE ${likeQuote(state.search.trim())}`;
    status.textContent = 'Loading…';
    try {
      const r = await api('mlflow/experiments/search', { query, signal: ctl.signal });
      items = items.concat(r.experiments || []);
      token = r.next_page_token || null;
      clear(list).appendChild(table());
      if (!state.search && state.view === 'active' && items.length === 1 && items[0].experiment_id === '0') {
        const none = await api('mlflow/runs/search', { method: 'POST', body: { experiment_ids: ['0'], max_results: 1, run_view_type: 'ALL' } })
          .then((x) => !(x.runs || []).length).catch(() => false);
        if (none && list.isConnected) list.appendChild(h('div', { class: 'empty', style: { marginTop: '12px' } }, h('div', { class: 'empty-title' }, 'No runs yet'), firstRun()));
      }
      clear(status).append(`${items.length} experiment${items.length === 1 ? '' : 's'}`);
      if (token) status.appendChild(h('button', { class: 'btn btn-small', onClick: () => load(false) }, 'Load more'));
    } catch (e) {
      if (e.name === 'AbortError') return;
      clear(status);
      clear(list).appendChild(errorBox(e));
    }
  }

  root.appendChild(h('div', { class: 'page' },
    h('div', { class: 'page-header' }, h('div', { class: 'grow' }, h('h1', {}, 'Experiments')),
      h('button', { class: 'btn btn-primary', dataset: { testid: 'create-experiment' }, onClick: create }, 'Create experiment')),
    h('div', { class: 'toolbar' }, searchBox, viewSel),
    list, status));
  await load(true);
  return () => { if (ctl) ctl.abort(); clearTimeout(timer); };
}
