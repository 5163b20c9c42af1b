// The hand-over sheet (交办单) as a page of the app: the sheet comes from the API with the desk's
// session (a tab the desk opened shares it) and prints with this page's stylesheet.

import { request } from "./api.js";
import { getLang } from "./i18n.js";
import { attempt, startPage } from "./page.js";

const $ = (id) => document.getElementById(id);
const incidentId = Number(location.pathname.split("/").pop());

async function load() {
  const res = await request(`/api/incidents/${incidentId}/handover?lang=${encodeURIComponent(getLang())}`, { headers: { Accept: "text/html" } });
  // the server escapes every value it puts in the sheet; its body is taken as it is, without scripts
  const sheet = new DOMParser().parseFromString(await res.text(), "text/html");
  $("sheet").replaceChildren(...[...sheet.body.childNodes].map((n) => document.importNode(n, true)));
  document.title = sheet.title || document.title;
  document.body.dataset.ready = "1";
  if (new URLSearchParams(location.search).has("print")) window.print();
}

startPage({
  capability: "work_desk",
  denied: { key: "page.noaccess.handover", testid: "handover-noaccess" },
  onReady: async () => {
    $("print").addEventListener("click", () => window.print());
    await attempt("load.sheet", load);
  },
});
