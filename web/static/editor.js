// The grid manager's editor (/editor): the grids of the caller's scope on a Leaflet map; select
// (shift-click for several), split by a drawn line, merge, redraw or drag an outline (Geoman),
// rename, retire, edit the roster; every step is previewed by the server (affected grids
// highlighted, violations red with their reason) before Save sends it with If-Match; undo drops
// the last unsaved step; a date slider shows the boundaries as they were (as_of), read only.
// Native ES module; Leaflet and Geoman are the global L (classic scripts).
/* global L */

import { api, publicJson, request, ApiError } from "./api.js";
import { h, replace } from "./dom.js";
import { dateTime, errorText, getLang, localName, t, tOr } from "./i18n.js";
import { attempt, clearLoadError, reportLoadError, startPage } from "./page.js";
import { PendingEdits, etagOf } from "./editor-ops.js";
import { HistoryBar } from "./editor-history.js";
import { FilesPanel, download } from "./editor-files.js";
import { makeMap, mapConfig } from "./map.js";

const $ = (id) => document.getElementById(id);
const GEOMAN = { snappable: true, snapDistance: 20, allowSelfIntersection: false };
const STYLE = {
  grid: { color: "#5f6f80", weight: 0.8, opacity: 0.85, fill: true, fillColor: "#0b61a4", fillOpacity: 0.03 },
  gridHistory: { color: "#7a5c2e", weight: 0.9, opacity: 0.9, fill: true, fillColor: "#c8a26a", fillOpacity: 0.08 },
  hidden: { opacity: 0, fillOpacity: 0 },
  parent: { color: "#2c4a78", weight: 2, opacity: 0.7, dashArray: "6 4", fill: false },
  primary: { color: "#0b61a4", weight: 3.5, opacity: 1, fillColor: "#0b61a4", fillOpacity: 0.18 },
  secondary: { color: "#1d8fe1", weight: 2.5, opacity: 1, dashArray: "6 3", fillColor: "#1d8fe1", fillOpacity: 0.12 },
  created: { color: "#1b7f3b", weight: 2.5, opacity: 1, fillColor: "#33a55a", fillOpacity: 0.28 },
  edited: { color: "#0b61a4", weight: 3.5, opacity: 1, fillColor: "#1d8fe1", fillOpacity: 0.35 },
  changed: { color: "#c26a00", weight: 2.5, opacity: 1, fillColor: "#f5a300", fillOpacity: 0.28 },
  retired: { color: "#6f7d8c", weight: 2, opacity: 1, dashArray: "4 4", fillColor: "#9aa6b2", fillOpacity: 0.2 },
  violation: { color: "#c8102e", weight: 3, opacity: 1, fillColor: "#e5302a", fillOpacity: 0.45 },
};

const ed = {
  me: null, can: new Set(), editable: false, map: null, layers: {}, index: new Map(), parents: new Map(),
  etags: new Map(), selected: [], mode: null, editing: null, asOf: null, pending: new PendingEdits(),
  paths: new Set(), history: null, files: null, busy: false, status: null,
};
window.gridgovEditor = ed;

const setFlag = (name, value) => { document.body.dataset[name] = String(value); };
const feature = (code) => ed.index.get(code)?.feature || null;
const primary = () => ed.selected[0] || null;

// ---------------------------------------------------------------- status line

/** One message at the top of the panel: {kind: ok|warn|error|conflict|busy, key or text, vars, list}. */
function status(kind, key, vars = {}, list = []) {
  ed.status = kind ? { kind, key, vars, list } : null;
  renderStatus();
  if (kind && kind !== "busy") $("ed-status").scrollIntoView({ block: "nearest" });
}

function renderStatus() {
  const el = $("ed-status");
  const s = ed.status;
  el.hidden = !s;
  if (!s) return;
  el.className = `ed-status ed-status-${s.kind}`;
  el.dataset.kind = s.kind;
  replace(el, s.key ? t(s.key, s.vars) : (s.vars.text || ""),
    s.list.length ? h("ul", {}, s.list.map((x) => h("li", {}, x))) : null);
}

/** After a save: the new grids' posters to print (one click each), and what the old ones do. */
function reprintList(created, retired) {
  if (!created.length) return [];
  const poster = (code) => h("button", { type: "button", class: "btn-link", dataset: { testid: "reprint-poster", code },
    onclick: () => download(`/api/areas/${encodeURIComponent(code)}/poster.pdf`, `poster-${code}.pdf`, status) },
  t("ed.reprint.one", { code }));
  return [h("span", { dataset: { testid: "reprint" } }, t("ed.reprint", { n: created.length })),
    ...created.map(poster),
    retired.length ? t("ed.reprint.old", { codes: retired.join("、") }) : null].filter(Boolean);
}

