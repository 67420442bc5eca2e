// The members' console: plain ES modules over the same /api/v1 endpoints as any client, authenticated by the
// console's HttpOnly session cookie; every change carries X-Trace-Console: 1 (the API's CSRF guard for cookie sessions).
import { t, lang, setLang, translate } from './i18n.js';
import { renderServiceMap } from './service-map.js';

let me = null;
const view = document.getElementById('view');

// ---- helpers ---------------------------------------------------------------------------------------------------
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

class ApiError extends Error {
  constructor(status, problem) { super(problem?.detail ?? problem?.title ?? `HTTP ${status}`); this.status = status; this.problem = problem; }
}

export async function api(path, { method = 'GET', body } = {}) {
  const headers = { 'X-Trace-Console': '1', Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401 && !path.startsWith('/console/')) { showSignIn(); throw new ApiError(401); }
  if (r.status === 204) return null;
  const data = r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text();
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

export const fmt = (n) => (n ?? 0).toLocaleString(lang === 'en' ? 'en-US' : 'zh-CN');
export const regionLabel = (row) => (lang === 'en' && row.regionNameEn ? row.regionNameEn : row.regionName);
const todayCst = () => new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
const daysBefore = (iso, n) => new Date(Date.parse(iso) - n * 86400e3).toISOString().slice(0, 10);

export function problemText(e) {
  if (e.status === 403) return t('forbidden');
  const errors = e.problem?.errors?.map((x) => `${x.field}: ${x.message}`).join('; ');
  return `${t('error')}: ${errors || e.message}`;
}

// ---- sign-in -----------------------------------------------------------------------------------------------------
function showSignIn() {
  me = null;
  document.getElementById('sign-in').hidden = false;
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('who').textContent = '';
  view.replaceChildren();
}

async function signedIn(session) {
  me = session;
  document.getElementById('sign-in').hidden = true;
  document.getElementById('nav').hidden = false;
  document.getElementById('sign-out').hidden = false;
  document.getElementById('who').textContent = `${session.name} · ${session.role}`;
  document.body.dataset.role = session.role;
  // Pages the API refuses to this role (data-roles on the link) are not offered.
  for (const a of document.querySelectorAll('nav a[data-roles]')) a.hidden = !a.dataset.roles.split(' ').includes(session.role);
  await route();
}

document.getElementById('sign-in-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = document.getElementById('api-key');
  const error = document.getElementById('sign-in-error');
  error.textContent = '';
  try {
    const session = await api('/console/session', { method: 'POST', body: { apiKey: input.value } });
    input.value = '';
    await signedIn(session);
  } catch (e) { error.textContent = e.status === 401 ? t('signIn.bad') : problemText(e); }
});

document.getElementById('sign-out').addEventListener('click', async () => {
  await api('/console/session', { method: 'DELETE' });
  showSignIn();
});

document.getElementById('lang-toggle').addEventListener('click', async () => {
  setLang(lang === 'en' ? 'zh-CN' : 'en');
  applyLang();
  if (me) await route();
});

function applyLang() {
  translate();
  document.getElementById('lang-toggle').textContent = lang === 'en' ? '中文' : 'English';
}

// ---- pages -------------------------------------------------------------------------------------------------------
const pages = {
  dashboard: renderDashboard, map: renderMap, alerts: renderAlerts, recalls: renderRecalls, anchors: renderAnchors,
  lookup: renderLookup, operations: renderOperations, service: renderServiceMap,
};

