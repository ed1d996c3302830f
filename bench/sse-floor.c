/* sse-floor: the least an SSE server can do, for bench/http.sh.
 *
 *   sse-floor -f LOG [-T THREADS] [-P PORT_FILE]
 *
 * Listens on a free loopback port (written to PORT_FILE), answers every
 * connection's request (whatever it is, once its headers are in) with a
 * chunked text/event-stream, follows LOG (inotify) and sends each new line
 * to every stream as one chunk "data: LINE\n\n", one send() per stream, in
 * the order the streams came.  THREADS (1) threads share the sending, the
 * streams split among them.  No parsing, no session, no ring, no
 * back-pressure (a stream whose socket is full is dropped): it is the
 * kernel's cost of a fan-out over loopback TCP, measured with the same
 * clients (sse-clients) next to health-serve's /events in the same run.
 * Runs until killed. */
#define _GNU_SOURCE     /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXCL 65536

struct st {
	int fd;
	char hdr[4];            /* the last 4 bytes of the request */
	bool streaming;
};

static struct st *cl[MAXCL];
static int ncl;
static int nthreads = 1;

/* the chunk being sent, and who sends it */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
static char *chunk;
static size_t chunk_len;
static long gen;                /* chunks so far */
static int busy;                /* threads still sending the current chunk */

static void
die(const char *what)
{
	fprintf(stderr, "sse-floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
send_share(int t)
{
	for (int i = t; i < ncl; i += nthreads) {
		struct st *s = cl[i];

		if (s->fd < 0 || !s->streaming)
			continue;
		if (send(s->fd, chunk, chunk_len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)chunk_len) {
			close(s->fd);
			s->fd = -1;
		}
	}
}

static int thread_no[64];

static void *
sender(void *arg)
{
	int t = *(const int *)arg;
	long seen = 0;

	for (;;) {
		pthread_mutex_lock(&mu);
		while (gen == seen)
			pthread_cond_wait(&go, &mu);
		seen = gen;
		pthread_mutex_unlock(&mu);
		send_share(t);
		pthread_mutex_lock(&mu);
		if (--busy == 0)
			pthread_cond_signal(&done);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

/* one line to every stream: thread 0 (this one) takes its share, the
 * others theirs */
static void
fan_out(const char *line, size_t n)
{
	char *c = malloc(n + 32);
	int k;

	if (c == NULL)
		die("malloc");
	k = snprintf(c, 32, "%zx\r\ndata: ", n + 8);
	memcpy(c + k, line, n);
	snprintf(c + k + n, 5, "\n\n\r\n");
	pthread_mutex_lock(&mu);
	chunk = c;
	chunk_len = (size_t)k + n + 4;
	busy = nthreads - 1;
	gen++;
	pthread_cond_broadcast(&go);
	pthread_mutex_unlock(&mu);
	send_share(0);
	pthread_mutex_lock(&mu);
	while (busy > 0)
		pthread_cond_wait(&done, &mu);
	pthread_mutex_unlock(&mu);
	free(c);
}

int
main(int argc, char **argv)
{
	const char *logpath = NULL, *port_file = NULL;
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	    "Cache-Control: no-store\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct sockaddr_in sin = { 0 };
	socklen_t sl = sizeof sin;
	struct epoll_event ev, evs[256];
	struct rlimit rl;
	char *pend = NULL;
	size_t npend = 0;
	int ch, lfd, ep, in, logfd, one = 1;
	FILE *f;

	while ((ch = getopt(argc, argv, "f:T:P:")) != -1) {
		switch (ch) {
		case 'f': logpath = optarg; break;
		case 'T': {
			char *e;

			nthreads = (int)strtol(optarg, &e, 10);
			if (*e || e == optarg)
				nthreads = 0;
			break;
		}
		case 'P': port_file = optarg; break;
		default:
			fputs("usage: sse-floor -f LOG [-T THREADS] [-P PORT_FILE]\n", stderr);
			return 2;
		}
	}
	if (!logpath || nthreads < 1 || nthreads > 64) {
		fputs("usage: sse-floor -f LOG [-T THREADS 1-64] [-P PORT_FILE]\n", stderr);
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((logfd = open(logpath, O_RDONLY | O_CLOEXEC)) < 0)
		die(logpath);
	if (lseek(logfd, 0, SEEK_END) < 0)
		die("lseek");
	if ((in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 || inotify_add_watch(in, logpath, IN_MODIFY) < 0)
		die("inotify");
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(lfd, 4096) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) < 0)
		die("listen");
	if (port_file) {
		if (!(f = fopen(port_file, "w")) || fprintf(f, "%d\n", ntohs(sin.sin_port)) < 0 || fclose(f) != 0)
			die(port_file);
	}
	for (int t = 1; t < nthreads; t++) {
		pthread_t th;

		thread_no[t] = t;
		if (pthread_create(&th, NULL, sender, &thread_no[t]) != 0)
			die("pthread_create");
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &in;
	epoll_ctl(ep, EPOLL_CTL_ADD, in, &ev);
	for (;;) {
		int k = epoll_wait(ep, evs, 256, -1);

		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		for (int e = 0; e < k; e++) {
			void *p = evs[e].data.ptr;
			char b[65536];
			ssize_t r;

			if (p == NULL) {                /* new connections */
				int fd;

				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					struct st *s = calloc(1, sizeof *s);

					if (s == NULL || ncl == MAXCL)
						die("too many streams");
					s->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					cl[ncl++] = s;
					ev.events = EPOLLIN;
					ev.data.ptr = s;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
			} else if (p == &in) {          /* the log grew: its whole lines */
				while (read(in, b, sizeof b) > 0)
					;
				while ((r = read(logfd, b, sizeof b)) > 0) {
					char *np = realloc(pend, npend + (size_t)r), *nl, *q;

					if (np == NULL)
						die("realloc");
					pend = np;
					memcpy(pend + npend, b, (size_t)r);
					npend += (size_t)r;
					for (q = pend; (nl = memchr(q, '\n', npend - (size_t)(q - pend))); q = nl + 1)
						fan_out(q, (size_t)(nl - q));
					npend -= (size_t)(q - pend);
					memmove(pend, q, npend);
				}
			} else {                        /* a request (or its end) */
				struct st *s = p;

				r = read(s->fd, b, sizeof b);
				if (r <= 0) {
					epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
					close(s->fd);
					s->fd = -1;
					continue;
				}
				for (ssize_t i = 0; i < r && !s->streaming; i++) {
					memmove(s->hdr, s->hdr + 1, 3);
					s->hdr[3] = b[i];
					if (memcmp(s->hdr, "\r\n\r\n", 4) == 0) {
						s->streaming = true;
						if (send(s->fd, head, sizeof head - 1, MSG_NOSIGNAL) != (ssize_t)sizeof head - 1)
							die("send");
					}
				}
			}
		}
	}
}
