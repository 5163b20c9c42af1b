// gridgov web map: layers and the routing preview (start-up, login, load errors: page.js). Leaflet is the global L.
/* global L */

import { publicJson } from "./api.js";
import { h, replace } from "./dom.js";
import { list, localName, t, tOr } from "./i18n.js";
import { MapLayers } from "./layers.js";
import { RoutingPreview } from "./routing.js";
import { INCIDENT_COLOURS, UNIT_COLOURS, incidentGroup } from "./style.js";
import { makeMap, mapConfig } from "./map.js";
import { attempt, reportLoadError, startPage } from "./page.js";

const $ = (id) => document.getElementById(id);

let resolveReady;
let rejectReady;
const gridgov = {
  map: null, layers: null, routing: null, me: null,
  ready: new Promise((res, rej) => { resolveReady = res; rejectReady = rej; }),
};
// a page that never got ready has said why on screen; the promise is for tests and scripts that wait on it
gridgov.ready.catch(() => {});
window.gridgov = gridgov;

const state = { categories: [], departments: new Map(), control: null, legend: null, started: false };

function deptName(code) {
  const d = state.departments.get(code);
  return d ? localName(d) : (code || "");
}

function categoryRecord(code) {
  return state.categories.find((c) => c.code === code) || null;
}

function categoryName(code, fallback) {
  const c = categoryRecord(code);
  return c ? localName(c) : (fallback || code || "");
}

// ---------------------------------------------------------------- header

function renderHeader() {
  const me = gridgov.me;
  if (!me) return;
  $("user-name").textContent = me.username;
  const scopes = (me.grants || []).map((g) => {
    const area = g.area_code ? (gridgov.layers?.areaName(g.area_code) || g.area_code) : "";
    return area ? `${tOr(`role.${g.role}`, g.role)} · ${area}` : tOr(`role.${g.role}`, g.role);
  });
  const roles = scopes.length ? scopes : (me.roles || []).map((r) => tOr(`role.${r}`, r));
  $("user-roles").textContent = list([...new Set(roles)]);
}

function renderStats() {
  const layers = gridgov.layers;
  if (!layers) return;
  const items = [];
  const add = (key, value, extra, testid) => items.push(h("div", { class: "stat", dataset: { testid } },
    h("span", { class: "stat-v" }, value.toLocaleString()), h("span", { class: "stat-k" }, t(key), extra)));
  if (layers.counts.grids != null) add("stats.grids", layers.counts.grids, null, "stat-grids");
  if (layers.counts.stations != null) add("stats.stations", layers.counts.stations, null, "stat-stations");
  if (layers.counts.units != null) {
    const avail = layers.layers.units.getLayers()
      .filter((l) => l.feature.properties.status === "available" && !l.feature.properties.stale).length;
    add("stats.units", avail, ` / ${layers.counts.units}`, "stat-units");
  }
  if (layers.counts.incidents != null) {
    const open = layers.layers.incidents.getLayers()
      .filter((l) => incidentGroup(l.feature.properties.status) !== "closed").length;
    add("stats.incidents", layers.counts.incidents, ` · ${t("stats.open")} ${open}`, "stat-incidents");
  }
  replace($("stats"), ...items);
}

// ---------------------------------------------------------------- map

function createMap(config) {
  const map = makeMap("map", config, { zoomControl: true, minZoom: 7, maxZoom: 19, zoomSnap: 0.25, wheelPxPerZoomLevel: 90 });
  map.createPane("areaPane").style.zIndex = "410";
  map.createPane("pointPane").style.zIndex = "450";
  map.createPane("routePane").style.zIndex = "460";
  map.createPane("unitPane").style.zIndex = "620";  // above the workstation icons units often stand at
  map.getPane("routePane").style.pointerEvents = "none";
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" title="Leaflet">Leaflet</a>');
  L.control.scale({ imperial: false, position: "bottomright" }).addTo(map);
  const zoomClass = () => map.getContainer().classList.toggle("zoom-low", map.getZoom() < 12.5);
  map.on("zoomend", zoomClass);
  zoomClass();
  return map;
}

function buildControl() {
  const map = gridgov.map;
  if (state.control) state.control.remove();
  state.control = L.control.layers(null, gridgov.layers.controlEntries(), { collapsed: false, position: "topright" });
  state.control.addTo(map);
  state.control.getContainer().dataset.testid = "layer-control";
}

