// This phone's device secret: 32 random bytes made once (base64url, no padding: 43 characters)
// and kept in localStorage. The resident's pages send it with every request to /api/public/* and
// with POST /api/incidents, so the server can count requests per phone rather than per address
// (many phones share one carrier address) and keep a phone's Idempotency-Keys apart from others'.
// It names no one: it is not derived from anything about the phone or the resident.

const KEY = "gridgov-device";
const SHAPE = /^[A-Za-z0-9_-]{43}$/;
let secret = null;  // kept for the page's life even where localStorage refuses (private mode)

function fresh() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The secret: the stored one, or a new one stored now (a damaged stored value is replaced). */
export function deviceSecret() {
  if (secret) return secret;
  let stored = null;
  try { stored = localStorage.getItem(KEY); } catch { /* storage refused */ }
  secret = SHAPE.test(stored || "") ? stored : fresh();
  if (secret !== stored) {
    try { localStorage.setItem(KEY, secret); } catch { /* storage refused: this page's life only */ }
  }
  return secret;
}

/** The headers that carry it: spread into a fetch's headers. */
export function deviceHeaders() {
  return { "X-Device-Secret": deviceSecret() };
}
