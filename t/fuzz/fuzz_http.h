/* fuzz_http.h: what the HTTP server targets share (fuzz_health_serve,
 * fuzz_kalshi_sim).  The tool's own main runs in a thread, unchanged, on a
 * loopback port; each input becomes one request on a fresh connection, and
 * the answer is read to the end.  Coverage counters are process-wide, so
 * the server thread's paths count.
 *
 * An input is either raw bytes sent as they are (first byte even), or
 * (first byte odd) a request in a compact form the target completes with
 * what the fuzzer cannot forge (a session, a signature) and a correct
 * Content-Length:
 *
 *     METHOD TARGET\n
 *     Header: value\n      (any number)
 *     \n
 *     body
 */
#ifndef RECIO_FUZZ_HTTP_H
#define RECIO_FUZZ_HTTP_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "rtime.h"

struct fuzz_req {
	const char *method, *target, *head, *body;
	size_t nmethod, ntarget, nhead, nbody;
};

/* Splits a compact request (without its first byte).  Returns -1 when the
 * first line has no space. */
static inline int
fuzz_req_split(const char *p, size_t n, struct fuzz_req *r)
{
	const char *nl = memchr(p, '\n', n), *sp, *e = p + n, *blank;

	if (!nl)
		nl = e;
	if (!(sp = memchr(p, ' ', (size_t)(nl - p))))
		return -1;
	r->method = p;
	r->nmethod = (size_t)(sp - p);
	r->target = sp + 1;
	r->ntarget = (size_t)(nl - sp - 1);
	r->head = nl < e ? nl + 1 : e;
	blank = NULL;
	for (const char *q = r->head; q < e; q++)
		if (*q == '\n' && (q == r->head || q[-1] == '\n')) {
			blank = q;
			break;
		}
	r->nhead = (size_t)((blank ? blank : e) - r->head);
	r->body = blank ? blank + 1 : e;
	r->nbody = (size_t)(e - r->body);
	return 0;
}

/* The request line, the fuzzer's headers, extra (complete "Name: v\r\n"
 * lines, may be NULL), Content-Length, and the body, into out. */
static inline void
fuzz_req_build(const struct fuzz_req *r, const char *extra, struct buf *out)
{
	buf_reset(out);
	buf_add(out, r->method, r->nmethod);
	buf_putc(out, ' ');
	buf_add(out, r->target, r->ntarget);
	buf_puts(out, " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
	for (size_t i = 0; i < r->nhead;) {
		const char *q = memchr(r->head + i, '\n', r->nhead - i);
		size_t l = q ? (size_t)(q - r->head - i) : r->nhead - i;

		buf_add(out, r->head + i, l);
		buf_puts(out, "\r\n");
		i += l + 1;
	}
	if (extra)
		buf_puts(out, extra);
	buf_printf(out, "Content-Length: %zu\r\n\r\n", r->nbody);
	buf_add(out, r->body, r->nbody);
}

/* Runs fn(arg) in a detached thread and waits (up to 60 s) for the port it
 * writes to port_file.  Returns the port; aborts when it never comes. */
static inline int
fuzz_server_start(void *(*fn)(void *), void *arg, const char *port_file)
{
	pthread_t t;
	int port = 0;

	unlink(port_file);
	if (pthread_create(&t, NULL, fn, arg) != 0 || pthread_detach(t) != 0)
		abort();
	for (int i = 0; i < 6000 && port <= 0; i++) {
		FILE *f = fopen(port_file, "r");

		if (f) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (port <= 0)
			usleep(10000);
	}
	if (port <= 0) {
		fprintf(stderr, "fuzz: the server never wrote %s\n", port_file);
		abort();
	}
	return port;
}

/* The source address of fuzz_exchange's connections (host order), 0 for
 * the kernel's choice (127.0.0.1): a harness's own requests can come from
 * another address than the fuzzer's, whose per-address limits they then
 * do not share. */
static uint32_t fuzz_src_addr;

/* One request on a new loopback connection; the answer (what arrives
 * before the server closes, at most 300 ms after its first byte: event
 * streams never end) into resp. */
static inline void
fuzz_exchange(int port, const void *req, size_t n, struct buf *resp)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t off = 0;
	char chunk[4096];

	int64_t t0 = rt_mono_ms();

	buf_reset(resp);
	if (fd < 0)
		abort();
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (fuzz_src_addr) {
		struct sockaddr_in src;

		memset(&src, 0, sizeof src);
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(fuzz_src_addr);
		if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
			fprintf(stderr, "fuzz: bind: %s\n", strerror(errno));
			abort();
		}
	}
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		fprintf(stderr, "fuzz: connect: %s (did the server die?)\n", strerror(errno));
		abort();
	}
	while (off < n) {
		ssize_t w = send(fd, (const char *)req + off, n - off, MSG_NOSIGNAL);

		if (w <= 0)
			break;  /* the server closed early: an answer may still be there */
		off += (size_t)w;
	}
	/* the end of the request a moment later: an epoll server that has read
	 * the bytes sees it as a new event (libmicrohttpd, edge-triggered, does
	 * not notice an end that came with them, and waits out its timeout) */
	{
		struct pollfd p = { fd, POLLIN, 0 };

		poll(&p, 1, 20);
	}
	shutdown(fd, SHUT_WR);
	for (int64_t end = 0;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;
		int64_t left = end ? end - rt_mono_ms() : 5000;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		if (!end)
			end = rt_mono_ms() + 300;  /* a stream: what comes in 300 ms */
		if ((r = recv(fd, chunk, sizeof chunk, 0)) <= 0)
			break;
		buf_add(resp, chunk, (size_t)r);
	}
	close(fd);
	if (getenv("FUZZ_SHOW"))     /* to see what the seeds reach */
		fprintf(stderr, "fuzz: %lld ms: %.*s\n", (long long)(rt_mono_ms() - t0), (int)(strcspn(resp->p ? resp->p : "", "\r\n")), resp->p ? resp->p : "");
}

#endif
