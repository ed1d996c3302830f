/* order-send: signals in, orders out, exactly once, inside risk limits.
 * See man/order-send.1.
 *
 * Exactly once.  Each signal's client_order_id is derived from its id.
 * Before an order is sent its intent is appended to the journal and
 * fsync'd (--intent-sync after: fsync'd once the request is answered); its
 * outcome is appended when known, and fsync'd only when the exchange could
 * not tell it again (rejected, failed): an outcome lost with the machine
 * costs a lookup at the next start, not a second order.  At start, and
 * whenever an outcome is unknown (a timeout, a 5xx, a dropped connection, an empty or
 * unparsable 2xx, a 409), the exchange's orders are searched for that
 * client_order_id before anything is sent again: an intent the exchange
 * knows is never sent twice, and an unknown order blocks its market until
 * it is settled.  A "not found" within the read-lag window is not taken
 * for an answer; a transport error is never "not found". */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"
#include "http.h"
#include "json.h"
#include "kx.h"
#include "money.h"
#include "msg.h"
#include "ndjson.h"
#include "rlimits.h"
#include "rtime.h"
#include "sign.h"

#define LAG_MS 10000            /* an order may stay invisible this long after its ack */
#define RESEND_MAX_MS 30000     /* an intent older than this is not sent again */
#define TTC_NONE INT64_MIN      /* a signal without a ttc (a manual order) */
#define ACK_MAX_MS 120000       /* a taken order's fill is read this long, then left to acct-sync */
#define ORDERS_MAX 100000       /* journal records kept in memory */
#define LOOKUP_PAGES_MAX 50     /* pages of a market's orders a lookup reads (200 a page) */
#define TICK_MS 250             /* periodic work: reconcile, kill switch */

/* the risk rules, as named in refusals and counted in health lines */
enum rule {
	R_KILL, R_MISMATCH, R_MAX_PRICE, R_MIN_PRICE, R_MIN_TTC, R_MAX_PER_MARKET, R_MAX_PER_EVENT,
	R_MAX_EXPOSURE, R_MAX_POSITIONS, R_DAILY_LOSS, R_RATE, R_UNKNOWN, R_NRULES
};
static const char *const rule_name[R_NRULES] = {
	"kill_switch", "mismatch", "max_price", "min_price", "min_ttc", "max_per_market", "max_per_event",
	"max_exposure", "max_positions", "daily_loss_limit", "max_orders_per_minute", "unknown_outcome"
};

static const char usage_text[] =
"usage: order-send [-nv] [--paper] [-j JOURNAL] [-c FILE] [-s KEY=VALUE]... [-u URL]\n"
"                  [-H SECONDS] [--rate-limit basic|off] [--presign N]\n"
"                  [--intent-sync before|after]\n"
"\n"
"Read signal lines (and market, position, settlement lines) on stdin; place\n"
"each signal's order exactly once on Kalshi's V2 endpoint, inside the risk\n"
"limits; write an order line for every state change: intent, sent, accepted,\n"
"partial, filled, rejected, canceled, error (outcome unknown until\n"
"reconciled), refused (the risk rule, named, and the reason); and a health line\n"
"every -H seconds and at the end, with orders sent and refusals by rule.\n"
"\n"
"  -j, --journal FILE   the intent journal (default $RECIO_JOURNAL, else\n"
"                       var/order-send.journal)\n"
"      --paper          no exchange: fill at the ask (bid) seen in the stream,\n"
"                       with Kalshi's fee\n"
"  -c, --config FILE    risk settings (KEY=VALUE); -s KEY=VALUE overrides\n"
"  -u, --url URL        API base (default $KALSHI_API_BASE, else the local simulator)\n"
"  -H, --health S       seconds between health lines (default 10)\n"
"      --rate-limit L   basic: wait on Kalshi's Basic-tier token buckets before\n"
"                       each request (default); off: no client-side wait (an\n"
"                       exchange that does not limit, kalshi-sim --rate-limit off)\n"
"      --presign N      keep N order signatures made ahead, while idle (default\n"
"                       4, at most 8; 0: sign each order when it is sent)\n"
"      --intent-sync W  before: an order's intent is on disk (fsync) before the\n"
"                       order is sent (default); after: written before, synced\n"
"                       once the exchange answered (faster; see order-send(1))\n"
"  -n                   check the configuration and exit\n"
"  -v                   more diagnostics on stderr\n"
"  -h, --help           this text\n"
"\n"
"Risk settings (defaults): max_per_market (100 contracts) max_per_event (500)\n"
"max_exposure (500 dollars) max_orders_per_minute (30) daily_loss_limit (100\n"
"dollars) max_price (98 cents, buys) min_price (1 cent, sells) min_ttc (60 s,\n"
"opens) max_positions (20).  The kill switch: while the file $RECIO_KILL\n"
"(default var/KILL) exists, opening orders are refused and closes still go.\n";

struct risk {
	int64_t max_per_market, max_per_event, max_exposure_cc, max_orders_per_min;
	int64_t daily_loss_cc, max_price, min_price, min_ttc_s, max_positions;
};

struct pos {
	char ticker[RECIO_TICKER_MAX], event[RECIO_TICKER_MAX];
	int64_t count;                  /* contracts: + YES, - NO */
	int64_t cost_cc;                /* paid for what is held */
	int64_t yes_bid, yes_ask, no_bid, no_ask;       /* last quotes (paper fills) */
};

enum ostate { O_PENDING, O_DONE };

struct ord {
	char cid[RECIO_ID_MAX], signal_id[RECIO_ID_MAX], ticker[RECIO_TICKER_MAX], event[RECIO_TICKER_MAX];
	char order_id[RECIO_ID_MAX];
	bool buy, yes;
	int64_t count, price, ts;
	int64_t sent_mono;              /* when its last send ended (answered or timed out) */
	int64_t first_mono;             /* when it was first sent: its age */
	enum ostate st;
};

struct os {
	const char *journal_path, *kill_path, *config, *sets[64];
	int nsets;
	bool paper;
	struct risk r;
	int jfd;
	struct kx_key *key;
	const char *key_id;
	struct http_client *http;
	struct http_resp resp;
	struct json j;
	struct buf out, rec;
	struct ord *o;
	size_t no, co;
	struct pos *p;
	size_t np, cp;
	int64_t recent[256];            /* message times of recent orders (rate limit) */
	size_t nrecent;
	int64_t day, realized_cc;       /* UTC day of the realised P&L */
	int64_t paper_seq;
	unsigned long refused, sent, refused_by[R_NRULES];
	unsigned long unknown_total;    /* sends whose outcome was unknown, since start */
	char (*mismatch)[RECIO_TICKER_MAX];     /* markets whose positions disagree */
	size_t nmismatch, cmismatch;
	char (*settled)[RECIO_TICKER_MAX];      /* markets whose settlement is journalled */
	size_t nsettled, csettled;
	int64_t health_ms, last_health;
	int presign;                    /* pre-made order signatures kept */
	bool sync_after;                /* --intent-sync after */
	int64_t ps_at;                  /* monotonic ms of the next presign step */
	int64_t tick_at;                /* monotonic ms of the next periodic work */
};

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

