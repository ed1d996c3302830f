/* test_trade.c: the trade lifecycle on the netted YES book, by hand. */
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "trade.h"

static struct trade_order
ord(const char *ticker, const char *oid, const char *cid, bool bid, bool done, int64_t filled, int64_t ts)
{
	struct trade_order o = { ticker, oid, cid, bid, done, filled, ts };

	return o;
}

static struct trade *
by_key(struct trades *tt, const char *key)
{
	for (size_t i = 0; i < tt->n; i++)
		if (strcmp(tt->t[i].key, key) == 0)
			return &tt->t[i];
	return NULL;
}

/* by_key, or the test ends here */
static struct trade *
need(struct trades *tt, const char *key)
{
	struct trade *t = by_key(tt, key);

	if (t == NULL) {
		printf("not ok - no trade %s\n", key);
		exit(1);
	}
	return t;
}

static int
nchanged(struct trades *tt)
{
	size_t it = 0;
	int n = 0;

	while (trades_changed(tt, &it))
		n++;
	return n;
}

static void
fills_and_settlements(void)
{
	struct trades tt = { 0 };
	int n1, n2;
	struct trade *t, *o;

	/* buy 3 YES at 58c, fee $0.01 (order o1, never seen as an order) */
	trades_fill(&tt, "M", "o1", true, 300, 5800, 100, 1000);
	t = by_key(&tt, "M|o1");
	CHECK(t && t->st == T_OPEN && t->yes && t->held == 300 && t->entry_cost == 17400 && t->open_ts == 1000,
	    "opened by a fill: cost %lld", (long long)(t ? t->entry_cost : -1));
	n1 = nchanged(&tt);
	n2 = nchanged(&tt);
	CHECK(n1 == 1 && n2 == 0, "a change is handed out once");
	/* sell 1 YES at 60c (an ask, order o2): part of the trade closes */
	trades_fill(&tt, "M", "o2", false, 100, 6000, 0, 2000);
	t = need(&tt, "M|o1");
	CHECK(t->st == T_CLOSING && t->held == 200 && t->exit_proceeds == 6000 && !strcmp(t->exit.oid, "o2"),
	    "reduced: closing");
	/* o2 is over (IOC): the rest is still held, so open again */
	trades_order(&tt, &(struct trade_order){ "M", "o2", "c2", false, true, 100, 2000 });
	CHECK(t->st == T_OPEN && !strcmp(t->exit.cid, "c2"), "the exit is over: open (%s)", trade_state_name[t->st]);
	/* an ask of 4 at YES 62c: sells the 2 YES left at 62c, buys 2 NO at 38c;
	 * its fee of $0.04 splits 2:2 */
	trades_fill(&tt, "M", "o3", false, 400, 6200, 400, 3000);
	t = by_key(&tt, "M|o1");
	CHECK(t && t->st == T_CLOSED && t->end_ts == 3000, "the first trade closes");
	/* 6000 + 12400 - 17400 - (100 + 200) = 700 */
	CHECK(t && t->pnl == 700, "closed P&L %lld", (long long)(t ? t->pnl : 0));
	o = need(&tt, "M|o3");
	CHECK(o->st == T_OPEN && !o->yes && o->held == 200 && o->entry_cost == 7600 && o->fees == 200,
	    "a NO trade opens: cost %lld fees %lld", (long long)o->entry_cost, (long long)o->fees);
	/* the market closes with NO held, then NO wins: 2 x $1 */
	trades_expire(&tt, "M", 3500);
	CHECK(o->st == T_EXPIRED, "held at the close: expired");
	trades_settle(&tt, "M", 20000, 0, 4000);
	CHECK(o->st == T_SETTLED && o->pnl == 20000 - 7600 - 200 && o->held == 0,
	    "settled P&L %lld", (long long)o->pnl);
	CHECK(trades_held(&tt, "M") == NULL && tt.n == 2, "nothing held, two trades");
	/* a fill of no contracts against a held trade: nothing changes (it
	 * divided the fee by zero) */
	trades_fill(&tt, "Z", "z1", true, 100, 5000, 100, 5000);
	trades_fill(&tt, "Z", "z2", false, 0, 5000, 100, 5100);
	t = by_key(&tt, "Z|z1");
	CHECK(t && t->st == T_OPEN && t->held == 100 && t->fees == 100 && tt.n == 3, "a fill of nothing: no change");
	/* a YES held to a losing settlement */
	trades_fill(&tt, "N", "o4", true, 100, 9600, 100, 6000);
	trades_settle(&tt, "N", 0, 0, 7000);
	t = by_key(&tt, "N|o4");
	CHECK(t && t->st == T_SETTLED && t->pnl == -9700 && t->bought == 100, "a loss: %lld", (long long)(t ? t->pnl : 0));
	trades_free(&tt);
}

