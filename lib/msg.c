/* msg.c: see msg.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "diag.h"
#include "json.h"
#include "msg.h"

#define TYPE_MAX 24

struct dest {
	char *name;                     /* for errors */
	int fd;
	char *types;                    /* ",tick,market," or NULL: every type */
};

static struct dest *dests;
static int ndests = -1;                 /* -1: RECIO_OUT not read yet */
static char cur_type[TYPE_MAX + 3];     /* ",type," of the line being written */
static volatile sig_atomic_t *stop_flag;        /* msg_stop_flag */

int
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

void
msg_stop_flag(volatile sig_atomic_t *flag)
{
	stop_flag = flag;
}

/* write_all, but -2 when a signal interrupts the write and *stop_flag is set */
static int
emit_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0) {
			if (errno != EINTR)
				return -1;
			if (stop_flag && *stop_flag)
				return -2;
			continue;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
dest_add(const char *spec, size_t n)
{
	struct dest *d;
	const char *eq = memchr(spec, '=', n);
	size_t pl = eq ? (size_t)(eq - spec) : n;
	struct stat st;

	dests = xrealloc(dests, (size_t)(ndests + 1) * sizeof *dests);
	d = &dests[ndests++];
	d->name = xmalloc(pl + 1);
	memcpy(d->name, spec, pl);
	d->name[pl] = '\0';
	d->types = NULL;
	if (eq) {
		size_t tl = n - pl - 1;

		if (tl == 0)
			die(1, "RECIO_OUT: %s: no types after '='", d->name);
		d->types = xmalloc(tl + 3);
		d->types[0] = ',';
		memcpy(d->types + 1, eq + 1, tl);
		d->types[tl + 1] = ',';
		d->types[tl + 2] = '\0';
	}
	if (strcmp(d->name, "-") == 0) {
		d->fd = 1;
		return;
	}
	if (stat(d->name, &st) == 0 && S_ISFIFO(st.st_mode))
		d->fd = open(d->name, O_RDWR | O_CLOEXEC);
	else
		d->fd = open(d->name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (d->fd < 0)
		die(1, "RECIO_OUT: %s: cannot open:", d->name);
}

static void
dests_setup(void)
{
	const char *s = getenv("RECIO_OUT");

	ndests = 0;
	if (s == NULL || !*s) {
		dest_add("-", 1);
		return;
	}
	while (*s) {
		size_t n = strcspn(s, " \t");

		if (n > 0)
			dest_add(s, n);
		s += n;
		s += strspn(s, " \t");
	}
	if (ndests == 0)
		dest_add("-", 1);
}

void
msg_begin(struct buf *b, const char *type, int64_t ts_ms)
{
	snprintf(cur_type, sizeof cur_type, ",%.*s,", TYPE_MAX, type);
	buf_reset(b);
	jw_obj(b);
	jw_kstr(b, "type", type);
	jw_ki64(b, "ts", ts_ms);
}

void
msg_emit(struct buf *b)
{
	jw_obj_end(b);
	buf_putc(b, '\n');
	if (ndests < 0)
		dests_setup();
	for (int i = 0; i < ndests; i++) {
		const struct dest *d = &dests[i];

		if (d->types && strstr(d->types, cur_type) == NULL)
			continue;
		int rc = emit_all(d->fd, b->p, b->len);

		if (rc == -2) {
			warnx_("%s: a %.*s line not written: stopping, and the reader is not taking lines",
			    d->fd == 1 ? "stdout" : d->name, (int)(strlen(cur_type) - 2), cur_type + 1);
			exit(0);
		}
		if (rc < 0)
			die(1, "%s:", d->fd == 1 ? "stdout" : d->name);
	}
	buf_reset(b);
}

void
msg_ready(void)
{
	static int done;
	const char *s = getenv("RECIO_READY_FD");
	char *end;
	long fd;

	if (done || s == NULL || !*s)
		return;
	done = 1;
	errno = 0;
	fd = strtol(s, &end, 10);
	if (*end || errno || fd < 3 || fd > 1000) {
		warnx_("RECIO_READY_FD: \"%s\" is not a descriptor number from 3 to 1000", s);
		return;
	}
	if (write_all((int)fd, "\n", 1) < 0)
		warnx_("RECIO_READY_FD %ld: cannot notify readiness: %s", fd, strerror(errno));
	close((int)fd);
}
