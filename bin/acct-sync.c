/* acct-sync: follow the account (orders, fills, settlements, positions,
 * balance) and write one line per new fill and settlement, per changed
 * position and balance, and per change of a trade's state (lib/trade),
 * each with a stable key, so that downstream can de-duplicate.  Every
 * cycle the positions the fills add up to are compared with the
 * exchange's; a difference is a health line naming the ticker and both
 * numbers.  See man/acct-sync.1. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"
#include "http.h"
#include "json.h"
#include "keyset.h"
#include "kx.h"
#include "money.h"
#include "msg.h"
#include "rlimits.h"
#include "rtime.h"
#include "sign.h"
#include "trade.h"
#include "ws.h"

#ifndef SEEN_MAX
#define SEEN_MAX 200000         /* keys of what was handled kept, beyond those met at the last good cycle */
#endif
#define PAGES_MAX 1000
#define ONCE_TRIES 5            /* --once: cycles tried before giving up */
#define RECENT_S 3600           /* after the first cycle, orders, fills and settlements
                                   are read from this far behind the newest seen */

static const char usage_text[] =
"usage: acct-sync [-v] [-u URL] [-i SECONDS] [-H SECONDS] [-P SECONDS] [--once]\n"
"                 [-w [--ws-url URL]]\n"
"\n"
"Follow the Kalshi account: write balance, fill, settlement and position lines\n"
"(each fill and settlement once, by its key; positions and the balance when they\n"
"change, every position held again each -P seconds), a trade line for every\n"
"change of a trade's state (pending, open, closing, closed, expired, settled,\n"
"canceled; P&L from the exchange's fills and settlements) and health lines,\n"
"including a \"mismatch\" for every market where the fills do not add up to the\n"
"exchange's position.\n"
"\n"
"  -u, --url URL        API base (default $KALSHI_API_BASE, else the local simulator)\n"
"  -i, --interval S     seconds between cycles (default 2)\n"
"  -H, --health S       seconds between health lines (default 10)\n"
"  -P, --positions S    every position held is written again this often (default\n"
"                       10; 0: only when it changes), so that a reader that\n"
"                       restarted (signal-eval) learns what is held\n"
"      --once           one complete cycle, then exit (cron, scripts); a cycle\n"
"                       that fails is tried again, -i apart, up to 5 times\n"
"  -w, --ws             also woken by Kalshi's fill and market_positions\n"
"                       channels: a cycle right after every fill; -i stays the\n"
"                       longest wait (and the pace while the socket is down)\n"
"      --ws-url URL     the socket (default: beside the API base, /trade-api/ws/v2)\n"
"  -v                   more diagnostics on stderr\n"
"  -h, --help           this text\n"
"\n"
"Environment: KALSHI_API_BASE, KALSHI_KEY_ID, KALSHI_KEY_FILE (mode 0600).\n";

struct posn {
	char ticker[RECIO_TICKER_MAX];
	int64_t local;                  /* c100 from the fills seen, settled to 0 */
	int64_t exch;                   /* c100 from the exchange */
	int64_t exposure, realized, fees;       /* cc, the exchange's */
	bool have_exch, emitted, reported;
	int miss;                       /* cycles in a row the two disagreed */
	int64_t close_ms;               /* the market's close, 0 until looked up */
};

/* an order state or a fill, put in time order before the trades see it */
struct ev {
	int64_t ts;
	bool is_order;
	size_t i;                       /* arrival: ties keep it */
	union {
		struct kx_order o;
		struct kx_fill f;
	} u;
};

struct acct {
	struct http_client *http;
	struct kx_key *key;
	struct http_resp r;
	struct json j;
	struct buf out, path;
	struct keyset seen;             /* order states, fill ids, settlement keys handled */
	uint64_t cycle_no, ok_cycle;    /* this cycle's number, the last complete one's */
	struct posn *p;
	size_t np, cp;
	int64_t balance_cc, pv_cents;
	int64_t exch_now_ms;            /* the exchange's clock (balance updated_ts), 0 unknown */
	int64_t newest_order_ms, newest_fill_ms, newest_settle_ms;      /* 0 until a full read */
	struct ev *ev;
	size_t nev, cev;
	bool have_balance;
	char err[512];
	int64_t errors, last_ok_ms, last_health;
	int64_t interval_ms, health_ms;
	int64_t positions_ms, positions_last;   /* -P; when every held position was last written */
	bool mismatch;
	bool unsure;                    /* a market in its cycle of grace: mismatch not known yet */
	struct trades tt;
};

