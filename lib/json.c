/* json.c: see json.h.  json_parse reads the text once, byte by byte where
 * it must and eight bytes at a time inside strings, making the tokens and
 * checking RFC 8259's grammar as it goes. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "diag.h"
#include "json.h"
#include "rlimits.h"

#define DEPTH_MAX 512

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

static inline bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The last byte before p that is not whitespace (p itself when none;
 * p > 0).  Only for an error's text. */
static size_t
skip_back(const char *s, size_t p)
{
	size_t q = p;

	while (q > 0 && is_ws(s[q - 1]))
		q--;
	return q > 0 ? q - 1 : p;
}

/* The first byte at or after p that is not whitespace (n if none).  A
 * byte above ' ' (nearly always, between machine-written tokens) costs
 * one comparison.  z: s[n] is a NUL, which stops it without a bound. */
static ALWAYS_INLINE size_t
skip_ws(const char *s, size_t p, size_t n, bool z)
{
	while ((z || p < n) && (unsigned char)s[p] <= ' ' && is_ws(s[p]))
		p++;
	return p;
}

static inline int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The first byte at or after p that ends a plain run inside a string: a
 * quote, a backslash or a control byte; n if none.  Eight bytes at a time
 * where words are little-endian: a byte's flag in m is exact from the
 * lowest set one up, which is all that is read of it. */
static inline size_t
str_stop(const char *s, size_t p, size_t n)
{
#if defined(__SSE2__)
	/* sixteen at a time: the bytes equal to '"' or '\\', or at most 0x1f */
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1f);

	for (; p + 16 <= n; p += 16) {
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(s + p));
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, quote), _mm_cmpeq_epi8(w, bslash)),
		    _mm_cmpeq_epi8(_mm_min_epu8(w, ctl), w));
		unsigned bits = (unsigned)_mm_movemask_epi8(m);

		if (bits)
			return p + (size_t)__builtin_ctz(bits);
	}
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ULL;

	for (; p + 8 <= n; p += 8) {
		uint64_t w, q, b, m;

		memcpy(&w, s + p, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		m = (((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & (ones * 0x80);
		if (m)
			return p + (size_t)(__builtin_ctzll(m) >> 3);
	}
#endif
	for (; p < n; p++)
		if (s[p] == '"' || s[p] == '\\' || (unsigned char)s[p] < 0x20)
			return p;
	return n;
}

#if defined(__SSE2__)
/* A window of the text for the parser's scans: 64 bytes from base as bit
 * masks (bit i: byte base + i) of the bytes that end a plain run in a
 * string (str_stop's) and of those that are not digits; bytes past the
 * text's end count as NULs, which are in both, so that a scan stops at the
 * end.  A scan is then a shift and a count of trailing zeros where it was
 * a load, compares and a count: the parser's pace is set by that chain
 * (where each string and number ends decides where the next token is
 * looked for), not by how many instructions it runs, and the masks are
 * made off the chain, 64 bytes at a time. */
struct win {
	size_t base;
	uint64_t str, nondig;
};

static void
win_load(struct win *w, const char *s, size_t n, size_t p)
{
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1f);
	const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
	char pad[64];
	const char *b = s + p;
	size_t left = n - p;
	unsigned shift = 0;
	uint64_t str = 0, dig = 0, past = 0;

	w->base = p;
	if (left == 0) {
		w->str = w->nondig = ~(uint64_t)0;
		return;
	}
	if (left < 64) {
		/* past the end: the text's last 64 bytes, shifted down to p, or
		 * (a shorter text) a copy padded with NULs */
		past = ~(uint64_t)0 << left;
		if (n >= 64) {
			b = s + n - 64;
			shift = (unsigned)(64 - left);
		} else {
			memset(pad, 0, sizeof pad);
			memcpy(pad, s + p, left);
			b = pad;
		}
	}
	for (int k = 0; k < 4; k++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * k));
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
		    _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
		__m128i d = _mm_sub_epi8(v, zero);

		str |= (uint64_t)(unsigned)_mm_movemask_epi8(m) << (16 * k);
		dig |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(d, nine), d)) << (16 * k);
	}
	w->str = str >> shift | past;
	w->nondig = ~(dig >> shift) | past;
}

/* The first byte at or after p (<= n) set in the mask at offset off of
 * struct win (str or nondig); n at the end. */
static ALWAYS_INLINE size_t
win_scan(struct win *w, const char *s, size_t n, size_t p, bool digits)
{
	for (;;) {
		size_t off = p - w->base;       /* (before base: wraps, so >= 64) */
		uint64_t m;

		if (off >= 64) {
			win_load(w, s, n, p);
			off = 0;
		}
		m = (digits ? w->nondig : w->str) >> off;
		if (m)
			return p + (size_t)__builtin_ctzll(m);
		p = w->base + 64;
	}
}
#define WIN_STR_STOP(w, s, p, n) win_scan((w), (s), (n), (p), false)
#define WIN_DIGITS_END(w, s, p, n) win_scan((w), (s), (n), (p), true)
#else
struct win { int unused; };
#define WIN_STR_STOP(w, s, p, n) ((void)(w), str_stop((s), (p), (n)))
#endif

