/* kx.h: decoders for Kalshi Trade API v2 objects (field names and forms as
 * the official SDK's models).
 *
 * Each field is read in its documented form: dollar strings into cc,
 * _fp strings into c100, integer cents as integers, times as RFC 3339.
 * A required field that is missing or of another type is an error naming
 * the object and the field ("market.yes_ask_dollars: missing"), never a
 * silent zero; the caller adds the endpoint.  Optional fields that are
 * absent get the stated default.  Strings that do not fit their buffer are
 * errors too. */
#ifndef RECIO_KX_H
#define RECIO_KX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "json.h"
#include "rlimits.h"

#define KX_ERR_MAX 160

struct kx_market {
	char ticker[RECIO_TICKER_MAX], event_ticker[RECIO_TICKER_MAX];
	char status[16];                /* active, closed, determined, ... */
	char result[8];                 /* yes, no, scalar or "" */
	char strike_type[24];
	int64_t floor_strike_c;         /* cents; -1 when null/absent */
	int64_t open_ms, close_ms, updated_ms;
	int64_t yes_bid, yes_ask, no_bid, no_ask, last;        /* cc */
	int64_t yes_bid_size, yes_ask_size, volume, oi;        /* c100 */
};

struct kx_event {
	char event_ticker[RECIO_TICKER_MAX], series_ticker[RECIO_TICKER_MAX];
	char title[256];
	int64_t strike_ms;              /* strike_date; -1 when null/absent */
	int markets;                    /* token of the nested markets array, or -1 */
};

struct kx_order {
	char order_id[RECIO_ID_MAX], client_order_id[RECIO_ID_MAX], ticker[RECIO_TICKER_MAX];
	char status[16], outcome_side[8], book_side[8];
	int64_t yes_price, no_price;                            /* cc */
	int64_t initial, filled, remaining;                     /* c100 */
	int64_t taker_cost, maker_cost, taker_fees, maker_fees; /* cc */
	int64_t created_ms, updated_ms;                         /* -1 when absent */
};

struct kx_fill {
	char fill_id[RECIO_ID_MAX], trade_id[RECIO_ID_MAX], order_id[RECIO_ID_MAX];
	char ticker[RECIO_TICKER_MAX], outcome_side[8], book_side[8];
	int64_t count;                  /* c100 */
	int64_t yes_price, no_price, fee;       /* cc */
	bool is_taker;
	int64_t ts_ms;                  /* created_time, else ts x 1000 */
};

struct kx_position {
	char ticker[RECIO_TICKER_MAX];
	int64_t position;               /* c100, + yes / - no */
	int64_t traded, exposure, realized, fees;      /* cc */
	int64_t updated_ms;             /* -1 when absent */
};

struct kx_settlement {
	char ticker[RECIO_TICKER_MAX], event_ticker[RECIO_TICKER_MAX], result[8];
	int64_t yes_count, no_count;    /* c100 */
	int64_t yes_cost, no_cost, fee; /* cc */
	int64_t revenue_cents, value_cents;     /* value: -1 when null */
	int64_t settled_ms;
};

struct kx_balance {
	int64_t balance_cents, balance_cc, portfolio_value_cents, updated_ts;
};

/* Each decodes the object at token t of j.  0, or -1 with err set. */
int kx_market_decode(const struct json *j, int t, struct kx_market *m, char *err, size_t cap);
int kx_event_decode(const struct json *j, int t, struct kx_event *e, char *err, size_t cap);
int kx_order_decode(const struct json *j, int t, struct kx_order *o, char *err, size_t cap);
int kx_fill_decode(const struct json *j, int t, struct kx_fill *f, char *err, size_t cap);
int kx_position_decode(const struct json *j, int t, struct kx_position *p, char *err, size_t cap);
int kx_settlement_decode(const struct json *j, int t, struct kx_settlement *s, char *err, size_t cap);
int kx_balance_decode(const struct json *j, int t, struct kx_balance *b, char *err, size_t cap);

/* A page: the array under `key` and the cursor ("" at the end).  Returns
 * the array token, or -1 with err set. */
int kx_page(const struct json *j, const char *key, char *cursor, size_t cursor_cap,
            char *err, size_t cap);

/* An error body: {"error":{"code","message","details"}}, or code and
 * message at the top level (Kalshi's answer to a body it cannot parse).
 * 0 when it has a code; msg gets the message, and the details after it. */
int kx_error_decode(const struct json *j, char *code, size_t code_cap, char *msg, size_t msg_cap);

/* The V2 order book has one side, YES-priced.  Convert an intent (buy or
 * sell, of YES or NO, at a price of that outcome in cents) into the V2
 * book side ("bid"/"ask") and YES price in cents.  Returns 0, or -1 for a
 * price outside 1..99 or a bad side/action. */
int kx_v2_side(bool buy, bool yes, int64_t price_cents, const char **book_side, int64_t *yes_price_cents);

/* The WebSocket URL beside a REST API base: ws(s)://HOST/trade-api/ws/v2
 * (production's socket has its own host).  0, or -1 when base has no
 * scheme://host/ form or out is too small. */
int kx_ws_url(const char *base, char *out, size_t cap);

#endif