function errorLines(e) {
  return (e instanceof ApiError ? e.errors : []).map((x) => (x.field ? `${x.field}: ${x.reason}` : String(x.reason)));
}


// ---------------------------------------------------------------- map and layers

function createMap(config) {
  const map = makeMap("map", config, { zoomControl: true, minZoom: 7, maxZoom: 20, zoomSnap: 0.25, wheelPxPerZoomLevel: 90 });
  for (const [pane, z] of [["parentPane", 405], ["gridPane", 410], ["selectPane", 420], ["previewPane", 430],
    ["violationPane", 440]]) map.createPane(pane).style.zIndex = String(z);
  map.getPane("parentPane").style.pointerEvents = "none";
  map.getPane("selectPane").style.pointerEvents = "none";
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" title="Leaflet">Leaflet</a> · Geoman');
  L.control.scale({ imperial: false, position: "bottomright" }).addTo(map);
  map.pm.setGlobalOptions(GEOMAN);
  map.pm.setLang(getLang() === "en" ? "en" : "zh");
  map.on("pm:create", onDrawn);
  return map;
}

function createLayers(map) {
  const areaRenderer = L.canvas({ pane: "gridPane", padding: 0.3, tolerance: 3 });
  ed.layers.parents = L.geoJSON(null, {
    pane: "parentPane", interactive: false, style: STYLE.parent, pmIgnore: true, snapIgnore: false,
    onEachFeature: (f) => ed.parents.set(f.properties.code, f),
  }).addTo(map);
  ed.layers.grids = L.geoJSON(null, {
    // not editable in place (pmIgnore), but drawn vertices snap to the grids' edges and corners
    renderer: areaRenderer, style: () => (ed.asOf ? STYLE.gridHistory : STYLE.grid), pmIgnore: true, snapIgnore: false,
    onEachFeature: (f, layer) => {
      ed.index.set(f.properties.code, layer);
      layer.bindTooltip(() => gridTip(f.properties), { sticky: true, className: "gg-tip", direction: "top", offset: [0, -8] });
      layer.on("click", (e) => onGridClick(f.properties.code, e));
    },
  }).addTo(map);
  ed.layers.selection = L.geoJSON(null, { pane: "selectPane", interactive: false, pmIgnore: true }).addTo(map);
  ed.layers.preview = L.geoJSON(null, { pane: "previewPane", pmIgnore: true }).addTo(map);
  ed.layers.violations = L.geoJSON(null, { pane: "violationPane", pmIgnore: true }).addTo(map);
  ed.layers.edit = L.featureGroup().addTo(map);
}

function addLegend(map) {
  const Legend = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd() {
      const el = h("div", { class: "legend ed-legend", dataset: { testid: "legend" } });
      L.DomEvent.disableClickPropagation(el);
      return el;
    },
  });
  ed.legend = new Legend().addTo(map);
  renderLegend();
}

/** What the preview's colours mean (shown while there are unsaved steps). */
function renderLegend() {
  const el = ed.legend?.getContainer();
  if (!el) return;
  const sw = (style) => {
    const s = h("span", { class: "ed-sw" });
    s.style.background = style.fillColor;
    s.style.borderColor = style.color;
    return s;
  };
  el.hidden = !ed.pending.length;
  replace(el, ...[["edited", "ed.legend.edited"], ["changed", "ed.legend.changed"], ["created", "ed.change.created"],
    ["retired", "ed.change.retired"], ["violation", "ed.violation"]]
    .map(([k, key]) => h("div", { class: "legend-row" }, sw(STYLE[k]), t(key))));
}

function renderCount() {
  if (ed.count == null) return;
  replace($("ed-count"), h("span", { class: "stat" }, h("span", { class: "stat-v" }, ed.count.toLocaleString()),
    h("span", { class: "stat-k" }, t("ed.layer.grids"))));
}

function gridTip(p) {
  const parent = ed.parents.get(p.parent_code);
  return h("div", {},
    h("div", { class: "tip-title" }, localName(p)),
    h("div", { class: "tip-sub" }, p.code, parent ? ` · ${localName(parent.properties)}` : ""));
}