/* Why json_parse failed: "WHAT at byte N" (1-based), or "truncated JSON"
 * when the text ends inside a value (at == SIZE_MAX). */
static int
fail(struct json *j, size_t at, const char *what)
{
	if (at == SIZE_MAX)
		snprintf(j->err, sizeof j->err, "truncated JSON");
	else
		snprintf(j->err, sizeof j->err, "%s at byte %zu", what, at + 1);
	j->ntok = 0;
	return -1;
}

/* s[p] is the byte after an opening quote: the index of the closing
 * quote, or 0 with *at and *why set (*at SIZE_MAX: the text ended); *esc
 * set when the string has an escape.  Inlined at both calls: a line is
 * mostly keys and short strings. */
static ALWAYS_INLINE size_t
string_end(struct win *w, const char *s, size_t p, size_t n, size_t *at, const char **why, bool *esc)
{
	for (;;) {
		p = WIN_STR_STOP(w, s, p, n);
		if (p == n)
			break;
		if (s[p] == '"')
			return p;
		if (s[p] != '\\') {
			*at = p;
			*why = "control byte in a string";
			return 0;
		}
		*esc = true;
		if (++p == n)
			break;
		switch (s[p]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			p++;
			break;
		case 'u':
			for (int k = 1; k <= 4; k++) {
				if (p + (size_t)k == n) {
					*at = SIZE_MAX;
					return 0;
				}
				if (hexval(s[p + (size_t)k]) < 0) {
					*at = p + (size_t)k;
					*why = "invalid \\u escape";
					return 0;
				}
			}
			p += 5;
			break;
		default:
			*at = p;
			*why = "invalid escape";
			return 0;
		}
	}
	*at = SIZE_MAX;
	return 0;
}

/* The first byte at or after p that is not a decimal digit (n if none).
 * Eight bytes at a time where words are little-endian: with no byte's
 * high bit set (no carry can then cross a byte when 6 is added), a byte
 * is a digit when its high nibble is 3 and stays 3 with 6 added. */
static ALWAYS_INLINE size_t
digits_end(struct win *win, const char *s, size_t p, size_t n, bool z)
{
#if defined(__SSE2__)
	(void)z;
	return WIN_DIGITS_END(win, s, p, n);
#else
	(void)win;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ULL, hi = ones * 0xf0, three = ones * 0x30;

	for (; p + 8 <= n; p += 8) {
		uint64_t w, m;

		memcpy(&w, s + p, 8);
		if (w & ones * 0x80)
			break;
		m = ((w & hi) ^ three) | (((w + ones * 6) & hi) ^ three);
		if (m)
			return p + (size_t)(__builtin_ctzll(m) >> 3);
	}
#endif
	while ((z || p < n) && is_digit(s[p]))
		p++;
	return p;
#endif
}

/* s[p] is '-' or a digit: the index after the number, or 0 with *at set
 * (RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and no letter,
 * digit or '.' right after it).  z: s[n] is a NUL, which ends a number
 * without a bound check (then "bad" at n is the text's end). */
static ALWAYS_INLINE size_t
number_end(struct win *w, const char *s, size_t p, size_t n, size_t *at, bool z)
{
	size_t d;

	if (s[p] == '-' && ++p == n && !z)
		goto bad;
	if (s[p] == '0')
		p++;
	else if (s[p] >= '1' && s[p] <= '9')
		p = digits_end(w, s, p + 1, n, z);
	else
		goto bad;
	if ((z || p < n) && s[p] == '.') {
		d = ++p;
		p = digits_end(w, s, p, n, z);
		if (p == d)
			goto bad;
	}
	if ((z || p < n) && (s[p] == 'e' || s[p] == 'E')) {
		p++;
		if ((z || p < n) && (s[p] == '+' || s[p] == '-'))
			p++;
		for (d = p; (z || p < n) && is_digit(s[p]); p++)
			;
		if (p == d)
			goto bad;
	}
	if ((z || p < n) && (is_digit(s[p]) || s[p] == '.' || ((s[p] | 0x20) >= 'a' && (s[p] | 0x20) <= 'z')))
		goto bad;
	return p;
bad:
	/* at the text's end: it ended inside the number */
	*at = p == n ? SIZE_MAX : p;
	return 0;
}

/* Room for one more token in j->tok, whose first cap entries are in use:
 * 0 with j->tok and *cap grown, or -1 when the text holds more than
 * j->tok_max (0: RECIO_JSON_TOK_MAX).  The limit is checked on the growth
 * path only: an array grown for a larger limit before is used whole. */
