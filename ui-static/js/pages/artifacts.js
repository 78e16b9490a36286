// artifacts.js: the artifact browser of a run (the run page's Artifacts tab,
// #/experiments/<e>/runs/<r>/artifacts/<path>) and of a logged model: a lazy
// tree (one listing per opened folder) and a preview of the selected file by
// its extension (text, JSON, YAML, MLmodel, Markdown, images, CSV/TSV tables,
// HTML in a sandboxed frame, audio), downloads, and a model view for a folder
// holding an MLmodel file (flavors, signature, how to load it).
import { api, artifactUrl, queryString } from '../api.js';
import { h, clear, errorBox, emptyState, copyButton } from '../dom.js';
import { fmtBytes } from '../lib/format.js';

// Largest file previewed inline (bigger ones are offered as downloads).
const MAX_PREVIEW_BYTES = 4 * 1024 * 1024;
// Rows of a CSV/TSV preview.
const MAX_TABLE_ROWS = 500;

const TEXT_EXT = new Set(['txt', 'log', 'err', 'out', 'cfg', 'conf', 'ini', 'toml', 'xml', 'js', 'mjs', 'ts',
  'py', 'r', 'sh', 'sql', 'rst', 'ipynb', 'jsonl', 'properties', 'env', 'gitignore', 'diff', 'patch', 'c', 'h',
  'java', 'scala', 'go', 'rs', 'lock']);
const TEXT_NAMES = new Set(['MLproject', 'Dockerfile', 'LICENSE', 'README', 'requirements.txt']);
const IMAGE_EXT = new Set(['png', 'jpg', 'jpeg', 'gif', 'bmp', 'svg', 'webp', 'ico']);
const AUDIO_EXT = new Set(['mp3', 'wav', 'ogg', 'oga', 'flac', 'aac', 'm4a', 'opus']);
const VIDEO_EXT = new Set(['mp4', 'webm']);

function baseName(p) {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

function extOf(p) {
  const b = baseName(p);
  const i = b.lastIndexOf('.');
  return i > 0 ? b.slice(i + 1).toLowerCase() : '';
}

export function previewKind(path) {
  const b = baseName(path);
  const e = extOf(path);
  if (b === 'MLmodel') return 'mlmodel';
  if (e === 'json' || e === 'geojson') return 'json';
  if (e === 'yaml' || e === 'yml') return 'yaml';
  if (e === 'md' || e === 'markdown') return 'markdown';
  if (e === 'csv') return 'csv';
  if (e === 'tsv') return 'tsv';
  if (e === 'html' || e === 'htm') return 'html';
  if (IMAGE_EXT.has(e)) return 'image';
  if (AUDIO_EXT.has(e)) return 'audio';
  if (VIDEO_EXT.has(e)) return 'video';
  if (TEXT_EXT.has(e) || TEXT_NAMES.has(b)) return 'text';
  return null;
}

// Where the artifacts come from. list(path) -> [{path, is_dir, file_size}];
// url(path) -> the file's bytes; loadUri(path) -> the URI a client loads a model from.
export function runSource(runId) {
  return {
    key: `run:${runId}`,
    async list(path) {
      const r = await api('mlflow/artifacts/list', { query: { run_uuid: runId, path: path || undefined } });
      return r.files || [];
    },
    url: (path) => artifactUrl(runId, path),
    loadUri: (path) => `runs:/${runId}/${path}`,
  };
}

export function loggedModelSource(modelId) {
  const base = `mlflow/logged-models/${encodeURIComponent(modelId)}/artifacts`;
  return {
    key: `model:${modelId}`,
    async list(path) {
      const r = await api(`${base}/directories`, { query: { artifact_directory_path: path || undefined } });
      // paths come relative to the listed folder's root; make them relative to the model's root
      return (r.files || []).map((f) => ({ ...f, path: f.path }));
    },
    url: (path) => `ajax-api/2.0/${base}/files?${queryString({ artifact_file_path: path })}`,
    loadUri: (path) => (path ? `models:/${modelId}/${path}` : `models:/${modelId}`),
  };
}

async function fetchText(url, signal) {
  const r = await fetch(url, { signal });
  if (!r.ok) {
    let msg = `HTTP ${r.status}`;
    try {
      const j = await r.json();
      if (j.message) msg = j.message;
    } catch { /* not JSON */ }
    throw new Error(msg);
  }
  return r.text();
}

// RFC 4180 fields (quotes, doubled quotes, newlines in quotes), at most maxRows rows.
export function parseDelimited(text, sep, maxRows = MAX_TABLE_ROWS) {
  const rows = [];
  let row = [];
  let field = '';
  let q = false;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else q = false;
      } else field += c;
    } else if (c === '"' && field === '') q = true;
    else if (c === sep) { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      rows.push(row);
      row = [];
      if (rows.length > maxRows) break;
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  const truncated = rows.length > maxRows || i < text.length - 1;
  return { rows: rows.slice(0, maxRows + 1), truncated };
}

