// The officer's phone: my unit's tasks, accept, on scene, report back (回单) with a note and
// photos, return to the desk; duty status and position (browser geolocation).

import { api, errorOf } from "./api.js";
import { h, replace } from "./dom.js";
import { makeMap, mapConfig } from "./map.js";
import { dateTime, errorText, localName, metres, t, tOr } from "./i18n.js";
import { LiveStream, showLiveState } from "./live.js";
import { attempt, showDenied, startPage } from "./page.js";
import { redrawInspections, startInspections } from "./unit-inspections.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 20000;
const SEND_EVERY_MS = 30000;
const STEPS = ["accept", "arrive", "handle", "return"];

const NO_UNIT = { key: "unit.none", testid: "unit-none" };
const unit = { me: null, info: null, tasks: [], fix: null, lastSent: 0, watch: null, open: null, maps: [] };

function showError(text) {
  const el = $("task-error");
  el.textContent = text || "";
  el.hidden = !text;
}

// ---------------------------------------------------------------- position and status

function distanceM(a, b) {
  const R = 6371008.8, rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(s));
}

async function sendPosition(status) {
  if (!unit.info || (!unit.fix && !status)) return;
  const fix = unit.fix || { lon: unit.info.lon, lat: unit.info.lat };
  if (fix.lon == null) return;
  const body = { lon: fix.lon, lat: fix.lat };
  if (fix.accuracy != null) body.accuracy_m = Math.min(fix.accuracy, 10000);
  if (status) body.status = status;
  await api(`/api/units/${encodeURIComponent(unit.info.code)}/position`, { method: "POST", body });
  unit.lastSent = Date.now();
  $("position-state").textContent = t("unit.sent", { t: dateTime(new Date().toISOString()) });
}

function onFix(pos) {
  $("position-error").hidden = true;
  unit.fix = { lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy: pos.coords.accuracy };
  if (Date.now() - unit.lastSent >= SEND_EVERY_MS) {
    sendPosition().catch((e) => showError(errorText(e)));
  }
  if (!unit.open) renderTasks();  // never under the officer's typing
}

function onFixError() {
  $("position-error").textContent = t("unit.denied");
  $("position-error").hidden = false;
}

function toggleSharing() {
  if ($("share-position").checked) {
    if (!navigator.geolocation) return onFixError();
    unit.lastSent = 0;
    unit.watch = navigator.geolocation.watchPosition(onFix, onFixError, { enableHighAccuracy: true, maximumAge: 10000 });
  } else if (unit.watch !== null) {
    navigator.geolocation.clearWatch(unit.watch);
    unit.watch = null;
  }
}

function fillStatus() {
  const current = unit.info?.status;
  replace($("unit-status"), ["available", "busy", "off_duty"].map((s) =>
    h("option", { value: s, selected: s === current || null }, t(`unit.status.${s}`))));
}

// ---------------------------------------------------------------- tasks

async function loadTasks() {
  const doc = await api("/api/unit/tasks");
  if (!doc.unit) {  // may record a unit's steps (a dispatcher), but is no unit itself
    showDenied(NO_UNIT);
    return;
  }
  unit.info = { ...unit.info, ...doc.unit };
  $("unit-name").textContent = `${doc.unit.name} · ${doc.unit.code}`;
  const fresh = doc.tasks.filter((task) => unit.known && !unit.known.has(task.assignment_id));
  unit.known = new Set(doc.tasks.map((task) => task.assignment_id));
  unit.tasks = doc.tasks;
  fillStatus();
  renderTasks();
  if (fresh.length) alertNewTasks(fresh);
}

/** A new task: a banner that stays until read, a vibration and a short tone (where the phone allows). */
function alertNewTasks(tasks) {
  const names = tasks.map((task) => localName({ name: task.category_name, name_en: task.category_name_en }));
  const banner = $("new-task");
  banner.textContent = t("unit.new_task", { what: names.join("、") });
  banner.hidden = false;
  try { navigator.vibrate?.([300, 120, 300]); } catch { /* not on this device */ }
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.4);
  } catch { /* no sound before the officer has touched the page */ }
}

/** The phone's own map app, at the place (geo: URI, WGS-84 as the standard says). */
function navigationLink(task) {
  const at = `${task.lat.toFixed(6)},${task.lon.toFixed(6)}`;
  return h("a", { href: `geo:${at}?q=${at}`, class: "btn-step navigate", dataset: { testid: "navigate" } },
    t("unit.navigate_to"));
}

function actionLabel(a) { return tOr(`action.${a.action}`, tOr(`unit.${a.action}`, a.action)); }

