/* btc-tick: BTC price ticks with momentum and realised volatility, from a
 * Coinbase-style REST ticker or a recorded file.  See man/btc-tick.1. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"
#include "http.h"
#include "json.h"
#include "rlimits.h"
#include "mom.h"
#include "msg.h"
#include "ndjson.h"
#include "rtime.h"
#include "sign.h"
#include "ws.h"

#define URL_SIM "http://127.0.0.1:8080/products/BTC-USD/ticker"

/* What a price and a time may be; anything else is malformed input. */
#define PX_MIN 0.01
#define PX_MAX 1e8
#define PX_RANGE "from 0.01 to 1e8"
#define TS_MAX 4102444800000LL  /* 2100-01-01T00:00:00Z */
/* A live price more than AHEAD_MS ahead of the local clock, and ahead of
 * the last price by more than PACE_MAX times the real time since (a
 * simulator may run that much faster than real time), is suspect. */
#define AHEAD_MS 10000
#define PACE_MAX 3600

static const char usage_text[] =
"usage: btc-tick [-v] [-u URL] [-i SECONDS] [-d MS] [-s SECONDS] [-H SECONDS] [-w FILE]\n"
"       btc-tick [-v] -W URL | -K URL [-d MS] [-s SECONDS] [-H SECONDS] [-w FILE]\n"
"       btc-tick [-v] -r FILE [-x SPEED] [-d MS] [-w FILE]\n"
"       btc-tick -n [-u URL]\n"
"\n"
"Write one NDJSON tick line per new BTC price, with deltas over 1, 2, 3, 4, 15\n"
"and 30 minutes, weighted momentum (mom_bp), the 1-minute average and realised\n"
"volatility over 30 s, 5 min and 60 min.\n"
"\n"
"  -u, --url URL        Coinbase-style ticker (default $BTC_TICK_URL, else\n"
"                       " URL_SIM ")\n"
"  -i, --interval S     seconds between polls (default 1)\n"
"  -W, --ws URL         Coinbase's WebSocket ticker channel (BTC-USD), e.g.\n"
"                       wss://ws-feed.exchange.coinbase.com or ws://127.0.0.1:8080/ws-feed\n"
"  -K, --cfb URL        Kalshi's socket, channel cfbenchmarks_value (BRTI, the index\n"
"                       the markets settle on); signed with KALSHI_KEY_ID and\n"
"                       KALSHI_KEY_FILE, e.g. ws://127.0.0.1:8080/trade-api/ws/v2\n"
"  -r, --replay FILE    replay tick lines, \"epoch,price\" lines or 1-minute candles\n"
"                       (timestamp,open,high,low,close,volume); - for stdin\n"
"  -x, --speed N        replay N times faster than recorded (default: at once)\n"
"  -d, --dedupe MS      at most one tick per MS milliseconds (default 1000; 0: all);\n"
"                       a price held back is written when the window closes\n"
"  -s, --stall S        no new price for S seconds is a stall: report, reconnect\n"
"                       every S seconds with back-off (default 10)\n"
"  -H, --health S       seconds between health lines (default 10)\n"
"  -w, --warmup FILE    history to start from (same formats as --replay), not emitted\n"
"  -n                   check the configuration and exit\n"
"  -v                   more diagnostics on stderr\n"
"  -h, --help           this text\n"
"\n"
"Prices outside 0.01..1e8 and times outside 1970..2100 are malformed; a live\n"
"price over 10 s ahead of the local clock is refused unless the next confirms\n"
"the source's clock; after a stall a step back in time is taken and momentum\n"
"starts again.  Replay lines not after the price before them are reported.\n";

struct config {
	const char *url, *replay, *warmup, *ws_url, *cfb_url;
	double speed;
	int64_t interval_ms, dedupe_ms, stall_ms, health_ms;
	bool check;
};

struct ticker {
	const struct config *c;
	struct mom m;
	struct buf out;
	int64_t last_ts, last_emit_ts;  /* source time of the last price taken, written */
	int64_t last_mono, last_emit_mono;      /* monotonic time of the same */
	uint64_t nprices;               /* prices taken (warm-up included) */
	const char *src;
	const char *name;               /* the live source, for messages */
	bool live;                      /* a live feed: the clock checks apply */
	bool have_live;                 /* a live price taken in this run */
	bool warm;                      /* the last price taken is the warm-up file's */
	bool after_stall;               /* a stall was declared: a step back is taken */
	int64_t sus_ts;                 /* a suspect price's time (ahead of the clocks), 0: none */
	int64_t nold, nahead, nbadq;    /* live complaints, for say() */
	struct {                        /* a price held back by --dedupe */
		bool on;
		int64_t ts;
		double price, bid, ask;
	} pend;
};

