/* signal-eval: fair value, strike table, auto entry and auto stop.  Reads
 * tick, market, event, position and order lines; writes strike, signal
 * and status lines.  All logic runs on message time.  See
 * man/signal-eval.1. */
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
#include <sys/wait.h>

#include "buf.h"
#include "diag.h"
#include "fp.h"
#include "model.h"
#include "money.h"
#include "json.h"
#include "msg.h"
#include "ndjson.h"
#include "rlimits.h"
#include "rtime.h"
#include "settings.h"

#define MARKETS_MAX 4096        /* markets kept (several events' ladders) */
#define SETS_MAX 64             /* -s KEY=VALUE overrides */

static const char usage_text[] =
"usage: signal-eval [-nv] [-c FILE] [-s KEY=VALUE]... [--no-strikes] [FILE]\n"
"\n"
"Read tick, market, event, position, order and health lines (stdin or FILE);\n"
"write a strike table line per tick, signal lines for auto entry and auto stop,\n"
"and status lines when the entry or stop state changes.\n"
"\n"
"  -c, --config FILE    settings (KEY=VALUE), reloaded on SIGHUP; a bad file keeps\n"
"                       the settings in force and says why\n"
"  -s, --set KEY=VALUE  a setting, over the file's (repeatable)\n"
"      --no-strikes     no strike lines (backtests)\n"
"  -n                   check the settings and exit\n"
"  -v                   more diagnostics on stderr\n"
"  -h, --help           this text\n"
"\n"
"Settings (defaults): auto_entry (off) min_time (120) max_time (900)\n"
"min_probability (95) min_differential (0.25) position_size (1) multiplier (1)\n"
"cooldown (10) allow_re_entry (off) spike_threshold (36) spike_calm (30)\n"
"spike_cooldown (15 min) max_quote_age (30 s) min_volume (1000) max_ask (98)\n"
"strikes (21)\n"
"auto_stop (off) stop_probability (40) min_hold (60) verify (15)\n"
"stop_on_spike (off) model (auto: fingerprint when fingerprints=DIR is set,\n"
"else lognormal) fingerprints () mom_drift (0).\n";

enum slot_state { S_NONE, S_PENDING, S_OPEN, S_CLOSING };

struct mkt {
	char ticker[RECIO_TICKER_MAX], event[RECIO_TICKER_MAX];
	bool active;                    /* its last status was "active" */
	double strike;
	int64_t close_ts, volume;
	int64_t yes_bid, yes_ask, no_bid, no_ask;
	/* a strike row's first fields as written, {"ticker":"…","strike":…
	 * (head_tk: the end of the quoted ticker), made when the row is first
	 * written and again when the strike changes (head_strike); headlen 0:
	 * not made, or too long to keep (a ticker with much to escape) */
	char head[sizeof "{\"ticker\":\"\",\"strike\":" + RECIO_TICKER_MAX + 40];
	unsigned short headlen, head_tk;
	double head_strike;
	/* one slot per side: [0] YES, [1] NO */
	struct slot {
		enum slot_state st;
		int64_t count, open_ts, state_ts, last_entry_ts, below_since;
		bool entered;
	} s[2];
};

struct tick {
	int64_t ts, mom_bp;
	double price, vol;
	bool have;
};

struct eval {
	struct settings set;
	const char *config;
	char *sets[SETS_MAX];
	int nsets;
	bool no_strikes;
	struct fp_model *fp;
	bool use_fp;
	struct mkt *m;
	size_t nm, hint;        /* hint: where mkt_get looks first */
	struct tick t;
	/* spike pause */
	bool paused;
	int64_t calm_since;
	/* kalshi-fetch's last health line (live runs): are the quotes current?
	 * Its market lines come only on a change, so a quiet ladder and a dead
	 * feed look alike but for this */
	struct {
		bool seen;
		int64_t stale_ms;       /* its ts - its last good read (0: "ok") */
		int64_t at;             /* rt_mono_ms when it came */
	} q;
	/* emitted states */
	char entry_state[16], stop_state[16];
	struct buf out, tmp;
	unsigned long signals;
	/* --backtest: paper fills */
	bool backtest;
	struct trade *tr;
	size_t ntr, ctr;
	int64_t px_sec[120];            /* last price of each of the last 120 seconds */
	double px[120];
};

struct trade {
	char ticker[RECIO_TICKER_MAX], event[RECIO_TICKER_MAX];
	int side;
	double strike;
	int64_t count, close_ts;
	int64_t entry_ts, entry_price, entry_fee_cc;
	int64_t exit_ts, exit_price, exit_fee_cc;       /* exit_price: cents per contract (100/0 at settlement) */
	const char *exit;               /* NULL while open: "stop", "settle" */
	int64_t pnl_cc;
};

static volatile sig_atomic_t stop, reload;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

static void __attribute__((noreturn))
usage(const char *why)
{
	die_usage(usage_text, why);
}

/* ---- settings ---- */

/* The defaults, then the file, then the -s settings: at start and at
 * each reload alike (a setting taken out of the file is its default
 * again, as health-serve shows it).  All or nothing: on an error the
 * settings in force stay. */
static int
apply_settings(struct eval *e)
{
	struct settings s;
	char why[256];

	settings_default(&s);
	if (e->config && settings_load(&s, e->config) < 0)
		return -1;
	for (int i = 0; i < e->nsets; i++) {
		char *eq = strchr(e->sets[i], '=');

		*eq = '\0';
		if (settings_set(&s, e->sets[i], eq + 1, why, sizeof why) < 0) {
			*eq = '=';
			warnx_("-s %s", why);
			return -1;
		}
		*eq = '=';
	}
	if (settings_check(&s, why, sizeof why) < 0) {
		warnx_("settings: %s", why);
		return -1;
	}
	/* the model: fingerprint tables when configured */
	if (s.fingerprints[0] && strcmp(s.model, "lognormal") != 0) {
		struct fp_model *fp = xmalloc(sizeof *fp);

		if (fp_load_dir(fp, s.fingerprints) < 0) {
			free(fp);
			return -1;
		}
		free(e->fp);
		e->fp = fp;
		e->use_fp = true;
	} else {
		free(e->fp);
		e->fp = NULL;
		e->use_fp = false;
	}
	e->set = s;
	return 0;
}

/* ---- state from the input ---- */

/* ---- reading a line ---- */

/* The keys signal-eval reads, found in one pass over a line's members
 * (json_get would scan the members again for each key). */
enum key {
	K_TYPE, K_TS, K_PRICE, K_MOM_BP, K_VOL5M, K_VOL60M, K_VOL30S, K_TICKER, K_EVENT_TICKER, K_STATUS,
	K_STRIKE, K_CLOSE_TS, K_YES_BID, K_YES_ASK, K_NO_BID, K_NO_ASK, K_VOLUME, K_POSITION, K_SIDE,
	K_ACTION, K_FILLED, K_SRC, K_LAST_OK_TS, K_N
};

#define KEY_IS(lit) (n == sizeof(lit) - 1 && memcmp(k, (lit), sizeof(lit) - 1) == 0)

