// The dispatcher's desk: the live queue, one case with its map, case file, units and every
// action the server says this user may take now. Native ES module; Leaflet is the global L.

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { ago, dateTime, deadlineSpec, errorText, has, list as joinList, localName, metres, t, tOr } from "./i18n.js";
import { LiveStream, showLiveState } from "./live.js";
import { createMap } from "./map.js";
import { attempt, startPage } from "./page.js";

const $ = (id) => document.getElementById(id);
const PAGE = 50;
const REFRESH_MS = 60000;  // a fallback: the live stream brings changes as they commit
const LIVE_DEBOUNCE_MS = 250;
const TIERS = ["grid", "community", "zone", "street", "district"];
const STATES = ["received", "triaged", "dispatched", "accepted", "on_scene", "handled", "verified", "closed",
  "returned", "reopened", "suspended", "void", "duplicate", "not_responsible"];
const UNIT_ACTIONS = new Set(["dispatch", "reinforce", "reassign"]);

const desk = { me: null, categories: [], departments: [], items: [], matched: 0, offset: 0,
  selected: null, doc: null, map: null, marker: null, form: null, timer: null, live: null, pending: null };

const label = (prefix, code) => t(`${prefix}.${code}`) === `${prefix}.${code}` ? code : t(`${prefix}.${code}`);
const catName = (code) => localName(desk.categories.find((c) => c.code === code)) || code;
const deptName = (code) => localName(desk.departments.find((d) => d.code === code)) || code;

// ---------------------------------------------------------------- queue

function fillFilters() {
  const opt = (value, text, selected) => h("option", { value, selected: selected || null }, text);
  const keep = (id) => $(id).value;
  const [st, ti, ca, so] = [keep("f-status") || "open", keep("f-tier"), keep("f-category"), keep("f-sort") || "deadline"];
  replace($("f-status"), opt("open", t("desk.filter.open"), st === "open"),
    STATES.map((s) => opt(s, label("state", s), st === s)));
  replace($("f-tier"), opt("", t("desk.filter.all")), TIERS.map((x) => opt(x, label("tier", x), ti === x)));
  replace($("f-category"), opt("", t("desk.filter.all")),
    desk.categories.map((c) => opt(c.code, localName(c), ca === c.code)));
  replace($("f-sort"), opt("deadline", t("desk.sort.deadline"), so === "deadline"),
    opt("newest", t("desk.sort.newest"), so === "newest"));
}

function queueQuery(offset, limit = PAGE) {
  const q = new URLSearchParams({ status: $("f-status").value || "open", sort: $("f-sort").value || "deadline",
    limit: String(limit), offset: String(offset) });
  if ($("f-tier").value) q.set("tier", $("f-tier").value);
  if ($("f-category").value) q.set("category", $("f-category").value);
  if ($("f-overdue").checked) q.set("overdue", "true");
  if ($("f-unrouted").checked) q.set("unrouted", "true");
  if ($("f-near").checked) q.set("near_boundary", "true");
  const words = $("f-search").value.trim();
  if (words) q.set("q", words);
  return q;
}

/** ``keep``: as many rows as are shown now (a live refresh must not fold up what was paged in). */
async function loadQueue({ append = false, keep = false } = {}) {
  const offset = append ? desk.items.length : 0;
  const limit = keep ? Math.min(Math.max(PAGE, desk.items.length), 4 * PAGE) : PAGE;
  const page = await api(`/api/desk/queue?${queueQuery(offset, limit)}`);
  desk.items = append ? desk.items.concat(page.items) : page.items;
  desk.matched = page.number_matched;
  renderQueue();
}

function dueText(item) {
  if (!item.due_at) return t("desk.no_due");
  return `${t("desk.due")} ${dateTime(item.due_at)}`;
}

/** A deadline counted on the statutory holidays of a year without an official schedule. */
function provisionalBadge() {
  return h("span", { class: "badge badge-provisional", title: t("desk.provisional.why"),
    dataset: { testid: "badge-provisional" } }, t("desk.provisional"));
}

function flagOf(item) {
  if (item.overdue || item.deadline_flag === "overdue") return "overdue";
  return item.deadline_flag === "near" ? "near" : null;
}

