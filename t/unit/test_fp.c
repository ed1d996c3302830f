/* test_fp.c: fingerprint tables: loading, interpolation (corner, edge,
 * interior cells, clamping), side selection, bucket clamping.
 *
 * Expected values are read off the CSV text by hand, e.g. the shipped
 * baseline's "1m TTC" row begins 50.39,50.11,15.89,15.84 (>= +0.00%,
 * <= -0.00%, >= +0.05%, <= -0.05%). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "fp.h"

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

/* A small synthetic table: up[r][c] = r + 1 + c / 10 (minute + tenth of
 * the column), down = 2 x up, thresholds 0, 0.5, 1.0. */
static void
write_table(const char *path, int shift)
{
	FILE *f = fopen(path, "w");

	fprintf(f, ",>= +0.00%%,<= -0.00%%,>= +0.50%%,<= -0.50%%,>= +1.00%%,<= -1.00%%\n");
	for (int r = 0; r < 60; r++) {
		fprintf(f, "%dm TTC", r + 1);
		for (int c = 0; c < 3; c++)
			fprintf(f, ",%.2f,%.2f", (r + 1 + c / 10.0) / 2 + shift, r + 1 + c / 10.0 + shift);
		fprintf(f, "\n");
	}
	CHECK(fclose(f) == 0, "write %s", path);
}

int
main(void)
{
	static struct fp_table t;
	static struct fp_model m;
	char dir[] = "/tmp/test_fp.XXXXXX", path[256], cmd[512];
	const char *shipped = getenv("RECIO_TOP");
	FILE *f;

	CHECK(mkdtemp(dir) != NULL, "tmpdir");
	snprintf(path, sizeof path, "%s/t.csv", dir);
	write_table(path, 0);
	CHECK(fp_load_table(&t, path) == 0 && t.ncol == 3, "synthetic table loads");
	/* corner cells exactly */
	CHECK(near(fp_lookup(&t, true, 1, 0), 0.5), "up 1m 0%%: %g", fp_lookup(&t, true, 1, 0));
	CHECK(near(fp_lookup(&t, false, 60, 1.0), 60.2), "down 60m 1%%: %g", fp_lookup(&t, false, 60, 1.0));
	/* edges: between rows, on a column */
	CHECK(near(fp_lookup(&t, false, 2.5, 0.5), 2.6), "down 2.5m 0.5%%: %g", fp_lookup(&t, false, 2.5, 0.5));
	/* interior: between rows and columns, bilinear */
	CHECK(near(fp_lookup(&t, false, 10.25, 0.75), 10.25 + 0.15), "interior: %g", fp_lookup(&t, false, 10.25, 0.75));
	/* clamping: under a minute, over an hour, beyond 1 %, negative */
	CHECK(near(fp_lookup(&t, false, 0.2, 0), 1.0), "ttc under 1 minute uses row 1");
	CHECK(near(fp_lookup(&t, false, 600, 0), 60.0), "ttc over 60 uses row 60");
	CHECK(near(fp_lookup(&t, false, 5, 7.5), 5.2), "beyond the last column: the last column");
	CHECK(near(fp_lookup(&t, false, 5, -1), 5.0), "below the first column: the first");

	/* a directory of buckets -2, 0, 3 (hole at -1, 1, 2) plus the baseline */
	snprintf(path, sizeof path, "%s/btc_fingerprint_directional_baseline.csv", dir);
	write_table(path, 30);
	for (int b = -2; b <= 3; b++) {
		if (b == -1 || b == 1 || b == 2)
			continue;
		snprintf(path, sizeof path, "%s/btc_fingerprint_directional_momentum_%03d.csv", dir, b);
		write_table(path, 5 * (b + 2));
	}
	CHECK(fp_load_dir(&m, dir) == 0 && m.bmin == -2 && m.bmax == 3, "dir loads: %d..%d", m.bmin, m.bmax);
	CHECK(near(fp_lookup(fp_bucket(&m, 3), true, 1, 0), 25.5), "bucket 3");
	CHECK(near(fp_lookup(fp_bucket(&m, 99), true, 1, 0), 25.5), "above the range: the top bucket");
	CHECK(near(fp_lookup(fp_bucket(&m, -40), true, 1, 0), 0.5), "below the range: the bottom bucket");
	CHECK(near(fp_lookup(fp_bucket(&m, 1), true, 1, 0), 10.5), "a hole: the nearest present (0)");

	/* side selection with the live price: price 100000, bucket 0 table
	 * (shift 10): strike 99500 is 0.5 % below -> YES side, uses down:
	 * 100 - down(10 min, 0.5 %) = 100 - (10.1 + 10) = 79.9; strike 100500
	 * is 0.5 % above -> NO side, uses up: 100 - (5.05 + 10) = 84.95. */
	CHECK(near(fp_prob_stay(&m, 0, 600, 100000, 99500), 79.9), "YES side: %g", fp_prob_stay(&m, 0, 600, 100000, 99500));
	CHECK(near(fp_prob_stay(&m, 0, 600, 100000, 100500), 84.95), "NO side: %g", fp_prob_stay(&m, 0, 600, 100000, 100500));
	CHECK(near(fp_prob_stay(&m, 0, 600, 100000, 100000), 100 - (10 / 2.0 + 10)), "at the strike: NO side, 0 %% buffer");
	/* the percent comes from the live price, not a fixed one */
	CHECK(near(fp_prob_stay(&m, 0, 600, 50000, 49750), 79.9), "0.5 %% below at another price");

	/* malformed tables are refused with the line */
	snprintf(path, sizeof path, "%s/bad.csv", dir);
	f = fopen(path, "w");
	fprintf(f, ",>= +0.00%%,<= -0.00%%\n1m TTC,1,2\n3m TTC,1,2\n");
	CHECK(fclose(f) == 0, "write %s", path);
	CHECK(fp_load_table(&t, path) == -1, "a missing row refused");
	f = fopen(path, "w");
	fprintf(f, ",>= +0.00%%,>= +0.05%%\n");
	CHECK(fclose(f) == 0, "write %s", path);
	CHECK(fp_load_table(&t, path) == -1, "unpaired columns refused");

	/* the shipped tables (share/fingerprints/btc) */
	if (shipped) {
		snprintf(path, sizeof path, "%s/share/fingerprints/btc", shipped);
		CHECK(fp_load_dir(&m, path) == 0 && m.bmin == -30 && m.bmax == 30, "shipped tables load");
		CHECK(m.base.ncol == 40 && near(m.base.x[34], 1.75) && near(m.base.x[33], 1.65),
		    "40 thresholds, 1.70 missing");
		CHECK(near(fp_lookup(&m.base, true, 1, 0), 50.39) && near(fp_lookup(&m.base, false, 1, 0.05), 15.84),
		    "baseline 1m row as in the file");
		CHECK(near(fp_lookup(&m.base, true, 1, 0.025), (50.39 + 15.89) / 2), "between 0.00 and 0.05");
	}
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK(system(cmd) == 0, "cleanup");
	return T_DONE();
}