/* ---- settings ---- */

static int
risk_set(struct risk *r, const char *k, const char *v)
{
	static const struct { const char *name; size_t off; int64_t lo, hi; bool dollars; } keys[] = {
		{ "max_per_market", offsetof(struct risk, max_per_market), 0, 1000000, false },
		{ "max_per_event", offsetof(struct risk, max_per_event), 0, 10000000, false },
		{ "max_exposure", offsetof(struct risk, max_exposure_cc), 0, INT64_MAX / 2, true },
		{ "max_orders_per_minute", offsetof(struct risk, max_orders_per_min), 0, 256, false },
		{ "daily_loss_limit", offsetof(struct risk, daily_loss_cc), 0, INT64_MAX / 2, true },
		{ "max_price", offsetof(struct risk, max_price), 1, 99, false },
		{ "min_price", offsetof(struct risk, min_price), 1, 99, false },
		{ "min_ttc", offsetof(struct risk, min_ttc_s), 0, 86400, false },
		{ "max_positions", offsetof(struct risk, max_positions), 0, 100000, false },
	};

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		int64_t x;

		if (strcmp(keys[i].name, k) != 0)
			continue;
		if (keys[i].dollars ? money_parse_dollars(v, strlen(v), &x) < 0 || x < 0 :
		    cfg_parse_i64(v, keys[i].lo, keys[i].hi, &x) < 0) {
			warnx_("%s: \"%s\" is not %s", k, v, keys[i].dollars ? "an amount in dollars" : "an integer in range");
			return -1;
		}
		if (!keys[i].dollars && (x < keys[i].lo || x > keys[i].hi)) {
			warnx_("%s: %lld out of range", k, (long long)x);
			return -1;
		}
		*(int64_t *)(void *)((char *)r + keys[i].off) = x;
		return 0;
	}
	warnx_("%s: unknown risk setting", k);
	return -1;
}

static int
on_pair(const char *k, const char *v, void *arg)
{
	return risk_set(arg, k, v);
}

/* ---- state ---- */

static struct pos *
pos_get(struct os *s, const char *ticker)
{
	for (size_t i = 0; i < s->np; i++)
		if (strcmp(s->p[i].ticker, ticker) == 0)
			return &s->p[i];
	if (s->np == s->cp) {
		s->cp = s->cp ? s->cp * 2 : 64;
		s->p = xrealloc(s->p, s->cp * sizeof *s->p);
	}
	memset(&s->p[s->np], 0, sizeof s->p[0]);
	snprintf(s->p[s->np].ticker, sizeof s->p[0].ticker, "%s", ticker);
	return &s->p[s->np++];
}

static struct ord *
ord_find(struct os *s, const char *cid)
{
	for (size_t i = s->no; i-- > 0; )
		if (strcmp(s->o[i].cid, cid) == 0)
			return &s->o[i];
	return NULL;
}

static struct ord *
ord_add(struct os *s)
{
	if (s->no == ORDERS_MAX) {      /* forget the oldest settled one */
		size_t k = 0;

		while (k < s->no && s->o[k].st != O_DONE)
			k++;
		if (k == s->no)
			die(1, "more than %d orders of unknown outcome", ORDERS_MAX);
		memmove(&s->o[k], &s->o[k + 1], (s->no - k - 1) * sizeof *s->o);
		s->no--;
	}
	if (s->no == s->co) {
		s->co = s->co ? s->co * 2 : 256;
		s->o = xrealloc(s->o, s->co * sizeof *s->o);
	}
	memset(&s->o[s->no], 0, sizeof s->o[0]);
	return &s->o[s->no++];
}

/* The UTC day of message time ts: a later one starts the loss limit over;
 * an earlier one (a line from before midnight, late) changes nothing. */
static void
day_at(struct os *s, int64_t ts)
{
	if (ts / 86400000 > s->day) {
		s->day = ts / 86400000;
		s->realized_cc = 0;
	}
}

/* A fill of our own moves the position (netted, + YES / - NO); cost_cc is
 * what a buy paid or a sale brought in, fees counted. */
static void
book_fill(struct os *s, const struct ord *o, int64_t filled, int64_t cost_cc)
{
	struct pos *p = pos_get(s, o->ticker);
	int64_t signed_n = (o->buy == o->yes) ? filled : -filled;
	int64_t before = p->count;

	if (o->event[0])
		snprintf(p->event, sizeof p->event, "%s", o->event);
	if (o->buy) {
		p->count += signed_n;
		p->cost_cc += cost_cc;
	} else {
		/* a sale: proceeds against the cost of what was held */
		int64_t held = before < 0 ? -before : before;
		int64_t basis = held ? p->cost_cc * filled / held : 0;

		p->count += signed_n;
		p->cost_cc -= basis;
		s->realized_cc += cost_cc - basis;
	}
}

/* ---- the journal ---- */

static void
journal_append(struct os *s, struct buf *b, bool sync)
{
	buf_putc(b, '\n');
	if (write_all(s->jfd, b->p, b->len) < 0 || (sync && fsync(s->jfd) < 0))
		die(1, "%s: cannot append to the journal:", s->journal_path);
}

static void
journal_intent(struct os *s, const struct ord *o, bool sync)
{
	buf_reset(&s->rec);
	jw_obj(&s->rec);
	jw_kstr(&s->rec, "j", "intent");
	jw_kstr(&s->rec, "cid", o->cid);
	jw_kstr(&s->rec, "signal_id", o->signal_id);
	jw_kstr(&s->rec, "ticker", o->ticker);
	jw_kstr(&s->rec, "event_ticker", o->event);
	jw_kstr(&s->rec, "side", o->yes ? "yes" : "no");
	jw_kstr(&s->rec, "action", o->buy ? "buy" : "sell");
	jw_ki64(&s->rec, "count", o->count);
	jw_ki64(&s->rec, "price", o->price);
	jw_ki64(&s->rec, "ts", o->ts);
	jw_ki64(&s->rec, "wall_ms", rt_now_ms());
	jw_obj_end(&s->rec);
	journal_append(s, &s->rec, sync);
}

/* filled and cost_cc as the order line says them; booked_cc what
 * book_fill was given (fees counted), which a replay books again. */
