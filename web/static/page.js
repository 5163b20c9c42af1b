// Every page starts here (DESIGN.md "Layout"): language and the 中/EN toggle, the login card and
// the session, the capability check, and a visible error when something fails to load.
//
//   startPage({ capability: "work_desk", onReady(me) { ... } })        a staff page
//   startPage({ session: false, onReady() { ... } })                  a public page (no login)
//
// Options:
//   capability  a capability (or a list: any of them) from /api/auth/me without which the page is
//               of no use; a user without it is told so (`denied`) and offered to sign out.
//   denied      { key, testid }: the message for that user (default page.noaccess).
//   onReady(me) the page itself, once a user with the capability is in (me: null on public pages).
//               Should it throw, the failure is shown with a way to reload.
//   onLang()    after a language switch (the [data-i18n] texts are already redone).
//   onDenied(me) after the no-access message is shown.
//   onResume(me) the same user logged in again after the session was lost (the card covers the
//               page meanwhile); without it the page reloads, as for a different user.
//
// Staff page markup: #login-view (empty; data-subtitle = the card's subtitle key), #app-view, and
// optionally #user-name and #logout in it. Any [data-lang-toggle] switches the language.
//
// Loads: attempt("load.queue", loadQueue) runs a load and, should it fail, says so in one alert
// region (role=alert, data-testid=load-error) with a retry button; a later success clears it.

import * as auth from "./api.js";
import { api, ApiError } from "./api.js";
import { h, replace } from "./dom.js";
import { applyI18n, errorText, onLangChange, t, toggleLang } from "./i18n.js";

const $ = (id) => document.getElementById(id);

const session = { me: null, entered: false, lost: false, opts: null };

// ---------------------------------------------------------------- start-up

/** Start the page: see the module comment for the options. Resolves once onReady has run. */
export function startPage(opts = {}) {
  session.opts = { session: true, ...opts };
  const go = () => start(session.opts);
  if (document.readyState === "loading") {
    return new Promise((done) => document.addEventListener("DOMContentLoaded", () => done(go())));
  }
  return go();
}

async function start(opts) {
  applyI18n();
  document.addEventListener("click", (e) => {
    if (e.target.closest("[data-lang-toggle]")) toggleLang();
  });
  onLangChange(() => {
    renderErrors();
    if (session.denied) renderDenied();
    opts.onLang?.();
  });
  if (!opts.session) {
    await run(opts.onReady, null);
    return;
  }
  drawLoginCard(opts);
  $("logout")?.addEventListener("click", signOut);
  auth.setSessionLostHandler(onSessionLost);
  if (auth.hasSession()) {
    let me = null;
    try {
      me = await api("/api/auth/me");
    } catch (e) {
      if (session.lost) return;  // the token was refused and could not be refreshed: the card says so
      auth.clearTokens();
      showLogin();
      showLoginError(null, errorText(e));
      return;
    }
    await enter(me);
    return;
  }
  showLogin();
}

async function run(fn, me) {
  try {
    await fn?.(me);
  } catch (e) {
    reportLoadError("load.page", e, () => window.location.reload());
    console.warn("page start failed", e);
  }
}

function allowed(me, capability) {
  if (!capability) return true;
  const held = new Set(me.capabilities || []);
  return [].concat(capability).some((c) => held.has(c));
}

async function enter(me) {
  const opts = session.opts;
  session.me = me;
  session.entered = true;
  session.lost = false;
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  document.body.dataset.view = "app";
  if ($("user-name")) $("user-name").textContent = me.username;
  drawNav(me);
  if (!allowed(me, opts.capability)) {
    showDenied(opts.denied);
    opts.onDenied?.(me);
    return;
  }
  await run(opts.onReady, me);
}

// ---------------------------------------------------------------- the pages a user may open

// Every staff page with the capability that opens it (any of a list), as the page's own startPage
// asks it, and the public disclosure, which everyone may read.
const PAGES = [
  ["/", "nav.map", "read_map"],
  ["/desk", "nav.desk", ["work_desk", "supervise_cases"]],
  ["/console", "nav.console", "read_incidents"],
  ["/unit", "nav.unit", "work_assignments"],
  ["/patrol", "nav.patrol", ["report_patrol", "read_patrol_tracks"]],
  ["/inspections", "nav.inspections", "plan_inspections"],
  ["/editor", "nav.editor", "edit_areas"],
  ["/dashboard", "nav.dashboard", "read_kpis"],
  ["/admin/calendar", "nav.calendar", "manage_calendar"],
  ["/public", "nav.public", null],
];

