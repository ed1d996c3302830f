/* test_db.c: lib/db on SQLite (PostgreSQL is exercised by t/db-sink.bats
 * against a real server): migrations and their dialect files, batches that
 * commit or leave nothing, error classes.  On PostgreSQL (RECIO_TEST_PG,
 * which t/run sets): the deadline against a server that hangs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "diag.h"
#include "t.h"

static void
put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

struct qn {
	struct db *d;
	int64_t sum;
	int nest;               /* run the query once more from the row callback */
};

/* db_row_fn: adds the first column; nest: asks the same query once more */
static int
sum_n(void *arg, int ncol, const char *const *names, const char *const *vals, const enum db_vtype *kinds)
{
	struct qn *q = arg;

	(void)names;
	(void)kinds;
	if (ncol > 0 && vals[0])
		q->sum += strtoll(vals[0], NULL, 10);
	if (q->nest) {
		struct db_val v = { .t = DBV_TEXT, .s = "a", .n = 1 };

		q->nest = 0;
		if (db_query(q->d, "SELECT n FROM t WHERE k = ?", &v, 1, sum_n, q) != DB_OK)
			q->sum = -1000;
	}
	return 0;
}

/* PostgreSQL whose backend is stopped: the connection stays open and
 * nothing answers.  kind 0: a query; 1: a batch of statements big enough
 * to fill the socket; 2: a batch of COPY rows; 3: a statement prepared.  Each gives up at the
 * deadline (DB_TRANSIENT, "no answer from the server in 300 ms"), the
 * connection is then refused for anything more, and db_close returns. */
static void
pg_hang(const char *pg, int kind)
{
	char url[600], err[640];
	struct db *d;
	int rc, isnull;
	int64_t pid = -1, x;

	snprintf(url, sizeof url, "%s dbname=postgres", pg);
	if ((d = db_open(url, err, sizeof err, &rc)) == NULL) {
		CHECK(0, "PostgreSQL: %s", err);
		return;
	}
	CHECK(db_query_i64(d, "SELECT pg_backend_pid()", &pid, &isnull) == DB_OK && pid > 0, "backend pid");
	CHECK(db_exec(d, "CREATE TEMP TABLE h (k TEXT NOT NULL, n BIGINT NOT NULL)") == DB_OK, "temp table: %s",
	    db_error(d));
	CHECK(db_prepare(d, 0, "INSERT INTO h (k, n) VALUES (?, ?)") == DB_OK, "prepare: %s", db_error(d));
	CHECK(db_prepare_copy(d, 1, "h (k, n)", 2) == DB_OK, "prepare copy");
	db_set_timeout(d, 300);
	CHECK(db_query_i64(d, "SELECT 7", &x, &isnull) == DB_OK && x == 7, "a query with a deadline: %s",
	    db_error(d));
	if (pid <= 0 || kill((pid_t)pid, SIGSTOP) != 0) {
		CHECK(0, "cannot stop backend %lld", (long long)pid);
		db_close(d);
		return;
	}
	if (kind == 0)
		rc = db_query_i64(d, "SELECT 1", &x, &isnull);
	else if (kind == 3)
		rc = db_prepare(d, 2, "SELECT n FROM h WHERE k = ?");
	else {
		static char k[64] = "a key of some length, to fill the socket sooner";
		struct db_val v[2] = { { .t = DBV_TEXT, .s = k, .n = strlen(k) }, { .t = DBV_INT } };

		rc = db_begin(d);
		/* 20,000 rows: some MB, more than the socket holds */
		for (int i = 0; i < 20000 && rc == DB_OK; i++) {
			v[1].i = i;
			rc = kind == 1 ? db_add(d, 0, v, 2) : db_copy_add(d, 1, v, 2);
		}
		CHECK(rc == DB_OK, "kind %d: rows queued without waiting: %s", kind, db_error(d));
		rc = db_commit(d, NULL);
	}
	CHECK(rc == DB_TRANSIENT && strstr(db_error(d), "no answer from the server in 300 ms") != NULL,
	    "kind %d: rc %d: %s", kind, rc, db_error(d));
	CHECK(db_query_i64(d, "SELECT 1", &x, &isnull) == DB_TRANSIENT && db_begin(d) == DB_TRANSIENT &&
	    db_commit(d, NULL) == DB_TRANSIENT, "kind %d: the connection given up stays so", kind);
	db_close(d);
	kill((pid_t)pid, SIGCONT);
}

