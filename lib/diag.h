/* diag.h: diagnostics on stderr as "prog: context: reason".
 *
 * A format whose last character is ':' gets ": strerror(errno)" appended
 * (errno as it was on entry), as sbase's eprintf does.  Every message ends
 * with a newline; callers never add one. */
#ifndef RECIO_DIAG_H
#define RECIO_DIAG_H

#include <stdarg.h>
#include <stddef.h>

extern const char *diag_prog;   /* basename of argv[0]; "recio" before diag_init */
extern int diag_verbose;        /* 0 quiet, 1 info, 2 debug */

void diag_init(const char *argv0);

/* Print and exit with status.  Never returns. */
void die(int status, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
/* Print a warning; the program goes on. */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Printed only when diag_verbose >= 1 / >= 2. */
void infox(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void debugx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vdiag(const char *fmt, va_list ap);

/* A command-line mistake: "prog: why" (when why is not NULL), then the
 * usage text, both on stderr; exit 2. */
void die_usage(const char *usage_text, const char *why) __attribute__((noreturn));

/* A can't-happen state: "prog: internal error: ...", exit 101 (skarnet's convention). */
void die_internal(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Allocation that dies with "prog: out of memory" instead of returning NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
