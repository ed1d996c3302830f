/* kalshi-fetch: stream the current KXBTCD strike ladder as market/event
 * lines, or make one signed call to any Kalshi endpoint.  See
 * man/kalshi-fetch.1. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"
#include "http.h"
#include "json.h"
#include "kx.h"
#include "rlimits.h"
#include "money.h"
#include "msg.h"
#include "rtime.h"
#include "sign.h"
#include "ws.h"

#define BASE_SIM  "http://127.0.0.1:8080/trade-api/v2"
#define BASE_DEMO "https://external-api.demo.kalshi.co/trade-api/v2"
#define BASE_PROD "https://external-api.kalshi.com/trade-api/v2"
#define FOLLOW_MAX 4            /* events followed at once (current + closing) */
#define PAGES_MAX 100           /* cursor pages per listing before giving up */
#define BODY_IN_MAX (1u << 20)  /* request body read from stdin */
#define STREAM_PAGE 200         /* markets per page in the stream (bodies of ~250 KB) */
#define EVENTS_TRY FOLLOW_MAX   /* open events read, earliest first, to find one with an active market */
#define POLL_STALL_MS 3000      /* a poll in flight this long: health says "stalled" */
#define WS_PROBE_MS 10000       /* socket quiet this long: ask it something (Kalshi pings every 10 s) */
#define WS_STALL_MS 25000       /* socket quiet this long: stalled, closed, REST at -i */
#define EXIT_UNKNOWN 3          /* a write whose outcome is unknown */

static const char usage_text[] =
"usage: kalshi-fetch [-v] [-u URL | --demo | --prod] [-i SECONDS] [-H SECONDS] [-S SERIES]\n"
"                    [-w [--ws-url URL] [--ws-poll SECONDS]]\n"
"       kalshi-fetch [-v] [-u URL | --demo | --prod] [--all] METHOD PATH [< BODY]\n"
"       kalshi-fetch [-u URL | --demo | --prod] --doctor\n"
"       kalshi-fetch [-u URL | --demo | --prod] -n\n"
"\n"
"Without METHOD PATH: stream the open KXBTCD event's ladder as NDJSON market and\n"
"event lines, plus health lines.  With METHOD PATH: one (signed) request, the\n"
"JSON body on stdout; POST and PUT read the body from stdin.\n"
"\n"
"  -u, --url URL        API base (default $KALSHI_API_BASE, else " BASE_SIM ")\n"
"      --demo           use Kalshi's demo exchange\n"
"      --prod           use Kalshi's production exchange\n"
"  -i, --interval S     seconds between polls of the ladder (default 1)\n"
"  -H, --health S       seconds between health lines (default 10)\n"
"  -S, --series T       series ticker (default KXBTCD)\n"
"  -w, --ws             quotes from the WebSocket ticker channel; REST every\n"
"                       --ws-poll seconds (default 10) for status and roll-over,\n"
"                       and at -i while the socket is down or silent > 25 s\n"
"      --ws-url URL     the socket (default: beside the API base, /trade-api/ws/v2)\n"
"      --all            follow cursors and merge the pages (GET)\n"
"      --doctor         check every endpoint recio uses, clock skew and the key\n"
"  -n                   check configuration (key file, URL) and exit\n"
"  -v                   more diagnostics on stderr\n"
"  -h, --help           this text\n"
"\n"
"Exit: 0 ok, 1 failure, 2 usage, 3 outcome unknown (a POST/PUT/DELETE got no\n"
"answer or a 5xx: it may have taken effect; list /portfolio/orders before retrying).\n"
"Environment: KALSHI_API_BASE, KALSHI_KEY_ID, KALSHI_KEY_FILE (mode 0600).\n";

enum verb { STREAM, CALL, DOCTOR, CHECK };

struct config {
	enum verb verb;
	const char *base, *key_id, *key_file, *series;
	const char *method, *path;
	int64_t interval_ms, health_ms, ws_poll_ms;
	bool all, ws;
	const char *ws_url;
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

/* ---- talking to the exchange ---- */

struct kx {
	struct http_client *http;
	struct kx_key *key;
	struct http_resp r;
	struct json j;
	char err[512];
};

/* o: the HTTP client's options (timeouts, retries, the stop flag). */
static int
kx_open(struct kx *k, const struct config *c, const struct http_opts *o)
{
	memset(k, 0, sizeof *k);
	if (c->key_id && c->key_file) {
		if ((k->key = kx_key_load_private(c->key_file)) == NULL)
			return -1;
	} else if (c->key_id || c->key_file) {
		warnx_("KALSHI_KEY_ID and KALSHI_KEY_FILE must be set together");
		return -1;
	}
	k->http = http_new(c->base, o, k->key, c->key_id);
	return k->http ? 0 : -1;
}

static void
kx_close(struct kx *k)
{
	http_free(k->http);
	kx_key_free(k->key);
	http_resp_free(&k->r);
	json_free(&k->j);
}

/* GET path and parse the JSON body.  0, or -1 with k->err set. */
static int
kx_get(struct kx *k, const char *path)
{
	char e[256];

	if (http_request(k->http, "GET", path, NULL, 0, 0, &k->r) < 0) {
		snprintf(k->err, sizeof k->err, "GET %s: %s", path, k->r.err);
		return -1;
	}
	if (k->r.status != 200) {
		http_error_text(&k->r, e, sizeof e);
		snprintf(k->err, sizeof k->err, "GET %s: HTTP %ld: %s", path, k->r.status, e);
		return -1;
	}
	if (http_json(&k->j, &k->r) < 0) {
		snprintf(k->err, sizeof k->err, "GET %s: response is not JSON: %s", path, k->j.err);
		return -1;
	}
	return 0;
}

static void
page_path(struct buf *p, const char *path, const char *cursor)
{
	buf_reset(p);
	buf_puts(p, path);
	if (cursor[0]) {
		buf_puts(p, strchr(path, '?') ? "&cursor=" : "?cursor=");
		http_qescape(p, cursor);
	}
}

/* ---- the ladder ---- */

/* A listing as read (cur: in the exchange's order), or the markets last
 * written (prev: sorted by ticker, found by binary search, and holding
 * only the events followed: see prune). */
struct ladder {
	struct kx_market *m;
	size_t n, cap;
};

static void
ladder_grow(struct ladder *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->m = xrealloc(l->m, l->cap * sizeof *l->m);
	}
}

static void
ladder_put(struct ladder *l, const struct kx_market *m)
{
	ladder_grow(l);
	l->m[l->n++] = *m;
}

/* The index of ticker in sorted l, or where it would go (*found false). */
static size_t
ladder_pos(const struct ladder *l, const char *ticker, bool *found)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->m[mid].ticker, ticker);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct kx_market *
ladder_find(struct ladder *l, const char *ticker)
{
	bool found;
	size_t i = ladder_pos(l, ticker, &found);

	return found ? &l->m[i] : NULL;
}

/* m into sorted l, replacing the market of the same ticker */
static void
ladder_set(struct ladder *l, const struct kx_market *m)
{
	bool found;
	size_t i = ladder_pos(l, m->ticker, &found);

	if (!found) {
		ladder_grow(l);
		memmove(&l->m[i + 1], &l->m[i], (l->n - i) * sizeof *l->m);
		l->n++;
	}
	l->m[i] = *m;
}

