// The leaders' big screen (领导驾驶舱 大屏): KPI tiles with sparklines and the integrity signals
// beside the figures they can inflate, a choropleth of streets or zones by any KPI, the top
// categories and the response-time distribution. Every figure opens the cases it counted
// (/api/kpis/{key}/cases, the same predicate as the figure), paged, each linked to the desk.
// Scoped to the caller: the KPI API counts the cases in their reach. ECharts and Leaflet are globals.
/* global L, echarts */

import { api, download } from "./api.js";
import { h, replace } from "./dom.js";
import { getLang, localName, locale, t } from "./i18n.js";
import { createMap } from "./map.js";
import { attempt, startPage } from "./page.js";

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 20;
const RAMP = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027"];  // good → bad
const SINGLE = "#29b6f6";  // one class only
const NO_DATA = "#44515f";
const THEME = "dark";
// the tiles, in order; `also`: a second figure shown in the same tile
const TILES = [
  { key: "received" }, { key: "closure_rate" }, { key: "on_time_rate" }, { key: "open_overdue", bad: true },
  { key: "settled_street" }, { key: "response_time", also: "response_under_5min", bad: true },
  { key: "satisfaction" }, { key: "reopen_rate", bad: true }, { key: "repeat_complaints", bad: true },
];
const LOWER_IS_BETTER = new Set(["open_overdue", "response_time", "handling_time", "reopen_rate", "repeat_complaints",
  "escalations"]);

const dash = {
  me: null, query: {}, figures: new Map(), series: new Map(), categories: [], categoryNames: new Map(), streets: [],
  definitions: [],
  histogram: null, areas: null, areaKpis: new Map(), map: null, layer: null, charts: new Map(),
  drill: null, seq: 0,
};
window.gridgovDashboard = dash;  // for tests and for the curious: the page's state

// ---------------------------------------------------------------- the window and scope

const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
const addDays = (d, n) => new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);

/** [from, to) as local dates for the picked window. */
function windowDates() {
  const today = new Date();
  const y = today.getFullYear();
  const m = today.getMonth();
  switch ($("d-window").value) {
    case "this_month": return [new Date(y, m, 1), addDays(today, 1)];
    case "last_month": return [new Date(y, m - 1, 1), new Date(y, m, 1)];
    case "this_year": return [new Date(y, 0, 1), addDays(today, 1)];
    case "custom": {
      const from = $("d-from").value ? new Date(`${$("d-from").value}T00:00`) : addDays(today, -30);
      const to = $("d-to").value ? addDays(new Date(`${$("d-to").value}T00:00`), 1) : addDays(today, 1);
      return [from, to];
    }
    default: return [addDays(today, -364), addDays(today, 1)];  // the last 12 months, today included
  }
}

function currentQuery() {
  const [from, to] = windowDates();
  const q = { from: iso(from), to: iso(to) };
  if ($("d-area").value) q.area = $("d-area").value;
  return q;
}

const qs = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""))
  .toString();

/** Weeks for a window of up to a quarter, months beyond. */
function seriesPeriod(q) {
  return (new Date(q.to) - new Date(q.from)) / 86_400_000 <= 92 ? "week" : "month";
}

// ---------------------------------------------------------------- numbers as people read them

const kpiName = (f) => (getLang() === "zh" ? f.name_zh : f.name_en || f.name_zh);
const int = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString(locale()));

function shown(f) {
  if (!f || f.value === null || f.value === undefined) return "–";
  if (f.kind === "rate") return `${(f.value * 100).toFixed(1)}%`;
  if (f.kind === "duration") return duration(f.value);
  return int(f.value);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 90) return t("dash.seconds", { n: Math.round(seconds) });
  if (seconds < 5400) return t("dash.minutes", { n: (seconds / 60).toFixed(1) });
  return t("dash.hours", { n: (seconds / 3600).toFixed(1) });
}

// ---------------------------------------------------------------- loading

function renderPeriod() {
  const q = dash.query;
  $("d-period").textContent = t("dash.period", { from: q.from, to: iso(addDays(new Date(`${q.to}T00:00`), -1)) });
}

