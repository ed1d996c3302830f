// app.js: the dashboard.  State from /api/state, then live from /events
// (Server-Sent Events; the browser resumes with Last-Event-ID).  Every
// state-changing request carries the session's X-CSRF-Token.
'use strict';

let csrf = '';
let state = null;
let muted = localStorage.getItem('recio.muted') === '1';
const $ = (id) => document.getElementById(id);

// ---- formatting: money arrives in centi-cents (cc) and cents ----
const dollars = (cc) => (cc == null ? '–' : (cc < 0 ? '-$' : '$') + (Math.abs(cc) / 10000).toFixed(2));
const cents = (c) => (c == null ? '–' : c + '¢');
const usd = (c) => (c == null ? '–' : '$' + (c / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
const time = (ms) => (ms ? new Date(ms).toLocaleString() : '–');
const el = (tag, text, cls) => { const e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; };
function row(tbody, cells, cls) {
  const tr = el('tr', null, cls);
  for (const c of cells) { const td = el('td'); if (c instanceof Node) td.append(c); else td.textContent = c; tr.append(td); }
  tbody.append(tr);
  return tr;
}

async function api(path, opts = {}) {
  const o = Object.assign({ credentials: 'same-origin', headers: {} }, opts);
  if (o.method && o.method !== 'GET') { o.headers['X-CSRF-Token'] = csrf; o.headers['Content-Type'] = 'application/json'; }
  const r = await fetch(path, o);
  if (r.status === 401) { location.href = '/login.html'; throw new Error('not logged in'); }
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error((body && body.error) || r.statusText);
  return body;
}

function toast(text, kind) {
  const t = $('toast');
  t.textContent = text;
  t.className = 'show ' + (kind || '');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = ''; }, 4000);
  if (!muted) beep(kind === 'bad' ? 220 : 660);
}

function beep(freq) {
  try {
    const ctx = beep.ctx || (beep.ctx = new AudioContext());
    const o = ctx.createOscillator(), g = ctx.createGain();
    o.frequency.value = freq; g.gain.value = 0.05;
    o.connect(g); g.connect(ctx.destination); o.start(); o.stop(ctx.currentTime + 0.15);
  } catch (e) { /* no audio */ }
}

// ---- the monitor ----
function renderTick() {
  const t = state.tick;
  if (!t) return;
  $('price').textContent = '$' + Number(t.price).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  for (const [k, id] of [['1h', 'ch1h'], ['3h', 'ch3h'], ['1d', 'ch1d']]) {
    const v = state.change_c && state.change_c[k];
    $(id).textContent = v == null ? '–' : (v >= 0 ? '+' : '') + usd(v).replace('$', '$');
    $(id).className = v == null ? '' : v >= 0 ? 'up' : 'down';
  }
  $('mom').textContent = t.mom_bp == null ? '–' : (t.mom_bp > 0 ? '+' : '') + t.mom_bp + ' bp';
  const bars = $('mombars');
  bars.replaceChildren();
  for (const k of ['d1m', 'd2m', 'd3m', 'd4m', 'd15m', 'd30m']) {
    if (t[k] == null) continue;
    const b = el('span', k.slice(1), t[k] >= 0 ? 'up' : 'down');
    b.title = k + ' ' + t[k];
    b.style.setProperty('--h', Math.min(100, Math.abs(t[k]) * 400) + '%');
    bars.append(b);
  }
}

function renderClock() {
  const s = state && state.strike;
  if (!s) return;
  $('event').textContent = s.event_ticker || 'Event';
  const left = Math.max(0, Math.round((s.close_ts - (state.tick ? state.tick.ts : Date.now())) / 1000));
  $('countdown').textContent = Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0');
  $('countdown').className = 'big ' + (left < 120 ? 'late' : left < 900 ? 'window' : 'early');
}

