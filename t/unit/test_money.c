/* test_money.c: exact conversions and Kalshi's fee. */
#include <string.h>

#include "t.h"
#include "money.h"

static int
d(const char *s, int64_t *v)
{
	return money_parse_dollars(s, strlen(s), v);
}

int
main(void)
{
	static const struct { const char *s; int64_t cc; } ok[] = {
		{ "0.5600", 5600 }, { "0.56", 5600 }, { "1", 10000 }, { "-0.0005", -5 }, { "0.123400", 1234 },
		{ "1000.0000", 10000000 }, { "0", 0 }, { "0.0001", 1 }, { "922337203685477.5807", INT64_MAX },
	};
	static const char *bad[] = { "", ".", "-", "1.2.3", "0x10", " 1", "1 ", "+1", "0.123450", "0.1234567",
		"1.", "922337203685477.5808", "1e3", "--1", "0,5" };
	char out[40];
	int64_t v;

	for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
		CHECK(d(ok[k].s, &v) == 0 && v == ok[k].cc, "dollars %s -> %lld", ok[k].s, (long long)v);
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
		CHECK(d(bad[k], &v) == -1, "dollars \"%s\" accepted", bad[k]);
	CHECK(money_parse_fp("10.00", 5, &v) == 0 && v == 1000, "fp 10.00");
	CHECK(money_parse_fp("2.5", 3, &v) == 0 && v == 250, "fp 2.5");
	CHECK(money_parse_fp("0.001", 5, &v) == -1, "fp 0.001 is below the 0.01 granularity");
	CHECK(money_parse_cents("0.5600", 6, &v) == 0 && v == 56, "cents");
	CHECK(money_parse_cents("0.5650", 6, &v) == -1, "not a whole cent");
	CHECK(money_parse_count("3.00", 4, &v) == 0 && v == 3, "count");
	CHECK(money_parse_count("2.50", 4, &v) == -1, "fractional count");

	money_fmt_dollars(out, sizeof out, 5600);
	CHECK(strcmp(out, "0.5600") == 0, "fmt %s", out);
	money_fmt_dollars(out, sizeof out, -5);
	CHECK(strcmp(out, "-0.0005") == 0, "fmt %s", out);
	money_fmt_dollars(out, sizeof out, INT64_MIN);
	CHECK(strcmp(out, "-922337203685477.5808") == 0, "fmt min %s", out);
	money_fmt_fp(out, sizeof out, 1000);
	CHECK(strcmp(out, "10.00") == 0, "fmt fp %s", out);
	for (int64_t x = -30000; x <= 30000; x += 7) {
		money_fmt_dollars(out, sizeof out, x);
		CHECK(d(out, &v) == 0 && v == x, "round trip %lld", (long long)x);
	}

	/* fee: 0.07 x C x P x (1-P), up to $0.0001, then to the cent */
	CHECK(kx_fee_raw_cc(100, 50, KX_TAKER_RATE_BP, 100) == 175, "1 @ 50c: $0.0175");
	CHECK(kx_fee_round_cent(175) == 200, "charged $0.02");
	CHECK(kx_fee_raw_cc(1000, 56, KX_TAKER_RATE_BP, 100) == 1725, "10 @ 56c: $0.17248 -> $0.1725");
	CHECK(kx_fee_round_cent(1725) == 1800, "charged $0.18");
	CHECK(kx_fee_raw_cc(1, 50, KX_TAKER_RATE_BP, 100) == 2, "0.01 contract: $0.000175 -> $0.0002");
	CHECK(kx_fee_raw_cc(10000, 99, KX_TAKER_RATE_BP, 100) == 693, "100 @ 99c: $0.0693");
	CHECK(kx_fee_raw_cc(100, 50, KX_MAKER_RATE_BP, 100) == 44, "maker 1 @ 50c: $0.004375 -> $0.0044");
	CHECK(kx_fee_raw_cc(100, 50, KX_TAKER_RATE_BP, 50) == 88, "multiplier 0.5");
	CHECK(kx_fee_raw_cc(100, 0, KX_TAKER_RATE_BP, 100) == 0 && kx_fee_round_cent(0) == 0, "no fee at 0");
	return T_DONE();
}
