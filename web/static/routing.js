// Routing preview: click the map → /api/route → side panel + highlight on the map.
/* global L */

import { api, download } from "./api.js";
import { h, replace } from "./dom.js";
import { ago, errorText, list, localName, metres, t } from "./i18n.js";
import { attempt } from "./page.js";
import { departmentColour } from "./style.js";

export class RoutingPreview {
  constructor({ map, layers, panel, select, deptName, category, showsUnits = true }) {
    this.map = map;
    // without read_units the server leaves the units out of the document: say so, not "no unit"
    this.showsUnits = showsUnits;
    this.layers = layers;
    this.panel = panel;
    this.select = select;
    this.deptName = deptName;
    this.category = category;  // code → category record
    this.seq = 0;
    this.last = null;  // {latlng, doc|error}
    this.renderer = L.svg({ pane: "routePane", padding: 0.3 });
    this.overlay = L.layerGroup().addTo(map);
    map.on("click", (e) => this.route(e.latlng));
    select.addEventListener("change", () => { if (this.last) this.route(this.last.latlng); });
  }

  async route(latlng) {
    const seq = ++this.seq;
    const code = this.select.value;
    this.last = { latlng };
    this.drawPin(latlng);
    this.setState("loading");
    replace(this.panel, h("p", { class: "hint" }, t("route.loading")));
    const q = new URLSearchParams({
      lon: latlng.lng.toFixed(7), lat: latlng.lat.toFixed(7), category: code,
    });
    try {
      const doc = await api(`/api/route?${q}`);
      if (seq !== this.seq) return;
      this.last = { latlng, doc };
      this.render();
      this.drawResult(doc);
      this.setState("done");
    } catch (e) {
      if (seq !== this.seq) return;
      this.last = { latlng, error: e };
      this.render();
      this.setState("error");
    }
  }

  setState(state) {
    this.panel.dataset.state = state;
  }

  /** Re-render the current result (also after a language switch). */
  render() {
    if (!this.last) return;
    if (this.last.error) {
      const e = this.last.error;
      const detail = errorText(e);
      replace(this.panel,
        h("h2", { class: "panel-title" }, t("route.title")),
        this.pointLine(this.last.latlng),
        // the message in the page's language; the server's own words stay at hand (title)
        h("div", { class: "notice notice-error", role: "alert", title: e.detail || "", dataset: { testid: "route-error" } },
          h("strong", {}, `${t("route.error")}: `), detail));
      return;
    }
    if (this.last.doc) replace(this.panel, ...this.documentView(this.last.doc));
  }

  pointLine(latlng) {
    return h("div", { class: "point-line", dataset: { testid: "route-point" } },
      `${t("route.point")} ${latlng.lng.toFixed(5)}, ${latlng.lat.toFixed(5)}`);
  }

  documentView(doc) {
    const cat = this.category(doc.category?.code || this.select.value);
    const out = [
      h("h2", { class: "panel-title" }, t("route.title"),
        cat ? h("span", { class: "chip" }, localName(cat)) : null),
      h("div", { class: "point-line", dataset: { testid: "route-point" } },
        `${t("route.point")} ${Number(doc.point?.lon).toFixed(5)}, ${Number(doc.point?.lat).toFixed(5)}`),
    ];
    const flags = this.flagNotices(doc);
    if (flags.length) out.push(h("div", { class: "flags", dataset: { testid: "route-flags" } }, ...flags));

    out.push(h("section", { class: "sect" },
      h("h3", {}, t("route.hierarchy")),
      h("ol", { class: "chain", dataset: { testid: "route-hierarchy" } },
        this.level("f.grid", doc.grid, "route-grid"),
        this.level("f.community", doc.community, "route-community"),
        this.level("f.street", doc.street, "route-street"),
        this.level("f.district", doc.district, "route-district")),
      doc.grid ? this.posterLinks(doc.grid.code) : null));

    out.push(h("section", { class: "sect" },
      h("h3", {}, t("route.zone")),
      h("div", { class: "kvs" },
        this.kv("f.zone", doc.zone, "route-zone"),
        this.kv("f.station", doc.station, "route-station"))));

    const patrol = Array.isArray(doc.patrol_zones) ? doc.patrol_zones : [];
    out.push(h("section", { class: "sect" },
      h("h3", {}, t("route.patrol")),
      patrol.length
        ? h("ul", { class: "plain", dataset: { testid: "route-patrol" } }, ...patrol.map((p) =>
          h("li", {}, h("span", { class: "dept-tag", dataset: { dept: p.department || "" } }, this.deptName(p.department)),
            ` ${p.name || ""} `, h("span", { class: "code" }, p.code || ""))))
        : h("p", { class: "muted small" }, t("route.no_patrol"))));

    out.push(h("section", { class: "sect" },
      h("h3", {}, t("route.units")),
      ...(this.showsUnits ? this.unitGroups(doc)
        : [h("p", { class: "muted small", dataset: { testid: "route-units-hidden" } }, t("route.units_hidden"))])));
    return out;
  }