function renderStrikes() {
  const s = state.strike, tb = $('strikes').tBodies[0];
  tb.replaceChildren();
  if (!s) return;
  for (const r of s.rows || []) {
    const prob = r.prob;
    const cls = prob >= 95 ? 'p95' : prob >= 80 ? 'p80' : prob >= 50 ? 'p50' : 'plow';
    const buy = el('button', 'Buy ' + r.side.toUpperCase(), 'small');
    buy.addEventListener('click', () => manualBuy(r));
    row(tb, [Number(r.strike).toLocaleString('en-US'), Number(r.buffer).toFixed(0), Number(r.buffer_pct).toFixed(2),
      prob.toFixed(1) + '%', cents(r.yes_ask), cents(r.no_ask), (r.side === 'yes' ? r.yes_diff : r.no_diff).toFixed(1),
      r.volume, buy], cls + (r.watch ? ' watch' : ''));
  }
}

function renderWatch() {
  const w = $('watch');
  w.replaceChildren();
  const rows = ((state.strike && state.strike.rows) || []).filter((r) => r.watch);
  if (!rows.length) { w.append(el('span', 'nothing passes the watch rules now', 'dim')); return; }
  for (const r of rows) w.append(el('span', Number(r.strike).toLocaleString('en-US') + ' ' + r.side.toUpperCase() + ' ' + r.prob.toFixed(1) + '% @' + (r.side === 'yes' ? r.yes_ask : r.no_ask) + '¢', 'chip'));
}

function quoteOf(ticker) {
  const rows = (state.strike && state.strike.rows) || [];
  return rows.find((r) => r.ticker === ticker);
}

function renderOpen() {
  const tb = $('open').tBodies[0];
  tb.replaceChildren();
  for (const t of state.open_trades || []) {
    const q = quoteOf(t.ticker);
    // the bid of the side held: 100 - the other side's ask
    const bid = q ? (t.side === 'yes' ? 100 - q.no_ask : 100 - q.yes_ask) : null;
    // as the server computes it: held at the bid + what came back - what went out
    const live = bid != null ? t.held * bid * 100 + t.exit_proceeds_cc + t.revenue_cc - t.entry_cost_cc - t.fees_cc : null;
    const close = el('button', 'Close', 'small');
    close.addEventListener('click', () => manualClose(t, bid));
    row(tb, [t.ticker, t.side, t.status, t.held, t.avg_entry_cc != null ? (t.avg_entry_cc / 100).toFixed(1) + '¢' : '–',
      dollars(t.entry_cost_cc), cents(bid), dollars(live == null ? null : Math.round(live)), close]);
  }
}

function renderStatus() {
  for (const [what, id] of [['entry_status', 'entry_state'], ['stop_status', 'stop_state']]) {
    const s = state[what];
    let text = s ? s.state.toUpperCase() : '–';
    if (s && s.resume_ts) {
      const left = Math.max(0, Math.round((s.resume_ts - (state.tick ? state.tick.ts : Date.now())) / 1000));
      text += ' ' + Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0');
    }
    $(id).textContent = text;
    $(id).className = 'state ' + (s ? s.state.toLowerCase() : '');
  }
  const st = state.settings || {};
  $('auto_entry').checked = !!st.auto_entry;
  $('auto_stop').checked = !!st.auto_stop;
  if (document.activeElement !== $('position_size')) $('position_size').value = st.position_size || 1;
  if (document.activeElement !== $('multiplier')) $('multiplier').value = st.multiplier || 1;
  $('killbadge').textContent = state.kill_switch ? 'KILL SWITCH ON' : '';
  $('killbadge').className = 'state ' + (state.kill_switch ? 'paused' : '');
  $('kill').checked = !!state.kill_switch;
}

let prices = [];
function renderChart() {
  const svg = $('chart');
  svg.replaceChildren();
  if (prices.length < 2) return;
  const xs = prices.map((p) => p[0]), ys = prices.map((p) => p[1]);
  const x0 = xs[0], x1 = xs[xs.length - 1], y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sx = (x) => ((x - x0) / Math.max(1, x1 - x0)) * 600, sy = (y) => 150 - ((y - y0) / Math.max(1, y1 - y0)) * 140;
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  path.setAttribute('points', prices.map((p) => sx(p[0]).toFixed(1) + ',' + sy(p[1]).toFixed(1)).join(' '));
  path.setAttribute('class', 'line');
  svg.append(path);
  for (const [y, txt] of [[y1, usd(y1)], [y0, usd(y0)]]) {
    const t = document.createElementNS('http://www.w3.org/2000/svg', 'text');
    t.setAttribute('x', 4); t.setAttribute('y', sy(y) + (y === y1 ? 12 : -4)); t.textContent = txt;
    svg.append(t);
  }
}

