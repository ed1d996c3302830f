/* fp-build: build fingerprint tables from one-minute candles.  See
 * man/fp-build.1 and fp.h for the table format. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "diag.h"
#include "fp.h"
#include "mom.h"
#include "rtime.h"

#define NX 41                   /* thresholds 0.00 % .. 2.00 % by 0.05 */
#define NB (FP_BMAX - FP_BMIN + 2)      /* buckets + the baseline (last) */

static const char usage_text[] =
"usage: fp-build [-h] [-o DIR] [CANDLES.csv]\n"
"\n"
"Build fingerprint tables from one-minute candles (CSV timestamp,open,high,\n"
"low,close,volume; timestamp in epoch seconds, milliseconds or RFC 3339; a\n"
"header line is skipped; stdin when no file is named).\n"
"\n"
"Method.  For every candle, momentum is the weighted percent change of the\n"
"close over 1, 2, 3, 4, 15 and 30 minutes (weights 0.30, 0.25, 0.20, 0.15,\n"
"0.05, 0.05, renormalised over the changes that exist), in basis points,\n"
"rounded: its bucket.  For every horizon t = 1..60 minutes and threshold\n"
"x = 0.00 .. 2.00 %% by 0.05, the table of the bucket holds the weighted share\n"
"of its candles whose close t minutes later was >= +x %% (column \">= +x%%\")\n"
"or <= -x %% (column \"<= -x%%\"), in percent.  A candle weighs 5 in the newest\n"
"year of the data, 4, 3 and 2 in the three before, 1 before that.  Candles\n"
"with momentum beyond +-30 bp count in the baseline only; a horizon whose\n"
"candle is missing (a gap in the data) is skipped for that candle.  A\n"
"bucket's horizon without a candle takes the baseline's row (momentum then\n"
"says nothing); the baseline must have a candle at every horizon (61\n"
"minutes of data at least), or nothing is written.\n"
"\n"
"  -o DIR    write btc_fingerprint_directional_baseline.csv and\n"
"            btc_fingerprint_directional_momentum_NNN.csv there (default .),\n"
"            all through temporary files, renamed once all are written; a\n"
"            bucket's table left there by an earlier run, whose bucket has\n"
"            no candle now, is removed\n"
"  -h        this text\n";

struct candle { int64_t minute; double close; };

static void __attribute__((noreturn))
usage(const char *why)
{
	die_usage(usage_text, why);
}

static int
read_candles(FILE *f, const char *name, struct candle **out, size_t *n)
{
	char *line = NULL;
	size_t cap = 0, c = 0;
	ssize_t len;
	unsigned long ln = 0;

	*out = NULL;
	*n = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *p = line, *field[6];
		int nf = 0;
		int64_t ts;
		char *end;
		double close;

		ln++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		while (nf < 6 && (field[nf] = strsep(&p, ",")) != NULL)
			nf++;
		if (nf != 6 || p != NULL) {
			warnx_("%s line %lu: expected 6 fields (timestamp,open,high,low,close,volume), skipped", name, ln);
			continue;
		}
		if (cfg_parse_i64(field[0], 0, INT64_MAX, &ts) == 0)
			ts = ts > 100000000000LL ? ts : ts * 1000;
		else if (rt_parse_iso(field[0], strlen(field[0]), &ts) < 0) {
			if (ln == 1)
				continue;       /* a header */
			warnx_("%s line %lu: \"%s\" is not a timestamp, skipped", name, ln, field[0]);
			continue;
		}
		errno = 0;
		close = strtod(field[4], &end);
		if (end == field[4] || *end || errno || !(close > 0) || !isfinite(close)) {
			warnx_("%s line %lu: close \"%s\" is not a positive number, skipped", name, ln, field[4]);
			continue;
		}
		if (*n == c) {
			c = c ? c * 2 : 65536;
			*out = xrealloc(*out, c * sizeof **out);
		}
		if (*n && ts / 60000 <= (*out)[*n - 1].minute) {
			warnx_("%s line %lu: timestamps must increase by whole minutes, skipped", name, ln);
			continue;
		}
		(*out)[*n].minute = ts / 60000;
		(*out)[(*n)++].close = close;
	}
	free(line);
	if (ferror(f)) {
		warnx_("%s: read error:", name);
		return -1;
	}
	return 0;
}

