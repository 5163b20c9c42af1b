// The report outbox: a report (with its photos) is kept in IndexedDB until the server has
// confirmed it, and sent with one Idempotency-Key however often it is retried, so a weak
// network can neither lose nor double it. Photos follow with the reporter's token.

const DB = "gridgov-report";
const STORE = "outbox";

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
export const remove = (key) => tx("readwrite", (s) => s.delete(key));

/** A new entry: the report body, its photos (Blobs) and the key every retry sends. */
function newKey() {  // randomUUID needs a secure context; getRandomValues does not
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function entry(body, photos) {
  return { key: newKey(), body, photos, created: Date.now(), state: "pending", sentPhotos: [] };
}

async function post(url, init) {
  const res = await fetch(url, init);
  const body = await res.json().catch(() => ({}));
  return { res, body };
}

/** Send one entry as far as it goes; returns the entry as it stands (state: pending, sent, failed). */
export async function send(e) {
  if (!e.tracking_code) {
    const { res, body } = await post("/api/incidents", {
      method: "POST", body: JSON.stringify(e.body),
      headers: { "Content-Type": "application/json", Accept: "application/json", "Idempotency-Key": e.key },
    });
    if (res.status >= 400 && res.status < 500) {  // the server refused it: retrying will not help
      e.state = "failed";
      e.error = body.detail || `HTTP ${res.status}`;
      await put(e);
      return e;
    }
    if (!res.ok) return e;  // 5xx: try again later
    Object.assign(e, { tracking_code: body.tracking_code, reporter_token: body.reporter_token, id: body.id });
    await put(e);
  }
  for (let i = e.sentPhotos.length; i < e.photos.length; i += 1) {
    const data = new FormData();
    data.append("file", e.photos[i], `photo-${i}`);
    const { res, body } = await post(`/api/public/incidents/${encodeURIComponent(e.tracking_code)}/attachments`, {
      method: "POST", body: data, headers: { "X-Reporter-Token": e.reporter_token, Accept: "application/json" },
    });
    if (res.status >= 400 && res.status < 500) e.photoError = body.detail || `HTTP ${res.status}`;
    else if (!res.ok) return e;
    e.sentPhotos.push(body.sha256 || null);
    await put(e);
  }
  e.state = "sent";
  await put(e);
  return e;
}