function renderAll() {
  renderTick(); renderClock(); renderStrikes(); renderWatch(); renderOpen(); renderStatus(); renderServices(); renderChart();
  $('balance').textContent = state.balance ? dollars(state.balance.balance_cc) : '–';
}

// ---- live updates ----
function live() {
  const es = new EventSource('/events');
  // events this page missed are not there any more (a restart of the
  // server, a long absence): the state again, whole
  es.addEventListener('reset', async () => {
    try { state = await api('/api/state'); renderAll(); } catch (x) { toast(x.message, 'bad'); }
  });
  es.addEventListener('tick', (e) => {
    const t = JSON.parse(e.data);
    state.tick = t;
    const c = Math.round(Number(t.price) * 100);
    if (!prices.length || Math.floor(prices[prices.length - 1][0] / 1000) !== Math.floor(t.ts / 1000)) prices.push([t.ts, c]);
    if (prices.length > 3600) prices.shift();
    renderTick(); renderClock(); renderChart();
  });
  es.addEventListener('strike', (e) => { state.strike = JSON.parse(e.data); renderStrikes(); renderWatch(); renderOpen(); renderClock(); });
  es.addEventListener('status', (e) => {
    const s = JSON.parse(e.data);
    if (s.what === 'stop') state.stop_status = s; else state.entry_status = s;
    renderStatus();
  });
  es.addEventListener('trade', (e) => {
    const t = JSON.parse(e.data);
    const open = (state.open_trades || []).filter((x) => x.key !== t.key);
    if (['pending', 'open', 'closing', 'expired'].includes(t.status)) open.push(t);
    const was = (state.open_trades || []).find((x) => x.key === t.key);
    state.open_trades = open;
    renderOpen();
    if (t.status === 'open' && (!was || was.status === 'pending')) toast('Opened ' + t.side.toUpperCase() + ' ' + t.ticker, 'good');
    if (t.status === 'closed' || t.status === 'settled') toast((t.status === 'closed' ? 'Closed ' : 'Settled ') + t.ticker + ': ' + dollars(t.pnl_cc), t.pnl_cc >= 0 ? 'good' : 'bad');
  });
  es.addEventListener('balance', (e) => { state.balance = JSON.parse(e.data); $('balance').textContent = dollars(state.balance.balance_cc); });
  es.addEventListener('services', () => { refreshServices(); });
  es.addEventListener('health', (e) => {
    const h = JSON.parse(e.data);
    const log = $('healthlog');
    log.textContent = (new Date(h.ts).toLocaleTimeString() + ' ' + h.src + ' ' + h.status + (h.ticker ? ' ' + h.ticker : '') + (h.error ? ': ' + h.error : '') + '\n' + log.textContent).slice(0, 8000);
  });
  es.addEventListener('order', (e) => {
    const o = JSON.parse(e.data);
    if (o.status === 'refused') toast('Refused ' + o.ticker + ': ' + o.rule, 'bad');
    if (o.status === 'rejected') toast('Rejected ' + o.ticker + ': ' + (o.message || o.code), 'bad');
  });
  es.onerror = () => { /* the browser reconnects by itself, with Last-Event-ID */ };
}

// ---- actions ----
function confirmDialog(text) {
  return new Promise((resolve) => {
    const d = $('confirm');
    $('confirm_text').textContent = text;
    d.onclose = () => resolve(d.returnValue === 'ok');
    d.showModal();
  });
}

