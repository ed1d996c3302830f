/* json.h: JSON reading (tokens, checked against RFC 8259) and writing.
 *
 * Reading: json_parse reads one complete JSON text in one pass, making a
 * token for every value and key and refusing what RFC 8259's grammar does
 * not allow (a missing or extra separator, a bad number, literal or
 * escape, a control byte in a string, anything after the value).  UTF-8
 * is not checked here (ndjson.h does).  Tokens point into the caller's
 * text, which must outlive the struct json.  Token 0 is the root; a
 * container's members follow it, in order, depth first.
 *
 * Access is by token index; -1 means "absent".  Helpers that convert a
 * value return 0 on success and -1 on a wrong type or a value that does not
 * fit; they never return a silent zero.
 *
 * Writing: the jw_* functions append to a struct buf, inserting commas
 * themselves: a separator is added before a key or array element unless the
 * buffer ends in '{', '[' or ':'. */
#ifndef RECIO_JSON_H
#define RECIO_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

enum json_type { JSON_NONE = 0, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_NUMBER, JSON_TRUE, JSON_FALSE, JSON_NULL };

/* A value or key: bytes [start, end) of the text (a string's without its
 * quotes; a container's from its bracket to past the closing one). */
struct json_tok {
	int start, end;
	int size;           /* members of an object, elements of an array; a key: 1 */
	int next;           /* the token after this one and all its children */
	enum json_type type;
	bool esc;           /* a string with an escape (json_str must decode it) */
};

struct json {
	const char *s;      /* the text parsed (not owned) */
	size_t len;
	struct json_tok *tok;   /* owned, grown on demand and kept for reuse */
	int ntok, cap;
	int tok_max;        /* most tokens a text may hold; 0: RECIO_JSON_TOK_MAX (an
	                     * NDJSON line).  HTTP bodies: RECIO_HTTP_TOK_MAX (http_json) */
	char err[96];       /* why the last json_parse failed, e.g. "expected ',' at byte 17" */
};

/* Parse s[0..len).  Returns 0, or -1 with j->err set.  The token array is
 * reused between calls; json_free releases it.  More than j->tok_max
 * tokens (0: RECIO_JSON_TOK_MAX), or containers nested more than 512 deep,
 * is an error (the limit is checked when the token array grows: one grown
 * for a larger limit before is used whole).  j->err says what and at which byte (from 1), or "truncated
 * JSON" when the text ends inside a value. */
int json_parse(struct json *j, const char *s, size_t len);
/* json_parse of a text followed by a NUL (s[len] == '\0', as ndjson_line's
 * lines are): the same tokens, verdict and error, with fewer bound checks
 * (the NUL stops the scan where the text's end would). */
int json_parse_z(struct json *j, const char *s, size_t len);
void json_free(struct json *j);

enum json_type json_type(const struct json *j, int t);
/* Index of the token after t and all its children. */
int json_skip(const struct json *j, int t);
/* Value token for key in object obj, or -1 (also -1 when obj is not an object). */
int json_get(const struct json *j, int obj, const char *key);
/* Value tokens of n distinct keys of object obj in one pass over its
 * members: out[i] for keys[i] (klen[i] its length; SIZE_MAX: matches
 * nothing), -1 when absent; of duplicate members the first, as json_get.
 * Members in the order of keys cost one comparison each (the key after
 * the last found is tried first). */
void json_getv(const struct json *j, int obj, int n, const char *const *keys, const size_t *klen, int *out);
/* Number of members of an object / elements of an array at t. */
int json_size(const struct json *j, int t);
/* Index of element i of array arr, or -1. */
int json_at(const struct json *j, int arr, int i);
/* Raw bytes of a token (for strings: without quotes, still escaped). */
const char *json_raw(const struct json *j, int t, size_t *n);
/* True when token t is a string equal to lit (no unescaping: lit is plain ASCII). */
bool json_streq(const struct json *j, int t, const char *lit);

/* Unescape string token t into out (cap bytes incl. NUL).  -1 if t is not a
 * string, contains an invalid escape, or does not fit. */
int json_str(const struct json *j, int t, char *out, size_t cap);
/* Same, appending to a buf (no size limit beyond the token's). */
int json_str_buf(const struct json *j, int t, struct buf *out);
/* Integer number token (no fraction or exponent), range-checked. */
int json_i64(const struct json *j, int t, int64_t *out);
/* Any number token as double (for prices of BTC, never money). */
int json_f64(const struct json *j, int t, double *out);
int json_bool(const struct json *j, int t, bool *out);

/* Convenience: json_get + conversion.  Return -1 when absent too. */
int json_get_str(const struct json *j, int obj, const char *key, char *out, size_t cap);
int json_get_i64(const struct json *j, int obj, const char *key, int64_t *out);
int json_get_f64(const struct json *j, int obj, const char *key, double *out);
int json_get_bool(const struct json *j, int obj, const char *key, bool *out);

/* Writing. */
void jw_sep(struct buf *b);                         /* ',' unless after '{' '[' ':' or empty */
void jw_obj(struct buf *b);                         /* sep + '{' */
void jw_obj_end(struct buf *b);                     /* '}' */
void jw_arr(struct buf *b);                         /* sep + '[' */
void jw_arr_end(struct buf *b);                     /* ']' */
void jw_key(struct buf *b, const char *k);          /* sep + "k": */
void jw_str(struct buf *b, const char *s);          /* sep + escaped string; NULL writes null */
void jw_strn(struct buf *b, const char *s, size_t n);
void jw_i64(struct buf *b, int64_t v);
void jw_f64(struct buf *b, double v, int decimals); /* fixed decimals, for BTC prices */
void jw_bool(struct buf *b, bool v);
void jw_null(struct buf *b);
void jw_raw(struct buf *b, const char *s, size_t n); /* sep + bytes as given (already JSON) */
/* key + value in one call */
void jw_kstr(struct buf *b, const char *k, const char *v);
void jw_ki64(struct buf *b, const char *k, int64_t v);
void jw_kbool(struct buf *b, const char *k, bool v);
void jw_kf64(struct buf *b, const char *k, double v, int decimals);
/* Escape s into b without quotes or separator (\" \\ \n \r \t \b \f, \u00XX for other controls). */
void jw_escape(struct buf *b, const char *s, size_t n);

#endif
