/* model.c: see model.h. */
#include <math.h>

#include "model.h"

double
model_lognormal_yes(double price, double strike, double ttc_s, double sigma_s, double mu_s)
{
	double d;

	if (ttc_s <= 0 || sigma_s <= 0)
		return price > strike ? 100.0 : 0.0;
	d = (log(price / strike) + (mu_s - 0.5 * sigma_s * sigma_s) * ttc_s) / (sigma_s * sqrt(ttc_s));
	return 50.0 * erfc(-d / sqrt(2.0));
}
