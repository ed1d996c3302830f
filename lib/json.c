/* json.c: see json.h.  jsmn tokenises; validate() checks what jsmn does
 * not: the separators between tokens, number and literal grammar, control
 * bytes and escapes in strings, and anything after the root value. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "diag.h"
#include "json.h"
#include "rlimits.h"

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
number_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i == n)
		return 0;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		size_t d = ++i;

		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t d;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		d = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			return 0;
	}
	return i == n;
}

static int
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

static int
string_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (++i >= n)
				return 0;
			switch (s[i]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				break;
			case 'u':
				for (int k = 1; k <= 4; k++)
					if (i + (size_t)k >= n || hexval(s[i + (size_t)k]) < 0)
						return 0;
				i += 4;
				break;
			default:
				return 0;
			}
		}
	}
	return 1;
}

static int
verr(struct json *j, size_t at, const char *what)
{
	snprintf(j->err, sizeof j->err, "%s at byte %zu", what, at + 1);
	return -1;
}

/* Skip whitespace from *p up to end; return the first other byte or 0. */
static char
next_char(const struct json *j, size_t *p, size_t end)
{
	while (*p < end && is_ws(j->s[*p]))
		(*p)++;
	if (*p >= end)
		return '\0';
	return j->s[*p];
}

/* The first byte at or after p that is not whitespace (end if none). */
static inline size_t
skip_ws(const char *s, size_t p, size_t end)
{
	while (p < end && is_ws(s[p]))
		p++;
	return p;
}

/* True when s[0..n) holds a byte that string_ok could refuse: a control
 * byte or a backslash.  Eight bytes at a time; without one, every string
 * token of the text is valid as it stands (the usual machine-written
 * line), and check() skips string_ok.  A false positive only costs the
 * byte-wise check. */
static bool
has_special(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL, bs = ones * '\\';
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w, b;

		memcpy(&w, s + i, 8);
		b = w ^ bs;
		/* a byte < 0x20, or a zero byte in w ^ "\\\\\\..." */
		if ((((w - ones * 0x20) & ~w) | ((b - ones) & ~b)) & highs)
			return true;
	}
	for (; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '\\')
			return true;
	return false;
}

/* Where a token's text starts and ends, quotes included for strings. */
static size_t
tstart(const struct json *j, int t)
{
	return (size_t)j->tok[t].start - (j->tok[t].type == JSMN_STRING);
}

static size_t
tend(const struct json *j, int t)
{
	return (size_t)j->tok[t].end + (j->tok[t].type == JSMN_STRING);
}

/* true, false, null or a number */
static int
primitive_ok(const char *s, size_t n)
{
	switch (s[0]) {
	case 't': return n == 4 && memcmp(s, "true", 4) == 0;
	case 'f': return n == 5 && memcmp(s, "false", 5) == 0;
	case 'n': return n == 4 && memcmp(s, "null", 4) == 0;
	default: return number_ok(s, n);
	}
}

#define DEPTH_MAX 512

/* Check token t and its subtree; return the index after it, or -1.
 * plain: the text has no control byte nor backslash (has_special), so
 * its strings need no check.  A container's scalar members are checked
 * in its own loop, without a call. */
