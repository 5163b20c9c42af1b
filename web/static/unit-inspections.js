// The joint inspection on the officer's phone (综合查一次): the team's visits in order, arrive
// (the phone's position, checked by the server against the place), each department's checklist,
// photos and findings. A failed item becomes a case at the desk; a passing re-check closes it.

import { api, errorOf } from "./api.js";
import { h, replace } from "./dom.js";
import { errorText, localName, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const insp = { visits: [], departments: {} };

function showError(text) {
  $("insp-error").textContent = text || "";
  $("insp-error").hidden = !text;
}

function departmentName(code) { return insp.departments[code] ? localName(insp.departments[code]) : code; }

function here() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error(t("unit.denied")));
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy }),
      () => reject(new Error(t("unit.denied"))), { enableHighAccuracy: true, maximumAge: 10000, timeout: 20000 });
  });
}

async function arrive(visit) {
  showError("");
  try {
    const fix = await here();
    const body = { lon: fix.lon, lat: fix.lat };
    if (fix.accuracy != null) body.accuracy_m = Math.min(fix.accuracy, 10000);
    await api(`/api/inspections/visits/${visit.id}/arrive`, { method: "POST", body });
  } catch (e) {
    showError(errorText(e));
  }
  await load();
}

async function upload(visitId, file) {
  const tokens = JSON.parse(sessionStorage.getItem("gridgov.tokens") || "null");
  const data = new FormData();
  data.append("file", file);
  const res = await fetch(`/api/inspections/visits/${visitId}/photos`, {
    method: "POST", body: data, headers: { Authorization: `Bearer ${tokens?.access || ""}`, Accept: "application/json" } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw errorOf(res.status, body);
  return body.sha256;
}

function itemField(visit, dept, item) {
  const name = `insp-${visit.id}-${dept}-${item.key}`;
  const text = localName({ name: item.zh, name_en: item.en });
  const testid = `insp-item-${dept}-${item.key}`;
  if (item.kind === "yes_no") {
    return h("label", {}, text, h("select", { name, required: true, dataset: { testid, key: item.key, kind: item.kind } },
      h("option", { value: "" }, "—"), h("option", { value: "yes" }, t("insp.yes")), h("option", { value: "no" }, t("insp.no"))));
  }
  if (item.kind === "number") {
    return h("label", {}, text, h("input", { name, type: "number", step: "any", required: true, dataset: { testid, key: item.key, kind: item.kind } }));
  }
  return h("label", {}, text, h("input", { name, type: "text", maxlength: "500", dataset: { testid, key: item.key, kind: item.kind } }));
}

async function submitCheck(visit, dept, form) {
  showError("");
  const answers = {};
  for (const el of form.querySelectorAll("[data-key]")) {
    const v = el.value.trim();
    if (el.dataset.kind === "yes_no") answers[el.dataset.key] = v === "yes";
    else if (el.dataset.kind === "number") answers[el.dataset.key] = Number(v);
    else if (v) answers[el.dataset.key] = v;
  }
  try {
    const photos = [];
    for (const f of [...(form.querySelector("input[type=file]").files || [])]) photos.push(await upload(visit.id, f));
    await api(`/api/inspections/visits/${visit.id}/checks`, { method: "POST", body: {
      department: dept, answers, findings: form.querySelector("textarea").value.trim(), photos } });
  } catch (e) {
    showError(errorText(e));
  }
  await load();
}

function checkForm(visit, list) {
  const dept = list.department;
  const form = h("form", { class: "task-form", dataset: { testid: `insp-check-${dept}` } },
    h("h4", {}, `${departmentName(dept)} · v${list.version}`),
    list.items.map((item) => itemField(visit, dept, item)),
    h("label", {}, t("insp.findings"), h("textarea", { rows: "2", maxlength: "2000", dataset: { testid: `insp-findings-${dept}` } })),
    h("label", {}, t("unit.photo"), h("input", { type: "file", accept: "image/*", capture: "environment", multiple: true, dataset: { testid: `insp-photo-${dept}` } })),
    h("button", { type: "submit", class: "btn-primary", dataset: { testid: `insp-submit-${dept}` } }, t("insp.submit")));
  form.addEventListener("submit", (e) => { e.preventDefault(); submitCheck(visit, dept, form); });
  return form;
}

function doneCheck(c) {
  const outcome = c.failed.length ? t("insp.failed", { items: c.failed.join(", ") }) : t("insp.passed");
  const cases = c.cases.length ? ` · ${t("insp.cases", { ids: c.cases.map((i) => `#${i}`).join(" ") })}` : "";
  return h("p", { class: "small", dataset: { testid: `insp-done-${c.department}`, failed: String(c.failed.length) } },
    `${departmentName(c.department)}: ${outcome}${cases}`);
}

function render() {
  if (!insp.visits.length) {
    replace($("insp-visits"), h("li", { class: "muted", dataset: { testid: "insp-empty" } }, t("insp.empty")));
    return;
  }
  replace($("insp-visits"), insp.visits.map((v) => {
    const checked = new Set(v.checks.map((c) => c.department));
    const open = v.status === "arrived" ? v.checklists.filter((l) => !checked.has(l.department)).map((l) => checkForm(v, l)) : [];
    return h("li", { class: "task", dataset: { testid: "insp-visit", place: v.place.code, status: v.status, visitId: String(v.id) } },
      h("div", { class: "task-top" }, h("b", {}, `${v.day} · ${v.seq}. ${v.place.name}`),
        h("span", { class: "state" }, t(`insp.status.${v.status}`))),
      h("p", { class: "muted small" }, `${v.place.code} · ${v.departments.map(departmentName).join("、")}`,
        v.recheck ? ` · ${t("insp.recheck")}` : "", v.place.address ? ` · ${v.place.address}` : ""),
      v.status === "planned" ? h("button", { type: "button", class: "btn-step", dataset: { testid: "insp-arrive" }, onclick: () => arrive(v) }, t("insp.arrive")) : null,
      v.checks.map(doneCheck), open);
  }));
}

async function load() {
  const doc = await api("/api/inspections/visits");
  insp.visits = doc.visits;
  render();
}

/** The inspections section of /unit, for callers who work inspections. */
export async function startInspections(me) {
  if (!(me?.capabilities || []).includes("work_inspections")) return;
  $("insp-section").hidden = false;
  try {
    for (const d of await api("/api/departments")) insp.departments[d.code] = d;
    await load();
  } catch (e) {
    showError(errorText(e));
  }
}

export function redrawInspections() { if (insp.visits.length) render(); }