/** Load every part of the page for the picked window and area. Each part renders itself when it
 * arrives; one that fails is reported with a retry that loads and renders it again. */
async function load() {
  const seq = ++dash.seq;
  document.body.dataset.dashReady = "0";
  const q = currentQuery();
  dash.query = q;
  renderPeriod();
  const fresh = () => dash.query === q;  // a later choice has not replaced this one
  const by = seriesPeriod(q);
  const keys = TILES.map((x) => x.key);
  await Promise.all([
    attempt("dash.load.kpis", async () => {
      const table = await api(`/api/kpis?${qs(q)}`);
      if (!fresh()) return;
      dash.figures = new Map(table.kpis.map((f) => [f.key, f]));
      renderTiles();
      renderMap();
    }),
    attempt("dash.load.series", async () => {
      const series = await api(`/api/kpis/series?${qs({ ...q, by })}`);
      if (!fresh()) return;
      const periods = series.points.map((p) => ({ period: p.period, byKey: new Map(p.kpis.map((f) => [f.key, f])) }));
      dash.series = new Map(keys.map((k) => [k, { by, points: periods.map((p) => ({ period: p.period, ...p.byKey.get(k) })) }]));
      renderTiles();
    }),
    attempt("dash.load.categories", async () => {
      const cats = await api(`/api/kpis/categories?${qs(q)}`);
      if (!fresh()) return;
      dash.categories = cats.categories;
      renderCategories();
    }),
    attempt("dash.load.response", async () => {
      const hist = await api(`/api/kpis/response_time/histogram?${qs(q)}`);
      if (!fresh()) return;
      dash.histogram = hist;
      renderHistogram();
    }),
    attempt("dash.load.map", () => loadMap(q)),
    attempt("dash.load.stars", async () => {
      const month = starsMonth();
      const doc = await api(`/api/stars?${qs({ month, kind: "station" })}`);
      if (!fresh()) return;
      dash.stars = { month, ratings: doc.ratings };
      renderStars();
    }),
  ]);
  if (seq === dash.seq) document.body.dataset.dashReady = "1";
}

async function loadMap(q) {
  const level = $("d-level").value;
  const [areas, values] = await Promise.all([
    api(`/api/areas?kind=${level}`),
    api(`/api/kpis/areas?${qs({ ...q, level })}`),
  ]);
  if (dash.query !== q) return;
  dash.areas = areas;
  dash.areaKpis = new Map(values.areas.map((a) => [a.area_code, new Map(a.kpis.map((f) => [f.key, f]))]));
  renderMap();
}

// ---------------------------------------------------------------- tiles

function drillButton(label, key, part, testid, extra = {}) {
  return h("button", { type: "button", class: "dash-link", dataset: { testid, key, part },
    onclick: () => openCases({ key, part, ...extra }) }, label);
}

function fraction(f, testidPrefix = "tile") {
  if (!f) return null;
  if (f.kind === "duration") {
    return h("span", { class: "dash-fraction" }, t("dash.measured"), " ",
      drillButton(int(f.denominator), f.key, "denominator", `${testidPrefix}-denominator`));
  }
  const parts = [drillButton(int(f.numerator), f.key, "numerator", `${testidPrefix}-numerator`), " / ",
    drillButton(int(f.denominator), f.key, "denominator", `${testidPrefix}-denominator`)];
  if (f.kind === "rate") {
    parts.push(" · ", drillButton(t("dash.rest", { n: int(f.denominator - f.numerator) }), f.key, "rest",
      `${testidPrefix}-rest`));
  }
  return h("span", { class: "dash-fraction" }, ...parts);
}

function signalsBeside(keys) {
  const signals = [...dash.figures.values()].filter((f) => f.signal && (f.beside || []).some((b) => keys.includes(b)));
  if (!signals.length) return null;
  return h("ul", { class: "dash-signals", "aria-label": t("dash.signals") }, signals.map((s) => h("li", {},
    h("button", { type: "button", class: `dash-signal${s.numerator ? " on" : ""}`,
      dataset: { testid: "tile-signal", key: s.key, part: "numerator" }, title: kpiName(s),
      onclick: () => openCases({ key: s.key, part: "numerator" }) },
    h("span", { class: "dash-signal-name" }, kpiName(s)), " ", h("b", {}, int(s.numerator))))));
}

