// The dispatcher's console (综合信息指挥室 大屏): a full-screen map with the live queue beside it.
// Incidents clustered at low zoom, coloured by state and overdue flag; units with status and
// position age; the grid layer from vector tiles; H3 heatmaps or a kernel density with a time
// slider; early warnings and repeat complaints. Changes arrive through the live stream
// (live.js) within a second; nothing here polls. Leaflet and its plugins are globals.
/* global L */

import { accessToken, api } from "./api.js";
import { h, replace } from "./dom.js";
import { ago, dateTime, list as joinList, localName, t, tOr } from "./i18n.js";
import { LiveStream, showLiveState } from "./live.js";
import { makeMap as baseMap, mapConfig } from "./map.js";
import { attempt, startPage } from "./page.js";
import { UNIT_COLOURS } from "./style.js";

const $ = (id) => document.getElementById(id);
const QUEUE_PAGES = 5;          // up to 1,000 open cases on the map
const UNCLUSTERED_ZOOM = 16;    // every case is its own marker from here in
const HEAT_DEBOUNCE_MS = 400;
const PLAY_STEP_MS = 1200;
const ENDED = new Set(["closed", "void", "duplicate", "not_responsible"]);
const NEW_STATES = new Set(["received", "reopened", "returned"]);
const STATE_COLOURS = { new: "#e5302a", working: "#f5a300" };
const RISK_COLOURS = { low: "#2f8f5b", medium: "#f5a300", high: "#c2185b" };
const RAMP = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#e6550d", "#a63603"];

const cons = {
  me: null, map: null, categories: [], incidents: new Map(), units: new Map(), cluster: null, unitLayer: null,
  heatLayer: null, warningLayer: null, gridTiles: null, streetTiles: null, placeTiles: null,
  placeControl: null, live: null, heatTimer: null,
  playing: null, tab: "queue", framed: false,
};
window.gridgovConsole = cons;  // for tests and for the curious: the page's state

const catName = (code) => localName(cons.categories.find((c) => c.code === code)) || code;
const stateGroup = (status) => (NEW_STATES.has(status) ? "new" : "working");
const label = (prefix, code) => tOr(`${prefix}.${code}`, code);

// ---------------------------------------------------------------- map and layers

function makeMap(config) {
  const map = baseMap("console-map", config, { preferCanvas: false, zoomControl: true });
  // vector tiles carry the bearer token of the moment (a getter: tokens are refreshed under us)
  const fetchOptions = { get headers() { return { Authorization: `Bearer ${accessToken()}` }; } };
  const tiles = (layer, style, extra = {}) => L.vectorGrid.protobuf(`/tiles/${layer}/{z}/{x}/{y}.pbf`, {
    fetchOptions, rendererFactory: L.canvas.tile, interactive: false, maxNativeZoom: 18, maxZoom: 20,
    vectorTileLayerStyles: { [layer]: style }, ...extra });
  cons.streetTiles = tiles("street", { weight: 2, color: "#2c4a78", fill: false }).addTo(map);
  cons.gridTiles = tiles("grid", { weight: 0.7, color: "#6f7f90", fill: false }, { minZoom: 12 }).addTo(map);
  if (cons.me.capabilities.includes("read_places")) {  // the places register (民情地图), by risk level; off at first
    const look = (p) => ({ radius: 4, fill: true, fillOpacity: 0.9, fillColor: RISK_COLOURS[p.risk_level] || RISK_COLOURS.low,
      color: "#ffffff", weight: 1 });
    cons.placeTiles = tiles("places", look, { minZoom: 13 });
  }
  cons.map = map;
  placesControl();
  cons.cluster = L.markerClusterGroup({ disableClusteringAtZoom: UNCLUSTERED_ZOOM, maxClusterRadius: 50, chunkedLoading: true,
    iconCreateFunction: clusterIcon }).addTo(map);
  cons.unitLayer = L.layerGroup().addTo(map);
  cons.warningLayer = L.geoJSON(null, { style: { color: "#b10026", weight: 3, fill: false, dashArray: "4 3" },
    interactive: false }).addTo(map);
  map.on("moveend", () => scheduleHeat());
  cons.map = map;
}

