// A street's satisfaction survey (满意度测评) on a phone: the signed link from the street's
// poster (/survey?s=<street>&sig=<signature>), the questions by dimension with five choices each,
// sent with this phone's secret. One answer per phone per period: sending again replaces it.
// Nothing about the resident is asked or sent (no name, phone number or position).

import { deviceHeaders } from "./device.js";
import { h, replace } from "./dom.js";
import { errorText, localName, t } from "./i18n.js";
import { attempt, startPage } from "./page.js";

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const street = query.get("s") || "";
const sig = query.get("sig") || "";
let survey = null;

async function load() {
  const res = await fetch(`/api/public/surveys/${encodeURIComponent(street)}?${new URLSearchParams({ sig })}`,
    { headers: { Accept: "application/json", ...deviceHeaders() } });
  const doc = await res.json().catch(() => ({}));
  if (!res.ok) {
    showError({ ...doc, status: res.status });
    return;
  }
  survey = doc;
  render();
}

function showError(e) {
  $("survey-error").textContent = errorText(e);
  $("survey-error").hidden = false;
  if ($("survey-form").hidden) {  // nothing to answer: show the error on its own
    $("survey-form").hidden = false;
    $("survey-questions").replaceChildren();
    document.querySelector("[data-testid=survey-submit]").hidden = true;
  }
}

function render() {
  const s = survey;
  $("survey-street").textContent = localName({ name: s.street_name, name_en: s.street_name_en });
  $("survey-none").hidden = Boolean(s.period);
  $("survey-form").hidden = !s.period;
  if (!s.period) return;
  $("survey-period").textContent = t("survey.period", { opens: s.period.opens, closes: s.period.closes });
  $("survey-again").hidden = !s.yours;
  const chosen = { ...(s.yours || {}), ...picked() };
  replace($("survey-questions"), ...s.dimensions.map((d) => h("fieldset", { class: "survey-dimension" },
    h("legend", {}, localName(d)),
    ...d.indicators.map((i) => h("div", { class: "survey-question", dataset: { testid: `question-${i.code}` } },
      h("p", {}, localName(i)),
      h("div", { class: "survey-choices", role: "radiogroup", "aria-label": localName(i) },
        ...[1, 2, 3, 4, 5].map((n) => h("label", {},
          h("input", { type: "radio", name: i.code, value: String(n), checked: chosen[i.code] === n,
            dataset: { testid: `score-${i.code}-${n}` } }),
          t(`survey.scale.${n}`)))))))));
}

/** The scores chosen on the page: indicator code -> 1..5. */
function picked() {
  const out = {};
  for (const input of document.querySelectorAll("#survey-questions input[type=radio]:checked")) {
    out[input.name] = Number(input.value);
  }
  return out;
}

async function send(ev) {
  ev.preventDefault();
  $("survey-error").hidden = true;
  const scores = picked();
  if (!Object.keys(scores).length) {
    $("survey-error").textContent = t("survey.need_one");
    $("survey-error").hidden = false;
    return;
  }
  const res = await fetch(`/api/public/surveys/${encodeURIComponent(street)}/answers`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", ...deviceHeaders() },
    body: JSON.stringify({ sig, scores }) });
  const doc = await res.json().catch(() => ({}));
  if (!res.ok) {
    showError({ ...doc, status: res.status });
    return;
  }
  survey.yours = scores;
  $("survey-form").hidden = true;
  $("survey-again").hidden = true;
  $("survey-sent").textContent = t(doc.replaced ? "survey.replaced" : "survey.sent", { n: doc.questions });
  $("survey-sent").dataset.replaced = doc.replaced ? "1" : "0";
  $("survey-sent").hidden = false;
}

startPage({
  session: false,
  onReady: () => {
    $("survey-form").addEventListener("submit", (e) => attempt("load.survey", () => send(e)));
    return attempt("load.survey", load);
  },
  onLang: () => { if (survey && !$("survey-form").hidden) render(); },
});
