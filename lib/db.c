/* db.c: SQLite and PostgreSQL behind one small interface.  See db.h. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "buf.h"
#include "cfg.h"
#include "db.h"
#include "diag.h"
#include "rtime.h"

#define QCACHE 16                       /* SQLite: db_query's statements kept */

struct db {
	int pg;                         /* 1: PostgreSQL, 0: SQLite */
	sqlite3 *lite;
	sqlite3_stmt *st[DB_MAX_STMT];
	struct {                        /* SQLite: db_query's prepared statements, by text */
		char *sql;
		sqlite3_stmt *st;
		int busy;               /* in use (a row callback querying again) */
	} qc[QCACHE];
	int qnext;                      /* the entry replaced next */
	PGconn *conn;
	int nparam[DB_MAX_STMT];
	int inbatch, failed;            /* failed: DB_OK or the first error's class */
	int64_t rows;
	int queued;                     /* PostgreSQL: statements in the pipeline */
	const char **pv;                /* PostgreSQL: parameter texts, grown */
	char (*num)[24];                /* ... and integers as text */
	int pcap;
	char *copy_target[DB_MAX_STMT]; /* PostgreSQL: "table (cols)" per COPY id */
	int copy_n[DB_MAX_STMT];
	struct buf cbuf[DB_MAX_STMT];   /* ... and the batch's rows, COPY text */
	int ncopy;                      /* rows in cbuf[] */
	int sent;                       /* db_commit_start sent the last COPY and COMMIT */
	int crc;                        /* db_commit_start's result */
	int finishing;                  /* db_commit_start called, not yet db_commit_finish */
	int timeout_ms;                 /* PostgreSQL: an answer's deadline (db_set_timeout); 0 none */
	int64_t until;                  /* ... the one running (rt_mono_ms), 0 none */
	int dead;                       /* ... passed: the connection is given up */
	char sqlstate[6];
	int lite_code;                  /* SQLite: the last error's code */
	char err[512];
};

static void
seterr(struct db *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof d->err, fmt, ap);
	va_end(ap);
	/* one line: libpq ends its messages with a newline, some with two lines */
	for (char *p = d->err; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = p[1] ? ' ' : '\0';
}

void
db_set_timeout(struct db *d, int ms)
{
	d->timeout_ms = ms > 0 ? ms : 0;
	if (d->pg && d->conn)
		(void)PQsetnonblocking(d->conn, d->timeout_ms > 0);
}

const char *
db_error(const struct db *d)
{
	return d->err;
}

const char *
db_sqlstate(const struct db *d)
{
	return d->sqlstate;
}

int
db_refused(const struct db *d)
{
	if (d->pg)      /* data exception, integrity constraint violation */
		return !strncmp(d->sqlstate, "22", 2) || !strncmp(d->sqlstate, "23", 2);
	switch (d->lite_code & 0xff) {
	case SQLITE_CONSTRAINT: case SQLITE_MISMATCH: case SQLITE_TOOBIG: case SQLITE_RANGE:
		return 1;
	default:
		return 0;
	}
}

const char *
db_dialect(const struct db *d)
{
	return d->pg ? "pg" : "sqlite";
}

/* ---- classification ---- */

static int
lite_class(int code)
{
	switch (code & 0xff) {
	case SQLITE_BUSY: case SQLITE_LOCKED: case SQLITE_NOMEM: case SQLITE_IOERR:
	case SQLITE_FULL: case SQLITE_CANTOPEN: case SQLITE_PROTOCOL: case SQLITE_READONLY:
	case SQLITE_INTERRUPT:
		return DB_TRANSIENT;
	default:
		return DB_PERMANENT;
	}
}

/* SQLSTATE classes that say "not now" rather than "never": connection
 * exception, insufficient resources, operator intervention (shutdown),
 * transaction rollback (serialization, deadlock), system error. */
static int
pg_class(PGconn *c, const PGresult *r)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(c) != CONNECTION_OK || !st)
		return DB_TRANSIENT;
	if (!strncmp(st, "08", 2) || !strncmp(st, "53", 2) || !strncmp(st, "57", 2) ||
	    !strncmp(st, "40", 2) || !strncmp(st, "58", 2) || !strncmp(st, "XX", 2))
		return DB_TRANSIENT;
	return DB_PERMANENT;
}

static int
pg_fail(struct db *d, const PGresult *r, const char *what)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (!m || !*m)
		m = PQerrorMessage(d->conn);
	snprintf(d->sqlstate, sizeof d->sqlstate, "%s", st ? st : "");
	seterr(d, "%s: %s%s%s%s", what, m, st ? " (SQLSTATE " : "", st ? st : "", st ? ")" : "");
	return pg_class(d->conn, r);
}

/* PostgreSQL's deadline (d->timeout_ms from now, or none): a server that
 * is stopped or hung, not down, keeps the connection open and answers
 * nothing, which no socket option notices.  With a timeout the connection
 * is nonblocking: what libpq holds is sent here, by poll(2), as the
 * server takes it, and results are awaited the same way, so a batch that
 * fills the socket cannot block either. */
static void
pg_deadline(struct db *d)
{
	d->until = d->timeout_ms > 0 ? rt_mono_ms() + d->timeout_ms : 0;
}

