// The report page's service worker: the page and what it needs load from the cache when the
// network is gone, so a resident can open the page, write the report and let it wait.
const CACHE = "gridgov-report-v4";
const SHELL = ["/report", "/static/report.js", "/config.json", "/static/map.js", "/static/gcj02.js", "/static/outbox.js", "/static/device.js", "/static/report.css", "/static/app.css",
  "/static/i18n.js", "/static/dom.js", "/static/page.js", "/static/api.js", "/vendor/leaflet/leaflet.js",
  "/vendor/leaflet/leaflet.css", "/i18n.json"];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname === "/api/public/base") {  // the offline base's outlines: the last ones seen, when offline
    e.respondWith(fetch(e.request).then((res) => {
      if (res.ok) { const copy = res.clone(); caches.open(CACHE).then((c) => c.put(e.request, copy)); }
      return res;
    }).catch(() => caches.match(e.request)));
    return;
  }
  if (url.pathname.startsWith("/api/")) return;
  const key = url.pathname === "/report" ? "/report" : e.request;  // the page, whatever its ?g=&s=
  e.respondWith(fetch(e.request).then((res) => {
    if (res.ok && SHELL.includes(url.pathname)) caches.open(CACHE).then((c) => c.put(key, res.clone()));
    return res;
  }).catch(() => caches.match(key)));
});
