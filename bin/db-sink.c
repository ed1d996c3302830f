/* db-sink: store NDJSON lines in SQLite or PostgreSQL, nothing lost.
 *
 * Every line read is first appended to a spool file (the write-ahead log);
 * batches of lines are then read back from the spool and written to the
 * database in one transaction each, and the spool's committed offset moves
 * on.  While the database is unreachable the spool just grows and input
 * keeps being read; when it is back the spool drains in order.  Every table
 * has a natural key and every insert is ON CONFLICT, so a line written twice
 * (a replay after a crash between commit and offset update) is harmless.
 *
 * When standard input is a pipe, lines are peeked with tee(2), spooled, and
 * only then consumed from the pipe, and the start of a line stays in the
 * pipe until its end is there: a SIGKILL at any moment loses nothing (at
 * worst a line is read again and its insert is a no-op).
 * See man/db-sink.1. */
#define _GNU_SOURCE     /* tee(2), pipe2(2), memrchr(3), fallocate(2) */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "diag.h"
#include "json.h"
#include "money.h"
#include "msg.h"
#include "ndjson.h"
#include "rlimits.h"
#include "rtime.h"

static const char usage_text[] =
"usage: db-sink [-v] [-d URL] [-n LINES] [-t MS] [-s SPOOL] [-r REJECTS]\n"
"               [-a ACCOUNT] [-k DAYS] [-S SQLDIR] [--db-timeout MS]\n"
"       db-sink --migrate [-d URL] [-S SQLDIR]\n"
"\n"
"Store NDJSON lines (tick, market, event, signal, order, fill, position,\n"
"settlement, balance, trade, status, health) in SQLite or PostgreSQL.  Lines go\n"
"to a spool file first and from there to the database in batches; while the\n"
"database is down the spool grows and drains in order when it is back.\n"
"\n"
"  -d, --db URL         sqlite:PATH or a libpq connection string\n"
"                       (default $RECIO_DB, else sqlite:var/recio.db)\n"
"      --migrate        apply the schema migrations not yet applied, then exit\n"
"  -n, --batch LINES    flush after this many lines (default 5000)\n"
"  -t, --flush MS       ... or this many milliseconds after the first (default 200)\n"
"  -s, --spool FILE     spool (default $RECIO_SPOOL, else var/db-sink.spool)\n"
"  -r, --rejects FILE   lines that cannot be stored, with the reason\n"
"                       (default SPOOL with .rejects in place of .spool)\n"
"  -a, --account NAME   account for lines without one (default $RECIO_ACCOUNT,\n"
"                       else \"default\")\n"
"  -k, --keep-days N    delete ticks and market_quotes older than N days before\n"
"                       the newest line stored (default 30; 0 keeps all)\n"
"  -S, --sql DIR        migrations (default $RECIO_SQL, else the installed ones)\n"
"      --db-timeout MS  a database that has not answered in this many ms is\n"
"                       down (PostgreSQL; default 30000; 0 waits)\n"
"  -v                   more diagnostics on stderr\n"
"  -h, --help           this text\n";

/* ---- tables: which fields of which line type go to which columns ---- */

/* kinds: s string, i integer, n number (double), b bool (0/1),
 * c dollars as a JSON number -> integer centi-cents, A account,
 * R the whole line, H a hash of the whole line */
struct col {
	const char *name, *field;
	char kind;
	bool req;
};

struct table {
	const char *name, *type;
	const struct col *cols;
	const char *key;        /* conflict target */
	bool latest;            /* upsert: the row with the newest ts wins */
};

#define C(n, k, r) { n, n, k, r }
#define F(n, f, k, r) { n, f, k, r }
#define END { NULL, NULL, 0, false }

static const struct col c_ticks[] = {
	C("ts", 'i', true), C("src", 's', true), F("price_cc", "price", 'c', true),
	F("bid_cc", "bid", 'c', false), F("ask_cc", "ask", 'c', false),
	C("d1m", 'n', false), C("d2m", 'n', false), C("d3m", 'n', false), C("d4m", 'n', false),
	C("d15m", 'n', false), C("d30m", 'n', false), C("mom_bp", 'i', false), C("avg1m", 'n', false),
	C("vol30s", 'n', false), C("vol5m", 'n', false), C("vol60m", 'n', false), END
};
static const struct col c_quotes[] = {
	C("ticker", 's', true), C("ts", 'i', true), C("status", 's', false),
	C("yes_bid", 'i', false), C("yes_ask", 'i', false), C("no_bid", 'i', false), C("no_ask", 'i', false),
	C("yes_bid_size", 'i', false), C("yes_ask_size", 'i', false), C("last", 'i', false),
	C("volume", 'i', false), C("oi", 'i', false), END
};
static const struct col c_markets[] = {
	C("ticker", 's', true), C("ts", 'i', true), C("event_ticker", 's', false), C("status", 's', false),
	F("strike_cc", "strike", 'c', false), C("close_ts", 'i', false),
	C("yes_bid", 'i', false), C("yes_ask", 'i', false), C("no_bid", 'i', false), C("no_ask", 'i', false),
	C("yes_bid_size", 'i', false), C("yes_ask_size", 'i', false), C("last", 'i', false),
	C("volume", 'i', false), C("oi", 'i', false), C("result", 's', false), END
};
static const struct col c_events[] = {
	C("event_ticker", 's', true), C("ts", 'i', true), C("hkey", 'H', true), C("ticker", 's', false),
	C("status", 's', false), C("result", 's', false), C("close_ts", 'i', false),
	C("strikes", 'i', false), C("prev_event", 's', false), C("raw", 'R', true), END
};
static const struct col c_signals[] = {
	C("account", 'A', true), C("id", 's', true), C("ts", 'i', true), C("intent", 's', false),
	C("ticker", 's', false), C("side", 's', false), C("action", 's', false), C("count", 'i', false),
	C("price", 'i', false), C("prob", 'n', false), C("diff", 'n', false), C("mom_bp", 'i', false),
	C("ttc", 'i', false), C("model", 's', false), C("reason", 's', false), C("raw", 'R', true), END
};
static const struct col c_orders[] = {
	C("account", 'A', true), C("client_order_id", 's', true), C("ts", 'i', true), C("status", 's', true),
	C("signal_id", 's', false), C("order_id", 's', false), C("ticker", 's', false), C("side", 's', false),
	C("action", 's', false), C("count", 'i', false), C("price", 'i', false), C("filled", 'i', false),
	C("avg_price_cc", 'i', false), C("fees_cc", 'i', false), C("code", 's', false),
	C("message", 's', false), C("rule", 's', false), C("raw", 'R', true), END
};
static const struct col c_fills[] = {
	C("account", 'A', true), C("fill_id", 's', true), C("ts", 'i', true), C("order_id", 's', false),
	C("trade_id", 's', false), C("ticker", 's', true), C("book_side", 's', false),
	C("outcome_side", 's', false), C("side", 's', false), C("action", 's', false),
	C("count", 'i', true), C("yes_price_cc", 'i', true), C("fee_cc", 'i', true),
	C("is_taker", 'b', false), C("raw", 'R', true), END
};
static const struct col c_positions[] = {
	C("account", 'A', true), C("ticker", 's', true), C("ts", 'i', true), C("position", 'i', true),
	C("exposure_cc", 'i', false), C("realized_cc", 'i', false), C("fees_cc", 'i', false),
	C("raw", 'R', true), END
};
static const struct col c_settlements[] = {
	C("account", 'A', true), C("key", 's', true), C("ts", 'i', true), C("ticker", 's', false),
	C("event_ticker", 's', false), C("result", 's', false), C("yes_count", 'i', false),
	C("no_count", 'i', false), C("cost_cc", 'i', false), C("revenue_cc", 'i', false),
	C("fee_cc", 'i', false), C("raw", 'R', true), END
};
static const struct col c_balances[] = {
	C("account", 'A', true), C("ts", 'i', true), C("balance_cc", 'i', true),
	C("portfolio_value_cc", 'i', false), END
};
static const struct col c_trades[] = {
	C("account", 'A', true), C("key", 's', true), C("ts", 'i', true), C("ticker", 's', true),
	C("side", 's', false), C("status", 's', true), C("count", 'i', false), C("open_ts", 'i', false),
	C("entry_cost_cc", 'i', false), C("exit_proceeds_cc", 'i', false), C("revenue_cc", 'i', false),
	C("fees_cc", 'i', false), C("pnl_cc", 'i', false), C("win", 'b', false), C("entry_client_order_id", 's', false),
	C("raw", 'R', true), END
};
static const struct col c_statuses[] = {
	C("account", 'A', true), C("ts", 'i', true), C("what", 's', true), C("state", 's', true),
	C("reason", 's', false), C("resume_ts", 'i', false), END
};
static const struct col c_health[] = {
	C("src", 's', true), C("ts", 'i', true), C("hkey", 'H', true), C("status", 's', false),
	C("error", 's', false), C("raw", 'R', true), END
};