/** The overlay switch of the places layer, in the page's language (drawn again when it changes). */
function placesControl() {
  if (!cons.placeTiles) return;
  if (cons.placeControl) cons.placeControl.remove();
  cons.placeControl = L.control.layers(null, { [t("console.places")]: cons.placeTiles },
    { collapsed: false, position: "topleft" }).addTo(cons.map);
  cons.placeControl.getContainer().dataset.testid = "places-toggle";
}

function clusterIcon(group) {
  const markers = group.getAllChildMarkers();
  const overdue = markers.some((m) => m.options.overdue);
  const n = group.getChildCount();
  return L.divIcon({ html: `<div><span>${n}</span></div>`,
    className: `marker-cluster gg-cluster${overdue ? " gg-cluster-overdue" : ""}`, iconSize: L.point(40, 40) });
}

function markerLook(item) {
  const group = stateGroup(item.status);
  return {
    radius: item.priority === "urgent" ? 8 : 6, fillColor: STATE_COLOURS[group], fillOpacity: 0.92,
    color: item.overdue ? "#5a0000" : "#ffffff", weight: item.overdue ? 3 : 1.2,
    className: `gg-incident gg-state-${group}${item.overdue ? " gg-overdue" : ""}`,
  };
}

/** A case keeps one marker while it is on the board; a click opens the case's popup (focusIncident). */
function incidentMarker(id) {
  const item = cons.incidents.get(id).item;
  const marker = L.circleMarker([item.lat, item.lon], markerLook(item));
  marker.options.overdue = Boolean(item.overdue);
  marker.on("click", () => focusIncident(id));
  return marker;
}

function restyleMarker(marker, item) {
  const look = markerLook(item);
  marker.setStyle(look);
  marker.setRadius(look.radius);
  if (marker._path) marker._path.setAttribute("class", `${look.className} leaflet-interactive`);
  marker.options.overdue = Boolean(item.overdue);
}

function incidentPopup(item) {
  return h("div", { class: "pop", dataset: { testid: "console-popup", id: String(item.id) } },
    h("div", { class: "pop-title" }, catName(item.category_code), " ", h("span", { class: "code" }, `#${item.id}`)),
    h("div", {}, label("state", item.status), item.overdue ? h("b", { class: "flag" }, ` · ${t("console.overdue")}`) : null),
    item.due_at ? h("div", { class: "small" }, `${t("desk.due")}: ${dateTime(item.due_at)}`) : null,
    item.detailed === false ? h("div", { class: "small muted", dataset: { testid: "approximate" } },
      t("console.approximate")) : null,
    // only those who work the desk are offered the case: an analyst reads the board, nothing more
    cons.me.capabilities.includes("work_desk") && item.detailed !== false
      ? h("a", { href: `/desk#case=${item.id}`, class: "btn-primary small", dataset: { testid: "open-case" } },
        t("console.open_case"))
      : null);
}

// ---------------------------------------------------------------- incidents and the queue

async function loadIncidents() {
  const onBoard = new Set();
  for (let page = 0; page < QUEUE_PAGES; page++) {
    const doc = await api(`/api/desk/queue?status=open&sort=newest&limit=200&offset=${page * 200}`);
    for (const item of doc.items) {
      upsertIncident(item, { render: false });
      onBoard.add(item.id);
    }
    if (doc.items.length < 200) break;
  }
  for (const [id, entry] of cons.incidents) {  // a reload keeps the markers of cases still open
    if (!onBoard.has(id)) {
      cons.cluster.removeLayer(entry.marker);
      cons.incidents.delete(id);
    }
  }
  if (!cons.framed && cons.incidents.size) {  // the first view, set before the queue can be clicked
    cons.map.fitBounds(L.latLngBounds([...cons.incidents.values()].map((e) => [e.item.lat, e.item.lon])).pad(0.1),
      { maxZoom: 14, animate: false });
    cons.framed = true;
  }
  renderQueue();
}