function renderQueue() {
  $("queue-count").textContent = t("desk.matched", { n: desk.matched });
  const rows = desk.items.map((item) => {
    const flag = flagOf(item);
    return h("li", {
      class: `queue-row${item.id === desk.selected ? " selected" : ""}${flag ? ` flag-${flag}` : ""}`,
      dataset: { testid: "queue-row", id: String(item.id), status: item.status, flag: flag || "" },
      tabindex: "0", onclick: () => openCase(item.id),
      onkeydown: (e) => { if (e.key === "Enter") openCase(item.id); },
    },
      h("div", { class: "row-top" },
        h("b", {}, localName({ name: item.category_name, name_en: item.category_name_en })),
        h("span", { class: `state state-${item.status}` }, label("state", item.status))),
      h("div", { class: "row-where small" },
        h("span", { dataset: { testid: "row-reported" } }, dateTime(item.reported_at)), " · ",
        h("span", { dataset: { testid: "row-place" } },
          [item.community_name, item.grid_name].filter(Boolean).join(" / ") || t("desk.badge.unrouted")),
        item.tracking_code ? h("span", { class: "code", dataset: { testid: "row-code" } }, ` · ${item.tracking_code}`) : null),
      item.excerpt ? h("div", { class: "row-excerpt small muted", dataset: { testid: "row-excerpt" } }, item.excerpt) : null,
      h("div", { class: "row-meta" },
        h("span", {}, label("tier", item.tier)), " · ", h("span", {}, label("priority", item.priority)), " · ",
        h("span", { class: "due" }, dueText(item)),
        item.due_at && item.due_provisional ? provisionalBadge() : null,
        flag ? h("span", { class: `badge badge-${flag}`, dataset: { testid: `flag-${flag}` } }, t(`desk.flag.${flag}`)) : null,
        item.unrouted ? h("span", { class: "badge", dataset: { testid: "badge-unrouted" } }, t("desk.badge.unrouted")) : null,
        item.near_boundary ? h("span", { class: "badge", dataset: { testid: "badge-near" } }, t("desk.badge.near")) : null,
        item.supporters ? h("span", { class: "badge" }, t("desk.supporters", { n: item.supporters })) : null));
  });
  replace($("queue-list"), rows.length ? rows : h("li", { class: "muted", dataset: { testid: "queue-empty" } }, t("desk.empty")));
  $("queue-more").hidden = desk.items.length >= desk.matched;
}

// ---------------------------------------------------------------- one case

async function openCase(id) {
  desk.selected = id;
  desk.form = null;
  history.replaceState(null, "", `#case=${id}`);
  renderQueue();
  try {
    desk.doc = await api(`/api/incidents/${id}`);
    renderCase();
  } catch (e) {
    replace($("case"), h("p", { class: "error", dataset: { testid: "case-error" } }, errorText(e)));
  }
}

function section(title, ...children) {
  return h("section", { class: "case-block" }, h("h3", {}, title), ...children);
}

