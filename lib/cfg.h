/* cfg.h: configuration from the environment and from KEY=VALUE files.
 *
 * Environment values are validated: a set but malformed variable is an
 * error naming the variable, never a silent default. */
#ifndef RECIO_CFG_H
#define RECIO_CFG_H

#include <stdint.h>

/* getenv with a default for unset or empty. */
const char *cfg_env(const char *name, const char *def);
/* Integer in [min, max].  Unset/empty: *out = def, returns 0.  Malformed or
 * out of range: message "prog: NAME: reason" printed, returns -1. */
int cfg_env_i64(const char *name, int64_t def, int64_t min, int64_t max, int64_t *out);
/* Parse a whole string as an integer in [min, max]; 0 or -1 (no message). */
int cfg_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Read a KEY=VALUE file: '#' comments, blank lines, optional "export ",
 * optional single or double quotes around the value.  Calls fn for each
 * pair; fn returns 0 or -1 to stop.  Returns 0, or -1 with a message
 * "prog: PATH line N: reason" (also for I/O errors).  A regular file owned
 * by someone other than this user or root, or writable by group or others,
 * is refused before it is read: it decides what is traded. */
int cfg_read_file(const char *path, int (*fn)(const char *key, const char *val, void *arg), void *arg);

/* Refuse a secret file unless it is a regular file owned by the current
 * user with no group/other permission bits (mode 0600 or 0400).  Opens it
 * with O_NOFOLLOW.  Returns an open fd, or -1 with a message naming the
 * path and why (e.g. "mode 0644, must be 0600"). */
int cfg_open_secret(const char *path);

#endif
