/* fuzz_json: the JSON parser, every accessor on every token (json_getv
 * against json_get), and the writer's escaping of any bytes (its output
 * must parse back to them). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "json.h"
#include "ndjson.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json j = { 0 }, k = { 0 };
	struct buf b = { 0 };

	if (json_parse(&j, (const char *)data, size) == 0) {
		for (int t = 0; t < j.ntok; t++) {
			char s[128];
			int64_t i;
			double d;
			bool v;
			size_t n;

			json_type(&j, t);
			json_skip(&j, t);
			json_size(&j, t);
			json_at(&j, t, 0);
			json_raw(&j, t, &n);
			json_str(&j, t, s, sizeof s);
			json_i64(&j, t, &i);
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