// sendOrder: a manual order with a key of its own: health-serve derives the
// signal id from it, so the same order sent again (a retry after a lost
// answer) is taken once by order-send.  One try more after a network error,
// with the same key; an order already on its way is not sent twice.
const sending = new Set();
async function sendOrder(o, done) {
  const what = [o.ticker, o.side, o.action, o.count, o.price].join(' ');
  if (sending.has(what)) { toast('Already being sent: ' + what, 'bad'); return; }
  const k = new Uint8Array(12);
  crypto.getRandomValues(k);
  o.key = Array.from(k, (x) => x.toString(16).padStart(2, '0')).join('');
  sending.add(what);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await api('/api/order', { method: 'POST', body: JSON.stringify(o) });
        break;
      } catch (e) {
        if (!(e instanceof TypeError) || attempt > 0) throw e;    // TypeError: no answer
      }
    }
    toast(done, 'good');
  } catch (e) { toast(e.message, 'bad'); } finally { sending.delete(what); }
}

async function manualBuy(r) {
  const st = state.settings || {};
  const count = (st.position_size || 1) * (st.multiplier || 1);
  const price = r.side === 'yes' ? r.yes_ask : r.no_ask;
  if (!(await confirmDialog('Buy ' + count + ' ' + r.side.toUpperCase() + ' of ' + r.ticker + ' at ' + price + '¢?'))) return;
  await sendOrder({ ticker: r.ticker, side: r.side, action: 'buy', count, price }, 'Order sent: buy ' + count + ' ' + r.side.toUpperCase());
}

async function manualClose(t, bid) {
  const price = bid == null || bid < 1 ? 1 : bid;
  if (!(await confirmDialog('Sell ' + t.held + ' ' + t.side.toUpperCase() + ' of ' + t.ticker + ' at ' + price + '¢ or better?'))) return;
  await sendOrder({ ticker: t.ticker, side: t.side, action: 'sell', count: t.held, price }, 'Close sent for ' + t.ticker);
}

async function setSetting(k, v) {
  try {
    state.settings = await api('/api/settings', { method: 'PUT', body: JSON.stringify({ [k]: v }) });
    renderStatus();
    toast(k.replace('_', ' ') + ': ' + v, 'good');
  } catch (e) { toast(e.message, 'bad'); renderStatus(); }
}

// ---- history ----
let hpage = 0, hsort = 'ts', horder = 'desc';
function hquery(extra) {
  const f = $('hfilter'), q = new URLSearchParams();
  if (f.from.value) q.set('from', Date.parse(f.from.value));
  if (f.to.value) q.set('to', Date.parse(f.to.value) + 86400000);
  if (f.result.value) q.set('result', f.result.value);
  if (f.hour.value !== '') q.set('hour', f.hour.value);
  for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
  return q;
}

async function loadHistory() {
  const q = hquery({ limit: 50, offset: hpage * 50, sort: hsort, order: horder });
  const [list, sum] = await Promise.all([api('/api/trades?' + q), api('/api/trades/summary?' + hquery())]);
  const s = Array.isArray(sum) ? sum[0] : sum;
  const cards = $('summary');
  cards.replaceChildren();
  const card = (label, v) => { const c = el('div', null, 'card'); c.append(el('div', label, 'label'), el('div', v, 'big')); cards.append(c); };
  card('Trades', s.trades);
  card('Win %', s.trades ? ((100 * s.wins) / s.trades).toFixed(1) + '%' : '–');
  card('Avg buy', s.contracts ? (s.entry_cost_cc / s.contracts / 100).toFixed(1) + '¢' : '–');
  card('Avg prob', s.avg_prob == null ? '–' : Number(s.avg_prob).toFixed(1) + '%');
  card('Avg diff', s.avg_diff == null ? '–' : Number(s.avg_diff).toFixed(1) + '¢');
  card('Fees', dollars(s.fees_cc));
  card('P&L', dollars(s.pnl_cc));
  const tb = $('history').tBodies[0];
  tb.replaceChildren();
  for (const t of list.trades) row(tb, [time(t.ts), t.ticker, t.side, t.status, t.count,
    t.avg_entry_cc != null ? (t.avg_entry_cc / 100).toFixed(1) + '¢' : '–', dollars(t.fees_cc), dollars(t.pnl_cc)], t.win ? 'win' : 'loss');
  $('page').textContent = hpage + 1;
  $('next').disabled = list.count < 50;
  $('prev').disabled = hpage === 0;
}