function renderTiles() {
  for (const chart of [...dash.charts.keys()].filter((k) => k.startsWith("spark:"))) {
    dash.charts.get(chart).dispose();
    dash.charts.delete(chart);
  }
  const tiles = TILES.map((spec) => {
    const f = dash.figures.get(spec.key);
    if (!f) return null;
    const also = spec.also ? dash.figures.get(spec.also) : null;
    const spark = h("div", { class: "dash-spark", dataset: { testid: "tile-spark" } });
    const tile = h("article", { class: "dash-tile", dataset: { testid: "tile", key: f.key } },
      h("h3", { class: "dash-tile-name" }, kpiName(f)),
      h("button", { type: "button", class: "dash-tile-value", dataset: { testid: "tile-value", key: f.key },
        title: t("dash.open_cases"), onclick: () => openCases({ key: f.key, part: f.kind === "duration" ? "denominator" : "numerator" }) },
      shown(f)),
      fraction(f),
      also ? h("div", { class: "dash-tile-also", dataset: { testid: "tile-also", key: also.key } },
        h("span", {}, kpiName(also), " "),
        h("button", { type: "button", class: "dash-link dash-also-value", dataset: { testid: "tile-also-value", key: also.key },
          onclick: () => openCases({ key: also.key, part: "numerator" }) }, shown(also)),
        " ", fraction(also, "tile-also")) : null,
      spark,
      signalsBeside([f.key, ...(also ? [also.key] : [])]));
    return { tile, spark, key: f.key };
  }).filter(Boolean);
  replace($("dash-tiles"), tiles.map((x) => x.tile));
  for (const { spark, key } of tiles) drawSpark(spark, key);
}

function periodEnd(start, by) {
  const d = new Date(`${start}T00:00`);
  return iso(by === "week" ? addDays(d, 7) : by === "day" ? addDays(d, 1) : new Date(d.getFullYear(), d.getMonth() + 1, 1));
}

function drawSpark(el, key) {
  const f = dash.figures.get(key);
  const { by, points } = dash.series.get(key) || { points: [] };
  const chart = echarts.init(el, THEME, { renderer: "canvas" });
  dash.charts.set(`spark:${key}`, chart);
  const value = (p) => (f.kind === "rate" && p.value !== null ? +(p.value * 100).toFixed(1)
    : f.kind === "duration" ? p.p50 : p.numerator);
  chart.setOption({
    backgroundColor: "transparent", animation: false,
    grid: { left: 2, right: 2, top: 4, bottom: 2 },
    xAxis: { type: "category", show: false, data: points.map((p) => p.period) },
    yAxis: { type: "value", show: false, scale: true },
    tooltip: { trigger: "axis", confine: true, formatter: (ps) => ps.map((p) => `${p.name}: ${p.value ?? "–"}`).join("<br>") },
    series: [{ type: "line", data: points.map(value), symbolSize: 5, showSymbol: points.length < 20,
      lineStyle: { width: 2, color: "#4fc3f7" }, itemStyle: { color: "#4fc3f7" },
      areaStyle: { color: "rgba(79, 195, 247, 0.15)" } }],
  });
  // a point of the trend: the cases of that period (inside the window)
  chart.on("click", (p) => {
    const start = points[p.dataIndex]?.period;
    if (!start) return;
    const from = start < dash.query.from ? dash.query.from : start;
    const end = periodEnd(start, by);
    openCases({ key, part: f.kind === "duration" ? "denominator" : "numerator", from, to: end > dash.query.to ? dash.query.to : end });
  });
}

// ---------------------------------------------------------------- charts