/* Which of the keys k[0..n) (raw, as in the line) is, or K_N. */
static enum key
key_of(const char *k, size_t n)
{
	switch (n) {
	case 2: return KEY_IS("ts") ? K_TS : K_N;
	case 3: return KEY_IS("src") ? K_SRC : K_N;
	case 4: return KEY_IS("type") ? K_TYPE : KEY_IS("side") ? K_SIDE : K_N;
	case 5: return KEY_IS("price") ? K_PRICE : KEY_IS("vol5m") ? K_VOL5M : K_N;
	case 6:
		switch (k[0]) {
		case 'm': return KEY_IS("mom_bp") ? K_MOM_BP : K_N;
		case 'v': return KEY_IS("volume") ? K_VOLUME : KEY_IS("vol60m") ? K_VOL60M :
			    KEY_IS("vol30s") ? K_VOL30S : K_N;
		case 't': return KEY_IS("ticker") ? K_TICKER : K_N;
		case 's': return KEY_IS("status") ? K_STATUS : KEY_IS("strike") ? K_STRIKE : K_N;
		case 'n': return KEY_IS("no_bid") ? K_NO_BID : KEY_IS("no_ask") ? K_NO_ASK : K_N;
		case 'a': return KEY_IS("action") ? K_ACTION : K_N;
		case 'f': return KEY_IS("filled") ? K_FILLED : K_N;
		default: return K_N;
		}
	case 7: return KEY_IS("yes_bid") ? K_YES_BID : KEY_IS("yes_ask") ? K_YES_ASK : K_N;
	case 8: return KEY_IS("close_ts") ? K_CLOSE_TS : KEY_IS("position") ? K_POSITION : K_N;
	case 10: return KEY_IS("last_ok_ts") ? K_LAST_OK_TS : K_N;
	case 12: return KEY_IS("event_ticker") ? K_EVENT_TICKER : K_N;
	default: return K_N;
	}
}

#undef KEY_IS

/* v[K] = the value token of key K in the root object (the first one, as
 * json_get finds it), or -1. */
static void
scan_keys(const struct json *j, int v[K_N])
{
	int n = json_size(j, 0), t = 1;

	for (int i = 0; i < K_N; i++)
		v[i] = -1;
	for (int i = 0; i < n; i++) {
		const struct json_tok *kt = &j->tok[t];
		enum key id = key_of(j->s + kt->start, (size_t)(kt->end - kt->start));

		if (id != K_N && v[id] < 0)
			v[id] = t + 1;
		t = j->tok[t + 1].next;
	}
}

/* A slot with a position: open, or being closed. */
static bool
holds(const struct slot *sl)
{
	return sl->st == S_OPEN || sl->st == S_CLOSING;
}

/* Is m's ticker t[0..n) (n < RECIO_TICKER_MAX)? */
static bool
ticker_is(const struct mkt *m, const char *t, size_t n)
{
	return memcmp(m->ticker, t, n) == 0 && m->ticker[n] == '\0';
}

/* The market of ticker t[0..n) (n < RECIO_TICKER_MAX, no NUL in it), made
 * when create is set and it is not there; NULL when not there or full. */
static struct mkt *
mkt_getn(struct eval *e, const char *ticker, size_t n, bool create)
{
	/* a ladder comes in the same order every time: the one after the last
	 * found is the first guess */
	if (e->hint < e->nm && ticker_is(&e->m[e->hint], ticker, n))
		return &e->m[e->hint++];
	for (size_t i = 0; i < e->nm; i++)
		if (ticker_is(&e->m[i], ticker, n)) {
			e->hint = i + 1;
			return &e->m[i];
		}
	if (!create)
		return NULL;
	if (e->nm == MARKETS_MAX) {
		/* forget the market that closed first and holds nothing (no
		 * position, no order on its way) */
		size_t old = SIZE_MAX;

		for (size_t i = 0; i < e->nm; i++)
			if (e->m[i].s[0].st == S_NONE && e->m[i].s[1].st == S_NONE &&
			    (old == SIZE_MAX || e->m[i].close_ts < e->m[old].close_ts))
				old = i;
		if (old == SIZE_MAX) {
			warnx_("%.*s: not followed: all %d markets kept hold a position or an order", (int)n, ticker,
			    MARKETS_MAX);
			return NULL;
		}
		e->m[old] = e->m[--e->nm];
		e->hint = 0;
	}
	memset(&e->m[e->nm], 0, sizeof e->m[0]);
	memcpy(e->m[e->nm].ticker, ticker, n);
	return &e->m[e->nm++];
}

static struct mkt *
mkt_get(struct eval *e, const char *ticker, bool create)
{
	size_t n = strlen(ticker);

	return n < RECIO_TICKER_MAX ? mkt_getn(e, ticker, n, create) : NULL;
}

/* Is string token t "active"?  (A market's status.) */
static bool
is_active(const struct json *j, int t)
{
	char st[sizeof "active"];

	/* as written (the usual), else decoded (an escape in it) */
	return json_streq(j, t, "active") ||
	    (t >= 0 && j->tok[t].esc && json_str(j, t, st, sizeof st) == 0 && strcmp(st, "active") == 0);
}

static int
on_market(struct eval *e, const struct json *j, const int *k)
{
	char t[RECIO_TICKER_MAX];
	const char *tk = t;
	size_t n;
	struct mkt *m;
	int64_t v;
	double d;

	/* the ticker compared where it lies in the line (no escape in it, the
	 * usual: the parser took no raw control byte), else decoded */
	if (k[K_TICKER] >= 0 && json_type(j, k[K_TICKER]) == JSON_STRING && !j->tok[k[K_TICKER]].esc) {
		tk = json_raw(j, k[K_TICKER], &n);
		if (n >= sizeof t)
			return -1;
	} else if (json_str(j, k[K_TICKER], t, sizeof t) < 0)
		return -1;
	else
		n = strlen(t);
	if ((m = mkt_getn(e, tk, n, true)) == NULL)
		return 0;
	json_str(j, k[K_EVENT_TICKER], m->event, sizeof m->event);
	m->active = is_active(j, k[K_STATUS]);
	if (json_f64(j, k[K_STRIKE], &d) == 0)
		m->strike = d;
	if (json_i64(j, k[K_CLOSE_TS], &v) == 0)
		m->close_ts = v;
	json_i64(j, k[K_YES_BID], &m->yes_bid);
	json_i64(j, k[K_YES_ASK], &m->yes_ask);
	json_i64(j, k[K_NO_BID], &m->no_bid);
	json_i64(j, k[K_NO_ASK], &m->no_ask);
	json_i64(j, k[K_VOLUME], &m->volume);
	return 0;
}

static void
on_event(struct eval *e, const struct json *j, const int *k)
{
	char t[RECIO_TICKER_MAX];
	struct mkt *m;

	if (json_str(j, k[K_TICKER], t, sizeof t) == 0 && (m = mkt_get(e, t, false)) != NULL)
		m->active = is_active(j, k[K_STATUS]);
}

/* position: signed contracts, + YES, - NO (from acct-sync or paper fills) */
static void
on_position(struct eval *e, const struct json *j, const int *k, int64_t ts)
{
	char t[RECIO_TICKER_MAX];
	struct mkt *m;
	int64_t pos;

	if (json_str(j, k[K_TICKER], t, sizeof t) < 0 || json_i64(j, k[K_POSITION], &pos) < 0 ||
	    (m = mkt_get(e, t, true)) == NULL)
		return;
	for (int side = 0; side < 2; side++) {
		struct slot *s = &m->s[side];
		int64_t held = side == 0 ? (pos > 0 ? pos : 0) : (pos < 0 ? -pos : 0);

		/* older than the side's last order line (acct-sync polls, and
		 * its line can come after a newer fill's): what it says is
		 * already known or already past */
		if (ts < s->state_ts)
			continue;
		if (held > 0) {
			if (s->st != S_OPEN && s->st != S_CLOSING) {
				s->open_ts = ts;
				s->entered = true;
				s->below_since = 0;
			}
			if (s->st != S_CLOSING)
				s->st = S_OPEN;
			s->count = held;
		} else if (s->st == S_OPEN || s->st == S_CLOSING) {
			s->st = S_NONE;
			s->count = 0;
			s->below_since = 0;
		}
		s->state_ts = ts;
	}
}