function tableOf(rows, truncated) {
  if (!rows.length) return emptyState('Empty file');
  const [head, ...body] = rows;
  return h('div', { class: 'art-table-wrap' },
    h('table', { class: 'table art-table', dataset: { testid: 'artifact-table' } },
      h('thead', {}, h('tr', {}, head.map((c) => h('th', {}, c)))),
      h('tbody', {}, body.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))),
    truncated ? h('div', { class: 'muted' }, `First ${rows.length - 1} rows shown; download the file for all of it.`) : null);
}

// The parts of an MLmodel worth showing: flavors, signature, metadata.
function signatureTable(title, json) {
  if (!json) return null;
  let cols;
  try {
    cols = typeof json === 'string' ? JSON.parse(json) : json;
  } catch {
    return h('div', {}, h('h4', {}, title), h('pre', {}, String(json)));
  }
  if (!Array.isArray(cols)) return h('div', {}, h('h4', {}, title), h('pre', {}, JSON.stringify(cols, null, 2)));
  return h('div', { class: 'sig' }, h('h4', {}, title),
    h('table', { class: 'table', dataset: { testid: `signature-${title.toLowerCase()}` } },
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Type'), h('th', {}, 'Required'))),
      h('tbody', {}, cols.map((c) => h('tr', {},
        h('td', { class: 'mono' }, c.name ?? (c.type === 'tensor' ? '(tensor)' : '-')),
        h('td', { class: 'mono' }, c.type === 'tensor' && c['tensor-spec']
          ? `tensor ${c['tensor-spec'].dtype} [${(c['tensor-spec'].shape || []).join(', ')}]`
          : c.type === 'array' || c.type === 'object' || c.type === 'map' ? JSON.stringify(c) : String(c.type ?? '')),
        h('td', {}, c.required === false ? 'no' : 'yes'))))));
}

// A summary of a parsed MLmodel document. loadUri: the model's URI, or null.
export function mlmodelView(doc, loadUri) {
  if (!doc || typeof doc !== 'object') return h('div', { class: 'error' }, 'This MLmodel file holds no model description.');
  const flavors = doc.flavors && typeof doc.flavors === 'object' ? doc.flavors : {};
  const sig = doc.signature || null;
  const meta = [
    ['Model UUID', doc.model_uuid], ['Model ID', doc.model_id], ['Run ID', doc.run_id],
    ['Artifact path', doc.artifact_path], ['Created', doc.utc_time_created ? `${doc.utc_time_created} UTC` : null],
    ['MLflow version', doc.mlflow_version], ['Size', doc.model_size_bytes ? fmtBytes(doc.model_size_bytes) : null],
  ].filter(([, v]) => v !== null && v !== undefined && v !== '');
  const snippet = loadUri && flavors.python_function
    ? `import mlflow\nmodel = mlflow.pyfunc.load_model(${JSON.stringify(loadUri)})\npredictions = model.predict(data)`
    : null;
  return h('div', { class: 'model-view', dataset: { testid: 'model-view' } },
    h('h3', {}, 'MLflow model'),
    h('div', { class: 'overview' }, meta.map(([k, v]) => [h('div', {}, k), h('div', { class: 'mono' }, String(v))])),
    h('h4', {}, 'Flavors'),
    Object.keys(flavors).length
      ? h('ul', { class: 'flavors', dataset: { testid: 'flavors' } }, Object.entries(flavors).map(([name, f]) =>
        h('li', {}, h('span', { class: 'tag-chip' }, name),
          f && typeof f === 'object'
            ? h('span', { class: 'muted' }, ' ', Object.entries(f).filter(([, v]) => typeof v !== 'object')
              .map(([k, v]) => `${k}: ${v}`).join(', '))
            : null)))
      : h('p', { class: 'muted' }, 'none'),
    h('h4', {}, 'Signature'),
    sig ? [signatureTable('Inputs', sig.inputs), signatureTable('Outputs', sig.outputs), signatureTable('Params', sig.params)]
      : h('p', { class: 'muted', dataset: { testid: 'no-signature' } }, 'This model was logged without a signature.'),
    snippet ? [h('h4', {}, 'Load it'), h('pre', { dataset: { testid: 'load-snippet' } }, snippet), copyButton(snippet)] : null);
}