  /** The grid's QR poster (浔安码) to print: SVG or PDF. */
  posterLinks(code) {
    const link = (fmt) => h("button", {
      type: "button", class: "link-button", dataset: { testid: `poster-${fmt}` },
      onclick: (ev) => {
        ev.preventDefault();
        const get = () => download(`/api/areas/${encodeURIComponent(code)}/poster.${fmt}`, `poster-${code}.${fmt}`);
        attempt("poster.download", get);  // a failure shows in the page's alert, with a retry
      },
    }, fmt.toUpperCase());
    return h("div", { class: "poster-links small", dataset: { testid: "route-poster" } },
      `${t("poster.download")}: `, link("pdf"), " · ", link("svg"));
  }

  level(label, part, testid) {
    return h("li", { dataset: { testid } },
      h("span", { class: "k" }, t(label)),
      part ? h("span", { class: "v" }, part.name || "", " ", h("span", { class: "code" }, part.code || ""))
        : h("span", { class: "v muted" }, t("route.none")));
  }

  kv(label, part, testid) {
    return h("div", { class: "kv", dataset: { testid } },
      h("span", { class: "k" }, t(label)),
      part ? h("span", { class: "v" }, part.name || "", " ", h("span", { class: "code" }, part.code || ""))
        : h("span", { class: "v muted" }, t("route.none")));
  }

  unitGroups(doc) {
    const units = Array.isArray(doc.units) ? doc.units : [];
    const excluded = new Map((doc.excluded || []).map((e) => [e.department, e]));
    const depts = [...(doc.category?.departments || [])];
    for (const u of units) if (!depts.includes(u.department)) depts.push(u.department);
    return depts.map((dept) => {
      const mine = units.filter((u) => u.department === dept);
      const ex = excluded.get(dept);
      return h("div", { class: "dept-group", dataset: { testid: "route-dept", dept } },
        h("div", { class: "dept-head" },
          h("span", { class: "dept-tag", dataset: { dept } }, this.deptName(dept)),
          ex ? h("span", { class: "muted small" },
            t("route.skipped", { busy: ex.not_available ?? 0, stale: ex.stale ?? 0 })) : null),
        mine.length
          ? h("ol", { class: "units" }, ...mine.map((u) => h("li", {
            class: "unit",
            dataset: { testid: "route-unit", distanceM: String(u.distance_m), code: u.code || "" },
          },
          h("span", { class: "rank" }, String(u.rank ?? "")),
          h("span", { class: "unit-main" },
            h("span", { class: "unit-name" }, u.name || u.code || ""),
            h("span", { class: "unit-reason" },
              `${t("route.rank", { n: u.rank })} · ${u.code || ""} · ${t("route.age", { t: ago(u.position_age_s) })}`)),
          h("span", { class: "dist", dataset: { testid: "route-distance" } }, metres(u.distance_m)))))
          : h("p", { class: "notice notice-warn small" }, t("route.no_units")));
    });
  }