/* order: order-send's state changes for our signals */
static void
on_order(struct eval *e, const struct json *j, const int *k, int64_t ts)
{
	char t[RECIO_TICKER_MAX], side[8], action[8], st[16];
	struct mkt *m;
	struct slot *s;
	int64_t filled = 0;

	if (json_str(j, k[K_TICKER], t, sizeof t) < 0 || json_str(j, k[K_SIDE], side, sizeof side) < 0 ||
	    json_str(j, k[K_ACTION], action, sizeof action) < 0 || json_str(j, k[K_STATUS], st, sizeof st) < 0)
		return;
	if ((m = mkt_get(e, t, true)) == NULL)
		return;
	s = &m->s[strcmp(side, "no") == 0];
	json_i64(j, k[K_FILLED], &filled);
	if (strcmp(action, "buy") == 0) {
		if (!strcmp(st, "filled") || !strcmp(st, "partial")) {
			if (s->st != S_OPEN) {
				s->open_ts = ts;
				s->below_since = 0;
			}
			s->st = S_OPEN;
			s->entered = true;
			if (filled > 0)
				s->count = filled;
		} else if (!strcmp(st, "rejected") || !strcmp(st, "refused") || !strcmp(st, "canceled")) {
			if (s->st == S_PENDING && filled == 0)
				s->st = S_NONE;
		} else if (s->st == S_NONE)
			s->st = S_PENDING;      /* intent, sent, accepted, error (unknown) */
	} else if (!strcmp(st, "filled")) {
		s->st = S_NONE;
		s->count = 0;
		s->below_since = 0;
	} else if (!strcmp(st, "partial") || !strcmp(st, "rejected") || !strcmp(st, "refused") ||
	    !strcmp(st, "canceled")) {
		/* a close that ended short (an immediate-or-cancel order ends
		 * "partial" when the book held less): the rest is held again,
		 * and its stop watched again */
		if (filled > 0)
			s->count -= filled;
		if (s->count <= 0) {
			s->st = S_NONE;
			s->count = 0;
			s->below_since = 0;
		} else if (s->st == S_CLOSING)
			s->st = S_OPEN;
	}
	if (ts > s->state_ts)
		s->state_ts = ts;
}

/* ---- the probability model ---- */

#define SIGMA_DEFAULT (0.5 / 5615.69229926)     /* 50 % a year, per second: 0.5 / sqrt(365 x 86400) */

/* P(S_T > K) in percent, lognormal: realised per-second volatility from
 * the ticks, optional drift from momentum. */
static double
lognormal_yes(const struct eval *e, double price, double strike, double ttc_s)
{
	double sigma = e->t.vol > 0 ? e->t.vol : SIGMA_DEFAULT;
	double mu = e->set.mom_drift * ((double)e->t.mom_bp / 10000.0) / 60.0;

	return model_lognormal_yes(price, strike, ttc_s, sigma, mu);
}

/* Probability (percent) that YES wins. */
static double
prob_yes(const struct eval *e, double price, double strike, double ttc_s)
{
	if (e->use_fp) {
		double stay = fp_prob_stay(e->fp, (int)e->t.mom_bp, ttc_s, price, strike);

		return strike < price ? stay : 100.0 - stay;
	}
	return lognormal_yes(e, price, strike, ttc_s);
}

static const char *
model_name(const struct eval *e)
{
	return e->use_fp ? "fingerprint" : "lognormal";
}

/* ---- paper fills (--backtest) ---- */

/* Fill a signal at once at its limit (the recorded ask for entries, the
 * bid for exits), paying Kalshi's taker fee, as live order-send's paper
 * mode does. */
static void
paper_fill(struct eval *e, const char *intent, struct mkt *m, int side, int64_t count, int64_t price)
{
	struct slot *sl = &m->s[side];
	int64_t fee = kx_fee_round_cent(kx_fee_raw_cc(count * 100, price, /* P(1-P): either side */
	    KX_TAKER_RATE_BP, 100));

	if (strcmp(intent, "open") == 0) {
		struct trade *t;

		if (e->ntr == e->ctr) {
			e->ctr = e->ctr ? e->ctr * 2 : 64;
			e->tr = xrealloc(e->tr, e->ctr * sizeof *e->tr);
		}
		t = &e->tr[e->ntr++];
		memset(t, 0, sizeof *t);
		snprintf(t->ticker, sizeof t->ticker, "%s", m->ticker);
		snprintf(t->event, sizeof t->event, "%s", m->event);
		t->side = side;
		t->strike = m->strike;
		t->count = count;
		t->close_ts = m->close_ts;
		t->entry_ts = e->t.ts;
		t->entry_price = price;
		t->entry_fee_cc = fee;
		sl->st = S_OPEN;
		sl->count = count;
		sl->open_ts = e->t.ts;
		sl->entered = true;
		return;
	}
	for (size_t i = e->ntr; i-- > 0; ) {
		struct trade *t = &e->tr[i];

		if (t->exit == NULL && t->side == side && strcmp(t->ticker, m->ticker) == 0) {
			t->exit = "stop";
			t->exit_ts = e->t.ts;
			t->exit_price = price;
			t->exit_fee_cc = fee;
			t->pnl_cc = (price - t->entry_price) * t->count * CC_PER_CENT - t->entry_fee_cc - fee;
		}
	}
	sl->st = S_NONE;
	sl->count = 0;
}

/* Settle open paper trades whose market has closed, on the average of
 * the recorded one-second prices of the minute before the close. */
static void
paper_settle(struct eval *e)
{
	for (size_t i = 0; i < e->ntr; i++) {
		struct trade *t = &e->tr[i];
		double sum = 0;
		int n = 0;
		bool yes;

		if (t->exit || t->close_ts > e->t.ts)
			continue;
		for (int k = 0; k < 120; k++)
			if (e->px_sec[k] >= t->close_ts / 1000 - 60 && e->px_sec[k] < t->close_ts / 1000)
				sum += e->px[k], n++;
		yes = (n ? sum / n : e->t.price) > t->strike;
		t->exit = "settle";
		t->exit_ts = t->close_ts;
		t->exit_price = (t->side == 0) == yes ? 100 : 0;
		t->pnl_cc = (t->exit_price - t->entry_price) * t->count * CC_PER_CENT - t->entry_fee_cc;
		{
			struct mkt *m = mkt_get(e, t->ticker, false);

			if (m) {
				m->s[t->side].st = S_NONE;
				m->s[t->side].count = 0;
			}
		}
	}
}

/* ---- signals ---- */

/* FNV-1a 64: the same inputs always give the same id. */
static uint64_t
fnv(const char *s, uint64_t h)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void
emit_signal(struct eval *e, const char *intent, struct mkt *m, int side, int64_t count, int64_t price,
    double prob, double diff, int64_t ttc_s, const char *reason)
{
	char id[40], ts[24];
	uint64_t h = 0xcbf29ce484222325ULL;

	snprintf(ts, sizeof ts, "%lld", (long long)e->t.ts);
	h = fnv(intent, h);
	h = fnv("|", h);
	h = fnv(m->ticker, h);
	h = fnv(side ? "|no|" : "|yes|", h);
	h = fnv(ts, h);
	snprintf(id, sizeof id, "s-%016llx", (unsigned long long)h);
	e->signals++;
	if (e->backtest) {
		paper_fill(e, intent, m, side, count, price);
		return;
	}
	msg_begin(&e->out, "signal", e->t.ts);
	jw_kstr(&e->out, "id", id);
	jw_kstr(&e->out, "intent", intent);
	jw_kstr(&e->out, "ticker", m->ticker);
	jw_kstr(&e->out, "event_ticker", m->event);
	jw_kstr(&e->out, "side", side ? "no" : "yes");
	jw_kstr(&e->out, "action", strcmp(intent, "open") == 0 ? "buy" : "sell");
	if (strcmp(intent, "close") == 0)
		jw_kbool(&e->out, "reduce_only", true);
	jw_ki64(&e->out, "count", count);
	jw_ki64(&e->out, "price", price);
	jw_kf64(&e->out, "prob", prob, 2);
	jw_kf64(&e->out, "diff", diff, 2);
	jw_ki64(&e->out, "mom_bp", e->t.mom_bp);
	jw_ki64(&e->out, "ttc", ttc_s);
	jw_kstr(&e->out, "model", model_name(e));
	jw_kstr(&e->out, "reason", reason);
	msg_emit(&e->out);
}

