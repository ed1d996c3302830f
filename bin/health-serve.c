/* health-serve: /health, /metrics, the JSON API, live updates (Server-Sent
 * Events) and the dashboard, behind a login.  See man/health-serve.1.
 *
 * The main thread follows the services' data logs (RUN/log/SVC/data/current,
 * the same files db-sink stores) into the live state and the event ring
 * that /events serves; libmicrohttpd's threads (--threads, 2) answer the
 * connections.  Every callback of ours runs under one lock, the main
 * thread's work too, so the state is never seen half-made and the code
 * reads as if it had one thread; what goes on in parallel is the kernel's
 * part, the send() of the answers.  Event streams are suspended
 * connections, resumed when there is something to send.  History comes
 * from the database. */
#define _GNU_SOURCE     /* pipe2(2) */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "diag.h"
#include "json.h"
#include "money.h"
#include "msg.h"
#include "rlimits.h"
#include "rtime.h"
#include "settings.h"

#define BODY_MAX        16384           /* largest request body (JSON) */
#define RING            4096            /* events kept for Last-Event-ID */
#ifndef PBKDF2_ITER               /* t/fuzz/fuzz_health_serve sets fewer */
#define PBKDF2_ITER     600000
#endif
#define SESSION_MS      (24LL * 3600 * 1000)
#define REMEMBER_MS     (30LL * 24 * 3600 * 1000)
#define LOGIN_BURST     5               /* failed logins per address ... */
#define LOGIN_REFILL_MS 60000           /* ... then one more a minute */
#define ADDRS           512             /* addresses remembered for that */
#define SCACHE          64              /* sessions cached */
#define PING_MS         15000           /* event-stream keep-alive */
#define PRICES          90000           /* one-second prices kept: a day and more */
#define TRADES_KEPT     400
#define ORDERS_KEPT     200
#define SERVICES_MAX    16
/* The session cookie: "__Host-" makes a browser keep it only when it is
 * Secure, for Path=/ and this host alone (no Domain), so nothing on a
 * sibling name or plain HTTP elsewhere can set or shadow it.  Browsers
 * and curl count http://127.0.0.1 and localhost as secure; on any other
 * address the login needs HTTPS (a TLS proxy). */
#define SESSION_COOKIE  "__Host-recio_session"
#define COOKIE_ATTRS    "Path=/; Secure; HttpOnly; SameSite=Strict"

static const char usage_text[] =
"usage: health-serve [-v] [-b ADDR] [-p PORT] [-d DB] [-w DIR] [-r RUN] [--no-login]\n"
"                    [--max-conns N] [--max-per-addr N] [--timeout S]\n"
"                    [--stale SECONDS] [--threads N] [--db-timeout MS]\n"
"       health-serve --user-add NAME [-d DB]      (the password on stdin)\n"
"       health-serve --user-passwd NAME [-d DB]   (the new password on stdin)\n"
"\n"
"Serve /health, /metrics, the JSON API (/api/...), live updates (/events) and\n"
"the dashboard (DIR) over HTTP, behind a login.\n"
"\n"
"  -b, --bind ADDR      address (default 127.0.0.1)\n"
"  -p, --port PORT      port (default 8081; 0: any, said on stderr)\n"
"  -d, --db URL         the database (default $RECIO_DB, else sqlite:var/recio.db)\n"
"  -w, --www DIR        the dashboard's files (default: the installed ones)\n"
"  -r, --run DIR        the run directory: logs, scan directory (default $RECIO_RUN,\n"
"                       else var/run)\n"
"      --no-login       no login: only when bound to a loopback address\n"
"      --port-file FILE write the bound port to FILE once listening\n"
"      --max-conns N    connections at once (default 2000)\n"
"      --max-per-addr N connections at once from one address (default 64)\n"
"      --timeout S      an idle connection is closed after S seconds (default 30)\n"
"      --stale SECONDS  /health: a tick older than this is a stale feed (default 30)\n"
"      --threads N      threads answering connections (default 2)\n"
"      --db-timeout MS  PostgreSQL: a query with no answer in MS ms fails (503) and\n"
"                       the connection is made again (default 5000; 0: wait)\n"
"  -v                   more diagnostics on stderr\n"
"  -h, --help           this text\n"
"\n"
"Environment: RECIO_DB, RECIO_RUN, RECIO_STATE, RECIO_KILL, SIGNAL_SETTINGS,\n"
"RECIO_ACCOUNT.\n";

/* ---- state ---- */

struct flog {                           /* one followed data log */
	char svc[64];
	char *path;
	int fd;
	int wd;                         /* its directory's inotify watch, or -1 */
	dev_t dev;
	ino_t ino;
	struct buf part;                /* a line not yet complete */
};

struct ev {                             /* an event for the streams */
	int64_t id;
	char *text;                     /* as sent: "id: ...\nevent: ...\ndata: ...\n\n" */
	size_t len;
};

struct client {                         /* one /events stream */
	struct MHD_Connection *c;
	int64_t next;                   /* the next event id it wants */
	bool reset;                     /* events it wanted are not here: it is told to reload state */
	int64_t last_ping;
	bool suspended, gone;
	struct buf out;
	size_t off;
	struct client *nx;
	struct client *wake_nx;         /* in h->wake, to be resumed */
};

struct svc {
	char name[64];
	bool up, ready;
	long pid, uptime, restarts, last_line_s;
};

struct sess {
	char hash[65], user[64];
	int64_t expires;
	int64_t checked;                /* when the database last said it exists (monotonic ms) */
};
/* A cached session is asked of the database again after this long: a
 * password reset from the command line (health-serve --user-passwd, recio
 * user passwd) deletes the rows, and must end the sessions held here too. */
#define SESS_RECHECK_MS 5000

struct addr_bucket {
	char addr[INET6_ADDRSTRLEN];
	double tokens;
	int64_t at;
};

struct latest {                         /* the last line of a key */
	char key[RECIO_TICKER_MAX + RECIO_ID_MAX + 32];
	char *line;
	bool ended;
};

struct hs {
	/* options */
	const char *bind, *www, *run, *db_url, *state, *kill_path, *settings_path, *account, *port_file;
	int port;
	int db_timeout_ms;              /* a query's deadline (PostgreSQL), 0 none */
	unsigned max_conns, max_per_addr, timeout_s, threads;
	bool no_login;
	bool db_connecting;             /* a thread is connecting, the lock let go */
	int64_t stale_ms;               /* /health: a tick older than this is a stale feed */
	/* the server */
	struct MHD_Daemon *d;
	/* the database */
	struct db *db;
	int64_t db_retry;
	char db_err[256];
	/* followed logs */
	struct flog *logs;
	int nlogs;
	int ino_fd;                     /* inotify: a log written wakes the loop */
	int64_t logs_scanned;
	/* live state */
	char *tick, *strike, *balance, *entry_status, *stop_status, *order_send_health;
	struct latest *trades, *positions, *healths;
	int ntrades, npositions, nhealths;
	char *orders[ORDERS_KEPT];
	int norders, order_head;
	int64_t tick_wall;              /* when the last tick arrived (ms) */
	struct { int64_t ts, price_c; } *prices;      /* cents */
	int nprices, price_head;
	/* events */
	struct ev ring[RING];
	int64_t next_id;
	int64_t epoch;                  /* this run's: event ids are "EPOCH-N", so one of another run is told apart */
	struct client *clients;
	int nclients;
	struct client *wake;            /* streams to resume, once the lock is let go */
	bool closing;                   /* stopping: streams end, none is suspended again */
	/* services */
	struct svc svcs[SERVICES_MAX];
	int nsvcs;
	int64_t svcs_at;
	int64_t db_seen;                /* when /health last saw the database answer */
	char www_real[PATH_MAX];        /* realpath of www, once it resolves */
	int www_fd;                     /* www, once it opens; or -1 */
	/* auth */
	struct sess scache[SCACHE];
	struct addr_bucket addrs[ADDRS];
	/* metrics */
	int64_t requests, req_by_class[6], lat_buckets[9], lat_sum_us, messages_by_type[16], malformed;
	int64_t orders_by_status[10], logins_ok, logins_failed, logins_limited;
};

static const char *const msg_types[] = {
	"tick", "event", "market", "position", "balance", "fill", "settlement", "strike", "signal",
	"order", "status", "health", "trade", "other"
};
#define NTYPES (int)(sizeof msg_types / sizeof msg_types[0])
static const char *const order_statuses[] = {
	"intent", "sent", "accepted", "partial", "filled", "rejected", "canceled", "error", "refused", "other"
};
static const double lat_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5 };

static volatile sig_atomic_t stop;

/* The one lock: held by every callback of ours that libmicrohttpd's
 * threads make, and by the main thread while it reads the logs and wakes
 * the streams.  Held across no call that may wait on the network but the
 * database's queries, which have a deadline (--db-timeout); connecting
 * is done without it (db_ready). */
static pthread_mutex_t big = PTHREAD_MUTEX_INITIALIZER;

static void
lock(void)
{
	int e = pthread_mutex_lock(&big);

	if (e)
		die(1, "pthread_mutex_lock: %s", strerror(e));
}

static void
unlock(void)
{
	int e = pthread_mutex_unlock(&big);

	if (e)
		die(1, "pthread_mutex_unlock: %s", strerror(e));
}

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

static void
set_str(char **p, const char *s, size_t n)
{
	free(*p);
	*p = xmalloc(n + 1);
	memcpy(*p, s, n);
	(*p)[n] = '\0';
}

/* ---- small crypto ---- */

static void
hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
unhex(const char *s, unsigned char *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return -1;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

static void
sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	hex(md, 32, out);
}

/* The anti-CSRF token of a session: derived from its secret token, so it
 * needs no storage and is useless without the cookie. */
static void
csrf_of(const char *token, char out[65])
{
	struct buf b = { 0 };

	buf_printf(&b, "recio-csrf:%s", token);
	sha256_hex(b.p, out);
	buf_free(&b);
}

static int
pbkdf2(const char *pw, const unsigned char *salt, size_t saltn, int64_t iter, unsigned char out[32])
{
	return PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, (int)saltn, (int)iter, EVP_sha256(), 32, out) == 1 ? 0 : -1;
}

/* ---- the database ---- */

/* The database, connected if need be: true when h->db may be used.  Called
 * with the lock held; the lock is let go while connecting (up to libpq's
 * connect_timeout against a server that hangs) and migrating, so the other
 * requests meanwhile are told "unavailable" at once rather than queue
 * behind it.  What a caller read from shared state before the call may
 * have changed after it. */
static bool
db_ready(struct hs *h)
{
	char err[256];
	int rc, applied;
	const char *sql = cfg_env("RECIO_SQL", NULL);
	static char dir[PATH_MAX + 32];
	struct db *d;

	if (h->db)
		return true;
	if (h->db_connecting || rt_mono_ms() < h->db_retry)
		return false;
	h->db_retry = rt_mono_ms() + 2000;
	h->db_connecting = true;
	unlock();
	if ((d = db_open(h->db_url, err, sizeof err, &rc)) != NULL) {
		/* a server that hangs (stopped, not down) would hold the lock,
		 * and every request behind it, for as long as it hangs */
		db_set_timeout(d, h->db_timeout_ms);
		if (!sql) {     /* beside the tools: ../../share/sql or ../share/recio/sql */
			char exe[PATH_MAX];
			ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

			if (n > 0) {
				struct stat st;

				exe[n] = '\0';
				*strrchr(exe, '/') = '\0';
				snprintf(dir, sizeof dir, "%s/../../share/sql", exe);
				if (stat(dir, &st) != 0)
					snprintf(dir, sizeof dir, "%s/../share/recio/sql", exe);
				sql = dir;
			}
		}
		if (sql && db_migrate(d, sql, &applied) != DB_OK) {
			snprintf(err, sizeof err, "migrations: %s", db_error(d));
			db_close(d);
			d = NULL;
		}
	}
	lock();
	h->db_connecting = false;
	if (d == NULL) {
		snprintf(h->db_err, sizeof h->db_err, "%s", err);
		return false;
	}
	h->db = d;
	h->db_err[0] = '\0';
	return true;
}

static void
db_failed(struct hs *h, int rc)
{
	snprintf(h->db_err, sizeof h->db_err, "%s", db_error(h->db));
	warnx_("database: %s", h->db_err);
	if (rc == DB_TRANSIENT) {
		db_close(h->db);
		h->db = NULL;
	}
}

/* rows as a JSON array: each row's "raw" column as is, else an object */
struct rows {
	struct buf *b;
	int n;
};

static int
row_json(void *arg, int ncol, const char *const *names, const char *const *vals, const enum db_vtype *kinds)
{
	struct rows *r = arg;

	r->n++;
	if (ncol == 1 && strcmp(names[0], "raw") == 0 && vals[0]) {
		jw_raw(r->b, vals[0], strlen(vals[0]));
		return 0;
	}
	jw_obj(r->b);
	for (int i = 0; i < ncol; i++) {
		jw_key(r->b, names[i]);
		if (kinds[i] == DBV_NULL || vals[i] == NULL)
			jw_null(r->b);
		else if (kinds[i] == DBV_INT || kinds[i] == DBV_REAL)
			jw_raw(r->b, vals[i], strlen(vals[i]));
		else
			jw_str(r->b, vals[i]);
	}
	jw_obj_end(r->b);
	return 0;
}

static int
row_first(void *arg, int ncol, const char *const *names, const char *const *vals, const enum db_vtype *kinds)
{
	struct buf *b = arg;

	(void)names;
	(void)kinds;
	buf_reset(b);
	for (int i = 0; i < ncol; i++) {
		buf_puts(b, vals[i] ? vals[i] : "");
		buf_putc(b, '\0');
	}
	return 1;
}

/* ---- following the data logs ---- */

static void event_add(struct hs *h, const char *type, const char *data, size_t n);

static struct latest *
latest_put(struct latest **arr, int *n, const char *key, const char *line, size_t len, bool ended, int keep)
{
	struct latest *l = NULL;

	for (int i = 0; i < *n; i++)
		if (strcmp((*arr)[i].key, key) == 0) {
			l = &(*arr)[i];
			break;
		}
	if (l == NULL) {
		if (*n >= keep) {       /* forget the oldest ended one, else the oldest */
			int k = 0;

			for (int i = 0; i < *n; i++)
				if ((*arr)[i].ended) {
					k = i;
					break;
				}
			free((*arr)[k].line);
			memmove(&(*arr)[k], &(*arr)[k + 1], (size_t)(*n - k - 1) * sizeof **arr);
			(*n)--;
		}
		*arr = xrealloc(*arr, (size_t)(*n + 1) * sizeof **arr);
		l = &(*arr)[(*n)++];
		memset(l, 0, sizeof *l);
		snprintf(l->key, sizeof l->key, "%s", key);
	}
	set_str(&l->line, line, len);
	l->ended = ended;
	return l;
}

