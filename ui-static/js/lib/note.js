// note.js: a Markdown note (the mlflow.note.content tag) shown rendered, with an
// editor. Rendering goes through ui's sanitizing lib/markdown.js; when that
// module cannot be loaded the note is shown as plain text.
import { h, clear, toast } from '../dom.js';

let mdPromise = null;
function markdown() {
  if (!mdPromise) mdPromise = import('./markdown.js').then((m) => m.renderMarkdown).catch(() => null);
  return mdPromise;
}

// text: current note; save(newText) -> Promise. Returns the element.
export function noteEditor({ text, save, label = 'Description', testid = 'note' }) {
  const box = h('div', { class: 'note', dataset: { testid } });
  let current = text || '';

  async function show() {
    clear(box);
    box.classList.toggle('note-empty', !current);
    if (!current) {
      box.appendChild(h('button', { class: 'btn btn-small', dataset: { testid: `${testid}-edit` }, onClick: edit }, `Add ${label.toLowerCase()}`));
      return;
    }
    box.appendChild(h('div', { class: 'toolbar', style: { margin: '0 0 4px' } },
      h('strong', {}, label), h('span', { class: 'grow' }),
      h('button', { class: 'btn btn-small', dataset: { testid: `${testid}-edit` }, onClick: edit }, 'Edit')));
    const body = h('div', { class: 'md' });
    box.appendChild(body);
    const render = await markdown();
    if (render) {
      try { body.appendChild(render(current)); return; } catch (e) { console.error(e); }
    }
    body.appendChild(h('div', { style: { whiteSpace: 'pre-wrap' } }, current));
  }

  function edit() {
    clear(box);
    box.classList.remove('note-empty');
    const ta = h('textarea', { rows: 8, dataset: { testid: `${testid}-text` } });
    ta.value = current;
    const saveBtn = h('button', { class: 'btn btn-primary', dataset: { testid: `${testid}-save` }, onClick: async () => {
      saveBtn.disabled = true;
      try { await save(ta.value); current = ta.value; show(); } catch (e) { toast(e); saveBtn.disabled = false; }
    } }, 'Save');
    box.append(h('strong', {}, label), ta,
      h('div', { class: 'dialog-buttons' }, h('button', { class: 'btn', onClick: show }, 'Cancel'), saveBtn));
    ta.focus();
  }

  show();
  return box;
}