enum { OBS_NEW, OBS_SAME, OBS_OLD, OBS_AHEAD, OBS_BAD };

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

static const char *const dname[MOM_NDELTA] = { "d1m", "d2m", "d3m", "d4m", "d15m", "d30m" };
static const char *const vname[MOM_NVOL] = { "vol30s", "vol5m", "vol60m" };

static bool
px_ok(double v)
{
	return v >= PX_MIN && v <= PX_MAX;      /* (false for NaN) */
}

static bool
ts_ok(int64_t ms)
{
	return ms >= 0 && ms <= TS_MAX;
}

/* Whether the n-th (from 1) of a recurring complaint gets its line: the
 * first ten, then one in a thousand; every one with -v. */
static bool
say(int64_t n)
{
	return diag_verbose || n <= 10 || n % 1000 == 0;
}

static const char *
iso(char *b, int64_t ms)
{
	rt_fmt_iso(b, 32, ms);
	return b;
}

/* s a decimal price from PX_MIN to PX_MAX, nothing after it: 0, else -1. */
static int
px_parse(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return end != s && *end == '\0' && !errno && px_ok(*v) ? 0 : -1;
}

static void
emit_tick(struct ticker *t, int64_t ts, double price, double bid, double ask)
{
	struct mom_out o;

	t->last_emit_ts = ts;
	t->last_emit_mono = rt_mono_ms();
	t->pend.on = false;
	mom_get(&t->m, &o);
	msg_begin(&t->out, "tick", ts);
	jw_kstr(&t->out, "src", t->src);
	jw_kf64(&t->out, "price", price, 2);
	if (px_ok(bid))
		jw_kf64(&t->out, "bid", bid, 2);
	if (px_ok(ask))
		jw_kf64(&t->out, "ask", ask, 2);
	for (int d = 0; d < MOM_NDELTA; d++)
		if (o.has_delta[d])
			jw_kf64(&t->out, dname[d], o.delta_pct[d], 6);
	if (o.has_mom)
		jw_ki64(&t->out, "mom_bp", o.mom_bp);
	jw_kf64(&t->out, "avg1m", o.avg1m, 2);
	for (int v = 0; v < MOM_NVOL; v++)
		if (o.has_vol[v])
			jw_kf64(&t->out, vname[v], o.vol[v], 10);
	msg_emit(&t->out);
	msg_ready();            /* the first tick is out */
}

/* The price held back by --dedupe, once its window has closed in real time
 * (the feed went quiet) or when force (the end of a replay).  It is the
 * last price taken: any later one replaced it or was written. */
static void
flush_pending(struct ticker *t, bool force)
{
	if (t->pend.on && (force || rt_mono_ms() - t->last_emit_mono >= t->c->dedupe_ms))
		emit_tick(t, t->pend.ts, t->pend.price, t->pend.bid, t->pend.ask);
}

/* A live price far ahead of the local clock and of the source's own pace
 * (a glitch: taken, it would block every later price) is refused, unless
 * the next refused one is later still: then the source's clock runs ahead
 * of ours (a simulator, a skewed clock) and is followed. */
static bool
ahead(struct ticker *t, int64_t ts, int64_t mono)
{
	int64_t wall = rt_now_ms();
	char a[32], b[32];

	if (ts <= wall + AHEAD_MS ||
	    (t->have_live && ts - t->last_ts <= (mono - t->last_mono) * PACE_MAX + AHEAD_MS)) {
		t->sus_ts = 0;
		return false;
	}
	if (t->sus_ts && ts > t->sus_ts) {
		warnx_("%s: the source's clock runs %lld s ahead of ours: followed (%s after %s)", t->name,
		    (long long)((ts - wall) / 1000), iso(a, ts), iso(b, t->sus_ts));
		t->sus_ts = 0;
		return false;
	}
	if (ts != t->sus_ts && say(++t->nahead))
		warnx_("%s: a price at %s, %lld s ahead of the local clock, skipped (%lld so far)", t->name,
		    iso(a, ts), (long long)((ts - wall) / 1000), (long long)t->nahead);
	t->sus_ts = ts;
	return true;
}

