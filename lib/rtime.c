/* rtime.c: see rtime.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rtime.h"

int64_t
rt_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
rt_mono_ms(void)
{
	return rt_mono_ns() / 1000000;
}

int64_t
rt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
rt_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void
rt_sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
rt_sleep_stop(int64_t ms, volatile sig_atomic_t *stop)
{
	int64_t end = rt_mono_ms() + ms, left;

	if (stop == NULL) {
		rt_sleep_ms(ms);
		return 0;
	}
	/* slices of 100 ms: a signal that lands between the check and
	 * nanosleep is seen at the end of the slice at worst */
	while (!*stop && (left = end - rt_mono_ms()) > 0) {
		struct timespec ts;

		if (left > 100)
			left = 100;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000;
		(void)nanosleep(&ts, NULL);     /* EINTR: look at *stop */
	}
	return *stop ? -1 : 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
rt_gmtime(int64_t t, struct rt_tm *tm)
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t secs = t - days * 86400, z = days + 719468, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	tm->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	tm->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	tm->year = (int)(yoe + era * 400 + (tm->mon <= 2));
	tm->hour = (int)(secs / 3600);
	tm->min = (int)(secs / 60 % 60);
	tm->sec = (int)(secs % 60);
	tm->wday = (int)((days % 7 + 11) % 7);   /* 1970-01-01 was a Thursday (4) */
}

int64_t
rt_timegm(const struct rt_tm *tm)
{
	return days_from_civil(tm->year, tm->mon, tm->mday) * 86400 + tm->hour * 3600 + tm->min * 60 + tm->sec;
}

size_t
rt_fmt_iso(char *out, size_t cap, int64_t ms)
{
	struct rt_tm tm;
	int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	int frac = (int)(ms - s * 1000), n;

	rt_gmtime(s, &tm);
	if (frac)
		n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.year, tm.mon, tm.mday,
		    tm.hour, tm.min, tm.sec, frac);
	else
		n = snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.year, tm.mon, tm.mday,
		    tm.hour, tm.min, tm.sec);
	return n < 0 ? 0 : (size_t)n;
}

static int
digits(const char *s, size_t n, size_t at, int count, int *v)
{
	*v = 0;
	if (at + (size_t)count > n)
		return -1;
	for (int i = 0; i < count; i++) {
		if (s[at + i] < '0' || s[at + i] > '9')
			return -1;
		*v = *v * 10 + (s[at + i] - '0');
	}
	return 0;
}

int
rt_parse_iso(const char *s, size_t n, int64_t *ms)
{
	struct rt_tm tm;
	size_t i = 19;
	int ms_part = 0, scale = 100, off = 0, oh, om;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (n < 20 || digits(s, n, 0, 4, &tm.year) || s[4] != '-' || digits(s, n, 5, 2, &tm.mon) ||
	    s[7] != '-' || digits(s, n, 8, 2, &tm.mday) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s, n, 11, 2, &tm.hour) || s[13] != ':' || digits(s, n, 14, 2, &tm.min) || s[16] != ':' ||
	    digits(s, n, 17, 2, &tm.sec))
		return -1;
	if (tm.mon < 1 || tm.mon > 12 || tm.mday < 1 || tm.mday > mdays[tm.mon - 1] || tm.hour > 23 ||
	    tm.min > 59 || tm.sec > 60)
		return -1;
	if (i < n && s[i] == '.') {
		size_t d = ++i;

		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (scale) {
				ms_part += (s[i] - '0') * scale;
				scale /= 10;
			}
			i++;
		}
		if (i == d)
			return -1;
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z'))
		i++;
	else if (i < n && (s[i] == '+' || s[i] == '-')) {
		if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' || digits(s, n, i + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
		off = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
		i += 6;
	} else
		return -1;
	if (i != n)
		return -1;
	*ms = (rt_timegm(&tm) - off) * 1000 + ms_part;
	return 0;
}

/* The day of the month of the n-th Sunday of (year, mon). */
static int
nth_sunday(int year, int mon, int nth)
{
	struct rt_tm tm = { year, mon, 1, 0, 0, 0, 0 };
	struct rt_tm w;

	rt_gmtime(rt_timegm(&tm), &w);
	return 1 + (7 - w.wday) % 7 + (nth - 1) * 7;
}

int
rt_et_offset(int64_t epoch_ms)
{
	struct rt_tm tm, start = { 0 }, end = { 0 };
	int64_t s = epoch_ms >= 0 ? epoch_ms / 1000 : -((-epoch_ms + 999) / 1000);

	rt_gmtime(s, &tm);
	/* US rule since 2007: second Sunday of March 02:00 EST (07:00 UTC) to
	 * first Sunday of November 02:00 EDT (06:00 UTC). */
	start.year = end.year = tm.year;
	start.mon = 3;
	start.mday = nth_sunday(tm.year, 3, 2);
	start.hour = 7;
	end.mon = 11;
	end.mday = nth_sunday(tm.year, 11, 1);
	end.hour = 6;
	return s >= rt_timegm(&start) && s < rt_timegm(&end) ? -14400 : -18000;
}
