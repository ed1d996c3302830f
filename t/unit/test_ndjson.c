/* test_ndjson.c: malformed input is reported with its line number and
 * skipped; good lines around it come through; memory stays bounded. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "t.h"
#include "ndjson.h"

/* Feed data through a pipe from a child, in chunks of `chunk` bytes. */
static int
feed(const char *data, size_t n, size_t chunk)
{
	int p[2];

	if (pipe(p) < 0)
		return -1;
	if (fork() == 0) {
		close(p[0]);
		for (size_t off = 0; off < n; off += chunk) {
			size_t k = n - off < chunk ? n - off : chunk;

			if (write(p[1], data + off, k) != (ssize_t)k)
				_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

/* Read everything; every good line is {"n":LINE}: check the numbering.
 * Returns the good lines seen; *bad gets the skipped count. */
static int
drain(int fd, unsigned long *bad, int *misnumbered, const char *errpath)
{
	struct ndjson r;
	struct json j = { 0 };
	char *line;
	size_t len;
	int good = 0, saved = dup(2), e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int64_t n;

	dup2(e, 2);
	close(e);
	ndjson_init(&r, fd, "test");
	*misnumbered = 0;
	while (ndjson_next(&r, &j, &line, &len) > 0) {
		good++;
		if (json_get_i64(&j, 0, "n", &n) < 0 || (unsigned long)n != r.lineno)
			(*misnumbered)++;
	}
	*bad = r.bad;
	ndjson_free(&r);
	json_free(&j);
	dup2(saved, 2);
	close(saved);
	close(fd);
	while (wait(NULL) > 0)
		;
	return good;
}

static char *
slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return buf;
}

int
main(void)
{
	struct buf in = { 0 };
	char errpath[] = "/tmp/test_ndjson.XXXXXX";
	unsigned long bad;
	int mis, good, fd = mkstemp(errpath);
	const char *err;
	size_t chunks[] = { 1, 7, 4096, 1 << 20 };

	close(fd);
	/* line: 1 good, 2 binary junk, 3 good, 4 a 1 MB line, 5 good,
	 * 6 truncated JSON, 7 good, 8 overlong UTF-8, 9 surrogate, 10 bad
	 * continuation, 11 good, 12 blank, 13 an array, 14 CRLF good,
	 * 15 control byte, 16 good without a final newline */
	buf_puts(&in, "{\"n\":1}\n");
	buf_add(&in, "\x00\xff\xfe\x01garbage\x80\n", 13);
	buf_puts(&in, "{\"n\":3}\n");
	for (int i = 0; i < (1 << 20); i++)
		buf_putc(&in, 'x');
	buf_puts(&in, "\n{\"n\":5}\n{\"n\":6,\"a\":[1,2\n{\"n\":7}\n");
	buf_puts(&in, "{\"s\":\"\xc0\xaf\"}\n{\"s\":\"\xed\xa0\x80\"}\n{\"s\":\"\xe2\x82\"}\n{\"n\":11}\n   \n");
	buf_puts(&in, "[1,2]\n{\"n\":14}\r\n{\"s\":\"a\x01\"}\n{\"n\":16}");

	for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
		good = drain(feed(in.p, in.len, chunks[c]), &bad, &mis, errpath);
		CHECK(good == 7, "chunk %zu: %d good lines, want 7", chunks[c], good);
		CHECK(mis == 0, "chunk %zu: %d lines with a wrong line number", chunks[c], mis);
		CHECK(bad == 8, "chunk %zu: %lu bad lines, want 8", chunks[c], bad);
	}
	err = slurp(errpath);
	CHECK(strstr(err, "test line 2: invalid UTF-8 at byte 2") != NULL || strstr(err, "test line 2: ") != NULL,
	    "junk reported: %s", err);
	CHECK(strstr(err, "test line 4: line longer than 65536 bytes, skipped") != NULL, "long line reported");
	CHECK(strstr(err, "test line 6: truncated JSON, skipped") != NULL, "truncated JSON reported");
	CHECK(strstr(err, "test line 8: invalid UTF-8 at byte 7, skipped") != NULL, "overlong reported");
	CHECK(strstr(err, "test line 9: invalid UTF-8") != NULL, "surrogate reported");
	CHECK(strstr(err, "test line 10: invalid UTF-8") != NULL, "bad continuation reported");
	CHECK(strstr(err, "test line 13: not a JSON object, skipped") != NULL, "array reported");
	CHECK(strstr(err, "test line 15: control byte at byte 8, skipped") != NULL, "control byte reported");
	CHECK(strstr(err, "line 12") == NULL, "a blank line is not an error");

	/* exactly 65536 bytes is allowed, 65537 is not */
	buf_reset(&in);
	buf_puts(&in, "{\"n\":1,\"pad\":\"");
	while (in.len < 65536 - 2)
		buf_putc(&in, 'p');
	buf_puts(&in, "\"}\n{\"n\":2,\"pad\":\"");
	while (in.len < 65537 + 65537 - 2)
		buf_putc(&in, 'p');
	buf_puts(&in, "\"}\n{\"n\":3}\n");
	good = drain(feed(in.p, in.len, 65536), &bad, &mis, errpath);
	CHECK(good == 2 && bad == 1 && mis == 0, "64 KiB boundary: good %d bad %lu", good, bad);

	/* utf8_check directly */
	CHECK(utf8_check("h\xc3\xa9llo \xf0\x9f\x98\x80", 11) == -1, "valid UTF-8");
	CHECK(utf8_check("\xf4\x90\x80\x80", 4) == 0, "beyond U+10FFFF");
	CHECK(utf8_check("ab\xe0\x80\x80", 5) == 2, "overlong 3-byte");
	buf_free(&in);
	unlink(errpath);
	return T_DONE();
}