function renderCase() {
  const c = desk.doc;
  const root = $("case");
  root.dataset.state = c.status;
  root.dataset.id = String(c.id);
  const flag = flagOf({ deadline_flag: c.deadline_flag,
    overdue: c.due_at && new Date(c.due_at) < new Date() && !["closed", "void", "duplicate", "not_responsible"].includes(c.status) });
  const head = h("header", { class: "case-head" },
    h("h2", {}, catName(c.category_code), " ", h("small", { class: "muted" }, c.tracking_code || "")),
    h("div", { class: "case-tags" },
      h("span", { class: `state state-${c.status}`, dataset: { testid: "case-status" } }, label("state", c.status)),
      h("span", { dataset: { testid: "case-tier" } }, `${t("desk.tier")}: ${label("tier", c.tier)}`),
      h("span", {}, label("priority", c.priority)),
      h("span", { dataset: { testid: "case-due" } }, c.due_at ? `${t("desk.due")} ${dateTime(c.due_at)} (${deadlineSpec(c.deadline_spec)})` : t("desk.no_due")),
      c.due_at && c.due_provisional ? provisionalBadge() : null,
      flag ? h("span", { class: `badge badge-${flag}` }, t(`desk.flag.${flag}`)) : null,
      c.supporters ? h("span", { class: "badge" }, t("desk.supporters", { n: c.supporters })) : null),
    c.description ? h("p", { class: "case-desc", dataset: { testid: "case-description" } }, c.description) : null,
    c.contact ? h("p", { class: "muted small" }, `${t("desk.contact")}: `, c.contact) : null);

  const actions = h("div", { class: "actions", dataset: { testid: "case-actions" } },
    (c.actions || []).map((a) => h("button", {
      type: "button", class: "btn-action", dataset: { testid: `action-${a.action}` },
      onclick: () => openForm(a),
    }, actionName(a.action))),
    c.actions && (c.actions.some((a) => a.action === "dispatch") || c.assignments?.length)
      ? h("button", { type: "button", class: "btn-ghost", dataset: { testid: "handover" }, onclick: printHandover },
        t("desk.handover")) : null);

  const mapEl = h("div", { class: "case-map", id: "case-map", dataset: { testid: "case-map" } });
  const form = h("div", { id: "action-form", class: "action-form" });
  const routing = c.routing ? section(t("desk.routing"), h("p", { class: "small" },
    [c.routing.grid?.name, c.routing.community?.name, c.routing.street?.name].filter(Boolean).join(" / "),
    c.routing.station ? ` · ${c.routing.station.name}` : "",
    (c.routing.flags || []).length ? h("span", { dataset: { testid: "routing-flags" } },
      ` · ${joinList((c.routing.flags || []).map((f) => tOr(`routing.flag.${f}`, f)))}`) : "")) : null;
  const assignments = (c.assignments || []).length ? section(t("desk.assignments"), h("table", { class: "grid-table", dataset: { testid: "assignments" } },
    h("tr", {}, h("th", {}, t("desk.unit")), h("th", {}, t("desk.dispatched")), h("th", {}, t("desk.accepted")),
      h("th", {}, t("desk.on_scene")), h("th", {}, t("desk.cleared"))),
    c.assignments.map((a) => h("tr", { dataset: { testid: "assignment", unit: a.unit_code } },
      h("td", {}, `${deptName(a.department_code)} · ${a.unit_name}`), h("td", {}, dateTime(a.dispatched_at)),
      h("td", {}, dateTime(a.accepted_at)), h("td", {}, dateTime(a.on_scene_at)),
      h("td", {}, a.cleared_at ? `${dateTime(a.cleared_at)} (${a.cleared_reason ? tOr(`cleared.${a.cleared_reason}`, a.cleared_reason) : ""})` : ""))))) : null;
  const call = c.department_call ? section(t("desk.call"), h("p", { dataset: { testid: "department-call" } },
    localName({ name: c.department_call.department_name, name_en: c.department_call.department_name_en }),
    ` · ${t("desk.call.due")} ${dateTime(c.department_call.answer_due_at)}`,
    c.department_call.answer_due_provisional ? [" ", provisionalBadge()] : null,
    c.department_call.answered_at ? ` · ${t("desk.call.answered")} ${dateTime(c.department_call.answered_at)} (${c.department_call.answered_by})` : "")) : null;
  const photos = (c.attachments || []).length ? section(t("desk.photos"),
    h("div", { class: "photos", dataset: { testid: "photos" } }, c.attachments.map((sha) => photo(sha)))) : null;
  const timeline = section(t("desk.timeline"), h("ol", { class: "timeline", dataset: { testid: "timeline" } },
    (c.events || []).map((e) => h("li", { dataset: { testid: "event", kind: e.kind } },
      h("time", {}, dateTime(e.at)), " ", h("b", {}, eventLabel(e.kind)), " · ", h("span", { class: "actor" }, e.actor),
      e.to_status && e.from_status !== e.to_status ? ` → ${label("state", e.to_status)}` : "",
      e.data?.from_tier && e.data?.to_tier  // which tiers an escalation or hand-down went between
        ? h("span", { class: "tiers", dataset: { testid: "event-tiers" } },
          ` · ${label("tier", e.data.from_tier)} → ${label("tier", e.data.to_tier)}`) : "",
      e.note ? h("div", { class: "note" }, e.note) : null))));

  replace($("case"), head, actions, form, h("div", { class: "case-cols" },
    h("div", {}, mapEl, routing, call), h("div", {}, assignments, photos, timeline)));
  drawMap(c);
}

/** The words of an action (the case cycle's buttons), from the catalogue. */
function actionName(action) { return tOr(`action.${action}`, action); }

/** The words of an event or a notification: an action's, else the catalogue's event.<kind>. */
function eventLabel(kind) {
  return has(`action.${kind}`) ? actionName(kind) : tOr(`event.${kind}`, kind);
}

function photo(sha) {
  const img = h("img", { alt: sha.slice(0, 8), dataset: { testid: "photo" } });
  fetchBlob(`/api/attachments/${sha}`).then((url) => { img.src = url; })
    .catch(() => { img.alt = t("page.load_failed", { what: t("load.photo") }); img.dataset.failed = "1"; });
  return img;
}