static void
price_add(struct hs *h, int64_t ts, int64_t c)
{
	int i;

	if (h->nprices > 0) {
		int last = (h->price_head + h->nprices - 1) % PRICES;

		if (h->prices[last].ts / 1000 == ts / 1000) {
			h->prices[last].price_c = c;
			return;
		}
	}
	i = (h->price_head + h->nprices) % PRICES;
	if (h->nprices == PRICES)
		h->price_head = (h->price_head + 1) % PRICES;
	else
		h->nprices++;
	h->prices[i].ts = ts;
	h->prices[i].price_c = c;
}

static int
type_index(const char *t)
{
	for (int i = 0; i < NTYPES - 1; i++)
		if (strcmp(msg_types[i], t) == 0)
			return i;
	return NTYPES - 1;
}

static void
on_line(struct hs *h, const char *svc, const char *l, size_t n)
{
	struct json j = { 0 };
	char type[16], s[RECIO_TICKER_MAX + RECIO_ID_MAX + 16];
	int64_t ts;

	if (json_parse(&j, l, n) < 0 || json_get_str(&j, 0, "type", type, sizeof type) < 0 ||
	    json_get_i64(&j, 0, "ts", &ts) < 0) {
		h->malformed++;
		debugx("%s: a data line that is not a message, skipped", svc);
		goto out;
	}
	h->messages_by_type[type_index(type)]++;
	if (strcmp(type, "tick") == 0) {
		int t = json_get(&j, 0, "price");
		size_t pl;
		const char *p = t >= 0 ? json_raw(&j, t, &pl) : NULL;
		int64_t cc;

		set_str(&h->tick, l, n);
		h->tick_wall = rt_now_ms();
		if (p && money_parse_dollars(p, pl, &cc) == 0)
			price_add(h, ts, cc / CC_PER_CENT);
		event_add(h, "tick", l, n);
	} else if (strcmp(type, "strike") == 0) {
		set_str(&h->strike, l, n);
		event_add(h, "strike", l, n);
	} else if (strcmp(type, "status") == 0) {
		char what[16] = "";

		json_get_str(&j, 0, "what", what, sizeof what);
		set_str(strcmp(what, "stop") == 0 ? &h->stop_status : &h->entry_status, l, n);
		event_add(h, "status", l, n);
	} else if (strcmp(type, "trade") == 0 && json_get_str(&j, 0, "key", s, sizeof s) == 0) {
		char st[16] = "";

		json_get_str(&j, 0, "status", st, sizeof st);
		latest_put(&h->trades, &h->ntrades, s, l, n,
		    !strcmp(st, "closed") || !strcmp(st, "settled") || !strcmp(st, "canceled"), TRADES_KEPT);
		event_add(h, "trade", l, n);
	} else if (strcmp(type, "position") == 0 && json_get_str(&j, 0, "ticker", s, sizeof s) == 0) {
		int64_t pos = 0;

		json_get_i64(&j, 0, "position", &pos);
		latest_put(&h->positions, &h->npositions, s, l, n, pos == 0, 200);
		event_add(h, "position", l, n);
	} else if (strcmp(type, "balance") == 0) {
		set_str(&h->balance, l, n);
		event_add(h, "balance", l, n);
	} else if (strcmp(type, "order") == 0) {
		char st[16] = "";
		int k;

		json_get_str(&j, 0, "status", st, sizeof st);
		for (k = 0; k < 9 && strcmp(order_statuses[k], st) != 0; k++)
			;
		h->orders_by_status[k]++;
		if (h->norders < ORDERS_KEPT)
			h->norders++;
		else
			free(h->orders[h->order_head]);
		h->orders[h->order_head] = NULL;
		set_str(&h->orders[h->order_head], l, n);
		h->order_head = (h->order_head + 1) % ORDERS_KEPT;
		event_add(h, "order", l, n);
	} else if (strcmp(type, "health") == 0 && json_get_str(&j, 0, "src", s, sizeof s) == 0) {
		char tk[RECIO_TICKER_MAX] = "", st[16] = "";

		json_get_str(&j, 0, "status", st, sizeof st);
		if (json_get_str(&j, 0, "ticker", tk, sizeof tk) == 0) {
			size_t sl = strlen(s);

			snprintf(s + sl, sizeof s - sl, "|%s", tk);
		}
		if (strcmp(s, "order-send") == 0)
			set_str(&h->order_send_health, l, n);
		/* acct-sync's own line saying ok: no market's positions disagree
		 * now.  A market's mismatch ends with its "agree again" line, but
		 * an acct-sync started again never sends one (it no longer knows
		 * of the mismatch), nor does one whose market went away */
		if (strcmp(s, "acct-sync") == 0 && strcmp(st, "ok") == 0)
			for (int i = 0; i < h->nhealths; i++)
				if (strncmp(h->healths[i].key, "acct-sync|", 10) == 0)
					h->healths[i].ended = true;
		latest_put(&h->healths, &h->nhealths, s, l, n, strcmp(st, "ok") == 0, 200);
		event_add(h, "health", l, n);
	}
out:
	json_free(&j);
}

/* Find the services' data logs (new services appear as they first log). */
static void
logs_scan(struct hs *h)
{
	struct buf p = { 0 };

	h->logs_scanned = rt_mono_ms();
	for (int i = 0; i < SERVICES_MAX; i++) {
		static const char *const names[] = {
			"kalshi-sim", "db-sink", "btc-tick", "kalshi-fetch", "signal-eval", "order-send", "acct-sync",
			"health-serve"
		};
		bool have = false;

		if (i >= (int)(sizeof names / sizeof names[0]))
			break;
		for (int k = 0; k < h->nlogs; k++)
			have |= strcmp(h->logs[k].svc, names[i]) == 0;
		if (have || strcmp(names[i], "health-serve") == 0)
			continue;
		buf_reset(&p);
		buf_printf(&p, "%s/log/%s/data/current", h->run, names[i]);
		h->logs = xrealloc(h->logs, (size_t)(h->nlogs + 1) * sizeof *h->logs);
		memset(&h->logs[h->nlogs], 0, sizeof h->logs[0]);
		snprintf(h->logs[h->nlogs].svc, sizeof h->logs[0].svc, "%s", names[i]);
		h->logs[h->nlogs].path = xstrdup(p.p);
		h->logs[h->nlogs].fd = -1;
		h->logs[h->nlogs].wd = -1;
		h->nlogs++;
	}
	buf_free(&p);
}

static void
log_read(struct hs *h, struct flog *f)
{
	char tmp[65536];
	ssize_t n;

	while ((n = read(f->fd, tmp, sizeof tmp)) > 0) {
		size_t start = 0;

		for (size_t i = 0; i < (size_t)n; i++) {
			if (tmp[i] != '\n')
				continue;
			if (f->part.len) {
				buf_add(&f->part, tmp + start, i - start);
				on_line(h, f->svc, f->part.p, f->part.len);
				buf_reset(&f->part);
			} else
				on_line(h, f->svc, tmp + start, i - start);
			start = i + 1;
		}
		if (start < (size_t)n) {
			if (f->part.len + ((size_t)n - start) > RECIO_LINE_MAX) {
				warnx_("%s: a line longer than %d bytes, skipped", f->path, RECIO_LINE_MAX);
				buf_reset(&f->part);
			} else
				buf_add(&f->part, tmp + start, (size_t)n - start);
		}
	}
}

/* A log's directory watched, so that a line written (or the log rotated)
 * wakes the loop at once rather than at its next 100 ms turn. */
static void
log_watch(struct hs *h, struct flog *f)
{
	char dir[PATH_MAX], *sl;

	if (h->ino_fd < 0 || f->wd >= 0)
		return;
	snprintf(dir, sizeof dir, "%s", f->path);
	if ((sl = strrchr(dir, '/')) == NULL)
		return;
	*sl = '\0';
	f->wd = inotify_add_watch(h->ino_fd, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
	if (f->wd < 0)
		debugx("inotify_add_watch %s: %s (polled every 100 ms)", dir, strerror(errno));
}

/* What inotify has said: only that something changed (logs_follow reads
 * every log); a directory gone drops its watch. */
static void
logs_notified(struct hs *h)
{
	_Alignas(struct inotify_event) char b[4096];
	ssize_t n;

	while ((n = read(h->ino_fd, b, sizeof b)) > 0)
		for (ssize_t i = 0; i + (ssize_t)sizeof(struct inotify_event) <= n; ) {
			const struct inotify_event *e = (const struct inotify_event *)(void *)(b + i);

			if (e->mask & IN_IGNORED)
				for (int k = 0; k < h->nlogs; k++)
					if (h->logs[k].wd == e->wd)
						h->logs[k].wd = -1;
			i += (ssize_t)sizeof *e + e->len;
		}
}

/* New lines of every data log; a rotated log is read to its end, then the
 * new one from its start. */
static void
logs_follow(struct hs *h)
{
	if (rt_mono_ms() - h->logs_scanned > 5000)
		logs_scan(h);
	for (int i = 0; i < h->nlogs; i++) {
		struct flog *f = &h->logs[i];
		struct stat st;
		int64_t tick_was = h->tick_wall;
		bool opened = false;

		if (f->fd < 0) {
			if ((f->fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0)
				continue;
			if (fstat(f->fd, &st) == 0) {
				f->dev = st.st_dev;
				f->ino = st.st_ino;
			}
			log_watch(h, f);
			opened = true;
		}
		log_read(h, f);
		/* what a log held when it was opened (at start, above all) came
		 * before now: its last tick is as old as the file's last write,
		 * not fresh (a feed dead since yesterday is not a healthy one) */
		if (opened && h->tick_wall != tick_was && fstat(f->fd, &st) == 0) {
			int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;

			if (mtime < h->tick_wall)
				h->tick_wall = mtime;
		}
		if (stat(f->path, &st) == 0 && (st.st_ino != f->ino || st.st_dev != f->dev)) {
			log_read(h, f);         /* the rest of the rotated one */
			close(f->fd);
			f->fd = -1;
			buf_reset(&f->part);
		}
	}
}

/* ---- events and streams ---- */

static void
event_add(struct hs *h, const char *type, const char *data, size_t n)
{
	struct ev *e = &h->ring[h->next_id % RING];
	struct buf t = { 0 };

	/* formatted once here, copied to each stream as it is */
	free(e->text);
	e->id = h->next_id++;
	buf_printf(&t, "id: %lld-%lld\nevent: %s\ndata: ", (long long)h->epoch, (long long)e->id, type);
	buf_add(&t, data, n);
	buf_puts(&t, "\n\n");
	e->text = t.p;
	e->len = t.len;
}

/* A suspended stream marked awake and listed in h->wake for
 * clients_resume: resuming one wakes a thread of libmicrohttpd's, which
 * would only wait for the lock if the resuming were done under it. */
static void
client_wake(struct hs *h, struct client *c)
{
	c->suspended = false;
	c->wake_nx = h->wake;
	h->wake = c;
}

/* The streams with something to send: events they have not seen, or
 * (ping) a keep-alive due. */
static void
clients_wake(struct hs *h, bool ping)
{
	int64_t now = rt_mono_ms();

	for (struct client *c = h->clients; c; c = c->nx)
		if (c->suspended && !c->gone && (c->next < h->next_id || (ping && now - c->last_ping >= PING_MS)))
			client_wake(h, c);
}

/* Without the lock: a stream marked awake stays suspended, so open (and
 * its client not reaped), until this resumes it, and only the main thread
 * wakes and resumes streams. */
static void
clients_resume(struct hs *h)
{
	struct client *c = h->wake;

	h->wake = NULL;
	while (c) {
		struct client *nx = c->wake_nx;

		MHD_resume_connection(c->c);
		c = nx;
	}
}

static struct hs *the_hs;        /* for the stream callbacks */

/* A stream's next bytes: what it has not sent yet, else the events it has
 * not seen, else (every PING_MS) a comment; nothing: suspended until
 * clients_wake. */
static ssize_t
sse_read_locked(void *cls, uint64_t pos, char *out, size_t max)
{
	struct client *c = cls;
	size_t n;

	(void)pos;
	if (c->off >= c->out.len) {
		buf_reset(&c->out);
		c->off = 0;
	}
	if (c->out.len == 0) {
		struct hs *s = the_hs;
		int64_t oldest = s->next_id > RING ? s->next_id - RING : 0;

		if (c->next < oldest) {
			c->next = oldest;       /* what fell out of the ring is gone: */
			c->reset = true;        /* the client reloads state */
		}
		if (c->reset) {
			/* (no id: the client's last id stays until the next event's) */
			buf_puts(&c->out, "event: reset\ndata: {}\n\n");
			c->reset = false;
		}
		for (; c->next < s->next_id && c->out.len < 65536; c->next++) {
			const struct ev *e = &s->ring[c->next % RING];

			buf_add(&c->out, e->text, e->len);
		}
		if (c->out.len == 0 && rt_mono_ms() - c->last_ping >= PING_MS)
			buf_puts(&c->out, ": ping\n\n");
		if (c->out.len)
			c->last_ping = rt_mono_ms();
	}
	if (c->out.len == 0) {
		if (the_hs->closing)
			return MHD_CONTENT_READER_END_OF_STREAM;
		c->suspended = true;
		MHD_suspend_connection(c->c);
		return 0;
	}
	n = c->out.len - c->off < max ? c->out.len - c->off : max;
	memcpy(out, c->out.p + c->off, n);
	c->off += n;
	return (ssize_t)n;
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
	ssize_t n;

	lock();
	n = sse_read_locked(cls, pos, out, max);
	unlock();
	return n;
}

static void
sse_free(void *cls)
{
	struct client *c = cls;

	lock();
	c->gone = true;
	unlock();
}

static void
clients_reap(struct hs *h)
{
	for (struct client **pp = &h->clients; *pp; ) {
		struct client *c = *pp;

		if (c->gone) {
			*pp = c->nx;
			buf_free(&c->out);
			free(c);
			h->nclients--;
		} else
			pp = &c->nx;
	}
}

/* ---- services (s6) ---- */

/* Run argv, its stdout into out (when not NULL); the exit status, or -1. */
static int
spawn(const char *const argv[], struct buf *out)
{
	int p[2], st;
	pid_t pid;

	/* close-on-exec: another thread's child must not hold this pipe's
	 * write end (the read below would wait for that child too) */
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		sigset_t none;

		/* a worker thread's mask blocks SIGTERM: not the child's */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(p[1], 1);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 2);
		}
		close(p[0]);
		execvp(argv[0], (char *const *)(void *)argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		char tmp[512];
		ssize_t n = read(p[0], tmp, sizeof tmp);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out)
			buf_add(out, tmp, (size_t)n);
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
services_read(const struct hs *h, struct svc *svcs)
{
	struct buf dir = { 0 }, out = { 0 };
	static const char *const names[] = {
		"kalshi-sim", "db-sink", "btc-tick", "kalshi-fetch", "signal-eval", "order-send", "acct-sync", "health-serve"
	};
	int n = 0;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct svc *s = &svcs[n];
		struct stat st;
		const char *argv[] = { "s6-svstat", "-o", "up,ready,pid,updownfor", NULL, NULL };
		char up[8] = "", rd[8] = "";
		long pid = -1, upfor = 0;

		buf_reset(&dir);
		buf_printf(&dir, "%s/scan/%s", h->run, names[i]);
		if (stat(dir.p, &st) != 0)
			continue;
		memset(s, 0, sizeof *s);
		snprintf(s->name, sizeof s->name, "%s", names[i]);
		argv[3] = dir.p;
		buf_reset(&out);
		if (spawn(argv, &out) == 0 && out.p &&
		    /* NOLINTNEXTLINE(cert-err34-c): s6-svstat's own output; a pid and seconds fit a long */
		    sscanf(out.p, "%7s %7s %ld %ld", up, rd, &pid, &upfor) == 4) {
			s->up = strcmp(up, "true") == 0;
			s->ready = strcmp(rd, "true") == 0;
			s->pid = pid;
			s->uptime = upfor;
		}
		{
			const char *dt[] = { "s6-svdt", NULL, NULL };
			long lines = 0;

			dt[1] = dir.p;
			buf_reset(&out);
			if (spawn(dt, &out) == 0 && out.p)
				for (const char *q = out.p; *q; q++)
					lines += *q == '\n';
			s->restarts = lines;
		}
		buf_reset(&dir);
		buf_printf(&dir, "%s/log/%s/data/current", h->run, names[i]);
		if (stat(dir.p, &st) != 0) {
			buf_reset(&dir);
			buf_printf(&dir, "%s/log/%s/diag/current", h->run, names[i]);
		}
		s->last_line_s = stat(dir.p, &st) == 0 ? (long)(time(NULL) - st.st_mtime) : -1;
		n++;
	}
	buf_free(&dir);
	buf_free(&out);
	return n;
}

