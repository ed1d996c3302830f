/* tickfeed: the driver of bench/latency.sh.
 *
 * Feed mode writes N tick lines to standard output (into btc-tick -r -),
 * one write(2) each, and logs the real time (CLOCK_REALTIME, us) just
 * before each write.  With -o it reads order-send's order lines from that
 * file (a FIFO) and, with -w, waits after each tick for the outcome of the
 * order the tick caused (or -w ms), then GAP us, before the next tick: each
 * order is timed unqueued.  The log (-l) has
 *     t TICK_TS WRITE_US        a tick written (w instead of t: warm-up)
 *     o CLIENT_ORDER_ID TICK_TS an order-send "intent" line: its tick
 * and a summary goes to standard error.
 *
 * RTT mode (-R N -u BASE) times N keep-alive GETs of BASE/exchange/status
 * through recio's HTTP client (libcurl, the client order-send uses) and
 * prints "rtt USECONDS" lines: the loopback floor.
 *
 * Fsync mode (-F N -f FILE [-g GAP_US]) appends N lines of 400 bytes (an
 * order-send intent record's size) to FILE, each followed by fsync(2) as
 * order-send's journal does, idle (asleep) GAP_US between them as the
 * feed is between orders, and prints "fsync USECONDS" lines (the write
 * and its fsync): the disk's floor under an intent made durable before
 * its order is sent. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"
#include "http.h"
#include "json.h"
#include "msg.h"
#include "rtime.h"

static const char usage_text[] =
"usage: tickfeed [-n N] [-W N] [-t TS0_MS] [-s STEP_MS] [-p PRICE] [-g GAP_US]\n"
"                [-o ORDERS] [-w WAIT_MS] [-l LOG]\n"
"       tickfeed -R N -u BASE_URL\n"
"       tickfeed -F N -f FILE [-g GAP_US]\n";

static void __attribute__((noreturn))
usage(const char *why)
{
	die_usage(usage_text, why);
}

static int64_t
num(const char *s, int64_t lo, int64_t hi)
{
	int64_t v;

	if (cfg_parse_i64(s, lo, hi, &v) < 0)
		usage("bad number");
	return v;
}

static int
rtt(const char *base, int64_t n)
{
	struct http_opts o = { 0 };
	struct http_client *h;
	struct http_resp r = { 0 };

	o.no_limit = 1;
	o.retries = 0;
	if ((h = http_new(base, &o, NULL, NULL)) == NULL)
		return 1;
	for (int64_t i = 0; i < n; i++) {
		int64_t t0 = rt_mono_ns(), t1;

		if (http_request(h, "GET", "/exchange/status", NULL, 0, 0, &r) < 0 || r.status != 200)
			die(1, "GET %s/exchange/status: %s (HTTP %ld)", base, r.err, r.status);
		t1 = rt_mono_ns();
		printf("rtt %lld\n", (long long)((t1 - t0) / 1000));
	}
	http_resp_free(&r);
	http_free(h);
	return fflush(stdout) != 0;
}

static int
fsync_floor(const char *path, int64_t n, int64_t gap_us)
{
	char rec[400];
	int fd;

	memset(rec, 'x', sizeof rec - 1);
	rec[sizeof rec - 1] = '\n';
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		die(1, "%s: cannot open:", path);
	for (int64_t i = 0; i < n; i++) {
		int64_t t0 = rt_mono_ns(), t1;

		if (write_all(fd, rec, sizeof rec) < 0 || fsync(fd) < 0)
			die(1, "%s: cannot append:", path);
		t1 = rt_mono_ns();
		printf("fsync %lld\n", (long long)((t1 - t0) / 1000));
		usleep((useconds_t)gap_us);
	}
	if (close(fd) < 0)
		die(1, "%s: cannot close:", path);
	return fflush(stdout) != 0;
}

struct feed {
	int ofd;                        /* order lines in, or -1 */
	FILE *log;
	struct buf in;
	struct json j;
	int64_t cur_ts;                 /* the tick waited for */
	char cur_cid[128];              /* its order, once its intent is seen */
	bool done;                      /* its order's outcome is in */
	long intents, outcomes;
};

/* One order line from order-send. */
static void
on_order(struct feed *f, const char *line, size_t len)
{
	char st[16], cid[128];
	int64_t ts;

	if (json_parse(&f->j, line, len) < 0 || json_get_str(&f->j, 0, "status", st, sizeof st) < 0 ||
	    json_get_str(&f->j, 0, "client_order_id", cid, sizeof cid) < 0 || json_get_i64(&f->j, 0, "ts", &ts) < 0)
		return;
	if (strcmp(st, "intent") == 0) {
		f->intents++;
		fprintf(f->log, "o %s %lld\n", cid, (long long)ts);
		if (ts == f->cur_ts)
			snprintf(f->cur_cid, sizeof f->cur_cid, "%s", cid);
	} else if (strcmp(st, "sent") != 0) {   /* an outcome */
		f->outcomes++;
		if (f->cur_cid[0] && strcmp(cid, f->cur_cid) == 0)
			f->done = true;
	}
}

