// model_version.js: #/models/<name>/versions/<v>: one model version: source
// run, stage (with transition), aliases, tags, description, and the signature
// read from its MLmodel file; delete.
import { api, queryString } from '../api.js';
import { navigate } from '../app.js';
import { h, clear, errorBox, formDialog, confirmDialog } from '../dom.js';
import { fmtTime, relTime } from '../lib/format.js';
import { registryError, attempt, descriptionBlock, tagTable, modelHref, versionHref } from '../lib/registry.js';
import { mlmodelView } from './artifacts.js';

const STAGES = ['None', 'Staging', 'Production', 'Archived'];

async function getText(url, signal) {
  const r = await fetch(url, { signal });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.text();
}

// The version's MLmodel text: the registry's own endpoint, else the logged
// model's or the source run's copy.
async function mlmodelText(v, signal) {
  const tries = [`model-versions/get-artifact?${queryString({ path: 'MLmodel', name: v.name, version: v.version })}`];
  if (v.model_id) {
    tries.push(`ajax-api/2.0/mlflow/logged-models/${encodeURIComponent(v.model_id)}/artifacts/files?${queryString({ artifact_file_path: 'MLmodel' })}`);
  }
  const m = /^runs:\/([^/]+)\/(.+)$/.exec(v.source || '');
  if (m) tries.push(`get-artifact?${queryString({ path: `${m[2]}/MLmodel`, run_uuid: m[1] })}`);
  let last;
  for (const url of tries) {
    try {
      return await getText(url, signal);
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      last = e;
    }
  }
  throw last;
}

export default async function render(root, route) {
  const { name, version } = route.params;
  const page = h('div', { class: 'page', dataset: { testid: 'version-page' } });
  root.appendChild(page);
  page.appendChild(h('div', { class: 'breadcrumb' }, h('a', { href: '#/models' }, 'Registered models'), ' / ',
    h('a', { href: modelHref(name) }, name), ' /'));
  const ctl = new AbortController();
  let v;
  try {
    v = (await api('mlflow/model-versions/get', { query: { name, version }, signal: ctl.signal })).model_version;
  } catch (e) {
    if (e.name === 'AbortError') return null;
    page.append(h('h1', {}, `${name} version ${version}`), registryError(e));
    return null;
  }
  const body = { name, version };

  const stageSel = h('select', { dataset: { testid: 'stage-select' } },
    STAGES.map((s) => h('option', { value: s, selected: s === (v.current_stage || 'None') }, s)));
  const archive = h('input', { type: 'checkbox', dataset: { testid: 'archive-existing' } });
  const stageEl = h('span', { class: 'tag-chip', dataset: { testid: 'stage' } }, v.current_stage || 'None');
  const transition = h('button', { class: 'btn btn-small', dataset: { testid: 'transition-stage' }, onClick: async () => {
    const stage = stageSel.value;
    const ok = await attempt(async () => {
      const r = await api('mlflow/model-versions/transition-stage', { method: 'POST',
        body: { ...body, stage, archive_existing_versions: archive.checked } });
      stageEl.textContent = r.model_version?.current_stage || stage;
    });
    if (!ok) stageSel.value = stageEl.textContent;
  } }, 'Transition');

  const aliasBox = h('span', { dataset: { testid: 'aliases' } });
  const aliases = [...(v.aliases || [])];
  const drawAliases = () => {
    clear(aliasBox);
    aliasBox.append(...aliases.map((a) => h('span', { class: 'tag-chip alias-chip', dataset: { alias: a } }, `@${a} `,
      h('button', { class: 'btn-link', title: `Delete alias ${a}`, onClick: async () => {
        if (await attempt(() => api('mlflow/registered-models/alias', { method: 'DELETE', body: { name, alias: a } }))) {
          aliases.splice(aliases.indexOf(a), 1);
          drawAliases();
        }
      } }, '×'))),
    h('button', { class: 'btn btn-small', dataset: { testid: 'add-alias' }, onClick: async () => {
      const r = await formDialog({ title: `Set an alias on version ${version}`, submit: 'Set', fields: [{ name: 'alias', label: 'Alias', required: true }] });
      if (r === null) return;
      const alias = r.alias.replace(/^@/, '');
      if (await attempt(() => api('mlflow/registered-models/alias', { method: 'POST', body: { name, alias, version } }))) {
        if (!aliases.includes(alias)) aliases.push(alias);
        drawAliases();
      }
    } }, 'Add alias'));
  };
  drawAliases();

  const del = h('button', { class: 'btn btn-danger', dataset: { testid: 'delete-version' }, onClick: async () => {
    if (!(await confirmDialog('Delete version', `Delete version ${version} of "${name}"? This cannot be undone.`))) return;
    if (await attempt(() => api('mlflow/model-versions/delete', { method: 'DELETE', body }))) navigate(modelHref(name));
  } }, 'Delete');

  const runLink = v.run_id ? h('a', { class: 'mono', href: `#/runs/${encodeURIComponent(v.run_id)}`, dataset: { testid: 'source-run' } }, v.run_id) : h('span', { class: 'muted' }, '—');
  const sigBox = h('div', { dataset: { testid: 'version-signature' } }, h('div', { class: 'muted' }, 'Loading the model\'s MLmodel…'));
  page.append(
    h('div', { class: 'page-header' }, h('div', { class: 'grow' }, h('h1', {}, `${name} `, h('span', { class: 'muted' }, `version ${v.version}`))), del),
    h('div', { class: 'overview panel' },
      h('div', {}, 'Registered'), h('div', { title: fmtTime(v.creation_timestamp) }, relTime(v.creation_timestamp)),
      h('div', {}, 'Last modified'), h('div', { title: fmtTime(v.last_updated_timestamp) }, relTime(v.last_updated_timestamp)),
      h('div', {}, 'Source run'), h('div', {}, runLink),
      h('div', {}, 'Source'), h('div', { class: 'mono' }, v.source || ''),
      v.model_id ? [h('div', {}, 'Logged model'), h('div', { class: 'mono' }, v.model_id)] : null,
      h('div', {}, 'Status'), h('div', {}, v.status || '', v.status_message ? ` (${v.status_message})` : ''),
      v.user_id ? [h('div', {}, 'User'), h('div', {}, v.user_id)] : null,
      h('div', {}, 'Stage'), h('div', { class: 'stage-row' }, stageEl, ' → ', stageSel, h('label', {}, archive, ' archive other versions in that stage'), transition),
      h('div', {}, 'Aliases'), h('div', {}, aliasBox)),
    descriptionBlock(v.description || '', (text) => api('mlflow/model-versions/update', { method: 'PATCH', body: { ...body, description: text } })),
    h('h3', {}, 'Tags'),
    tagTable(v.tags, {
      set: (key, value) => api('mlflow/model-versions/set-tag', { method: 'POST', body: { ...body, key, value } }),
      del: (key) => api('mlflow/model-versions/delete-tag', { method: 'DELETE', body: { ...body, key } }),
    }),
    h('h3', {}, 'Schema'),
    sigBox,
    h('p', {}, h('a', { href: versionHref(name, version), class: 'muted' }, 'Link to this version')));

  mlmodelText(v, ctl.signal).then(async (text) => {
    const { parseYaml } = await import('../lib/yaml.js');
    clear(sigBox).appendChild(mlmodelView(parseYaml(text), `models:/${name}/${version}`));
  }).catch((e) => {
    if (e.name !== 'AbortError') clear(sigBox).appendChild(errorBox(new Error(`Could not read this version's MLmodel file: ${e.message}`)));
  });
  return () => ctl.abort();
}