/* Under the lock: the services read, and an event when one changed. */
static void
services_set(struct hs *h, const struct svc *svcs, int n)
{
	bool changed = n != h->nsvcs;

	for (int i = 0; i < n && !changed; i++)
		changed = svcs[i].up != h->svcs[i].up || svcs[i].ready != h->svcs[i].ready || svcs[i].pid != h->svcs[i].pid;
	memcpy(h->svcs, svcs, (size_t)n * sizeof *svcs);
	h->nsvcs = n;
	if (changed) {
		struct buf b = { 0 };

		jw_obj(&b);
		jw_kstr(&b, "type", "services");
		jw_key(&b, "services");
		jw_arr(&b);
		for (int i = 0; i < h->nsvcs; i++) {
			jw_obj(&b);
			jw_kstr(&b, "name", h->svcs[i].name);
			jw_kbool(&b, "up", h->svcs[i].up);
			jw_kbool(&b, "ready", h->svcs[i].ready);
			jw_ki64(&b, "pid", h->svcs[i].pid);
			jw_obj_end(&b);
		}
		jw_arr_end(&b);
		jw_obj_end(&b);
		event_add(h, "services", b.p, b.len);
		buf_free(&b);
	}
}

/* The services' state from s6, at most every 2 s (force: now).  Called by
 * the main thread without the lock: the s6-svstat and s6-svdt it runs (two
 * a service) take milliseconds in which the other threads go on; only
 * the result is set under the lock. */
static void
services_refresh(struct hs *h, bool force)
{
	struct svc svcs[SERVICES_MAX];
	int n;

	if (!force && rt_mono_ms() - h->svcs_at < 2000)
		return;
	h->svcs_at = rt_mono_ms();      /* the main thread's alone */
	n = services_read(h, svcs);
	lock();
	services_set(h, svcs, n);
	unlock();
}

/* Stopped by a signal (SIGSTOP) or traced: up, and doing nothing. */
static bool
proc_stopped(long pid)
{
	char path[64], line[512], *p;
	FILE *f;
	bool stopped = false;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	if (fgets(line, sizeof line, f) && (p = strrchr(line, ')')) != NULL && p[1] == ' ')
		stopped = p[2] == 'T' || p[2] == 't';
	(void)fclose(f);
	return stopped;
}

static void
services_json(struct hs *h, struct buf *b)
{
	jw_arr(b);
	for (int i = 0; i < h->nsvcs; i++) {
		const struct svc *s = &h->svcs[i];
		char path[64];
		long rss = 0;
		FILE *f;

		snprintf(path, sizeof path, "/proc/%ld/status", s->pid);
		if (s->pid > 0 && (f = fopen(path, "r")) != NULL) {
			char line[256];

			while (fgets(line, sizeof line, f))
				if (strncmp(line, "VmRSS:", 6) == 0) {
					rss = strtol(line + 6, NULL, 10);
					break;
				}
			(void)fclose(f);
		}
		jw_obj(b);
		jw_kstr(b, "name", s->name);
		jw_kbool(b, "up", s->up);
		jw_kbool(b, "ready", s->ready);
		jw_kbool(b, "stopped", proc_stopped(s->pid));
		jw_ki64(b, "pid", s->pid);
		jw_ki64(b, "uptime_s", s->uptime);
		jw_ki64(b, "restarts", s->restarts);
		jw_key(b, "last_line_s");
		if (s->last_line_s < 0)
			jw_null(b);
		else
			jw_i64(b, s->last_line_s);
		jw_ki64(b, "rss_kb", rss);
		jw_obj_end(b);
	}
	jw_arr_end(b);
}

/* ---- responses ---- */

struct req {
	struct buf body;
	bool too_big;
	int64_t t0;                     /* monotonic us */
	int klass;                      /* metrics: 0 health, 1 metrics, 2 api, 3 events, 4 static, 5 other */
	bool counted;
	struct client *stream;          /* /events: the stream to answer with, once unlocked */
};

/* on every answer: no sniffing, no framing, no inline script, no referrer */
static void
secure_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Content-Security-Policy",
	    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *ctype, const char *body, size_t n,
    const char *cache, const char *cookie)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", cache ? cache : "no-store");
	secure_headers(r);
	if (cookie)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	if (status == 429)
		MHD_add_response_header(r, "Retry-After", "60");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
reply_json(struct MHD_Connection *c, unsigned status, const struct buf *b)
{
	return reply(c, status, "application/json", b->p ? b->p : "{}", b->p ? b->len : 2, NULL, NULL);
}

static enum MHD_Result
reply_error(struct MHD_Connection *c, unsigned status, const char *why)
{
	struct buf b = { 0 };
	enum MHD_Result r;

	jw_obj(&b);
	jw_kstr(&b, "error", why);
	jw_obj_end(&b);
	r = reply_json(c, status, &b);
	buf_free(&b);
	return r;
}

/* ---- auth ---- */

static void
client_addr(struct MHD_Connection *c, char *out, size_t cap, bool *loopback)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, cap, "?");
	*loopback = false;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)cap);
		*loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)cap);
		*loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	}
}

/* A failed login costs a token of the address's bucket; none left: 429. */
static struct addr_bucket *
bucket_of(struct hs *h, const char *addr)
{
	struct addr_bucket *oldest = &h->addrs[0];
	int64_t now = rt_mono_ms();

	for (int i = 0; i < ADDRS; i++) {
		struct addr_bucket *b = &h->addrs[i];

		if (strcmp(b->addr, addr) == 0) {
			b->tokens += (double)(now - b->at) / LOGIN_REFILL_MS;
			if (b->tokens > LOGIN_BURST)
				b->tokens = LOGIN_BURST;
			b->at = now;
			return b;
		}
		if (b->at < oldest->at)
			oldest = b;
	}
	snprintf(oldest->addr, sizeof oldest->addr, "%s", addr);
	oldest->tokens = LOGIN_BURST;
	oldest->at = now;
	return oldest;
}

/* The user of the request's session, or NULL.  *token gets the cookie. */
static const char *
session_user(struct hs *h, struct MHD_Connection *c, const char **token)
{
	const char *tok = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SESSION_COOKIE);
	char hash[65];
	int64_t now = rt_now_ms(), mono = rt_mono_ms();
	static struct buf row;
	struct sess *slot = &h->scache[0], *hit = NULL;
	struct db_val v[2];
	int rc;

	*token = tok;
	if (h->no_login) {
		*token = "local";
		return "local";
	}
	if (tok == NULL || strlen(tok) != 64)
		return NULL;
	sha256_hex(tok, hash);
	for (int i = 0; i < SCACHE; i++) {
		struct sess *s = &h->scache[i];

		if (s->expires > now && CRYPTO_memcmp(s->hash, hash, 64) == 0) {
			if (mono - s->checked < SESS_RECHECK_MS)
				return s->user;
			hit = s;        /* asked again below */
			break;
		}
		if (s->expires < slot->expires)
			slot = s;
	}
	/* with the database away a session it confirmed before stands (the
	 * kill switch must work in an outage); one never seen does not */
	if (!db_ready(h))
		return hit ? hit->user : NULL;
	v[0] = (struct db_val){ DBV_TEXT, 0, hash, 64 };
	v[1] = (struct db_val){ DBV_INT, now, NULL, 0 };
	buf_reset(&row);
	if ((rc = db_query(h->db, "SELECT username, expires_ms FROM sessions WHERE token_hash = ? AND expires_ms > ?",
	    v, 2, row_first, &row)) != DB_OK) {
		db_failed(h, rc);
		return hit && rc == DB_TRANSIENT ? hit->user : NULL;
	}
	if (row.len == 0) {
		if (hit)                /* ended elsewhere: forgotten here too */
			memset(hit, 0, sizeof *hit);
		return NULL;
	}
	if (hit)
		slot = hit;
	snprintf(slot->hash, sizeof slot->hash, "%s", hash);
	snprintf(slot->user, sizeof slot->user, "%s", row.p);
	slot->expires = strtoll(row.p + strlen(row.p) + 1, NULL, 10);
	slot->checked = mono;
	return slot->user;
}

static void
session_forget(struct hs *h, const char *hash)
{
	for (int i = 0; i < SCACHE; i++)
		if (strcmp(h->scache[i].hash, hash) == 0)
			memset(&h->scache[i], 0, sizeof h->scache[i]);
}

/* 1 when user's stored hash is still hash_hex (hex), 0 when it is not (or
 * the user is gone), -2 when the database is down.  After the lock was let
 * go for a hashing: another thread's password change may have come in. */
static int
hash_still(struct hs *h, const char *user, const char *hash_hex)
{
	struct buf row = { 0 };
	struct db_val v = { DBV_TEXT, 0, user, strlen(user) };
	int rc;

	if (!db_ready(h))
		return -2;
	if ((rc = db_query(h->db, "SELECT hash FROM users WHERE username = ?", &v, 1, row_first, &row)) != DB_OK) {
		db_failed(h, rc);
		buf_free(&row);
		return -2;
	}
	rc = row.len > 0 && strcmp(row.p, hash_hex) == 0;
	buf_free(&row);
	return rc;
}

/* 0 when user/pw match; -1 otherwise (-2: the database is down).  Called
 * with the lock held, it lets it go while hashing: user and pw must not
 * point into shared state, and what was read from it before is stale.
 * The match is against the hash stored when the lock is taken again (a
 * password changed meanwhile is not accepted), which goes into verified
 * (65 bytes, hex) when not NULL: a caller that lets the lock go again
 * checks it again with hash_still. */
static int
check_password(struct hs *h, const char *user, const char *pw, char *verified)
{
	struct buf row = { 0 };
	struct db_val v = { DBV_TEXT, 0, user, strlen(user) };
	unsigned char salt[16], want[32], got[32];
	const char *salt_hex, *hash_hex, *iter_s;
	char had[65];
	int64_t iter;
	int rc;

	if (!db_ready(h))
		return -2;
	if ((rc = db_query(h->db, "SELECT salt, hash, iterations FROM users WHERE username = ?", &v, 1, row_first,
	    &row)) != DB_OK) {
		db_failed(h, rc);
		buf_free(&row);
		return -2;
	}
	/* the hashing (a fraction of a second) without the lock: it uses
	 * nothing but these locals, and the other requests go on meanwhile */
	if (row.len == 0) {             /* no such user: spend the same time anyway */
		unsigned char z[16] = { 0 };

		buf_free(&row);
		unlock();
		pbkdf2(pw, z, sizeof z, PBKDF2_ITER, got);
		lock();
		return -1;
	}
	salt_hex = row.p;
	hash_hex = salt_hex + strlen(salt_hex) + 1;
	iter_s = hash_hex + strlen(hash_hex) + 1;
	iter = strtoll(iter_s, NULL, 10);
	rc = unhex(salt_hex, salt, sizeof salt) == 0 && unhex(hash_hex, want, sizeof want) == 0 && iter > 0 &&
	    iter <= 100000000 ? 0 : -1;
	snprintf(had, sizeof had, "%s", hash_hex);
	buf_free(&row);
	if (rc == 0) {
		unlock();
		rc = pbkdf2(pw, salt, sizeof salt, iter, got) == 0 && CRYPTO_memcmp(want, got, sizeof got) == 0 ? 0 : -1;
		lock();
	}
	if (rc == 0) {
		/* the database may have failed meanwhile (the caller writes to
		 * it next), or the password been changed */
		if ((rc = hash_still(h, user, had)) == 1)
			rc = 0;
		else if (rc == 0)
			rc = -1;
	}
	if (rc == 0 && verified)
		memcpy(verified, had, sizeof had);
	return rc;
}

/* A new salt and pw's hash under it, in hex (salt_hex 33 bytes, hash_hex
 * 65): 0, or -1 with err set.  Takes a fraction of a second and touches
 * no shared state: called without the lock. */
