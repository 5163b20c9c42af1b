// The editor's date slider: pick a past moment (`as_of`) and the map shows the boundaries as
// they were then, read only. Buttons step to just before the previous change and just after
// the next one, taken from the versions' valid_from / valid_to times.

import { h, replace } from "./dom.js";
import { t, dateTime } from "./i18n.js";

const DAY_MS = 86_400_000;

export class HistoryBar {
  /** ``onChange(asOf)``: an ISO timestamp, or null for now. */
  constructor(el, { onChange }) {
    this.el = el;
    this.onChange = onChange;
    this.times = [];     // change moments, ms, ascending
    this.value = null;   // ms, or null = now
    this.render();
  }

  /** The moments at which something changed (ISO strings or ms); keeps the chosen moment. */
  setTimes(times) {
    const ms = times.map((x) => (typeof x === "number" ? x : Date.parse(x))).filter((x) => Number.isFinite(x));
    this.times = [...new Set(ms)].sort((a, b) => a - b);
    this.render();
  }

  /** From the first version shown (nothing existed before it) to now. */
  range() {
    const now = Date.now();
    return { min: this.times.length ? Math.min(this.times[0], now - 1000) : now - DAY_MS, max: now };
  }

  /** Changes after the first version, ascending: the moments worth stepping to. */
  changes() { return this.times.slice(1); }

  /** Show the map at ``ms`` (null: now). */
  set(ms, { notify = true } = {}) {
    const { max } = this.range();
    this.value = ms === null || ms >= max ? null : Math.round(ms);
    this.render();
    if (notify) this.onChange(this.asOf());
  }

  asOf() { return this.value === null ? null : new Date(this.value).toISOString(); }

  previous() {
    const at = this.value ?? Date.now() + 1;
    const before = this.changes().filter((x) => x < at);
    if (before.length) this.set(before[before.length - 1] - 1000);
  }

  next() {
    if (this.value === null) return;
    const after = this.changes().filter((x) => x > this.value + 1);
    this.set(after.length ? Math.floor(after[0]) + 1 : null);  // +1 ms: valid_from has microseconds
  }

  render() {
    const { min, max } = this.range();
    const value = this.value ?? max;
    const slider = h("input", {
      type: "range", min: String(min), max: String(max), step: "any", value: String(value),
      class: "ed-slider", dataset: { testid: "history-slider" }, "aria-label": t("ed.history.at"),
    });
    const label = h("span", { class: "ed-history-at", dataset: { testid: "history-at" } },
      this.value === null ? t("ed.history.now") : dateTime(new Date(this.value).toISOString()));
    slider.addEventListener("input", () => {
      const v = Number(slider.value);
      label.textContent = v >= max ? t("ed.history.now") : dateTime(new Date(v).toISOString());
    });
    slider.addEventListener("change", () => this.set(Number(slider.value)));
    const button = (key, testid, fn, disabled) => h("button", {
      type: "button", class: "btn-plain", dataset: { testid }, onclick: fn, disabled: disabled || null,
    }, t(key));
    replace(this.el,
      h("span", { class: "ed-history-k" }, t("ed.history.at")),
      button("ed.history.prev", "history-prev", () => this.previous(), !this.changes().some((x) => x < (this.value ?? max + 1))),
      slider,
      button("ed.history.next", "history-next", () => this.next(), this.value === null),
      label,
      button("ed.history.back", "history-now", () => this.set(null), this.value === null));
    this.el.dataset.asOf = this.asOf() || "";
  }
}
