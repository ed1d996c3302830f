/* fuzz_money: the exact conversions at the edge (dollar strings, _fp
 * counts, cents, counts) over any bytes; what parses must print back to a
 * value that parses to the same number.  And the numbers the JSON writer
 * formats itself: byte for byte what printf writes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "../unit/f64ref.h"
#include "json.h"
#include "money.h"

/* jw_f64 and jw_i64 against printf, on the first 9 bytes as a double, an
 * integer and a number of decimals */
static void
numbers(const uint8_t *data, size_t size)
{
	static struct buf b;
	char want[400];
	double v;
	int64_t i;
	int d;

	if (size < 9)
		return;
	memcpy(&v, data, 8);
	memcpy(&i, data, 8);
	d = data[8] % 10;
	buf_reset(&b);
	jw_i64(&b, i);
	snprintf(want, sizeof want, "%lld", (long long)i);
	if (strcmp(b.p, want) != 0)
		abort();
	if (!isfinite(v) || fabs(v) > 1e18)
		return;
	buf_reset(&b);
	jw_f64(&b, v, d);
	f64_printf_ref(want, sizeof want, v, d);
	if (strcmp(b.p, want) != 0) {
		fprintf(stderr, "jw_f64(%.17g, %d): %s, printf: %s\n", v, d, b.p, want);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int64_t v, w;
	char out[64];

	if (money_parse_dollars(s, size, &v) == 0) {
		money_fmt_dollars(out, sizeof out, v);
		if (money_parse_dollars(out, strlen(out), &w) != 0 || w != v)
			abort();
	}
	if (money_parse_fp(s, size, &v) == 0) {
		money_fmt_fp(out, sizeof out, v);
		if (money_parse_fp(out, strlen(out), &w) != 0 || w != v)
			abort();
	}
	money_parse_cents(s, size, &v);
	money_parse_count(s, size, &v);
	numbers(data, size);
	return 0;
}