static void
orders(void)
{
	struct trades tt = { 0 };
	struct trade_order o;
	struct trade *t;

	/* an entry that rests, then fills in two parts */
	o = ord("M", "e1", "sig-1", true, false, 0, 100);
	trades_order(&tt, &o);
	t = need(&tt, "M|e1");
	CHECK(t->st == T_PENDING && t->yes && t->open_ts == 100 && !strcmp(t->entry.cid, "sig-1"), "pending");
	trades_fill(&tt, "M", "e1", true, 200, 5000, 70, 200);
	CHECK(t->st == T_OPEN && t->open_ts == 200 && t->held == 200, "the first fill opens it");
	trades_fill(&tt, "M", "e1", true, 100, 5100, 35, 300);
	o = ord("M", "e1", "sig-1", true, true, 300, 300);
	trades_order(&tt, &o);
	CHECK(tt.n == 1 && t->held == 300 && t->entry_cost == 15100 && t->entry.seen == 300 && t->entry.done,
	    "one trade, fills added: cost %lld", (long long)t->entry_cost);
	/* the exit order is seen before its fills (they lag) */
	o = ord("M", "x1", "sig-2", false, true, 300, 400);
	trades_order(&tt, &o);
	CHECK(t->st == T_CLOSING && !strcmp(t->exit.oid, "x1"), "exit sent: closing");
	o = ord("M", "x1", "sig-2", false, true, 300, 450);
	trades_order(&tt, &o);
	CHECK(t->st == T_CLOSING, "still closing while its fills are unseen");
	trades_fill(&tt, "M", "x1", false, 300, 5500, 105, 500);
	CHECK(t->st == T_CLOSED && t->pnl == 16500 - 15100 - 210 && t->end_ts == 500, "closed: %lld",
	    (long long)t->pnl);
	/* an exit whose fill came first: the trade is closed, and the order,
	 * seen after, still names its client order id */
	trades_fill(&tt, "Q", "qe", true, 100, 5000, 0, 540);
	trades_fill(&tt, "Q", "qx", false, 100, 5200, 0, 550);
	nchanged(&tt);
	o = ord("Q", "qx", "sig-q", false, true, 100, 550);
	trades_order(&tt, &o);
	t = need(&tt, "Q|qe");
	CHECK(t->st == T_CLOSED && !strcmp(t->exit.cid, "sig-q") && nchanged(&tt) == 1, "an ended trade learns its exit's client id");
	/* an entry that never fills: no trade at all */
	o = ord("M", "e2", "sig-3", true, true, 0, 600);
	trades_order(&tt, &o);
	CHECK(tt.n == 2, "an IOC that missed makes no trade");
	/* a resting entry canceled unfilled */
	o = ord("M", "e3", "sig-4", false, false, 0, 700);
	trades_order(&tt, &o);
	t = by_key(&tt, "M|e3");
	CHECK(t && t->st == T_PENDING && !t->yes, "a NO entry pending");
	o = ord("M", "e3", "sig-4", false, true, 0, 800);
	trades_order(&tt, &o);
	t = by_key(&tt, "M|e3");
	CHECK(t && t->st == T_CANCELED && t->end_ts == 800, "canceled unfilled");
	/* the fill is seen before its order: the order names it later */
	trades_fill(&tt, "M", "e4", true, 100, 4000, 28, 900);
	o = ord("M", "e4", "sig-5", true, true, 100, 900);
	trades_order(&tt, &o);
	t = by_key(&tt, "M|e4");
	CHECK(t && t->st == T_OPEN && !strcmp(t->entry.cid, "sig-5"), "linked to its order by order_id");
	/* pending at the settlement: canceled; held: settled */
	o = ord("N", "e5", "sig-6", true, false, 0, 1000);
	trades_order(&tt, &o);
	trades_settle(&tt, "N", 0, 0, 1100);
	t = by_key(&tt, "N|e5");
	CHECK(t && t->st == T_CANCELED, "pending at the settlement: canceled");
	trades_settle(&tt, "M", 10000, 0, 1200);
	t = by_key(&tt, "M|e4");
	CHECK(t && t->st == T_SETTLED && t->pnl == 10000 - 4000 - 28, "settled %lld", (long long)(t ? t->pnl : 0));
	/* a second trade opened by the same resting order gets its own key */
	trades_fill(&tt, "P", "r1", true, 100, 5000, 0, 2000);
	trades_fill(&tt, "P", "s1", false, 100, 5000, 0, 2100);
	trades_fill(&tt, "P", "r1", true, 100, 5000, 0, 2200);
	CHECK(by_key(&tt, "P|r1") && by_key(&tt, "P|r1|2") && by_key(&tt, "P|r1")->st == T_CLOSED &&
	    by_key(&tt, "P|r1|2")->st == T_OPEN, "keys P|r1 and P|r1|2");
	trades_free(&tt);
}

