/* ndjson.h: read newline-delimited JSON from a file descriptor.
 *
 * Lines up to RECIO_LINE_MAX bytes (newline excluded; a trailing '\r' is
 * dropped).  A longer line, a line that is not valid UTF-8, that has raw
 * control bytes, that is not valid JSON, or whose top level is not an
 * object is reported on stderr as
 *     prog: NAME line N: reason
 * counted, and skipped; reading goes on.  Blank lines are skipped silently.
 * A last line without a newline is still returned.  Memory use is bounded
 * by RECIO_LINE_MAX whatever the input. */
#ifndef RECIO_NDJSON_H
#define RECIO_NDJSON_H

#include <stddef.h>
#include "buf.h"
#include "json.h"

struct ndjson {
	int fd;
	const char *name;       /* for messages: "stdin", a path */
	struct buf in;          /* read buffer */
	size_t off;             /* start of unread data in in */
	unsigned long lineno;   /* number of the line last returned or skipped */
	unsigned long bad;      /* lines reported and skipped */
	int eof, skipping;      /* skipping: inside an over-long line */
	int quiet;              /* 1: count bad lines but do not print them */
};

void ndjson_init(struct ndjson *r, int fd, const char *name);
void ndjson_free(struct ndjson *r);

/* Next raw line that is valid UTF-8 without raw control bytes (not yet
 * parsed).  Returns 1 and sets *line and *len (valid until the next call; the
 * line is NUL-terminated in place), 0 at end of input, -1 on a read error
 * (errno set; message already printed).  EINTR is returned as -1 with
 * errno EINTR and nothing printed, so a caller can check its signal flag. */
int ndjson_line(struct ndjson *r, char **line, size_t *len);

/* Next line parsed as a JSON object into j (token 0 is the object).
 * Same returns as ndjson_line; lines that fail to parse are reported and
 * skipped inside. */
int ndjson_next(struct ndjson *r, struct json *j, char **line, size_t *len);

/* Validate UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
 * Returns -1 if valid, else the offset of the first bad byte. */
long utf8_check(const char *s, size_t n);

#endif
