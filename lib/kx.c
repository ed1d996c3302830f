/* kx.c: see kx.h. */
#include <stdio.h>
#include <string.h>

#include "kx.h"
#include "money.h"
#include "rtime.h"

/* Field readers: each returns 0 or -1 with err "OBJ.KEY: reason". */
struct rd {
	const struct json *j;
	int t;
	const char *obj;
	char *err;
	size_t cap;
	int bad;
};

static int
fail(struct rd *r, const char *key, const char *why)
{
	if (!r->bad)
		snprintf(r->err, r->cap, "%s.%s: %s", r->obj, key, why);
	r->bad = 1;
	return -1;
}

static int
tok(struct rd *r, const char *key, bool required, int *t)
{
	*t = json_get(r->j, r->t, key);
	if (*t < 0 || json_type(r->j, *t) == JSON_NULL) {
		*t = -1;
		return required ? fail(r, key, "missing") : 0;
	}
	return 0;
}

static void
str(struct rd *r, const char *key, bool required, char *out, size_t cap)
{
	int t;

	out[0] = '\0';
	if (tok(r, key, required, &t) < 0 || t < 0)
		return;
	if (json_type(r->j, t) != JSON_STRING)
		fail(r, key, "not a string");
	else if (json_str(r->j, t, out, cap) < 0)
		fail(r, key, "string too long or badly escaped");
}

/* A string read through conv (money_parse_dollars, money_parse_fp). */
static void
fixed(struct rd *r, const char *key, bool required, int64_t def, int64_t *out,
    int (*conv)(const char *, size_t, int64_t *), const char *form)
{
	char s[48];
	int t;

	*out = def;
	if (tok(r, key, required, &t) < 0 || t < 0)
		return;
	if (json_type(r->j, t) != JSON_STRING || json_str(r->j, t, s, sizeof s) < 0 ||
	    conv(s, strlen(s), out) < 0) {
		char why[64];

		snprintf(why, sizeof why, "not a %s", form);
		fail(r, key, why);
	}
}

static void
dollars(struct rd *r, const char *key, bool required, int64_t *out)
{
	fixed(r, key, required, 0, out, money_parse_dollars, "dollar string");
}

static void
fp(struct rd *r, const char *key, bool required, int64_t *out)
{
	fixed(r, key, required, 0, out, money_parse_fp, "fixed-point count string");
}

static void
integer(struct rd *r, const char *key, bool required, int64_t def, int64_t *out)
{
	int t;

	*out = def;
	if (tok(r, key, required, &t) < 0 || t < 0)
		return;
	if (json_i64(r->j, t, out) < 0)
		fail(r, key, "not an integer");
}

static void
boolean(struct rd *r, const char *key, bool required, bool *out)
{
	int t;

	*out = false;
	if (tok(r, key, required, &t) < 0 || t < 0)
		return;
	if (json_bool(r->j, t, out) < 0)
		fail(r, key, "not a boolean");
}

static void
timestamp(struct rd *r, const char *key, bool required, int64_t *out)
{
	char s[64];
	int t;

	*out = -1;
	if (tok(r, key, required, &t) < 0 || t < 0)
		return;
	if (json_type(r->j, t) != JSON_STRING || json_str(r->j, t, s, sizeof s) < 0 ||
	    rt_parse_iso(s, strlen(s), out) < 0)
		fail(r, key, "not an RFC 3339 time");
}

/* A JSON number with at most two decimals, as cents, read from its text:
 * floor_strike 114749.99 -> 11474999, exactly. */
static void
number_cents(struct rd *r, const char *key, int64_t *out)
{
	const char *s;
	size_t n;
	int t;

	*out = -1;
	if (tok(r, key, false, &t) < 0 || t < 0)
		return;
	if (json_type(r->j, t) != JSON_NUMBER) {
		fail(r, key, "not a number");
		return;
	}
	s = json_raw(r->j, t, &n);
	if (money_parse_dollars(s, n, out) < 0 || *out % CC_PER_CENT != 0) {
		fail(r, key, "not a number of whole cents");
		return;
	}
	*out /= CC_PER_CENT;
}

static int
begin(struct rd *r, const struct json *j, int t, const char *obj, char *err, size_t cap)
{
	r->j = j;
	r->t = t;
	r->obj = obj;
	r->err = err;
	r->cap = cap;
	r->bad = 0;
	if (t < 0 || json_type(j, t) != JSON_OBJECT) {
		snprintf(err, cap, "%s: not an object", obj);
		return -1;
	}
	return 0;
}

