// Interface text: one catalogue per language (web/static/i18n/<lang>.json, flat "key": "text"
// with {name} placeholders); Chinese first and the fallback of every key. The server hands the
// pages every catalogue in one document (GET /i18n.json, api/i18n.py, which reads the same files
// for the text it writes itself): a new language is a new file, nothing else.

import BUNDLE from "/i18n.json" with { type: "json" };

const STRINGS = BUNDLE.catalogues;
const LANGS = BUNDLE.languages;
const DEFAULT = LANGS[0];

/** The languages there are catalogues of, in the order of the list. */
export const languages = [...LANGS];

const listeners = new Set();
let lang = (() => {
  try { const saved = localStorage.getItem("gridgov.lang"); return LANGS.includes(saved) ? saved : DEFAULT; }
  catch { return DEFAULT; }
})();

export function getLang() { return lang; }

/** The language's BCP 47 tag (<html lang>). */
export function langTag() { return t("lang.tag"); }

/** The locale that writes dates and numbers in this language. */
export function locale() { return t("lang.locale"); }

/** Whether the catalogue has this key (in the page's language or the default). */
export function has(key) { return key in STRINGS[lang] || key in STRINGS[DEFAULT]; }

/** Translate a key, filling {placeholders} from vars (values are plain text). */
export function t(key, vars = {}) {
  const s = STRINGS[lang][key] ?? STRINGS[DEFAULT][key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/** Translate a key if known, else return the fallback (e.g. an unknown status code). */
export function tOr(key, fallback, vars = {}) {
  return has(key) ? t(key, vars) : fallback;
}

/** Local name of a record with name (the default language's) and name_<lang> (name_en). */
export function localName(rec) {
  if (!rec) return "";
  return (lang !== DEFAULT && rec[`name_${lang}`]) ? rec[`name_${lang}`] : (rec.name ?? rec.code ?? "");
}

/**
 * What to tell a person about an error, in the page's language. ``e`` is an ApiError (api.js),
 * or an error body with its status ({status, detail, code, params}), or any other error: the
 * catalogue's error.<code> with the body's params (a field's or a state's name translated too),
 * else the server's detail; no answer at all (status 0) is error.network.
 */
export function errorText(e) {
  if (e === null || e === undefined) return "";
  if (typeof e !== "object") return String(e);
  if (e.status === 0) return t("error.network");
  const detail = typeof e.detail === "string" && e.detail ? e.detail
    : (e.status ? `HTTP ${e.status}` : String(e.message ?? e));
  if (typeof e.code !== "string" || !e.code) return detail;
  const params = { ...(e.params && typeof e.params === "object" ? e.params : {}) };
  if (params.field) params.field = tOr(`field.${params.field}`, params.field);
  if (params.state) params.state = tOr(`state.${params.state}`, params.state);
  const code = e.code === "invalid" && !params.field ? "bad_request" : e.code;
  return tOr(`error.${code}`, detail, params);
}

export function applyI18n(root = document) {
  document.documentElement.lang = langTag();
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  document.title = `${t("app.title")} · gridgov`;
}

export function setLang(next) {
  lang = LANGS.includes(next) ? next : DEFAULT;
  try { localStorage.setItem("gridgov.lang", lang); } catch { /* private mode */ }
  applyI18n();
  for (const fn of listeners) fn(lang);
}

/** The next language of the list (the 中 / EN button cycles through the catalogues). */
export function toggleLang() { setLang(LANGS[(LANGS.indexOf(lang) + 1) % LANGS.length]); }

export function onLangChange(fn) { listeners.add(fn); }

/** Join a list the local way: 、 in Chinese, ", " in English. */
export function list(items) {
  return items.filter((x) => x !== null && x !== undefined && x !== "").join(t("lang.list_sep"));
}

export function metres(n) {
  const v = Math.round(Number(n));
  return t("m", { n: v.toLocaleString(locale()) });
}

/** A deadline's length ("2h" clock hours, "8wh" working hours, "3wd" working days) in words. */
export function deadlineSpec(spec) {
  const m = /^(\d+)(h|wh|wd)$/.exec(String(spec ?? "").trim());
  return m ? t(`deadline.${m[2]}`, { n: m[1] }) : String(spec ?? "");
}

export function ago(seconds) {
  const s = Math.max(0, Math.round(Number(seconds)));
  if (s < 90) return t("time.s", { n: s });
  if (s < 5400) return t("time.m", { n: Math.round(s / 60) });
  if (s < 172800) return t("time.h", { n: Math.round(s / 3600) });
  return t("time.d", { n: Math.round(s / 86400) });
}

export function dateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(locale(), {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  });
}
