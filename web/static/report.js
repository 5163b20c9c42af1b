// The resident's report page: where (GPS, a draggable pin, or the QR grid's centre), what,
// photos, and a send that survives a weak network (outbox.js). No login, no external request.
// What is in the outbox stays on screen: waiting (and until when), refused (with the server's
// reason, to edit and send again or discard), or sent (the tracking code, for this visit).

import { deviceHeaders } from "./device.js";
import { createMap } from "./map.js";
import { h, replace } from "./dom.js";
import { ago, errorText, localName, t } from "./i18n.js";
import * as outbox from "./outbox.js";
import { attempt, startPage } from "./page.js";

const $ = (id) => document.getElementById(id);
const RETRY_MS = 5000;
const MAX_PHOTOS = 4;
const page = { map: null, pin: null, circle: null, point: null, accuracy: null, qr: null, categories: [],
  skipMatches: false, sending: false, sent: new Map(), editing: null, editPhotos: [], confirming: null, shown: "",
  timer: null, wake: false };

async function json(url) {
  const extra = url.startsWith("/api/public/") ? deviceHeaders() : {};
  const res = await fetch(url, { headers: { Accept: "application/json", ...extra } });
  if (!res.ok) throw new Error(errorText({ ...(await res.json().catch(() => ({}))), status: res.status }));
  return res.json();
}

// ---------------------------------------------------------------- where

function place(lon, lat, accuracy) {
  page.point = { lon, lat };
  page.accuracy = accuracy ?? null;
  const ll = [lat, lon];
  if (!page.pin) {
    page.pin = L.marker(ll, { draggable: true }).addTo(page.map);
    page.pin.on("dragend", () => {
      const p = page.pin.getLatLng();
      place(p.lng, p.lat, null);
    });
  } else page.pin.setLatLng(ll);
  if (page.circle) page.circle.remove();
  page.circle = accuracy ? L.circle(ll, { radius: accuracy, weight: 1 }).addTo(page.map) : null;
  page.map.setView(ll, Math.max(page.map.getZoom(), 16));
  page.map.getContainer().dataset.placed = "1";
  attempt("load.where", showWhere);
}

async function showWhere() {
  const { lon, lat } = page.point;
  const w = await json(`/api/public/where?lon=${lon}&lat=${lat}`);
  $("where").textContent = w.inside ? t("report.where", { grid: w.grid.name, community: w.community?.name || "" })
    : t("report.outside");
  $("where").dataset.grid = w.grid?.code || "";
}

