/* test_misc.c: token bucket, configuration, PRNG. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "t.h"
#include "bucket.h"
#include "cfg.h"
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

int
main(void)
{
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
