/* kalshi-sim: a local Kalshi exchange and BTC price feed.
 *
 * One process, one thread: libmicrohttpd in external-select mode, and a
 * simulated clock that the main loop advances one simulated second at a
 * time (price step, event roll-over, settlement, market-maker requote,
 * resting-order matching) before serving requests.  Nothing is shared
 * between threads, so there are no locks, and a seed fixes the price path,
 * the market maker and the faults.  See man/kalshi-sim.1. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "buf.h"
#include "bucket.h"
#include "cfg.h"
#include "diag.h"
#include "json.h"
#include "rlimits.h"
#include "money.h"
#include "rng.h"
#include "rtime.h"
#include "sign.h"

#define API "/trade-api/v2"
#define SERIES "KXBTCD"
#define HOUR_MS 3600000LL
#define PX_RING 8192            /* seconds of price history kept (> 1 h + lag) */
#define EVENTS_KEPT 48          /* closed events kept readable */
#define MM_LEVELS 3             /* market-maker depth per side */
#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

static const char usage_text[] =
"usage: kalshi-sim [-h] [-p PORT] [-b ADDR] [-k KEYS] [-s SEED] [-x SPEED]\n"
"                  [--start TIME] [--vol SIGMA] [--jumps RATE,PCT] [--prices FILE]\n"
"                  [--strikes N] [--spacing DOLLARS] [--balance DOLLARS]\n"
"                  [--spread CENTS] [--lag SECONDS] [--noise PCT] [--settle-delay S]\n"
"                  [--rate-limit basic|off] [--ts-window MS] [--faults SPEC]\n"
"                  [--ws-ping MS] [--port-file FILE] [--ready-fd FD] [-v]\n"
"       kalshi-sim --keygen PRIVATE.pem PUBLIC.pem\n"
"\n"
"A local Kalshi Trade API v2 exchange (KXBTCD hourly Bitcoin events) and a\n"
"Coinbase-style BTC-USD ticker, for demos and tests.\n"
"\n"
"  -p, --port PORT        listen port (default 8080; 0 picks a free one)\n"
"  -b, --bind ADDR        listen address (default 127.0.0.1)\n"
"  -k, --keys PATH        public keys: a directory of KEYID.pem files, or a file\n"
"                         of \"KEYID PATH\" lines; one account per key\n"
"  -s, --seed N           seed for price path, market maker and faults (default 1)\n"
"  -x, --speed N          simulated seconds per real second (default 1)\n"
"      --start TIME       simulated start, ISO-8601 or epoch seconds (default now)\n"
"      --vol SIGMA        annualised volatility of the price path (default 0.5)\n"
"      --jumps RATE,PCT   jumps per hour and their size (std dev, percent)\n"
"      --prices FILE      replay \"epoch_seconds,price\" lines instead of a random path\n"
"      --price DOLLARS    starting price (default 100000)\n"
"      --strikes N        strikes per event (default 40)\n"
"      --spacing DOLLARS  ladder spacing (default 250)\n"
"      --balance DOLLARS  starting balance of each account (default 1000)\n"
"      --spread CENTS     market maker spread (default 3)\n"
"      --lag SECONDS      market maker price lag (default 5)\n"
"      --noise PCT        market maker price noise, std dev in percent (default 0.05)\n"
"      --settle-delay S   seconds from close to settlement (default 30)\n"
"      --rate-limit MODE  basic (Kalshi's Basic tier, default) or off\n"
"      --ts-window MS     accepted signature timestamp skew (default 30000)\n"
"      --faults SPEC      e.g. 429=0.05,5xx=0.05,slow=0.02:1500,drop=0.01,\n"
"                         lost=0.02,empty=0.01,lag=0.1:3,dupfill=0.05,hidefill=0.01\n"
"      --ws-ping MS       ping interval on Kalshi's socket (default 10000)\n"
"      --port-file FILE   write the bound port to FILE once listening\n"
"      --ready-fd FD      write a newline to FD once listening (s6 readiness)\n"
"  -v                     log requests to stderr (twice: more)\n"
"  -h, --help             this text\n";

static void __attribute__((noreturn))
usage(const char *why)
{
	die_usage(usage_text, why);
}

/* ---- configuration ---- */

struct faults {
	double p429, p5xx, pslow, pdrop, plost, pempty, plag, pdupfill, phidefill;
	int64_t slow_ms, lag_s;
};

struct config {
	const char *bind, *keys, *prices, *port_file;
	int port, ready_fd, rate_limit, nstrikes;
	uint64_t seed;
	double speed, vol, jump_rate, jump_pct, noise_pct;
	int64_t start_ms, price_cents, spacing_cents, balance_cc, spread, lag_s;
	int64_t settle_delay_s, ts_window_ms, ws_ping_ms;
	struct faults f;
};

/* ---- exchange state ---- */

enum mstatus { M_ACTIVE, M_CLOSED, M_DETERMINED };
static const char *const mstatus_name[] = { "active", "closed", "determined" };

struct market {
	char ticker[RECIO_TICKER_MAX];
	int64_t strike;                 /* cents: YES wins if the average > strike */
	enum mstatus status;
	char result;                    /* 'y', 'n' or 0 */
	int bid[MM_LEVELS], ask[MM_LEVELS];     /* market maker levels, cents; 0 = none */
	int64_t bidsz[MM_LEVELS], asksz[MM_LEVELS];     /* c100 */
	int last, prev_bid, prev_ask, prev_last;
	int64_t volume, oi;             /* c100 */
	int64_t updated_ms;
};

struct event {
	char ticker[RECIO_TICKER_MAX];
	char title[96], sub_title[64];
	int64_t open_ms, close_ms;
	int nm;
	struct market *m;
	int closed, settled;
	int64_t avg_cents;              /* settlement average (rounded down), when closed */
};

enum oside { BID = 0, ASK = 1 };
enum ostatus { O_RESTING, O_CANCELED, O_EXECUTED };
static const char *const ostatus_name[] = { "resting", "canceled", "executed" };
enum tif { FOK, IOC, GTC };

struct order {
	uint64_t seq;
	char id[40], client_id[RECIO_ID_MAX], ticker[RECIO_TICKER_MAX];
	enum oside side;
	int price;                      /* YES price, cents */
	enum tif tif;
	bool post_only, reduce_only;
	enum ostatus status;
	int64_t initial, filled, remaining;     /* c100 */
	int64_t taker_cost, maker_cost, taker_fees, maker_fees; /* cc */
	int64_t fee_raw, fee_charged;   /* cc: Kalshi's per-order rounding accumulator */
	int64_t created_ms, updated_ms, visible_ms;
	int64_t arrived_us;             /* real time its request arrived (GET /sim/orders) */
	char stp[16];
	char event_ticker[RECIO_TICKER_MAX];
	struct market *mkt;             /* valid while resting (markets live >= 48 h) */
};

struct fill {
	uint64_t seq;
	char fill_id[40], trade_id[40], order_id[40], ticker[RECIO_TICKER_MAX];
	enum oside side;
	int price;
	int64_t count, fee;             /* c100, cc */
	bool taker;
	int64_t ts_ms;
};

struct settlement {
	uint64_t seq;
	char ticker[RECIO_TICKER_MAX], event_ticker[RECIO_TICKER_MAX];
	char result;
	int64_t yes_count, no_count, yes_cost, no_cost, revenue_cents;
	int64_t ts_ms;
};

struct position {
	char ticker[RECIO_TICKER_MAX], event_ticker[RECIO_TICKER_MAX];
	int64_t pos;                    /* c100, + yes, - no */
	int64_t basis;                  /* cc paid for the open position */
	int64_t traded, realized, fees; /* cc */
	int64_t updated_ms;
};

struct account {
	char key_id[RECIO_ID_MAX];
	struct kx_key *pub;
	int64_t balance, deposits, trade_cash, fees, revenue;  /* cc */
	struct tbucket rd, wr;
	struct order *o; size_t no, co;
	struct fill *f; size_t nf, cf;
	struct settlement *s; size_t ns, cs;
	struct position *p; size_t np, cp;
};

struct sim {
	struct config cfg;
	struct rng px_rng, mm_rng, fault_rng, id_rng;
	int64_t sec;                    /* current simulated second (epoch s) */
	int64_t mono0_ms, start_ms;
	double price;                   /* dollars, the path's exact value */
	int64_t stall_until;            /* POST /sim/feed: the feeds stand still until (monotonic ms) */
	int64_t stall_sec, stall_ms;    /* the second and time they stand at */
	int64_t px[PX_RING];            /* cents, by second modulo PX_RING */
	int64_t *rp_ts, *rp_px; size_t rp_n, rp_i;     /* replay */
	struct event ev[EVENTS_KEPT];
	int nev;                        /* events in ev, oldest first; last is open */
	struct account *acct; size_t nacct;
	struct rest { size_t a, o; uint64_t seq; } *rest;       /* resting orders */
	size_t nrest, crest;
	uint64_t rest_seq;                                      /* ... in the order they came */
	struct tbucket anon_rd;
	uint64_t seq, trade_seq;
	unsigned long requests, n429, n5xx, nslow, ndrop, nlost, nempty, ndup, n401;
	unsigned long ws_opened, ws_pongs, ws_subscribes, ws_frames_out, ndupcid;
	volatile sig_atomic_t stop;
};

static struct sim S;

/* WebSocket connections (see "WebSocket channels" below) */
#define WS_MAX 64
#define WS_FRAME_MAX 65536
#define WS_PING_MS 10000

enum ws_kind { WS_KALSHI, WS_COINBASE };

struct wsconn {
	int fd;
	struct MHD_UpgradeResponseHandle *urh;
	enum ws_kind kind;
	struct buf in;
	int sid_ticker, sid_cfb, sid_cb;        /* subscription ids, 0 = none */
	int sid_fill, sid_mpos;                 /* the account's fills and positions */
	long acct;                              /* the account that signed the upgrade, -1 none */
	size_t fill_next;                       /* the account's next fill to push */
	char **tickers;                 /* ticker subscription filter (NULL: all) */
	size_t ntickers;
	int64_t seq, last_sec, last_ping;
	int dead;
	struct { char ticker[RECIO_TICKER_MAX]; int bid, ask; int64_t vol; } *sent;
	size_t nsent;
};

static struct wsconn *wsc[WS_MAX];
static int nws;


static void
on_signal(int sig)
{
	(void)sig;
	S.stop = 1;
}

static int64_t
sim_ms(void)
{
	return S.sec * 1000;
}

static int64_t
px_at(int64_t sec)
{
	return S.px[((sec % PX_RING) + PX_RING) % PX_RING];
}

/* ---- identifiers ---- */

