/* msg.c: see msg.h. */
#include <errno.h>
#include <unistd.h>

#include "diag.h"
#include "json.h"
#include "msg.h"

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
msg_begin(struct buf *b, const char *type, int64_t ts_ms)
{
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
	if (write_all(1, b->p, b->len) < 0)
		die(1, "stdout:");
	buf_reset(b);
}