/* Every market of a listing, all pages, into out (reset first).  Nothing
 * is kept from a listing that fails part way: no half-read ladder. */
static int
read_markets(struct kx *k, const char *path, struct ladder *out)
{
	struct buf p = { 0 };
	char cursor[RECIO_PATH_MAX] = "", err[KX_ERR_MAX];     /* a cursor longer than that: an error */
	int rc = -1, pages = 0;

	out->n = 0;
	do {
		int arr, n;

		page_path(&p, path, cursor);
		if (kx_get(k, p.p) < 0)
			goto done;
		if ((arr = kx_page(&k->j, "markets", cursor, sizeof cursor, err, sizeof err)) < 0) {
			snprintf(k->err, sizeof k->err, "GET %s: %s", path, err);
			goto done;
		}
		n = json_size(&k->j, arr);
		for (int i = 0; i < n; i++) {
			struct kx_market m;

			if (kx_market_decode(&k->j, json_at(&k->j, arr, i), &m, err, sizeof err) < 0) {
				snprintf(k->err, sizeof k->err, "GET %s: %s", path, err);
				goto done;
			}
			ladder_put(out, &m);
		}
		if (++pages == PAGES_MAX) {
			snprintf(k->err, sizeof k->err, "GET %s: more than %d pages", path, PAGES_MAX);
			goto done;
		}
	} while (cursor[0]);
	rc = 0;
done:
	buf_free(&p);
	return rc;
}

static bool
market_changed(const struct kx_market *a, const struct kx_market *b)
{
	return strcmp(a->status, b->status) != 0 || strcmp(a->result, b->result) != 0 ||
	    a->yes_bid != b->yes_bid || a->yes_ask != b->yes_ask || a->no_bid != b->no_bid ||
	    a->no_ask != b->no_ask || a->yes_bid_size != b->yes_bid_size ||
	    a->yes_ask_size != b->yes_ask_size || a->last != b->last || a->volume != b->volume ||
	    a->oi != b->oi;
}

/* Prices in messages are cents.  A quote between cents (sub-cent tick
 * structures) is rounded against us: bids down, asks up. */
static int64_t
cents_down(int64_t cc)
{
	return cc >= 0 ? cc / CC_PER_CENT : -((-cc + CC_PER_CENT - 1) / CC_PER_CENT);
}

static int64_t
cents_up(int64_t cc)
{
	return -cents_down(-cc);
}

static void
emit_market(struct buf *b, const struct kx_market *m, int64_t now)
{
	msg_begin(b, "market", m->updated_ms > 0 ? m->updated_ms : now);
	jw_kstr(b, "ticker", m->ticker);
	jw_kstr(b, "event_ticker", m->event_ticker);
	jw_kstr(b, "status", m->status);
	if (m->floor_strike_c >= 0) {
		char s[32];

		snprintf(s, sizeof s, "%lld.%02lld", (long long)(m->floor_strike_c / 100),
		    (long long)(m->floor_strike_c % 100));
		jw_key(b, "strike");
		jw_raw(b, s, strlen(s));
	}
	jw_ki64(b, "close_ts", m->close_ms);
	jw_ki64(b, "yes_bid", cents_down(m->yes_bid));
	jw_ki64(b, "yes_ask", cents_up(m->yes_ask));
	jw_ki64(b, "no_bid", cents_down(m->no_bid));
	jw_ki64(b, "no_ask", cents_up(m->no_ask));
	jw_ki64(b, "yes_bid_size", m->yes_bid_size / 100);
	jw_ki64(b, "yes_ask_size", m->yes_ask_size / 100);
	jw_ki64(b, "last", cents_down(m->last));
	jw_ki64(b, "volume", m->volume / 100);
	jw_ki64(b, "oi", m->oi / 100);
	if (m->result[0])
		jw_kstr(b, "result", m->result);
	msg_emit(b);
}

struct stream {
	struct kx k;
	const struct config *c;
	char follow[FOLLOW_MAX][RECIO_TICKER_MAX];      /* [0] is the current event, then newest closed first */
	int nfollow;
	struct ladder prev, cur;
	struct buf out, path;
	int64_t last_ok_ms, errors, last_health_ms;
	int64_t busy_since;             /* monotonic ms the poll in flight began; 0: none */
	char last_err[512];
	const char *sock;               /* -w: the socket's state for the health line; NULL without -w */
	char sock_err[256];             /* -w: why the socket is not open */
};

static bool
following(const struct stream *s, const char *evt)
{
	for (int i = 0; i < s->nfollow; i++)
		if (strcmp(s->follow[i], evt) == 0)
			return true;
	return false;
}

struct cand {
	char ticker[RECIO_TICKER_MAX];
	int64_t strike_ms;
};

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	/* events without a strike date last */
	if ((x->strike_ms < 0) != (y->strike_ms < 0))
		return x->strike_ms < 0 ? 1 : -1;
	return x->strike_ms < y->strike_ms ? -1 : x->strike_ms > y->strike_ms;
}

/* The series' open events, into *c (n of them), from GET /events: a few
 * small objects where /markets?series_ticker= would list every strike of
 * every open event. */
static int
open_events(struct stream *s, struct cand **c, size_t *n)
{
	char cursor[RECIO_PATH_MAX] = "", err[KX_ERR_MAX];
	size_t cap = 0;
	int pages = 0;

	*n = 0;
	do {
		int arr, ne;

		buf_reset(&s->path);
		buf_printf(&s->path, "/events?series_ticker=%s&status=open&limit=200", s->c->series);
		if (cursor[0]) {
			buf_puts(&s->path, "&cursor=");
			http_qescape(&s->path, cursor);
		}
		if (kx_get(&s->k, s->path.p) < 0)
			return -1;
		if ((arr = kx_page(&s->k.j, "events", cursor, sizeof cursor, err, sizeof err)) < 0) {
			snprintf(s->k.err, sizeof s->k.err, "GET %s: %s", s->path.p, err);
			return -1;
		}
		ne = json_size(&s->k.j, arr);
		for (int i = 0; i < ne; i++) {
			struct kx_event e;

			if (kx_event_decode(&s->k.j, json_at(&s->k.j, arr, i), &e, err, sizeof err) < 0) {
				snprintf(s->k.err, sizeof s->k.err, "GET %s: %s", s->path.p, err);
				return -1;
			}
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				*c = xrealloc(*c, cap * sizeof **c);
			}
			snprintf((*c)[*n].ticker, sizeof (*c)[*n].ticker, "%s", e.event_ticker);
			(*c)[(*n)++].strike_ms = e.strike_ms;
		}
		if (++pages == PAGES_MAX) {
			snprintf(s->k.err, sizeof s->k.err, "GET /events?series_ticker=%s: more than %d pages",
			    s->c->series, PAGES_MAX);
			return -1;
		}
	} while (cursor[0]);
	return 0;
}