static const struct table tables[] = {
	{ "ticks", "tick", c_ticks, "ts, src", false },
	{ "market_quotes", "market", c_quotes, "ticker, ts", false },
	{ "markets", "market", c_markets, "ticker", true },
	{ "events", "event", c_events, "event_ticker, ts, hkey", false },
	{ "signals", "signal", c_signals, "account, id", false },
	{ "orders", "order", c_orders, "account, client_order_id", true },
	{ "fills", "fill", c_fills, "account, fill_id", false },
	{ "positions", "position", c_positions, "account, ticker", true },
	{ "settlements", "settlement", c_settlements, "account, key", false },
	{ "balances", "balance", c_balances, "account, ts", true },
	{ "trades", "trade", c_trades, "account, key", true },
	{ "statuses", "status", c_statuses, "account, ts, what, state", false },
	{ "health", "health", c_health, "src, ts, hkey", false },
};
#define NTABLES (int)(sizeof tables / sizeof tables[0])
#define ST_RETAIN 30            /* statement ids past the tables' */
#define MULTI 64                /* rows per multi-row INSERT */
#define MAXCOLS 24

/* Rows of the ON CONFLICT DO NOTHING tables, where order does not matter,
 * go MULTI at a time in one multi-row INSERT: a tenth of the per-statement
 * work on the server.  The rest is sent row by row before the commit. */
struct pend {
	struct buf data;                /* the rows' text values */
	struct db_val v[MULTI * MAXCOLS];
	size_t off[MULTI * MAXCOLS];
	int rows, ncols;
};

/* The rows of the lines spooled in this run, as classify() made them, so a
 * batch need not parse its lines again: per line its spool offset and where
 * its rows start in a byte string of (table, values) records.  Lines spooled
 * before this run, or past CACHE_MAX bytes of rows waiting (a long outage),
 * are parsed again when their batch is written. */
#define CACHE_MAX (4u << 20)
struct cent {
	off_t off;
	size_t pos;
};

/* Batches after a COPY found a key already stored (a replay) go through
 * INSERT ... ON CONFLICT for a while. */
#define NOCOPY_BATCHES 16
/* While the database takes batches, their commits make their lines
 * durable: the spool is fdatasync'd at most this often (and before every
 * batch while the database is away) */
#define SPOOL_SYNC_MS 1000
/* stdin's pipe is made this large when it is smaller (see intake) */
#define PIPE_WANT (1 << 20)
/* the start of a line waits in the pipe for its end at most this long
 * after the pipe last grew (see intake) */
#define PEEK_STALL_MS 1000
/* a tick or quote more than this far ahead of the clock is stored but
 * does not move retention's cutoff */
#define TS_AHEAD_MS 86400000
/* asked to stop: what is spooled is stored for this long at most */
#define STOP_GRACE_MS 2000
/* the default of --db-timeout */
#define DB_TIMEOUT_MS 30000

/* known types that are not stored: derived data, recomputed from ticks */
static const char *const not_stored[] = { "strike", "report", NULL };

/* ---- state ---- */

struct sink {
	/* options */
	const char *url, *sqldir, *account, *spool_path, *reject_path;
	int64_t batch, flush_ms, keep_days;
	int64_t db_timeout;             /* ms, for db_set_timeout (0: wait) */
	int64_t stop_by;                /* asked to stop: the grace ends (monotonic ms; 0 not yet) */

	/* database */
	struct db *db;
	int64_t next_try, backoff, down_since;

	/* spool: lines [done, size) are not yet in the database */
	int sfd, offfd, rfd;
	off_t done, size;
	off_t punched;                  /* [0, punched) is a hole: stored, freed */
	bool dirty;                     /* written since the last fdatasync */
	bool nopunch;                   /* the file system cannot punch holes */
	int64_t synced_at;              /* monotonic ms of the last fdatasync */
	int64_t unflushed, first_unflushed;
	struct buf out;                 /* lines to append, built per chunk */
	struct buf rb;                  /* lines read back for a batch */

	/* input */
	int p[2];                       /* for tee(2); -1 when stdin is no pipe */
	struct buf part;                /* a line begun and not yet ended */
	bool skipping, eof;
	bool off_unsynced;              /* the spool started again: its offset 0 not yet fdatasync'd */
	bool line_fault;                /* add_line refused a line itself, not the database */
	bool partial;                   /* the pipe holds the start of a line, not its end */
	long partial_us;                /* ... looked at again after this long */
	size_t pipe_sz;                 /* stdin's pipe capacity (or the peek pipe's, if smaller) */
	size_t peek_full;               /* a peek this large may be a full pipe (see intake) */
	size_t peek_n;                  /* the last peek of a line begun, its bytes */
	int64_t peek_since;             /* ... when it last grew (monotonic ms) */
	unsigned long lineno;

	/* parsing and values */
	const char *keys[NTABLES][MAXCOLS]; /* per table and column: the key it reads */
	size_t klen[NTABLES][MAXCOLS];      /* ... its length (SIZE_MAX: none) */
	int ncols[NTABLES];
	struct json j;
	struct buf arena;
	struct db_val v[MAXCOLS];
	size_t off[MAXCOLS];
	struct pend *pend[16];          /* per table, for !latest tables */
	struct buf cache;               /* rows of spooled lines, see struct cent */
	struct cent *ce;
	size_t nce, hce, cce;           /* entries, the first not yet used, room */
	bool copying;                   /* PostgreSQL: !latest rows go by COPY */
	size_t fl_used;                 /* the batch sent: its bytes (0: none) */
	int64_t fl_lines;               /* ... and lines */
	int fl_rc;                      /* ... and send_batch's result */
	char why[600];                  /* ... and why it failed */
	int nocopy;                     /* batches left without COPY */

	/* retention */
	int64_t max_ts, next_retain;
	int64_t ts_limit;               /* a tick or quote ts past this (the clock + a day) does not count */
	int64_t ahead_ts;               /* classify: the line's ts past ts_limit (0: none) */
	int retain_table;

