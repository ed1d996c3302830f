/* trade.h: the trade lifecycle, from the exchange's own orders, fills and
 * settlements (never from quotes).
 *
 * A trade is one position in one market, from flat to flat, opened by an
 * entry order:
 *
 *     pending --first fill--> open --exit order--> closing --exit fills--> closed
 *        |                     |  <--exit done, still held--'
 *        '--order done,        '--market closed--> expired --settlement--> settled
 *           nothing filled--> canceled           (open or closing, too: settled)
 *
 * Fills added on the same side add to the trade; fills on the other side
 * reduce it, and the fill that brings it to flat closes it.  On the netted
 * YES book a bid closes NO before it opens YES and an ask the reverse, so
 * one fill can close one trade and open the next.  Orders and fills are
 * matched by the exchange's order_id (REST fills carry no
 * client_order_id; the order does).  Money in cc, counts in c100:
 *     pnl = exit proceeds + settlement revenue - entry cost - all fees.
 *
 * Feed orders and fills in time order.  Every change marks the trade;
 * trades_changed() hands each changed trade out once. */
#ifndef RECIO_TRADE_H
#define RECIO_TRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "rlimits.h"

enum trade_state { T_PENDING, T_OPEN, T_CLOSING, T_CLOSED, T_EXPIRED, T_SETTLED, T_CANCELED };
extern const char *const trade_state_name[];

/* an order behind a trade: its entry, or its latest exit */
struct trade_leg {
	char oid[RECIO_ID_MAX], cid[RECIO_ID_MAX];
	int64_t filled;                 /* c100 the exchange says it filled; -1 unknown */
	int64_t seen;                   /* c100 of its fills seen */
	bool done;                      /* executed or canceled: no more fills */
};

struct trade {
	char key[RECIO_TICKER_MAX + RECIO_ID_MAX + 24];
	char ticker[RECIO_TICKER_MAX];
	bool yes;                       /* the side held (or to be bought) */
	enum trade_state st;
	int64_t open_ts;                /* first fill; the order's time while pending */
	int64_t ts, end_ts;             /* last change; closed, settled or canceled */
	int64_t held;                   /* c100 still held */
	int64_t bought;                 /* c100 bought in all */
	int64_t entry_cost, exit_proceeds, revenue, fees;       /* cc */
	int64_t pnl;                    /* cc, once closed or settled */
	struct trade_leg entry, exit;
	bool changed;
};

struct trades {
	struct trade *t;
	size_t n, cap;
};

/* An order as the exchange reports it. */
struct trade_order {
	const char *ticker, *order_id, *client_order_id;
	bool bid;                       /* book side: a bid buys YES or sells NO */
	bool done;                      /* executed or canceled */
	int64_t filled;                 /* c100 */
	int64_t ts;
};

void trades_order(struct trades *tt, const struct trade_order *o);
/* A fill of order_id: book side bid or ask, count in c100, YES price and
 * fee in cc. */
void trades_fill(struct trades *tt, const char *ticker, const char *order_id, bool bid, int64_t c100,
                 int64_t yes_price_cc, int64_t fee_cc, int64_t ts);
/* The market closed: a trade still held there is expired. */
void trades_expire(struct trades *tt, const char *ticker, int64_t ts);
/* The market settled, paying revenue_cc: the trade held there is settled;
 * one still pending is canceled. */
void trades_settle(struct trades *tt, const char *ticker, int64_t revenue_cc, int64_t fee_cc, int64_t ts);
/* The trade held (open, closing or expired) in ticker, or NULL. */
struct trade *trades_held(struct trades *tt, const char *ticker);
/* The next changed trade, its mark cleared, or NULL; *it starts at 0.
 * Pointers are valid until the next call that feeds the trades. */
struct trade *trades_changed(struct trades *tt, size_t *it);
/* Forget the oldest ended trades that are reported, beyond the newest 256:
 * those whose orders can bring nothing more (each done, its fills seen),
 * and the others only beyond 4,096 of them. */
void trades_gc(struct trades *tt);
void trades_free(struct trades *tt);

#endif
