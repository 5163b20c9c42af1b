// API client: OAuth2 password login, tokens in sessionStorage, one shared refresh on 401.

const STORE = "gridgov.tokens";
let refreshing = null;
let onSessionLost = () => {};

export class ApiError extends Error {
  constructor(status, detail, errors = []) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.errors = errors;
  }
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

async function errorFrom(res) {
  let body = null;
  try { body = await res.json(); } catch { /* not JSON */ }
  const detail = (body && typeof body.detail === "string") ? body.detail : `HTTP ${res.status} ${res.statusText}`;
  return new ApiError(res.status, detail, Array.isArray(body?.errors) ? body.errors : []);
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

/** Authenticated request; returns parsed JSON (or null for 204). Throws ApiError. */
export async function api(path, { method = "GET", body, retry = true } = {}) {
  const headers = { Accept: "application/json" };
  const access = tokens()?.access;
  if (access) headers.Authorization = `Bearer ${access}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await send(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401 && retry && access) {
    if (await refresh()) return api(path, { method, body, retry: false });
    clearTokens();
    onSessionLost();
    throw await errorFrom(res);
  }
  if (res.status === 401 && access) {
    clearTokens();
    onSessionLost();
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return null;
  return res.json();
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