/* The open event of the series whose close is next, found from the
 * exchange's own listing (never computed from the local clock): of the
 * open events, earliest strike date first, the first one with an active
 * market. */
static int
discover(struct stream *s)
{
	struct kx_market *best = NULL;
	struct cand *c = NULL;
	size_t nc = 0;
	int64_t maxts = 0;
	int rc = -1;

	if (open_events(s, &c, &nc) < 0)
		goto out;
	if (nc > 1)
		qsort(c, nc, sizeof *c, cand_cmp);
	for (size_t k = 0; k < nc && k < EVENTS_TRY && best == NULL; k++) {
		buf_reset(&s->path);
		buf_printf(&s->path, "/markets?event_ticker=%s&limit=%d", c[k].ticker, STREAM_PAGE);
		if (read_markets(&s->k, s->path.p, &s->cur) < 0)
			goto out;
		maxts = 0;
		for (size_t i = 0; i < s->cur.n; i++) {
			struct kx_market *m = &s->cur.m[i];

			if (m->updated_ms > maxts)
				maxts = m->updated_ms;
			if (strcmp(m->status, "active") == 0 && (best == NULL || m->close_ms < best->close_ms))
				best = m;
		}
	}
	rc = 0;
	if (best == NULL || following(s, best->event_ticker))
		goto out;
	if (s->nfollow == FOLLOW_MAX) {         /* forget the oldest closing event: the last */
		warnx_("%s: results not all read, no longer followed (%d events at once)",
		    s->follow[FOLLOW_MAX - 1], FOLLOW_MAX);
		s->nfollow--;
	}
	if (s->nfollow > 0)
		memmove(&s->follow[1], &s->follow[0], (size_t)s->nfollow * sizeof s->follow[0]);
	snprintf(s->follow[0], sizeof s->follow[0], "%s", best->event_ticker);
	s->nfollow++;
	msg_begin(&s->out, "event", maxts ? maxts : rt_now_ms());
	jw_kstr(&s->out, "event_ticker", best->event_ticker);
	jw_kstr(&s->out, "status", "open");
	jw_ki64(&s->out, "close_ts", best->close_ms);
	jw_ki64(&s->out, "strikes", (int64_t)s->cur.n);
	if (s->nfollow > 1)
		jw_kstr(&s->out, "prev_event", s->follow[1]);
	msg_emit(&s->out);
out:
	free(c);
	return rc;
}

/* Markets of events no longer followed leave prev: it holds the followed
 * ladders only, hour after hour. */
static void
prune(struct stream *s)
{
	size_t k = 0;

	for (size_t i = 0; i < s->prev.n; i++)
		if (following(s, s->prev.m[i].event_ticker))
			s->prev.m[k++] = s->prev.m[i];
	s->prev.n = k;
}

/* One poll of every followed event.  Lines only after every listing of
 * the event was read whole. */
static int
poll_events(struct stream *s)
{
	int64_t now = rt_now_ms();

	for (int e = 0; e < s->nfollow; e++) {
		bool all_done = true;

		buf_reset(&s->path);
		buf_printf(&s->path, "/markets?event_ticker=%s&limit=%d", s->follow[e], STREAM_PAGE);
		if (read_markets(&s->k, s->path.p, &s->cur) < 0)
			return -1;
		for (size_t i = 0; i < s->cur.n; i++) {
			struct kx_market *m = &s->cur.m[i], *p = ladder_find(&s->prev, m->ticker);

			if (p == NULL || market_changed(p, m))
				emit_market(&s->out, m, now);
			if (p != NULL && (strcmp(p->status, m->status) != 0 || strcmp(p->result, m->result) != 0)) {
				msg_begin(&s->out, "event", m->updated_ms > 0 ? m->updated_ms : now);
				jw_kstr(&s->out, "event_ticker", m->event_ticker);
				jw_kstr(&s->out, "ticker", m->ticker);
				jw_kstr(&s->out, "status", m->status);
				if (m->result[0])
					jw_kstr(&s->out, "result", m->result);
				msg_emit(&s->out);
			}
			if (p)
				*p = *m;
			else
				ladder_set(&s->prev, m);
			all_done &= m->result[0] != '\0';
		}
		if (e > 0 && all_done && s->cur.n > 0) {  /* a closing event is determined: done */
			memmove(&s->follow[e], &s->follow[e + 1], (size_t)(s->nfollow - e - 1) * sizeof s->follow[0]);
			s->nfollow--;
			e--;
		}
	}
	prune(s);
	return 0;
}

/* status: "degraded" after a failed poll (or, under -w, while the socket
 * is not open), "stalled" while a poll has been in flight more than
 * POLL_STALL_MS (the exchange does not answer), else "ok". */
static void
health(struct stream *s, bool force)
{
	int64_t now = rt_mono_ms();
	bool stalled = s->busy_since && now - s->busy_since > POLL_STALL_MS;
	bool sock_down = s->sock && strcmp(s->sock, "open") != 0 && strcmp(s->sock, "connecting") != 0;

	if (!force && now - s->last_health_ms < s->c->health_ms)
		return;
	s->last_health_ms = now;
	msg_begin(&s->out, "health", rt_now_ms());
	jw_kstr(&s->out, "src", "kalshi-fetch");
	jw_kstr(&s->out, "status", s->errors || (sock_down && !stalled) ? "degraded" : stalled ? "stalled" : "ok");
	jw_ki64(&s->out, "last_ok_ts", s->last_ok_ms);
	jw_ki64(&s->out, "errors", s->errors);
	jw_ki64(&s->out, "retries", (int64_t)http_retries(s->k.http));
	if (s->errors)
		jw_kstr(&s->out, "error", s->last_err);
	else if (stalled) {
		char e[128];

		snprintf(e, sizeof e, "a poll unanswered for %lld s", (long long)((now - s->busy_since) / 1000));
		jw_kstr(&s->out, "error", e);
	} else if (sock_down)
		jw_kstr(&s->out, "error", s->sock_err);
	if (s->sock)
		jw_kstr(&s->out, "socket", s->sock);
	if (s->nfollow)
		jw_kstr(&s->out, "event_ticker", s->follow[0]);
	msg_emit(&s->out);
}

/* the HTTP client's idle hook: health lines on time while a request hangs */
static void
stream_idle(void *arg)
{
	health(arg, false);
}

/* One poll: find the event if needed, read every followed ladder. */
static void
stream_step(struct stream *s)
{
	int rc = 0;
	bool need = s->nfollow == 0;

	s->busy_since = rt_mono_ms();
	/* the current event has no active market left: look for the next */
	if (!need) {
		struct kx_market *any = NULL;

		for (size_t i = 0; i < s->prev.n && any == NULL; i++)
			if (strcmp(s->prev.m[i].event_ticker, s->follow[0]) == 0 &&
			    strcmp(s->prev.m[i].status, "active") == 0)
				any = &s->prev.m[i];
		need = any == NULL;
	}
	if (need)
		rc = discover(s);
	if (rc == 0 && s->nfollow > 0)
		rc = poll_events(s);
	s->busy_since = 0;
	if (stop)
		return;         /* interrupted: not a failure of the exchange */
	if (rc == 0) {
		bool was = s->errors > 0;

		s->errors = 0;
		s->last_ok_ms = rt_now_ms();
		if (s->nfollow > 0)
			msg_ready();    /* a ladder is out */
		if (was) {
			infox("recovered");
			health(s, true);
		}
	} else {
		s->errors++;
		snprintf(s->last_err, sizeof s->last_err, "%s", s->k.err);
		warnx_("%s (%lld in a row)", s->k.err, (long long)s->errors);
		if (s->errors == 1)
			health(s, true);
	}
	health(s, false);
}

