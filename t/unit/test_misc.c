/* test_misc.c: token bucket, configuration, PRNG, key set. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "t.h"
#include "bucket.h"
#include "cfg.h"
#include "keyset.h"
#include "rng.h"

#define ACC_MAX 512

static int seen;

static int
on_pair(const char *k, const char *v, void *arg)
{
	char *acc = arg;
	size_t n = strlen(acc);

	snprintf(acc + n, ACC_MAX - n, "%s=%s;", k, v);
	seen++;
	return 0;
}

/* keyset: what was met at the last good pass stays; the rest goes when
 * full; grows rather than forget what may come back */
static void
keyset_checks(void)
{
	struct keyset ks;
	char k[32];
	bool ok = true;

	keyset_init(&ks, 8);
	/* pass 1: keys a0..a5; pass 2 (the last good one) meets a0..a2 again
	 * and adds b0, b1 */
	for (int i = 0; i < 6; i++) {
		snprintf(k, sizeof k, "a%d", i);
		ok &= keyset_add(&ks, k, 1, 0);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(k, sizeof k, "a%d", i);
		ok &= !keyset_add(&ks, k, 2, 1);
	}
	ok &= keyset_add(&ks, "b0", 2, 1) && keyset_add(&ks, "b1", 2, 1);
	CHECK(ok && ks.n == 8, "new once, held after (%zu)", ks.n);
	/* pass 3, full: a3..a5 (last met at 1, before the last good pass 2)
	 * go; a0..a2, b0, b1 stay */
	CHECK(keyset_add(&ks, "c0", 3, 2) && ks.n == 6 && !keyset_has(&ks, "a3") && !keyset_has(&ks, "a5") &&
	    keyset_has(&ks, "a0") && keyset_has(&ks, "a2") && keyset_has(&ks, "b1") && keyset_has(&ks, "c0"),
	    "full: what the last good pass did not meet goes (%zu)", ks.n);
	/* sorted still: every key found, none twice */
	ok = true;
	for (int i = 0; i < 3; i++) {
		snprintf(k, sizeof k, "a%d", i);
		ok &= !keyset_add(&ks, k, 3, 2);
	}
	CHECK(ok && !keyset_add(&ks, "b0", 3, 2) && !keyset_add(&ks, "c0", 3, 2), "the rest still held");
	/* everything met since the last good pass (2): grows past max, forgets
	 * nothing */
	for (int i = 0; i < 20; i++) {
		snprintf(k, sizeof k, "d%02d", i);
		keyset_add(&ks, k, 3, 2);
	}
	ok = ks.over > 0 && ks.n == 26;
	for (int i = 0; i < 20; i++) {
		snprintf(k, sizeof k, "d%02d", i);
		ok &= keyset_has(&ks, k);
	}
	CHECK(ok && keyset_has(&ks, "a0") && keyset_has(&ks, "c0"), "grown past max, nothing forgotten (%zu)", ks.n);
	keyset_free(&ks);
}

