// gridgov web map: login, layers, routing preview. Native ES module; Leaflet is the global L.
/* global L */

import * as auth from "./api.js";
import { api, publicJson, ApiError } from "./api.js";
import { h, replace } from "./dom.js";
import { applyI18n, errorText, list, localName, onLangChange, t, toggleLang, tOr } from "./i18n.js";
import { MapLayers } from "./layers.js";
import { RoutingPreview } from "./routing.js";
import { INCIDENT_COLOURS, UNIT_COLOURS, incidentGroup } from "./style.js";
import { makeMap, mapConfig } from "./map.js";

const $ = (id) => document.getElementById(id);
const FLASH = "gridgov.flash";

let resolveReady;
let rejectReady;
const gridgov = {
  map: null, layers: null, routing: null, me: null,
  ready: new Promise((res, rej) => { resolveReady = res; rejectReady = rej; }),
};
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

// ---------------------------------------------------------------- login screen

function showLogin(messageKey) {
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  document.body.dataset.view = "login";
  if (messageKey) setError($("login-error"), messageKey);
  $("login-username").focus();
}

/** Show a login error: a message key (re-translated on 中/EN) or a text from the server. */
function setError(el, key, text) {
  if (key) el.dataset.i18n = key;
  else delete el.dataset.i18n;
  el.textContent = key ? t(key) : text;
  el.hidden = false;
}

async function onLoginSubmit(ev) {
  ev.preventDefault();
  const err = $("login-error");
  const button = ev.submitter || document.querySelector("[data-testid=login-submit]");
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  if (!username || !password) {
    setError(err, "login.missing");
    return;
  }
  err.hidden = true;
  button.disabled = true;
  button.textContent = t("login.busy");
  try {
    await auth.login(username, password);
    const me = await api("/api/auth/me");
    $("login-password").value = "";
    await startApp(me);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) setError(err, "login.wrong");
    else if (e instanceof ApiError && e.status === 0) setError(err, "error.network");
    else setError(err, null, `${t("login.failed")}: ${errorText(e)}`);
    err.hidden = false;
    $("login-password").select();
  } finally {
    button.disabled = false;
    button.textContent = t("login.submit");
  }
}

let sessionLost = false;
auth.setSessionLostHandler(() => {
  if (sessionLost || !state.started) return;
  sessionLost = true;
  sessionStorage.setItem(FLASH, "login.expired");
  window.location.reload();
});

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

async function startApp(me) {
  gridgov.me = me;
  sessionStorage.removeItem(FLASH);
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  document.body.dataset.view = "map";
  renderHeader();
  if (state.started) return;
  state.started = true;

  const [config, categories, departments] = await Promise.all([
    mapConfig(),
    publicJson("/api/categories").catch(() => []),
    publicJson("/api/departments").catch(() => []),
  ]);
  state.categories = categories;
  for (const d of departments) state.departments.set(d.code, d);
  fillCategories();
  $("category").addEventListener("change", showCategoryDepartments);

  const map = createMap(config);
  gridgov.map = map;
  const layers = new MapLayers(map, {
    capabilities: me.capabilities, deptName, categoryName,
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

  const results = await layers.start();
  const failed = results.find((r) => r.status === "rejected");
  buildControl();  // drop layers the caller may not see (403)
  buildLegend();
  const bounds = layers.bounds();
  if (bounds) map.fitBounds(bounds, { padding: [16, 16] });
  if (!can.has("read_map")) {
    replace($("route-panel"), h("p", {
      class: "notice notice-warn", dataset: { testid: "map-noaccess", i18n: "map.noaccess" },
    }, t("map.noaccess")));
    $("route-panel").dataset.state = "noaccess";
  } else if (failed) {
    const e = failed.reason;
    replace($("route-panel"), h("p", { class: "notice notice-error", role: "alert" },
      `${t("layer.failed")}: ${errorText(e)}`));
  }
  document.body.dataset.mapReady = "1";
  resolveReady(gridgov);
}

onLangChange(() => {
  if (!state.started) return;
  fillCategories();
  renderHeader();
  renderStats();
  if (gridgov.layers) { buildControl(); buildLegend(); }
  gridgov.routing?.render();
  gridgov.map?.closePopup();
});

// ---------------------------------------------------------------- boot

async function boot() {
  applyI18n();
  for (const b of document.querySelectorAll("[data-lang-toggle]")) b.addEventListener("click", toggleLang);
  $("login-form").addEventListener("submit", onLoginSubmit);
  $("logout").addEventListener("click", async () => {
    await auth.logout();
    window.location.reload();
  });
  const flash = sessionStorage.getItem(FLASH);
  sessionStorage.removeItem(FLASH);
  if (auth.hasSession()) {
    try {
      const me = await api("/api/auth/me");
      await startApp(me);
      return;
    } catch (e) {
      auth.clearTokens();
      if (e instanceof ApiError && e.status !== 401) console.warn("session check failed", e.detail);
    }
  }
  showLogin(flash);
}

if (typeof L === "undefined") {
  document.body.textContent = "Leaflet failed to load (/vendor/leaflet/leaflet.js)";
} else {
  boot().catch((e) => { rejectReady(e); console.error(e); });
}
