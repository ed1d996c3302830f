/* http.c: see http.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "diag.h"
#include "http.h"
#include "json.h"
#include "kx.h"
#include "rlimits.h"
#include "rtime.h"
#include "sign.h"

struct http_client {
	CURL *curl;
	char *base;                     /* without a trailing '/' */
	const char *base_path;          /* points into base: "/trade-api/v2" or "" */
	struct kx_key *key;
	char *key_id;
	struct http_opts o;
	struct tbucket rd, wr;
	struct rng jitter;
	struct buf url;
	char errbuf[CURL_ERROR_SIZE];   /* curl keeps the pointer: lives with the handle */
	/* per request */
	struct http_resp *r;
	int64_t retry_after_ms;
	int too_big;
	int stopped;                    /* the stop flag ended the request */
	int64_t idle_last;              /* the idle hook's last call (monotonic ms) */
	uint64_t retries;               /* attempts retried, since http_new */
	/* pre-made signatures (http_presign) for one method and path */
	char ps_method[8];
	struct buf ps_path;             /* the request path; signed with base_path */
	int ps_n;                       /* how many to keep */
	struct presig {
		int64_t ts;             /* 0: none */
		char sig[RECIO_SIG_B64_MAX];
	} ps[HTTP_PRESIGN_MAX];
	int64_t ps_last_ts;             /* timestamps are never reused */
	uint64_t ps_used;
};

static int curl_ready;

struct http_client *
http_new(const char *base_url, const struct http_opts *opts, struct kx_key *key, const char *key_id)
{
	struct http_client *c;
	const char *p;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
			warnx_("cannot initialise libcurl");
			return NULL;
		}
		curl_ready = 1;
	}
	c = xcalloc(1, sizeof *c);
	if ((c->curl = curl_easy_init()) == NULL) {
		warnx_("cannot initialise a libcurl handle");
		free(c);
		return NULL;
	}
	c->base = xstrdup(base_url);
	while (*c->base && c->base[strlen(c->base) - 1] == '/')
		c->base[strlen(c->base) - 1] = '\0';
	p = strstr(c->base, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	c->base_path = p ? p : "";
	c->key = key;
	c->key_id = key_id ? xstrdup(key_id) : NULL;
	if (opts)
		c->o = *opts;
	if (c->o.timeout_ms <= 0)
		c->o.timeout_ms = RECIO_HTTP_TIMEOUT_MS;
	if (c->o.connect_ms <= 0)
		c->o.connect_ms = RECIO_HTTP_CONNECT_MS;
	if (opts == NULL)
		c->o.retries = RECIO_HTTP_RETRIES;
	if (c->o.retries < 0)
		c->o.retries = 0;
	if (c->o.backoff_ms <= 0)
		c->o.backoff_ms = RECIO_HTTP_BACKOFF_MS;
	if (c->o.backoff_max_ms <= 0)
		c->o.backoff_max_ms = RECIO_HTTP_BACKOFF_MAX;
	if (c->o.read_rate <= 0)
		c->o.read_rate = KX_READ_RATE;
	if (c->o.read_burst <= 0)
		c->o.read_burst = KX_READ_BURST;
	if (c->o.write_rate <= 0)
		c->o.write_rate = KX_WRITE_RATE;
	if (c->o.write_burst <= 0)
		c->o.write_burst = KX_WRITE_BURST;
	tb_init(&c->rd, c->o.read_rate, c->o.read_burst, rt_mono_ms());
	tb_init(&c->wr, c->o.write_rate, c->o.write_burst, rt_mono_ms());
	rng_seed(&c->jitter, c->o.seed ? c->o.seed : (uint64_t)rt_now_ms() ^ ((uint64_t)getpid() << 32));
	return c;
}

void
http_set_attempts(struct http_client *c, long timeout_ms, int retries)
{
	c->o.timeout_ms = timeout_ms > 0 ? timeout_ms : RECIO_HTTP_TIMEOUT_MS;
	c->o.retries = retries > 0 ? retries : 0;
}

void
http_free(struct http_client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	free(c->base);
	free(c->key_id);
	buf_free(&c->url);
	buf_free(&c->ps_path);
	explicit_bzero(c->ps, sizeof c->ps);
	free(c);
}

