// Interface text: Chinese first, English available (中/EN toggle, remembered locally).

const STRINGS = {
  zh: {
    "app.title": "网格化基层治理",
    "app.subtitle": "综合信息指挥平台",
    "app.logout": "退出",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.busy": "正在登录…",
    "login.foot": "仅限授权工作人员使用 · 所有操作均记录审计日志",
    "login.missing": "请输入用户名和密码",
    "login.failed": "登录失败",
    "login.wrong": "用户名或密码错误",
    "login.expired": "登录已过期，请重新登录",
    "error.network": "无法连接服务器",
    "layer.district": "区",
    "layer.streets": "街道/镇",
    "layer.communities": "社区/村",
    "layer.grids": "网格",
    "layer.zones": "片区",
    "layer.patrol": "巡区",
    "layer.stations": "联动工作站",
    "layer.units": "执法力量",
    "layer.incidents": "近期事件",
    "layer.route": "路由预览",
    "layer.loading": "加载中…",
    "layer.failed": "图层加载失败",
    "stats.grids": "网格",
    "stats.stations": "工作站",
    "stats.units": "可用力量",
    "stats.incidents": "近期事件",
    "stats.open": "未办结",
    "role.admin": "系统管理员",
    "role.dispatcher": "指挥调度员",
    "role.grid_manager": "网格管理员",
    "role.grid_worker": "网格员",
    "role.analyst": "分析/领导",
    "role.officer": "执法人员",
    "status.new": "新上报",
    "status.open": "办理中",
    "status.triaged": "已研判",
    "status.assigned": "已交办",
    "status.dispatched": "已派遣",
    "status.accepted": "已接单",
    "status.on_scene": "已到场",
    "status.in_progress": "处置中",
    "status.escalated": "已上报",
    "status.resolved": "已处置",
    "status.closed": "已办结",
    "status.cancelled": "已撤销",
    "status.rejected": "已退回",
    "unit.available": "可用",
    "unit.busy": "忙碌",
    "unit.off_duty": "休息",
    "unit.stale": "定位过期",
    "priority.urgent": "特急",
    "priority.high": "紧急",
    "priority.normal": "一般",
    "priority.low": "低",
    "legend.incidents": "事件状态",
    "legend.units": "执法力量",
    "legend.open": "待处置",
    "legend.working": "处置中",
    "legend.closed": "已办结",
    "f.category": "类别",
    "f.status": "状态",
    "f.priority": "优先级",
    "f.reported": "上报时间",
    "f.grid": "网格",
    "f.community": "社区/村",
    "f.street": "街道/镇",
    "f.district": "区",
    "f.zone": "片区",
    "f.station": "联动工作站",
    "f.department": "部门",
    "f.departments": "进驻部门",
    "f.position_at": "定位时间",
    "f.households": "户数",
    "f.code": "编码",
    "f.near_boundary": "临近网格边界",
    "f.unrouted": "未落入网格",
    "route.category": "事件类别",
    "route.responsible": "责任部门：",
    "route.hint": "点击地图任意位置，预览该点事件的派单路由：网格、社区、街道、片区工作站与最近的执法力量。",
    "route.loading": "正在计算路由…",
    "route.title": "派单路由预览",
    "route.point": "位置",
    "route.hierarchy": "属地层级",
    "route.zone": "片区与工作站",
    "route.patrol": "巡区",
    "route.units": "最近可用执法力量",
    "route.none": "无",
    "poster.download": "网格二维码海报",
    "poster.failed": "海报下载失败",
    "route.no_patrol": "该点不在责任部门的巡区内",
    "route.no_units": "无可用单位",
    "route.units_hidden": "本账号不显示执法力量。",
    "route.rank": "第{n}近",
    "route.age": "定位 {t}",
    "route.skipped": "已跳过忙碌/休息 {busy} 个、定位过期 {stale} 个",
    "route.error": "路由失败",
    "route.flags": "提示",
    "flag.unrouted": "该点不在任何网格内：事件将保留并进入“未分派”队列。最近的网格是 {grid}，距离 {d}。",
    "flag.unrouted_nogrid": "该点不在任何网格内：事件将保留并进入“未分派”队列。",
    "flag.shared_edge": "该点恰在相邻网格的共用边界上，按规则归入编码最小的网格 {grid}。",
    "flag.near_boundary": "该点距网格边界不足 {tol}，两个（或多个）候选网格都已列出，需调度员确认：",
    "flag.no_available_unit": "以下责任部门当前没有可用且定位有效的执法力量：{depts}。",
    "time.s": "{n} 秒前",
    "time.m": "{n} 分钟前",
    "time.h": "{n} 小时前",
    "time.d": "{n} 天前",
    "m": "{n} 米",
    "map.noaccess": "您的账号没有地图查看权限。",
    "route.unavailable": "本账号不提供派单路由预览；地图图层可正常查看。",
  },
  en: {
    "app.title": "Grid Governance",
    "app.subtitle": "Integrated command platform",
    "app.logout": "Log out",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Log in",
    "login.busy": "Logging in…",
    "login.foot": "Authorised staff only · every action is audited",
    "login.missing": "Enter your username and password",
    "login.failed": "Login failed",
    "login.wrong": "Wrong username or password",
    "login.expired": "Your session has expired, please log in again",
    "error.network": "Cannot reach the server",
    "layer.district": "District",
    "layer.streets": "Streets / towns",
    "layer.communities": "Communities / villages",
    "layer.grids": "Grids",
    "layer.zones": "Zones",
    "layer.patrol": "Patrol zones",
    "layer.stations": "Linkage workstations",
    "layer.units": "Enforcement units",
    "layer.incidents": "Recent incidents",
    "layer.route": "Routing preview",
    "layer.loading": "Loading…",
    "layer.failed": "Layer failed to load",
    "stats.grids": "Grids",
    "stats.stations": "Stations",
    "stats.units": "Units available",
    "stats.incidents": "Recent incidents",
    "stats.open": "open",
    "role.admin": "Administrator",
    "role.dispatcher": "Dispatcher",
    "role.grid_manager": "Grid manager",
    "role.grid_worker": "Grid worker",
    "role.analyst": "Analyst / leader",
    "role.officer": "Officer",
    "status.new": "New",
    "status.open": "Open",
    "status.triaged": "Triaged",
    "status.assigned": "Assigned",
    "status.dispatched": "Dispatched",
    "status.accepted": "Accepted",
    "status.on_scene": "On scene",
    "status.in_progress": "In progress",
    "status.escalated": "Escalated",
    "status.resolved": "Resolved",
    "status.closed": "Closed",
    "status.cancelled": "Cancelled",
    "status.rejected": "Rejected",
    "unit.available": "Available",
    "unit.busy": "Busy",
    "unit.off_duty": "Off duty",
    "unit.stale": "Position stale",
    "priority.urgent": "Urgent",
    "priority.high": "High",
    "priority.normal": "Normal",
    "priority.low": "Low",
    "legend.incidents": "Incidents",
    "legend.units": "Units",
    "legend.open": "To handle",
    "legend.working": "In progress",
    "legend.closed": "Closed",
    "f.category": "Category",
    "f.status": "Status",
    "f.priority": "Priority",
    "f.reported": "Reported",
    "f.grid": "Grid",
    "f.community": "Community",
    "f.street": "Street / town",
    "f.district": "District",
    "f.zone": "Zone",
    "f.station": "Workstation",
    "f.department": "Department",
    "f.departments": "Departments",
    "f.position_at": "Position at",
    "f.households": "Households",
    "f.code": "Code",
    "f.near_boundary": "Near a grid boundary",
    "f.unrouted": "Outside every grid",
    "route.category": "Incident category",
    "route.responsible": "Responsible: ",
    "route.hint": "Click anywhere on the map to preview where a report there would go: grid, community, street, zone workstation and the nearest enforcement units.",
    "route.loading": "Routing…",
    "route.title": "Routing preview",
    "route.point": "Point",
    "route.hierarchy": "Administrative hierarchy",
    "route.zone": "Zone and workstation",
    "route.patrol": "Patrol zones",
    "route.units": "Nearest available units",
    "route.none": "none",
    "poster.download": "Grid QR poster",
    "poster.failed": "Poster download failed",
    "route.no_patrol": "Not inside a patrol zone of the responsible departments",
    "route.no_units": "no unit available",
    "route.units_hidden": "Enforcement units are not shown for this account.",
    "route.rank": "#{n}",
    "route.age": "position {t}",
    "route.skipped": "skipped {busy} busy/off duty and {stale} stale",
    "route.error": "Routing failed",
    "route.flags": "Notes",
    "flag.unrouted": "Outside every grid: the report is kept and queued as unrouted. Nearest grid: {grid}, {d} away.",
    "flag.unrouted_nogrid": "Outside every grid: the report is kept and queued as unrouted.",
    "flag.shared_edge": "The point lies exactly on an edge shared by grids; by the tie-break rule it goes to the lowest code, {grid}.",
    "flag.near_boundary": "Within {tol} of a grid boundary: all candidate grids are listed and the dispatcher confirms:",
    "flag.no_available_unit": "No available unit with a fresh position for: {depts}.",
    "time.s": "{n} s ago",
    "time.m": "{n} min ago",
    "time.h": "{n} h ago",
    "time.d": "{n} d ago",
    "m": "{n} m",
    "map.noaccess": "Your account may not view the map.",
    "route.unavailable": "Routing preview is not available for this account; the map layers are.",
  },
};

