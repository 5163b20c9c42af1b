// API client: OAuth2 password login, tokens in sessionStorage, one shared refresh on 401.

const STORE = "gridgov.tokens";
let refreshing = null;
let onSessionLost = () => {};

export class ApiError extends Error {
  constructor(status, detail, errors = [], code = null, params = {}) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.errors = errors;
    this.code = code;       // the message's key: error.<code> in the catalogue
    this.params = params;   // its placeholders
  }
}

/** The ApiError of an error response's status and parsed body (null: not JSON). */
export function errorOf(status, body, statusText = "") {
  const detail = (body && typeof body.detail === "string") ? body.detail : `HTTP ${status} ${statusText}`.trim();
  const error = new ApiError(status, detail, Array.isArray(body?.errors) ? body.errors : [],
    typeof body?.code === "string" ? body.code : null,
    body?.params && typeof body.params === "object" ? body.params : {});
  error.body = body;
  return error;
}

export function setSessionLostHandler(fn) { onSessionLost = fn; }

function tokens() {
  try { return JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch { return null; }
}

function saveTokens(pair) {
  sessionStorage.setItem(STORE, JSON.stringify({
    access: pair.access_token, refresh: pair.refresh_token,
    expires_at: Date.now() + (Number(pair.expires_in) || 0) * 1000,
  }));
}

export function clearTokens() { sessionStorage.removeItem(STORE); }

export function hasSession() { return Boolean(tokens()?.access); }

/** The access token of the moment (for requests a library sends itself: vector tiles). */
export function accessToken() { return tokens()?.access || ""; }

async function errorFrom(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  return errorOf(res.status, body, res.statusText);
}

async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, e?.message || "network error");
  }
}

export async function login(username, password) {
  const res = await send("/api/auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: new URLSearchParams({ username, password, grant_type: "password" }),
  });
  if (!res.ok) throw await errorFrom(res);
  saveTokens(await res.json());
}

/** Rotate the refresh token; concurrent 401s share one refresh (a replayed token ends the session). */
function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const current = tokens();
      if (!current?.refresh) return false;
      const res = await send("/api/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ refresh_token: current.refresh }),
      });
      if (!res.ok) return false;
      saveTokens(await res.json());
      return true;
    })().catch(() => false).finally(() => { setTimeout(() => { refreshing = null; }, 0); });
  }
  return refreshing;
}

/**
 * Authenticated request; resolves to the Response (its headers, a file's blob). Throws ApiError
 * with the server's errors (and ``body``: the parsed error document) when not ok. ``headers`` are
 * added (If-Match); a FormData body is sent as is, anything else as JSON; ``signal`` aborts it.
 */
export async function request(path, { method = "GET", body, headers: extra = {}, retry = true, signal } = {}) {
  const headers = { Accept: "application/json", ...extra };
  const access = tokens()?.access;
  if (access) headers.Authorization = `Bearer ${access}`;
  const form = typeof FormData !== "undefined" && body instanceof FormData;
  if (body !== undefined && !form) headers["Content-Type"] = "application/json";
  const res = await send(path, {
    method, headers, body: body === undefined || form ? body : JSON.stringify(body), signal,
  });
  if (res.status === 401 && retry && access) {
    if (await refresh()) return request(path, { method, body, headers: extra, retry: false, signal });
    clearTokens();
    onSessionLost();
    throw await errorFrom(res);
  }
  if (res.status === 401 && access) {
    clearTokens();
    onSessionLost();
  }
  if (!res.ok) throw await errorFrom(res);
  return res;
}

/** Authenticated request; returns parsed JSON (or null for 204). Throws ApiError. */
export async function api(path, options = {}) {
  const res = await request(path, options);
  if (res.status === 204) return null;
  return res.json();
}

/** Save an authenticated download (a poster, an export) under ``filename``: a plain link
 * cannot carry the bearer token, so the file is fetched and handed to the browser as a blob. */
/** The file name a server gave in Content-Disposition, or null. */
function attachmentName(res) {
  const header = res.headers.get("Content-Disposition") || "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain ? plain[1] : null;
}

/** Download with the session's token; the server's file name wins over ``filename``. */
export async function download(path, filename) {
  const res = await request(path, { headers: { Accept: "*/*" } });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = attachmentName(res) || filename || "download";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Public JSON (no token). */
export async function publicJson(path) {
  const res = await send(path, { headers: { Accept: "application/json" } });
  if (!res.ok) throw await errorFrom(res);
  return res.json();
}

export async function logout() {
  const access = tokens()?.access;
  clearTokens();
  if (!access) return;
  try {
    await fetch("/api/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${access}` } });
  } catch { /* the tokens are gone locally anyway */ }
}