static void
gc(void)
{
	struct trades tt = { 0 };
	char oid[16];

	for (int i = 0; i < 1000; i++) {
		snprintf(oid, sizeof oid, "o%d", i);
		trades_fill(&tt, "G", oid, true, 100, 5000, 0, i * 10);
		trades_order(&tt, &(struct trade_order){ "G", oid, "", true, true, 100, i * 10 });
		trades_settle(&tt, "G", 0, 0, i * 10 + 5);
	}
	trades_fill(&tt, "G", "last", true, 100, 5000, 0, 20000);
	trades_gc(&tt);
	CHECK(tt.n == 1001, "nothing reported yet: nothing forgotten (%zu)", tt.n);
	nchanged(&tt);
	trades_gc(&tt);
	CHECK(tt.n == 257 && trades_held(&tt, "G") && !strcmp(tt.t[0].key, "G|o744"), "256 ended trades kept, and the open one (%zu, %s)",
	    tt.n, tt.n ? tt.t[0].key : "");
	trades_free(&tt);

	/* a trade closed by its fills whose entry order is not over yet (its
	 * state lags): kept past the 256, and its order's state, when it
	 * comes, goes to it, not to a new trade under the same key */
	memset(&tt, 0, sizeof tt);
	trades_order(&tt, &(struct trade_order){ "L", "le", "", true, false, 0, 1 });
	trades_fill(&tt, "L", "le", true, 200, 5000, 0, 2);
	trades_fill(&tt, "L", "lx", false, 200, 4800, 0, 3);
	trades_order(&tt, &(struct trade_order){ "L", "lx", "x-1", false, true, 200, 3 });
	for (int i = 0; i < 300; i++) {
		snprintf(oid, sizeof oid, "g%d", i);
		trades_fill(&tt, "G", oid, true, 100, 5000, 0, 10 + i * 10);
		trades_order(&tt, &(struct trade_order){ "G", oid, "", true, true, 100, 10 + i * 10 });
		trades_settle(&tt, "G", 0, 0, 15 + i * 10);
	}
	nchanged(&tt);
	trades_gc(&tt);
	CHECK(tt.n == 256 && by_key(&tt, "L|le") && by_key(&tt, "L|le")->st == T_CLOSED,
	    "a trade whose entry order can still bring something is kept (%zu)", tt.n);
	trades_order(&tt, &(struct trade_order){ "L", "le", "e-1", true, true, 200, 5000 });
	{
		int same = 0;

		for (size_t i = 0; i < tt.n; i++)
			same += strncmp(tt.t[i].key, "L|le", 4) == 0;
		CHECK(same == 1 && by_key(&tt, "L|le")->st == T_CLOSED && !strcmp(by_key(&tt, "L|le")->entry.cid, "e-1"),
		    "the late order state goes to the closed trade (%d trades L|le...)", same);
	}
	trades_free(&tt);
}

int
main(void)
{
	fills_and_settlements();
	orders();
	gc();
	return T_DONE();
}
