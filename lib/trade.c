/* trade.c: see trade.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "trade.h"

#define ENDED_KEPT 256          /* ended trades kept after they are reported */
#define LOOSE_KEPT 4096         /* ... of which an order may still bring something */

const char *const trade_state_name[] = {
	"pending", "open", "closing", "closed", "expired", "settled", "canceled"
};

static bool
ended(const struct trade *t)
{
	return t->st == T_CLOSED || t->st == T_SETTLED || t->st == T_CANCELED;
}

static bool
holding(const struct trade *t)
{
	return t->st == T_OPEN || t->st == T_CLOSING || t->st == T_EXPIRED;
}

struct trade *
trades_held(struct trades *tt, const char *ticker)
{
	for (size_t i = tt->n; i-- > 0; )
		if (holding(&tt->t[i]) && strcmp(tt->t[i].ticker, ticker) == 0)
			return &tt->t[i];
	return NULL;
}

static struct trade *
pending_of(struct trades *tt, const char *ticker, const char *oid)
{
	if (!oid[0])
		return NULL;
	for (size_t i = tt->n; i-- > 0; )
		if (tt->t[i].st == T_PENDING && strcmp(tt->t[i].entry.oid, oid) == 0 &&
		    strcmp(tt->t[i].ticker, ticker) == 0)
			return &tt->t[i];
	return NULL;
}

static void
leg_set(struct trade_leg *l, const char *oid)
{
	memset(l, 0, sizeof *l);
	snprintf(l->oid, sizeof l->oid, "%s", oid);
	l->filled = -1;
}

static void
touch(struct trade *t, int64_t ts)
{
	t->changed = true;
	if (ts > t->ts)
		t->ts = ts;
}

static void
finish(struct trade *t, enum trade_state st, int64_t ts)
{
	t->st = st;
	t->end_ts = ts;
	if (st != T_CANCELED)
		t->pnl = t->exit_proceeds + t->revenue - t->entry_cost - t->fees;
	touch(t, ts);
}

/* A new trade; its key is ticker|entry order id (|2, |3 for a later trade
 * of the same order), or ticker|time when the order is not known. */
static struct trade *
new_trade(struct trades *tt, const char *ticker, const char *oid, bool yes, enum trade_state st, int64_t ts)
{
	struct trade *t;
	int same = 0;

	for (size_t i = 0; oid[0] && i < tt->n; i++)
		if (strcmp(tt->t[i].entry.oid, oid) == 0 && strcmp(tt->t[i].ticker, ticker) == 0)
			same++;
	if (tt->n == tt->cap) {
		tt->cap = tt->cap ? tt->cap * 2 : 64;
		tt->t = xrealloc(tt->t, tt->cap * sizeof *tt->t);
	}
	t = &tt->t[tt->n++];
	memset(t, 0, sizeof *t);
	snprintf(t->ticker, sizeof t->ticker, "%s", ticker);
	if (!oid[0])
		snprintf(t->key, sizeof t->key, "%s|%lld", ticker, (long long)ts);
	else if (same == 0)
		snprintf(t->key, sizeof t->key, "%s|%s", ticker, oid);
	else
		snprintf(t->key, sizeof t->key, "%s|%s|%d", ticker, oid, same + 1);
	t->yes = yes;
	t->st = st;
	t->open_ts = ts;
	leg_set(&t->entry, oid);
	leg_set(&t->exit, "");
	touch(t, ts);
	return t;
}

/* The order behind a leg is done and every fill it made is seen. */
static bool
leg_spent(const struct trade_leg *l)
{
	return l->done && l->filled >= 0 && l->seen >= l->filled;
}

static void
resolve(struct trade *t, int64_t ts)
{
	if (t->st == T_PENDING && leg_spent(&t->entry) && t->bought == 0)
		finish(t, T_CANCELED, ts);
	else if (t->st == T_CLOSING && leg_spent(&t->exit) && t->held > 0) {
		t->st = T_OPEN;         /* the exit is over and something is still held */
		touch(t, ts);
	}
}

static bool
leg_update(struct trade_leg *l, const struct trade_order *o)
{
	bool ch = l->filled != o->filled || l->done != o->done;

	if (o->client_order_id && o->client_order_id[0] && strcmp(l->cid, o->client_order_id) != 0) {
		snprintf(l->cid, sizeof l->cid, "%s", o->client_order_id);
		ch = true;
	}
	l->filled = o->filled;
	l->done = o->done;
	return ch;
}

void
trades_order(struct trades *tt, const struct trade_order *o)
{
	struct trade *h;
	bool known = false;

	if (!o->order_id || !o->order_id[0])
		return;
	/* an order already behind a trade (its entry, or an exit) */
	for (size_t i = 0; i < tt->n; i++) {
		struct trade *t = &tt->t[i];
		bool ch = false;

		if (strcmp(t->ticker, o->ticker) != 0)
			continue;
		if (strcmp(t->entry.oid, o->order_id) == 0) {
			ch |= leg_update(&t->entry, o);
			known = true;
		}
		if (strcmp(t->exit.oid, o->order_id) == 0) {
			ch |= leg_update(&t->exit, o);
			known = true;
		}
		if (ch && !ended(t))
			touch(t, o->ts);
		else if (ch)
			t->changed = true;      /* an ended trade learns its order's client id: say it again */
		resolve(t, o->ts);
	}
	if (known)
		return;
	h = trades_held(tt, o->ticker);
	if (h && h->yes != o->bid) {            /* an exit */
		if (h->st == T_EXPIRED)
			return;
		leg_set(&h->exit, o->order_id);
		leg_update(&h->exit, o);
		if (h->st == T_OPEN)
			h->st = T_CLOSING;
		touch(h, o->ts);
		resolve(h, o->ts);
	} else if (h == NULL && !(o->done && o->filled == 0)) { /* an entry */
		struct trade *t = new_trade(tt, o->ticker, o->order_id, o->bid, T_PENDING, o->ts);

		leg_update(&t->entry, o);
		resolve(t, o->ts);
	}
	/* else it adds to the trade held, or it never filled: no trade */
}

