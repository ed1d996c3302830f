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

static void
recompute(struct mom *m)
{
	for (int v = 0; v < MOM_NVOL; v++) {
		int64_t lo = m->last_s - mom_vol_s[v] + 1;

		m->sum[v] = m->sumsq[v] = 0;
		m->cnt[v] = 0;
		for (int64_t s = lo > m->first_s ? lo : m->first_s; s <= m->last_s; s++) {
			double r = AT(m->ret, s);

			if (!AT(m->rok, s))
				continue;
			m->sum[v] += r;
			m->sumsq[v] += r * r;
			m->cnt[v]++;
		}
	}
	m->since_exact = 0;
}

/* Second s (the one after last_s) gets price p, known or not, and its
 * return; the windows slide. */
static void
push_second(struct mom *m, int64_t s, double p, int known)
{
	int ok = known && AT(m->known, s - 1);
	double r = ok ? log(p / AT(m->px, s - 1)) : 0;

	for (int v = 0; v < MOM_NVOL; v++) {
		int64_t out = s - mom_vol_s[v];

		if (ok) {
			m->sum[v] += r;
			m->sumsq[v] += r * r;
			m->cnt[v]++;
		}
		if (out > m->first_s && AT(m->rok, out)) {      /* a return leaves the window */
			double ro = AT(m->ret, out);

			m->sum[v] -= ro;
			m->sumsq[v] -= ro * ro;
			m->cnt[v]--;
		}
	}
	AT(m->px, s) = p;
	AT(m->ret, s) = r;
	AT(m->known, s) = (unsigned char)(known != 0);
	AT(m->rok, s) = (unsigned char)ok;
	m->last_s = s;
}

static void
start(struct mom *m, int64_t s, double price)
{
	mom_init(m);
	m->first_s = m->last_s = s;
	AT(m->px, s) = price;
	AT(m->ret, s) = 0;
	AT(m->known, s) = 1;
	AT(m->rok, s) = 0;
}

int
mom_add(struct mom *m, int64_t ts_ms, double price)
{
	int64_t s = ts_ms >= 0 ? ts_ms / 1000 : -((-ts_ms + 999) / 1000);

	if (!(price > 0) || !isfinite(price))
		return -1;
	if (m->last_s < 0 || s - m->last_s > MOM_RING) {
		/* the first price, or a gap nothing of the old window survives */
		start(m, s, price);
		return 0;
	}
	if (s < m->last_s)
		return -1;
	if (s == m->last_s) {           /* a newer price in the same second */
		double ro = AT(m->ret, s), rn;

		AT(m->px, s) = price;
		if (!AT(m->rok, s))
			return 0;
		/* the same windows, one return replaced */
		rn = log(price / AT(m->px, s - 1));
		for (int v = 0; v < MOM_NVOL; v++) {
			m->sum[v] += rn - ro;
			m->sumsq[v] += rn * rn - ro * ro;
		}
		AT(m->ret, s) = rn;
		return 0;
	}
	/* fill a short gap with the last price (zero returns); the seconds of
	 * a long one are unknown */
	{
		int known = s - m->last_s <= MOM_GAP_S;
		double last = AT(m->px, m->last_s);

		for (int64_t k = m->last_s + 1; k < s; k++)
			push_second(m, k, last, known);
	}
	push_second(m, s, price, 1);
	if (++m->since_exact >= 3600)   /* bound floating-point drift of the sums */
		recompute(m);
	return 0;
}

void
mom_get(const struct mom *m, struct mom_out *o)
{
	double p, wsum = 0, acc = 0, sum = 0;
	int64_t n = 0;

	memset(o, 0, sizeof *o);
	if (m->last_s < 0)
		return;
	p = AT(m->px, m->last_s);
	for (int d = 0; d < MOM_NDELTA; d++) {
		int64_t then = m->last_s - mom_delta_min[d] * 60;
		double x;

		if (then < m->first_s || !AT(m->known, then))
			continue;
		x = (p / AT(m->px, then) - 1.0) * 100.0;
		if (!isfinite(x))
			continue;
		o->has_delta[d] = true;
		o->delta_pct[d] = x;
		wsum += mom_weight[d];
		acc += mom_weight[d] * x;
	}
	if (wsum > 0 && isfinite(acc / wsum)) {
		double bp = acc / wsum * 100.0;

		o->has_mom = true;
		o->mom_pct = acc / wsum;
		o->mom_bp = bp > MOM_BP_MAX ? MOM_BP_MAX : bp < -MOM_BP_MAX ? -MOM_BP_MAX : llround(bp);
	}
	for (int64_t s = m->last_s; s > m->last_s - 60 && s >= m->first_s; s--)
		if (AT(m->known, s)) {
			sum += AT(m->px, s);
			n++;
		}
	o->avg1m = sum / (double)n;     /* (the last second is always known) */
	for (int v = 0; v < MOM_NVOL; v++) {
		int64_t k = m->cnt[v];
		double var;

		if (k < 2)
			continue;
		var = (m->sumsq[v] - m->sum[v] * m->sum[v] / (double)k) / (double)(k - 1);
		o->has_vol[v] = true;
		o->vol[v] = var > 0 ? sqrt(var) : 0;
	}
}
