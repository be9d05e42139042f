// The HTTP API (/api/v1/): bearer token from sessionStorage, JSON bodies,
// errors as ApiError {status, code, message}.
const TOKEN = 'onewindow.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function getToken() { return sessionStorage.getItem(TOKEN) || ''; }
export function setToken(tok) {
  if (tok) sessionStorage.setItem(TOKEN, tok); else sessionStorage.removeItem(TOKEN);
}

// Called on 401: the app returns to sign-in (set by main.js).
let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(f) { onUnauthenticated = f; }

export async function api(method, path, body, { raw = false, quiet401 = false } = {}) {
  const headers = { Accept: raw ? '*/*' : 'application/json' };
  const tok = getToken();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', String(e));
  }
  if (!res.ok) {
    let code = 'INTERNAL';
    let message = res.statusText;
    let fields = null;
    try {
      const j = await res.json();
      code = j.code || code;
      message = j.message || message;
      if (Array.isArray(j.field_errors)) fields = j.field_errors;
    } catch (e) { /* not JSON */ }
    const err = new ApiError(res.status, code, message);
    // A schema rejection's fields: [{pointer, message}].
    err.fields = fields;
    if (res.status === 401 && !quiet401) onUnauthenticated(err);
    throw err;
  }
  if (raw) return res.text();
  const text = await res.text();
  return text ? JSON.parse(text) : {};
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// An SSE stream of the API; EventSource cannot send headers, so the token
// goes as access_token (the API's one exception).
export function stream(path, params, handlers) {
  const q = query({ ...params, access_token: getToken() });
  const es = new EventSource(`/api/v1${path}${q}`);
  for (const [ev, f] of Object.entries(handlers)) {
    es.addEventListener(ev, (e) => f(e.data ? JSON.parse(e.data) : null, e));
  }
  return es;
}

// Workflows and their manifests, fetched once per sign-in.
let workflowsCache = null;
export async function workflows() {
  if (!workflowsCache) {
    workflowsCache = api('GET', '/workflows').then((r) => r.workflows || [])
      .catch((e) => { workflowsCache = null; throw e; });
  }
  return workflowsCache;
}
export function forgetWorkflows() { workflowsCache = null; }