static int
password_hash(const char *pw, char *salt_hex, char *hash_hex, char *err, size_t cap)
{
	unsigned char salt[16], hash[32];

	if (strlen(pw) < 8) {
		snprintf(err, cap, "the password must have at least 8 characters");
		return -1;
	}
	if (RAND_bytes(salt, sizeof salt) != 1 || pbkdf2(pw, salt, sizeof salt, PBKDF2_ITER, hash) < 0) {
		snprintf(err, cap, "OpenSSL: cannot derive the password hash");
		return -1;
	}
	hex(salt, sizeof salt, salt_hex);
	hex(hash, sizeof hash, hash_hex);
	OPENSSL_cleanse(hash, sizeof hash);
	return 0;
}

/* user's password set to the hash password_hash made (create: the user
 * is added, or replaced); changing it ends the user's sessions.  0, -1
 * (err: nothing changed) or -2 (err: changed, but the sessions stay). */
static int
password_store(struct db *db, const char *user, const char *salt_hex, const char *hash_hex, bool create,
    char *err, size_t cap)
{
	int64_t now = rt_now_ms();
	struct db_val v[6];
	int rc;

	v[0] = (struct db_val){ DBV_TEXT, 0, salt_hex, 32 };
	v[1] = (struct db_val){ DBV_TEXT, 0, hash_hex, 64 };
	v[2] = (struct db_val){ DBV_INT, PBKDF2_ITER, NULL, 0 };
	v[3] = (struct db_val){ DBV_INT, now, NULL, 0 };
	v[4] = (struct db_val){ DBV_TEXT, 0, user, strlen(user) };
	v[5] = (struct db_val){ DBV_INT, now, NULL, 0 };
	if (create)
		rc = db_query(db, "INSERT INTO users (salt, hash, iterations, updated_ms, username, created_ms) "
		    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET salt = excluded.salt, "
		    "hash = excluded.hash, iterations = excluded.iterations, updated_ms = excluded.updated_ms",
		    v, 6, NULL, NULL);
	else
		rc = db_query(db, "UPDATE users SET salt = ?, hash = ?, iterations = ?, updated_ms = ? WHERE username = ?",
		    v, 5, NULL, NULL);
	if (rc != DB_OK) {
		snprintf(err, cap, "database: %s", db_error(db));
		return -1;
	}
	{                       /* a password set anew: every session of the user ends */
		struct db_val u = { DBV_TEXT, 0, user, strlen(user) };

		if (db_query(db, "DELETE FROM sessions WHERE username = ?", &u, 1, NULL, NULL) != DB_OK) {
			snprintf(err, cap, "the password is changed, but the user's sessions could not be ended: "
			    "database: %s", db_error(db));
			return -2;
		}
	}
	return 0;
}

/* password_hash, then password_store (for --user-add and the like: no
 * lock to let go). */
static int
set_password(struct db *db, const char *user, const char *pw, bool create, char *err, size_t cap)
{
	char salt_hex[33], hash_hex[65];

	if (password_hash(pw, salt_hex, hash_hex, err, cap) < 0)
		return -1;
	return password_store(db, user, salt_hex, hash_hex, create, err, cap);
}

/* ---- the API ---- */

static bool
body_json(struct req *rq, struct json *j)
{
	return rq->body.len > 0 && json_parse(j, rq->body.p, rq->body.len) == 0 && json_type(j, 0) == JSON_OBJECT;
}

/* s for a log line: control bytes (a newline would start a forged line
 * of the log) and quotes as \xNN, at most cap - 1 bytes of it */
static const char *
printable(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s && n + 5 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\')
			n += (size_t)snprintf(out + n, cap - n, "\\x%02x", ch);
		else
			out[n++] = (char)ch;
	}
	out[n] = '\0';
	return out;
}

static enum MHD_Result
api_login(struct hs *h, struct MHD_Connection *c, struct req *rq)
{
	struct json j = { 0 };
	char user[64], pw[256], addr[INET6_ADDRSTRLEN], token[65], hash[65], csrf[65], cookie[256];
	unsigned char rnd[32];
	bool remember = false, lo;
	struct addr_bucket *b;
	struct buf out = { 0 };
	int64_t now = rt_now_ms(), exp;
	struct db_val v[4];
	enum MHD_Result r;
	int rc;

	client_addr(c, addr, sizeof addr, &lo);
	b = bucket_of(h, addr);
	if (b->tokens < 1) {
		h->logins_limited++;
		return reply_error(c, 429, "too many failed logins from this address: wait a minute");
	}
	if (!body_json(rq, &j) || json_get_str(&j, 0, "username", user, sizeof user) < 0 ||
	    json_get_str(&j, 0, "password", pw, sizeof pw) < 0) {
		json_free(&j);
		return reply_error(c, 400, "expected {\"username\":...,\"password\":...}");
	}
	json_get_bool(&j, 0, "remember", &remember);
	json_free(&j);
	/* the attempt is paid for before the password is hashed (without the
	 * lock, so attempts from one address could otherwise overlap and
	 * all pass the check above), and paid back if it was right */
	b->tokens -= 1;
	rc = check_password(h, user, pw, NULL);
	OPENSSL_cleanse(pw, sizeof pw);
	if (rc == 0 || rc == -2) {
		b = bucket_of(h, addr);         /* the same address; the slot may have moved */
		if ((b->tokens += 1) > LOGIN_BURST)
			b->tokens = LOGIN_BURST;
	}
	if (rc == -2)
		return reply_error(c, 503, "the database is unavailable");
	if (rc < 0) {
		char shown[sizeof user * 4 + 8];

		h->logins_failed++;
		warnx_("login: \"%s\" from %s: wrong user name or password", printable(user, shown, sizeof shown), addr);
		return reply_error(c, 401, "wrong user name or password");
	}
	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return reply_error(c, 500, "no randomness for a session token");
	hex(rnd, sizeof rnd, token);
	OPENSSL_cleanse(rnd, sizeof rnd);
	sha256_hex(token, hash);
	exp = now + (remember ? REMEMBER_MS : SESSION_MS);
	/* sessions past their time go as new ones come: the table holds the
	 * live ones, not every login there ever was */
	v[0] = (struct db_val){ DBV_INT, now, NULL, 0 };
	if ((rc = db_query(h->db, "DELETE FROM sessions WHERE expires_ms <= ?", v, 1, NULL, NULL)) != DB_OK) {
		db_failed(h, rc);
		return reply_error(c, 503, "the database is unavailable");
	}
	v[0] = (struct db_val){ DBV_TEXT, 0, hash, 64 };
	v[1] = (struct db_val){ DBV_TEXT, 0, user, strlen(user) };
	v[2] = (struct db_val){ DBV_INT, now, NULL, 0 };
	v[3] = (struct db_val){ DBV_INT, exp, NULL, 0 };
	if ((rc = db_query(h->db, "INSERT INTO sessions (token_hash, username, created_ms, expires_ms) VALUES (?, ?, ?, ?)",
	    v, 4, NULL, NULL)) != DB_OK) {
		db_failed(h, rc);
		return reply_error(c, 503, "the database is unavailable");
	}
	h->logins_ok++;
	csrf_of(token, csrf);
	if (remember)
		snprintf(cookie, sizeof cookie, SESSION_COOKIE "=%s; " COOKIE_ATTRS "; Max-Age=%lld", token,
		    (long long)(REMEMBER_MS / 1000));
	else
		snprintf(cookie, sizeof cookie, SESSION_COOKIE "=%s; " COOKIE_ATTRS, token);
	OPENSSL_cleanse(token, sizeof token);
	infox("login: %s from %s", user, addr);
	jw_obj(&out);
	jw_kstr(&out, "user", user);
	jw_kstr(&out, "csrf", csrf);
	jw_ki64(&out, "expires_ms", exp);
	jw_obj_end(&out);
	r = reply(c, 200, "application/json", out.p, out.len, NULL, cookie);
	buf_free(&out);
	return r;
}

/* The settings now: the defaults, then the file (its text, as it is,
 * into file if not NULL). */
static int
settings_now(struct hs *h, struct settings *s, struct buf *file)
{
	struct stat st;
	int fd;

	settings_default(s);
	if (file)
		buf_reset(file);
	if (stat(h->settings_path, &st) != 0)
		return 0;
	if (settings_load(s, h->settings_path) < 0)
		return -1;
	if (file) {
		ssize_t n;

		if ((fd = open(h->settings_path, O_RDONLY | O_CLOEXEC)) < 0)
			return -1;
		do {
			buf_reserve(file, 4096);
			if ((n = read(fd, file->p + file->len, 4096)) > 0)
				file->len += (size_t)n;
		} while (n > 0 || (n < 0 && errno == EINTR));
		close(fd);
		if (n < 0)
			return -1;
		file->p[file->len] = '\0';
	}
	return 0;
}

/* Whether line[0..n) of a settings file sets one of keys (",k1,,k2,"):
 * KEY=VALUE with blanks around, maybe after "export ", as cfg_read_file
 * reads it. */
static bool
setting_line_in(const char *line, size_t n, const char *keys)
{
	char k[72];
	size_t i = 0, ks;

	if (keys == NULL)
		return false;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (n - i > 7 && strncmp(line + i, "export ", 7) == 0)
		for (i += 7; i < n && (line[i] == ' ' || line[i] == '\t'); i++)
			;
	ks = i;
	while (i < n && (isalnum((unsigned char)line[i]) || line[i] == '_'))
		i++;
	if (i == ks || i - ks > sizeof k - 3)
		return false;
	k[0] = ',';
	memcpy(k + 1, line + ks, i - ks);
	k[i - ks + 1] = ',';
	k[i - ks + 2] = '\0';
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < n && line[i] == '=' && strstr(keys, k) != NULL;
}

static enum MHD_Result
api_settings_put(struct hs *h, struct MHD_Connection *c, struct req *rq)
{
	struct json j = { 0 };
	struct settings s;
	struct buf file = { 0 }, out = { 0 }, tmp = { 0 }, add = { 0 }, keys = { 0 };
	char why[256] = "";
	int fd = -1;
	enum MHD_Result r;

	if (!body_json(rq, &j)) {
		json_free(&j);
		return reply_error(c, 400, "expected a JSON object of settings");
	}
	if (settings_now(h, &s, &file) < 0) {
		json_free(&j);
		buf_free(&file);
		return reply_error(c, 500, "the settings file cannot be read");
	}
	for (int i = 0, t = 1; i < json_size(&j, 0); i++) {
		char k[64], v[1024];
		size_t n;
		const char *raw;
		int vt = json_skip(&j, t);

		if (json_str(&j, t, k, sizeof k) < 0) {
			snprintf(why, sizeof why, "a setting's name is too long");
			break;
		}
		raw = json_raw(&j, vt, &n);
		if (json_type(&j, vt) == JSON_STRING) {
			if (json_str(&j, vt, v, sizeof v) < 0 || strchr(v, '\n') || strchr(v, '\r')) {
				snprintf(why, sizeof why, "%s: not a one-line value", k);
				break;
			}
		} else if (n < sizeof v && json_type(&j, vt) != JSON_OBJECT && json_type(&j, vt) != JSON_ARRAY) {
			memcpy(v, raw, n);
			v[n] = '\0';
			if (!strcmp(v, "true"))
				snprintf(v, sizeof v, "on");
			else if (!strcmp(v, "false"))
				snprintf(v, sizeof v, "off");
		} else {
			snprintf(why, sizeof why, "%s: not a string, number or boolean", k);
			break;
		}
		if (!strcmp(k, "fingerprints") || !strcmp(k, "model")) {
			snprintf(why, sizeof why, "%s: set in the configuration, not from the dashboard", k);
			break;
		}
		if (settings_set(&s, k, v, why, sizeof why) < 0)
			break;
		buf_printf(&add, "%s=%s\n", k, v);
		buf_printf(&keys, ",%s,", k);   /* (names are [A-Za-z0-9_]: no comma) */
		why[0] = '\0';
		t = json_skip(&j, vt);
	}
	json_free(&j);
	if (!why[0])
		settings_check(&s, why, sizeof why);
	if (why[0]) {
		buf_free(&file);
		buf_free(&add);
		buf_free(&keys);
		return reply_error(c, 400, why);
	}
	/* the file again: its lines kept (comments, other keys) but those of a
	 * key set now, whose new lines come last: one line a key, however
	 * many times it is set */
	{
		struct buf merged = { 0 };

		for (size_t a = 0; a < file.len;) {
			const char *nl = memchr(file.p + a, '\n', file.len - a);
			size_t e = nl ? (size_t)(nl - file.p) + 1 : file.len;

			if (!setting_line_in(file.p + a, e - a, keys.p))
				buf_add(&merged, file.p + a, e - a);
			a = e;
		}
		if (merged.len && merged.p[merged.len - 1] != '\n')
			buf_putc(&merged, '\n');
		buf_add(&merged, add.p ? add.p : "", add.len);
		buf_free(&file);
		file = merged;
		buf_free(&add);
		buf_free(&keys);
	}
	/* atomically: a temporary file beside it, fsync'd, renamed over, and
	 * the rename itself made durable (its directory fsync'd) */
	buf_printf(&tmp, "%s.tmp%ld", h->settings_path, (long)getpid());
	if ((fd = open(tmp.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    write_all(fd, file.p ? file.p : "", file.len) < 0 || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp.p, h->settings_path) < 0) {
		snprintf(why, sizeof why, "%s: %s", h->settings_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp.p);
		buf_free(&tmp);
		buf_free(&file);
		warnx_("settings: %s", why);
		return reply_error(c, 500, why);
	}
	buf_free(&tmp);
	buf_free(&file);
	{
		char dir[PATH_MAX], *slash;
		int dfd;

		snprintf(dir, sizeof dir, "%s", h->settings_path);
		if ((slash = strrchr(dir, '/')) != NULL)
			*(slash == dir ? slash + 1 : slash) = '\0';
		else
			snprintf(dir, sizeof dir, ".");
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			if (fsync(dfd) < 0 && errno != EINVAL)
				warnx_("settings: %s: fsync: %s", dir, strerror(errno));
			close(dfd);
		}
	}
	{       /* signal-eval reloads */
		struct buf svc = { 0 };
		struct stat st;
		const char *argv[] = { "s6-svc", "-h", NULL, NULL };

		buf_printf(&svc, "%s/scan/signal-eval", h->run);
		argv[2] = svc.p;
		if (stat(svc.p, &st) == 0 && spawn(argv, NULL) != 0)
			warnx_("settings: s6-svc -h %s failed", svc.p);
		buf_free(&svc);
	}
	infox("settings: written to %s", h->settings_path);
	settings_json(&s, &out);
	r = reply_json(c, 200, &out);
	buf_free(&out);
	return r;
}

static void
raw_or_null(struct buf *b, const char *k, const char *raw)
{
	jw_key(b, k);
	if (raw)
		jw_raw(b, raw, strlen(raw));
	else
		jw_null(b);
}

