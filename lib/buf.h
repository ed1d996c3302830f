/* buf.h: a growable byte buffer, always NUL-terminated.
 *
 * A zeroed struct buf is a valid empty buffer.  Growth doubles; allocation
 * failure dies (see diag.h xrealloc).  b->p stays owned by the buffer until
 * buf_free; buf_reset keeps the allocation for reuse (hot loops). */
#ifndef RECIO_BUF_H
#define RECIO_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	char *p;
	size_t len, cap;
};

/* The three below are inline: they are called per value and per byte on
 * the hot paths (db-sink's COPY rows, every JSON line written), and with
 * room already there they are a compare and a copy. */
void buf_grow(struct buf *b, size_t extra);      /* buf_reserve's slow path */
static inline void
buf_reserve(struct buf *b, size_t extra)         /* room for extra bytes + NUL */
{
	if (b->p == NULL || b->cap - b->len <= extra)
		buf_grow(b, extra);
}
static inline void
buf_add(struct buf *b, const void *s, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}
static inline void
buf_putc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);                   /* len = 0, keeps memory */
void buf_free(struct buf *b);                    /* frees and zeroes */
/* Remove the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);

#endif
