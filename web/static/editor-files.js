// The editor's files: upload a layer (dry run report first, then apply) and export downloads,
// built from the server's own /openapi.json description of POST /api/areas/import and
// GET /api/areas/export (so the form follows the API), and authenticated file downloads.

import { download as apiDownload, request } from "./api.js";
import { h, replace } from "./dom.js";
import { errorText, t, tOr } from "./i18n.js";

const IMPORT = "/api/areas/import";
const EXPORT = "/api/areas/export";

/** The shared authenticated download (api.js), with a failure shown in the editor's status line. */
export async function download(url, filename, status) {
  try {
    await apiDownload(url, filename);
  } catch (e) {
    status("error", null, { text: `${t("ed.download.failed")}: ${errorText(e)}` });
  }
}

function resolve(openapi, schema) {
  let s = schema || {};
  for (let i = 0; i < 5 && s.$ref; i += 1) {
    const name = s.$ref.split("/").pop();
    s = openapi.components?.schemas?.[name] || {};
  }
  if (Array.isArray(s.anyOf)) {
    const real = s.anyOf.map((x) => resolve(openapi, x)).find((x) => x.type !== "null");
    return { ...real, default: s.default ?? real?.default };
  }
  return s;
}

/** [{name, in, schema}] of an operation: query parameters, then multipart fields. */
function fieldsOf(openapi, path, method) {
  const op = openapi.paths?.[path]?.[method];
  if (!op) return null;
  const out = (op.parameters || []).filter((p) => p.in === "query")
    .map((p) => ({ name: p.name, in: "query", required: Boolean(p.required), schema: resolve(openapi, p.schema) }));
  const form = op.requestBody?.content?.["multipart/form-data"]?.schema;
  if (form) {
    const s = resolve(openapi, form);
    for (const [name, prop] of Object.entries(s.properties || {})) {
      out.push({ name, in: "form", required: (s.required || []).includes(name), schema: resolve(openapi, prop) });
    }
  }
  return out;
}

const isFile = (f) => f.schema.format === "binary" || f.schema.contentMediaType === "application/octet-stream";
const isDryRun = (f) => /^dry_?run$/.test(f.name);

export class FilesPanel {
  constructor(el, { openapi, editable, status, selectedParent, asOf, onApplied }) {
    Object.assign(this, { el, openapi, editable, status, selectedParent, asOf, onApplied });
    this.exportFields = fieldsOf(openapi, EXPORT, "get");
    this.importFields = fieldsOf(openapi, IMPORT, "post");
    this.report = null;
    this.render();
  }

  prefill(f) {
    if (["kind", "layer"].includes(f.name)) return "grid";
    if (f.name === "parent") return this.selectedParent() || "";
    if (f.name === "as_of") return this.asOf() || "";
    return f.schema.default ?? "";
  }

  input(f, prefix) {
    const id = `${prefix}-${f.name}`;
    const testid = `${prefix}-${f.name}`;
    let control;
    if (isFile(f)) {
      control = h("input", { id, type: "file", dataset: { testid }, accept: ".geojson,.json,.gpkg,.zip,.kml" });
    } else if (Array.isArray(f.schema.enum)) {
      const value = String(this.prefill(f) || "");
      control = h("select", { id, dataset: { testid } },
        f.required ? null : h("option", { value: "" }, "—"),
        f.schema.enum.map((v) => h("option", { value: String(v), selected: String(v) === value || null }, String(v))));
    } else if (f.schema.type === "boolean") {
      control = h("input", { id, type: "checkbox", dataset: { testid }, checked: this.prefill(f) === true || null });
    } else {
      control = h("input", { id, dataset: { testid }, value: String(this.prefill(f) ?? ""),
        oninput: (e) => { e.target.dataset.touched = "1"; } });
    }
    const required = f.required && !isDryRun(f);
    if (required) control.required = true;
    return h("label", { class: `field compact${control.type === "checkbox" ? " ed-check" : ""}` },
      h("span", {}, tOr(`ed.files.field.${f.name}`, f.name),
        required ? h("span", { class: "required", dataset: { testid: `${testid}-required` } }, ` ${t("ed.files.required")}`) : null),
      control);
  }

  values(fields, prefix) {
    const out = [];
    for (const f of fields) {
      if (isDryRun(f)) continue;
      const el = document.getElementById(`${prefix}-${f.name}`);
      if (!el) continue;
      if (isFile(f)) { if (el.files[0]) out.push([f, el.files[0]]); continue; }
      const v = el.type === "checkbox" ? (el.checked ? "true" : "") : el.value.trim();
      if (v !== "") out.push([f, v]);
    }
    return out;
  }

  render() {
    if (!this.exportFields && !this.importFields) {
      replace(this.el, h("p", { class: "muted small", dataset: { testid: "files-unavailable" } }, t("ed.files.unavailable")));
      return;
    }
    const parts = [];
    if (this.importFields && this.editable) {
      const shown = this.importFields.filter((f) => !isDryRun(f));
      parts.push(h("div", { class: "ed-files-block", dataset: { testid: "import-form" } },
        h("div", { class: "ed-files-title" }, t("ed.files.upload")),
        shown.map((f) => this.input(f, "imp")),
        h("div", { class: "ed-row" },
          h("button", { type: "button", class: "btn-action", dataset: { testid: "import-dry-run" }, onclick: () => this.upload(true) }, t("ed.files.dry_run")),
          h("button", { type: "button", class: "btn-action", dataset: { testid: "import-apply" }, onclick: () => this.upload(false),
            disabled: !(this.report && this.report.ok) || null }, t("ed.files.apply"))),
        h("div", { id: "imp-report", dataset: { testid: "import-report" } }, this.reportView())));
    }
    if (this.exportFields) {
      parts.push(h("div", { class: "ed-files-block", dataset: { testid: "export-form" } },
        h("div", { class: "ed-files-title" }, t("ed.files.export")),
        this.exportFields.map((f) => this.input(f, "exp")),
        h("button", { type: "button", class: "btn-action", dataset: { testid: "export-download" }, onclick: () => this.exportFile() }, t("ed.files.export"))));
    }
    replace(this.el, ...parts);
  }

