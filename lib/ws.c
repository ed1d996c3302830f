/* ws.c: see ws.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "buf.h"
#include "diag.h"
#include "rlimits.h"
#include "rtime.h"
#include "sign.h"
#include "ws.h"

#define WS_RX_MAX (1u << 20)    /* longest message accepted */
#define WS_HANDSHAKE_MS 10000   /* from ws_connect to the upgrade's answer, at most */

struct ws_client {
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t sul;
	char host[256], path[RECIO_PATH_MAX];
	int port, tls;
	struct kx_key *key;
	char *key_id;
	struct ws_handlers h;
	enum ws_state state;
	struct buf rx;
	struct buf tx;                  /* queued messages: 4-byte length + text */
	size_t tx_off;
	char why[256];
	int closing;
	int64_t connect_ms;             /* monotonic time of the last ws_connect */
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

static const struct lws_protocols protocols[] = {
	{ "recio", callback, 0, 65536, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
closed(struct ws_client *c, const char *why)
{
	if (c->state == WS_CLOSED || c->state == WS_IDLE)
		return;
	c->state = WS_CLOSED;
	c->wsi = NULL;
	buf_reset(&c->tx);
	c->tx_off = 0;
	buf_reset(&c->rx);
	if (why != c->why)
		snprintf(c->why, sizeof c->why, "%s", why);
	if (c->h.on_close)
		c->h.on_close(c->h.arg, c->why);
}

static int
add_header(struct lws *wsi, const char *name, const char *val, unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)val,
	    (int)strlen(val), p, end);
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct ws_client *c = lws_get_opaque_user_data(wsi);

	(void)user;
	if (c == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (c->key && c->key_id) {
			unsigned char **p = in, *end = *p + len;
			char sig[RECIO_SIG_B64_MAX], ts[24];
			int64_t now = rt_now_ms();

			snprintf(ts, sizeof ts, "%lld", (long long)now);
			if (kx_sign(c->key, now, "GET", c->path, sig, sizeof sig) < 0 ||
			    add_header(wsi, "KALSHI-ACCESS-KEY:", c->key_id, p, end) ||
			    add_header(wsi, "KALSHI-ACCESS-TIMESTAMP:", ts, p, end) ||
			    add_header(wsi, "KALSHI-ACCESS-SIGNATURE:", sig, p, end))
				return -1;
		}
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->state = WS_OPEN;
		if (c->h.on_open)
			c->h.on_open(c->h.arg);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (lws_is_first_fragment(wsi))
			buf_reset(&c->rx);
		if (c->rx.len + len > WS_RX_MAX) {
			snprintf(c->why, sizeof c->why, "message longer than %u bytes", WS_RX_MAX);
			return -1;
		}
		buf_add(&c->rx, in, len);
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0 && c->h.on_text)
			c->h.on_text(c->h.arg, c->rx.p, c->rx.len);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c->closing)
			return -1;
		if (c->tx_off < c->tx.len) {
			uint32_t n;
			unsigned char *frame;

			memcpy(&n, c->tx.p + c->tx_off, 4);
			frame = xmalloc(LWS_PRE + n);
			memcpy(frame + LWS_PRE, c->tx.p + c->tx_off + 4, n);
			if (lws_write(wsi, frame + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n) {
				free(frame);
				snprintf(c->why, sizeof c->why, "write failed");
				return -1;
			}
			free(frame);
			c->tx_off += 4 + n;
			if (c->tx_off == c->tx.len) {
				buf_reset(&c->tx);
				c->tx_off = 0;
			} else
				lws_callback_on_writable(wsi);
		}
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		/* in: lws's reason (a C string) or NULL, and an empty string on
		 * some closes (one we asked for by returning -1): then ours */
		closed(c, in && *(const char *)in ? (const char *)in : c->why[0] ? c->why : "connection failed");
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		closed(c, c->why[0] ? c->why : "closed by the peer");
		break;
	default:
		break;
	}
	return 0;
}

static void
on_sul(lws_sorted_usec_list_t *sul)
{
	struct ws_client *c = lws_container_of(sul, struct ws_client, sul);

	if (c->state == WS_CONNECTING && rt_mono_ms() - c->connect_ms >= WS_HANDSHAKE_MS) {
		char m[64];

		snprintf(m, sizeof m, "no answer to the upgrade within %d s", WS_HANDSHAKE_MS / 1000);
		ws_abort(c, m);
	}
	if (c->h.on_tick)
		c->h.on_tick(c->h.arg);
	lws_sul_schedule(c->ctx, 0, &c->sul, on_sul, c->h.tick_ms * LWS_US_PER_MS);
}