static void
latest_array(struct buf *b, const char *k, const struct latest *l, int n, bool open_only)
{
	jw_key(b, k);
	jw_arr(b);
	for (int i = 0; i < n; i++)
		if (!open_only || !l[i].ended)
			jw_raw(b, l[i].line, strlen(l[i].line));
	jw_arr_end(b);
}

/* The open trades, each with the bid of the side held (100 - the other
 * side's ask, from the last strike table) and its live P&L at that bid:
 * held x bid + exit proceeds + revenue - entry cost - fees, in cc. */
static void
open_trades_json(struct hs *h, struct buf *b, const char *k)
{
	struct json st = { 0 }, t = { 0 };
	int rows = -1;

	if (h->strike && json_parse(&st, h->strike, strlen(h->strike)) == 0)
		rows = json_get(&st, 0, "rows");
	jw_key(b, k);
	jw_arr(b);
	for (int i = 0; i < h->ntrades; i++) {
		const char *l = h->trades[i].line;
		size_t n = strlen(l);
		char tk[RECIO_TICKER_MAX], side[8];
		int64_t held, cost, exitp, rev, fees, ask = -1;

		if (h->trades[i].ended)
			continue;
		if (n < 2 || l[n - 1] != '}' || json_parse(&t, l, n) < 0 ||
		    json_get_str(&t, 0, "ticker", tk, sizeof tk) < 0 || json_get_str(&t, 0, "side", side, sizeof side) < 0 ||
		    json_get_i64(&t, 0, "held", &held) < 0 || json_get_i64(&t, 0, "entry_cost_cc", &cost) < 0 ||
		    json_get_i64(&t, 0, "exit_proceeds_cc", &exitp) < 0 || json_get_i64(&t, 0, "revenue_cc", &rev) < 0 ||
		    json_get_i64(&t, 0, "fees_cc", &fees) < 0) {
			jw_raw(b, l, n);
			continue;
		}
		for (int r = 0; rows >= 0 && r < json_size(&st, rows); r++) {
			int row = json_at(&st, rows, r);
			char rt[RECIO_TICKER_MAX];

			if (json_get_str(&st, row, "ticker", rt, sizeof rt) == 0 && strcmp(rt, tk) == 0) {
				json_get_i64(&st, row, strcmp(side, "yes") == 0 ? "no_ask" : "yes_ask", &ask);
				break;
			}
		}
		if (ask < 0 || ask > 100) {
			jw_raw(b, l, n);
			continue;
		}
		jw_raw(b, l, n - 1);
		jw_ki64(b, "bid", 100 - ask);
		jw_ki64(b, "live_pnl_cc", held * (100 - ask) * CC_PER_CENT + exitp + rev - cost - fees);
		buf_putc(b, '}');
	}
	jw_arr_end(b);
	json_free(&t);
	json_free(&st);
}

/* price changes over 1 h, 3 h, 1 d: cents, from the one-second prices */
static void
changes(struct hs *h, struct buf *b)
{
	static const struct { const char *k; int64_t ms; } w[] = { { "1h", 3600000 }, { "3h", 10800000 }, { "1d", 86400000 } };

	jw_key(b, "change_c");
	jw_obj(b);
	if (h->nprices > 0) {
		int last = (h->price_head + h->nprices - 1) % PRICES;
		int64_t now = h->prices[last].ts, p = h->prices[last].price_c;

		for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) {
			int64_t then = -1;

			for (int i = 0; i < h->nprices; i++) {
				int x = (h->price_head + i) % PRICES;

				if (h->prices[x].ts >= now - w[k].ms) {
					then = h->prices[x].price_c;
					break;
				}
			}
			jw_key(b, w[k].k);
			if (then < 0 || h->prices[h->price_head].ts > now - w[k].ms + 60000)
				jw_null(b);     /* not that much history */
			else
				jw_i64(b, p - then);
		}
	}
	jw_obj_end(b);
}

static void
state_json(struct hs *h, struct buf *b)
{
	struct settings s;

	jw_obj(b);
	raw_or_null(b, "tick", h->tick);
	jw_ki64(b, "tick_age_ms", h->tick_wall ? rt_now_ms() - h->tick_wall : -1);
	changes(h, b);
	raw_or_null(b, "strike", h->strike);
	raw_or_null(b, "entry_status", h->entry_status);
	raw_or_null(b, "stop_status", h->stop_status);
	raw_or_null(b, "balance", h->balance);
	raw_or_null(b, "order_send", h->order_send_health);
	open_trades_json(h, b, "open_trades");
	latest_array(b, "positions", h->positions, h->npositions, true);
	latest_array(b, "health", h->healths, h->nhealths, false);
	jw_key(b, "services");
	services_json(h, b);
	jw_kbool(b, "kill_switch", access(h->kill_path, F_OK) == 0);
	jw_key(b, "settings");
	if (settings_now(h, &s, NULL) == 0)
		settings_json(&s, b);
	else
		jw_null(b);
	jw_ki64(b, "last_event_id", h->next_id - 1);
	jw_obj_end(b);
}

/* the recent one-second prices, for the chart: [[ts, cents], ...] */
static void
prices_json(struct hs *h, struct buf *b, int64_t since)
{
	jw_arr(b);
	for (int i = 0; i < h->nprices; i++) {
		int x = (h->price_head + i) % PRICES;

		if (h->prices[x].ts < since)
			continue;
		jw_arr(b);
		jw_i64(b, h->prices[x].ts);
		jw_i64(b, h->prices[x].price_c);
		jw_arr_end(b);
	}
	jw_arr_end(b);
}

static int64_t
qint(struct MHD_Connection *c, const char *k, int64_t def, int64_t lo, int64_t hi, bool *bad)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
	int64_t x;

	if (!v || !*v)
		return def;
	if (cfg_parse_i64(v, lo, hi, &x) < 0) {
		*bad = true;
		return def;
	}
	return x;
}

/* GET /api/trades: ended trades from the database, filtered, sorted, paged */
static enum MHD_Result
api_trades(struct hs *h, struct MHD_Connection *c, bool summary)
{
	bool bad = false;
	int64_t from = qint(c, "from", 0, 0, INT64_MAX / 2, &bad), to = qint(c, "to", INT64_MAX / 2, 0, INT64_MAX / 2, &bad);
	int64_t hour = qint(c, "hour", -1, 0, 23, &bad), limit = qint(c, "limit", 100, 1, 1000, &bad);
	int64_t offset = qint(c, "offset", 0, 0, 100000000, &bad);
	const char *result = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "result");
	const char *sort = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sort");
	const char *order = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "order");
	static const char *const sorts[] = { "ts", "open_ts", "pnl_cc", "fees_cc", "ticker", "count", NULL };
	struct buf sql = { 0 }, out = { 0 };
	struct db_val v[5];
	int nv = 0, rc;
	struct rows rows = { &out, 0 };
	enum MHD_Result r;

	if (result && *result && strcmp(result, "win") != 0 && strcmp(result, "loss") != 0)
		bad = true;
	if (sort && *sort) {
		int k;

		for (k = 0; sorts[k] && strcmp(sorts[k], sort) != 0; k++)
			;
		if (!sorts[k])
			bad = true;
	} else
		sort = "ts";
	if (order && *order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
		bad = true;
	if (bad)
		return reply_error(c, 400, "bad filter: from, to (ms), hour (0-23), result (win|loss), "
		    "sort (ts|open_ts|pnl_cc|fees_cc|ticker|count), order (asc|desc), limit (1-1000), offset");
	if (!db_ready(h))
		return reply_error(c, 503, "the database is unavailable");
	/* the signal behind each trade (its entry order's client order id is
	 * "r" + the signal id): probability and differential at entry */
	if (summary)
		buf_puts(&sql, "SELECT count(*) AS trades, coalesce(sum(t.win), 0) AS wins, coalesce(sum(t.pnl_cc), 0) AS pnl_cc, "
		    "coalesce(sum(t.fees_cc), 0) AS fees_cc, coalesce(sum(t.entry_cost_cc), 0) AS entry_cost_cc, "
		    "coalesce(sum(t.count), 0) AS contracts, avg(s.prob) AS avg_prob, avg(s.diff) AS avg_diff "
		    "FROM trades t LEFT JOIN signals s ON s.account = t.account AND s.id = substr(t.entry_client_order_id, 2)");
	else
		buf_puts(&sql, "SELECT t.raw FROM trades t");
	buf_puts(&sql, " WHERE t.account = ? AND t.status IN ('closed', 'settled') AND t.ts >= ? AND t.ts < ?");
	v[nv++] = (struct db_val){ DBV_TEXT, 0, h->account, strlen(h->account) };
	v[nv++] = (struct db_val){ DBV_INT, from, NULL, 0 };
	v[nv++] = (struct db_val){ DBV_INT, to, NULL, 0 };
	if (result && *result)
		buf_printf(&sql, " AND t.win = %d", strcmp(result, "win") == 0);
	if (hour >= 0) {        /* the contract's hour, UTC, from when it was opened */
		buf_puts(&sql, " AND (t.open_ts / 3600000) % 24 = ?");
		v[nv++] = (struct db_val){ DBV_INT, hour, NULL, 0 };
	}
	if (!summary)
		buf_printf(&sql, " ORDER BY t.%s %s, t.key LIMIT %lld OFFSET %lld", sort,
		    order && !strcmp(order, "asc") ? "ASC" : "DESC", (long long)limit, (long long)offset);
	if (!summary) {
		jw_obj(&out);
		jw_key(&out, "trades");
		jw_arr(&out);
	}
	rc = db_query(h->db, sql.p, v, nv, row_json, &rows);
	buf_free(&sql);
	if (rc != DB_OK) {
		db_failed(h, rc);
		buf_free(&out);
		return reply_error(c, 503, "the database is unavailable");
	}
	if (!summary) {
		jw_arr_end(&out);
		jw_ki64(&out, "count", rows.n);
		jw_obj_end(&out);
	}
	r = reply_json(c, 200, &out);
	buf_free(&out);
	return r;
}

/* GET /api/{fills,settlements,orders,signals}: the newest rows of a table */
static enum MHD_Result
api_table(struct hs *h, struct MHD_Connection *c, const char *table)
{
	bool bad = false;
	int64_t limit = qint(c, "limit", 100, 1, 1000, &bad), offset = qint(c, "offset", 0, 0, 100000000, &bad);
	struct buf sql = { 0 }, out = { 0 };
	struct db_val v = { DBV_TEXT, 0, h->account, strlen(h->account) };
	struct rows rows = { &out, 0 };
	enum MHD_Result r;
	int rc;

	if (bad)
		return reply_error(c, 400, "bad limit (1-1000) or offset");
	if (!db_ready(h))
		return reply_error(c, 503, "the database is unavailable");
	buf_printf(&sql, "SELECT raw FROM %s WHERE account = ? ORDER BY ts DESC LIMIT %lld OFFSET %lld", table,
	    (long long)limit, (long long)offset);
	jw_obj(&out);
	jw_key(&out, table);
	jw_arr(&out);
	rc = db_query(h->db, sql.p, &v, 1, row_json, &rows);
	buf_free(&sql);
	if (rc != DB_OK) {
		db_failed(h, rc);
		buf_free(&out);
		return reply_error(c, 503, "the database is unavailable");
	}
	jw_arr_end(&out);
	jw_obj_end(&out);
	r = reply_json(c, 200, &out);
	buf_free(&out);
	return r;
}

/* GET /api/logs/NAME?n=N: the last N (1-1000, default 100) lines of a
 * service's diagnostics */