/* Index of the candle of a given minute, or -1 (the series is sorted). */
static long
find(const struct candle *c, size_t n, size_t from, int64_t minute)
{
	size_t lo = from, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c[mid].minute < minute)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && c[lo].minute == minute ? (long)lo : -1;
}

/* A bucket (or the baseline) has a candle at some horizon. */
static bool
has_rows(const double *total)
{
	for (int t = 0; t < FP_ROWS; t++)
		if (total[t] > 0)
			return true;
	return false;
}

/* The table of index idx (NB - 1: the baseline) in dir. */
static void
table_path(char *path, size_t cap, const char *dir, int idx)
{
	if (idx == NB - 1)
		snprintf(path, cap, "%s/btc_fingerprint_directional_baseline.csv", dir);
	else
		snprintf(path, cap, "%s/btc_fingerprint_directional_momentum_%03d.csv", dir, idx + FP_BMIN);
}

/* After a failed write: the NAME.tmp files written so far (indexes from
 * NB - 1 down to idx) removed. */
static void
remove_tmps(const char *dir, double (*total)[FP_ROWS], int idx)
{
	for (int k = NB - 1; k >= idx; k--) {
		char path[4096], tmp[4200];

		if (!has_rows(total[k]))
			continue;
		table_path(path, sizeof path, dir, k);
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		(void)unlink(tmp);
	}
}