function buildLegend() {
  if (state.legend) state.legend.remove();
  const Legend = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd() {
      const sw = (cls, colour) => {
        const s = h("span", { class: cls });
        s.style.background = colour;
        return s;
      };
      const can = (id) => gridgov.layers.available(id);  // only what this account is shown
      const el = h("div", { class: "legend", dataset: { testid: "legend" } },
        can("incidents") ? [
          h("div", { class: "legend-title" }, t("legend.incidents")),
          h("div", { class: "legend-row" }, sw("dot", INCIDENT_COLOURS.open), t("legend.open"),
            sw("dot", INCIDENT_COLOURS.working), t("legend.working"),
            sw("dot", INCIDENT_COLOURS.closed), t("legend.closed"))] : null,
        can("units") ? [
          h("div", { class: "legend-title" }, t("legend.units")),
          h("div", { class: "legend-row" }, sw("ring", UNIT_COLOURS.available), t("unit.available"),
            sw("ring", UNIT_COLOURS.busy), t("unit.busy"), sw("ring", UNIT_COLOURS.off_duty), t("unit.off_duty"),
            sw("ring stale", UNIT_COLOURS.stale), t("unit.stale"))] : null,
        (can("stations") || can("grids")) ? h("div", { class: "legend-row" },
          can("stations") ? [h("span", { class: "gg-station mini" }, h("span", {}, t("map.station_mark"))), t("layer.stations")] : null,
          can("grids") ? [h("span", { class: "gg-sw gg-sw-grid" }), t("layer.grids")] : null) : null);
      if (!el.childNodes.length) el.hidden = true;
      L.DomEvent.disableClickPropagation(el);
      return el;
    },
  });
  state.legend = new Legend().addTo(gridgov.map);
}

function fillCategories() {
  const select = $("category");
  const current = select.value;
  replace(select, ...state.categories.map((c) => h("option", { value: c.code }, localName(c))));
  if (current && categoryRecord(current)) select.value = current;
  showCategoryDepartments();
}

function showCategoryDepartments() {
  const c = categoryRecord($("category").value);
  $("category-depts").textContent = c
    ? `${t("route.responsible")}${list((c.departments || []).map(deptName))}` : "";
}

/** The categories and departments (the routing preview's choices, popups' names). */
async function loadCatalog() {
  const [categories, departments] = await Promise.all([publicJson("/api/categories"), publicJson("/api/departments")]);
  state.categories = categories;
  for (const d of departments) state.departments.set(d.code, d);
  fillCategories();
}

async function startApp(me) {
  gridgov.me = me;
  renderHeader();
  state.started = true;

  const [config] = await Promise.all([mapConfig(), attempt("load.categories", loadCatalog)]);
  $("category").addEventListener("change", showCategoryDepartments);

  const map = createMap(config);
  gridgov.map = map;
  const layers = new MapLayers(map, {
    capabilities: me.capabilities, deptName, categoryName,
    onError: (def, e) => reportLoadError(def.label, e, () => attempt(def.label, () => layers.load(def))),
    onCount: (id, n) => {
      document.body.dataset[`${id}Loaded`] = String(n);
      renderStats();
      if (id === "district" || id === "streets") renderHeader();
    },
  });
  gridgov.layers = layers;
  const can = new Set(me.capabilities || []);
  if (can.has("preview_routing")) {
    gridgov.routing = new RoutingPreview({
      map, layers, panel: $("route-panel"), select: $("category"), deptName, category: categoryRecord,
      showsUnits: can.has("read_units"),
    });
  } else {  // the map still works; a click just has nothing to preview for this account
    $("category").closest(".panel-block").hidden = true;
    replace($("route-panel"), h("p", { class: "notice", dataset: { testid: "route-unavailable", i18n: "route.unavailable" } },
      t("route.unavailable")));
    $("route-panel").dataset.state = "unavailable";
  }
  buildControl();
  buildLegend();

  await layers.start();  // a layer that failed says so (onError), with a retry
  buildControl();  // drop layers the caller may not see (403)
  buildLegend();
  const bounds = layers.bounds();
  if (bounds) map.fitBounds(bounds, { padding: [16, 16] });
  document.body.dataset.mapReady = "1";
  resolveReady(gridgov);
}

function onLang() {
  if (!state.started) return;
  fillCategories();
  renderHeader();
  renderStats();
  if (gridgov.layers) { buildControl(); buildLegend(); }
  gridgov.routing?.render();
  gridgov.map?.closePopup();
}

// ---------------------------------------------------------------- start

if (typeof L === "undefined") {
  document.body.textContent = "Leaflet failed to load (/vendor/leaflet/leaflet.js)";
} else {
  startPage({
    capability: "read_map",
    denied: { key: "map.noaccess", testid: "map-noaccess" },
    onReady: (me) => startApp(me).catch((e) => { rejectReady(e); throw e; }),
    onDenied: (me) => { gridgov.me = me; renderHeader(); resolveReady(gridgov); },
    onLang,
  });
}
