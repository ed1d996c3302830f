/* settings.h: signal-eval's trading settings: defaults (the original
 * system's), parsing and validation of KEY=VALUE files and --set flags.
 * A settings file that fails validation changes nothing. */
#ifndef RECIO_SETTINGS_H
#define RECIO_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>
#include "buf.h"

struct settings {
	/* auto entry */
	bool auto_entry;
	int64_t min_time_s, max_time_s;         /* TTC window */
	double min_probability, min_differential;       /* percent, cents */
	int64_t position_size, multiplier;
	int64_t cooldown_s;                     /* per strike and side */
	bool allow_re_entry;
	double spike_threshold_bp, spike_calm_bp;       /* 36, 30 */
	int64_t spike_cooldown_min;             /* 15 */
	int64_t max_quote_age_s;                /* no entry on older quotes (30; 0 off) */
	/* watchlist */
	int64_t min_volume, max_ask;
	int64_t strikes;                        /* rows in the strike table (21) */
	/* auto stop */
	bool auto_stop;
	double stop_probability;                /* 40 */
	int64_t min_hold_s, verify_s;           /* 60, 15 */
	bool stop_on_spike;
	/* model */
	char model[16];                         /* fingerprint, lognormal */
	char fingerprints[1024];                /* table directory, "" = none */
	double mom_drift;                       /* lognormal drift per bp of momentum */
};

void settings_default(struct settings *s);
/* Apply one KEY=VALUE.  0, or -1 with why (cap bytes) set. */
int settings_set(struct settings *s, const char *key, const char *val, char *why, size_t cap);
/* Cross-field checks (min_time <= max_time ...).  0 or -1 with why. */
int settings_check(const struct settings *s, char *why, size_t cap);
/* Load a file over *s: all or nothing.  0, or -1 with a message printed. */
int settings_load(struct settings *s, const char *path);
/* Every setting as one JSON object, by its file name (auto_entry, ...). */
void settings_json(const struct settings *s, struct buf *b);

#endif