async function fetchBlob(path) {
  const tokens = JSON.parse(sessionStorage.getItem("gridgov.tokens") || "null");
  const res = await fetch(path, { headers: { Authorization: `Bearer ${tokens?.access || ""}` } });
  if (!res.ok) throw new Error(String(res.status));
  return URL.createObjectURL(await res.blob());
}

function printHandover() {
  // a page of the app (its stylesheet loads; a blob: page could not resolve it); a tab opened
  // from here starts with a copy of this tab's session
  window.open(`/handover/${desk.doc.id}?print`, "_blank");
}

function drawMap(c) {  // one map at a time in #case-map: each draw waits for the one before
  desk.mapDrawn = (desk.mapDrawn || Promise.resolve()).then(() => attempt("load.case_map", () => drawCaseMap(c)));
}

async function drawCaseMap(c) {
  if (desk.map) { desk.map.remove(); desk.map = null; }
  if (typeof L === "undefined" || c.lat == null || !document.getElementById("case-map")) return;
  desk.map = await createMap("case-map", { zoomControl: true, center: [c.lat, c.lon], zoom: 16 });
  L.circleMarker([c.lat, c.lon], { radius: 9, color: "#c8102e", weight: 3, fillOpacity: 0.4 }).addTo(desk.map);
  for (const a of c.routing?.units || []) {
    L.circleMarker([a.lat, a.lon], { radius: 6, color: "#0b61a4" }).bindTooltip(a.name).addTo(desk.map);
  }
}

// ---------------------------------------------------------------- actions

async function openForm(rule) {
  desk.form = rule;
  const needs = new Set(rule.requires);
  const fields = [];
  if (rule.action === "triage") {
    fields.push(h("label", {}, t("desk.priority"), h("select", { id: "af-priority", dataset: { testid: "action-priority" } },
      ["urgent", "high", "normal", "low"].map((p) => h("option", { value: p, selected: p === desk.doc.priority || null }, label("priority", p))))));
  }
  if (needs.has("note") || ["supervise", "resolve", "verify", "close", "triage", "dispatch"].includes(rule.action)) {
    fields.push(h("label", {}, t("desk.note"), h("textarea", { id: "af-note", rows: "2", maxlength: "2000", dataset: { testid: "action-note" } })));
  }
  if (needs.has("reason")) {
    fields.push(h("label", {}, t("desk.reason"), h("textarea", { id: "af-reason", rows: "2", maxlength: "2000", dataset: { testid: "action-reason" } })));
  }
  if (needs.has("deadline")) {
    fields.push(h("label", {}, t("desk.deadline"), h("input", { id: "af-deadline", type: "datetime-local", dataset: { testid: "action-deadline" } })));
  }
  if (needs.has("duplicate_of")) {
    fields.push(h("label", {}, t("desk.duplicate_of"), h("input", { id: "af-duplicate", type: "number", min: "1", dataset: { testid: "action-duplicate-of" } })));
  }
  if (rule.action === "escalate" || rule.action === "hand_down") {  // any tier above (below) in one step
    const here = TIERS.indexOf(desk.doc.tier);
    const options = rule.action === "escalate" ? TIERS.slice(here + 1) : TIERS.slice(0, here).reverse();
    const department = h("label", { id: "af-department-field" }, t("desk.department"),
      h("select", { id: "af-department", dataset: { testid: "action-department" } },
        desk.departments.map((d) => h("option", { value: d.code }, localName(d)))));
    const tier = h("select", { id: "af-tier", dataset: { testid: "action-tier" },
      onchange: () => { department.hidden = tier.value !== "district"; } },
    options.map((x) => h("option", { value: x }, label("tier", x))));
    department.hidden = tier.value !== "district";
    fields.push(h("label", {}, t("desk.tier_to"), tier), department);
  }
  if (["handle", "resolve", "verify"].includes(rule.action)) {  // what the resident is shown (api PUBLIC_OUTCOMES)
    fields.push(h("label", { class: "check" }, h("input", { type: "checkbox", id: "af-public", dataset: { testid: "action-public" } }),
      t("desk.public")));
  }
  let unitsBox = null;
  if (UNIT_ACTIONS.has(rule.action)) {
    unitsBox = h("div", { class: "recommend", dataset: { testid: "recommendations" } }, h("p", { class: "muted" }, "…"));
    fields.push(unitsBox,
      h("label", { class: "check" }, h("input", { type: "checkbox", id: "af-busy", dataset: { testid: "action-allow-busy" } }), t("desk.allow_busy")));
  }
  replace($("action-form"), h("form", { class: "action-card", dataset: { testid: "action-form", action: rule.action }, onsubmit: submitForm },
    h("h4", {}, actionName(rule.action)), ...fields,
    h("p", { class: "error", id: "action-error", dataset: { testid: "action-error" }, hidden: true }),
    h("div", { class: "form-buttons" },
      h("button", { type: "submit", class: "btn-primary", dataset: { testid: "action-submit" } }, t("desk.submit")),
      h("button", { type: "button", class: "btn-ghost", onclick: () => replace($("action-form")) }, t("desk.cancel")))));
  if (unitsBox) await loadRecommendations(unitsBox);
}