async function loadLayers({ fit = false } = {}) {
  const q = (kind) => {
    const s = new URLSearchParams({ kind });
    if (ed.asOf) s.set("as_of", ed.asOf);
    return `/api/areas?${s}`;
  };
  setFlag("gridsLoaded", "");
  replace($("ed-count"), t("ed.loading"));
  // the community outlines are a backdrop: without them the grids still load, and the failure shows
  const [grids, parents] = await Promise.all([api(q("grid")), api(q("community")).then((fc) => {
    clearLoadError("load.communities");
    return fc;
  }, (e) => {
    reportLoadError("load.communities", e, () => attempt("load.grids", loadLayers));
    return null;
  })]);
  ed.index.clear();
  ed.parents.clear();
  ed.layers.parents.clearLayers();
  if (parents) ed.layers.parents.addData(parents);
  ed.layers.grids.clearLayers();
  ed.layers.grids.addData(grids);
  if (!ed.asOf) {
    ed.etags.clear();
    for (const f of grids.features || []) ed.etags.set(f.properties.code, etagOf(f.properties.code, f.properties.version));
  }
  const times = [];
  for (const f of grids.features || []) {
    if (f.properties.valid_from) times.push(f.properties.valid_from);
    if (f.properties.valid_to) times.push(f.properties.valid_to);
  }
  ed.history.setTimes(times.concat(ed.history.times));
  ed.selected = ed.selected.filter((c) => ed.index.has(c));
  const n = (grids.features || []).length;
  ed.count = n;
  renderCount();
  if (fit && n) {
    const b = ed.layers.grids.getBounds();
    // not animated: Leaflet ends a zoom animation by moving to its target, over whatever view the
    // user (or a later fit) set meanwhile (Leaflet issue #1289)
    if (b.isValid()) ed.map.fitBounds(b, { padding: [16, 16], animate: false });
  }
  drawPreview();
  drawSelection();
  renderPanel();
  setFlag("gridsLoaded", n);
  return n;
}

// ---------------------------------------------------------------- selection

function onGridClick(code, e) {
  if (ed.mode) return;  // a click while drawing is a vertex, not a selection
  L.DomEvent.stop(e);
  const add = e.originalEvent && e.originalEvent.shiftKey;
  if (add) {
    ed.selected = ed.selected.includes(code) ? ed.selected.filter((c) => c !== code) : ed.selected.concat(code);
  } else {
    ed.selected = [code];
  }
  drawSelection();
  renderPanel();
  if (!add || ed.selected.length === 1) loadDetails(primary());
}

function clearSelection() {
  ed.selected = [];
  drawSelection();
  renderPanel();
}

function drawSelection() {
  ed.layers.selection.clearLayers();
  ed.selected.forEach((code, i) => {
    const f = feature(code);
    if (f) ed.layers.selection.addData({ ...f, properties: { ...f.properties } });
    const layers = ed.layers.selection.getLayers();
    if (layers.length) layers[layers.length - 1].setStyle(i === 0 ? STYLE.primary : STYLE.secondary);
  });
  setFlag("selected", ed.selected.join(","));
}

/** The chosen area's current document (roster) and its ETag; the drawn version decides If-Match. */
async function loadDetails(code) {
  if (!code || ed.asOf) return;
  try {
    const res = await request(`/api/areas/${encodeURIComponent(code)}`);
    const doc = await res.json();
    const f = feature(code);
    const etag = res.headers.get("ETag");
    if (f && doc?.properties && doc.properties.version === f.properties.version) {
      Object.assign(f.properties, doc.properties);
      if (etag) ed.etags.set(code, etag);
    }
    if (primary() === code) renderPanel();
  } catch { /* the list's properties are enough to show */ }
  setFlag("details", code);
}

// ---------------------------------------------------------------- edit modes (Geoman)

function startMode(mode) {
  endMode();
  const code = primary();
  if (["split", "draw", "reshape", "rename"].includes(mode) && ed.selected.length !== 1) {
    return status("warn", "ed.need.one");
  }
  ed.mode = mode;
  setFlag("mode", mode);
  ed.map.closePopup();
  const hint = $("ed-mode-hint");
  const finish = $("ed-mode-finish");
  finish.hidden = true;
  $("ed-freed-label").hidden = !["draw", "reshape"].includes(mode);
  if (mode === "split") {
    replace(hint, t("ed.hint.split"));
    ed.map.pm.enableDraw("Line", { ...GEOMAN, templineStyle: { color: "#c8102e", weight: 3 }, hintlineStyle: { color: "#c8102e", dashArray: "5 5" } });
  } else if (mode === "draw") {
    replace(hint, t("ed.hint.draw"));
    ed.map.pm.enableDraw("Polygon", { ...GEOMAN, templineStyle: { color: "#0b61a4", weight: 3 }, pathOptions: { color: "#0b61a4" } });
  } else if (mode === "reshape") {
    replace(hint, t("ed.hint.reshape"));
    const f = feature(code);
    const layer = L.geoJSON(f, { pmIgnore: false, style: { ...STYLE.primary, fillOpacity: 0.1 } }).getLayers()[0];
    ed.layers.edit.addLayer(layer);
    layer.pm.enable({ ...GEOMAN, allowSelfIntersectionEdit: false });
    ed.editing = layer;
    finish.hidden = false;
  } else if (mode === "rename") {
    const p = feature(code).properties;
    replace(hint,
      h("input", { id: "ed-rename-name", dataset: { testid: "rename-name" }, value: p.name || "", maxlength: "100", placeholder: t("ed.rename.name"), "aria-label": t("ed.rename.name") }),
      h("input", { id: "ed-rename-en", dataset: { testid: "rename-name-en" }, value: p.name_en || "", maxlength: "200", placeholder: t("ed.rename.name_en"), "aria-label": t("ed.rename.name_en") }));
    finish.hidden = false;
  }
  $("ed-mode").hidden = false;
  renderTools();
  return null;
}