async function route() {
  if (!me) return;
  const name = (location.hash.replace(/^#\//, '').split('?')[0]) || 'dashboard';
  const link = document.querySelector(`nav a[href="#/${name}"]`);
  const page = link?.hidden ? renderDashboard : pages[name] ?? renderDashboard;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.getAttribute('href') === `#/${name}`);
  view.replaceChildren();
  try { await page(); } catch (e) { if (e.status !== 401) view.append(h('p', { class: 'error', role: 'alert' }, problemText(e))); }
}
window.addEventListener('hashchange', route);

const card = (id, label, value, small) =>
  h('div', { class: 'card' }, h('div', { class: 'muted' }, label), h('div', { class: 'n', id }, value), small ? h('div', { class: 'small', id: `${id}-detail` }, small) : null);

async function renderDashboard() {
  const o = await api('/api/v1/analytics/overview');
  const anchor = o.lastAnchor;
  view.append(
    h('h1', {}, t('nav.dashboard')),
    h('div', { class: 'cards' },
      card('events-today', t('dash.eventsToday'), fmt(o.eventsToday)),
      card('units-total', t('dash.units'), fmt(o.units)),
      card('awaiting-anchor', t('dash.awaiting'), fmt(o.eventsAwaitingAnchor)),
      card('last-anchor', t('dash.lastAnchor'), anchor ? `#${anchor.sequence} ${anchor.status}` : t('dash.none'),
        anchor ? `tx ${anchor.txHash ?? '—'} · block ${anchor.blockNumber ?? '—'}` : null),
      card('open-alerts', t('dash.openAlerts'), o.openAlerts === null ? '—' : fmt(o.openAlerts), o.openAlerts === null ? t('dash.notForRole') : null)),
    h('h2', {}, t('dash.byStatus')),
    h('table', { id: 'units-by-status' }, h('tbody', {},
      Object.entries(o.unitsByStatus).map(([status, n]) => h('tr', { dataset: { status } }, h('td', {}, status), h('td', { class: 'num' }, fmt(n)))))));
}

// ---- the map ------------------------------------------------------------------------------------------------------
export const MUNICIPALITIES = new Set(['11', '12', '31', '50', '81', '82']);
const mapState = { kind: 'sales', from: null, to: null, granularity: 'day', path: [] }; // path: [] | [province] | [province, city]
const geoCache = new Map();

export async function geo(name) {
  if (!geoCache.has(name)) {
    const r = await fetch(`/console/vendor/maps/${name}.json`);
    if (!r.ok) { geoCache.set(name, null); return null; }
    const json = await r.json();
    window.echarts.registerMap(`trace-${name}`, json);
    geoCache.set(name, json);
  }
  return geoCache.get(name);
}

async function renderMap() {
  mapState.to ??= todayCst();
  mapState.from ??= daysBefore(mapState.to, 364);
  const form = h('form', { id: 'map-form' },
    h('label', {}, t('map.kind'), h('select', { name: 'kind' }, ['sales', 'scans', 'alerts'].map((k) => h('option', { value: k, selected: k === mapState.kind }, t(`map.${k}`))))),
    h('label', {}, t('map.from'), h('input', { type: 'date', name: 'from', value: mapState.from })),
    h('label', {}, t('map.to'), h('input', { type: 'date', name: 'to', value: mapState.to })),
    h('label', {}, t('map.granularity'), h('select', { name: 'granularity' }, ['day', 'week', 'month'].map((g) => h('option', { value: g, selected: g === mapState.granularity }, t(`map.${g}`))))),
    h('button', { type: 'submit' }, t('map.show')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    Object.assign(mapState, { kind: f.get('kind'), from: f.get('from'), to: f.get('to'), granularity: f.get('granularity') });
    drawMap();
  });
  view.append(h('h1', {}, t('nav.map')), form, h('div', { class: 'crumbs', id: 'crumbs' }), h('p', { class: 'error', id: 'map-error', role: 'alert' }),
    h('div', { class: 'chart', id: 'map' }), h('p', { class: 'muted', id: 'map-note' }),
    h('h2', {}, t('map.trend')), h('div', { class: 'chart small', id: 'trend' }),
    h('table', { id: 'regions' }, h('thead', {}, h('tr', {}, h('th', {}, t('map.region')), h('th', { class: 'num' }, t('map.count')))), h('tbody')));
  await drawMap();
}

async function drawMap() {
  const [province, city] = mapState.path;
  const level = city ? 'county' : province ? (MUNICIPALITIES.has(province) ? 'county' : 'city') : 'province';
  const q = new URLSearchParams({ from: mapState.from, to: mapState.to, granularity: mapState.granularity, level });
  if (city ?? province) q.set('region', city ?? province);
  const mapEl = document.getElementById('map');
  document.getElementById('map-error').textContent = '';
  let data;
  try { data = await api(`/api/v1/analytics/${mapState.kind}?${q}`); } catch (e) { document.getElementById('map-error').textContent = problemText(e); return; }

  // Breadcrumbs: China › province › city.
  const crumbs = document.getElementById('crumbs');
  crumbs.replaceChildren(h('button', { type: 'button', onclick: () => { mapState.path = []; drawMap(); } }, t('map.china')));
  for (let i = 0; i < mapState.path.length; i++) {
    const code = mapState.path[i];
    crumbs.append(' › ', h('button', { type: 'button', dataset: { code }, onclick: () => { mapState.path = mapState.path.slice(0, i + 1); drawMap(); } },
      code.padEnd(6, '0')));
  }
  crumbs.append(h('strong', { id: 'map-title' }, ` ${t('map.total')}: ${fmt(data.total)}`));

  const chart = window.echarts.getInstanceByDom(mapEl) ?? window.echarts.init(mapEl);
  chart.off('click');
  const mapName = city ?? province ?? 'china';
  const shapes = mapName ? await geo(mapName) : null;
  const note = document.getElementById('map-note');
  note.textContent = '';
  const coloured = [];
  if (shapes) {
    const byCode = new Map(data.regions.filter((r) => r.regionCode).map((r) => [r.regionCode, r]));
    const items = shapes.features.map((f) => {
      const row = byCode.get(String(f.id));
      if (row && row.count > 0) coloured.push(row.regionCode);
      return { name: f.properties.name, value: row?.count ?? 0, code: String(f.id), label: row ? regionLabel(row) : f.properties.name };
    });
    const max = Math.max(1, ...items.map((i) => i.value));
    chart.setOption({
      tooltip: { trigger: 'item', renderMode: 'richText', formatter: (p) => `${p.data?.label ?? p.name}: ${fmt(p.data?.value)}` },
      visualMap: { min: 0, max, left: 'left', bottom: 10, calculable: true, inRange: { color: ['#eef5f1', '#7fc4a4', '#0b6e4f'] }, text: [fmt(max), '0'] },
      xAxis: undefined, yAxis: undefined,
      series: [{ type: 'map', map: `trace-${mapName}`, roam: true, data: items, emphasis: { label: { show: false } } }],
    }, { notMerge: true });
    chart.on('click', (p) => { if (p.data?.code) drill(p.data.code); });
  } else {
    // A region without bundled shapes (Taiwan's cities and counties carry no codes in the map data): bars.
    note.textContent = t('map.noShapes');
    const rows = data.regions.filter((r) => r.regionCode);
    chart.setOption({
      tooltip: { trigger: 'axis', renderMode: 'richText' }, grid: { left: 100, right: 20, top: 20, bottom: 30 },
      xAxis: { type: 'value' }, yAxis: { type: 'category', data: rows.map(regionLabel).reverse() },
      series: [{ type: 'bar', data: rows.map((r) => r.count).reverse(), itemStyle: { color: '#0b6e4f' } }],
    }, { notMerge: true });
    coloured.push(...rows.filter((r) => r.count > 0).map((r) => r.regionCode));
  }
  mapEl.dataset.level = level;
  mapEl.dataset.region = city ?? province ?? '';
  mapEl.dataset.coloured = coloured.join(',');
  mapEl.dataset.total = String(data.total);

  const trend = document.getElementById('trend');
  const trendChart = window.echarts.getInstanceByDom(trend) ?? window.echarts.init(trend);
  trendChart.setOption({
    tooltip: { trigger: 'axis', renderMode: 'richText' }, grid: { left: 50, right: 20, top: 20, bottom: 30 },
    xAxis: { type: 'category', data: data.periods.map((p) => p.period) }, yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'line', data: data.periods.map((p) => p.count), smooth: true, itemStyle: { color: '#0b6e4f' } }],
  }, { notMerge: true });
  trend.dataset.points = String(data.periods.length);

  const tbody = document.querySelector('#regions tbody');
  tbody.replaceChildren(...data.regions.map((r) => h('tr', { dataset: { code: r.regionCode ?? '' } },
    h('td', {}, r.regionCode && level !== 'county'
      ? h('button', { type: 'button', class: 'drill', dataset: { code: r.regionCode }, onclick: () => drill(r.regionCode) }, regionLabel(r))
      : regionLabel(r), h('span', { class: 'muted mono' }, ` ${r.regionCode ?? ''}`)),
    h('td', { class: 'num' }, fmt(r.count)))));
}

