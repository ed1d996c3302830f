-- 001-schema: recio's tables, the same on SQLite and PostgreSQL.
-- Money is integer centi-cents (_cc, 1/10,000 dollar), prices integer cents,
-- counts integer contracts, times integer milliseconds since the epoch (UTC).
-- Each table's natural key makes a replayed line harmless (ON CONFLICT).

CREATE TABLE ticks (
	ts        BIGINT NOT NULL,
	src       TEXT NOT NULL,
	price_cc  BIGINT NOT NULL,
	bid_cc    BIGINT,
	ask_cc    BIGINT,
	d1m       DOUBLE PRECISION, d2m DOUBLE PRECISION, d3m DOUBLE PRECISION,
	d4m       DOUBLE PRECISION, d15m DOUBLE PRECISION, d30m DOUBLE PRECISION,
	mom_bp    BIGINT,
	avg1m     DOUBLE PRECISION,
	vol30s    DOUBLE PRECISION, vol5m DOUBLE PRECISION, vol60m DOUBLE PRECISION,
	PRIMARY KEY (ts, src)
);

-- every quote seen (history) ...
CREATE TABLE market_quotes (
	ticker       TEXT NOT NULL,
	ts           BIGINT NOT NULL,
	status       TEXT,
	yes_bid      BIGINT CHECK (yes_bid BETWEEN 0 AND 100),
	yes_ask      BIGINT CHECK (yes_ask BETWEEN 0 AND 100),
	no_bid       BIGINT CHECK (no_bid BETWEEN 0 AND 100),
	no_ask       BIGINT CHECK (no_ask BETWEEN 0 AND 100),
	yes_bid_size BIGINT,
	yes_ask_size BIGINT,
	last         BIGINT,
	volume       BIGINT,
	oi           BIGINT,
	PRIMARY KEY (ticker, ts)
);
CREATE INDEX market_quotes_ts ON market_quotes (ts);

-- ... and the latest per ticker
CREATE TABLE markets (
	ticker       TEXT PRIMARY KEY,
	ts           BIGINT NOT NULL,
	event_ticker TEXT,
	status       TEXT,
	strike_cc    BIGINT,
	close_ts     BIGINT,
	yes_bid      BIGINT CHECK (yes_bid BETWEEN 0 AND 100),
	yes_ask      BIGINT CHECK (yes_ask BETWEEN 0 AND 100),
	no_bid       BIGINT CHECK (no_bid BETWEEN 0 AND 100),
	no_ask       BIGINT CHECK (no_ask BETWEEN 0 AND 100),
	yes_bid_size BIGINT,
	yes_ask_size BIGINT,
	last         BIGINT,
	volume       BIGINT,
	oi           BIGINT,
	result       TEXT
);
CREATE INDEX markets_event ON markets (event_ticker);

-- event lines as they came (a new current event, a market closing or
-- determined); hkey is a hash of the whole line
CREATE TABLE events (
	event_ticker TEXT NOT NULL,
	ts           BIGINT NOT NULL,
	hkey         TEXT NOT NULL,
	ticker       TEXT,              -- the market, on a market's status change
	status       TEXT,
	result       TEXT,
	close_ts     BIGINT,
	strikes      BIGINT,
	prev_event   TEXT,
	raw          TEXT NOT NULL,
	PRIMARY KEY (event_ticker, ts, hkey)
);

CREATE TABLE signals (
	account TEXT NOT NULL,
	id      TEXT NOT NULL,
	ts      BIGINT NOT NULL,
	intent  TEXT, ticker TEXT, side TEXT, action TEXT,
	count   BIGINT, price BIGINT,
	prob    DOUBLE PRECISION, diff DOUBLE PRECISION,
	mom_bp  BIGINT, ttc BIGINT,
	model   TEXT, reason TEXT,
	raw     TEXT NOT NULL,
	PRIMARY KEY (account, id)
);
CREATE INDEX signals_ts ON signals (ts);