int
main(int argc, char **argv)
{
	const char *dir = ".", *name = "stdin";
	struct candle *c;
	size_t n;
	FILE *in = stdin;
	int ch, newest = 0;
	/* hist[b][t][k]: weight of moves landing in threshold cell k
	 * (up: change in [x_k, x_k+1), down likewise), total[b][t] */
	static double up[NB][FP_ROWS][NX + 1], down[NB][FP_ROWS][NX + 1], total[NB][FP_ROWS];

	diag_init(argv[0]);
	while ((ch = getopt(argc, argv, "ho:")) != -1) {
		switch (ch) {
		case 'h': fputs(usage_text, stdout); return 0;
		case 'o': dir = optarg; break;
		default: usage(NULL);
		}
	}
	if (argc - optind > 1)
		usage("at most one input file");
	if (argc - optind == 1 && (in = fopen(name = argv[optind], "r")) == NULL)
		die(1, "%s: cannot open:", name);
	if (read_candles(in, name, &c, &n) < 0)
		return 1;
	if (n < 2)
		die(1, "%s: fewer than two candles", name);
	for (size_t i = 0; i < n; i++) {
		struct rt_tm tm;

		rt_gmtime(c[i].minute * 60, &tm);
		if (tm.year > newest)
			newest = tm.year;
	}
	for (size_t i = 0; i < n; i++) {
		double wsum = 0, acc = 0, w;
		struct rt_tm tm;
		int b;

		/* momentum of this candle */
		for (int d = 0; d < MOM_NDELTA; d++) {
			long j = find(c, n, 0, c[i].minute - mom_delta_min[d]);

			if (j < 0)
				continue;
			wsum += mom_weight[d];
			acc += mom_weight[d] * (c[i].close / c[j].close - 1) * 100.0;
		}
		b = wsum > 0 ? (int)llround(acc / wsum * 100.0) : 0;
		rt_gmtime(c[i].minute * 60, &tm);
		w = newest - tm.year >= 4 ? 1 : 5 - (newest - tm.year);
		for (int t = 1; t <= FP_ROWS; t++) {
			long j = find(c, n, i, c[i].minute + t);
			double ch_pct;
			int k;

			if (j < 0)
				continue;
			ch_pct = (c[j].close / c[i].close - 1) * 100.0;
			/* the cell: the largest threshold the move reaches (0 = 0.00 %) */
			k = (int)floor(fabs(ch_pct) / 0.05 + 1e-6);   /* 0.1000 % reaches 0.10 % */
			if (k > NX - 1)
				k = NX - 1;
			for (int bb = 0; bb < 2; bb++) {
				int idx = bb ? NB - 1 : b - FP_BMIN;

				if (!bb && (b < FP_BMIN || b > FP_BMAX))
					continue;
				total[idx][t - 1] += w;
				if (ch_pct >= 0)
					up[idx][t - 1][k] += w;
				if (ch_pct <= 0)
					down[idx][t - 1][k] += w;
			}
		}
	}
	/* the baseline has every candle: a horizon it has none for is one the
	 * data cannot speak to (a row of zeros would say that the price never
	 * moves: a 100 % chance of staying) */
	{
		int first = 0, last = 0, none = 0;

		for (int t = FP_ROWS; t >= 1; t--)
			if (!(total[NB - 1][t - 1] > 0)) {
				none++;
				first = t;
				if (last == 0)
					last = t;
			}
		if (none > 0)
			die(1, "%s: %d of the %d horizons (%d to %d minutes among them) have no pair of candles that far "
			    "apart: the tables need an unbroken run of 61 minutes at least", name, none, FP_ROWS, first, last);
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die(1, "%s: cannot create:", dir);
	/* every table to NAME.tmp first, then the renames, then the removals:
	 * an error while writing leaves the directory as it was */
	for (int idx = NB - 1; idx >= 0; idx--) {
		char path[4096], tmp[4200];
		FILE *f;
		int filled = 0;

		if (!has_rows(total[idx]))
			continue;
		table_path(path, sizeof path, dir, idx);
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		if ((f = fopen(tmp, "w")) == NULL) {
			warnx_("%s: cannot create:", tmp);
			remove_tmps(dir, total, idx);
			return 1;
		}
		for (int k = 0; k < NX; k++)
			fprintf(f, ",>= +%.2f%%,<= -%.2f%%", k * 0.05, k * 0.05);
		fputc('\n', f);
		for (int t = 0; t < FP_ROWS; t++) {
			double cu = 0, cd = 0, cells[2][NX];
			int src = idx;

			/* a horizon without a candle in this bucket: the baseline's */
			if (!(total[idx][t] > 0)) {
				src = NB - 1;
				filled++;
			}
			/* P(move >= x_k) = weight of cells k and above */
			for (int k = NX - 1; k >= 0; k--) {
				cu += up[src][t][k];
				cd += down[src][t][k];
				cells[0][k] = 100.0 * cu / total[src][t];
				cells[1][k] = 100.0 * cd / total[src][t];
			}
			fprintf(f, "%dm TTC", t + 1);
			for (int k = 0; k < NX; k++)
				fprintf(f, ",%.2f,%.2f", cells[0][k], cells[1][k]);
			fputc('\n', f);
		}
		bool bad = fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f);

		if (fclose(f) != 0 || bad) {
			warnx_("%s: write error:", tmp);
			remove_tmps(dir, total, idx);
			return 1;
		}
		if (filled > 0)
			warnx_("%s: %d of %d horizons have no candle in this bucket: the baseline's rows", path, filled,
			    FP_ROWS);
	}
	for (int idx = NB - 1; idx >= 0; idx--) {
		char path[4096], tmp[4200];

		table_path(path, sizeof path, dir, idx);
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		if (has_rows(total[idx])) {
			if (rename(tmp, path) < 0)
				die(1, "%s: cannot rename to %s:", tmp, path);
		} else if (unlink(path) == 0)
			/* no candle in this bucket: a table of an earlier run must
			 * not stay beside this run's */
			warnx_("%s: removed: its bucket has no candle in %s", path, name);
		else if (errno != ENOENT)
			die(1, "%s: cannot remove a table of an earlier run:", path);
	}
	{
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0 || fsync(dfd) < 0)
			die(1, "%s: cannot sync the directory:", dir);
		(void)close(dfd);
	}
	free(c);
	return 0;
}