static int __attribute__((noinline))
tok_grow(struct json *j, int *cap)
{
	int max = j->tok_max > 0 ? j->tok_max : RECIO_JSON_TOK_MAX;

	if (*cap >= max)
		return -1;
	*cap = *cap > max / 4 ? max : *cap * 4;
	j->tok = xrealloc(j->tok, (size_t)*cap * sizeof *j->tok);
	j->cap = *cap;
	return 0;
}

/* TOK_NEW(ty, start, end, size, esc): a new token at tok[ntok] (json_parse's
 * locals, kept out of struct json so that a token's int stores cannot be
 * taken to change them and have them read again), its index in t; or to
 * toomany.  next is set for a scalar; a container's is set when it closes. */
#define TOK_NEW(ty, st, en, sz, e) do {                                            \
		if (ntok == cap) {                                              \
			if (tok_grow(j, &cap) < 0)                              \
				goto toomany;                                   \
			tok = j->tok;                                           \
		}                                                               \
		t = ntok++;                                                     \
		tok[t].type = (ty);                                             \
		tok[t].start = (int)(st);                                       \
		tok[t].end = (int)(en);                                         \
		tok[t].size = (sz);                                             \
		tok[t].next = ntok;                                             \
		tok[t].esc = (e);                                               \
	} while (0)

/* json_parse and json_parse_z: z says that s[len] is a NUL, which then
 * ends the text where a bound check would: the NUL is no whitespace, no
 * value, no separator, so each place reads it as the error it would be,
 * and the error path alone asks whether it was the end. */
static ALWAYS_INLINE int
parse(struct json *j, const char *s, size_t len, bool z)
{
	int stack[DEPTH_MAX];   /* the open containers, innermost last */
	int depth = 0, t;
	/* the innermost open container, kept out of memory while it is open:
	 * its token, whether an object, its members or elements so far */
	int cur = -1, cur_size = 0;
	bool cur_obj = false;
	size_t p, q, at = 0;
	const char *why = NULL;
	bool esc;               /* the string just read has an escape */
	struct win win;
	struct json_tok *tok;
	int ntok = 0, cap;

	j->s = s;
	j->len = len;
	j->ntok = 0;
	j->err[0] = '\0';
	if (len > (size_t)INT32_MAX) {
		snprintf(j->err, sizeof j->err, "text too long");
		return -1;
	}
	if (j->cap == 0) {
		j->cap = 64;
		j->tok = xmalloc((size_t)j->cap * sizeof *j->tok);
	}
	tok = j->tok;
	cap = j->cap;
#if defined(__SSE2__)
	win.base = (size_t)0 - 64;      /* nothing loaded: the first scan loads */
	win.str = win.nondig = 0;
#endif
	if ((p = skip_ws(s, 0, len, false)) == len) {
		snprintf(j->err, sizeof j->err, "no JSON value");
		return -1;
	}
	for (;;) {
		/* a value at p or after whitespace */
		if ((p = skip_ws(s, p, len, z)) == len && !z)
			return fail(j, SIZE_MAX, NULL);
		switch (s[p]) {
		case '{':
		case '[':
			if (depth == DEPTH_MAX)
				return fail(j, p, "nesting too deep");
			TOK_NEW(s[p] == '{' ? JSON_OBJECT : JSON_ARRAY, p, p, 0, false);
			if (cur >= 0)
				tok[cur].size = cur_size;
			stack[depth++] = cur = t;
			cur_obj = s[p] == '{';
			cur_size = 0;
			if ((p = skip_ws(s, p + 1, len, z)) == len && !z)
				return fail(j, SIZE_MAX, NULL);
			if (s[p] == (cur_obj ? '}' : ']'))
				goto close;
			if (cur_obj)
				goto key;
			cur_size = 1;
			continue;
		case '"':
			esc = false;
			if ((q = string_end(&win, s, p + 1, len, &at, &why, &esc)) == 0)
				return fail(j, at, why);
			TOK_NEW(JSON_STRING, p + 1, q, 0, esc);
			p = q + 1;
			break;
		case 't':
		case 'f':
		case 'n': {
			static const char *const lit[] = { "true", "false", "null" };
			static const enum json_type ty[] = { JSON_TRUE, JSON_FALSE, JSON_NULL };
			int w = s[p] == 't' ? 0 : s[p] == 'f' ? 1 : 2;
			size_t l = strlen(lit[w]);

			if (len - p < l && memcmp(s + p, lit[w], len - p) == 0)
				return fail(j, SIZE_MAX, NULL);
			if (len - p < l || memcmp(s + p, lit[w], l) != 0 ||
			    (len - p > l && (s[p + l] | 0x20) >= 'a' && (s[p + l] | 0x20) <= 'z'))
				return fail(j, p, "invalid literal");
			TOK_NEW(ty[w], p, p + l, 0, false);
			p += l;
			break;
		}
		default:
			if (s[p] != '-' && !is_digit(s[p]))
				return p == len ? fail(j, SIZE_MAX, NULL) : fail(j, p, (s[p] == ']' || s[p] == '}') && p > 0 && s[skip_back(s, p)] == ',' ?
				    "trailing ','" : "expected a value");
			if ((q = number_end(&win, s, p, len, &at, z)) == 0)
				return fail(j, at, "invalid number");
			TOK_NEW(JSON_NUMBER, p, q, 0, false);
			p = q;
			break;
		}
	after:
		/* after a value: a ',' or the end of its container; or of the text */
		p = skip_ws(s, p, len, z);
		if (depth == 0) {
			if (p != len)
				return fail(j, p, "trailing characters after the JSON value");
			j->ntok = ntok;
			return 0;
		}
		if (p == len && !z)
			return fail(j, SIZE_MAX, NULL);
		if (s[p] == ',') {
			p++;
			if (cur_obj)
				goto key;
			cur_size++;
			continue;
		}
		if (s[p] != (cur_obj ? '}' : ']'))
			return p == len ? fail(j, SIZE_MAX, NULL) : fail(j, p, cur_obj ? "expected ',' or '}'" : "expected ',' or ']'");
	close:
		/* s[p] closes the innermost container */
		tok[cur].size = cur_size;
		tok[cur].end = (int)++p;
		tok[cur].next = ntok;
		if (--depth > 0) {
			cur = stack[depth - 1];
			cur_size = tok[cur].size;
			cur_obj = tok[cur].type == JSON_OBJECT;
		}
		goto after;
	key:
		/* a member's key at p or after whitespace, then ':' */
		if ((p = skip_ws(s, p, len, z)) == len && !z)
			return fail(j, SIZE_MAX, NULL);
		if (s[p] != '"')
			return p == len ? fail(j, SIZE_MAX, NULL) : fail(j, p, s[p] == '}' ? "trailing ','" : "expected a string key");
		esc = false;
		if ((q = string_end(&win, s, p + 1, len, &at, &why, &esc)) == 0)
			return fail(j, at, why);
		TOK_NEW(JSON_STRING, p + 1, q, 1, esc);
		cur_size++;
		/* machine-written JSON: the ':' right after the key */
		if (((p = q + 1) < len || z) && s[p] == ':') {
			p++;
			continue;
		}
		if ((p = skip_ws(s, p, len, z)) == len && !z)
			return fail(j, SIZE_MAX, NULL);
		if (s[p] != ':')
			return p == len ? fail(j, SIZE_MAX, NULL) : fail(j, p, "expected ':'");
		p++;
	}
toomany:
	snprintf(j->err, sizeof j->err, "more than %d tokens", j->tok_max > 0 ? j->tok_max : RECIO_JSON_TOK_MAX);
	j->ntok = 0;
	return -1;
}

