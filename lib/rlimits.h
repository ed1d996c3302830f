/* rlimits.h: every limit recio enforces, in one place.  No bare numbers in code. */
#ifndef RECIO_RLIMITS_H
#define RECIO_RLIMITS_H

#define RECIO_LINE_MAX      65536      /* longest NDJSON line, newline excluded */
#define RECIO_JSON_TOK_MAX  16384      /* most tokens one line may hold */
#define RECIO_HTTP_BODY_MAX (16u << 20) /* largest HTTP response body kept (16 MiB) */
/* Tokens of one HTTP body: every token takes at least two bytes of text (a
 * one-digit value and its separator), so no body within the body cap is
 * refused for its token count.  (24 bytes a token: at worst 192 MiB, for a
 * 16 MiB body; a /markets page of 1,000 markets is ~85,000.) */
#define RECIO_HTTP_TOK_MAX  ((int)(RECIO_HTTP_BODY_MAX / 2 + 1))
#define RECIO_HTTP_REQ_MAX  (64u << 10) /* largest request body the simulator accepts */
#define RECIO_HTTP_TIMEOUT_MS   10000  /* whole-request timeout */
#define RECIO_HTTP_CONNECT_MS   3000
#define RECIO_HTTP_RETRIES      5      /* attempts after the first, idempotent requests */
#define RECIO_HTTP_BACKOFF_MS   200    /* first back-off; doubles, with full jitter */
#define RECIO_HTTP_BACKOFF_MAX  8000
/* kalshi-fetch's ladder stream: few, short attempts (its own back-off
 * between polls retries), so that a hung exchange is told within seconds */
#define RECIO_STREAM_TIMEOUT_MS 4000
#define RECIO_STREAM_RETRIES    1
#define RECIO_STREAM_BACKOFF_MAX 1000
/* ... and under -w, where a REST poll holds the socket's loop: one short try */
#define RECIO_STREAM_WS_TIMEOUT_MS 2500
#define RECIO_STREAM_WS_RETRIES 0
#define RECIO_TICKER_MAX    128        /* a market or event ticker */
#define RECIO_ID_MAX        128        /* order ids, client order ids, key ids */
#define RECIO_PATH_MAX      4096       /* a request path with its query */
#define RECIO_SIG_B64_MAX   1024       /* base64 of an RSA signature (4096-bit keys: 684) */

/* Kalshi Basic tier: tokens per second and bucket size; a request costs 10. */
#define KX_READ_RATE   200
#define KX_READ_BURST  200
#define KX_WRITE_RATE  100
#define KX_WRITE_BURST 200
#define KX_REQ_COST    10

#endif
