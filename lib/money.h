/* money.h: exact conversion between Kalshi's strings and recio's integers.
 *
 * Units: cc = centi-cents (1/10,000 dollar), the unit of every balance,
 * cost, fee and P&L inside recio; cents for prices 0..100; hundredths of a
 * contract ("c100") for Kalshi's _fp counts.  No floating point anywhere.
 *
 * Parsers take a pointer and length (not NUL-terminated), accept an
 * optional leading '-', digits, and an optional '.' with digits.  Kalshi
 * sends up to 6 decimals for dollars; digits past the 4th must be zero,
 * otherwise the value is not representable in cc and the parse fails
 * (never rounds).  They return 0, or -1 for empty input, a bad character,
 * an unrepresentable fraction or overflow. */
#ifndef RECIO_MONEY_H
#define RECIO_MONEY_H

#include <stddef.h>
#include <stdint.h>

/* int64_t, so that price * CC_PER_CENT is computed in 64 bits */
#define CC_PER_DOLLAR INT64_C(10000)
#define CC_PER_CENT   INT64_C(100)

int money_parse_dollars(const char *s, size_t n, int64_t *cc);  /* "0.5600" -> 5600 */
int money_parse_fp(const char *s, size_t n, int64_t *c100);     /* "10.00" -> 1000, "2.5" -> 250 */
/* A whole price in cents from a dollar string: "0.5600" -> 56; -1 if not a whole cent. */
int money_parse_cents(const char *s, size_t n, int64_t *cents);
/* A whole contract count from an _fp string: "10.00" -> 10; -1 if fractional. */
int money_parse_count(const char *s, size_t n, int64_t *count);

/* Formatting into out (cap >= 32 always suffices).  Return the length. */
size_t money_fmt_dollars(char *out, size_t cap, int64_t cc);   /* 5600 -> "0.5600", -5 -> "-0.0005" */
size_t money_fmt_fp(char *out, size_t cap, int64_t c100);      /* 1000 -> "10.00" */

/* Kalshi's taker fee for one fill of c100/100 contracts at a YES price of
 * `cents`: 0.07 x C x P x (1 - P) x multiplier_pct/100, rounded up to
 * $0.0001, in cc.  multiplier_pct is the series fee_multiplier in percent
 * (100 for 1.0).  Maker fee: same with 0.0175 (rate_bp 175 instead of 700). */
int64_t kx_fee_raw_cc(int64_t c100, int64_t cents, int64_t rate_bp, int64_t multiplier_pct);
/* Round a raw fee up to whole cents (what a regular account is charged). */
int64_t kx_fee_round_cent(int64_t raw_cc);

#define KX_TAKER_RATE_BP 700
#define KX_MAKER_RATE_BP 175

#endif