/* Until everything libpq holds is sent and a result is ready to read
 * (PQgetResult will not block): 0; or -1 when the deadline passed, the
 * connection then given up (d->dead: its state is unknown).  A connection
 * that failed gives 0: PQgetResult says so. */
static int
pg_wait(struct db *d)
{
	if (d->dead)
		return -1;
	for (;;) {
		int f = PQflush(d->conn), k;
		struct pollfd pf = { .fd = PQsocket(d->conn), .events = POLLIN };
		int64_t left = d->until ? d->until - rt_mono_ms() : -1;

		if (f < 0 || (f == 0 && !PQisBusy(d->conn)))
			return 0;
		if (f > 0)
			pf.events |= POLLOUT;
		if (d->until && left <= 0)
			break;
		if ((k = poll(&pf, 1, d->until ? (int)left : -1)) == 0)
			break;
		if (k < 0) {
			if (errno == EINTR)
				continue;
			d->dead = 1;
			seterr(d, "poll: %s", strerror(errno));
			return -1;
		}
		/* the server may be sending an error while we write */
		if ((pf.revents & (POLLIN | POLLERR | POLLHUP)) && !PQconsumeInput(d->conn))
			return 0;
	}
	d->dead = 1;
	d->sqlstate[0] = '\0';
	seterr(d, "no answer from the server in %d ms", d->timeout_ms);
	return -1;
}

/* PQgetResult within the deadline: NULL also when it passed (d->dead) */
static PGresult *
pg_get(struct db *d)
{
	return pg_wait(d) < 0 ? NULL : PQgetResult(d->conn);
}

/* PostgreSQL: run sql (its parameters pv[0..n), or several statements
 * when n < 0) and return what PQexec would: the first error, else the last
 * result (a COPY's PGRES_COPY_IN at once); NULL when out of memory, when
 * the connection failed, or when the deadline passed (*late set; the
 * caller closes the connection). */
static PGresult *
pg_run(struct db *d, const char *sql, int n, bool *late)
{
	PGresult *keep = NULL, *r;

	*late = false;
	if (d->dead) {
		seterr(d, "the connection was given up (no answer in time)");
		*late = true;
		return NULL;
	}
	if (d->timeout_ms <= 0)
		return n < 0 ? PQexec(d->conn, sql) : PQexecParams(d->conn, sql, n, NULL, d->pv, NULL, NULL, 0);
	pg_deadline(d);
	if (!(n < 0 ? PQsendQuery(d->conn, sql) : PQsendQueryParams(d->conn, sql, n, NULL, d->pv, NULL, NULL, 0)))
		return NULL;
	while ((r = pg_get(d)) != NULL) {
		ExecStatusType st = PQresultStatus(r);

		if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR)
			PQclear(r);     /* the first error is the one to tell */
		else {
			PQclear(keep);
			keep = r;
		}
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH)
			return keep;    /* the COPY waits for its data */
	}
	if (d->dead) {
		PQclear(keep);
		*late = true;
		return NULL;
	}
	return keep;
}

/* pg_run's NULL: why, and its class (transient) */
static int
pg_none(struct db *d, bool late, const char *what)
{
	char why[sizeof d->err];

	d->sqlstate[0] = '\0';
	if (late) {
		snprintf(why, sizeof why, "%s", d->err[0] ? d->err : "the connection was given up");
		seterr(d, "%s: %s", what, why);
	} else
		seterr(d, "%s: %s", what, PQerrorMessage(d->conn));
	return DB_TRANSIENT;
}

static int
lite_fail(struct db *d, int code, const char *what)
{
	d->lite_code = code;
	seterr(d, "%s: %s", what, sqlite3_errmsg(d->lite));
	return lite_class(code);
}

/* ---- open and close ---- */

static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	debugx("postgres: %s", msg);
}