static void
emit_status(struct eval *e, const char *what, char *last, const char *state, const char *reason,
    int64_t resume_ts)
{
	if (strcmp(last, state) == 0)
		return;
	snprintf(last, 16, "%s", state);
	if (e->backtest)
		return;
	msg_begin(&e->out, "status", e->t.ts);
	jw_kstr(&e->out, "what", what);
	jw_kstr(&e->out, "state", state);
	jw_kstr(&e->out, "reason", reason);
	if (resume_ts > 0)
		jw_ki64(&e->out, "resume_ts", resume_ts);
	msg_emit(&e->out);
}

/* ---- the spike pause ---- */

/* |momentum| >= spike_threshold pauses entries; they resume once momentum
 * has stayed within +-spike_calm for spike_cooldown minutes.  Returns the
 * milliseconds left (0: not paused). */
static int64_t
spike_update(struct eval *e)
{
	int64_t a = e->t.mom_bp < 0 ? -e->t.mom_bp : e->t.mom_bp, need = e->set.spike_cooldown_min * 60000;

	if ((double)a >= e->set.spike_threshold_bp) {
		e->paused = true;
		e->calm_since = 0;
	} else if (e->paused) {
		if ((double)a <= e->set.spike_calm_bp) {
			if (e->calm_since == 0)
				e->calm_since = e->t.ts;
			if (e->t.ts - e->calm_since >= need)
				e->paused = false;
		} else
			e->calm_since = 0;
	}
	if (!e->paused)
		return 0;
	return e->calm_since ? need - (e->t.ts - e->calm_since) : need;
}

/* ---- one tick ---- */

/* Append a string literal (bytes already JSON) without strlen. */
#define PUT_LIT(b, lit) buf_add((b), (lit), sizeof(lit) - 1)

struct row {
	struct mkt *m;
	double prob_yes, prob, diff, yes_diff, no_diff;
	int side;                       /* active side: 0 YES (strike below price), 1 NO */
	int64_t ask;
	bool watch;
	size_t order;                   /* the watchlist's k-th: rows[k].order (the row's place) */
	bool why_tick;                  /* why is the tick's (why_not_tick), kept there */
	char why[64];
};

/* A strike of the event and its distance from the price: what the rows
 * are chosen and ordered by, sorted small (a row is 130 bytes). */
struct near {
	double dist;
	struct mkt *m;
};

static int
by_dist(const void *a, const void *b)
{
	const struct near *x = a, *y = b;

	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return strcmp(x->m->ticker, y->m->ticker);
}

static int
by_strike(const void *a, const void *b)
{
	const struct near *x = a, *y = b;

	return x->m->strike < y->m->strike ? -1 : x->m->strike > y->m->strike;
}

/* The `want` strikes of a[0..n) nearest the price, in strike order, into
 * a[0..return): by_dist decides which, as sorting by it and keeping the
 * first would.  Strikes come in order: sorted by strike (insertion sort,
 * a comparison each when they are already; qsort past 64), the strikes
 * below the price and those above are two runs already sorted by
 * by_dist, and the nearest are a window around the price grown one
 * strike at a time from the nearer side.  Where a run is not strictly
 * sorted (equal strikes or distances, so the order of ties would count),
 * the two sorts. */
static size_t
nearest(struct near *a, size_t n, size_t want, double price)
{
	size_t lo, hi;

	if (n > 64)
		goto sorts;
	for (size_t i = 1; i < n; i++) {
		struct near x = a[i];
		size_t k = i;

		for (; k > 0 && by_strike(&a[k - 1], &x) > 0; k--)
			a[k] = a[k - 1];
		a[k] = x;
	}
	for (hi = 0; hi < n && a[hi].m->strike < price; hi++)
		;
	for (size_t i = 1; i < n; i++)
		if (!(a[i - 1].m->strike < a[i].m->strike) || (i < hi ? !(a[i - 1].dist > a[i].dist) :
		    i > hi && !(a[i - 1].dist < a[i].dist)))
			goto sorts;
	lo = hi;
	while (hi - lo < want && (lo > 0 || hi < n)) {
		if (lo > 0 && (hi == n || by_dist(&a[lo - 1], &a[hi]) < 0))
			lo--;
		else
			hi++;
	}
	memmove(a, a + lo, (hi - lo) * sizeof *a);
	return hi - lo;
sorts:
	qsort(a, n, sizeof *a, by_dist);
	if (n > want)
		n = want;
	qsort(a, n, sizeof *a, by_strike);
	return n;
}

/* kalshi-fetch's health: how old its quotes were when it wrote */
static void
on_health(struct eval *e, const struct json *j, const int *k, int64_t ts)
{
	char src[16], st[16];
	int64_t ok_ts;

	if (json_str(j, k[K_SRC], src, sizeof src) < 0 || strcmp(src, "kalshi-fetch") != 0 ||
	    json_str(j, k[K_STATUS], st, sizeof st) < 0)
		return;
	e->q.seen = true;
	e->q.at = rt_mono_ms();
	if (strcmp(st, "ok") == 0)
		e->q.stale_ms = 0;
	else if (json_i64(j, k[K_LAST_OK_TS], &ok_ts) == 0 && ok_ts > 0 && ok_ts <= ts)
		e->q.stale_ms = ts - ok_ts;
	else
		e->q.stale_ms = INT64_MAX / 2;  /* never read the ladder whole */
}

/* How old the quotes are when past max_quote_age, else 0: kalshi-fetch's
 * last report's age of them, plus the time since it came (a feed that
 * stopped reporting ages too).  Live runs only, once it has reported. */
static int64_t
quotes_stale(const struct eval *e)
{
	int64_t age;

	if (e->backtest || !e->q.seen || e->set.max_quote_age_s == 0)
		return 0;
	age = e->q.stale_ms + (rt_mono_ms() - e->q.at);
	return age > e->set.max_quote_age_s * 1000 ? age : 0;
}

/* The first of the rules that hold for every row of this tick and keep
 * it from being entered, into why (64 bytes), or "" when none does. */
static void
why_not_tick(const struct eval *e, char *why, int64_t ttc_s, int64_t pause_left, int64_t stale)
{
	const struct settings *s = &e->set;
	size_t n = 64;

	why[0] = '\0';
	if (!s->auto_entry)
		snprintf(why, n, "auto entry off");
	else if (pause_left > 0) {
		long long secs = (pause_left + 999) / 1000;

		snprintf(why, n, "spike pause %lldm%02llds left", secs / 60, secs % 60);
	} else if (stale > 0)
		snprintf(why, n, "quotes %llds old", (long long)(stale / 1000));
	else if (ttc_s < s->min_time_s || ttc_s > s->max_time_s)
		snprintf(why, n, "ttc %lld s outside %lld-%lld", (long long)ttc_s, (long long)s->min_time_s,
		    (long long)s->max_time_s);
}

/* The first rule that keeps this row's active side from being entered
 * now into r->why, or "" when it would be entered.  tick_why: what
 * why_not_tick found for every row; when it is not "", r->why_tick is
 * set and r->why left "" (the rows share tick_why). */