/* A price observation.  emit: write a tick line (unless deduplicated: then
 * it is held until its window closes).  OBS_NEW if taken; OBS_SAME, OBS_OLD
 * when ts is not after the last price's (the caller reports OBS_OLD);
 * OBS_AHEAD (reported here), OBS_BAD (a price mom refuses). */
static int
observe(struct ticker *t, int64_t ts, double price, double bid, double ask, bool emit)
{
	int64_t mono = rt_mono_ms();
	bool step = false;

	if (t->nprices && ts <= t->last_ts) {
		if (ts == t->last_ts)
			return OBS_SAME;
		if (!t->after_stall)
			return OBS_OLD;
		step = true;
	}
	if (t->live && ahead(t, ts, mono))
		return OBS_AHEAD;
	if (step) {
		/* the feed came back with an earlier clock (a restarted source) */
		char a[32], b[32];

		warnx_("%s: after the stall the source's time steps back %lld s (to %s from %s): momentum starts again",
		    t->name, (long long)((t->last_ts - ts + 999) / 1000), iso(a, ts), iso(b, t->last_ts));
		mom_init(&t->m);
		t->last_emit_ts = 0;
		t->pend.on = false;
	}
	if (mom_add(&t->m, ts, price) < 0)
		return OBS_BAD;
	if (emit && t->warm && ts - t->last_ts > MOM_GAP_S * 1000)
		warnx_("%s: the warm-up ends %lld s before the first price: nothing is measured from the seconds between",
		    t->c->warmup, (long long)((ts - t->last_ts) / 1000));
	t->warm = !emit;
	t->after_stall = false;
	t->last_ts = ts;
	t->last_mono = mono;
	t->nprices++;
	if (t->live)
		t->have_live = true;
	if (!emit)
		return OBS_NEW;
	if (t->last_emit_ts && ts - t->last_emit_ts < t->c->dedupe_ms) {
		t->pend.on = true;
		t->pend.ts = ts;
		t->pend.price = price;
		t->pend.bid = bid;
		t->pend.ask = ask;
		return OBS_NEW;
	}
	emit_tick(t, ts, price, bid, ask);
	return OBS_NEW;
}

/* ---- files: tick lines, "epoch,price", candles ---- */

/* An epoch in seconds or milliseconds, or an RFC 3339 time: 0, -1 not a
 * time, -2 a time outside 1970..2100 (a mistyped one: taken, it would
 * make every later line look old). */
static int
parse_epoch_ms(const char *s, size_t n, int64_t *ms)
{
	char tmp[40];
	int64_t v;

	if (n == 0 || n >= sizeof tmp)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (cfg_parse_i64(tmp, 0, INT64_MAX, &v) == 0) {
		if (v > 100000000000LL)         /* ms or s */
			*ms = v;
		else
			*ms = v * 1000;
	} else if (rt_parse_iso(tmp, n, ms) < 0)
		return -1;
	return ts_ok(*ms) ? 0 : -2;
}

/* One CSV line: "epoch,price" or "timestamp,open,high,low,close,volume".
 * A candle's close is the price at the end of its minute.  1 ok, 0 a
 * header, -1 malformed, -2 a time out of range, -3 a price out of range. */
static int
csv_line(const char *line, int64_t *ts, double *price)
{
	const char *f[6];
	size_t len[6];
	int n = 0, k;
	const char *p = line;
	char *end, tmp[64];

	while (n < 6) {
		const char *c = strchr(p, ',');

		f[n] = p;
		len[n] = c ? (size_t)(c - p) : strcspn(p, "\r\n");
		n++;
		if (!c)
			break;
		p = c + 1;
	}
	if (n != 2 && n != 6)
		return -1;
	if ((k = parse_epoch_ms(f[0], len[0], ts)) == -1)
		return strspn(f[0], "abcdefghijklmnopqrstuvwxyz_ ") == len[0] ? 0 : -1;
	if (k < 0)
		return -2;
	if (n == 6)
		*ts += 60000;           /* (no overflow: *ts <= TS_MAX) */
	if (len[n == 2 ? 1 : 4] >= sizeof tmp)
		return -1;
	snprintf(tmp, sizeof tmp, "%.*s", (int)len[n == 2 ? 1 : 4], f[n == 2 ? 1 : 4]);
	*price = strtod(tmp, &end);
	if (end == tmp || (*end && *end != '\r'))
		return -1;
	return px_ok(*price) ? 1 : -3;
}

/* A quote (bid, ask) in a tick line: a number in range, or absent.  A bad
 * one is left out, with a word. */
