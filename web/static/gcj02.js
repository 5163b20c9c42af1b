// WGS-84 <-> GCJ-02 (the datum of AMap, Tencent and other Chinese tile sources), for display only:
// the same formulas as spatial/crs.py (tested against its values in tests/e2e/test_basemap.py).
// Data stays WGS-84 everywhere; a map whose base tiles are GCJ-02 draws it shifted (map.js).

const A = 6378245.0;
const EE = 0.00669342162296594323;

export function outOfChina(lon, lat) {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function delta(lon, lat) {
  const x = lon - 105.0;
  const y = lat - 35.0;
  const sqrtAbsX = Math.sqrt(Math.abs(x));
  const common = (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
  let dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrtAbsX + common;
  dlat += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
  dlat += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320.0 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
  let dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrtAbsX + common;
  dlon += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
  dlon += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
  const radlat = lat / 180.0 * Math.PI;
  const magic = 1.0 - EE * Math.sin(radlat) ** 2;
  const sqrtMagic = Math.sqrt(magic);
  return [
    (dlon * 180.0) / (A / sqrtMagic * Math.cos(radlat) * Math.PI),
    (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrtMagic) * Math.PI),
  ];
}

/** [lon, lat] in GCJ-02 of a WGS-84 position (unchanged outside China). */
export function wgs84ToGcj02(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  const [dlon, dlat] = delta(lon, lat);
  return [lon + dlon, lat + dlat];
}

/** [lon, lat] in WGS-84 of a GCJ-02 position: the exact (iterated) inverse, as spatial/crs.py. */
export function gcj02ToWgs84(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  let [dlon, dlat] = delta(lon, lat);
  let w = [lon - dlon, lat - dlat];
  for (let i = 0; i < 50; i += 1) {
    [dlon, dlat] = delta(w[0], w[1]);
    const eLon = w[0] + dlon - lon;
    const eLat = w[1] + dlat - lat;
    w = [w[0] - eLon, w[1] - eLat];
    if (Math.abs(eLon) < 1e-9 && Math.abs(eLat) < 1e-9) break;
  }
  return w;
}