static void
why_not(const struct eval *e, struct row *r, const char *tick_why, const char *entry_state)
{
	const struct settings *s = &e->set;
	const struct slot *sl = &r->m->s[r->side], *other = &r->m->s[!r->side];
	size_t n = sizeof r->why;

	r->why[0] = '\0';
	if ((r->why_tick = tick_why[0] != '\0'))
		return;
	if (r->m->volume < s->min_volume)
		snprintf(r->why, n, "volume %lld < %lld", (long long)r->m->volume, (long long)s->min_volume);
	else if (r->ask <= 0 || r->ask >= 100)
		snprintf(r->why, n, "no ask");
	else if (r->ask > s->max_ask)
		snprintf(r->why, n, "ask %lld > %lld", (long long)r->ask, (long long)s->max_ask);
	else if (r->prob < s->min_probability)
		snprintf(r->why, n, "prob %.1f < %g", floor(r->prob * 10) / 10, s->min_probability);
	else if (r->diff < s->min_differential)
		snprintf(r->why, n, "diff %.2f < %g", r->diff, s->min_differential);
	else if (sl->st == S_OPEN || sl->st == S_CLOSING)
		snprintf(r->why, n, "already open");
	else if (sl->st == S_PENDING)
		snprintf(r->why, n, "order pending");
	/* the other side held or on its way: Kalshi nets YES against NO, so
	 * buying this side would be an exit of that one nobody asked for */
	else if (holds(other) || other->st == S_PENDING)
		snprintf(r->why, n, "%s held", r->side ? "yes" : "no");
	else if ((sl->entered || other->entered) && !s->allow_re_entry)
		snprintf(r->why, n, "re-entry off");
	else if (sl->last_entry_ts && e->t.ts - sl->last_entry_ts < s->cooldown_s * 1000)
		snprintf(r->why, n, "cooldown %lld s", (long long)((s->cooldown_s * 1000 - (e->t.ts - sl->last_entry_ts) +
		    999) / 1000));
	else if (strcmp(entry_state, "ACTIVE") != 0)
		snprintf(r->why, n, "entry %s", entry_state);
}

/* Auto stop for one held side.  Returns true when a close was sent. */
static bool
check_stop(struct eval *e, struct mkt *m, int side, double prob_yes, int64_t ttc_s)
{
	const struct settings *s = &e->set;
	struct slot *sl = &m->s[side];
	double held = side == 0 ? prob_yes : 100.0 - prob_yes;
	int64_t bid = side == 0 ? m->yes_bid : m->no_bid;
	const char *reason = NULL;

	if (sl->st != S_OPEN || sl->count <= 0)
		return false;
	if (s->stop_on_spike && (double)(side == 0 ? -e->t.mom_bp : e->t.mom_bp) >= s->spike_threshold_bp)
		reason = side == 0 ? "spike stop: momentum down" : "spike stop: momentum up";
	else if (s->auto_stop && held < s->stop_probability && e->t.ts - sl->open_ts >= s->min_hold_s * 1000) {
		if (s->verify_s > 0) {
			if (sl->below_since == 0) {
				sl->below_since = e->t.ts;
				return false;
			}
			if (e->t.ts - sl->below_since < s->verify_s * 1000)
				return false;
		}
		reason = "stop: probability below threshold";
	} else
		sl->below_since = 0;
	if (reason == NULL)
		return false;
	if (bid < 1) {
		/* no bid: nobody to sell to (an order at 1c would sit unfilled
		 * live, and a backtest must not fill it): held, and looked at
		 * again at the next tick */
		return false;
	}
	/* a limit at the held side's bid, never an unbounded market order */
	emit_signal(e, "close", m, side, sl->count, bid, held, held - (double)bid, ttc_s, reason);
	sl->st = S_CLOSING;
	sl->below_since = 0;
	return true;
}

#define TICKER_AT (sizeof "{\"ticker\":" - 1)

/* A strike row's first fields, {"ticker":"…","strike":…, into b: from
 * m->head, made again when the strike changed (the ticker never does). */
static void
put_head(struct eval *e, struct buf *b, struct mkt *m)
{
	struct buf *t = &e->tmp;
	size_t tk;

	if (m->headlen > 0 && m->head_strike == m->strike) {
		buf_add(b, m->head, m->headlen);
		return;
	}
	buf_reset(t);
	PUT_LIT(t, "{\"ticker\":");
	jw_str(t, m->ticker);
	tk = t->len;
	PUT_LIT(t, ",\"strike\":");
	jw_f64(t, m->strike, 2);
	buf_add(b, t->p, t->len);
	m->headlen = 0;
	if (t->len < sizeof m->head) {
		memcpy(m->head, t->p, t->len);
		m->headlen = (unsigned short)t->len;
		m->head_tk = (unsigned short)tk;
		m->head_strike = m->strike;
	}
}