async function renderPreview(box, source, file, signal) {
  const kind = previewKind(file.path);
  const url = source.url(file.path);
  const head = h('div', { class: 'art-head' },
    h('span', { class: 'mono art-path' }, file.path),
    file.file_size !== undefined ? h('span', { class: 'muted' }, fmtBytes(file.file_size)) : null,
    h('a', { class: 'btn btn-small', href: url, download: baseName(file.path), dataset: { testid: 'artifact-download' } }, 'Download'));
  clear(box).appendChild(head);
  const body = h('div', { class: 'art-body', dataset: { testid: 'artifact-preview', kind: kind || 'none' } });
  box.appendChild(body);
  if (!kind) {
    body.appendChild(emptyState('No preview for this file type', h('p', {}, 'Use Download to get the file.')));
    return;
  }
  if (kind === 'image') {
    body.appendChild(h('img', { class: 'art-img', src: url, alt: baseName(file.path) }));
    return;
  }
  if (kind === 'audio' || kind === 'video') {
    body.appendChild(h(kind, { src: url, controls: true, preload: 'metadata' }));
    return;
  }
  if (Number(file.file_size) > MAX_PREVIEW_BYTES) {
    body.appendChild(emptyState(`This file is larger than ${fmtBytes(MAX_PREVIEW_BYTES)}`, h('p', {}, 'Use Download to get it.')));
    return;
  }
  body.appendChild(h('div', { class: 'muted' }, 'Loading…'));
  let text;
  try {
    text = await fetchText(url, signal);
  } catch (e) {
    if (e.name === 'AbortError') return;
    clear(body).appendChild(errorBox(e));
    return;
  }
  clear(body);
  if (kind === 'text') body.appendChild(h('pre', { class: 'art-text' }, text));
  else if (kind === 'json') {
    let shown = text;
    try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* shown as it is */ }
    body.appendChild(h('pre', { class: 'art-text' }, shown));
  } else if (kind === 'yaml') body.appendChild(h('pre', { class: 'art-text' }, text));
  else if (kind === 'mlmodel') {
    const dir = file.path.includes('/') ? file.path.slice(0, file.path.lastIndexOf('/')) : '';
    try {
      const { parseYaml } = await import('../lib/yaml.js');
      body.appendChild(mlmodelView(parseYaml(text), source.loadUri(dir)));
    } catch (e) {
      body.appendChild(errorBox(e));
    }
    body.appendChild(h('details', {}, h('summary', {}, 'MLmodel file'), h('pre', { class: 'art-text' }, text)));
  } else if (kind === 'markdown') {
    const { renderMarkdown } = await import('../lib/markdown.js');
    const rendered = h('div', { class: 'md' }, renderMarkdown(text));
    const raw = h('pre', { class: 'art-text', style: { display: 'none' } }, text);
    const toggle = h('button', { class: 'btn btn-small', onClick: () => {
      const showRaw = raw.style.display === 'none';
      raw.style.display = showRaw ? '' : 'none';
      rendered.style.display = showRaw ? 'none' : '';
      toggle.textContent = showRaw ? 'Rendered' : 'Source';
    } }, 'Source');
    body.append(toggle, rendered, raw);
  } else if (kind === 'csv' || kind === 'tsv') {
    const { rows, truncated } = parseDelimited(text, kind === 'csv' ? ',' : '\t');
    body.appendChild(tableOf(rows, truncated));
  } else if (kind === 'html') {
    // No allow-scripts and no allow-same-origin: the page renders but runs
    // nothing and cannot reach this origin.
    const frame = h('iframe', { class: 'art-html', sandbox: '', title: baseName(file.path), referrerpolicy: 'no-referrer' });
    frame.srcdoc = text;
    body.appendChild(frame);
  }
}

