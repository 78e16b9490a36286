// format.js: times, durations and numbers as the UI shows them.

const pad = (n) => String(n).padStart(2, '0');

export function fmtTime(ms) {
  if (ms === null || ms === undefined || ms === '' || !isFinite(Number(ms))) return '';
  const d = new Date(Number(ms));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function relTime(ms, now = Date.now()) {
  if (ms === null || ms === undefined || ms === '') return '';
  const s = Math.round((now - Number(ms)) / 1000);
  if (!isFinite(s)) return '';
  if (s < 0) return fmtTime(ms);
  if (s < 45) return 'just now';
  if (s < 90) return '1 minute ago';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minutes ago`;
  const hr = Math.round(m / 60);
  if (hr < 24) return hr === 1 ? '1 hour ago' : `${hr} hours ago`;
  const d = Math.round(hr / 24);
  if (d < 30) return d === 1 ? 'yesterday' : `${d} days ago`;
  return fmtTime(ms).slice(0, 10);
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || !isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}min ${Math.round(s - m * 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m - h * 60}min`;
  const d = Math.floor(h / 24);
  return `${d}d ${h - d * 24}h`;
}

// Duration of a run: end - start, or now - start while it runs.
export function runDuration(info, now = Date.now()) {
  const start = Number(info.start_time);
  if (!start) return null;
  const end = info.end_time ? Number(info.end_time) : (info.status === 'RUNNING' ? now : null);
  return end ? end - start : null;
}

export function fmtNumber(v) {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v === 'string') {
    if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return v;
    const n = Number(v);
    if (!isFinite(n)) return v;
    v = n;
  }
  if (!isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e9)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

export function fmtBytes(n) {
  if (n === null || n === undefined || n === '') return '';
  n = Number(n);
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${u[i]}`;
}

// MLflow's source name as its UI shows it: the file name of a path.
export function sourceName(tags) {
  const src = tags['mlflow.source.name'];
  if (!src) return '';
  const type = tags['mlflow.source.type'];
  if (type === 'NOTEBOOK' || type === 'LOCAL' || !type) {
    const parts = src.split(/[\\/]/);
    return parts[parts.length - 1] || src;
  }
  return src;
}

// tags array [{key, value}] -> object
export function tagMap(list) {
  const o = {};
  for (const t of list || []) o[t.key] = t.value;
  return o;
}