function endMode() {
  if (!ed.map) return;
  ed.map.pm.disableDraw();
  if (ed.editing) ed.editing.pm.disable();
  ed.layers.edit.clearLayers();
  ed.editing = null;
  ed.mode = null;
  setFlag("mode", "");
  $("ed-mode").hidden = true;
  renderTools();
}

function onDrawn(e) {
  const geometry = e.layer.toGeoJSON().geometry;
  e.layer.remove();
  const mode = ed.mode;
  const code = primary();
  endMode();
  if (mode === "split" && e.shape === "Line") runStep({ op: "split", code, line: geometry });
  else if (mode === "draw" && e.shape === "Polygon") runStep({ op: "reshape", code, geometry, freed: $("ed-freed").value });
}

function finishMode() {
  const code = primary();
  if (ed.mode === "reshape" && ed.editing) {
    const geometry = ed.editing.toGeoJSON().geometry;
    endMode();
    runStep({ op: "reshape", code, geometry, freed: $("ed-freed").value });
  } else if (ed.mode === "rename") {
    const name = $("ed-rename-name").value.trim();
    const nameEn = $("ed-rename-en").value.trim();
    endMode();
    runStep({ op: "rename", code, name, ...(nameEn ? { name_en: nameEn } : {}) });
  }
}

function onTool(tool) {
  if (ed.busy || ed.asOf) return;
  if (tool === "merge") {
    if (ed.selected.length < 2) return status("warn", "ed.need.two");
    return runStep({ op: "merge", codes: [...ed.selected] });
  }
  if (tool === "retire") {
    if (ed.selected.length < 2) return status("warn", "ed.need.two", {}, [t("ed.hint.retire")]);
    return runStep({ op: "retire", code: ed.selected[0], to: ed.selected.slice(1) });
  }
  return startMode(tool);
}

// ---------------------------------------------------------------- preview, undo, save

async function runStep(op) {
  const early = ed.pending.blocker(op, null);
  if (early) return status("warn", "ed.pending.blocked", { code: early });
  ed.busy = true;
  setFlag("previewState", "busy");
  status("busy", "ed.preview.busy");
  renderTools();
  try {
    const result = await api("/api/areas/edits/preview", { method: "POST", body: op });
    const late = ed.pending.blocker(op, result);
    if (late) {
      setFlag("previewState", "blocked");
      return status("warn", "ed.pending.blocked", { code: late });
    }
    ed.pending.push(op, result);
    const bad = result.violations?.features?.length || 0;
    if (bad) status("error", "ed.preview.violations", { n: bad }, violationLines(result.violations.features));
    else status("ok", "ed.preview.ok", { n: result.affected?.features?.length || 0 });
    drawPreview();
    setFlag("previewState", bad ? "violations" : "shown");
  } catch (e) {
    setFlag("previewState", "error");
    status("error", null, { text: `${t("ed.preview.failed")}: ${errorText(e)}` }, errorLines(e));
  } finally {
    ed.busy = false;
    renderPanel();
  }
  return null;
}

function undo() {
  if (!ed.pending.length || ed.busy) return;
  ed.pending.pop();
  delete $("ed-roster").dataset.key;  // show the saved roster again
  $("ed-roster").dataset.dirty = "";
  status(null);
  drawPreview();
  renderPanel();
  setFlag("previewState", ed.pending.length ? "shown" : "idle");
}

