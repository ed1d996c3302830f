/* fp.h: the fingerprint model: empirical probabilities of BTC moving at
 * least x % up (or down) within t minutes, one table per momentum bucket.
 *
 * A table file is CSV: a header ",>= +0.00%,<= -0.00%,>= +0.05%,..."
 * (column pairs per threshold x, in percent, ascending), then rows
 * "1m TTC,..." to "60m TTC,..." of percentages.  A directory holds
 * btc_fingerprint_directional_baseline.csv and
 * btc_fingerprint_directional_momentum_{bucket:03d}.csv for buckets
 * -30..30 (Python's formatting: "-05", "005").
 *
 * Lookups interpolate linearly in time to close and in move size, and
 * clamp beyond the tables: under one minute uses the 1-minute row, over 60
 * the 60-minute row, moves beyond the last column use the last column,
 * buckets beyond the range use the nearest bucket (never a 50 % guess). */
#ifndef RECIO_FP_H
#define RECIO_FP_H

#include <stdbool.h>

#define FP_ROWS 60              /* 1..60 minutes */
#define FP_COLS 64              /* thresholds per table, at most */
#define FP_BMIN (-30)
#define FP_BMAX 30

struct fp_table {
	int ncol;
	double x[FP_COLS];              /* thresholds, percent, ascending */
	double up[FP_ROWS][FP_COLS];    /* P(move >= +x %) in percent */
	double down[FP_ROWS][FP_COLS];  /* P(move <= -x %) in percent */
};

struct fp_model {
	struct fp_table base;
	struct fp_table b[FP_BMAX - FP_BMIN + 1];
	bool have[FP_BMAX - FP_BMIN + 1];
	int bmin, bmax;                 /* the buckets present */
};

/* Load one table.  0, or -1 with "prog: PATH line N: reason" printed. */
int fp_load_table(struct fp_table *t, const char *path);
/* Load a directory: the baseline and every momentum bucket present
 * (at least one).  0 or -1 with a message. */
int fp_load_dir(struct fp_model *m, const char *dir);

/* P(move >= x %) (up) or P(move <= -x %) (down) within ttc_min minutes,
 * percent, interpolated and clamped. */
double fp_lookup(const struct fp_table *t, bool up, double ttc_min, double x_pct);
/* The table for a momentum bucket, clamped to the buckets present
 * (NULL only if none was loaded: then the baseline is used). */
const struct fp_table *fp_bucket(const struct fp_model *m, int mom_bp);

/* Probability, in percent, that the price stays on its side of the strike
 * until expiry: strike below price (YES side): 100 - P(down >= buffer %);
 * strike at or above price (NO side): 100 - P(up >= buffer %).  The buffer
 * is |price - strike| as a percent of the live price. */
double fp_prob_stay(const struct fp_model *m, int mom_bp, double ttc_s, double price, double strike);

#endif
