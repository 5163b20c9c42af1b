// 综合查一次: the station's dispatcher plans a joint team's day for the zone and sees it on the
// map: the visits as numbered markers in their order, the route from the station and back as a line.

import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { createMap } from "./map.js";
import { errorText, localName, t } from "./i18n.js";
import { attempt, startPage } from "./page.js";

const $ = (id) => document.getElementById(id);
const state = { stations: [], units: [], departments: {}, map: null, layer: null, plan: null };

function tomorrow() {
  const d = new Date(Date.now() + 86400000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function showError(text) {
  $("plan-error").textContent = text || "";
  $("plan-error").hidden = !text;
}

function station() { return state.stations.find((s) => s.zone_code === $("plan-zone").value); }

function departmentName(code) { return state.departments[code] ? localName(state.departments[code]) : code; }

function fillTeam() {
  const s = station();
  const units = state.units.filter((u) => s && u.station_code === s.code);
  replace($("plan-team"), units.length ? units.map((u) => h("label", {},
    h("input", { type: "checkbox", value: u.code, dataset: { testid: `team-${u.code}` } }),
    ` ${u.code} · ${departmentName(u.department)}`)) : h("p", { class: "muted" }, t("insp.no_units")));
}

async function load() {
  const [stations, units, departments] = await Promise.all([
    api("/api/stations"), api("/api/units"), api("/api/departments")]);
  state.stations = stations.features.map((f) => ({ ...f.properties, lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] }));
  state.units = units.features.map((f) => f.properties);
  for (const d of departments) state.departments[d.code] = d;
  replace($("plan-zone"), state.stations.map((s) => h("option", { value: s.zone_code }, `${s.name} (${s.zone_code})`)));
  fillTeam();
}

function draw(plan) {
  const map = state.map;
  if (state.layer) state.layer.remove();
  const shown = (lat, lon) => map.gridgov.toDisplay(lat, lon);
  const home = shown(plan.station_lat, plan.station_lon);
  const layer = L.layerGroup().addTo(map);
  const line = [home, ...plan.visits.map((v) => shown(v.place.lat, v.place.lon)), home];
  L.polyline(line, { color: "#0b61a4", weight: 3, opacity: 0.8, className: "insp-route" }).addTo(layer);
  L.marker(home, { icon: L.divIcon({ className: "", html: `<div class="insp-station">${t("insp.station")}</div>` }) }).addTo(layer);
  for (const v of plan.visits) {
    L.marker(shown(v.place.lat, v.place.lon), {
      title: `${v.seq}. ${v.place.name}`,
      icon: L.divIcon({ className: "", iconSize: [22, 22],
        html: `<div class="insp-seq${v.recheck ? " recheck" : ""}" data-testid="visit-marker" data-seq="${v.seq}">${v.seq}</div>` }),
    }).addTo(layer);
  }
  state.layer = layer;
  if (plan.visits.length) map.fitBounds(L.latLngBounds(line), { padding: [24, 24] });
  map.getContainer().dataset.visits = String(plan.visits.length);
}

function render(plan) {
  state.plan = plan;
  $("plan-summary").textContent = t("insp.summary", {
    n: plan.visits.length, km: (plan.route_m / 1000).toFixed(1), naive: (plan.naive_m / 1000).toFixed(1), left: plan.left_out });
  replace($("plan-visits"), plan.visits.map((v) => h("li", { dataset: { testid: "plan-visit", seq: String(v.seq), place: v.place.code } },
    h("b", {}, `${v.seq}. ${v.place.name}`), " ",
    h("span", { class: "muted small" }, `${v.place.code} · ${v.departments.map(departmentName).join("、")}`,
      v.recheck ? ` · ${t("insp.recheck")}` : ""))));
  draw(plan);
}

async function submit(e) {
  e.preventDefault();
  showError("");
  const team = [...$("plan-team").querySelectorAll("input:checked")].map((i) => i.value);
  try {
    render(await api("/api/inspections/plans", { method: "POST", body: { zone: $("plan-zone").value, day: $("plan-day").value, team } }));
  } catch (err) {
    showError(errorText(err));
  }
}

async function start() {
  $("plan-day").value = tomorrow();
  state.map = await createMap($("insp-map"));
  await attempt("load.inspections", load);
  $("plan-zone").addEventListener("change", fillTeam);
  $("plan-form").addEventListener("submit", submit);
}

startPage({
  capability: "plan_inspections",
  onReady: start,
  onLang: () => { fillTeam(); if (state.plan) render(state.plan); },
});