function drill(code6) {
  const [province, city] = mapState.path;
  if (city) return;
  if (!province) mapState.path = [code6.slice(0, 2)];
  else if (!MUNICIPALITIES.has(province)) mapState.path = [province, code6.slice(0, 4)];
  else return;
  drawMap();
}

// ---- alerts inbox ---------------------------------------------------------------------------------------------------
async function renderAlerts() {
  const form = h('form', { id: 'alerts-form' },
    h('label', {}, t('alerts.type'), h('select', { name: 'type' }, h('option', { value: '' }, t('alerts.all')),
      ['counterfeit', 'diversion', 'recall', 'hold', 'tamper'].map((x) => h('option', { value: x }, x)))),
    h('label', {}, t('alerts.region'), h('input', { name: 'region', inputmode: 'numeric', maxlength: 6, size: 8 })),
    h('label', {}, t('alerts.gtin'), h('input', { name: 'gtin', inputmode: 'numeric', maxlength: 14, size: 16 })),
    h('label', {}, t('alerts.state'), h('select', { name: 'handled' }, h('option', { value: 'false' }, t('alerts.open')),
      h('option', { value: 'true' }, t('alerts.handled')), h('option', { value: '' }, t('alerts.all')))),
    h('button', { type: 'submit' }, t('alerts.filter')));
  const table = h('table', { id: 'alerts' });
  const error = h('p', { class: 'error', role: 'alert' });
  async function load() {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    error.textContent = '';
    let page;
    try { page = await api(`/api/v1/alerts/inbox?${q}`); } catch (e) { error.textContent = problemText(e); table.replaceChildren(); return; }
    table.replaceChildren(h('thead', {}, h('tr', {}, h('th', {}, t('alerts.at')), h('th', {}, t('alerts.type')), h('th', {}, t('map.region')),
      h('th', { class: 'hide-phone' }, t('alerts.code')), h('th', {}, t('alerts.state')))),
    h('tbody', {}, page.items.length === 0 ? h('tr', {}, h('td', { colspan: 5, class: 'muted' }, t('alerts.empty'))) : page.items.map((a) => h('tr', { dataset: { id: a.id, type: a.type } },
      h('td', {}, new Date(a.at).toLocaleString(lang)), h('td', {}, a.type), h('td', {}, a.regionName ?? '—', h('span', { class: 'muted mono' }, ` ${a.regionCode ?? ''}`)),
      h('td', { class: 'mono hide-phone' }, a.epc ?? a.gtin ?? ''),
      h('td', {}, a.handled ? t('alerts.handled') : h('button', { type: 'button', class: 'handle', onclick: async () => { await api(`/api/v1/alerts/${a.id}/handled`, { method: 'POST' }); load(); } }, t('alerts.markHandled')))))));
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  view.append(h('h1', {}, t('nav.alerts')), form, error, table);
  await load();
}

// ---- recalls ---------------------------------------------------------------------------------------------------------
async function renderRecalls() {
  const result = h('div', { id: 'recall' });
  const error = h('p', { class: 'error', role: 'alert' });
  async function show(id) {
    error.textContent = '';
    let r;
    try { r = await api(`/api/v1/recalls/${encodeURIComponent(id)}`); } catch (e) { error.textContent = problemText(e); return; }
    result.replaceChildren(h('h2', {}, `${t('recalls.id')}: `, h('span', { id: 'recall-id', class: 'mono' }, r.id)),
      h('p', {}, `${r.gtin} / ${r.lot} — ${r.reason} · ${t('recalls.units')}: `, h('strong', { id: 'recall-units' }, fmt(r.units))),
      h('table', { id: 'recall-holders' }, h('thead', {}, h('tr', {}, h('th', {}, t('recalls.holder')), h('th', {}, t('recalls.status')), h('th', { class: 'num' }, t('recalls.units')))),
        h('tbody', {}, (r.byHolder ?? []).map((x) => h('tr', {}, h('td', {}, x.holderName ?? x.holderMemberId ?? x.holder ?? '—'), h('td', {}, x.status ?? ''), h('td', { class: 'num' }, fmt(x.count ?? x.units)))))),
      h('a', { href: `/api/v1/recalls/${encodeURIComponent(r.id)}/export.csv`, download: `recall-${r.id}.csv`, id: 'recall-csv' }, t('recalls.csv')));
  }
  const start = h('form', { id: 'recall-form' },
    h('label', {}, 'GTIN', h('input', { name: 'gtin', required: true, inputmode: 'numeric', maxlength: 14 })),
    h('label', {}, t('recalls.lot'), h('input', { name: 'lot', required: true, maxlength: 20 })),
    h('label', {}, t('recalls.reason'), h('input', { name: 'reason', required: true, maxlength: 500 })),
    h('button', { type: 'submit' }, t('recalls.start')));
  start.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = Object.fromEntries(new FormData(start));
    error.textContent = '';
    try { const r = await api('/api/v1/recalls', { method: 'POST', body: f }); await show(r.id); } catch (e) { error.textContent = problemText(e); }
  });
  const open = h('form', { id: 'recall-open' }, h('label', {}, t('recalls.id'), h('input', { name: 'id', required: true, maxlength: 100 })), h('button', { type: 'submit' }, t('recalls.open')));
  open.addEventListener('submit', (ev) => { ev.preventDefault(); show(new FormData(open).get('id')); });
  // Only a product's owner, a regulator or the admin may start a recall; anyone may open one the API shows them.
  const mayStart = ['manufacturer', 'regulator', 'admin'].includes(me.role);
  view.append(h('h1', {}, t('nav.recalls')), ...(mayStart ? [h('h2', {}, t('recalls.start')), start] : []), open, error, result);
}