function chart(id) {
  let c = dash.charts.get(id);
  if (!c) {
    c = echarts.init($(id), THEME, { renderer: "canvas" });
    dash.charts.set(id, c);
  }
  return c;
}

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function renderCategories() {
  const top = dash.categories.slice(0, 10).map((row) => ({ code: row.category_code,
    received: row.kpis.find((k) => k.key === "received")?.numerator || 0 })).reverse();
  const name = (code) => localName(dash.categoryNames.get(code)) || code;
  const c = chart("dash-categories");
  $("dash-categories").dataset.bars = String(top.length);
  c.setOption({
    backgroundColor: "transparent", animation: false,
    grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: "value", splitLine: { lineStyle: { color: "#26384d" } } },
    yAxis: { type: "category", data: top.map((x) => name(x.code)) },
    tooltip: { trigger: "item", formatter: (p) => `${esc(p.name)}: ${p.value}` },
    series: [{ type: "bar", data: top.map((x) => x.received), itemStyle: { color: "#29b6f6" },
      label: { show: true, position: "right", color: "#e3ecf5" } }],
  }, true);
  c.off("click");
  c.on("click", (p) => openCases({ key: "received", part: "numerator", category: top[p.dataIndex].code }));
}

function binLabel(b) {
  const m = (s) => (s % 60 === 0 ? `${s / 60}` : (s / 60).toFixed(1));
  return b.hi === null ? t("dash.bin.over", { n: m(b.lo) }) : t("dash.bin", { lo: m(b.lo), hi: m(b.hi) });
}

function renderHistogram() {
  const bins = dash.histogram?.bins || [];
  const c = chart("dash-response");
  $("dash-response").dataset.measured = String(dash.histogram?.measured ?? 0);
  c.setOption({
    backgroundColor: "transparent", animation: false,
    title: dash.histogram?.measured ? undefined : { text: t("dash.response.none"), left: "center", top: "middle",
      textStyle: { color: "#9fb3c8", fontSize: 14, fontWeight: "normal" } },
    grid: { left: 8, right: 8, top: 24, bottom: 8, containLabel: true },
    xAxis: { type: "category", data: bins.map(binLabel), name: t("dash.minutes.axis"), axisLabel: { rotate: 30 } },
    yAxis: { type: "value", splitLine: { lineStyle: { color: "#26384d" } } },
    tooltip: { trigger: "item", formatter: (p) => `${esc(p.name)}: ${p.value}` },
    series: [{ type: "bar", data: bins.map((b) => ({ value: b.cases,
      itemStyle: { color: b.hi !== null && b.hi <= 300 ? "#66bb6a" : "#ffa726" } })) }],
  }, true);
  c.off("click");
  // a bin: the measured cases with their response time in it (the same per-case time as the median)
  c.on("click", (p) => {
    const b = bins[p.dataIndex];
    if (b) openCases({ key: "response_time", part: "denominator", min_s: b.lo, max_s: b.hi ?? undefined });
  });
}

// ---------------------------------------------------------------- the choropleth

function mapKpi() { return $("d-map-kpi").value || "on_time_rate"; }

function classes(values) {
  const vs = values.filter((v) => v !== null && v !== undefined);
  if (!vs.length) return null;
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  const n = hi > lo ? RAMP.length : 1;  // one value (one area): one class
  const step = hi > lo ? (hi - lo) / n : 1;
  return { lo, hi, n, step, index: (v) => Math.min(n - 1, Math.floor((v - lo) / step)) };
}