/* back off while failing: interval x 2^errors, at most 30 s */
static int64_t
step_wait(const struct stream *s, int64_t interval)
{
	int64_t wait = interval;

	for (int64_t e = 0; e < s->errors && wait < 30000; e++)
		wait *= 2;
	return wait > 30000 ? 30000 : wait;
}

/* The stream's HTTP client: short attempts, few retries (the back-off
 * between polls is the retry), the stop flag, health lines meanwhile. */
static struct http_opts
stream_opts(struct stream *s)
{
	struct http_opts o = { 0 };

	o.timeout_ms = RECIO_STREAM_TIMEOUT_MS;
	o.retries = RECIO_STREAM_RETRIES;
	o.backoff_max_ms = RECIO_STREAM_BACKOFF_MAX;
	o.stop = &stop;
	o.idle = stream_idle;
	o.idle_arg = s;
	return o;
}

static int
run_stream(const struct config *c)
{
	struct stream s;
	struct http_opts o;

	memset(&s, 0, sizeof s);
	s.c = c;
	o = stream_opts(&s);
	if (kx_open(&s.k, c, &o) < 0)
		return 1;
	while (!stop) {
		int64_t t0 = rt_mono_ms(), wait;

		stream_step(&s);
		wait = step_wait(&s, c->interval_ms);
		for (int64_t left; !stop && (left = wait - (rt_mono_ms() - t0)) > 0; ) {
			rt_sleep_stop(left < 100 ? left : 100, &stop);
			health(&s, false);      /* on time through a long back-off too */
		}
	}
	kx_close(&s.k);
	free(s.prev.m);
	free(s.cur.m);
	buf_free(&s.out);
	buf_free(&s.path);
	return 0;
}

/* ---- -w: quotes from the WebSocket ticker channel ----
 *
 * The socket carries quotes as they change; REST still reads the ladder
 * every --ws-poll seconds for what the ticker channel does not say
 * (sizes, status, results, the next event).  While the socket is down the
 * REST poll runs at the normal interval: the stream never goes dark.
 *
 * The REST poll runs inside the socket's loop (ws_on_tick), so while the
 * socket is open it is one short attempt (RECIO_STREAM_WS_TIMEOUT_MS, no
 * retry): a slow exchange holds the socket's quotes back that long at
 * most.  (A REST client outside the loop, curl multi on lws's poll, would
 * hold nothing back; not done.)
 *
 * Liveness: libwebsockets answers the exchange's pings without telling
 * us, so a socket is known alive by its messages.  Quiet for WS_PROBE_MS,
 * it is asked for its subscriptions (any answer will do); quiet for
 * WS_STALL_MS (2.5 of Kalshi's 10 s pings), it is taken for stalled:
 * closed, REST at -i, and a new one is connected. */

struct wsstream {
	struct stream s;
	struct ws_client *ws;
	int64_t next_poll, reconnect_at, backoff, cmd_id;
	int64_t last_rx, probe_at, probe_id;    /* monotonic ms of the last message, of the last probe */
	uint64_t subscribed;            /* the market set the subscription covers (sub_sig); 0: none */
	bool was_open, stalled;
};

/* A signature of the followed markets' tickers (FNV-1a): the
 * subscription is sent again when it changes (a new event, strikes added
 * to the current one). */
static uint64_t
sub_sig(const struct wsstream *w, int *n)
{
	uint64_t h = 1469598103934665603u;

	*n = 0;
	for (size_t i = 0; i < w->s.prev.n; i++) {
		if (!following(&w->s, w->s.prev.m[i].event_ticker))
			continue;
		for (const char *p = w->s.prev.m[i].ticker; ; p++) {
			h = (h ^ (unsigned char)*p) * 1099511628211u;
			if (*p == '\0')
				break;
		}
		(*n)++;
	}
	return *n ? (h ? h : 1) : 0;
}

static bool
sock_open(const struct wsstream *w)
{
	return ws_state(w->ws) == WS_OPEN && !w->stalled;
}

static void
ws_subscribe(struct wsstream *w)
{
	struct buf b = { 0 };
	int n = 0;
	uint64_t sig;

	if (w->s.nfollow == 0 || !sock_open(w))
		return;
	if ((sig = sub_sig(w, &n)) == 0 || sig == w->subscribed)
		return;
	jw_obj(&b);
	jw_ki64(&b, "id", ++w->cmd_id);
	jw_kstr(&b, "cmd", "subscribe");
	jw_key(&b, "params");
	jw_obj(&b);
	jw_key(&b, "channels");
	jw_arr(&b);
	jw_str(&b, "ticker");
	jw_arr_end(&b);
	jw_key(&b, "market_tickers");
	jw_arr(&b);
	for (size_t i = 0; i < w->s.prev.n; i++)        /* prev holds the followed events only */
		if (following(&w->s, w->s.prev.m[i].event_ticker))
			jw_str(&b, w->s.prev.m[i].ticker);
	jw_arr_end(&b);
	jw_obj_end(&b);
	jw_obj_end(&b);
	if (ws_send(w->ws, b.p, b.len) == 0)
		w->subscribed = sig;
	buf_free(&b);
}

static void
ws_on_open(void *arg)
{
	struct wsstream *w = arg;

	infox("socket open");
	w->backoff = 1000;
	w->was_open = true;
	w->stalled = false;
	w->last_rx = rt_mono_ms();
	w->probe_at = 0;
	w->subscribed = 0;
	w->s.sock = "open";
	w->s.sock_err[0] = '\0';
	ws_subscribe(w);                /* again after every reconnect */
}

static void
ws_on_close(void *arg, const char *why)
{
	struct wsstream *w = arg;

	if (stop)
		return;                 /* our own shutdown */
	w->s.sock = "down";
	if (!w->stalled)
		snprintf(w->s.sock_err, sizeof w->s.sock_err, "socket: %s", why);
	w->stalled = false;
	warnx_("socket: %s; polling until it is back (retry in %lld s)", why, (long long)(w->backoff / 1000));
	w->reconnect_at = rt_mono_ms() + w->backoff;
	w->backoff = w->backoff * 2 > 30000 ? 30000 : w->backoff * 2;
	w->next_poll = 0;               /* poll at once */
	w->subscribed = 0;
}