static void
journal_done(struct os *s, const struct ord *o, const char *status, int64_t filled, int64_t cost_cc,
    int64_t booked_cc)
{
	buf_reset(&s->rec);
	jw_obj(&s->rec);
	jw_kstr(&s->rec, "j", "done");
	jw_kstr(&s->rec, "cid", o->cid);
	jw_kstr(&s->rec, "status", status);
	jw_kstr(&s->rec, "order_id", o->order_id);
	jw_ki64(&s->rec, "filled", filled);
	jw_ki64(&s->rec, "cost_cc", cost_cc);
	if (filled > 0)
		jw_ki64(&s->rec, "booked_cc", booked_cc);
	jw_obj_end(&s->rec);
	/* accepted, filled, canceled: a lookup finds them at the exchange */
	journal_append(s, &s->rec, strcmp(status, "rejected") == 0 || strcmp(status, "failed") == 0);
}

/* ---- order lines ---- */

static void
line_begin(struct os *s, const struct ord *o, const char *status, int64_t ts)
{
	msg_begin(&s->out, "order", ts);
	jw_kstr(&s->out, "status", status);
	jw_kstr(&s->out, "client_order_id", o->cid);
	jw_kstr(&s->out, "signal_id", o->signal_id);
	jw_kstr(&s->out, "ticker", o->ticker);
	jw_kstr(&s->out, "side", o->yes ? "yes" : "no");
	jw_kstr(&s->out, "action", o->buy ? "buy" : "sell");
	jw_ki64(&s->out, "count", o->count);
	jw_ki64(&s->out, "price", o->price);
	if (o->order_id[0])
		jw_kstr(&s->out, "order_id", o->order_id);
}

static void
line(struct os *s, const struct ord *o, const char *status, int64_t ts)
{
	line_begin(s, o, status, ts);
	msg_emit(&s->out);
}

static void
refuse(struct os *s, const struct ord *o, enum rule rule, const char *why)
{
	s->refused++;
	s->refused_by[rule]++;
	line_begin(s, o, "refused", o->ts);
	jw_kstr(&s->out, "rule", rule_name[rule]);
	jw_kstr(&s->out, "reason", why);
	msg_emit(&s->out);
}

/* ---- risk ---- */

static bool
killed(const struct os *s)
{
	return access(s->kill_path, F_OK) == 0;
}

/* The first rule this order breaks (why says how), or -1.  Closes (sells) are only
 * held to the price band: getting out is never blocked by a limit on
 * getting in. */
static int
risk_check(struct os *s, const struct ord *o, int64_t ttc_s, char *why, size_t cap)
{
	const struct risk *r = &s->r;
	struct pos *p = pos_get(s, o->ticker);
	int64_t held = p->count < 0 ? -p->count : p->count, ev = 0, exposure = 0, npos = 0, n = 0;
	/* the event: the signal's, else its market's (from the market lines) */
	const char *event = o->event[0] ? o->event : p->event;
	bool unknown_here = false;

	if (!o->buy) {
		if (o->price < r->min_price)
			return snprintf(why, cap, "price %lld < min_price %lld", (long long)o->price, (long long)r->min_price), R_MIN_PRICE;
		return -1;
	}
	if (killed(s))
		return snprintf(why, cap, "kill switch %s", s->kill_path), R_KILL;
	if (s->nmismatch)
		return snprintf(why, cap, "positions disagree with the exchange on %s", s->mismatch[0]), R_MISMATCH;
	if (o->price > r->max_price)
		return snprintf(why, cap, "price %lld > max_price %lld", (long long)o->price, (long long)r->max_price), R_MAX_PRICE;
	if (ttc_s != TTC_NONE && ttc_s < r->min_ttc_s)
		return snprintf(why, cap, "ttc %lld s < min_ttc %lld", (long long)ttc_s, (long long)r->min_ttc_s), R_MIN_TTC;
	if (held + o->count > r->max_per_market)
		return snprintf(why, cap, "market %lld + %lld > max_per_market %lld", (long long)held, (long long)o->count,
		    (long long)r->max_per_market), R_MAX_PER_MARKET;
	for (size_t i = 0; i < s->np; i++) {
		int64_t h = s->p[i].count < 0 ? -s->p[i].count : s->p[i].count;

		if (event[0] && strcmp(s->p[i].event, event) == 0)
			ev += h;
		exposure += s->p[i].cost_cc;
		npos += h != 0;
	}
	/* orders of unknown outcome: one on this market blocks it (the last
	 * rule, below); buys count as if filled whole */
	for (size_t i = 0; i < s->no; i++) {
		const struct ord *q = &s->o[i];

		if (q->st != O_PENDING)
			continue;
		if (strcmp(q->ticker, o->ticker) == 0)
			unknown_here = true;
		if (!q->buy)
			continue;
		if (event[0] && (strcmp(q->event, event) == 0 || (!q->event[0] &&
		    strcmp(pos_get(s, q->ticker)->event, event) == 0)))
			ev += q->count;
		exposure += q->count * q->price * CC_PER_CENT;
		npos += pos_get(s, q->ticker)->count == 0;
	}
	if (ev + o->count > r->max_per_event)
		return snprintf(why, cap, "event %lld + %lld > max_per_event %lld", (long long)ev, (long long)o->count,
		    (long long)r->max_per_event), R_MAX_PER_EVENT;
	if (exposure + o->count * o->price * CC_PER_CENT > r->max_exposure_cc) {
		char a[32], b[32];

		money_fmt_dollars(a, sizeof a, exposure + o->count * o->price * CC_PER_CENT);
		money_fmt_dollars(b, sizeof b, r->max_exposure_cc);
		return snprintf(why, cap, "exposure $%s > max_exposure $%s", a, b), R_MAX_EXPOSURE;
	}
	if (held == 0 && npos >= r->max_positions)
		return snprintf(why, cap, "positions %lld >= max_positions %lld", (long long)npos, (long long)r->max_positions), R_MAX_POSITIONS;
	if (s->day == o->ts / 86400000 && s->realized_cc <= -r->daily_loss_cc) {
		char a[32];

		money_fmt_dollars(a, sizeof a, -s->realized_cc);
		return snprintf(why, cap, "daily loss $%s reached daily_loss_limit", a), R_DAILY_LOSS;
	}
	for (size_t i = 0; i < s->nrecent; i++)
		n += o->ts - s->recent[i] < 60000;
	if (n >= r->max_orders_per_min)
		return snprintf(why, cap, "%lld orders in a minute >= max_orders_per_minute %lld", (long long)n,
		    (long long)r->max_orders_per_min), R_RATE;
	if (unknown_here)
		return snprintf(why, cap, "an order of unknown outcome on %s", o->ticker), R_UNKNOWN;
	return -1;
}

static void
note_sent(struct os *s, int64_t ts)
{
	if (s->nrecent == sizeof s->recent / sizeof s->recent[0]) {
		memmove(s->recent, s->recent + 1, (s->nrecent - 1) * sizeof s->recent[0]);
		s->nrecent--;
	}
	s->recent[s->nrecent++] = ts;
}