static void
make_uuid(char out[40])
{
	uint64_t a = rng_u64(&S.id_rng), b = rng_u64(&S.id_rng);

	snprintf(out, 40, "%08x-%04x-4%03x-%04x-%012llx",
	    (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
	    (unsigned)((b >> 48) & 0x3fff) | 0x8000, (unsigned long long)(b & 0xffffffffffffULL));
}

static const char *const month3[] = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
	"JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
static const char *const month_title[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* KXBTCD-YYMONDDHH named by the ET hour of the close, with a title. */
static void
event_name(struct event *e)
{
	int off = rt_et_offset(e->close_ms);
	struct rt_tm tm;
	int h12;

	rt_gmtime(e->close_ms / 1000 + off, &tm);
	snprintf(e->ticker, sizeof e->ticker, "%s-%02d%s%02d%02d", SERIES, tm.year % 100,
	    month3[tm.mon - 1], tm.mday, tm.hour);
	h12 = tm.hour % 12 ? tm.hour % 12 : 12;
	snprintf(e->title, sizeof e->title, "Bitcoin price on %s %d, %d at %d%s %s?",
	    month_title[tm.mon - 1], tm.mday, tm.year, h12, tm.hour < 12 ? "am" : "pm",
	    off == -14400 ? "EDT" : "EST");
	snprintf(e->sub_title, sizeof e->sub_title, "On %s %d, %d at %d%s %s",
	    month_title[tm.mon - 1], tm.mday, tm.year, h12, tm.hour < 12 ? "am" : "pm",
	    off == -14400 ? "EDT" : "EST");
}

/* ---- price path ---- */

static double
sigma_per_second(void)
{
	return S.cfg.vol / sqrt(365.0 * 86400.0);
}

static void
price_step(int64_t sec)
{
	double p = S.price;

	if (S.rp_n) {
		while (S.rp_i + 1 < S.rp_n && S.rp_ts[S.rp_i + 1] <= sec)
			S.rp_i++;
		p = (double)S.rp_px[S.rp_i] / 100.0;
	} else {
		double s = sigma_per_second();

		p *= exp(-0.5 * s * s + s * rng_normal(&S.px_rng));
		if (S.cfg.jump_rate > 0 && rng_unit(&S.px_rng) < S.cfg.jump_rate / 3600.0)
			p *= exp(S.cfg.jump_pct / 100.0 * rng_normal(&S.px_rng));
		if (p < 1.0)
			p = 1.0;
	}
	S.price = p;
	S.px[((sec % PX_RING) + PX_RING) % PX_RING] = llround(p * 100.0);
}

/* ---- market maker ---- */

static double
norm_cdf(double x)
{
	return 0.5 * erfc(-x / sqrt(2.0));
}

/* The maker's belief that YES wins: a lognormal P(S_T > K) from a lagged,
 * noisy price.  Good enough to be beatable by a better model. */
static double
mm_fair(const struct market *m, int64_t sec, int64_t close_s)
{
	double s = (double)px_at(sec - S.cfg.lag_s) / 100.0;
	double k = (double)m->strike / 100.0, ttc = (double)(close_s - sec), sd;

	s *= 1.0 + S.cfg.noise_pct / 100.0 * rng_normal(&S.mm_rng);
	if (ttc < 1.0)
		ttc = 1.0;
	sd = sigma_per_second() * sqrt(ttc);
	return norm_cdf(log(s / k) / sd);
}

static void
mm_quote(struct market *m, int64_t sec, int64_t close_s)
{
	double fv = mm_fair(m, sec, close_s) * 100.0, half = (double)S.cfg.spread / 2.0;
	int bid = (int)floor(fv - half), ask = (int)ceil(fv + half);

	if (bid < 1)
		bid = 1;
	if (bid > 98)
		bid = 98;
	if (ask > 99)
		ask = 99;
	if (ask <= bid)
		ask = bid + 1;
	m->prev_bid = m->bid[0];
	m->prev_ask = m->ask[0];
	for (int i = 0; i < MM_LEVELS; i++) {
		m->bid[i] = bid - i >= 1 ? bid - i : 0;
		m->ask[i] = ask + i <= 99 ? ask + i : 0;
		m->bidsz[i] = m->bid[i] ? (int64_t)(rng_below(&S.mm_rng, 280) + 20 + 100 * i) * 100 : 0;
		m->asksz[i] = m->ask[i] ? (int64_t)(rng_below(&S.mm_rng, 280) + 20 + 100 * i) * 100 : 0;
	}
	/* Other traders: background volume so that liquid strikes look liquid. */
	if (rng_unit(&S.mm_rng) < 0.03) {
		int64_t n = (int64_t)(rng_below(&S.mm_rng, 40) + 1) * 100;

		m->prev_last = m->last;
		m->last = rng_below(&S.mm_rng, 2) ? m->bid[0] : m->ask[0];
		m->volume += n;
		m->oi += n / 200 * 100;
	}
	m->updated_ms = sec * 1000;
}

/* ---- accounts ---- */

static struct position *
pos_get(struct account *a, const char *ticker, const char *event_ticker)
{
	for (size_t i = 0; i < a->np; i++)
		if (strcmp(a->p[i].ticker, ticker) == 0)
			return &a->p[i];
	if (event_ticker == NULL)
		return NULL;
	if (a->np == a->cp) {
		a->cp = a->cp ? a->cp * 2 : 16;
		a->p = xrealloc(a->p, a->cp * sizeof *a->p);
	}
	memset(&a->p[a->np], 0, sizeof a->p[0]);
	snprintf(a->p[a->np].ticker, sizeof a->p[0].ticker, "%s", ticker);
	snprintf(a->p[a->np].event_ticker, sizeof a->p[0].event_ticker, "%s", event_ticker);
	return &a->p[a->np++];
}

static struct market *
market_find(const char *ticker, struct event **evp)
{
	for (int i = S.nev - 1; i >= 0; i--) {
		struct event *e = &S.ev[i];

		if (strncmp(ticker, e->ticker, strlen(e->ticker)) != 0)
			continue;
		for (int j = 0; j < e->nm; j++)
			if (strcmp(e->m[j].ticker, ticker) == 0) {
				if (evp)
					*evp = e;
				return &e->m[j];
			}
	}
	return NULL;
}

/* Book a fill of n (c100) at YES price p for order o of account a.
 * One YES-priced book with netted positions: a bid buys YES or closes NO,
 * an ask sells YES or opens NO.  Cash, basis and realised P&L in cc. */
static void
apply_fill(struct account *a, struct order *o, struct market *m, const char *event_ticker,
    int64_t n, int p, bool taker)
{
	struct position *ps = pos_get(a, o->ticker, event_ticker);
	int64_t held = o->side == BID ? (ps->pos < 0 ? -ps->pos : 0) : (ps->pos > 0 ? ps->pos : 0);
	int64_t close_n = n < held ? n : held, open_n = n - close_n, cash = 0, fee = 0;
	int64_t close_px = o->side == BID ? 100 - p : p;   /* what the closed side sells at */
	int64_t open_px = o->side == BID ? p : 100 - p;    /* what the opened side costs */
	int64_t abspos = ps->pos < 0 ? -ps->pos : ps->pos;
	struct fill *f;

	if (close_n) {
		int64_t proceeds = close_n * close_px;
		int64_t removed = close_n == abspos || abspos == 0 ? ps->basis : ps->basis * close_n / abspos;

		ps->basis -= removed;
		ps->realized += proceeds - removed;
		cash += proceeds;
	}
	if (open_n) {
		ps->basis += open_n * open_px;
		cash -= open_n * open_px;
	}
	ps->pos += o->side == BID ? n : -n;
	ps->traded += close_n * close_px + open_n * open_px;
	if (taker) {
		o->fee_raw += kx_fee_raw_cc(n, p, KX_TAKER_RATE_BP, 100);
		fee = kx_fee_round_cent(o->fee_raw) - o->fee_charged;
		o->fee_charged += fee;
		o->taker_cost += n * open_px;   /* cost of the outcome side bought */
		o->taker_fees += fee;
	} else {
		o->maker_cost += n * open_px;
	}
	o->filled += n;
	o->remaining -= n;
	o->updated_ms = sim_ms();
	ps->fees += fee;
	ps->realized -= fee;
	ps->updated_ms = sim_ms();
	a->balance += cash - fee;
	a->trade_cash += cash;
	a->fees += fee;
	m->volume += n;
	m->oi += open_n - close_n > 0 ? open_n - close_n : 0;
	m->prev_last = m->last;
	m->last = p;

	if (a->nf == a->cf) {
		a->cf = a->cf ? a->cf * 2 : 64;
		a->f = xrealloc(a->f, a->cf * sizeof *a->f);
	}
	f = &a->f[a->nf++];
	memset(f, 0, sizeof *f);
	f->seq = ++S.seq;
	make_uuid(f->fill_id);
	make_uuid(f->trade_id);
	snprintf(f->order_id, sizeof f->order_id, "%s", o->id);
	snprintf(f->ticker, sizeof f->ticker, "%s", o->ticker);
	f->side = o->side;
	f->price = p;
	f->count = n;
	f->fee = fee;
	f->taker = taker;
	f->ts_ms = sim_ms();
}

static void
order_finish(struct order *o)
{
	if (o->status == O_RESTING && o->remaining == 0)
		o->status = O_EXECUTED;
}

/* Resting orders meet the maker's new quotes: the order is the maker and
 * fills at its own price.  Only resting orders are visited (S.rest). */
/* Resting orders in the order they are matched: by market and side (they
 * take different liquidity), the better price first (a higher bid, a lower
 * ask), then the older. */
static int
by_priority(const void *x, const void *y)
{
	const struct rest *p = x, *q = y;
	const struct order *a = &S.acct[p->a].o[p->o], *b = &S.acct[q->a].o[q->o];

	if (a->mkt != b->mkt)
		return (uintptr_t)a->mkt < (uintptr_t)b->mkt ? -1 : 1;
	if (a->side != b->side)
		return a->side < b->side ? -1 : 1;
	if (a->price != b->price)
		return (a->side == BID) == (a->price > b->price) ? -1 : 1;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

static void
match_resting(void)
{
	size_t keep = 0;

	/* price-time priority: the best price first, at a price the oldest */
	if (S.nrest > 1)
		qsort(S.rest, S.nrest, sizeof *S.rest, by_priority);
	for (size_t r = 0; r < S.nrest; r++) {
		struct account *a = &S.acct[S.rest[r].a];
		struct order *o = &a->o[S.rest[r].o];
		struct market *m = o->mkt;

		for (int l = 0; l < MM_LEVELS && o->status == O_RESTING && m->status == M_ACTIVE; l++) {
			int64_t *sz = o->side == BID ? &m->asksz[l] : &m->bidsz[l];
			int lp = o->side == BID ? m->ask[l] : m->bid[l];
			int64_t n;

			if (lp == 0 || *sz == 0 || (o->side == BID ? lp > o->price : lp < o->price))
				continue;
			n = *sz < o->remaining ? *sz : o->remaining;
			*sz -= n;
			apply_fill(a, o, m, o->event_ticker, n, o->price, false);
			order_finish(o);
		}
		if (o->status == O_RESTING)
			S.rest[keep++] = S.rest[r];
	}
	S.nrest = keep;
}

static void
rest_add(size_t ai, size_t oi)
{
	if (S.nrest == S.crest) {
		S.crest = S.crest ? S.crest * 2 : 64;
		S.rest = xrealloc(S.rest, S.crest * sizeof *S.rest);
	}
	S.rest[S.nrest].a = ai;
	S.rest[S.nrest].o = oi;
	S.rest[S.nrest].seq = ++S.rest_seq;
	S.nrest++;
}

static void
cancel_market_orders(const struct market *m)
{
	for (size_t i = 0; i < S.nacct; i++)
		for (size_t j = 0; j < S.acct[i].no; j++) {
			struct order *o = &S.acct[i].o[j];

			if (o->status == O_RESTING && strcmp(o->ticker, m->ticker) == 0) {
				o->status = O_CANCELED;
				o->remaining = 0;
				o->updated_ms = sim_ms();
			}
		}
}

/* ---- events ---- */

static void
event_open(int64_t close_ms)
{
	struct event *e;
	int64_t sp = S.cfg.spacing_cents, center = llround(S.price * 100.0 / (double)sp) * sp;
	int n = S.cfg.nstrikes;

	if (S.nev == EVENTS_KEPT) {     /* forget the oldest event */
		free(S.ev[0].m);
		memmove(&S.ev[0], &S.ev[1], (EVENTS_KEPT - 1) * sizeof S.ev[0]);
		S.nev--;
	}
	e = &S.ev[S.nev++];
	memset(e, 0, sizeof *e);
	e->close_ms = close_ms;
	e->open_ms = close_ms - HOUR_MS;
	event_name(e);
	e->nm = n;
	e->m = xcalloc((size_t)n, sizeof *e->m);
	for (int i = 0; i < n; i++) {
		struct market *m = &e->m[i];
		int64_t k = center + (int64_t)(i - n / 2) * sp;

		m->strike = k - 1;
		snprintf(m->ticker, sizeof m->ticker, "%s-T%lld.%02lld", e->ticker,
		    (long long)(m->strike / 100), (long long)(m->strike % 100));
		m->status = M_ACTIVE;
		m->volume = (int64_t)rng_below(&S.mm_rng, 500) * 100;
		m->oi = m->volume / 200 * 100;
		mm_quote(m, S.sec, close_ms / 1000);
		m->last = m->bid[0];
	}
	infox("event %s opens, %d strikes around %lld", e->ticker, n, (long long)(center / 100));
}

static void
event_close(struct event *e)
{
	__int128 sum = 0;
	int64_t close_s = e->close_ms / 1000;

	for (int64_t s = close_s - 60; s < close_s; s++)
		sum += px_at(s);
	e->avg_cents = (int64_t)(sum / 60);
	for (int j = 0; j < e->nm; j++) {
		struct market *m = &e->m[j];

		m->status = M_CLOSED;
		/* YES only if the 60-second average is strictly above the strike */
		m->result = sum > (__int128)m->strike * 60 ? 'y' : 'n';
		cancel_market_orders(m);
		m->updated_ms = e->close_ms;
	}
	e->closed = 1;
	infox("event %s closes, average %lld.%02lld", e->ticker,
	    (long long)(e->avg_cents / 100), (long long)(e->avg_cents % 100));
}

static void
event_settle(struct event *e)
{
	for (int j = 0; j < e->nm; j++) {
		struct market *m = &e->m[j];

		m->status = M_DETERMINED;
		m->updated_ms = sim_ms();
		for (size_t i = 0; i < S.nacct; i++) {
			struct account *a = &S.acct[i];
			struct position *ps = pos_get(a, m->ticker, NULL);
			struct settlement *st;

			if (ps == NULL || ps->pos == 0)
				continue;
			if (a->ns == a->cs) {
				a->cs = a->cs ? a->cs * 2 : 16;
				a->s = xrealloc(a->s, a->cs * sizeof *a->s);
			}
			st = &a->s[a->ns++];
			memset(st, 0, sizeof *st);
			st->seq = ++S.seq;
			snprintf(st->ticker, sizeof st->ticker, "%s", m->ticker);
			snprintf(st->event_ticker, sizeof st->event_ticker, "%s", e->ticker);
			st->result = m->result;
			if (ps->pos > 0) {
				st->yes_count = ps->pos;
				st->yes_cost = ps->basis;
				st->revenue_cents = m->result == 'y' ? ps->pos : 0; /* c100 == cents of payout */
			} else {
				st->no_count = -ps->pos;
				st->no_cost = ps->basis;
				st->revenue_cents = m->result == 'n' ? -ps->pos : 0;
			}
			st->ts_ms = sim_ms();
			ps->realized += st->revenue_cents * CC_PER_CENT - ps->basis;
			ps->basis = 0;
			ps->pos = 0;
			ps->updated_ms = sim_ms();
			a->balance += st->revenue_cents * CC_PER_CENT;
			a->revenue += st->revenue_cents * CC_PER_CENT;
		}
	}
	e->settled = 1;
	infox("event %s settled", e->ticker);
}

/* Advance the world by one simulated second. */
static void
step(int64_t sec)
{
	struct event *cur;

	S.sec = sec;
	price_step(sec);
	cur = &S.ev[S.nev - 1];
	if (sec * 1000 >= cur->close_ms) {
		event_close(cur);
		event_open(cur->close_ms + HOUR_MS);
	}
	for (int i = 0; i < S.nev; i++)
		if (S.ev[i].closed && !S.ev[i].settled &&
		    sec * 1000 >= S.ev[i].close_ms + S.cfg.settle_delay_s * 1000)
			event_settle(&S.ev[i]);
	cur = &S.ev[S.nev - 1];
	for (int j = 0; j < cur->nm; j++)
		mm_quote(&cur->m[j], sec, cur->close_ms / 1000);
	if (S.nrest)
		match_resting();
}

static int64_t
clock_now_ms(void)
{
	return S.start_ms + (int64_t)((double)(rt_mono_ms() - S.mono0_ms) * S.cfg.speed);
}

static void
advance(void)
{
	int64_t now = clock_now_ms();

	while ((S.sec + 1) * 1000 <= now && !S.stop)
		step(S.sec + 1);
}

/* ---- JSON rendering (field names as the official SDK's models) ---- */

static void
kdollars(struct buf *b, const char *k, int64_t cc)
{
	char t[40];

	money_fmt_dollars(t, sizeof t, cc);
	jw_kstr(b, k, t);
}

static void
kfp(struct buf *b, const char *k, int64_t c100)
{
	char t[40];

	money_fmt_fp(t, sizeof t, c100);
	jw_kstr(b, k, t);
}

static void
ktime(struct buf *b, const char *k, int64_t ms)
{
	char t[40];

	rt_fmt_iso(t, sizeof t, ms);
	jw_kstr(b, k, t);
}

static void
market_json(struct buf *b, const struct event *e, const struct market *m)
{
	char t[64];
	int64_t k = m->strike + 1;
	int ybid = m->bid[0], yask = m->ask[0] ? m->ask[0] : 100;

	if (m->status != M_ACTIVE)
		ybid = 0, yask = 100;
	jw_obj(b);
	jw_kstr(b, "ticker", m->ticker);
	jw_kstr(b, "event_ticker", e->ticker);
	jw_kstr(b, "market_type", "binary");
	jw_kstr(b, "title", e->title);
	jw_kstr(b, "subtitle", "");
	snprintf(t, sizeof t, "$%lld,%03lld or above", (long long)(k / 100 / 1000),
	    (long long)(k / 100 % 1000));
	jw_kstr(b, "yes_sub_title", t);
	jw_kstr(b, "no_sub_title", t);
	ktime(b, "created_time", e->open_ms);
	ktime(b, "updated_time", m->updated_ms);
	ktime(b, "open_time", e->open_ms);
	ktime(b, "close_time", e->close_ms);
	ktime(b, "expected_expiration_time", e->close_ms + S.cfg.settle_delay_s * 1000);
	ktime(b, "expiration_time", e->close_ms + S.cfg.settle_delay_s * 1000);
	ktime(b, "latest_expiration_time", e->close_ms + 7 * 86400000LL);
	jw_ki64(b, "settlement_timer_seconds", S.cfg.settle_delay_s);
	jw_kstr(b, "status", mstatus_name[m->status]);
	kdollars(b, "yes_bid_dollars", ybid * CC_PER_CENT);
	kfp(b, "yes_bid_size_fp", m->status == M_ACTIVE ? m->bidsz[0] : 0);
	kdollars(b, "yes_ask_dollars", yask * CC_PER_CENT);
	kfp(b, "yes_ask_size_fp", m->status == M_ACTIVE ? m->asksz[0] : 0);
	kdollars(b, "no_bid_dollars", (100 - yask) * CC_PER_CENT);
	kdollars(b, "no_ask_dollars", (100 - ybid) * CC_PER_CENT);
	kdollars(b, "last_price_dollars", m->last * CC_PER_CENT);
	kfp(b, "volume_fp", m->volume);
	kfp(b, "volume_24h_fp", m->volume);
	jw_kstr(b, "result", m->status == M_DETERMINED ? (m->result == 'y' ? "yes" : "no") : "");
	jw_kbool(b, "can_close_early", false);
	kfp(b, "open_interest_fp", m->oi);
	kdollars(b, "notional_value_dollars", CC_PER_DOLLAR);
	kdollars(b, "previous_yes_bid_dollars", m->prev_bid * CC_PER_CENT);
	kdollars(b, "previous_yes_ask_dollars", (m->prev_ask ? m->prev_ask : 100) * CC_PER_CENT);
	kdollars(b, "previous_price_dollars", m->prev_last * CC_PER_CENT);
	kdollars(b, "liquidity_dollars", (m->bidsz[0] / 100) * ybid * CC_PER_CENT);
	if (m->status == M_DETERMINED) {
		kdollars(b, "settlement_value_dollars", m->result == 'y' ? CC_PER_DOLLAR : 0);
		ktime(b, "settlement_ts", e->close_ms + S.cfg.settle_delay_s * 1000);
	}
	if (e->closed) {
		snprintf(t, sizeof t, "%lld.%02lld", (long long)(e->avg_cents / 100),
		    (long long)(e->avg_cents % 100));
		jw_kstr(b, "expiration_value", t);
	} else
		jw_kstr(b, "expiration_value", "");
	jw_kstr(b, "strike_type", "greater");
	jw_key(b, "floor_strike");
	snprintf(t, sizeof t, "%lld.%02lld", (long long)(m->strike / 100), (long long)(m->strike % 100));
	jw_raw(b, t, strlen(t));
	jw_kstr(b, "rules_primary", "If the simple average of the sixty seconds of the BTC price "
	    "before the close is above the strike, the market resolves to Yes.");
	jw_kstr(b, "rules_secondary", "Simulated by kalshi-sim.");
	jw_kstr(b, "price_level_structure", "linear_cent");
	jw_key(b, "price_ranges");
	jw_arr(b);
	jw_obj(b);
	jw_kstr(b, "start", "0.0000");
	jw_kstr(b, "end", "1.0000");
	jw_kstr(b, "step", "0.0100");
	jw_obj_end(b);
	jw_arr_end(b);
	jw_obj_end(b);
}

static void
event_json(struct buf *b, const struct event *e, bool nested)
{
	jw_obj(b);
	jw_kstr(b, "event_ticker", e->ticker);
	jw_kstr(b, "series_ticker", SERIES);
	jw_kstr(b, "sub_title", e->sub_title);
	jw_kstr(b, "title", e->title);
	jw_kstr(b, "collateral_return_type", "");
	jw_kbool(b, "mutually_exclusive", false);
	jw_kstr(b, "category", "Crypto");
	ktime(b, "strike_date", e->close_ms);
	jw_kstr(b, "strike_period", "");
	jw_key(b, "settlement_sources");
	jw_arr(b);
	jw_obj(b);
	jw_kstr(b, "name", "kalshi-sim BTC index");
	jw_kstr(b, "url", "http://127.0.0.1/products/BTC-USD/ticker");
	jw_obj_end(b);
	jw_arr_end(b);
	if (nested) {
		jw_key(b, "markets");
		jw_arr(b);
		for (int j = 0; j < e->nm; j++)
			market_json(b, e, &e->m[j]);
		jw_arr_end(b);
	}
	jw_obj_end(b);
}

static void
order_json(struct buf *b, const struct account *a, const struct order *o, bool sim)
{
	jw_obj(b);
	jw_kstr(b, "order_id", o->id);
	jw_kstr(b, "user_id", a->key_id);
	jw_kstr(b, "client_order_id", o->client_id);
	jw_kstr(b, "ticker", o->ticker);
	jw_kstr(b, "outcome_side", o->side == BID ? "yes" : "no");
	jw_kstr(b, "book_side", o->side == BID ? "bid" : "ask");
	jw_kstr(b, "type", "limit");
	jw_kstr(b, "status", ostatus_name[o->status]);
	kdollars(b, "yes_price_dollars", o->price * CC_PER_CENT);
	kdollars(b, "no_price_dollars", (100 - o->price) * CC_PER_CENT);
	kfp(b, "fill_count_fp", o->filled);
	kfp(b, "remaining_count_fp", o->remaining);
	kfp(b, "initial_count_fp", o->initial);
	kdollars(b, "taker_fill_cost_dollars", o->taker_cost);
	kdollars(b, "maker_fill_cost_dollars", o->maker_cost);
	kdollars(b, "taker_fees_dollars", o->taker_fees);
	kdollars(b, "maker_fees_dollars", o->maker_fees);
	jw_key(b, "expiration_time");
	jw_null(b);
	ktime(b, "created_time", o->created_ms);
	ktime(b, "last_update_time", o->updated_ms);
	jw_kstr(b, "self_trade_prevention_type", o->stp);
	jw_key(b, "order_group_id");
	jw_null(b);
	jw_kbool(b, "cancel_order_on_pause", false);
	jw_ki64(b, "exchange_index", 0);
	if (sim)                /* GET /sim/orders only: not Kalshi's field */
		jw_ki64(b, "arrived_us", o->arrived_us);
	jw_obj_end(b);
}

static void
fill_json(struct buf *b, const struct fill *f)
{
	jw_obj(b);
	jw_kstr(b, "fill_id", f->fill_id);
	jw_ki64(b, "exchange_index", 0);
	jw_kstr(b, "trade_id", f->trade_id);
	jw_kstr(b, "order_id", f->order_id);
	jw_kstr(b, "ticker", f->ticker);
	jw_kstr(b, "market_ticker", f->ticker);
	jw_kstr(b, "outcome_side", f->side == BID ? "yes" : "no");
	jw_kstr(b, "book_side", f->side == BID ? "bid" : "ask");
	kfp(b, "count_fp", f->count);
	kdollars(b, "yes_price_dollars", f->price * CC_PER_CENT);
	kdollars(b, "no_price_dollars", (100 - f->price) * CC_PER_CENT);
	jw_kbool(b, "is_taker", f->taker);
	ktime(b, "created_time", f->ts_ms);
	kdollars(b, "fee_cost", f->fee);
	jw_ki64(b, "ts", f->ts_ms / 1000);
	jw_obj_end(b);
}

static void
position_json(struct buf *b, const struct position *p)
{
	jw_obj(b);
	jw_kstr(b, "ticker", p->ticker);
	jw_ki64(b, "exchange_index", 0);
	kdollars(b, "total_traded_dollars", p->traded);
	kfp(b, "position_fp", p->pos);
	kdollars(b, "market_exposure_dollars", p->basis);
	kdollars(b, "realized_pnl_dollars", p->realized);
	kdollars(b, "fees_paid_dollars", p->fees);
	ktime(b, "last_updated_ts", p->updated_ms);
	jw_obj_end(b);
}

static void
settlement_json(struct buf *b, const struct settlement *s)
{
	jw_obj(b);
	jw_kstr(b, "ticker", s->ticker);
	jw_ki64(b, "exchange_index", 0);
	jw_kstr(b, "event_ticker", s->event_ticker);
	jw_kstr(b, "market_result", s->result == 'y' ? "yes" : "no");
	kfp(b, "yes_count_fp", s->yes_count);
	kdollars(b, "yes_total_cost_dollars", s->yes_cost);
	kfp(b, "no_count_fp", s->no_count);
	kdollars(b, "no_total_cost_dollars", s->no_cost);
	jw_ki64(b, "revenue", s->revenue_cents);
	ktime(b, "settled_time", s->ts_ms);
	kdollars(b, "fee_cost", 0);
	jw_ki64(b, "value", s->result == 'y' ? 100 : 0);
	jw_obj_end(b);
}

/* ---- HTTP ---- */

struct req {
	struct MHD_Connection *c;
	const char *method, *url, *path;        /* path: url after API, or url */
	const char *body;
	size_t blen;
	struct account *acct;
	size_t acct_i;
	struct buf out;
	unsigned status;
	bool drop;                      /* close the connection without a reply */
	int64_t slow_ms;
	int64_t arrived_us;             /* real time the request's headers were read */
};

static void
reply_error(struct req *r, unsigned status, const char *code, const char *msg)
{
	buf_reset(&r->out);
	jw_obj(&r->out);
	jw_key(&r->out, "error");
	jw_obj(&r->out);
	jw_kstr(&r->out, "code", code);
	jw_kstr(&r->out, "message", msg);
	jw_kstr(&r->out, "details", "");
	jw_obj_end(&r->out);
	jw_obj_end(&r->out);
	r->status = status;
}

static const char *
qarg(struct req *r, const char *k)
{
	const char *v = MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, k);

	return v && *v ? v : NULL;
}

static bool
qbool(struct req *r, const char *k)
{
	const char *v = qarg(r, k);

	return v && strcmp(v, "true") == 0;
}

/* limit and cursor; returns -1 after replying 400. */
static int
page_args(struct req *r, int64_t max, int64_t *limit, int64_t *cursor)
{
	const char *l = qarg(r, "limit"), *c = qarg(r, "cursor");

	*limit = PAGE_DEFAULT < max ? PAGE_DEFAULT : max;
	*cursor = -1;
	if (l && cfg_parse_i64(l, 1, max, limit) < 0) {
		char m[96];

		snprintf(m, sizeof m, "limit must be an integer from 1 to %lld", (long long)max);
		reply_error(r, 400, "invalid_parameters", m);
		return -1;
	}
	if (c && cfg_parse_i64(c, 0, INT64_MAX, cursor) < 0) {
		reply_error(r, 400, "invalid_parameters", "invalid cursor");
		return -1;
	}
	return 0;
}

static void
kcursor(struct buf *b, int64_t next)
{
	char t[24];

	if (next < 0)
		t[0] = '\0';
	else
		snprintf(t, sizeof t, "%lld", (long long)next);
	jw_kstr(b, "cursor", t);
}

static bool
in_list(const char *list, const char *s)
{
	size_t n = strlen(s);

	for (const char *p = list; p && *p; ) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == n && strncmp(p, s, n) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

static const char *
event_status(const struct event *e)
{
	return e->settled ? "settled" : e->closed ? "closed" : "open";
}

static const char *
market_query_status(const struct market *m)
{
	return m->status == M_ACTIVE ? "open" : m->status == M_CLOSED ? "closed" : "settled";
}

static void
get_markets(struct req *r)
{
	const char *series = qarg(r, "series_ticker"), *evt = qarg(r, "event_ticker");
	const char *st = qarg(r, "status"), *tickers = qarg(r, "tickers");
	int64_t limit, cur, idx = 0, n = 0, next = -1;

	if (page_args(r, PAGE_MAX, &limit, &cur) < 0)
		return;
	jw_obj(&r->out);
	jw_key(&r->out, "markets");
	jw_arr(&r->out);
	for (int i = 0; i < S.nev && next < 0; i++) {
		struct event *e = &S.ev[i];

		if (series && strcmp(series, SERIES) != 0)
			break;
		if (evt && !in_list(evt, e->ticker))
			continue;
		for (int j = 0; j < e->nm; j++) {
			struct market *m = &e->m[j];

			if (st && !in_list(st, market_query_status(m)))
				continue;
			if (tickers && !in_list(tickers, m->ticker))
				continue;
			if (idx++ < cur)
				continue;
			if (n == limit) {
				next = idx - 1;
				break;
			}
			market_json(&r->out, e, m);
			n++;
		}
	}
	jw_arr_end(&r->out);
	kcursor(&r->out, next);
	jw_obj_end(&r->out);
}

static void
get_events(struct req *r)
{
	const char *series = qarg(r, "series_ticker"), *st = qarg(r, "status");
	bool nested = qbool(r, "with_nested_markets");
	int64_t limit, cur, idx = 0, n = 0, next = -1;

	if (page_args(r, 200, &limit, &cur) < 0)
		return;
	jw_obj(&r->out);
	jw_key(&r->out, "events");
	jw_arr(&r->out);
	for (int i = S.nev - 1; i >= 0; i--) {      /* newest first */
		struct event *e = &S.ev[i];

		if (series && strcmp(series, SERIES) != 0)
			break;
		if (st && !in_list(st, event_status(e)))
			continue;
		if (idx++ < cur)
			continue;
		if (n == limit) {
			next = idx - 1;
			break;
		}
		event_json(&r->out, e, nested);
		n++;
	}
	jw_arr_end(&r->out);
	kcursor(&r->out, next);
	jw_obj_end(&r->out);
}

static struct event *
event_find(const char *t)
{
	for (int i = 0; i < S.nev; i++)
		if (strcmp(S.ev[i].ticker, t) == 0)
			return &S.ev[i];
	return NULL;
}

static void
get_event(struct req *r, const char *t)
{
	struct event *e = event_find(t);

	if (e == NULL) {
		reply_error(r, 404, "not_found", "event not found");
		return;
	}
	jw_obj(&r->out);
	jw_key(&r->out, "event");
	event_json(&r->out, e, qbool(r, "with_nested_markets"));
	jw_key(&r->out, "markets");
	jw_arr(&r->out);
	for (int j = 0; j < e->nm; j++)
		market_json(&r->out, e, &e->m[j]);
	jw_arr_end(&r->out);
	jw_obj_end(&r->out);
}

static void
get_market(struct req *r, const char *t)
{
	struct event *e;
	struct market *m = market_find(t, &e);

	if (m == NULL) {
		reply_error(r, 404, "not_found", "market not found");
		return;
	}
	jw_obj(&r->out);
	jw_key(&r->out, "market");
	market_json(&r->out, e, m);
	jw_obj_end(&r->out);
}

/* Aggregate resting size at each YES price for one side (maker + users). */
static void
book_side(struct buf *b, const struct market *m, enum oside side, int64_t depth)
{
	int64_t lvl[101] = { 0 };
	int n = 0;
	char p[40], q[40];

	if (m->status == M_ACTIVE)
		for (int l = 0; l < MM_LEVELS; l++) {
			if (side == BID && m->bid[l])
				lvl[m->bid[l]] += m->bidsz[l];
			if (side == ASK && m->ask[l])
				lvl[m->ask[l]] += m->asksz[l];
		}
	for (size_t i = 0; i < S.nrest; i++) {
		const struct order *o = &S.acct[S.rest[i].a].o[S.rest[i].o];

		if (o->status == O_RESTING && o->mkt == m && o->side == side)
			lvl[o->price] += o->remaining;
	}
	/* Levels ascending by price of the side shown: YES bids by YES price,
	 * NO bids (YES asks) by NO price.  depth counts from the best. */
	int best_first[101], nb = 0;

	if (side == BID) {
		for (int pr = 99; pr >= 1; pr--)
			if (lvl[pr])
				best_first[nb++] = pr;
	} else {
		for (int pr = 1; pr <= 99; pr++)
			if (lvl[pr])
				best_first[nb++] = pr;
	}
	if (depth > 0 && nb > depth)
		nb = (int)depth;
	jw_arr(b);
	for (int i = nb - 1; i >= 0; i--) {
		int pr = best_first[i];

		money_fmt_dollars(p, sizeof p, (side == BID ? pr : 100 - pr) * CC_PER_CENT);
		money_fmt_fp(q, sizeof q, lvl[pr]);
		jw_arr(b);
		jw_str(b, p);
		jw_str(b, q);
		jw_arr_end(b);
		n++;
	}
	jw_arr_end(b);
	(void)n;
}

static void
get_orderbook(struct req *r, const char *t)
{
	struct market *m = market_find(t, NULL);
	const char *d = qarg(r, "depth");
	int64_t depth = 0;

	if (m == NULL) {
		reply_error(r, 404, "not_found", "market not found");
		return;
	}
	if (d && cfg_parse_i64(d, 0, 100, &depth) < 0) {
		reply_error(r, 400, "invalid_parameters", "depth must be an integer from 0 to 100");
		return;
	}
	jw_obj(&r->out);
	jw_key(&r->out, "orderbook_fp");
	jw_obj(&r->out);
	jw_key(&r->out, "yes_dollars");
	book_side(&r->out, m, BID, depth);
	jw_key(&r->out, "no_dollars");
	book_side(&r->out, m, ASK, depth);
	jw_obj_end(&r->out);
	jw_obj_end(&r->out);
}

/* ---- portfolio ---- */

static int64_t
portfolio_value_cc(const struct account *a)
{
	int64_t v = 0;

	for (size_t i = 0; i < a->np; i++) {
		const struct position *p = &a->p[i];
		struct market *m;

		if (p->pos == 0 || (m = market_find(p->ticker, NULL)) == NULL || m->status != M_ACTIVE)
			continue;
		v += p->pos > 0 ? p->pos * m->bid[0] : -p->pos * (100 - (m->ask[0] ? m->ask[0] : 100));
	}
	return v;
}

static void
get_balance(struct req *r)
{
	const struct account *a = r->acct;

	jw_obj(&r->out);
	jw_ki64(&r->out, "balance", a->balance / CC_PER_CENT);
	kdollars(&r->out, "balance_dollars", a->balance);
	jw_ki64(&r->out, "portfolio_value", portfolio_value_cc(a) / CC_PER_CENT);
	jw_ki64(&r->out, "updated_ts", S.sec);
	jw_obj_end(&r->out);
}

static bool
ts_in(struct req *r, int64_t ms)
{
	const char *lo = qarg(r, "min_ts"), *hi = qarg(r, "max_ts");
	int64_t v;

	if (lo && cfg_parse_i64(lo, 0, INT64_MAX, &v) == 0 && ms / 1000 < v)
		return false;
	if (hi && cfg_parse_i64(hi, 0, INT64_MAX, &v) == 0 && ms / 1000 > v)
		return false;
	return true;
}

static bool
ticker_in_event(const char *ticker, const char *evt)
{
	size_t n = strlen(evt);

	return strncmp(ticker, evt, n) == 0 && ticker[n] == '-';
}

static void
get_orders(struct req *r)
{
	const struct account *a = r->acct;
	const char *tk = qarg(r, "ticker"), *evt = qarg(r, "event_ticker"), *st = qarg(r, "status");
	int64_t limit, cur, n = 0, next = -1, last = -1;
	int64_t now = sim_ms();

	if (page_args(r, 200, &limit, &cur) < 0)
		return;
	jw_obj(&r->out);
	jw_key(&r->out, "orders");
	jw_arr(&r->out);
	for (size_t i = a->no; i-- > 0; ) {
		const struct order *o = &a->o[i];

		if (cur >= 0 && (int64_t)o->seq >= cur)
			continue;
		if (o->visible_ms > now || (tk && !in_list(tk, o->ticker)) ||
		    (evt && !ticker_in_event(o->ticker, evt)) ||
		    (st && strcmp(st, ostatus_name[o->status]) != 0) || !ts_in(r, o->created_ms))
			continue;
		if (n == limit) {
			next = last;
			break;
		}
		order_json(&r->out, a, o, false);
		last = (int64_t)o->seq;
		n++;
	}
	jw_arr_end(&r->out);
	kcursor(&r->out, next);
	jw_obj_end(&r->out);
}

static struct order *
order_by_id(struct account *a, const char *id)
{
	for (size_t i = a->no; i-- > 0; )
		if (strcmp(a->o[i].id, id) == 0)
			return &a->o[i];
	return NULL;
}

static void
get_order(struct req *r, const char *id)
{
	struct order *o = order_by_id(r->acct, id);

	if (o == NULL || o->visible_ms > sim_ms()) {
		reply_error(r, 404, "not_found", "order not found");
		return;
	}
	jw_obj(&r->out);
	jw_key(&r->out, "order");
	order_json(&r->out, r->acct, o, false);
	jw_obj_end(&r->out);
}

static void
get_fills(struct req *r)
{
	const struct account *a = r->acct;
	const char *tk = qarg(r, "ticker"), *oid = qarg(r, "order_id");
	int64_t limit, cur, n = 0, next = -1, last = -1;

	if (page_args(r, 1000, &limit, &cur) < 0)
		return;
	jw_obj(&r->out);
	jw_key(&r->out, "fills");
	jw_arr(&r->out);
	for (size_t i = a->nf; i-- > 0; ) {
		const struct fill *f = &a->f[i];

		if (cur >= 0 && (int64_t)f->seq >= cur)
			continue;
		if ((tk && strcmp(tk, f->ticker) != 0) || (oid && strcmp(oid, f->order_id) != 0) ||
		    !ts_in(r, f->ts_ms))
			continue;
		/* fault: a fill that never shows in the listing (the same ones every time) */
		if (S.cfg.f.phidefill > 0 && (double)(f->seq * 2654435761ULL % 1000) < S.cfg.f.phidefill * 1000)
			continue;
		if (n == limit) {
			next = last;
			break;
		}
		fill_json(&r->out, f);
		/* fault: the same fill delivered twice */
		if (S.cfg.f.pdupfill > 0 && rng_unit(&S.fault_rng) < S.cfg.f.pdupfill) {
			fill_json(&r->out, f);
			S.ndup++;
		}
		last = (int64_t)f->seq;
		n++;
	}
	jw_arr_end(&r->out);
	kcursor(&r->out, next);
	jw_obj_end(&r->out);
}

static void
get_settlements(struct req *r)
{
	const struct account *a = r->acct;
	const char *tk = qarg(r, "ticker"), *evt = qarg(r, "event_ticker");
	int64_t limit, cur, n = 0, next = -1, last = -1;

	if (page_args(r, 200, &limit, &cur) < 0)
		return;
	jw_obj(&r->out);
	jw_key(&r->out, "settlements");
	jw_arr(&r->out);
	for (size_t i = a->ns; i-- > 0; ) {
		const struct settlement *s = &a->s[i];

		if (cur >= 0 && (int64_t)s->seq >= cur)
			continue;
		if ((tk && strcmp(tk, s->ticker) != 0) || (evt && strcmp(evt, s->event_ticker) != 0) ||
		    !ts_in(r, s->ts_ms))
			continue;
		if (n == limit) {
			next = last;
			break;
		}
		settlement_json(&r->out, s);
		last = (int64_t)s->seq;
		n++;
	}
	jw_arr_end(&r->out);
	kcursor(&r->out, next);
	jw_obj_end(&r->out);
}

static void
get_positions(struct req *r)
{
	const struct account *a = r->acct;
	const char *tk = qarg(r, "ticker"), *evt = qarg(r, "event_ticker");
	const char *cf = qarg(r, "count_filter");
	int64_t limit, cur, idx = 0, n = 0, next = -1;
	bool nonzero = cf && (in_list(cf, "position") || in_list(cf, "total_traded"));

	if (page_args(r, 1000, &limit, &cur) < 0)
		return;
	jw_obj(&r->out);
	jw_key(&r->out, "market_positions");
	jw_arr(&r->out);
	for (size_t i = 0; i < a->np; i++) {
		const struct position *p = &a->p[i];

		if ((tk && strcmp(tk, p->ticker) != 0) || (evt && strcmp(evt, p->event_ticker) != 0) ||
		    (nonzero && in_list(cf, "position") && p->pos == 0))
			continue;
		if (idx++ < cur)
			continue;
		if (n == limit) {
			next = idx - 1;
			break;
		}
		position_json(&r->out, p);
		n++;
	}
	jw_arr_end(&r->out);
	/* Event positions: one per event the account traded in. */
	jw_key(&r->out, "event_positions");
	jw_arr(&r->out);
	for (int e = 0; e < S.nev; e++) {
		int64_t cost = 0, shares = 0, exposure = 0, realized = 0, fees = 0;
		bool any = false;

		if (evt && strcmp(evt, S.ev[e].ticker) != 0)
			continue;
		for (size_t i = 0; i < a->np; i++) {
			const struct position *p = &a->p[i];

			if (strcmp(p->event_ticker, S.ev[e].ticker) != 0)
				continue;
			any = true;
			cost += p->traded;
			shares += p->pos < 0 ? -p->pos : p->pos;
			exposure += p->basis;
			realized += p->realized;
			fees += p->fees;
		}
		if (!any)
			continue;
		jw_obj(&r->out);
		jw_kstr(&r->out, "event_ticker", S.ev[e].ticker);
		kdollars(&r->out, "total_cost_dollars", cost);
		kfp(&r->out, "total_cost_shares_fp", shares);
		kdollars(&r->out, "event_exposure_dollars", exposure);
		kdollars(&r->out, "realized_pnl_dollars", realized);
		kdollars(&r->out, "fees_paid_dollars", fees);
		jw_obj_end(&r->out);
	}
	jw_arr_end(&r->out);
	kcursor(&r->out, next);
	jw_obj_end(&r->out);
}

/* ---- orders ---- */

/* Parse a create-order body.  Returns 0 or -1 after replying 400. */
#define ORDER_COUNT_MAX INT64_C(1000000)     /* contracts in one order */
#define ORDER_COUNT_MAX_TEXT "1000000"

static int
parse_order(struct req *r, struct json *j, struct order *o, int64_t *count)
{
	char side[8], tif[24], px[24], cnt[24];
	bool v;
	int t;

	if (json_parse(j, r->body, r->blen) < 0 || json_type(j, 0) != JSON_OBJECT) {
		reply_error(r, 400, "invalid_parameters", "request body is not a JSON object");
		return -1;
	}
	if (json_get_str(j, 0, "ticker", o->ticker, sizeof o->ticker) < 0) {
		reply_error(r, 400, "invalid_parameters", "ticker: required string");
		return -1;
	}
	if ((t = json_get(j, 0, "client_order_id")) >= 0 &&
	    json_str(j, t, o->client_id, sizeof o->client_id) < 0) {
		reply_error(r, 400, "invalid_parameters", "client_order_id: must be a string of at most 127 bytes");
		return -1;
	}
	if (json_get_str(j, 0, "side", side, sizeof side) < 0 ||
	    (strcmp(side, "bid") != 0 && strcmp(side, "ask") != 0)) {
		reply_error(r, 400, "invalid_parameters", "side: must be \"bid\" or \"ask\"");
		return -1;
	}
	o->side = side[0] == 'b' ? BID : ASK;
	if (json_get_str(j, 0, "count", cnt, sizeof cnt) < 0 ||
	    money_parse_fp(cnt, strlen(cnt), count) < 0 || *count <= 0) {
		reply_error(r, 400, "invalid_parameters", "count: must be a positive fixed-point string such as \"10.00\"");
		return -1;
	}
	/* (hundredths of a contract) a bound, so that the cost of what is
	 * asked (count x price, fees) stays far inside 64 bits: a count of
	 * 10^15 wrapped it negative and passed the balance check */
	if (*count > ORDER_COUNT_MAX * 100) {
		reply_error(r, 400, "invalid_parameters", "count: at most " ORDER_COUNT_MAX_TEXT " contracts");
		return -1;
	}
	{
		int64_t c;

		if (json_get_str(j, 0, "price", px, sizeof px) < 0 ||
		    money_parse_cents(px, strlen(px), &c) < 0 || c < 1 || c > 99) {
			reply_error(r, 400, "invalid_parameters",
			    "price: must be a dollar string on the market's $0.01 ticks, 0.01 to 0.99");
			return -1;
		}
		o->price = (int)c;
	}
	if (json_get_str(j, 0, "time_in_force", tif, sizeof tif) < 0) {
		reply_error(r, 400, "invalid_parameters", "time_in_force: required");
		return -1;
	}
	if (strcmp(tif, "fill_or_kill") == 0)
		o->tif = FOK;
	else if (strcmp(tif, "immediate_or_cancel") == 0)
		o->tif = IOC;
	else if (strcmp(tif, "good_till_canceled") == 0)
		o->tif = GTC;
	else {
		reply_error(r, 400, "invalid_parameters",
		    "time_in_force: must be fill_or_kill, immediate_or_cancel or good_till_canceled");
		return -1;
	}
	if (json_get_str(j, 0, "self_trade_prevention_type", o->stp, sizeof o->stp) < 0 ||
	    (strcmp(o->stp, "taker_at_cross") != 0 && strcmp(o->stp, "maker") != 0)) {
		reply_error(r, 400, "invalid_parameters",
		    "self_trade_prevention_type: must be taker_at_cross or maker");
		return -1;
	}
	if ((t = json_get(j, 0, "post_only")) >= 0) {
		if (json_bool(j, t, &v) < 0) {
			reply_error(r, 400, "invalid_parameters", "post_only: must be a boolean");
			return -1;
		}
		o->post_only = v;
	}
	if ((t = json_get(j, 0, "reduce_only")) >= 0) {
		if (json_bool(j, t, &v) < 0) {
			reply_error(r, 400, "invalid_parameters", "reduce_only: must be a boolean");
			return -1;
		}
		o->reduce_only = v;
	}
	return 0;
}

/* Maker size available to a taker at or better than price. */
static int64_t
takeable(const struct market *m, enum oside side, int price)
{
	int64_t n = 0;

	for (int l = 0; l < MM_LEVELS; l++) {
		if (side == BID && m->ask[l] && m->ask[l] <= price)
			n += m->asksz[l];
		if (side == ASK && m->bid[l] && m->bid[l] >= price)
			n += m->bidsz[l];
	}
	return n;
}

static void
post_order(struct req *r)
{
	struct account *a = r->acct;
	struct order o, *op;
	struct json j = { 0 };
	struct event *e;
	struct market *m;
	struct position *ps;
	int64_t count, held, open_n, need, sum_px = 0;

	memset(&o, 0, sizeof o);
	if (parse_order(r, &j, &o, &count) < 0)
		goto out;
	if ((m = market_find(o.ticker, &e)) == NULL) {
		reply_error(r, 404, "market_not_found", "market not found");
		goto out;
	}
	if (m->status != M_ACTIVE) {
		reply_error(r, 400, "market_closed", "market is not open for trading");
		goto out;
	}
	if (o.client_id[0])
		for (size_t i = 0; i < a->no; i++)
			if (strcmp(a->o[i].client_id, o.client_id) == 0) {
				reply_error(r, 409, "order_already_exists",
				    "an order with this client_order_id already exists");
				S.ndupcid++;
				goto out;
			}
	ps = pos_get(a, o.ticker, NULL);
	held = ps == NULL ? 0 : o.side == BID ? (ps->pos < 0 ? -ps->pos : 0) : (ps->pos > 0 ? ps->pos : 0);
	if (o.reduce_only) {
		if (held == 0) {
			reply_error(r, 400, "invalid_order", "reduce_only order would not reduce a position");
			goto out;
		}
		if (count > held)
			count = held;
	}
	if (o.post_only && takeable(m, o.side, o.price) > 0) {
		reply_error(r, 400, "post_only_cross", "post_only order would cross the book");
		goto out;
	}
	open_n = count > held ? count - held : 0;
	need = open_n * (o.side == BID ? o.price : 100 - o.price) +
	    kx_fee_round_cent(kx_fee_raw_cc(count, o.price, KX_TAKER_RATE_BP, 100));
	if (need > a->balance) {
		reply_error(r, 400, "insufficient_balance", "insufficient balance for this order");
		goto out;
	}

	if (a->no == a->co) {
		a->co = a->co ? a->co * 2 : 64;
		a->o = xrealloc(a->o, a->co * sizeof *a->o);
	}
	op = &a->o[a->no++];
	*op = o;
	op->seq = ++S.seq;
	make_uuid(op->id);
	snprintf(op->event_ticker, sizeof op->event_ticker, "%s", e->ticker);
	op->mkt = m;
	op->initial = op->remaining = count;
	op->status = O_RESTING;
	op->created_ms = op->updated_ms = sim_ms();
	op->arrived_us = r->arrived_us;
	if (S.cfg.f.plag > 0 && rng_unit(&S.fault_rng) < S.cfg.f.plag)
		op->visible_ms = sim_ms() + S.cfg.f.lag_s * 1000;

	/* Take from the maker, best price first; fill_or_kill takes all or nothing. */
	if (op->tif != FOK || takeable(m, op->side, op->price) >= count)
		for (int l = 0; l < MM_LEVELS && op->remaining > 0; l++) {
			int64_t *sz = op->side == BID ? &m->asksz[l] : &m->bidsz[l];
			int lp = op->side == BID ? m->ask[l] : m->bid[l];
			int64_t n;

			if (lp == 0 || *sz == 0 || (op->side == BID ? lp > op->price : lp < op->price))
				continue;
			n = *sz < op->remaining ? *sz : op->remaining;
			*sz -= n;
			sum_px += n * lp;
			apply_fill(a, op, m, e->ticker, n, lp, true);
		}
	order_finish(op);
	if (op->remaining > 0 && op->tif != GTC) {     /* the rest of an IOC/FOK dies */
		op->status = O_CANCELED;
		op->remaining = 0;
	}
	if (op->status == O_RESTING)
		rest_add(r->acct_i, a->no - 1);

	jw_obj(&r->out);
	jw_kstr(&r->out, "order_id", op->id);
	jw_kstr(&r->out, "client_order_id", op->client_id);
	kfp(&r->out, "fill_count", op->filled);
	kfp(&r->out, "remaining_count", op->remaining);
	if (op->filled) {
		/* averages per contract, in cc: sum(n x price) / contracts */
		kdollars(&r->out, "average_fill_price", sum_px * 100 / op->filled);
		kdollars(&r->out, "average_fee_paid", op->taker_fees * 100 / op->filled);
	}
	jw_ki64(&r->out, "ts_ms", op->created_ms);
	jw_obj_end(&r->out);
	r->status = 201;
	infox("%s order %s %s %s %lld @ %d: filled %lld, %s", a->key_id, op->id, op->ticker,
	    op->side == BID ? "bid" : "ask", (long long)(count / 100), op->price,
	    (long long)(op->filled / 100), ostatus_name[op->status]);

	/* faults after the order exists: the reply is lost, or empty */
	if (S.cfg.f.plost > 0 && rng_unit(&S.fault_rng) < S.cfg.f.plost) {
		r->drop = true;
		S.nlost++;
	} else if (S.cfg.f.pempty > 0 && rng_unit(&S.fault_rng) < S.cfg.f.pempty) {
		buf_reset(&r->out);
		buf_puts(&r->out, "{}");
		S.nempty++;
	}
out:
	json_free(&j);
}

static void
delete_order(struct req *r, const char *id)
{
	struct order *o = order_by_id(r->acct, id);
	int64_t reduced;

	if (o == NULL) {
		reply_error(r, 404, "not_found", "order not found");
		return;
	}
	if (o->status != O_RESTING) {
		reply_error(r, 400, "order_not_cancelable", "order is not resting");
		return;
	}
	reduced = o->remaining;
	o->remaining = 0;
	o->status = O_CANCELED;
	o->updated_ms = sim_ms();
	jw_obj(&r->out);
	jw_kstr(&r->out, "order_id", o->id);
	jw_kstr(&r->out, "client_order_id", o->client_id);
	kfp(&r->out, "reduced_by", reduced);
	jw_ki64(&r->out, "ts_ms", o->updated_ms);
	jw_obj_end(&r->out);
}

/* ---- the BTC feed and the simulator's own state ---- */

/* The feeds stand still (POST /sim/feed stall_ms): the same price and time. */
static bool
feed_stalled(void)
{
	return S.stall_until && rt_mono_ms() < S.stall_until;
}

static void
get_ticker(struct req *r)
{
	char t[40], p[32];
	bool stalled = feed_stalled();
	int64_t sec = stalled ? S.stall_sec : S.sec, c = px_at(sec);

	jw_obj(&r->out);
	snprintf(p, sizeof p, "%lld.%02lld", (long long)((c + 1) / 100), (long long)((c + 1) % 100));
	jw_kstr(&r->out, "ask", p);
	snprintf(p, sizeof p, "%lld.%02lld", (long long)((c - 1) / 100), (long long)((c - 1) % 100));
	jw_kstr(&r->out, "bid", p);
	jw_kstr(&r->out, "volume", "12345.67890123");
	jw_ki64(&r->out, "trade_id", sec);
	snprintf(p, sizeof p, "%lld.%02lld", (long long)(c / 100), (long long)(c % 100));
	jw_kstr(&r->out, "price", p);
	jw_kstr(&r->out, "size", "0.01000000");
	rt_fmt_iso(t, sizeof t, stalled ? S.stall_ms : clock_now_ms());
	jw_kstr(&r->out, "time", t);
	jw_obj_end(&r->out);
}

static void
get_sim_state(struct req *r)
{
	struct buf *b = &r->out;
	const struct event *cur = &S.ev[S.nev - 1];

	jw_obj(b);
	jw_ki64(b, "sim_ms", clock_now_ms());
	jw_ki64(b, "sim_sec", S.sec);
	jw_kf64(b, "speed", S.cfg.speed, 3);
	jw_ki64(b, "seed", (int64_t)S.cfg.seed);
	jw_ki64(b, "price_cents", px_at(S.sec));
	jw_kstr(b, "event_ticker", cur->ticker);
	ktime(b, "close_time", cur->close_ms);
	jw_key(b, "counters");
	jw_obj(b);
	jw_ki64(b, "requests", (int64_t)S.requests);
	jw_ki64(b, "unauthorized", (int64_t)S.n401);
	jw_ki64(b, "rate_limited", (int64_t)S.n429);
	jw_ki64(b, "fault_5xx", (int64_t)S.n5xx);
	jw_ki64(b, "fault_slow", (int64_t)S.nslow);
	jw_ki64(b, "fault_drop", (int64_t)S.ndrop);
	jw_ki64(b, "fault_lost", (int64_t)S.nlost);
	jw_ki64(b, "fault_empty", (int64_t)S.nempty);
	jw_ki64(b, "fault_dupfill", (int64_t)S.ndup);
	jw_ki64(b, "duplicate_client_order_id", (int64_t)S.ndupcid);
	jw_ki64(b, "ws_open", nws);
	jw_ki64(b, "ws_opened", (int64_t)S.ws_opened);
	jw_ki64(b, "ws_subscribes", (int64_t)S.ws_subscribes);
	jw_ki64(b, "ws_pongs", (int64_t)S.ws_pongs);
	jw_obj_end(b);
	jw_key(b, "events");
	jw_arr(b);
	for (int i = 0; i < S.nev; i++) {
		jw_obj(b);
		jw_kstr(b, "event_ticker", S.ev[i].ticker);
		jw_kstr(b, "status", event_status(&S.ev[i]));
		if (S.ev[i].closed)
			jw_ki64(b, "average_cents", S.ev[i].avg_cents);
		jw_obj_end(b);
	}
	jw_arr_end(b);
	jw_key(b, "accounts");
	jw_arr(b);
	for (size_t i = 0; i < S.nacct; i++) {
		const struct account *a = &S.acct[i];
		int64_t resting = 0;

		for (size_t k = 0; k < a->no; k++)
			resting += a->o[k].status == O_RESTING;
		jw_obj(b);
		jw_kstr(b, "key_id", a->key_id);
		jw_ki64(b, "balance_cc", a->balance);
		jw_ki64(b, "deposits_cc", a->deposits);
		jw_ki64(b, "trade_cash_cc", a->trade_cash);
		jw_ki64(b, "fees_cc", a->fees);
		jw_ki64(b, "revenue_cc", a->revenue);
		jw_ki64(b, "orders", (int64_t)a->no);
		jw_ki64(b, "resting_orders", resting);
		jw_ki64(b, "fills", (int64_t)a->nf);
		jw_ki64(b, "settlements", (int64_t)a->ns);
		jw_key(b, "positions");
		jw_arr(b);
		for (size_t k = 0; k < a->np; k++) {
			jw_obj(b);
			jw_kstr(b, "ticker", a->p[k].ticker);
			jw_ki64(b, "position_c100", a->p[k].pos);
			jw_ki64(b, "basis_cc", a->p[k].basis);
			jw_ki64(b, "realized_cc", a->p[k].realized);
			jw_ki64(b, "fees_cc", a->p[k].fees);
			jw_obj_end(b);
		}
		jw_arr_end(b);
		jw_obj_end(b);
	}
	jw_arr_end(b);
	jw_obj_end(b);
}

/* Every order of every account, for tests (client_order_id uniqueness). */
static void
get_sim_orders(struct req *r)
{
	jw_obj(&r->out);
	jw_key(&r->out, "orders");
	jw_arr(&r->out);
	for (size_t i = 0; i < S.nacct; i++)
		for (size_t k = 0; k < S.acct[i].no; k++)
			order_json(&r->out, &S.acct[i], &S.acct[i].o[k], true);
	jw_arr_end(&r->out);
	jw_obj_end(&r->out);
}

/* Tests: {"stall_ms":N} the BTC feeds (ticker, sockets) stand still for N
 * real ms; {"jump_pct":X} the price jumps by X percent at once. */
static void
post_sim_feed(struct req *r)
{
	struct json j = { 0 };
	double pct = 0;
	int64_t ms = 0;
	int has_ms, has_pct;

	if (json_parse(&j, r->body, r->blen) < 0 || json_type(&j, 0) != JSON_OBJECT) {
		json_free(&j);
		reply_error(r, 400, "invalid_parameters", "request body is not a JSON object");
		return;
	}
	has_ms = json_get_i64(&j, 0, "stall_ms", &ms) == 0;
	has_pct = json_get_f64(&j, 0, "jump_pct", &pct) == 0;
	json_free(&j);
	if ((!has_ms && !has_pct) || (has_ms && (ms < 0 || ms > 3600000)) || (has_pct && !(pct > -50 && pct < 100))) {
		reply_error(r, 400, "invalid_parameters", "expected stall_ms (0 to 3600000) and/or jump_pct (-50 to 100)");
		return;
	}
	if (has_ms) {
		if (!feed_stalled()) {
			S.stall_sec = S.sec;
			S.stall_ms = clock_now_ms();
		}
		S.stall_until = ms ? rt_mono_ms() + ms : 0;
	}
	if (has_pct) {
		S.price *= 1.0 + pct / 100.0;
		S.px[((S.sec % PX_RING) + PX_RING) % PX_RING] = llround(S.price * 100.0);
	}
	jw_obj(&r->out);
	jw_kbool(&r->out, "stalled", feed_stalled());
	jw_kf64(&r->out, "price", S.price, 2);
	jw_obj_end(&r->out);
}

/* ---- authentication, limits, faults, routing ---- */

static bool
is_loopback(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return false;
}

/* Check the KALSHI-ACCESS-* headers.  0: r->acct set (or no headers and
 * !required); -1: replied 401. */
static int
authenticate(struct req *r, bool required)
{
	const char *key = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "KALSHI-ACCESS-KEY");
	const char *ts = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "KALSHI-ACCESS-TIMESTAMP");
	const char *sig = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "KALSHI-ACCESS-SIGNATURE");
	int64_t t;
	const char *why = NULL;

	if (!key && !ts && !sig && !required)
		return 0;
	if (!key || !ts || !sig)
		why = "missing KALSHI-ACCESS-KEY, KALSHI-ACCESS-TIMESTAMP or KALSHI-ACCESS-SIGNATURE header";
	else {
		for (size_t i = 0; i < S.nacct; i++)
			if (strcmp(S.acct[i].key_id, key) == 0) {
				r->acct = &S.acct[i];
				r->acct_i = i;
			}
		if (r->acct == NULL)
			why = "unknown API key";
		else if (cfg_parse_i64(ts, 0, INT64_MAX, &t) < 0)
			why = "KALSHI-ACCESS-TIMESTAMP is not milliseconds since the epoch";
		else if (llabs(rt_now_ms() - t) > S.cfg.ts_window_ms)
			why = "request timestamp outside the accepted window";
		else if (kx_verify(r->acct->pub, t, r->method, r->url, sig) != 1)
			why = "invalid signature";
	}
	if (why) {
		r->acct = NULL;
		S.n401++;
		reply_error(r, 401, "authentication_error", why);
		infox("401 %s %s: %s", r->method, r->url, why);
		return -1;
	}
	return 0;
}

