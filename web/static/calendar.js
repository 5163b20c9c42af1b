// The administrator's working calendar: which years have an official holiday schedule and which
// are provisional (statutory holidays, no swaps), and loading a year's published schedule.

import { api, ApiError } from "./api.js";
import { h, replace } from "./dom.js";
import { dateTime, errorText, localName, t } from "./i18n.js";
import { attempt, startPage } from "./page.js";

const $ = (id) => document.getElementById(id);
const page = { me: null, status: null, result: null };

async function loadStatus() {
  page.status = await api("/api/admin/calendar");
  renderStatus();
}

function sourceLabel(source) {
  return t(`cal.source.${source}`);
}

function renderStatus() {
  const s = page.status;
  if (!s) return;
  const warning = $("cal-warning");
  warning.textContent = s.warning ? warningText(s) : "";
  warning.hidden = !s.warning;
  replace($("cal-summary"),
    s.official_until ? t("cal.until", { date: s.official_until, today: s.today }) : t("cal.until.none", { today: s.today }),
    h("br"), h("span", { class: "muted small" }, t("cal.package", {
      name: s.package.name, version: s.package.version, first: s.package.first_year, last: s.package.last_year })));
  $("cal-open").textContent = t("cal.open", { cases: s.provisional_open.cases, calls: s.provisional_open.department_calls });
  replace($("cal-years"), s.years.map((y) => h("tr", { dataset: { testid: "cal-year", year: String(y.year), source: y.source } },
    h("td", {}, String(y.year)),
    h("td", { class: `cal-source cal-source-${y.source}` }, sourceLabel(y.source)),
    h("td", {}, detail(y)))));
}

/** The warning the district desks get, in the page's language (the API's text is for logs). */
function warningText(s) {
  const end = s.official_until;
  if (!end || end < s.today) return t("cal.warning.ended", { today: s.today });
  const days = Math.round((Date.parse(end) - Date.parse(s.today)) / 86400000);
  return t("cal.warning.ending", { end, days, next: Number(end.slice(0, 4)) + 1 });
}

function detail(y) {
  if (y.source === "loaded" || y.source === "file") {
    return [t("cal.loaded", { holidays: y.holidays, workdays: y.workdays }),
      y.notice ? h("div", { class: "small" }, y.notice) : null,
      y.loaded_by ? h("div", { class: "muted small" }, t("cal.loaded.by", { who: y.loaded_by, at: dateTime(y.loaded_at) })) : null];
  }
  if (y.source === "provisional") {
    return [h("span", { class: "small" }, t("cal.provisional")),
      h("ul", { class: "cal-days" }, (y.days_off || []).map((d) => h("li", {}, `${d.date} ${localName(d)}`)))];
  }
  return "";
}

async function submit(ev) {
  ev.preventDefault();
  const file = $("cal-file").files[0];
  if (!file) return;
  const out = $("cal-result");
  let doc;
  try {
    doc = JSON.parse(await file.text());
  } catch (e) {
    replace(out, h("p", { class: "notice notice-error", dataset: { testid: "cal-error" } }, t("cal.not_json", { error: e.message })));
    return;
  }
  replace(out, h("p", { class: "muted" }, t("cal.busy")));
  try {
    page.result = await api("/api/admin/calendar", { method: "POST", body: doc });
    renderResult();
    await attempt("load.calendar", loadStatus);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    const problems = e.body?.problems || e.errors || [];
    replace(out, h("div", { class: "notice notice-error", dataset: { testid: "cal-error" } },
      t("cal.refused"), " ", problems.length ? "" : errorText(e),
      h("ul", { class: "cal-problems" }, problems.map((p) => h("li", { dataset: { testid: "cal-problem", field: p.field || "" } },
        h("code", {}, p.field || ""), ": ", p.reason)))));
  }
}

function renderResult() {
  const r = page.result;
  if (!r) return;
  replace($("cal-result"), h("div", { class: "notice", dataset: { testid: "cal-done" } },
    t("cal.done", { n: r.recomputed }),
    h("ul", { class: "cal-problems" }, r.years.map((y) => h("li", { dataset: { testid: "cal-loaded", year: String(y.year), change: y.change } },
      `${y.year}: ${t(`cal.change.${y.change}`)} · ${t("cal.loaded", { holidays: y.holidays, workdays: y.workdays })}`)))));
}

async function start(me) {
  page.me = me;
  $("cal-form").addEventListener("submit", (ev) => { submit(ev).catch((e) => { $("cal-result").textContent = String(e); }); });
  await attempt("load.calendar", loadStatus);
}

startPage({
  capability: "manage_calendar",
  denied: { key: "cal.noaccess", testid: "cal-noaccess" },
  onReady: start,
  onLang: () => {
    renderStatus();
    renderResult();
  },
});