/* ---- the exchange ---- */

/* Exact figures of an accepted order (o->order_id): the order object.
 * 0 done; -1 the object could not be read (read lag, the network): o is
 * as it was, its fill unknown. */
static int
order_result(struct os *s, struct ord *o, int64_t ts)
{
	struct kx_order ko;
	char path[RECIO_PATH_MAX], err[KX_ERR_MAX];
	int t;
	int64_t filled, cost, fees;

	/* the exchange's clock is not the message clock: an outcome is never
	 * older than its intent, or a store keeping the newest line per order
	 * (db-sink) would keep "sent" and drop the outcome */
	if (ts < o->ts)
		ts = o->ts;
	snprintf(path, sizeof path, "/portfolio/orders/%s", o->order_id);
	if (http_request(s->http, "GET", path, NULL, 0, 0, &s->resp) < 0 || s->resp.status != 200 ||
	    http_json(&s->j, &s->resp) < 0 || (t = json_get(&s->j, 0, "order")) < 0 ||
	    kx_order_decode(&s->j, t, &ko, err, sizeof err) < 0) {
		debugx("%s: order %s not readable: %s", o->cid, o->order_id,
		    s->resp.status ? "HTTP status or body" : s->resp.err);
		return -1;
	}
	filled = ko.filled / 100;
	cost = ko.taker_cost + ko.maker_cost;
	fees = ko.taker_fees + ko.maker_fees;
	/* the exchange's fill cost is that of the outcome side bought: for a
	 * sale, the other side's (selling YES at 23 buys NO at 77), so what
	 * the sale brought in is $1 a contract less that */
	if (!o->buy)
		cost = filled * CC_PER_DOLLAR - cost;
	line_begin(s, o, filled == 0 ? (strcmp(ko.status, "resting") == 0 ? "accepted" : "canceled") :
	    filled < o->count ? "partial" : "filled", ts);
	jw_ki64(&s->out, "filled", filled);
	if (filled) {
		jw_ki64(&s->out, "avg_price_cc", cost / filled);
		jw_ki64(&s->out, "cost_cc", cost);
	}
	jw_ki64(&s->out, "fees_cc", fees);
	msg_emit(&s->out);
	if (filled)
		book_fill(s, o, filled, o->buy ? cost + fees : cost - fees);
	journal_done(s, o, filled ? "filled" : "accepted", filled, cost, o->buy ? cost + fees : cost - fees);
	o->st = O_DONE;
	return 0;
}

/* Look the order up by client_order_id.  1 found (handled), 0 not found,
 * -1 could not look (transport error: never "not found"). */
static int
lookup(struct os *s, struct ord *o, int64_t ts)
{
	char cursor[512] = "", cid[RECIO_ID_MAX], err[KX_ERR_MAX];
	struct buf p = { 0 };
	int pages = 0;

	do {
		int arr;

		buf_reset(&p);
		buf_puts(&p, "/portfolio/orders?ticker=");
		http_qescape(&p, o->ticker);
		buf_puts(&p, "&limit=200");
		if (cursor[0]) {
			buf_puts(&p, "&cursor=");
			http_qescape(&p, cursor);
		}
		if (http_request(s->http, "GET", p.p, NULL, 0, 0, &s->resp) < 0 || s->resp.status != 200 ||
		    http_json(&s->j, &s->resp) < 0 ||
		    (arr = kx_page(&s->j, "orders", cursor, sizeof cursor, err, sizeof err)) < 0) {
			buf_free(&p);
			return -1;
		}
		for (int i = 0; i < json_size(&s->j, arr); i++) {
			int t = json_at(&s->j, arr, i);

			if (json_get_str(&s->j, t, "client_order_id", cid, sizeof cid) == 0 && strcmp(cid, o->cid) == 0 &&
			    json_get_str(&s->j, t, "order_id", o->order_id, sizeof o->order_id) == 0) {
				buf_free(&p);
				return order_result(s, o, ts) == 0 ? 1 : -1;
			}
		}
	} while (cursor[0] && ++pages < LOOKUP_PAGES_MAX);
	buf_free(&p);
	if (cursor[0]) {
		/* not "not found": that would send it again */
		warnx_("%s: not among the first %d pages of %s's orders; looked up again later", o->cid,
		    LOOKUP_PAGES_MAX, o->ticker);
		return -1;
	}
	return 0;
}

/* Send o (its intent journalled).  Leaves it O_DONE or, when the outcome
 * is unknown, O_PENDING for reconcile(). */
static void
send_order(struct os *s, struct ord *o)
{
	const char *book;
	int64_t yp;
	char code[96], msg[256];
	struct buf body = { 0 };

	kx_v2_side(o->buy, o->yes, o->price, &book, &yp);
	jw_obj(&body);
	jw_kstr(&body, "ticker", o->ticker);
	jw_kstr(&body, "client_order_id", o->cid);
	jw_kstr(&body, "side", book);
	buf_printf(&body, ",\"count\":\"%lld.00\",\"price\":\"0.%02lld\"", (long long)o->count, (long long)yp);
	jw_kstr(&body, "time_in_force", "immediate_or_cancel");
	jw_kstr(&body, "self_trade_prevention_type", "taker_at_cross");
	if (!o->buy)
		jw_kbool(&body, "reduce_only", true);
	jw_obj_end(&body);
	if (o->first_mono == 0)
		o->first_mono = rt_mono_ms();
	line(s, o, "sent", o->ts);
	s->sent++;
	for (int tries = 0; ; tries++) {
		if (http_request(s->http, "POST", "/portfolio/events/orders", body.p, body.len, 0, &s->resp) < 0)
			break;                  /* no answer: unknown */
		if (s->resp.status == 429 && tries < RECIO_HTTP_RETRIES) {
			/* rate limited before any processing: the same request again */
			rt_sleep_ms(RECIO_HTTP_BACKOFF_MS << tries);
			continue;
		}
		break;
	}
	buf_free(&body);
	/* read lag counts from here: a request that timed out may have been
	 * taken at its last moment */
	o->sent_mono = rt_mono_ms();
	if (s->resp.status == 201 || s->resp.status == 200) {
		if (http_json(&s->j, &s->resp) == 0 &&
		    json_get_str(&s->j, 0, "order_id", o->order_id, sizeof o->order_id) == 0 && o->order_id[0]) {
			int64_t ts = o->ts;

			json_get_i64(&s->j, 0, "ts_ms", &ts);
			if (order_result(s, o, ts) < 0) {
				/* taken, its fill not readable yet: it stays of unknown
				 * outcome (counted in the limits as if filled) until
				 * reconcile reads it; never sent again */
				line(s, o, "accepted", ts);
				o->st = O_PENDING;
			}
			return;
		}
		/* a 2xx without an order id: unknown */
	} else if (s->resp.status >= 400 && s->resp.status < 500 && s->resp.status != 409 && s->resp.status != 429) {
		code[0] = msg[0] = '\0';
		if (http_json(&s->j, &s->resp) == 0)
			kx_error_decode(&s->j, code, sizeof code, msg, sizeof msg);
		line_begin(s, o, "rejected", o->ts);
		jw_ki64(&s->out, "http_status", s->resp.status);
		jw_kstr(&s->out, "code", code);
		jw_kstr(&s->out, "message", msg);
		msg_emit(&s->out);
		journal_done(s, o, "rejected", 0, 0, 0);
		o->st = O_DONE;
		return;
	}
	/* timeout, 5xx, dropped, lost, 409, an unreadable 2xx: unknown until looked up */
	line_begin(s, o, "error", o->ts);
	jw_ki64(&s->out, "http_status", s->resp.status);
	jw_kstr(&s->out, "message", s->resp.status ? "outcome unknown: will look it up" : s->resp.err);
	msg_emit(&s->out);
	o->st = O_PENDING;
	s->unknown_total++;
}

