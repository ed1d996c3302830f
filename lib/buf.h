/* buf.h: a growable byte buffer, always NUL-terminated.
 *
 * A zeroed struct buf is a valid empty buffer.  Growth doubles; allocation
 * failure dies (see diag.h xrealloc).  b->p stays owned by the buffer until
 * buf_free; buf_reset keeps the allocation for reuse (hot loops). */
#ifndef RECIO_BUF_H
#define RECIO_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	char *p;
	size_t len, cap;
};

void buf_reserve(struct buf *b, size_t extra);   /* room for extra bytes + NUL */
void buf_add(struct buf *b, const void *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);                   /* len = 0, keeps memory */
void buf_free(struct buf *b);                    /* frees and zeroes */
/* Remove the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);

#endif