// ---- anchors ------------------------------------------------------------------------------------------------------------
async function renderAnchors() {
  const first = await api('/api/v1/anchors?limit=1');
  const page = await api(`/api/v1/anchors?offset=${Math.max(0, first.total - 50)}&limit=50`);
  let audit = null;
  if (me.role === 'regulator' || me.role === 'admin') { try { audit = await api('/api/v1/audit/latest'); } catch { audit = null; } }
  const auditText = audit ? `${audit.status ?? '—'}` : '—';
  view.append(h('h1', {}, t('nav.anchors')), h('table', { id: 'anchors' },
    h('thead', {}, h('tr', {}, h('th', {}, t('anchors.seq')), h('th', {}, t('anchors.events')), h('th', {}, t('anchors.status')),
      h('th', {}, t('anchors.tx')), h('th', {}, t('anchors.block')), h('th', {}, t('anchors.audit')))),
    h('tbody', {}, page.items.slice().reverse().map((a) => h('tr', { dataset: { sequence: a.sequence } },
      h('td', {}, `#${a.sequence}`), h('td', {}, `${a.firstEventSequence}–${a.lastEventSequence}`), h('td', {}, a.status),
      h('td', { class: 'mono' }, a.txHash ?? '—'), h('td', {}, a.blockNumber ?? '—'), h('td', {}, auditText))))));
}