function locate() {
  $("where").textContent = t("report.locating");
  if (!navigator.geolocation) return noPosition();
  navigator.geolocation.getCurrentPosition(
    (pos) => place(pos.coords.longitude, pos.coords.latitude, pos.coords.accuracy),
    noPosition, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
}

function noPosition() {
  $("locate-error").textContent = t("report.denied");
  $("locate-error").hidden = false;
  if (page.qr?.centre) place(page.qr.centre.lon, page.qr.centre.lat, null);
}

// ---------------------------------------------------------------- send

function body() {
  const b = { category: $("category").value, description: $("description").value.trim(),
    lon: page.point.lon, lat: page.point.lat, source: page.qr ? "qr" : "web" };
  if (page.accuracy) b.accuracy_m = Math.min(Math.round(page.accuracy), 10000);
  if ($("contact").value.trim()) b.contact = $("contact").value.trim();
  if (page.qr) Object.assign(b, { qr_grid: page.qr.grid, qr_sig: page.qr.sig });
  return b;
}

function showError(text) {
  $("report-error").textContent = text || "";
  $("report-error").hidden = !text;
}

async function offerMatches(b) {
  const q = new URLSearchParams({ lon: b.lon, lat: b.lat, category: b.category });
  const { candidates } = await json(`/api/public/matches?${q}`);
  if (!candidates.length) return false;
  const name = (code) => { const c = page.categories.find((x) => x.code === code); return c ? localName(c) : code; };
  const since = (at) => ago(Math.max(0, (Date.now() - Date.parse(at)) / 1000));
  replace($("matches"), h("p", { class: "matches-title" }, t("report.matches")),
    h("ul", { class: "match-list" }, candidates.map((c) => h("li", { class: "match" },
      h("div", { class: "match-what" }, h("b", {}, name(c.category_code)),
        h("span", { class: "small" }, ` ${t("report.match_line", { ago: since(c.reported_at), d: c.distance_m, n: c.supporters })}`)),
      h("button", { type: "button", class: "btn-primary", dataset: { testid: "me-too", id: c.public_id },
        onclick: () => meToo(c.public_id, b) }, t("report.me_too"))))),
    h("button", { type: "button", class: "btn-secondary", dataset: { testid: "report-anyway" },
      onclick: () => { page.skipMatches = true; closeMatches(); submit(); } }, t("report.anyway")));
  $("matches").hidden = false;
  $("report-submit").hidden = true;  // one choice at a time: join, or send a new report
  return true;
}

function closeMatches() {
  $("matches").hidden = true;
  $("report-submit").hidden = false;
}

/** Join the offered case from where the resident stands (the server checks it is offered there). */
async function meToo(publicId, b) {
  const res = await fetch(`/api/public/incidents/${encodeURIComponent(publicId)}/me-too`, {
    method: "POST", body: JSON.stringify({ lon: b.lon, lat: b.lat }),
    headers: { Accept: "application/json", "Content-Type": "application/json", ...deviceHeaders() } });
  const doc = await res.json().catch(() => ({}));
  if (!res.ok) return showError(errorText({ ...doc, status: res.status }));
  localStorage.setItem(`gridgov.token.${doc.tracking_code}`, doc.reporter_token);
  closeMatches();
  $("report-form").hidden = true;
  showSent(`me-too-${doc.tracking_code}`, { tracking_code: doc.tracking_code, label: "report.joined",
    token: doc.reporter_token });
}

async function submit(ev) {
  ev?.preventDefault();
  showError("");
  if (!$("category").value) return showError(t("report.pick"));
  if (!page.point) return showError(t("report.denied"));
  let photos = [...($("photos").files || [])];
  if (!photos.length && page.editing) photos = page.editPhotos;  // a browser that could not put them back in the form
  if (photos.length > MAX_PHOTOS) return showError(t("report.too_many"));
  const b = body();
  if (!page.skipMatches) {
    try { if (await offerMatches(b)) return; } catch { /* offline: no offer, keep the report */ }
  }
  await outbox.put(outbox.entry(b, photos));
  if (page.editing) await outbox.remove(page.editing);  // the edited report replaces the refused one
  page.editing = null;
  page.editPhotos = [];
  $("report-form").hidden = true;
  await flush();
}

// ---------------------------------------------------------------- the outbox on screen

function summary(b) {
  const c = page.categories.find((x) => x.code === b.category);
  return h("p", { class: "small muted", dataset: { testid: "outbox-summary" } },
    c ? localName(c) : b.category, b.description ? ` · ${b.description.slice(0, 80)}` : "");
}

/** The link that opens tracking on any phone: the secret rides in the fragment, which browsers
 * never send to a server (so it stays out of every access log). */
function trackingLink(code, token) {
  const base = `${location.origin}/track/${encodeURIComponent(code)}`;
  return token ? `${base}#t=${encodeURIComponent(token)}` : base;
}

async function copyLink(link, button) {
  try {
    await navigator.clipboard.writeText(link);
    button.textContent = t("report.copied");
  } catch {
    window.prompt(t("report.copy"), link);  // no clipboard here (plain http): let the resident copy it by hand
  }
}

function sentCard(code, key = "report.sent", photoErrors = [], token = null) {
  const link = trackingLink(code, token);
  const copy = h("button", { type: "button", class: "btn-secondary", dataset: { testid: "copy-link" },
    onclick: () => copyLink(link, copy) }, t("report.copy"));
  const share = navigator.share ? h("button", { type: "button", class: "btn-secondary", dataset: { testid: "share-link" },
    // a rejection here is the resident closing the share sheet: nothing failed
    onclick: () => navigator.share({ title: t("report.share_title"), text: code, url: link }).catch(() => {}) },
  t("report.share")) : null;
  return h("div", { class: "sent", dataset: { testid: "report-sent" } },
    h("p", {}, t(key)), h("p", { class: "code", dataset: { testid: "tracking-code" } }, code),
    token ? h("p", { class: "small" }, t("report.secret"), " ",
      h("span", { class: "secret", dataset: { testid: "tracking-secret" } }, token)) : null,
    photoErrors.map((p) => h("p", { class: "error small", dataset: { testid: "photo-refused" } },
      t("report.photo_refused", { n: p.n, e: p.answer ? errorText(p.answer) : p.reason }))),
    h("p", { class: "small" }, t("report.keep")),
    h("a", { href: link, class: "btn-primary", dataset: { testid: "track-link" } }, t("report.follow")),
    h("div", { class: "sent-actions" }, copy, share));
}

function waitText(until) {
  const s = Math.ceil((until - Date.now()) / 1000);
  return s > 0 ? t("report.retry_in", { s }) : t("report.retrying");
}

function pendingCard(e) {
  const busy = e.waiting === "busy";
  return h("div", { class: "pending", dataset: { testid: "report-pending", wait: e.waiting || "" } },
    h("p", {}, e.tracking_code ? t("report.photos_pending") : t(busy ? "report.busy" : "report.pending")),
    e.tracking_code ? h("p", { class: "code", dataset: { testid: "tracking-code" } }, e.tracking_code) : null,
    summary(e.body),
    e.notBefore ? h("p", { class: "small", dataset: { testid: "retry-at", until: String(e.notBefore) } },
      waitText(e.notBefore)) : null);
}

function failedCard(e) {
  const sure = page.confirming === e.key;
  const button = (testid, cls, label, onclick) =>
    h("button", { type: "button", class: cls, dataset: { testid }, onclick }, t(label));
  return h("div", { class: "failed", dataset: { testid: "report-failed", key: e.key } },
    h("p", { class: "error", dataset: { testid: "failed-reason" } }, t("report.failed", { e: e.answer ? errorText(e.answer) : e.error })),
    summary(e.body),
    h("p", { class: "small" }, t(page.editing === e.key ? "report.editing" : "report.failed_kept")),
    sure ? h("div", { class: "actions" }, h("p", { class: "small" }, t("report.discard_sure")),
      button("report-discard-confirm", "btn-danger", "report.discard_yes", () => discard(e.key)),
      button("report-discard-cancel", "btn-ghost", "report.discard_no", () => confirmDiscard(null)))
      : h("div", { class: "actions" },
        button("report-edit", "btn-primary", "report.edit", () => edit(e.key)),
        button("report-discard", "btn-ghost", "report.discard", () => confirmDiscard(e.key))));
}

function confirmDiscard(key) {  // discarding asks once more: what the resident wrote is gone after it
  page.confirming = key;
  render(true);
}

/** A sent report or a me-too stays on screen for this visit (the outbox itself lets it go). */
function showSent(key, card) {
  page.sent.set(key, { created: Date.now(), ...card });
  render(true);
}

async function render(force = false) {
  const entries = await outbox.all();
  for (const e of entries.filter((x) => x.state === "sent")) {
    try { localStorage.setItem(`gridgov.token.${e.tracking_code}`, e.reporter_token); } catch { /* private mode */ }
    page.sent.set(e.key, { created: e.created, tracking_code: e.tracking_code, photoErrors: e.photoErrors || [],
      token: e.reporter_token });
    await outbox.remove(e.key);  // the server has it, and the token is kept: nothing is lost
  }
  const items = [...[...page.sent].map(([key, c]) => ({ key, created: c.created, sent: c })),
    ...entries.filter((e) => e.state !== "sent").map((e) => ({ key: e.key, created: e.created, e }))]
    .sort((a, b) => a.created - b.created);
  const shown = JSON.stringify([items.map((x) => [x.key, x.e?.state, x.e?.waiting, x.e?.notBefore, x.e?.tracking_code,
    x.e?.error]), page.confirming, page.editing]);
  if (!force && shown === page.shown) return;  // the same: leave the buttons under the resident's finger alone
  page.shown = shown;
  replace($("outbox"), items.map((x) => {
    if (x.sent) return sentCard(x.sent.tracking_code, x.sent.label, x.sent.photoErrors, x.sent.token);
    return x.e.state === "failed" ? failedCard(x.e) : pendingCard(x.e);
  }));
}

function tick() {  // the countdowns of waiting reports
  for (const el of document.querySelectorAll("[data-until]")) el.textContent = waitText(Number(el.dataset.until));
}

/** The next round at the moment the earliest waiting report may go (the interval is a fallback). */
async function schedule() {
  clearTimeout(page.timer);
  const waits = (await outbox.all()).filter((e) => e.state === "pending" && e.notBefore).map((e) => e.notBefore);
  if (waits.length) page.timer = setTimeout(flush, Math.max(0, Math.min(...waits) - Date.now()) + 50);
}

async function flush() {
  if (page.sending) return;
  page.sending = true;
  try {
    if (page.wake) {  // the browser says the network is back: who waited for it goes now
      page.wake = false;
      await outbox.wake();
    }
    for (const e of await outbox.all()) {
      if (outbox.due(e)) {
        try { await outbox.send(e); } catch { /* storage trouble: the next round tries again */ }
      }
    }
    await render();
  } finally {
    page.sending = false;
  }
  await schedule();
}

async function edit(key) {
  const e = await outbox.get(key);
  if (!e) return;
  const b = e.body;
  page.editing = key;
  page.confirming = null;
  page.skipMatches = true;  // the resident chose to file it already
  page.qr = b.qr_grid ? { ...(page.qr || {}), grid: b.qr_grid, sig: b.qr_sig || "" } : null;
  $("category").value = b.category;
  $("description").value = b.description || "";
  $("contact").value = b.contact || "";
  page.editPhotos = [];
  try {  // the photos go back into the form, where the resident may change them
    const files = new DataTransfer();
    (e.photos || []).forEach((p, i) => files.items.add(p instanceof File ? p
      : new File([p], `photo-${i}`, { type: p.type })));
    $("photos").files = files.files;
  } catch {  // a browser that cannot: they are kept aside and sent with the edit unless others are chosen
    $("photos").value = "";
    page.editPhotos = e.photos || [];
  }
  place(b.lon, b.lat, b.accuracy_m ?? null);
  $("report-form").hidden = false;
  showError(t("report.failed", { e: e.answer ? errorText(e.answer) : e.error }));
  await render(true);
  $("report-form").scrollIntoView({ block: "start" });
}

async function discard(key) {
  if (page.editing === key) page.editing = null;
  page.confirming = null;
  await outbox.remove(key);
  await render(true);
}

// ---------------------------------------------------------------- start

async function start() {
  page.map = await createMap("report-map");
  page.map.on("click", (e) => place(e.latlng.lng, e.latlng.lat, null));
  const q = new URLSearchParams(location.search);
  if (q.get("g")) {
    page.qr = { grid: q.get("g"), sig: q.get("s") || "" };
    try {
      page.qr.centre = await json(`/api/public/grids/${encodeURIComponent(page.qr.grid)}`);
      const c = page.qr.centre;
      $("qr-grid").textContent = c.retired  // a poster from before the grids were redrawn: still good
        ? t("report.qr_retired", { name: c.name, now: c.successors.map((x) => x.name).join("、") })
        : t("report.qr", { name: c.name });
      $("qr-grid").dataset.retired = c.retired ? "1" : "";
      $("qr-grid").hidden = false;
    } catch { /* an unknown grid on the code: the report is still taken and flagged */ }
  }
  try {
    page.categories = await json("/api/categories");
    localStorage.setItem("gridgov.categories", JSON.stringify(page.categories));
  } catch {
    page.categories = JSON.parse(localStorage.getItem("gridgov.categories") || "[]");
  }
  const fill = () => replace($("category"), h("option", { value: "" }, t("report.pick")),
    page.categories.map((c) => h("option", { value: c.code }, localName(c))));
  fill();
  page.onLang = () => { fill(); render(true); };
  $("report-form").addEventListener("submit", submit);
  locate();
  await flush();  // a report left from an earlier visit goes now
  setInterval(flush, RETRY_MS);
  setInterval(tick, 1000);
  window.addEventListener("online", () => { page.wake = true; flush(); });
}

if ("serviceWorker" in navigator) {
  // without it the page still works online; only opening it offline later is lost: nothing to tell
  // the resident, but whoever looks at the console sees why
  navigator.serviceWorker.register("/sw.js").catch((e) => console.warn("offline copy of the page not kept:", e));
}
startPage({ session: false, onReady: start, onLang: () => page.onLang?.() });