function renderMap() {
  if (!dash.map || !dash.areas) return;
  const key = mapKpi();
  const valueOf = (code) => dash.areaKpis.get(code)?.get(key)?.value ?? null;
  const feats = dash.areas.features || [];
  const cls = classes(feats.map((f) => valueOf(f.properties.code)));
  const colour = (i) => (cls.n === 1 ? SINGLE : RAMP[LOWER_IS_BETTER.has(key) ? i : RAMP.length - 1 - i]);
  if (dash.layer) dash.map.removeLayer(dash.layer);
  const picked = $("d-area").value;
  dash.layer = L.geoJSON(dash.areas, {
    style: (f) => {
      const v = valueOf(f.properties.code);
      return { className: "dash-area", color: f.properties.code === picked ? "#ffffff" : "#0d1b2a",
        weight: f.properties.code === picked ? 3 : 1.2, fillOpacity: 0.75,
        fillColor: v === null || !cls ? NO_DATA : colour(cls.index(v)) };
    },
    onEachFeature: (f, layer) => {
      const v = dash.areaKpis.get(f.properties.code)?.get(key);
      layer.bindTooltip(`${esc(localName(f.properties))}: ${esc(shown(v))}`, { sticky: true });
      layer.on("click", () => rescope(f.properties.code, localName(f.properties)));
      layer.on("add", () => {
        const el = layer.getElement?.();
        if (el) el.dataset.code = f.properties.code;
      });
    },
  }).addTo(dash.map);
  document.body.dataset.mapShapes = String(feats.length);
  if (feats.length) dash.map.fitBounds(dash.layer.getBounds(), { padding: [12, 12] });
  renderLegend(cls, key, colour);
}

function renderLegend(cls, key, colour) {
  const f = dash.figures.get(key);
  const fmt = (v) => shown({ ...f, value: v });
  const items = cls ? Array.from({ length: cls.n }, (_, i) => {
    const sw = h("span", { class: "dash-swatch" });
    sw.style.background = colour(i);
    return h("li", {}, sw, `${fmt(cls.lo + i * cls.step)} – ${fmt(i === cls.n - 1 ? cls.hi : cls.lo + (i + 1) * cls.step)}`);
  }) : [];
  const none = h("span", { class: "dash-swatch dash-swatch-none" });
  replace($("dash-legend"), h("strong", {}, f ? kpiName(f) : key),
    h("ul", {}, items, h("li", {}, none, t("dash.legend.none"))));
}

function rescope(code, name) {
  const sel = $("d-area");
  if (![...sel.options].some((o) => o.value === code)) sel.append(h("option", { value: code }, name || code));
  sel.value = code;
  load();
}

// ---------------------------------------------------------------- the cases behind a figure

function openCases(drill) {
  dash.drill = { ...drill, offset: 0 };
  const hash = qs({ key: drill.key, part: drill.part, category: drill.category, from: drill.from, to: drill.to,
    min_s: drill.min_s, max_s: drill.max_s });
  history.replaceState(null, "", `#cases?${hash}`);
  return showCases();
}

async function showCases() {
  const d = dash.drill;
  const params = { ...dash.query, ...(d.from ? { from: d.from, to: d.to } : {}), category: d.category,
    part: d.part, min_s: d.min_s, max_s: d.max_s, limit: PAGE_SIZE, offset: d.offset };
  const panel = $("dash-cases");
  panel.hidden = false;
  panel.dataset.ready = "0";
  panel.dataset.key = d.key;
  panel.dataset.part = d.part;
  renderCasesTitle();
  const doc = await attempt("dash.load.cases", () => api(`/api/kpis/${d.key}/cases?${qs(params)}`));
  if (!doc || dash.drill !== d) return;
  d.matched = doc.numberMatched;
  panel.dataset.count = String(doc.numberMatched);
  $("dash-cases-count").textContent = t("dash.cases.count", { n: int(doc.numberMatched) });
  replace($("dash-cases-list"), doc.features.map((c) => {
    const p = c.properties;
    return h("li", { class: "dash-case", dataset: { testid: "dash-case", id: String(p.id) } },
      h("a", { href: `/desk#case=${p.id}`, target: "_blank", rel: "noopener", dataset: { testid: "dash-case-link" } },
        `#${p.id}`),
      h("span", { class: "dash-case-cat" }, localName(dash.categoryNames.get(p.category_code)) || p.category_name || p.category_code),
      h("span", { class: "dash-case-state" }, t(`state.${p.status}`)),
      h("time", { datetime: p.reported_at }, new Date(p.reported_at).toLocaleString(locale(), { dateStyle: "short", timeStyle: "short" })));
  }));
  const pages = Math.max(1, Math.ceil(doc.numberMatched / PAGE_SIZE));
  $("dash-page").textContent = t("dash.page", { n: Math.floor(d.offset / PAGE_SIZE) + 1, of: pages });
  $("dash-prev").disabled = d.offset === 0;
  $("dash-next").disabled = d.offset + PAGE_SIZE >= doc.numberMatched;
  panel.dataset.ready = "1";
}