/* Settle every order of unknown outcome that can be settled now. */
static void
reconcile(struct os *s)
{
	for (size_t i = 0; i < s->no && !stop; i++) {
		struct ord *o = &s->o[i];
		int64_t age;

		if (o->st != O_PENDING)
			continue;
		if (o->order_id[0]) {
			/* taken by the exchange, its fill not read yet */
			if (order_result(s, o, o->ts) == 0 || rt_mono_ms() - o->first_mono < ACK_MAX_MS)
				continue;
			warnx_("%s: order %s taken, its fill not readable for %d s: left to acct-sync's fills", o->cid,
			    o->order_id, ACK_MAX_MS / 1000);
			journal_done(s, o, "accepted", -1, 0, 0);
			o->st = O_DONE;
			continue;
		}
		if (lookup(s, o, o->ts) != 0)
			continue;       /* found and settled, or could not look: later */
		if (rt_mono_ms() - o->sent_mono < LAG_MS)
			continue;       /* read lag: not an answer yet */
		age = rt_mono_ms() - o->first_mono;
		if (age < RESEND_MAX_MS && (!o->buy || (!killed(s) && s->nmismatch == 0))) {
			infox("%s: not at the exchange %lld ms after it was first sent: sending it again", o->cid,
			    (long long)age);
			send_order(s, o);
		} else {
			line_begin(s, o, "rejected", o->ts);
			jw_kstr(&s->out, "code", "not_at_exchange");
			jw_kstr(&s->out, "message", age >= RESEND_MAX_MS ?
			    "never reached the exchange; too old to send again" :
			    "never reached the exchange; not sent again: opening orders are halted");
			msg_emit(&s->out);
			journal_done(s, o, "failed", 0, 0, 0);
			o->st = O_DONE;
		}
	}
}

/* ---- paper fills ---- */

static void
paper_fill(struct os *s, struct ord *o)
{
	struct pos *p = pos_get(s, o->ticker);
	int64_t px = o->buy ? (o->yes ? p->yes_ask : p->no_ask) : (o->yes ? p->yes_bid : p->no_bid), fee, cost;

	snprintf(o->order_id, sizeof o->order_id, "paper-%lld", (long long)++s->paper_seq);
	line(s, o, "sent", o->ts);
	if (px <= 0 || (o->buy ? px > o->price : px < o->price)) {
		line_begin(s, o, "canceled", o->ts);
		jw_ki64(&s->out, "filled", 0);
		msg_emit(&s->out);
		journal_done(s, o, "accepted", 0, 0, 0);
		o->st = O_DONE;
		return;
	}
	cost = o->count * px * CC_PER_CENT;
	fee = kx_fee_round_cent(kx_fee_raw_cc(o->count * 100, px, KX_TAKER_RATE_BP, 100));
	line_begin(s, o, "filled", o->ts);
	jw_ki64(&s->out, "filled", o->count);
	jw_ki64(&s->out, "avg_price_cc", px * CC_PER_CENT);
	jw_ki64(&s->out, "cost_cc", cost);
	jw_ki64(&s->out, "fees_cc", fee);
	jw_kbool(&s->out, "paper", true);
	msg_emit(&s->out);
	book_fill(s, o, o->count, o->buy ? cost + fee : cost - fee);
	journal_done(s, o, "filled", o->count, cost, o->buy ? cost + fee : cost - fee);
	o->st = O_DONE;
}

/* ---- input ---- */

static void
on_signal_line(struct os *s, const struct json *j, const struct ndjson *r, int64_t ts)
{
	char id[RECIO_ID_MAX - 1], side[8], action[8], why[256];
	int rule;
	struct ord o, *po;
	int64_t ttc = TTC_NONE;

	memset(&o, 0, sizeof o);
	if (json_get_str(j, 0, "id", id, sizeof id) < 0 || json_get_str(j, 0, "ticker", o.ticker, sizeof o.ticker) < 0 ||
	    json_get_str(j, 0, "side", side, sizeof side) < 0 || json_get_str(j, 0, "action", action, sizeof action) < 0 ||
	    json_get_i64(j, 0, "count", &o.count) < 0 || json_get_i64(j, 0, "price", &o.price) < 0 ||
	    (strcmp(side, "yes") != 0 && strcmp(side, "no") != 0) ||
	    (strcmp(action, "buy") != 0 && strcmp(action, "sell") != 0) ||
	    o.count <= 0 || o.count > 1000000 || o.price < 1 || o.price > 99) {
		warnx_("%s line %lu: signal without a valid id, ticker, side, action, count or price, skipped",
		    r->name, r->lineno);
		return;
	}
	json_get_str(j, 0, "event_ticker", o.event, sizeof o.event);
	json_get_i64(j, 0, "ttc", &ttc);
	snprintf(o.signal_id, sizeof o.signal_id, "%s", id);
	/* the exchange allows short ids: "r" + the signal id */
	snprintf(o.cid, sizeof o.cid, "r%s", id);
	o.yes = side[0] == 'y';
	o.buy = action[0] == 'b';
	o.ts = ts;
	if (ord_find(s, o.cid)) {
		infox("%s: already handled (signal %s), not sent again", o.cid, id);
		return;
	}
	if ((rule = risk_check(s, &o, ttc, why, sizeof why)) >= 0) {
		refuse(s, &o, (enum rule)rule, why);
		return;
	}
	po = ord_add(s);
	*po = o;
	po->st = O_PENDING;
	/* fsync'd before anything leaves, unless --intent-sync after */
	journal_intent(s, po, !s->sync_after);
	line(s, po, "intent", ts);
	note_sent(s, ts);
	if (s->paper)
		paper_fill(s, po);
	else
		send_order(s, po);
	if (s->sync_after && fsync(s->jfd) < 0)
		die(1, "%s: cannot sync the journal:", s->journal_path);
}

