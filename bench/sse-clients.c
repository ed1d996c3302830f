/* sse-clients: SSE delivery latency for bench/http.sh.
 *
 *   sse-clients -p PORT -f LOG [-n CLIENTS] [-a PER_ADDR] [-e EVENTS]
 *               [-r PER_SEC] [-c COOKIE] [-t SECONDS]
 *
 * Opens CLIENTS (1000) connections to http://127.0.0.1:PORT/events with the
 * session cookie COOKIE ("__Host-recio_session=..."), PER_ADDR (50) from each
 * source address 127.0.0.1, 127.0.0.2, ... (health-serve takes at most 64
 * from one address).  When every stream has its headers it appends EVENTS
 * (200) tick lines to LOG, PER_SEC (20) a second, each carrying the wall
 * clock at its write in "sent_us"; every stream's copy of every line is
 * timed from that write twice: to its arrival in the client's socket
 * (the kernel's receive stamp, SO_TIMESTAMPING: what the server
 * delivered, and when) and to its read() here.  The reads are one epoll
 * loop, so the line writer and the readers share a clock and a core, and
 * the 1,000th stream is read only after 999 others: a read's delay holds
 * this process's own queue of reads, which 1,000 clients on their own
 * machines would not have.  Gives up SECONDS (30) after the first write.
 * Prints one JSON object: clients, events, expected, delivered, the
 * clients that got every event in order, the delay to arrival (arrive_*)
 * and to the read (p50, p99 and max, in milliseconds), how many events
 * had a kernel stamp (stamped; one without is counted at its read), and
 * per line the first stream's delay to its read (how soon the server saw
 * the line) and the fan-out (the last stream's read less the first's),
 * p50 and max. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum { HDR, CSIZE, CDATA, CCRLF };

struct cl {
	int fd;
	int state;              /* HDR: the response's headers; then chunked body */
	size_t want;            /* bytes left in the chunk */
	char hdr[4096];
	size_t hlen;
	char line[8192];        /* the SSE line being read */
	size_t llen;
	long got;               /* events with sent_us received */
	long long last_seq;     /* the last one's seq: they come in order */
	bool disorder;
};

static double *lat;             /* ms, one per event received */
static double *arr;             /* ms, the same from the kernel's arrival stamp */
static size_t nlat, maxlat, nstamped;
static double *first, *last;    /* ms, per line: its first and last delivery */
static long nlines;

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long
num(const char *s, long lo, long hi, const char *what)
{
	char *e;
	long v;

	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || *e || e == s || v < lo || v > hi) {
		fprintf(stderr, "sse-clients: %s: a number from %ld to %ld\n", what, lo, hi);
		exit(2);
	}
	return v;
}

static void
on_line(struct cl *c, int64_t t, int64_t ta)
{
	const char *p, *q;
	char *e;
	long long sent, seq;

	if (c->llen < 6 || memcmp(c->line, "data: ", 6) != 0)
		return;
	c->line[c->llen] = '\0';
	if (!(p = strstr(c->line, "\"sent_us\":")) || !(q = strstr(c->line, "\"seq\":")))
		return;
	sent = strtoll(p + 10, &e, 10);
	seq = strtoll(q + 6, &e, 10);
	if (seq != c->last_seq + 1)
		c->disorder = true;
	c->last_seq = seq;
	c->got++;
	if (nlat == maxlat) {
		double *nl;

		maxlat = maxlat ? maxlat * 2 : 65536;
		if (!(nl = realloc(lat, maxlat * sizeof *lat)))
			die("realloc");
		lat = nl;
		if (!(nl = realloc(arr, maxlat * sizeof *arr)))
			die("realloc");
		arr = nl;
	}
	lat[nlat] = (double)(t - sent) / 1000.0;
	arr[nlat] = (double)((ta ? ta : t) - sent) / 1000.0;
	nstamped += ta != 0;
	if (seq >= 1 && seq <= nlines) {
		if (first[seq - 1] < 0 || lat[nlat] < first[seq - 1])
			first[seq - 1] = lat[nlat];
		if (lat[nlat] > last[seq - 1])
			last[seq - 1] = lat[nlat];
	}
	nlat++;
}