  flagNotices(doc) {
    const flags = Array.isArray(doc.flags) ? doc.flags : [];
    const out = [];
    for (const flag of flags) {
      if (flag === "unrouted") {
        const ng = doc.nearest_grid;
        out.push(h("div", { class: "notice notice-error", dataset: { testid: "flag-unrouted" } },
          ng ? t("flag.unrouted", { grid: `${ng.name || ""} (${ng.code || ""})`, d: metres(ng.distance_m) })
            : t("flag.unrouted_nogrid")));
      } else if (flag === "shared_edge") {
        out.push(h("div", { class: "notice notice-warn", dataset: { testid: "flag-shared-edge" } },
          t("flag.shared_edge", { grid: doc.grid ? `${doc.grid.name || ""} (${doc.grid.code || ""})` : "—" })));
      } else if (flag === "near_boundary") {
        const cands = Array.isArray(doc.candidates) ? doc.candidates : [];
        out.push(h("div", { class: "notice notice-warn", dataset: { testid: "flag-near-boundary" } },
          t("flag.near_boundary", { tol: metres(doc.tolerance_m ?? 20) }),
          h("ul", { class: "plain" }, ...cands.map((c) => h("li", {},
            c.name || "", " ", h("span", { class: "code" }, c.code || ""), ` — ${metres(c.distance_m)}`)))));
      } else if (flag === "no_available_unit") {
        const missing = doc.departments_without_units || [];
        out.push(h("div", { class: "notice notice-warn", dataset: { testid: "flag-no-unit" } },
          t("flag.no_available_unit", { depts: list(missing.map((d) => this.deptName(d))) || "—" })));
      } else {
        out.push(h("div", { class: "notice" }, String(flag)));
      }
    }
    return out;
  }

  drawPin(latlng) {
    this.overlay.clearLayers();
    L.circleMarker(latlng, {
      renderer: this.renderer, radius: 9, color: "#0b61a4", weight: 3, fillColor: "#ffffff", fillOpacity: 1,
      interactive: false, className: "gg-pin",
    }).addTo(this.overlay);
  }

  drawResult(doc) {
    const latlng = this.last.latlng;
    this.overlay.clearLayers();
    const codes = doc.grid ? [doc.grid.code] : (doc.candidates || []).map((c) => c.code);
    if (!doc.grid && doc.nearest_grid) codes.push(doc.nearest_grid.code);
    for (const code of codes) {
      const layer = this.layers.gridIndex.get(code);
      if (!layer) continue;
      L.geoJSON(layer.feature, {
        renderer: this.renderer, interactive: false,
        style: { color: "#0b61a4", weight: 3, opacity: 1, fillColor: "#0b61a4", fillOpacity: 0.16 },
      }).addTo(this.overlay);
    }
    for (const u of doc.units || []) {
      if (u.lat == null || u.lon == null) continue;
      const colour = departmentColour(u.department);
      const target = L.latLng(u.lat, u.lon);
      L.polyline([latlng, target], {
        renderer: this.renderer, interactive: false, color: colour, weight: u.rank === 1 ? 2.5 : 1.4,
        opacity: u.rank === 1 ? 0.95 : 0.6, dashArray: u.rank === 1 ? "6 4" : "2 5",
      }).addTo(this.overlay);
      L.circleMarker(target, {
        renderer: this.renderer, interactive: false, radius: u.rank === 1 ? 8 : 6, color: colour, weight: 3,
        fill: false,
      }).addTo(this.overlay);
    }
    L.circleMarker(latlng, {
      renderer: this.renderer, radius: 9, color: "#0b61a4", weight: 3, fillColor: "#ffffff", fillOpacity: 1,
      interactive: false, className: "gg-pin",
    }).addTo(this.overlay);
  }
}
