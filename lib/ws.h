/* ws.h: a WebSocket client on libwebsockets, for Kalshi's and Coinbase's
 * channels.
 *
 * One connection per client, run from one thread by ws_run, which also
 * calls the caller's tick function every tick_ms so a tool keeps doing
 * its periodic work (health lines, stall checks, REST fallback) while the
 * socket is quiet.  When a key is given, the upgrade carries Kalshi's
 * KALSHI-ACCESS-* headers signed over timestamp + "GET" + the URL's path;
 * no Origin header is ever sent.  Pings are answered by libwebsockets. */
#ifndef RECIO_WS_H
#define RECIO_WS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct kx_key;
struct ws_client;

enum ws_state { WS_IDLE, WS_CONNECTING, WS_OPEN, WS_CLOSED };

struct ws_handlers {
	void (*on_open)(void *arg);                              /* subscribe here */
	void (*on_text)(void *arg, const char *text, size_t n);  /* one whole message */
	void (*on_close)(void *arg, const char *why);            /* error or close */
	void (*on_tick)(void *arg);                              /* every tick_ms */
	void *arg;
	int64_t tick_ms;
};

/* A client for url (ws:// or wss://).  key and key_id may be NULL.  NULL
 * with a message if the URL does not parse or lws cannot start. */
struct ws_client *ws_new(const char *url, struct kx_key *key, const char *key_id, const struct ws_handlers *h);
void ws_free(struct ws_client *c);
/* Start connecting (again).  0, or -1 (on_close will not be called). */
int ws_connect(struct ws_client *c);
enum ws_state ws_state(const struct ws_client *c);
/* Queue a text message; sent when the socket is writable.  -1 if not open. */
int ws_send(struct ws_client *c, const char *text, size_t n);
/* Close the connection (on_close follows). */
void ws_disconnect(struct ws_client *c);
/* Drop the connection at once, open or still connecting: on_close(why) is
 * called before this returns.  Nothing when idle or closed.  Not from
 * within on_text or on_open (the socket being served); on_tick is fine.
 * A connection whose upgrade gets no answer within 10 s is dropped so too
 * ("no answer to the upgrade within 10 s"). */
void ws_abort(struct ws_client *c, const char *why);
/* Serve the socket and the ticks until *stop is set. */
void ws_run(struct ws_client *c, volatile sig_atomic_t *stop);

#endif