static int
check(struct json *j, int t, int depth, bool plain)  /* NOLINT(misc-no-recursion): depth is capped at DEPTH_MAX */
{
	jsmntok_t *k = &j->tok[t];
	size_t n = (size_t)(k->end - k->start);
	const char *s = j->s + k->start;

	if (depth > DEPTH_MAX)
		return verr(j, (size_t)k->start, "nesting too deep"), -1;
	switch (k->type) {
	case JSMN_PRIMITIVE:
		if (primitive_ok(s, n))
			return t + 1;
		return verr(j, (size_t)k->start, "invalid literal or number"), -1;
	case JSMN_STRING:
		if (!plain && !string_ok(s, n))
			return verr(j, (size_t)k->start, "invalid string (control byte or escape)"), -1;
		return t + 1;
	case JSMN_OBJECT:
	case JSMN_ARRAY: {
		const char *x = j->s;
		bool obj = k->type == JSMN_OBJECT;
		size_t p = (size_t)k->start + 1, end = (size_t)k->end - 1;
		int c = t + 1, size = k->size;

		for (int i = 0; i < size; i++) {
			const jsmntok_t *v;

			if (i > 0) {
				p = skip_ws(x, p, end);
				if (p >= end || x[p] != ',')
					return verr(j, p, "expected ','"), -1;
				p++;
			}
			p = skip_ws(x, p, end);
			if (p >= end || x[p] == '\0' || p != tstart(j, c))
				return verr(j, p, obj ? "expected a key" : "expected a value"), -1;
			if (obj) {
				const jsmntok_t *key = &j->tok[c];

				if (key->type != JSMN_STRING || key->size != 1)
					return verr(j, p, "expected a string key"), -1;
				if (!plain && !string_ok(x + key->start, (size_t)(key->end - key->start)))
					return verr(j, p, "invalid string (control byte or escape)"), -1;
				p = skip_ws(x, (size_t)key->end + 1, end);
				if (p >= end || x[p] != ':')
					return verr(j, p, "expected ':'"), -1;
				p = skip_ws(x, p + 1, end);
				c++;
				if (p >= end || x[p] == '\0' || p != tstart(j, c))
					return verr(j, p, "expected a value"), -1;
			}
			v = &j->tok[c];
			if (v->type == JSMN_STRING && depth < DEPTH_MAX) {
				if (!plain && !string_ok(x + v->start, (size_t)(v->end - v->start)))
					return verr(j, (size_t)v->start, "invalid string (control byte or escape)"), -1;
				c++;
			} else if (v->type == JSMN_PRIMITIVE && depth < DEPTH_MAX) {
				if (!primitive_ok(x + v->start, (size_t)(v->end - v->start)))
					return verr(j, (size_t)v->start, "invalid literal or number"), -1;
				c++;
			} else if ((c = check(j, c, depth + 1, plain)) < 0)
				return -1;
			p = (size_t)v->end + (v->type == JSMN_STRING);  /* containers: jsmn's end is past the bracket */
		}
		p = skip_ws(x, p, end);
		if (p < end && x[p] != '\0')
			return verr(j, p, x[p] == ',' ? "trailing ','" : "unexpected character"), -1;
		return c;
	}
	default:
		return verr(j, (size_t)k->start, "invalid token"), -1;
	}
}