function renderCasesTitle() {
  const d = dash.drill;
  if (!d) return;
  const f = dash.figures.get(d.key);
  const cat = d.category ? ` · ${localName(dash.categoryNames.get(d.category)) || d.category}` : "";
  const when = d.from ? ` · ${d.from} – ${iso(addDays(new Date(`${d.to}T00:00`), -1))}` : "";
  const bin = d.min_s !== undefined ? ` · ${binLabel({ lo: d.min_s, hi: d.max_s ?? null })} ${t("dash.minutes.axis")}` : "";
  $("dash-cases-title").textContent = `${f ? kpiName(f) : d.key} · ${t(`dash.part.${d.part}`)}${cat}${when}${bin}`;
  if (d.matched !== undefined) $("dash-cases-count").textContent = t("dash.cases.count", { n: int(d.matched) });
}

function closeCases() {
  dash.drill = null;
  $("dash-cases").hidden = true;
  history.replaceState(null, "", location.pathname);
}

function fromHash() {
  const m = /^#cases\?(.*)$/.exec(location.hash);
  if (!m) return;
  const p = new URLSearchParams(m[1]);
  if (p.get("key") && p.get("part")) {
    const num = (name) => (p.get(name) ? Number(p.get(name)) : undefined);
    openCases({ key: p.get("key"), part: p.get("part"), category: p.get("category") || undefined,
      from: p.get("from") || undefined, to: p.get("to") || undefined, min_s: num("min_s"), max_s: num("max_s") });
  }
}

// ---------------------------------------------------------------- controls, downloads, language

async function fillPickers() {
  const [streets, cats, defs] = await Promise.all([
    api("/api/areas?kind=street"), api("/api/categories"), api("/api/kpis/definitions")]);
  dash.categoryNames = new Map(cats.map((c) => [c.code, c]));
  dash.streets = streets.features.map((f) => f.properties);
  dash.definitions = defs;
  renderPickers();
}

function renderPickers() {
  const area = $("d-area");
  const keep = area.value;
  const extra = [...area.options].filter((o) => o.value && !dash.streets.some((s) => s.code === o.value));
  replace(area, h("option", { value: "" }, t("dash.area.all")),
    dash.streets.map((s) => h("option", { value: s.code }, localName(s))), extra);
  area.value = keep;
  const kpi = $("d-map-kpi");
  const chosen = kpi.value || "on_time_rate";
  replace(kpi, dash.definitions.map((d) => h("option", { value: d.key },
    getLang() === "zh" ? d.name_zh : d.name_en)));
  kpi.value = chosen;
}

