/* test_rtime.c: calendar, RFC 3339, US Eastern offsets. */
#include <string.h>

#include "t.h"
#include "rtime.h"

static int64_t
iso(const char *s)
{
	int64_t ms = -1;

	return rt_parse_iso(s, strlen(s), &ms) == 0 ? ms : -999;
}

int
main(void)
{
	char out[40];
	struct rt_tm tm;

	CHECK(iso("1970-01-01T00:00:00Z") == 0, "epoch");
	CHECK(iso("2026-11-25T14:59:00Z") == 1795618740000LL, "a known instant");
	CHECK(iso("2026-11-25T14:31:07.25Z") == 1795617067250LL, "fraction");
	CHECK(iso("2026-11-25T14:31:07.123456789Z") == 1795617067123LL, "nanoseconds truncate to ms");
	CHECK(iso("2026-11-25T16:59:00+02:00") == 1795618740000LL, "positive offset");
	CHECK(iso("2026-11-25T09:59:00-05:00") == 1795618740000LL, "negative offset");
	CHECK(iso("2024-02-29T00:00:00Z") == 1709164800000LL, "leap day");
	CHECK(iso("2026-13-01T00:00:00Z") == -999, "month 13");
	CHECK(iso("2026-11-25T14:59:00") == -999, "no zone");
	CHECK(iso("2026-11-25 14:59:00Z") == 1795618740000LL, "space separator");
	CHECK(iso("2026-11-25T14:59:00.Z") == -999, "empty fraction");
	CHECK(iso("2026-11-25T14:59:00Zjunk") == -999, "trailing junk");

	rt_fmt_iso(out, sizeof out, 1795618740000LL);
	CHECK(strcmp(out, "2026-11-25T14:59:00Z") == 0, "fmt %s", out);
	rt_fmt_iso(out, sizeof out, 1795617067250LL);
	CHECK(strcmp(out, "2026-11-25T14:31:07.250Z") == 0, "fmt ms %s", out);
	rt_fmt_iso(out, sizeof out, -1);
	CHECK(strcmp(out, "1969-12-31T23:59:59.999Z") == 0, "fmt before epoch %s", out);
	for (int64_t t = -86400000LL * 800; t < 86400000LL * 40000; t += 86400000LL * 37 + 12345) {
		rt_fmt_iso(out, sizeof out, t);
		CHECK(iso(out) == t, "round trip %lld", (long long)t);
	}
	rt_gmtime(1795618740, &tm);
	CHECK(tm.year == 2026 && tm.mon == 11 && tm.mday == 25 && tm.hour == 14 && tm.min == 59 && tm.wday == 3,
	    "gmtime: Wednesday");
	CHECK(rt_timegm(&tm) == 1795618740, "timegm inverse");

	/* 2026: DST from Sunday 8 March 07:00 UTC to Sunday 1 November 06:00 UTC */
	CHECK(rt_et_offset(iso("2026-03-08T06:59:59Z")) == -18000, "before spring forward");
	CHECK(rt_et_offset(iso("2026-03-08T07:00:00Z")) == -14400, "after spring forward");
	CHECK(rt_et_offset(iso("2026-11-01T05:59:59Z")) == -14400, "before fall back");
	CHECK(rt_et_offset(iso("2026-11-01T06:00:00Z")) == -18000, "after fall back");
	CHECK(rt_et_offset(iso("2026-07-04T12:00:00Z")) == -14400, "summer");
	CHECK(rt_et_offset(iso("2026-11-25T15:00:00Z")) == -18000, "November");
	CHECK(rt_et_offset(iso("2025-03-09T07:00:00Z")) == -14400 && rt_et_offset(iso("2025-03-09T06:59:59Z")) == -18000,
	    "2025 spring forward on 9 March");

	{
		int64_t a = rt_mono_ms();

		rt_sleep_ms(20);
		CHECK(rt_mono_ms() - a >= 20, "sleep at least 20 ms");
	}
	return T_DONE();
}