/* {"type":"ticker","sid":..,"seq":..,"msg":{"market_ticker",..}} */
static void
ws_on_text(void *arg, const char *text, size_t n)
{
	struct wsstream *w = arg;
	struct json j = { 0 };
	char type[24], t[RECIO_TICKER_MAX], v[48];
	struct kx_market *m, old;
	int msg;
	int64_t x;

	w->last_rx = rt_mono_ms();
	if (json_parse(&j, text, n) < 0 || json_get_str(&j, 0, "type", type, sizeof type) < 0) {
		warnx_("socket: a message that is not JSON with a type, skipped");
		goto out;
	}
	if (w->probe_id && json_get_i64(&j, 0, "id", &x) == 0 && x == w->probe_id)
		goto out;               /* the answer to a liveness probe, whatever it says */
	if (strcmp(type, "error") == 0) {
		int e = json_get(&j, 0, "msg");
		char em[128] = "";

		json_get_str(&j, e, "msg", em, sizeof em);
		warnx_("socket: error from the exchange: %s", em);
		goto out;
	}
	if (strcmp(type, "ticker") != 0 || (msg = json_get(&j, 0, "msg")) < 0 ||
	    json_get_str(&j, msg, "market_ticker", t, sizeof t) < 0 || (m = ladder_find(&w->s.prev, t)) == NULL)
		goto out;
	old = *m;
	/* each field in its documented form; a bad one is reported, not zeroed */
	if (json_get_str(&j, msg, "yes_bid_dollars", v, sizeof v) < 0 || money_parse_dollars(v, strlen(v), &x) < 0) {
		warnx_("socket: ticker.yes_bid_dollars: missing or not a dollar string");
		goto out;
	}
	m->yes_bid = x;
	m->no_ask = CC_PER_DOLLAR - x;
	if (json_get_str(&j, msg, "yes_ask_dollars", v, sizeof v) < 0 || money_parse_dollars(v, strlen(v), &x) < 0) {
		*m = old;
		warnx_("socket: ticker.yes_ask_dollars: missing or not a dollar string");
		goto out;
	}
	m->yes_ask = x;
	m->no_bid = CC_PER_DOLLAR - x;
	if (json_get_str(&j, msg, "price_dollars", v, sizeof v) == 0 && money_parse_dollars(v, strlen(v), &x) == 0)
		m->last = x;
	if (json_get_str(&j, msg, "volume_fp", v, sizeof v) == 0 && money_parse_fp(v, strlen(v), &x) == 0)
		m->volume = x;
	if (json_get_str(&j, msg, "open_interest_fp", v, sizeof v) == 0 && money_parse_fp(v, strlen(v), &x) == 0)
		m->oi = x;
	if (json_get_i64(&j, msg, "ts_ms", &x) == 0 || (json_get_i64(&j, msg, "ts", &x) == 0 && (x *= 1000)))
		m->updated_ms = x;
	if (market_changed(&old, m))
		emit_market(&w->s.out, m, rt_now_ms());
out:
	json_free(&j);
}

/* The socket's liveness (see above). */
static void
ws_liveness(struct wsstream *w, int64_t now)
{
	int64_t quiet = now - w->last_rx;

	if (ws_state(w->ws) != WS_OPEN || w->stalled)
		return;
	if (quiet >= WS_STALL_MS) {
		warnx_("socket: no message for %lld s: stalled; closing it, polling every %.1f s until a new one is open",
		    (long long)(quiet / 1000), (double)w->s.c->interval_ms / 1000.0);
		w->stalled = true;
		w->s.sock = "stalled";
		snprintf(w->s.sock_err, sizeof w->s.sock_err, "socket: no message for %lld s", (long long)(quiet / 1000));
		w->next_poll = 0;
		/* dropped at once: a close handshake would wait on the peer that
		 * stopped answering (on_close follows, and a reconnect) */
		ws_abort(w->ws, w->s.sock_err);
		health(&w->s, true);
	} else if (quiet >= WS_PROBE_MS && now - w->probe_at >= WS_PROBE_MS) {
		char b[96];

		w->probe_id = ++w->cmd_id;
		w->probe_at = now;
		snprintf(b, sizeof b, "{\"id\":%lld,\"cmd\":\"list_subscriptions\"}", (long long)w->probe_id);
		(void)ws_send(w->ws, b, strlen(b));
	}
}

static void
ws_on_tick(void *arg)
{
	struct wsstream *w = arg;
	int64_t now = rt_mono_ms();

	ws_liveness(w, now);
	if (now >= w->next_poll) {
		/* the socket open with quotes subscribed, REST holds them back:
		 * one short try; otherwise REST is the stream: as without -w */
		if (sock_open(w) && w->subscribed)
			http_set_attempts(w->s.k.http, RECIO_STREAM_WS_TIMEOUT_MS, RECIO_STREAM_WS_RETRIES);
		else
			http_set_attempts(w->s.k.http, RECIO_STREAM_TIMEOUT_MS, RECIO_STREAM_RETRIES);
		stream_step(&w->s);
		now = rt_mono_ms();
		w->next_poll = now + step_wait(&w->s, sock_open(w) ? w->s.c->ws_poll_ms : w->s.c->interval_ms);
		ws_subscribe(w);        /* a new event, or new strikes: their markets */
	}
	if ((ws_state(w->ws) == WS_CLOSED || ws_state(w->ws) == WS_IDLE) && now >= w->reconnect_at) {
		if (!w->was_open)
			w->s.sock = "connecting";       /* after a drop: "down" until open */
		if (ws_connect(w->ws) < 0)
			ws_on_close(w, "cannot start connecting");
	}
	health(&w->s, false);
}

static int
run_ws(const struct config *c)
{
	struct wsstream w;
	struct ws_handlers h = { ws_on_open, ws_on_text, ws_on_close, ws_on_tick, &w, 100 };
	struct http_opts o;

	memset(&w, 0, sizeof w);
	w.s.c = c;
	w.s.sock = "connecting";
	snprintf(w.s.sock_err, sizeof w.s.sock_err, "socket: not open yet");
	w.backoff = 1000;
	o = stream_opts(&w.s);          /* shorter while the socket is open (ws_on_tick) */
	if (kx_open(&w.s.k, c, &o) < 0)
		return 1;
	if ((w.ws = ws_new(c->ws_url, w.s.k.key, c->key_id, &h)) == NULL) {
		kx_close(&w.s.k);
		return 1;
	}
	ws_run(w.ws, &stop);
	ws_free(w.ws);
	kx_close(&w.s.k);
	free(w.s.prev.m);
	free(w.s.cur.m);
	buf_free(&w.s.out);
	buf_free(&w.s.path);
	return 0;
}

/* ---- one-shot calls ---- */

static int
read_stdin(struct buf *b)
{
	char tmp[8192];
	ssize_t n;

	while ((n = read(0, tmp, sizeof tmp)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			warnx_("stdin: cannot read the request body:");
			return -1;
		}
		if (b->len + (size_t)n > BODY_IN_MAX) {
			warnx_("stdin: request body longer than %u bytes", BODY_IN_MAX);
			return -1;
		}
		buf_add(b, tmp, (size_t)n);
	}
	return 0;
}

/* A failed call: 1, or EXIT_UNKNOWN when a write (POST, PUT, DELETE) got
 * no answer or a 5xx: the exchange may have acted on it, and a blind
 * re-run could place a second order. */