async function save() {
  if (!ed.pending.length || ed.busy || ed.pending.violations().length) return;
  ed.busy = true;
  setFlag("saveState", "busy");
  status("busy", "ed.saving");
  renderTools();
  try {
    const { rerouted, created, retired } = await ed.pending.save(ed.etags, $("ed-reason").value.trim() || null);
    $("ed-reason").value = "";
    $("ed-roster").dataset.dirty = "";
    await loadLayers();
    status("ok", "ed.saved", { n: rerouted }, reprintList(created, retired));
    setFlag("saveState", "saved");
  } catch (e) {
    if (e instanceof ApiError && e.status === 412) {
      ed.pending.clear();
      await attempt("load.grids", loadLayers);
      status("conflict", "ed.conflict", { versions: currentVersions(e) });
      setFlag("saveState", "conflict");
    } else {
      if (e instanceof ApiError && e.status === 422 && e.body?.violations?.features && ed.pending.length) {
        ed.pending.steps[0].result = { ...ed.pending.steps[0].result, violations: e.body.violations };  // drawn red
      }
      if (e.saved) await attempt("load.grids", loadLayers);
      const lines = errorLines(e);
      if (e.saved) lines.push(t("ed.save.partly", { n: e.saved }));
      status("error", null, { text: `${t("ed.save.failed")}: ${errorText(e)}` }, lines);
      setFlag("saveState", "error");
    }
  } finally {
    ed.busy = false;
    drawPreview();
    renderPanel();
    setFlag("previewState", ed.pending.length ? "shown" : "idle");
  }
}

/** The current versions a 412 names, as "code@version, ...". */
function currentVersions(e) {
  const body = e.body || {};
  const cur = body.current || body.versions;
  if (cur && typeof cur === "object" && !Array.isArray(cur)) {  // {code: "\"code@v\"" | null (retired)}
    return Object.entries(cur).map(([c, v]) => (v === null ? `${c} (${t("ed.change.retired")})`
      : (typeof v === "string" ? v.replaceAll('"', "") : `${c}@${v}`))).join(", ");
  }
  if (Array.isArray(cur)) return cur.map((x) => (typeof x === "string" ? x : `${x.code}@${x.version}`)).join(", ");
  const lines = errorLines(e);
  return lines.length ? lines.join("; ") : e.detail;
}

function reasonText(p) {
  return tOr(`ed.reason.${p.reason}`, p.reason || t("ed.violation"));
}

function violationLines(features) {
  return features.map((f) => {
    const p = f.properties || {};
    return [reasonText(p), (p.codes || []).join("、"), p.detail].filter(Boolean).join(" · ");
  });
}

function violationPopup(p) {
  return h("div", { class: "pop", dataset: { testid: "violation-popup" } },
    h("div", { class: "pop-title ed-bad" }, reasonText(p)),
    p.detail ? h("div", {}, p.detail) : null,
    (p.codes || []).length ? h("div", { class: "code" }, (p.codes || []).join(", ")) : null);
}

function drawPreview() {
  ed.layers.preview.clearLayers();
  ed.layers.violations.clearLayers();
  const affected = ed.pending.affected();
  const hide = new Set(affected.map((f) => f.properties.code));
  for (const [code, layer] of ed.index) {
    layer.setStyle(hide.has(code) ? STYLE.hidden : (ed.asOf ? STYLE.gridHistory : STYLE.grid));
  }
  const named = new Set(ed.pending.steps.flatMap(({ op }) => (op.codes || [op.code])));
  for (const f of affected) {
    const change = f.properties.change || "changed";
    const style = change === "changed" && named.has(f.properties.code) ? STYLE.edited : (STYLE[change] || STYLE.changed);
    L.geoJSON(f, {
      pane: "previewPane", pmIgnore: true, style, className: `ed-affected ed-${change}`,
      onEachFeature: (_, layer) => {
        layer.bindTooltip(() => h("div", {}, h("div", { class: "tip-title" }, f.properties.name || f.properties.code),
          h("div", { class: "tip-sub" }, `${f.properties.code} · ${tOr(`ed.change.${change}`, change)}`)),
        { sticky: true, className: "gg-tip" });
      },
    }).eachLayer((l) => ed.layers.preview.addLayer(l));
  }
  let first = null;
  for (const f of ed.pending.violations()) {
    L.geoJSON(f, {
      pane: "violationPane", pmIgnore: true, style: STYLE.violation, className: "ed-violation",
      pointToLayer: (_, ll) => L.circleMarker(ll, { ...STYLE.violation, radius: 9, pane: "violationPane" }),
      onEachFeature: (_, layer) => {
        layer.bindPopup(() => violationPopup(f.properties || {}));
        first = first || layer;
      },
    }).eachLayer((l) => ed.layers.violations.addLayer(l));
  }
  if (first && !ed.mode) first.openPopup();
  setFlag("pending", ed.pending.length);
  renderLegend();
  setFlag("affected", affected.map((f) => `${f.properties.code}:${f.properties.change}`).join(","));
}

