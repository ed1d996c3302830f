/* trade.h: the trade lifecycle, from the exchange's own fills and
 * settlements (never from quotes).
 *
 * A trade is one position in one market, from flat to flat: opened by the
 * first fill, added to by fills on the same side, closed by the fills that
 * bring it back to flat (states open -> closed), or held to the close and
 * paid by the settlement (open -> settled).  On the netted YES book a bid
 * closes NO before it opens YES, and an ask the reverse, so one fill can
 * close one trade and open the next.  Money in cc:
 *     pnl = exit proceeds + settlement revenue - entry cost - all fees. */
#ifndef RECIO_TRADE_H
#define RECIO_TRADE_H

#include <stdbool.h>
#include <stdint.h>
#include "rlimits.h"

enum trade_state { T_OPEN, T_CLOSED, T_SETTLED };

struct trade {
	char ticker[RECIO_TICKER_MAX];
	bool yes;                       /* the side held */
	enum trade_state st;
	int64_t open_ts, end_ts;
	int64_t held;                   /* c100 still held */
	int64_t bought;                 /* c100 bought in all */
	int64_t entry_cost, exit_proceeds, revenue, fees;       /* cc */
	int64_t pnl;                    /* cc, once closed or settled */
};

struct trades {
	struct trade *t;
	size_t n, cap;
};

/* A fill: book side bid (true) or ask, count in c100, YES price in cc,
 * fee in cc.  Returns the trade it ended (closed), or NULL; *opened, when
 * not NULL, gets the trade it opened or added to, or NULL.  Pointers are
 * valid until the next call. */
struct trade *trades_fill(struct trades *tt, const char *ticker, bool bid, int64_t c100, int64_t yes_price_cc,
                          int64_t fee_cc, int64_t ts, struct trade **opened);
/* A settlement of revenue_cc for ticker: the open trade there ends
 * settled.  Returns it, or NULL when nothing was held. */
struct trade *trades_settle(struct trades *tt, const char *ticker, int64_t revenue_cc, int64_t fee_cc, int64_t ts);
void trades_free(struct trades *tt);

#endif