static void
on_tick(struct eval *e)
{
	const struct settings *s = &e->set;
	struct row *rows;
	struct near *near;
	size_t nrows = 0, nwatch = 0;
	int64_t close_ts = 0, ttc_s = 0, pause_left = spike_update(e), stale = quotes_stale(e);
	const char *entry_state;
	char reason[64] = "", tick_why[sizeof rows->why];
	const char *event = NULL;

	/* forget markets an hour past their close that hold no position: the
	 * working set stays one or two ladders however long the run.  An
	 * entry still pending then is moot (the market takes no order; a fill
	 * it had comes back as a position, which makes the market again); kept,
	 * entries whose outcome never came (no order-send on the other end, or
	 * its lines lost) would pile up and every tick would walk them.  The
	 * others keep their order, so that mkt_get's guess (the market after
	 * the last one found) still follows the ladder. */
	{
		size_t kept = 0;

		for (size_t i = 0; i < e->nm; i++) {
			const struct mkt *m = &e->m[i];

			if (m->close_ts && m->close_ts + 3600000 < e->t.ts && !holds(&m->s[0]) && !holds(&m->s[1]))
				continue;
			if (kept != i)
				e->m[kept] = *m;
			kept++;
		}
		if (kept != e->nm)
			e->hint = 0;
		e->nm = kept;
	}

	/* the current event: the active markets closing next after this tick */
	for (size_t i = 0; i < e->nm; i++) {
		struct mkt *m = &e->m[i];

		if (m->active && m->close_ts > e->t.ts && (close_ts == 0 || m->close_ts < close_ts)) {
			close_ts = m->close_ts;
			event = m->event;
		}
	}
	ttc_s = close_ts ? (close_ts - e->t.ts) / 1000 : 0;

	/* entry state */
	if (!s->auto_entry)
		entry_state = "DISABLED", snprintf(reason, sizeof reason, "auto entry off");
	else if (pause_left > 0)
		entry_state = "PAUSED", snprintf(reason, sizeof reason, "momentum spike");
	else if (stale > 0)
		entry_state = "PAUSED", snprintf(reason, sizeof reason, "quotes %llds old (kalshi-fetch)",
		    (long long)(stale / 1000));
	else if (event == NULL || ttc_s < s->min_time_s || ttc_s > s->max_time_s)
		entry_state = "INACTIVE", snprintf(reason, sizeof reason, event ? "outside the time window" : "no open event");
	else
		entry_state = "ACTIVE", snprintf(reason, sizeof reason, "trading");
	emit_status(e, "entry", e->entry_state, entry_state, reason, pause_left > 0 ? e->t.ts + pause_left : 0);
	emit_status(e, "stop", e->stop_state, s->auto_stop ? "ACTIVE" : "DISABLED",
	    s->auto_stop ? "stop loss armed" : "auto stop off", 0);

	/* held positions first: stops do not wait for the table */
	for (size_t i = 0; i < e->nm; i++) {
		struct mkt *m = &e->m[i];
		double p;
		int64_t ttc;

		if ((m->s[0].st != S_OPEN && m->s[1].st != S_OPEN) || !m->active || m->strike <= 0)
			continue;
		/* past its close the market takes no order (it settles), whatever
		 * its last status line said */
		if (m->close_ts && m->close_ts <= e->t.ts)
			continue;
		ttc = (m->close_ts - e->t.ts) / 1000;
		p = prob_yes(e, e->t.price, m->strike, (double)ttc);
		check_stop(e, m, 0, p, ttc);
		check_stop(e, m, 1, p, ttc);
	}
	if (event == NULL)
		return;

	/* the strikes of the current event nearest the price */
	near = xcalloc(e->nm, sizeof *near);
	for (size_t i = 0; i < e->nm; i++)
		if (e->m[i].active && e->m[i].strike > 0 && (e->m[i].event == event || strcmp(e->m[i].event, event) == 0)) {
			near[nrows].m = &e->m[i];
			near[nrows].dist = fabs(e->m[i].strike - e->t.price);
			nrows++;
		}
	nrows = nearest(near, nrows, (size_t)s->strikes, e->t.price);
	rows = xcalloc(nrows ? nrows : 1, sizeof *rows);
	for (size_t i = 0; i < nrows; i++)
		rows[i].m = near[i].m;
	free(near);

	why_not_tick(e, tick_why, ttc_s, pause_left, stale);
	for (size_t i = 0; i < nrows; i++) {
		struct row *r = &rows[i];
		struct mkt *m = r->m;

		r->prob_yes = prob_yes(e, e->t.price, m->strike, (double)ttc_s);
		r->side = m->strike < e->t.price ? 0 : 1;
		r->prob = r->side == 0 ? r->prob_yes : 100.0 - r->prob_yes;
		r->yes_diff = r->prob_yes - (double)m->yes_ask;
		r->no_diff = (100.0 - r->prob_yes) - (double)m->no_ask;
		r->ask = r->side == 0 ? m->yes_ask : m->no_ask;
		r->diff = r->side == 0 ? r->yes_diff : r->no_diff;
		r->watch = m->volume >= s->min_volume && r->ask > 0 && r->ask <= s->max_ask &&
		    r->prob > s->min_probability - 5 && r->diff >= s->min_differential - 3;
		nwatch += r->watch;
		why_not(e, r, tick_why, entry_state);
		if (!r->why_tick && r->why[0] == '\0') {
			struct slot *sl = &m->s[r->side];

			emit_signal(e, "open", m, r->side, s->position_size * s->multiplier, r->ask, r->prob, r->diff,
			    ttc_s, "entry");
			if (!e->backtest)       /* a paper fill has opened it already */
				sl->st = S_PENDING;
			sl->state_ts = e->t.ts;
			sl->last_entry_ts = e->t.ts;    /* "entered" waits for a fill */
		}
	}

	if (!e->no_strikes) {
		struct buf *b = &e->out;

		msg_begin(b, "strike", e->t.ts);
		jw_kstr(b, "event_ticker", event);
		jw_kf64(b, "price", e->t.price, 2);
		jw_ki64(b, "close_ts", close_ts);
		jw_ki64(b, "ttc", ttc_s);
		jw_ki64(b, "mom_bp", e->t.mom_bp);
		jw_kstr(b, "model", model_name(e));
		jw_kstr(b, "entry", entry_state);
		jw_key(b, "rows");
		jw_arr(b);
		/* the rows: keys written as literals (what jw_key would write),
		 * values by the jw_* writers; the tick's why_not escaped once,
		 * at why_at (why_len bytes), and copied */
		size_t why_at = 0, why_len = 0;

		for (size_t i = 0; i < nrows; i++) {
			const struct row *r = &rows[i];
			double buffer = fabs(e->t.price - r->m->strike);

			if (i > 0)
				buf_putc(b, ',');
			put_head(e, b, r->m);
			PUT_LIT(b, ",\"buffer\":");
			jw_f64(b, buffer, 2);
			PUT_LIT(b, ",\"buffer_pct\":");
			jw_f64(b, buffer / e->t.price * 100.0, 4);
			if (r->side)
				PUT_LIT(b, ",\"side\":\"no\",\"prob\":");
			else
				PUT_LIT(b, ",\"side\":\"yes\",\"prob\":");
			jw_f64(b, r->prob, 2);
			PUT_LIT(b, ",\"yes_ask\":");
			jw_i64(b, r->m->yes_ask);
			PUT_LIT(b, ",\"no_ask\":");
			jw_i64(b, r->m->no_ask);
			PUT_LIT(b, ",\"yes_diff\":");
			jw_f64(b, r->yes_diff, 2);
			PUT_LIT(b, ",\"no_diff\":");
			jw_f64(b, r->no_diff, 2);
			PUT_LIT(b, ",\"volume\":");
			jw_i64(b, r->m->volume);
			if (r->watch)
				PUT_LIT(b, ",\"watch\":true,\"why_not\":");
			else
				PUT_LIT(b, ",\"watch\":false,\"why_not\":");
			if (!r->why_tick)
				jw_str(b, r->why[0] ? r->why : NULL);
			else if (why_len > 0) {
				buf_reserve(b, why_len);
				memcpy(b->p + b->len, b->p + why_at, why_len);
				b->len += why_len;
				b->p[b->len] = '\0';
			} else {
				why_at = b->len;
				jw_str(b, tick_why);
				why_len = b->len - why_at;
			}
			buf_putc(b, '}');
		}
		jw_arr_end(b);
		/* the watchlist, by probability (equal ones in row order): an
		 * insertion sort of the watched rows' places, into rows[].order */
		jw_key(b, "watchlist");
		jw_arr(b);
		for (size_t i = 0, w = 0; i < nrows; i++) {
			size_t at;

			if (!rows[i].watch)
				continue;
			for (at = w++; at > 0 && rows[i].prob > rows[rows[at - 1].order].prob; at--)
				rows[at].order = rows[at - 1].order;
			rows[at].order = i;
		}
		for (size_t k = 0; k < nwatch; k++) {
			const struct mkt *m = rows[rows[k].order].m;

			if (m->headlen > 0)
				jw_raw(b, m->head + TICKER_AT, m->head_tk - TICKER_AT);
			else
				jw_str(b, m->ticker);
		}
		jw_arr_end(b);
		msg_emit(b);
	}
	free(rows);
}

/* ---- backtest report ---- */

static void
fmt_cc(char *out, size_t cap, int64_t cc)
{
	money_fmt_dollars(out, cap, cc);
}

struct report {
	int64_t trades, wins, settled, stopped, open, pnl, fees, maxdd;
};

static void
report_make(const struct eval *e, struct report *r)
{
	int64_t cum = 0, peak = 0;

	memset(r, 0, sizeof *r);
	/* trades close in exit time order; ties keep entry order */
	for (size_t i = 0; i < e->ntr; i++) {
		const struct trade *t = &e->tr[i];

		if (t->exit == NULL) {
			r->open++;
			continue;
		}
		r->trades++;
		r->wins += t->pnl_cc > 0;
		r->settled += strcmp(t->exit, "settle") == 0;
		r->stopped += strcmp(t->exit, "stop") == 0;
		r->pnl += t->pnl_cc;
		r->fees += t->entry_fee_cc + t->exit_fee_cc;
	}
	{
		size_t n = 0;
		const struct trade **o = xcalloc(e->ntr + 1, sizeof(const struct trade *));

		for (size_t i = 0; i < e->ntr; i++)
			if (e->tr[i].exit)
				o[n++] = &e->tr[i];
		for (size_t i = 1; i < n; i++)     /* insertion sort: stable, n is small */
			for (size_t k = i; k > 0 && o[k - 1]->exit_ts > o[k]->exit_ts; k--) {
				const struct trade *x = o[k];

				o[k] = o[k - 1];
				o[k - 1] = x;
			}
		for (size_t i = 0; i < n; i++) {
			cum += o[i]->pnl_cc;
			if (cum > peak)
				peak = cum;
			if (peak - cum > r->maxdd)
				r->maxdd = peak - cum;
		}
		free(o);
	}
}

