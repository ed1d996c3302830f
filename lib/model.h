/* model.h: the lognormal fair value. */
#ifndef RECIO_MODEL_H
#define RECIO_MODEL_H

/* P(S_T > K), in percent, for a price following a geometric Brownian
 * motion with per-second volatility sigma_s and drift mu_s over ttc_s
 * seconds: Phi((ln(S/K) + (mu - sigma^2/2) t) / (sigma sqrt t)).  At or
 * after the close (ttc_s <= 0) it is 100 or 0. */
double model_lognormal_yes(double price, double strike, double ttc_s, double sigma_s, double mu_s);

#endif