int
kx_market_decode(const struct json *j, int t, struct kx_market *m, char *err, size_t cap)
{
	struct rd r;

	memset(m, 0, sizeof *m);
	if (begin(&r, j, t, "market", err, cap) < 0)
		return -1;
	str(&r, "ticker", true, m->ticker, sizeof m->ticker);
	str(&r, "event_ticker", true, m->event_ticker, sizeof m->event_ticker);
	str(&r, "status", true, m->status, sizeof m->status);
	str(&r, "result", false, m->result, sizeof m->result);
	str(&r, "strike_type", false, m->strike_type, sizeof m->strike_type);
	number_cents(&r, "floor_strike", &m->floor_strike_c);
	timestamp(&r, "open_time", true, &m->open_ms);
	timestamp(&r, "close_time", true, &m->close_ms);
	timestamp(&r, "updated_time", false, &m->updated_ms);
	dollars(&r, "yes_bid_dollars", true, &m->yes_bid);
	dollars(&r, "yes_ask_dollars", true, &m->yes_ask);
	dollars(&r, "no_bid_dollars", true, &m->no_bid);
	dollars(&r, "no_ask_dollars", true, &m->no_ask);
	dollars(&r, "last_price_dollars", true, &m->last);
	fp(&r, "yes_bid_size_fp", false, &m->yes_bid_size);
	fp(&r, "yes_ask_size_fp", false, &m->yes_ask_size);
	fp(&r, "volume_fp", true, &m->volume);
	fp(&r, "open_interest_fp", true, &m->oi);
	return r.bad ? -1 : 0;
}

int
kx_event_decode(const struct json *j, int t, struct kx_event *e, char *err, size_t cap)
{
	struct rd r;
	int mt;

	memset(e, 0, sizeof *e);
	if (begin(&r, j, t, "event", err, cap) < 0)
		return -1;
	str(&r, "event_ticker", true, e->event_ticker, sizeof e->event_ticker);
	str(&r, "series_ticker", true, e->series_ticker, sizeof e->series_ticker);
	str(&r, "title", false, e->title, sizeof e->title);
	timestamp(&r, "strike_date", false, &e->strike_ms);
	e->markets = -1;
	if (tok(&r, "markets", false, &mt) == 0 && mt >= 0) {
		if (json_type(j, mt) != JSON_ARRAY)
			fail(&r, "markets", "not an array");
		else
			e->markets = mt;
	}
	return r.bad ? -1 : 0;
}

int
kx_order_decode(const struct json *j, int t, struct kx_order *o, char *err, size_t cap)
{
	struct rd r;

	memset(o, 0, sizeof *o);
	if (begin(&r, j, t, "order", err, cap) < 0)
		return -1;
	str(&r, "order_id", true, o->order_id, sizeof o->order_id);
	str(&r, "client_order_id", false, o->client_order_id, sizeof o->client_order_id);
	str(&r, "ticker", true, o->ticker, sizeof o->ticker);
	str(&r, "status", true, o->status, sizeof o->status);
	str(&r, "outcome_side", true, o->outcome_side, sizeof o->outcome_side);
	str(&r, "book_side", true, o->book_side, sizeof o->book_side);
	dollars(&r, "yes_price_dollars", true, &o->yes_price);
	dollars(&r, "no_price_dollars", true, &o->no_price);
	fp(&r, "initial_count_fp", true, &o->initial);
	fp(&r, "fill_count_fp", true, &o->filled);
	fp(&r, "remaining_count_fp", true, &o->remaining);
	dollars(&r, "taker_fill_cost_dollars", true, &o->taker_cost);
	dollars(&r, "maker_fill_cost_dollars", true, &o->maker_cost);
	dollars(&r, "taker_fees_dollars", true, &o->taker_fees);
	dollars(&r, "maker_fees_dollars", true, &o->maker_fees);
	timestamp(&r, "created_time", false, &o->created_ms);
	timestamp(&r, "last_update_time", false, &o->updated_ms);
	return r.bad ? -1 : 0;
}

int
kx_fill_decode(const struct json *j, int t, struct kx_fill *f, char *err, size_t cap)
{
	struct rd r;
	int64_t ts;

	memset(f, 0, sizeof *f);
	if (begin(&r, j, t, "fill", err, cap) < 0)
		return -1;
	str(&r, "fill_id", true, f->fill_id, sizeof f->fill_id);
	str(&r, "trade_id", false, f->trade_id, sizeof f->trade_id);
	str(&r, "order_id", true, f->order_id, sizeof f->order_id);
	str(&r, "ticker", true, f->ticker, sizeof f->ticker);
	str(&r, "outcome_side", true, f->outcome_side, sizeof f->outcome_side);
	str(&r, "book_side", true, f->book_side, sizeof f->book_side);
	fp(&r, "count_fp", true, &f->count);
	dollars(&r, "yes_price_dollars", true, &f->yes_price);
	dollars(&r, "no_price_dollars", true, &f->no_price);
	dollars(&r, "fee_cost", true, &f->fee);
	boolean(&r, "is_taker", true, &f->is_taker);
	timestamp(&r, "created_time", false, &f->ts_ms);
	if (f->ts_ms < 0) {
		integer(&r, "ts", true, 0, &ts);
		f->ts_ms = ts * 1000;
	}
	return r.bad ? -1 : 0;
}