int
json_parse(struct json *j, const char *s, size_t len)
{
	return parse(j, s, len, false);
}

int
json_parse_z(struct json *j, const char *s, size_t len)
{
	return parse(j, s, len, true);
}

#undef TOK_NEW

void
json_free(struct json *j)
{
	free(j->tok);
	j->tok = NULL;
	j->ntok = j->cap = 0;
}

enum json_type
json_type(const struct json *j, int t)
{
	return t < 0 || t >= j->ntok ? JSON_NONE : j->tok[t].type;
}

int
json_skip(const struct json *j, int t)
{
	return t < 0 || t >= j->ntok ? j->ntok : j->tok[t].next;
}

int
json_get(const struct json *j, int obj, const char *key)
{
	size_t kl = strlen(key);
	int n, t;

	if (obj < 0 || obj >= j->ntok || j->tok[obj].type != JSON_OBJECT)
		return -1;
	n = j->tok[obj].size;
	t = obj + 1;
	for (int i = 0; i < n; i++) {
		const struct json_tok *k = &j->tok[t];

		if ((size_t)(k->end - k->start) == kl && memcmp(j->s + k->start, key, kl) == 0)
			return t + 1;
		t = json_skip(j, t + 1);
	}
	return -1;
}

void
json_getv(const struct json *j, int obj, int n, const char *const *keys, const size_t *klen, int *out)
{
	int m, t, next = 0, found = 0;

	for (int i = 0; i < n; i++)
		out[i] = -1;
	if (n <= 0 || obj < 0 || obj >= j->ntok || j->tok[obj].type != JSON_OBJECT)
		return;
	m = j->tok[obj].size;
	t = obj + 1;
	for (int i = 0; i < m && found < n; i++) {
		const struct json_tok *k = &j->tok[t];
		const char *ks = j->s + k->start;
		size_t kl = (size_t)(k->end - k->start);

		for (int c = 0, x = next; c < n; c++, x = x + 1 == n ? 0 : x + 1)
			if (klen[x] == kl && memcmp(ks, keys[x], kl) == 0) {
				if (out[x] < 0) {
					out[x] = t + 1;
					found++;
				}
				next = x + 1 == n ? 0 : x + 1;
				break;
			}
		t = json_skip(j, t + 1);
	}
}