static int
rate_limit(struct req *r, bool write)
{
	struct tbucket *b;

	if (!S.cfg.rate_limit)
		return 0;
	b = r->acct ? (write ? &r->acct->wr : &r->acct->rd) : &S.anon_rd;
	if (tb_take(b, KX_REQ_COST, rt_mono_ms()) == 0)
		return 0;
	S.n429++;
	reply_error(r, 429, "too_many_requests", "too many requests");
	return -1;
}

/* Injected faults before any processing.  Returns -1 when the request ends here. */
static int
fault_before(struct req *r)
{
	const struct faults *f = &S.cfg.f;

	if (f->pslow > 0 && rng_unit(&S.fault_rng) < f->pslow) {
		r->slow_ms = f->slow_ms;
		S.nslow++;
	}
	if (f->p429 > 0 && rng_unit(&S.fault_rng) < f->p429) {
		S.n429++;
		reply_error(r, 429, "too_many_requests", "too many requests");
		return -1;
	}
	if (f->p5xx > 0 && rng_unit(&S.fault_rng) < f->p5xx) {
		bool b = rng_below(&S.fault_rng, 2);

		S.n5xx++;
		reply_error(r, b ? 503 : 500, b ? "service_unavailable" : "internal_server_error",
		    b ? "service unavailable" : "internal server error");
		return -1;
	}
	if (f->pdrop > 0 && rng_unit(&S.fault_rng) < f->pdrop) {
		S.ndrop++;
		r->drop = true;
		return -1;
	}
	return 0;
}