static int
call_failed(const struct config *c, const struct http_resp *r)
{
	char e[512], why[640];

	if (r->status == 0)
		snprintf(why, sizeof why, "no response after %d attempt%s: %s", r->attempts,
		    r->attempts == 1 ? "" : "s", r->err);
	else {
		http_error_text(r, e, sizeof e);
		snprintf(why, sizeof why, "HTTP %ld: %s", r->status, e);
	}
	if (strcmp(c->method, "GET") != 0 && (r->status == 0 || r->status / 100 == 5)) {
		warnx_("%s %s: outcome unknown: %s; the request may have taken effect (an order may have been "
		    "placed, changed or cancelled): list /portfolio/orders (or GET by client_order_id) before retrying",
		    c->method, c->path, why);
		return EXIT_UNKNOWN;
	}
	warnx_("%s %s: %s", c->method, c->path, why);
	return 1;
}

/* --all: follow cursors; every array member of the top-level object is
 * concatenated over the pages, other members come from the first page,
 * and the cursor is "" as on a last page. */
static int
call_all(const struct config *c, struct kx *k)
{
	struct buf path = { 0 }, out = { 0 }, cursor = { 0 };
	struct buf *arrays = NULL;      /* elements so far, per array key of page 1 */
	char **keys = NULL;
	int nkeys = 0, rc = 1, pages = 0;
	struct buf first = { 0 };
	struct json j1 = { 0 };

	buf_puts(&cursor, "");
	do {
		int n, ct;

		page_path(&path, c->path, cursor.p);
		if (http_request(k->http, "GET", path.p, NULL, 0, 0, &k->r) < 0 || k->r.status / 100 != 2) {
			if (stop)
				warnx_("GET %s: interrupted after %d page%s: nothing printed (the listing is not whole)",
				    c->path, pages, pages == 1 ? "" : "s");
			else
				rc = call_failed(c, &k->r);
			goto done;
		}
		if (http_json(&k->j, &k->r) < 0 || json_type(&k->j, 0) != JSON_OBJECT) {
			warnx_("GET %s: response is not a JSON object%s%s", path.p, k->j.err[0] ? ": " : "", k->j.err);
			goto done;
		}
		if (pages == 0) {
			buf_add(&first, k->r.body.p, k->r.body.len);
			n = json_size(&k->j, 0);
			keys = xcalloc((size_t)n, sizeof *keys);
			arrays = xcalloc((size_t)n, sizeof *arrays);
		}
		for (int t = 1; t < k->j.ntok; t = json_skip(&k->j, t + 1)) {
			size_t kl, vl;
			const char *kp = json_raw(&k->j, t, &kl), *vp;
			int i;

			if (json_type(&k->j, t + 1) != JSON_ARRAY)
				continue;
			for (i = 0; i < nkeys; i++)
				if (strlen(keys[i]) == kl && memcmp(keys[i], kp, kl) == 0)
					break;
			if (i == nkeys) {
				if (pages > 0)
					continue;       /* only arrays of the first page's shape */
				keys[nkeys++] = xstrndup(kp, kl);
			}
			for (int e = 0, ne = json_size(&k->j, t + 1); e < ne; e++) {
				vp = json_raw(&k->j, json_at(&k->j, t + 1, e), &vl);
				if (json_type(&k->j, json_at(&k->j, t + 1, e)) == JSON_STRING)
					vp--, vl += 2;  /* keep the quotes */
				if (arrays[i].len)
					buf_putc(&arrays[i], ',');
				buf_add(&arrays[i], vp, vl);
			}
		}
		/* absent or null: the last page; a string of any length: the next
		 * page's; anything else is not a listing we can follow */
		buf_reset(&cursor);
		if ((ct = json_get(&k->j, 0, "cursor")) >= 0 && json_type(&k->j, ct) != JSON_NULL &&
		    json_str_buf(&k->j, ct, &cursor) < 0) {
			warnx_("GET %s: cursor: not a string, or badly escaped", path.p);
			goto done;
		}
		buf_puts(&cursor, "");
		if (++pages == PAGES_MAX && cursor.len) {
			warnx_("GET %s: more than %d pages, stopping", c->path, PAGES_MAX);
			goto done;
		}
	} while (cursor.len && !stop);
	if (stop) {
		warnx_("GET %s: interrupted after %d page%s: nothing printed (the listing is not whole)",
		    c->path, pages, pages == 1 ? "" : "s");
		goto done;
	}

	/* rebuild page 1 with the merged arrays */
	j1.tok_max = RECIO_HTTP_TOK_MAX;        /* an HTTP body's */
	if (json_parse(&j1, first.p, first.len) < 0) {
		warnx_("GET %s: first page: %s", c->path, j1.err);
		goto done;
	}
	jw_obj(&out);
	for (int t = 1; t < j1.ntok; t = json_skip(&j1, t + 1)) {
		size_t kl, vl;
		const char *kp = json_raw(&j1, t, &kl), *vp = json_raw(&j1, t + 1, &vl);
		int i;

		jw_sep(&out);
		buf_putc(&out, '"');    /* the key's raw text is already escaped */
		buf_add(&out, kp, kl);
		buf_puts(&out, "\":");
		for (i = 0; i < nkeys; i++)
			if (strlen(keys[i]) == kl && memcmp(keys[i], kp, kl) == 0)
				break;
		if (i < nkeys) {
			buf_putc(&out, '[');
			buf_add(&out, arrays[i].p ? arrays[i].p : "", arrays[i].len);
			buf_putc(&out, ']');
		} else if (kl == 6 && memcmp(kp, "cursor", 6) == 0)
			buf_puts(&out, "\"\"");
		else {
			if (json_type(&j1, t + 1) == JSON_STRING)
				vp--, vl += 2;
			buf_add(&out, vp, vl);
		}
	}
	jw_obj_end(&out);
	buf_putc(&out, '\n');
	if (write_all(1, out.p, out.len) < 0)
		die(1, "stdout:");
	rc = 0;
done:
	for (int i = 0; i < nkeys; i++) {
		free(keys[i]);
		buf_free(&arrays[i]);
	}
	free(keys);
	free(arrays);
	json_free(&j1);
	buf_free(&first);
	buf_free(&out);
	buf_free(&path);
	buf_free(&cursor);
	return rc;
}

static int
run_call(const struct config *c)
{
	struct kx k;
	struct buf body = { 0 };
	struct http_opts o = { 0 };
	int rc;

	o.retries = RECIO_HTTP_RETRIES;
	o.stop = &stop;                 /* SIGTERM/SIGINT: give up at once */
	if (kx_open(&k, c, &o) < 0)
		return 1;
	if (c->all) {
		rc = strcmp(c->method, "GET") == 0 ? call_all(c, &k) : (warnx_("--all: only with GET"), 2);
		kx_close(&k);
		return rc;
	}
	if ((strcmp(c->method, "POST") == 0 || strcmp(c->method, "PUT") == 0) && read_stdin(&body) < 0) {
		kx_close(&k);
		return 1;
	}
	if (http_request(k.http, c->method, c->path, body.len ? body.p : NULL, body.len, 0, &k.r) < 0 ||
	    k.r.status / 100 != 2)
		rc = call_failed(c, &k.r);
	else {
		rc = 0;
		if (write_all(1, k.r.body.p, k.r.body.len) < 0 ||
		    (k.r.body.len && k.r.body.p[k.r.body.len - 1] != '\n' && write_all(1, "\n", 1) < 0))
			die(1, "stdout:");
	}
	buf_free(&body);
	kx_close(&k);
	return rc;
}