async function loadRecommendations(box) {
  try {
    const rec = await api(`/api/incidents/${desk.doc.id}/recommendations`);
    replace(box, h("p", { class: "small muted" }, t("desk.recommend")), rec.departments.map((d) => h("fieldset", {},
      h("legend", {}, deptName(d.department)),
      d.units.length ? d.units.map((u, i) => h("label", { class: "check unit-pick" },
        h("input", { type: "checkbox", value: u.code, checked: i === 0 && rec.departments.length === 1 ? true : null,
          dataset: { testid: "recommend-unit", department: d.department } }),
        `${u.name} · ${metres(u.distance_m)}`,
        h("small", { class: "muted" }, ` ${t("route.rank", { n: i + 1 })} · ${t("route.age", { t: ago(u.position_age_s) })}`)))
        : h("p", { class: "muted small" }, t("desk.recommend.none")))));
  } catch (e) {
    replace(box, h("p", { class: "error" }, errorText(e)));
  }
  if (desk.me.capabilities.includes("dispatch_units")) box.append(anyUnitPicker());
}

/** Any unit in reach, nearest first, each not recommended saying why: the desk may know better. */
function anyUnitPicker() {
  const list = h("ul", { class: "unit-search-results", dataset: { testid: "unit-search-results" } });
  const input = h("input", { type: "search", maxlength: "100", autocomplete: "off", placeholder: t("desk.units.hint"),
    dataset: { testid: "unit-search" } });
  let typing = null;
  const search = async () => {
    const q = new URLSearchParams({ limit: "30" });
    if (input.value.trim()) q.set("q", input.value.trim());
    try {
      const doc = await api(`/api/incidents/${desk.doc.id}/units?${q}`);
      replace(list, doc.units.map((u) => h("li", {}, h("label", { class: "check unit-pick" },
        h("input", { type: "checkbox", value: u.code, dataset: { testid: "pick-unit", code: u.code } }),
        `${u.name} · ${deptName(u.department)} · ${u.distance_m === null ? "—" : metres(u.distance_m)} · `,
        t(`unit.status.${u.status}`),
        h("small", { class: "muted", dataset: { testid: "why-not" } },
          u.recommended ? ` ${t("desk.units.recommended")}` : ` ${t(`desk.why_not.${u.why_not}`)}`)))));
    } catch (e) {
      replace(list, h("li", { class: "error" }, errorText(e)));
    }
  };
  input.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(search, 300); });
  const box = h("details", { class: "unit-search", dataset: { testid: "unit-search-box" } },
    h("summary", {}, t("desk.units.any")), h("label", { class: "unit-search-field" }, t("desk.units.find"), input),
    list);
  box.addEventListener("toggle", () => { if (box.open && !list.children.length) search(); });
  return box;
}

async function submitForm(ev) {
  ev.preventDefault();
  const rule = desk.form;
  const body = { expected_status: desk.doc.status };
  const val = (id) => $(id)?.value?.trim();
  if (val("af-note")) body.note = val("af-note");
  if (val("af-reason")) body.reason = val("af-reason");
  if ($("af-priority")) body.priority = $("af-priority").value;
  if (val("af-deadline")) body.deadline = new Date($("af-deadline").value).toISOString();
  if (val("af-duplicate")) body.duplicate_of = Number(val("af-duplicate"));
  if ($("af-tier")) body.tier = $("af-tier").value;
  if ($("af-department") && !$("af-department-field").hidden) body.department = $("af-department").value;
  if ($("af-public")?.checked) body.public = true;
  if (UNIT_ACTIONS.has(rule.action)) {
    body.units = [...new Set([...document.querySelectorAll("[data-testid=recommend-unit]:checked, [data-testid=pick-unit]:checked")]
      .map((x) => x.value))];
    if ($("af-busy")?.checked) body.allow_busy = true;
  }
  const err = $("action-error");
  try {
    desk.doc = await api(`/api/incidents/${desk.doc.id}/actions/${rule.action}`, { method: "POST", body });
    desk.form = null;
    renderCase();
    attempt("load.queue", loadQueue);
  } catch (e) {
    err.textContent = errorText(e);
    err.hidden = false;
  }
}

