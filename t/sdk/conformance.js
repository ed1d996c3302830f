// conformance.js: the official Kalshi TypeScript SDK, with its own request
// signing, against kalshi-sim.  Prints one "ok - ..." line per check and
// exits non-zero at the first failure.
// Environment: SDK_DIR (where kalshi-typescript is installed), SIM_URL,
// KEY_ID, KEY_FILE.
'use strict';
const fs = require('fs');
const path = require('path');
const sdk = require(path.join(process.env.SDK_DIR, 'node_modules', 'kalshi-typescript'));

const config = new sdk.Configuration({
	apiKey: process.env.KEY_ID,
	privateKeyPem: fs.readFileSync(process.env.KEY_FILE, 'utf8'),
	basePath: process.env.SIM_URL + '/trade-api/v2',
});
const markets = new sdk.MarketApi(config);
const events = new sdk.EventsApi(config);
const exchange = new sdk.ExchangeApi(config);
const portfolio = new sdk.PortfolioApi(config);
const orders = new sdk.OrdersApi(config);

function check(cond, what) {
	if (!cond) {
		console.log('not ok - ' + what);
		process.exit(1);
	}
	console.log('ok - ' + what);
}
const cents = (d) => Math.round(parseFloat(d) * 100);
const dollars = (c) => (c / 100).toFixed(2);

