/* f64ref.h: what jw_f64 (lib/json.h) must write, made with printf: "%.*f",
 * then trailing zeros and a trailing point trimmed, "-0" as "0".  Shared by
 * t/unit/test_json.c and t/fuzz/fuzz_money.c. */
#ifndef RECIO_F64REF_H
#define RECIO_F64REF_H

#include <stdio.h>
#include <string.h>

/* v with d decimals into want (cap bytes, 400 is enough below 1e18) */
static inline void
f64_printf_ref(char *want, size_t cap, double v, int d)
{
	int l = snprintf(want, cap, "%.*f", d, v);

	if (l < 0 || (size_t)l >= cap) {
		want[0] = '\0';
		return;
	}
	if (memchr(want, '.', (size_t)l)) {
		while (l > 0 && want[l - 1] == '0')
			l--;
		if (l > 0 && want[l - 1] == '.')
			l--;
	}
	want[l] = '\0';
	if (strcmp(want, "-0") == 0)
		snprintf(want, cap, "0");
}

#endif