// ---------------------------------------------------------------- notifications

async function loadNotifications() {
  if (!desk.me.capabilities.includes("work_desk")) return;  // the button stays hidden
  $("notifications").hidden = false;
  const list = await api("/api/desk/notifications?limit=30");
  $("notification-count").textContent = String(list.length);
  replace($("notification-list"), list.map((n) => n.incident_id == null
    ? h("div", { class: "notification", dataset: { testid: "notification", kind: n.kind } },
      `${dateTime(n.at)} · ${eventLabel(n.kind)} · ${deskNotice(n)}`)
    : h("button", {
      type: "button", class: "notification", dataset: { testid: "notification", kind: n.kind },
      onclick: () => { $("notification-list").hidden = true; openCase(n.incident_id); },
    }, `${dateTime(n.at)} · ${eventLabel(n.kind)} · #${n.incident_id}`)));
}

/** A notice to the desk itself, about no case (the official holiday data runs out). */
function deskNotice(n) {
  if (n.kind === "patrol_stale") return t("desk.patrol_stale", { days: n.data.days, grids: joinList(n.data.grids || []) });
  if (n.kind === "calendar_data_ending") {
    return n.data.phase === "ended"
      ? t("desk.calendar.ended", { since: n.data.first_provisional_day || "" })
      : t("desk.calendar.ending", { end: n.data.data_end, days: n.data.days_left });
  }
  return "";
}

// ---------------------------------------------------------------- live updates

/** A change committed somewhere in this user's reach: reload the queue (a burst costs one
 * reload), and the open case too unless the user is filling in one of its forms. */
function onLiveIncident(ev) {
  clearTimeout(desk.pending);
  desk.pending = setTimeout(() => {
    attempt("load.queue", () => loadQueue({ keep: true }));
    if (ev.kind !== "reported") attempt("load.notifications", loadNotifications);
  }, LIVE_DEBOUNCE_MS);
  if (desk.doc && desk.doc.id === ev.incident_id && !desk.form) {
    attempt("load.case", () => api(`/api/incidents/${ev.incident_id}`).then((doc) => {
      if (desk.doc?.id === doc.id && !desk.form) { desk.doc = doc; renderCase(); }
    }));
  }
}

// ---------------------------------------------------------------- start

async function start(me) {
  desk.me = me;
  const [categories, departments] = await Promise.all([api("/api/categories"), api("/api/departments")]);
  desk.categories = categories;
  desk.departments = departments;
  fillFilters();
  const reload = () => attempt("load.queue", loadQueue);
  $("filters").addEventListener("change", reload);
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); reload(); });
  let typing = null;  // search as the desk types, once it pauses
  $("f-search").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(reload, 300); });
  $("queue-more").addEventListener("click", () => attempt("load.queue", () => loadQueue({ append: true })));
  $("notifications").addEventListener("click", () => { $("notification-list").hidden = !$("notification-list").hidden; });
  await reload();
  attempt("load.notifications", loadNotifications);
  const deep = /case=(\d+)/.exec(location.hash);
  if (deep) await openCase(Number(deep[1]));
  desk.live = new LiveStream({
    onIncident: onLiveIncident, onState: showLiveState,
    onResync: () => { reload(); attempt("load.notifications", loadNotifications); },
  }).start();
  desk.timer = setInterval(() => {
    attempt("load.queue", loadQueue);
    attempt("load.notifications", loadNotifications);
  }, REFRESH_MS);
  document.body.dataset.deskReady = "1";
}

startPage({
  // the owning desk, or those who supervise its cases (督办); an officer works from /unit
  capability: ["work_desk", "supervise_cases"],
  denied: { key: "page.noaccess.desk", testid: "desk-noaccess" },
  onReady: start,
  onLang: () => {
    if (!desk.me || !desk.categories.length) return;
    fillFilters();
    renderQueue();
    if (desk.doc) renderCase();
    showLiveState(desk.live?.current);
    attempt("load.notifications", loadNotifications);
  },
});