void
trades_fill(struct trades *tt, const char *ticker, const char *order_id, bool bid, int64_t c100, int64_t yes_price_cc,
    int64_t fee_cc, int64_t ts)
{
	struct trade *h = trades_held(tt, ticker), *t;
	/* a bid buys YES at p or sells NO at 1 - p; an ask the reverse */
	int64_t close_px = bid ? 10000 - yes_price_cc : yes_price_cc;     /* cc per contract, of the side sold */
	int64_t open_px = bid ? yes_price_cc : 10000 - yes_price_cc;       /* of the side bought */
	int64_t whole = c100;

	if (!order_id)
		order_id = "";
	if (c100 <= 0)
		return;                         /* a fill of nothing changes nothing (and divides nothing) */
	if (h && h->yes != bid) {               /* reduces the position held */
		int64_t k = c100 < h->held ? c100 : h->held;
		/* the fee is split by contracts between what closes and what opens */
		int64_t fee_close = fee_cc * k / c100;

		h->exit_proceeds += k * close_px / 100;
		h->fees += fee_close;
		h->held -= k;
		c100 -= k;
		fee_cc -= fee_close;
		if (strcmp(h->exit.oid, order_id) != 0)
			leg_set(&h->exit, order_id);
		h->exit.seen += whole;
		if (h->held == 0)
			finish(h, T_CLOSED, ts);
		else {
			if (h->st == T_OPEN)
				h->st = T_CLOSING;
			touch(h, ts);
			resolve(h, ts);
		}
		h = NULL;
	}
	if (c100 <= 0)
		return;
	if (h) {                                /* adds to the position held */
		t = h;
		if (strcmp(t->entry.oid, order_id) == 0)
			t->entry.seen += whole;
		else if ((h = pending_of(tt, ticker, order_id)) != NULL) {
			/* a pending entry whose fills went to the trade already held */
			h->entry.seen += whole;
			resolve(h, ts);
		}
	} else {
		if ((t = pending_of(tt, ticker, order_id)) == NULL || t->yes != bid)
			t = new_trade(tt, ticker, order_id, bid, T_OPEN, ts);
		t->st = T_OPEN;
		t->open_ts = ts;
		t->entry.seen += whole;
	}
	t->bought += c100;
	t->held += c100;
	t->entry_cost += c100 * open_px / 100;
	t->fees += fee_cc;
	touch(t, ts);
}

void
trades_expire(struct trades *tt, const char *ticker, int64_t ts)
{
	struct trade *h = trades_held(tt, ticker);

	if (h && h->st != T_EXPIRED) {
		h->st = T_EXPIRED;
		touch(h, ts);
	}
}

void
trades_settle(struct trades *tt, const char *ticker, int64_t revenue_cc, int64_t fee_cc, int64_t ts)
{
	struct trade *h = trades_held(tt, ticker);

	if (h) {
		h->revenue += revenue_cc;
		h->fees += fee_cc;
		h->held = 0;
		finish(h, T_SETTLED, ts);
	}
	for (size_t i = 0; i < tt->n; i++)
		if (tt->t[i].st == T_PENDING && strcmp(tt->t[i].ticker, ticker) == 0)
			finish(&tt->t[i], T_CANCELED, ts);
}

struct trade *
trades_changed(struct trades *tt, size_t *it)
{
	for (size_t i = *it; i < tt->n; i++)
		if (tt->t[i].changed) {
			tt->t[i].changed = false;
			*it = i + 1;
			return &tt->t[i];
		}
	*it = tt->n;
	return NULL;
}

/* Ended and reported. */
static bool
over(const struct trade *t)
{
	return ended(t) && !t->changed;
}

/* ... and nothing more can come of its orders: each is done with every
 * fill it made seen.  Forgotten sooner, a late state of its entry order
 * would start a trade of its own under the same key. */
static bool
spent(const struct trade *t)
{
	return (!t->entry.oid[0] || leg_spent(&t->entry)) && (!t->exit.oid[0] || leg_spent(&t->exit));
}

void
trades_gc(struct trades *tt)
{
	size_t nover = 0, nloose = 0, w = 0;

	for (size_t i = 0; i < tt->n; i++) {
		nover += over(&tt->t[i]);
		nloose += over(&tt->t[i]) && !spent(&tt->t[i]);
	}
	/* the oldest go first: spent ones beyond ENDED_KEPT, and the others
	 * only beyond LOOSE_KEPT (memory stays bounded if an order's last
	 * state never comes) */
	for (size_t i = 0; i < tt->n; i++) {
		const struct trade *t = &tt->t[i];

		if (nover > ENDED_KEPT && over(t) && (spent(t) || nloose > LOOSE_KEPT)) {
			nover--;
			nloose -= !spent(t);
			continue;
		}
		if (w != i)
			tt->t[w] = tt->t[i];
		w++;
	}
	tt->n = w;
}

void
trades_free(struct trades *tt)
{
	free(tt->t);
	memset(tt, 0, sizeof *tt);
}