// ---------------------------------------------------------------- history (as_of)

async function onAsOf(asOf) {
  endMode();
  ed.asOf = asOf;
  setFlag("asOf", asOf || "");
  $("ed-banner").hidden = !asOf;
  if (asOf) replace($("ed-banner"), t("ed.history.banner", { t: dateTime(asOf) }));
  try {
    await loadLayers();
  } catch (e) {
    status("error", null, { text: `${t("ed.load_failed")}: ${errorText(e)}` });
  }
}

async function loadVersions(code) {
  const el = $("ed-versions");
  if (!code) return replace(el, h("p", { class: "muted small" }, t("ed.pick")));
  try {
    const fc = await api(`/api/areas/${encodeURIComponent(code)}/history`);
    if (primary() !== code) return null;
    const rows = (fc.features || []).slice().reverse().map((f) => {
      const p = f.properties;
      return h("li", { class: "ed-version", dataset: { testid: "version", version: String(p.version) } },
        h("div", {}, h("b", {}, `v${p.version}`), " ", h("span", { class: "muted small" },
          `${dateTime(p.valid_from)} – ${p.valid_to ? dateTime(p.valid_to) : t("ed.history.now")}`)),
        p.changed_by || p.reason ? h("div", { class: "small" }, [p.changed_by, p.reason].filter(Boolean).join(" · ")) : null,
        h("button", { type: "button", class: "btn-plain small", dataset: { testid: "version-show" },
          onclick: () => ed.history.set(Date.parse(p.valid_from) + 1) }, t("ed.history.show")));
    });
    return replace(el, rows.length ? h("ol", { class: "plain" }, rows) : h("p", { class: "muted small" }, t("ed.history.none")));
  } catch (e) {
    return replace(el, h("p", { class: "muted small" }, errorText(e)));
  }
}

// ---------------------------------------------------------------- panel

function kv(label, value, testid) {
  if (value === null || value === undefined || value === "") return null;
  return h("div", { class: "kv" }, h("span", { class: "k" }, label), h("span", { class: "v", dataset: testid ? { testid } : {} }, value));
}

/** A roster list (["李娜", "张伟"]) as the textarea's lines. */
function lines(v) {
  return Array.isArray(v) ? v.join("\n") : String(v ?? "");
}

/** Stairwell or block leaders ([{name, area}]) as lines "name area". */
function areaLines(v) {
  return Array.isArray(v) ? v.map((p) => (p && typeof p === "object" ? `${p.name} ${p.area}` : String(p))).join("\n") : "";
}

/** Lines "name area" (the first word is the name) as [{name, area}]; a line without an area is left to the server to refuse. */
function areaPeople(v) {
  return String(v || "").split(/\n+/).map((s) => s.trim()).filter(Boolean).map((line) => {
    const [name, ...rest] = line.split(/[\s:：]+/);
    return { name, area: rest.join(" ") };
  });
}

function renderSelection() {
  const el = $("ed-selection");
  const code = primary();
  if (!code) return replace(el, h("p", { class: "hint" }, t("ed.pick")));
  const p = feature(code)?.properties || {};
  const a = p.attributes || {};
  const parent = ed.parents.get(p.parent_code);
  const posters = [h("button", { type: "button", class: "btn-plain small", dataset: { testid: "poster-svg" },
    onclick: () => download(`/api/areas/${encodeURIComponent(code)}/poster.svg`, `poster-${code}.svg`, status) }, t("ed.poster.svg"))];
  if (ed.posterPdf) {
    posters.push(h("button", { type: "button", class: "btn-plain small", dataset: { testid: "poster-pdf" },
      onclick: () => download(`/api/areas/${encodeURIComponent(code)}/poster.pdf`, `poster-${code}.pdf`, status) }, t("ed.poster.pdf")));
  }
  return replace(el,
    h("div", { class: "ed-sel-title", dataset: { testid: "selected-name" } }, localName(p)),
    kv(t("ed.f.code"), p.code, "selected-code"),
    kv(t("ed.f.parent"), parent ? `${localName(parent.properties)} ${p.parent_code}` : p.parent_code),
    kv(t("ed.f.version"), p.version != null ? `v${p.version}` : null, "selected-version"),
    kv(t("ed.f.valid_from"), p.valid_from ? dateTime(p.valid_from) : null),
    kv(t("ed.f.leader"), a.leader),
    kv(t("ed.f.households"), p.households ?? a.households),
    kv(t("ed.f.population"), a.population),
    ed.selected.length > 1 ? h("p", { class: "small", dataset: { testid: "selected-more" } },
      `${t("ed.selected", { n: ed.selected.length })}: `, ed.selected.slice(1).join("、")) : null,
    ed.asOf ? null : h("div", { class: "ed-row" }, h("span", { class: "muted small" }, t("ed.poster")), posters),
    h("button", { type: "button", class: "btn-plain small", dataset: { testid: "clear-selection" }, onclick: clearSelection }, t("ed.clear")));
}