function renderTasks() {
  for (const m of unit.maps) m.remove();
  unit.maps = [];
  if (!unit.tasks.length) {
    replace($("tasks"), h("li", { class: "muted", dataset: { testid: "tasks-empty" } }, t("unit.empty")));
    return;
  }
  replace($("tasks"), unit.tasks.map((task) => {
    const far = unit.fix ? t("unit.distance", { d: metres(distanceM(unit.fix, task)) }) : "";
    const buttons = task.actions.filter((a) => STEPS.includes(a.action)).map((a) => h("button", {
      type: "button", class: `btn-step step-${a.action}`, dataset: { testid: `task-${a.action}` },
      onclick: () => (a.action === "handle" || a.action === "return") ? openForm(task, a.action) : step(task, a.action, {}),
    }, actionLabel(a)));
    const mapId = `task-map-${task.assignment_id}`;
    return h("li", { class: `task prio-${task.priority}`, dataset: { testid: "task", incidentId: String(task.incident_id), state: task.assignment_state } },
      h("div", { class: "task-top" }, h("b", {}, localName({ name: task.category_name, name_en: task.category_name_en })),
        h("span", { class: "state" }, t(`state.${task.status}`))),
      h("p", { class: "task-desc" }, task.description || ""),
      h("p", { class: "muted small" }, task.due_at ? `${t("desk.due")} ${dateTime(task.due_at)}` : t("desk.no_due"),
        far ? ` · ${far}` : "", " · ", t("unit.navigate", { lat: task.lat.toFixed(5), lon: task.lon.toFixed(5) })),
      h("div", { class: "task-map", id: mapId }),
      h("div", { class: "task-buttons" }, buttons, navigationLink(task)),
      unit.open?.incident === task.incident_id ? form(task, unit.open.action) : null);
  }));
  for (const task of unit.tasks) drawMap(task);
}

function drawMap(task) {
  if (typeof L === "undefined") return;
  const m = makeMap(`task-map-${task.assignment_id}`, unit.config, {
    zoomControl: false, attributionControl: false, dragging: false, center: [task.lat, task.lon], zoom: 16 });
  L.circleMarker([task.lat, task.lon], { radius: 9, color: "#c8102e", weight: 3 }).addTo(m);
  if (unit.fix) L.circleMarker([unit.fix.lat, unit.fix.lon], { radius: 6, color: "#0b61a4" }).addTo(m);
  unit.maps.push(m);
}

function openForm(task, action) {
  unit.open = { incident: task.incident_id, action };
  renderTasks();
}

function form(task, action) {
  if (action === "handle") {
    return h("form", { class: "task-form", onsubmit: (e) => { e.preventDefault(); handle(task); } },
      h("label", {}, t("unit.note"), h("textarea", { id: "task-note", rows: "3", maxlength: "2000", required: true, dataset: { testid: "task-note" } })),
      h("label", {}, t("unit.photo"), h("input", { id: "task-photo", type: "file", accept: "image/*", capture: "environment", multiple: true, dataset: { testid: "task-photo" } })),
      h("label", { class: "check" }, h("input", { id: "task-public", type: "checkbox", checked: true, dataset: { testid: "task-public" } }),
        t("unit.public")),
      h("button", { type: "submit", class: "btn-primary", dataset: { testid: "task-handle-submit" } }, t("unit.submit_handle")));
  }
  return h("form", { class: "task-form", onsubmit: (e) => { e.preventDefault(); step(task, "return", { reason: $("task-reason").value.trim() }); } },
    h("label", {}, t("unit.reason"), h("textarea", { id: "task-reason", rows: "2", maxlength: "2000", required: true, dataset: { testid: "task-reason" } })),
    h("button", { type: "submit", class: "btn-primary", dataset: { testid: "task-return-submit" } }, t("unit.submit_return")));
}

async function upload(incidentId, file) {
  const tokens = JSON.parse(sessionStorage.getItem("gridgov.tokens") || "null");
  const data = new FormData();
  data.append("file", file);
  const res = await fetch(`/api/incidents/${incidentId}/attachments`, {
    method: "POST", body: data, headers: { Authorization: `Bearer ${tokens?.access || ""}`, Accept: "application/json" } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw errorOf(res.status, body);
  return body.sha256;
}

async function handle(task) {
  const note = $("task-note").value.trim();
  if (!note) return showError(t("unit.note"));
  const files = [...($("task-photo").files || [])];
  try {
    showError(files.length ? t("unit.uploading") : "");
    const photos = [];
    for (const f of files) photos.push(await upload(task.incident_id, f));
    await step(task, "handle", { note, photos: photos.length ? photos : undefined, public: $("task-public").checked });
  } catch (e) {
    showError(errorText(e));
  }
}

async function step(task, action, body) {
  showError("");
  try {
    await api(`/api/incidents/${task.incident_id}/actions/${action}`, {
      method: "POST", body: { ...body, expected_status: task.status } });
    unit.open = null;
  } catch (e) {
    showError(errorText(e));
  }
  await attempt("load.tasks", loadTasks);
}

// ---------------------------------------------------------------- start

async function start(me) {
  unit.me = me;
  unit.config = await mapConfig();
  $("share-position").addEventListener("change", toggleSharing);
  $("new-task").addEventListener("click", () => { $("new-task").hidden = true; });
  $("unit-status").addEventListener("change", () =>
    sendPosition($("unit-status").value).catch((e) => showError(errorText(e))));
  const reload = () => attempt("load.tasks", loadTasks);
  await reload();
  await startInspections(me);  // the team's joint inspections (综合查一次), when the account works them
  // a dispatch to this unit reaches the phone at once over the live stream (the officer's reach
  // is the unit's own cases); the poll stays as a fall-back
  unit.live = new LiveStream({
    onIncident: () => { if (!unit.open) reload(); },
    onResync: reload, onState: showLiveState,
  }).start();
  setInterval(() => { if (!unit.open) reload(); }, REFRESH_MS);
}

startPage({
  capability: "work_assignments",  // an officer's account without a unit holds none (nothing in reach)
  denied: NO_UNIT,
  onReady: start,
  onLang: () => { if (unit.info) { fillStatus(); renderTasks(); } redrawInspections(); },
});
