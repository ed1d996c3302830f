/* keyset.c: see keyset.h. */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "keyset.h"

void
keyset_init(struct keyset *ks, size_t max)
{
	memset(ks, 0, sizeof *ks);
	ks->max = ks->limit = max > 0 ? max : 1;
}

void
keyset_free(struct keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->e[i].key);
	free(ks->e);
	memset(ks, 0, sizeof *ks);
}

/* Where key is, or would go: *found says which. */
static size_t
find(const struct keyset *ks, const char *key, bool *found)
{
	size_t lo = 0, hi = ks->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ks->e[mid].key, key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

bool
keyset_has(const struct keyset *ks, const char *key)
{
	bool found;

	find(ks, key, &found);
	return found;
}

bool
keyset_add(struct keyset *ks, const char *key, uint64_t gen, uint64_t keep_from)
{
	bool found;
	size_t at = find(ks, key, &found);

	if (found) {
		if (gen > ks->e[at].gen)
			ks->e[at].gen = gen;
		return false;
	}
	if (ks->n >= ks->limit) {
		/* drop what was last met before keep_from, keeping the order */
		size_t w = 0;

		for (size_t i = 0; i < ks->n; i++) {
			if (ks->e[i].gen < keep_from) {
				free(ks->e[i].key);
				continue;
			}
			ks->e[w++] = ks->e[i];
		}
		ks->n = w;
		/* still nearly full: everything held may come back; grow rather
		 * than look again at every key added */
		if (w > ks->max - ks->max / 4) {
			ks->limit = w + ks->max / 4 + 1;
			ks->over++;
		} else
			ks->limit = ks->max;
		at = find(ks, key, &found);
	}
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 1024;
		ks->e = xrealloc(ks->e, ks->cap * sizeof *ks->e);
	}
	memmove(&ks->e[at + 1], &ks->e[at], (ks->n - at) * sizeof *ks->e);
	ks->e[at].key = xstrdup(key);
	ks->e[at].gen = gen;
	ks->n++;
	return true;
}