static bool
settled_has(const struct os *s, const char *ticker)
{
	for (size_t i = s->nsettled; i-- > 0; )
		if (strcmp(s->settled[i], ticker) == 0)
			return true;
	return false;
}

static void
settled_add(struct os *s, const char *ticker)
{
	if (s->nsettled == s->csettled) {
		s->csettled = s->csettled ? s->csettled * 2 : 64;
		s->settled = xrealloc(s->settled, s->csettled * sizeof *s->settled);
	}
	snprintf(s->settled[s->nsettled++], RECIO_TICKER_MAX, "%s", ticker);
}

static void
on_line(struct os *s, const struct json *j, const struct ndjson *r)
{
	char type[16], t[RECIO_TICKER_MAX];
	int64_t ts, v;

	if (json_get_str(j, 0, "type", type, sizeof type) < 0)
		return;                 /* not a recio message: ignored */
	if (json_get_i64(j, 0, "ts", &ts) < 0) {
		warnx_("%s line %lu: %s without an integer ts, skipped", r->name, r->lineno, type);
		return;
	}
	day_at(s, ts);
	if (strcmp(type, "signal") == 0)
		on_signal_line(s, j, r, ts);
	else if (strcmp(type, "health") == 0 && json_get_str(j, 0, "ticker", t, sizeof t) == 0) {
		/* acct-sync's reconciliation: no opening order while any market's
		 * fills and position disagree; closes still go */
		char src[32], st[16];
		size_t k;

		if (json_get_str(j, 0, "src", src, sizeof src) < 0 || strcmp(src, "acct-sync") != 0 ||
		    json_get_str(j, 0, "status", st, sizeof st) < 0)
			return;
		for (k = 0; k < s->nmismatch && strcmp(s->mismatch[k], t) != 0; k++)
			;
		if (strcmp(st, "mismatch") == 0 && k == s->nmismatch) {
			if (s->nmismatch == s->cmismatch) {
				s->cmismatch = s->cmismatch ? s->cmismatch * 2 : 16;
				s->mismatch = xrealloc(s->mismatch, s->cmismatch * sizeof *s->mismatch);
			}
			snprintf(s->mismatch[s->nmismatch++], RECIO_TICKER_MAX, "%s", t);
			warnx_("%s: positions disagree: opening orders halted", t);
		} else if (strcmp(st, "ok") == 0 && k < s->nmismatch) {
			memmove(&s->mismatch[k], &s->mismatch[k + 1], (s->nmismatch - k - 1) * sizeof s->mismatch[0]);
			s->nmismatch--;
			if (s->nmismatch == 0)
				warnx_("positions agree again: opening orders resume");
		}
	}
	else if (strcmp(type, "market") == 0 && json_get_str(j, 0, "ticker", t, sizeof t) == 0) {
		struct pos *p = pos_get(s, t);

		json_get_str(j, 0, "event_ticker", p->event, sizeof p->event);
		json_get_i64(j, 0, "yes_bid", &p->yes_bid);
		json_get_i64(j, 0, "yes_ask", &p->yes_ask);
		json_get_i64(j, 0, "no_bid", &p->no_bid);
		json_get_i64(j, 0, "no_ask", &p->no_ask);
	} else if (strcmp(type, "position") == 0 && json_get_str(j, 0, "ticker", t, sizeof t) == 0 &&
	    json_get_i64(j, 0, "position", &v) == 0) {
		struct pos *p = pos_get(s, t);     /* the exchange's word over our own count */

		if (v == 0)
			p->cost_cc = 0;
		p->count = v;
		if (json_get_i64(j, 0, "exposure_cc", &v) == 0)
			p->cost_cc = v;
	} else if (strcmp(type, "settlement") == 0 && json_get_str(j, 0, "ticker", t, sizeof t) == 0) {
		struct pos *p = pos_get(s, t);
		int64_t rev = 0, pnl;

		if (settled_has(s, t))
			return;         /* told again (acct-sync restarted): counted once */
		json_get_i64(j, 0, "revenue_cc", &rev);
		pnl = rev - p->cost_cc;
		s->realized_cc += pnl;
		p->count = 0;
		p->cost_cc = 0;
		/* journalled, so that a restart neither forgets the day's loss
		 * nor brings the position back from the fills replayed */
		settled_add(s, t);
		buf_reset(&s->rec);
		jw_obj(&s->rec);
		jw_kstr(&s->rec, "j", "settled");
		jw_kstr(&s->rec, "ticker", t);
		jw_ki64(&s->rec, "ts", ts);
		jw_ki64(&s->rec, "pnl_cc", pnl);
		jw_obj_end(&s->rec);
		journal_append(s, &s->rec, true);
	}
}

/* A last record without its newline (the machine died, or the disk
 * filled, while it was written) is cut off before anything is appended:
 * the next record would be glued to it, and the replay would skip both. */
static void
journal_trim(struct os *s)
{
	struct stat st;
	char b[4096];
	off_t end, cut = 0;

	if (fstat(s->jfd, &st) < 0)
		die(1, "%s: cannot stat the journal:", s->journal_path);
	for (end = st.st_size; end > 0; ) {
		size_t n = end < (off_t)sizeof b ? (size_t)end : sizeof b;
		ssize_t r = pread(s->jfd, b, n, end - (off_t)n);
		size_t i = n;

		if (r != (ssize_t)n)
			die(1, "%s: cannot read the journal's end%s", s->journal_path, r < 0 ? ":" : ": short read");
		while (i > 0 && b[i - 1] != '\n')
			i--;
		if (i > 0) {
			cut = end - (off_t)n + (off_t)i;
			break;
		}
		end -= (off_t)n;
	}
	if (cut == st.st_size)
		return;
	warnx_("%s: its last record is cut short (%lld bytes, written when the machine died or the disk "
	    "filled): removed", s->journal_path, (long long)(st.st_size - cut));
	if (ftruncate(s->jfd, cut) < 0 || fsync(s->jfd) < 0)
		die(1, "%s: cannot cut the journal's torn end:", s->journal_path);
}

/* The journal's directory synced: a journal just created is then found
 * after a power cut (its records are synced on their own).  Once at
 * start; a file system that cannot sync a directory (EINVAL) is let be. */
static void
journal_dir_sync(const struct os *s)
{
	const char *slash = strrchr(s->journal_path, '/');
	char *dir = slash ? xstrndup(s->journal_path, slash == s->journal_path ? 1 : (size_t)(slash - s->journal_path)) :
	    xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || (fsync(fd) < 0 && errno != EINVAL))
		die(1, "%s: cannot sync the journal's directory:", dir);
	close(fd);
	free(dir);
}