/** A menu of the other pages the user's capabilities open, in the page's top bar (where it has one). */
function drawNav(me) {
  const bar = document.querySelector(".topbar .user");
  if (!bar || bar.querySelector("[data-testid=page-nav]")) return;
  const here = window.location.pathname;
  const links = PAGES.filter(([path, , capability]) => path !== here && allowed(me, capability))
    .map(([path, key]) => h("li", {}, h("a", { href: path, dataset: { testid: "page-nav-link", i18n: key } }, t(key))));
  if (!links.length) return;
  bar.prepend(h("details", { class: "page-nav", dataset: { testid: "page-nav" } },
    h("summary", { dataset: { i18n: "nav.pages" } }, t("nav.pages")), h("ul", {}, ...links)));
}

// ---------------------------------------------------------------- the login card

function drawLoginCard(opts) {
  const view = $("login-view");
  const subtitle = view.dataset.subtitle || opts.subtitle || "app.subtitle";
  const field = (key, input) => h("label", { class: "field" }, h("span", { dataset: { i18n: key } }, t(key)), input);
  replace(view, h("form", { id: "login-form", class: "login-card", dataset: { testid: "login-form" }, autocomplete: "on",
    novalidate: true, onsubmit: onLoginSubmit },
  h("div", { class: "login-top" }, h("div", { class: "brand-mark", "aria-hidden": "true" }),
    h("button", { type: "button", class: "lang-toggle", dataset: { testid: "lang-toggle-login", langToggle: "" } }, "中 / EN")),
  h("h1", { dataset: { i18n: "app.title" } }, t("app.title")),
  h("p", { class: "login-sub", dataset: { i18n: subtitle } }, t(subtitle)),
  field("login.username", h("input", { id: "login-username", name: "username", dataset: { testid: "login-username" },
    autocomplete: "username", required: true })),
  field("login.password", h("input", { id: "login-password", name: "password", type: "password",
    dataset: { testid: "login-password" }, autocomplete: "current-password", required: true })),
  h("p", { id: "login-error", class: "login-error", dataset: { testid: "login-error" }, role: "alert", hidden: true }),
  h("button", { type: "submit", id: "login-submit", class: "btn-primary", dataset: { testid: "login-submit", i18n: "login.submit" } },
    t("login.submit")),
  h("p", { class: "login-foot", dataset: { i18n: "login.foot" } }, t("login.foot"))));
}

function showLogin(messageKey) {
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  document.body.dataset.view = "login";
  if (messageKey) showLoginError(messageKey);
  $("login-username").focus();
}

/** A login error: a message key (translated again on 中/EN) or a text from the server. */
function showLoginError(key, text) {
  const el = $("login-error");
  if (key) el.dataset.i18n = key;
  else delete el.dataset.i18n;
  el.textContent = key ? t(key) : text;
  el.hidden = false;
}

async function onLoginSubmit(ev) {
  ev.preventDefault();
  const button = $("login-submit");
  const username = $("login-username").value.trim();
  const password = $("login-password").value;
  if (!username || !password) return showLoginError("login.missing");
  $("login-error").hidden = true;
  button.disabled = true;
  button.textContent = t("login.busy");
  let me;
  try {
    await auth.login(username, password);
    me = await api("/api/auth/me");
    $("login-password").value = "";
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showLoginError("login.wrong");
    else if (e instanceof ApiError && e.status === 0) showLoginError("error.network");
    else showLoginError(null, `${t("login.failed")}: ${errorText(e)}`);
    $("login-password").select();
    return;
  } finally {
    button.disabled = false;
    button.textContent = t("login.submit");
  }
  if (!session.entered) {
    await enter(me);
  } else if (me.username === session.me?.username && session.opts.onResume) {
    // the same person, back after the session ran out: the page under the card is as they left it
    session.lost = false;
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    document.body.dataset.view = "app";
    clearAllErrors();
    await run(session.opts.onResume, me);
  } else {
    window.location.reload();  // start afresh, in this tab's new session
  }
}

function onSessionLost() {
  if (session.lost) return;
  session.lost = true;
  showLogin("login.expired");
}

