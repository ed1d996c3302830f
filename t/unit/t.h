/* t.h: the unit-test harness.  CHECK prints a failure with file and line;
 * T_DONE prints this file's count as "# name: N passed, M failed" and
 * gives the exit status.  t/run adds the counts of every test program. */
#ifndef RECIO_T_H
#define RECIO_T_H

#include <stdio.h>

static int t_pass, t_fail;

#define CHECK(cond, ...) do { \
	if (cond) t_pass++; \
	else { t_fail++; printf("not ok - %s:%d: ", __FILE__, __LINE__); \
	       printf(__VA_ARGS__); putchar('\n'); } \
} while (0)

#define T_DONE() (printf("# %s: %d passed, %d failed\n", __FILE__, t_pass, t_fail), \
                  t_fail ? 1 : 0)

#endif
