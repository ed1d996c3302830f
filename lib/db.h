/* db.h: one interface over SQLite (sqlite3) and PostgreSQL (libpq).
 *
 * A store is named by a URL: "sqlite:PATH" (WAL mode, synchronous=FULL), or
 * anything else, which is handed to libpq as a connection string
 * ("postgresql://...", "host=/tmp dbname=recio").  Statements are written
 * once with '?' placeholders; for PostgreSQL they become $1, $2, ...
 *
 * Writes go in batches: db_begin, db_add (and on PostgreSQL db_copy_add) for
 * each row, db_commit.  A batch is one transaction: on SQLite BEGIN
 * IMMEDIATE ... COMMIT; on PostgreSQL BEGIN and the prepared statements in
 * one libpq pipeline, then the rows collected by db_copy_add, one COPY per
 * target, then COMMIT (without COPY rows: BEGIN, the statements and COMMIT
 * in one pipeline, one round trip).  A batch that fails leaves nothing
 * behind.
 *
 * Every call that can fail returns DB_OK, DB_TRANSIENT (the database is
 * unreachable, busy, out of space, shutting down: try again later) or
 * DB_PERMANENT (this data cannot be stored: a constraint, a bad value, bad
 * SQL); db_error says why. */
#ifndef RECIO_DB_H
#define RECIO_DB_H

#include <stddef.h>
#include <stdint.h>

#define DB_OK         0
#define DB_TRANSIENT (-1)
#define DB_PERMANENT (-2)

#define DB_MAX_STMT  32   /* statement ids 0..DB_MAX_STMT-1 */

enum db_vtype { DBV_NULL, DBV_INT, DBV_REAL, DBV_TEXT };

/* A parameter.  DBV_REAL carries its decimal text (s, n) as read from JSON,
 * so nothing is lost in a double round trip on PostgreSQL; DBV_TEXT's s must
 * be NUL-terminated at s[n]. */
struct db_val {
	enum db_vtype t;
	int64_t i;
	const char *s;
	size_t n;
};

struct db;

/* Connect.  NULL on failure with the reason in err and the class in *rc. */
struct db *db_open(const char *url, char *err, size_t cap, int *rc);
void db_close(struct db *d);
const char *db_error(const struct db *d);
/* The SQLSTATE of the last PostgreSQL error ("" when none or on SQLite). */
const char *db_sqlstate(const struct db *d);
/* Whether the last error was the data's own: a constraint, a value out of
 * range or of the wrong kind (SQLSTATE classes 22 and 23; SQLite's
 * CONSTRAINT, MISMATCH, TOOBIG, RANGE).  A DB_PERMANENT error that is not
 * (bad SQL, a missing table or privilege, a database in read-only mode
 * after a failover) is the database's or the program's: the same row may
 * well be stored once it is put right, so a writer should keep it. */
int db_refused(const struct db *d);
const char *db_dialect(const struct db *d);           /* "sqlite" or "pg" */

/* Apply the migrations in dir not yet recorded in schema_migrations, each in
 * its own transaction, in name order.  Files are NNN-name.sql (both
 * dialects) or NNN-name.sqlite.sql / NNN-name.pg.sql (one dialect; it wins
 * over a shared file of the same NNN-name).  *applied gets the number run.
 * Concurrent callers are serialised (advisory lock / BEGIN IMMEDIATE). */
int db_migrate(struct db *d, const char *dir, int *applied);

/* PostgreSQL: a call that waits on the server (db_exec, db_query_i64,
 * db_query, db_prepare, a batch's db_commit or db_commit_start and
 * db_commit_finish) gives up on an answer that has not come in ms
 * milliseconds (0, the default: waits for ever), with DB_TRANSIENT and "no
 * answer from the server in N ms"; db_migrate gets ten times that.  The
 * connection is then given up: every later call fails DB_TRANSIENT, and
 * the caller db_close's it and opens another.  A server that is stopped or
 * hung, not down, keeps the connection open and answers nothing, which no
 * TCP timeout notices.  With a deadline the connection is nonblocking, so
 * a batch larger than the socket holds cannot block db_add either. */
void db_set_timeout(struct db *d, int ms);
/* Run SQL text (may hold several statements) outside any batch. */
int db_exec(struct db *d, const char *sql);
/* Run a query returning one integer (NULL gives *isnull = 1). */
int db_query_i64(struct db *d, const char *sql, int64_t *out, int *isnull);

/* Run a statement with '?' parameters (a query, or an INSERT, UPDATE,
 * DELETE: no rows; fn may then be NULL); fn gets each row: ncol columns, their
 * names, their values as text (NULL for SQL NULL) and kinds (DBV_NULL,
 * DBV_INT, DBV_REAL, DBV_TEXT; booleans are 0/1 integers).  A nonzero
 * return from fn stops.  Pointers are valid during the call only. */
typedef int (*db_row_fn)(void *arg, int ncol, const char *const *names, const char *const *vals,
                         const enum db_vtype *kinds);
int db_query(struct db *d, const char *sql, const struct db_val *v, int n, db_row_fn fn, void *arg);

int db_prepare(struct db *d, int id, const char *sql);
int db_begin(struct db *d);
/* Queue one execution of statement id.  An error is kept and returned by
 * db_commit, which then rolls the batch back. */
int db_add(struct db *d, int id, const struct db_val *v, int n);
/* Returns DB_OK once the batch is durable; *rows gets rows changed. */
int db_commit(struct db *d, int64_t *rows);
/* db_commit in two halves, so the caller can work while PostgreSQL stores
 * the batch's last COPY: db_commit_start sends it and the COMMIT (a
 * nonzero return is the batch's result already; db_commit_finish must still
 * be called), db_poll pushes more of the COPY data when the socket takes
 * it (call it now and then; never blocks), db_commit_finish waits for the
 * result.  Nothing else may use d in between.  On SQLite db_commit_start
 * does it all. */
int db_commit_start(struct db *d);
int db_poll(struct db *d);
int db_commit_finish(struct db *d, int64_t *rows);

/* PostgreSQL only: COPY targets.  db_prepare_copy names target id (its own
 * ids, 0..DB_MAX_STMT-1) as "table (col, ...)" with n columns; db_copy_add
 * queues one row of it in the open batch (COPY text format, sent at
 * db_commit).  COPY has no ON CONFLICT: a row whose key is already stored
 * fails the batch with SQLSTATE 23505 (unique_violation). */
int db_prepare_copy(struct db *d, int id, const char *target, int n);
int db_copy_add(struct db *d, int id, const struct db_val *v, int n);

#endif