void
http_resp_free(struct http_resp *r)
{
	buf_free(&r->body);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_client *c = arg;

	n *= size;
	if (c->r->body.len + n > RECIO_HTTP_BODY_MAX) {
		c->too_big = 1;
		return 0;               /* makes curl fail the transfer */
	}
	buf_add(&c->r->body, p, n);
	return n;
}

/* The value of header line p[0..len) if it is name, NUL-terminated into
 * v; NULL when it is another header or too long.  curl's header data is
 * not NUL-terminated. */
static const char *
header_value(const char *p, size_t len, const char *name, char *v, size_t cap)
{
	size_t nl = strlen(name), i, e;

	if (len <= nl || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
		return NULL;
	for (i = nl + 1; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	for (e = len; e > i && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' '); e--)
		;
	if (e - i >= cap)
		return NULL;
	memcpy(v, p + i, e - i);
	v[e - i] = '\0';
	return v;
}

/* Retry-After (delay-seconds or an HTTP-date) and Date.  An unreadable
 * Retry-After is ignored: the usual back-off applies. */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_client *c = arg;
	size_t len = size * n;
	char v[128] = { 0 };    /* (zeroed: clang-analyzer cannot follow header_value's NUL) */
	time_t t;

	if (header_value(p, len, "Retry-After", v, sizeof v)) {
		size_t vl = strlen(v);

		if (vl > 0 && strspn(v, "0123456789") == vl) {
			int64_t secs = 0;   /* clamped: the caller caps the wait anyway */

			for (size_t i = 0; i < vl && secs < 86400; i++)
				secs = secs * 10 + (v[i] - '0');
			c->retry_after_ms = secs * 1000 > 0 ? secs * 1000 : 1;
		} else if ((t = curl_getdate(v, NULL)) > 0) {
			int64_t ms = (int64_t)t * 1000 - rt_now_ms();

			c->retry_after_ms = ms > 0 ? ms : 1;    /* a date past: at once, but never spin */
		}
	} else if (header_value(p, len, "Date", v, sizeof v) && (t = curl_getdate(v, NULL)) > 0)
		c->r->date_ms = (int64_t)t * 1000;
	return len;
}

int64_t
http_backoff_ms(struct rng *g, int n, int64_t base, int64_t max)
{
	int64_t cap = base;

	for (int i = 1; i < n && cap < max; i++)
		cap *= 2;
	if (cap > max)
		cap = max;
	if (cap < 1)
		cap = 1;
	return 1 + (int64_t)rng_below(g, (uint64_t)cap);
}

/* curl's progress callback: the tool's periodic work, and its stop flag */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct http_client *c = arg;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (c->o.stop && *c->o.stop) {
		c->stopped = 1;
		return 1;               /* CURLE_ABORTED_BY_CALLBACK */
	}
	if (c->o.idle) {
		int64_t now = rt_mono_ms();

		if (now - c->idle_last >= 100) {
			c->idle_last = now;
			c->o.idle(c->o.idle_arg);
		}
	}
	return 0;
}

/* A wait between attempts: in slices, with the idle hook; -1 when the
 * stop flag cut it short. */
static int
wait_ms(struct http_client *c, int64_t ms)
{
	int64_t end = rt_mono_ms() + ms, left;

	if (c->o.idle == NULL)
		return rt_sleep_stop(ms, c->o.stop);
	while ((left = end - rt_mono_ms()) > 0) {
		if (rt_sleep_stop(left < 100 ? left : 100, c->o.stop) < 0)
			return -1;
		c->o.idle(c->o.idle_arg);
	}
	return c->o.stop && *c->o.stop ? -1 : 0;
}