static struct db *
open_pg(struct db *d, const char *url, int *rc)
{
	/* later keywords win: a connect_timeout in url overrides ours */
	const char *kw[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *val[] = { "5", diag_prog, url, NULL };

	d->pg = 1;
	d->conn = PQconnectdbParams(kw, val, 1);
	if (!d->conn) {
		seterr(d, "libpq: out of memory");
		*rc = DB_TRANSIENT;
		return NULL;
	}
	if (PQstatus(d->conn) != CONNECTION_OK) {
		seterr(d, "connect: %s", PQerrorMessage(d->conn));
		*rc = DB_TRANSIENT;
		return NULL;
	}
	PQsetNoticeProcessor(d->conn, pg_notice, NULL);
	return d;
}

static struct db *
open_lite(struct db *d, const char *path, int *rc)
{
	int e;
	char *slash;

	/* create the directory the file goes in (var/ in a fresh tree), one level */
	slash = strrchr(path, '/');
	if (slash && slash != path) {
		char *dir = xstrndup(path, (size_t)(slash - path));

		if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
			seterr(d, "mkdir %s: %s", dir, strerror(errno));
			free(dir);
			*rc = DB_TRANSIENT;
			return NULL;
		}
		free(dir);
	}
	e = sqlite3_open_v2(path, &d->lite, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (e != SQLITE_OK) {
		seterr(d, "open %s: %s", path, d->lite ? sqlite3_errmsg(d->lite) : sqlite3_errstr(e));
		*rc = lite_class(e);
		return NULL;
	}
	sqlite3_busy_timeout(d->lite, 2000);
	if ((e = sqlite3_exec(d->lite, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL)) != SQLITE_OK) {
		*rc = lite_fail(d, e, path);
		return NULL;
	}
	return d;
}

struct db *
db_open(const char *url, char *err, size_t cap, int *rc)
{
	struct db *d = xcalloc(1, sizeof *d), *ok;

	*rc = DB_OK;
	if (!strncmp(url, "sqlite:", 7))
		ok = open_lite(d, url + 7, rc);
	else
		ok = open_pg(d, url, rc);
	if (!ok) {
		snprintf(err, cap, "%s", d->err);
		db_close(d);
	}
	return ok;
}

void
db_close(struct db *d)
{
	if (!d)
		return;
	for (int i = 0; i < DB_MAX_STMT; i++)
		if (d->st[i])
			sqlite3_finalize(d->st[i]);
	for (int i = 0; i < QCACHE; i++) {
		sqlite3_finalize(d->qc[i].st);
		free(d->qc[i].sql);
	}
	if (d->lite)
		sqlite3_close(d->lite);
	if (d->conn) {
		/* its goodbye must not wait on a server that reads nothing */
		(void)PQsetnonblocking(d->conn, 1);
		PQfinish(d->conn);
	}
	for (int i = 0; i < DB_MAX_STMT; i++) {
		free(d->copy_target[i]);
		buf_free(&d->cbuf[i]);
	}
	free(d->pv);
	free(d->num);
	free(d);
}

/* ---- plain statements ---- */

int
db_exec(struct db *d, const char *sql)
{
	if (d->pg) {
		bool late;
		PGresult *r = pg_run(d, sql, -1, &late);
		int rc = DB_OK;

		if (r == NULL)
			return pg_none(d, late, "exec");
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
			rc = pg_fail(d, r, "exec");
		PQclear(r);
		return rc;
	} else {
		char *m = NULL;
		int e = sqlite3_exec(d->lite, sql, NULL, NULL, &m);

		if (e != SQLITE_OK) {
			seterr(d, "exec: %s", m ? m : sqlite3_errstr(e));
			sqlite3_free(m);
			return lite_class(e);
		}
		return DB_OK;
	}
}

int
db_query_i64(struct db *d, const char *sql, int64_t *out, int *isnull)
{
	*out = 0;
	*isnull = 1;
	if (d->pg) {
		bool late;
		PGresult *r = pg_run(d, sql, -1, &late);
		int rc = DB_OK;

		if (r == NULL)
			return pg_none(d, late, "query");
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			rc = pg_fail(d, r, "query");
		else if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0)) {
			*isnull = 0;
			*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		}
		PQclear(r);
		return rc;
	} else {
		sqlite3_stmt *st;
		int e = sqlite3_prepare_v2(d->lite, sql, -1, &st, NULL);

		if (e != SQLITE_OK)
			return lite_fail(d, e, "query");
		e = sqlite3_step(st);
		if (e == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
			*isnull = 0;
			*out = sqlite3_column_int64(st, 0);
		}
		if (e != SQLITE_ROW && e != SQLITE_DONE) {
			int rc = lite_fail(d, e, "query");

			sqlite3_finalize(st);
			return rc;
		}
		sqlite3_finalize(st);
		return DB_OK;
	}
}

static void pg_params(struct db *d, const struct db_val *v, int n);
static int lite_bind(sqlite3_stmt *st, const struct db_val *v, int n);

/* '?' placeholders as $1, $2, ... */
static void
pg_dollars(struct buf *b, const char *sql)
{
	int k = 0;

	for (const char *p = sql; *p; p++)
		if (*p == '?')
			buf_printf(b, "$%d", ++k);
		else
			buf_putc(b, *p);
}

static enum db_vtype
pg_kind(Oid t)
{
	switch (t) {
	case 20: case 21: case 23: case 16:     /* int8, int2, int4, bool */
		return DBV_INT;
	case 700: case 701: case 1700:          /* float4, float8, numeric */
		return DBV_REAL;
	default:
		return DBV_TEXT;
	}
}

/* SQLite: SQL's statement, prepared once and kept (a server asks the same
 * few queries again and again; preparing was a third of /api/trades).
 * *slot: its cache entry, -1 if it is not kept (give it to lite_put). */
static int
lite_get(struct db *d, const char *sql, sqlite3_stmt **st, int *slot)
{
	int e, i;

	*slot = -1;
	for (i = 0; i < QCACHE; i++)
		if (d->qc[i].sql && !d->qc[i].busy && strcmp(d->qc[i].sql, sql) == 0) {
			*st = d->qc[i].st;
			d->qc[i].busy = 1;
			*slot = i;
			return SQLITE_OK;
		}
	if ((e = sqlite3_prepare_v3(d->lite, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL)) != SQLITE_OK)
		return e;
	for (int k = 0; k < QCACHE; k++) {
		i = (d->qnext + k) % QCACHE;
		if (!d->qc[i].busy) {
			sqlite3_finalize(d->qc[i].st);
			free(d->qc[i].sql);
			d->qc[i].sql = xstrdup(sql);
			d->qc[i].st = *st;
			d->qc[i].busy = 1;
			d->qnext = (i + 1) % QCACHE;
			*slot = i;
			break;
		}
	}
	return SQLITE_OK;
}

