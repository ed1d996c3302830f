/* ndjson.c: see ndjson.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "diag.h"
#include "rlimits.h"
#include "ndjson.h"

#define READ_CHUNK 65536
#define LINE_MAX_TEXT "65536"     /* RECIO_LINE_MAX, for messages */
_Static_assert(RECIO_LINE_MAX == 65536, "LINE_MAX_TEXT out of step");

void
ndjson_init(struct ndjson *r, int fd, const char *name)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->name = name;
}

void
ndjson_free(struct ndjson *r)
{
	buf_free(&r->in);
}

static void
bad(struct ndjson *r, const char *why, long at)
{
	r->bad++;
	if (r->quiet)
		return;
	if (at > 0)
		warnx_("%s line %lu: %s at byte %ld, skipped", r->name, r->lineno, why, at);
	else
		warnx_("%s line %lu: %s, skipped", r->name, r->lineno, why);
}

long
utf8_check(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned c = u[i];
		size_t len;
		unsigned long cp;

		if (c < 0x80) {
			uint64_t w;

			/* ASCII, the common case: eight bytes at a time */
			while (i + 8 <= n && (memcpy(&w, u + i, 8), (w & 0x8080808080808080ULL) == 0))
				i += 8;
			if (i < n && u[i] < 0x80)
				i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return (long)i;
		if (i + len > n)
			return (long)i;
		for (size_t k = 1; k < len; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return (long)i;
			cp = cp << 6 | (u[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return (long)i;
		i += len;
	}
	return -1;
}

/* The offset of the first control byte other than a tab in s[0..n), or
 * -1.  Eight bytes at a time: a word without a byte below 0x20 is passed
 * whole, one with such a byte is looked at byte by byte. */
static long
ctl_at(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	size_t i = 0;

	while (i < n) {
		size_t e = n;

		if (i + 8 <= n) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (((w - ones * 0x20) & ~w & highs) == 0) {
				i += 8;
				continue;
			}
			e = i + 8;
		}
		for (; i < e; i++)
			if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
				return (long)i;
	}
	return -1;
}

/* True when s[0..n) is all ASCII from 0x20 up (the usual line): then
 * neither utf8_check nor ctl_at has anything to find.  One pass, eight
 * bytes at a time, instead of their two. */
static bool
printable_ascii(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		if (((w | (w - ones * 0x20)) & highs) != 0)
			return false;
	}
	for (; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* The offset of the first byte of s[0..n) below 0x20 or from 0x80 up (n
 * if none): on the usual line, its newline, which then also says that the
 * line is printable ASCII (one pass where memchr and printable_ascii made
 * two).  Sixteen bytes at a time with SSE2, where a signed compare with
 * 0x20 catches both; else eight. */
static size_t
first_special(const char *s, size_t n)
{
	size_t i = 0;
#if defined(__SSE2__)
	const __m128i sp = _mm_set1_epi8(0x20);

	for (; i + 16 <= n; i += 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)), sp));

		if (m)
			return i + (size_t)__builtin_ctz(m);
	}
#else
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		if (((w | (w - ones * 0x20)) & highs) != 0)
			break;
	}
#endif
	for (; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x80)
			return i;
	return n;
}

/* Fill the buffer: 1 more data, 0 EOF, -1 error. */
static int
fill(struct ndjson *r)
{
	ssize_t n;

	if (r->off > 0 && (r->off >= r->in.len / 2 || r->in.len + READ_CHUNK > r->in.cap)) {
		buf_consume(&r->in, r->off);
		r->off = 0;
	}
	buf_reserve(&r->in, READ_CHUNK);
	n = read(r->fd, r->in.p + r->in.len, READ_CHUNK);
	if (n < 0) {
		if (errno != EINTR)
			warnx_("%s: read error:", r->name);
		return -1;
	}
	if (n == 0)
		return 0;
	r->in.len += (size_t)n;
	r->in.p[r->in.len] = '\0';
	return 1;
}

int
ndjson_line(struct ndjson *r, char **line, size_t *len)
{
	for (;;) {
		char *s = r->in.p ? r->in.p + r->off : NULL;
		size_t avail = s ? r->in.len - r->off : 0;     /* (no buffer yet: len is 0) */
		size_t q = avail ? first_special(s, avail) : 0, n;
		char *nl = NULL;
		bool plain = false;             /* s up to nl is printable ASCII */
		long badat;
		int rc;

		if (q < avail) {
			if (s[q] == '\n' || (s[q] == '\r' && q + 1 < avail && s[q + 1] == '\n'))
				nl = s + q + (s[q] == '\r'), plain = true;
			else
				nl = memchr(s + q, '\n', avail - q);
		}

		if (nl == NULL) {
			if (r->skipping || avail > RECIO_LINE_MAX) {
				/* an over-long line: drop what we have, keep dropping to its end */
				if (!r->skipping) {
					r->lineno++;
					r->skipping = 1;
					bad(r, "line longer than " LINE_MAX_TEXT " bytes", 0);
				}
				r->off = r->in.len = 0;
			}
			if (r->eof) {
				if (avail == 0 || r->skipping) {
					r->skipping = 0;
					return 0;
				}
				nl = s + avail;         /* the last line, without a newline */
			} else {
				rc = fill(r);
				if (rc < 0)
					return -1;
				if (rc == 0)
					r->eof = 1;
				continue;
			}
		}
		n = (size_t)(nl - s);
		r->off += n + (nl < r->in.p + r->in.len);
		if (r->skipping) {              /* the tail of an over-long line */
			r->skipping = 0;
			continue;
		}
		r->lineno++;
		if (n > RECIO_LINE_MAX) {
			bad(r, "line longer than " LINE_MAX_TEXT " bytes", 0);
			continue;
		}
		if (n > 0 && s[n - 1] == '\r')
			n--;
		s[n] = '\0';
		if (n == 0 || ((s[0] == ' ' || s[0] == '\t') && strspn(s, " \t") == n))
			continue;               /* blank */
		if (!plain && !printable_ascii(s, n)) {
			if ((badat = utf8_check(s, n)) >= 0) {
				bad(r, "invalid UTF-8", badat + 1);
				continue;
			}
			if ((badat = ctl_at(s, n)) >= 0) {
				bad(r, "control byte", badat + 1);
				continue;
			}
		}
		*line = s;
		*len = n;
		return 1;
	}
}

int
ndjson_next(struct ndjson *r, struct json *j, char **line, size_t *len)
{
	int rc;

	while ((rc = ndjson_line(r, line, len)) > 0) {
		if (json_parse_z(j, *line, *len) < 0) {
			r->bad++;
			if (!r->quiet)
				warnx_("%s line %lu: %s, skipped", r->name, r->lineno, j->err);
			continue;
		}
		if (json_type(j, 0) != JSON_OBJECT) {
			r->bad++;
			if (!r->quiet)
				warnx_("%s line %lu: not a JSON object, skipped", r->name, r->lineno);
			continue;
		}
		return 1;
	}
	return rc;
}