/* PostgreSQL: which refusals are the row's own (db_refused): a constraint,
 * yes; a database in read-only mode (a primary fenced after a failover)
 * or a missing table, no: the same row is stored once that is put right */
static void
pg_refused(const char *pg)
{
	char url[600], err[640], table[64], sql[200];
	struct db *d;
	int rc;
	struct db_val v = { .t = DBV_INT, .i = -1 };

	snprintf(url, sizeof url, "%s dbname=postgres", pg);
	if ((d = db_open(url, err, sizeof err, &rc)) == NULL) {
		CHECK(0, "PostgreSQL: %s", err);
		return;
	}
	/* a table of its own, not a temporary one: a read-only transaction
	 * may still write those */
	snprintf(table, sizeof table, "recio_test_refused_%ld", (long)getpid());
	snprintf(sql, sizeof sql, "CREATE TABLE %s (n BIGINT CHECK (n >= 0))", table);
	CHECK(db_exec(d, sql) == DB_OK, "table: %s", db_error(d));
	snprintf(sql, sizeof sql, "INSERT INTO %s (n) VALUES (?)", table);
	CHECK(db_prepare(d, 0, sql) == DB_OK, "prepare: %s", db_error(d));
	CHECK(db_begin(d) == DB_OK && db_add(d, 0, &v, 1) == DB_OK && db_commit(d, NULL) == DB_PERMANENT &&
	    db_refused(d), "a check constraint: the row's own: %s", db_error(d));
	CHECK(db_exec(d, "INSERT INTO nosuch VALUES (1)") == DB_PERMANENT && !db_refused(d),
	    "a missing table: not the row's: %s", db_error(d));
	v.i = 1;
	CHECK(db_exec(d, "SET default_transaction_read_only = on") == DB_OK && db_begin(d) == DB_OK &&
	    db_add(d, 0, &v, 1) == DB_OK && db_commit(d, NULL) == DB_PERMANENT && !db_refused(d) &&
	    strcmp(db_sqlstate(d), "25006") == 0, "read-only: not the row's: %s", db_error(d));
	snprintf(sql, sizeof sql, "DROP TABLE %s", table);
	CHECK(db_exec(d, "SET default_transaction_read_only = off") == DB_OK && db_exec(d, sql) == DB_OK, "drop: %s",
	    db_error(d));
	db_close(d);
}

static int64_t
one(struct db *d, const char *sql)
{
	int64_t v = -1;
	int isnull;

	if (db_query_i64(d, sql, &v, &isnull) != DB_OK || isnull)
		return -1;
	return v;
}