	/* counters */
	unsigned long lines, stored, malformed, unknown, rejected, skipped, ahead;
	int64_t txns;                   /* transactions of the refused batch being split */
	int64_t rows;
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

/* ---- lines to rows ---- */

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static const char *
type_of(const struct json *j, char *type, size_t cap)
{
	int t = json_get(j, 0, "type");

	if (t < 0 || json_str(j, t, type, cap) < 0)
		return NULL;
	return type;
}

/* Values for table tb from the parsed line (j over line[0..len), NUL at
 * len).  0, or -1 with why set. */
/* The keys each table's columns read, for json_getv in values(). */
static void
keys_init(struct sink *s)
{
	for (int i = 0; i < NTABLES; i++) {
		int k = 0;

		for (const struct col *c = tables[i].cols; c->name; c++, k++) {
			if (k == MAXCOLS)
				die_internal("table %s: more than %d columns", tables[i].name, MAXCOLS);
			s->keys[i][k] = c->kind == 'A' ? "account" : c->field;
			s->klen[i][k] = c->kind == 'R' || c->kind == 'H' ? SIZE_MAX : strlen(s->keys[i][k]);
			for (int o = 0; o < k; o++)     /* json_getv asks for distinct keys */
				if (s->klen[i][o] != SIZE_MAX && strcmp(s->keys[i][o], s->keys[i][k]) == 0)
					die_internal("table %s: two columns read \"%s\"", tables[i].name, s->keys[i][k]);
		}
		s->ncols[i] = k;
	}
}

static int
values(struct sink *s, const struct table *tb, const char *line, size_t len, int *n, char *why, size_t cap)
{
	const struct json *j = &s->j;
	int k = 0, ti = (int)(tb - tables), at[MAXCOLS];

	buf_reset(&s->arena);
	json_getv(j, 0, s->ncols[ti], s->keys[ti], s->klen[ti], at);
	for (const struct col *c = tb->cols; c->name; c++, k++) {
		struct db_val *v = &s->v[k];
		int t = -1;

		s->off[k] = SIZE_MAX;
		v->t = DBV_NULL;
		switch (c->kind) {
		case 'A': {
			int a = at[k];

			if (a >= 0 && json_type(j, a) == JSON_STRING) {
				s->off[k] = s->arena.len;
				if (json_str_buf(j, a, &s->arena) < 0) {
					snprintf(why, cap, "field account: bad string");
					return -1;
				}
				buf_putc(&s->arena, '\0');
				v->t = DBV_TEXT;
				v->n = s->arena.len - s->off[k] - 1;
			} else {
				v->t = DBV_TEXT;
				v->s = s->account;
				v->n = strlen(s->account);
			}
			continue;
		}
		case 'R':
			v->t = DBV_TEXT;
			v->s = line;
			v->n = len;
			continue;
		case 'H': {
			char h[17];

			snprintf(h, sizeof h, "%016llx", (unsigned long long)fnv1a(line, len));
			s->off[k] = s->arena.len;
			buf_add(&s->arena, h, 17);
			v->t = DBV_TEXT;
			v->n = 16;
			continue;
		}
		}
		t = at[k];
		if (t < 0 || json_type(j, t) == JSON_NULL) {
			if (c->req) {
				snprintf(why, cap, "%s line without \"%s\"", tb->type, c->field);
				return -1;
			}
			continue;
		}
		switch (c->kind) {
		case 's':
			if (json_type(j, t) != JSON_STRING)
				goto bad;
			s->off[k] = s->arena.len;
			if (json_str_buf(j, t, &s->arena) < 0)
				goto bad;
			buf_putc(&s->arena, '\0');
			v->t = DBV_TEXT;
			v->n = s->arena.len - s->off[k] - 1;
			break;
		case 'i':
			if (json_i64(j, t, &v->i) < 0)
				goto bad;
			v->t = DBV_INT;
			break;
		case 'b': {
			bool b;

			if (json_bool(j, t, &b) < 0)
				goto bad;
			v->t = DBV_INT;
			v->i = b;
			break;
		}
		case 'n': {
			size_t rn;
			const char *r = json_raw(j, t, &rn);

			if (json_type(j, t) != JSON_NUMBER)
				goto bad;
			s->off[k] = s->arena.len;
			buf_add(&s->arena, r, rn);
			buf_putc(&s->arena, '\0');
			v->t = DBV_REAL;
			v->n = rn;
			break;
		}
		case 'c': {
			size_t rn;
			const char *r = json_raw(j, t, &rn);

			if (json_type(j, t) != JSON_NUMBER || money_parse_dollars(r, rn, &v->i) < 0)
				goto bad;
			v->t = DBV_INT;
			break;
		}
		default:
			die_internal("column kind %c", c->kind);
		}
		continue;
bad:
		snprintf(why, cap, "%s line: field \"%s\": not %s", tb->type, c->field,
		    c->kind == 's' ? "a string" : c->kind == 'i' ? "an integer" : c->kind == 'b' ? "true or false" :
		    c->kind == 'c' ? "a dollar amount with at most 4 decimals" : "a number");
		return -1;
	}
	for (int i = 0; i < k; i++)
		if (s->off[i] != SIZE_MAX)
			s->v[i].s = s->arena.p + s->off[i];
	*n = k;
	return 0;
}

enum verdict { V_STORE, V_MALFORMED, V_UNKNOWN, V_SKIP };

/* Append table i's row (v[0..n)) to ser: table, count, then each value's
 * type and its integer or its bytes (length, bytes, NUL). */
static void
ser_row(struct buf *ser, int i, const struct db_val *v, int n)
{
	buf_putc(ser, (char)i);
	buf_putc(ser, (char)n);
	for (int k = 0; k < n; k++) {
		buf_putc(ser, (char)v[k].t);
		if (v[k].t == DBV_INT)
			buf_add(ser, &v[k].i, sizeof v[k].i);
		else if (v[k].t != DBV_NULL) {
			uint32_t l = (uint32_t)v[k].n;

			buf_add(ser, &l, sizeof l);
			buf_add(ser, v[k].s, v[k].n);
			buf_putc(ser, '\0');
		}
	}
}

/* The next row at *pos of ser into v; its table, or -1 at the end. */
static int
ser_next(const struct buf *ser, size_t *pos, struct db_val *v, int *n)
{
	const char *p = ser->p + *pos;
	int i = (unsigned char)*p++;

	if (i == 0xff)
		return -1;
	*n = (unsigned char)*p++;
	for (int k = 0; k < *n; k++) {
		v[k].t = (enum db_vtype)*p++;
		if (v[k].t == DBV_INT) {
			memcpy(&v[k].i, p, sizeof v[k].i);
			p += sizeof v[k].i;
		} else if (v[k].t != DBV_NULL) {
			uint32_t l;

			memcpy(&l, p, sizeof l);
			p += sizeof l;
			v[k].s = p;
			v[k].n = l;
			p += l + 1;
		}
	}
	*pos = (size_t)(p - ser->p);
	return i;
}

/* Check one line (NUL-terminated at len) and parse it into s->j; with ser,
 * append its rows there (ser_row), ended by 0xff. */
static enum verdict
classify(struct sink *s, const char *line, size_t len, char *why, size_t cap, struct buf *ser)
{
	char type[32];
	bool known = false;
	int n;

	if (len > RECIO_LINE_MAX) {
		snprintf(why, cap, "longer than %d bytes", RECIO_LINE_MAX);
		return V_MALFORMED;
	}
	if (utf8_check(line, len) >= 0) {
		snprintf(why, cap, "not valid UTF-8");
		return V_MALFORMED;
	}
	if (json_parse(&s->j, line, len) < 0) {
		snprintf(why, cap, "not JSON: %s", s->j.err);
		return V_MALFORMED;
	}
	if (json_type(&s->j, 0) != JSON_OBJECT) {
		snprintf(why, cap, "not a JSON object");
		return V_MALFORMED;
	}
	if (!type_of(&s->j, type, sizeof type)) {
		snprintf(why, cap, "no \"type\"");
		return V_MALFORMED;
	}
	for (int i = 0; not_stored[i]; i++)
		if (!strcmp(type, not_stored[i]))
			return V_SKIP;
	s->ahead_ts = 0;
	for (int i = 0; i < NTABLES; i++)
		if (!strcmp(tables[i].type, type)) {
			known = true;
			if (values(s, &tables[i], line, len, &n, why, cap) < 0)
				return V_MALFORMED;
			if (i <= 1 && s->v[i].i > s->ts_limit)     /* ticks' ts, market_quotes' (both required) */
				s->ahead_ts = s->v[i].i;
			if (ser)
				ser_row(ser, i, s->v, n);
		}
	if (!known) {
		snprintf(why, cap, "unknown type \"%s\"", type);
		return V_UNKNOWN;
	}
	if (ser)
		buf_putc(ser, (char)0xff);
	return V_STORE;
}

/* ---- rejects ---- */

static void
reject(struct sink *s, unsigned long lineno, const char *line, size_t len, const char *why)
{
	struct buf b = { 0 };

	if (s->rfd < 0) {
		s->rfd = open(s->reject_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (s->rfd < 0)
			die(1, "%s: %s", s->reject_path, strerror(errno));
	}
	jw_obj(&b);
	jw_ki64(&b, "ts", rt_now_ms());
	if (lineno)
		jw_ki64(&b, "line", (int64_t)lineno);
	jw_kstr(&b, "reason", why);
	if (utf8_check(line, len) < 0) {
		jw_key(&b, "text");
		jw_strn(&b, line, len);
	} else {
		jw_key(&b, "text_hex");
		jw_sep(&b);
		buf_putc(&b, '"');
		for (size_t i = 0; i < len; i++)
			buf_printf(&b, "%02x", (unsigned char)line[i]);
		buf_putc(&b, '"');
	}
	jw_obj_end(&b);
	buf_putc(&b, '\n');
	if (write_all(s->rfd, b.p, b.len) < 0)
		die(1, "%s: write: %s", s->reject_path, strerror(errno));
	buf_free(&b);
}

/* A health line on stdout (its data log, so stored once the database is
 * back): "down" with the error, "ok" when back, "spool_full" when the
 * spool cannot be written.  spooled: bytes not yet stored. */
static void
health(struct sink *s, const char *status, const char *err, int64_t down_ms)
{
	struct buf b = { 0 };

	msg_begin(&b, "health", rt_now_ms());
	jw_kstr(&b, "src", "db-sink");
	jw_kstr(&b, "status", status);
	jw_ki64(&b, "spooled", (int64_t)(s->size - s->done));
	if (down_ms >= 0)
		jw_ki64(&b, "down_ms", down_ms);
	if (err && *err)
		jw_kstr(&b, "error", err);
	msg_emit(&b);
	buf_free(&b);
}

/* ---- the spool ---- */

static void
save_offset(struct sink *s)
{
	char t[32];
	int n = snprintf(t, sizeof t, "%019lld\n", (long long)s->done);

	if (pwrite(s->offfd, t, (size_t)n, 0) != n)
		die(1, "%s.off: write: %s", s->spool_path, strerror(errno));
}

static void
spool_open(struct sink *s)
{
	char path[PATH_MAX], t[32];
	struct stat st;
	ssize_t n;

	s->sfd = open(s->spool_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (s->sfd < 0)
		die(1, "%s: %s", s->spool_path, strerror(errno));
	if (flock(s->sfd, LOCK_EX | LOCK_NB) < 0)
		die(1, "%s: %s", s->spool_path, errno == EWOULDBLOCK ? "in use by another db-sink" : strerror(errno));
	if ((size_t)snprintf(path, sizeof path, "%s.off", s->spool_path) >= sizeof path)
		die(1, "%s: path too long", s->spool_path);
	s->offfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (s->offfd < 0)
		die(1, "%s: %s", path, strerror(errno));
	n = pread(s->offfd, t, sizeof t - 1, 0);
	t[n > 0 ? n : 0] = '\0';
	s->done = (off_t)strtoll(t, NULL, 10);
	if (n <= 0)
		save_offset(s);         /* its block taken now: a full disk later cannot refuse it */
	if (fstat(s->sfd, &st) < 0)
		die(1, "%s: %s", s->spool_path, strerror(errno));
	s->size = st.st_size;
	/* a line cut short by a crash in the middle of a write: drop the tail
	 * (its bytes were never consumed from a pipe, so they come again) */
	if (s->size > 0) {
		off_t end = s->size;
		char c;

		while (end > 0 && pread(s->sfd, &c, 1, end - 1) == 1 && c != '\n')
			end--;
		if (end != s->size) {
			warnx_("%s: dropping %lld bytes of a line cut short", s->spool_path, (long long)(s->size - end));
			if (ftruncate(s->sfd, end) < 0)
				die(1, "%s: truncate: %s", s->spool_path, strerror(errno));
			s->size = end;
		}
	}
	if (s->done < 0 || s->done > s->size)
		s->done = 0;            /* harmless: inserts are idempotent */
	if (s->done < s->size) {
		/* an offset inside the hole punched out of the stored part
		 * (only a damaged offset file says so): what follows the hole
		 * is stored again, a cut line refused as malformed */
		off_t data = lseek(s->sfd, s->done, SEEK_DATA);

		if (data > s->done) {
			warnx_("%s: offset %lld is inside the part stored and freed; starting at %lld", s->spool_path,
			    (long long)s->done, (long long)data);
			s->done = data;
		}
	}
	if (s->size > s->done)
		infox("%s: %lld bytes left from before, to be stored first", s->spool_path, (long long)(s->size - s->done));
}

static void flush(struct sink *s);
static void flush_wait(struct sink *s);
static bool stop_grace(struct sink *s);

/* A full disk (ENOSPC, or EFBIG under a file size limit) under the spool:
 * reported (a health line, the diagnostics); while the database is up,
 * what the spool holds is stored and the spool starts again from nothing
 * (flush_end truncates it), then the write is tried again: a spool that
 * ran ahead of the database (a replay of the logs at start) frees its own
 * room.  Returns 0 when the lines went in after all; -1 when there was
 * nothing to free or the database went away. */
static int
spool_full(struct sink *s)
{
	char err[PATH_MAX + 64];
	int e = errno;

	snprintf(err, sizeof err, "%s: write: %s", s->spool_path, strerror(e));
	health(s, "spool_full", err, -1);
	/* a write cut short left part of the lines: not there as far as
	 * anything else knows, and gone from the file */
	if (ftruncate(s->sfd, s->size) < 0)
		die(1, "%s: truncate: %s", s->spool_path, strerror(errno));
	if (!s->db || (s->done >= s->size && !s->fl_used)) {
		errno = e;
		return -1;
	}
	warnx_("%s; storing the %lld bytes spooled to make room", err, (long long)(s->size - s->done));
	while (s->db && (s->fl_used || s->done < s->size) && (!stop || stop_grace(s)))
		flush(s);
	flush_wait(s);
	if (s->size != 0 || write_all(s->sfd, s->out.p, s->out.len) < 0) {
		errno = s->size != 0 ? e : errno;
		return -1;
	}
	return 0;
}

static void
spool_append(struct sink *s)
{
	if (!s->out.len)
		return;
	if (write_all(s->sfd, s->out.p, s->out.len) < 0 && spool_full(s) < 0) {
		/* still full: the input was not consumed and the partial line
		 * is dropped at the next start, so nothing is lost; the
		 * supervisor restarts us */
		die(1, "%s: write: %s", s->spool_path, strerror(errno));
	}
	s->size += (off_t)s->out.len;
	s->dirty = true;
	buf_reset(&s->out);
}

/* While the database is up, the spool runs ahead of it only by what is
 * batched and sent: the stored part of the file (before the offset) is
 * dead weight that the next fdatasync would write out for nothing.  So
 * first the offset is made durable, then the whole blocks before it are
 * punched out of the file (their dirty pages dropped unwritten, their room
 * freed), and only then is the spool synced: a start after a crash or a
 * power loss reads the offset made durable, never a hole after it. */
static void
spool_punch(struct sink *s)
{
	off_t to = s->done & ~(off_t)4095;

	if (s->nopunch || to - s->punched < (off_t)1 << 20)
		return;
	if (fdatasync(s->offfd) < 0)
		die(1, "%s.off: fdatasync: %s", s->spool_path, strerror(errno));
	if (fallocate(s->sfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, s->punched, to - s->punched) < 0) {
		if (errno != EOPNOTSUPP && errno != ENOSYS)
			die(1, "%s: punch a hole: %s", s->spool_path, strerror(errno));
		debugx("%s: holes cannot be punched here (%s): the stored part stays until the spool is emptied",
		    s->spool_path, strerror(errno));
		s->nopunch = true;
		return;
	}
	debugx("%s: %lld bytes stored, their blocks freed", s->spool_path, (long long)(to - s->punched));
	s->punched = to;
}

static void
spool_sync(struct sink *s)
{
	if (s->dirty && s->db)
		spool_punch(s);
	/* the offset 0 of a spool started again is durable before what is
	 * written into it: else a power cut could leave the new lines beside
	 * the old offset, and the next start skip that many bytes of them */
	if (s->dirty && s->off_unsynced) {
		if (fdatasync(s->offfd) < 0)
			die(1, "%s.off: fdatasync: %s", s->spool_path, strerror(errno));
		s->off_unsynced = false;
	}
	if (s->dirty && fdatasync(s->sfd) < 0)
		die(1, "%s: fdatasync: %s", s->spool_path, strerror(errno));
	s->dirty = false;
	s->synced_at = rt_mono_ms();
}

/* ---- input ---- */

static void
take_line(struct sink *s, char *line, size_t len)
{
	char why[256];
	enum verdict v;
	size_t pos = s->cache.len;
	bool cache = s->cache.len < CACHE_MAX;

	s->lineno++;
	if (len && line[len - 1] == '\r')
		len--;
	if (!len)
		return;
	line[len] = '\0';
	s->lines++;
	v = classify(s, line, len, why, sizeof why, cache ? &s->cache : NULL);
	if (cache && v != V_STORE)
		s->cache.len = pos;
	switch (v) {
	case V_STORE:
		if (s->ahead_ts && !s->ahead++)
			warnx_("stdin line %lu: ts %lld is more than a day ahead of the clock: stored, but retention "
			    "does not count from it (said once)", s->lineno, (long long)s->ahead_ts);
		if (cache) {
			if (s->nce == s->cce)
				s->ce = xrealloc(s->ce, (s->cce = s->cce ? 2 * s->cce : 4096) * sizeof *s->ce);
			s->ce[s->nce++] = (struct cent){ s->size + (off_t)s->out.len, pos };
		}
		buf_add(&s->out, line, len);
		buf_putc(&s->out, '\n');
		if (!s->unflushed++)
			s->first_unflushed = rt_mono_ms();
		return;
	case V_SKIP:
		s->skipped++;
		return;
	case V_UNKNOWN:
		s->unknown++;
		break;
	case V_MALFORMED:
		s->malformed++;
		break;
	}
	warnx_("stdin line %lu: %s", s->lineno, why);
	reject(s, s->lineno, line, len, why);
}

/* Split data[0..n) into lines; the tail without a newline goes to s->part. */
static void
take_lines(struct sink *s, char *data, size_t n)
{
	char *p = data, *end = data + n, *nl;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		if (s->skipping)
			s->skipping = false;
		else
			take_line(s, p, (size_t)(nl - p));
		p = nl + 1;
	}
	if (p < end && !s->skipping)
		buf_add(&s->part, p, (size_t)(end - p));
	if (s->part.len > RECIO_LINE_MAX + 1) {
		s->lineno++;
		s->lines++;
		s->malformed++;
		warnx_("stdin line %lu: longer than %d bytes", s->lineno, RECIO_LINE_MAX);
		reject(s, s->lineno, s->part.p, 256, "longer than 65536 bytes (first 256 bytes kept)");
		buf_reset(&s->part);
		s->skipping = true;
	}
}

static void
consume(size_t k)
{
	char sink[65536];

	while (k > 0) {
		ssize_t r = read(0, sink, k < sizeof sink ? k : sizeof sink);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die(1, "stdin: read: %s", r < 0 ? strerror(errno) : "end of input while consuming peeked data");
		k -= (size_t)r;
	}
}

/* The writer of stdin's pipe is gone (what is in it is all there will be). */
static bool
writer_gone(void)
{
	struct pollfd q = { .fd = 0, .events = POLLIN };

	return poll(&q, 1, 0) > 0 && (q.revents & POLLHUP);
}

/* The start of a line, n bytes, is all a peek of the pipe shows: true
 * when its end may never come while it stays there.  A pipe's capacity is
 * counted in pages, not bytes: a write that does not fit into the last
 * page takes a new one, and a splice(2) takes one whatever its size, so a
 * pipe can be full with far less than its capacity in bytes, and then the
 * writer waits for room while we wait for the end of the line.  With
 * write(2) alone two pages hold more than a page between them: a peek of
 * peek_full bytes may be a full pipe.  Whatever the writer does, a pipe
 * that has not grown in PEEK_STALL_MS may be full. */
static bool
peek_stalled(struct sink *s, size_t n)
{
	int64_t now = rt_mono_ms();

	if (n != s->peek_n) {
		s->peek_n = n;
		s->peek_since = now;
		return false;
	}
	return n >= s->peek_full || now - s->peek_since >= PEEK_STALL_MS;
}

/* Read what is there.  With a pipe and no line begun: peek, spool the
 * whole lines, then consume exactly those bytes.  The start of a line
 * without its end is left in the pipe, so that a SIGKILL then loses
 * nothing: s->partial, and the main loop looks again after partial_us,
 * 100 us the first time, twice as long each time after, at most 20 ms (a
 * write into a pipe that is not empty wakes no poll(2), and one that is
 * edge-triggered misses some too).  Only a line that cannot be seen whole
 * (longer than the pipe or the peek, or one whose start may be filling
 * the pipe: peek_stalled) or the last one of an input that ends without a
 * newline is read in parts. */
static void
intake(struct sink *s)
{
	static char chunk[65536];
	ssize_t n;

	s->ts_limit = rt_now_ms() + TS_AHEAD_MS;
	if (s->p[0] >= 0 && s->part.len == 0 && !s->skipping) {
		n = tee(0, s->p[1], sizeof chunk, SPLICE_F_NONBLOCK);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0)
			die(1, "stdin: tee: %s", strerror(errno));
		if (n == 0) {
			s->eof = true;
			return;
		}
		if (read(s->p[0], chunk, (size_t)n) != n)
			die(1, "stdin: reading peeked data: %s", strerror(errno));
		{
			char *last = memrchr(chunk, '\n', (size_t)n);

			if (last) {
				size_t k = (size_t)(last - chunk) + 1;

				s->partial_us = 0;
				s->peek_n = 0;
				take_lines(s, chunk, k);
				spool_append(s);
				consume(k);
				return;
			}
		}
		if ((size_t)n < sizeof chunk && (size_t)n < s->pipe_sz && !writer_gone()) {
			if (!peek_stalled(s, (size_t)n)) {
				s->partial = true;
				s->partial_us = s->partial_us ? (s->partial_us < 10000 ? s->partial_us * 2 : 20000) : 100;
				return;
			}
			debugx("stdin: the start of a line, %zd bytes, has not grown in %lld ms: the pipe may be full; "
			    "the line is read in parts", n, (long long)(rt_mono_ms() - s->peek_since));
		}
		/* no whole line can come: take it in by reading (below) */
		s->partial_us = 0;
		s->peek_n = 0;
	}
	n = read(0, chunk, sizeof chunk);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		die(1, "stdin: read: %s", strerror(errno));
	if (n == 0) {
		s->eof = true;
		if (s->part.len) {      /* a last line without a newline */
			struct buf last = s->part;

			s->part = (struct buf){ 0 };
			buf_putc(&last, '\n');
			take_lines(s, last.p, last.len);
			buf_free(&last);
		}
		spool_append(s);
		return;
	}
	if (s->part.len) {
		/* complete the line begun, then the rest as usual */
		char *nl = memchr(chunk, '\n', (size_t)n);
		size_t k = nl ? (size_t)(nl - chunk) + 1 : (size_t)n;
		struct buf first = s->part;

		s->part = (struct buf){ 0 };
		buf_add(&first, chunk, k);
		take_lines(s, first.p, first.len);
		buf_free(&first);
		take_lines(s, chunk + k, (size_t)n - k);
	} else
		take_lines(s, chunk, (size_t)n);
	spool_append(s);
}

/* ---- the database ---- */

/* INSERT ... ON CONFLICT for tb, with rows rows of values */
static void
build_sql(const struct table *tb, int rows, struct buf *b)
{
	int n = 0;

	buf_printf(b, "INSERT INTO %s (", tb->name);
	for (const struct col *c = tb->cols; c->name; c++, n++)
		buf_printf(b, "%s%s", n ? ", " : "", c->name);
	buf_puts(b, ") VALUES ");
	for (int r = 0; r < rows; r++) {
		buf_puts(b, r ? ", (" : "(");
		for (int i = 0; i < n; i++)
			buf_puts(b, i ? ", ?" : "?");
		buf_putc(b, ')');
	}
	buf_printf(b, " ON CONFLICT (%s) DO ", tb->key);
	if (!tb->latest) {
		buf_puts(b, "NOTHING");
		return;
	}
	buf_puts(b, "UPDATE SET ");
	n = 0;
	for (const struct col *c = tb->cols; c->name; c++) {
		/* the conflict target's columns stay as they are */
		bool inkey = false;
		size_t cl = strlen(c->name);

		for (const char *p = tb->key; *p;) {
			size_t w = strcspn(p, ", ");

			if (w == cl && !strncmp(p, c->name, cl))
				inkey = true;
			p += w;
			p += strspn(p, ", ");
		}
		if (inkey)
			continue;
		buf_printf(b, "%s%s = excluded.%s", n++ ? ", " : "", c->name, c->name);
	}
	buf_printf(b, " WHERE excluded.ts >= %s.ts", tb->name);
}

static void
db_down(struct sink *s, const char *what)
{
	if (s->db) {
		warnx_("database: %s: %s; lines are kept in %s", what, db_error(s->db), s->spool_path);
		health(s, "down", db_error(s->db), -1);
		db_close(s->db);
		s->db = NULL;
		s->down_since = rt_mono_ms();
	}
	s->backoff = s->backoff ? s->backoff * 2 : 250;
	if (s->backoff > 5000)
		s->backoff = 5000;
	s->next_try = rt_mono_ms() + s->backoff;
}

static int
db_up(struct sink *s, bool quiet)
{
	char err[512];
	int rc, applied;
	struct buf b = { 0 };

	s->db = db_open(s->url, err, sizeof err, &rc);
	if (!s->db) {
		if (!quiet)
			warnx_("database: %s", err);
		return rc;
	}
	/* a server stopped or hung, not down, answers nothing and keeps the
	 * connection open: past the deadline a call fails DB_TRANSIENT, an
	 * outage like any other (db_down closes the connection) */
	db_set_timeout(s->db, (int)s->db_timeout);
	rc = db_migrate(s->db, s->sqldir, &applied);
	if (rc == DB_PERMANENT)
		goto refused;
	if (applied)
		infox("database: %d migrations applied", applied);
	for (int i = 0; i < NTABLES && rc == DB_OK; i++) {
		buf_reset(&b);
		build_sql(&tables[i], 1, &b);
		rc = db_prepare(s->db, i, b.p);
		if (rc == DB_OK && !tables[i].latest && !strcmp(db_dialect(s->db), "pg")) {
			int n = 0;

			buf_reset(&b);
			buf_printf(&b, "%s (", tables[i].name);
			for (const struct col *c = tables[i].cols; c->name; c++)
				buf_printf(&b, "%s%s", n++ ? ", " : "", c->name);
			buf_putc(&b, ')');
			rc = db_prepare_copy(s->db, i, b.p, n);
		}
		if (rc == DB_OK && !tables[i].latest) {
			buf_reset(&b);
			build_sql(&tables[i], MULTI, &b);
			rc = db_prepare(s->db, NTABLES + i, b.p);
		}
	}
	if (rc == DB_OK)
		rc = db_prepare(s->db, ST_RETAIN, "DELETE FROM ticks WHERE ts < ? AND ts < (SELECT min(ts) FROM ticks) + 3600000");
	if (rc == DB_OK)
		rc = db_prepare(s->db, ST_RETAIN + 1,
		    "DELETE FROM market_quotes WHERE ts < ? AND ts < (SELECT min(ts) FROM market_quotes) + 3600000");
	buf_free(&b);
	if (rc == DB_PERMANENT)
		goto refused;
	if (rc != DB_OK) {
		if (!quiet)
			warnx_("database: %s", db_error(s->db));
		db_close(s->db);
		s->db = NULL;
		return rc;
	}
	msg_ready();            /* connected and migrated */
	if (s->down_since) {
		warnx_("database: back after %lld ms; storing %lld spooled bytes", (long long)(rt_mono_ms() - s->down_since),
		    (long long)(s->size - s->done));
		health(s, "ok", NULL, rt_mono_ms() - s->down_since);
	}
	s->down_since = 0;
	s->backoff = 0;
	return DB_OK;
refused:
	/* the database connects but refuses the schema or our statements (in
	 * read-only mode after a failover, a privilege or table missing, a
	 * migration it cannot run): nothing can be stored until that is put
	 * right, and nothing is lost meanwhile, so it is an outage like any
	 * other, which db_down reports (with this reason) and retries; the
	 * connection is left open for db_down to say why, and close */
	buf_free(&b);
	return DB_TRANSIENT;
}

static void
pend_reset(struct sink *s)
{
	for (int i = 0; i < NTABLES; i++)
		if (s->pend[i]) {
			s->pend[i]->rows = 0;
			buf_reset(&s->pend[i]->data);
		}
}

/* Send the rows collected for table i: as one multi-row statement when
 * there are MULTI, else one by one. */
static int
pend_send(struct sink *s, int i)
{
	struct pend *p = s->pend[i];
	int rc = DB_OK, nv = p->rows * p->ncols;

	for (int k = 0; k < nv; k++)
		if (p->off[k] != SIZE_MAX)
			p->v[k].s = p->data.p + p->off[k];
	if (p->rows == MULTI)
		rc = db_add(s->db, NTABLES + i, p->v, nv);
	else
		for (int r = 0; r < p->rows && rc == DB_OK; r++)
			rc = db_add(s->db, i, p->v + r * p->ncols, p->ncols);
	p->rows = 0;
	buf_reset(&p->data);
	return rc;
}

static int
pend_add(struct sink *s, int i, int n)
{
	struct pend *p = s->pend[i];

	if (!p)
		p = s->pend[i] = xcalloc(1, sizeof *p);
	if (n > MAXCOLS)
		die_internal("table %s: %d columns", tables[i].name, n);
	p->ncols = n;
	for (int k = 0; k < n; k++) {
		struct db_val *v = &p->v[p->rows * n + k];
		size_t *off = &p->off[p->rows * n + k];

		*v = s->v[k];
		*off = SIZE_MAX;
		if (v->t == DBV_TEXT || v->t == DBV_REAL) {
			*off = p->data.len;
			buf_add(&p->data, v->s, v->n);
			buf_putc(&p->data, '\0');
		}
	}
	if (++p->rows == MULTI)
		return pend_send(s, i);
	return DB_OK;
}

/* Before a commit: whatever is still collected. */
static int
pend_flush(struct sink *s)
{
	int rc = DB_OK;

	for (int i = 0; i < NTABLES; i++)
		if (s->pend[i] && s->pend[i]->rows && rc == DB_OK)
			rc = pend_send(s, i);
	pend_reset(s);
	return rc;
}

/* Queue table i's row s->v[0..n). */
static int
put_row(struct sink *s, int i, int n)
{
	int rc;

	if (tables[i].latest)
		rc = db_add(s->db, i, s->v, n);
	else if (s->copying)
		rc = db_copy_add(s->db, i, s->v, n);
	else
		rc = pend_add(s, i, n);
	/* retention counts back from the newest tick or quote stored, but
	 * not from one far in the future (a ts in microseconds, a wrong
	 * clock): that one would delete every row */
	if (i <= 1) {
		int ts = i == 0 ? 0 : 1;

		if (s->v[ts].t == DBV_INT && s->v[ts].i > s->max_ts && s->v[ts].i <= s->ts_limit)
			s->max_ts = s->v[ts].i;
	}
	return rc;
}

/* The rows classify() kept for the line at spool offset off: their place
 * in s->cache, or false when they were not kept. */
static bool
cache_take(struct sink *s, off_t off, size_t *pos)
{
	while (s->hce < s->nce && s->ce[s->hce].off < off)
		s->hce++;
	if (s->hce < s->nce && s->ce[s->hce].off == off) {
		*pos = s->ce[s->hce++].pos;
		return true;
	}
	return false;
}

/* Drop the rows used: what is left moves to the front. */
static void
cache_trim(struct sink *s)
{
	size_t base;

	if (s->hce == 0)
		return;
	if (s->hce == s->nce) {
		s->nce = s->hce = 0;
		buf_reset(&s->cache);
		return;
	}
	base = s->ce[s->hce].pos;
	memmove(s->cache.p, s->cache.p + base, s->cache.len - base);
	s->cache.len -= base;
	memmove(s->ce, s->ce + s->hce, (s->nce - s->hce) * sizeof *s->ce);
	s->nce -= s->hce;
	s->hce = 0;
	for (size_t k = 0; k < s->nce; k++)
		s->ce[k].pos -= base;
}

/* Queue the rows of one spooled line (NUL-terminated at len) at spool
 * offset off (-1: do not look in the cache). */
static int
add_line(struct sink *s, const char *line, size_t len, off_t off, char *why, size_t cap)
{
	char type[32];
	int n, i, rc = DB_OK;
	size_t pos;

	if (off >= 0 && cache_take(s, off, &pos)) {
		while (rc == DB_OK && (i = ser_next(&s->cache, &pos, s->v, &n)) >= 0)
			rc = put_row(s, i, n);
	} else {
		if (json_parse(&s->j, line, len) < 0 || !type_of(&s->j, type, sizeof type)) {
			snprintf(why, cap, "spooled line no longer parses");
			s->line_fault = true;
			return DB_PERMANENT;
		}
		for (i = 0; i < NTABLES && rc == DB_OK; i++)
			if (!strcmp(tables[i].type, type)) {
				if (values(s, &tables[i], line, len, &n, why, cap) < 0) {
					s->line_fault = true;
					return DB_PERMANENT;
				}
				rc = put_row(s, i, n);
			}
	}
	if (rc != DB_OK)
		snprintf(why, cap, "%s", db_error(s->db));
	return rc;
}

/* Asked to stop (SIGTERM, SIGINT): true while the STOP_GRACE_MS to store
 * what is spooled last, from the first call on; each database call is
 * then given only the time left. */
static bool
stop_grace(struct sink *s)
{
	int64_t now = rt_mono_ms(), left;

	if (!s->stop_by)
		s->stop_by = now + STOP_GRACE_MS;
	left = s->stop_by - now;
	if (left <= 0 || !s->db)
		return false;
	db_set_timeout(s->db, (int)(s->db_timeout > 0 && s->db_timeout < left ? s->db_timeout : left));
	return true;
}

/* The lines [p, end) of a refused batch in one transaction of their own:
 * the class of the result; why says why on failure, *rows the rows
 * changed. */
static int
store_lines(struct sink *s, char *p, char *end, int64_t *rows, char *why, size_t cap)
{
	int rc, c;

	s->txns++;
	s->ts_limit = rt_now_ms() + TS_AHEAD_MS;
	s->line_fault = false;
	pend_reset(s);
	if ((rc = db_begin(s->db)) != DB_OK) {
		snprintf(why, cap, "%s", db_error(s->db));
		return rc;
	}
	while (rc == DB_OK && p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		*nl = '\0';
		rc = add_line(s, p, (size_t)(nl - p), -1, why, cap);
		*nl = '\n';
		p = nl + 1;
	}
	if (rc == DB_OK && (rc = pend_flush(s)) != DB_OK)
		snprintf(why, cap, "%s", db_error(s->db));
	pend_reset(s);
	c = db_commit(s->db, rows);
	if (rc == DB_OK)
		rc = c;
	if (rc != DB_OK && c != DB_OK)
		snprintf(why, cap, "%s", db_error(s->db));
	return rc;
}

#define STOPPED 1       /* store_refused: asked to stop, and the grace is over */

/* Whether a refusal (DB_PERMANENT) is the line's own: one db-sink cannot
 * read, or a constraint or bad value (db_refused).  Anything else (a
 * database in read-only mode after a failover, a table or privilege
 * missing) refuses every line alike and is put right in the database: the
 * lines are kept in the spool, as in an outage, not sent to the rejects
 * file, from which nothing brings them back. */
static bool
refused_by_line(const struct sink *s)
{
	return s->line_fault || db_refused(s->db);
}

/* The n lines [p, end) of a refused batch, s->done at p: each part is
 * stored in one transaction, and a part refused is split in halves, down
 * to the lines refused, which go to the rejects file.  k lines refused of
 * n take some 2k log2(n) transactions, not n.  The first half of a part
 * goes first, its second half waits on a stack; a part known to hold a
 * line refused (the whole batch; a second half whose first refused
 * nothing) is split without a try.  The offset moves on with each part
 * stored or refused, in order; DB_TRANSIENT (the database went away) or
 * STOPPED leave the rest in the spool. */
static int
store_refused(struct sink *s, char *p, char *end, int64_t n)
{
	struct {
		char *p, *end;
		int64_t n;
		unsigned long refused;          /* s->rejected when it was put aside */
	} second[64];                           /* log2(1000000 lines) deep at most */
	int top = 0;
	bool bad = true;

	for (;;) {
		char why[600];
		int64_t rows = 0, half = n / 2;
		char *mid = p;
		bool over = false;              /* this part is stored or refused */

		if (stop && !stop_grace(s))
			return STOPPED;
		if (!bad || n == 1) {
			int rc = store_lines(s, p, end, &rows, why, sizeof why);

			if (rc != DB_OK && rc != DB_PERMANENT)
				return rc;
			if (rc == DB_OK) {
				s->rows += rows;
				s->stored += (unsigned long)n;
				over = true;
			} else if (n == 1 && !refused_by_line(s)) {
				return DB_TRANSIENT;    /* kept: an outage */
			} else if (n == 1) {
				s->rejected++;
				warnx_("database refused a line: %s", why);
				reject(s, 0, p, (size_t)(end - 1 - p), why);
				over = true;
			}
		}
		if (over) {
			s->done += end - p;
			if (top == 0)
				return DB_OK;
			top--;
			p = second[top].p;
			end = second[top].end;
			n = second[top].n;
			/* its first half refused nothing: the line refused is here */
			bad = s->rejected == second[top].refused;
			continue;
		}
		if (top == (int)(sizeof second / sizeof second[0]))
			die_internal("a refused batch split more than %d times", top);
		for (int64_t k = 0; k < half; k++)
			mid = (char *)memchr(mid, '\n', (size_t)(end - mid)) + 1;
		second[top].p = mid;
		second[top].end = end;
		second[top].n = n - half;
		second[top].refused = s->rejected;
		top++;
		end = mid;
		n = half;
		bad = false;
	}
}

/* Queue the batch's lines, s->rb[0..used), and start the commit. */
static int
send_batch(struct sink *s, size_t used)
{
	int rc;

	pend_reset(s);
	s->ts_limit = rt_now_ms() + TS_AHEAD_MS;
	s->line_fault = false;
	rc = db_begin(s->db);
	for (char *p = s->rb.p, *end = s->rb.p + used; rc == DB_OK && p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		*nl = '\0';
		rc = add_line(s, p, (size_t)(nl - p), s->done + (p - s->rb.p), s->why, sizeof s->why);
		*nl = '\n';
		p = nl + 1;
	}
	if (rc == DB_OK && (rc = pend_flush(s)) != DB_OK)
		snprintf(s->why, sizeof s->why, "%s", db_error(s->db));
	pend_reset(s);
	cache_trim(s);
	{
		int c = db_commit_start(s->db);

		if (rc == DB_OK && c != DB_OK) {
			rc = c;
			snprintf(s->why, sizeof s->why, "%s", db_error(s->db));
		}
	}
	return rc;
}

/* The batch's result: move the offset on, or find the line refused, or
 * keep the batch in the spool for when the database is back. */
static void
flush_end(struct sink *s, int rc, int64_t rows)
{
	size_t used = s->fl_used;

	if (rc != DB_OK && !*s->why)
		snprintf(s->why, sizeof s->why, "%s", db_error(s->db));
	if (rc == DB_PERMANENT && s->copying && !strcmp(db_sqlstate(s->db), "23505")) {
		/* a row already stored: the batch again with ON CONFLICT */
		debugx("COPY: %s; the batch again with INSERT ... ON CONFLICT", s->why);
		s->copying = false;
		s->nocopy = NOCOPY_BATCHES;
		s->why[0] = '\0';
		rc = send_batch(s, used);
		{
			int c = db_commit_finish(s->db, &rows);

			if (rc == DB_OK)
				rc = c;
		}
	}
	s->copying = false;
	if (rc == DB_PERMANENT && !refused_by_line(s))
		rc = DB_TRANSIENT;      /* kept: an outage (db_down says why) */
	if (rc == DB_PERMANENT) {
		/* a line is refused: find it (them) by halves */
		unsigned long refused = s->rejected;

		debugx("batch refused (%s); its %lld lines again in parts", s->why, (long long)s->fl_lines);
		s->txns = 0;
		rc = store_refused(s, s->rb.p, s->rb.p + used, s->fl_lines);
		debugx("refused batch of %lld lines: %lu refused, found in %lld transactions%s",
		    (long long)s->fl_lines, s->rejected - refused, (long long)s->txns,
		    rc == DB_OK ? "" : " (not all of it: the rest stays in the spool)");
		save_offset(s);
		if (rc == DB_TRANSIENT)
			db_down(s, "write");
		if (rc != DB_OK)
			return;         /* the rest of the batch comes again */
	} else if (rc == DB_TRANSIENT) {
		db_down(s, "write");
		return;
	} else {
		s->stored += (unsigned long)s->fl_lines;
		s->rows += rows;
		s->done += (off_t)used;
		save_offset(s);
	}
	if (s->done >= s->size) {
		/* all stored: start the spool again from nothing */
		if (ftruncate(s->sfd, 0) < 0)
			die(1, "%s: truncate: %s", s->spool_path, strerror(errno));
		s->done = s->size = s->punched = 0;
		save_offset(s);
		s->off_unsynced = true;
		s->unflushed = 0;
		s->nce = s->hce = 0;    /* offsets start again */
		buf_reset(&s->cache);
	}
}

/* Wait for the batch sent, if any, and take its result. */
static void
flush_wait(struct sink *s)
{
	int64_t rows = 0;
	int rc;

	if (!s->fl_used)
		return;
	rc = db_commit_finish(s->db, &rows);
	flush_end(s, s->fl_rc != DB_OK ? s->fl_rc : rc, rows);
	s->fl_used = 0;
}

/* Store up to s->batch spooled lines in one transaction.  On PostgreSQL
 * with COPY the commit is not waited for here: input is read meanwhile,
 * and flush_wait takes the result before anything else uses the database
 * (the offset moves on only then). */
static void
flush(struct sink *s)
{
	size_t want = 4u << 20, got = 0, used = 0;
	int64_t nlines = 0;
	int rc;

	flush_wait(s);
	if (!s->db || s->done >= s->size)
		return;
	if ((off_t)want > s->size - s->done)
		want = (size_t)(s->size - s->done);
	buf_reset(&s->rb);
	buf_reserve(&s->rb, want);
	while (got < want) {
		ssize_t r = pread(s->sfd, s->rb.p + got, want - got, s->done + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die(1, "%s: read: %s", s->spool_path, r < 0 ? strerror(errno) : "shorter than expected");
		got += (size_t)r;
	}
	/* whole lines only, at most s->batch of them */
	{
		char *p = s->rb.p, *end = s->rb.p + got, *nl;

		while (nlines < s->batch && p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			nlines++;
			p = nl + 1;
		}
		used = (size_t)(p - s->rb.p);
	}
	if (!nlines)
		die(1, "%s: a line longer than 4 MiB at offset %lld", s->spool_path, (long long)s->done);

	/* PostgreSQL: the rows of the tables kept "first" go by COPY, unless
	 * a COPY found a key already stored not long ago (a replay) */
	s->copying = !strcmp(db_dialect(s->db), "pg") && s->nocopy == 0;
	if (s->nocopy > 0)
		s->nocopy--;
	s->why[0] = '\0';
	s->fl_used = used;
	s->fl_lines = nlines;
	rc = s->fl_rc = send_batch(s, used);
	if (rc == DB_OK && s->copying) {
		/* sent: the lines left in what was read wait for more, as fresh
		 * input does (a backlog larger than that still drains at once) */
		if ((off_t)got == s->size - s->done && got > used) {
			int64_t left = 0;

			for (char *p = s->rb.p + used, *end = s->rb.p + got; (p = memchr(p, '\n', (size_t)(end - p))); p++)
				left++;
			s->unflushed = left;
			s->first_unflushed = rt_mono_ms();
		}
		return;
	}
	flush_wait(s);
}

/* One slice of retention: at most an hour of one table per call, so ingest
 * is never held up long.  Returns true while there is more to delete. */
static bool
retain(struct sink *s)
{
	struct db_val v = { .t = DBV_INT };
	int64_t rows = 0;
	int rc;

	if (s->keep_days <= 0 || !s->max_ts)
		return false;
	v.i = s->max_ts - s->keep_days * 86400000;
	if (db_begin(s->db) == DB_OK)
		db_add(s->db, ST_RETAIN + s->retain_table, &v, 1);
	rc = db_commit(s->db, &rows);
	if (rc != DB_OK) {
		if (rc == DB_TRANSIENT)
			db_down(s, "retention");
		else
			warnx_("retention: %s", db_error(s->db));
		return false;
	}
	if (rows > 0) {
		debugx("retention: %lld rows older than %lld deleted from %s", (long long)rows, (long long)v.i,
		    s->retain_table ? "market_quotes" : "ticks");
		return true;
	}
	if (s->retain_table == 0) {
		s->retain_table = 1;
		return true;
	}
	s->retain_table = 0;
	return false;
}

/* ---- main ---- */

/* ppoll(2) for input (nfds 0: only the time), which a SIGTERM or SIGINT
 * ends at once even when it came before: during a database call, which
 * waits through it (up to the --db-timeout deadline), or just before the
 * wait.  The signals are blocked from the look at the stop flag to the
 * wait, which unblocks them.  -1 with EINTR when asked to stop. */
static int
wait_input(struct pollfd *pf, nfds_t nfds, const struct timespec *ts)
{
	sigset_t term, old;
	int rc, e;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, &old);
	if (stop) {
		rc = -1;
		e = EINTR;
	} else {
		rc = ppoll(pf, nfds, ts, &old);
		e = errno;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return rc;
}

static const char *
default_sqldir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	const char *rel[] = { "/../../share/sql", "/../share/recio/sql", NULL };
	struct stat st;

	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')))
			*slash = '\0';
		for (int i = 0; rel[i]; i++) {
			if ((size_t)snprintf(dir, sizeof dir, "%.3800s%s", exe, rel[i]) >= sizeof dir)
				continue;
			if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
				return dir;
		}
	}
	return "/usr/local/share/recio/sql";
}

