/* fp.c: see fp.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "fp.h"

/* A header cell ">= +0.05%" or "<= -0.05%": the sign-free threshold. */
static int
header_cell(const char *s, size_t n, bool *up, double *x)
{
	char tmp[32], *end;

	if (n < 6 || n >= sizeof tmp || (memcmp(s, ">= +", 4) != 0 && memcmp(s, "<= -", 4) != 0) ||
	    s[n - 1] != '%')
		return -1;
	*up = s[0] == '>';
	memcpy(tmp, s + 4, n - 5);
	tmp[n - 5] = '\0';
	*x = strtod(tmp, &end);
	return end == tmp || *end || !(*x >= 0) ? -1 : 0;
}

int
fp_load_table(struct fp_table *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long ln = 0;
	int rows = 0, rc = -1;

	memset(t, 0, sizeof *t);
	if (f == NULL) {
		warnx_("%s: cannot open:", path);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *p = line, *cell;
		int col = 0;

		ln++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (ln == 1) {
			/* ",>= +0.00%,<= -0.00%,..." */
			if (*p != ',') {
				warnx_("%s line 1: expected a header starting with ','", path);
				goto out;
			}
			p++;
			while ((cell = strsep(&p, ",")) != NULL) {
				bool up;
				double x;

				if (header_cell(cell, strlen(cell), &up, &x) < 0) {
					warnx_("%s line 1: \"%s\" is not \">= +X%%\" or \"<= -X%%\"", path, cell);
					goto out;
				}
				if (col / 2 >= FP_COLS) {
					warnx_("%s line 1: more than %d thresholds", path, FP_COLS);
					goto out;
				}
				int pair = col / 2, prev = pair > 0 ? pair - 1 : 0;

				if (up != (col % 2 == 0) || (col % 2 == 1 && x != t->x[pair]) ||
				    (col % 2 == 0 && pair > 0 && !(x > t->x[prev]))) {
					warnx_("%s line 1: column %d: expected \">= +X%%\" then \"<= -X%%\" pairs, "
					    "X ascending", path, col + 2);
					goto out;
				}
				t->x[col / 2] = x;
				col++;
			}
			if (col % 2 || col == 0) {
				warnx_("%s line 1: the threshold columns do not pair up", path);
				goto out;
			}
			t->ncol = col / 2;
			continue;
		}
		if (len == 0)
			continue;
		cell = strsep(&p, ",");
		{
			char *end;
			long m = strtol(cell, &end, 10);

			if (end == cell || strcmp(end, "m TTC") != 0 || m != rows + 1 || m > FP_ROWS) {
				warnx_("%s line %lu: expected row \"%dm TTC\"", path, ln, rows + 1);
				goto out;
			}
		}
		while ((cell = strsep(&p, ",")) != NULL) {
			char *end;
			double v;

			errno = 0;
			v = strtod(cell, &end);
			if (end == cell || *end || errno || !(v >= 0 && v <= 100)) {
				warnx_("%s line %lu: column %d: \"%s\" is not a percentage", path, ln, col + 2, cell);
				goto out;
			}
			if (col >= 2 * t->ncol) {
				warnx_("%s line %lu: more cells than the header has columns", path, ln);
				goto out;
			}
			if (col % 2 == 0)
				t->up[rows][col / 2] = v;
			else
				t->down[rows][col / 2] = v;
			col++;
		}
		if (col != 2 * t->ncol) {
			warnx_("%s line %lu: %d cells, the header has %d", path, ln, col, 2 * t->ncol);
			goto out;
		}
		rows++;
	}
	if (ferror(f)) {
		warnx_("%s: read error:", path);
		goto out;
	}
	if (rows != FP_ROWS) {
		warnx_("%s: %d rows, expected %d (1m TTC to 60m TTC)", path, rows, FP_ROWS);
		goto out;
	}
	rc = 0;
out:
	free(line);
	(void)fclose(f);
	return rc;
}

int
fp_load_dir(struct fp_model *m, const char *dir)
{
	char path[4096];
	int n = 0;

	memset(m, 0, sizeof *m);
	snprintf(path, sizeof path, "%s/btc_fingerprint_directional_baseline.csv", dir);
	if (fp_load_table(&m->base, path) < 0)
		return -1;
	m->bmin = FP_BMAX + 1;
	m->bmax = FP_BMIN - 1;
	for (int b = FP_BMIN; b <= FP_BMAX; b++) {
		FILE *f;

		/* Python's {:03d}: -5 -> "-05", 5 -> "005" */
		snprintf(path, sizeof path, "%s/btc_fingerprint_directional_momentum_%03d.csv", dir, b);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		(void)fclose(f);
		if (fp_load_table(&m->b[b - FP_BMIN], path) < 0)
			return -1;
		m->have[b - FP_BMIN] = true;
		if (b < m->bmin)
			m->bmin = b;
		if (b > m->bmax)
			m->bmax = b;
		n++;
	}
	if (n == 0) {
		warnx_("%s: no btc_fingerprint_directional_momentum_NNN.csv tables", dir);
		return -1;
	}
	return 0;
}

double
fp_lookup(const struct fp_table *t, bool up, double ttc_min, double x)
{
	double r, fr, fc, v00, v01, v10, v11;
	int r0, r1, c0, c1;
	const double (*g)[FP_COLS] = up ? t->up : t->down;

	/* rows are minutes 1..60 */
	r = ttc_min < 1 ? 1 : ttc_min > FP_ROWS ? FP_ROWS : ttc_min;
	r0 = (int)floor(r) - 1;
	r1 = r0 + 1 < FP_ROWS ? r0 + 1 : r0;
	fr = r - floor(r);
	/* columns by threshold, clamped at both ends */
	if (!(x > t->x[0])) {
		c0 = c1 = 0;
		fc = 0;
	} else if (x >= t->x[t->ncol - 1]) {
		c0 = c1 = t->ncol - 1;
		fc = 0;
	} else {
		c1 = 1;
		while (t->x[c1] < x)
			c1++;
		c0 = c1 - 1;
		fc = (x - t->x[c0]) / (t->x[c1] - t->x[c0]);
	}
	v00 = g[r0][c0], v01 = g[r0][c1], v10 = g[r1][c0], v11 = g[r1][c1];
	return (v00 * (1 - fc) + v01 * fc) * (1 - fr) + (v10 * (1 - fc) + v11 * fc) * fr;
}

const struct fp_table *
fp_bucket(const struct fp_model *m, int mom_bp)
{
	int b = mom_bp < m->bmin ? m->bmin : mom_bp > m->bmax ? m->bmax : mom_bp;

	if (m->bmin > m->bmax)
		return &m->base;
	/* a hole inside the range: the nearest bucket present */
	for (int d = 0; d <= FP_BMAX - FP_BMIN; d++) {
		if (b - d >= m->bmin && m->have[b - d - FP_BMIN])
			return &m->b[b - d - FP_BMIN];
		if (b + d <= m->bmax && m->have[b + d - FP_BMIN])
			return &m->b[b + d - FP_BMIN];
	}
	return &m->base;
}

double
fp_prob_stay(const struct fp_model *m, int mom_bp, double ttc_s, double price, double strike)
{
	const struct fp_table *t = fp_bucket(m, mom_bp);
	double buffer = fabs(price - strike) / price * 100.0;
	bool yes_side = strike < price;

	return 100.0 - fp_lookup(t, !yes_side, ttc_s / 60.0, buffer);
}
