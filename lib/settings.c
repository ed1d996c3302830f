/* settings.c: see settings.h. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "diag.h"
#include "json.h"
#include "settings.h"

void
settings_default(struct settings *s)
{
	memset(s, 0, sizeof *s);
	s->auto_entry = false;
	s->min_time_s = 120;
	s->max_time_s = 900;
	s->min_probability = 95;
	s->min_differential = 0.25;
	s->position_size = 1;
	s->multiplier = 1;
	s->cooldown_s = 10;
	s->allow_re_entry = false;
	s->spike_threshold_bp = 36;
	s->spike_calm_bp = 30;
	s->spike_cooldown_min = 15;
	s->max_quote_age_s = 30;
	s->min_volume = 1000;
	s->max_ask = 98;
	s->strikes = 21;
	s->auto_stop = false;
	s->stop_probability = 40;
	s->min_hold_s = 60;
	s->verify_s = 15;
	s->stop_on_spike = false;
	snprintf(s->model, sizeof s->model, "auto");
	s->mom_drift = 0;
}

static int
boolean(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

static int
number(const char *v, double lo, double hi, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (end == v || *end || errno || !isfinite(d) || d < lo || d > hi)
		return -1;
	*out = d;
	return 0;
}

enum kind { B, I, D, S };
static const struct key {
	const char *name;
	enum kind kind;
	size_t off;
	double lo, hi;
	const char *help;
} keys[] = {
#define O(f) offsetof(struct settings, f)
	{ "auto_entry", B, O(auto_entry), 0, 0, "on|off" },
	{ "min_time", I, O(min_time_s), 0, 3600, "seconds" },
	{ "max_time", I, O(max_time_s), 0, 3600, "seconds" },
	{ "min_probability", D, O(min_probability), 0, 100, "percent" },
	{ "min_differential", D, O(min_differential), -100, 100, "cents" },
	{ "position_size", I, O(position_size), 1, 100000, "contracts" },
	{ "multiplier", I, O(multiplier), 1, 1000, "factor" },
	{ "cooldown", I, O(cooldown_s), 0, 86400, "seconds" },
	{ "allow_re_entry", B, O(allow_re_entry), 0, 0, "on|off" },
	{ "spike_threshold", D, O(spike_threshold_bp), 0, 10000, "basis points" },
	{ "spike_calm", D, O(spike_calm_bp), 0, 10000, "basis points" },
	{ "spike_cooldown", I, O(spike_cooldown_min), 0, 1440, "minutes" },
	{ "max_quote_age", I, O(max_quote_age_s), 0, 3600, "seconds" },
	{ "min_volume", I, O(min_volume), 0, 1000000000, "contracts" },
	{ "max_ask", I, O(max_ask), 1, 99, "cents" },
	{ "strikes", I, O(strikes), 1, 200, "rows" },
	{ "auto_stop", B, O(auto_stop), 0, 0, "on|off" },
	{ "stop_probability", D, O(stop_probability), 0, 100, "percent" },
	{ "min_hold", I, O(min_hold_s), 0, 86400, "seconds" },
	{ "verify", I, O(verify_s), 0, 3600, "seconds" },
	{ "stop_on_spike", B, O(stop_on_spike), 0, 0, "on|off" },
	{ "model", S, O(model), 0, 0, "auto|fingerprint|lognormal" },
	{ "fingerprints", S, O(fingerprints), 0, 0, "directory" },
	{ "mom_drift", D, O(mom_drift), -10, 10, "factor" },
#undef O
};

int
settings_set(struct settings *s, const char *key, const char *val, char *why, size_t cap)
{
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct key *k = &keys[i];
		char *p = (char *)s + k->off;
		int64_t iv;
		double dv;

		if (strcmp(k->name, key) != 0)
			continue;
		switch (k->kind) {
		case B:
			if (boolean(val, (bool *)(void *)p) < 0)
				goto bad;
			return 0;
		case I:
			if (cfg_parse_i64(val, (int64_t)k->lo, (int64_t)k->hi, &iv) < 0)
				goto bad;
			*(int64_t *)(void *)p = iv;
			return 0;
		case D:
			if (number(val, k->lo, k->hi, &dv) < 0)
				goto bad;
			*(double *)(void *)p = dv;
			return 0;
		case S: {
			size_t n = strcmp(key, "model") == 0 ? sizeof s->model : sizeof s->fingerprints;

			if (strlen(val) >= n)
				goto bad;
			if (strcmp(key, "model") == 0 && strcmp(val, "auto") != 0 && strcmp(val, "fingerprint") != 0 &&
			    strcmp(val, "lognormal") != 0)
				goto bad;
			snprintf(p, n, "%s", val);
			return 0;
		}
		}
bad:
		if (k->kind == B || k->kind == S)
			snprintf(why, cap, "%s: \"%s\" is not %s", key, val, k->help);
		else
			snprintf(why, cap, "%s: \"%s\" is not a number of %s from %g to %g", key, val, k->help,
			    k->lo, k->hi);
		return -1;
	}
	snprintf(why, cap, "%s: unknown setting", key);
	return -1;
}

int
settings_check(const struct settings *s, char *why, size_t cap)
{
	if (s->min_time_s > s->max_time_s) {
		snprintf(why, cap, "min_time %lld > max_time %lld", (long long)s->min_time_s, (long long)s->max_time_s);
		return -1;
	}
	if (s->spike_calm_bp > s->spike_threshold_bp) {
		snprintf(why, cap, "spike_calm %g > spike_threshold %g", s->spike_calm_bp, s->spike_threshold_bp);
		return -1;
	}
	if (strcmp(s->model, "fingerprint") == 0 && s->fingerprints[0] == '\0') {
		snprintf(why, cap, "model fingerprint needs fingerprints=DIR");
		return -1;
	}
	return 0;
}

struct loadctx {
	struct settings *s;
	const char *path;
};

static int
on_pair(const char *k, const char *v, void *arg)
{
	struct loadctx *c = arg;
	char why[256];

	if (settings_set(c->s, k, v, why, sizeof why) < 0) {
		warnx_("%s: %s", c->path, why);
		return -1;
	}
	return 0;
}

int
settings_load(struct settings *s, const char *path)
{
	struct settings tmp = *s;
	struct loadctx c = { &tmp, path };
	char why[256];

	if (cfg_read_file(path, on_pair, &c) < 0)
		return -1;
	if (settings_check(&tmp, why, sizeof why) < 0) {
		warnx_("%s: %s", path, why);
		return -1;
	}
	*s = tmp;
	return 0;
}

void
settings_json(const struct settings *s, struct buf *b)
{
	jw_obj(b);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const struct key *k = &keys[i];
		const char *p = (const char *)s + k->off;

		switch (k->kind) {
		case B: jw_kbool(b, k->name, *(const bool *)(const void *)p); break;
		case I: jw_ki64(b, k->name, *(const int64_t *)(const void *)p); break;
		case D: jw_kf64(b, k->name, *(const double *)(const void *)p, 4); break;
		case S: jw_kstr(b, k->name, p); break;
		}
	}
	jw_obj_end(b);
}