/* done with a statement from lite_get: reset (no read transaction is held
 * open by a kept statement) and its bindings cleared, or finalized */
static void
lite_put(struct db *d, sqlite3_stmt *st, int slot)
{
	if (slot < 0) {
		sqlite3_finalize(st);
		return;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	d->qc[slot].busy = 0;
}

int
db_query(struct db *d, const char *sql, const struct db_val *v, int n, db_row_fn fn, void *arg)
{
	int rc = DB_OK, ncol;
	const char **names, **vals;
	enum db_vtype *kinds;

	if (d->pg) {
		struct buf q = { 0 };
		PGresult *r;
		bool late;

		pg_dollars(&q, sql);
		pg_params(d, v, n);
		r = pg_run(d, q.p, n, &late);
		buf_free(&q);
		if (r == NULL)
			return pg_none(d, late, "query");
		if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = pg_fail(d, r, "query");
			PQclear(r);
			return rc;
		}
		ncol = PQnfields(r);
		names = xcalloc((size_t)ncol + 1, sizeof *names);
		vals = xcalloc((size_t)ncol + 1, sizeof *vals);
		kinds = xcalloc((size_t)ncol + 1, sizeof *kinds);
		for (int c = 0; c < ncol; c++)
			names[c] = PQfname(r, c);
		for (int row = 0; row < PQntuples(r); row++) {
			for (int c = 0; c < ncol; c++) {
				int null = PQgetisnull(r, row, c);

				vals[c] = null ? NULL : PQgetvalue(r, row, c);
				kinds[c] = null ? DBV_NULL : pg_kind(PQftype(r, c));
				if (kinds[c] == DBV_INT && PQftype(r, c) == 16)
					vals[c] = vals[c][0] == 't' ? "1" : "0";
			}
			if (fn && fn(arg, ncol, names, vals, kinds))
				break;
		}
		PQclear(r);
	} else {
		sqlite3_stmt *st;
		int slot, e = lite_get(d, sql, &st, &slot);

		if (e != SQLITE_OK)
			return lite_fail(d, e, "query");
		if ((e = lite_bind(st, v, n)) != SQLITE_OK) {
			rc = lite_fail(d, e, "query");
			lite_put(d, st, slot);
			return rc;
		}
		ncol = sqlite3_column_count(st);
		names = xcalloc((size_t)ncol + 1, sizeof *names);
		vals = xcalloc((size_t)ncol + 1, sizeof *vals);
		kinds = xcalloc((size_t)ncol + 1, sizeof *kinds);
		for (int c = 0; c < ncol; c++)
			names[c] = sqlite3_column_name(st, c);
		while ((e = sqlite3_step(st)) == SQLITE_ROW) {
			for (int c = 0; c < ncol; c++) {
				int t = sqlite3_column_type(st, c);

				kinds[c] = t == SQLITE_NULL ? DBV_NULL : t == SQLITE_INTEGER ? DBV_INT :
				    t == SQLITE_FLOAT ? DBV_REAL : DBV_TEXT;
				vals[c] = t == SQLITE_NULL ? NULL : (const char *)sqlite3_column_text(st, c);
			}
			if (fn && fn(arg, ncol, names, vals, kinds)) {
				e = SQLITE_DONE;
				break;
			}
		}
		if (e != SQLITE_DONE)
			rc = lite_fail(d, e, "query");
		lite_put(d, st, slot);
	}
	free(names);
	free(vals);
	free(kinds);
	return rc;
}

/* ---- prepared statements and batches ---- */

int
db_prepare(struct db *d, int id, const char *sql)
{
	int n = 0;

	if (id < 0 || id >= DB_MAX_STMT)
		die_internal("db_prepare: statement id %d", id);
	for (const char *p = sql; *p; p++)
		n += *p == '?';
	d->nparam[id] = n;
	if (d->pg) {
		struct buf b = { 0 };
		char name[16];
		PGresult *r;
		int rc = DB_OK;

		pg_dollars(&b, sql);
		snprintf(name, sizeof name, "s%d", id);
		if (d->dead) {
			buf_free(&b);
			return pg_none(d, true, "prepare");
		}
		if (d->timeout_ms <= 0)
			r = PQprepare(d->conn, name, b.p, 0, NULL);
		else {
			PGresult *x;

			pg_deadline(d);
			r = PQsendPrepare(d->conn, name, b.p, 0, NULL) ? pg_get(d) : NULL;
			while (!d->dead && (x = pg_get(d)) != NULL)
				PQclear(x);     /* (the NULL that ends it) */
		}
		if (d->dead || r == NULL) {
			PQclear(r);
			buf_free(&b);
			return pg_none(d, d->dead, "prepare");
		}
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = pg_fail(d, r, "prepare");
		PQclear(r);
		buf_free(&b);
		return rc;
	} else {
		int e;

		if (d->st[id])
			sqlite3_finalize(d->st[id]);
		d->st[id] = NULL;
		e = sqlite3_prepare_v3(d->lite, sql, -1, SQLITE_PREPARE_PERSISTENT, &d->st[id], NULL);
		return e == SQLITE_OK ? DB_OK : lite_fail(d, e, "prepare");
	}
}

