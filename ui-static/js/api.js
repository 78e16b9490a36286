// api.js: the one fetch wrapper of the UI. Paths are relative to /ajax-api/2.0/;
// errors come back as ApiError carrying MLflow's error_code and message.

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const BASE = 'ajax-api/2.0/';

export function queryString(query) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const x of v) qs.append(k, String(x));
    else qs.append(k, String(v));
  }
  return qs.toString();
}

export async function api(path, { method = 'GET', query = null, body = null, signal } = {}) {
  let url = BASE + path;
  const qs = queryString(query);
  if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  const init = { method, signal, headers: {} };
  if (body !== null && body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(`Cannot reach the server: ${e.message}`, 0, 'NETWORK_ERROR');
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!resp.ok) {
    const code = (data && data.error_code) || `HTTP_${resp.status}`;
    const msg = (data && data.message) || text.slice(0, 300) || resp.statusText || `HTTP ${resp.status}`;
    throw new ApiError(msg, resp.status, code);
  }
  if (data === null && text) throw new ApiError('The server answered with something other than JSON', resp.status, 'BAD_RESPONSE');
  return data || {};
}

export function artifactUrl(runId, path) {
  return `get-artifact?${queryString({ path, run_uuid: runId })}`;
}

// True when the error means "this server has no such endpoint".
export function isMissingEndpoint(err) {
  return err instanceof ApiError && err.status === 404 && err.code === 'ENDPOINT_NOT_FOUND';
}
