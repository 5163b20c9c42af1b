// The grid worker's patrol (巡查) on the phone, and the supervisors' view of patrols.
//
// Worker: start a patrol, and every fix navigator.geolocation.watchPosition gives goes into an
// outbox kept in localStorage (so a patrol survives a dead network and a reload) and is posted in
// batches, oldest first; the server refuses a batch naming its bad fix (time going backwards, a
// jump no walker makes, far outside the district): that fix is dropped and the rest sent. Stop
// sends what is left and ends the patrol: the page shows its coverage (places within 30 m of the
// track, area within 50 m). The map shows the grid and the track.
// Supervisor (read_patrol_tracks): recent patrols in scope; one opens on the map with its coverage.

import { api, ApiError } from "./api.js";
import { h, replace } from "./dom.js";
import { createMap } from "./map.js";
import { dateTime, errorText, localName, metres, t } from "./i18n.js";
import { attempt, startPage } from "./page.js";

const $ = (id) => document.getElementById(id);
const SEND_EVERY_MS = 5000;
const BATCH = 500;

const state = { me: null, map: null, grid: null, track: null, watch: null, timer: null, sending: null, kept: null };

function storeKey() { return `gridgov.patrol.${state.me.username}`; }
function load() { try { return JSON.parse(localStorage.getItem(storeKey()) || "null"); } catch { return null; } }
function save() {
  if (state.kept) localStorage.setItem(storeKey(), JSON.stringify(state.kept));
  else localStorage.removeItem(storeKey());
}

function showError(text) {
  $("patrol-error").textContent = text || "";
  $("patrol-error").hidden = !text;
}

function percent(share) { return share == null ? "—" : `${(share * 100).toFixed(1)}%`; }

function figures(doc) {
  const places = doc.places_total ? `${doc.places_visited} / ${doc.places_total}` : "—";
  return h("dl", {},
    h("dt", {}, t("patrol.length")), h("dd", { dataset: { testid: "patrol-length" } }, metres(doc.length_m || 0)),
    h("dt", {}, t("patrol.places")), h("dd", { dataset: { testid: "patrol-places" } }, places),
    h("dt", {}, t("patrol.area")), h("dd", { dataset: { testid: "patrol-area" } }, percent(doc.area_share)));
}

function showFigures(el, doc) {
  el.dataset.placesVisited = doc.places_visited ?? "";
  el.dataset.placesTotal = doc.places_total ?? "";
  el.dataset.areaShare = doc.area_share ?? "";
  replace(el, figures(doc));
  el.hidden = false;
}

// ---------------------------------------------------------------- the map

function drawGrid(geometry) {
  if (state.grid) state.map.removeLayer(state.grid);
  state.grid = L.geoJSON(geometry, { style: { color: "#0b61a4", weight: 2, fillOpacity: 0.05 } }).addTo(state.map);
  state.map.fitBounds(state.grid.getBounds(), { padding: [12, 12] });
}

function drawTrack(latlngs) {
  if (state.track) state.map.removeLayer(state.track);
  state.track = L.polyline(latlngs, { color: "#c8102e", weight: 4 }).addTo(state.map);
}

async function showPatrol(id) {
  const doc = await api(`/api/patrols/${id}`);
  if (doc.grid) drawGrid(doc.grid);
  drawTrack(doc.track ? doc.track.coordinates.map(([x, y]) => [y, x]) : []);
  return doc;
}

// ---------------------------------------------------------------- the worker's patrol

function renderState() {
  const kept = state.kept;
  $("patrol-report").hidden = !kept;
  $("patrol-start").hidden = Boolean(kept);
  $("patrol-stop").hidden = !kept;
  $("patrol-grid").disabled = Boolean(kept);
  const el = $("patrol-state");
  el.dataset.stored = kept ? kept.stored : 0;
  el.dataset.pending = kept ? kept.outbox.length : 0;
  el.textContent = kept ? t("patrol.recording", { stored: kept.stored, pending: kept.outbox.length }) : "";
}

function onFix(pos) {
  const kept = state.kept;
  if (!kept) return;
  const at = Date.now();  // the phone's clock when the fix came
  const last = kept.all[kept.all.length - 1];
  if (last && at <= last.t) return;
  const fix = { lon: pos.coords.longitude, lat: pos.coords.latitude, at: new Date(at).toISOString(),
    accuracy: Math.min(pos.coords.accuracy ?? 0, 10000) };
  kept.outbox.push(fix);
  kept.all.push({ lat: fix.lat, lon: fix.lon, t: at });
  save();
  drawTrack(kept.all.map((p) => [p.lat, p.lon]));
  renderState();
}

function badFix(e) {
  const field = e instanceof ApiError ? (e.errors?.[0]?.field || "") : "";
  const m = /^positions\.(\d+)\./.exec(field);
  return m ? Number(m[1]) : null;
}

/** Post the outbox in batches; a refused fix is dropped (said once), a network failure waits. */
function send() {
  if (state.sending) return state.sending;
  if (!state.kept || !state.kept.outbox.length) return Promise.resolve();
  const run = async () => {
    while (state.kept && state.kept.outbox.length) {
      const kept = state.kept;
      const batch = kept.outbox.slice(0, BATCH);
      try {
        const res = await api(`/api/patrols/${kept.id}/positions`, { method: "POST", body: { positions: batch } });
        kept.outbox.splice(0, batch.length);
        kept.stored = res.fixes;
      } catch (e) {
        const i = badFix(e);
        if (i === null) throw e;
        kept.outbox.splice(i, 1);
        showError(t("patrol.dropped", { reason: errorText(e) }));
      }
      save();
      renderState();
    }
  };
  // cleared once settled (a microtask later: never before this assignment)
  state.sending = run().finally(() => { state.sending = null; });
  return state.sending;
}

