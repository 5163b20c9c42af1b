// Map layers: administrative areas and overlays on one canvas, points on SVG.
/* global L */

import { api, ApiError } from "./api.js";
import { h } from "./dom.js";
import { t, tOr, localName, dateTime, ago, list } from "./i18n.js";
import {
  INCIDENT_COLOURS, UNIT_COLOURS, STREET_FILLS, departmentColour, incidentGroup,
} from "./style.js";

/** Overlay definitions, in control order. `on`: shown (and fetched) at start. `needs`: the
 * capability (from /api/auth/me, the server's one policy in api/auth/policy.py) without which
 * the layer is not offered. The page keeps no list of roles: the server decides, and this only
 * spares requests that would get 403. A layer that declares no capability is never offered. */
export const OVERLAYS = [
  { id: "district", label: "layer.district", swatch: "district", kind: "district", on: true, needs: "read_map" },
  { id: "streets", label: "layer.streets", swatch: "street", kind: "street", on: true, needs: "read_map" },
  { id: "communities", label: "layer.communities", swatch: "community", kind: "community", on: false,
    needs: "read_map" },
  { id: "grids", label: "layer.grids", swatch: "grid", kind: "grid", on: true, needs: "read_map" },
  { id: "zones", label: "layer.zones", swatch: "zone", kind: "zone", on: false, needs: "read_map" },
  { id: "patrol", label: "layer.patrol", swatch: "patrol", kind: "patrol_zone", on: false, needs: "read_map" },
  { id: "stations", label: "layer.stations", swatch: "station", url: "/api/stations", on: true, needs: "read_map" },
  { id: "units", label: "layer.units", swatch: "unit", url: "/api/units", on: true, needs: "read_units" },
  { id: "incidents", label: "layer.incidents", swatch: "incident", url: "/api/incidents?limit=500", on: true,
    needs: "read_incidents" },
];

function row(label, value) {
  if (value === null || value === undefined || value === "") return null;
  return h("div", { class: "kv" }, h("span", { class: "k" }, label), h("span", { class: "v" }, value));
}

function codeName(name, code) {
  return [h("span", {}, name || ""), code ? h("span", { class: "code" }, ` ${code}`) : null];
}

export class MapLayers {
  /** onError(def, error): a layer failed to load (the page shows it, with a retry). */
  constructor(map, { capabilities, deptName, categoryName, onCount, onError }) {
    this.map = map;
    this.capabilities = new Set(capabilities || []);
    this.deptName = deptName;
    this.categoryName = categoryName;
    this.onCount = onCount || (() => {});
    this.onError = onError || ((def, e) => console.warn(`layer ${def.id} failed`, e));
    this.areaRenderer = L.canvas({ pane: "areaPane", padding: 0.3, tolerance: 2 });
    this.pointRenderer = L.svg({ pane: "pointPane", padding: 0.3 });
    this.unitRenderer = L.svg({ pane: "unitPane", padding: 0.3 });
    this.layers = {};
    this.loaded = {};
    this.loading = {};
    this.unavailable = new Set();
    this.gridIndex = new Map();
    this.areaIndex = new Map();
    this.counts = {};
    for (const def of OVERLAYS) {
      this.layers[def.id] = this.create(def);
      if (!def.needs || !this.capabilities.has(def.needs)) this.unavailable.add(def.id);
    }
    map.on("overlayadd", (e) => {
      const def = OVERLAYS.find((d) => this.layers[d.id] === e.layer);
      if (def) this.load(def).catch((e) => this.onError(def, e));
    });
  }