// The artifact browser into root. opts: initialPath (file or folder to open),
// onSelect(path) (called when the user picks a file or folder).
export function artifactBrowser(root, source, { initialPath = '', onSelect = null } = {}) {
  let ctl = null;
  const treeEl = h('div', { class: 'art-tree', dataset: { testid: 'artifact-tree' }, role: 'tree' });
  const previewEl = h('div', { class: 'art-preview' });
  const nodes = new Map(); // path -> {row, children el, loaded, open, is_dir}
  let selected = null;

  clear(root).appendChild(h('div', { class: 'art-browser' }, treeEl, previewEl));

  function setSelected(path) {
    if (selected !== null && nodes.get(selected)) nodes.get(selected).row.classList.remove('selected');
    selected = path;
    if (nodes.get(path)) nodes.get(path).row.classList.add('selected');
  }

  async function loadInto(container, path, depth) {
    container.appendChild(h('div', { class: 'muted art-loading', style: { paddingLeft: `${depth * 14 + 6}px` } }, 'Loading…'));
    let files;
    try {
      files = await source.list(path);
    } catch (e) {
      clear(container).appendChild(errorBox(e));
      return [];
    }
    clear(container);
    files.sort((a, b) => (b.is_dir - a.is_dir) || a.path.localeCompare(b.path));
    for (const f of files) container.appendChild(nodeEl(f, depth));
    return files;
  }

  function nodeEl(f, depth) {
    const kids = h('div', { class: 'art-kids', role: 'group', style: { display: 'none' } });
    const twisty = h('span', { class: 'art-twisty' }, f.is_dir ? '▸' : '');
    const row = h('div', {
      class: 'art-row', role: 'treeitem', tabindex: 0, title: f.path,
      dataset: { testid: 'artifact-node', path: f.path, dir: f.is_dir ? '1' : '0' },
      style: { paddingLeft: `${depth * 14 + 6}px` },
      onClick: () => activate(f.path),
      onKeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); activate(f.path); } },
    }, twisty, h('span', { class: f.is_dir ? 'art-dir' : 'art-file' }, baseName(f.path)));
    nodes.set(f.path, { row, kids, twisty, loaded: false, open: false, file: f, depth });
    return h('div', {}, row, kids);
  }

  async function toggleDir(n, open) {
    n.open = open;
    n.twisty.textContent = open ? '▾' : '▸';
    n.kids.style.display = open ? '' : 'none';
    n.row.setAttribute('aria-expanded', String(open));
    if (open && !n.loaded) {
      n.loaded = true;
      n.files = await loadInto(n.kids, n.file.path, n.depth + 1);
    }
    return n.files || [];
  }

  async function activate(path, { fromUser = true } = {}) {
    const n = nodes.get(path);
    if (!n) return;
    setSelected(path);
    if (onSelect && fromUser) onSelect(path);
    if (ctl) ctl.abort();
    ctl = new AbortController();
    if (n.file.is_dir) {
      const files = await toggleDir(n, fromUser ? !n.open || !n.loaded : true);
      if (selected !== path) return;
      const mlmodel = files.find((f) => baseName(f.path) === 'MLmodel' && !f.is_dir);
      if (mlmodel) await renderPreview(previewEl, source, mlmodel, ctl.signal).catch(() => {});
      else {
        clear(previewEl).appendChild(h('div', { class: 'art-head' }, h('span', { class: 'mono art-path' }, path + '/')));
        previewEl.appendChild(h('p', { class: 'muted' }, `${files.length} item${files.length === 1 ? '' : 's'}`));
      }
    } else {
      await renderPreview(previewEl, source, n.file, ctl.signal).catch((e) => {
        if (e.name !== 'AbortError') previewEl.appendChild(errorBox(e));
      });
    }
  }

  async function start() {
    const files = await loadInto(treeEl, '', 0);
    if (!files.length && !treeEl.querySelector('.error')) {
      clear(treeEl);
      clear(previewEl).appendChild(emptyState('No artifacts', h('p', {}, 'This run has not logged any files.')));
      return;
    }
    // open the folders on the way to initialPath, then select it
    if (initialPath) {
      const parts = initialPath.split('/').filter(Boolean);
      for (let i = 1; i <= parts.length; i++) {
        const p = parts.slice(0, i).join('/');
        const n = nodes.get(p);
        if (!n) break;
        if (i < parts.length && n.file.is_dir) await toggleDir(n, true);
        else await activate(p, { fromUser: false });
      }
    } else {
      const mlmodel = files.find((f) => f.path === 'MLmodel');
      if (mlmodel) await activate('MLmodel', { fromUser: false });
      else clear(previewEl).appendChild(h('p', { class: 'muted art-hint' }, 'Select a file to preview it.'));
    }
  }
  start();
  return () => { if (ctl) ctl.abort(); };
}

// The run page's tab (route.params: runId, artifactPath); also usable as a page.
export default async function render(root, route) {
  const { runId, experimentId } = route.params;
  const initialPath = route.params.artifactPath || '';
  const box = h('div', { class: 'artifacts-tab' });
  root.appendChild(box);
  return artifactBrowser(box, runSource(runId), {
    initialPath,
    onSelect(path) {
      // keep the selection in the URL (MLflow's artifact deep link) without re-rendering
      const base = experimentId ? `#/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}`
        : `#/runs/${encodeURIComponent(runId)}`;
      history.replaceState(history.state, '', `${base}/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`);
    },
  });
}