int
json_size(const struct json *j, int t)
{
	if (t < 0 || t >= j->ntok || (j->tok[t].type != JSON_OBJECT && j->tok[t].type != JSON_ARRAY))
		return 0;
	return j->tok[t].size;
}

int
json_at(const struct json *j, int arr, int i)
{
	int t;

	if (arr < 0 || arr >= j->ntok || j->tok[arr].type != JSON_ARRAY || i < 0 || i >= j->tok[arr].size)
		return -1;
	t = arr + 1;
	while (i-- > 0)
		t = json_skip(j, t);
	return t;
}

const char *
json_raw(const struct json *j, int t, size_t *n)
{
	if (t < 0 || t >= j->ntok) {
		*n = 0;
		return "";
	}
	*n = (size_t)(j->tok[t].end - j->tok[t].start);
	return j->s + j->tok[t].start;
}

bool
json_streq(const struct json *j, int t, const char *lit)
{
	size_t n = strlen(lit);

	return t >= 0 && t < j->ntok && j->tok[t].type == JSON_STRING &&
	    (size_t)(j->tok[t].end - j->tok[t].start) == n && memcmp(j->s + j->tok[t].start, lit, n) == 0;
}

static void
put_utf8(struct buf *b, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_add(b, u, n);
}

/* The code point of 4 hex digits; -1 when one is not a hex digit (the
 * parser checks them, but a shift of hexval's -1 would be undefined). */
static long
hex4(const char *s)
{
	int a = hexval(s[0]), b = hexval(s[1]), c = hexval(s[2]), d = hexval(s[3]);

	if (a < 0 || b < 0 || c < 0 || d < 0)
		return -1;
	return (long)a << 12 | (long)b << 8 | (long)c << 4 | (long)d;
}

int
json_str_buf(const struct json *j, int t, struct buf *out)
{
	const char *s;
	size_t n;

	if (t < 0 || t >= j->ntok || j->tok[t].type != JSON_STRING)
		return -1;
	s = json_raw(j, t, &n);
	for (size_t i = 0; i < n; i++) {
		unsigned long cp;
		long h;

		if (s[i] != '\\') {
			size_t k = i;

			while (k < n && s[k] != '\\')
				k++;
			buf_add(out, s + i, k - i);
			i = k - 1;
			continue;
		}
		if (++i >= n)
			return -1;
		switch (s[i]) {
		case '"': buf_putc(out, '"'); break;
		case '\\': buf_putc(out, '\\'); break;
		case '/': buf_putc(out, '/'); break;
		case 'b': buf_putc(out, '\b'); break;
		case 'f': buf_putc(out, '\f'); break;
		case 'n': buf_putc(out, '\n'); break;
		case 'r': buf_putc(out, '\r'); break;
		case 't': buf_putc(out, '\t'); break;
		case 'u':
			if (i + 4 >= n)
				return -1;
			if ((h = hex4(s + i + 1)) < 0)
				return -1;
			cp = (unsigned long)h;
			i += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;              /* a lone low surrogate */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned long lo;

				if (i + 6 >= n || s[i + 1] != '\\' || s[i + 2] != 'u' || (h = hex4(s + i + 3)) < 0)
					return -1;
				lo = (unsigned long)h;
				if (lo < 0xdc00 || lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			if (cp == 0)
				return -1;              /* NUL would truncate C strings */
			put_utf8(out, cp);
			break;
		default:
			return -1;
		}
	}
	return 0;
}

int
json_str(const struct json *j, int t, char *out, size_t cap)
{
	struct buf b = { 0 };
	int rc = -1;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	/* a string without an escape (the usual case): its bytes, without
	 * the heap; from 4 to 32 as two fixed-size copies that may overlap */
	if (t >= 0 && t < j->ntok && j->tok[t].type == JSON_STRING && !j->tok[t].esc) {
		size_t n;
		const char *s = json_raw(j, t, &n);

		if (n >= cap)
			return -1;
		if (n >= 16 && n <= 32) {
			memcpy(out, s, 16);
			memcpy(out + n - 16, s + n - 16, 16);
		} else if (n >= 8 && n < 16) {
			memcpy(out, s, 8);
			memcpy(out + n - 8, s + n - 8, 8);
		} else if (n >= 4 && n < 8) {
			memcpy(out, s, 4);
			memcpy(out + n - 4, s + n - 4, 4);
		} else
			memcpy(out, s, n);
		out[n] = '\0';
		return 0;
	}
	if (json_str_buf(j, t, &b) == 0 && b.len < cap) {
		memcpy(out, b.p ? b.p : "", b.len + 1 > 1 ? b.len + 1 : 1);
		out[b.len] = '\0';
		rc = 0;
	}
	buf_free(&b);
	return rc;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR_DIGITS 1
/* The value of eight ASCII digits, the first in w's lowest byte, or -1
 * when a byte is not a digit: each byte's high nibble is 3 and stays so
 * when 6 is added (a carry out of a byte >= 0xfa only spoils the bytes
 * above it, and it fails itself); then pairs, fours, the eight. */
static inline int64_t
swar8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, hi = ones * 0xf0;

	if ((((w & hi) ^ (ones * 0x30)) | (((w + ones * 6) & hi) ^ (ones * 0x30))) != 0)
		return -1;
	w -= ones * 0x30;
	w = w * 10 + (w >> 8);
	w = ((w & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32)) +
	    ((w >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32))) >> 32;
	return (int64_t)(w & 0xffffffffULL);
}