int
main(void)
{
	keyset_checks();
	struct tbucket b;
	struct rng r1, r2;
	char dir[] = "/tmp/test_misc.XXXXXX", path[128], acc[ACC_MAX] = "";
	int64_t v;
	int fd;
	FILE *f;

	/* Kalshi Basic reads: 200 tokens, 200/s, 10 per request */
	tb_init(&b, 200, 200, 1000);
	for (int i = 0; i < 20; i++)
		CHECK(tb_take(&b, 10, 1000) == 0, "request %d of the burst", i);
	CHECK(tb_take(&b, 10, 1000) == 50, "the 21st waits 50 ms");
	CHECK(tb_take(&b, 10, 1049) == 1, "1 ms to go");
	CHECK(tb_take(&b, 10, 1050) == 0, "then it goes");
	CHECK(tb_take(&b, 10, 100000) == 0, "refilled");
	for (int i = 0; i < 19; i++)
		tb_take(&b, 10, 100000);
	CHECK(tb_take(&b, 10, 100000) > 0, "but never beyond the burst");
	tb_init(&b, 3, 10, 0);          /* a rate that does not divide 1000 */
	for (int i = 0; i < 10; i++)
		tb_take(&b, 1, 0);
	CHECK(tb_take(&b, 1, 333) == 1 && tb_take(&b, 1, 334) == 0, "3/s: one token after 334 ms");

	/* integers */
	CHECK(cfg_parse_i64("42", 0, 100, &v) == 0 && v == 42, "parse");
	CHECK(cfg_parse_i64("101", 0, 100, &v) == -1 && cfg_parse_i64("4x", 0, 100, &v) == -1 &&
	    cfg_parse_i64("", 0, 100, &v) == -1 && cfg_parse_i64("-1", 0, 100, &v) == -1, "refusals");
	CHECK(cfg_parse_i64("-5", -10, 10, &v) == 0 && v == -5, "negative allowed when min < 0");
	setenv("T_MISC", "12", 1);
	CHECK(cfg_env_i64("T_MISC", 5, 0, 100, &v) == 0 && v == 12, "env");
	unsetenv("T_MISC");
	CHECK(cfg_env_i64("T_MISC", 5, 0, 100, &v) == 0 && v == 5, "env default");
	setenv("T_MISC", "many", 1);
	CHECK(cfg_env_i64("T_MISC", 5, 0, 100, &v) == -1, "env malformed is an error");

	/* files */
	CHECK(mkdtemp(dir) != NULL, "tmpdir");
	snprintf(path, sizeof path, "%s/conf", dir);
	f = fopen(path, "w");
	fputs("# comment\n\nA=1\nexport B = two words \nC=\"quoted # not a comment\"\nD='x'\n", f);
	CHECK(fclose(f) == 0, "write %s", path);
	CHECK(cfg_read_file(path, on_pair, acc) == 0 && seen == 4, "read %d pairs", seen);
	CHECK(strcmp(acc, "A=1;B=two words;C=quoted # not a comment;D=x;") == 0, "pairs: %s", acc);
	f = fopen(path, "w");
	fputs("A=1\nno equals sign\n", f);
	CHECK(fclose(f) == 0, "write %s", path);
	CHECK(cfg_read_file(path, on_pair, acc) == -1, "malformed line refused");
	/* a configuration others can write is refused before it is read */
	f = fopen(path, "w");
	fputs("A=1\n", f);
	CHECK(fclose(f) == 0, "write %s", path);
	seen = 0;
	chmod(path, 0620);
	CHECK(cfg_read_file(path, on_pair, acc) == -1 && seen == 0, "group-writable refused");
	chmod(path, 0602);
	CHECK(cfg_read_file(path, on_pair, acc) == -1 && seen == 0, "world-writable refused");
	chmod(path, 0644);
	CHECK(cfg_read_file(path, on_pair, acc) == 0 && seen == 1, "0644 read");
	if (geteuid() == 0) {   /* another owner: only root can make one */
		CHECK(chown(path, 65534, 65534) == 0, "chown");
		seen = 0;
		CHECK(cfg_read_file(path, on_pair, acc) == -1 && seen == 0, "another user's file refused");
		CHECK(chown(path, 0, 0) == 0, "chown back");
	}

	/* secrets: 0600 yes; 0644, a symlink, a directory no */
	chmod(path, 0600);
	CHECK((fd = cfg_open_secret(path)) >= 0, "0600 accepted");
	if (fd >= 0)
		close(fd);
	chmod(path, 0644);
	CHECK(cfg_open_secret(path) == -1, "0644 refused");
	chmod(path, 0600);
	snprintf(acc, sizeof acc, "%s/link", dir);
	CHECK(symlink(path, acc) == 0 && cfg_open_secret(acc) == -1, "a symlink refused");
	CHECK(cfg_open_secret(dir) == -1, "a directory refused");
	unlink(acc);
	unlink(path);
	rmdir(dir);

	/* PRNG: the same seed gives the same sequence; bounds hold */
	rng_seed(&r1, 42);
	rng_seed(&r2, 42);
	for (int i = 0; i < 1000; i++)
		CHECK(rng_u64(&r1) == rng_u64(&r2), "same sequence at %d", i);
	rng_seed(&r1, 42);
	CHECK(rng_u64(&r1) != (rng_seed(&r2, 43), rng_u64(&r2)), "different seeds differ");
	for (int i = 0; i < 10000; i++) {
		double u = rng_unit(&r1);

		CHECK(rng_below(&r1, 7) < 7 && u >= 0 && u < 1, "bounds");
	}
	return T_DONE();
}