function renderRoster() {
  const form = $("ed-roster");
  const code = primary();
  const p = feature(code)?.properties || {};
  const a = p.attributes || {};
  const readOnly = !ed.editable || Boolean(ed.asOf) || !code;
  const key = JSON.stringify([code, p.version, readOnly, getLang(), a]);
  const apply = form.querySelector("[data-testid=roster-apply]");
  if (form.dataset.key === key || (form.dataset.code === (code || "") && form.dataset.dirty === "1" && !readOnly)) {
    if (apply) apply.disabled = ed.busy;  // keep what the user is typing
    return;
  }
  form.dataset.key = key;
  form.dataset.dirty = "";
  const field = (key, input) => h("label", { class: "field compact" }, h("span", {}, t(key)), input);
  const num = (name, v) => h("input", { name, type: "number", min: "0", step: "1", value: v ?? "", disabled: readOnly, dataset: { testid: `roster-${name}` } });
  replace(form,
    field("ed.f.leader", h("input", { name: "leader", value: a.leader || "", maxlength: "50", disabled: readOnly, dataset: { testid: "roster-leader" } })),
    field("ed.f.full_time", h("textarea", { name: "full_time", rows: "2", disabled: readOnly, placeholder: t("ed.roster.list_hint"), dataset: { testid: "roster-full_time" } }, lines(a.full_time))),
    field("ed.f.part_time", h("textarea", { name: "part_time", rows: "2", disabled: readOnly, placeholder: t("ed.roster.list_hint"), dataset: { testid: "roster-part_time" } }, lines(a.part_time))),
    field("ed.f.stairwell_leaders", h("textarea", { name: "stairwell_leaders", rows: "2", disabled: readOnly, placeholder: t("ed.roster.area_hint"), dataset: { testid: "roster-stairwell_leaders" } }, areaLines(a.stairwell_leaders))),
    field("ed.f.block_leaders", h("textarea", { name: "block_leaders", rows: "2", disabled: readOnly, placeholder: t("ed.roster.area_hint"), dataset: { testid: "roster-block_leaders" } }, areaLines(a.block_leaders))),
    h("div", { class: "ed-row" }, field("ed.f.households", num("households", p.households ?? a.households)),
      field("ed.f.population", num("population", a.population))),
    readOnly ? null : h("button", { type: "submit", class: "btn-action", dataset: { testid: "roster-apply" }, disabled: ed.busy || null }, t("ed.roster.apply")));
  form.dataset.code = code || "";
}

function onRosterSubmit(ev) {
  ev.preventDefault();
  const code = primary();
  if (!code || !ed.editable || ed.asOf) return;
  const form = new FormData($("ed-roster"));
  const people = (v) => String(v || "").split(/[\n,，、;；]+/).map((s) => s.trim()).filter(Boolean);
  const attributes = { ...(feature(code).properties.attributes || {}) };
  attributes.leader = String(form.get("leader") || "").trim();
  if (!attributes.leader) delete attributes.leader;
  attributes.full_time = people(form.get("full_time"));
  attributes.part_time = people(form.get("part_time"));
  attributes.stairwell_leaders = areaPeople(form.get("stairwell_leaders"));
  attributes.block_leaders = areaPeople(form.get("block_leaders"));
  for (const k of ["households", "population"]) {
    const v = String(form.get(k) || "").trim();
    if (v === "") delete attributes[k];
    else attributes[k] = Number(v);
  }
  runStep({ op: "attributes", code, attributes });
}

function opLabel(op) {
  return t(`ed.op.${op.op}`, { code: op.code || "", codes: (op.codes || []).join("+") });
}

function renderPending() {
  $("ed-pending-sect").hidden = !ed.editable;
  const steps = ed.pending.steps;
  replace($("ed-pending"), steps.length
    ? h("ol", { class: "ed-steps" }, steps.map(({ op, result }) => h("li", { dataset: { testid: "pending-step", op: op.op } },
      h("b", {}, opLabel(op)),
      h("ul", { class: "plain small" }, (result.affected?.features || []).map((f) => h("li", {
        dataset: { testid: "affected", code: f.properties.code, change: f.properties.change } },
      h("span", { class: `ed-chip ed-chip-${f.properties.change}` }, tOr(`ed.change.${f.properties.change}`, f.properties.change)),
      " ", f.properties.name || "", " ", h("span", { class: "code" }, f.properties.code)))),
      (result.violations?.features || []).length ? h("ul", { class: "plain small ed-bad" },
        violationLines(result.violations.features).map((x) => h("li", { dataset: { testid: "violation" } }, x))) : null)))
    : h("p", { class: "muted small" }, t("ed.pending.none")));
}