async function main() {
	const st = (await exchange.getExchangeStatus()).data;
	check(st.trading_active === true, 'exchange status');

	const ev = (await events.getEvents(10, undefined, true, undefined, 'open', 'KXBTCD')).data;
	check(ev.events.length === 1 && ev.events[0].markets.length > 0, 'open KXBTCD event with nested markets');
	const eventTicker = ev.events[0].event_ticker;
	const one = (await events.getEvent(eventTicker, true)).data;
	check(one.event.event_ticker === eventTicker && one.markets.length === ev.events[0].markets.length,
		'event by ticker');

	// every market of the event, 7 per page, following cursors
	let seen = [], cursor;
	for (let i = 0; i < 50; i++) {
		const page = (await markets.getMarkets(7, cursor, eventTicker)).data;
		seen = seen.concat(page.markets.map((m) => m.ticker));
		cursor = page.cursor;
		if (!cursor) break;
	}
	check(seen.length === one.markets.length && new Set(seen).size === seen.length,
		`paginated ${seen.length} markets, no duplicates`);

	const m = one.markets[Math.floor(one.markets.length / 2)];
	// the quotes move every second: the book is compared with a market read
	// before it and again after it, at the same quote (a fresh root once
	// read the book a second later than the market)
	let mk, ob;
	for (let i = 0; i < 5; i++) {
		mk = (await markets.getMarket(m.ticker)).data.market;
		ob = (await markets.getMarketOrderbook(m.ticker)).data.orderbook_fp;
		const again = (await markets.getMarket(m.ticker)).data.market;
		if (again.yes_ask_dollars === mk.yes_ask_dollars)
			break;
	}
	check(typeof mk.yes_ask_dollars === 'string' && typeof mk.volume_fp === 'string', 'market fields are dollar strings and _fp counts');
	check(Array.isArray(ob.yes_dollars) && ob.yes_dollars.length > 0 && ob.no_dollars.length > 0,
		'orderbook_fp has YES and NO levels');
	const bestNo = ob.no_dollars[ob.no_dollars.length - 1][0];
	check(cents(bestNo) === 100 - cents(mk.yes_ask_dollars), 'best NO bid = 1 - YES ask');

	const bal0 = (await portfolio.getBalance()).data;
	check(Number.isInteger(bal0.balance) && typeof bal0.balance_dollars === 'string', `balance ${bal0.balance_dollars}`);

	// limits at the far end of the book (buy at 99, sell at 1): an IOC order
	// fills at the best price there is, and the simulator's quotes move in
	// real time (a fresh root saw the bid fall 6 cents between the read and
	// the order, at a second's turn); the rows are tested, not the prices
	const ya = 99, yb = 1;
	const place = async (side, priceCents, count, id, extra) => (await orders.createOrderV2(Object.assign({
		ticker: m.ticker, client_order_id: id, side: side, count: String(count),
		price: dollars(priceCents), time_in_force: 'immediate_or_cancel',
		self_trade_prevention_type: 'taker_at_cross',
	}, extra || {}))).data;
	const position = async () => {
		const p = (await portfolio.getPositions(undefined, undefined, undefined, m.ticker)).data;
		return p.market_positions.length ? parseFloat(p.market_positions[0].position_fp) : 0;
	};

	// the four rows of the YES-book table
	let r = await place('bid', ya, 4, 'sdk-buy-yes');
	check(r.fill_count === '4.00' && (await position()) === 4, 'buy YES at p = bid at p');
	r = await place('ask', yb, 1, 'sdk-sell-yes');
	{
		const pos = await position();
		check(r.fill_count === '1.00' && pos === 3, 'sell YES at p = ask at p' +
			(r.fill_count === '1.00' && pos === 3 ? '' : ` (limit ${yb}: ${JSON.stringify(r)}; position ${pos}; book ` +
			JSON.stringify((await markets.getMarketOrderbook(m.ticker)).data.orderbook_fp) + ')'));
	}
	r = await place('ask', yb, 5, 'sdk-buy-no');       // buy NO at q = 1 - yes_bid
	check(r.fill_count === '5.00' && (await position()) === -2, 'buy NO at q = ask at 1 - q');
	r = await place('bid', ya, 2, 'sdk-sell-no', { reduce_only: true }); // sell NO at q = 1 - yes_ask
	check(r.fill_count === '2.00' && (await position()) === 0, 'sell NO at q = bid at 1 - q');

	// a resting order, cancelled
	r = await place('bid', 1, 3, 'sdk-rest', { time_in_force: 'good_till_canceled' });
	check(r.remaining_count === '3.00', 'resting order placed');
	const c = (await orders.cancelOrderV2(r.order_id)).data;
	check(c.order_id === r.order_id && c.reduced_by === '3.00', 'cancel reduces by the remaining count');
	const o = (await orders.getOrder(r.order_id)).data.order;
	check(o.status === 'canceled' && o.client_order_id === 'sdk-rest', 'order read back canceled');

	// a repeated client_order_id is an error
	let dup = null;
	try { await place('bid', 1, 1, 'sdk-rest', { time_in_force: 'good_till_canceled' }); }
	catch (e) { dup = e.response; }
	check(dup && dup.status === 409 && dup.data.error.code === 'order_already_exists', 'repeated client_order_id rejected');

	const os = (await orders.getOrders(m.ticker)).data.orders;
	check(os.length === 5 && os.every((x) => x.ticker === m.ticker), 'orders listed');
	const fills = (await portfolio.getFills(m.ticker)).data.fills;
	check(fills.length >= 4 && fills.every((f) => f.fill_id && f.order_id && f.book_side), 'fills listed');
	const fees = fills.reduce((a, f) => a + Math.round(parseFloat(f.fee_cost) * 10000), 0);
	const bal1 = (await portfolio.getBalance()).data;
	// cash of the round trip: -4 ya + 1 yb + 5... computed from the fills themselves
	let pos = 0, cash = 0;
	for (const f of fills.slice().reverse()) {
		const n = Math.round(parseFloat(f.count_fp)), p = cents(f.yes_price_dollars);
		if (f.book_side === 'bid') { const cl = Math.min(n, Math.max(0, -pos)); cash += cl * (100 - p) - (n - cl) * p; pos += n; }
		else { const cl = Math.min(n, Math.max(0, pos)); cash += cl * p - (n - cl) * (100 - p); pos -= n; }
	}
	check(Math.round(parseFloat(bal1.balance_dollars) * 10000) ===
		Math.round(parseFloat(bal0.balance_dollars) * 10000) + cash * 100 - fees,
		'balance moved by the fills\' cash and fees, to the centi-cent');

	// bad credentials are refused.  The SDK adds its signing interceptor to
	// the axios instance it is given (the global one by default), so this
	// client gets an instance of its own.
	const axios = require(path.join(process.env.SDK_DIR, 'node_modules', 'axios'));
	const bad = new sdk.PortfolioApi(new sdk.Configuration({
		apiKey: 'no-such-key', privateKeyPem: fs.readFileSync(process.env.KEY_FILE, 'utf8'),
		basePath: process.env.SIM_URL + '/trade-api/v2' }), undefined, axios.create());
	let e401 = null;
	try { await bad.getBalance(); } catch (e) { e401 = e.response; }
	check(e401 && e401.status === 401, 'unknown key gets 401');
}

main().catch((e) => {
	console.log('not ok - ' + (e.response ? `HTTP ${e.response.status} ${JSON.stringify(e.response.data)}` : e.stack));
	process.exit(1);
});
