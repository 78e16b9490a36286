// model.js: #/models/<name>: a registered model: description, tags, aliases,
// its versions; rename and delete.
import { api } from '../api.js';
import { navigate } from '../app.js';
import { h, clear, formDialog, confirmDialog, emptyState } from '../dom.js';
import { fmtTime, relTime } from '../lib/format.js';
import { registryError, attempt, descriptionBlock, tagTable, quoteName, modelHref, versionHref } from '../lib/registry.js';

// Versions listed on the page (MLflow's search allows up to 10,000).
const MAX_VERSIONS = 1000;

export function aliasEditor(name, aliases, versions, onChange) {
  const box = h('div', { class: 'aliases', dataset: { testid: 'aliases' } });
  const list = [...(aliases || [])];
  const draw = () => {
    clear(box);
    box.append(...list.map((a) => h('span', { class: 'tag-chip alias-chip', dataset: { alias: a.alias } },
      `@${a.alias} → v${a.version} `,
      h('button', { class: 'btn-link', title: `Delete alias ${a.alias}`, onClick: async () => {
        if (!(await confirmDialog('Delete alias', `Delete the alias "@${a.alias}"?`))) return;
        if (await attempt(() => api('mlflow/registered-models/alias', { method: 'DELETE', body: { name, alias: a.alias } }))) {
          list.splice(list.indexOf(a), 1);
          draw();
          onChange?.(list);
        }
      } }, '×'))));
    if (!list.length) box.appendChild(h('span', { class: 'muted' }, 'No aliases. '));
    box.appendChild(h('button', { class: 'btn btn-small', dataset: { testid: 'add-alias' }, onClick: async () => {
      const v = await formDialog({ title: 'Set alias', submit: 'Set', fields: [
        { name: 'alias', label: 'Alias', required: true },
        { name: 'version', label: 'Version', required: true, value: versions?.length ? String(versions[0]) : '' }] });
      if (v === null) return;
      const alias = v.alias.replace(/^@/, '');
      if (await attempt(() => api('mlflow/registered-models/alias', { method: 'POST', body: { name, alias, version: v.version } }))) {
        const old = list.find((a) => a.alias === alias);
        if (old) old.version = v.version;
        else list.push({ alias, version: v.version });
        draw();
        onChange?.(list);
      }
    } }, 'Add alias'));
  };
  draw();
  return box;
}

export default async function render(root, route) {
  const name = route.params.name;
  const page = h('div', { class: 'page', dataset: { testid: 'model-page' } });
  root.appendChild(page);
  page.appendChild(h('div', { class: 'breadcrumb' }, h('a', { href: '#/models' }, 'Registered models'), ' / '));
  const ctl = new AbortController();
  let model;
  let versions;
  try {
    const [m, vs] = await Promise.all([
      api('mlflow/registered-models/get', { query: { name }, signal: ctl.signal }),
      api('mlflow/model-versions/search', { query: { filter: `name=${quoteName(name)}`, max_results: MAX_VERSIONS }, signal: ctl.signal }),
    ]);
    model = m.registered_model;
    versions = (vs.model_versions || []).sort((a, b) => Number(b.version) - Number(a.version));
  } catch (e) {
    if (e.name === 'AbortError') return null;
    page.append(h('h1', {}, name), registryError(e));
    return null;
  }

  const rename = h('button', { class: 'btn', dataset: { testid: 'rename-model' }, onClick: async () => {
    const v = await formDialog({ title: 'Rename model', submit: 'Rename', fields: [{ name: 'name', label: 'New name', value: name, required: true }] });
    if (v === null || v.name === name) return;
    if (await attempt(() => api('mlflow/registered-models/rename', { method: 'POST', body: { name, new_name: v.name } }))) navigate(modelHref(v.name));
  } }, 'Rename');
  const del = h('button', { class: 'btn btn-danger', dataset: { testid: 'delete-model' }, onClick: async () => {
    if (!(await confirmDialog('Delete model', `Delete the model "${name}" and its ${versions.length} version(s)? This cannot be undone.`))) return;
    if (await attempt(() => api('mlflow/registered-models/delete', { method: 'DELETE', body: { name } }))) navigate('#/models');
  } }, 'Delete');

  page.append(
    h('div', { class: 'page-header' }, h('div', { class: 'grow' }, h('h1', { dataset: { testid: 'model-name' } }, model.name)), rename, del),
    h('div', { class: 'meta' },
      h('span', {}, 'Created ', h('b', { title: fmtTime(model.creation_timestamp) }, relTime(model.creation_timestamp))),
      h('span', {}, 'Last modified ', h('b', { title: fmtTime(model.last_updated_timestamp) }, relTime(model.last_updated_timestamp)))),
    descriptionBlock(model.description || '', (text) => api('mlflow/registered-models/update', { method: 'PATCH', body: { name, description: text } })),
    h('h3', {}, 'Aliases'),
    aliasEditor(name, model.aliases, versions.map((v) => v.version)),
    h('h3', {}, 'Tags'),
    tagTable(model.tags, {
      set: (key, value) => api('mlflow/registered-models/set-tag', { method: 'POST', body: { name, key, value } }),
      del: (key) => api('mlflow/registered-models/delete-tag', { method: 'DELETE', body: { name, key } }),
    }),
    h('h3', {}, `Versions (${versions.length})`),
    versions.length
      ? h('table', { class: 'table', dataset: { testid: 'versions-table' } },
        h('thead', {}, h('tr', {}, ['Version', 'Registered', 'Stage', 'Aliases', 'Status', 'Source run', 'Description'].map((c) => h('th', {}, c)))),
        h('tbody', {}, versions.map((v) => h('tr', { dataset: { testid: 'version-row', version: v.version } },
          h('td', {}, h('a', { href: versionHref(name, v.version) }, `Version ${v.version}`)),
          h('td', { title: fmtTime(v.creation_timestamp) }, relTime(v.creation_timestamp)),
          h('td', {}, v.current_stage || 'None'),
          h('td', {}, (v.aliases || []).map((a) => h('span', { class: 'tag-chip' }, `@${a}`))),
          h('td', {}, v.status || ''),
          h('td', {}, v.run_id ? h('a', { class: 'mono', href: `#/runs/${encodeURIComponent(v.run_id)}` }, v.run_id.slice(0, 8)) : ''),
          h('td', { class: 'muted' }, (v.description || '').slice(0, 120))))))
      : emptyState('No versions yet', h('p', {}, 'Register a model from a run to create version 1.')));
  return () => ctl.abort();
}
