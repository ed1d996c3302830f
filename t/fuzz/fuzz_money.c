/* fuzz_money: the exact conversions at the edge (dollar strings, _fp
 * counts, cents, counts) over any bytes; what parses must print back to a
 * value that parses to the same number. */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "money.h"

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
	return 0;
}