static void
emit_trade(struct acct *a, const struct trade *t)
{
	bool over = t->st == T_CLOSED || t->st == T_SETTLED;

	msg_begin(&a->out, "trade", t->ts);
	jw_kstr(&a->out, "key", t->key);
	jw_kstr(&a->out, "ticker", t->ticker);
	jw_kstr(&a->out, "side", t->yes ? "yes" : "no");
	jw_kstr(&a->out, "status", trade_state_name[t->st]);
	jw_ki64(&a->out, "count", t->bought / 100);
	jw_ki64(&a->out, "held", t->held / 100);
	jw_ki64(&a->out, "open_ts", t->open_ts);
	if (t->end_ts)
		jw_ki64(&a->out, "end_ts", t->end_ts);
	if (t->bought > 0)      /* per contract, rounded down; the cost is exact */
		jw_ki64(&a->out, "avg_entry_cc", t->entry_cost * 100 / t->bought);
	jw_kstr(&a->out, "entry_order_id", t->entry.oid);
	if (t->entry.cid[0])
		jw_kstr(&a->out, "entry_client_order_id", t->entry.cid);
	if (t->exit.oid[0])
		jw_kstr(&a->out, "exit_order_id", t->exit.oid);
	if (t->exit.cid[0])
		jw_kstr(&a->out, "exit_client_order_id", t->exit.cid);
	jw_ki64(&a->out, "entry_cost_cc", t->entry_cost);
	jw_ki64(&a->out, "exit_proceeds_cc", t->exit_proceeds);
	jw_ki64(&a->out, "revenue_cc", t->revenue);
	jw_ki64(&a->out, "fees_cc", t->fees);
	if (over) {
		jw_ki64(&a->out, "pnl_cc", t->pnl);
		jw_kbool(&a->out, "win", t->pnl > 0);
	}
	msg_emit(&a->out);
}

/* one line per trade whose state changed, then forget what is over */
static void
flush_trades(struct acct *a)
{
	struct trade *t;

	for (size_t it = 0; (t = trades_changed(&a->tt, &it)) != NULL; )
		emit_trade(a, t);
	trades_gc(&a->tt);
}

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void __attribute__((noreturn))
usage(const char *why)
{
	die_usage(usage_text, why);
}

/* ---- keys seen ---- */

/* true when key is new.  A key met at the last complete cycle is never
 * forgotten: it can be read again (the last hour is read every cycle, and
 * every resting order); one not met since left that window for good. */
static bool
seen_add(struct acct *a, const char *key)
{
	size_t over = a->seen.over;
	bool added = keyset_add(&a->seen, key, a->cycle_no, a->ok_cycle);

	if (a->seen.over != over)
		warnx_("%zu keys of orders, fills and settlements kept, nearly all read by the last complete cycle: "
		    "none forgotten, the set grows past %d", a->seen.n, SEEN_MAX);
	return added;
}

static struct posn *
posn_get(struct acct *a, const char *ticker)
{
	for (size_t i = 0; i < a->np; i++)
		if (strcmp(a->p[i].ticker, ticker) == 0)
			return &a->p[i];
	if (a->np == a->cp) {
		a->cp = a->cp ? a->cp * 2 : 64;
		a->p = xrealloc(a->p, a->cp * sizeof *a->p);
	}
	memset(&a->p[a->np], 0, sizeof a->p[0]);
	snprintf(a->p[a->np].ticker, sizeof a->p[0].ticker, "%s", ticker);
	return &a->p[a->np++];
}

/* ---- reading ---- */

static int
get(struct acct *a, const char *path)
{
	char e[256];

	if (http_request(a->http, "GET", path, NULL, 0, 0, &a->r) < 0) {
		snprintf(a->err, sizeof a->err, "GET %s: %s", path, a->r.err);
		return -1;
	}
	if (a->r.status != 200) {
		http_error_text(&a->r, e, sizeof e);
		snprintf(a->err, sizeof a->err, "GET %s: HTTP %ld: %s", path, a->r.status, e);
		return -1;
	}
	if (http_json(&a->j, &a->r) < 0) {
		snprintf(a->err, sizeof a->err, "GET %s: not JSON: %s", path, a->j.err);
		return -1;
	}
	return 0;
}

/* Every element of a paged listing, oldest first, into a copy of the
 * raw JSON texts (the listing is newest first). */