/* "/markets/T/orderbook" style matching: if path starts with prefix,
 * *rest points after it. */
static bool
prefix(const char *path, const char *pre, const char **rest)
{
	size_t n = strlen(pre);

	if (strncmp(path, pre, n) != 0)
		return false;
	*rest = path + n;
	return true;
}

static void
route(struct req *r)
{
	const char *p, *rest;
	bool get = strcmp(r->method, "GET") == 0, post = strcmp(r->method, "POST") == 0;
	bool del = strcmp(r->method, "DELETE") == 0;

	r->status = 200;
	if (prefix(r->url, "/sim/", &rest)) {
		if (!is_loopback(r->c))
			reply_error(r, 403, "forbidden", "simulator state is readable from loopback only");
		else if (get && strcmp(rest, "state") == 0)
			get_sim_state(r);
		else if (get && strcmp(rest, "orders") == 0)
			get_sim_orders(r);
		else if (post && strcmp(rest, "feed") == 0)
			post_sim_feed(r);
		else if (post && strcmp(rest, "ws/drop") == 0) {
			for (int i = 0; i < nws; i++)      /* tests: every socket fails at once */
				wsc[i]->dead = 1;
			buf_puts(&r->out, "{}");
		}
		else
			reply_error(r, 404, "not_found", "no such simulator path");
		return;
	}
	if (strcmp(r->url, "/products/BTC-USD/ticker") == 0 && get) {
		if (fault_before(r) == 0 && rate_limit(r, false) == 0)
			get_ticker(r);
		return;
	}
	if (!prefix(r->url, API, &p)) {
		reply_error(r, 404, "not_found", "not found");
		return;
	}
	r->path = p;
	if (prefix(p, "/portfolio/", &rest)) {
		if (authenticate(r, true) < 0 || rate_limit(r, !get) < 0 || fault_before(r) < 0)
			return;
		if (post && strcmp(rest, "orders") == 0)
			reply_error(r, 410, "deprecated_v1_order_endpoint",
			    "POST /portfolio/orders is retired; use POST /portfolio/events/orders");
		else if (del && strncmp(rest, "orders/", 7) == 0)
			reply_error(r, 410, "deprecated_v1_order_endpoint",
			    "DELETE /portfolio/orders/{id} is retired; use DELETE /portfolio/events/orders/{id}");
		else if (post && strcmp(rest, "events/orders") == 0)
			post_order(r);
		else if (del && prefix(rest, "events/orders/", &p) && *p && !strchr(p, '/'))
			delete_order(r, p);
		else if (get && strcmp(rest, "balance") == 0)
			get_balance(r);
		else if (get && strcmp(rest, "positions") == 0)
			get_positions(r);
		else if (get && strcmp(rest, "fills") == 0)
			get_fills(r);
		else if (get && strcmp(rest, "settlements") == 0)
			get_settlements(r);
		else if (get && strcmp(rest, "orders") == 0)
			get_orders(r);
		else if (get && prefix(rest, "orders/", &p) && *p && !strchr(p, '/'))
			get_order(r, p);
		else
			reply_error(r, 404, "not_found", "not found");
		return;
	}
	if (authenticate(r, false) < 0 || rate_limit(r, !get) < 0 || fault_before(r) < 0)
		return;
	if (!get)
		reply_error(r, 405, "method_not_allowed", "method not allowed");
	else if (strcmp(p, "/exchange/status") == 0) {
		jw_obj(&r->out);
		jw_kbool(&r->out, "exchange_active", true);
		jw_kbool(&r->out, "trading_active", true);
		jw_obj_end(&r->out);
	} else if (prefix(p, "/series/", &rest) && *rest && !strchr(rest, '/')) {
		if (strcmp(rest, SERIES) != 0) {
			reply_error(r, 404, "not_found", "series not found");
			return;
		}
		buf_puts(&r->out, "{\"series\":{\"ticker\":\"" SERIES "\",\"frequency\":\"hourly\","
		    "\"title\":\"Bitcoin price today at an hour\",\"category\":\"Crypto\","
		    "\"categories\":[\"Crypto\"],\"tags\":[\"BTC\"],\"settlement_sources\":"
		    "[{\"name\":\"kalshi-sim BTC index\",\"url\":\"\"}],\"contract_url\":\"\","
		    "\"contract_terms_url\":\"\",\"fee_type\":\"quadratic\",\"fee_multiplier\":1,"
		    "\"additional_prohibitions\":[]}}");
	} else if (strcmp(p, "/events") == 0)
		get_events(r);
	else if (prefix(p, "/events/", &rest) && *rest && !strchr(rest, '/'))
		get_event(r, rest);
	else if (strcmp(p, "/markets") == 0)
		get_markets(r);
	else if (prefix(p, "/markets/", &rest) && *rest) {
		const char *slash = strchr(rest, '/');

		if (slash == NULL)
			get_market(r, rest);
		else if (strcmp(slash, "/orderbook") == 0) {
			char t[RECIO_TICKER_MAX];

			snprintf(t, sizeof t, "%.*s", (int)(slash - rest), rest);
			get_orderbook(r, t);
		} else
			reply_error(r, 404, "not_found", "not found");
	} else
		reply_error(r, 404, "not_found", "not found");
}

