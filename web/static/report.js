// The resident's report page: where (GPS, a draggable pin, or the QR grid's centre), what,
// photos, and a send that survives a weak network (outbox.js). No login, no external request.

import { h, replace } from "./dom.js";
import { applyI18n, localName, t, toggleLang } from "./i18n.js";
import * as outbox from "./outbox.js";
import "./strings-report.js";

const $ = (id) => document.getElementById(id);
const RETRY_MS = 5000;
const MAX_PHOTOS = 4;
const page = { map: null, pin: null, circle: null, point: null, accuracy: null, qr: null, categories: [],
  skipMatches: false, sending: false };

async function json(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error((await res.json().catch(() => ({}))).detail || `HTTP ${res.status}`);
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
  showWhere().catch(() => {});
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
  replace($("matches"), h("p", {}, t("report.matches")),
    candidates.map((c) => h("button", { type: "button", class: "btn-ghost", dataset: { testid: "me-too", id: String(c.id) },
      onclick: () => meToo(c.id) }, t("report.me_too", { id: c.id, d: c.distance_m }))),
    h("button", { type: "button", class: "btn-primary", dataset: { testid: "report-anyway" },
      onclick: () => { page.skipMatches = true; $("matches").hidden = true; submit(); } }, t("report.anyway")));
  $("matches").hidden = false;
  return true;
}

async function meToo(id) {
  const res = await fetch(`/api/public/incidents/${id}/me-too`, { method: "POST", headers: { Accept: "application/json" } });
  const doc = await res.json().catch(() => ({}));
  if (!res.ok) return showError(doc.detail || `HTTP ${res.status}`);
  localStorage.setItem(`gridgov.token.${doc.tracking_code}`, doc.reporter_token);
  $("matches").hidden = true;
  $("report-form").hidden = true;
  replace($("outbox"), sentCard(doc.tracking_code, "report.joined"));
}

async function submit(ev) {
  ev?.preventDefault();
  showError("");
  if (!$("category").value) return showError(t("report.pick"));
  if (!page.point) return showError(t("report.denied"));
  const photos = [...($("photos").files || [])];
  if (photos.length > MAX_PHOTOS) return showError(t("report.too_many"));
  const b = body();
  if (!page.skipMatches) {
    try { if (await offerMatches(b)) return; } catch { /* offline: no offer, keep the report */ }
  }
  await outbox.put(outbox.entry(b, photos));
  $("report-form").hidden = true;
  await flush();
}

function sentCard(code, key = "report.sent") {
  const link = `/track/${encodeURIComponent(code)}`;
  return h("div", { class: "sent", dataset: { testid: "report-sent" } },
    h("p", {}, t(key)), h("p", { class: "code", dataset: { testid: "tracking-code" } }, code),
    h("p", { class: "small" }, t("report.keep")),
    h("a", { href: link, class: "btn-primary", dataset: { testid: "track-link" } }, t("report.follow")));
}

async function flush() {
  if (page.sending) return;
  page.sending = true;
  try {
    for (const e of await outbox.all()) {
      if (e.state === "pending") {
        try { await outbox.send(e); } catch { /* the network again: the next round retries */ }
      }
    }
    const entries = await outbox.all();
    replace($("outbox"), entries.map((e) => {
      if (e.state === "sent") {
        localStorage.setItem(`gridgov.token.${e.tracking_code}`, e.reporter_token);
        return sentCard(e.tracking_code);
      }
      if (e.state === "failed") return h("p", { class: "error", dataset: { testid: "report-failed" } }, t("report.failed", { e: e.error }));
      return h("p", { class: "pending", dataset: { testid: "report-pending" } }, t("report.pending"));
    }));
    for (const e of entries) if (e.state !== "pending") await outbox.remove(e.key);
  } finally {
    page.sending = false;
  }
}

// ---------------------------------------------------------------- start

async function start() {
  page.map = L.map("report-map", { attributionControl: false }).setView([30.87, 120.42], 12);
  const config = await json("/config.json").catch(() => ({}));
  if (config.basemap_url) L.tileLayer(config.basemap_url, { maxZoom: 19 }).addTo(page.map);
  page.map.on("click", (e) => place(e.latlng.lng, e.latlng.lat, null));
  const q = new URLSearchParams(location.search);
  if (q.get("g")) {
    page.qr = { grid: q.get("g"), sig: q.get("s") || "" };
    try {
      page.qr.centre = await json(`/api/public/grids/${encodeURIComponent(page.qr.grid)}`);
      $("qr-grid").textContent = t("report.qr", { name: page.qr.centre.name });
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
  document.addEventListener("gridgov:lang", fill);
  $("report-form").addEventListener("submit", submit);
  locate();
  await flush();  // a report left from an earlier visit goes now
  setInterval(flush, RETRY_MS);
  window.addEventListener("online", flush);
}

document.addEventListener("DOMContentLoaded", () => {
  applyI18n();
  for (const b of document.querySelectorAll("[data-lang-toggle]")) b.addEventListener("click", () => {
    toggleLang();
    applyI18n();
    document.dispatchEvent(new Event("gridgov:lang"));
  });
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  start();
});