function upsertIncident(item, { render = true } = {}) {
  const old = cons.incidents.get(item.id);
  if (ENDED.has(item.status)) {
    if (old) cons.cluster.removeLayer(old.marker);
    cons.incidents.delete(item.id);
  } else if (!old) {
    const entry = { item: { ...item }, marker: null };
    cons.incidents.set(item.id, entry);
    entry.marker = incidentMarker(item.id);
    cons.cluster.addLayer(entry.marker);
  } else {
    const merged = { ...old.item, ...item };
    const moved = merged.lat !== old.item.lat || merged.lon !== old.item.lon;
    old.item = merged;
    if (moved) {  // the cluster places a marker when it is added: take it out and put it back
      cons.cluster.removeLayer(old.marker);
      old.marker.setLatLng([merged.lat, merged.lon]);
      cons.cluster.addLayer(old.marker);
    }
    restyleMarker(old.marker, merged);
    cons.cluster.refreshClusters(old.marker);  // an overdue case marks its cluster
  }
  if (cons.popup?.id === item.id && cons.map.hasLayer(cons.popup.layer)) showPopup(item.id, { ...(old?.item ?? {}), ...item });
  if (render) renderQueue();
}

function renderQueue() {
  const items = [...cons.incidents.values()].map((e) => e.item)
    .sort((a, b) => (b.overdue - a.overdue) || String(b.reported_at || "").localeCompare(String(a.reported_at || "")));
  $("queue-count").textContent = t("console.count", { n: items.length });
  replace($("console-queue"), items.slice(0, 200).map((item) => h("li", {
    class: `queue-row${item.overdue ? " flag-overdue" : ""}`,
    dataset: { testid: "console-row", id: String(item.id), status: item.status },
    onclick: () => focusIncident(item.id),
  }, h("div", { class: "row-top" }, h("b", {}, catName(item.category_code)), " ",
    h("span", { class: `chip state-${stateGroup(item.status)}` }, label("state", item.status))),
  h("div", { class: "small muted" }, item.reported_at ? dateTime(item.reported_at) : "",
    item.overdue ? ` · ${t("console.overdue")}` : ""))));
}

/** A case's popup is the map's own, not its marker's: it opens at once wherever the clusters are, and
 * follows the case's changes while it is open. */
function showPopup(id, item) {
  const { map } = cons;
  if (!cons.popup || !map.hasLayer(cons.popup.layer)) {
    cons.popup = { id, layer: L.popup({ offset: L.point(0, -4) }) };
  }
  cons.popup.id = id;
  cons.popup.layer.setLatLng([item.lat, item.lon]).setContent(incidentPopup(item));
  if (!map.hasLayer(cons.popup.layer)) cons.popup.layer.openOn(map);
}

function focusIncident(id) {
  const entry = cons.incidents.get(id);
  if (!entry) return;
  cons.map.setView([entry.item.lat, entry.item.lon], Math.max(cons.map.getZoom(), UNCLUSTERED_ZOOM));
  showPopup(id, entry.item);
}

/** One case-file event from the stream: place the case, move it, or take it off the board. */
function onLiveIncident(ev) {
  const known = cons.incidents.get(ev.incident_id);
  if (ev.lon === undefined && !known) return;  // nothing to place
  const overdue = ev.kind === "flag_overdue" ? true : known?.item.overdue ?? false;
  upsertIncident({
    id: ev.incident_id, status: ev.status, category_code: ev.category, priority: ev.priority ?? known?.item.priority,
    due_at: ev.due_at ?? known?.item.due_at, overdue,
    lon: ev.lon ?? known?.item.lon, lat: ev.lat ?? known?.item.lat, detailed: ev.detailed ?? known?.item.detailed,
    reported_at: known?.item.reported_at ?? ev.at,
  });
  scheduleHeat(2000);
}