static int
read_all(struct acct *a, const char *base, const char *key, struct buf *items, size_t *n)
{
	char cursor[512] = "", err[KX_ERR_MAX];
	int pages = 0;
	struct buf *pg = NULL;
	size_t npg = 0;

	*n = 0;
	buf_reset(items);
	do {
		int arr;

		buf_reset(&a->path);
		buf_puts(&a->path, base);
		if (cursor[0]) {
			buf_puts(&a->path, "&cursor=");
			http_qescape(&a->path, cursor);
		}
		if (get(a, a->path.p) < 0)
			goto fail;
		if ((arr = kx_page(&a->j, key, cursor, sizeof cursor, err, sizeof err)) < 0) {
			snprintf(a->err, sizeof a->err, "GET %s: %s", base, err);
			goto fail;
		}
		pg = xrealloc(pg, (npg + 1) * sizeof *pg);
		memset(&pg[npg], 0, sizeof pg[0]);
		/* keep each element as text, one per line, newest first */
		for (int i = 0; i < json_size(&a->j, arr); i++) {
			size_t l;
			const char *raw = json_raw(&a->j, json_at(&a->j, arr, i), &l);

			buf_add(&pg[npg], raw, l);
			buf_putc(&pg[npg], '\n');
			(*n)++;
		}
		npg++;
	} while (cursor[0] && ++pages < PAGES_MAX);
	if (cursor[0])
		warnx_("GET %s: more than %d pages: the newest %zu items are read, the older ones are not", base,
		    PAGES_MAX, *n);
	/* oldest first: pages in reverse, lines of each page in reverse */
	for (size_t p = npg; p-- > 0; ) {
		char *s = pg[p].p;
		size_t len = pg[p].len;

		while (len > 0) {
			char *nl;
			size_t start;

			len--;          /* the trailing newline */
			for (nl = s + len; nl > s && nl[-1] != '\n'; nl--)
				;
			start = (size_t)(nl - s);
			buf_add(items, s + start, len - start);
			buf_putc(items, '\n');
			len = start;
		}
		buf_free(&pg[p]);
	}
	free(pg);
	return 0;
fail:
	for (size_t p = 0; p < npg; p++)
		buf_free(&pg[p]);
	free(pg);
	return -1;
}

/* ---- one cycle ---- */

static int
do_balance(struct acct *a)
{
	struct kx_balance b;
	char err[KX_ERR_MAX];

	if (get(a, "/portfolio/balance") < 0)
		return -1;
	if (kx_balance_decode(&a->j, 0, &b, err, sizeof err) < 0) {
		snprintf(a->err, sizeof a->err, "GET /portfolio/balance: %s", err);
		return -1;
	}
	if (b.updated_ts > 0)
		a->exch_now_ms = b.updated_ts * 1000;
	if (a->have_balance && b.balance_cc == a->balance_cc && b.portfolio_value_cents == a->pv_cents)
		return 0;
	a->have_balance = true;
	a->balance_cc = b.balance_cc;
	a->pv_cents = b.portfolio_value_cents;
	msg_begin(&a->out, "balance", b.updated_ts ? b.updated_ts * 1000 : rt_now_ms());
	jw_ki64(&a->out, "balance_cc", b.balance_cc);
	jw_ki64(&a->out, "portfolio_value_cc", b.portfolio_value_cents * CC_PER_CENT);
	msg_emit(&a->out);
	return 0;
}

static struct ev *
ev_new(struct acct *a, bool is_order, int64_t ts)
{
	struct ev *e;

	if (a->nev == a->cev) {
		a->cev = a->cev ? a->cev * 2 : 256;
		a->ev = xrealloc(a->ev, a->cev * sizeof *a->ev);
	}
	e = &a->ev[a->nev];
	e->ts = ts;
	e->is_order = is_order;
	e->i = a->nev++;
	return e;
}

/* The path of a listing: everything on the first read, then only what is
 * RECENT_S behind the newest seen (min_ts is in seconds). */
static void
recent_path(struct buf *p, const char *base, int64_t newest_ms)
{
	buf_reset(p);
	buf_puts(p, base);
	/* (newest_ms is 1 after a first read that found nothing: no window) */
	if (newest_ms / 1000 > RECENT_S)
		buf_printf(p, "&min_ts=%lld", (long long)(newest_ms / 1000 - RECENT_S));
}

