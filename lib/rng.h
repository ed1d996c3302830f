/* rng.h: a small deterministic PRNG (xoshiro256**, seeded by splitmix64).
 * The same seed gives the same sequence on every machine; used by the
 * simulator (price path, market maker, faults) and for back-off jitter. */
#ifndef RECIO_RNG_H
#define RECIO_RNG_H

#include <stdint.h>

struct rng { uint64_t s[4]; };

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_u64(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n);   /* uniform in [0, n), n > 0, no modulo bias */
double rng_unit(struct rng *r);                  /* uniform in [0, 1) with 53 bits */
double rng_normal(struct rng *r);                /* standard normal (Box-Muller, one per call) */

#endif
