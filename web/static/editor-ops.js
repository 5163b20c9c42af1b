// The editor's unsaved steps: each is one operation of the area-editing API with the server's
// preview of it. Saved in order, each with If-Match from the ETags the page read; undo drops
// the last one. Nothing here computes geometry: the server's preview is the only truth.

import { request, ApiError } from "./api.js";

/** Operations that change ground (the others change names or the roster only). */
export const GEOMETRY_OPS = new Set(["split", "merge", "reshape", "move", "retire"]);

/** The codes an operation names (those whose ETags go in If-Match). */
export function namedCodes(op) {
  return op.codes ? [...op.codes] : [op.code];
}

/** `"<code>@<version>"`, the ETag the server gives an area's current version. */
export function etagOf(code, version) {
  return `"${code}@${version}"`;
}

function affectedCodes(result, changes) {
  return (result?.affected?.features || [])
    .filter((f) => !changes || changes.has(f.properties.change))
    .map((f) => f.properties.code);
}

export class PendingEdits {
  constructor() {
    this.steps = [];  // {op, result}
  }

  get length() { return this.steps.length; }

  /**
   * The first code that makes ``op`` depend on an earlier unsaved step (its preview is computed
   * on the saved state, so it could not see that step), or null. ``result`` is op's preview.
   */
  blocker(op, result) {
    const named = new Set(namedCodes(op).concat(op.to || []));
    const touched = new Set(affectedCodes(result));
    const geometric = GEOMETRY_OPS.has(op.op);
    for (const step of this.steps) {
      const createdOrRetired = affectedCodes(step.result, new Set(["created", "retired"]));
      for (const code of createdOrRetired) if (named.has(code)) return code;
      if (geometric && GEOMETRY_OPS.has(step.op.op)) {
        for (const code of affectedCodes(step.result)) if (named.has(code) || touched.has(code)) return code;
      }
    }
    return null;
  }

  push(op, result) { this.steps.push({ op, result }); }

  pop() { return this.steps.pop(); }

  clear() { this.steps = []; }

  /** Every area the unsaved steps change, as it will be (a later step wins). */
  affected() {
    const out = new Map();
    for (const step of this.steps) {
      for (const f of step.result?.affected?.features || []) out.set(f.properties.code, f);
    }
    return [...out.values()];
  }

  violations() {
    return this.steps.flatMap((s) => s.result?.violations?.features || []);
  }

  /**
   * Save the steps in order. ``etags`` (Map code -> ETag) is read for If-Match and updated
   * from each saved result. Resolves to {saved, rerouted, created, retired} (the grid codes the
   * steps created and retired: posters to print, posters on walls now leading to successors);
   * on a failure throws the ApiError
   * with ``saved`` (how many steps were saved before it) attached. Saved steps leave the stack.
   */
  async save(etags, reason) {
    let saved = 0;
    let rerouted = 0;
    const created = new Set();
    const retired = new Set();
    while (this.steps.length) {
      const { op } = this.steps[0];
      const ifMatch = namedCodes(op).map((c) => etags.get(c)).filter(Boolean).join(", ");
      const body = reason ? { ...op, reason } : op;
      let res;
      try {
        res = await request("/api/areas/edits", { method: "POST", body, headers: ifMatch ? { "If-Match": ifMatch } : {} });
      } catch (e) {
        if (e instanceof ApiError) e.saved = saved;
        throw e;
      }
      const result = await res.json();
      for (const f of result.affected?.features || []) {
        const p = f.properties;
        if (p.change === "retired") etags.delete(p.code);
        else if (p.version != null) etags.set(p.code, etagOf(p.code, p.version));
        if (p.kind === "grid" && p.change === "created") created.add(p.code);
        if (p.kind === "grid" && p.change === "retired") { retired.add(p.code); created.delete(p.code); }
      }
      rerouted += Number(result.rerouted) || 0;
      this.steps.shift();
      saved += 1;
    }
    return { saved, rerouted, created: [...created], retired: [...retired] };
  }
}
