/* rtime.h: clocks and timestamps.
 *
 * Monotonic time for intervals and timeouts; epoch milliseconds for
 * message timestamps; ISO-8601 UTC for Kalshi's time fields; US Eastern
 * offsets (for KXBTCD event tickers) computed from the US DST rule, not
 * from the system's tz database, so they work in a bare chroot. */
#ifndef RECIO_RTIME_H
#define RECIO_RTIME_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

int64_t rt_mono_ms(void);
int64_t rt_mono_ns(void);
int64_t rt_now_ms(void);                  /* CLOCK_REALTIME, epoch ms */
int64_t rt_now_us(void);                  /* CLOCK_REALTIME, epoch microseconds */
void rt_sleep_ms(int64_t ms);             /* restarts on EINTR until done */
/* Sleep ms, but return as soon as *stop is set (a signal handler's flag;
 * stop may be NULL: as rt_sleep_ms): checked before, after each signal
 * and at least every 100 ms.  0 when the whole time was slept, -1 when
 * *stop cut it short. */
int rt_sleep_stop(int64_t ms, volatile sig_atomic_t *stop);

/* "2026-11-25T03:19:05Z" (ms == 0 mod 1000) or "2026-11-25T03:19:05.123Z".
 * out needs 32 bytes.  Returns the length. */
size_t rt_fmt_iso(char *out, size_t cap, int64_t epoch_ms);
/* Parse RFC 3339 ("...Z", "+hh:mm", fractional seconds any length).
 * Returns 0 or -1. */
int rt_parse_iso(const char *s, size_t n, int64_t *epoch_ms);

/* Offset of US Eastern time from UTC at instant epoch_ms, in seconds
 * (-14400 in daylight time, -18000 otherwise). */
int rt_et_offset(int64_t epoch_ms);
/* Break epoch seconds into a UTC calendar (no tz database). */
struct rt_tm { int year, mon, mday, hour, min, sec, wday; }; /* mon 1..12, wday 0=Sunday */
void rt_gmtime(int64_t epoch_s, struct rt_tm *tm);
int64_t rt_timegm(const struct rt_tm *tm);

#endif