/* the body's bytes, de-chunked, into SSE lines */
static void
body(struct cl *c, const char *p, size_t n, int64_t t, int64_t ta)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			on_line(c, t, ta);
			c->llen = 0;
		} else if (c->llen < sizeof c->line - 1)
			c->line[c->llen++] = p[i];
	}
}

/* 0: more to come; -1: the stream is broken or ended */
static int
feed(struct cl *c, const char *p, size_t n, int64_t t, int64_t ta)
{
	size_t i = 0;

	while (i < n) {
		switch (c->state) {
		case HDR:
			if (c->hlen == sizeof c->hdr - 1)
				return -1;
			c->hdr[c->hlen++] = p[i++];
			c->hdr[c->hlen] = '\0';
			if (c->hlen >= 4 && memcmp(c->hdr + c->hlen - 4, "\r\n\r\n", 4) == 0) {
				if (strncmp(c->hdr, "HTTP/1.1 200", 12) != 0 || !strstr(c->hdr, "chunked")) {
					fprintf(stderr, "sse-clients: /events answered: %.*s\n",
					    (int)strcspn(c->hdr, "\r"), c->hdr);
					return -1;
				}
				c->state = CSIZE;
				c->want = 0;
			}
			break;
		case CSIZE: {
			char ch = p[i++];

			if (ch == '\n') {
				if (c->want == 0)
					return -1;      /* the last chunk: the stream ended */
				c->state = CDATA;
			} else if (ch >= '0' && ch <= '9')
				c->want = c->want * 16 + (size_t)(ch - '0');
			else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
				c->want = c->want * 16 + (size_t)((ch | 0x20) - 'a' + 10);
			else if (ch != '\r')
				return -1;
			break;
		}
		case CDATA: {
			size_t k = n - i < c->want ? n - i : c->want;

			body(c, p + i, k, t, ta);
			i += k;
			if ((c->want -= k) == 0)
				c->state = CCRLF;
			break;
		}
		default:        /* CCRLF */
			if (p[i++] == '\n') {
				c->state = CSIZE;
				c->want = 0;
			}
		}
	}
	return 0;
}

/* read(2) that also gives the kernel's time of arrival of the last
 * segment read (SO_TIMESTAMPING, software receive stamp) in *ta, in
 * microseconds of CLOCK_REALTIME; *ta is 0 when there is none */