/* The value of the k (1 to 8) digits that end at e, or -1: read as the
 * word e - 8 .. e, whose 8 - k bytes before the digits (the caller's text,
 * e - 8 inside it) become '0's. */
static inline int64_t
swar_tail(const char *e, size_t k)
{
	uint64_t w;
	unsigned sh = (unsigned)(8 - k) * 8;

	memcpy(&w, e - 8, 8);
	if (sh)
		w = (w >> sh << sh) | (0x3030303030303030ULL >> (64 - sh));
	return swar8(w);
}
#endif

/* json_i64 past its common case: 17 or more digits, or a number too near
 * the start of the text to be read a word before its end. */
static int __attribute__((noinline))
i64_slow(const char *s, size_t n, int64_t *out)
{
	char tmp[24], *end;
	size_t i;
	long long v;
	uint64_t u = 0;
	bool neg = *s == '-';

	if (n - neg <= 18) {
		/* up to 18 digits cannot overflow */
		i = neg;
#ifdef SWAR_DIGITS
		for (; i + 8 <= n; i += 8) {
			uint64_t w;
			int64_t v8;

			memcpy(&w, s + i, 8);
			if ((v8 = swar8(w)) < 0)
				return -1;
			u = u * 100000000 + (uint64_t)v8;
		}
#endif
		for (; i < n; i++) {
			unsigned d = (unsigned)(s[i] - '0');

			if (d > 9)
				return -1;
			u = u * 10 + d;
		}
		*out = neg ? -(int64_t)u : (int64_t)u;
		return 0;
	}
	if (n >= sizeof tmp || memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtoll(tmp, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int
json_i64(const struct json *j, int t, int64_t *out)
{
	const char *s;
	size_t n;

	if (json_type(j, t) != JSON_NUMBER)
		return -1;
	s = json_raw(j, t, &n);
	/* the grammar was checked when parsed: an optional '-', digits, then
	 * maybe a fraction or an exponent, which an integer may not have (its
	 * '.', 'e', 'E' or '+' is no digit) */
#ifdef SWAR_DIGITS
	{
		bool neg = *s == '-';
		size_t k = n - neg, end = (size_t)j->tok[t].end;
		int64_t lo, hi = 0;

		/* up to 4 digits (prices, sizes) one by one; up to 16 as one or two
		 * words read back from the end */
		if (k <= 4) {
			uint64_t u = 0;

			for (size_t i = neg; i < n; i++) {
				unsigned d = (unsigned)(s[i] - '0');

				if (d > 9)
					return -1;
				u = u * 10 + d;
			}
			*out = neg ? -(int64_t)u : (int64_t)u;
			return 0;
		}
		if (k <= 8 && end >= 8) {
			if ((lo = swar_tail(s + n, k)) < 0)
				return -1;
			*out = neg ? -lo : lo;
			return 0;
		}
		if (k <= 16 && end >= 16) {
			uint64_t w;

			memcpy(&w, s + n - 8, 8);
			if ((lo = swar8(w)) < 0 || (hi = swar_tail(s + n - 8, k - 8)) < 0)
				return -1;
			lo += hi * 100000000;
			*out = neg ? -lo : lo;
			return 0;
		}
	}
#endif
	return i64_slow(s, n, out);
}

/* A number token's exact value when it needs no more than one IEEE
 * operation: at most 19 digits making an integer w <= 2^53 and a decimal
 * exponent q within +-22 (10^q is then a double exactly), so w * 10^q or
 * w / 10^-q is correctly rounded, the value strtod gives (Clinger's fast
 * path).  0 and *out set, or -1: let strtod do it.  Only where doubles are
 * evaluated in their own precision. */
static int
f64_fast(const char *s, size_t n, double *out)
{
#if FLT_EVAL_METHOD == 0
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	uint64_t w = 0;
	int digits = 0, q = 0, e = 0, esign = 1;
	size_t i = 0;
	bool neg = false;
	double d;

	if (i < n && s[i] == '-')
		neg = true, i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++)
		w = w * 10 + (uint64_t)(s[i] - '0');
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++, q--)
			w = w * 10 + (uint64_t)(s[i] - '0');
	if (digits > 19)
		return -1;              /* w may have wrapped */
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			esign = s[i++] == '-' ? -1 : 1;
		for (int k = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++) {
			if (k == 4)
				return -1;
			e = e * 10 + (s[i] - '0');
		}
		q += esign * e;
	}
	if (i != n || w > (UINT64_C(1) << 53) || q < -22 || q > 22)
		return -1;
	d = (double)w;
	d = q < 0 ? d / p10[-q] : d * p10[q];
	*out = neg ? -d : d;
	return 0;
#else
	(void)s, (void)n, (void)out;
	return -1;
#endif
}