int
kx_position_decode(const struct json *j, int t, struct kx_position *p, char *err, size_t cap)
{
	struct rd r;

	memset(p, 0, sizeof *p);
	if (begin(&r, j, t, "market_position", err, cap) < 0)
		return -1;
	str(&r, "ticker", true, p->ticker, sizeof p->ticker);
	fp(&r, "position_fp", true, &p->position);
	dollars(&r, "total_traded_dollars", true, &p->traded);
	dollars(&r, "market_exposure_dollars", true, &p->exposure);
	dollars(&r, "realized_pnl_dollars", true, &p->realized);
	dollars(&r, "fees_paid_dollars", true, &p->fees);
	timestamp(&r, "last_updated_ts", false, &p->updated_ms);
	return r.bad ? -1 : 0;
}

int
kx_settlement_decode(const struct json *j, int t, struct kx_settlement *s, char *err, size_t cap)
{
	struct rd r;

	memset(s, 0, sizeof *s);
	if (begin(&r, j, t, "settlement", err, cap) < 0)
		return -1;
	str(&r, "ticker", true, s->ticker, sizeof s->ticker);
	str(&r, "event_ticker", false, s->event_ticker, sizeof s->event_ticker);
	str(&r, "market_result", true, s->result, sizeof s->result);
	fp(&r, "yes_count_fp", true, &s->yes_count);
	fp(&r, "no_count_fp", true, &s->no_count);
	dollars(&r, "yes_total_cost_dollars", true, &s->yes_cost);
	dollars(&r, "no_total_cost_dollars", true, &s->no_cost);
	dollars(&r, "fee_cost", true, &s->fee);
	integer(&r, "revenue", true, 0, &s->revenue_cents);
	integer(&r, "value", false, -1, &s->value_cents);
	timestamp(&r, "settled_time", true, &s->settled_ms);
	return r.bad ? -1 : 0;
}

int
kx_balance_decode(const struct json *j, int t, struct kx_balance *b, char *err, size_t cap)
{
	struct rd r;

	memset(b, 0, sizeof *b);
	if (begin(&r, j, t, "balance", err, cap) < 0)
		return -1;
	integer(&r, "balance", true, 0, &b->balance_cents);
	dollars(&r, "balance_dollars", false, &b->balance_cc);
	if (json_get(j, t, "balance_dollars") < 0)
		b->balance_cc = b->balance_cents * CC_PER_CENT;
	integer(&r, "portfolio_value", false, 0, &b->portfolio_value_cents);
	integer(&r, "updated_ts", false, 0, &b->updated_ts);
	return r.bad ? -1 : 0;
}

int
kx_page(const struct json *j, const char *key, char *cursor, size_t cursor_cap, char *err, size_t cap)
{
	struct rd r;
	int t;

	if (begin(&r, j, 0, "response", err, cap) < 0)
		return -1;
	if (tok(&r, key, true, &t) < 0)
		return -1;
	if (json_type(j, t) != JSON_ARRAY)
		return fail(&r, key, "not an array");
	str(&r, "cursor", false, cursor, cursor_cap);
	return r.bad ? -1 : t;
}

int
kx_error_decode(const struct json *j, char *code, size_t code_cap, char *msg, size_t msg_cap)
{
	int e = json_get(j, 0, "error");
	char det[256];
	size_t n;

	code[0] = msg[0] = '\0';
	/* most errors nest it; some (a body Kalshi cannot parse) do not */
	if (e < 0 || json_type(j, e) != JSON_OBJECT)
		e = 0;
	if (json_type(j, 0) != JSON_OBJECT || json_get_str(j, e, "code", code, code_cap) < 0 || !code[0]) {
		code[0] = '\0';
		return -1;
	}
	if (json_get_str(j, e, "message", msg, msg_cap) < 0)
		msg[0] = '\0';
	/* "details" says more (an order error's "post only cross") */
	if (json_get_str(j, e, "details", det, sizeof det) == 0 && det[0] && strcmp(det, msg) != 0 && msg_cap > 0) {
		n = strlen(msg);
		snprintf(msg + n, msg_cap - n, "%s%s", n ? ": " : "", det);
	}
	return 0;
}

int
kx_v2_side(bool buy, bool yes, int64_t price_cents, const char **book_side, int64_t *yes_price_cents)
{
	if (price_cents < 1 || price_cents > 99)
		return -1;
	/* buy YES at p: bid p; sell YES at p: ask p;
	 * buy NO at q: ask 1-q; sell NO at q: bid 1-q. */
	*book_side = buy == yes ? "bid" : "ask";
	*yes_price_cents = yes ? price_cents : 100 - price_cents;
	return 0;
}

int
kx_ws_url(const char *base, char *out, size_t cap)
{
	const char *h = strstr(base, "://");
	const char *p = h ? strchr(h + 3, '/') : NULL;
	int n;

	if (h == NULL || p == NULL || p == h + 3)
		return -1;
	if (strncmp(base, "https://external-api.kalshi.com/", 32) == 0)
		n = snprintf(out, cap, "wss://external-api-ws.kalshi.com/trade-api/ws/v2");
	else
		n = snprintf(out, cap, "%s://%.*s/trade-api/ws/v2", strncmp(base, "https", 5) == 0 ? "wss" : "ws",
		    (int)(p - h - 3), h + 3);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}