/* ---- --doctor ---- */

struct doctor {
	struct kx k;
	const struct config *c;
	int fails;
	char first[RECIO_TICKER_MAX];
};

static void
row(struct doctor *d, const char *check, int ok, const char *detail)
{
	const char *res = ok > 0 ? "pass" : ok == 0 ? "FAIL" : "skip";

	if (ok == 0)
		d->fails++;
	printf("%-28s %-5s %s\n", check, res, detail);
	(void)fflush(stdout);
}

/* GET path and decode each element of the array `key` with dec. */
static void
check_list(struct doctor *d, const char *name, const char *path, const char *key,
    int (*dec)(const struct json *, int, void *, char *, size_t))
{
	char cursor[RECIO_PATH_MAX], err[KX_ERR_MAX], detail[640];
	int arr, n;

	if (kx_get(&d->k, path) < 0) {
		row(d, name, 0, d->k.err);
		return;
	}
	if ((arr = kx_page(&d->k.j, key, cursor, sizeof cursor, err, sizeof err)) < 0) {
		snprintf(detail, sizeof detail, "GET %s: %s", path, err);
		row(d, name, 0, detail);
		return;
	}
	n = json_size(&d->k.j, arr);
	for (int i = 0; i < n; i++)
		if (dec(&d->k.j, json_at(&d->k.j, arr, i), NULL, err, sizeof err) < 0) {
			snprintf(detail, sizeof detail, "GET %s: element %d: %s", path, i, err);
			row(d, name, 0, detail);
			return;
		}
	snprintf(detail, sizeof detail, "%d %s decoded", n, key);
	row(d, name, 1, detail);
}

#define DECODER(name, type, fn) \
	static int name(const struct json *j, int t, void *u, char *e, size_t n) \
	{ type x; (void)u; return fn(j, t, &x, e, n); }
DECODER(dec_market, struct kx_market, kx_market_decode)
DECODER(dec_event, struct kx_event, kx_event_decode)
DECODER(dec_order, struct kx_order, kx_order_decode)
DECODER(dec_fill, struct kx_fill, kx_fill_decode)
DECODER(dec_position, struct kx_position, kx_position_decode)
DECODER(dec_settlement, struct kx_settlement, kx_settlement_decode)

static void
check_orderbook(struct doctor *d)
{
	struct buf p = { 0 };
	char detail[640];
	int ob, sides = 0;
	const char *names[] = { "yes_dollars", "no_dollars" };

	if (!d->first[0]) {
		row(d, "orderbook", -1, "no open market to read");
		return;
	}
	buf_printf(&p, "/markets/%s/orderbook", d->first);
	if (kx_get(&d->k, p.p) < 0) {
		row(d, "orderbook", 0, d->k.err);
		goto out;
	}
	if ((ob = json_get(&d->k.j, 0, "orderbook_fp")) < 0 || json_type(&d->k.j, ob) != JSON_OBJECT) {
		snprintf(detail, sizeof detail, "GET %s: orderbook_fp: missing (renamed?)", p.p);
		row(d, "orderbook", 0, detail);
		goto out;
	}
	for (int s = 0; s < 2; s++) {
		int a = json_get(&d->k.j, ob, names[s]);

		if (a < 0 || json_type(&d->k.j, a) != JSON_ARRAY) {
			snprintf(detail, sizeof detail, "GET %s: orderbook_fp.%s: missing or not an array", p.p, names[s]);
			row(d, "orderbook", 0, detail);
			goto out;
		}
		for (int i = 0, n = json_size(&d->k.j, a); i < n; i++) {
			int lv = json_at(&d->k.j, a, i);
			char px[48], ct[48];
			int64_t v;

			if (json_size(&d->k.j, lv) != 2 || json_str(&d->k.j, json_at(&d->k.j, lv, 0), px, sizeof px) < 0 ||
			    json_str(&d->k.j, json_at(&d->k.j, lv, 1), ct, sizeof ct) < 0 ||
			    money_parse_dollars(px, strlen(px), &v) < 0 || money_parse_fp(ct, strlen(ct), &v) < 0) {
				snprintf(detail, sizeof detail, "GET %s: orderbook_fp.%s[%d]: not [price_dollars, count_fp]",
				    p.p, names[s], i);
				row(d, "orderbook", 0, detail);
				goto out;
			}
			sides++;
		}
	}
	snprintf(detail, sizeof detail, "%s: %d levels decoded", d->first, sides);
	row(d, "orderbook", 1, detail);
out:
	buf_free(&p);
}