static double
quote(const struct json *j, const char *key, const struct ndjson *r)
{
	double v = 0;

	if (json_get(j, 0, key) < 0)
		return 0;
	if (json_get_f64(j, 0, key, &v) < 0 || !px_ok(v)) {
		warnx_("%s line %lu: %s not a price " PX_RANGE ", left out", r->name, r->lineno, key);
		return 0;
	}
	return v;
}

static int
read_file(struct ticker *t, const char *path, bool emit)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	struct ndjson r;
	struct json j = { 0 };
	char *line;
	size_t len;
	int rc = 0, first = 1, json_mode = 0;
	int64_t t_first = 0, m_first = 0, nold = 0;
	unsigned long first_old = 0;

	if (fd < 0) {
		warnx_("%s: cannot open:", path);
		return -1;
	}
	ndjson_init(&r, fd, strcmp(path, "-") == 0 ? "stdin" : path);
	while (!stop && (rc = ndjson_line(&r, &line, &len)) > 0) {
		int64_t ts;
		double price, bid = 0, ask = 0;
		int k;

		if (first) {
			json_mode = line[strspn(line, " \t")] == '{';
			first = 0;
		}
		if (json_mode) {
			char type[16];

			if (json_parse(&j, line, len) < 0 || json_type(&j, 0) != JSON_OBJECT) {
				warnx_("%s line %lu: %s", r.name, r.lineno, j.err[0] ? j.err : "not a JSON object");
				continue;
			}
			if (json_get_str(&j, 0, "type", type, sizeof type) < 0 || strcmp(type, "tick") != 0)
				continue;
			if (json_get_i64(&j, 0, "ts", &ts) < 0 || json_get_f64(&j, 0, "price", &price) < 0) {
				warnx_("%s line %lu: tick without integer ts and numeric price", r.name, r.lineno);
				continue;
			}
			if (!ts_ok(ts)) {
				warnx_("%s line %lu: ts %lld is not a time from 1970 to 2100, skipped", r.name, r.lineno,
				    (long long)ts);
				continue;
			}
			if (!px_ok(price)) {
				warnx_("%s line %lu: price %g is not a price " PX_RANGE ", skipped", r.name, r.lineno,
				    price);
				continue;
			}
			bid = quote(&j, "bid", &r);
			ask = quote(&j, "ask", &r);
		} else {
			k = csv_line(line, &ts, &price);
			if (k == 0)
				continue;
			if (k < 0) {
				warnx_("%s line %lu: %s, skipped", r.name, r.lineno,
				    k == -2 ? "the time is not from 1970 to 2100" :
				    k == -3 ? "the price is not " PX_RANGE :
				    "expected \"epoch,price\" or a 1-minute candle");
				continue;
			}
		}
		if (emit && t->c->speed > 0) {  /* pace by the recorded time */
			if (t_first == 0) {
				t_first = ts;
				m_first = rt_mono_ms();
			}
			int64_t due = m_first + (int64_t)((double)(ts - t_first) / t->c->speed);

			while (!stop && rt_mono_ms() < due)
				rt_sleep_ms(due - rt_mono_ms() < 100 ? due - rt_mono_ms() : 100);
		}
		k = observe(t, ts, price, bid, ask, emit);
		if (k != OBS_SAME && k != OBS_OLD)
			continue;
		/* not after the price before it: out of order, or a repeat */
		if (nold++ == 0)
			first_old = r.lineno;
		if (nold <= 10 || diag_verbose) {
			char a[32], b[32];

			warnx_("%s line %lu: time %s is not after the last price's (%s), skipped", r.name, r.lineno,
			    iso(a, ts), iso(b, t->last_ts));
		}
	}
	if (emit)
		flush_pending(t, true);
	if (nold)
		warnx_("%s: %lld line%s not after the price before them skipped (the first: line %lu)", r.name,
		    (long long)nold, nold == 1 ? "" : "s", first_old);
	json_free(&j);
	ndjson_free(&r);
	if (fd > 0)
		close(fd);
	return rc < 0 && errno != EINTR ? -1 : 0;
}

/* ---- the REST feed ---- */

/* A quote in the ticker (Coinbase: a decimal string): its value, or 0
 * when absent or not a price in range (then reported: say()). */
