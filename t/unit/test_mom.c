/* test_mom.c: momentum and volatility pinned on a hand-computed series.
 *
 * Price 100.00 from second 0, 99.00 from 900, 100.00 from 1560, 100.20
 * from 1620, 100.40 from 1680, 100.50 from 1740, 101.00 at 1800.  At
 * second 1800 (worked by hand, digits checked with a calculator):
 *   d1  = 101/100.5 - 1 = 0.497512437811 %    d2 = 101/100.4 - 1 = 0.597609561753 %
 *   d3  = 101/100.2 - 1 = 0.798403193613 %    d4 = 101/100   - 1 = 1 %
 *   d15 = 101/99    - 1 = 2.020202020202 %    d30 = 101/100  - 1 = 1 %
 *   momentum = .30 d1 + .25 d2 + .20 d3 + .15 d4 + .05 d15 + .05 d30
 *            = 0.759346861514 %  ->  mom_bp 76
 *   avg1m = (59 x 100.5 + 101) / 60 = 100.508333333333
 *   vol30s: one non-zero return r = ln(101/100.5) in 30: std = r / sqrt(30)
 *         = 0.000906077223610
 *   vol5m = 0.000667607649154, vol60m (1800 returns so far) = 0.000361849335499 */
#include <math.h>
#include <stdlib.h>

#include "t.h"
#include "mom.h"

static double
series(int64_t s)
{
	return s < 900 ? 100.0 : s < 1560 ? 99.0 : s < 1620 ? 100.0 : s < 1680 ? 100.2 :
	    s < 1740 ? 100.4 : s < 1800 ? 100.5 : 101.0;
}

static int
near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