int
db_begin(struct db *d)
{
	if (d->inbatch)
		die_internal("db_begin: batch already open");
	d->inbatch = 1;
	d->failed = DB_OK;
	d->rows = 0;
	d->queued = 0;
	d->err[0] = '\0';
	d->lite_code = 0;
	d->sqlstate[0] = '\0';
	if (d->pg) {
		for (int i = 0; i < DB_MAX_STMT; i++)
			buf_reset(&d->cbuf[i]);
		d->ncopy = 0;
		if (d->dead) {
			seterr(d, "the connection was given up (no answer in time)");
			d->failed = DB_TRANSIENT;
		}
		return d->failed;       /* BEGIN goes with the first statement or COPY */
	} else {
		int e = sqlite3_exec(d->lite, "BEGIN IMMEDIATE", NULL, NULL, NULL);

		if (e != SQLITE_OK)
			d->failed = lite_fail(d, e, "begin");
		return d->failed;
	}
}

/* The parameters as libpq's texts, in d->pv. */
static void
pg_params(struct db *d, const struct db_val *v, int n)
{
	if (n > d->pcap) {
		d->pcap = n;
		d->pv = xrealloc(d->pv, (size_t)n * sizeof *d->pv);
		d->num = xrealloc(d->num, (size_t)n * sizeof *d->num);
	}
	for (int i = 0; i < n; i++)
		switch (v[i].t) {
		case DBV_NULL:
			d->pv[i] = NULL;
			break;
		case DBV_INT:
			snprintf(d->num[i], sizeof d->num[i], "%lld", (long long)v[i].i);
			d->pv[i] = d->num[i];
			break;
		case DBV_REAL: case DBV_TEXT:
			d->pv[i] = v[i].s;
			break;
		}
}