// ---------------------------------------------------------------- units

async function loadUnits() {
  cons.unitLayer.clearLayers();
  cons.units.clear();
  if (!cons.me.capabilities.includes("read_units")) return;
  const doc = await api("/api/units");
  for (const f of doc.features) {
    const [lon, lat] = f.geometry ? f.geometry.coordinates : [null, null];
    upsertUnit({ ...f.properties, lon, lat });
  }
}

function upsertUnit(u) {
  const old = cons.units.get(u.code);
  if (old) cons.unitLayer.removeLayer(old.marker);
  const unit = { ...(old ? old.unit : {}), ...u };
  if (unit.lon == null || unit.lat == null) return;
  const age = unit.position_at ? (Date.now() - Date.parse(unit.position_at)) / 1000 : null;
  const stale = age === null || age > 1800;
  const marker = L.circleMarker([unit.lat, unit.lon], {
    radius: 5, fillColor: stale ? UNIT_COLOURS.stale : (UNIT_COLOURS[unit.status] || UNIT_COLOURS.off_duty),
    fillOpacity: 0.95, color: "#15212e", weight: 1.5, className: `gg-unit gg-unit-${unit.status}`,
  }).bindTooltip(() => `${unit.name || unit.code} · ${label("unit", unit.status)}`
    + (age !== null ? ` · ${t("console.position_age", { age: ago(age) })}` : ""));
  marker.addTo(cons.unitLayer);
  cons.units.set(unit.code, { unit, marker });
}

// ---------------------------------------------------------------- heatmaps

function heatWindow() {
  const days = Number($("h-window").value);
  const back = Number($("h-slider").max) - Number($("h-slider").value);
  const to = new Date(Date.now() - back * days * 86400_000);
  const from = new Date(to.getTime() - days * 86400_000);
  return { from, to };
}

function heatParams() {
  const { from, to } = heatWindow();
  const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  for (const [id, key] of [["h-category", "category"], ["h-status", "status"], ["h-tier", "tier"]]) {
    if ($(id).value) q.set(key, $(id).value);
  }
  return q;
}

function scheduleHeat(delay = HEAT_DEBOUNCE_MS) {
  clearTimeout(cons.heatTimer);
  cons.heatTimer = setTimeout(() => attempt("load.heatmap", drawHeat), delay);
}

async function drawHeat() {
  const mode = $("h-mode").value;
  const { to } = heatWindow();
  $("h-until").textContent = t("console.until", { t: dateTime(to.toISOString()) });
  document.body.dataset.heatMode = mode;
  if (cons.heatLayer) { cons.map.removeLayer(cons.heatLayer); cons.heatLayer = null; }
  const showPoints = mode === "incidents";
  if (showPoints && !cons.map.hasLayer(cons.cluster)) cons.cluster.addTo(cons.map);
  if (!showPoints && cons.map.hasLayer(cons.cluster)) cons.map.removeLayer(cons.cluster);
  if (showPoints) { replace($("heat-legend"), pointsLegend()); return; }
  const b = cons.map.getBounds();
  const q = heatParams();
  q.set("bbox", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(","));
  q.set("zoom", String(Math.round(mode === "density" ? Math.max(cons.map.getZoom() + 2, 14) : cons.map.getZoom())));
  const doc = await api(`/api/heatmap?${q}`);
  if ($("h-mode").value !== mode) return;  // the user moved on meanwhile
  if (mode === "hexagons") {
    cons.heatLayer = L.geoJSON(doc, {
      style: (f) => ({ weight: 0.5, color: "#7f2704", fillColor: ramp(f.properties.count, doc.max), fillOpacity: 0.7 }),
      onEachFeature: (f, layer) => layer.bindTooltip(t("console.count", { n: f.properties.count })),
    }).addTo(cons.map);
  } else {
    const points = doc.features.map((f) => {
      const ring = f.geometry.coordinates[0].slice(0, -1);
      const lat = ring.reduce((s, p) => s + p[1], 0) / ring.length;
      const lon = ring.reduce((s, p) => s + p[0], 0) / ring.length;
      return [lat, lon, f.properties.count / Math.max(doc.max, 1)];
    });
    cons.heatLayer = L.heatLayer(points, { radius: 22, blur: 18, maxZoom: 15 }).addTo(cons.map);
  }
  document.body.dataset.heatTotal = String(doc.total);
  drawLegend(doc);
}

