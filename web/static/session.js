// The login card shared by the desk and the unit pages (the map page has its own, richer one).
// Markup: #login-view with #login-form, #login-username, #login-password, #login-error.

import * as auth from "./api.js";
import { api, ApiError } from "./api.js";
import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

/** Show the login card until a user logs in, then call onReady(me). A live session skips it. */
export async function startSession(onReady) {
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
        : `${t("login.failed")}: ${e instanceof ApiError ? e.detail : String(e)}`);
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
