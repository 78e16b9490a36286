// pages/run.js: the run page (#/experiments/<id>/runs/<run>[/<tab>[/<artifact path>]]
// and #/runs/<run>): overview (info, parent and children, datasets, logged models,
// registered versions, Markdown note, params, metrics, editable tags), rename,
// delete, restore; metric charts; artifacts (pages/artifacts.js). A RUNNING run is
// polled every few seconds and its overview refreshed.
import { api, isMissingEndpoint } from '../api.js';
import { h, clear, errorBox, emptyState, formDialog, confirmDialog, toast, copyButton } from '../dom.js';
import { fmtTime, relTime, fmtDuration, runDuration, fmtNumber, tagMap } from '../lib/format.js';
import { noteEditor } from '../lib/note.js';
import { replaceHash, seg } from '../app.js';

const POLL_MS = 3000;          // refresh interval of a RUNNING run
const MAX_CHILDREN = 100;      // child runs listed
const MAX_MODELS = 20;         // logged models looked up by id
const NOTE = 'mlflow.note.content';
const PARENT = 'mlflow.parentRunId';
const TABS = [['overview', 'Overview'], ['model-metrics', 'Model metrics'], ['system-metrics', 'System metrics'], ['artifacts', 'Artifacts']];

function kvFilter(list, f) {
  f = f.trim().toLowerCase();
  if (!f) return list;
  return list.filter((x) => x.key.toLowerCase().includes(f) || String(x.value).toLowerCase().includes(f));
}

