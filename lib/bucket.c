/* bucket.c: see bucket.h. */
#include "bucket.h"

void
tb_init(struct tbucket *b, int64_t rate, int64_t burst, int64_t now_ms)
{
	b->rate = rate;
	b->burst = burst;
	b->milli = burst * 1000;
	b->last_ms = now_ms;
}

int64_t
tb_take(struct tbucket *b, int64_t cost, int64_t now_ms)
{
	int64_t need = cost * 1000, wait;

	if (now_ms > b->last_ms) {
		/* rate tokens/s = rate milli-tokens/ms */
		b->milli += (now_ms - b->last_ms) * b->rate;
		if (b->milli > b->burst * 1000)
			b->milli = b->burst * 1000;
		b->last_ms = now_ms;
	}
	if (b->milli >= need) {
		b->milli -= need;
		return 0;
	}
	if (b->rate <= 0)
		return INT64_MAX;
	wait = (need - b->milli + b->rate - 1) / b->rate;
	return wait > 0 ? wait : 1;
}
