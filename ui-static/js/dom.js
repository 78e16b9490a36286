// dom.js: element building without innerHTML (every string becomes a text node),
// plus the shared error, empty-state and dialog widgets.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function errorBox(err) {
  const msg = (err && err.message) || String(err);
  const code = err && err.code && err.code !== 'NETWORK_ERROR' ? err.code : null;
  return h('div', { class: 'error', role: 'alert', dataset: { testid: 'error' } },
    code ? h('strong', {}, code + ': ') : null, msg);
}

export function emptyState(title, ...children) {
  return h('div', { class: 'empty', dataset: { testid: 'empty' } }, h('div', { class: 'empty-title' }, title), ...children);
}

// A modal form. fields: [{name, label, value, placeholder, type, required}].
// Resolves to {name: value} or null when cancelled.
export function formDialog({ title, fields = [], submit = 'Save', danger = false, text = null }) {
  return new Promise((resolve) => {
    const inputs = {};
    const err = h('div', { class: 'error', style: { display: 'none' } });
    const form = h('form', { class: 'dialog-form', method: 'dialog' },
      h('h3', {}, title),
      text ? h('p', {}, text) : null,
      fields.map((f) => {
        const inp = f.type === 'textarea'
          ? h('textarea', { name: f.name, rows: 10, placeholder: f.placeholder || '' })
          : h('input', { name: f.name, type: f.type || 'text', placeholder: f.placeholder || '', autocomplete: 'off' });
        inp.value = f.value ?? '';
        inputs[f.name] = inp;
        return h('label', { class: 'field' }, h('span', {}, f.label), inp);
      }),
      err,
      h('div', { class: 'dialog-buttons' },
        h('button', { type: 'button', class: 'btn', onClick: () => done(null) }, 'Cancel'),
        h('button', { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary' }, submit)));
    const dlg = h('dialog', { class: 'dialog' }, form);
    let finished = false;
    function done(v) {
      if (finished) return;
      finished = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const out = {};
      for (const f of fields) {
        out[f.name] = inputs[f.name].value;
        if (f.required && !out[f.name].trim()) {
          err.textContent = `${f.label} is required`;
          err.style.display = '';
          return;
        }
      }
      done(out);
    });
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); done(null); });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = fields.length ? inputs[fields[0].name] : null;
    if (first) { first.focus(); if (first.select) first.select(); }
  });
}

export function confirmDialog(title, text, submit = 'Delete') {
  return formDialog({ title, text, submit, danger: true }).then((v) => v !== null);
}

// A transient message at the bottom of the window (errors of background actions).
export function toast(msgOrErr, kind = 'info') {
  const isErr = msgOrErr instanceof Error;
  const el = h('div', { class: `toast ${isErr ? 'toast-error' : kind}`, role: 'status' },
    isErr ? (msgOrErr.code ? `${msgOrErr.code}: ` : '') + msgOrErr.message : String(msgOrErr));
  document.body.appendChild(el);
  setTimeout(() => el.remove(), isErr ? 8000 : 3000);
}

// Copy text to the clipboard, with a small confirmation.
export function copyButton(text, label = 'Copy') {
  return h('button', {
    class: 'btn btn-small', title: 'Copy to clipboard', onClick: async () => {
      try { await navigator.clipboard.writeText(text); toast('Copied'); } catch { toast('Copy failed'); }
    },
  }, label);
}