static void
report_json(struct buf *b, const struct report *r, const char *label)
{
	buf_reset(b);
	jw_obj(b);
	jw_kstr(b, "type", "report");
	if (label)
		jw_kstr(b, "settings", label);
	jw_ki64(b, "trades", r->trades);
	jw_ki64(b, "wins", r->wins);
	jw_kf64(b, "win_rate", r->trades ? 100.0 * (double)r->wins / (double)r->trades : 0, 2);
	jw_ki64(b, "settled", r->settled);
	jw_ki64(b, "stopped", r->stopped);
	jw_ki64(b, "open", r->open);
	jw_ki64(b, "pnl_cc", r->pnl);
	jw_ki64(b, "fees_cc", r->fees);
	jw_ki64(b, "max_drawdown_cc", r->maxdd);
	jw_obj_end(b);
	buf_putc(b, '\n');
}

static void
report_text(const struct eval *e, const struct report *r, FILE *f)
{
	char a[40], b[40], c[40];

	fmt_cc(a, sizeof a, r->pnl);
	fmt_cc(b, sizeof b, r->fees);
	fmt_cc(c, sizeof c, r->maxdd);
	fprintf(f, "model %s; %lu signals\n", model_name(e), e->signals);
	fprintf(f, "trades %lld (settled %lld, stopped %lld), still open %lld\n", (long long)r->trades,
	    (long long)r->settled, (long long)r->stopped, (long long)r->open);
	fprintf(f, "wins %lld, win rate %.1f %%\n", (long long)r->wins,
	    r->trades ? 100.0 * (double)r->wins / (double)r->trades : 0.0);
	fprintf(f, "P&L $%s, fees $%s, max drawdown $%s\n", a, b, c);
	fprintf(f, "per hour:\n");
	for (size_t i = 0; i < e->ntr; i++) {
		int64_t n = 0, w = 0, pnl = 0;
		bool seen = false;

		if (e->tr[i].exit == NULL)
			continue;
		for (size_t k = 0; k < i; k++)
			if (e->tr[k].exit && strcmp(e->tr[k].event, e->tr[i].event) == 0)
				seen = true;
		if (seen)
			continue;
		for (size_t k = i; k < e->ntr; k++)
			if (e->tr[k].exit && strcmp(e->tr[k].event, e->tr[i].event) == 0) {
				n++;
				w += e->tr[k].pnl_cc > 0;
				pnl += e->tr[k].pnl_cc;
			}
		fmt_cc(a, sizeof a, pnl);
		fprintf(f, "  %-24s trades %3lld  wins %3lld  P&L $%s\n", e->tr[i].event, (long long)n, (long long)w, a);
	}
}

static int
write_trades(const struct eval *e, const char *path)
{
	FILE *f = fopen(path, "w");
	struct buf b = { 0 };
	int rc = 0;

	if (f == NULL) {
		warnx_("%s: cannot create:", path);
		return -1;
	}
	for (size_t i = 0; i < e->ntr; i++) {
		const struct trade *t = &e->tr[i];

		buf_reset(&b);
		jw_obj(&b);
		jw_kstr(&b, "type", "trade");
		jw_ki64(&b, "ts", t->exit ? t->exit_ts : t->entry_ts);
		jw_kstr(&b, "ticker", t->ticker);
		jw_kstr(&b, "event_ticker", t->event);
		jw_kstr(&b, "side", t->side ? "no" : "yes");
		jw_ki64(&b, "count", t->count);
		jw_ki64(&b, "entry_ts", t->entry_ts);
		jw_ki64(&b, "entry_price", t->entry_price);
		jw_ki64(&b, "entry_fee_cc", t->entry_fee_cc);
		jw_kstr(&b, "exit", t->exit ? t->exit : "open");
		if (t->exit) {
			jw_ki64(&b, "exit_ts", t->exit_ts);
			jw_ki64(&b, "exit_price", t->exit_price);
			jw_ki64(&b, "exit_fee_cc", t->exit_fee_cc);
			jw_ki64(&b, "pnl_cc", t->pnl_cc);
			jw_kbool(&b, "win", t->pnl_cc > 0);
		}
		jw_obj_end(&b);
		buf_putc(&b, '\n');
		if (fwrite(b.p, 1, b.len, f) != b.len)
			rc = -1;
	}
	if (fclose(f) != 0 || rc < 0) {
		warnx_("%s: write error:", path);
		rc = -1;
	}
	buf_free(&b);
	return rc;
}

/* ---- main ---- */

static void
on_line(struct eval *e, const struct json *j, const struct ndjson *r)
{
	char type[16];
	int64_t ts;
	double price, v;
	int k[K_N];

	scan_keys(j, k);
	if (json_str(j, k[K_TYPE], type, sizeof type) < 0)
		return;                 /* not a recio message: ignored */
	if (json_i64(j, k[K_TS], &ts) < 0) {
		warnx_("%s line %lu: %s without an integer ts, skipped", r->name, r->lineno, type);
		return;
	}
	/* (the first byte before strcmp: a few million lines a second) */
	if (type[0] == 't' && strcmp(type, "tick") == 0) {
		if (json_f64(j, k[K_PRICE], &price) < 0 || !(price > 0)) {
			warnx_("%s line %lu: tick without a positive price, skipped", r->name, r->lineno);
			return;
		}
		e->t.ts = ts;
		e->t.price = price;
		if (json_i64(j, k[K_MOM_BP], &e->t.mom_bp) < 0)
			e->t.mom_bp = 0;
		e->t.vol = 0;
		if (json_f64(j, k[K_VOL5M], &v) == 0 || json_f64(j, k[K_VOL60M], &v) == 0 ||
		    json_f64(j, k[K_VOL30S], &v) == 0)
			e->t.vol = v > 0 ? v : 0;
		e->t.have = true;
		if (e->backtest) {
			int sec = (int)((ts / 1000) % 120);

			e->px_sec[sec] = ts / 1000;
			e->px[sec] = price;
			paper_settle(e);
		}
		on_tick(e);
	} else if (type[0] == 'm' && strcmp(type, "market") == 0) {
		if (on_market(e, j, k) < 0)
			warnx_("%s line %lu: market without a ticker, skipped", r->name, r->lineno);
	} else if (strcmp(type, "event") == 0)
		on_event(e, j, k);
	else if (strcmp(type, "position") == 0)
		on_position(e, j, k, ts);
	else if (strcmp(type, "order") == 0)
		on_order(e, j, k, ts);
	else if (strcmp(type, "health") == 0)
		on_health(e, j, k, ts);
}

/* SIGHUP: the settings again, all or nothing */
static void
reload_settings(struct eval *e)
{
	reload = 0;
	if (apply_settings(e) < 0)
		warnx_("settings not reloaded: the previous settings stay in force");
	else
		infox("settings reloaded");
}

static int
run(struct eval *e, int fd, const char *name)
{
	struct ndjson r;
	struct json j = { 0 };
	char *line;
	size_t len;
	int rc;

	ndjson_init(&r, fd, name);
	for (;;) {
		rc = ndjson_next(&r, &j, &line, &len);
		if (rc < 0 && errno == EINTR) {
			if (reload)
				reload_settings(e);
			if (stop)
				break;
			continue;
		}
		if (rc <= 0)
			break;
		on_line(e, &j, &r);
		if (stop)               /* SIGTERM: the line in hand is done */
			break;
		/* a SIGHUP that came while the line was in hand (no read to
		 * interrupt): before the next line */
		if (reload)
			reload_settings(e);
	}
	if (r.bad)
		warnx_("%s: %lu malformed line%s skipped", name, r.bad, r.bad == 1 ? "" : "s");
	json_free(&j);
	ndjson_free(&r);
	return rc < 0 && !stop ? 1 : 0;
}

/* One backtest over path with the settings of e (sets included). */
static int
backtest_once(struct eval *e, const char *path, struct report *r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		warnx_("%s: cannot open:", path);
		return -1;
	}
	e->backtest = true;
	e->no_strikes = true;
	if (e->m == NULL)
		e->m = xcalloc(MARKETS_MAX, sizeof *e->m);
	rc = run(e, fd, path);
	close(fd);
	report_make(e, r);
	return rc ? -1 : 0;
}

