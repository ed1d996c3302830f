/* test_model.c: the lognormal model against the standard normal table.
 * Phi(0) = 0.5, Phi(1) = 0.8413447461, Phi(-1.96) = 0.0249978952,
 * Phi(2.5) = 0.9937903347 (any table of the normal distribution). */
#include <math.h>

#include "t.h"
#include "model.h"

/* the price that puts d at the wanted value for K, sigma, t (mu = 0) */
static double
price_for(double d, double k, double sigma, double t)
{
	return k * exp(d * sigma * sqrt(t) + 0.5 * sigma * sigma * t);
}

int
main(void)
{
	const double k = 100000, sig = 1e-4, t = 400;   /* sigma sqrt t = 0.002 */

	CHECK(fabs(model_lognormal_yes(price_for(0, k, sig, t), k, t, sig, 0) - 50.0) < 1e-9, "d = 0");
	CHECK(fabs(model_lognormal_yes(price_for(1, k, sig, t), k, t, sig, 0) - 84.13447461) < 1e-7, "d = 1: %.10f",
	    model_lognormal_yes(price_for(1, k, sig, t), k, t, sig, 0));
	CHECK(fabs(model_lognormal_yes(price_for(-1.96, k, sig, t), k, t, sig, 0) - 2.49978952) < 1e-7, "d = -1.96");
	CHECK(fabs(model_lognormal_yes(price_for(2.5, k, sig, t), k, t, sig, 0) - 99.37903347) < 1e-7, "d = 2.5");
	/* drift: mu t = sigma sqrt t moves d by one */
	CHECK(fabs(model_lognormal_yes(price_for(0, k, sig, t), k, t, sig, 0.002 / t) - 84.13447461) < 1e-7, "drift");
	/* at the money with sigma^2 t / 2 = 2e-6: d = -0.001, just under 50 */
	CHECK(model_lognormal_yes(k, k, t, sig, 0) < 50 && model_lognormal_yes(k, k, t, sig, 0) > 49.96, "ATM");
	/* at and after the close: certain */
	CHECK(model_lognormal_yes(100001, k, 0, sig, 0) == 100 && model_lognormal_yes(99999, k, -5, sig, 0) == 0 &&
	    model_lognormal_yes(k, k, 0, sig, 0) == 0, "expired: strictly above wins");
	/* symmetric: P(above K) + P(above K') where ln(S/K) = -ln(S/K') ... monotone in price */
	CHECK(model_lognormal_yes(101000, k, t, sig, 0) > model_lognormal_yes(100500, k, t, sig, 0), "monotone");
	return T_DONE();
}
