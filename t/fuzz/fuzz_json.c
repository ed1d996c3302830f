/* fuzz_json: the JSON parser against the jsmn-based one it replaced
 * (json_ref.h: the same texts accepted, the same tokens), every accessor
 * on every token (json_getv against json_get), and the writer's escaping
 * of any bytes (its output must parse back to them). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "json.h"
#include "json_ref.h"
#include "ndjson.h"

/* The type json.h gives a jsmn token. */
static enum json_type
ref_type(const struct ref_json *r, int t)
{
	switch (r->tok[t].type) {
	case JSMN_OBJECT: return JSON_OBJECT;
	case JSMN_ARRAY: return JSON_ARRAY;
	case JSMN_STRING: return JSON_STRING;
	case JSMN_PRIMITIVE:
		switch (r->s[r->tok[t].start]) {
		case 't': return JSON_TRUE;
		case 'f': return JSON_FALSE;
		case 'n': return JSON_NULL;
		default: return JSON_NUMBER;
		}
	default: return JSON_NONE;
	}
}

/* Both parsers on the same text: the same verdict, the same tokens.  Not
 * where they are known to differ: jsmn stops at a NUL byte (the old
 * reader took "{}" NUL "junk" as "{}"), and its depth limit counted a
 * scalar inside the deepest container as one more level. */
static void
differential(const struct json *j, int rc, const uint8_t *data, size_t size)
{
	struct ref_json r = { 0 };
	int depth = 0, deepest = 0, rrc;

	if (memchr(data, 0, size) != NULL)
		return;
	for (size_t i = 0; i < size; i++)
		if ((data[i] == '[' || data[i] == '{') && ++depth > deepest)
			deepest = depth;
	if (deepest >= 500)
		return;
	rrc = ref_parse(&r, (const char *)data, size);
	if ((rc == 0) != (rrc == 0))
		abort();
	if (rc == 0) {
		if (r.ntok != j->ntok)
			abort();
		for (int t = 0; t < j->ntok; t++)
			if (ref_type(&r, t) != j->tok[t].type || r.tok[t].start != j->tok[t].start ||
			    r.tok[t].end != j->tok[t].end || r.tok[t].size != j->tok[t].size)
				abort();
	}
	free(r.tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json j = { 0 }, k = { 0 };
	struct buf b = { 0 };
	int rc = json_parse(&j, (const char *)data, size);

	differential(&j, rc, data, size);
	/* json_parse_z, on the same bytes with a NUL after them: the same
	 * verdict, error and tokens */
	{
		struct json z = { 0 };
		char *copy = malloc(size + 1);

		if (copy == NULL)
			abort();
		memcpy(copy, data, size);
		copy[size] = '\0';
		if ((json_parse_z(&z, copy, size) == 0) != (rc == 0) || strcmp(z.err, j.err) != 0 || z.ntok != j.ntok)
			abort();
		for (int t = 0; t < j.ntok; t++)
			if (memcmp(&z.tok[t], &j.tok[t], offsetof(struct json_tok, esc)) != 0 || z.tok[t].esc != j.tok[t].esc)
				abort();
		json_free(&z);
		free(copy);
	}
	/* a string's escape flag: whether it holds a backslash */
	for (int t = 0; rc == 0 && t < j.ntok; t++)
		if (j.tok[t].esc != (j.tok[t].type == JSON_STRING &&
		    memchr(data + j.tok[t].start, '\\', (size_t)(j.tok[t].end - j.tok[t].start)) != NULL))
			abort();
	if (rc == 0) {
		for (int t = 0; t < j.ntok; t++) {
			char s[128];
			int64_t i;
			double d;
			bool v;
			size_t n;

			json_type(&j, t);
			/* the token after t's subtree: the first one starting past its end */
			{
				int e = t + 1;

				while (e < j.ntok && j.tok[e].start < j.tok[t].end)
					e++;
				if (json_skip(&j, t) != e)
					abort();
			}
			json_size(&j, t);
			json_at(&j, t, 0);
			json_raw(&j, t, &n);
			json_str(&j, t, s, sizeof s);
			/* an integer read fast: what strtoll reads */
			if (json_i64(&j, t, &i) == 0) {
				const char *raw = json_raw(&j, t, &n);
				char num[32];

				if (n >= sizeof num)
					abort();
				memcpy(num, raw, n);
				num[n] = '\0';
				if (strtoll(num, NULL, 10) != i)
					abort();
			}
			/* read without strtod where exact: the same double as strtod */
			if (json_f64(&j, t, &d) == 0) {
				const char *raw = json_raw(&j, t, &n);
				char num[64];
				double want;

				if (n >= sizeof num)
					abort();
				memcpy(num, raw, n);
				num[n] = '\0';
				want = strtod(num, NULL);
				if (d != want || signbit(d) != signbit(want))
					abort();
			}
			json_bool(&j, t, &v);
			/* several keys in one pass: what json_get finds, key by key */
			{
				static const char *const keys[] = { "ts", "type", "a", "price", "" };
				static const size_t klen[] = { 2, 4, 1, 5, 0 };
				int out[5];

				json_getv(&j, t, 5, keys, klen, out);
				for (int q = 0; q < 5; q++)
					if (out[q] != json_get(&j, t, keys[q]))
						abort();
			}
		}
	}
	/* escape the bytes as a string value; it must parse, and come back */
	jw_obj(&b);
	jw_key(&b, "v");
	jw_strn(&b, (const char *)data, size);
	jw_obj_end(&b);
	/* valid UTF-8 without NUL (which the reader refuses in a string, as C
	 * strings could not carry it) */
	if (utf8_check((const char *)data, size) < 0 && memchr(data, 0, size) == NULL) {
		struct buf back = { 0 };

		if (json_parse(&k, b.p, b.len) != 0 || json_str_buf(&k, json_get(&k, 0, "v"), &back) != 0 ||
		    back.len != size || memcmp(back.p ? back.p : "", data, size) != 0)
			abort();
		buf_free(&back);
	}
	buf_free(&b);
	json_free(&j);
	json_free(&k);
	return 0;
}