-- one row per client_order_id: its latest state
CREATE TABLE orders (
	account         TEXT NOT NULL,
	client_order_id TEXT NOT NULL,
	ts              BIGINT NOT NULL,
	status          TEXT NOT NULL,
	signal_id       TEXT,
	order_id        TEXT,
	ticker          TEXT, side TEXT, action TEXT,
	count           BIGINT CHECK (count >= 0),
	price           BIGINT CHECK (price BETWEEN 0 AND 100),
	filled          BIGINT,
	avg_price_cc    BIGINT,
	fees_cc         BIGINT,
	code            TEXT, message TEXT, rule TEXT,
	raw             TEXT NOT NULL,
	PRIMARY KEY (account, client_order_id)
);
CREATE INDEX orders_order_id ON orders (order_id);

CREATE TABLE fills (
	account      TEXT NOT NULL,
	fill_id      TEXT NOT NULL,
	ts           BIGINT NOT NULL,
	order_id     TEXT,
	trade_id     TEXT,
	ticker       TEXT NOT NULL,
	book_side    TEXT, outcome_side TEXT, side TEXT, action TEXT,
	count        BIGINT NOT NULL CHECK (count >= 0),
	yes_price_cc BIGINT NOT NULL,
	fee_cc       BIGINT NOT NULL,
	is_taker     BIGINT,
	raw          TEXT NOT NULL,
	PRIMARY KEY (account, fill_id)
);
CREATE INDEX fills_order_id ON fills (order_id);

-- the latest position per ticker
CREATE TABLE positions (
	account     TEXT NOT NULL,
	ticker      TEXT NOT NULL,
	ts          BIGINT NOT NULL,
	position    BIGINT NOT NULL,
	exposure_cc BIGINT, realized_cc BIGINT, fees_cc BIGINT,
	raw         TEXT NOT NULL,
	PRIMARY KEY (account, ticker)
);

CREATE TABLE settlements (
	account      TEXT NOT NULL,
	key          TEXT NOT NULL,
	ts           BIGINT NOT NULL,
	ticker       TEXT, event_ticker TEXT, result TEXT,
	yes_count    BIGINT, no_count BIGINT,
	cost_cc      BIGINT, revenue_cc BIGINT, fee_cc BIGINT,
	raw          TEXT NOT NULL,
	PRIMARY KEY (account, key)
);

CREATE TABLE balances (
	account            TEXT NOT NULL,
	ts                 BIGINT NOT NULL,
	balance_cc         BIGINT NOT NULL,
	portfolio_value_cc BIGINT,
	PRIMARY KEY (account, ts)
);

-- one row per position opened (lib/trade.h): its latest state
CREATE TABLE trades (
	account          TEXT NOT NULL,
	key              TEXT NOT NULL,
	ts               BIGINT NOT NULL,
	ticker           TEXT NOT NULL,
	side             TEXT, status TEXT NOT NULL,
	count            BIGINT,
	open_ts          BIGINT,
	entry_cost_cc    BIGINT, exit_proceeds_cc BIGINT, revenue_cc BIGINT,
	fees_cc          BIGINT, pnl_cc BIGINT,
	win              BIGINT,
	raw              TEXT NOT NULL,
	PRIMARY KEY (account, key)
);
CREATE INDEX trades_ts ON trades (ts);

-- auto-entry / auto-stop state changes from signal-eval
CREATE TABLE statuses (
	account   TEXT NOT NULL,
	ts        BIGINT NOT NULL,
	what      TEXT NOT NULL,
	state     TEXT NOT NULL,
	reason    TEXT,
	resume_ts BIGINT,
	PRIMARY KEY (account, ts, what, state)
);

-- health lines; hkey is a hash of the whole line, so a replay is harmless
CREATE TABLE health (
	src    TEXT NOT NULL,
	ts     BIGINT NOT NULL,
	hkey   TEXT NOT NULL,
	status TEXT,
	error  TEXT,
	raw    TEXT NOT NULL,
	PRIMARY KEY (src, ts, hkey)
);

-- for health-serve: settings changed from the dashboard, and logins
CREATE TABLE settings (
	account    TEXT NOT NULL,
	name       TEXT NOT NULL,
	value      TEXT NOT NULL,
	updated_ms BIGINT NOT NULL,
	PRIMARY KEY (account, name)
);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	username   TEXT NOT NULL,
	created_ms BIGINT NOT NULL,
	expires_ms BIGINT NOT NULL
);
