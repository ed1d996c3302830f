/* keyset.h: a set of strings (the keys of what was already handled) that
 * forgets only what can no longer come back.
 *
 * Each key carries the number of the last pass (a caller's "generation",
 * e.g. a polling cycle) that met it.  When the set holds max keys, those
 * last met before keep_from are dropped, all at once; a key met since is
 * never dropped, and if nearly every key has been met since, the set grows
 * past max (by a quarter of max before it looks again) rather than forget
 * one: a key forgotten too early would be handled twice.  Lookups are
 * binary searches over a sorted array. */
#ifndef RECIO_KEYSET_H
#define RECIO_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keyset {
	struct keyset_ent {
		char *key;
		uint64_t gen;           /* the last generation that met it */
	} *e;
	size_t n, cap, max;
	size_t limit;                   /* the size that makes it drop keys: max, more once grown */
	size_t over;                    /* times it had to grow past max */
};

void keyset_init(struct keyset *ks, size_t max);
void keyset_free(struct keyset *ks);
/* true: key is new, now held, met at gen.  false: held already; met at gen
 * now.  keep_from: when full, keys last met before it are dropped first. */
bool keyset_add(struct keyset *ks, const char *key, uint64_t gen, uint64_t keep_from);
bool keyset_has(const struct keyset *ks, const char *key);

#endif
