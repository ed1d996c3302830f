/* money.c: see money.h.  Integer arithmetic only. */
#include <stdio.h>
#include <string.h>

#include "money.h"

/* Parse [-]digits[.digits] scaled by 10^scale; digits past `scale` must be
 * zero (at most `maxdec` decimals in all). */
static int
parse_fixed(const char *s, size_t n, int scale, int maxdec, int64_t *out)
{
	size_t i = 0;
	int neg = 0, dec = 0, digits = 0;
	int64_t v = 0;

	if (n > 0 && s[0] == '-')
		neg = 1, i = 1;
	for (; i < n && s[i] != '.'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
		digits++;
	}
	if (i < n) {                    /* the fraction */
		i++;
		if (i == n)
			return -1;      /* "1." */
		for (; i < n; i++) {
			if (s[i] < '0' || s[i] > '9' || ++dec > maxdec)
				return -1;
			if (dec > scale) {
				if (s[i] != '0')
					return -1;      /* not representable: never round */
				continue;
			}
			if (v > (INT64_MAX - (s[i] - '0')) / 10)
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		if (digits == 0 && dec == 0)
			return -1;
	} else if (digits == 0)
		return -1;
	for (; dec < scale; dec++) {
		if (v > INT64_MAX / 10)
			return -1;
		v *= 10;
	}
	*out = neg ? -v : v;
	return 0;
}

int
money_parse_dollars(const char *s, size_t n, int64_t *cc)
{
	return parse_fixed(s, n, 4, 6, cc);
}

int
money_parse_fp(const char *s, size_t n, int64_t *c100)
{
	return parse_fixed(s, n, 2, 6, c100);
}

int
money_parse_cents(const char *s, size_t n, int64_t *cents)
{
	int64_t cc;

	if (money_parse_dollars(s, n, &cc) < 0 || cc % CC_PER_CENT != 0)
		return -1;
	*cents = cc / CC_PER_CENT;
	return 0;
}

int
money_parse_count(const char *s, size_t n, int64_t *count)
{
	int64_t c100;

	if (money_parse_fp(s, n, &c100) < 0 || c100 % 100 != 0)
		return -1;
	*count = c100 / 100;
	return 0;
}

static size_t
fmt_fixed(char *out, size_t cap, int64_t v, int scale)
{
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, p = 1;
	int n;

	for (int i = 0; i < scale; i++)
		p *= 10;
	n = snprintf(out, cap, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(a / p), scale,
	    (unsigned long long)(a % p));
	return n < 0 ? 0 : (size_t)n;
}

size_t
money_fmt_dollars(char *out, size_t cap, int64_t cc)
{
	return fmt_fixed(out, cap, cc, 4);
}

size_t
money_fmt_fp(char *out, size_t cap, int64_t c100)
{
	return fmt_fixed(out, cap, c100, 2);
}

int64_t
kx_fee_raw_cc(int64_t c100, int64_t cents, int64_t rate_bp, int64_t multiplier_pct)
{
	/* fee dollars = rate_bp/1e4 * c100/100 * cents/100 * (100-cents)/100 * mult/100
	 * fee cc      = that * 1e4 = rate_bp * c100 * cents * (100-cents) * mult / 1e8 */
	__int128 num = (__int128)rate_bp * c100 * cents * (100 - cents) * multiplier_pct;
	const __int128 den = 100000000;

	if (num <= 0)
		return 0;
	return (int64_t)((num + den - 1) / den);
}

int64_t
kx_fee_round_cent(int64_t raw_cc)
{
	if (raw_cc <= 0)
		return 0;
	return (raw_cc + CC_PER_CENT - 1) / CC_PER_CENT * CC_PER_CENT;
}
