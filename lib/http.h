/* http.h: the HTTP client every tool uses to reach Kalshi (or kalshi-sim)
 * and the BTC feed.  libcurl easy handle, kept alive between requests.
 *
 * Requests are relative to a base URL such as
 *     http://127.0.0.1:8080/trade-api/v2
 * When a key is set, each attempt is signed afresh over the base URL's path
 * + the request path (query excluded) with the three KALSHI-ACCESS-*
 * headers.  Reads (GET) wait on a read token bucket, writes on a write
 * bucket (Kalshi's Basic tier unless changed).
 *
 * Retries: for idempotent requests (GET, and any request with
 * HTTP_RETRY set) a transport error, 429, 500, 502, 503 or 504 is retried
 * up to opts.retries times with exponential back-off and full jitter
 * (base doubling to max); a Retry-After header, when present, is honoured
 * instead (Kalshi's 429 carries none).  Other statuses are returned to the
 * caller as they are. */
#ifndef RECIO_HTTP_H
#define RECIO_HTTP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "bucket.h"
#include "rng.h"

struct kx_key;

struct http_opts {
	long timeout_ms;        /* whole request; default RECIO_HTTP_TIMEOUT_MS */
	long connect_ms;        /* default RECIO_HTTP_CONNECT_MS */
	int retries;            /* default RECIO_HTTP_RETRIES; 0 = no retry */
	int64_t backoff_ms;     /* default RECIO_HTTP_BACKOFF_MS */
	int64_t backoff_max_ms; /* default RECIO_HTTP_BACKOFF_MAX */
	int64_t read_rate, read_burst, write_rate, write_burst; /* tokens; 0 = Kalshi Basic */
	int no_limit;           /* 1: no client-side rate limiting */
	uint64_t seed;          /* jitter seed; 0 = from time and pid */
	/* A tool's stop flag (set by its SIGTERM handler), or NULL.  Once set,
	 * a request in flight is abandoned (within about a second: curl's
	 * progress callback), and no retry, back-off or rate-limit wait
	 * follows: http_request returns -1 with r->err "interrupted". */
	volatile sig_atomic_t *stop;
	/* Called up to every 100 ms (from curl's progress callback) while a
	 * request is in flight, and every 100 ms while one waits for a retry
	 * or a rate-limit token, or NULL: a tool's periodic work (health
	 * lines) goes on while the exchange does not answer.  It must not
	 * use this client. */
	void (*idle)(void *arg);
	void *idle_arg;
};

struct http_client;

/* A new client for base_url (copied).  key may be NULL (unsigned); key_id
 * is copied; the key stays owned by the caller and must outlive the client. */
struct http_client *http_new(const char *base_url, const struct http_opts *opts,
                             struct kx_key *key, const char *key_id);
void http_free(struct http_client *c);
/* Change the whole-request timeout and the retries for the requests that
 * follow (values as in http_opts: timeout_ms <= 0 is the default). */
void http_set_attempts(struct http_client *c, long timeout_ms, int retries);

enum { HTTP_RETRY = 1 };    /* flags: treat this non-GET request as idempotent */

struct http_resp {
	long status;            /* HTTP status, 0 if no response arrived */
	struct buf body;        /* response body (NUL-terminated); reuse across calls */
	int attempts;           /* attempts made */
	int64_t date_ms;        /* the response's Date header (ms since epoch), 0 if none */
	char err[256];          /* transport error text when status == 0 */
};

/* Perform METHOD path (with optional query) and fill r.  body may be NULL.
 * Returns 0 when a response arrived (any status), -1 when none did after
 * the retries (r->err says why).  The body is capped at
 * RECIO_HTTP_BODY_MAX: a longer one is a transport error. */
int http_request(struct http_client *c, const char *method, const char *path,
                 const char *body, size_t body_len, int flags, struct http_resp *r);
void http_resp_free(struct http_resp *r);

struct json;
/* Parse r's body into j with the token cap of an HTTP body
 * (RECIO_HTTP_TOK_MAX: a body within RECIO_HTTP_BODY_MAX is never refused
 * for its token count) instead of an NDJSON line's; j's own cap is put
 * back after.  As json_parse: 0, or -1 with j->err set. */
int http_json(struct json *j, const struct http_resp *r);

/* Pre-made signatures.  Kalshi signs timestamp + method + path, not the
 * body, so a signature for METHOD path (no query) can be made before the
 * request exists: http_presign keeps up to n of them (at most
 * HTTP_PRESIGN_MAX; 0 stops) and a request for that method and path uses
 * the oldest one younger than HTTP_PRESIGN_AGE_MS instead of signing,
 * each one once, falling back to signing when none is ready.
 * http_presign_step makes the one signature most needed (missing, used, or
 * older than HTTP_PRESIGN_REFRESH_MS) and returns the milliseconds until
 * the next is due: 0 means call again (more to make), -1 nothing to keep
 * (no key, or n = 0).  Call it when idle: one RSA signature, ~0.4 ms. */
#define HTTP_PRESIGN_MAX 8
#define HTTP_PRESIGN_AGE_MS 1000
#define HTTP_PRESIGN_REFRESH_MS 500
void http_presign(struct http_client *c, const char *method, const char *path, int n);
int64_t http_presign_step(struct http_client *c);
/* Requests that went with a pre-made signature, since http_new. */
uint64_t http_presigned_used(const struct http_client *c);

/* Attempts retried (a transport error or a retryable status that a later
 * attempt replaced) since the client was made: faults the retries hid. */
uint64_t http_retries(const struct http_client *c);

/* Kalshi error body {"error":{"code","message"}} into "code: message";
 * falls back to the raw body (truncated) when it is not of that shape. */
void http_error_text(const struct http_resp *r, char *out, size_t cap);

/* Percent-encode a query value (cursors are opaque: '+', '=', '/'...)
 * onto b. */
void http_qescape(struct buf *b, const char *s);

/* Back-off before attempt n (1-based): full jitter over
 * min(max, base * 2^(n-1)).  Exposed for tests. */
int64_t http_backoff_ms(struct rng *g, int n, int64_t base, int64_t max);

#endif
