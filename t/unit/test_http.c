/* test_http.c: the HTTP client against a real libmicrohttpd server on
 * loopback: retries, back-off, Retry-After, signing, limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "t.h"
#include "http.h"
#include "rlimits.h"
#include "rtime.h"
#include "sign.h"

static int hits, mode;
static struct kx_key *pub;
static int sig_ok;

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

	(void)cls, (void)ver, (void)up;
	if (*state == NULL) {
		*state = &dummy;
		return MHD_YES;
	}
	if (*upsize) {
		*upsize = 0;
		return MHD_YES;
	}
	hits++;
	switch (mode) {
	case 0: status = hits <= 2 ? 429 : 200; break;          /* 429 twice */
	case 1: status = 503; break;                            /* always */
	case 2: status = 500; break;
	case 3: status = hits == 1 ? 429 : 200; break;          /* with Retry-After */
	case 4: {                                               /* check the signature */
		const char *k = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "KALSHI-ACCESS-KEY");
		const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "KALSHI-ACCESS-TIMESTAMP");
		const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "KALSHI-ACCESS-SIGNATURE");

		sig_ok = k && ts && sig && strcmp(k, "kid") == 0 &&
		    kx_verify(pub, atoll(ts), method, url, sig) == 1 && strcmp(url, "/trade-api/v2/portfolio/fills") == 0;
		break;
	}
	case 5: memset(big, 'x', sizeof big); body = big; break;
	case 6: status = 404; body = "{\"error\":{\"code\":\"not_found\",\"message\":\"market not found\"}}"; break;
	}
	blen = body == big ? sizeof big : strlen(body);
	r = MHD_create_response_from_buffer(blen, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (mode == 3 && status == 429)
		MHD_add_response_header(r, "Retry-After", "1");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
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
	CHECK(http_request(c, "GET", "/x", NULL, 0, 0, &r) == 0 && r.status == 503 && hits == 4,
	    "503 forever: gives up after 1 + 3 attempts (%d)", hits);

	mode = 2, hits = 0;
	CHECK(http_request(c, "POST", "/x", "{}", 2, 0, &r) == 0 && r.status == 500 && hits == 1,
	    "a POST is not retried (%d attempts)", hits);
	hits = 0;
	CHECK(http_request(c, "POST", "/x", "{}", 2, HTTP_RETRY, &r) == 0 && hits == 4,
	    "unless the caller says it is idempotent (%d)", hits);

	mode = 3, hits = 0;
	t0 = rt_mono_ms();
	CHECK(http_request(c, "GET", "/x", NULL, 0, 0, &r) == 0 && r.status == 200, "Retry-After honoured");
	CHECK(rt_mono_ms() - t0 >= 990, "waited %lld ms", (long long)(rt_mono_ms() - t0));

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
	http_free(c);
	kx_key_free(k);
	kx_key_free(pub);
	snprintf(err, sizeof err, "rm -rf %s", dir);
	CHECK(system(err) == 0, "cleanup");

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