static double
rest_quote(struct ticker *t, const struct json *j, const char *key)
{
	char s[48];
	double v;

	if (json_get(j, 0, key) < 0)
		return 0;
	if (json_get_str(j, 0, key, s, sizeof s) == 0 && px_parse(s, &v) == 0)
		return v;
	if (say(++t->nbadq))
		warnx_("GET %s: %s: not a decimal string " PX_RANGE ", left out (%lld so far)", t->c->url, key,
		    (long long)t->nbadq);
	return 0;
}

static int
poll_once(struct ticker *t, struct http_client *h, struct http_resp *r, struct json *j, char *err, size_t cap)
{
	char s[48];
	double price, bid, ask;
	int64_t ts;

	if (http_request(h, "GET", "", NULL, 0, 0, r) < 0) {
		snprintf(err, cap, "GET %s: %s", t->c->url, r->err);
		return -1;
	}
	if (r->status != 200) {
		snprintf(err, cap, "GET %s: HTTP %ld", t->c->url, r->status);
		return -1;
	}
	if (json_parse(j, r->body.p, r->body.len) < 0 || json_type(j, 0) != JSON_OBJECT) {
		snprintf(err, cap, "GET %s: not a JSON object", t->c->url);
		return -1;
	}
	/* Coinbase sends numbers as strings */
	if (json_get_str(j, 0, "price", s, sizeof s) < 0 || px_parse(s, &price) < 0) {
		snprintf(err, cap, "GET %s: price: missing or not a decimal string " PX_RANGE, t->c->url);
		return -1;
	}
	if (json_get_str(j, 0, "time", s, sizeof s) < 0 || rt_parse_iso(s, strlen(s), &ts) < 0 || !ts_ok(ts)) {
		snprintf(err, cap, "GET %s: time: missing, or not an RFC 3339 time from 1970 to 2100", t->c->url);
		return -1;
	}
	bid = rest_quote(t, j, "bid");
	ask = rest_quote(t, j, "ask");
	if (observe(t, ts, price, bid, ask, true) == OBS_OLD && say(++t->nold)) {
		char a[32], b[32];

		warnx_("GET %s: a price at %s, before the last one (%s), skipped (%lld so far)", t->c->url, iso(a, ts),
		    iso(b, t->last_ts), (long long)t->nold);
	}
	return 0;
}

static void
health(struct ticker *t, const char *status, int64_t errors, const char *err)
{
	msg_begin(&t->out, "health", rt_now_ms());
	jw_kstr(&t->out, "src", "btc-tick");
	jw_kstr(&t->out, "status", status);
	jw_ki64(&t->out, "last_tick_ts", t->last_ts);
	jw_ki64(&t->out, "errors", errors);
	if (err && *err)
		jw_kstr(&t->out, "error", err);
	msg_emit(&t->out);
}

static int
run_rest(struct ticker *t)
{
	struct http_opts o = { 0 };
	struct http_client *h;
	struct http_resp r = { 0 };
	struct json j = { 0 };
	char err[512] = "";
	int64_t errors = 0, last_new = rt_mono_ms(), last_health = 0;
	uint64_t seen = t->nprices;
	bool stalled = false;

	o.retries = 0;          /* the poll loop is the retry: stay near real time */
	o.timeout_ms = t->c->stall_ms / 2;      /* a hung request must not hide a stall */
	if (o.timeout_ms < 500)
		o.timeout_ms = 500;
	if (o.timeout_ms > 5000)
		o.timeout_ms = 5000;
	o.no_limit = 1;
	if ((h = http_new(t->c->url, &o, NULL, NULL)) == NULL)
		return 1;
	while (!stop) {
		int64_t t0 = rt_mono_ms(), now;
		const char *st;

		if (poll_once(t, h, &r, &j, err, sizeof err) < 0) {
			if (errors++ == 0 || diag_verbose)
				warnx_("%s", err);
		} else
			errors = 0;
		now = rt_mono_ms();
		if (t->nprices != seen) {
			seen = t->nprices;
			last_new = now;
			if (stalled) {
				stalled = false;
				warnx_("%s: prices again", t->c->url);
				health(t, "ok", errors, NULL);
			}
		} else if (!stalled && now - last_new >= t->c->stall_ms) {
			/* no new price: report it and rebuild the connection */
			stalled = true;
			t->after_stall = true;
			warnx_("%s: stalled: no new price for %lld s, reconnecting", t->c->url,
			    (long long)((now - last_new) / 1000));
			health(t, "stalled", errors, err);
			http_free(h);
			if ((h = http_new(t->c->url, &o, NULL, NULL)) == NULL)
				return 1;
		} else if (stalled && now - last_new >= 2 * t->c->stall_ms) {
			http_free(h);   /* still nothing: a fresh connection each stall period */
			if ((h = http_new(t->c->url, &o, NULL, NULL)) == NULL)
				return 1;
			last_new = now - t->c->stall_ms;
		}
		if (now - last_health >= t->c->health_ms) {
			st = stalled ? "stalled" : errors ? "degraded" : "ok";
			health(t, st, errors, errors ? err : NULL);
			last_health = now;
		}
		for (int64_t left; !stop && (left = t->c->interval_ms - (rt_mono_ms() - t0)) > 0; ) {
			flush_pending(t, false);
			rt_sleep_ms(left < 100 ? left : 100);
		}
	}
	http_free(h);
	http_resp_free(&r);
	json_free(&j);
	return 0;
}