static ssize_t
rd(int fd, char *buf, size_t cap, int64_t *ta)
{
	union {
		char b[CMSG_SPACE(sizeof(struct scm_timestamping))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, cap };
	struct msghdr mh = { 0 };
	ssize_t r;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof ctl.b;
	*ta = 0;
	if ((r = recvmsg(fd, &mh, 0)) <= 0)
		return r;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPING) {
			struct scm_timestamping st;

			memcpy(&st, CMSG_DATA(cm), sizeof st);
			if (st.ts[0].tv_sec)
				*ta = (int64_t)st.ts[0].tv_sec * 1000000 + st.ts[0].tv_nsec / 1000;
		}
	return r;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* the p quantile of a sorted a[n] */
static double
pct(const double *a, size_t n, double p)
{
	return n ? a[(size_t)(p * (double)(n - 1) + 0.5)] : 0.0;
}

int
main(int argc, char **argv)
{
	long port = 0, n = 1000, per = 50, events = 200, rate = 20, tmo = 30;
	const char *cookie = "", *logpath = NULL;
	struct cl *cls;
	struct epoll_event ev, evs[256];
	struct rlimit rl;
	int ep, tfd, lfd, ch, ready = 0, open_ = 0;
	int tsflags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
	long written = 0, complete = 0;
	int64_t t_end = 0;
	char req[4096];
	int rlen;

	while ((ch = getopt(argc, argv, "p:f:n:a:e:r:c:t:")) != -1) {
		switch (ch) {
		case 'p': port = num(optarg, 1, 65535, "-p"); break;
		case 'f': logpath = optarg; break;
		case 'n': n = num(optarg, 1, 60000, "-n"); break;
		case 'a': per = num(optarg, 1, 60000, "-a"); break;
		case 'e': events = num(optarg, 1, 1000000, "-e"); break;
		case 'r': rate = num(optarg, 1, 100000, "-r"); break;
		case 'c': cookie = optarg; break;
		case 't': tmo = num(optarg, 1, 3600, "-t"); break;
		default:
			fputs("usage: sse-clients -p PORT -f LOG [-n CLIENTS] [-a PER_ADDR] [-e EVENTS] [-r PER_SEC] "
			    "[-c COOKIE] [-t SECONDS]\n", stderr);
			return 2;
		}
	}
	if (!port || !logpath) {
		fputs("sse-clients: -p PORT and -f LOG are needed\n", stderr);
		return 2;
	}
	if ((n + per - 1) / per > 254) {
		fputs("sse-clients: more than 254 source addresses: raise -a\n", stderr);
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 16) {
		rl.rlim_cur = (rlim_t)n + 16 < rl.rlim_max ? (rlim_t)n + 16 : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			die("setrlimit");
	}
	if ((lfd = open(logpath, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0)
		die(logpath);
	rlen = snprintf(req, sizeof req, "GET /events HTTP/1.1\r\nHost: 127.0.0.1:%ld\r\nAccept: text/event-stream\r\n"
	    "%s%s%s\r\n", port, *cookie ? "Cookie: " : "", cookie, *cookie ? "\r\n" : "");
	if (rlen < 0 || rlen >= (int)sizeof req)
		return 2;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	if (!(cls = calloc((size_t)n, sizeof *cls)) || !(first = calloc((size_t)events, sizeof *first)) ||
	    !(last = calloc((size_t)events, sizeof *last)))
		die("calloc");
	nlines = events;
	for (long i = 0; i < events; i++)
		first[i] = -1;
	for (long i = 0; i < n; i++) {
		struct sockaddr_in src = { 0 }, dst = { 0 };
		struct cl *c = &cls[i];

		src.sin_family = dst.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(i / per));
		dst.sin_addr.s_addr = htonl(0x7f000001u);
		dst.sin_port = htons((uint16_t)port);
		if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			die("socket");
		if (bind(c->fd, (struct sockaddr *)&src, sizeof src) < 0)
			die("bind");
		/* blocking connect and write: loopback, and the request is small */
		if (connect(c->fd, (struct sockaddr *)&dst, sizeof dst) < 0)
			die("connect");
		if (write(c->fd, req, (size_t)rlen) != rlen)
			die("write");
		if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0)
			die("fcntl");
		if (setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPING, &tsflags, sizeof tsflags) < 0)
			die("setsockopt SO_TIMESTAMPING");
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
			die("epoll_ctl");
		c->last_seq = 0;
		open_++;
	}
	if ((tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
		die("timerfd_create");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) < 0)
		die("epoll_ctl");
	for (;;) {
		int k = epoll_wait(ep, evs, 256, 1000);

		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		for (int e = 0; e < k; e++) {
			struct cl *c = evs[e].data.ptr;
			char buf[65536];
			int64_t ta;
			ssize_t r;

			if (c == NULL) {        /* the writer's timer */
				uint64_t ticks;
				char line[256];
				int64_t t;
				int ll;

				if (read(tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
					die("read timerfd");
				if (written >= events)
					continue;
				t = now_us();
				written++;
				ll = snprintf(line, sizeof line, "{\"type\":\"tick\",\"ts\":%lld,\"src\":\"bench\","
				    "\"price\":%ld.00,\"mom_bp\":0,\"seq\":%ld,\"sent_us\":%lld}\n",
				    (long long)(t / 1000), 90000 + written, written, (long long)t);
				if (write(lfd, line, (size_t)ll) != ll)
					die("write log");
				if (written == events) {
					struct itimerspec its = { { 0, 0 }, { 0, 0 } };

					timerfd_settime(tfd, 0, &its, NULL);
					t_end = now_us() + tmo * 1000000;
				}
				continue;
			}
			/* one read a wakeup: epoll is level-triggered, so what a
			 * full buffer leaves is reported again, and a read until
			 * EAGAIN would double the syscalls of every delivery */
			while ((r = rd(c->fd, buf, sizeof buf, &ta)) > 0) {
				int st = c->state;
				int64_t t = now_us();

				if (feed(c, buf, (size_t)r, t, ta) < 0) {
					r = 0;
					break;
				}
				if (st == HDR && c->state != HDR && ++ready == n) {
					/* every stream is open: the writer starts */
					struct itimerspec its;

					its.it_interval.tv_sec = rate == 1 ? 1 : 0;
					its.it_interval.tv_nsec = rate == 1 ? 0 : 1000000000L / rate;
					its.it_value.tv_sec = 0;
					its.it_value.tv_nsec = 200000000L;      /* let the server settle */
					if (timerfd_settime(tfd, 0, &its, NULL) < 0)
						die("timerfd_settime");
					fprintf(stderr, "sse-clients: %ld streams open; writing %ld lines, %ld a second\n",
					    n, events, rate);
				}
				if ((size_t)r < sizeof buf)
					break;
			}
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				c->fd = -1;
				if (--open_ == 0)
					break;
			}
		}
		if (open_ == 0 || (t_end && now_us() > t_end))
			break;
		if (written == events) {
			long done = 0;

			for (long i = 0; i < n; i++)
				done += cls[i].got >= events;
			if (done == n)
				break;
		}
		if (ready < n && written == 0 && k == 0) {
			static int waited;

			if (++waited > tmo) {
				fprintf(stderr, "sse-clients: only %d of %ld streams opened\n", ready, n);
				return 1;
			}
		}
	}
	for (long i = 0; i < n; i++)
		complete += cls[i].got == events && !cls[i].disorder;
	qsort(lat, nlat, sizeof *lat, cmp);
	qsort(arr, nlat, sizeof *arr, cmp);
	/* per line: the first stream's delay (the server noticing the line)
	 * and the last one's less the first (its fan-out to every stream) */
	for (long i = 0; i < events; i++)
		last[i] -= first[i];
	qsort(first, (size_t)events, sizeof *first, cmp);
	qsort(last, (size_t)events, sizeof *last, cmp);
	printf("{\"clients\":%ld,\"per_addr\":%ld,\"events\":%ld,\"expected\":%ld,\"delivered\":%zu,"
	    "\"complete_clients\":%ld,\"stamped\":%zu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
	    "\"arrive_p50_ms\":%.3f,\"arrive_p99_ms\":%.3f,\"arrive_max_ms\":%.3f,"
	    "\"first_p50_ms\":%.3f,\"first_max_ms\":%.3f,\"fanout_p50_ms\":%.3f,\"fanout_max_ms\":%.3f}\n",
	    n, per, events, n * events, nlat, complete, nstamped, pct(lat, nlat, 0.5), pct(lat, nlat, 0.99),
	    nlat ? lat[nlat - 1] : 0.0, pct(arr, nlat, 0.5), pct(arr, nlat, 0.99), nlat ? arr[nlat - 1] : 0.0,
	    pct(first, (size_t)events, 0.5), first[events - 1],
	    pct(last, (size_t)events, 0.5), last[events - 1]);
	return 0;
}