async function csv() {
  const all = [];
  for (let off = 0; ; off += 1000) {
    const l = await api('/api/trades?' + hquery({ limit: 1000, offset: off, sort: 'ts', order: 'asc' }));
    all.push(...l.trades);
    if (l.count < 1000) break;
  }
  const cols = ['ts', 'key', 'ticker', 'side', 'status', 'count', 'open_ts', 'avg_entry_cc', 'entry_cost_cc', 'exit_proceeds_cc', 'revenue_cc', 'fees_cc', 'pnl_cc', 'win'];
  const text = [cols.join(',')].concat(all.map((t) => cols.map((c) => JSON.stringify(t[c] == null ? '' : t[c])).join(','))).join('\n') + '\n';
  const a = el('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  a.download = 'recio-trades.csv';
  a.click();
}

// ---- account and system ----
async function loadAccount() {
  const [f, s] = await Promise.all([api('/api/fills?limit=100'), api('/api/settlements?limit=100')]);
  const pt = $('positions').tBodies[0];
  pt.replaceChildren();
  for (const p of state.positions || []) row(pt, [p.ticker, p.position, dollars(p.exposure_cc), dollars(p.realized_cc), dollars(p.fees_cc)]);
  const ft = $('fills').tBodies[0];
  ft.replaceChildren();
  for (const x of f.fills) row(ft, [time(x.ts), x.ticker, x.action, x.side, x.count, cents(x.yes_price_cc / 100), dollars(x.fee_cc)]);
  const st = $('settlements').tBodies[0];
  st.replaceChildren();
  for (const x of s.settlements) row(st, [time(x.ts), x.ticker, x.result, dollars(x.revenue_cc), dollars(x.fee_cc)]);
}

function renderServices() {
  const sel = $('logsvc');
  if (sel.options.length !== (state.services || []).length) {
    const keep = sel.value;
    sel.replaceChildren(...(state.services || []).map((s) => { const o = el('option', s.name); o.value = s.name; return o; }));
    if (keep) sel.value = keep;
  }
  const tb = $('services').tBodies[0];
  tb.replaceChildren();
  for (const s of state.services || []) {
    const b = el('button', 'Restart', 'small');
    b.addEventListener('click', async () => {
      if (!(await confirmDialog('Restart ' + s.name + '?'))) return;
      try { await api('/api/services/' + s.name + '/restart', { method: 'POST', body: '{}' }); toast('Restarted ' + s.name, 'good'); } catch (e) { toast(e.message, 'bad'); }
    });
    row(tb, [s.name, s.up ? 'up' : 'down', s.ready ? 'yes' : 'no', s.pid, s.uptime_s + ' s', s.restarts,
      s.last_line_s == null ? '–' : s.last_line_s + ' s', Math.round(s.rss_kb / 1024) + ' MB', b], s.up ? 'ok' : 'bad');
  }
}

async function loadLog() {
  const sel = $('logsvc');
  if (!sel.value) return;
  const l = await api('/api/logs/' + sel.value + '?n=200');
  $('logtail').textContent = l.lines.join('\n');
  $('logtail').scrollTop = $('logtail').scrollHeight;
}

async function refreshServices() { state.services = await api('/api/services'); renderServices(); }

function renderSettingsForm() {
  const f = $('settings');
  f.replaceChildren();
  for (const [k, v] of Object.entries(state.settings || {})) {
    if (k === 'fingerprints' || k === 'model') continue;
    const l = el('label', k.replace(/_/g, ' ') + ' ');
    const i = el('input');
    i.name = k;
    if (typeof v === 'boolean') { i.type = 'checkbox'; i.checked = v; } else { i.type = 'number'; i.step = 'any'; i.value = v; }
    l.append(i);
    f.append(l);
  }
  const b = el('button', 'Save');
  b.type = 'submit';
  f.append(b);
}

// ---- start ----
async function start() {
  const s = await api('/api/session');
  csrf = s.csrf;
  $('user').textContent = s.user;
  state = await api('/api/state');
  prices = await api('/api/prices?since=' + (Date.now() - 3600000 * 48));
  if (prices.length > 3600) prices = prices.slice(-3600);
  renderAll();
  renderSettingsForm();
  live();
  setInterval(() => { renderClock(); renderStatus(); }, 1000);
  setInterval(refreshServices, 5000);
}

document.querySelectorAll('nav button').forEach((b) => b.addEventListener('click', () => {
  document.querySelectorAll('nav button').forEach((x) => x.classList.toggle('active', x === b));
  document.querySelectorAll('.tab').forEach((t) => t.classList.toggle('active', t.id === 'tab-' + b.dataset.tab));
  if (b.dataset.tab === 'history') loadHistory().catch((e) => toast(e.message, 'bad'));
  if (b.dataset.tab === 'account') loadAccount().catch((e) => toast(e.message, 'bad'));
  if (b.dataset.tab === 'settings') renderSettingsForm();
  if (b.dataset.tab === 'system') loadLog().catch((e) => toast(e.message, 'bad'));
}));
$('auto_entry').addEventListener('change', (e) => setSetting('auto_entry', e.target.checked));
$('auto_stop').addEventListener('change', (e) => setSetting('auto_stop', e.target.checked));
$('position_size').addEventListener('change', (e) => setSetting('position_size', Number(e.target.value)));
$('multiplier').addEventListener('change', (e) => setSetting('multiplier', Number(e.target.value)));
$('kill').addEventListener('change', async (e) => {
  try { await api('/api/kill-switch', { method: 'POST', body: JSON.stringify({ on: e.target.checked }) }); state.kill_switch = e.target.checked; renderStatus(); toast('Kill switch ' + (e.target.checked ? 'on' : 'off'), e.target.checked ? 'bad' : 'good'); } catch (err) { toast(err.message, 'bad'); }
});
$('hfilter').addEventListener('submit', (e) => { e.preventDefault(); hpage = 0; loadHistory().catch((x) => toast(x.message, 'bad')); });
$('logsvc').addEventListener('change', () => loadLog().catch((x) => toast(x.message, 'bad')));
$('logreload').addEventListener('click', () => loadLog().catch((x) => toast(x.message, 'bad')));
$('csv').addEventListener('click', () => csv().catch((x) => toast(x.message, 'bad')));
$('prev').addEventListener('click', () => { hpage = Math.max(0, hpage - 1); loadHistory(); });
$('next').addEventListener('click', () => { hpage++; loadHistory(); });
document.querySelectorAll('#history th[data-sort]').forEach((th) => th.addEventListener('click', () => {
  if (hsort === th.dataset.sort) horder = horder === 'desc' ? 'asc' : 'desc'; else { hsort = th.dataset.sort; horder = 'desc'; }
  loadHistory();
}));
$('settings').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = {};
  for (const i of e.target.querySelectorAll('input')) body[i.name] = i.type === 'checkbox' ? i.checked : Number(i.value);
  try { state.settings = await api('/api/settings', { method: 'PUT', body: JSON.stringify(body) }); $('settings_msg').textContent = 'Saved.'; renderStatus(); } catch (x) { $('settings_msg').textContent = x.message; }
});
$('password').addEventListener('submit', async (e) => {
  e.preventDefault();
  try { await api('/api/password', { method: 'POST', body: JSON.stringify({ old: e.target.old.value, new: e.target.new.value }) }); location.href = '/login.html'; } catch (x) { $('password_msg').textContent = x.message; }
});
$('logout').addEventListener('click', async () => { await api('/api/logout', { method: 'POST', body: '{}' }).catch(() => null); location.href = '/login.html'; });
$('mute').addEventListener('click', () => { muted = !muted; localStorage.setItem('recio.muted', muted ? '1' : '0'); $('mute').textContent = muted ? 'Sound off' : 'Sound on'; });
$('mute').textContent = muted ? 'Sound off' : 'Sound on';
start().catch((e) => { if (e.message !== 'not logged in') toast(e.message, 'bad'); });