struct ws_client *
ws_new(const char *url, struct kx_key *key, const char *key_id, const struct ws_handlers *h)
{
	struct lws_context_creation_info info;
	struct ws_client *c;
	const char *p, *slash, *colon;

	c = xcalloc(1, sizeof *c);
	if (strncmp(url, "ws://", 5) == 0)
		p = url + 5;
	else if (strncmp(url, "wss://", 6) == 0)
		p = url + 6, c->tls = 1;
	else {
		warnx_("%s: not a ws:// or wss:// URL", url);
		free(c);
		return NULL;
	}
	slash = strchr(p, '/');
	colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
	snprintf(c->path, sizeof c->path, "%s", slash ? slash : "/");
	if ((size_t)((colon ? colon : slash ? slash : p + strlen(p)) - p) >= sizeof c->host) {
		warnx_("%s: host name too long", url);
		free(c);
		return NULL;
	}
	snprintf(c->host, sizeof c->host, "%.*s", (int)((colon ? colon : slash ? slash : p + strlen(p)) - p), p);
	if (colon) {
		char *e;
		long port = strtol(colon + 1, &e, 10);

		if (e == colon + 1 || (*e != '\0' && *e != '/') || port <= 0 || port > 65535)
			port = 0;       /* not a port: refused below */
		c->port = (int)port;
	} else
		c->port = c->tls ? 443 : 80;
	if (c->port <= 0 || c->port > 65535 || c->host[0] == '\0') {
		warnx_("%s: bad host or port", url);
		free(c);
		return NULL;
	}
	c->key = key;
	c->key_id = key_id ? xstrdup(key_id) : NULL;
	c->h = *h;
	if (c->h.tick_ms <= 0)
		c->h.tick_ms = 100;
	/* failures come back through on_close; RECIO_WS_DEBUG=1 shows lws own log */
	lws_set_log_level(getenv("RECIO_WS_DEBUG") ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO : 0, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	info.options = c->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
	if ((c->ctx = lws_create_context(&info)) == NULL) {
		warnx_("%s: cannot start libwebsockets", url);
		free(c->key_id);
		free(c);
		return NULL;
	}
	lws_sul_schedule(c->ctx, 0, &c->sul, on_sul, c->h.tick_ms * LWS_US_PER_MS);
	return c;
}

void
ws_free(struct ws_client *c)
{
	if (c == NULL)
		return;
	lws_sul_cancel(&c->sul);
	lws_context_destroy(c->ctx);
	buf_free(&c->rx);
	buf_free(&c->tx);
	free(c->key_id);
	free(c);
}

int
ws_connect(struct ws_client *c)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof ci);
	ci.context = c->ctx;
	ci.address = c->host;
	ci.port = c->port;
	ci.path = c->path;
	ci.host = c->host;
	ci.origin = NULL;               /* Kalshi's CloudFront refuses an Origin */
	ci.ssl_connection = c->tls ? LCCSCF_USE_SSL : 0;
	ci.protocol = NULL;
	ci.local_protocol_name = "recio";
	ci.opaque_user_data = c;
	ci.pwsi = &c->wsi;
	c->why[0] = '\0';
	c->closing = 0;
	c->state = WS_CONNECTING;
	c->connect_ms = rt_mono_ms();
	if (lws_client_connect_via_info(&ci) == NULL) {
		c->state = WS_CLOSED;
		snprintf(c->why, sizeof c->why, "cannot start connecting");
		return -1;
	}
	return 0;
}

enum ws_state
ws_state(const struct ws_client *c)
{
	return c->state;
}

int
ws_send(struct ws_client *c, const char *text, size_t n)
{
	uint32_t len = (uint32_t)n;

	if (c->state != WS_OPEN || c->wsi == NULL || n > WS_RX_MAX)
		return -1;
	buf_add(&c->tx, &len, 4);
	buf_add(&c->tx, text, n);
	lws_callback_on_writable(c->wsi);
	return 0;
}

void
ws_disconnect(struct ws_client *c)
{
	if (c->wsi && c->state == WS_OPEN) {
		c->closing = 1;
		snprintf(c->why, sizeof c->why, "closed by us");
		lws_callback_on_writable(c->wsi);
	}
}

void
ws_abort(struct ws_client *c, const char *why)
{
	struct lws *wsi = c->wsi;

	if (c->state != WS_CONNECTING && c->state != WS_OPEN)
		return;
	if (wsi) {
		/* its last callbacks find no client: the close below is ours */
		lws_set_opaque_user_data(wsi, NULL);
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
	}
	closed(c, why);
}

void
ws_run(struct ws_client *c, volatile sig_atomic_t *stop)
{
	while (!*stop)
		if (lws_service(c->ctx, 0) < 0)
			break;
}
