/* mom.c: see mom.h. */
#include <math.h>
#include <string.h>

#include "mom.h"

const int mom_delta_min[MOM_NDELTA] = { 1, 2, 3, 4, 15, 30 };
const double mom_weight[MOM_NDELTA] = { 0.30, 0.25, 0.20, 0.15, 0.05, 0.05 };
const int mom_vol_s[MOM_NVOL] = { 30, 300, 3600 };

#define AT(a, s) (a)[(size_t)(((s) % MOM_RING + MOM_RING) % MOM_RING)]

void
mom_init(struct mom *m)
{
	memset(m, 0, sizeof *m);
	m->first_s = m->last_s = -1;
}

/* Returns in the window ending at second s: those of seconds s-w+1..s
 * that have a previous second. */
static int64_t
nret(const struct mom *m, int64_t s, int w)
{
	int64_t n = s - m->first_s;

	return n < w ? n : w;
}

static void
recompute(struct mom *m)
{
	for (int v = 0; v < MOM_NVOL; v++) {
		int64_t n = nret(m, m->last_s, mom_vol_s[v]);

		m->sum[v] = m->sumsq[v] = 0;
		for (int64_t s = m->last_s - n + 1; s <= m->last_s; s++) {
			double r = AT(m->ret, s);

			m->sum[v] += r;
			m->sumsq[v] += r * r;
		}
	}
	m->since_exact = 0;
}

/* Second s gets price p and its return; the windows slide. */
static void
push_second(struct mom *m, int64_t s, double p)
{
	double r = log(p / AT(m->px, s - 1));

	for (int v = 0; v < MOM_NVOL; v++) {
		int64_t out = s - mom_vol_s[v];

		m->sum[v] += r;
		m->sumsq[v] += r * r;
		if (out > m->first_s) {         /* a return leaves the window */
			double ro = AT(m->ret, out);

			m->sum[v] -= ro;
			m->sumsq[v] -= ro * ro;
		}
	}
	AT(m->px, s) = p;
	AT(m->ret, s) = r;
	m->last_s = s;
}

int
mom_add(struct mom *m, int64_t ts_ms, double price)
{
	int64_t s = ts_ms >= 0 ? ts_ms / 1000 : -((-ts_ms + 999) / 1000);

	if (!(price > 0) || !isfinite(price))
		return -1;
	if (m->last_s < 0) {
		m->first_s = m->last_s = s;
		AT(m->px, s) = price;
		AT(m->ret, s) = 0;
		return 0;
	}
	if (s < m->last_s)
		return -1;
	if (s == m->last_s) {           /* a newer price in the same second */
		if (s == m->first_s) {
			AT(m->px, s) = price;
			return 0;
		}
		/* the same windows, one return replaced */
		double ro = AT(m->ret, s), rn = log(price / AT(m->px, s - 1));

		for (int v = 0; v < MOM_NVOL; v++) {
			m->sum[v] += rn - ro;
			m->sumsq[v] += rn * rn - ro * ro;
		}
		AT(m->px, s) = price;
		AT(m->ret, s) = rn;
		return 0;
	}
	if (s - m->last_s > MOM_RING) { /* a long gap: nothing of the old window survives */
		double last = AT(m->px, m->last_s);

		m->first_s = s - MOM_RING;
		for (int64_t k = s - MOM_RING; k < s; k++) {
			AT(m->px, k) = last;
			AT(m->ret, k) = 0;
		}
		m->last_s = s - 1;
		recompute(m);
	}
	/* fill a gap with the last price: zero returns */
	for (int64_t k = m->last_s + 1; k < s; k++)
		push_second(m, k, AT(m->px, m->last_s));
	push_second(m, s, price);
	if (++m->since_exact >= 3600)   /* bound floating-point drift of the sums */
		recompute(m);
	return 0;
}

void
mom_get(const struct mom *m, struct mom_out *o)
{
	double p, wsum = 0, acc = 0, sum = 0;
	int64_t n;

	memset(o, 0, sizeof *o);
	if (m->last_s < 0)
		return;
	p = AT(m->px, m->last_s);
	for (int d = 0; d < MOM_NDELTA; d++) {
		int64_t then = m->last_s - mom_delta_min[d] * 60;

		if (then < m->first_s)
			continue;
		o->has_delta[d] = true;
		o->delta_pct[d] = (p / AT(m->px, then) - 1.0) * 100.0;
		wsum += mom_weight[d];
		acc += mom_weight[d] * o->delta_pct[d];
	}
	if (wsum > 0) {
		o->has_mom = true;
		o->mom_pct = acc / wsum;
		o->mom_bp = llround(o->mom_pct * 100.0);
	}
	n = m->last_s - m->first_s + 1;
	if (n > 60)
		n = 60;
	for (int64_t s = m->last_s - n + 1; s <= m->last_s; s++)
		sum += AT(m->px, s);
	o->avg1m = sum / (double)n;
	for (int v = 0; v < MOM_NVOL; v++) {
		int64_t k = nret(m, m->last_s, mom_vol_s[v]);
		double var;

		if (k < 2)
			continue;
		var = (m->sumsq[v] - m->sum[v] * m->sum[v] / (double)k) / (double)(k - 1);
		o->has_vol[v] = true;
		o->vol[v] = var > 0 ? sqrt(var) : 0;
	}
}
