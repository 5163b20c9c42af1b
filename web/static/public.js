// The public disclosure (公示), no login: one month's figures per street (a table and a
// choropleth of the streets by a chosen figure), the survey scores and the follow-up items with
// their progress. Everything comes from /api/public/disclosure (aggregates, counts under 5
// withheld) and the streets' outlines from /api/public/disclosure/streets.

import { escapeHtml, h, replace } from "./dom.js";
import { localName, t } from "./i18n.js";
import { createMap } from "./map.js";
import { attempt, startPage } from "./page.js";

const $ = (id) => document.getElementById(id);
const RATES = ["closure_rate", "on_time_rate", "satisfaction", "settled_street"];  // the table's column order
const FIGURES = ["received", ...RATES];
const RAMP = ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"];
const NONE = "#e0e0e0";
let doc = null;
let map = null;
let layer = null;
let outlines = null;
let fitted = false;

const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);  // —: not shown

async function getJson(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(body.detail || res.statusText), { ...body, status: res.status });
  return body;
}

function streets() {
  return (doc?.districts || []).flatMap((d) => d.streets);
}

function shown(row, figure) {
  if (figure === "received") return row.received_shown;
  return pct(row[figure]);
}

function renderTable() {
  const rows = [];
  for (const d of doc.districts) {
    for (const s of d.streets) {
      rows.push(h("tr", { dataset: { testid: `row-${s.code}`, suppressed: String(s.suppressed) } },
        h("td", {}, localName(s)), ...FIGURES.map((f) => h("td", { dataset: { figure: f } }, shown(s, f))),
        h("td", {}, s.survey && !s.survey.overall.withheld && s.survey.overall.score !== null
          ? String(s.survey.overall.score) : "—")));
    }
    rows.push(h("tr", { class: "total", dataset: { testid: `total-${d.code}` } },
      h("td", {}, `${localName(d)} · ${t("public.total")}`),
      ...FIGURES.map((f) => h("td", { dataset: { figure: f } }, shown(d.total, f))), h("td", {}, "")));
  }
  replace($("public-rows"), ...rows);
  $("public-state").textContent = t(doc.complete ? "public.complete" : "public.sofar", { month: doc.month });
}

function classes(figure) {
  const values = streets().map((s) => (figure === "received" ? s.received : s[figure])).filter((v) => v !== null);
  if (!values.length) return [];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return RAMP.map((_, i) => lo + ((hi - lo) * i) / RAMP.length);
}

function colour(v, breaks) {
  if (v === null || v === undefined || !breaks.length) return NONE;
  let i = 0;
  while (i + 1 < breaks.length && v >= breaks[i + 1]) i += 1;
  return RAMP[i];
}

function renderMap() {
  const figure = $("public-figure").value || "on_time_rate";
  $("public-map-title").textContent = t("public.map", { figure: t(`public.${figure}`) });
  if (!map || !outlines) return;
  const byCode = Object.fromEntries(streets().map((s) => [s.code, s]));
  const breaks = classes(figure);
  const value = (s) => (s ? (figure === "received" ? s.received : s[figure]) : null);
  if (layer) layer.remove();
  layer = L.geoJSON(outlines, {
    style: (f) => ({ color: "#35506b", weight: 1, fillOpacity: 0.75,
      fillColor: colour(value(byCode[f.properties.code]), breaks) }),
    onEachFeature: (f, l) => {
      const s = byCode[f.properties.code];
      l.bindTooltip(escapeHtml(`${localName(f.properties)}: ${s ? shown(s, figure) : t("public.nodata")}`));
    },
  }).addTo(map);
  if (!fitted && layer.getBounds().isValid()) {
    map.fitBounds(layer.getBounds(), { padding: [8, 8] });
    fitted = true;
  }
  const fmt = (v) => (figure === "received" ? String(Math.round(v)) : pct(v));
  const swatch = (c) => { const i = h("i"); i.style.background = c; return i; };  // CSSOM: no inline style
  replace($("public-legend"), ...breaks.map((b, i) => h("span", {}, swatch(RAMP[i]), `≥ ${fmt(b)}`)),
    h("span", {}, swatch(NONE), t("public.nodata")));
}

function scoreText(sc) {
  if (!sc || sc.withheld || sc.score === null) return t("public.withheld");
  const ci = sc.ci_low !== null ? ` (${sc.ci_low}–${sc.ci_high})` : "";
  return `${sc.score}${ci} · ${t("public.answers")} ${sc.n}${sc.too_few ? ` · ${t("public.too_few")}` : ""}`;
}

function renderSurveys() {
  const blocks = streets().map((s) => {
    const sv = s.survey;
    if (!sv) {
      return h("div", { class: "public-survey", dataset: { testid: `survey-${s.code}` } },
        h("h3", {}, localName(s)), h("p", { class: "muted small" }, t("public.no_survey")));
    }
    const dims = sv.dimensions.map((d) => h("tr", {}, h("td", {}, localName(d)), h("td", {}, scoreText(d))));
    const items = sv.followups.map((f) => h("tr", { dataset: { testid: `followup-${f.id}` } },
      h("td", {}, f.indicator), h("td", {}, localName({ name: f.owner_name || f.owner, name_en: f.owner_name_en })),
      h("td", {}, f.measures), h("td", {}, String(f.deadline)),
      h("td", {}, `${t(`public.status.${f.status}`)}${f.progress ? `：${f.progress}` : ""}`)));
    return h("div", { class: "public-survey", dataset: { testid: `survey-${s.code}` } },
      h("h3", {}, `${localName(s)} · ${t("public.score")} ${scoreText(sv.overall)}`
        + (sv.rank ? ` · ${t("public.rank")} ${sv.rank}` : "")),
      h("table", {}, h("tbody", {}, ...dims)),
      h("h3", {}, t("public.followups")),
      items.length
        ? h("table", {}, h("thead", {}, h("tr", {}, ...["indicator", "owner", "measures", "deadline", "progress"]
          .map((k) => h("th", {}, t(`public.${k}`))))), h("tbody", {}, ...items))
        : h("p", { class: "muted small" }, t("public.no_followups")));
  });
  replace($("public-surveys"), ...blocks);
}

function render() {
  if (!doc) return;
  renderTable();
  renderMap();
  renderSurveys();
}

async function load() {
  const month = $("public-month").value;
  doc = await getJson(`/api/public/disclosure${month ? `?month=${encodeURIComponent(month)}` : ""}`);
  if (!month) $("public-month").value = doc.month;
  render();
  document.body.dataset.loaded = doc.month;
}

function fillFigures() {
  const current = $("public-figure").value || "on_time_rate";
  replace($("public-figure"), ...["on_time_rate", "closure_rate", "satisfaction", "settled_street", "received"]
    .map((f) => h("option", { value: f, selected: f === current }, t(`public.${f}`))));
}

startPage({
  session: false,
  async onReady() {
    document.title = t("public.title");
    fillFigures();
    $("public-figure").addEventListener("change", renderMap);
    $("public-month").addEventListener("change", () => attempt("load.disclosure", load));
    map = await createMap($("public-map"), { zoomSnap: 0.25 });
    await attempt("load.disclosure", async () => {
      outlines = await getJson("/api/public/disclosure/streets");
      await load();
    });
  },
  onLang() {
    document.title = t("public.title");
    fillFigures();
    render();
  },
});
