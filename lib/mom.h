/* mom.h: momentum and realised volatility of a price series, per second.
 *
 * Prices are kept one per second (the last price seen in that second) in
 * fixed rings: memory does not grow with run time.  All arithmetic is on the
 * data's own timestamps.  A gap of up to MOM_GAP_S seconds between two
 * prices is filled with the last price (one-minute candles are such gaps);
 * the seconds of a longer gap are unknown: nothing is measured from them or
 * across them (a feed outage is not a one-second move).
 *
 * Deltas: percent change from the price k minutes ago, k = 1, 2, 3, 4, 15,
 * 30, present only when the series reaches back that far and that second's
 * price is known.  Momentum: the deltas weighted 0.30, 0.25, 0.20, 0.15,
 * 0.05, 0.05, renormalised over the deltas present; mom_bp =
 * round(momentum_pct x 100), within +-MOM_BP_MAX.  avg1m: the mean of the
 * known per-second prices of the last 60 s.  Volatility: sample standard
 * deviation of the one-second log returns over the last 30, 300 and 3600
 * seconds (not annualised) between known seconds, present once two such
 * returns exist. */
#ifndef RECIO_MOM_H
#define RECIO_MOM_H

#include <stdbool.h>
#include <stdint.h>

#define MOM_NDELTA 6
#define MOM_NVOL 3
#define MOM_RING 4096           /* seconds kept: > 3600 + 1 */
#define MOM_GAP_S 60            /* longest gap (s between two prices) filled with the last price */
#define MOM_BP_MAX 100000       /* mom_bp is clamped to +-this (+-1000 %) */

extern const int mom_delta_min[MOM_NDELTA];    /* 1, 2, 3, 4, 15, 30 */
extern const double mom_weight[MOM_NDELTA];    /* 0.30 ... 0.05 */
extern const int mom_vol_s[MOM_NVOL];          /* 30, 300, 3600 */

struct mom {
	double px[MOM_RING];    /* price at second s: px[s % MOM_RING] */
	double ret[MOM_RING];   /* log return into second s */
	unsigned char known[MOM_RING];  /* second s has a price (seen, or filled in a short gap) */
	unsigned char rok[MOM_RING];    /* ret[s] counts: s and s - 1 both known */
	double sum[MOM_NVOL], sumsq[MOM_NVOL];
	int64_t cnt[MOM_NVOL];  /* returns that count in each window */
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
 * in a second before the last one, or the price is not finite and > 0.
 * After a gap longer than the ring nothing of the old series is left: the
 * series starts again. */
int mom_add(struct mom *m, int64_t ts_ms, double price);
void mom_get(const struct mom *m, struct mom_out *o);

#endif
