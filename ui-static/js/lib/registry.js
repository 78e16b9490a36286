// registry.js: what the model registry pages share: the "no registry on this
// server" notice, a Markdown description with an editor, a tag table with
// set/delete, and quoting of names in registry filters.
import { isMissingEndpoint } from '../api.js';
import { h, clear, errorBox, emptyState, formDialog, confirmDialog, toast } from '../dom.js';
import { renderMarkdown } from './markdown.js';

// A filter string literal for a name ('...' unless the name holds a quote).
export function quoteName(s) {
  s = String(s);
  if (!s.includes("'")) return `'${s}'`;
  if (!s.includes('"')) return `"${s}"`;
  return `'${s.replace(/'/g, "\\'")}'`;
}

export function modelHref(name) {
  return `#/models/${encodeURIComponent(name)}`;
}

export function versionHref(name, version) {
  return `#/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`;
}

// The page body for an error: the registry notice when the server lacks it.
export function registryError(err) {
  if (isMissingEndpoint(err)) {
    return emptyState('This server has no model registry yet',
      h('p', { dataset: { testid: 'no-registry' } },
        'The registry endpoints (registered-models/*, model-versions/*) answer 404 on this server. ',
        'Runs, artifacts and logged models work; registered models will show here once the server has a registry.'));
  }
  return errorBox(err);
}

// Run an action; show its error as a toast. Returns true on success.
export async function attempt(fn) {
  try {
    await fn();
    return true;
  } catch (e) {
    toast(e);
    return false;
  }
}

// A Markdown description with an Edit button. save(text) persists it.
export function descriptionBlock(text, save) {
  const body = h('div', { class: 'md', dataset: { testid: 'description' } });
  const draw = (t) => {
    clear(body);
    if (t) body.appendChild(renderMarkdown(t));
    else body.appendChild(h('span', { class: 'muted' }, 'No description.'));
  };
  draw(text);
  const edit = h('button', { class: 'btn btn-small', dataset: { testid: 'edit-description' }, onClick: async () => {
    const v = await formDialog({ title: 'Description', fields: [{ name: 'text', label: 'Markdown', type: 'textarea', value: text || '' }] });
    if (v === null) return;
    if (await attempt(() => save(v.text))) { text = v.text; draw(text); }
  } }, 'Edit');
  return h('div', { class: 'note' }, h('div', { class: 'note-head' }, h('b', {}, 'Description'), edit), body);
}

// Tags as a table with delete buttons and an Add form. set(key, value), del(key).
export function tagTable(tags, { set, del, testid = 'tags' }) {
  const list = [...(tags || [])].sort((a, b) => a.key.localeCompare(b.key));
  const box = h('div', { class: 'tag-table', dataset: { testid } });
  const draw = () => {
    clear(box);
    box.appendChild(list.length
      ? h('table', { class: 'table kv' }, h('tbody', {}, list.map((t) => h('tr', { dataset: { key: t.key } },
        h('td', { class: 'mono' }, t.key), h('td', {}, t.value),
        h('td', { style: { width: '1%' } }, h('button', { class: 'btn btn-small btn-danger', title: `Delete tag ${t.key}`, onClick: async () => {
          if (!(await confirmDialog('Delete tag', `Delete the tag "${t.key}"?`))) return;
          if (await attempt(() => del(t.key))) { list.splice(list.indexOf(t), 1); draw(); }
        } }, 'Delete'))))))
      : h('p', { class: 'muted' }, 'No tags.'));
    box.appendChild(h('button', { class: 'btn btn-small', dataset: { testid: `${testid}-add` }, onClick: async () => {
      const v = await formDialog({ title: 'Set tag', submit: 'Set', fields: [
        { name: 'key', label: 'Key', required: true }, { name: 'value', label: 'Value' }] });
      if (v === null) return;
      if (await attempt(() => set(v.key, v.value))) {
        const old = list.find((t) => t.key === v.key);
        if (old) old.value = v.value;
        else list.push({ key: v.key, value: v.value });
        list.sort((a, b) => a.key.localeCompare(b.key));
        draw();
      }
    } }, 'Add tag'));
  };
  draw();
  return box;
}