int
main(void)
{
	char dir[] = "/tmp/recio-test-db.XXXXXX", url[600], err[640], migs[600];
	struct db *d;
	int rc, applied;
	int64_t rows;
	struct db_val v[2];

	diag_init("test_db");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(migs, sizeof migs, "%s/sql", dir);
	if (mkdir(migs, 0700) < 0) {
		perror(migs);
		return 1;
	}
	put(migs, "001-a.sql", "CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT NOT NULL CHECK (n >= 0));");
	/* a dialect file replaces the shared one of the same version */
	put(migs, "002-b.sql", "CREATE TABLE wrong (x INT);");
	put(migs, "002-b.sqlite.sql", "CREATE TABLE u (x INT);");
	put(migs, "003-c.pg.sql", "CREATE TABLE pgonly (x INT);");
	put(migs, "README", "not a migration");
	put(migs, "04-bad.sql", "not a migration either");

	snprintf(url, sizeof url, "sqlite:%s/sub/x.db", dir);
	d = db_open(url, err, sizeof err, &rc);
	CHECK(d != NULL, "open %s: %s", url, err);
	if (!d)
		return T_DONE();
	CHECK(strcmp(db_dialect(d), "sqlite") == 0, "dialect %s", db_dialect(d));

	rc = db_migrate(d, migs, &applied);
	CHECK(rc == DB_OK && applied == 2, "migrate: rc %d applied %d: %s", rc, applied, db_error(d));
	CHECK(one(d, "SELECT count(*) FROM sqlite_master WHERE name = 'u'") == 1, "dialect file applied");
	CHECK(one(d, "SELECT count(*) FROM sqlite_master WHERE name IN ('wrong', 'pgonly')") == 0,
	    "shared file of the same version and the other dialect's skipped");
	rc = db_migrate(d, migs, &applied);
	CHECK(rc == DB_OK && applied == 0, "second migrate: rc %d applied %d", rc, applied);
	CHECK(one(d, "SELECT count(*) FROM schema_migrations") == 2, "two versions recorded");

	/* a migration that fails leaves nothing behind and is not recorded */
	put(migs, "005-e.sql", "CREATE TABLE e1 (x INT); CREATE TABLE e1 (x INT);");
	rc = db_migrate(d, migs, &applied);
	CHECK(rc == DB_PERMANENT, "failing migration: rc %d", rc);
	CHECK(strstr(db_error(d), "005-e.sql") != NULL, "error names the file: %s", db_error(d));
	CHECK(one(d, "SELECT count(*) FROM sqlite_master WHERE name = 'e1'") == 0, "rolled back");
	snprintf(err, sizeof err, "%s/005-e.sql", migs);
	unlink(err);

	CHECK(db_prepare(d, 0, "INSERT INTO t (k, n) VALUES (?, ?) ON CONFLICT (k) DO NOTHING") == DB_OK,
	    "prepare: %s", db_error(d));
	CHECK(db_prepare(d, 1, "INSERT INTO nosuch VALUES (?)") == DB_PERMANENT, "prepare bad SQL is permanent");

	/* a batch commits as a whole */
	v[0] = (struct db_val){ .t = DBV_TEXT, .s = "a", .n = 1 };
	v[1] = (struct db_val){ .t = DBV_INT, .i = 5 };
	CHECK(db_begin(d) == DB_OK, "begin");
	CHECK(db_add(d, 0, v, 2) == DB_OK, "add a");
	v[0].s = "b";
	CHECK(db_add(d, 0, v, 2) == DB_OK, "add b");
	CHECK(db_add(d, 0, v, 2) == DB_OK, "add b again (conflict: nothing)");
	CHECK(db_commit(d, &rows) == DB_OK && rows == 2, "commit: rows %lld", (long long)rows);
	CHECK(one(d, "SELECT count(*) FROM t") == 2, "two rows");

	/* a batch with a refused row leaves nothing behind */
	CHECK(db_begin(d) == DB_OK, "begin 2");
	v[0].s = "c";
	CHECK(db_add(d, 0, v, 2) == DB_OK, "add c");
	v[0].s = "d";
	v[1].i = -1;
	CHECK(db_add(d, 0, v, 2) == DB_PERMANENT, "check constraint is permanent");
	v[0].s = "e";
	v[1].i = 1;
	CHECK(db_add(d, 0, v, 2) == DB_PERMANENT, "later adds report the batch's error");
	CHECK(db_commit(d, &rows) == DB_PERMANENT && rows == 0, "commit reports it");
	CHECK(strstr(db_error(d), "CHECK") != NULL, "error: %s", db_error(d));
	CHECK(db_refused(d), "a constraint is the row's own");
	CHECK(one(d, "SELECT count(*) FROM t") == 2, "nothing of the batch stored");

	/* NULL and real values */
	CHECK(db_prepare(d, 2, "INSERT INTO u (x) VALUES (?)") == DB_OK, "prepare u");
	v[0] = (struct db_val){ .t = DBV_REAL, .s = "2.5", .n = 3 };
	v[1] = (struct db_val){ .t = DBV_NULL };
	CHECK(db_begin(d) == DB_OK && db_add(d, 2, v, 1) == DB_OK && db_add(d, 2, v + 1, 1) == DB_OK &&
	    db_commit(d, &rows) == DB_OK && rows == 2, "real and null");
	CHECK(one(d, "SELECT count(*) FROM u WHERE x IS NULL") == 1, "null stored");

	CHECK(db_exec(d, "SELECT * FROM nosuch") == DB_PERMANENT, "bad SQL is permanent");
	CHECK(!db_refused(d), "bad SQL is not the data's fault");

	/* db_query keeps its statements: the same query again (new bindings,
	 * nothing left bound), the same query from inside its own row callback,
	 * more distinct queries than are kept, and a query after the table
	 * it reads has changed */
	{
		struct qn q = { d, 0, 0 };
		char sql[64];

		v[0] = (struct db_val){ .t = DBV_TEXT, .s = "a", .n = 1 };
		CHECK(db_query(d, "SELECT n FROM t WHERE k = ?", v, 1, sum_n, &q) == DB_OK && q.sum == 5, "query a: %lld",
		    (long long)q.sum);
		v[0].s = "b";
		q.sum = 0;
		CHECK(db_query(d, "SELECT n FROM t WHERE k = ?", v, 1, sum_n, &q) == DB_OK && q.sum == 5, "again, b");
		q.sum = 0;
		CHECK(db_query(d, "SELECT n FROM t WHERE k = ?", v, 0, sum_n, &q) == DB_OK && q.sum == 0,
		    "no binding: NULL, no row (the last binding is not kept)");
		q.sum = 0;
		q.nest = 1;
		CHECK(db_query(d, "SELECT n FROM t WHERE k = ?", v, 1, sum_n, &q) == DB_OK && q.sum == 10,
		    "the same query inside its row callback: %lld", (long long)q.sum);
		q.nest = 0;
		for (int i = 0; i < 40; i++) {
			snprintf(sql, sizeof sql, "SELECT count(*) + %d FROM t", i);
			q.sum = 0;
			CHECK(db_query(d, sql, NULL, 0, sum_n, &q) == DB_OK && q.sum == 2 + i, "%s: %lld", sql,
			    (long long)q.sum);
		}
		CHECK(db_exec(d, "ALTER TABLE t ADD COLUMN m BIGINT NOT NULL DEFAULT 7") == DB_OK, "alter");
		q.sum = 0;
		CHECK(db_query(d, "SELECT n FROM t WHERE k = ?", v, 1, sum_n, &q) == DB_OK && q.sum == 5,
		    "after the change");
		v[0].s = "z";
		v[1] = (struct db_val){ .t = DBV_INT, .i = 3 };
		CHECK(db_begin(d) == DB_OK && db_add(d, 0, v, 2) == DB_OK && db_commit(d, &rows) == DB_OK && rows == 1,
		    "a write after kept reads: %s", db_error(d));
	}
	db_close(d);

	/* a store that cannot be opened is an outage, not bad data */
	d = db_open("sqlite:/proc/nonexistent/x.db", err, sizeof err, &rc);
	CHECK(d == NULL && rc == DB_TRANSIENT, "unopenable: rc %d", rc);
	CHECK(strstr(err, "/proc/nonexistent") != NULL, "error names the path: %s", err);

	/* PostgreSQL not listening: transient, with libpq's reason */
	snprintf(url, sizeof url, "host=%s/nosock dbname=x connect_timeout=1", dir);
	d = db_open(url, err, sizeof err, &rc);
	CHECK(d == NULL && rc == DB_TRANSIENT, "no server: rc %d", rc);
	CHECK(strncmp(err, "connect: ", 9) == 0 && !strchr(err, '\n'), "one-line reason: %s", err);

	{
		const char *pg = getenv("RECIO_TEST_PG");

		/* t/run always has a server; make check-valgrind runs before
		 * .ci/run starts one */
		if (!pg || !*pg)
			printf("# RECIO_TEST_PG not set: the PostgreSQL part is not run (t/run runs it)\n");
		for (int kind = 0; pg && *pg && kind < 4; kind++)
			pg_hang(pg, kind);
		if (pg && *pg)
			pg_refused(pg);
	}

	{
		char cmd[700];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "test_db: could not remove %s\n", dir);
	}
	return T_DONE();
}