/* Order states not seen before: the recent orders, and every resting one. */
static int
do_orders(struct acct *a)
{
	static const char *const lists[] = { "/portfolio/orders?limit=200", "/portfolio/orders?limit=200&status=resting" };
	struct buf items = { 0 }, path = { 0 }, key = { 0 };
	struct json j = { 0 };
	size_t n;
	char err[KX_ERR_MAX];
	int64_t newest = a->newest_order_ms;
	int rc = -1;

	for (int li = 0; li < 2; li++) {
		if (li == 0)
			recent_path(&path, lists[0], a->newest_order_ms);
		else {
			buf_reset(&path);
			buf_puts(&path, lists[1]);
		}
		if (read_all(a, path.p, "orders", &items, &n) < 0)
			goto out;
		for (char *l = items.p, *e; l && *l; l = e + 1) {
			struct kx_order o;

			e = strchr(l, '\n');
			if (json_parse(&j, l, (size_t)(e - l)) < 0 || kx_order_decode(&j, 0, &o, err, sizeof err) < 0) {
				snprintf(a->err, sizeof a->err, "GET /portfolio/orders: %s", err);
				goto out;
			}
			if (o.created_ms > newest)
				newest = o.created_ms;
			buf_reset(&key);
			buf_printf(&key, "order|%s|%s|%lld", o.order_id, o.status, (long long)o.filled);
			if (!seen_add(a, key.p))
				continue;
			ev_new(a, true, o.updated_ms > 0 ? o.updated_ms : o.created_ms > 0 ? o.created_ms : rt_now_ms())->u.o = o;
		}
	}
	a->newest_order_ms = newest > 0 ? newest : 1;
	rc = 0;
out:
	buf_free(&key);
	buf_free(&path);
	json_free(&j);
	buf_free(&items);
	return rc;
}

static int
do_fills(struct acct *a)
{
	struct buf items = { 0 }, path = { 0 };
	struct json j = { 0 };
	size_t n;
	char err[KX_ERR_MAX];
	int64_t newest = a->newest_fill_ms;
	int rc = -1;

	recent_path(&path, "/portfolio/fills?limit=1000", a->newest_fill_ms);
	if (read_all(a, path.p, "fills", &items, &n) < 0)
		goto out;
	for (char *l = items.p, *e; l && *l; l = e + 1) {
		struct kx_fill f;

		e = strchr(l, '\n');
		if (json_parse(&j, l, (size_t)(e - l)) < 0 || kx_fill_decode(&j, 0, &f, err, sizeof err) < 0) {
			snprintf(a->err, sizeof a->err, "GET /portfolio/fills: %s", err);
			goto out;
		}
		if (f.ts_ms > newest)
			newest = f.ts_ms;
		if (!seen_add(a, f.fill_id))
			continue;       /* the same fill again (a duplicate delivery, the next cycle) */
		ev_new(a, false, f.ts_ms)->u.f = f;
	}
	a->newest_fill_ms = newest > 0 ? newest : 1;
	rc = 0;
out:
	json_free(&j);
	buf_free(&path);
	buf_free(&items);
	return rc;
}

static void
fill_line(struct acct *a, const struct kx_fill *f)
{
	struct posn *p = posn_get(a, f->ticker);
	bool bid = strcmp(f->book_side, "bid") == 0;
	int64_t before = p->local;

	p->local += bid ? f->count : -f->count;
	msg_begin(&a->out, "fill", f->ts_ms);
	jw_kstr(&a->out, "fill_id", f->fill_id);
	jw_kstr(&a->out, "order_id", f->order_id);
	jw_kstr(&a->out, "trade_id", f->trade_id);
	jw_kstr(&a->out, "ticker", f->ticker);
	jw_kstr(&a->out, "book_side", f->book_side);
	jw_kstr(&a->out, "outcome_side", f->outcome_side);
	/* what it did to the position held before it */
	jw_kstr(&a->out, "side", bid ? (before < 0 ? "no" : "yes") : (before > 0 ? "yes" : "no"));
	jw_kstr(&a->out, "action", bid ? (before < 0 ? "sell" : "buy") : (before > 0 ? "sell" : "buy"));
	jw_ki64(&a->out, "count", f->count / 100);
	jw_ki64(&a->out, "yes_price_cc", f->yes_price);
	jw_ki64(&a->out, "fee_cc", f->fee);
	jw_kbool(&a->out, "is_taker", f->is_taker);
	msg_emit(&a->out);
	trades_fill(&a->tt, f->ticker, f->order_id, bid, f->count, f->yes_price, f->fee, f->ts_ms);
}