  create(def) {
    switch (def.id) {
      case "district":
        return this.areaLayer({ color: "#15212e", weight: 3.2, opacity: 0.9, fill: false });
      case "streets":
        return this.areaLayer((f) => ({
          color: "#2c4a78", weight: 1.8, opacity: 0.85,
          fillColor: STREET_FILLS[this.streetIndex(f) % STREET_FILLS.length], fillOpacity: 0.13,
        }), (f, layer) => layer.bindTooltip(() => h("span", {}, f.properties.name || ""), {
          permanent: true, direction: "center", className: "gg-label gg-label-street", interactive: false,
        }));
      case "communities":
        return this.areaLayer({ color: "#53657a", weight: 1.1, opacity: 0.8, dashArray: "5 4", fill: false });
      case "grids":
        return this.gridLayer();
      case "zones":
        return this.areaLayer({ color: "#8e44ad", weight: 2.2, opacity: 0.85, dashArray: "10 5",
          fillColor: "#8e44ad", fillOpacity: 0.05 },
        (f, layer) => layer.bindTooltip(() => h("span", {}, f.properties.name || ""), {
          permanent: true, direction: "center", className: "gg-label gg-label-zone", interactive: false,
        }));
      case "patrol":
        return this.areaLayer((f) => ({
          color: departmentColour(f.properties.department), weight: 1.6, opacity: 0.8, dashArray: "2 5",
          fillColor: departmentColour(f.properties.department), fillOpacity: 0.04,
        }));
      case "stations":
        return L.geoJSON(null, {
          pointToLayer: (f, latlng) => L.marker(latlng, {
            icon: L.divIcon({ className: "gg-station", html: h("span", {}, t("map.station_mark")), iconSize: [22, 22] }),
            keyboard: false, riseOnHover: true,
          }),
          onEachFeature: (f, layer) => {
            layer.bindTooltip(() => h("span", {}, f.properties.name || ""), { direction: "top", offset: [0, -10] });
            layer.bindPopup(() => this.stationPopup(f.properties));
          },
        });
      case "units":
        return L.geoJSON(null, {
          pointToLayer: (f, latlng) => L.circleMarker(latlng, this.unitStyle(f.properties)),
          onEachFeature: (f, layer) => layer.bindPopup(() => this.unitPopup(f.properties)),
        });
      case "incidents":
        return L.geoJSON(null, {
          pointToLayer: (f, latlng) => L.circleMarker(latlng, this.incidentStyle(f.properties)),
          onEachFeature: (f, layer) => layer.bindPopup(() => this.incidentPopup(f.properties)),
        });
      default:
        throw new Error(`unknown layer ${def.id}`);
    }
  }

  areaLayer(style, each) {
    return L.geoJSON(null, {
      renderer: this.areaRenderer, interactive: false, style,
      onEachFeature: (f, layer) => {
        this.areaIndex.set(f.properties.code, f);
        if (each) each(f, layer);
      },
    });
  }

  streetIndex(f) {
    const code = String(f.properties.code || "");
    let n = 0;
    for (const ch of code) n = (n * 31 + ch.charCodeAt(0)) >>> 0;
    return Number(code.slice(-3)) || n;
  }

  gridLayer() {
    const base = { color: "#6f7f90", weight: 0.7, opacity: 0.75, fill: true, fillColor: "#0b61a4", fillOpacity: 0 };
    const hover = { color: "#0b61a4", weight: 2.4, opacity: 1, fillOpacity: 0.12 };
    const layer = L.geoJSON(null, {
      renderer: this.areaRenderer, style: base,
      onEachFeature: (f, lyr) => {
        this.gridIndex.set(f.properties.code, lyr);
        lyr.bindTooltip(() => this.gridTip(f.properties), { sticky: true, className: "gg-tip", direction: "top",
          offset: [0, -8] });
        lyr.on("mouseover", () => lyr.setStyle(hover));
        lyr.on("mouseout", () => lyr.setStyle(base));
      },
    });
    return layer;
  }

  unitStyle(p) {
    const colour = p.stale ? UNIT_COLOURS.stale : (UNIT_COLOURS[p.status] || UNIT_COLOURS.off_duty);
    return {
      renderer: this.unitRenderer, className: `gg-unit gg-unit-${p.stale ? "stale" : p.status}`,
      radius: 6.5, color: p.stale ? "#8a939d" : "#15212e", weight: p.stale ? 1 : 1.8,
      dashArray: p.stale ? "2 2" : null, opacity: p.stale ? 0.7 : 0.95,
      fillColor: colour, fillOpacity: p.stale ? 0.55 : 0.95, bubblingMouseEvents: false,
    };
  }

  incidentStyle(p) {
    const group = incidentGroup(p.status);
    const urgent = p.priority === "urgent" && group !== "closed";
    return {
      renderer: this.pointRenderer, className: `gg-incident gg-incident-${group}`,
      radius: group === "closed" ? 3.6 : 5, color: urgent ? "#7a0d07" : "#ffffff", weight: urgent ? 2 : 1,
      opacity: 0.95, fillColor: INCIDENT_COLOURS[group], fillOpacity: group === "closed" ? 0.7 : 0.92,
      bubblingMouseEvents: false,
    };
  }

  gridTip(p) {
    return h("div", {},
      h("div", { class: "tip-title" }, p.name || p.code),
      h("div", { class: "tip-sub" }, p.code,
        p.households != null ? ` · ${t("f.households")} ${p.households}` : ""));
  }

  areaName(code) {
    const f = this.areaIndex.get(code);
    if (f) return localName(f.properties);
    const g = this.gridIndex.get(code);
    return g ? localName(g.feature.properties) : "";
  }