/* ---- WebSocket channels (RFC 6455 framing over MHD's upgraded socket) ----
 *
 * /trade-api/ws/v2: Kalshi's channels "ticker" (market quotes, at most one
 * message per market per loop pass) and "cfbenchmarks_value" (the index,
 * once a simulated second); signed like a REST GET of that path, refused
 * with 403 when an Origin header is sent, pinged every 10 s.
 * /ws-feed: Coinbase's "ticker" channel for BTC-USD. */

static void
ws_accept_key(const char *key, char out[32])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char md[SHA_DIGEST_LENGTH];
	struct buf b = { 0 };

	buf_printf(&b, "%s%s", key, guid);
	SHA1((const unsigned char *)b.p, b.len, md);
	EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
	buf_free(&b);
}

static void
ws_send_frame(struct wsconn *w, int opcode, const char *p, size_t n)
{
	unsigned char h[10];
	size_t hl;
	struct buf f = { 0 };

	if (w->dead)
		return;
	h[0] = (unsigned char)(0x80 | opcode);
	if (n < 126) {
		h[1] = (unsigned char)n;
		hl = 2;
	} else if (n < 65536) {
		h[1] = 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	buf_add(&f, h, hl);
	buf_add(&f, p, n);
	for (size_t off = 0; off < f.len; ) {
		ssize_t k = send(w->fd, f.p + off, f.len - off, MSG_NOSIGNAL);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			debugx("ws: send: %s", strerror(errno));
			w->dead = 1;    /* a client that cannot keep up is dropped */
			break;
		}
		off += (size_t)k;
	}
	buf_free(&f);
	S.ws_frames_out++;
}