// ---- look up a code -----------------------------------------------------------------------------------------------------
async function renderLookup() {
  const out = h('div', { id: 'lookup-result' });
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { id: 'lookup-form' }, h('label', {}, t('lookup.code'), h('input', { name: 'epc', required: true, size: 48, maxlength: 300 })),
    h('button', { type: 'submit' }, t('lookup.go')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    out.replaceChildren();
    let hist;
    try { hist = await api(`/api/v1/codes/history?epc=${encodeURIComponent(new FormData(form).get('epc').trim())}`); } catch (e) { error.textContent = problemText(e); return; }
    out.append(h('p', {}, `${t('lookup.state')}: `, h('strong', { id: 'lookup-state' }, hist.state?.status ?? '—'), ` · ${hist.product?.name ?? ''}`),
      h('table', { id: 'history' }, h('tbody', {}, hist.events.map((e) => h('tr', { dataset: { sequence: e.sequence } },
        h('td', {}, `#${e.sequence}`), h('td', {}, new Date(e.eventTime).toLocaleString(lang)), h('td', {}, e.bizStep ?? e.type),
        h('td', { class: 'hide-phone' }, e.bizLocation ?? e.readPoint ?? ''),
        h('td', {}, h('button', { type: 'button', class: 'proof', onclick: () => proof(e.sequence) }, t('lookup.proof'))))))),
      h('div', { id: 'proof' }));
  });
  async function proof(sequence) {
    const box = document.getElementById('proof');
    box.replaceChildren();
    try {
      const b = await api(`/api/v1/events/${sequence}/proof`);
      // The server's own check: anchored (confirmed on chain) and the self-audit found nothing wrong. An independent
      // check needs no server: the bundle with scripts/verify or OpenZeppelin's library.
      const verifies = !b.anchor ? t('lookup.pending') : (b.anchor.status === 'confirmed' && b.audit?.status !== 'failed') ? t('lookup.yes') : t('lookup.no');
      const blob = new Blob([JSON.stringify(b, null, 2)], { type: 'application/json' });
      box.append(h('h2', {}, `${t('lookup.proof')} #${sequence}`),
        h('p', {}, `${t('lookup.verifies')}: `, h('strong', { id: 'proof-verifies', dataset: { anchor: b.anchor?.status ?? 'none', audit: b.audit?.status ?? '' } }, verifies)),
        h('p', { class: 'mono' }, `root ${b.root ?? '—'} · tx ${b.anchor?.txHash ?? '—'} · block ${b.anchor?.blockNumber ?? '—'}`),
        h('a', { href: URL.createObjectURL(blob), download: `bundle-${sequence}.json` }, t('lookup.download')));
    } catch (e) { box.append(h('p', { class: 'error' }, problemText(e))); }
  }
  view.append(h('h1', {}, t('nav.lookup')), form, error, out);
}