function renderTools() {
  const tools = $("ed-tools");
  tools.hidden = !ed.editable;
  if (!ed.editable) return;
  const n = ed.selected.length;
  const off = ed.busy || Boolean(ed.asOf);
  const need = { split: 1, draw: 1, reshape: 1, rename: 1, merge: 2, retire: 2 };
  for (const b of tools.querySelectorAll("[data-tool]")) {
    const k = b.dataset.tool;
    b.disabled = off || (need[k] === 1 ? n !== 1 : n < need[k]);
    b.classList.toggle("active", ed.mode === k);
  }
  $("ed-undo").disabled = off || !ed.pending.length;
  $("ed-save").disabled = off || !ed.pending.length || ed.pending.violations().length > 0;
  $("ed-save-n").textContent = String(ed.pending.length);
}

function renderPanel() {
  renderSelection();
  renderRoster();
  renderPending();
  renderTools();
  renderStatus();
  ed.files?.sync();
  if ($("ed-versions-sect").open) loadVersions(primary());
}

// ---------------------------------------------------------------- start

async function start(me) {
  ed.me = me;
  ed.can = new Set(me.capabilities || []);
  ed.editable = ed.can.has("edit_areas");
  $("ed-readonly").hidden = ed.editable;
  const [config, openapi] = await Promise.all([
    mapConfig(),
    // the API's own description builds the files panel: without it there is no panel, and the failure shows
    attempt("load.api_description", () => publicJson("/openapi.json"), { retry: false }).then((doc) => doc || {}),
  ]);
  ed.paths = new Set(Object.keys(openapi.paths || {}));
  ed.posterPdf = ed.paths.has("/api/areas/{code}/poster.pdf") || JSON.stringify(
    openapi.paths?.["/api/areas/{code}/poster.{fmt}"]?.get?.parameters || []).includes('"pdf"');
  ed.map = createMap(config);
  createLayers(ed.map);
  addLegend(ed.map);
  ed.history = new HistoryBar($("ed-history"), { onChange: onAsOf });
  ed.files = new FilesPanel($("ed-files"), { paths: ed.paths, openapi, editable: ed.editable, status,
    selectedParent: () => feature(primary())?.properties.parent_code || null, asOf: () => ed.asOf,
    onApplied: () => loadLayers() });

  for (const b of $("ed-tools").querySelectorAll("[data-tool]")) b.addEventListener("click", () => onTool(b.dataset.tool));
  $("ed-undo").addEventListener("click", undo);
  $("ed-save").addEventListener("click", save);
  $("ed-mode-cancel").addEventListener("click", endMode);
  $("ed-mode-finish").addEventListener("click", finishMode);
  $("ed-roster").addEventListener("submit", onRosterSubmit);
  $("ed-roster").addEventListener("input", () => { $("ed-roster").dataset.dirty = "1"; });
  $("ed-versions-sect").addEventListener("toggle", () => { if ($("ed-versions-sect").open) loadVersions(primary()); });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && ed.mode) endMode(); });
  window.addEventListener("beforeunload", (e) => {  // unsaved steps: let the browser ask first
    if (ed.pending.length) e.preventDefault();
  });
  await attempt("load.grids", () => loadLayers({ fit: true }));
  setFlag("editorReady", "1");
}

function onLang() {
  if (!ed.map) return;
  ed.map.pm.setLang(getLang() === "en" ? "en" : "zh");
  ed.history.render();
  ed.files.render();
  renderLegend();
  renderCount();
  if (ed.asOf) replace($("ed-banner"), t("ed.history.banner", { t: dateTime(ed.asOf) }));
  renderPanel();
}

// ---------------------------------------------------------------- boot

if (typeof L === "undefined" || !L.PM) {
  document.body.textContent = "Leaflet or Geoman failed to load (/vendor/leaflet, /vendor/geoman)";
} else {
  startPage({
    capability: "read_map",
    denied: { key: "ed.noaccess", testid: "editor-noaccess" },
    onReady: start,
    onLang,
    onResume: () => {},  // the same manager is back: the unsaved steps are still here, to be saved now
  });
}