static int
ev_cmp(const void *x, const void *y)
{
	const struct ev *p = x, *q = y;

	if (p->ts != q->ts)
		return p->ts < q->ts ? -1 : 1;
	if (p->is_order != q->is_order)         /* at the same time a fill goes first: an exit */
		return p->is_order ? 1 : -1;    /* sent then must find the trade it closes */
	return p->i < q->i ? -1 : p->i > q->i;
}

/* The orders and fills read this cycle, in time order: fill lines out,
 * and the trades told. */
static void
process_events(struct acct *a)
{
	if (a->nev > 1)
		qsort(a->ev, a->nev, sizeof *a->ev, ev_cmp);
	for (size_t i = 0; i < a->nev; i++) {
		const struct ev *e = &a->ev[i];

		if (e->is_order) {
			const struct kx_order *o = &e->u.o;
			struct trade_order to = {
				o->ticker, o->order_id, o->client_order_id, strcmp(o->book_side, "bid") == 0,
				strcmp(o->status, "resting") != 0, o->filled, e->ts
			};

			trades_order(&a->tt, &to);
		} else
			fill_line(a, &e->u.f);
	}
	a->nev = 0;
}

static int
do_settlements(struct acct *a)
{
	struct buf items = { 0 }, key = { 0 }, path = { 0 };
	struct json j = { 0 };
	size_t n;
	char err[KX_ERR_MAX];
	int rc = -1;

	int64_t newest = a->newest_settle_ms;

	recent_path(&path, "/portfolio/settlements?limit=200", a->newest_settle_ms);
	if (read_all(a, path.p, "settlements", &items, &n) < 0)
		goto out;
	for (char *l = items.p, *e; l && *l; l = e + 1) {
		struct kx_settlement st;
		struct posn *p;

		e = strchr(l, '\n');
		if (json_parse(&j, l, (size_t)(e - l)) < 0 || kx_settlement_decode(&j, 0, &st, err, sizeof err) < 0) {
			snprintf(a->err, sizeof a->err, "GET /portfolio/settlements: %s", err);
			goto out;
		}
		if (st.settled_ms > newest)
			newest = st.settled_ms;
		buf_reset(&key);
		buf_printf(&key, "settlement|%s|%lld", st.ticker, (long long)st.settled_ms);
		if (!seen_add(a, key.p))
			continue;
		p = posn_get(a, st.ticker);
		p->local = 0;           /* settled: nothing held */
		msg_begin(&a->out, "settlement", st.settled_ms);
		jw_kstr(&a->out, "key", key.p);
		jw_kstr(&a->out, "ticker", st.ticker);
		jw_kstr(&a->out, "event_ticker", st.event_ticker);
		jw_kstr(&a->out, "result", st.result);
		jw_ki64(&a->out, "yes_count", st.yes_count / 100);
		jw_ki64(&a->out, "no_count", st.no_count / 100);
		jw_ki64(&a->out, "cost_cc", st.yes_cost + st.no_cost);
		jw_ki64(&a->out, "revenue_cc", st.revenue_cents * CC_PER_CENT);
		jw_ki64(&a->out, "fee_cc", st.fee);
		msg_emit(&a->out);
		trades_settle(&a->tt, st.ticker, st.revenue_cents * CC_PER_CENT, st.fee, st.settled_ms);
	}
	a->newest_settle_ms = newest > 0 ? newest : 1;
	rc = 0;
out:
	buf_free(&path);
	buf_free(&key);
	json_free(&j);
	buf_free(&items);
	return rc;
}

