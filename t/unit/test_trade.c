/* test_trade.c: the trade lifecycle on the netted YES book, by hand. */
#include <string.h>

#include "t.h"
#include "trade.h"

int
main(void)
{
	struct trades tt = { 0 };
	struct trade *t, *o;

	/* buy 3 YES at 58c, fee $0.01 */
	t = trades_fill(&tt, "M", true, 300, 5800, 100, 1000, &o);
	CHECK(t == NULL && o && o->yes && o->held == 300 && o->entry_cost == 17400, "opened: cost %lld", (long long)(o ? o->entry_cost : -1));
	/* sell 1 YES at 60c (an ask): part of the trade closes */
	t = trades_fill(&tt, "M", false, 100, 6000, 0, 2000, &o);
	CHECK(t == NULL && o == NULL && tt.t[0].held == 200 && tt.t[0].exit_proceeds == 6000, "reduced");
	/* an ask of 4 at YES 62c: sells the 2 YES left at 62c, buys 2 NO at 38c;
	 * its fee of $0.04 splits 2:2 */
	t = trades_fill(&tt, "M", false, 400, 6200, 400, 3000, &o);
	CHECK(t && t->st == T_CLOSED && t->end_ts == 3000, "the first trade closes");
	/* 6000 + 12400 - 17400 - (100 + 200) = 700 */
	CHECK(t && t->pnl == 700, "closed P&L %lld", (long long)(t ? t->pnl : 0));
	CHECK(o && !o->yes && o->held == 200 && o->entry_cost == 7600 && o->fees == 200, "a NO trade opens: cost %lld fees %lld",
	    (long long)(o ? o->entry_cost : 0), (long long)(o ? o->fees : 0));
	/* NO wins: 2 x $1 */
	t = trades_settle(&tt, "M", 20000, 0, 4000);
	CHECK(t && t->st == T_SETTLED && t->pnl == 20000 - 7600 - 200, "settled P&L %lld", (long long)(t ? t->pnl : 0));
	CHECK(trades_settle(&tt, "M", 0, 0, 5000) == NULL, "nothing held: no trade");
	CHECK(tt.n == 2, "two trades");
	/* a YES held to a losing settlement */
	trades_fill(&tt, "N", true, 100, 9600, 100, 6000, NULL);
	t = trades_settle(&tt, "N", 0, 0, 7000);
	CHECK(t && t->pnl == -9700 && t->bought == 100, "a loss: %lld", (long long)(t ? t->pnl : 0));
	trades_free(&tt);
	return T_DONE();
}
