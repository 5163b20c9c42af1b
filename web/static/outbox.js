// The report outbox: a report (with its photos) is kept in IndexedDB until the server has
// confirmed it, and sent with one Idempotency-Key however often it is retried, so a weak
// network can neither lose nor double it. Photos follow with the reporter's token.
//
// What an answer does to an entry:
// - no answer (the network), 408, 429, 503 or any other 5xx: it stays pending and is tried again
//   after the server's Retry-After (seconds or an HTTP date), or after a back-off doubling from
//   5 s when the server gave none; never sooner (nor within a second), never later than MAX_WAIT_MS;
// - any other 4xx: the server refused it. It stays in the outbox as failed, with the server's
//   reason, until the resident edits and sends it again or discards it: never deleted here;
// - a photo the server refuses is noted on the entry (shown with the tracking code), the report
//   itself stands.

import { deviceHeaders } from "./device.js";

const DB = "gridgov-report";
const STORE = "outbox";
const FIRST_WAIT_MS = 5_000;  // the back-off without Retry-After: 5 s, 10 s, 20 s … up to MAX_WAIT_MS
const MIN_WAIT_MS = 1_000;
export const MAX_WAIT_MS = 10 * 60_000;

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "key" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const result = work(t.objectStore(STORE));
    t.oncomplete = () => resolve(result?.result ?? result);
    t.onerror = () => reject(t.error);
  });
}

export const put = (entry) => tx("readwrite", (s) => s.put(entry));
export const all = () => tx("readonly", (s) => s.getAll());
export const get = (key) => tx("readonly", (s) => s.get(key));
export const remove = (key) => tx("readwrite", (s) => s.delete(key));

/** A new entry: the report body, its photos (Blobs) and the key every retry sends. */
function newKey() {  // randomUUID needs a secure context; getRandomValues does not
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function entry(body, photos) {
  return { key: newKey(), body, photos, created: Date.now(), state: "pending", sentPhotos: [], photoErrors: [],
    attempts: 0, notBefore: 0, waiting: null };
}

/** Milliseconds a Retry-After header asks for (delta-seconds or an HTTP date); null if absent or unreadable. */
export function retryAfterMs(header, now = Date.now()) {
  const value = (header || "").trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Whether the entry may be sent now (pending, and its wait is over). */
export function due(e, now = Date.now()) {
  return e.state === "pending" && !(e.notBefore > now);
}

/** Entries waiting for the network may go at once (the browser says it is back); a server's
 *  Retry-After is kept. Returns whether any entry was woken. */
export async function wake() {
  let woken = false;
  for (const e of await all()) {
    if (e.state === "pending" && e.waiting === "network" && e.notBefore) {
      e.notBefore = 0;
      await put(e);
      woken = true;
    }
  }
  return woken;
}

// 408 Request Timeout, 429 Too Many Requests, 5xx (503 Unavailable …): the request may succeed later.
const transient = (status) => status === 408 || status === 429 || status >= 500;

async function later(e, waiting, askedMs) {
  e.attempts = (e.attempts || 0) + 1;
  const backoff = FIRST_WAIT_MS * 2 ** Math.min(e.attempts - 1, 10);
  e.waiting = waiting;  // "network" (no answer) or "busy" (the server said: later)
  e.notBefore = Date.now() + Math.min(Math.max(askedMs ?? backoff, MIN_WAIT_MS), MAX_WAIT_MS);
  await put(e);
  return e;
}

function settled(e) {
  Object.assign(e, { attempts: 0, notBefore: 0, waiting: null });
}

const reasonOf = (body, status) => (typeof body.detail === "string" && body.detail ? body.detail : `HTTP ${status}`);
/** What the page needs to say why, in its language of the moment (errorText in i18n.js). */
const answerOf = (body, status) => ({ status, detail: reasonOf(body, status), code: body.code ?? null, params: body.params ?? {} });

/** fetch and its JSON answer; null when no answer came (the network). */
async function post(url, init) {
  let res;
  try {
    res = await fetch(url, init);
  } catch {
    return null;
  }
  const body = await res.json().catch(() => ({}));
  return { res, body: body && typeof body === "object" ? body : {} };
}

/** Send one entry as far as it goes; returns the entry as it stands (state: pending, sent, failed). */
export async function send(e) {
  if (!due(e)) return e;
  e.photoErrors ??= [];
  if (!e.tracking_code) {
    const answer = await post("/api/incidents", {
      method: "POST", body: JSON.stringify(e.body),
      headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": e.key,
        ...deviceHeaders() },
    });
    if (!answer) return later(e, "network");
    const { res, body } = answer;
    if (transient(res.status)) return later(e, "busy", retryAfterMs(res.headers.get("Retry-After")));
    if (!res.ok) {  // refused: kept, shown with the reason, until the resident decides
      Object.assign(e, { state: "failed", status: res.status, error: reasonOf(body, res.status), answer: answerOf(body, res.status) });
      settled(e);
      await put(e);
      return e;
    }
    if (!body.tracking_code || !body.reporter_token) return later(e, "network");  // not our server's answer (a portal)
    Object.assign(e, { tracking_code: body.tracking_code, reporter_token: body.reporter_token, id: body.id });
    settled(e);
    await put(e);
  }
  for (let i = e.sentPhotos.length; i < e.photos.length; i += 1) {
    const data = new FormData();
    data.append("file", e.photos[i], `photo-${i}`);
    const answer = await post(`/api/public/incidents/${encodeURIComponent(e.tracking_code)}/attachments`, {
      method: "POST", body: data,
      headers: { "X-Reporter-Token": e.reporter_token, Accept: "application/json", ...deviceHeaders() },
    });
    if (!answer) return later(e, "network");
    const { res, body } = answer;
    if (transient(res.status)) return later(e, "busy", retryAfterMs(res.headers.get("Retry-After")));
    if (res.ok && !body.sha256) return later(e, "network");
    if (!res.ok) e.photoErrors.push({ n: i + 1, reason: reasonOf(body, res.status), answer: answerOf(body, res.status) });
    e.sentPhotos.push(res.ok ? body.sha256 : null);
    settled(e);
    await put(e);
  }
  e.state = "sent";
  await put(e);
  return e;
}