static int
do_positions(struct acct *a)
{
	struct buf items = { 0 };
	struct json j = { 0 };
	size_t n;
	char err[KX_ERR_MAX];
	int rc = -1;
	/* every position held written again now and then: a reader that
	 * restarted (signal-eval keeps no state) learns what is held */
	bool again = a->positions_ms > 0 && rt_mono_ms() - a->positions_last >= a->positions_ms;

	for (size_t i = 0; i < a->np; i++)
		a->p[i].have_exch = false;
	if (read_all(a, "/portfolio/positions?limit=1000", "market_positions", &items, &n) < 0)
		goto out;
	for (char *l = items.p, *e; l && *l; l = e + 1) {
		struct kx_position kp;
		struct posn *p;
		bool changed;

		e = strchr(l, '\n');
		if (json_parse(&j, l, (size_t)(e - l)) < 0 || kx_position_decode(&j, 0, &kp, err, sizeof err) < 0) {
			snprintf(a->err, sizeof a->err, "GET /portfolio/positions: %s", err);
			goto out;
		}
		p = posn_get(a, kp.ticker);
		changed = !p->emitted || p->exch != kp.position || p->exposure != kp.exposure ||
		    p->realized != kp.realized || p->fees != kp.fees;
		p->have_exch = true;
		p->exch = kp.position;
		p->exposure = kp.exposure;
		p->realized = kp.realized;
		p->fees = kp.fees;
		if (!changed && !(again && kp.position != 0))
			continue;
		p->emitted = true;
		msg_begin(&a->out, "position", kp.updated_ms > 0 ? kp.updated_ms : rt_now_ms());
		jw_kstr(&a->out, "ticker", kp.ticker);
		jw_ki64(&a->out, "position", kp.position / 100);
		jw_ki64(&a->out, "exposure_cc", kp.exposure);
		jw_ki64(&a->out, "realized_cc", kp.realized);
		jw_ki64(&a->out, "fees_cc", kp.fees);
		msg_emit(&a->out);
	}
	if (again)
		a->positions_last = rt_mono_ms();
	rc = 0;
out:
	json_free(&j);
	buf_free(&items);
	return rc;
}

/* A trade still held when its market has closed is expired.  Each market
 * is looked up once for its close time, and again once the exchange's
 * clock has passed it (every cycle when that clock is not known). */
static int
do_expiry(struct acct *a)
{
	for (size_t i = 0; i < a->tt.n; i++) {
		const struct trade *t = &a->tt.t[i];
		struct posn *p;
		struct kx_market m;
		char err[KX_ERR_MAX];
		int mt;

		if (t->st != T_OPEN && t->st != T_CLOSING)
			continue;
		p = posn_get(a, t->ticker);
		if (p->close_ms > 0 && a->exch_now_ms > 0 && a->exch_now_ms < p->close_ms)
			continue;
		buf_reset(&a->path);
		buf_puts(&a->path, "/markets/");
		http_qescape(&a->path, t->ticker);
		if (get(a, a->path.p) < 0)
			return -1;
		if ((mt = json_get(&a->j, 0, "market")) < 0 || kx_market_decode(&a->j, mt, &m, err, sizeof err) < 0) {
			snprintf(a->err, sizeof a->err, "GET %s: %s", a->path.p, mt < 0 ? "no market" : err);
			return -1;
		}
		p->close_ms = m.close_ms;
		if (strcmp(m.status, "closed") == 0 || strcmp(m.status, "determined") == 0 ||
		    strcmp(m.status, "settled") == 0 || strcmp(m.status, "finalized") == 0)
			trades_expire(&a->tt, m.ticker, m.close_ms > 0 ? m.close_ms : rt_now_ms());
	}
	return 0;
}

/* The fills must add up to the exchange's positions.  A market absent
 * from the exchange's list is not "flat" unless the fills say so too. */
static void
reconcile(struct acct *a)
{
	bool any = false;

	a->unsure = false;
	for (size_t i = 0; i < a->np; i++) {
		struct posn *p = &a->p[i];
		int64_t exch = p->have_exch ? p->exch : 0;

		if (p->local == exch) {
			if (p->reported) {
				msg_begin(&a->out, "health", rt_now_ms());
				jw_kstr(&a->out, "src", "acct-sync");
				jw_kstr(&a->out, "status", "ok");
				jw_kstr(&a->out, "ticker", p->ticker);
				jw_kstr(&a->out, "message", "positions agree again");
				msg_emit(&a->out);
			}
			p->miss = 0;
			p->reported = false;
			continue;
		}
		/* one cycle of grace: a fill and its position may straddle two reads */
		if (++p->miss < 2) {
			a->unsure = true;
			continue;
		}
		any = true;
		if (p->reported)
			continue;
		p->reported = true;
		warnx_("%s: the fills add up to %lld, the exchange says %lld", p->ticker, (long long)(p->local / 100),
		    (long long)(exch / 100));
		msg_begin(&a->out, "health", rt_now_ms());
		jw_kstr(&a->out, "src", "acct-sync");
		jw_kstr(&a->out, "status", "mismatch");
		jw_kstr(&a->out, "ticker", p->ticker);
		jw_ki64(&a->out, "local", p->local / 100);
		jw_ki64(&a->out, "exchange", exch / 100);
		msg_emit(&a->out);
	}
	a->mismatch = any;
}