function ramp(n, max) {
  if (!max) return RAMP[0];
  return RAMP[Math.min(RAMP.length - 1, Math.floor((n / max) * RAMP.length))];
}

function drawLegend(doc) {
  const steps = RAMP.map((c, i) => h("span", { class: "ramp-step", dataset: { colour: c } },
    h("i", { class: `sw sw-${i}` }), String(Math.ceil(((i + 1) / RAMP.length) * (doc.max || 0)))));
  replace($("heat-legend"), h("b", {}, t("console.legend")), " ", t("console.count", { n: doc.total }), " ", ...steps);
}

function togglePlay() {
  const slider = $("h-slider");
  if (cons.playing) {
    clearInterval(cons.playing);
    cons.playing = null;
    $("h-play").textContent = t("console.play");
    return;
  }
  slider.value = "0";
  $("h-play").textContent = t("console.stop");
  scheduleHeat(0);
  cons.playing = setInterval(() => {
    if (Number(slider.value) >= Number(slider.max)) { togglePlay(); return; }
    slider.value = String(Number(slider.value) + 1);
    scheduleHeat(0);
  }, PLAY_STEP_MS);
}

// ---------------------------------------------------------------- warnings and repeats

async function loadWarnings() {
  const [grids, cells] = await Promise.all([api("/api/heatmap/warnings?by=grid"), api("/api/heatmap/warnings?by=cell")]);
  cons.warningLayer.clearLayers();
  for (const w of cells.warnings) cons.warningLayer.addData({ type: "Feature", geometry: w.geometry, properties: w });
  const days = Math.round((new Date(grids.recent.to) - new Date(grids.recent.from)) / 86_400_000);
  const line = (w, by) => {
    const kinds = Object.entries(w.categories || {}).slice(0, 2)
      .map(([code, n]) => `${catName(code)} ${n}`);
    const kindsText = joinList(kinds);
    const where = w.name ? (by === "cell" ? t("console.warning_near", { name: w.name }) : w.name) : w.place;
    return h("li", {
      class: "queue-row flag-overdue", tabindex: "0", dataset: { testid: "warning-row", place: w.place, by },
      onclick: () => showWarning(w), onkeydown: (e) => { if (e.key === "Enter") showWarning(w); },
    },
    h("div", { class: "row-top" }, h("b", { dataset: { testid: "warning-place" } }, where),
      kindsText ? h("span", { class: "small", dataset: { testid: "warning-kinds" } }, ` · ${kindsText}`) : null),
    h("div", { class: "small" }, t("console.warning_line", { days, observed: w.observed,
      expected: w.expected.toFixed(1), ratio: w.ratio.toFixed(1) })),
    h("div", { class: "small muted" }, t(w.p_value < 0.001 ? "console.warning_strong" : "console.warning_clear")));
  };
  const rows = [...grids.warnings.map((w) => line(w, "grid")), ...cells.warnings.map((w) => line(w, "cell"))];
  replace($("console-warnings"), rows.length ? rows : h("li", { class: "muted" }, t("console.no_warnings")));
}

/** What the case markers' colours mean. */
function pointsLegend() {
  const swatch = (kind) => h("span", { class: `swatch swatch-${kind}` });  // colours: console.css, as the markers'
  return h("span", { dataset: { testid: "points-legend" } }, h("b", {}, t("console.legend")), " ",
    swatch("new"), ` ${t("console.legend.new")} `, swatch("working"), ` ${t("console.legend.working")} `,
    swatch("overdue"), ` ${t("console.overdue")}`);
}