static int
add_pg(struct db *d, int id, const struct db_val *v, int n)
{
	char name[16];

	/* an explicit transaction: COPY, which a pipeline cannot carry, may
	 * follow the pipeline before the COMMIT */
	if (PQpipelineStatus(d->conn) == PQ_PIPELINE_OFF) {
		if (!PQenterPipelineMode(d->conn) || !PQsendQueryParams(d->conn, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
			return pg_fail(d, NULL, "pipeline");
		d->queued++;
	}

	pg_params(d, v, n);
	snprintf(name, sizeof name, "s%d", id);
	if (!PQsendQueryPrepared(d->conn, name, n, d->pv, NULL, NULL, 0))
		return pg_fail(d, NULL, "send");
	d->queued++;
	return DB_OK;
}

static int
lite_bind(sqlite3_stmt *st, const struct db_val *v, int n)
{
	int e = SQLITE_OK;

	for (int i = 0; i < n && e == SQLITE_OK; i++)
		switch (v[i].t) {
		case DBV_NULL:
			e = sqlite3_bind_null(st, i + 1);
			break;
		case DBV_INT:
			e = sqlite3_bind_int64(st, i + 1, v[i].i);
			break;
		case DBV_REAL:
			e = sqlite3_bind_double(st, i + 1, strtod(v[i].s, NULL));
			break;
		case DBV_TEXT:
			e = sqlite3_bind_text(st, i + 1, v[i].s, (int)v[i].n, SQLITE_STATIC);
			break;
		}
	return e;
}

static int
add_lite(struct db *d, int id, const struct db_val *v, int n)
{
	sqlite3_stmt *st = d->st[id];
	int e = lite_bind(st, v, n);

	if (e == SQLITE_OK) {
		e = sqlite3_step(st);
		if (e == SQLITE_DONE) {
			d->rows += sqlite3_changes(d->lite);
			e = SQLITE_OK;
		}
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return e == SQLITE_OK ? DB_OK : lite_fail(d, e, "insert");
}

int
db_add(struct db *d, int id, const struct db_val *v, int n)
{
	int rc;

	if (!d->inbatch || id < 0 || id >= DB_MAX_STMT || n != d->nparam[id])
		die_internal("db_add: statement %d with %d parameters", id, n);
	if (d->failed != DB_OK)
		return d->failed;
	rc = d->pg ? add_pg(d, id, v, n) : add_lite(d, id, v, n);
	if (rc != DB_OK)
		d->failed = rc;
	return rc;
}

/* Read the pipeline's results up to and including the Sync. */
static int
pg_sync(struct db *d)
{
	int rc = DB_OK;
	int nulls = 0;

	if (!PQpipelineSync(d->conn))
		return pg_fail(d, NULL, "sync");
	for (;;) {
		PGresult *r = pg_get(d);

		if (!r) {
			/* NULL ends each statement's results; a dead connection gives
			 * nothing but NULLs */
			if (d->dead)
				return DB_TRANSIENT;    /* (why: pg_wait said) */
			if (PQstatus(d->conn) != CONNECTION_OK || ++nulls > d->queued + 1) {
				if (rc == DB_OK)
					rc = pg_fail(d, NULL, "commit");
				break;
			}
			continue;
		}
		switch (PQresultStatus(r)) {
		case PGRES_PIPELINE_SYNC:
			PQclear(r);
			goto done;
		case PGRES_COMMAND_OK:
			d->rows += strtoll(PQcmdTuples(r), NULL, 10);
			break;
		case PGRES_PIPELINE_ABORTED:
			break;
		default:
			if (rc == DB_OK)
				rc = pg_fail(d, r, "insert");
			break;
		}
		PQclear(r);
	}
done:
	if (PQstatus(d->conn) == CONNECTION_OK && !PQexitPipelineMode(d->conn) && rc == DB_OK)
		rc = pg_fail(d, NULL, "pipeline");
	return rc;
}

/* COPY the rows collected for target id. */
static int
pg_copy(struct db *d, int id)
{
	struct buf q = { 0 };
	PGresult *r;
	int rc = DB_OK;
	bool late;

	buf_printf(&q, "COPY %s FROM STDIN", d->copy_target[id]);
	r = pg_run(d, q.p, -1, &late);
	buf_free(&q);
	if (late)
		return DB_TRANSIENT;
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		rc = pg_fail(d, r, "copy");
		PQclear(r);
		return rc;
	}
	PQclear(r);
	if (PQputCopyData(d->conn, d->cbuf[id].p, (int)d->cbuf[id].len) != 1 || PQputCopyEnd(d->conn, NULL) != 1)
		rc = pg_fail(d, NULL, "copy");
	/* the COPY's result, then NULL */
	while ((r = pg_get(d))) {
		if (PQresultStatus(r) == PGRES_COMMAND_OK)
			d->rows += strtoll(PQcmdTuples(r), NULL, 10);
		else if (rc == DB_OK)
			rc = pg_fail(d, r, "copy");
		PQclear(r);
	}
	return d->dead ? DB_TRANSIENT : rc;
}

/* The last COPY and the COMMIT in one query, not waited for: the COPY's
 * rows are sent from libpq's buffer in nonblocking mode (db_poll), the
 * results read by pg_finish. */
static int
pg_copy_commit_send(struct db *d, int id, int begin)
{
	struct buf q = { 0 };
	PGresult *r;
	int rc = DB_OK;

	buf_printf(&q, "%sCOPY %s FROM STDIN; COMMIT", begin ? "BEGIN; " : "", d->copy_target[id]);
	if (!PQsendQuery(d->conn, q.p)) {
		buf_free(&q);
		return pg_fail(d, NULL, "copy");
	}
	buf_free(&q);
	r = pg_get(d);
	if (begin && PQresultStatus(r) == PGRES_COMMAND_OK) {
		PQclear(r);
		r = pg_get(d);
	}
	if (d->dead) {
		PQclear(r);
		return DB_TRANSIENT;
	}
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		rc = pg_fail(d, r, "copy");
		PQclear(r);
		while ((r = pg_get(d)))
			PQclear(r);
		return d->dead ? DB_TRANSIENT : rc;
	}
	PQclear(r);
	d->sent = 1;
	if (PQsetnonblocking(d->conn, 1) < 0 || PQputCopyData(d->conn, d->cbuf[id].p, (int)d->cbuf[id].len) != 1 ||
	    PQputCopyEnd(d->conn, NULL) != 1 || PQflush(d->conn) < 0)
		return pg_fail(d, NULL, "copy");
	return DB_OK;
}

static void
pg_rollback(struct db *d)
{
	char why[sizeof d->err], st[sizeof d->sqlstate];

	bool late;

	if (d->dead || PQstatus(d->conn) != CONNECTION_OK || PQtransactionStatus(d->conn) == PQTRANS_IDLE)
		return;
	memcpy(why, d->err, sizeof why);
	memcpy(st, d->sqlstate, sizeof st);
	PQclear(pg_run(d, "ROLLBACK", -1, &late));
	memcpy(d->err, why, sizeof why);
	memcpy(d->sqlstate, st, sizeof st);
}

/* Everything but the wait for the last COPY and the COMMIT. */
static int
pg_commit_start(struct db *d)
{
	int rc = d->failed, begun = 0, last = -1, ncopy = 0;

	pg_deadline(d);
	if (PQstatus(d->conn) != CONNECTION_OK)
		return rc == DB_OK ? pg_fail(d, NULL, "commit") : rc;
	if (PQpipelineStatus(d->conn) != PQ_PIPELINE_OFF) {
		int s;

		if (rc == DB_OK && !d->ncopy) {
			if (PQsendQueryParams(d->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
				d->queued++;
			else
				rc = pg_fail(d, NULL, "send");
		}
		s = pg_sync(d);
		if (rc == DB_OK)
			rc = s;
		begun = 1;
	} else if (rc == DB_OK && !d->ncopy)
		return DB_OK;   /* nothing queued */
	for (int i = 0; i < DB_MAX_STMT && d->ncopy; i++)
		if (d->cbuf[i].len) {
			last = i;
			ncopy++;
		}
	if (rc == DB_OK && !begun && ncopy > 1) {
		bool late;
		PGresult *r = pg_run(d, "BEGIN", -1, &late);

		if (late)
			rc = DB_TRANSIENT;
		else if (PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = pg_fail(d, r, "begin");
		PQclear(r);
		begun = 1;
	}
	for (int i = 0; i < last && rc == DB_OK; i++)
		if (d->cbuf[i].len)
			rc = pg_copy(d, i);
	if (rc == DB_OK && last >= 0)
		rc = pg_copy_commit_send(d, last, !begun);
	return rc;
}

/* Wait for what pg_commit_start sent. */
static int
pg_finish(struct db *d, int rc)
{
	PGresult *r;

	if (d->sent) {
		d->sent = 0;
		/* the rest of the COPY data out of libpq's buffer (pg_wait),
		 * then the results; blocking again unless there is a deadline */
		pg_deadline(d);
		while ((r = pg_get(d))) {
			if (PQresultStatus(r) == PGRES_COMMAND_OK) {
				if (!strncmp(PQcmdStatus(r), "COPY", 4))
					d->rows += strtoll(PQcmdTuples(r), NULL, 10);
			} else if (rc == DB_OK)
				rc = pg_fail(d, r, "copy");
			PQclear(r);
		}
		if (d->dead)
			return DB_TRANSIENT;
		(void)PQsetnonblocking(d->conn, d->timeout_ms > 0);
		/* COMMIT of a transaction that failed answers ROLLBACK */
		if (rc == DB_OK && PQtransactionStatus(d->conn) != PQTRANS_IDLE)
			rc = pg_fail(d, NULL, "commit");
	}
	if (rc != DB_OK)
		pg_rollback(d);
	return rc;
}

int
db_commit_start(struct db *d)
{
	int rc = d->failed;

	if (!d->inbatch)
		die_internal("db_commit_start: no batch");
	d->inbatch = 0;
	d->sent = 0;
	if (d->pg)
		rc = pg_commit_start(d);
	else if (rc == DB_OK) {
		int e = sqlite3_exec(d->lite, "COMMIT", NULL, NULL, NULL);

		if (e != SQLITE_OK) {
			rc = lite_fail(d, e, "commit");
			sqlite3_exec(d->lite, "ROLLBACK", NULL, NULL, NULL);
		}
	} else if (!sqlite3_get_autocommit(d->lite))
		sqlite3_exec(d->lite, "ROLLBACK", NULL, NULL, NULL);
	d->crc = rc;
	d->finishing = 1;
	return rc;
}

int
db_poll(struct db *d)
{
	if (d->pg && d->sent && PQflush(d->conn) < 0)
		return DB_TRANSIENT;
	return DB_OK;
}

int
db_commit_finish(struct db *d, int64_t *rows)
{
	int rc = d->crc;

	if (!d->finishing)
		die_internal("db_commit_finish: nothing started");
	d->finishing = 0;
	if (d->pg)
		rc = pg_finish(d, rc);
	if (rows)
		*rows = rc == DB_OK ? d->rows : 0;
	return rc;
}

int
db_commit(struct db *d, int64_t *rows)
{
	db_commit_start(d);
	return db_commit_finish(d, rows);
}

int
db_prepare_copy(struct db *d, int id, const char *target, int n)
{
	if (!d->pg || id < 0 || id >= DB_MAX_STMT)
		die_internal("db_prepare_copy: target %d", id);
	free(d->copy_target[id]);
	d->copy_target[id] = xstrdup(target);
	d->copy_n[id] = n;
	return DB_OK;
}

/* A value in COPY's text format: \N for NULL, backslash escapes in text. */
static void
copy_val(struct buf *b, const struct db_val *v)
{
	char t[24], *e = t + sizeof t, *p = e;
	uint64_t u;

	switch (v->t) {
	case DBV_NULL:
		buf_add(b, "\\N", 2);
		break;
	case DBV_INT:
		u = v->i < 0 ? 0 - (uint64_t)v->i : (uint64_t)v->i;
		do
			*--p = (char)('0' + u % 10);
		while ((u /= 10));
		if (v->i < 0)
			*--p = '-';
		buf_add(b, p, (size_t)(e - p));
		break;
	case DBV_REAL:
		buf_add(b, v->s, v->n);
		break;
	case DBV_TEXT: {
		const char *s = v->s, *end = s + v->n, *run = s;

		buf_reserve(b, v->n);
		for (; s < end; s++) {
			const char *x;

			switch (*s) {
			case '\\': x = "\\\\"; break;
			case '\t': x = "\\t"; break;
			case '\n': x = "\\n"; break;
			case '\r': x = "\\r"; break;
			default: continue;
			}
			buf_add(b, run, (size_t)(s - run));
			buf_add(b, x, 2);
			run = s + 1;
		}
		buf_add(b, run, (size_t)(end - run));
		break;
	}
	}
}

int
db_copy_add(struct db *d, int id, const struct db_val *v, int n)
{
	struct buf *b;

	if (!d->inbatch || !d->pg || id < 0 || id >= DB_MAX_STMT || !d->copy_target[id] || n != d->copy_n[id])
		die_internal("db_copy_add: target %d with %d columns", id, n);
	if (d->failed != DB_OK)
		return d->failed;
	b = &d->cbuf[id];
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(b, '\t');
		copy_val(b, &v[i]);
	}
	buf_putc(b, '\n');
	d->ncopy++;
	return DB_OK;
}

/* ---- migrations ---- */

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "NNN-name[.dialect].sql": returns the length of "NNN-name", or 0 if the
 * file is not a migration for this dialect. */
static size_t
mig_version(const char *f, const char *dialect)
{
	size_t n = strlen(f), v;
	const char *dot;

	if (n < 9 || strcmp(f + n - 4, ".sql") != 0 || f[0] < '0' || f[0] > '9' ||
	    f[1] < '0' || f[1] > '9' || f[2] < '0' || f[2] > '9' || f[3] != '-')
		return 0;
	dot = strchr(f, '.');
	v = (size_t)(dot - f);
	for (size_t i = 4; i < v; i++)
		if (!((f[i] >= 'a' && f[i] <= 'z') || (f[i] >= '0' && f[i] <= '9') || f[i] == '-' || f[i] == '_'))
			return 0;
	if (dot == f + n - 4)
		return v;                       /* shared */
	if (strlen(dialect) == (size_t)(f + n - 4 - dot - 1) && !strncmp(dot + 1, dialect, strlen(dialect)))
		return v;
	return 0;
}

static char *
slurp(const char *path, char *err, size_t cap)
{
	FILE *f = fopen(path, "r");
	struct buf b = { 0 };
	char chunk[4096];
	size_t n;

	if (!f) {
		snprintf(err, cap, "%.300s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(f)) {
		snprintf(err, cap, "%.300s: read: %s", path, strerror(errno));
		(void)fclose(f);
		buf_free(&b);
		return NULL;
	}
	(void)fclose(f);
	buf_reserve(&b, 0);
	b.p[b.len] = '\0';
	return b.p;
}

static int
mig_apply(struct db *d, const char *dir, const char *file, const char *version, int *applied)
{
	char sql[256], path[4096];
	int64_t have;
	int isnull, rc;
	char *text;

	rc = db_exec(d, d->pg ? "BEGIN; SELECT pg_advisory_xact_lock(7235001)" : "BEGIN IMMEDIATE");
	if (rc != DB_OK)
		return rc;
	snprintf(sql, sizeof sql, "SELECT count(*) FROM schema_migrations WHERE version = '%s'", version);
	if ((rc = db_query_i64(d, sql, &have, &isnull)) != DB_OK)
		goto fail;
	if (have == 0) {
		snprintf(path, sizeof path, "%s/%s", dir, file);
		if (!(text = slurp(path, d->err, sizeof d->err))) {
			rc = DB_PERMANENT;
			goto fail;
		}
		rc = db_exec(d, text);
		free(text);
		if (rc != DB_OK) {
			char why[sizeof d->err];

			memcpy(why, d->err, sizeof why);
			seterr(d, "%s: %s", file, why);
			goto fail;
		}
		snprintf(sql, sizeof sql, "INSERT INTO schema_migrations (version, applied_ms) VALUES ('%s', %lld)",
		    version, (long long)rt_now_ms());
		if ((rc = db_exec(d, sql)) != DB_OK)
			goto fail;
		(*applied)++;
	}
	return db_exec(d, "COMMIT");
fail:
	{
		char why[sizeof d->err];

		memcpy(why, d->err, sizeof why);
		db_exec(d, "ROLLBACK");
		memcpy(d->err, why, sizeof why);
	}
	return rc;
}

static int
migrate(struct db *d, const char *dir, int *applied)
{
	DIR *dp;
	struct dirent *e;
	char **f = NULL;
	size_t nf = 0, cf = 0;
	int rc;

	*applied = 0;
	rc = db_exec(d, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    "version TEXT PRIMARY KEY, applied_ms BIGINT NOT NULL)");
	if (rc != DB_OK)
		return rc;
	if (!(dp = opendir(dir))) {
		seterr(d, "migrations: %s: %s", dir, strerror(errno));
		return DB_PERMANENT;
	}
	while ((e = readdir(dp)))
		if (mig_version(e->d_name, db_dialect(d))) {
			if (nf == cf)
				f = xrealloc(f, (cf = cf ? 2 * cf : 16) * sizeof *f);
			f[nf++] = xstrdup(e->d_name);
		}
	closedir(dp);
	if (nf == 0) {
		seterr(d, "migrations: %s: no NNN-name.sql files", dir);
		free(f);
		return DB_PERMANENT;
	}
	qsort(f, nf, sizeof *f, cmpstr);
	for (size_t i = 0; i < nf && rc == DB_OK; i++) {
		size_t v = mig_version(f[i], db_dialect(d));
		char version[256];
		int dialect_too = 0;

		snprintf(version, sizeof version, "%.*s", (int)v, f[i]);
		/* a dialect file of the same version replaces the shared one */
		for (size_t k = 0; k < nf; k++)
			if (k != i && !strncmp(f[k], f[i], v) && f[k][v] == '.' && strcmp(f[k] + v, ".sql") != 0 &&
			    strcmp(f[i] + v, ".sql") == 0)
				dialect_too = 1;
		if (dialect_too)
			continue;
		rc = mig_apply(d, dir, f[i], version, applied);
	}
	for (size_t i = 0; i < nf; i++)
		free(f[i]);
	free(f);
	return rc;
}

int
db_migrate(struct db *d, const char *dir, int *applied)
{
	/* a migration may take its time (an index over a large table), and
	 * waits for another process's: ten times the deadline */
	int t = d->timeout_ms, rc;

	d->timeout_ms = t > 0 && t < INT32_MAX / 10 ? t * 10 : t;
	rc = migrate(d, dir, applied);
	d->timeout_ms = t;
	return rc;
}