/* Replay the journal: what is known, what is still of unknown outcome,
 * and the positions our own fills made. */
static int
journal_load(struct os *s)
{
	struct ndjson r;
	struct json j = { 0 };
	char *line_p;
	size_t len;
	int fd = open(s->journal_path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return errno == ENOENT ? 0 : (warnx_("%s: cannot open:", s->journal_path), -1);
	ndjson_init(&r, fd, s->journal_path);
	while ((rc = ndjson_next(&r, &j, &line_p, &len)) > 0) {
		char kind[8], cid[RECIO_ID_MAX], st[16], side[8], action[8];
		struct ord *o;
		int64_t filled = 0, cost = 0;

		if (json_get_str(&j, 0, "j", kind, sizeof kind) < 0)
			continue;
		if (strcmp(kind, "settled") == 0) {
			char t[RECIO_TICKER_MAX];
			int64_t ts = 0, pnl = 0;
			struct pos *p;

			if (json_get_str(&j, 0, "ticker", t, sizeof t) < 0 || settled_has(s, t))
				continue;
			json_get_i64(&j, 0, "ts", &ts);
			json_get_i64(&j, 0, "pnl_cc", &pnl);
			settled_add(s, t);
			day_at(s, ts);
			s->realized_cc += pnl;
			p = pos_get(s, t);
			p->count = 0;
			p->cost_cc = 0;
			continue;
		}
		if (json_get_str(&j, 0, "cid", cid, sizeof cid) < 0)
			continue;
		if (strcmp(kind, "intent") == 0) {
			if (ord_find(s, cid))
				continue;
			o = ord_add(s);
			snprintf(o->cid, sizeof o->cid, "%s", cid);
			json_get_str(&j, 0, "signal_id", o->signal_id, sizeof o->signal_id);
			json_get_str(&j, 0, "ticker", o->ticker, sizeof o->ticker);
			json_get_str(&j, 0, "event_ticker", o->event, sizeof o->event);
			json_get_str(&j, 0, "side", side, sizeof side);
			json_get_str(&j, 0, "action", action, sizeof action);
			o->yes = side[0] == 'y';
			o->buy = action[0] == 'b';
			json_get_i64(&j, 0, "count", &o->count);
			json_get_i64(&j, 0, "price", &o->price);
			json_get_i64(&j, 0, "ts", &o->ts);
			o->st = O_PENDING;
			note_sent(s, o->ts);    /* max_orders_per_minute counts it after a restart */
			{
				int64_t wall = 0;

				/* its age from its first send, for the limit on sending
				 * again; the read-lag window starts over from now (the
				 * send may have ended any time before the restart) */
				json_get_i64(&j, 0, "wall_ms", &wall);
				o->first_mono = rt_mono_ms() - (wall ? rt_now_ms() - wall : RESEND_MAX_MS);
				o->sent_mono = rt_mono_ms();
			}
		} else if (strcmp(kind, "done") == 0 && (o = ord_find(s, cid)) != NULL && o->st == O_PENDING) {
			json_get_str(&j, 0, "status", st, sizeof st);
			json_get_str(&j, 0, "order_id", o->order_id, sizeof o->order_id);
			json_get_i64(&j, 0, "filled", &filled);
			json_get_i64(&j, 0, "cost_cc", &cost);
			json_get_i64(&j, 0, "booked_cc", &cost);        /* fees counted (newer journals) */
			if (filled > 0) {
				day_at(s, o->ts);       /* its day's realised P&L, as it ran */
				book_fill(s, o, filled, cost);
			}
			o->st = O_DONE;
		}
	}
	/* a torn last line (a crash mid-write) is reported by the reader and
	 * skipped: its intent was never followed by a send */
	json_free(&j);
	ndjson_free(&r);
	close(fd);
	return rc < 0 ? -1 : 0;
}

/* ---- main ---- */

static bool
line_buffered(const struct ndjson *r)
{
	return r->in.len > r->off && memchr(r->in.p + r->off, '\n', r->in.len - r->off) != NULL;
}

static size_t
pending(const struct os *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->no; i++)
		n += s->o[i].st == O_PENDING;
	return n;
}

/* What order-send has done and what holds it back, every -H seconds
 * (force: now): status "ok", "halted" (kill switch, positions disagree:
 * no opening orders) or "blocked" (orders of unknown outcome). */
static void
health(struct os *s, bool force)
{
	int64_t now = rt_mono_ms();
	bool kill = killed(s);

	if (!force && now - s->last_health < s->health_ms)
		return;
	s->last_health = now;
	msg_begin(&s->out, "health", rt_now_ms());
	jw_kstr(&s->out, "src", "order-send");
	jw_kstr(&s->out, "status", kill || s->nmismatch ? "halted" : pending(s) ? "blocked" : "ok");
	jw_kstr(&s->out, "mode", s->paper ? "paper" : "exchange");
	jw_ki64(&s->out, "sent", (int64_t)s->sent);
	jw_ki64(&s->out, "refused", (int64_t)s->refused);
	jw_key(&s->out, "refused_by_rule");
	jw_obj(&s->out);
	for (int i = 0; i < R_NRULES; i++)
		jw_ki64(&s->out, rule_name[i], (int64_t)s->refused_by[i]);
	jw_obj_end(&s->out);
	jw_ki64(&s->out, "unknown_outcome", (int64_t)pending(s));
	jw_ki64(&s->out, "unknown_total", (int64_t)s->unknown_total);
	jw_ki64(&s->out, "presigned", s->http ? (int64_t)http_presigned_used(s->http) : 0);
	jw_kbool(&s->out, "kill_switch", kill);
	jw_ki64(&s->out, "mismatched_markets", (int64_t)s->nmismatch);
	msg_emit(&s->out);
}

/* Nothing to read: the periodic work when due (settle what is unknown, the
 * health line), and one pre-made signature when one is due (an RSA
 * signature, ~0.4 ms, made now rather than between a signal and its
 * order). */
static void
idle(struct os *s)
{
	int64_t now = rt_mono_ms(), d;

	if (now >= s->tick_at) {
		if (!s->paper && pending(s))
			reconcile(s);
		health(s, false);
		s->tick_at = rt_mono_ms() + TICK_MS;
	}
	if (now >= s->ps_at) {
		d = s->http ? http_presign_step(s->http) : -1;
		s->ps_at = d < 0 ? INT64_MAX : rt_mono_ms() + d;
	}
}