static bool
retryable(long status)
{
	return status == 0 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* A timestamp for a new signature: now, but never one already used (two
 * signatures within a millisecond, or a clock stepped back). */
static int64_t
next_ts(struct http_client *c, int64_t now)
{
	if (now <= c->ps_last_ts)
		now = c->ps_last_ts + 1;
	return c->ps_last_ts = now;
}

void
http_presign(struct http_client *c, const char *method, const char *path, int n)
{
	explicit_bzero(c->ps, sizeof c->ps);
	c->ps_n = 0;
	if (n <= 0 || strlen(method) >= sizeof c->ps_method)
		return;
	c->ps_n = n > HTTP_PRESIGN_MAX ? HTTP_PRESIGN_MAX : n;
	memcpy(c->ps_method, method, strlen(method) + 1);
	buf_reset(&c->ps_path);
	buf_puts(&c->ps_path, path);
}

/* The oldest usable pre-made signature for method path at now into
 * (*ts, sig), taken out; false when there is none. */
static bool
presig_take(struct http_client *c, const char *method, const char *path, int64_t now, int64_t *ts,
    char *sig)
{
	int best = -1;

	if (c->ps_n == 0 || strcmp(method, c->ps_method) != 0 || strcmp(path, c->ps_path.p) != 0)
		return false;
	for (int i = 0; i < c->ps_n; i++)
		if (c->ps[i].ts && now - c->ps[i].ts < HTTP_PRESIGN_AGE_MS &&
		    (best < 0 || c->ps[i].ts < c->ps[best].ts))
			best = i;
	if (best < 0)
		return false;
	*ts = c->ps[best].ts;
	memcpy(sig, c->ps[best].sig, sizeof c->ps[best].sig);
	c->ps[best].ts = 0;
	return true;
}

int64_t
http_presign_step(struct http_client *c)
{
	int64_t now = rt_now_ms(), next = HTTP_PRESIGN_REFRESH_MS;
	int worst = -1;
	struct buf sp = { 0 };

	if (c->ps_n == 0 || c->key == NULL || c->key_id == NULL)
		return -1;
	/* the slot most in need: empty, else the oldest past its refresh age */
	for (int i = 0; i < c->ps_n; i++) {
		int64_t due = c->ps[i].ts ? c->ps[i].ts + HTTP_PRESIGN_REFRESH_MS - now : 0;

		if (due <= 0 && (worst < 0 || c->ps[i].ts < c->ps[worst].ts))
			worst = i;
		else if (due > 0 && due < next)
			next = due;
	}
	if (worst < 0)
		return next;
	buf_puts(&sp, c->base_path);
	buf_puts(&sp, c->ps_path.p);
	c->ps[worst].ts = next_ts(c, now);
	if (kx_sign(c->key, c->ps[worst].ts, c->ps_method, sp.p, c->ps[worst].sig, sizeof c->ps[worst].sig) < 0) {
		/* kx_sign said why; requests sign for themselves (and fail
		 * there, reported with the request) */
		buf_free(&sp);
		http_presign(c, "", "", 0);
		return -1;
	}
	buf_free(&sp);
	/* another slot may be due already */
	for (int i = 0; i < c->ps_n; i++)
		if (c->ps[i].ts == 0 || c->ps[i].ts + HTTP_PRESIGN_REFRESH_MS <= now)
			return 0;
	return next;
}

uint64_t
http_presigned_used(const struct http_client *c)
{
	return c->ps_used;
}

static int
attempt(struct http_client *c, const char *method, const char *path, const char *body, size_t blen)
{
	struct curl_slist *h = NULL;
	char line[RECIO_SIG_B64_MAX + 64];
	CURLcode rc;
	long status = 0;
	struct buf signed_path = { 0 };

	buf_reset(&c->url);
	buf_puts(&c->url, c->base);
	buf_puts(&c->url, path);
	buf_reset(&c->r->body);
	c->r->date_ms = 0;
	c->retry_after_ms = 0;
	c->too_big = 0;
	h = curl_slist_append(h, "Accept: application/json");
	if (body) {
		h = curl_slist_append(h, "Content-Type: application/json");
		h = curl_slist_append(h, "Expect:");   /* no 100-continue round trip */
	}
	if (c->key && c->key_id) {
		int64_t ts = rt_now_ms();
		char sig[RECIO_SIG_B64_MAX];

		buf_puts(&signed_path, c->base_path);
		buf_puts(&signed_path, path);
		bool ready = presig_take(c, method, path, ts, &ts, sig);

		if (ready)
			c->ps_used++;
		else
			ts = next_ts(c, ts);
		if (!ready && kx_sign(c->key, ts, method, signed_path.p, sig, sizeof sig) < 0) {
			snprintf(c->r->err, sizeof c->r->err, "cannot sign the request");
			curl_slist_free_all(h);
			buf_free(&signed_path);
			return -1;
		}
		snprintf(line, sizeof line, "KALSHI-ACCESS-KEY: %s", c->key_id);
		h = curl_slist_append(h, line);
		snprintf(line, sizeof line, "KALSHI-ACCESS-TIMESTAMP: %lld", (long long)ts);
		h = curl_slist_append(h, line);
		snprintf(line, sizeof line, "KALSHI-ACCESS-SIGNATURE: %s", sig);
		h = curl_slist_append(h, line);
	}
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, c->url.p);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	if (body) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
	}
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->o.timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_ms);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
	c->errbuf[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "recio/0.1");
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->o.stop || c->o.idle) {
		curl_easy_setopt(c->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c->curl, CURLOPT_XFERINFODATA, c);
		curl_easy_setopt(c->curl, CURLOPT_NOPROGRESS, 0L);
	}
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(h);
	buf_free(&signed_path);
	if (rc != CURLE_OK) {
		if (c->stopped)
			snprintf(c->r->err, sizeof c->r->err, "interrupted");
		else if (c->too_big)
			snprintf(c->r->err, sizeof c->r->err, "response body larger than %u bytes", RECIO_HTTP_BODY_MAX);
		else
			snprintf(c->r->err, sizeof c->r->err, "%s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		c->r->status = 0;
		return 0;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	c->r->status = status;
	c->r->err[0] = '\0';
	return 0;
}

int
http_request(struct http_client *c, const char *method, const char *path, const char *body,
    size_t body_len, int flags, struct http_resp *r)
{
	bool idem = strcmp(method, "GET") == 0 || (flags & HTTP_RETRY);
	struct tbucket *b = strcmp(method, "GET") == 0 ? &c->rd : &c->wr;

	c->r = r;
	r->attempts = 0;
	r->status = 0;
	r->err[0] = '\0';
	c->stopped = 0;
	c->idle_last = rt_mono_ms();
	for (;;) {
		int64_t wait;

		if (!c->o.no_limit)
			while ((wait = tb_take(b, KX_REQ_COST, rt_mono_ms())) > 0)
				if (wait_ms(c, wait) < 0)
					goto interrupted;
		if (c->o.stop && *c->o.stop)
			goto interrupted;
		r->attempts++;
		if (attempt(c, method, path, body, body_len) < 0)
			return -1;
		if (c->stopped || !idem || !retryable(r->status) || r->attempts > c->o.retries)
			break;
		wait = c->retry_after_ms > 0 ? c->retry_after_ms :
		    http_backoff_ms(&c->jitter, r->attempts, c->o.backoff_ms, c->o.backoff_max_ms);
		if (wait > c->o.backoff_max_ms)
			wait = c->o.backoff_max_ms;
		c->retries++;
		debugx("%s %s: %s, retrying in %lld ms", method, path,
		    r->status ? "retryable status" : r->err, (long long)wait);
		if (wait_ms(c, wait) < 0)
			goto interrupted;
	}
	if (r->body.p == NULL)
		buf_reset(&r->body), buf_add(&r->body, "", 0);
	return r->status ? 0 : -1;
interrupted:
	/* an answer in hand is not the last word: a retry was due */
	r->status = 0;
	snprintf(r->err, sizeof r->err, "interrupted");
	if (r->body.p == NULL)
		buf_reset(&r->body), buf_add(&r->body, "", 0);
	return -1;
}

int
http_json(struct json *j, const struct http_resp *r)
{
	int save = j->tok_max, rc;

	j->tok_max = RECIO_HTTP_TOK_MAX;
	rc = json_parse(j, r->body.p ? r->body.p : "", r->body.len);
	j->tok_max = save;
	return rc;
}

uint64_t
http_retries(const struct http_client *c)
{
	return c->retries;
}

void
http_error_text(const struct http_resp *r, char *out, size_t cap)
{
	struct json j = { 0 };
	char code[96], msg[256];

	if (r->body.len && http_json(&j, r) == 0 &&
	    kx_error_decode(&j, code, sizeof code, msg, sizeof msg) == 0)
		snprintf(out, cap, "%s%s%s", code, msg[0] ? ": " : "", msg);
	else if (r->body.len)
		snprintf(out, cap, "%.200s", r->body.p);
	else
		snprintf(out, cap, "(empty body)");
	json_free(&j);
}

void
http_qescape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~')
			buf_putc(b, (char)ch);
		else {
			buf_putc(b, '%');
			buf_putc(b, hex[ch >> 4]);
			buf_putc(b, hex[ch & 15]);
		}
	}
}