/* Read what order lines are there, waiting up to ms (-1: none to wait). */
static void
drain(struct feed *f, int64_t ms)
{
	struct pollfd p = { f->ofd, POLLIN, 0 };
	char chunk[65536];
	ssize_t n;
	char *nl;

	if (f->ofd < 0) {
		if (ms > 0)
			usleep((useconds_t)ms * 1000);
		return;
	}
	if (poll(&p, 1, (int)(ms < 0 ? 0 : ms)) <= 0)
		return;
	if ((n = read(f->ofd, chunk, sizeof chunk)) <= 0)
		return;
	buf_add(&f->in, chunk, (size_t)n);
	while ((nl = memchr(f->in.p, '\n', f->in.len)) != NULL) {
		size_t l = (size_t)(nl - f->in.p);

		*nl = '\0';
		on_order(f, f->in.p, l);
		memmove(f->in.p, nl + 1, f->in.len - l - 1);
		f->in.len -= l + 1;
	}
}

static void
wait_until(struct feed *f, int64_t due_mono_ns)
{
	int64_t left;

	while ((left = due_mono_ns - rt_mono_ns()) > 0) {
		if (left >= 1000000)
			drain(f, left / 1000000);
		else
			usleep((useconds_t)(left / 1000));
	}
}

int
main(int argc, char **argv)
{
	int64_t n = 10000, warm = 200, ts0 = 0, step = 250, gap_us = 2000, wait_ms = 0, rtt_n = 0, fsync_n = 0;
	double price = 100000;
	const char *orders = NULL, *logp = "/dev/null", *base = NULL, *fsync_path = NULL;
	struct feed f;
	struct buf b = { 0 };
	long missed = 0;
	int c;

	diag_init(argv[0]);
	memset(&f, 0, sizeof f);
	while ((c = getopt(argc, argv, "n:W:t:s:p:g:o:w:l:R:u:F:f:h")) != -1) {
		switch (c) {
		case 'n': n = num(optarg, 1, 10000000); break;
		case 'W': warm = num(optarg, 0, 10000000); break;
		case 't': ts0 = num(optarg, 1, INT64_MAX / 2); break;
		case 's': step = num(optarg, 1, 86400000); break;
		case 'p': price = strtod(optarg, NULL); break;
		case 'g': gap_us = num(optarg, 0, 10000000); break;
		case 'o': orders = optarg; break;
		case 'w': wait_ms = num(optarg, 0, 60000); break;
		case 'l': logp = optarg; break;
		case 'R': rtt_n = num(optarg, 1, 10000000); break;
		case 'u': base = optarg; break;
		case 'F': fsync_n = num(optarg, 1, 10000000); break;
		case 'f': fsync_path = optarg; break;
		case 'h': usage(NULL); break;
		default: usage(NULL);
		}
	}
	if (rtt_n)
		return base ? rtt(base, rtt_n) : (usage("-R needs -u"), 2);
	if (fsync_n)
		return fsync_path ? fsync_floor(fsync_path, fsync_n, gap_us) : (usage("-F needs -f"), 2);
	if (ts0 == 0 || !(price > 0))
		usage("-t TS0_MS is needed, and a positive -p");
	if ((f.log = fopen(logp, "w")) == NULL)
		die(1, "%s: cannot open:", logp);
	f.ofd = -1;
	if (orders && (f.ofd = open(orders, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		die(1, "%s: cannot open:", orders);
	if (wait_ms && f.ofd < 0)
		usage("-w needs -o");
	for (int64_t i = 0; i < warm + n; i++) {
		int64_t ts = ts0 + i * step, t_us, t_ns;

		/* a small alternating move: a new price every tick, no momentum spike */
		buf_reset(&b);
		buf_printf(&b, "{\"type\":\"tick\",\"ts\":%lld,\"src\":\"replay\",\"price\":%.2f}\n", (long long)ts,
		    price + (double)(i % 2) * 0.01);
		f.cur_ts = ts;
		f.cur_cid[0] = '\0';
		f.done = false;
		t_us = rt_now_us();
		t_ns = rt_mono_ns();
		if (write_all(1, b.p, b.len) < 0)
			die(1, "stdout:");
		fprintf(f.log, "%c %lld %lld\n", i < warm ? 'w' : 't', (long long)ts, (long long)t_us);
		if (wait_ms) {
			int64_t deadline = t_ns + wait_ms * 1000000;

			while (!f.done && rt_mono_ns() < deadline)
				drain(&f, (deadline - rt_mono_ns()) / 1000000 + 1);
			missed += !f.done;
		}
		wait_until(&f, rt_mono_ns() + gap_us * 1000);
	}
	/* the last outcomes */
	for (int64_t end = rt_mono_ns() + 2000000000LL; f.ofd >= 0 && rt_mono_ns() < end; )
		drain(&f, 100);
	fprintf(stderr, "tickfeed: %lld ticks (%lld warm-up), %ld intents, %ld outcomes, %ld ticks without an outcome in %lld ms\n",
	    (long long)warm + (long long)n, (long long)warm, f.intents, f.outcomes, missed, (long long)wait_ms);
	buf_free(&b);
	buf_free(&f.in);
	json_free(&f.j);
	if (fclose(f.log) != 0)
		die(1, "%s: write error:", logp);
	return 0;
}