static void
ws_send_text(struct wsconn *w, const struct buf *b)
{
	ws_send_frame(w, 0x1, b->p, b->len);
}

static void
ws_error(struct wsconn *w, int64_t id, int code, const char *msg)
{
	struct buf b = { 0 };

	jw_obj(&b);
	jw_ki64(&b, "id", id);
	jw_kstr(&b, "type", "error");
	jw_key(&b, "msg");
	jw_obj(&b);
	jw_ki64(&b, "code", code);
	jw_kstr(&b, "msg", msg);
	jw_obj_end(&b);
	jw_obj_end(&b);
	ws_send_text(w, &b);
	buf_free(&b);
}

static void
ws_subscribed(struct wsconn *w, int64_t id, const char *channel, int sid)
{
	struct buf b = { 0 };

	jw_obj(&b);
	jw_ki64(&b, "id", id);
	jw_kstr(&b, "type", "subscribed");
	jw_key(&b, "msg");
	jw_obj(&b);
	jw_kstr(&b, "channel", channel);
	jw_ki64(&b, "sid", sid);
	jw_obj_end(&b);
	jw_obj_end(&b);
	ws_send_text(w, &b);
	buf_free(&b);
}

/* A command from a client: Kalshi's {"id","cmd":"subscribe","params":{...}}
 * or Coinbase's {"type":"subscribe","channels":[...]} */
static void
ws_command(struct wsconn *w, const char *text, size_t n)
{
	struct json j = { 0 };
	int64_t id = 0;
	char cmd[32];

	if (json_parse(&j, text, n) < 0 || json_type(&j, 0) != JSON_OBJECT) {
		ws_error(w, 0, 1, "Unable to process message");
		goto out;
	}
	if (w->kind == WS_COINBASE) {
		if (json_get_str(&j, 0, "type", cmd, sizeof cmd) == 0 && strcmp(cmd, "subscribe") == 0) {
			struct buf b = { 0 };

			w->sid_cb = 1;
			S.ws_subscribes++;
			buf_puts(&b, "{\"type\":\"subscriptions\",\"channels\":[{\"name\":\"ticker\",\"product_ids\":[\"BTC-USD\"]}]}");
			ws_send_text(w, &b);
			buf_free(&b);
		} else {
			struct buf b = { 0 };

			buf_puts(&b, "{\"type\":\"error\",\"message\":\"Failed to subscribe\",\"reason\":\"type must be subscribe\"}");
			ws_send_text(w, &b);
			buf_free(&b);
		}
		goto out;
	}
	json_get_i64(&j, 0, "id", &id);
	if (json_get_str(&j, 0, "cmd", cmd, sizeof cmd) < 0 || strcmp(cmd, "subscribe") != 0) {
		ws_error(w, id, 5, "Unknown command");
		goto out;
	}
	{
		int params = json_get(&j, 0, "params"), ch = json_get(&j, params, "channels");
		int mt = json_get(&j, params, "market_tickers");

		if (params < 0) {
			ws_error(w, id, 2, "Params required");
			goto out;
		}
		if (ch < 0 || json_type(&j, ch) != JSON_ARRAY || json_size(&j, ch) == 0) {
			ws_error(w, id, 3, "Channels required");
			goto out;
		}
		for (int i = 0; i < json_size(&j, ch); i++) {
			int t = json_at(&j, ch, i);
			static int next_sid = 1;

			if (json_streq(&j, t, "ticker")) {
				w->sid_ticker = next_sid++;
				for (size_t k = 0; k < w->ntickers; k++)
					free(w->tickers[k]);
				free(w->tickers);
				w->tickers = NULL;
				w->ntickers = 0;
				if (mt >= 0 && json_type(&j, mt) == JSON_ARRAY) {
					w->tickers = xcalloc((size_t)json_size(&j, mt) + 1, sizeof *w->tickers);
					for (int k = 0; k < json_size(&j, mt); k++) {
						char tk[RECIO_TICKER_MAX];

						if (json_str(&j, json_at(&j, mt, k), tk, sizeof tk) == 0)
							w->tickers[w->ntickers++] = xstrdup(tk);
					}
				}
				w->nsent = 0;   /* the next pass sends every subscribed market */
				ws_subscribed(w, id, "ticker", w->sid_ticker);
			} else if (json_streq(&j, t, "fill") || json_streq(&j, t, "market_positions")) {
				bool fill = json_streq(&j, t, "fill");

				if (w->acct < 0) {
					ws_error(w, id, 9, "Authentication required");
					continue;
				}
				if (fill)
					w->sid_fill = next_sid++;
				else
					w->sid_mpos = next_sid++;
				w->fill_next = S.acct[w->acct].nf;      /* from now on */
				ws_subscribed(w, id, fill ? "fill" : "market_positions", fill ? w->sid_fill : w->sid_mpos);
			} else if (json_streq(&j, t, "cfbenchmarks_value")) {
				w->sid_cfb = next_sid++;
				ws_subscribed(w, id, "cfbenchmarks_value", w->sid_cfb);
			} else {
				ws_error(w, id, 8, "Unknown channel name");
				continue;
			}
			S.ws_subscribes++;
		}
	}
out:
	json_free(&j);
}

/* Read what the client sent: masked frames; text commands, ping, pong, close. */
static void
ws_read(struct wsconn *w)
{
	char tmp[8192];
	ssize_t n = recv(w->fd, tmp, sizeof tmp, 0);

	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		debugx("ws: recv: %s", n ? strerror(errno) : "end of file");
		w->dead = 1;
		return;
	}
	if (w->in.len + (size_t)n > WS_FRAME_MAX + 14) {
		w->dead = 1;
		return;
	}
	buf_add(&w->in, tmp, (size_t)n);
	for (;;) {
		const unsigned char *p = (const unsigned char *)w->in.p;
		size_t have = w->in.len, hl = 2, len;
		unsigned char mask[4];
		int op;

		if (have < 2)
			return;
		op = p[0] & 0x0f;
		len = p[1] & 0x7f;
		if (!(p[1] & 0x80) || !(p[0] & 0x80)) {    /* unmasked or fragmented: protocol error */
			debugx("ws: unmasked or fragmented frame (%02x %02x)", p[0], p[1]);
			w->dead = 1;
			return;
		}
		if (len == 126) {
			if (have < 4)
				return;
			len = (size_t)p[2] << 8 | p[3];
			hl = 4;
		} else if (len == 127) {
			w->dead = 1;    /* no client command is that long */
			return;
		}
		if (have < hl + 4 + len)
			return;
		memcpy(mask, p + hl, 4);
		{
			char *d = w->in.p + hl + 4;

			for (size_t i = 0; i < len; i++)
				d[i] = (char)(d[i] ^ mask[i % 4]);
			if (op == 0x1)
				ws_command(w, d, len);
			else if (op == 0x9)
				ws_send_frame(w, 0xA, d, len);
			else if (op == 0xA)
				S.ws_pongs++;
			else if (op == 0x8) {
				ws_send_frame(w, 0x8, d, len < 2 ? len : 2);
				w->dead = 1;
			}
		}
		buf_consume(&w->in, hl + 4 + len);
		if (w->dead)
			return;
	}
}

static bool
ws_wants(const struct wsconn *w, const char *ticker)
{
	if (w->tickers == NULL)
		return true;
	for (size_t i = 0; i < w->ntickers; i++)
		if (strcmp(w->tickers[i], ticker) == 0)
			return true;
	return false;
}

/* Push what changed to every subscriber (called once per loop pass). */
/* Kalshi's private channels: a "fill" message per new fill of the
 * account, and a "market_position" message with the position it left. */