/* --sweep "k=a,b;k2=c,d": every combination, spread over worker processes;
 * one report line each, best P&L first. */
static int
sweep(const struct eval *base, const char *spec, const char *path, long workers)
{
	char *dup = xstrdup(spec), *save = NULL, *keys[16], *vals[16][64];
	int nk = 0, nv[16];
	long combos = 1;
	int p[2];
	FILE *in;
	struct buf line = { 0 }, out = { 0 };
	char **lines = NULL;
	size_t nl = 0;
	pid_t *pids;

	for (char *t = strtok_r(dup, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(t, '='), *s2 = NULL;

		if (eq == NULL || nk == 16)
			die(2, "--sweep: expected KEY=V1,V2;KEY2=... (at most 16 keys)");
		*eq = '\0';
		keys[nk] = t;
		nv[nk] = 0;
		for (char *v = strtok_r(eq + 1, ",", &s2); v; v = strtok_r(NULL, ",", &s2)) {
			if (nv[nk] == 64)
				die(2, "--sweep: at most 64 values per key");
			vals[nk][nv[nk]++] = v;
		}
		if (nv[nk] == 0)
			die(2, "--sweep: %s has no values", t);
		combos *= nv[nk];
		if (combos > 100000)
			die(2, "--sweep: more than 100000 combinations");
		nk++;
	}
	if (workers > combos)
		workers = combos;
	if (pipe(p) < 0)
		die(1, "pipe:");
	pids = xcalloc((size_t)workers, sizeof *pids);
	for (long w = 0; w < workers; w++) {
		if ((pids[w] = fork()) < 0)
			die(1, "fork:");
		if (pids[w] > 0)
			continue;
		close(p[0]);
		for (long c = w; c < combos; c += workers) {
			struct eval *e = xcalloc(1, sizeof *e);
			struct report r;
			struct buf label = { 0 };
			char setv[16][160];
			long k = c;

			e->config = base->config;
			for (int i = 0; i < base->nsets; i++)
				e->sets[e->nsets++] = base->sets[i];
			for (int i = nk - 1; i >= 0; i--) {
				const char *v = vals[i][k % nv[i]];

				k /= nv[i];
				snprintf(setv[i], sizeof setv[i], "%s=%s", keys[i], v);
				if (e->nsets < SETS_MAX)
					e->sets[e->nsets++] = setv[i];
			}
			for (int i = 0; i < nk; i++)
				buf_printf(&label, "%s%s", i ? " " : "", setv[i]);
			if (apply_settings(e) < 0 || backtest_once(e, path, &r) < 0)
				_exit(1);
			report_json(&out, &r, label.p);
			buf_free(&label);
			if (write_all(p[1], out.p, out.len) < 0)
				_exit(1);
			free(e->m);
			free(e->tr);
			free(e->fp);
			buf_free(&e->out);
			free(e);
		}
		_exit(0);
	}
	close(p[1]);
	if ((in = fdopen(p[0], "r")) == NULL)
		die(1, "fdopen:");
	{
		char *l = NULL;
		size_t cap = 0;

		while (getline(&l, &cap, in) > 0) {
			lines = xrealloc(lines, (nl + 1) * sizeof *lines);
			lines[nl++] = xstrdup(l);
		}
		free(l);
	}
	(void)fclose(in);
	{
		int failed = 0, st;

		for (long w = 0; w < workers; w++)
			if (waitpid(pids[w], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				failed = 1;
		if (failed)
			die(1, "--sweep: a worker failed (see above)");
	}
	/* best P&L first; equal P&L by settings text, so the order is stable */
	for (size_t i = 1; i < nl; i++)
		for (size_t k = i; k > 0; k--) {
			struct json a = { 0 }, b = { 0 };
			int64_t pa = 0, pb = 0;
			bool swap;

			json_parse(&a, lines[k - 1], strlen(lines[k - 1]));
			json_parse(&b, lines[k], strlen(lines[k]));
			json_get_i64(&a, 0, "pnl_cc", &pa);
			json_get_i64(&b, 0, "pnl_cc", &pb);
			swap = pb > pa || (pb == pa && strcmp(lines[k], lines[k - 1]) < 0);
			json_free(&a);
			json_free(&b);
			if (!swap)
				break;
			char *t = lines[k];

			lines[k] = lines[k - 1];
			lines[k - 1] = t;
		}
	for (size_t i = 0; i < nl; i++) {
		if (write_all(1, lines[i], strlen(lines[i])) < 0)
			die(1, "stdout:");
		free(lines[i]);
	}
	free(lines);
	free(pids);
	free(dup);
	buf_free(&line);
	buf_free(&out);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' }, { "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' }, { "no-strikes", no_argument, NULL, 'S' },
		{ "backtest", no_argument, NULL, 'B' }, { "trades", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'J' }, { "sweep", required_argument, NULL, 'W' },
		{ "jobs", required_argument, NULL, 'j' }, { NULL, 0, NULL, 0 }
	};
	static struct eval e;
	struct sigaction sa;
	bool check = false, backtest = false, json = false;
	const char *trades = NULL, *sweep_spec = NULL;
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	int ch, fd = 0, rc;

	diag_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "hc:s:nvj:", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': fputs(usage_text, stdout); return 0;
		case 'c': e.config = optarg; break;
		case 's':
			if (strchr(optarg, '=') == NULL)
				usage("-s: expected KEY=VALUE");
			if (e.nsets == SETS_MAX - 16)
				usage("-s: too many settings");
			e.sets[e.nsets++] = optarg;
			break;
		case 'S': e.no_strikes = true; break;
		case 'B': backtest = true; break;
		case 'T': trades = optarg; break;
		case 'J': json = true; break;
		case 'W': sweep_spec = optarg; break;
		case 'j': {
			char *end;

			jobs = strtol(optarg, &end, 10);
			if (end == optarg || *end || jobs < 1 || jobs > 256)
				usage("-j: expected 1 to 256 workers");
			break;
		}
		case 'n': check = true; break;
		case 'v': diag_verbose++; break;
		default: usage(NULL);
		}
	}
	if (argc - optind > 1)
		usage("at most one input file");
	if ((backtest || sweep_spec) && argc - optind != 1)
		usage("--backtest and --sweep read a FILE");
	if ((trades || json) && !backtest)
		usage("--trades and --json go with --backtest");
	if (jobs < 1)
		jobs = 1;
	if (apply_settings(&e) < 0)
		return 1;
	if (check) {
		printf("configuration OK: model %s\n", model_name(&e));
		return 0;
	}
	(void)signal(SIGPIPE, SIG_IGN);
	if (sweep_spec)
		return sweep(&e, sweep_spec, argv[optind], jobs);
	if (backtest) {
		struct report r;

		if (backtest_once(&e, argv[optind], &r) < 0)
			return 1;
		if (trades && write_trades(&e, trades) < 0)
			return 1;
		if (json) {
			report_json(&e.out, &r, NULL);
			if (write_all(1, e.out.p, e.out.len) < 0)
				die(1, "stdout:");
		} else
			report_text(&e, &r, stdout);
		if (fflush(stdout) != 0 || ferror(stdout))
			die(1, "stdout:");
		return 0;
	}
	if (argc - optind == 1 && strcmp(argv[optind], "-") != 0 && (fd = open(argv[optind], O_RDONLY | O_CLOEXEC)) < 0)
		die(1, "%s: cannot open:", argv[optind]);
	e.m = xcalloc(MARKETS_MAX, sizeof *e.m);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;      /* no SA_RESTART: a blocked read returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	msg_ready();            /* settings and model loaded */

	rc = run(&e, fd, argc - optind == 1 ? argv[optind] : "stdin");
	free(e.m);
	free(e.fp);
	buf_free(&e.out);
	buf_free(&e.tmp);
	return rc;
}
