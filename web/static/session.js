// The login card shared by the desk and the unit pages (the map page has its own, richer one).
// Markup: #login-view with #login-form, #login-username, #login-password, #login-error.

import * as auth from "./api.js";
import { api, ApiError } from "./api.js";
import { h, replace } from "./dom.js";
import { errorText, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

function drawLoginCard() {
  const view = $("login-view");
  const field = (key, input) => h("label", { class: "field" }, h("span", { dataset: { i18n: key } }, t(key)), input);
  replace(view, h("form", { id: "login-form", class: "login-card", dataset: { testid: "login-form" }, autocomplete: "on", novalidate: true },
    h("div", { class: "login-top" }, h("div", { class: "brand-mark", "aria-hidden": "true" }),
      h("button", { type: "button", class: "lang-toggle", dataset: { testid: "lang-toggle-login", langToggle: "" } }, "中 / EN")),
    h("h1", { dataset: { i18n: "app.title" } }, t("app.title")),
    h("p", { class: "login-sub", dataset: { i18n: view.dataset.subtitle } }, t(view.dataset.subtitle)),
    field("login.username", h("input", { id: "login-username", dataset: { testid: "login-username" }, autocomplete: "username", required: true })),
    field("login.password", h("input", { id: "login-password", type: "password", dataset: { testid: "login-password" },
      autocomplete: "current-password", required: true })),
    h("p", { id: "login-error", class: "login-error", dataset: { testid: "login-error" }, role: "alert", hidden: true }),
    h("button", { type: "submit", class: "btn-primary", dataset: { testid: "login-submit", i18n: "login.submit" } }, t("login.submit"))));
}

/** Show the login card until a user logs in, then call onReady(me). A live session skips it. */
export async function startSession(onReady) {
  drawLoginCard();
  auth.setSessionLostHandler(() => showLogin("login.expired"));
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = $("login-error");
    const username = $("login-username").value.trim();
    const password = $("login-password").value;
    if (!username || !password) return showError(t("login.missing"));
    err.hidden = true;
    try {
      await auth.login(username, password);
      $("login-password").value = "";
      await enter(onReady);
    } catch (e) {
      showError(e instanceof ApiError && e.status === 401 ? t("login.wrong")
        : `${t("login.failed")}: ${errorText(e)}`);
    }
  });
  if (auth.hasSession()) {
    try { await enter(onReady); return; } catch { /* fall through to the login card */ }
  }
  showLogin();
}

async function enter(onReady) {
  const me = await api("/api/auth/me");
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  await onReady(me);
}

function showError(text) {
  const err = $("login-error");
  err.textContent = text;
  err.hidden = false;
}

export function showLogin(messageKey) {
  $("app-view").hidden = true;
  $("login-view").hidden = false;
  if (messageKey) showError(t(messageKey));
  $("login-username").focus();
}

export async function signOut() {
  await auth.logout();
  location.reload();
}