/** Pages add their own strings ({zh: {...}, en: {...}}) from their own module. */
export function addStrings(extra) {
  for (const l of ["zh", "en"]) Object.assign(STRINGS[l], extra[l] || {});
}

const listeners = new Set();
let lang = (() => {
  try { return localStorage.getItem("gridgov.lang") === "en" ? "en" : "zh"; } catch { return "zh"; }
})();

export function getLang() { return lang; }

/** Translate a key, filling {placeholders} from vars (values are plain text). */
export function t(key, vars = {}) {
  const s = STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/** Translate a key if known, else return the fallback (e.g. an unknown status code). */
export function tOr(key, fallback) {
  return (key in STRINGS[lang] || key in STRINGS.zh) ? t(key) : fallback;
}

/** Local name of a record with name / name_en. */
export function localName(rec) {
  if (!rec) return "";
  return (lang === "en" && rec.name_en) ? rec.name_en : (rec.name ?? rec.code ?? "");
}

export function applyI18n(root = document) {
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  document.title = `${t("app.title")} · gridgov`;
}

export function setLang(next) {
  lang = next === "en" ? "en" : "zh";
  try { localStorage.setItem("gridgov.lang", lang); } catch { /* private mode */ }
  applyI18n();
  for (const fn of listeners) fn(lang);
}

export function toggleLang() { setLang(lang === "zh" ? "en" : "zh"); }

export function onLangChange(fn) { listeners.add(fn); }

/** Join a list the local way: 、 in Chinese, ", " in English. */
export function list(items) {
  return items.filter((x) => x !== null && x !== undefined && x !== "").join(lang === "en" ? ", " : "、");
}

export function metres(n) {
  const v = Math.round(Number(n));
  return t("m", { n: v.toLocaleString(lang === "en" ? "en-US" : "zh-CN") });
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
  return d.toLocaleString(lang === "en" ? "en-GB" : "zh-CN", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  });
}