static void
health(struct acct *a, bool force)
{
	int64_t now = rt_mono_ms();

	if (!force && now - a->last_health < a->health_ms)
		return;
	/* a market in its cycle of grace: "ok" may be untrue (health-serve
	 * takes it to end every mismatch; after a start, a mismatch that
	 * persists is in its grace on the first cycle), "mismatch" may be a
	 * straddled read: wait a cycle, not more than one health period */
	if (!force && a->unsure && now - a->last_health < 2 * a->health_ms)
		return;
	a->last_health = now;
	msg_begin(&a->out, "health", rt_now_ms());
	jw_kstr(&a->out, "src", "acct-sync");
	jw_kstr(&a->out, "status", a->errors ? "degraded" : a->mismatch ? "mismatch" : "ok");
	jw_ki64(&a->out, "last_ok_ts", a->last_ok_ms);
	jw_ki64(&a->out, "errors", a->errors);
	jw_ki64(&a->out, "retries", (int64_t)http_retries(a->http));
	if (a->errors)
		jw_kstr(&a->out, "error", a->err);
	msg_emit(&a->out);
}

static void
cycle(struct acct *a)
{
	/* orders and fills, then settlements, then positions: a position read
	 * after its fills and settlements never shows more than they do.  What
	 * was read is marked seen; its events wait for a cycle in which both
	 * orders and fills were read (an exit order seen without the fills
	 * of its trade's entry would look like an entry of its own). */
	int rc;

	a->cycle_no++;
	if ((rc = do_orders(a)) == 0)
		rc = do_fills(a);
	if (rc == 0)
		process_events(a);
	if (rc == 0)
		rc = do_settlements(a);
	if (rc == 0)
		rc = do_positions(a);
	if (rc == 0)
		rc = do_balance(a);
	if (rc == 0)
		rc = do_expiry(a);
	flush_trades(a);
	if (rc == 0) {
		if (a->errors)
			infox("recovered");
		a->errors = 0;
		a->ok_cycle = a->cycle_no;
		a->last_ok_ms = rt_now_ms();
		reconcile(a);
		msg_ready();    /* a complete cycle */
	} else {
		a->errors++;
		warnx_("%s (%lld in a row)", a->err, (long long)a->errors);
		if (a->errors == 1)
			health(a, true);
	}
	health(a, false);
}

/* ---- woken by the socket ---- */

struct waker {
	struct acct *a;
	struct ws_client *ws;
	bool woken;
	int64_t next_cycle, reconnect_at, backoff;
};

static void
wk_open(void *arg)
{
	static const char sub[] = "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"fill\",\"market_positions\"]}}";
	struct waker *w = arg;

	infox("socket open: a cycle after every fill");
	w->backoff = 1000;
	w->woken = true;                /* whatever happened while it was down */
	if (ws_send(w->ws, sub, sizeof sub - 1) < 0)
		warnx_("socket: cannot subscribe");
}

static void
wk_close(void *arg, const char *why)
{
	struct waker *w = arg;

	if (stop)
		return;
	warnx_("socket: %s; polling every %lld ms until it is back (retry in %lld s)", why,
	    (long long)w->a->interval_ms, (long long)(w->backoff / 1000));
	w->reconnect_at = rt_mono_ms() + w->backoff;
	w->backoff = w->backoff * 2 > 30000 ? 30000 : w->backoff * 2;
}

/* {"type":"fill"|"market_position"|"subscribed"|"error",...}: the first two wake */
static void
wk_text(void *arg, const char *text, size_t n)
{
	struct waker *w = arg;
	struct json j = { 0 };
	char type[24];

	if (json_parse(&j, text, n) < 0 || json_get_str(&j, 0, "type", type, sizeof type) < 0)
		warnx_("socket: a message that is not JSON with a type, skipped");
	else if (strcmp(type, "fill") == 0 || strcmp(type, "market_position") == 0)
		w->woken = true;
	else if (strcmp(type, "error") == 0) {
		char em[128] = "";

		json_get_str(&j, json_get(&j, 0, "msg"), "msg", em, sizeof em);
		warnx_("socket: error from the exchange: %s", em);
	}
	json_free(&j);
}

static void
wk_tick(void *arg)
{
	struct waker *w = arg;
	int64_t now = rt_mono_ms();

	if (w->woken || now >= w->next_cycle) {
		w->woken = false;
		cycle(w->a);
		w->next_cycle = rt_mono_ms() + w->a->interval_ms;
	}
	if ((ws_state(w->ws) == WS_CLOSED || ws_state(w->ws) == WS_IDLE) && now >= w->reconnect_at &&
	    ws_connect(w->ws) < 0)
		wk_close(w, "cannot start connecting");
}