  stationPopup(p) {
    const depts = Array.isArray(p.departments) ? p.departments
      : String(p.departments || "").split(",").filter(Boolean);
    return h("div", { class: "pop", dataset: { testid: "station-popup" } },
      h("div", { class: "pop-title" }, p.name || p.code),
      row(t("f.code"), p.code),
      row(t("f.zone"), [this.areaName(p.zone_code), " ", h("span", { class: "code" }, p.zone_code || "")]),
      row(t("f.departments"), list(depts.map((d) => this.deptName(d)))));
  }

  unitPopup(p) {
    return h("div", { class: "pop", dataset: { testid: "unit-popup" } },
      h("div", { class: "pop-title" }, p.name || p.code),
      row(t("f.code"), p.code),
      row(t("f.department"), this.deptName(p.department)),
      row(t("f.status"), [tOr(`unit.${p.status}`, p.status), p.stale ? ` · ${t("unit.stale")}` : ""]),
      row(t("f.position_at"), p.position_at
        ? `${dateTime(p.position_at)} (${ago((Date.now() - Date.parse(p.position_at)) / 1000)})` : "—"));
  }

  incidentPopup(p) {
    const group = incidentGroup(p.status);
    const gridName = this.areaName(p.grid_code);
    const flags = [p.near_boundary ? t("f.near_boundary") : null, p.unrouted ? t("f.unrouted") : null]
      .filter(Boolean).join(" · ");
    return h("div", { class: "pop", dataset: { testid: "incident-popup" } },
      h("div", { class: "pop-title" },
        h("span", { class: `dot dot-${group}` }), this.categoryName(p.category_code, p.category_name)),
      row(t("f.status"), tOr(`state.${p.status}`, tOr(`status.${p.status}`, p.status))),
      row(t("f.priority"), p.priority ? tOr(`priority.${p.priority}`, p.priority) : null),
      row(t("f.reported"), dateTime(p.reported_at)),
      row(t("f.grid"), p.grid_code ? codeName(gridName, p.grid_code) : "—"),
      row(t("f.street"), p.street_code ? codeName(this.areaName(p.street_code), p.street_code) : null),
      flags ? h("div", { class: "pop-flag" }, flags) : null,
      p.tracking_code ? h("div", { class: "pop-foot" }, `#${p.id} · ${p.tracking_code}`) : h("div", { class: "pop-foot" }, `#${p.id}`));
  }

  url(def) {
    return def.url || `/api/areas?kind=${encodeURIComponent(def.kind)}`;
  }

  /** Fetch a layer once; resolves to its feature count (or null when not allowed). */
  load(def) {
    if (this.unavailable.has(def.id)) {
      this.map.removeLayer(this.layers[def.id]);
      return Promise.resolve(null);
    }
    if (this.loading[def.id]) return this.loading[def.id];
    this.loading[def.id] = (async () => {
      let fc;
      try {
        fc = await api(this.url(def));
      } catch (e) {
        if (e instanceof ApiError && e.status === 403) {
          this.unavailable.add(def.id);
          this.map.removeLayer(this.layers[def.id]);
          return null;
        }
        delete this.loading[def.id];
        throw e;
      }
      let features = fc.features || [];
      if (def.id === "incidents") {  // open ones on top
        const order = { closed: 0, working: 1, open: 2 };
        features = [...features].sort((a, b) =>
          order[incidentGroup(a.properties.status)] - order[incidentGroup(b.properties.status)]);
      }
      this.layers[def.id].addData({ type: "FeatureCollection", features });
      this.loaded[def.id] = fc;
      this.counts[def.id] = this.layers[def.id].getLayers().length;
      this.onCount(def.id, this.counts[def.id], fc);
      return this.counts[def.id];
    })();
    return this.loading[def.id];
  }

  /** Add the default layers and fetch them; resolves when all are drawn. */
  async start() {
    const shown = OVERLAYS.filter((d) => d.on && !this.unavailable.has(d.id));
    for (const def of shown) this.layers[def.id].addTo(this.map);
    const results = await Promise.allSettled(shown.map((d) => this.load(d)));
    results.forEach((r, i) => { if (r.status === "rejected") this.onError(shown[i], r.reason); });
    return results;
  }

  /** Whether the caller may see this layer (offered, and not refused by the server). */
  available(id) { return Boolean(this.layers[id]) && !this.unavailable.has(id); }

  bounds() {
    for (const id of ["grids", "streets", "district"]) {
      const layer = this.layers[id];
      if (layer.getLayers().length) {
        const b = layer.getBounds();
        if (b.isValid()) return b;
      }
    }
    return null;
  }

  controlEntries() {
    const out = {};
    for (const def of OVERLAYS) {
      if (this.unavailable.has(def.id)) continue;
      out[`<span class="gg-sw gg-sw-${def.swatch}"></span>${t(def.label)}`] = this.layers[def.id];
    }
    return out;
  }
}