int
json_parse(struct json *j, const char *s, size_t len)
{
	jsmn_parser p;
	int r;
	size_t q;

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
	for (;;) {
		jsmn_init(&p);
		r = jsmn_parse(&p, s, len, j->tok, (unsigned)j->cap);
		if (r != JSMN_ERROR_NOMEM)
			break;
		if (j->cap >= RECIO_JSON_TOK_MAX) {
			snprintf(j->err, sizeof j->err, "more than %d tokens", RECIO_JSON_TOK_MAX);
			return -1;
		}
		j->cap *= 4;
		if (j->cap > RECIO_JSON_TOK_MAX)
			j->cap = RECIO_JSON_TOK_MAX;
		j->tok = xrealloc(j->tok, (size_t)j->cap * sizeof *j->tok);
	}
	if (r == JSMN_ERROR_INVAL)
		return verr(j, p.pos, "invalid JSON");
	if (r == JSMN_ERROR_PART) {
		/* jsmn's strict mode wants a delimiter after a primitive at the
		 * root: a bare number or literal is checked here instead */
		size_t a = 0, e = len;

		while (a < len && is_ws(s[a]))
			a++;
		while (e > a && is_ws(s[e - 1]))
			e--;
		if (a < e && s[a] != '{' && s[a] != '[' && s[a] != '"' && memchr(s + a, ' ', e - a) == NULL &&
		    ((e - a == 4 && (memcmp(s + a, "true", 4) == 0 || memcmp(s + a, "null", 4) == 0)) ||
		    (e - a == 5 && memcmp(s + a, "false", 5) == 0) || number_ok(s + a, e - a))) {
			j->tok[0].type = JSMN_PRIMITIVE;
			j->tok[0].start = (int)a;
			j->tok[0].end = (int)e;
			j->tok[0].size = 0;
			j->tok[0].parent = -1;
			j->ntok = 1;
			return 0;
		}
		snprintf(j->err, sizeof j->err, "truncated JSON");
		return -1;
	}
	if (r == 0) {
		snprintf(j->err, sizeof j->err, "no JSON value");
		return -1;
	}
	j->ntok = r;
	q = 0;
	if (next_char(j, &q, len) == 0 || q != tstart(j, 0)) {
		j->ntok = 0;
		return verr(j, q, "unexpected character");
	}
	if (check(j, 0, 0, !has_special(s, len)) != r) {
		if (j->err[0] == '\0')
			snprintf(j->err, sizeof j->err, "more than one JSON value");
		j->ntok = 0;
		return -1;
	}
	q = tend(j, 0);
	if (next_char(j, &q, len) != 0) {
		j->ntok = 0;
		return verr(j, q, "trailing characters after the JSON value");
	}
	return 0;
}

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
	const char *s;

	if (t < 0 || t >= j->ntok)
		return JSON_NONE;
	switch (j->tok[t].type) {
	case JSMN_OBJECT: return JSON_OBJECT;
	case JSMN_ARRAY: return JSON_ARRAY;
	case JSMN_STRING: return JSON_STRING;
	case JSMN_PRIMITIVE:
		s = j->s + j->tok[t].start;
		return *s == 't' ? JSON_TRUE : *s == 'f' ? JSON_FALSE : *s == 'n' ? JSON_NULL : JSON_NUMBER;
	default: return JSON_NONE;
	}
}

int
json_skip(const struct json *j, int t)
{
	int end;

	if (t < 0 || t >= j->ntok)
		return j->ntok;
	end = j->tok[t].end;
	t++;
	/* children start before the parent's end (strings: start is inside quotes) */
	while (t < j->ntok && j->tok[t].start < end)
		t++;
	return t;
}

int
json_get(const struct json *j, int obj, const char *key)
{
	size_t kl = strlen(key);
	int n, t;

	if (obj < 0 || obj >= j->ntok || j->tok[obj].type != JSMN_OBJECT)
		return -1;
	n = j->tok[obj].size;
	t = obj + 1;
	for (int i = 0; i < n; i++) {
		const jsmntok_t *k = &j->tok[t];

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
	if (n <= 0 || obj < 0 || obj >= j->ntok || j->tok[obj].type != JSMN_OBJECT)
		return;
	m = j->tok[obj].size;
	t = obj + 1;
	for (int i = 0; i < m && found < n; i++) {
		const jsmntok_t *k = &j->tok[t];
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
	if (t < 0 || t >= j->ntok || (j->tok[t].type != JSMN_OBJECT && j->tok[t].type != JSMN_ARRAY))
		return 0;
	return j->tok[t].size;
}

int
json_at(const struct json *j, int arr, int i)
{
	int t;

	if (arr < 0 || arr >= j->ntok || j->tok[arr].type != JSMN_ARRAY || i < 0 || i >= j->tok[arr].size)
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

	return t >= 0 && t < j->ntok && j->tok[t].type == JSMN_STRING &&
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

/* The code point of 4 hex digits; -1 when one is not a hex digit (jsmn
 * checks them, but a shift of hexval's -1 would be undefined). */
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

	if (t < 0 || t >= j->ntok || j->tok[t].type != JSMN_STRING)
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
	/* plain strings (the usual case) without the heap */
	if (t >= 0 && t < j->ntok && j->tok[t].type == JSMN_STRING) {
		size_t n;
		const char *s = json_raw(j, t, &n);

		if (memchr(s, '\\', n) == NULL) {
			if (n >= cap)
				return -1;
			memcpy(out, s, n);
			out[n] = '\0';
			return 0;
		}
	}
	if (json_str_buf(j, t, &b) == 0 && b.len < cap) {
		memcpy(out, b.p ? b.p : "", b.len + 1 > 1 ? b.len + 1 : 1);
		out[b.len] = '\0';
		rc = 0;
	}
	buf_free(&b);
	return rc;
}

int
json_i64(const struct json *j, int t, int64_t *out)
{
	char tmp[24], *end;
	size_t n, i;
	const char *s;
	long long v;
	int64_t u = 0;

	if (json_type(j, t) != JSON_NUMBER)
		return -1;
	s = json_raw(j, t, &n);
	if (n >= sizeof tmp)
		return -1;
	/* the grammar was checked when parsed: an optional '-', digits, then
	 * maybe a fraction or an exponent, which an integer may not have */
	for (i = *s == '-'; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (i - (*s == '-') == 18)
			break;          /* a 19th digit: strtoll checks the range */
		u = u * 10 + (s[i] - '0');
	}
	if (i == n) {
		*out = *s == '-' ? -u : u;
		return 0;
	}
	if (memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n))
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
	size_t run = 0;

	buf_reserve(b, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, s + run, i - run);
		run = i + 1;
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
			buf_puts(b, e);
		else {
			char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };

			buf_add(b, u, 6);
		}
	}
	buf_add(b, s + run, n - run);
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

