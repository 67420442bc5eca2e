// The regulator's view by region: installed units, those overdue for an inspection or a pressure test, and those past
// their service life, per province, city and county (GET /api/v1/service/regions), on the map of China with the sales
// map's drill-down. What a member sees is what the API shows it: a regulator every unit, a manufacturer its own
// products; other roles get the API's 403, shown as such.
import { h, api, fmt, regionLabel, problemText, geo, MUNICIPALITIES } from './app.js';
import { t } from './i18n.js';

const MEASURES = ['installed', 'overdue', 'expired'];
const COLOURS = {
  installed: ['#eef5f1', '#7fc4a4', '#0b6e4f'], overdue: ['#fdf1ef', '#ee9a86', '#b3261e'], expired: ['#f4f1fa', '#b7a3d9', '#5b3f95'],
};
const state = { measure: 'overdue', path: [] }; // path: [] | [province] | [province, city]

export async function renderServiceMap() {
  const view = document.getElementById('view');
  const form = h('form', { id: 'service-form' },
    h('label', {}, t('svc.measure'), h('select', { name: 'measure' },
      MEASURES.map((m) => h('option', { value: m, selected: m === state.measure }, t(`svc.${m}`))))));
  form.addEventListener('change', () => { state.measure = new FormData(form).get('measure'); draw(); });
  form.addEventListener('submit', (ev) => ev.preventDefault());
  const total = (m) => h('div', { class: 'card' }, h('div', { class: 'muted' }, t(`svc.${m}`)), h('div', { class: 'n', id: `svc-${m}` }, '—'));
  view.append(h('h1', {}, t('nav.service')), form,
    h('div', { class: 'cards' }, MEASURES.map(total)),
    h('div', { class: 'crumbs', id: 'service-crumbs' }), h('p', { class: 'error', id: 'service-error', role: 'alert' }),
    h('div', { class: 'chart', id: 'service-map' }), h('p', { class: 'muted', id: 'service-map-note' }),
    h('table', { id: 'service-regions' },
      h('thead', {}, h('tr', {}, h('th', {}, t('map.region')), MEASURES.map((m) => h('th', { class: 'num' }, t(`svc.${m}`))))), h('tbody')),
    h('p', { class: 'muted' }, t('svc.note')));
  await draw();
}

async function draw() {
  const mapEl = document.getElementById('service-map');
  if (!mapEl) return; // the page was left meanwhile
  const [province, city] = state.path;
  const level = city ? 'county' : province ? (MUNICIPALITIES.has(province) ? 'county' : 'city') : 'province';
  const q = new URLSearchParams({ level });
  if (city ?? province) q.set('region', city ?? province);
  const error = document.getElementById('service-error');
  error.textContent = '';
  let data;
  try { data = await api(`/api/v1/service/regions?${q}`); } catch (e) {
    error.textContent = problemText(e);
    mapEl.hidden = true;
    return;
  }
  mapEl.hidden = false;
  for (const m of MEASURES) document.getElementById(`svc-${m}`).textContent = fmt(data[m]);

  // Breadcrumbs: China › province › city.
  const crumbs = document.getElementById('service-crumbs');
  crumbs.replaceChildren(h('button', { type: 'button', onclick: () => { state.path = []; draw(); } }, t('map.china')));
  for (let i = 0; i < state.path.length; i++) {
    const code = state.path[i];
    crumbs.append(' › ', h('button', { type: 'button', dataset: { code }, onclick: () => { state.path = state.path.slice(0, i + 1); draw(); } }, code.padEnd(6, '0')));
  }

  const measure = state.measure;
  const label = (row) => (row ? `${regionLabel(row)}\n${MEASURES.map((m) => `${t(`svc.${m}`)}: ${fmt(row[m])}`).join('\n')}` : '');
  const chart = window.echarts.getInstanceByDom(mapEl) ?? window.echarts.init(mapEl);
  chart.off('click');
  const mapName = city ?? province ?? 'china';
  const shapes = await geo(mapName);
  const note = document.getElementById('service-map-note');
  note.textContent = '';
  const rows = data.regions.filter((r) => r.regionCode);
  const coloured = rows.filter((r) => r[measure] > 0).map((r) => r.regionCode);
  if (shapes) {
    const byCode = new Map(rows.map((r) => [r.regionCode, r]));
    const items = shapes.features.map((f) => {
      const row = byCode.get(String(f.id));
      return { name: f.properties.name, value: row?.[measure] ?? 0, code: String(f.id), label: row ? label(row) : f.properties.name };
    });
    const max = Math.max(1, ...items.map((i) => i.value));
    chart.setOption({
      tooltip: { trigger: 'item', renderMode: 'richText', formatter: (p) => p.data?.label ?? p.name },
      visualMap: { min: 0, max, left: 'left', bottom: 10, calculable: true, inRange: { color: COLOURS[measure] }, text: [fmt(max), '0'] },
      series: [{ type: 'map', map: `trace-${mapName}`, roam: true, data: items, emphasis: { label: { show: false } } }],
    }, { notMerge: true });
    chart.on('click', (p) => { if (p.data?.code) drill(p.data.code); });
  } else {
    // A region without bundled shapes (Taiwan below the province): bars, as the sales map does.
    note.textContent = t('map.noShapes');
    chart.setOption({
      tooltip: { trigger: 'axis', renderMode: 'richText' }, grid: { left: 100, right: 20, top: 20, bottom: 30 },
      xAxis: { type: 'value', minInterval: 1 }, yAxis: { type: 'category', data: rows.map(regionLabel).reverse() },
      series: [{ type: 'bar', data: rows.map((r) => r[measure]).reverse(), itemStyle: { color: COLOURS[measure][2] } }],
    }, { notMerge: true });
  }
  Object.assign(mapEl.dataset, { level, region: city ?? province ?? '', measure, coloured: coloured.join(',') });

  const tbody = document.querySelector('#service-regions tbody');
  tbody.replaceChildren(...data.regions.map((r) => h('tr', { dataset: { code: r.regionCode ?? '' } },
    h('td', {}, r.regionCode && level !== 'county'
      ? h('button', { type: 'button', class: 'drill', dataset: { code: r.regionCode }, onclick: () => drill(r.regionCode) }, regionLabel(r))
      : regionLabel(r), h('span', { class: 'muted mono' }, ` ${r.regionCode ?? ''}`)),
    MEASURES.map((m) => h('td', { class: `num ${m}` }, fmt(r[m]))))));
}

function drill(code6) {
  const [province, city] = state.path;
  if (city) return;
  if (!province) state.path = [code6.slice(0, 2)];
  else if (!MUNICIPALITIES.has(province)) state.path = [province, code6.slice(0, 4)];
  else return;
  draw();
}
