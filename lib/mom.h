/* mom.h: momentum and realised volatility of a price series, per second.
 *
 * Prices are kept one per second (the last price seen in that second; a
 * gap is filled with the last price) in fixed rings: memory does not grow
 * with run time.  All arithmetic is on the data's own timestamps.
 *
 * Deltas: percent change from the price k minutes ago, k = 1, 2, 3, 4, 15,
 * 30, present only when the series reaches back that far.  Momentum: the
 * deltas weighted 0.30, 0.25, 0.20, 0.15, 0.05, 0.05, renormalised over the
 * deltas present; mom_bp = round(momentum_pct x 100).  Volatility: sample
 * standard deviation of one-second log returns over the last 30, 300 and
 * 3600 seconds (not annualised), present once two returns exist. */
#ifndef RECIO_MOM_H
#define RECIO_MOM_H

#include <stdbool.h>
#include <stdint.h>

#define MOM_NDELTA 6
#define MOM_NVOL 3
#define MOM_RING 4096           /* seconds kept: > 3600 + 1 */

extern const int mom_delta_min[MOM_NDELTA];    /* 1, 2, 3, 4, 15, 30 */
extern const double mom_weight[MOM_NDELTA];    /* 0.30 ... 0.05 */
extern const int mom_vol_s[MOM_NVOL];          /* 30, 300, 3600 */

struct mom {
	double px[MOM_RING];    /* price at second s: px[s % MOM_RING] */
	double ret[MOM_RING];   /* log return into second s */
	double sum[MOM_NVOL], sumsq[MOM_NVOL];
	int64_t first_s, last_s;        /* -1 before the first price */
	int64_t since_exact;    /* seconds since the sums were recomputed */
};

struct mom_out {
	bool has_delta[MOM_NDELTA];
	double delta_pct[MOM_NDELTA];
	bool has_mom;
	double mom_pct;
	int64_t mom_bp;
	double avg1m;           /* mean of the per-second prices of the last 60 s */
	bool has_vol[MOM_NVOL];
	double vol[MOM_NVOL];
};

void mom_init(struct mom *m);
/* Add a price seen at ts_ms.  Returns 0, or -1 (ignored) when ts_ms lies
 * in a second before the last one, or the price is not finite and > 0. */
int mom_add(struct mom *m, int64_t ts_ms, double price);
void mom_get(const struct mom *m, struct mom_out *o);

#endif