function monthOfWindow() {
  const w = $("d-window").value;
  const [from] = windowDates();
  const d = w === "last_month" || w === "this_month" ? from : new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

/** The month whose star ratings are shown: the window's own month (this or last month, or a
 * custom window's first), else the last month that has ended. */
function starsMonth() {
  const w = $("d-window").value;
  const [from] = windowDates();
  const now = new Date();
  const d = ["last_month", "this_month", "custom"].includes(w) ? from : new Date(now.getFullYear(), now.getMonth() - 1, 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

const starText = (n) => "★".repeat(n) + "☆".repeat(5 - n);

/** The stations' star ratings of the month, best first; each opens the breakdown that produced it,
 * and a leader's adjustment is shown beside the computed stars with its reason. */
function renderStars() {
  const list = $("dash-stars");
  if (!dash.stars) return;
  replace($("dash-stars-month"), dash.stars.month);
  const ratings = dash.stars.ratings;
  if (!ratings.length) {
    replace(list, h("li", { class: "dash-stars-none", dataset: { testid: "dash-stars-none" } }, t("dash.stars.none")));
    return;
  }
  replace(list, ...ratings.map((r) => {
    const name = r.name || r.code;
    const adjusted = r.adjustment
      ? h("div", { class: "dash-star-adjusted", dataset: { testid: "dash-star-adjusted" } },
        t("dash.stars.adjusted", { computed: starText(r.stars), reason: r.adjustment.reason, by: r.adjustment.adjusted_by }))
      : null;
    const breakdown = h("ul", { class: "dash-star-breakdown", dataset: { testid: "dash-star-breakdown" }, hidden: true },
      ...r.breakdown.map((b) => h("li", {},
        `${getLang() === "zh" ? b.name_zh : b.name_en}: `,
        b.value === null || b.value === undefined ? "–" : `${(b.value * 100).toFixed(1)}%`,
        ` (${int(b.numerator)} / ${int(b.denominator)}) → ${b.points >= 0 ? "+" : ""}${b.points.toFixed(1)}`)));
    const head = r.rated
      ? [h("span", { class: "dash-star-rank" }, String(r.rank ?? "")),
        h("span", { class: "dash-star-name" }, name),
        h("span", { class: "dash-star-stars", dataset: { testid: "dash-star-stars" }, title: String(r.stars_shown) },
          starText(r.stars_shown)),
        h("span", { class: "dash-star-score" }, t("dash.stars.score", { score: r.score.toFixed(1) }))]
      : [h("span", { class: "dash-star-rank" }, ""), h("span", { class: "dash-star-name" }, name),
        h("span", { class: "dash-star-unrated" }, t("dash.stars.unrated", { cases: r.cases }))];
    const toggle = h("button", { type: "button", class: "dash-star-row", dataset: { testid: "dash-star", code: r.code },
      "aria-expanded": "false",
      onclick: () => {
        breakdown.hidden = !breakdown.hidden;
        toggle.setAttribute("aria-expanded", String(!breakdown.hidden));
      } }, ...head);
    return h("li", { class: "dash-star" }, toggle, adjusted, breakdown);
  }));
}

function reportArea() {
  return $("d-area").value || dash.me.grants?.[0]?.area_code || "";
}

function wireControls() {
  $("dash-controls").addEventListener("submit", (e) => e.preventDefault());
  $("d-window").addEventListener("change", () => {
    $("d-custom").hidden = $("d-window").value !== "custom";
    load();
  });
  for (const id of ["d-from", "d-to", "d-area"]) $(id).addEventListener("change", () => load());
  $("d-level").addEventListener("change", () => attempt("dash.load.map", () => loadMap(dash.query)));
  $("d-map-kpi").addEventListener("change", renderMap);
  $("dash-cases-close").addEventListener("click", closeCases);
  $("dash-prev").addEventListener("click", () => { dash.drill.offset = Math.max(0, dash.drill.offset - PAGE_SIZE); showCases(); });
  $("dash-next").addEventListener("click", () => { dash.drill.offset += PAGE_SIZE; showCases(); });
  const file = (fmt) => attempt("dash.download", () => download(`/api/kpis.${fmt}?${qs(dash.query)}`, `kpis.${fmt}`), { retry: false });
  $("d-csv").addEventListener("click", () => file("csv"));
  $("d-xlsx").addEventListener("click", () => file("xlsx"));
  const report = (fmt) => attempt("dash.download", () => download(
    `/api/reports/monthly.${fmt}?${qs({ area: reportArea(), month: monthOfWindow() })}`, `report-${monthOfWindow()}.${fmt}`),
  { retry: false });
  $("d-report-html").addEventListener("click", () => report("html"));
  $("d-report-pdf").addEventListener("click", () => report("pdf"));
  window.addEventListener("resize", () => { for (const c of dash.charts.values()) c.resize(); });
}

function onLang() {
  renderPeriod();
  renderPickers();
  renderTiles();
  renderCategories();
  renderHistogram();
  renderMap();
  renderStars();
  renderCasesTitle();
  if (dash.drill && !$("dash-cases").hidden) showCases();
}

startPage({
  capability: "read_kpis",
  async onReady(me) {
    dash.me = me;
    wireControls();
    await attempt("dash.load.areas", fillPickers);
    dash.map = await createMap($("dash-map"), { zoomControl: true });
    await load();
    fromHash();
  },
  onLang,
});
