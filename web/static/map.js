// One module makes every map (DESIGN.md "Layout"): the configured base (the offline base of the
// project's own outlines and names always, under any preset's tiles), fitted to the districts'
// extent from /config.json. No page holds a coordinate of a district.
//
// When the preset's tiles are GCJ-02 (AMap and the like) the map's CRS shifts every WGS-84 position
// into GCJ-02 as it projects it, and back as it reads a click or a dragged pin: the pages keep
// WGS-84 in their latlngs (what they draw and what they send), and toDisplay / fromDisplay say
// where a WGS-84 position shows on such tiles.
import { escapeHtml } from "./dom.js";
import { gcj02ToWgs84, wgs84ToGcj02 } from "./gcj02.js";

let configPromise = null;

/** /config.json, fetched once per page (no login needed); {} when it cannot be had (offline). */
export function mapConfig() {
  if (!configPromise) {
    configPromise = fetch("/config.json", { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
  }
  return configPromise;
}

let shifted = false;

/** [lat, lon] where a WGS-84 position shows on the base tiles (GCJ-02 ones: shifted). */
export function toDisplay(lat, lon) {
  if (!shifted) return [lat, lon];
  const [glon, glat] = wgs84ToGcj02(lon, lat);
  return [glat, glon];
}

/** [lat, lon] in WGS-84 of a position read off the base tiles (the inverse of toDisplay). */
export function fromDisplay(lat, lon) {
  if (!shifted) return [lat, lon];
  const [wlon, wlat] = gcj02ToWgs84(lon, lat);
  return [wlat, wlon];
}

function gcjCrs() {
  const sm = L.Projection.SphericalMercator;
  const projection = {
    bounds: sm.bounds,
    project: (ll) => { const [lat, lon] = toDisplay(ll.lat, ll.lng); return sm.project(L.latLng(lat, lon)); },
    unproject: (p) => { const ll = sm.unproject(p); const [lat, lon] = fromDisplay(ll.lat, ll.lng); return L.latLng(lat, lon); },
  };
  return L.Util.extend({}, L.CRS.EPSG3857, { code: "EPSG:3857+GCJ02", projection });
}

/** Vector tiles (Leaflet.VectorGrid) are cut in WGS-84 Web Mercator: on GCJ-02 tiles each such
 * layer is moved by the GCJ-02 offset at the view's centre. The offset drifts by about 40 m across a
 * district, so the error stays under a pixel or two at every zoom (it shrinks with the view). */
function shiftVectorTiles(map) {
  const vector = new Set();
  const move = () => {
    const c = map.getCenter();
    const z = map.getZoom();
    const d = map.project(c, z).subtract(L.CRS.EPSG3857.latLngToPoint(c, z));
    for (const layer of vector) {
      const el = layer.getContainer && layer.getContainer();
      if (el) el.style.transform = `translate(${d.x}px, ${d.y}px)`;
    }
  };
  map.on("layeradd", (e) => {
    if (e.layer instanceof L.GridLayer && !(e.layer instanceof L.TileLayer)) { vector.add(e.layer); move(); }
  });
  map.on("layerremove", (e) => vector.delete(e.layer));
  map.on("zoomend moveend viewreset", move);
}

/** The districts' extent as Leaflet bounds (null before any district is loaded). */
export function districtBounds(config) {
  const e = config && config.extent;
  return Array.isArray(e) && e.length === 4 ? L.latLngBounds([e[1], e[0]], [e[3], e[2]]) : null;
}

/**
 * A Leaflet map in `element` with the configured base under the page's own layers.
 * options: Leaflet map options, plus
 *   center: [lat, lon] and zoom: open there (a case's or a task's place) instead of the districts' extent;
 *   base: false to leave out the offline outlines (default drawn);
 *   padding: fitBounds padding (default [16, 16]).
 * Resolves to the map; map.gridgov = {config, base, fitDistrict()}.
 */
export async function createMap(element, options = {}) {
  return makeMap(element, await mapConfig(), options);
}

/** createMap with /config.json already in hand (`await mapConfig()` once): for pages that draw
 * several small maps as they render (the officer's task cards). */
export function makeMap(element, config, options = {}) {
  const { center, zoom, base = true, padding = [16, 16], ...leaflet } = options;
  shifted = config.shift === "gcj02";
  const map = L.map(element, { maxZoom: 19, ...leaflet, ...(shifted ? { crs: gcjCrs() } : {}) });
  map.createPane("basePane").style.zIndex = "250";         // above tiles, under every page layer
  map.createPane("baseLabelPane").style.zIndex = "390";
  map.getPane("basePane").style.pointerEvents = "none";
  map.getPane("baseLabelPane").style.pointerEvents = "none";
  for (const t of config.tiles || []) {
    L.tileLayer(t.url, {
      subdomains: t.subdomains || "abc", maxZoom: map.getMaxZoom(), maxNativeZoom: t.max_zoom || 18,
      minNativeZoom: t.min_zoom || 0,
      ...(Array.isArray(t.bounds) ? { bounds: L.latLngBounds([t.bounds[1], t.bounds[0]], [t.bounds[3], t.bounds[2]]) } : {}),
      attribution: escapeHtml(t.attribution || ""),
    }).addTo(map);
    map.getContainer().classList.add("has-basemap");
  }
  const container = map.getContainer();
  container.dataset.basemap = config.basemap || "offline";
  container.dataset.shift = shifted ? "gcj02" : "";
  const fitDistrict = () => {
    const b = districtBounds(config);
    if (b) map.fitBounds(b, { padding });
    else map.fitWorld();
  };
  if (center) map.setView(center, zoom ?? 16);
  else fitDistrict();
  if (shifted) shiftVectorTiles(map);
  const outlines = base ? new OfflineBase(map) : null;
  map.gridgov = { config, base: outlines, fitDistrict, toDisplay, fromDisplay };
  return map;
}

// ---------------------------------------------------------------- the offline base

const STYLE = {
  district: { color: "#4a5560", weight: 2.5, opacity: 0.9 },
  street: { color: "#6b7680", weight: 1.6, opacity: 0.8, dashArray: "6 4" },
  community: { color: "#8f99a3", weight: 1, opacity: 0.7 },
  grid: { color: "#b0b8c0", weight: 0.8, opacity: 0.8 },
};
const LABEL_FROM_ZOOM = { district: 0, street: 9, community: 13, grid: 16, station: 14 };

/** District, street and community outlines with their names, grids from street zoom, workstations:
 * the public /api/public/base, fetched for the view (with a margin) as the map moves. */
class OfflineBase {
  constructor(map) {
    this.map = map;
    this.renderer = L.svg({ pane: "basePane" });
    this.group = L.layerGroup(null, { pmIgnore: true, snapIgnore: true }).addTo(map);
    this.loaded = null;  // {zoom, bounds} of what is drawn
    this.seq = 0;
    let timer = null;
    map.on("moveend", () => { clearTimeout(timer); timer = setTimeout(() => this.refresh(), 150); });
    this.ready = this.refresh();
  }

  async refresh() {
    const map = this.map;
    const zoom = Math.max(0, Math.floor(map.getZoom()));
    const view = map.getBounds();
    if (this.loaded && this.loaded.zoom === zoom && this.loaded.bounds.contains(view)) return;
    const want = view.pad(0.5);
    const bbox = [want.getWest(), want.getSouth(), want.getEast(), want.getNorth()]
      .map((v, i) => Math.max(i % 2 ? -85 : -180, Math.min(i % 2 ? 85 : 180, v)).toFixed(5)).join(",");
    const seq = ++this.seq;
    let doc;
    try {
      const r = await fetch(`/api/public/base?zoom=${zoom}&bbox=${bbox}`);
      if (!r.ok) return;
      doc = await r.json();
    } catch { return; }  // offline: keep what is drawn
    if (seq !== this.seq) return;  // a later view asked already
    this.loaded = { zoom, bounds: want };
    this.draw(doc, zoom);
  }

  draw(doc, zoom) {
    // not the page's own: not clickable, and never edited nor snapped to by Geoman (the editor)
    const QUIET = { pane: "basePane", renderer: this.renderer, interactive: false, pmIgnore: true, snapIgnore: true };
    this.group.clearLayers();
    let count = 0;
    for (const f of doc.features || []) {
      const p = f.properties || {};
      if (p.kind === "station") {
        const [lon, lat] = f.geometry.coordinates;
        this.group.addLayer(L.circleMarker([lat, lon], {
          ...QUIET, radius: 4,
          color: "#5a6570", weight: 1, fillColor: "#ffffff", fillOpacity: 1,
        }));
        if (zoom >= LABEL_FROM_ZOOM.station) this.label([lat, lon], p);
      } else {
        this.group.addLayer(L.geoJSON(f, {
          ...QUIET, style: { ...(STYLE[p.kind] || STYLE.grid), fill: false },
        }));
        if (zoom >= (LABEL_FROM_ZOOM[p.kind] ?? 99) && Array.isArray(p.label)) this.label([p.label[1], p.label[0]], p);
      }
      count += 1;
    }
    const el = this.map.getContainer();
    el.dataset.baseFeatures = String(count);
    el.dataset.baseReady = "1";
  }

  label(latlng, p) {
    this.group.addLayer(L.marker(latlng, {
      pane: "baseLabelPane", interactive: false, keyboard: false, pmIgnore: true, snapIgnore: true,
      icon: L.divIcon({
        className: `base-label base-label-${p.kind}`, iconSize: null,
        html: `<span data-code="${escapeHtml(p.code)}">${escapeHtml(p.name || "")}</span>`,
      }),
    }));
  }
}