static enum MHD_Result
api_log(struct hs *h, struct MHD_Connection *c, const char *name)
{
	bool bad = false, known = false;
	int64_t want = qint(c, "n", 100, 1, 1000, &bad);
	struct buf path = { 0 }, out = { 0 };
	char *data = NULL;
	size_t len = 0, start;
	int fd, nl = 0;
	struct stat st;
	enum MHD_Result r;

	for (int i = 0; i < h->nsvcs; i++)
		known |= strcmp(h->svcs[i].name, name) == 0;
	if (bad)
		return reply_error(c, 400, "n: 1 to 1000 lines");
	if (!known)
		return reply_error(c, 404, "no such service");
	buf_printf(&path, "%s/log/%s/diag/current", h->run, name);
	/* the last 256 KiB hold the lines wanted, or as many as there are */
	if ((fd = open(path.p, O_RDONLY | O_CLOEXEC)) >= 0 && fstat(fd, &st) == 0) {
		off_t from = st.st_size > 262144 ? st.st_size - 262144 : 0;
		ssize_t n;

		data = xmalloc((size_t)(st.st_size - from) + 1);
		while (len < (size_t)(st.st_size - from) &&
		    (n = pread(fd, data + len, (size_t)(st.st_size - from) - len, from + (off_t)len)) > 0)
			len += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	buf_free(&path);
	start = len;
	while (start > 0 && nl <= want)
		if (data[--start] == '\n' && ++nl > want) {
			start++;
			break;
		}
	jw_obj(&out);
	jw_kstr(&out, "service", name);
	jw_key(&out, "lines");
	jw_arr(&out);
	for (size_t i = start, b = start; i < len; i++)
		if (data[i] == '\n') {
			jw_strn(&out, data + b, i - b);
			b = i + 1;
		}
	jw_arr_end(&out);
	jw_obj_end(&out);
	free(data);
	r = reply_json(c, 200, &out);
	buf_free(&out);
	return r;
}

/* POST /api/order {ticker, side, action, count, price[, key]}: a manual
 * order, as a signal line into order-send's FIFO, so that it goes through
 * the same risk limits and the same exactly-once journal as the automatic
 * ones.  With a key (the client's, 8 to 64 of A-Z a-z 0-9 _ -), the
 * signal's id is derived from it, the user and the order: the same request
 * sent again (a retry after a lost answer, a double click) makes the same
 * id, which order-send takes once; the same key on another order does not. */
static enum MHD_Result
api_order(struct hs *h, struct MHD_Connection *c, struct req *rq, const char *user, const char *addr)
{
	struct json j = { 0 }, t = { 0 };
	char ticker[RECIO_TICKER_MAX], side[8], action[8], event[RECIO_TICKER_MAX] = "", id[40], key[72] = "";
	int kt;

	unsigned char rnd[8];
	int64_t count, price, ts = rt_now_ms(), close_ts = -1;
	struct buf line = { 0 }, path = { 0 }, out = { 0 };
	int fd;
	enum MHD_Result r;

	if (!body_json(rq, &j) || json_get_str(&j, 0, "ticker", ticker, sizeof ticker) < 0 ||
	    json_get_str(&j, 0, "side", side, sizeof side) < 0 || json_get_str(&j, 0, "action", action, sizeof action) < 0 ||
	    json_get_i64(&j, 0, "count", &count) < 0 || json_get_i64(&j, 0, "price", &price) < 0 ||
	    (strcmp(side, "yes") != 0 && strcmp(side, "no") != 0) ||
	    (strcmp(action, "buy") != 0 && strcmp(action, "sell") != 0) ||
	    count < 1 || count > 100000 || price < 1 || price > 99 || strspn(ticker,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._") != strlen(ticker) ||
	    !(ticker[0] >= 'A' && ticker[0] <= 'Z') || strstr(ticker, "..") != NULL) {
		/* (a market ticker: KXBTCD-26NOV3003-T100249.99; not "", not "..") */
		json_free(&j);
		return reply_error(c, 400, "expected {\"ticker\": a market's, \"side\": yes|no, \"action\": buy|sell, "
		    "\"count\": 1-100000, \"price\": 1-99 cents}");
	}
	if ((kt = json_get(&j, 0, "key")) >= 0 && (json_str(&j, kt, key, sizeof key) < 0 || strlen(key) < 8 ||
	    strlen(key) > 64 || strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(key))) {
		json_free(&j);
		return reply_error(c, 400, "\"key\": 8 to 64 of A-Z a-z 0-9 _ -");
	}
	json_free(&j);
	/* no buy on a stale price: its time to close, and the risk checks
	 * order-send makes with it, would be as old (a sale, which ends a
	 * risk, goes whatever the feed) */
	if (strcmp(action, "buy") == 0 && (!h->tick_wall || rt_now_ms() - h->tick_wall >= h->stale_ms))
		return reply_error(c, 503, "the price feed is stale: no manual buy until it is back");
	/* message time: the exchange's clock, from the last tick's time and
	 * how long ago it came; and the event of the ladder */
	if (h->tick && json_parse(&t, h->tick, strlen(h->tick)) == 0 && json_get_i64(&t, 0, "ts", &ts) == 0 &&
	    h->tick_wall && rt_now_ms() > h->tick_wall)
		ts += rt_now_ms() - h->tick_wall;
	json_free(&t);
	if (h->strike && json_parse(&t, h->strike, strlen(h->strike)) == 0) {
		json_get_str(&t, 0, "event_ticker", event, sizeof event);
		json_get_i64(&t, 0, "close_ts", &close_ts);
		if (strncmp(ticker, event, strlen(event)) != 0)
			event[0] = '\0', close_ts = -1;
	}
	json_free(&t);
	if (key[0]) {
		struct buf kb = { 0 };
		char h64[65];

		buf_printf(&kb, "recio-order:%s\n%s\n%s %s %s %lld %lld", user, key, ticker, side, action,
		    (long long)count, (long long)price);
		sha256_hex(kb.p, h64);
		buf_free(&kb);
		snprintf(id, sizeof id, "m%.16s", h64);
	} else {
		if (RAND_bytes(rnd, sizeof rnd) != 1)
			return reply_error(c, 500, "no randomness for an order id");
		id[0] = 'm';
		hex(rnd, sizeof rnd, id + 1);
	}
	msg_begin(&line, "signal", ts);
	jw_kstr(&line, "id", id);
	jw_kstr(&line, "intent", strcmp(action, "buy") == 0 ? "open" : "close");
	jw_kstr(&line, "ticker", ticker);
	if (event[0])
		jw_kstr(&line, "event_ticker", event);
	jw_kstr(&line, "side", side);
	jw_kstr(&line, "action", action);
	jw_ki64(&line, "count", count);
	jw_ki64(&line, "price", price);
	if (close_ts > 0)
		jw_ki64(&line, "ttc", (close_ts - ts) / 1000);
	jw_kstr(&line, "reason", "manual");
	jw_kstr(&line, "user", user);
	jw_obj_end(&line);
	buf_putc(&line, '\n');
	buf_printf(&path, "%s/fifo/order-send.in", h->run);
	/* non-blocking: a full FIFO (order-send stopped) is an answer, not a hang */
	fd = open(path.p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || write(fd, line.p, line.len) != (ssize_t)line.len) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		warnx_("manual order: %s: %s", path.p, strerror(e));
		buf_free(&line);
		buf_free(&path);
		return reply_error(c, 503, "order-send is not taking orders now");
	}
	close(fd);
	infox("manual order %s by %s from %s: %s %lld %s %s at %lld", id, user, addr, action, (long long)count, side,
	    ticker, (long long)price);
	buf_free(&line);
	buf_free(&path);
	jw_obj(&out);
	jw_kstr(&out, "signal_id", id);
	memmove(id + 1, id, strlen(id) + 1);    /* order-send's client order id: "r" + the signal id */
	id[0] = 'r';
	jw_kstr(&out, "client_order_id", id);
	jw_obj_end(&out);
	r = reply_json(c, 200, &out);
	buf_free(&out);
	return r;
}

/* ---- /health and /metrics ---- */

static bool
health_json(struct hs *h, struct buf *b)
{
	bool ok = true, db_ok = db_ready(h);
	int64_t age = h->tick_wall ? rt_now_ms() - h->tick_wall : -1;
	int mism = 0;

	/* the database asked at most once a second: /health is polled, and the
	 * query costs more than the rest of the answer; a connection lost in
	 * any query shows at once */
	if (db_ok && rt_mono_ms() - h->db_seen >= 1000) {
		int64_t x;
		int isnull, rc = db_query_i64(h->db, "SELECT 1", &x, &isnull);

		if (rc != DB_OK) {
			db_failed(h, rc);
			db_ok = false;
		} else
			h->db_seen = rt_mono_ms();
	}
	jw_obj(b);
	jw_key(b, "services");
	services_json(h, b);
	for (int i = 0; i < h->nsvcs; i++)
		ok &= h->svcs[i].up && !proc_stopped(h->svcs[i].pid);
	jw_key(b, "database");
	jw_obj(b);
	jw_kbool(b, "ok", db_ok);
	if (!db_ok)
		jw_kstr(b, "error", h->db_err[0] ? h->db_err : "not connected");
	jw_obj_end(b);
	jw_key(b, "feed");
	jw_obj(b);
	jw_key(b, "tick_age_ms");
	if (age < 0)
		jw_null(b);
	else
		jw_i64(b, age);
	jw_obj_end(b);
	jw_key(b, "mismatches");
	jw_arr(b);
	for (int i = 0; i < h->nhealths; i++)
		if (!h->healths[i].ended && strstr(h->healths[i].line, "\"status\":\"mismatch\"") &&
		    strchr(h->healths[i].key, '|')) {
			jw_raw(b, h->healths[i].line, strlen(h->healths[i].line));
			mism++;
		}
	jw_arr_end(b);
	ok = ok && db_ok && age >= 0 && age < h->stale_ms && mism == 0;
	jw_kstr(b, "status", ok ? "ok" : "unhealthy");
	jw_obj_end(b);
	return ok;
}

static void
metric(struct buf *b, const char *name, const char *help, const char *type)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
metrics_text(struct hs *h, struct buf *b)
{
	static const char *const classes[] = { "health", "metrics", "api", "events", "static", "other" };
	int64_t exposure = 0, pnl_today = 0, day = rt_now_ms() / 86400000, cum = 0;
	struct stat st;
	struct buf p = { 0 };

	metric(b, "recio_messages_total", "Message lines read from the services' data logs, by type.", "counter");
	for (int i = 0; i < NTYPES; i++)
		buf_printf(b, "recio_messages_total{type=\"%s\"} %lld\n", msg_types[i], (long long)h->messages_by_type[i]);
	metric(b, "recio_malformed_lines_total", "Data log lines that were not messages.", "counter");
	buf_printf(b, "recio_malformed_lines_total %lld\n", (long long)h->malformed);
	metric(b, "recio_orders_total", "Order lines by status.", "counter");
	for (int i = 0; i < 10; i++)
		buf_printf(b, "recio_orders_total{status=\"%s\"} %lld\n", order_statuses[i], (long long)h->orders_by_status[i]);
	metric(b, "recio_refusals_total", "Orders refused by order-send, by risk rule.", "counter");
	if (h->order_send_health) {
		struct json j = { 0 };
		int o;

		if (json_parse(&j, h->order_send_health, strlen(h->order_send_health)) == 0 &&
		    (o = json_get(&j, 0, "refused_by_rule")) >= 0 && json_type(&j, o) == JSON_OBJECT)
			for (int i = 0, t = o + 1; i < json_size(&j, o); i++) {
				char k[48];
				int64_t v = 0;
				int vt = json_skip(&j, t);

				json_str(&j, t, k, sizeof k);
				json_i64(&j, vt, &v);
				buf_printf(b, "recio_refusals_total{rule=\"%s\"} %lld\n", k, (long long)v);
				t = json_skip(&j, vt);
			}
		json_free(&j);
	}
	metric(b, "recio_errors_total", "Health lines that were not ok, by service.", "gauge");
	for (int i = 0; i < h->nhealths; i++)
		if (!h->healths[i].ended && !strchr(h->healths[i].key, '|'))
			buf_printf(b, "recio_errors_total{src=\"%s\"} 1\n", h->healths[i].key);
	for (int i = 0; i < h->npositions; i++) {
		struct json j = { 0 };
		int64_t x = 0;

		if (!h->positions[i].ended && json_parse(&j, h->positions[i].line, strlen(h->positions[i].line)) == 0 &&
		    json_get_i64(&j, 0, "exposure_cc", &x) == 0)
			exposure += x;
		json_free(&j);
	}
	for (int i = 0; i < h->ntrades; i++) {
		struct json j = { 0 };
		int64_t x = 0, ts = 0;

		if (h->trades[i].ended && json_parse(&j, h->trades[i].line, strlen(h->trades[i].line)) == 0 &&
		    json_get_i64(&j, 0, "pnl_cc", &x) == 0 && json_get_i64(&j, 0, "ts", &ts) == 0 && ts / 86400000 == day)
			pnl_today += x;
		json_free(&j);
	}
	metric(b, "recio_open_exposure_dollars", "Cost of the positions held.", "gauge");
	buf_printf(b, "recio_open_exposure_dollars %lld.%04lld\n", (long long)(exposure / 10000), (long long)llabs(exposure % 10000));
	metric(b, "recio_pnl_today_dollars", "P&L of the trades ended today (UTC), as far as this server has seen.", "gauge");
	buf_printf(b, "recio_pnl_today_dollars %s%lld.%04lld\n", pnl_today < 0 ? "-" : "", llabs(pnl_today) / 10000,
	    llabs(pnl_today) % 10000);
	metric(b, "recio_feed_age_seconds", "Seconds since the last tick.", "gauge");
	if (h->tick_wall)
		buf_printf(b, "recio_feed_age_seconds %.3f\n", (double)(rt_now_ms() - h->tick_wall) / 1000.0);
	metric(b, "recio_spool_bytes", "db-sink's spool file size.", "gauge");
	buf_printf(&p, "%s/db-sink.spool", h->state);
	buf_printf(b, "recio_spool_bytes %lld\n", stat(p.p, &st) == 0 ? (long long)st.st_size : 0LL);
	buf_free(&p);
	metric(b, "recio_service_up", "1 when the service is up.", "gauge");
	for (int i = 0; i < h->nsvcs; i++)
		buf_printf(b, "recio_service_up{service=\"%s\"} %d\n", h->svcs[i].name, h->svcs[i].up);
	metric(b, "recio_http_requests_total", "HTTP requests, by kind.", "counter");
	for (int i = 0; i < 6; i++)
		buf_printf(b, "recio_http_requests_total{kind=\"%s\"} %lld\n", classes[i], (long long)h->req_by_class[i]);
	metric(b, "recio_http_request_seconds", "HTTP request latency.", "histogram");
	for (int i = 0; i < 8; i++) {
		cum += h->lat_buckets[i];
		buf_printf(b, "recio_http_request_seconds_bucket{le=\"%g\"} %lld\n", lat_bounds[i], (long long)cum);
	}
	cum += h->lat_buckets[8];
	buf_printf(b, "recio_http_request_seconds_bucket{le=\"+Inf\"} %lld\n", (long long)cum);
	buf_printf(b, "recio_http_request_seconds_sum %.6f\nrecio_http_request_seconds_count %lld\n",
	    (double)h->lat_sum_us / 1e6, (long long)cum);
	metric(b, "recio_event_streams", "Connected /events clients.", "gauge");
	buf_printf(b, "recio_event_streams %d\n", h->nclients);
	metric(b, "recio_logins_total", "Logins, by outcome.", "counter");
	buf_printf(b, "recio_logins_total{outcome=\"ok\"} %lld\nrecio_logins_total{outcome=\"failed\"} %lld\n"
	    "recio_logins_total{outcome=\"limited\"} %lld\n", (long long)h->logins_ok, (long long)h->logins_failed,
	    (long long)h->logins_limited);
}

/* ---- static files ---- */

static const char *
mime(const char *path)
{
	static const struct { const char *ext, *type; } m[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
		{ ".ico", "image/x-icon" }, { ".json", "application/json" }, { ".wav", "audio/wav" },
		{ ".mp3", "audio/mpeg" }, { ".txt", "text/plain; charset=utf-8" }, { ".woff2", "font/woff2" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof m / sizeof m[0]; i++)
		if (strcmp(dot, m[i].ext) == 0)
			return m[i].type;
	return "application/octet-stream";
}

/* A file under www, opened: no component of its path, symlinks included,
 * may lead out of www.  openat2 with RESOLVE_BENEATH does that in one call;
 * without it (an old kernel), realpath and a comparison.  -1: none. */
static int
www_open(struct hs *h, const char *rel, struct stat *st)
{
	struct buf p = { 0 };
	char real[PATH_MAX];
	const char *root = h->www_real;
	size_t rl;
	int fd = -1;

	if (h->www_fd < 0)
		h->www_fd = open(h->www, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->www_fd >= 0) {
		/* O_NONBLOCK: a FIFO does not hang the server (it is refused below) */
		struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };

		fd = (int)syscall(SYS_openat2, h->www_fd, rel, &how, sizeof how);
		if (fd < 0 && errno != ENOSYS)
			return -1;
	}
	if (fd < 0) {
		if (!root[0] && !realpath(h->www, h->www_real))
			h->www_real[0] = '\0';         /* not yet there: tried again next time */
		buf_printf(&p, "%s/%s", h->www, rel);
		rl = strlen(root);
		if (root[0] && realpath(p.p, real) && strncmp(real, root, rl) == 0 && real[rl] == '/')
			fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		buf_free(&p);
	}
	if (fd >= 0 && (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static enum MHD_Result
serve_file(struct hs *h, struct MHD_Connection *c, const char *url)
{
	const char *rel = strcmp(url, "/") == 0 ? "index.html" : url + 1;
	struct stat st;
	struct MHD_Response *r;
	enum MHD_Result ret;
	int fd;

	/* no "..", no backslash, no NUL, no hidden file: then the file must
	 * still be under the root (symlinks) */
	if (url[0] != '/' || strstr(url, "..") || strchr(url, '\\') || strstr(url, "/.") ||
	    (fd = www_open(h, rel, &st)) < 0)
		return reply_error(c, 404, "not found");
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	MHD_add_response_header(r, "Content-Type", mime(rel));
	/* vendor files never change under their name; the app is revalidated */
	MHD_add_response_header(r, "Cache-Control", strncmp(url, "/vendor/", 8) == 0 ? "public, max-age=86400" : "no-cache");
	secure_headers(r);
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- routing ---- */

/* Whether an HTTP Host (or, origin: an Origin, which may be absent) names
 * this machine's loopback: 127.0.0.1, localhost or [::1], with any port. */
static bool
loopback_host(const char *v, bool origin)
{
	static const char *const names[] = { "127.0.0.1", "localhost", "[::1]" };

	if (v == NULL)
		return origin;  /* an Origin is sent by browsers on a state change; curl sends none */
	if (origin) {
		if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
			return false;
		v = strchr(v, '/') + 2;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		size_t n = strlen(names[i]);

		if (strncasecmp(v, names[i], n) == 0 && (v[n] == '\0' || (v[n] == ':' &&
		    v[n + 1] != '\0' && strspn(v + n + 1, "0123456789") == strlen(v + n + 1))))
			return true;
	}
	return false;
}

static enum MHD_Result
route(struct hs *h, struct MHD_Connection *c, const char *url, const char *method, struct req *rq)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0, put = strcmp(method, "PUT") == 0;
	const char *user, *token;
	char addr[INET6_ADDRSTRLEN], csrf[65];
	bool lo;
	struct buf out = { 0 };
	enum MHD_Result r;

	client_addr(c, addr, sizeof addr, &lo);
	/* without a login, being on loopback is the only guard: a page whose
	 * name an attacker points at 127.0.0.1 (DNS rebinding) would be of
	 * the same origin as this server, so only loopback names are served,
	 * and a state change only from this server's own pages */
	if (h->no_login && (!loopback_host(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"), false) ||
	    (!get && !loopback_host(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"), true))))
		return reply_error(c, 403, "--no-login: only a loopback name (127.0.0.1, localhost, [::1]) is served");
	if (strcmp(url, "/health") == 0) {
		bool ok;

		rq->klass = 0;
		if (!get)
			return reply_error(c, 405, "GET only");
		ok = health_json(h, &out);
		r = reply_json(c, ok ? 200 : 503, &out);
		buf_free(&out);
		return r;
	}
	if (rq->too_big)
		return reply_error(c, 413, "the request body is larger than 16 KiB");
	user = session_user(h, c, &token);
	if (strcmp(url, "/metrics") == 0) {
		rq->klass = 1;
		if (!lo && !user)
			return reply_error(c, 401, "log in, or scrape from the machine itself");
		metrics_text(h, &out);
		r = reply(c, 200, "text/plain; version=0.0.4", out.p, out.len, NULL, NULL);
		buf_free(&out);
		return r;
	}
	if (strncmp(url, "/api/", 5) == 0 || strcmp(url, "/events") == 0) {
		rq->klass = strcmp(url, "/events") == 0 ? 3 : 2;
		if (strcmp(url, "/api/login") == 0) {
			if (!post)
				return reply_error(c, 405, "POST only");
			return api_login(h, c, rq);
		}
		if (!user)
			return reply_error(c, 401, "log in first");
		/* every state-changing request carries the session's anti-CSRF token */
		if (!get) {
			const char *x = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");

			if (h->no_login)
				snprintf(csrf, sizeof csrf, "local");
			else
				csrf_of(token, csrf);
			if (!x || strlen(x) != strlen(csrf) || CRYPTO_memcmp(x, csrf, strlen(csrf)) != 0)
				return reply_error(c, 403, "missing or wrong X-CSRF-Token header");
		}
		if (strcmp(url, "/events") == 0) {
			struct client *cl;
			const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID");
			int64_t id;

			if (!get)
				return reply_error(c, 405, "GET only");
			cl = xcalloc(1, sizeof *cl);
			cl->c = c;
			cl->next = h->next_id;
			if (last) {
				/* "EPOCH-N" of this run, and an N it has sent: what came
				 * after; anything else (another run's, a restart's, made
				 * up) cannot be resumed: the client reloads state */
				const char *dash = strchr(last, '-');
				char ep[24];
				int64_t e;

				if (dash && (size_t)(dash - last) < sizeof ep) {
					memcpy(ep, last, (size_t)(dash - last));
					ep[dash - last] = '\0';
				} else
					ep[0] = '\0';
				if (cfg_parse_i64(ep, 0, INT64_MAX, &e) == 0 && e == h->epoch &&
				    cfg_parse_i64(dash + 1, 0, INT64_MAX / 2, &id) == 0 && id < h->next_id)
					cl->next = id + 1;
				else
					cl->reset = true;
			}
			cl->last_ping = rt_mono_ms();
			buf_puts(&cl->out, "retry: 2000\n\n");
			cl->nx = h->clients;
			h->clients = cl;
			h->nclients++;
			rq->stream = cl;        /* answered by on_request, without the lock */
			return MHD_YES;
		}
		if (strcmp(url, "/api/session") == 0 && get) {
			jw_obj(&out);
			jw_kstr(&out, "user", user);
			if (h->no_login)
				jw_kstr(&out, "csrf", "local");
			else {
				csrf_of(token, csrf);
				jw_kstr(&out, "csrf", csrf);
			}
			jw_kbool(&out, "no_login", h->no_login);
			jw_obj_end(&out);
		} else if (strcmp(url, "/api/logout") == 0 && post) {
			char hash[65];

			if (!h->no_login) {
				struct db_val v = { DBV_TEXT, 0, hash, 64 };
				int rc;

				sha256_hex(token, hash);
				session_forget(h, hash);
				/* a session the database still holds is not ended: say so */
				if (!db_ready(h))
					return reply_error(c, 503, "the database is unavailable: the session is not ended");
				if ((rc = db_query(h->db, "DELETE FROM sessions WHERE token_hash = ?", &v, 1, NULL, NULL)) != DB_OK) {
					db_failed(h, rc);
					return reply_error(c, 503, "the database is unavailable: the session is not ended");
				}
			}
			return reply(c, 200, "application/json", "{}", 2, NULL,
			    SESSION_COOKIE "=; " COOKIE_ATTRS "; Max-Age=0");
		} else if (strcmp(url, "/api/password") == 0 && post) {
			struct json j = { 0 };
			char old[256], nw[256], why[256], who[64], verified[65];
			int rc;

			if (h->no_login)
				return reply_error(c, 400, "no users in no-login mode");
			/* the old password is guessed against the same budget as a
			 * login's: a stolen session must not try it without limit */
			if (bucket_of(h, addr)->tokens < 1) {
				h->logins_limited++;
				return reply_error(c, 429, "too many wrong passwords from this address: wait a minute");
			}
			snprintf(who, sizeof who, "%s", user);  /* user is in the session cache, */
			user = who;                             /* which may change while hashing */
			if (!body_json(rq, &j) || json_get_str(&j, 0, "old", old, sizeof old) < 0 ||
			    json_get_str(&j, 0, "new", nw, sizeof nw) < 0) {
				json_free(&j);
				return reply_error(c, 400, "expected {\"old\":...,\"new\":...}");
			}
			json_free(&j);
			rc = check_password(h, user, old, verified);
			if (rc == 0) {
				/* the new hash without the lock, as the old one's; stored
				 * only if the old one is still the user's (two changes at
				 * once: the second finds the first's) */
				char salt_hex[33], hash_hex[65];

				unlock();
				rc = password_hash(nw, salt_hex, hash_hex, why, sizeof why) < 0 ? -3 : 0;
				lock();
				if (rc == 0 && (rc = hash_still(h, user, verified)) != -2)
					rc = rc == 1 ? 0 : -1;
				if (rc == 0 && (rc = password_store(h->db, user, salt_hex, hash_hex, false, why,
				    sizeof why)) < 0)
					rc = rc == -2 ? -4 : -3;
				OPENSSL_cleanse(hash_hex, sizeof hash_hex);
			}
			OPENSSL_cleanse(old, sizeof old);
			OPENSSL_cleanse(nw, sizeof nw);
			if (rc == -2)
				return reply_error(c, 503, "the database is unavailable");
			if (rc == -1) {
				bucket_of(h, addr)->tokens -= 1;
				h->logins_failed++;
				warnx_("password change for %s from %s: the old password is wrong", user, addr);
				return reply_error(c, 403, "the old password is wrong");
			}
			if (rc == -3)
				return reply_error(c, 400, why);
			memset(h->scache, 0, sizeof h->scache);
			if (rc == -4) {
				warnx_("password of %s: %s", user, why);
				return reply_error(c, 500, why);
			}
			memset(h->scache, 0, sizeof h->scache);
			infox("password changed for %s; every session of the user ended", user);
			return reply(c, 200, "application/json", "{}", 2, NULL,
			    SESSION_COOKIE "=; " COOKIE_ATTRS "; Max-Age=0");
		} else if (strcmp(url, "/api/state") == 0 && get)
			state_json(h, &out);
		else if (strcmp(url, "/api/prices") == 0 && get) {
			bool bad = false;
			int64_t since = qint(c, "since", 0, 0, INT64_MAX / 2, &bad);

			if (bad)
				return reply_error(c, 400, "since: milliseconds");
			prices_json(h, &out, since);
		} else if (strcmp(url, "/api/strikes") == 0 && get) {
			if (h->strike)
				buf_puts(&out, h->strike);
			else
				buf_puts(&out, "null");
		} else if (strcmp(url, "/api/services") == 0 && get)
			services_json(h, &out);
		else if (strcmp(url, "/api/open-trades") == 0 && get) {
			jw_obj(&out);
			open_trades_json(h, &out, "trades");
			jw_obj_end(&out);
		} else if (strcmp(url, "/api/positions") == 0 && get) {
			jw_obj(&out);
			latest_array(&out, "positions", h->positions, h->npositions, true);
			jw_obj_end(&out);
		} else if (strcmp(url, "/api/balance") == 0 && get)
			buf_puts(&out, h->balance ? h->balance : "null");
		else if (strcmp(url, "/api/trades") == 0 && get)
			return api_trades(h, c, false);
		else if (strcmp(url, "/api/trades/summary") == 0 && get)
			return api_trades(h, c, true);
		else if (strcmp(url, "/api/fills") == 0 && get)
			return api_table(h, c, "fills");
		else if (strcmp(url, "/api/settlements") == 0 && get)
			return api_table(h, c, "settlements");
		else if (strcmp(url, "/api/orders") == 0 && get)
			return api_table(h, c, "orders");
		else if (strcmp(url, "/api/settings") == 0 && get) {
			struct settings s;

			if (settings_now(h, &s, NULL) < 0)
				return reply_error(c, 500, "the settings file does not load");
			settings_json(&s, &out);
		} else if (strcmp(url, "/api/settings") == 0 && put)
			return api_settings_put(h, c, rq);
		else if (strcmp(url, "/api/kill-switch") == 0 && post) {
			struct json j = { 0 };
			bool on;

			if (!body_json(rq, &j) || json_get_bool(&j, 0, "on", &on) < 0) {
				json_free(&j);
				return reply_error(c, 400, "expected {\"on\":true|false}");
			}
			json_free(&j);
			if (on) {
				int fd = open(h->kill_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

				if (fd < 0 || close(fd) < 0)
					return reply_error(c, 500, "cannot create the kill-switch file");
			} else if (unlink(h->kill_path) < 0 && errno != ENOENT)
				return reply_error(c, 500, "cannot remove the kill-switch file");
			infox("kill switch %s by %s from %s", on ? "on" : "off", user, addr);
			jw_obj(&out);
			jw_kbool(&out, "kill_switch", on);
			jw_obj_end(&out);
		} else if (strncmp(url, "/api/logs/", 10) == 0 && get)
			return api_log(h, c, url + 10);
		else if (strcmp(url, "/api/order") == 0 && post)
			return api_order(h, c, rq, user, addr);
		else if (strncmp(url, "/api/services/", 14) == 0 && post) {
			char name[64];
			const char *sl = strchr(url + 14, '/');
			struct buf dir = { 0 };
			struct stat st;
			const char *argv[] = { "s6-svc", "-r", NULL, NULL };
			bool known = false;

			if (!sl || strcmp(sl, "/restart") != 0 || (size_t)(sl - url - 14) >= sizeof name)
				return reply_error(c, 404, "POST /api/services/NAME/restart");
			snprintf(name, sizeof name, "%.*s", (int)(sl - url - 14), url + 14);
			for (int i = 0; i < h->nsvcs; i++)
				known |= strcmp(h->svcs[i].name, name) == 0;
			buf_printf(&dir, "%s/scan/%s", h->run, name);
			if (!known || stat(dir.p, &st) != 0) {
				buf_free(&dir);
				return reply_error(c, 404, "no such service");
			}
			argv[2] = dir.p;
			if (spawn(argv, NULL) != 0) {
				buf_free(&dir);
				return reply_error(c, 500, "s6-svc -r failed");
			}
			buf_free(&dir);
			infox("service %s restarted by %s from %s", name, user, addr);
			jw_obj(&out);
			jw_kstr(&out, "restarted", name);
			jw_obj_end(&out);
		} else
			return reply_error(c, get || post || put ? 404 : 405, "no such API route");
		r = reply_json(c, 200, &out);
		buf_free(&out);
		return r;
	}
	rq->klass = 4;
	if (!get)
		return reply_error(c, 405, "GET only");
	return serve_file(h, c, url);
}

static enum MHD_Result
on_request_locked(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_size, void **con_cls)
{
	struct hs *h = cls;
	struct req *rq = *con_cls;

	(void)version;
	if (rq == NULL) {
		rq = xcalloc(1, sizeof *rq);
		rq->t0 = (rt_mono_ns() / 1000);
		rq->klass = 5;
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->body.len + *upload_size > BODY_MAX)
			rq->too_big = true;
		else
			buf_add(&rq->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return route(h, c, url, method, rq);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
    const char *upload, size_t *upload_size, void **con_cls)
{
	struct req *rq;
	struct client *cl = NULL;
	struct MHD_Response *resp;
	enum MHD_Result r;

	lock();
	r = on_request_locked(cls, c, url, method, version, upload, upload_size, con_cls);
	if ((rq = *con_cls) != NULL) {
		cl = rq->stream;
		rq->stream = NULL;
	}
	unlock();
	if (cl == NULL)
		return r;
	/* A stream's answer is made and queued without the lock: libmicrohttpd
	 * holds the answer's own mutex when it calls sse_read (which takes
	 * the lock), and frees it with sse_free (which takes it too). */
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 65536, sse_read, cl, sse_free);
	if (resp == NULL) {
		warnx_("/events: cannot make the stream's answer (out of memory?): connection closed");
		sse_free(cl);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	secure_headers(resp);
	if ((r = MHD_queue_response(c, 200, resp)) != MHD_YES)
		warnx_("/events: libmicrohttpd did not take the stream's answer: connection closed");
	MHD_destroy_response(resp);
	return r;
}

/* libmicrohttpd's own messages (a refused connection, a timeout): prefixed
 * like ours, and at most 10 a minute, so that a flood cannot fill the
 * disk; what was held back is counted in the next. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;        /* not the big one: */
	static int64_t minute;                                          /* MHD logs from */
	static unsigned n, held;                                        /* calls made under it */
	int64_t now = rt_mono_ms() / 60000;
	char msg[512];
	size_t l;

	(void)cls;
	pthread_mutex_lock(&mu);
	if (now != minute) {
		minute = now;
		n = 0;
	}
	if (++n > 10) {
		held++;
		pthread_mutex_unlock(&mu);
		return;
	}
	vsnprintf(msg, sizeof msg, fmt, ap);
	l = strlen(msg);
	while (l > 0 && msg[l - 1] == '\n')
		msg[--l] = '\0';
	if (held) {
		warnx_("libmicrohttpd: %s (and %u more held back)", msg, held);
		held = 0;
	} else
		warnx_("libmicrohttpd: %s", msg);
	pthread_mutex_unlock(&mu);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct hs *h = cls;
	struct req *rq = *con_cls;

	(void)c;
	(void)toe;
	if (rq == NULL)
		return;
	lock();
	if (rq->klass != 3) {   /* streams are not requests with a latency */
		int64_t us = rt_mono_ns() / 1000 - rq->t0;     /* t0 is in whole microseconds */
		double s = (double)us / 1e6;
		int b;

		for (b = 0; b < 8 && s > lat_bounds[b]; b++)
			;
		h->lat_buckets[b]++;
		h->lat_sum_us += (rt_mono_ns() / 1000) - rq->t0;
	}
	h->requests++;
	h->req_by_class[rq->klass]++;
	unlock();
	buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
}

/* ---- users from the command line ---- */

static int
user_cmd(const char *db_url, const char *name, bool create)
{
	char pw[512], err[256];
	struct db *db;
	int rc, applied;
	size_t n;
	const char *sql = cfg_env("RECIO_SQL", NULL);

	if (!*name || strlen(name) > 63 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
	    strlen(name))
		die(2, "%s: a user name is 1 to 63 letters, digits, '.', '_' or '-'", name);
	if (fgets(pw, sizeof pw, stdin) == NULL)
		die(1, "no password on stdin");
	n = strlen(pw);
	while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
		pw[--n] = '\0';
	if ((db = db_open(db_url, err, sizeof err, &rc)) == NULL)
		die(1, "database: %s", err);
	if (sql && db_migrate(db, sql, &applied) != DB_OK)
		die(1, "database: migrations: %s", db_error(db));
	if (!create) {
		struct buf row = { 0 };
		struct db_val v = { DBV_TEXT, 0, name, strlen(name) };

		if (db_query(db, "SELECT username FROM users WHERE username = ?", &v, 1, row_first, &row) != DB_OK)
			die(1, "database: %s", db_error(db));
		if (row.len == 0)
			die(1, "%s: no such user (health-serve --user-add %s)", name, name);
		buf_free(&row);
	}
	if (set_password(db, name, pw, create, err, sizeof err) < 0) {
		OPENSSL_cleanse(pw, sizeof pw);
		die(1, "%s: %s", name, err);
	}
	OPENSSL_cleanse(pw, sizeof pw);
	db_close(db);
	printf("%s: user %s %s\n", diag_prog, name, create ? "added" : "given a new password");
	return 0;
}

/* ---- main ---- */

static bool
loopback_bind(const char *a)
{
	return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 || strcmp(a, "localhost") == 0;
}

static void
options_defaults(struct hs *h)
{
	static char settings[PATH_MAX], kill[PATH_MAX], www[PATH_MAX + 32];
	char exe[PATH_MAX];
	ssize_t n;

	h->bind = "127.0.0.1";
	h->port = 8081;
	h->max_conns = 2000;
	h->max_per_addr = 64;
	h->timeout_s = 30;
	h->threads = 2;
	h->stale_ms = 30000;
	h->db_timeout_ms = 5000;
	h->state = cfg_env("RECIO_STATE", "var");
	h->run = cfg_env("RECIO_RUN", NULL);
	h->db_url = cfg_env("RECIO_DB", "sqlite:var/recio.db");
	h->account = cfg_env("RECIO_ACCOUNT", "default");
	snprintf(kill, sizeof kill, "%s/KILL", h->state);
	h->kill_path = cfg_env("RECIO_KILL", kill);
	snprintf(settings, sizeof settings, "%s/settings.conf", h->state);
	h->settings_path = cfg_env("SIGNAL_SETTINGS", settings);
	h->www = NULL;
	h->www_fd = -1;
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
		struct stat st;

		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		snprintf(www, sizeof www, "%s/../../share/www", exe);
		if (stat(www, &st) != 0)
			snprintf(www, sizeof www, "%s/../share/recio/www", exe);
		h->www = www;
	}
}

int
main(int argc, char **argv)
{
	enum { O_NOLOGIN = 256, O_SECURE, O_USERADD, O_PASSWD, O_PORTFILE, O_MAXCONNS, O_PERADDR, O_TIMEOUT, O_STALE, O_THREADS, O_DBTIMEOUT };
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' }, { "bind", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' }, { "db", required_argument, NULL, 'd' },
		{ "www", required_argument, NULL, 'w' }, { "run", required_argument, NULL, 'r' },
		{ "no-login", no_argument, NULL, O_NOLOGIN }, { "secure-cookies", no_argument, NULL, O_SECURE },
		{ "user-add", required_argument, NULL, O_USERADD }, { "user-passwd", required_argument, NULL, O_PASSWD },
		{ "port-file", required_argument, NULL, O_PORTFILE }, { "max-conns", required_argument, NULL, O_MAXCONNS },
		{ "max-per-addr", required_argument, NULL, O_PERADDR }, { "timeout", required_argument, NULL, O_TIMEOUT },
		{ "stale", required_argument, NULL, O_STALE }, { "threads", required_argument, NULL, O_THREADS },
		{ "db-timeout", required_argument, NULL, O_DBTIMEOUT }, { NULL, 0, NULL, 0 }
	};
	static struct hs h;
	static char runbuf[PATH_MAX];
	const char *user_add = NULL, *user_passwd = NULL;
	struct sigaction sa;
	int ch;
	int64_t port, n, last_wake = 0;

	diag_init(argv[0]);
	options_defaults(&h);
	while ((ch = getopt_long(argc, argv, "hb:p:d:w:r:v", lo, NULL)) != -1) {
		switch (ch) {
		case 'h': fputs(usage_text, stdout); return 0;
		case 'b': h.bind = optarg; break;
		case 'p':
			if (cfg_parse_i64(optarg, 0, 65535, &port) < 0)
				usage("-p: a port from 0 to 65535");
			h.port = (int)port;
			break;
		case 'd': h.db_url = optarg; break;
		case 'w': h.www = optarg; break;
		case 'r': h.run = optarg; break;
		case O_NOLOGIN: h.no_login = true; break;
		case O_SECURE: break;   /* the cookie is always Secure now */
		case O_USERADD: user_add = optarg; break;
		case O_PASSWD: user_passwd = optarg; break;
		case O_PORTFILE: h.port_file = optarg; break;
		case O_MAXCONNS:
			if (cfg_parse_i64(optarg, 1, 60000, &n) < 0)
				usage("--max-conns: a number from 1 to 60000");
			h.max_conns = (unsigned)n;
			break;
		case O_PERADDR:
			if (cfg_parse_i64(optarg, 1, 60000, &n) < 0)
				usage("--max-per-addr: a number from 1 to 60000");
			h.max_per_addr = (unsigned)n;
			break;
		case O_TIMEOUT:
			if (cfg_parse_i64(optarg, 1, 86400, &n) < 0)
				usage("--timeout: seconds, from 1 to 86400");
			h.timeout_s = (unsigned)n;
			break;
		case O_STALE: {
			int64_t secs;

			if (cfg_parse_i64(optarg, 1, 86400, &secs) < 0)
				usage("--stale: seconds from 1 to 86400");
			h.stale_ms = secs * 1000;
			break;
		}
		case O_THREADS:
			if (cfg_parse_i64(optarg, 1, 64, &n) < 0)
				usage("--threads: a number from 1 to 64");
			h.threads = (unsigned)n;
			break;
		case O_DBTIMEOUT:
			if (cfg_parse_i64(optarg, 0, 3600000, &n) < 0)
				usage("--db-timeout: milliseconds from 0 to 3600000");
			h.db_timeout_ms = (int)n;
			break;
		case 'v': diag_verbose++; break;
		default: usage(NULL);
		}
	}
	if (optind != argc)
		usage("unexpected argument");
	if (user_add || user_passwd)
		return user_cmd(h.db_url, user_add ? user_add : user_passwd, user_add != NULL);
	if (h.no_login && !loopback_bind(h.bind))
		die(2, "--no-login: only with a loopback address (-b 127.0.0.1), not %s", h.bind);
	if (!h.no_login && !loopback_bind(h.bind))
		warnx_("bound to %s: a browser keeps the session cookie (Secure) only over HTTPS "
		    "there: serve the dashboard through a TLS proxy", h.bind);
	if (!h.run) {
		snprintf(runbuf, sizeof runbuf, "%s/run", h.state);
		h.run = runbuf;
	}
	if (!h.www)
		die(1, "cannot find the dashboard's files: give -w DIR");
	{       /* room for --max-conns descriptors (epoll has no FD_SETSIZE) */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < h.max_conns + 64 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = h.max_conns + 64 < rl.rlim_max ? h.max_conns + 64 : rl.rlim_max;
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				warnx_("setrlimit RLIMIT_NOFILE:");
		}
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < h.max_conns + 64)
			warnx_("--max-conns %u: only %lu descriptors allowed; connections beyond are refused",
			    h.max_conns, (unsigned long)rl.rlim_cur);
	}
	h.prices = xcalloc(PRICES, sizeof *h.prices);
	the_hs = &h;
	h.epoch = rt_now_ms();  /* before the first event (the logs read at start) */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	lock();                 /* (db_ready lets it go while connecting) */
	if (!db_ready(&h))
		warnx_("database: %s (retrying every 2 s)", h.db_err);
	unlock();
	if ((h.ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		warnx_("inotify_init1: %s (the logs are polled every 100 ms)", strerror(errno));
	logs_scan(&h);
	logs_follow(&h);        /* what the logs hold now: the state to start from */
	services_refresh(&h, true);
	{
		struct sockaddr_in sin;
		const union MHD_DaemonInfo *di;

		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)h.port);
		if (inet_pton(AF_INET, strcmp(h.bind, "localhost") == 0 ? "127.0.0.1" : h.bind, &sin.sin_addr) != 1)
			die(2, "-b: \"%s\" is not an IPv4 address", h.bind);
		sigset_t term, old;
		int e;

		/* the signals come to this thread, whose poll they end */
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigaddset(&term, SIGINT);
		if ((e = pthread_sigmask(SIG_BLOCK, &term, &old)) != 0)
			die(1, "pthread_sigmask: %s", strerror(e));
		h.d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
		    0, NULL, NULL, on_request, &h,
		    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		    MHD_OPTION_THREAD_POOL_SIZE, h.threads,
		    MHD_OPTION_SOCK_ADDR, &sin,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, &h,
		    MHD_OPTION_CONNECTION_LIMIT, h.max_conns,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT, h.max_per_addr,
		    MHD_OPTION_CONNECTION_TIMEOUT, h.timeout_s,
		    /* a connection's memory: the request's headers and the answer's;
		     * libmicrohttpd zeroes it for every request kept alive, which
		     * at 64 KiB was a fifth of the time /health took */
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
		    /* SIGPIPE is ignored (above): then files go out with sendfile,
		     * not read into that memory a few KiB at a time and sent */
		    MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1,
		    MHD_OPTION_END);
		e = errno;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (h.d == NULL)
			die(1, "cannot listen on %s:%d: %s", h.bind, h.port, strerror(e));
		di = MHD_get_daemon_info(h.d, MHD_DAEMON_INFO_BIND_PORT);
		if (di)
			h.port = di->port;
		if (h.port_file) {
			FILE *f = fopen(h.port_file, "w");

			if (!f || fprintf(f, "%d\n", h.port) < 0 || fclose(f) != 0)
				die(1, "%s: cannot write the port:", h.port_file);
		}
		infox("listening on http://%s:%d/%s", h.bind, h.port, h.no_login ? " (no login)" : "");
	}
	msg_ready();
	while (!stop) {
		struct pollfd pfd = { h.ino_fd, POLLIN, 0 };
		int64_t before;

		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			die(1, "poll:");
		before = h.next_id;             /* only this thread adds events */
		services_refresh(&h, false);   /* takes the lock itself */
		lock();
		if (pfd.revents & POLLIN)
			logs_notified(&h);
		logs_follow(&h);
		if (h.next_id != before || rt_mono_ms() - last_wake >= 1000) {
			clients_wake(&h, rt_mono_ms() - last_wake >= 1000);
			if (rt_mono_ms() - last_wake >= 1000)
				last_wake = rt_mono_ms();
		}
		clients_reap(&h);
		unlock();
		clients_resume(&h);
	}
	/* every stream resumed, to end, before the daemon stops */
	lock();
	h.closing = true;
	for (struct client *c = h.clients; c; c = c->nx)
		if (c->suspended && !c->gone)
			client_wake(&h, c);
	unlock();
	clients_resume(&h);
	MHD_stop_daemon(h.d);
	clients_reap(&h);
	if (h.db)
		db_close(h.db);
	return 0;
}
