/* cfg.c: see cfg.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"

const char *
cfg_env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

int
cfg_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '+' || (*s == '-' && min >= 0))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cfg_env_i64(const char *name, int64_t def, int64_t min, int64_t max, int64_t *out)
{
	const char *v = cfg_env(name, NULL);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (cfg_parse_i64(v, min, max, out) < 0) {
		warnx_("%s: \"%s\" is not an integer from %lld to %lld", name, v, (long long)min, (long long)max);
		return -1;
	}
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int
cfg_read_file(const char *path, int (*fn)(const char *, const char *, void *), void *arg)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	unsigned long ln = 0;
	int rc = 0;
	struct stat st;

	if (f == NULL) {
		warnx_("%s: cannot open:", path);
		return -1;
	}
	/* whoever can write a configuration can change what is traded */
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
		if (st.st_uid != geteuid() && st.st_uid != 0) {
			warnx_("%s: owned by uid %lu, neither this user (%lu) nor root", path, (unsigned long)st.st_uid,
			    (unsigned long)geteuid());
			(void)fclose(f);
			return -1;
		}
		if (st.st_mode & 022) {
			warnx_("%s: mode %04o: writable by others than its owner (chmod go-w)", path,
			    (unsigned)(st.st_mode & 07777));
			(void)fclose(f);
			return -1;
		}
	}
	while (getline(&line, &cap, f) >= 0) {
		char *s = trim(line), *eq, *k, *v;
		size_t vl;

		ln++;
		if (*s == '\0' || *s == '#')
			continue;
		if (strncmp(s, "export ", 7) == 0)
			s = trim(s + 7);
		if ((eq = strchr(s, '=')) == NULL) {
			warnx_("%s line %lu: expected KEY=VALUE", path, ln);
			rc = -1;
			break;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (*k == '\0' || strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != strlen(k)) {
			warnx_("%s line %lu: \"%s\" is not a valid key", path, ln, k);
			rc = -1;
			break;
		}
		vl = strlen(v);
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
			v[vl - 1] = '\0';
			v++;
		} else if (vl >= 1 && (v[0] == '"' || v[0] == '\'')) {
			warnx_("%s line %lu: unterminated quote", path, ln);
			rc = -1;
			break;
		}
		if (fn(k, v, arg) < 0) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		warnx_("%s: read error:", path);
		rc = -1;
	}
	free(line);
	(void)fclose(f);
	return rc;
}

int
cfg_open_secret(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ELOOP)
			warnx_("%s: is a symbolic link; refusing a secret file reached through a link", path);
		else
			warnx_("%s: cannot open:", path);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		warnx_("%s: cannot stat:", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		warnx_("%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		warnx_("%s: owned by uid %lu, not by this user (%lu)", path, (unsigned long)st.st_uid,
		    (unsigned long)geteuid());
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		warnx_("%s: mode %04o, must be 0600 (readable by its owner only)", path,
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	return fd;
}