/* ---- WebSocket feeds: Coinbase's ticker channel, Kalshi's cfbenchmarks_value ---- */

struct wsfeed {
	struct ticker *t;
	struct ws_client *ws;
	bool kalshi;
	int64_t last_new;               /* monotonic time of the last new price (or of the start) */
	int64_t conn_ms;                /* ... of the last ws_connect */
	int64_t last_health, reconnect_at, backoff;
	uint64_t seen;                  /* t->nprices at the last look */
	bool stalled;
	char err[256];
};

static void
feed_open(void *arg)
{
	struct wsfeed *f = arg;
	const char *sub = f->kalshi ?
	    "{\"id\":1,\"cmd\":\"subscribe\",\"params\":{\"channels\":[\"cfbenchmarks_value\"],\"index_ids\":[\"BRTI\"]}}" :
	    "{\"type\":\"subscribe\",\"channels\":[{\"name\":\"ticker\",\"product_ids\":[\"BTC-USD\"]}]}";

	/* (the back-off starts again at the first price, not here: a server
	 * that accepts and closes at once is not to be hammered) */
	infox("socket open");
	ws_send(f->ws, sub, strlen(sub));   /* subscribe again after every reconnect */
}

static void
feed_close(void *arg, const char *why)
{
	struct wsfeed *f = arg;

	if (stop)
		return;
	snprintf(f->err, sizeof f->err, "socket: %s", why);
	warnx_("%s: %s; reconnecting in %lld s", f->t->name, f->err, (long long)(f->backoff / 1000));
	f->reconnect_at = rt_mono_ms() + f->backoff;
	f->backoff = f->backoff * 2 > 30000 ? 30000 : f->backoff * 2;
}

/* A price or a quote in a socket message: a decimal string (Coinbase) or a
 * number.  Its value when a price in range, else 0. */
static double
num_str(const struct json *j, int obj, const char *key)
{
	char s[48];
	double v = 0;

	if (json_get_str(j, obj, key, s, sizeof s) == 0)
		return px_parse(s, &v) == 0 ? v : 0;
	if (json_get_f64(j, obj, key, &v) == 0 && px_ok(v))
		return v;
	return 0;
}

static void
feed_price(struct wsfeed *f, int64_t ts, double price, double bid, double ask)
{
	struct ticker *t = f->t;

	if (observe(t, ts, price, bid, ask, true) == OBS_OLD && say(++t->nold)) {
		char a[32], b[32];

		warnx_("%s: a price at %s, before the last one (%s), skipped (%lld so far)", t->name, iso(a, ts),
		    iso(b, t->last_ts), (long long)t->nold);
	}
}

