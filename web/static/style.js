// Colours and symbols shared by the layers, the legend and the routing preview.

export const STATUS_GROUP = {
  new: "open", open: "open", reported: "open", rejected: "open",
  triaged: "working", assigned: "working", dispatched: "working", accepted: "working",
  on_scene: "working", in_progress: "working", escalated: "working",
  resolved: "closed", closed: "closed", cancelled: "closed", verified: "closed",
};

export const INCIDENT_COLOURS = { open: "#e5302a", working: "#f5a300", closed: "#7d93aa" };

export const UNIT_COLOURS = { available: "#1f9d55", busy: "#e07b16", off_duty: "#6f7d8c", stale: "#b9c0c8" };

export function incidentGroup(status) { return STATUS_GROUP[status] || "open"; }

export const DEPARTMENT_COLOURS = {
  police: "#1f5fbf", enforcement: "#b2452c", market: "#2b8a6e", fire: "#d0342c",
  traffic: "#c48a00", planning: "#6b4fa3", emergency: "#d35400", environment: "#2f8f3a",
};

// Soft fills that tell neighbouring streets apart on a plain (offline) background.
export const STREET_FILLS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2",
  "#edc948", "#ff9da7", "#9c755f", "#e15759", "#8cd17d", "#bab0ac", "#86bcb6"];

export function departmentColour(code) { return DEPARTMENT_COLOURS[code] || "#555f6b"; }
