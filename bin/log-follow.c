/* log-follow: the lines of growing files, merged into one stream, whole
 * lines only.  See man/log-follow.1.
 *
 * db-sink's input is every service's data log.  tail -F merges files by
 * copying whatever each read returns, so a line caught half written (a
 * reader can see part of a write that spans pages) came out cut by the
 * lines of another file, and db-sink refused both halves as malformed.
 * Here each file's bytes wait in its own buffer until their newline. */
#define _GNU_SOURCE     /* inotify, memrchr */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"

static const char usage_text[] =
"usage: log-follow [-h] [-s SECONDS] [-p PID] FILE...\n"
"\n"
"Write the lines of every FILE, from its start and as it grows, to standard\n"
"output as one stream: whole lines only, each file's in its order.  A FILE\n"
"is followed by name: one renamed away and created again (a rotation) is\n"
"read to its end first, then the new one from its start; one cut shorter\n"
"is read again from its start; one not there yet is waited for.  Ends when\n"
"its reader goes away.\n"
"\n"
"  -s SECONDS  look at the files at least this often (default 1; they are\n"
"              also watched with inotify)\n"
"  -p PID      end once process PID is gone, after a last look\n"
"  -h          this text\n";

struct src {
	const char *path;
	int fd;                 /* -1: not open */
	dev_t dev;
	ino_t ino;
	off_t off;              /* bytes read */
	struct buf part;        /* bytes read, not yet a whole line */
	bool warned;            /* its open error said once */
	bool watched;           /* its directory, by inotify */
	bool missing;           /* no file under its name at the last look */
};

static char chunk[65536];

static void
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(1, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die(1, "stdout: write:");
		p += w;
		n -= (size_t)w;
	}
}

/* The whole lines of s's buffer out; the rest stays.  Bytes before from
 * hold no newline (they were looked at), so a long line costs one look
 * per byte.  With last, the rest too, as a line of its own (a file that
 * ends without its newline). */
static void
flush_lines(struct src *s, size_t from, bool last)
{
	char *nl = NULL;
	size_t k;

	if (s->part.len > from)
		nl = memrchr(s->part.p + from, '\n', s->part.len - from);
	k = nl ? (size_t)(nl - s->part.p) + 1 : 0;
	if (k) {
		write_all(s->part.p, k);
		buf_consume(&s->part, k);
	}
	if (last && s->part.len) {
		warnx_("%s: %zu bytes at its end without a newline: written as a line", s->path, s->part.len);
		buf_putc(&s->part, '\n');
		write_all(s->part.p, s->part.len);
		buf_reset(&s->part);
	}
}

static void
src_close(struct src *s)
{
	flush_lines(s, s->part.len, true);
	close(s->fd);
	s->fd = -1;
}

/* Read s's open file to its end, its whole lines out as they come.
 * Returns whether anything was read. */
static bool
src_drain(struct src *s)
{
	bool got = false;
	ssize_t n;

	while ((n = read(s->fd, chunk, sizeof chunk)) != 0) {
		size_t from;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(1, "%s: read:", s->path);
		from = s->part.len;
		buf_add(&s->part, chunk, (size_t)n);
		s->off += n;
		got = true;
		flush_lines(s, from, false);    /* held: the longest line and a chunk */
	}
	return got;
}

/* Read s to its end; then see whether its name is still its file.
 * Returns whether anything was read or the file was let go (rotated,
 * cut): either way the caller looks again. */
static bool
src_pass(struct src *s)
{
	struct stat st;
	bool got;

	if (s->fd < 0) {
		s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0) {
			if (errno == ENOENT)
				s->missing = true;
			else if (!s->warned) {
				warnx_("%s: open:", s->path);
				s->warned = true;
			}
			return false;
		}
		if (fstat(s->fd, &st) < 0)
			die(1, "%s: fstat:", s->path);
		s->dev = st.st_dev;
		s->ino = st.st_ino;
		s->off = 0;
		s->warned = false;
		s->missing = false;
	}
	got = src_drain(s);
	if (stat(s->path, &st) < 0) {
		if (errno != ENOENT)
			die(1, "%s: stat:", s->path);
		s->missing = true;      /* renamed away, the new one not there yet */
		return got;
	}
	if (st.st_dev != s->dev || st.st_ino != s->ino) {
		/* rotated: the old file to its end (what was written before
		 * the rename and after the read above), then the new one */
		src_drain(s);
		src_close(s);
		return true;    /* the caller looks again: the new file */
	}
	if (st.st_size < s->off) {
		warnx_("%s: cut to %lld bytes from %lld: read again from its start", s->path,
		    (long long)st.st_size, (long long)s->off);
		src_close(s);
		return true;    /* the caller looks again: from its start */
	}
	return got;
}