static void
feed_text(void *arg, const char *text, size_t n)
{
	struct wsfeed *f = arg;
	struct json j = { 0 }, in = { 0 };
	char type[32], s[64];
	struct buf data = { 0 };
	int64_t ts;
	double price, bid, ask;

	if (json_parse(&j, text, n) < 0 || json_get_str(&j, 0, "type", type, sizeof type) < 0) {
		warnx_("%s: socket: a message that is not JSON with a type, skipped", f->t->name);
		goto out;
	}
	if (!f->kalshi && strcmp(type, "ticker") == 0) {
		/* {"type":"ticker","price","best_bid","best_ask","time",...} */
		if ((price = num_str(&j, 0, "price")) <= 0 || json_get_str(&j, 0, "time", s, sizeof s) < 0 ||
		    rt_parse_iso(s, strlen(s), &ts) < 0 || !ts_ok(ts)) {
			warnx_("%s: socket: ticker without a decimal price " PX_RANGE " and an RFC 3339 time, skipped",
			    f->t->name);
			goto out;
		}
		bid = num_str(&j, 0, "best_bid");
		ask = num_str(&j, 0, "best_ask");
		if ((bid <= 0 && json_get(&j, 0, "best_bid") >= 0) || (ask <= 0 && json_get(&j, 0, "best_ask") >= 0))
			if (say(++f->t->nbadq))
				warnx_("%s: socket: best_bid or best_ask not a price " PX_RANGE ", left out (%lld so far)",
				    f->t->name, (long long)f->t->nbadq);
		feed_price(f, ts, price, bid, ask);
	} else if (f->kalshi && strcmp(type, "cfbenchmarks_value") == 0) {
		/* msg.data is itself JSON text: {"value":"...","time":ms} */
		int m = json_get(&j, 0, "msg");

		if (json_str_buf(&j, json_get(&j, m, "data"), &data) < 0 || json_parse(&in, data.p, data.len) < 0 ||
		    (price = num_str(&in, 0, "value")) <= 0 || json_get_i64(&in, 0, "time", &ts) < 0 || !ts_ok(ts)) {
			warnx_("%s: socket: cfbenchmarks_value without data.value (" PX_RANGE ") and data.time, skipped",
			    f->t->name);
			goto out;
		}
		feed_price(f, ts, price, 0, 0);
	} else if (strcmp(type, "error") == 0)
		warnx_("%s: socket: error from the feed: %.*s", f->t->name, (int)(n < 200 ? n : 200), text);
out:
	buf_free(&data);
	json_free(&in);
	json_free(&j);
}

/* Drop the socket (open or still connecting) for a new one after the
 * back-off: feed_close follows at once. */
static void
rebuild(struct wsfeed *f, int64_t now)
{
	enum ws_state st = ws_state(f->ws);
	char why[96];

	if (st != WS_OPEN && st != WS_CONNECTING)
		return;         /* closed: the reconnection is due already */
	snprintf(why, sizeof why, "no new price for %lld s%s", (long long)((now - f->last_new) / 1000),
	    st == WS_CONNECTING ? " (no answer to the upgrade)" : "");
	ws_abort(f->ws, why);
}

static void
feed_tick(void *arg)
{
	struct wsfeed *f = arg;
	struct ticker *t = f->t;
	int64_t now = rt_mono_ms();
	enum ws_state st;

	flush_pending(t, false);
	if (t->nprices != f->seen) {
		f->seen = t->nprices;
		f->last_new = now;
		f->backoff = 1000;      /* prices flow: the next failure retries soon */
		if (f->stalled) {
			f->stalled = false;
			warnx_("%s: prices again", t->name);
			health(t, "ok", 0, NULL);
		}
	} else if (!f->stalled && now - f->last_new >= t->c->stall_ms) {
		/* no new price (staleness counts from the last price only): report
		 * it and rebuild the connection, whatever its state */
		f->stalled = true;
		t->after_stall = true;
		warnx_("%s: stalled: no new price for %lld s, reconnecting", t->name,
		    (long long)((now - f->last_new) / 1000));
		health(t, "stalled", 1, f->err);
		rebuild(f, now);
	} else if (f->stalled && now - f->conn_ms >= t->c->stall_ms)
		rebuild(f, now);        /* still nothing: a fresh socket each stall period, with back-off */
	st = ws_state(f->ws);
	if (now - f->last_health >= t->c->health_ms) {
		health(t, f->stalled ? "stalled" : st == WS_OPEN ? "ok" : "degraded", st == WS_OPEN ? 0 : 1,
		    st == WS_OPEN ? NULL : f->err);
		f->last_health = now;
	}
	if ((st == WS_CLOSED || st == WS_IDLE) && now >= f->reconnect_at) {
		f->conn_ms = now;
		if (ws_connect(f->ws) < 0)
			feed_close(f, "cannot start connecting");
	}
}

static int
run_ws(struct ticker *t)
{
	static struct wsfeed f;
	struct ws_handlers h = { feed_open, feed_text, feed_close, feed_tick, &f, 100 };
	struct kx_key *key = NULL;
	const char *key_id = cfg_env("KALSHI_KEY_ID", NULL), *key_file = cfg_env("KALSHI_KEY_FILE", NULL);

	memset(&f, 0, sizeof f);
	f.t = t;
	f.kalshi = t->c->cfb_url != NULL;
	f.backoff = 1000;
	f.last_new = f.last_health = f.conn_ms = rt_mono_ms();        /* the first health line after -H */
	if (f.kalshi) {
		if (!key_id || !key_file) {
			warnx_("--cfb: Kalshi's socket needs KALSHI_KEY_ID and KALSHI_KEY_FILE");
			return 1;
		}
		if ((key = kx_key_load_private(key_file)) == NULL)
			return 1;
	}
	if ((f.ws = ws_new(f.kalshi ? t->c->cfb_url : t->c->ws_url, key, key_id, &h)) == NULL) {
		kx_key_free(key);
		return 1;
	}
	ws_run(f.ws, &stop);
	ws_free(f.ws);
	kx_key_free(key);
	return 0;
}