int
json_f64(const struct json *j, int t, double *out)
{
	char tmp[64], *end;
	size_t n;
	const char *s;

	if (json_type(j, t) != JSON_NUMBER)
		return -1;
	s = json_raw(j, t, &n);
	if (f64_fast(s, n, out) == 0)
		return 0;
	if (n >= sizeof tmp)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*out = strtod(tmp, &end);
	return *end || !isfinite(*out) ? -1 : 0;
}

int
json_bool(const struct json *j, int t, bool *out)
{
	enum json_type ty = json_type(j, t);

	if (ty != JSON_TRUE && ty != JSON_FALSE)
		return -1;
	*out = ty == JSON_TRUE;
	return 0;
}

int
json_get_str(const struct json *j, int obj, const char *key, char *out, size_t cap)
{
	if (cap)
		out[0] = '\0';
	return json_str(j, json_get(j, obj, key), out, cap);
}

int
json_get_i64(const struct json *j, int obj, const char *key, int64_t *out)
{
	return json_i64(j, json_get(j, obj, key), out);
}

int
json_get_f64(const struct json *j, int obj, const char *key, double *out)
{
	return json_f64(j, json_get(j, obj, key), out);
}

int
json_get_bool(const struct json *j, int obj, const char *key, bool *out)
{
	return json_bool(j, json_get(j, obj, key), out);
}

/* ---- writing ---- */

void
jw_sep(struct buf *b)
{
	char c;

	if (b->len == 0)
		return;
	c = b->p[b->len - 1];
	if (c != '{' && c != '[' && c != ':')
		buf_putc(b, ',');
}

void
jw_obj(struct buf *b)
{
	jw_sep(b);
	buf_putc(b, '{');
}

void
jw_obj_end(struct buf *b)
{
	buf_putc(b, '}');
}

void
jw_arr(struct buf *b)
{
	jw_sep(b);
	buf_putc(b, '[');
}

void
jw_arr_end(struct buf *b)
{
	buf_putc(b, ']');
}

void
jw_escape(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, k;

	buf_reserve(b, n);
	/* runs without a byte to escape go in whole, found a word at a time */
	while ((k = str_stop(s, i, n)) < n) {
		unsigned char c = (unsigned char)s[k];
		const char *e = NULL;

		buf_add(b, s + i, k - i);
		i = k + 1;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		}
		if (e)
			buf_add(b, e, 2);
		else {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			buf_add(b, u, 6);
		}
	}
	buf_add(b, s + i, n - i);
}

void
jw_key(struct buf *b, const char *k)
{
	jw_sep(b);
	buf_putc(b, '"');
	jw_escape(b, k, strlen(k));
	buf_add(b, "\":", 2);
}

void
jw_strn(struct buf *b, const char *s, size_t n)
{
	jw_sep(b);
	if (str_stop(s, 0, n) == n) {
		/* nothing to escape (the usual string): in whole, quotes and all */
		char *d;

		buf_reserve(b, n + 2);
		d = b->p + b->len;
		d[0] = '"';
		memcpy(d + 1, s, n);
		d[n + 1] = '"';
		d[n + 2] = '\0';
		b->len += n + 2;
		return;
	}
	buf_putc(b, '"');
	jw_escape(b, s, n);
	buf_putc(b, '"');
}

void
jw_str(struct buf *b, const char *s)
{
	if (s == NULL)
		jw_null(b);
	else
		jw_strn(b, s, strlen(s));
}

/* "00" to "99": two digits a step, so half the dependent divisions */
static const char digits2[200] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* The decimal digits of v, ending at e (written backwards); the start. */
static char *
u64_digits(uint64_t v, char *e)
{
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		e -= 2;
		memcpy(e, digits2 + 2 * r, 2);
	}
	if (v >= 10) {
		e -= 2;
		memcpy(e, digits2 + 2 * v, 2);
	} else
		*--e = (char)('0' + v);
	return e;
}

/* A number's text t[0..n) (n <= NUM_MAX) after jw_sep: NUM_MAX bytes
 * copied whatever n, a size the compiler copies in two moves, rather than
 * a call to memcpy for a few bytes; the bytes past n are room, not text. */
