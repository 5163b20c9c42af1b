// Follow a report: its states and times (no staff names, no personal data), then a rating.
// The secret comes from this phone (kept when the report was sent) or is typed in.

import { deviceHeaders } from "./device.js";
import { h, replace } from "./dom.js";
import { dateTime, errorText, localName, t, tOr } from "./i18n.js";
import { attempt, startPage } from "./page.js";

const $ = (id) => document.getElementById(id);
const code = decodeURIComponent(location.pathname.split("/").pop());
// a link from the sent card carries the secret in its fragment (#t=…), which no server sees:
// keep it on this phone and take it out of the address bar
const fromLink = new URLSearchParams(location.hash.slice(1)).get("t");
if (fromLink) {
  try { localStorage.setItem(`gridgov.token.${code}`, fromLink); } catch { /* private mode: this visit only */ }
  history.replaceState(null, "", location.pathname);
}
let token = fromLink || localStorage.getItem(`gridgov.token.${code}`) || "";

function stateName(s) { return tOr(`state.${s}`, s); }
function eventName(e) { return tOr(`event.${e.kind}`, stateName(e.status || e.kind)); }

async function load() {
  $("track-error").hidden = true;
  const res = await fetch(`/api/public/incidents/${encodeURIComponent(code)}`,
    { headers: { Accept: "application/json", "X-Reporter-Token": token, ...deviceHeaders() } });
  const doc = await res.json().catch(() => ({}));
  if (!res.ok) {
    $("track-error").textContent = errorText({ ...doc, status: res.status });
    $("track-error").hidden = false;
    $("token-form").hidden = false;
    return;
  }
  $("token-form").hidden = true;
  try { localStorage.setItem(`gridgov.token.${code}`, token); } catch { /* private mode */ }
  render(doc);
}

function render(c) {
  const rating = c.status === "closed" && !c.rating ? h("form", { class: "report-form", dataset: { testid: "rating-form" }, onsubmit: rate },
    h("p", {}, t("track.rate")),
    h("div", { class: "stars" }, [1, 2, 3, 4, 5].map((n) => h("button", { type: "button", dataset: { testid: `star-${n}`, n: String(n) },
      onclick: (e) => pick(e.target, n) }, "★"))),
    h("label", {}, t("track.comment"), h("textarea", { id: "comment", rows: "2", maxlength: "500", dataset: { testid: "rating-comment" } })),
    h("button", { type: "submit", class: "btn-primary", dataset: { testid: "rating-submit" } }, t("track.send"))) : null;
  replace($("case"),
    h("p", { class: "code" }, c.tracking_code),
    h("p", {}, localName({ name: c.category_name, name_en: c.category_name_en }), " · ", h("b", { dataset: { testid: "track-status" } }, stateName(c.status))),
    c.merged_into ? h("p", {}, h("a", { href: `/track/${encodeURIComponent(c.merged_into)}` }, t("track.merged", { code: c.merged_into }))) : null,
    h("ol", { class: "timeline", dataset: { testid: "track-timeline" } },
      c.events.map((e) => h("li", { dataset: { kind: e.kind } }, h("span", { class: "muted small" }, dateTime(e.at)), " ",
        eventName(e),
        e.note ? h("p", { class: "done-note", dataset: { testid: "track-note" } }, t("track.note"), e.note) : null,
        e.photos?.length ? photoStrip(e.photos, "track.staff_photos", "track-staff-photos") : null))),
    c.your_photos?.length ? photoStrip(c.your_photos, "track.your_photos", "track-your-photos") : null,
    c.rating ? h("p", { dataset: { testid: "track-rated" } }, t("track.rated", { n: c.rating })) : rating);
}

/** Photos fetched with the secret (an <img src> cannot carry it), labelled with whose they are. */
function photoStrip(hashes, label, testid) {
  const strip = h("div", { class: "photos", dataset: { testid } }, h("p", { class: "small muted" }, t(label)));
  for (const sha of hashes) {
    const img = h("img", { alt: t(label), class: "photo", dataset: { sha } });
    strip.append(img);
    fetch(`/api/public/incidents/${encodeURIComponent(code)}/photos/${sha}`,
      { headers: { "X-Reporter-Token": token, ...deviceHeaders() } })
      .then((res) => (res.ok ? res.blob() : Promise.reject(new Error(`HTTP ${res.status}`))))
      .then((blob) => { img.src = URL.createObjectURL(blob); img.dataset.loaded = "1"; })
      .catch(() => { img.replaceWith(h("span", { class: "error small" }, t("track.photo_failed"))); });
  }
  return strip;
}

let stars = 0;
function pick(button, n) {
  stars = n;
  for (const b of button.parentElement.children) b.classList.toggle("on", Number(b.dataset.n) <= n);
}

async function rate(ev) {
  ev.preventDefault();
  if (!stars) return;
  const res = await fetch(`/api/public/incidents/${encodeURIComponent(code)}/rating`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-Reporter-Token": token,
      ...deviceHeaders() },
    body: JSON.stringify({ rating: stars, comment: $("comment").value.trim() }) });
  if (!res.ok) {
    $("track-error").textContent = errorText({ ...(await res.json().catch(() => ({}))), status: res.status });
    $("track-error").hidden = false;
  }
  await attempt("load.track", load);
}

startPage({
  session: false,
  onReady: () => {
    $("token-form").addEventListener("submit", (e) => { e.preventDefault(); token = $("token").value.trim(); attempt("load.track", load); });
    if (token) return attempt("load.track", load);
    $("token-form").hidden = false;
    return null;
  },
  onLang: () => { if (token) attempt("load.track", load); },
});