static int
run(struct os *s)
{
	struct ndjson r;
	struct json j = { 0 };
	char *l;
	size_t len;
	int rc = 0;
	int64_t deadline = rt_mono_ms() + LAG_MS + 2000;

	/* start-up: settle what the journal left open before anything new */
	while (!s->paper && pending(s) && rt_mono_ms() < deadline && !stop) {
		reconcile(s);
		if (pending(s))
			rt_sleep_ms(TICK_MS);
	}
	if (pending(s))
		warnx_("%zu order%s still of unknown outcome: their markets stay blocked", pending(s),
		    pending(s) == 1 ? "" : "s");
	msg_ready();
	ndjson_init(&r, 0, "stdin");
	while (!stop) {
		if (!line_buffered(&r)) {
			struct pollfd pfd = { 0, POLLIN, 0 };
			int64_t now = rt_mono_ms(), at = s->ps_at < s->tick_at ? s->ps_at : s->tick_at;
			int k = poll(&pfd, 1, at <= now ? 0 : (int)(at - now));

			if (k < 0 && errno != EINTR)
				die(1, "poll:");
			if (k <= 0) {
				idle(s);
				continue;
			}
		}
		rc = ndjson_next(&r, &s->j, &l, &len);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			break;
		/* the parse lives in s->j; copy it before handlers reuse s->j */
		if (json_parse(&j, l, len) == 0)
			on_line(s, &j, &r);
		health(s, false);
		s->ps_at = 0;           /* a signature may have been used */
	}
	/* end of input: settle what is still unknown (lookups, and sends
	 * again of what never arrived) before leaving */
	deadline = rt_mono_ms() + RESEND_MAX_MS + LAG_MS;
	while (!s->paper && pending(s) && rt_mono_ms() < deadline && !stop) {
		reconcile(s);
		if (pending(s))
			rt_sleep_ms(TICK_MS);
	}
	health(s, true);
	json_free(&j);
	ndjson_free(&r);
	return rc < 0 && !stop ? 1 : 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' }, { "journal", required_argument, NULL, 'j' },
		{ "paper", no_argument, NULL, 'P' }, { "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' }, { "url", required_argument, NULL, 'u' },
		{ "health", required_argument, NULL, 'H' }, { "rate-limit", required_argument, NULL, 'R' },
		{ "presign", required_argument, NULL, 'S' }, { "intent-sync", required_argument, NULL, 'Y' },
		{ NULL, 0, NULL, 0 }
	};
	static struct os s;
	const char *base = cfg_env("KALSHI_API_BASE", "http://127.0.0.1:8080/trade-api/v2");
	const char *key_file = cfg_env("KALSHI_KEY_FILE", NULL);
	struct sigaction sa;
	bool check = false, no_limit = false;
	int ch, rc;

	diag_init(argv[0]);
	s.journal_path = cfg_env("RECIO_JOURNAL", "var/order-send.journal");
	s.kill_path = cfg_env("RECIO_KILL", "var/KILL");
	s.key_id = cfg_env("KALSHI_KEY_ID", NULL);
	s.r = (struct risk){ 100, 500, 500 * CC_PER_DOLLAR, 30, 100 * CC_PER_DOLLAR, 98, 1, 60, 20 };
	s.health_ms = 10000;
	s.presign = 4;
	while ((ch = getopt_long(argc, argv, "hj:Pc:s:u:H:nv", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': fputs(usage_text, stdout); return 0;
		case 'j': s.journal_path = optarg; break;
		case 'P': s.paper = true; break;
		case 'c': s.config = optarg; break;
		case 's':
			if (strchr(optarg, '=') == NULL || s.nsets == 64)
				usage("-s: expected KEY=VALUE");
			s.sets[s.nsets++] = optarg;
			break;
		case 'u': base = optarg; break;
		case 'H':
			if (cfg_parse_i64(optarg, 1, 86400, &s.health_ms) < 0)
				usage("-H: expected whole seconds from 1 to 86400");
			s.health_ms *= 1000;
			break;
		case 'R':
			if (strcmp(optarg, "basic") != 0 && strcmp(optarg, "off") != 0)
				usage("--rate-limit: expected basic or off");
			no_limit = strcmp(optarg, "off") == 0;
			break;
		case 'S': {
			int64_t n;

			if (cfg_parse_i64(optarg, 0, HTTP_PRESIGN_MAX, &n) < 0)
				usage("--presign: expected a count from 0 to 8");
			s.presign = (int)n;
			break;
		}
		case 'Y':
			if (strcmp(optarg, "before") != 0 && strcmp(optarg, "after") != 0)
				usage("--intent-sync: expected before or after");
			s.sync_after = strcmp(optarg, "after") == 0;
			break;
		case 'n': check = true; break;
		case 'v': diag_verbose++; break;
		default: usage(NULL);
		}
	}
	if (optind != argc)
		usage("unexpected argument");
	if (s.config && cfg_read_file(s.config, on_pair, &s.r) < 0)
		return 1;
	for (int i = 0; i < s.nsets; i++) {
		char k[64];
		const char *eq = strchr(s.sets[i], '=');

		snprintf(k, sizeof k, "%.*s", (int)(eq - s.sets[i]), s.sets[i]);
		if (risk_set(&s.r, k, eq + 1) < 0)
			return 1;
	}
	if (!s.paper) {
		if (!s.key_id || !key_file)
			die(1, "KALSHI_KEY_ID and KALSHI_KEY_FILE are needed to place orders (or --paper)");
		if ((s.key = kx_key_load_private(key_file)) == NULL)
			return 1;
		struct http_opts ho = { 0 };

		ho.retries = RECIO_HTTP_RETRIES;        /* as with no options */
		ho.no_limit = no_limit;
		if ((s.http = http_new(base, &ho, s.key, s.key_id)) == NULL)
			return 1;
		http_presign(s.http, "POST", "/portfolio/events/orders", s.presign);
	}
	if ((s.jfd = open(s.journal_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
		die(1, "%s: cannot open the journal:", s.journal_path);
	journal_dir_sync(&s);
	/* one order-send per journal: a second one would send what the first did */
	if (flock(s.jfd, LOCK_EX | LOCK_NB) < 0)
		die(1, "%s: the journal is in use by another order-send:", s.journal_path);
	journal_trim(&s);
	if (journal_load(&s) < 0)
		return 1;
	if (check) {
		printf("configuration OK: %s, journal %s (%zu orders, %zu of unknown outcome)\n",
		    s.paper ? "paper" : base, s.journal_path, s.no, pending(&s));
		return 0;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	rc = run(&s);
	if (s.refused || s.sent)
		infox("%lu sent, %lu refused", s.sent, s.refused);
	http_free(s.http);
	kx_key_free(s.key);
	http_resp_free(&s.resp);
	json_free(&s.j);
	buf_free(&s.out);
	buf_free(&s.rec);
	free(s.o);
	free(s.p);
	free(s.mismatch);
	free(s.settled);
	close(s.jfd);
	return rc;
}