/* Watch the directory of every file (a file created, written, renamed);
 * a directory not there yet is tried again at each look.  Returns whether
 * inotify will say what comes: every directory watched and every file
 * there.  (A file missing may be in a directory removed: inotify does not
 * say that while the file is open here, and the directory may come again
 * as another inode, which the watch is not on.) */
static bool
watch_dirs(int ino, struct src *src, int n)
{
	bool all = true;

	for (int i = 0; i < n; i++) {
		const char *sl;
		char *dir;

		all &= !src[i].missing;
		if (ino < 0 || src[i].watched)
			continue;
		sl = strrchr(src[i].path, '/');
		dir = sl ? xstrndup(src[i].path, sl == src[i].path ? 1 : (size_t)(sl - src[i].path)) : xstrdup(".");
		if (inotify_add_watch(ino, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE |
		    IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF) >= 0)
			src[i].watched = true;
		else
			all = false;
		free(dir);
	}
	return all;
}

/* Read what inotify said: which file does not matter (every one is
 * looked at).  Returns whether a watched directory was removed or moved
 * (or its watch dropped): then every directory is watched again, by name
 * (one made again under the name is another inode). */
static bool
notified(int ino)
{
	_Alignas(struct inotify_event) char b[4096];
	bool dropped = false;
	ssize_t n;

	while ((n = read(ino, b, sizeof b)) > 0)
		for (ssize_t i = 0; i + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *e = (const struct inotify_event *)(void *)(b + i);

			dropped |= (e->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0;
			i += (ssize_t)sizeof *e + e->len;
		}
	return dropped;
}

int
main(int argc, char **argv)
{
	struct src *src;
	int64_t every_ms = 1000, pid = 0;
	int ch, n, ino;
	bool reader_gone = false;

	diag_init(argv[0]);
	while ((ch = getopt(argc, argv, "hs:p:")) != -1) {
		switch (ch) {
		case 'h': fputs(usage_text, stdout); return 0;
		case 's': {
			char *end;
			double v;

			errno = 0;
			v = strtod(optarg, &end);
			if (end == optarg || *end || errno || !(v >= 0.01 && v <= 3600))
				die_usage(usage_text, "-s: seconds from 0.01 to 3600");
			every_ms = (int64_t)(v * 1000.0 + 0.5);
			break;
		}
		case 'p':
			if (cfg_parse_i64(optarg, 1, INT_MAX, &pid) < 0)
				die_usage(usage_text, "-p: a process id");
			break;
		default: die_usage(usage_text, NULL);
		}
	}
	if ((n = argc - optind) < 1)
		die_usage(usage_text, "no file named");
	src = xcalloc((size_t)n, sizeof *src);
	for (int i = 0; i < n; i++) {
		src[i].path = argv[optind + i];
		src[i].fd = -1;
	}
	if ((ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		warnx_("inotify_init1: %s; the files are looked at every %lld ms only", strerror(errno),
		    (long long)every_ms);
	for (;;) {
		bool gone = pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
		/* stdout asks for nothing: a pipe whose reader is gone says
		 * POLLERR, and the next reader must not get what this one
		 * would write meanwhile, nor lines cut by it */
		struct pollfd pfd[2] = { { 1, 0, 0 }, { ino, POLLIN, 0 } };
		int wait_ms;

		/* again while there is more: a file that grows as it is read */
		for (bool more = true; more;) {
			more = false;
			for (int i = 0; i < n; i++)
				more |= src_pass(&src[i]);
		}
		if (gone)
			break;
		/* a file or directory not there (yet) is looked for every 0.1 s */
		wait_ms = watch_dirs(ino, src, n) || every_ms < 100 ? (int)every_ms : 100;
		if (poll(pfd, ino >= 0 ? 2 : 1, wait_ms) < 0 && errno != EINTR)
			die(1, "poll:");
		if (pfd[0].revents & (POLLERR | POLLHUP)) {
			reader_gone = true;
			break;
		}
		if (ino >= 0 && (pfd[1].revents & POLLIN) && notified(ino))
			for (int i = 0; i < n; i++)
				src[i].watched = false;
	}
	for (int i = 0; i < n; i++) {
		if (src[i].fd >= 0 && !reader_gone)
			src_close(&src[i]);     /* what is left, as a line */
		buf_free(&src[i].part);
	}
	free(src);
	return 0;
}
