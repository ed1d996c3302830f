/* trade.c: see trade.h. */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "trade.h"

static struct trade *
open_trade(struct trades *tt, const char *ticker)
{
	for (size_t i = tt->n; i-- > 0; )
		if (tt->t[i].st == T_OPEN && strcmp(tt->t[i].ticker, ticker) == 0)
			return &tt->t[i];
	return NULL;
}

static struct trade *
new_trade(struct trades *tt, const char *ticker, bool yes, int64_t ts)
{
	struct trade *t;

	if (tt->n == tt->cap) {
		tt->cap = tt->cap ? tt->cap * 2 : 64;
		tt->t = xrealloc(tt->t, tt->cap * sizeof *tt->t);
	}
	t = &tt->t[tt->n++];
	memset(t, 0, sizeof *t);
	strncpy(t->ticker, ticker, sizeof t->ticker - 1);
	t->yes = yes;
	t->st = T_OPEN;
	t->open_ts = ts;
	return t;
}

struct trade *
trades_fill(struct trades *tt, const char *ticker, bool bid, int64_t c100, int64_t yes_price_cc, int64_t fee_cc,
    int64_t ts, struct trade **opened)
{
	struct trade *t = open_trade(tt, ticker), *ended = NULL;
	/* a bid buys YES at p or sells NO at 1 - p; an ask the reverse */
	int64_t close_px = bid ? 10000 - yes_price_cc : yes_price_cc;     /* cc per contract, of the side sold */
	int64_t open_px = bid ? yes_price_cc : 10000 - yes_price_cc;       /* of the side bought */
	bool buys_yes = bid;
	size_t idx;

	if (opened)
		*opened = NULL;
	if (t && t->yes != buys_yes) {          /* reduces the position held */
		int64_t k = c100 < t->held ? c100 : t->held;
		/* the fee is split by contracts between what closes and what opens */
		int64_t fee_close = fee_cc * k / c100;

		t->exit_proceeds += k * close_px / 100;
		t->fees += fee_close;
		t->held -= k;
		c100 -= k;
		fee_cc -= fee_close;
		if (t->held == 0) {
			t->st = T_CLOSED;
			t->end_ts = ts;
			t->pnl = t->exit_proceeds + t->revenue - t->entry_cost - t->fees;
			ended = t;
		}
		t = NULL;
	}
	if (c100 > 0) {
		if (t == NULL) {
			idx = ended ? (size_t)(ended - tt->t) : SIZE_MAX;
			t = new_trade(tt, ticker, buys_yes, ts);
			if (idx != SIZE_MAX)
				ended = &tt->t[idx];    /* the array may have moved */
		}
		t->bought += c100;
		t->held += c100;
		t->entry_cost += c100 * open_px / 100;
		t->fees += fee_cc;
		if (opened)
			*opened = t;
	}
	return ended;
}

struct trade *
trades_settle(struct trades *tt, const char *ticker, int64_t revenue_cc, int64_t fee_cc, int64_t ts)
{
	struct trade *t = open_trade(tt, ticker);

	if (t == NULL)
		return NULL;
	t->revenue += revenue_cc;
	t->fees += fee_cc;
	t->held = 0;
	t->st = T_SETTLED;
	t->end_ts = ts;
	t->pnl = t->exit_proceeds + t->revenue - t->entry_cost - t->fees;
	return t;
}

void
trades_free(struct trades *tt)
{
	free(tt->t);
	memset(tt, 0, sizeof *tt);
}
