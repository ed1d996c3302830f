/* bucket.h: token bucket, the shape of Kalshi's rate limits.
 *
 * Tokens are kept in thousandths so that a refill rate that is not a
 * multiple of 1000/s stays exact.  Time is caller-supplied milliseconds on
 * any monotonic clock, so the same code serves the simulator (server side)
 * and the client (client side) and is testable without sleeping. */
#ifndef RECIO_BUCKET_H
#define RECIO_BUCKET_H

#include <stdint.h>

struct tbucket {
	int64_t rate;       /* tokens per second */
	int64_t burst;      /* capacity, tokens */
	int64_t milli;      /* current tokens x 1000 */
	int64_t last_ms;
};

void tb_init(struct tbucket *b, int64_t rate, int64_t burst, int64_t now_ms); /* starts full */
/* Take cost tokens if present: returns 0.  Otherwise takes nothing and
 * returns the milliseconds until cost tokens will be there (>= 1). */
int64_t tb_take(struct tbucket *b, int64_t cost, int64_t now_ms);

#endif
