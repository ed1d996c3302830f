/* test_http.c: the HTTP client against a real libmicrohttpd server on
 * loopback: retries, back-off, Retry-After, signing, limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>

#include <microhttpd.h>

#include "t.h"
#include "http.h"
#include "json.h"
#include "rlimits.h"
#include "rtime.h"
#include "sign.h"

static int hits, mode;
static struct kx_key *pub;
static int sig_ok;
static unsigned client_port;            /* the client's source port, last request */
static char ctype[64], accept_h[64], got[256], retry_after[64];
static size_t gotlen;

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *ver,
    const char *up, size_t *upsize, void **state)
{
	static int dummy;
	struct MHD_Response *r;
	unsigned status = 200;
	const char *body = "{\"ok\":true}";
	static char big[RECIO_HTTP_BODY_MAX + 16];
	size_t blen;
	enum MHD_Result ret;

	(void)cls, (void)ver;
	if (*state == NULL) {
		*state = &dummy;
		gotlen = 0;
		return MHD_YES;
	}
	if (*upsize) {
		size_t n = *upsize < sizeof got - 1 - gotlen ? *upsize : sizeof got - 1 - gotlen;

		memcpy(got + gotlen, up, n);
		got[gotlen += n] = '\0';
		*upsize = 0;
		return MHD_YES;
	}
	got[gotlen] = '\0';
	hits++;
	{
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		const char *v;

		client_port = ci ? ntohs(((const struct sockaddr_in *)ci->client_addr)->sin_port) : 0;
		v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
		snprintf(ctype, sizeof ctype, "%s", v ? v : "");
		v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
		snprintf(accept_h, sizeof accept_h, "%s", v ? v : "");
	}
	switch (mode) {
	case 0: status = hits <= 2 ? 429 : 200; break;          /* 429 twice */
	case 1: status = 503; break;                            /* always */
	case 2: status = 500; break;
	case 3: status = hits == 1 ? 429 : 200; break;          /* with Retry-After */
	case 4: {                                               /* check the signature */
		const char *k = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "KALSHI-ACCESS-KEY");
		const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "KALSHI-ACCESS-TIMESTAMP");
		const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "KALSHI-ACCESS-SIGNATURE");

		sig_ok = k && ts && sig && strcmp(k, "kid") == 0 && llabs(strtoll(ts, NULL, 10) - rt_now_ms()) < 5000 &&
		    kx_verify(pub, strtoll(ts, NULL, 10), method, url, sig) == 1 && strncmp(url, "/trade-api/v2/portfolio/", 24) == 0;
		if (hits == 1 && strcmp(method, "POST") == 0)
			status = 503;   /* retried (HTTP_RETRY): signed afresh */
		break;
	}
	case 7: status = hits == 1 ? 429 : 200; break;          /* Retry-After: retry_after */
	case 5: memset(big, 'x', sizeof big); body = big; break;
	case 6: status = 404; body = "{\"error\":{\"code\":\"not_found\",\"message\":\"market not found\"}}"; break;
	case 8: status = 503; usleep(1500 * 1000); break;      /* an exchange that hangs */
	}
	blen = body == big ? sizeof big : strlen(body);
	r = MHD_create_response_from_buffer(blen, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (mode == 3 && status == 429)
		MHD_add_response_header(r, "Retry-After", "1");
	if (mode == 7 && status == 429)
		MHD_add_response_header(r, "Retry-After", retry_after);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static volatile sig_atomic_t stop_flag;
static int idle_calls;

static void
on_alarm(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
on_idle(void *arg)
{
	(void)arg;
	idle_calls++;
}

int
main(void)
{
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
	    NULL, NULL, handler, NULL, MHD_OPTION_END);
	struct http_opts o = { 0 };
	struct http_client *c;
	struct http_resp r = { 0 };
	struct rng g;
	char base[96], err[256], dir[] = "/tmp/test_http.XXXXXX", priv[128], pubp[128];
	unsigned port;
	int64_t t0;
	struct kx_key *k;

	CHECK(d != NULL, "server starts");
	if (d == NULL)
		return T_DONE();
	port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
	snprintf(base, sizeof base, "http://127.0.0.1:%u/trade-api/v2", port);
	o.backoff_ms = 5;
	o.backoff_max_ms = 2000;
	o.retries = 3;
	o.seed = 1;
	c = http_new(base, &o, NULL, NULL);

	mode = 0, hits = 0;
	CHECK(http_request(c, "GET", "/x", NULL, 0, 0, &r) == 0 && r.status == 200 && r.attempts == 3,
	    "429 twice then 200: status %ld after %d attempts", r.status, r.attempts);
	CHECK(strcmp(r.body.p, "{\"ok\":true}") == 0, "body");
	CHECK(r.date_ms > 0 && llabs(r.date_ms - rt_now_ms()) < 3000, "Date header read");

	mode = 1, hits = 0;
	CHECK(http_request(c, "GET", "/x", NULL, 0, 0, &r) == 0 && r.status == 503 && hits == 4 && r.attempts == 4,
	    "503 forever: gives up after 1 + 3 attempts (%d, %d)", hits, r.attempts);

	mode = 2, hits = 0;
	CHECK(http_request(c, "POST", "/x", "{}", 2, 0, &r) == 0 && r.status == 500 && hits == 1 && r.attempts == 1,
	    "a POST is not retried (%d attempts)", hits);
	CHECK(strcmp(ctype, "application/json") == 0 && strcmp(accept_h, "application/json") == 0 &&
	    strcmp(got, "{}") == 0, "POST headers and body: %s, %s, %s", ctype, accept_h, got);
	hits = 0;
	CHECK(http_request(c, "DELETE", "/x", NULL, 0, 0, &r) == 0 && r.status == 500 && hits == 1,
	    "nor a DELETE (%d attempts)", hits);
	hits = 0;
	CHECK(http_request(c, "POST", "/x", "{}", 2, HTTP_RETRY, &r) == 0 && hits == 4,
	    "unless the caller says it is idempotent (%d)", hits);

	mode = 3, hits = 0;
	t0 = rt_mono_ms();
	CHECK(http_request(c, "GET", "/x", NULL, 0, 0, &r) == 0 && r.status == 200, "Retry-After honoured");
	CHECK(rt_mono_ms() - t0 >= 990, "waited %lld ms", (long long)(rt_mono_ms() - t0));

	/* Retry-After is capped at backoff_max; an HTTP-date is read; junk is ignored */
	{
		struct http_opts o2 = o;
		struct http_client *c2;
		time_t later = time(NULL) + 60;
		struct tm tm;

		o2.backoff_max_ms = 300;
		c2 = http_new(base, &o2, NULL, NULL);
		mode = 7, hits = 0;
		snprintf(retry_after, sizeof retry_after, "99999999999999999999999");
		t0 = rt_mono_ms();
		CHECK(http_request(c2, "GET", "/x", NULL, 0, 0, &r) == 0 && r.status == 200 && r.attempts == 2,
		    "huge Retry-After");
		CHECK(rt_mono_ms() - t0 >= 295 && rt_mono_ms() - t0 < 1000, "capped at 300 ms: %lld ms",
		    (long long)(rt_mono_ms() - t0));
		CHECK(strftime(retry_after, sizeof retry_after, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&later, &tm)) > 0,
		    "an HTTP date");
		hits = 0;
		t0 = rt_mono_ms();
		CHECK(http_request(c2, "GET", "/x", NULL, 0, 0, &r) == 0 && r.status == 200 && r.attempts == 2,
		    "Retry-After as a date");
		CHECK(rt_mono_ms() - t0 >= 295 && rt_mono_ms() - t0 < 1000, "a minute away, capped: %lld ms",
		    (long long)(rt_mono_ms() - t0));
		snprintf(retry_after, sizeof retry_after, "soon");
		hits = 0;
		t0 = rt_mono_ms();
		CHECK(http_request(c2, "GET", "/x", NULL, 0, 0, &r) == 0 && r.status == 200 && r.attempts == 2 &&
		    rt_mono_ms() - t0 < 200, "junk Retry-After: the usual back-off (%lld ms)",
		    (long long)(rt_mono_ms() - t0));
		http_free(c2);
	}

	/* keep-alive: one connection for successive requests */
	{
		unsigned first;

		mode = 0, hits = 10;
		CHECK(http_request(c, "GET", "/x", NULL, 0, 0, &r) == 0 && r.status == 200, "GET");
		first = client_port;
		CHECK(http_request(c, "GET", "/y", NULL, 0, 0, &r) == 0 && r.status == 200, "GET");
		CHECK(first != 0 && client_port == first, "same connection (ports %u, %u)", first, client_port);
	}

	/* token buckets: reads cost KX_REQ_COST; a burst of one request at
	 * 10 requests/s spaces reads 100 ms apart; writes have their own bucket */
	{
		struct http_opts o2 = o;
		struct http_client *c2;
		int64_t dt;

		o2.read_rate = 10 * KX_REQ_COST;
		o2.read_burst = KX_REQ_COST;
		o2.write_rate = KX_REQ_COST;
		o2.write_burst = KX_REQ_COST;
		c2 = http_new(base, &o2, NULL, NULL);
		mode = 0, hits = 10;
		t0 = rt_mono_ms();
		for (int i = 0; i < 4; i++)
			http_request(c2, "GET", "/x", NULL, 0, 0, &r);
		dt = rt_mono_ms() - t0;
		CHECK(dt >= 290 && dt < 1000, "4 reads at 10/s: %lld ms", (long long)dt);
		t0 = rt_mono_ms();
		http_request(c2, "POST", "/x", "{}", 2, 0, &r);
		CHECK(rt_mono_ms() - t0 < 90, "a write does not wait on reads: %lld ms", (long long)(rt_mono_ms() - t0));
		http_free(c2);
		o2.no_limit = 1;
		c2 = http_new(base, &o2, NULL, NULL);
		t0 = rt_mono_ms();
		for (int i = 0; i < 4; i++)
			http_request(c2, "GET", "/x", NULL, 0, 0, &r);
		CHECK(rt_mono_ms() - t0 < 200, "no_limit: %lld ms", (long long)(rt_mono_ms() - t0));
		http_free(c2);
	}

	mode = 5;
	CHECK(http_request(c, "GET", "/x", NULL, 0, 0, &r) == -1 && strstr(r.err, "larger than") != NULL,
	    "oversized body refused: %s", r.err);

	mode = 6;
	CHECK(http_request(c, "GET", "/markets/X", NULL, 0, 0, &r) == 0 && r.status == 404, "404 returned");
	http_error_text(&r, err, sizeof err);
	CHECK(strcmp(err, "not_found: market not found") == 0, "error text: %s", err);
	http_free(c);

	/* signed: headers verify over base path + path, query excluded */
	CHECK(mkdtemp(dir) != NULL, "tmpdir");
	snprintf(priv, sizeof priv, "%s/k", dir);
	snprintf(pubp, sizeof pubp, "%s/k.pub", dir);
	CHECK(kx_keygen(priv, pubp) == 0, "keygen");
	k = kx_key_load_private(priv);
	pub = kx_key_load_public(pubp);
	c = http_new(base, &o, k, "kid");
	mode = 4;
	CHECK(http_request(c, "GET", "/portfolio/fills?limit=5&cursor=a%2Bb", NULL, 0, 0, &r) == 0 && sig_ok,
	    "signature verified by the server");
	hits = 0, sig_ok = 0;
	CHECK(http_request(c, "POST", "/portfolio/orders", "{\"count\":1}", 11, HTTP_RETRY, &r) == 0 &&
	    r.status == 200 && r.attempts == 2 && sig_ok, "signed POST, retried, signed again");
	CHECK(strcmp(got, "{\"count\":1}") == 0 && strcmp(ctype, "application/json") == 0, "body %s", got);
	http_free(c);
	kx_key_free(k);
	kx_key_free(pub);
	snprintf(err, sizeof err, "rm -rf %s", dir);
	CHECK(system(err) == 0, "cleanup");

	/* the stop flag: a request in flight is abandoned ("interrupted", no
	 * status, no retry), the idle hook runs meanwhile; once set, nothing
	 * more is sent */
	{
		struct http_opts so = o;
		struct sigaction sa;
		struct itimerval it = { { 0, 0 }, { 0, 300 * 1000 } };

		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_alarm;
		sigaction(SIGALRM, &sa, NULL);
		so.stop = &stop_flag;
		so.idle = on_idle;
		so.retries = 5;
		c = http_new(base, &so, NULL, NULL);
		mode = 8, hits = 0, stop_flag = 0, idle_calls = 0;
		setitimer(ITIMER_REAL, &it, NULL);
		CHECK(http_request(c, "GET", "/x", NULL, 0, 0, &r) == -1 && r.status == 0 && r.attempts == 1 &&
		    strcmp(r.err, "interrupted") == 0, "stop flag mid-request: %d, attempts %d, err %s", (int)r.status,
		    r.attempts, r.err);
		CHECK(idle_calls > 0, "the idle hook ran while the request hung (%d)", idle_calls);
		mode = 0, hits = 0;
		CHECK(http_request(c, "GET", "/x", NULL, 0, 0, &r) == -1 && r.attempts == 0 && hits == 0 &&
		    strcmp(r.err, "interrupted") == 0, "stop flag set: no request sent (%d attempts)", r.attempts);
		stop_flag = 0;
		http_free(c);
		usleep(1600 * 1000);    /* the hung handler is done */
	}

	/* bodies parse with an HTTP body's token cap, not a line's */
	{
		struct json j = { 0 };
		struct http_resp br = { 0 };
		int n = RECIO_JSON_TOK_MAX + 100;

		buf_puts(&br.body, "[");
		for (int i = 0; i < n; i++)
			buf_puts(&br.body, i ? ",1" : "1");
		buf_puts(&br.body, "]");
		CHECK(json_parse(&j, br.body.p, br.body.len) == -1, "json_parse: %d tokens refused", n + 1);
		CHECK(http_json(&j, &br) == 0 && json_size(&j, 0) == n, "http_json: %d tokens read (%s)", n + 1, j.err);
		CHECK(j.tok_max == 0, "the struct's own cap put back");
		json_free(&j);
		http_resp_free(&br);
	}

	/* nothing listening: no status, an error text, bounded attempts */
	MHD_stop_daemon(d);
	o.retries = 2;
	c = http_new(base, &o, NULL, NULL);
	CHECK(http_request(c, "GET", "/x", NULL, 0, 0, &r) == -1 && r.status == 0 && r.attempts == 3 && r.err[0],
	    "connection refused: attempts %d, err %s", r.attempts, r.err);
	http_free(c);
	http_resp_free(&r);

	/* back-off: full jitter within min(max, base x 2^(n-1)), never 0 */
	rng_seed(&g, 9);
	for (int n = 1; n <= 12; n++)
		for (int i = 0; i < 200; i++) {
			int64_t w = http_backoff_ms(&g, n, 100, 8000), cap = 100LL << (n - 1);

			cap = cap > 8000 ? 8000 : cap;
			CHECK(w >= 1 && w <= cap, "attempt %d: %lld within [1, %lld]", n, (long long)w, (long long)cap);
		}
	return T_DONE();
}