static int
run_doctor(const struct config *c)
{
	struct doctor d;
	struct buf p = { 0 };
	char detail[640];
	bool b1, b2;

	memset(&d, 0, sizeof d);
	d.c = c;
	printf("%-28s %-5s %s\n", "CHECK", "RESULT", "DETAIL");
	snprintf(detail, sizeof detail, "%s", c->base);
	row(&d, "api base", 1, detail);
	if (kx_open(&d.k, c, NULL) < 0) {
		row(&d, "key", 0, "cannot load the key (see above)");
		return 1;
	}
	if (c->key_id)
		row(&d, "key file", 1, "private key loaded, mode owner-only");
	else
		row(&d, "key file", -1, "no KALSHI_KEY_ID/KALSHI_KEY_FILE: portfolio checks skipped");

	if (kx_get(&d.k, "/exchange/status") < 0)
		row(&d, "exchange status", 0, d.k.err);
	else if (json_get_bool(&d.k.j, 0, "exchange_active", &b1) < 0 ||
	    json_get_bool(&d.k.j, 0, "trading_active", &b2) < 0)
		row(&d, "exchange status", 0, "exchange_active/trading_active: missing or not boolean");
	else {
		snprintf(detail, sizeof detail, "exchange_active %s, trading_active %s", b1 ? "true" : "false",
		    b2 ? "true" : "false");
		row(&d, "exchange status", b1 && b2 ? 1 : 0, detail);
	}
	if (d.k.r.date_ms) {
		int64_t skew = rt_now_ms() - d.k.r.date_ms;

		/* Date has one-second resolution: within 2 s is as good as it can tell */
		snprintf(detail, sizeof detail, "local clock %+.1f s from the exchange's Date header",
		    (double)skew / 1000.0);
		row(&d, "clock skew", skew > -2000 && skew < 2000, detail);
	} else
		row(&d, "clock skew", -1, "the exchange sent no Date header");

	buf_printf(&p, "/series/%s", c->series);
	if (kx_get(&d.k, p.p) < 0)
		row(&d, "series", 0, d.k.err);
	else {
		int s = json_get(&d.k.j, 0, "series");
		char t[RECIO_TICKER_MAX], ft[32];

		if (s < 0 || json_get_str(&d.k.j, s, "ticker", t, sizeof t) < 0 ||
		    json_get_str(&d.k.j, s, "fee_type", ft, sizeof ft) < 0)
			row(&d, "series", 0, "series.ticker/series.fee_type: missing");
		else {
			snprintf(detail, sizeof detail, "%s, fee_type %s", t, ft);
			row(&d, "series", 1, detail);
		}
	}
	buf_reset(&p);
	buf_printf(&p, "/events?series_ticker=%s&status=open&limit=5", c->series);
	check_list(&d, "events", p.p, "events", dec_event);
	buf_reset(&p);
	buf_printf(&p, "/markets?series_ticker=%s&status=open&limit=20", c->series);
	check_list(&d, "markets", p.p, "markets", dec_market);
	{
		int arr;
		char cur[RECIO_PATH_MAX], err[KX_ERR_MAX];

		if (kx_get(&d.k, p.p) == 0 && (arr = kx_page(&d.k.j, "markets", cur, sizeof cur, err, sizeof err)) >= 0 &&
		    json_size(&d.k.j, arr) > 0)
			json_get_str(&d.k.j, json_at(&d.k.j, arr, 0), "ticker", d.first, sizeof d.first);
	}
	check_orderbook(&d);
	if (c->key_id) {
		if (kx_get(&d.k, "/portfolio/balance") < 0)
			row(&d, "signature + balance", 0, d.k.err);
		else {
			struct kx_balance bal;
			char err[KX_ERR_MAX], m[40];

			if (kx_balance_decode(&d.k.j, 0, &bal, err, sizeof err) < 0)
				row(&d, "signature + balance", 0, err);
			else {
				money_fmt_dollars(m, sizeof m, bal.balance_cc);
				snprintf(detail, sizeof detail, "signature accepted, balance $%s", m);
				row(&d, "signature + balance", 1, detail);
			}
		}
		check_list(&d, "positions", "/portfolio/positions?limit=100", "market_positions", dec_position);
		check_list(&d, "orders", "/portfolio/orders?limit=100", "orders", dec_order);
		check_list(&d, "fills", "/portfolio/fills?limit=100", "fills", dec_fill);
		check_list(&d, "settlements", "/portfolio/settlements?limit=100", "settlements", dec_settlement);
	}
	buf_free(&p);
	kx_close(&d.k);
	printf("%s\n", d.fails ? "doctor: some checks failed" : "doctor: all checks passed");
	return d.fails ? 1 : 0;
}

/* ---- main ---- */

static int64_t
seconds_ms(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !(v >= 0.05 && v <= 86400)) {
		char m[128];

		snprintf(m, sizeof m, "%s: \"%s\" is not a number of seconds from 0.05 to 86400", opt, s);
		usage(m);
	}
	return (int64_t)(v * 1000.0 + 0.5);
}

enum { O_DEMO = 256, O_PROD, O_ALL, O_DOCTOR, O_WSURL, O_WSPOLL };

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' }, { "url", required_argument, NULL, 'u' },
		{ "demo", no_argument, NULL, O_DEMO }, { "prod", no_argument, NULL, O_PROD },
		{ "interval", required_argument, NULL, 'i' }, { "health", required_argument, NULL, 'H' },
		{ "series", required_argument, NULL, 'S' }, { "all", no_argument, NULL, O_ALL },
		{ "doctor", no_argument, NULL, O_DOCTOR }, { "ws", no_argument, NULL, 'w' },
		{ "ws-url", required_argument, NULL, O_WSURL }, { "ws-poll", required_argument, NULL, O_WSPOLL },
		{ NULL, 0, NULL, 0 }
	};
	struct config c = { 0 };
	struct sigaction sa;
	int ch, hosts = 0;

	diag_init(argv[0]);
	c.verb = STREAM;
	c.base = cfg_env("KALSHI_API_BASE", BASE_SIM);
	c.key_id = cfg_env("KALSHI_KEY_ID", NULL);
	c.key_file = cfg_env("KALSHI_KEY_FILE", NULL);
	c.series = "KXBTCD";
	c.interval_ms = 1000;
	c.health_ms = 10000;
	c.ws_poll_ms = 10000;
	while ((ch = getopt_long(argc, argv, "+hu:i:H:S:nvw", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': fputs(usage_text, stdout); return 0;
		case 'u': c.base = optarg; hosts++; break;
		case O_DEMO: c.base = BASE_DEMO; hosts++; break;
		case O_PROD: c.base = BASE_PROD; hosts++; break;
		case 'i': c.interval_ms = seconds_ms("--interval", optarg); break;
		case 'H': c.health_ms = seconds_ms("--health", optarg); break;
		case 'S': c.series = optarg; break;
		case O_ALL: c.all = true; break;
		case O_DOCTOR: if (c.verb != STREAM) usage("--doctor and -n exclude each other"); c.verb = DOCTOR; break;
		case 'n': if (c.verb != STREAM) usage("--doctor and -n exclude each other"); c.verb = CHECK; break;
		case 'v': diag_verbose++; break;
		case 'w': c.ws = true; break;
		case O_WSURL: c.ws_url = optarg; break;
		case O_WSPOLL: c.ws_poll_ms = seconds_ms("--ws-poll", optarg); break;
		default: usage(NULL);
		}
	}
	if (hosts > 1)
		usage("-u, --demo and --prod exclude each other");
	if (strlen(c.series) >= 32 || strspn(c.series, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(c.series))
		usage("--series: expected an upper-case ticker");
	if (argc - optind == 2) {
		static char method[8];

		if (c.verb != STREAM)
			usage("METHOD PATH does not go with --doctor or -n");
		if (strlen(argv[optind]) >= sizeof method)
			usage("METHOD: expected GET, POST, PUT or DELETE");
		for (size_t i = 0; argv[optind][i]; i++)
			method[i] = (char)toupper((unsigned char)argv[optind][i]);
		if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0 &&
		    strcmp(method, "DELETE") != 0)
			usage("METHOD: expected GET, POST, PUT or DELETE");
		c.method = method;
		c.path = argv[optind + 1];
		if (c.path[0] != '/' || strlen(c.path) >= RECIO_PATH_MAX)
			usage("PATH: expected a path starting with '/', such as /portfolio/balance");
		c.verb = CALL;
	} else if (argc != optind)
		usage("expected METHOD PATH or nothing");
	else if (c.all)
		usage("--all goes with METHOD PATH");

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);

	switch (c.verb) {
	case CHECK: {
		struct kx k;

		if (kx_open(&k, &c, NULL) < 0)
			return 1;
		kx_close(&k);
		printf("configuration OK: %s, %s\n", c.base, c.key_id ? "signed" : "unsigned (no key)");
		return 0;
	}
	case DOCTOR: return run_doctor(&c);
	case CALL: return run_call(&c);
	case STREAM:
		if (!c.ws)
			return run_stream(&c);
		if (c.ws_url == NULL) {
			/* the socket beside the REST base */
			static char u[RECIO_PATH_MAX];

			if (kx_ws_url(c.base, u, sizeof u) < 0)
				usage("-w: cannot derive the socket URL from the API base; give --ws-url");
			c.ws_url = u;
		}
		return run_ws(&c);
	}
	return 1;
}