// ---- orders and stock -----------------------------------------------------------------------------------------------------
// The orders the member issued or receives, with each line's scanning progress, and the stock it may see, by holder.
async function renderOperations() {
  const error = h('p', { class: 'error', role: 'alert' });
  const orders = h('div', { id: 'orders' });
  const stock = h('div', { id: 'stock' });
  const form = h('form', { id: 'orders-form' },
    h('label', {}, t('ops.status'), h('select', { name: 'status' }, h('option', { value: '' }, t('alerts.all')),
      ['open', 'in_progress', 'completed', 'cancelled'].map((x) => h('option', { value: x }, t(`ops.${x}`))))),
    h('button', { type: 'submit' }, t('map.show')));
  const progress = (done, of) => h('progress', { max: Math.max(1, of), value: done, title: `${fmt(done)} / ${fmt(of)}` });
  async function loadOrders() {
    error.textContent = '';
    const status = new FormData(form).get('status');
    let list;
    try { list = await api(`/api/v1/orders${status ? `?status=${encodeURIComponent(status)}` : ''}`); } catch (e) { error.textContent = problemText(e); return; }
    orders.replaceChildren(h('table', { id: 'orders-table' },
      h('thead', {}, h('tr', {}, h('th', {}, t('ops.number')), h('th', {}, t('ops.shipTo')), h('th', {}, t('ops.status')),
        h('th', {}, t('ops.scanned')), h('th', { class: 'num' }, t('ops.received')))),
      h('tbody', {}, list.items.map((o) => [
        h('tr', { dataset: { order: o.id, status: o.status } },
          h('td', {}, h('strong', {}, o.number), h('span', { class: 'muted' }, ` ${o.type}`)), h('td', {}, o.shipTo),
          h('td', {}, t(`ops.${o.status}`)),
          h('td', {}, progress(o.scanned, o.expected), h('span', { class: 'num scanned' }, ` ${fmt(o.scanned)} / ${fmt(o.expected)}`)),
          h('td', { class: 'num' }, fmt(o.received))),
        ...o.lines.map((l) => h('tr', { class: 'line muted', dataset: { order: o.id, line: l.line } },
          h('td', {}, `#${l.line}`), h('td', { class: 'mono' }, `${l.gtin}${l.lot ? ` / ${l.lot}` : ''}`), h('td'),
          h('td', {}, progress(l.scanned, l.expected), ` ${fmt(l.scanned)} / ${fmt(l.expected)}`), h('td', { class: 'num' }, fmt(l.received)))),
      ]).flat())));
    if (list.items.length === 0) orders.append(h('p', { class: 'muted', id: 'orders-none' }, t('ops.none')));
  }
  async function loadStock() {
    let s;
    try { s = await api('/api/v1/stock'); } catch (e) { stock.replaceChildren(h('p', { class: 'muted' }, problemText(e))); return; }
    const byHolder = new Map();
    for (const row of s.items) byHolder.set(row.holder, (byHolder.get(row.holder) ?? 0) + row.quantity);
    stock.replaceChildren(h('p', {}, `${t('ops.total')}: `, h('strong', { id: 'stock-total' }, fmt(s.total)), s.truncated ? ` (${t('ops.truncated')})` : ''),
      h('table', { id: 'stock-holders' }, h('thead', {}, h('tr', {}, h('th', {}, t('ops.holder')), h('th', { class: 'num' }, t('ops.units')))),
        h('tbody', {}, [...byHolder].map(([holder, n]) => h('tr', { dataset: { holder } }, h('td', {}, holder), h('td', { class: 'num' }, fmt(n)))))),
      h('table', { id: 'stock-rows' }, h('thead', {}, h('tr', {}, h('th', {}, t('ops.holder')), h('th', {}, 'GTIN'), h('th', {}, t('recalls.lot')),
        h('th', { class: 'hide-phone' }, t('ops.location')), h('th', { class: 'num' }, t('ops.units')))),
        h('tbody', {}, s.items.map((r) => h('tr', {}, h('td', {}, r.holder), h('td', { class: 'mono' }, r.gtin), h('td', {}, r.lot ?? ''),
          h('td', { class: 'hide-phone mono' }, r.location ?? ''), h('td', { class: 'num' }, fmt(r.quantity)))))));
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); loadOrders(); });
  view.append(h('h1', {}, t('ops.title')), h('h2', {}, t('ops.orders')), form, error, orders, h('h2', {}, t('ops.stock')), stock);
  await Promise.all([loadOrders(), loadStock()]);
}

// ---- start ----------------------------------------------------------------------------------------------------------------
applyLang();
const session = await api('/console/session').catch(() => null);
if (session) await signedIn(session); else showSignIn();
document.body.dataset.ready = 'true';