int
main(void)
{
	static struct mom m;
	struct mom_out o;
	const int64_t t0 = 1795617000000LL;    /* any epoch: only differences matter */
	static const double want_d[] = { 0.497512437811, 0.597609561753, 0.798403193613, 1.0,
		2.020202020202, 1.0 };

	mom_init(&m);
	mom_get(&m, &o);
	CHECK(!o.has_mom && !o.has_vol[0], "empty: nothing defined");
	for (int64_t s = 0; s <= 1800; s++)
		CHECK(mom_add(&m, t0 + s * 1000 + 250, series(s)) == 0, "add second %lld", (long long)s);
	mom_get(&m, &o);
	for (int d = 0; d < MOM_NDELTA; d++)
		CHECK(o.has_delta[d] && near(o.delta_pct[d], want_d[d], 1e-9), "delta %d = %.12f", d, o.delta_pct[d]);
	CHECK(o.has_mom && near(o.mom_pct, 0.759346861514, 1e-9), "momentum %.12f", o.mom_pct);
	CHECK(o.mom_bp == 76, "mom_bp %lld", (long long)o.mom_bp);
	CHECK(near(o.avg1m, 100.508333333333, 1e-9), "avg1m %.12f", o.avg1m);
	CHECK(o.has_vol[0] && near(o.vol[0], 0.000906077223610, 1e-12), "vol30s %.15g", o.vol[0]);
	CHECK(o.has_vol[1] && near(o.vol[1], 0.000667607649154, 1e-12), "vol5m %.15g", o.vol[1]);
	CHECK(o.has_vol[2] && near(o.vol[2], 0.000361849335499, 1e-12), "vol60m %.15g", o.vol[2]);

	/* a newer price in the same second replaces it; an older second is refused */
	CHECK(mom_add(&m, t0 + 1800 * 1000 + 900, 100.5) == 0, "same second accepted");
	mom_get(&m, &o);
	CHECK(near(o.delta_pct[0], 0.0, 1e-12), "same second replaced the price: d1 %.12f", o.delta_pct[0]);
	CHECK(near(o.vol[0], 0.0, 1e-12), "and its return: vol30s %.15g", o.vol[0]);
	CHECK(mom_add(&m, t0 + 1799 * 1000, 120.0) == -1, "an older second is refused");
	CHECK(mom_add(&m, t0 + 1801 * 1000, NAN) == -1 && mom_add(&m, t0 + 1801 * 1000, 0) == -1,
	    "non-positive or NaN prices refused");

	/* renormalisation: at five minutes only d1..d4 exist */
	mom_init(&m);
	for (int64_t s = 0; s <= 300; s++)
		mom_add(&m, t0 + s * 1000, 100.0 + (s >= 240 ? 0.5 : 0) + (s >= 300 ? 0.5 : 0));
	mom_get(&m, &o);
	CHECK(o.has_delta[3] && !o.has_delta[4] && !o.has_delta[5], "d4 present, d15 d30 absent");
	/* d1 = 101/100.5-1, d2 = d3 = d4 = 1 %: (0.3 x 0.4975124 + 0.6 x 1) / 0.9 */
	CHECK(near(o.mom_pct, (0.3 * (101.0 / 100.5 - 1) * 100 + 0.6) / 0.9, 1e-9), "renormalised %.12f", o.mom_pct);

	/* gaps are filled with the last price: one tick a minute */
	mom_init(&m);
	mom_add(&m, t0, 100.0);
	mom_add(&m, t0 + 60000, 102.0);
	mom_get(&m, &o);
	CHECK(o.has_delta[0] && near(o.delta_pct[0], 2.0, 1e-9), "d1 across a filled gap %.12f", o.delta_pct[0]);
	CHECK(near(o.avg1m, (59 * 100.0 + 102.0) / 60, 1e-9), "avg1m over filled seconds %.12f", o.avg1m);

	/* a gap longer than MOM_GAP_S is not filled: 30 minutes at 100, then
	 * nothing for 20 minutes, then 102.  Nothing is measured from or across
	 * the unknown seconds: d1..d15 would start inside the gap; d30 starts
	 * before it and is the true 30-minute change; no return crosses it */
	mom_init(&m);
	for (int64_t s = 0; s <= 1800; s++)
		mom_add(&m, t0 + s * 1000, 100.0);
	for (int64_t s = 3000; s <= 3010; s++)
		CHECK(mom_add(&m, t0 + s * 1000, 102.0) == 0, "after the gap: second %lld", (long long)s);
	mom_get(&m, &o);
	for (int d = 0; d < 5; d++)
		CHECK(!o.has_delta[d], "delta %d absent: its second is inside the gap (%.12f)", d, o.delta_pct[d]);
	CHECK(o.has_delta[5] && near(o.delta_pct[5], 2.0, 1e-9), "d30 from before the gap %.12f", o.delta_pct[5]);
	CHECK(o.has_mom && o.mom_bp == 200, "mom_bp over d30 alone %lld", (long long)o.mom_bp);
	CHECK(near(o.avg1m, 102.0, 1e-9), "avg1m over the known seconds only %.12f", o.avg1m);
	CHECK(o.has_vol[0] && near(o.vol[0], 0.0, 1e-15), "vol30s: ten zero returns, not the gap's %.15g", o.vol[0]);
	CHECK(o.has_vol[2] && near(o.vol[2], 0.0, 1e-15), "vol60m: the gap's move is no return %.15g", o.vol[2]);
	/* one second over MOM_GAP_S already counts; exactly MOM_GAP_S is filled */
	mom_init(&m);
	mom_add(&m, t0, 100.0);
	mom_add(&m, t0 + (MOM_GAP_S + 1) * 1000, 102.0);
	mom_get(&m, &o);
	CHECK(!o.has_delta[0] && !o.has_mom && !o.has_vol[0], "a gap of %d s: no d1, no momentum, no vol", MOM_GAP_S + 1);
	/* longer than the ring: the series starts again */
	mom_init(&m);
	for (int64_t s = 0; s <= 1800; s++)
		mom_add(&m, t0 + s * 1000, 100.0);
	mom_add(&m, t0 + (1800 + 3 * 3600) * 1000LL, 102.0);
	mom_get(&m, &o);
	CHECK(!o.has_mom && !o.has_delta[5] && !o.has_vol[2] && near(o.avg1m, 102.0, 1e-9),
	    "3 h later: a new series (has_mom %d, vol60m %d)", o.has_mom, o.has_vol[2]);

	/* an absurd move gives a bounded mom_bp, never llround(inf) */
	mom_init(&m);
	mom_add(&m, t0, 1e-300);
	mom_add(&m, t0 + 60000, 1e300);
	mom_get(&m, &o);
	CHECK(!o.has_delta[0] || isfinite(o.delta_pct[0]), "d1 finite or absent");
	CHECK(!o.has_mom || (o.mom_bp >= -MOM_BP_MAX && o.mom_bp <= MOM_BP_MAX), "mom_bp %lld within +-%d",
	    (long long)o.mom_bp, MOM_BP_MAX);
	mom_init(&m);
	mom_add(&m, t0, 0.01);
	mom_add(&m, t0 + 60000, 1e8);
	mom_get(&m, &o);
	CHECK(o.has_mom && o.mom_bp == MOM_BP_MAX, "mom_bp clamped %lld", (long long)o.mom_bp);

	/* sliding sums agree with a direct computation after 3 hours of noise */
	mom_init(&m);
	{
		static double p[3 * 3600 + 1], ret[3 * 3600 + 1];
		double x = 100000;

		srand(7);
		for (int s = 0; s <= 3 * 3600; s++) {
			x *= 1 + ((double)rand() / RAND_MAX - 0.5) * 1e-3;
			ret[s] = s ? log(x / p[s - 1]) : 0;
			p[s] = x;
			mom_add(&m, t0 + (int64_t)s * 1000, x);
		}
		mom_get(&m, &o);
		for (int v = 0; v < MOM_NVOL; v++) {
			int w = mom_vol_s[v], last = 3 * 3600;
			double mu = 0, var = 0;

			for (int s = last - w + 1; s <= last; s++)
				mu += ret[s];
			mu /= w;
			for (int s = last - w + 1; s <= last; s++)
				var += (ret[s] - mu) * (ret[s] - mu);
			var /= w - 1;
			CHECK(near(o.vol[v], sqrt(var), 1e-12 + 1e-9 * sqrt(var)), "vol window %d: %.15g vs %.15g",
			    w, o.vol[v], sqrt(var));
		}
		CHECK(near(o.delta_pct[5], (p[3 * 3600] / p[3 * 3600 - 1800] - 1) * 100, 1e-9), "d30 after 3 h");
	}
	return T_DONE();
}