/** Zoom to a flagged place and outline it. */
function showWarning(w) {
  if (!w.geometry) return;
  if (cons.focus) cons.map.removeLayer(cons.focus);
  cons.focus = L.geoJSON(w.geometry, { style: { color: "#b10026", weight: 4, fill: false } }).addTo(cons.map);
  cons.map.fitBounds(cons.focus.getBounds(), { maxZoom: 16, padding: [40, 40] });
}

async function loadRepeats() {
  const doc = await api("/api/heatmap/repeats");
  replace($("console-repeats"), doc.grids.length ? doc.grids.map((g) => h("li", {
    class: "queue-row", dataset: { testid: "repeat-row", grid: g.grid_code } },
  h("div", { class: "row-top" }, h("b", {}, g.grid_name || g.grid_code), " ", h("span", { class: "code" }, g.grid_code)),
  h("div", { class: "small" }, t("console.repeat_line", { category: catName(g.category), n: g.repeats }))))
    : h("li", { class: "muted" }, t("console.no_repeats")));
}

function showTab(tab) {
  cons.tab = tab;
  for (const b of document.querySelectorAll(".tabs .tab")) b.classList.toggle("active", b.dataset.tab === tab);
  $("console-queue").hidden = tab !== "queue";
  $("queue-count").hidden = tab !== "queue";
  $("console-warnings").hidden = tab !== "warnings";
  $("console-repeats").hidden = tab !== "repeats";
  if (tab === "warnings") attempt("load.warnings", loadWarnings);
  if (tab === "repeats") attempt("load.repeats", loadRepeats);
}

// ---------------------------------------------------------------- start

function fillFilters() {
  const opt = (value, text) => h("option", { value }, text);
  const keep = (id) => $(id).value;
  const [ca, st, ti] = [keep("h-category"), keep("h-status"), keep("h-tier")];
  replace($("h-category"), opt("", t("console.all")), cons.categories.map((c) => opt(c.code, localName(c))));
  replace($("h-status"), opt("", t("console.all")), opt("open", t("desk.filter.open")), opt("ended", label("state", "closed")));
  replace($("h-tier"), opt("", t("console.all")), ["grid", "community", "zone", "street", "district"].map((x) => opt(x, label("tier", x))));
  $("h-category").value = ca;
  $("h-status").value = st;
  $("h-tier").value = ti;
}

async function start(me) {
  cons.me = me;
  const [categories, config] = await Promise.all([api("/api/categories"), mapConfig()]);
  cons.categories = categories;
  fillFilters();
  makeMap(config);
  const incidents = () => attempt("load.incidents", loadIncidents);
  const units = () => attempt("load.units", loadUnits);
  cons.live = new LiveStream({
    onIncident: onLiveIncident, onState: showLiveState,
    onUnit: (u) => upsertUnit(u),
    onUnitsReload: units,
    onResync: () => { incidents(); units(); },
  }).start();
  await Promise.all([incidents(), units()]);
  $("heat-controls").addEventListener("change", () => scheduleHeat(0));
  $("heat-controls").addEventListener("submit", (ev) => ev.preventDefault());
  $("h-play").addEventListener("click", togglePlay);
  for (const b of document.querySelectorAll(".tabs .tab")) b.addEventListener("click", () => showTab(b.dataset.tab));
  await attempt("load.heatmap", drawHeat);
  document.body.dataset.consoleReady = "1";
}

startPage({
  capability: "read_incidents",
  denied: { key: "console.noaccess", testid: "console-noaccess" },
  onReady: start,
  onLang: () => {
    if (!cons.map) return;
    fillFilters();
    renderQueue();
    showLiveState(cons.live?.current);
    scheduleHeat(0);  // the legend under the map
    placesControl();
    if (cons.tab === "warnings") attempt("load.warnings", loadWarnings);
    if (cons.tab === "repeats") attempt("load.repeats", loadRepeats);
    if (cons.map) cons.map.closePopup();  // popups and tooltips are drawn again when opened
  },
});
