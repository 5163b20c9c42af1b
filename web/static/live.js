// The live stream (/api/live, Server-Sent Events) read with fetch, so that it carries the
// bearer token (EventSource cannot) and refreshes it like every other call. Reconnects by
// itself with Last-Event-ID, and drops events it has already seen (a reconnect replays a few).

import { request } from "./api.js";
import { t } from "./i18n.js";

const BACKOFF_MS = [1000, 2000, 5000, 10000];
const SEEN_MAX = 2000;

export class LiveStream {
  /**
   * handlers: onIncident(data), onUnit(data), onUnitsReload(), onResync(), onState("live"|"offline").
   */
  constructor(handlers = {}) {
    this.on = handlers;
    this.lastId = null;
    this.seen = new Set();
    this.stopped = false;
    this.abort = null;
    this.failures = 0;
  }

  start() {
    this.stopped = false;
    this.loop();
    return this;
  }

  stop() {
    this.stopped = true;
    this.abort?.abort();
  }

  async loop() {
    while (!this.stopped) {
      try {
        await this.read();
        this.failures = 0;  // the server ended the stream (session check, resync): come straight back
      } catch (e) {
        if (this.stopped) return;
        this.state("offline");
        if (e?.status === 401 || e?.status === 403) return;  // signed out: the page shows the login card
        const wait = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)];
        this.failures += 1;
        await new Promise((done) => setTimeout(done, wait));
      }
    }
  }

  async read() {
    this.abort = new AbortController();
    const headers = { Accept: "text/event-stream" };
    if (this.lastId !== null) headers["Last-Event-ID"] = String(this.lastId);
    const res = await request("/api/live", { headers, signal: this.abort.signal });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        this.message(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
    }
  }

  message(block) {
    let event = "message";
    let id = null;
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "id") id = Number(value);
      else if (field === "data") data.push(value);
    }
    const doc = data.length ? JSON.parse(data.join("\n")) : {};
    if (event === "hello") this.state("live");
    else if (event === "incident") {
      if (id !== null) {
        if (this.seen.has(id)) return;
        this.seen.add(id);
        if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value);
        this.lastId = Math.max(this.lastId ?? 0, id);
      }
      this.on.onIncident?.(doc);
    } else if (event === "unit") this.on.onUnit?.(doc);
    else if (event === "units_reload") this.on.onUnitsReload?.();
    else if (event === "resync") {
      if (doc.reason === "too_many_missed") this.lastId = null;  // start again from now, after a reload
      this.on.onResync?.(doc);
    }
  }

  state(s) {
    if (this.current === s) return;
    this.current = s;
    this.on.onState?.(s);
  }
}

/** The stream's state on the page's badge (#live-state: "live" or "offline", in words). */
export function showLiveState(state, el = document.getElementById("live-state")) {
  if (!el || !state) return;
  el.hidden = false;
  el.dataset.state = state;
  el.textContent = t(`live.${state}`);
}