static int64_t
seconds_ms(const char *opt, const char *s, double lo)
{
	char *end, m[128];
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end != s && !*end && !errno && v >= lo && v <= 86400)
		return (int64_t)(v * 1000.0 + 0.5);
	snprintf(m, sizeof m, "%s: \"%s\" is not a number of seconds from %g to 86400", opt, s, lo);
	usage(m);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' }, { "url", required_argument, NULL, 'u' },
		{ "interval", required_argument, NULL, 'i' }, { "replay", required_argument, NULL, 'r' },
		{ "speed", required_argument, NULL, 'x' }, { "dedupe", required_argument, NULL, 'd' },
		{ "stall", required_argument, NULL, 's' }, { "health", required_argument, NULL, 'H' },
		{ "warmup", required_argument, NULL, 'w' }, { "ws", required_argument, NULL, 'W' },
		{ "cfb", required_argument, NULL, 'K' }, { NULL, 0, NULL, 0 }
	};
	struct config c = { 0 };
	static struct ticker t;
	struct sigaction sa;
	int ch, rc;
	int64_t v;

	diag_init(argv[0]);
	c.url = cfg_env("BTC_TICK_URL", URL_SIM);
	c.interval_ms = 1000;
	c.dedupe_ms = 1000;
	c.stall_ms = 10000;
	c.health_ms = 10000;
	while ((ch = getopt_long(argc, argv, "hu:i:r:x:d:s:H:w:W:K:nv", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': fputs(usage_text, stdout); return 0;
		case 'u': c.url = optarg; break;
		case 'i': c.interval_ms = seconds_ms("--interval", optarg, 0.05); break;
		case 'r': c.replay = optarg; break;
		case 'x': {
			char *end;

			c.speed = strtod(optarg, &end);
			if (end == optarg || *end || !(c.speed > 0) || c.speed > 1e9)
				usage("--speed: expected a positive number");
			break;
		}
		case 'd':
			if (cfg_parse_i64(optarg, 0, 3600000, &v) < 0)
				usage("--dedupe: expected milliseconds from 0 to 3600000");
			c.dedupe_ms = v;
			break;
		case 's': c.stall_ms = seconds_ms("--stall", optarg, 1); break;
		case 'H': c.health_ms = seconds_ms("--health", optarg, 1); break;
		case 'w': c.warmup = optarg; break;
		case 'W': c.ws_url = optarg; break;
		case 'K': c.cfb_url = optarg; break;
		case 'n': c.check = true; break;
		case 'v': diag_verbose++; break;
		default: usage(NULL);
		}
	}
	if (optind != argc)
		usage("unexpected argument");
	if (c.speed > 0 && !c.replay)
		usage("--speed goes with --replay");
	if ((c.replay != NULL) + (c.ws_url != NULL) + (c.cfb_url != NULL) > 1)
		usage("--replay, --ws and --cfb exclude each other");
	if (c.check) {
		if (c.replay && access(c.replay, R_OK) < 0 && strcmp(c.replay, "-") != 0)
			die(1, "%s: cannot read:", c.replay);
		printf("configuration OK: %s\n", c.replay ? c.replay : c.url);
		return 0;
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);

	t.c = &c;
	mom_init(&t.m);
	t.src = c.replay ? "replay" : c.ws_url ? "ws" : c.cfb_url ? "cfb" : "rest";
	t.name = c.replay ? c.replay : c.ws_url ? c.ws_url : c.cfb_url ? c.cfb_url : c.url;
	msg_stop_flag(&stop);   /* SIGTERM ends even a write the reader does not take */
	if (c.warmup && read_file(&t, c.warmup, false) < 0)
		return 1;
	t.live = c.replay == NULL;
	rc = c.replay ? (read_file(&t, c.replay, true) < 0) : c.ws_url || c.cfb_url ? run_ws(&t) : run_rest(&t);
	buf_free(&t.out);
	return rc;
}