static void
ws_push_account(struct wsconn *w, struct buf *b)
{
	struct account *a = &S.acct[w->acct];

	for (; w->fill_next < a->nf; w->fill_next++) {
		const struct fill *f = &a->f[w->fill_next];

		if (w->sid_fill) {
			buf_reset(b);
			jw_obj(b);
			jw_kstr(b, "type", "fill");
			jw_ki64(b, "sid", w->sid_fill);
			jw_ki64(b, "seq", ++w->seq);
			jw_key(b, "msg");
			jw_obj(b);
			jw_kstr(b, "trade_id", f->trade_id);
			jw_kstr(b, "order_id", f->order_id);
			jw_kstr(b, "market_ticker", f->ticker);
			jw_kbool(b, "is_taker", f->taker);
			jw_kstr(b, "book_side", f->side == BID ? "bid" : "ask");
			kdollars(b, "yes_price_dollars", f->price * CC_PER_CENT);
			kfp(b, "count_fp", f->count);
			kdollars(b, "fee_cost", f->fee);
			jw_ki64(b, "ts", f->ts_ms / 1000);
			jw_obj_end(b);
			jw_obj_end(b);
			ws_send_text(w, b);
		}
		const struct position *p = w->sid_mpos ? pos_get(a, f->ticker, NULL) : NULL;

		if (p) {
			buf_reset(b);
			jw_obj(b);
			jw_kstr(b, "type", "market_position");
			jw_ki64(b, "sid", w->sid_mpos);
			jw_ki64(b, "seq", ++w->seq);
			jw_key(b, "msg");
			jw_obj(b);
			jw_kstr(b, "user_id", a->key_id);
			jw_kstr(b, "market_ticker", p->ticker);
			kfp(b, "position_fp", p->pos);
			kdollars(b, "position_cost_dollars", p->basis);
			kdollars(b, "realized_pnl_dollars", p->realized);
			kdollars(b, "fees_paid_dollars", p->fees);
			jw_obj_end(b);
			jw_obj_end(b);
			ws_send_text(w, b);
		}
	}
}

static void
ws_push(void)
{
	const struct event *cur = &S.ev[S.nev - 1];
	int64_t now = rt_mono_ms();

	for (int i = 0; i < nws; i++) {
		struct wsconn *w = wsc[i];
		struct buf b = { 0 };

		if (w->kind == WS_KALSHI && now - w->last_ping >= S.cfg.ws_ping_ms) {
			ws_send_frame(w, 0x9, "", 0);
			w->last_ping = now;
		}
		if (w->sid_ticker) {
			for (int e = 0; e < S.nev; e++)
				for (int k = 0; k < S.ev[e].nm; k++) {
					const struct market *m = &S.ev[e].m[k];
					size_t s;
					char t[40];

					if (!ws_wants(w, m->ticker) || (m->status != M_ACTIVE && w->tickers == NULL))
						continue;
					for (s = 0; s < w->nsent; s++)
						if (strcmp(w->sent[s].ticker, m->ticker) == 0)
							break;
					if (s < w->nsent && w->sent[s].bid == m->bid[0] && w->sent[s].ask == m->ask[0] &&
					    w->sent[s].vol == m->volume)
						continue;
					if (s == w->nsent) {
						w->sent = xrealloc(w->sent, (w->nsent + 1) * sizeof *w->sent);
						snprintf(w->sent[s].ticker, sizeof w->sent[s].ticker, "%s", m->ticker);
						w->nsent++;
					}
					w->sent[s].bid = m->bid[0];
					w->sent[s].ask = m->ask[0];
					w->sent[s].vol = m->volume;
					buf_reset(&b);
					jw_obj(&b);
					jw_kstr(&b, "type", "ticker");
					jw_ki64(&b, "sid", w->sid_ticker);
					jw_ki64(&b, "seq", ++w->seq);
					jw_key(&b, "msg");
					jw_obj(&b);
					jw_kstr(&b, "market_ticker", m->ticker);
					money_fmt_dollars(t, sizeof t, m->last * CC_PER_CENT);
					jw_kstr(&b, "price_dollars", t);
					money_fmt_dollars(t, sizeof t, (m->status == M_ACTIVE ? m->bid[0] : 0) * CC_PER_CENT);
					jw_kstr(&b, "yes_bid_dollars", t);
					money_fmt_dollars(t, sizeof t, (m->status == M_ACTIVE && m->ask[0] ? m->ask[0] : 100) * CC_PER_CENT);
					jw_kstr(&b, "yes_ask_dollars", t);
					money_fmt_fp(t, sizeof t, m->volume);
					jw_kstr(&b, "volume_fp", t);
					money_fmt_fp(t, sizeof t, m->oi);
					jw_kstr(&b, "open_interest_fp", t);
					jw_ki64(&b, "ts", sim_ms() / 1000);
					jw_ki64(&b, "ts_ms", sim_ms());
					jw_obj_end(&b);
					jw_obj_end(&b);
					ws_send_text(w, &b);
				}
		}
		if ((w->sid_fill || w->sid_mpos) && w->acct >= 0)
			ws_push_account(w, &b);
		if ((w->sid_cfb || w->sid_cb) && w->last_sec != S.sec && !feed_stalled()) {
			int64_t c = px_at(S.sec);
			char v[40], inner[96], iso[40];

			w->last_sec = S.sec;
			snprintf(v, sizeof v, "%lld.%02lld", (long long)(c / 100), (long long)(c % 100));
			buf_reset(&b);
			if (w->sid_cfb) {
				snprintf(inner, sizeof inner, "{\"value\":\"%s\",\"time\":%lld}", v, (long long)S.sec * 1000);
				jw_obj(&b);
				jw_kstr(&b, "type", "cfbenchmarks_value");
				jw_ki64(&b, "sid", w->sid_cfb);
				jw_ki64(&b, "seq", ++w->seq);
				jw_key(&b, "msg");
				jw_obj(&b);
				jw_kstr(&b, "index_id", "BRTI");
				jw_kstr(&b, "data", inner);
				jw_ki64(&b, "received_at", S.sec * 1000);
				jw_obj_end(&b);
				jw_obj_end(&b);
			} else {
				char bid[40], ask[40];

				snprintf(bid, sizeof bid, "%lld.%02lld", (long long)((c - 1) / 100), (long long)((c - 1) % 100));
				snprintf(ask, sizeof ask, "%lld.%02lld", (long long)((c + 1) / 100), (long long)((c + 1) % 100));
				rt_fmt_iso(iso, sizeof iso, S.sec * 1000);
				jw_obj(&b);
				jw_kstr(&b, "type", "ticker");
				jw_ki64(&b, "sequence", ++w->seq);
				jw_kstr(&b, "product_id", "BTC-USD");
				jw_kstr(&b, "price", v);
				jw_kstr(&b, "best_bid", bid);
				jw_kstr(&b, "best_ask", ask);
				jw_kstr(&b, "time", iso);
				jw_obj_end(&b);
			}
			ws_send_text(w, &b);
		}
		buf_free(&b);
	}
	(void)cur;
	/* reap the dead */
	for (int i = 0; i < nws; ) {
		struct wsconn *w = wsc[i];

		if (!w->dead) {
			i++;
			continue;
		}
		MHD_upgrade_action(w->urh, MHD_UPGRADE_ACTION_CLOSE);
		for (size_t k = 0; k < w->ntickers; k++)
			free(w->tickers[k]);
		free(w->tickers);
		free(w->sent);
		buf_free(&w->in);
		free(w);
		wsc[i] = wsc[--nws];
	}
}

static void
ws_upgraded(void *cls, struct MHD_Connection *c, void *req_cls, const char *extra, size_t extra_n,
    MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct wsconn *w;

	(void)c;
	(void)req_cls;
	/* the loop selects on the sockets: one past FD_SETSIZE would overflow */
	if (nws == WS_MAX || sock >= FD_SETSIZE) {
		warnx_("WebSocket: %s: connection closed", nws == WS_MAX ? "too many sockets" : "descriptor beyond FD_SETSIZE");
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->fd = sock;
	w->urh = urh;
	/* cls: the kind in the low 4 bits, the account's index + 1 above */
	w->kind = (enum ws_kind)((intptr_t)cls & 0xf);
	w->acct = (long)((intptr_t)cls >> 4) - 1;
	w->last_ping = rt_mono_ms();
	w->last_sec = -1;
	if (extra_n)
		buf_add(&w->in, extra, extra_n);
	wsc[nws++] = w;
	S.ws_opened++;
}

/* Answer an upgrade request: 101 with Sec-WebSocket-Accept, or an error. */
static enum MHD_Result
ws_handshake(struct MHD_Connection *c, const char *url, const char *method, enum ws_kind kind)
{
	const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	const char *ver = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Version");
	struct MHD_Response *r;
	struct req q;
	char acc[32];
	enum MHD_Result ret;
	unsigned status = 0;

	memset(&q, 0, sizeof q);
	q.c = c;
	q.method = method;
	q.url = url;
	S.requests++;
	if (strcmp(method, "GET") != 0 || key == NULL || strlen(key) > 64 || ver == NULL || strcmp(ver, "13") != 0) {
		reply_error(&q, 400, "bad_request", "not a WebSocket version 13 upgrade");
		status = 400;
	} else if (kind == WS_KALSHI && MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin")) {
		/* what CloudFront answers an Origin header on Kalshi's socket */
		reply_error(&q, 403, "forbidden", "Origin header not allowed");
		status = 403;
	} else if (kind == WS_KALSHI && authenticate(&q, true) < 0)
		status = 401;
	if (status) {
		r = MHD_create_response_from_buffer(q.out.len, q.out.p, MHD_RESPMEM_MUST_COPY);
		buf_free(&q.out);
		ret = MHD_queue_response(c, status, r);
		MHD_destroy_response(r);
		return ret;
	}
	ws_accept_key(key, acc);
	r = MHD_create_response_for_upgrade(ws_upgraded,
	    /* NOLINTNEXTLINE(performance-no-int-to-ptr): an integer in MHD's void * closure, on purpose */
	    (void *)(intptr_t)((intptr_t)kind | (q.acct ? (intptr_t)(q.acct_i + 1) << 4 : 0)));
	MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(r, "Sec-WebSocket-Accept", acc);
	ret = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- libmicrohttpd glue ---- */

struct conn {
	struct buf body;
	bool too_big;
	struct MHD_Response *resp;      /* ready, waiting out a "slow" fault */
	unsigned status;
	int64_t arrived_us;             /* real time of the first call for this request */
};

struct suspended { struct MHD_Connection *c; int64_t at; };
static struct suspended *susp;
static size_t nsusp, csusp;

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct conn *k = *con_cls;
	struct req r;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	if (k == NULL) {
		k = xcalloc(1, sizeof *k);
		k->arrived_us = rt_now_us();
		*con_cls = k;
		return MHD_YES;
	}
	if (*upload_size) {
		if (k->body.len + *upload_size > RECIO_HTTP_REQ_MAX)
			k->too_big = true;
		else
			buf_add(&k->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (k->resp) {          /* resumed after the slow fault's delay */
		ret = MHD_queue_response(c, k->status, k->resp);
		MHD_destroy_response(k->resp);
		k->resp = NULL;
		return ret;
	}
	if (strcmp(url, "/trade-api/ws/v2") == 0)
		return ws_handshake(c, url, method, WS_KALSHI);
	if (strcmp(url, "/ws-feed") == 0)
		return ws_handshake(c, url, method, WS_COINBASE);
	memset(&r, 0, sizeof r);
	r.c = c;
	r.method = method;
	r.url = url;
	r.body = k->body.p ? k->body.p : "";
	r.blen = k->body.len;
	r.arrived_us = k->arrived_us;
	S.requests++;
	if (k->too_big)
		reply_error(&r, 413, "payload_too_large", "request body too large");
	else
		route(&r);
	debugx("%s %s -> %u", method, url, r.drop ? 0 : r.status);
	if (r.drop) {
		buf_free(&r.out);
		return MHD_NO;
	}
	resp = MHD_create_response_from_buffer(r.out.len, r.out.p ? r.out.p : (char *)"",
	    MHD_RESPMEM_MUST_COPY);
	buf_free(&r.out);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	if (r.slow_ms > 0) {
		k->resp = resp;
		k->status = r.status;
		if (nsusp == csusp) {
			csusp = csusp ? csusp * 2 : 16;
			susp = xrealloc(susp, csusp * sizeof *susp);
		}
		susp[nsusp].c = c;
		susp[nsusp].at = rt_mono_ms() + r.slow_ms;
		nsusp++;
		MHD_suspend_connection(c);
		return MHD_YES;
	}
	ret = MHD_queue_response(c, r.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode tc)
{
	struct conn *k = *con_cls;

	(void)cls;
	(void)c;
	(void)tc;
	if (k == NULL)
		return;
	if (k->resp)
		MHD_destroy_response(k->resp);
	buf_free(&k->body);
	free(k);
	*con_cls = NULL;
}

static int64_t
resume_due(void)
{
	int64_t now = rt_mono_ms(), next = INT64_MAX;
	size_t keep = 0;

	for (size_t i = 0; i < nsusp; i++) {
		if (susp[i].at <= now)
			MHD_resume_connection(susp[i].c);
		else {
			if (susp[i].at < next)
				next = susp[i].at;
			susp[keep++] = susp[i];
		}
	}
	nsusp = keep;
	return next == INT64_MAX ? -1 : next - now;
}

/* ---- start-up ---- */

static void
add_account(const char *key_id, const char *pem_path)
{
	struct account *a;
	struct kx_key *k = kx_key_load_public(pem_path);

	if (k == NULL)
		die(1, "cannot load public key for %s from %s", key_id, pem_path);
	S.acct = xrealloc(S.acct, (S.nacct + 1) * sizeof *S.acct);
	a = &S.acct[S.nacct++];
	memset(a, 0, sizeof *a);
	snprintf(a->key_id, sizeof a->key_id, "%s", key_id);
	a->pub = k;
	a->balance = a->deposits = S.cfg.balance_cc;
	tb_init(&a->rd, KX_READ_RATE, KX_READ_BURST, rt_mono_ms());
	tb_init(&a->wr, KX_WRITE_RATE, KX_WRITE_BURST, rt_mono_ms());
}

/* A directory of KEYID.pem files, or a file of "KEYID PATH" lines. */
static void
load_keys(const char *path)
{
	DIR *d = opendir(path);

	if (d) {
		struct dirent *de;
		char **names = NULL;
		size_t n = 0;

		while ((de = readdir(d)) != NULL) {
			size_t l = strlen(de->d_name);

			if (l > 4 && strcmp(de->d_name + l - 4, ".pem") == 0) {
				names = xrealloc(names, (n + 1) * sizeof *names);
				names[n++] = xstrdup(de->d_name);
			}
		}
		closedir(d);
		/* sorted, so that accounts come in the same order every run */
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
				char *t = names[j];

				names[j] = names[j - 1];
				names[j - 1] = t;
			}
		for (size_t i = 0; i < n; i++) {
			struct buf p = { 0 };
			char id[RECIO_ID_MAX];

			buf_printf(&p, "%s/%s", path, names[i]);
			snprintf(id, sizeof id, "%.*s", (int)(strlen(names[i]) - 4), names[i]);
			add_account(id, p.p);
			buf_free(&p);
			free(names[i]);
		}
		free(names);
		return;
	}
	if (errno != ENOTDIR)
		die(1, "%s: cannot open keys:", path);
	FILE *f = fopen(path, "r");
	char line[RECIO_PATH_MAX + RECIO_ID_MAX];
	unsigned long ln = 0;

	if (f == NULL)
		die(1, "%s: cannot open keys:", path);
	while (fgets(line, sizeof line, f)) {
		char id[RECIO_ID_MAX], pem[RECIO_PATH_MAX];

		ln++;
		if (strchr(line, '\n') == NULL && !feof(f))
			die(1, "%s line %lu: line too long", path, ln);
		if (line[0] == '#' || strspn(line, " \t\r\n") == strlen(line))
			continue;
		if (sscanf(line, "%127s %4095s", id, pem) != 2)
			die(1, "%s line %lu: expected \"KEYID PATH\"", path, ln);
		add_account(id, pem);
	}
	if (ferror(f))
		die(1, "%s: read error:", path);
	(void)fclose(f);
}

/* "epoch_seconds,price" lines (a header line and '#' comments are skipped). */
static void
load_prices(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned long ln = 0;
	size_t cap = 0;

	if (f == NULL)
		die(1, "%s: cannot open price file:", path);
	while (fgets(line, sizeof line, f)) {
		char *comma, *end;
		long long ts;
		double px;

		ln++;
		if (line[0] == '#' || !isdigit((unsigned char)line[0]))
			continue;
		ts = strtoll(line, &comma, 10);
		if (*comma != ',')
			die(1, "%s line %lu: expected \"epoch_seconds,price\"", path, ln);
		px = strtod(comma + 1, &end);
		if (end == comma + 1 || !(px > 0) || !isfinite(px))
			die(1, "%s line %lu: bad price", path, ln);
		if (ts > 100000000000LL)
			ts /= 1000;     /* milliseconds */
		if (S.rp_n && ts <= S.rp_ts[S.rp_n - 1])
			die(1, "%s line %lu: timestamps must increase", path, ln);
		if (S.rp_n == cap) {
			cap = cap ? cap * 2 : 4096;
			S.rp_ts = xrealloc(S.rp_ts, cap * sizeof *S.rp_ts);
			S.rp_px = xrealloc(S.rp_px, cap * sizeof *S.rp_px);
		}
		S.rp_ts[S.rp_n] = ts;
		S.rp_px[S.rp_n++] = llround(px * 100.0);
	}
	if (ferror(f))
		die(1, "%s: read error:", path);
	(void)fclose(f);
	if (S.rp_n == 0)
		die(1, "%s: no prices", path);
}

static double
parse_double(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !(v >= lo && v <= hi)) {
		char m[160];

		snprintf(m, sizeof m, "%s: \"%s\" is not a number from %g to %g", opt, s, lo, hi);
		usage(m);
	}
	return v;
}

static int64_t
parse_int(const char *opt, const char *s, int64_t lo, int64_t hi)
{
	int64_t v;

	if (cfg_parse_i64(s, lo, hi, &v) < 0) {
		char m[160];

		snprintf(m, sizeof m, "%s: \"%s\" is not an integer from %lld to %lld", opt, s,
		    (long long)lo, (long long)hi);
		usage(m);
	}
	return v;
}

static int64_t
parse_dollars(const char *opt, const char *s)
{
	int64_t v;

	if (money_parse_dollars(s, strlen(s), &v) < 0 || v < 0) {
		char m[160];

		snprintf(m, sizeof m, "%s: \"%s\" is not an amount in dollars", opt, s);
		usage(m);
	}
	return v;
}

static void
parse_faults(const char *spec)
{
	struct faults *f = &S.cfg.f;
	char *dup = xstrdup(spec), *save = NULL;

	f->slow_ms = 1500;
	f->lag_s = 3;
	for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '='), *colon;
		double p;

		if (eq == NULL)
			usage("--faults: expected NAME=RATE items separated by commas");
		*eq++ = '\0';
		if ((colon = strchr(eq, ':')) != NULL)
			*colon++ = '\0';
		p = parse_double("--faults", eq, 0, 1);
		if (strcmp(t, "429") == 0)
			f->p429 = p;
		else if (strcmp(t, "5xx") == 0)
			f->p5xx = p;
		else if (strcmp(t, "slow") == 0) {
			f->pslow = p;
			if (colon)
				f->slow_ms = parse_int("--faults slow", colon, 1, 600000);
		} else if (strcmp(t, "drop") == 0)
			f->pdrop = p;
		else if (strcmp(t, "lost") == 0)
			f->plost = p;
		else if (strcmp(t, "empty") == 0)
			f->pempty = p;
		else if (strcmp(t, "lag") == 0) {
			f->plag = p;
			if (colon)
				f->lag_s = parse_int("--faults lag", colon, 1, 3600);
		} else if (strcmp(t, "dupfill") == 0)
			f->pdupfill = p;
		else if (strcmp(t, "hidefill") == 0)
			f->phidefill = p;
		else {
			char m[96];

			snprintf(m, sizeof m, "--faults: unknown fault \"%s\"", t);
			usage(m);
		}
	}
	free(dup);
}

