/* json_ref.h: the JSON reader recio used before its own one-pass parser
 * (lib/json.c): jsmn (Debian's libjsmn-dev, strict mode) to tokenise, then
 * a pass checking what jsmn leaves unchecked.  fuzz_json runs both on
 * every input: they must accept and refuse the same texts and make the
 * same tokens.  Kept as it was, names prefixed with ref_. */
#ifndef RECIO_JSON_REF_H
#define RECIO_JSON_REF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#define JSMN_STATIC
#include <jsmn.h>

#include "diag.h"
#include "rlimits.h"

struct ref_json {
	const char *s;
	size_t len;
	jsmntok_t *tok;
	int ntok, cap;
	char err[96];
};
static int
ref_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
ref_number_ok(const char *s, size_t n)
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
ref_hexval(char c)
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
ref_string_ok(const char *s, size_t n)
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
					if (i + (size_t)k >= n || ref_hexval(s[i + (size_t)k]) < 0)
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
ref_verr(struct ref_json *j, size_t at, const char *what)
{
	snprintf(j->err, sizeof j->err, "%s at byte %zu", what, at + 1);
	return -1;
}

/* Skip whitespace from *p up to end; return the first other byte or 0. */
static char
ref_next_char(const struct ref_json *j, size_t *p, size_t end)
{
	while (*p < end && ref_is_ws(j->s[*p]))
		(*p)++;
	if (*p >= end)
		return '\0';
	return j->s[*p];
}

/* The first byte at or after p that is not whitespace (end if none). */
static inline size_t
ref_skip_ws(const char *s, size_t p, size_t end)
{
	while (p < end && ref_is_ws(s[p]))
		p++;
	return p;
}

/* True when s[0..n) holds a byte that ref_string_ok could refuse: a control
 * byte or a backslash.  Eight bytes at a time; without one, every string
 * token of the text is valid as it stands (the usual machine-written
 * line), and ref_check() skips ref_string_ok.  A false positive only costs the
 * byte-wise ref_check. */
static bool
ref_has_special(const char *s, size_t n)
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
ref_tstart(const struct ref_json *j, int t)
{
	return (size_t)j->tok[t].start - (j->tok[t].type == JSMN_STRING);
}

static size_t
ref_tend(const struct ref_json *j, int t)
{
	return (size_t)j->tok[t].end + (j->tok[t].type == JSMN_STRING);
}

/* true, false, null or a number */
static int
ref_primitive_ok(const char *s, size_t n)
{
	switch (s[0]) {
	case 't': return n == 4 && memcmp(s, "true", 4) == 0;
	case 'f': return n == 5 && memcmp(s, "false", 5) == 0;
	case 'n': return n == 4 && memcmp(s, "null", 4) == 0;
	default: return ref_number_ok(s, n);
	}
}

#define REF_DEPTH_MAX 512

/* Check token t and its subtree; return the index after it, or -1.
 * plain: the text has no control byte nor backslash (ref_has_special), so
 * its strings need no ref_check.  A container's scalar members are checked
 * in its own loop, without a call. */
static int
ref_check(struct ref_json *j, int t, int depth, bool plain)  /* NOLINT(misc-no-recursion): depth is capped at REF_DEPTH_MAX */
{
	jsmntok_t *k = &j->tok[t];
	size_t n = (size_t)(k->end - k->start);
	const char *s = j->s + k->start;

	if (depth > REF_DEPTH_MAX)
		return ref_verr(j, (size_t)k->start, "nesting too deep"), -1;
	switch (k->type) {
	case JSMN_PRIMITIVE:
		if (ref_primitive_ok(s, n))
			return t + 1;
		return ref_verr(j, (size_t)k->start, "invalid literal or number"), -1;
	case JSMN_STRING:
		if (!plain && !ref_string_ok(s, n))
			return ref_verr(j, (size_t)k->start, "invalid string (control byte or escape)"), -1;
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
				p = ref_skip_ws(x, p, end);
				if (p >= end || x[p] != ',')
					return ref_verr(j, p, "expected ','"), -1;
				p++;
			}
			p = ref_skip_ws(x, p, end);
			if (p >= end || x[p] == '\0' || p != ref_tstart(j, c))
				return ref_verr(j, p, obj ? "expected a key" : "expected a value"), -1;
			if (obj) {
				const jsmntok_t *key = &j->tok[c];

				if (key->type != JSMN_STRING || key->size != 1)
					return ref_verr(j, p, "expected a string key"), -1;
				if (!plain && !ref_string_ok(x + key->start, (size_t)(key->end - key->start)))
					return ref_verr(j, p, "invalid string (control byte or escape)"), -1;
				p = ref_skip_ws(x, (size_t)key->end + 1, end);
				if (p >= end || x[p] != ':')
					return ref_verr(j, p, "expected ':'"), -1;
				p = ref_skip_ws(x, p + 1, end);
				c++;
				if (p >= end || x[p] == '\0' || p != ref_tstart(j, c))
					return ref_verr(j, p, "expected a value"), -1;
			}
			v = &j->tok[c];
			if (v->type == JSMN_STRING && depth < REF_DEPTH_MAX) {
				if (!plain && !ref_string_ok(x + v->start, (size_t)(v->end - v->start)))
					return ref_verr(j, (size_t)v->start, "invalid string (control byte or escape)"), -1;
				c++;
			} else if (v->type == JSMN_PRIMITIVE && depth < REF_DEPTH_MAX) {
				if (!ref_primitive_ok(x + v->start, (size_t)(v->end - v->start)))
					return ref_verr(j, (size_t)v->start, "invalid literal or number"), -1;
				c++;
			} else if ((c = ref_check(j, c, depth + 1, plain)) < 0)
				return -1;
			p = (size_t)v->end + (v->type == JSMN_STRING);  /* containers: jsmn's end is past the bracket */
		}
		p = ref_skip_ws(x, p, end);
		if (p < end && x[p] != '\0')
			return ref_verr(j, p, x[p] == ',' ? "trailing ','" : "unexpected character"), -1;
		return c;
	}
	default:
		return ref_verr(j, (size_t)k->start, "invalid token"), -1;
	}
}

static int
ref_parse(struct ref_json *j, const char *s, size_t len)
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
		return ref_verr(j, p.pos, "invalid JSON");
	if (r == JSMN_ERROR_PART) {
		/* jsmn's strict mode wants a delimiter after a primitive at the
		 * root: a bare number or literal is checked here instead */
		size_t a = 0, e = len;

		while (a < len && ref_is_ws(s[a]))
			a++;
		while (e > a && ref_is_ws(s[e - 1]))
			e--;
		if (a < e && s[a] != '{' && s[a] != '[' && s[a] != '"' && memchr(s + a, ' ', e - a) == NULL &&
		    ((e - a == 4 && (memcmp(s + a, "true", 4) == 0 || memcmp(s + a, "null", 4) == 0)) ||
		    (e - a == 5 && memcmp(s + a, "false", 5) == 0) || ref_number_ok(s + a, e - a))) {
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
	if (ref_next_char(j, &q, len) == 0 || q != ref_tstart(j, 0)) {
		j->ntok = 0;
		return ref_verr(j, q, "unexpected character");
	}
	if (ref_check(j, 0, 0, !ref_has_special(s, len)) != r) {
		if (j->err[0] == '\0')
			snprintf(j->err, sizeof j->err, "more than one JSON value");
		j->ntok = 0;
		return -1;
	}
	q = ref_tend(j, 0);
	if (ref_next_char(j, &q, len) != 0) {
		j->ntok = 0;
		return ref_verr(j, q, "trailing characters after the JSON value");
	}
	return 0;
}

#endif