static int64_t
opt_i64(const char *name, const char *v, int64_t min, int64_t max)
{
	int64_t x;

	if (cfg_parse_i64(v, min, max, &x) < 0) {
		char why[128];

		snprintf(why, sizeof why, "%s: not an integer in %lld..%lld: %s", name, (long long)min, (long long)max, v);
		usage(why);
	}
	return x;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' }, { "migrate", no_argument, NULL, 'M' },
		{ "batch", required_argument, NULL, 'n' }, { "flush", required_argument, NULL, 't' },
		{ "spool", required_argument, NULL, 's' }, { "rejects", required_argument, NULL, 'r' },
		{ "account", required_argument, NULL, 'a' }, { "keep-days", required_argument, NULL, 'k' },
		{ "sql", required_argument, NULL, 'S' }, { "help", no_argument, NULL, 'h' },
		{ "db-timeout", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 }
	};
	struct sink s = { .sfd = -1, .offfd = -1, .rfd = -1, .p = { -1, -1 }, .batch = 5000, .flush_ms = 200,
	    .keep_days = 30, .db_timeout = DB_TIMEOUT_MS };
	struct sigaction sa = { .sa_handler = on_term };
	bool migrate = false;
	char rejbuf[PATH_MAX];
	int ch;
	struct stat st;

	diag_init(argv[0]);
	s.url = cfg_env("RECIO_DB", "sqlite:var/recio.db");
	s.spool_path = cfg_env("RECIO_SPOOL", "var/db-sink.spool");
	s.account = cfg_env("RECIO_ACCOUNT", "default");
	s.sqldir = cfg_env("RECIO_SQL", NULL);
	keys_init(&s);
	while ((ch = getopt_long(argc, argv, "hd:n:t:s:r:a:k:S:v", lo, NULL)) != -1)
		switch (ch) {
		case 'd': s.url = optarg; break;
		case 'M': migrate = true; break;
		case 'n': s.batch = opt_i64("-n", optarg, 1, 1000000); break;
		case 't': s.flush_ms = opt_i64("-t", optarg, 1, 3600000); break;
		case 's': s.spool_path = optarg; break;
		case 'r': s.reject_path = optarg; break;
		case 'a': s.account = optarg; break;
		case 'k': s.keep_days = opt_i64("-k", optarg, 0, 100000); break;
		case 'S': s.sqldir = optarg; break;
		case 'T': s.db_timeout = opt_i64("--db-timeout", optarg, 0, 3600000); break;
		case 'v': diag_verbose++; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default: usage(NULL);
		}
	if (optind != argc)
		usage("no operands expected");
	if (!s.sqldir || !*s.sqldir)
		s.sqldir = default_sqldir();
	if (!*s.account)
		usage("-a: empty account");

	if (migrate) {
		char err[512];
		int rc, applied;
		struct db *d = db_open(s.url, err, sizeof err, &rc);

		if (!d)
			die(1, "database: %s", err);
		db_set_timeout(d, (int)s.db_timeout);
		if (db_migrate(d, s.sqldir, &applied) != DB_OK)
			die(1, "database: migrations: %s", db_error(d));
		printf("%s: %d migration%s applied (%s)\n", diag_prog, applied, applied == 1 ? "" : "s", db_dialect(d));
		db_close(d);
		return 0;
	}

	if (!s.reject_path) {
		size_t n = strlen(s.spool_path);

		if (n > 6 && !strcmp(s.spool_path + n - 6, ".spool"))
			snprintf(rejbuf, sizeof rejbuf, "%.*s.rejects", (int)(n - 6), s.spool_path);
		else
			snprintf(rejbuf, sizeof rejbuf, "%s.rejects", s.spool_path);
		s.reject_path = rejbuf;
	}
	{
		/* var/ in a fresh tree */
		const char *slash = strrchr(s.spool_path, '/');

		if (slash && slash != s.spool_path) {
			char *dir = xstrndup(s.spool_path, (size_t)(slash - s.spool_path));

			if (mkdir(dir, 0750) < 0 && errno != EEXIST)
				die(1, "mkdir %s: %s", dir, strerror(errno));
			free(dir);
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGXFSZ, SIG_IGN);       /* a file size limit: EFBIG, reported like ENOSPC */
	spool_open(&s);
	if (fstat(0, &st) == 0 && S_ISFIFO(st.st_mode)) {
		/* a line's start waits in the pipe for its end (see intake),
		 * and the default 16 pages can be full with far less than a
		 * line: 256 pages make that need pages of under 256 bytes.
		 * The peek pipe gets as many pages, or a peek would stop short.
		 * Without (EPERM past the user's pipe pages), peek_stalled
		 * still sees a full pipe. */
		int sz = fcntl(0, F_GETPIPE_SZ), psz;
		long page = sysconf(_SC_PAGESIZE);

		if (sz > 0 && sz < PIPE_WANT && fcntl(0, F_SETPIPE_SZ, PIPE_WANT) < 0)
			debugx("stdin: cannot make the pipe %d bytes: %s", PIPE_WANT, strerror(errno));
		sz = fcntl(0, F_GETPIPE_SZ);
		if (pipe2(s.p, O_CLOEXEC) < 0)
			die(1, "pipe: %s", strerror(errno));
		psz = fcntl(s.p[1], F_GETPIPE_SZ);
		if (sz > psz && psz > 0 && fcntl(s.p[1], F_SETPIPE_SZ, sz) < 0)
			debugx("pipe: cannot make it %d bytes: %s", sz, strerror(errno));
		psz = fcntl(s.p[1], F_GETPIPE_SZ);
		if (psz > 0 && psz < sz)
			sz = psz;
		s.pipe_sz = sz > 0 ? (size_t)sz : 4096;
		if (page <= 0)
			page = 4096;
		s.peek_full = s.pipe_sz / (size_t)page > 2 ? (s.pipe_sz / (size_t)page - 2) * (size_t)page / 2 : 0;
	}
	if (db_up(&s, false) != DB_OK) {
		s.down_since = rt_mono_ms();
		warnx_("database unreachable; lines are kept in %s until it is back", s.spool_path);
		health(&s, "down", "unreachable at start", -1);
		db_down(&s, "connect");
	}

	while (!stop) {
		int64_t now = rt_mono_ms(), timeout;
		bool pending, busy = false;
		int rc;
		struct pollfd pf = { .fd = 0, .events = POLLIN };

		if (s.fl_used && (s.eof || db_poll(s.db) != DB_OK))
			flush_wait(&s);
		/* lines not yet sent to the database */
		pending = s.done + (off_t)s.fl_used < s.size;
		if (s.eof && !pending && !s.fl_used)
			break;
		/* a backlog (lines spooled before, during an outage, or what a batch
		 * cut at s.batch left) drains at once; fresh lines wait for the batch
		 * size or the timer */
		if (pending && (s.eof || s.unflushed == 0 || s.unflushed >= s.batch ||
		    now - s.first_unflushed >= s.flush_ms)) {
			/* the batch's commit makes its lines durable; the spool
			 * itself is synced before every batch only while the
			 * database is away, else at most every SPOOL_SYNC_MS */
			if (!s.db || now - s.synced_at >= SPOOL_SYNC_MS)
				spool_sync(&s);
			s.unflushed = 0;        /* batched now; what is left is backlog */
			if (s.db) {
				flush(&s);      /* may count lines left as waiting again */
				busy = true;
			}
		}
		if (!s.db && now >= s.next_try) {
			if (db_up(&s, true) != DB_OK)
				db_down(&s, "connect");
			else
				busy = true;
		} else if (s.db && !pending && !s.fl_used && now >= s.next_retain) {
			if (retain(&s))
				busy = true;
			else
				s.next_retain = now + 600000;
		}

		/* then input, without waiting when there is more to do */
		pending = s.done + (off_t)s.fl_used < s.size;
		now = rt_mono_ms();
		if (busy || s.fl_used || (s.db && pending && (s.unflushed == 0 || s.eof)))
			timeout = 0;
		else {
			timeout = 60000;
			if (pending && s.unflushed && s.first_unflushed + s.flush_ms - now < timeout)
				timeout = s.first_unflushed + s.flush_ms - now;
			if (!s.db && s.next_try - now < timeout)
				timeout = s.next_try - now;
			if (s.db && !pending && s.next_retain - now < timeout)
				timeout = s.next_retain - now;
			if (timeout < 0)
				timeout = 0;
		}
		if (s.partial)          /* the end of a line begun in the pipe: soon */
			pf.fd = -1;
		{
			struct timespec ts = { .tv_sec = timeout / 1000, .tv_nsec = timeout % 1000 * 1000000 };

			if (s.partial && timeout * 1000 > s.partial_us)
				ts = (struct timespec){ .tv_sec = 0, .tv_nsec = s.partial_us * 1000 };
			rc = wait_input(s.eof ? NULL : &pf, s.eof ? 0 : 1, &ts);
		}
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			die(1, "poll: %s", strerror(errno));
		}
		if (s.eof)
			continue;
		if (s.partial) {
			s.partial = false;
			intake(&s);
		} else if (pf.revents)
			intake(&s);
		else if (s.fl_used)
			flush_wait(&s); /* nothing to read meanwhile */
	}
	if (s.fl_used)
		flush_wait(&s);
	if (stop && s.db) {
		/* asked to stop: store what is spooled if that is quick */
		while (s.db && s.done < s.size && stop_grace(&s))
			flush(&s);
		flush_wait(&s);
	} else if (s.db && s.keep_days > 0) {
		/* end of input: finish the retention pass, nothing waits for us
		 * (but a SIGTERM meanwhile) */
		s.retain_table = 0;
		while (!stop && s.db && retain(&s))
			;
	}
	spool_sync(&s);
	if (s.done < s.size)
		warnx_("%lld bytes not yet stored are kept in %s for the next start", (long long)(s.size - s.done), s.spool_path);
	if (s.ahead > 1)
		warnx_("%lu tick and market lines with a ts more than a day ahead of the clock: stored, not counted "
		    "by retention", s.ahead);
	if (s.malformed || s.unknown || s.rejected)
		warnx_("%lu lines: %lu stored (%lld rows), %lu not stored by design, %lu malformed, %lu of unknown type, "
		    "%lu refused by the database", s.lines, s.stored, (long long)s.rows, s.skipped, s.malformed, s.unknown,
		    s.rejected);
	db_close(s.db);
	json_free(&s.j);
	buf_free(&s.out);
	buf_free(&s.rb);
	buf_free(&s.part);
	buf_free(&s.arena);
	buf_free(&s.cache);
	free(s.ce);
	for (int i = 0; i < NTABLES; i++)
		if (s.pend[i]) {
			buf_free(&s.pend[i]->data);
			free(s.pend[i]);
		}
	return 0;
}