enum { O_START = 256, O_VOL, O_JUMPS, O_PRICES, O_PRICE, O_STRIKES, O_SPACING, O_BALANCE,
	O_SPREAD, O_LAG, O_NOISE, O_SETTLE, O_RATE, O_TSWIN, O_FAULTS, O_PORTFILE, O_READY, O_KEYGEN, O_WSPING };

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' }, { "port", required_argument, NULL, 'p' },
	{ "bind", required_argument, NULL, 'b' }, { "keys", required_argument, NULL, 'k' },
	{ "seed", required_argument, NULL, 's' }, { "speed", required_argument, NULL, 'x' },
	{ "start", required_argument, NULL, O_START }, { "vol", required_argument, NULL, O_VOL },
	{ "jumps", required_argument, NULL, O_JUMPS }, { "prices", required_argument, NULL, O_PRICES },
	{ "price", required_argument, NULL, O_PRICE }, { "strikes", required_argument, NULL, O_STRIKES },
	{ "spacing", required_argument, NULL, O_SPACING }, { "balance", required_argument, NULL, O_BALANCE },
	{ "spread", required_argument, NULL, O_SPREAD }, { "lag", required_argument, NULL, O_LAG },
	{ "noise", required_argument, NULL, O_NOISE }, { "settle-delay", required_argument, NULL, O_SETTLE },
	{ "rate-limit", required_argument, NULL, O_RATE }, { "ts-window", required_argument, NULL, O_TSWIN },
	{ "faults", required_argument, NULL, O_FAULTS }, { "port-file", required_argument, NULL, O_PORTFILE },
	{ "ready-fd", required_argument, NULL, O_READY }, { "keygen", no_argument, NULL, O_KEYGEN },
	{ "ws-ping", required_argument, NULL, O_WSPING },
	{ NULL, 0, NULL, 0 }
};

static void
parse_args(int argc, char **argv, bool *keygen)
{
	struct config *c = &S.cfg;
	const char *start = NULL;
	int ch;

	c->bind = "127.0.0.1";
	c->port = 8080;
	c->ready_fd = -1;
	c->rate_limit = 1;
	c->nstrikes = 40;
	c->seed = 1;
	c->speed = 1;
	c->vol = 0.5;
	c->noise_pct = 0.05;
	c->price_cents = 10000000;
	c->spacing_cents = 25000;
	c->balance_cc = 1000 * CC_PER_DOLLAR;
	c->spread = 3;
	c->lag_s = 5;
	c->settle_delay_s = 30;
	c->ts_window_ms = 30000;
	c->ws_ping_ms = WS_PING_MS;
	while ((ch = getopt_long(argc, argv, "hp:b:k:s:x:v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'p': c->port = (int)parse_int("--port", optarg, 0, 65535); break;
		case 'b': c->bind = optarg; break;
		case 'k': c->keys = optarg; break;
		case 's': c->seed = (uint64_t)parse_int("--seed", optarg, 0, INT64_MAX); break;
		case 'x': c->speed = parse_double("--speed", optarg, 0.001, 1e6); break;
		case 'v': diag_verbose++; break;
		case O_START: start = optarg; break;
		case O_VOL: c->vol = parse_double("--vol", optarg, 0, 20); break;
		case O_JUMPS: {
			char *comma = strchr(optarg, ',');

			if (comma == NULL)
				usage("--jumps: expected RATE,PCT");
			*comma = '\0';
			c->jump_rate = parse_double("--jumps rate", optarg, 0, 3600);
			c->jump_pct = parse_double("--jumps size", comma + 1, 0, 50);
			break;
		}
		case O_PRICES: c->prices = optarg; break;
		case O_PRICE: c->price_cents = parse_dollars("--price", optarg) / CC_PER_CENT; break;
		case O_STRIKES: c->nstrikes = (int)parse_int("--strikes", optarg, 1, 1000); break;
		case O_SPACING: c->spacing_cents = parse_dollars("--spacing", optarg) / CC_PER_CENT; break;
		case O_BALANCE: c->balance_cc = parse_dollars("--balance", optarg); break;
		case O_SPREAD: c->spread = parse_int("--spread", optarg, 1, 50); break;
		case O_LAG: c->lag_s = parse_int("--lag", optarg, 0, 600); break;
		case O_NOISE: c->noise_pct = parse_double("--noise", optarg, 0, 10); break;
		case O_SETTLE: c->settle_delay_s = parse_int("--settle-delay", optarg, 0, 3000); break;
		case O_RATE:
			if (strcmp(optarg, "basic") == 0)
				c->rate_limit = 1;
			else if (strcmp(optarg, "off") == 0)
				c->rate_limit = 0;
			else
				usage("--rate-limit: expected basic or off");
			break;
		case O_TSWIN: c->ts_window_ms = parse_int("--ts-window", optarg, 0, 86400000); break;
		case O_FAULTS: parse_faults(optarg); break;
		case O_PORTFILE: c->port_file = optarg; break;
		case O_READY: c->ready_fd = (int)parse_int("--ready-fd", optarg, 3, 1023); break;
		case O_KEYGEN: *keygen = true; break;
		case O_WSPING: c->ws_ping_ms = parse_int("--ws-ping", optarg, 10, 3600000); break;
		default: usage(NULL);
		}
	}
	if (c->spacing_cents < 1)
		usage("--spacing: must be at least 0.01");
	if (c->price_cents < 100)
		usage("--price: must be at least 1.00");
	if (*keygen) {
		if (argc - optind != 2)
			usage("--keygen: expected PRIVATE.pem PUBLIC.pem");
		return;
	}
	if (optind != argc)
		usage("unexpected argument");
	if (c->prices)
		load_prices(c->prices);
	if (start) {
		int64_t v;

		if (cfg_parse_i64(start, 0, INT64_MAX / 1000, &v) == 0)
			S.start_ms = v * 1000;
		else if (rt_parse_iso(start, strlen(start), &S.start_ms) < 0)
			usage("--start: expected ISO-8601 time or epoch seconds");
	} else if (S.rp_n)
		S.start_ms = S.rp_ts[0] * 1000;
	else
		S.start_ms = rt_now_ms() / 1000 * 1000;
}

static void
write_port_file(const char *path, unsigned port)
{
	struct buf tmp = { 0 };
	FILE *f;

	buf_printf(&tmp, "%s.tmp", path);
	if ((f = fopen(tmp.p, "w")) == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0)
		die(1, "%s: cannot write port file:", tmp.p);
	if (rename(tmp.p, path) < 0)
		die(1, "%s: cannot rename port file:", path);
	buf_free(&tmp);
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	struct sockaddr_in sin;
	struct sigaction sa;
	bool keygen = false;
	unsigned port;

	diag_init(argv[0]);
	parse_args(argc, argv, &keygen);
	if (keygen)
		return kx_keygen(argv[optind], argv[optind + 1]) == 0 ? 0 : 1;

	rng_seed(&S.px_rng, S.cfg.seed);
	rng_seed(&S.mm_rng, S.cfg.seed ^ 0x6d6d6d6d6d6d6d6dULL);
	rng_seed(&S.fault_rng, S.cfg.seed ^ 0x6661756c74730000ULL);
	rng_seed(&S.id_rng, S.cfg.seed ^ 0x6964696469640000ULL);
	if (S.cfg.keys)
		load_keys(S.cfg.keys);
	else
		warnx_("no --keys: portfolio endpoints will answer 401");
	tb_init(&S.anon_rd, KX_READ_RATE, KX_READ_BURST, rt_mono_ms());

	S.sec = S.start_ms / 1000;
	S.price = S.rp_n ? (double)S.rp_px[0] / 100.0 : (double)S.cfg.price_cents / 100.0;
	for (int i = 0; i < PX_RING; i++)
		S.px[i] = llround(S.price * 100.0);
	event_open((S.sec / 3600 + 1) * 3600 * 1000);
	S.mono0_ms = rt_mono_ms();
	S.start_ms = S.sec * 1000;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)S.cfg.port);
	if (inet_pton(AF_INET, S.cfg.bind, &sin.sin_addr) != 1)
		die(2, "--bind: \"%s\" is not an IPv4 address", S.cfg.bind);
	d = MHD_start_daemon(MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE, (uint16_t)S.cfg.port,
	    NULL, NULL, handler, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_END);
	if (d == NULL)
		die(1, "cannot listen on %s:%d: address in use or not available", S.cfg.bind, S.cfg.port);
	port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;     /* no SA_RESTART: select returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);

	if (S.cfg.port_file)
		write_port_file(S.cfg.port_file, port);
	if (S.cfg.ready_fd >= 0) {
		if (write(S.cfg.ready_fd, "\n", 1) != 1)
			warnx_("--ready-fd %d: cannot notify readiness:", S.cfg.ready_fd);
		close(S.cfg.ready_fd);
	}
	infox("listening on %s:%u, speed %g, seed %llu, event %s", S.cfg.bind, port, S.cfg.speed,
	    (unsigned long long)S.cfg.seed, S.ev[S.nev - 1].ticker);

	while (!S.stop) {
		fd_set rs, ws, es;
		MHD_socket max = 0;
		MHD_UNSIGNED_LONG_LONG mto;
		int64_t to = (int64_t)(1000.0 / S.cfg.speed), rw;
		struct timeval tv;

		advance();
		rw = resume_due();
		if (to > 50)
			to = 50;
		if (to < 1)
			to = 1;
		if (rw >= 0 && rw < to)
			to = rw;
		FD_ZERO(&rs);
		FD_ZERO(&ws);
		FD_ZERO(&es);
		if (MHD_get_fdset(d, &rs, &ws, &es, &max) != MHD_YES)
			die(1, "internal error: MHD_get_fdset failed");
		for (int i = 0; i < nws; i++) {
			FD_SET(wsc[i]->fd, &rs);
			if (wsc[i]->fd > max)
				max = wsc[i]->fd;
		}
		if (MHD_get_timeout(d, &mto) == MHD_YES && (int64_t)mto < to)
			to = (int64_t)mto;
		tv.tv_sec = to / 1000;
		tv.tv_usec = (to % 1000) * 1000;
		if (select(max + 1, &rs, &ws, &es, &tv) < 0) {
			if (errno == EINTR)
				continue;
			die(1, "select:");
		}
		advance();
		MHD_run_from_select(d, &rs, &ws, &es);
		for (int i = 0; i < nws; i++)
			if (FD_ISSET(wsc[i]->fd, &rs))
				ws_read(wsc[i]);
		ws_push();
	}
	for (int i = 0; i < nws; i++)
		wsc[i]->dead = 1;
	ws_push();
	for (size_t i = 0; i < nsusp; i++)
		MHD_resume_connection(susp[i].c);
	MHD_stop_daemon(d);
	infox("stopped after %lu requests", S.requests);
	return 0;
}
