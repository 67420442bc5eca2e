// The console's texts in Chinese and English. The language: the trace_lang cookie the toggle sets, else the server's
// choice from Accept-Language (the <html lang> it serves).
const texts = {
  'brand': ['溯源控制台', 'Traceability console'],
  'nav.dashboard': ['概览', 'Dashboard'], 'nav.map': ['销售地图', 'Sales map'], 'nav.alerts': ['预警', 'Alerts'],
  'nav.recalls': ['召回', 'Recalls'], 'nav.anchors': ['上链', 'Anchors'], 'nav.lookup': ['查码', 'Look up a code'],
  'nav.operations': ['订单与库存', 'Orders and stock'],
  'signOut': ['退出', 'Sign out'], 'signIn.title': ['登录', 'Sign in'], 'signIn.key': ['API 密钥', 'API key'],
  'signIn.submit': ['登录', 'Sign in'], 'signIn.bad': ['密钥无效', 'This API key is not valid'],
  'dash.eventsToday': ['今日事件', 'Events today'], 'dash.units': ['单品总数', 'Units'], 'dash.byStatus': ['按状态', 'Units by status'],
  'dash.awaiting': ['待上链事件', 'Events awaiting an anchor'], 'dash.lastAnchor': ['最近上链', 'Last anchor'],
  'dash.openAlerts': ['未处理预警', 'Open alerts'], 'dash.none': ['无', 'none'], 'dash.notForRole': ['（本角色不可见）', '(not for this role)'],
  'map.kind': ['数据', 'Data'], 'map.sales': ['销售', 'Sales'], 'map.scans': ['扫码', 'Scans'], 'map.alerts': ['预警', 'Alerts'],
  'map.from': ['开始', 'From'], 'map.to': ['结束', 'To'], 'map.granularity': ['粒度', 'By'], 'map.day': ['日', 'day'],
  'map.week': ['周', 'week'], 'map.month': ['月', 'month'], 'map.show': ['查询', 'Show'], 'map.china': ['全国', 'China'],
  'map.region': ['地区', 'Region'], 'map.count': ['数量', 'Count'], 'map.total': ['合计', 'Total'], 'map.trend': ['趋势', 'Trend'],
  'map.noShapes': ['该地区无地图边界数据，以柱状图显示。', 'No map shapes for this region: shown as bars.'],
  'alerts.type': ['类型', 'Type'], 'alerts.all': ['全部', 'all'], 'alerts.region': ['地区代码', 'Region code'],
  'alerts.gtin': ['产品 GTIN', 'Product GTIN'], 'alerts.state': ['状态', 'State'], 'alerts.open': ['未处理', 'open'],
  'alerts.handled': ['已处理', 'handled'], 'alerts.markHandled': ['标记已处理', 'Mark handled'], 'alerts.at': ['时间', 'Time'],
  'alerts.code': ['码', 'Code'], 'alerts.filter': ['筛选', 'Filter'], 'alerts.empty': ['没有预警', 'No alerts'],
  'recalls.start': ['发起召回', 'Start a recall'], 'recalls.lot': ['批次', 'Lot'], 'recalls.reason': ['原因', 'Reason'],
  'recalls.open': ['查看召回', 'Open a recall'], 'recalls.id': ['召回编号', 'Recall id'], 'recalls.units': ['单品数', 'Units'],
  'recalls.holders': ['持有人', 'Holders'], 'recalls.csv': ['下载 CSV', 'Download the CSV'], 'recalls.holder': ['持有人', 'Holder'],
  'recalls.status': ['状态', 'Status'],
  'anchors.seq': ['序号', 'Anchor'], 'anchors.events': ['事件', 'Events'], 'anchors.status': ['状态', 'Status'],
  'anchors.tx': ['交易', 'Transaction'], 'anchors.block': ['区块', 'Block'], 'anchors.audit': ['自检', 'Self-audit'],
  'lookup.code': ['EPC 或数字链接', 'EPC or Digital Link'], 'lookup.go': ['查询', 'Look up'], 'lookup.state': ['当前状态', 'State'],
  'lookup.proof': ['证明', 'Proof'], 'lookup.verifies': ['验证结果', 'Verifies'], 'lookup.download': ['下载证明包', 'Download the bundle'],
  'lookup.yes': ['是（已上链且自检通过）', 'yes (anchored and the self-audit agrees)'], 'lookup.no': ['否', 'no'],
  'lookup.pending': ['尚未上链', 'not anchored yet'],
  'ops.title': ['订单与库存', 'Orders and stock'],
  'ops.orders': ['订单', 'Orders'], 'ops.stock': ['库存', 'Stock'], 'ops.status': ['状态', 'Status'], 'ops.number': ['订单号', 'Order'],
  'ops.shipTo': ['收货方', 'Ship to'], 'ops.scanned': ['已扫码出库', 'Scanned out'], 'ops.received': ['已收货', 'Received'],
  'ops.open': ['待出库', 'open'], 'ops.in_progress': ['出库中', 'in progress'], 'ops.completed': ['已完成', 'completed'],
  'ops.cancelled': ['已取消', 'cancelled'], 'ops.none': ['没有订单。', 'No orders.'], 'ops.total': ['在库总数', 'Units held'],
  'ops.truncated': ['仅显示前若干行', 'first rows only'], 'ops.holder': ['持有方', 'Holder'], 'ops.units': ['数量', 'Units'],
  'ops.location': ['位置', 'Location'],
  'nav.service': ['维保监管', 'Service by region'],
  'svc.measure': ['着色', 'Colour by'], 'svc.installed': ['已安装', 'Installed'], 'svc.overdue': ['逾期未检', 'Overdue'],
  'svc.expired': ['超过使用年限', 'Past service life'],
  'svc.note': ['已安装单品按安装地点统计；逾期：检验或水压试验已过期；超过使用年限的单品只计入“超过使用年限”。',
    'Installed units by the region of their site; overdue: an inspection or pressure test is past due; units past their service life count as past service life only.'],
  'forbidden': ['本角色无权查看此页。', 'Your role may not see this page.'], 'error': ['出错了', 'Something went wrong'],
};

export let lang = document.documentElement.lang === 'en' ? 'en' : 'zh-CN';
export const t = (key) => (texts[key] ?? [key, key])[lang === 'en' ? 1 : 0];

export function setLang(next) {
  lang = next;
  document.documentElement.lang = next;
  document.cookie = `trace_lang=${next}; path=/console; SameSite=Strict; max-age=31536000`;
}

export function translate(root = document) {
  for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
}