/* The decimal digits of v, ending at e (written backwards); the start. */
static char *
u64_digits(uint64_t v, char *e)
{
	do {
		*--e = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return e;
}

void
jw_i64(struct buf *b, int64_t v)
{
	char t[24], *e = t + sizeof t, *p;

	/* the magnitude as unsigned: INT64_MIN has no positive twin */
	p = u64_digits(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, e);
	if (v < 0)
		*--p = '-';
	jw_sep(b);
	buf_add(b, p, (size_t)(e - p));
}

/* v with d decimals into t, as snprintf's "%.*f" writes it, to the byte.
 * The fast way scales to an integer, which rounds as printf does (to the
 * nearest) unless the scaled value is near a tie, where the product's own
 * rounding could decide: those, and what does not fit, go to snprintf. */
static int
fixed(char *t, size_t cap, double v, int d)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	double x, f;
	uint64_t u, ip, fp;
	char *e, *p;
	int k;

	if (d < 0 || d > 9 || cap < 32 || !(fabs(v) < 1e15 / p10[d]))
		return snprintf(t, cap, "%.*f", d, v);
	x = fabs(v) * p10[d];
	f = x - floor(x);
	if (f > 0.499 && f < 0.501)
		return snprintf(t, cap, "%.*f", d, v);
	u = (uint64_t)floor(x) + (f > 0.5);
	ip = u / (uint64_t)p10[d];
	fp = u % (uint64_t)p10[d];
	e = t + 32;
	for (k = 0; k < d; k++) {
		*--e = (char)('0' + fp % 10);
		fp /= 10;
	}
	if (d > 0)
		*--e = '.';
	e = u64_digits(ip, e);
	if (signbit(v))         /* printf keeps the sign of what rounds to 0 */
		*--e = '-';
	p = t + 32;
	k = (int)(p - e);
	memmove(t, e, (size_t)k);
	t[k] = '\0';
	return k;
}

void
jw_f64(struct buf *b, double v, int decimals)
{
	char t[64];
	int n;

	if (!isfinite(v) || fabs(v) > 1e18) {
		jw_null(b);
		return;
	}
	n = fixed(t, sizeof t, v, decimals);
	/* trim trailing zeros of the fraction: 100.50 -> 100.5, 2.00 -> 2 */
	if (memchr(t, '.', (size_t)n)) {
		while (n > 0 && t[n - 1] == '0')
			n--;
		if (n > 0 && t[n - 1] == '.')
			n--;
	}
	if (n == 2 && t[0] == '-' && t[1] == '0')      /* -0 */
		t[0] = '0', n = 1;
	jw_sep(b);
	buf_add(b, t, (size_t)n);
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