/** Fixes not sent now stay in the outbox for the next try; whoever looks at the console sees why. */
function unsent(e) {
  console.warn("patrol fixes not sent yet (kept in the outbox):", e);
}

function watch() {
  if (!navigator.geolocation) return showError(t("patrol.nogps"));
  state.watch = navigator.geolocation.watchPosition(onFix, () => showError(t("patrol.nogps")),
    { enableHighAccuracy: true, maximumAge: 0 });
  state.timer = setInterval(() => send().catch(unsent), SEND_EVERY_MS);
}

async function startPatrol() {
  showError("");
  $("patrol-result").hidden = true;
  const grid = $("patrol-grid").value.trim();
  try {
    const doc = await api("/api/patrols", { method: "POST", body: grid ? { grid } : {} });
    state.kept = { id: doc.id, outbox: [], all: [], stored: 0 };
    save();
    renderState();
    document.body.dataset.patrolId = doc.id;
    await showPatrol(doc.id);
    watch();
  } catch (e) {
    showError(errorText(e));
  }
}

async function stopPatrol() {
  showError("");
  if (state.watch !== null) navigator.geolocation.clearWatch(state.watch);
  clearInterval(state.timer);
  state.watch = null;
  try {
    await send();
    const doc = await api(`/api/patrols/${state.kept.id}/end`, { method: "POST" });
    showFigures($("patrol-result"), doc);
    await showPatrol(doc.id);
    state.kept = null;
    save();
    renderState();
    if (!$("patrol-supervisor").hidden) await attempt("load.patrols", loadList);
  } catch (e) {
    showError(errorText(e));
    watch();  // still on patrol: the outbox waits for the network
  }
}

/** A report from where the worker stands now (the last fix), linked to the patrol; a micro matter
 *  settled on the spot is closed at grid tier by the server at once. */
async function reportOnPatrol(e) {
  e.preventDefault();
  const kept = state.kept;
  const here = kept?.all[kept.all.length - 1];
  const out = $("patrol-report-state");
  if (!here) { out.textContent = t("patrol.nogps"); return; }
  const settled = $("patrol-settled").checked;
  try {
    await send().catch(unsent);  // the track first, so the nearest fix is there
    const doc = await api(`/api/patrols/${kept.id}/reports`, { method: "POST", body: {
      lon: here.lon, lat: here.lat, category: $("patrol-category").value,
      description: $("patrol-description").value.trim(), settled_on_spot: settled,
      note: $("patrol-note").value.trim() || undefined } });
    out.dataset.status = doc.status;
    out.textContent = t(settled ? "patrol.settled_done" : "patrol.reported", { code: doc.tracking_code });
    $("patrol-report").reset();
  } catch (err) {
    out.textContent = errorText(err);
  }
}

async function loadCategories() {
  const cats = await api("/api/categories");
  replace($("patrol-category"), cats.map((c) => h("option", { value: c.code }, localName(c))));
}

// ---------------------------------------------------------------- the supervisor's list

async function openPatrol(id) {
  const doc = await showPatrol(id);
  showFigures($("patrol-detail"), doc);
  $("patrol-detail").dataset.id = id;
}

async function loadList() {
  const doc = await api("/api/patrols?limit=50");
  replace($("patrol-list"), doc.patrols.map((p) => h("li", { class: "task patrol-item", dataset: { testid: "patrol-item", id: p.id } },
    h("button", { type: "button", onclick: () => attempt("load.patrol", () => openPatrol(p.id)) },
      h("div", { class: "task-top" }, h("b", {}, p.grid_code), h("span", {}, p.worker)),
      h("div", { class: "muted small" }, `${dateTime(p.started_at)} · ${metres(p.length_m || 0)} · ${t("patrol.area")} ${percent(p.area_share)}`)))));
}

// ---------------------------------------------------------------- start

async function start(me) {
  state.me = me;
  const caps = new Set(me.capabilities || []);
  state.map = await createMap($("patrol-map"));
  document.body.dataset.mapReady = "1";
  if (caps.has("report_patrol")) {
    $("patrol-worker").hidden = false;
    $("patrol-start").addEventListener("click", startPatrol);
    $("patrol-stop").addEventListener("click", stopPatrol);
    $("patrol-report").addEventListener("submit", reportOnPatrol);
    await attempt("load.categories", loadCategories);
    state.kept = load();
    renderState();
    if (state.kept) {  // a patrol under way before a reload: carry on recording
      document.body.dataset.patrolId = state.kept.id;
      drawTrack(state.kept.all.map((p) => [p.lat, p.lon]));
      watch();
    }
  }
  if (caps.has("read_patrol_tracks")) {
    $("patrol-supervisor").hidden = false;
    await attempt("load.patrols", loadList);
  }
  document.body.dataset.patrolReady = "1";
}

startPage({ capability: ["report_patrol", "read_patrol_tracks"], onReady: start,
  onLang: () => { if (state.kept) renderState(); } });