#define NUM_MAX 32
static inline void
put_num(struct buf *b, const char *t, size_t n)
{
	jw_sep(b);
	buf_reserve(b, NUM_MAX);
	memcpy(b->p + b->len, t, NUM_MAX);
	b->len += n;
	b->p[b->len] = '\0';
}

void
jw_i64(struct buf *b, int64_t v)
{
	char t[2 * NUM_MAX], *e = t + 24, *p;

	/* the magnitude as unsigned: INT64_MIN has no positive twin */
	p = u64_digits(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, e);
	if (v < 0)
		*--p = '-';
	put_num(b, p, (size_t)(e - p));
}

/* v (finite, |v| <= 1e18) with d decimals, as snprintf's "%.*f" writes
 * it, then without the fraction's trailing zeros (100.50 -> 100.5, 2.00
 * -> 2) and without the sign of a zero; into t (cap >= 64 bytes), at the
 * returned start, ending at *end; the fast way's text ends at t + 32, so
 * NUM_MAX bytes from its start are within t.  The fast way scales to an
 * integer x and rounds it as printf rounds v (to the nearest): the product
 * is within half an ulp of the exact one, x * 2^-53, so a fraction further
 * than x * 2^-52 from one half rounds the same either way; nearer (decimal
 * ties, which printf breaks by v's exact binary value), and what does not
 * fit, go to snprintf. */
static char *
fixed(char *t, size_t cap, double v, int d, char **end)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	double x, f;
	uint64_t u, ip, fp, m;
	char *e, *p;
	int n;
	bool frac;

	if (d >= 0 && d <= 9 && fabs(v) < 1e15 / p10[d]) {
		x = fabs(v) * p10[d];
		u = (uint64_t)x;                /* x < 2^63: truncation is floor */
		f = x - (double)u;              /* exact: x < 2^53 */
		if (fabs(f - 0.5) > x * 0x1p-52) {
			u += f > 0.5;
			/* two and four decimals (cents, percents, ratios) by
			 * constants: no division instruction */
			m = d == 2 ? 100 : d == 4 ? 10000 : (uint64_t)p10[d];
			ip = d == 2 ? u / 100 : d == 4 ? u / 10000 : u / m;
			fp = u - ip * m;
			p = e = t + 32;
			if ((frac = fp != 0)) {
				while (fp % 10 == 0)
					fp /= 10, d--;
				for (; d >= 2; d -= 2) {
					p -= 2;
					memcpy(p, digits2 + 2 * (fp % 100), 2);
					fp /= 100;
				}
				if (d > 0)
					*--p = (char)('0' + fp);
				*--p = '.';
			}
			p = u64_digits(ip, p);
			if (signbit(v) && (ip != 0 || frac))
				*--p = '-';     /* printf keeps the sign of what rounds to 0 */
			*end = e;
			return p;
		}
	}
	n = snprintf(t, cap, "%.*f", d, v);
	if (n < 0 || (size_t)n >= cap)
		n = 0;
	if (memchr(t, '.', (size_t)n)) {
		while (n > 0 && t[n - 1] == '0')
			n--;
		if (n > 0 && t[n - 1] == '.')
			n--;
	}
	if (n == 2 && t[0] == '-' && t[1] == '0')      /* -0 */
		t[0] = '0', n = 1;
	*end = t + n;
	return t;
}

void
jw_f64(struct buf *b, double v, int decimals)
{
	char t[64], *p, *e;

	if (!isfinite(v) || fabs(v) > 1e18) {
		jw_null(b);
		return;
	}
	p = fixed(t, sizeof t, v, decimals, &e);
	if (e == p) {           /* did not fit (hundreds of decimals): no number */
		jw_null(b);
		return;
	}
	if (e - p <= NUM_MAX && p + NUM_MAX <= t + sizeof t)
		put_num(b, p, (size_t)(e - p));
	else {
		jw_sep(b);
		buf_add(b, p, (size_t)(e - p));
	}
}

void
jw_bool(struct buf *b, bool v)
{
	jw_sep(b);
	buf_puts(b, v ? "true" : "false");
}

void
jw_null(struct buf *b)
{
	jw_sep(b);
	buf_puts(b, "null");
}

void
jw_raw(struct buf *b, const char *s, size_t n)
{
	jw_sep(b);
	buf_add(b, s, n);
}

void
jw_kstr(struct buf *b, const char *k, const char *v)
{
	jw_key(b, k);
	jw_str(b, v);
}

void
jw_ki64(struct buf *b, const char *k, int64_t v)
{
	jw_key(b, k);
	jw_i64(b, v);
}

void
jw_kbool(struct buf *b, const char *k, bool v)
{
	jw_key(b, k);
	jw_bool(b, v);
}

void
jw_kf64(struct buf *b, const char *k, double v, int decimals)
{
	jw_key(b, k);
	jw_f64(b, v, decimals);
}