export default async function render(root, route) {
  const runId = route.params.runId;
  let tab = route.params.tab || 'overview';
  if (tab === 'metrics') tab = 'model-metrics';
  const page = h('div', { class: 'page page-wide' });
  root.appendChild(page);

  let run;
  try {
    run = (await api('mlflow/runs/get', { query: { run_id: runId } })).run;
  } catch (e) {
    page.append(errorBox(e), h('p', {}, h('a', { href: '#/' }, 'Back to experiments')));
    return;
  }
  const eid = run.info.experiment_id;
  let closed = false;
  let pollTimer = null;
  let tabCleanup = null;
  const ui = { paramFilter: '', metricFilter: '', showSystemTags: false };

  // secondary lookups, in parallel; each fills its own box when it answers
  const expP = api('mlflow/experiments/get', { query: { experiment_id: eid } }).then((r) => r.experiment).catch(() => null);
  const childrenP = api('mlflow/runs/search', { method: 'POST', body: {
    experiment_ids: [eid], filter: `tags.\`${PARENT}\` = '${runId}'`, max_results: MAX_CHILDREN, order_by: ['attributes.start_time DESC'] } })
    .then((r) => r.runs || []).catch(() => []);
  const versionsP = api('mlflow/model-versions/search', { query: { filter: `run_id = '${runId}'` } })
    .then((r) => r.model_versions || []).catch((e) => (isMissingEndpoint(e) ? null : []));

  const runHref = (id, t) => `#/experiments/${seg(eid)}/runs/${seg(id)}${t && t !== 'overview' ? '/' + t : ''}`;
  const tags = () => tagMap(run.data?.tags);
  const runName = () => run.info.run_name || tags()['mlflow.runName'] || runId;

  // ---- header ----
  const crumbExp = h('a', { href: `#/experiments/${seg(eid)}` }, `Experiment ${eid}`);
  expP.then((e) => { if (e) crumbExp.textContent = e.name; });
  const title = h('h1', { dataset: { testid: 'run-name' } }, runName());
  const statusEl = h('span', {});
  const liveEl = h('span', { class: 'live' });
  const actions = h('div', { class: 'toolbar', style: { margin: 0 } });
  page.append(
    h('div', { class: 'breadcrumb' }, h('a', { href: '#/experiments' }, 'Experiments'), ' / ', crumbExp, ' / '),
    h('div', { class: 'page-header' }, h('div', { class: 'grow' }, h('div', { style: { display: 'flex', gap: '10px', alignItems: 'center' } }, title, statusEl, liveEl)), actions));

  function paintHeader() {
    title.textContent = runName();
    clear(statusEl).appendChild(h('span', { class: `status status-${run.info.status}`, dataset: { testid: 'run-status' } }, run.info.status));
    if (run.info.lifecycle_stage === 'deleted') statusEl.appendChild(h('span', { class: 'status status-FAILED', style: { marginLeft: '6px' } }, 'DELETED'));
    liveEl.textContent = run.info.status === 'RUNNING' ? '● live' : '';
    clear(actions);
    actions.appendChild(h('button', { class: 'btn', dataset: { testid: 'rename-run' }, onClick: rename }, 'Rename'));
    if (run.info.lifecycle_stage === 'deleted') actions.appendChild(h('button', { class: 'btn', dataset: { testid: 'restore-run' }, onClick: restore }, 'Restore'));
    else actions.appendChild(h('button', { class: 'btn btn-danger', dataset: { testid: 'delete-run' }, onClick: del }, 'Delete'));
  }

  async function reload() {
    const r = await api('mlflow/runs/get', { query: { run_id: runId } });
    if (closed) return;
    run = r.run;
    paintHeader();
  }

  async function rename() {
    const v = await formDialog({ title: 'Rename run', fields: [{ name: 'name', label: 'New name', value: runName(), required: true }] });
    if (!v) return;
    try {
      await api('mlflow/runs/update', { method: 'POST', body: { run_id: runId, run_name: v.name.trim() } });
      await reload();
      if (tab === 'overview') showTab('overview');
    } catch (e) { toast(e); }
  }
  async function del() {
    if (!await confirmDialog('Delete run', `Delete run "${runName()}"? It stays restorable from the experiment's Deleted view.`)) return;
    try { await api('mlflow/runs/delete', { method: 'POST', body: { run_id: runId } }); await reload(); } catch (e) { toast(e); }
  }
  async function restore() {
    try { await api('mlflow/runs/restore', { method: 'POST', body: { run_id: runId } }); await reload(); } catch (e) { toast(e); }
  }

  // ---- tabs ----
  const tabsEl = h('div', { class: 'tabs' });
  const body = h('div', {});
  page.append(tabsEl, body);

  function metricKeys(system) {
    return (run.data?.metrics || []).map((m) => m.key).filter((k) => k.startsWith('system/') === system).sort();
  }

  function showTab(name, artifactPath) {
    tab = name;
    if (typeof tabCleanup === 'function') { try { tabCleanup(); } catch (e) { console.error(e); } }
    tabCleanup = null;
    clear(tabsEl);
    for (const [id, label] of TABS) {
      if (id === 'system-metrics' && !metricKeys(true).length && name !== id) continue;
      tabsEl.appendChild(h('button', { class: 'tab' + (id === name ? ' active' : ''), dataset: { testid: `run-tab-${id}` }, onClick: () => {
        if (id === tab) return;
        replaceHash(runHref(runId, id));
        showTab(id);
      } }, label));
    }
    clear(body);
    if (name === 'overview') paintOverview();
    else if (name === 'model-metrics' || name === 'system-metrics') paintCharts(name === 'system-metrics');
    else if (name === 'artifacts') paintArtifacts(artifactPath);
    else body.appendChild(errorBox(new Error(`Unknown tab ${name}`)));
  }

  function paintCharts(system) {
    const keys = metricKeys(system);
    if (!keys.length) { body.appendChild(emptyState(system ? 'No system metrics' : 'No metrics logged')); return; }
    const box = h('div', {});
    body.appendChild(box);
    import('./charts.js').then((m) => {
      if (closed || !box.isConnected) return;
      tabCleanup = m.renderRunsCharts(box, { runs: [{ id: runId, name: runName() }], metricKeys: keys, experimentId: eid,
        live: () => run.info.status === 'RUNNING' });
    }).catch((e) => box.appendChild(errorBox(e)));
  }

  function paintArtifacts(artifactPath) {
    const box = h('div', {});
    body.appendChild(box);
    import('./artifacts.js')
      .then((m) => m.default(box, {
        params: { experimentId: eid, runId, artifactPath: artifactPath || '', artifactUri: run.info.artifact_uri },
        query: new URLSearchParams(), path: route.path,
      }))
      .then((c) => { tabCleanup = c; })
      .catch((e) => { console.error(e); box.appendChild(errorBox(new Error('The artifact browser could not be loaded: ' + e.message))); });
  }

  // ---- overview ----
  const ov = {}; // parts refreshed by the live poll
  let parentP = null;

  function infoGrid() {
    const t = tags();
    const i = run.info;
    const grid = h('div', { class: 'overview', dataset: { testid: 'run-overview' } });
    const row = (label, ...v) => grid.append(h('div', {}, label), h('div', {}, ...v));
    row('Run ID', h('span', { class: 'mono' }, runId), ' ', copyButton(runId));
    const expLink = h('a', { href: `#/experiments/${seg(eid)}` }, crumbExp.textContent);
    expP.then((e) => { if (e) expLink.textContent = e.name; });
    row('Experiment', expLink);
    row('Status', h('span', { class: `status status-${i.status}` }, i.status));
    row('Created', fmtTime(i.start_time), h('span', { class: 'muted' }, ` (${relTime(i.start_time)})`));
    if (i.end_time) row('Ended', fmtTime(i.end_time));
    row('Duration', fmtDuration(runDuration(i)) || '—');
    if (t['mlflow.source.name']) row('Source', h('span', { class: 'mono' }, t['mlflow.source.name']), t['mlflow.source.type'] ? h('span', { class: 'muted' }, ` (${t['mlflow.source.type']})`) : null);
    if (t['mlflow.source.git.commit']) row('Git commit', h('span', { class: 'mono' }, t['mlflow.source.git.commit']));
    if (t['mlflow.source.git.branch']) row('Git branch', t['mlflow.source.git.branch']);
    row('User', i.user_id || t['mlflow.user'] || '');
    row('Lifecycle', i.lifecycle_stage);
    row('Artifact URI', h('span', { class: 'mono' }, i.artifact_uri || ''));
    if (t[PARENT]) {
      const link = h('a', { href: runHref(t[PARENT]), dataset: { testid: 'parent-link' } }, t[PARENT]);
      if (!parentP) parentP = api('mlflow/runs/get', { query: { run_id: t[PARENT] } }).then((r) => r.run.info.run_name).catch(() => null);
      parentP.then((name) => { if (name) link.textContent = name; });
      row('Parent run', link);
    }
    const kids = h('div', { dataset: { testid: 'child-runs' } }, h('span', { class: 'muted' }, '…'));
    childrenP.then((list) => {
      clear(kids);
      if (!list.length) { kids.appendChild(h('span', { class: 'muted' }, 'none')); return; }
      list.forEach((c, n) => kids.append(n ? ', ' : '', h('a', { href: runHref(c.info.run_id) }, c.info.run_name || c.info.run_id)));
      if (list.length >= MAX_CHILDREN) kids.append(h('span', { class: 'muted' }, ` (first ${MAX_CHILDREN})`));
    });
    grid.append(h('div', {}, 'Child runs'), kids);
    const ds = run.inputs?.dataset_inputs || [];
    if (ds.length) {
      row('Datasets', ds.map((d) => {
        const ctx = (d.tags || []).find((x) => x.key === 'mlflow.data.context');
        return h('span', { class: 'tag-chip', title: `digest ${d.dataset?.digest || ''}, source ${d.dataset?.source_type || ''}` },
          `${d.dataset?.name || '?'} (${d.dataset?.digest || ''})${ctx ? ' · ' + ctx.value : ''}`);
      }));
    }
    const models = [];
    for (const m of run.outputs?.model_outputs || []) if (!models.includes(m.model_id)) models.push(m.model_id);
    if (models.length) {
      const box = h('div', {});
      models.slice(0, MAX_MODELS).forEach((id, n) => {
        const el = h('span', { class: 'mono' }, id);
        box.append(n ? ', ' : '', el);
        api(`mlflow/logged-models/${encodeURIComponent(id)}`).then((r) => {
          const lm = r.model?.info;
          if (lm?.name) el.replaceWith(h('span', { title: id }, lm.name, h('span', { class: 'muted' }, ` (${id.slice(0, 8)}…)`)));
        }).catch(() => {});
      });
      row('Logged models', box);
    }
    const versions = h('div', {}, h('span', { class: 'muted' }, '…'));
    versionsP.then((list) => {
      if (list === null) { versions.parentNode && versions.previousSibling.remove(); versions.remove(); return; }
      clear(versions);
      if (!list.length) versions.appendChild(h('span', { class: 'muted' }, 'none'));
      list.forEach((v, n) => versions.append(n ? ', ' : '',
        h('a', { href: `#/models/${seg(v.name)}/versions/${seg(v.version)}` }, `${v.name} v${v.version}`)));
    });
    grid.append(h('div', {}, 'Registered models'), versions);
    return grid;
  }

  function kvTable(list, { numeric = false, metricLinks = false, testid }) {
    if (!list.length) return h('div', { class: 'muted' }, 'None');
    return h('table', { class: 'table kv', dataset: { testid } },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Value'), metricLinks ? h('th', {}, 'Step') : null)),
      h('tbody', {}, list.map((x) => h('tr', {},
        h('td', {}, metricLinks
          ? h('a', { href: `#/metric/${encodeURIComponent(x.key)}?runs=${encodeURIComponent(JSON.stringify([runId]))}&experiments=${encodeURIComponent(JSON.stringify([eid]))}` }, x.key)
          : x.key),
        h('td', { class: numeric ? 'num' : '', title: String(x.value) }, numeric ? fmtNumber(x.value) : String(x.value)),
        metricLinks ? h('td', { class: 'num' }, String(x.step ?? '')) : null))));
  }

  function filteredTable(kind) {
    const isM = kind === 'metrics';
    const box = h('div', {});
    const input = h('input', { type: 'search', placeholder: `Search ${kind}`, value: isM ? ui.metricFilter : ui.paramFilter, dataset: { testid: `${kind}-search` } });
    const list = () => [...(run.data?.[kind] || [])].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const fill = () => {
      if (isM) ui.metricFilter = input.value; else ui.paramFilter = input.value;
      clear(box).appendChild(kvTable(kvFilter(list(), input.value), { numeric: isM, metricLinks: isM, testid: `${kind}-table` }));
    };
    input.addEventListener('input', fill);
    fill();
    return { el: h('div', { class: 'panel' }, h('div', { class: 'toolbar', style: { marginTop: 0 } }, h('h3', { style: { margin: 0 } },
      isM ? 'Metrics' : 'Parameters', h('span', { class: 'muted' }, ` (${(run.data?.[kind] || []).length})`)), h('span', { class: 'grow' }), input), box), fill };
  }

  function tagsPanel() {
    const box = h('div', { class: 'panel', dataset: { testid: 'tags-panel' } });
    const fill = () => {
      clear(box);
      const all = (run.data?.tags || []).filter((t) => t.key !== NOTE).sort((a, b) => (a.key < b.key ? -1 : 1));
      const shown = ui.showSystemTags ? all : all.filter((t) => !t.key.startsWith('mlflow.'));
      const sysToggle = h('input', { type: 'checkbox', checked: ui.showSystemTags });
      sysToggle.addEventListener('change', () => { ui.showSystemTags = sysToggle.checked; fill(); });
      box.appendChild(h('div', { class: 'toolbar', style: { marginTop: 0 } }, h('h3', { style: { margin: 0 } }, 'Tags'), h('span', { class: 'grow' }),
        h('label', {}, sysToggle, ' show mlflow.* tags'),
        h('button', { class: 'btn btn-small', dataset: { testid: 'add-tag' }, onClick: () => editTag(null) }, 'Add tag')));
      if (!shown.length) { box.appendChild(h('div', { class: 'muted' }, 'No tags')); return; }
      box.appendChild(h('table', { class: 'table kv' }, h('tbody', {}, shown.map((t) => h('tr', { dataset: { testid: 'tag-row', key: t.key } },
        h('td', {}, t.key), h('td', {}, t.value),
        h('td', { style: { width: '120px', whiteSpace: 'nowrap' } },
          h('button', { class: 'btn btn-small', onClick: () => editTag(t) }, 'Edit'), ' ',
          h('button', { class: 'btn btn-small btn-danger', dataset: { testid: 'delete-tag' }, onClick: () => deleteTag(t) }, 'Delete')))))));
    };
    async function editTag(t) {
      const v = await formDialog({ title: t ? `Edit tag ${t.key}` : 'Add tag', fields: t
        ? [{ name: 'value', label: 'Value', value: t.value, type: 'textarea' }]
        : [{ name: 'key', label: 'Key', required: true }, { name: 'value', label: 'Value', type: 'textarea' }] });
      if (!v) return;
      try {
        await api('mlflow/runs/set-tag', { method: 'POST', body: { run_id: runId, key: t ? t.key : v.key.trim(), value: v.value } });
        await reload();
        fill();
      } catch (e) { toast(e); }
    }
    async function deleteTag(t) {
      if (!await confirmDialog('Delete tag', `Delete tag "${t.key}"?`)) return;
      try {
        await api('mlflow/runs/delete-tag', { method: 'POST', body: { run_id: runId, key: t.key } });
        await reload();
        fill();
      } catch (e) { toast(e); }
    }
    fill();
    return { el: box, fill };
  }

  function paintOverview() {
    const info = h('div', { class: 'panel' }, infoGrid());
    const note = noteEditor({ text: tags()[NOTE] || '', testid: 'run-note',
      save: async (text) => { await api('mlflow/runs/set-tag', { method: 'POST', body: { run_id: runId, key: NOTE, value: text } }); await reload(); } });
    const params = filteredTable('params');
    const metrics = filteredTable('metrics');
    const tg = tagsPanel();
    body.append(info, note, h('div', { class: 'grid2' }, h('div', {}, params.el, tg.el), h('div', {}, metrics.el)));
    ov.info = info;
    ov.params = params;
    ov.metrics = metrics;
    ov.tags = tg;
  }

  // ---- live refresh of a RUNNING run ----
  function editing() {
    const a = document.activeElement;
    return document.querySelector('dialog[open]') || (a && page.contains(a) && (a.tagName === 'TEXTAREA' || (a.tagName === 'INPUT' && a.type !== 'search')));
  }
  async function poll() {
    pollTimer = null;
    if (closed) return;
    if (!editing()) {
      try {
        await reload();
        if (closed) return;
        if (tab === 'overview' && ov.info?.isConnected) {
          clear(ov.info).appendChild(infoGrid());
          ov.params.fill();
          ov.metrics.fill();
          ov.tags.fill();
        }
      } catch (e) { console.error(e); }
    }
    if (!closed && run.info.status === 'RUNNING') pollTimer = setTimeout(poll, POLL_MS);
    else liveEl.textContent = '';
  }

  paintHeader();
  showTab(TABS.some(([id]) => id === tab) ? tab : 'overview', route.params.artifactPath);
  if (run.info.status === 'RUNNING') pollTimer = setTimeout(poll, POLL_MS);

  return () => {
    closed = true;
    if (pollTimer) clearTimeout(pollTimer);
    if (typeof tabCleanup === 'function') tabCleanup();
  };
}