  /** Follow the page's selection and history time in the fields the user has not typed in. */
  sync() {
    for (const prefix of ["imp", "exp"]) {
      for (const name of ["parent", "as_of"]) {
        const el = document.getElementById(`${prefix}-${name}`);
        if (el && !el.dataset.touched) el.value = (name === "parent" ? this.selectedParent() : this.asOf()) || "";
      }
    }
  }

  async exportFile() {
    const q = new URLSearchParams();
    for (const [f, v] of this.values(this.exportFields, "exp")) q.set(f.name, v);
    await download(`${EXPORT}?${q}`, null, this.status);  // the server names the file (layer, date, extension)
  }

  async upload(dryRun) {
    const fields = this.importFields;
    const values = this.values(fields, "imp");
    if (!values.some(([f]) => isFile(f))) return this.status("warn", "ed.files.need_file");
    const missing = fields.find((f) => f.required && !isDryRun(f) && !values.some(([g]) => g === f));
    if (missing) return this.status("warn", "ed.files.need_field", { field: tOr(`ed.files.field.${missing.name}`, missing.name) });
    const q = new URLSearchParams();
    const form = new FormData();
    for (const [f, v] of values) {
      if (f.in === "query") q.set(f.name, v);
      else form.append(f.name, v);
    }
    const dry = fields.find(isDryRun);
    if (dry && dry.in === "query") q.set(dry.name, String(dryRun));
    else if (dry) form.append(dry.name, String(dryRun));
    try {
      const res = await request(`${IMPORT}${q.toString() ? `?${q}` : ""}`, { method: "POST", body: form });
      const body = await res.json();
      this.report = { ok: !(body.summary && body.summary.errors), dryRun, body };
      if (!dryRun && body.applied) {
        this.status("ok", "ed.files.applied");
        await this.onApplied();
      }
    } catch (e) {
      this.report = { ok: false, dryRun, body: e.body || { detail: e.detail, errors: e.errors || [] } };
    }
    this.render();
    return null;
  }

  /** The server's ImportReport: counts, then every problem with its row (or the error document). */
  reportView() {
    const r = this.report;
    if (!r) return null;
    const body = r.body || {};
    const problems = [];
    for (const x of body.errors || []) problems.push(x);
    for (const f of body.features || []) {
      for (const p of f.problems || []) problems.push({ row: f.row, code: f.code, ...p });
    }
    for (const p of body.layer_problems || []) problems.push({ row: (p.rows || []).join(","), code: (p.codes || []).join(","), ...p });
    const s = body.summary;
    const line = (p) => [p.row != null && p.row !== "" ? t("ed.files.row", { row: p.row }) : null, p.code,
      p.field ? tOr(`ed.files.field.${p.field}`, p.field) : null,
      p.reason, p.detail].filter((x) => x !== null && x !== undefined && x !== "").join(" · ");
    const counts = s ? ["created", "changed", "unchanged", "retired", "missing"]
      .filter((k) => s[k]).map((k) => `${tOr(`ed.change.${k}`, k)} ${s[k]}`).join(" · ") : "";
    const ok = r.ok && !problems.length;
    return h("div", { class: `notice${ok ? "" : " notice-error"}`, dataset: { ok: String(ok), applied: String(Boolean(body.applied)) } },
      ok ? (body.applied ? t("ed.files.applied") : t("ed.files.report_ok", { n: s?.features ?? 0 }))
        : s ? t("ed.files.report_bad", { n: s.features, bad: problems.length || 1 })
          : [t("ed.files.refused"), problems.length ? null : ` ${body.detail || ""}`],  // refused before reading
      counts ? h("div", { class: "small" }, counts) : null,
      problems.length ? h("ul", {}, problems.map((p) => h("li", { dataset: { testid: "import-problem" } }, line(p)))) : null,
      this.fixesView(body));
  }

  /** The fixes along the parents' outlines (snap_tolerance_m), each for the grid manager to look at. */
  fixesView(body) {
    const fixes = body.snapped || [];
    if (!fixes.length) return null;
    const line = (x) => [t("ed.files.row", { row: x.row }), x.code, tOr(`ed.snap.${x.fix}`, x.fix),
      t("ed.files.snap_line", { area: x.area_m2.toFixed(1), width: x.width_m.toFixed(2),
        lon: x.lon.toFixed(6), lat: x.lat.toFixed(6) })].filter((v) => v).join(" · ");
    return h("div", { class: "small", dataset: { testid: "import-snapped" } },
      t("ed.files.snapped", { n: fixes.length, m: body.snap_tolerance_m }),
      h("ul", {}, fixes.map((x) => h("li", { dataset: { testid: "import-fix" } }, line(x)))));
  }
}