static int
run_ws(struct acct *a, const char *url, const char *key_id)
{
	static struct waker w;
	struct ws_handlers h = { wk_open, wk_text, wk_close, wk_tick, &w, 50 };

	w.a = a;
	w.backoff = 1000;
	if ((w.ws = ws_new(url, a->key, key_id, &h)) == NULL)
		return 1;
	ws_run(w.ws, &stop);
	ws_free(w.ws);
	return 0;
}

static int64_t
seconds_ms(const char *opt, const char *s)
{
	char *end, m[128];
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end != s && !*end && !errno && v >= 0.05 && v <= 86400)
		return (int64_t)(v * 1000.0 + 0.5);
	snprintf(m, sizeof m, "%s: \"%s\" is not a number of seconds from 0.05 to 86400", opt, s);
	usage(m);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' }, { "url", required_argument, NULL, 'u' },
		{ "interval", required_argument, NULL, 'i' }, { "health", required_argument, NULL, 'H' },
		{ "positions", required_argument, NULL, 'P' },
		{ "once", no_argument, NULL, 'O' }, { "ws", no_argument, NULL, 'w' },
		{ "ws-url", required_argument, NULL, 'W' }, { NULL, 0, NULL, 0 }
	};
	static struct acct a;
	const char *base = cfg_env("KALSHI_API_BASE", "http://127.0.0.1:8080/trade-api/v2");
	const char *key_id = cfg_env("KALSHI_KEY_ID", NULL), *key_file = cfg_env("KALSHI_KEY_FILE", NULL);
	struct sigaction sa;
	bool once = false, ws = false;
	const char *ws_url = NULL;
	char ws_buf[RECIO_PATH_MAX];
	int ch, rc = 0;

	diag_init(argv[0]);
	a.interval_ms = 2000;
	a.health_ms = 10000;
	a.positions_ms = 10000;
	keyset_init(&a.seen, SEEN_MAX);
	while ((ch = getopt_long(argc, argv, "hu:i:H:P:wv", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': fputs(usage_text, stdout); return 0;
		case 'u': base = optarg; break;
		case 'i': a.interval_ms = seconds_ms("--interval", optarg); break;
		case 'H': a.health_ms = seconds_ms("--health", optarg); break;
		case 'P': a.positions_ms = strcmp(optarg, "0") == 0 ? 0 : seconds_ms("--positions", optarg); break;
		case 'O': once = true; break;
		case 'w': ws = true; break;
		case 'W': ws_url = optarg; break;
		case 'v': diag_verbose++; break;
		default: usage(NULL);
		}
	}
	if (optind != argc)
		usage("unexpected argument");
	if (ws && once)
		usage("-w and --once do not go together");
	if (ws && ws_url == NULL) {
		if (kx_ws_url(base, ws_buf, sizeof ws_buf) < 0)
			usage("-w: cannot derive the socket URL from the API base; give --ws-url");
		ws_url = ws_buf;
	}
	if (!key_id || !key_file)
		die(1, "KALSHI_KEY_ID and KALSHI_KEY_FILE are needed to read the account");
	if ((a.key = kx_key_load_private(key_file)) == NULL)
		return 1;
	if ((a.http = http_new(base, NULL, a.key, key_id)) == NULL)
		return 1;
	/* the first health line is due at the first cycle, and may wait one
	 * more, as any other, while a market is in its cycle of grace */
	a.last_health = rt_mono_ms() - a.health_ms;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	if (ws)
		rc = run_ws(&a, ws_url, key_id);
	for (int tries = 0; !ws && !stop;) {
		int64_t t0 = rt_mono_ms();

		cycle(&a);
		/* --once: one complete cycle; what a failed one already wrote is
		 * not written again (keys seen), so trying again is safe */
		if (once && (a.errors == 0 || ++tries == ONCE_TRIES))
			break;
		for (int64_t left; !stop && (left = a.interval_ms - (rt_mono_ms() - t0)) > 0; )
			rt_sleep_ms(left < 100 ? left : 100);
	}
	http_free(a.http);
	kx_key_free(a.key);
	http_resp_free(&a.r);
	json_free(&a.j);
	buf_free(&a.out);
	buf_free(&a.path);
	keyset_free(&a.seen);
	free(a.p);
	free(a.ev);
	trades_free(&a.tt);
	return rc ? rc : once && a.errors ? 1 : 0;
}