/** Log out and start again at the login card. */
export async function signOut() {
  await auth.logout();
  window.location.reload();
}

// ---------------------------------------------------------------- no access

/** Tell a user this page is not for their account (the page's own content is hidden), with a way
 * to sign out. ``key``/``testid``: the page's message (default page.noaccess / page-noaccess). */
export function showDenied({ key = "page.noaccess", testid = "page-noaccess" } = {}) {
  session.denied = { key, testid };
  const view = $("app-view");
  let box = view.querySelector(":scope > .page-denied");
  if (!box) {
    box = h("section", { class: "page-denied", dataset: { testid: "noaccess-view" } });
    const header = view.querySelector(":scope > header");
    if (header) header.after(box);
    else view.prepend(box);
  }
  for (const el of view.children) {
    if (el !== box && el.tagName !== "HEADER") el.hidden = true;
  }
  renderDenied();
}

function renderDenied() {
  const box = $("app-view").querySelector(":scope > .page-denied");
  const { key, testid } = session.denied;
  replace(box,
    h("p", { class: "page-denied-text", dataset: { testid, i18n: key } }, t(key)),
    session.me ? h("p", { class: "muted small" }, t("page.signed_in_as", { user: session.me.username })) : null,
    h("button", { type: "button", class: "btn-primary page-denied-logout", dataset: { testid: "noaccess-logout" },
      onclick: signOut }, t("page.switch_user")));
}

// ---------------------------------------------------------------- visible load errors

const failures = new Map();  // what (a message key) -> { error, retry, busy }

function region() {
  let el = $("load-error");
  if (!el) {
    el = h("div", { id: "load-error", class: "load-error", role: "alert", dataset: { testid: "load-error" }, hidden: true });
    document.body.append(el);
  }
  return el;
}

/**
 * Say that ``what`` (a message key naming the thing: "load.queue") failed to load, with the
 * reason, and a retry button when ``retry`` is given (a function; its own failure is reported
 * again). One line per thing: a second failure replaces the first. A lost session is not
 * reported here (the login card says so), nor an aborted request.
 */
export function reportLoadError(what, error, retry = null) {
  if (error instanceof ApiError && error.status === 401) return;
  if (error?.name === "AbortError") return;
  failures.set(what, { error, retry, busy: false });
  renderErrors();
}

/** The thing loaded after all: its line goes. */
export function clearLoadError(what) {
  if (failures.delete(what)) renderErrors();
}

function clearAllErrors() {
  failures.clear();
  renderErrors();
}

/**
 * Run a load (``fn``: returns a promise); should it fail, report it under ``what`` with a retry
 * that runs it again (``{retry: false}``: no retry offered). Resolves to the load's value, or
 * undefined when it failed: it never rejects, so callers need no catch of their own.
 */
export async function attempt(what, fn, { retry = true } = {}) {
  try {
    const value = await fn();
    clearLoadError(what);
    return value;
  } catch (e) {
    reportLoadError(what, e, retry ? () => attempt(what, fn) : null);
    return undefined;
  }
}

function renderErrors() {
  const el = region();
  replace(el, [...failures].map(([what, f]) => h("div", { class: "load-error-item", dataset: { testid: "load-error-item", what } },
    h("span", { class: "load-error-what" }, t("page.load_failed", { what: t(what) })),
    h("span", { class: "load-error-detail" }, `: ${errorText(f.error)}`),
    f.retry ? h("button", { type: "button", class: "load-error-retry", disabled: f.busy || null,
      dataset: { testid: "load-error-retry" }, onclick: () => retry(what) }, t(f.busy ? "page.retrying" : "page.retry")) : null,
    h("button", { type: "button", class: "load-error-close", title: t("page.dismiss"), "aria-label": t("page.dismiss"),
      dataset: { testid: "load-error-dismiss" }, onclick: () => clearLoadError(what) }, "×"))));
  el.hidden = failures.size === 0;
}

async function retry(what) {
  const f = failures.get(what);
  if (!f || f.busy) return;
  f.busy = true;
  renderErrors();
  try {
    await f.retry();  // attempt() clears or reports again by itself
  } catch (e) {
    reportLoadError(what, e, f.retry);
    return;
  }
  if (failures.get(what) === f) clearLoadError(what);  // a plain function that did not throw: done
}
