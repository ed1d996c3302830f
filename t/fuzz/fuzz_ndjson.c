/* fuzz_ndjson: the NDJSON line reader and the JSON parser behind it, over
 * any bytes: every line either parses or is skipped, nothing else. */
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "ndjson.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ndjson r;
	struct json j = { 0 };
	char *line;
	size_t len;
	int fd;

	fuzz_file(data, size, &fd);
	ndjson_init(&r, fd, "fuzz");
	r.quiet = 1;
	while (ndjson_next(&r, &j, &line, &len) > 0) {
		char s[64];
		int64_t i;

		/* what every tool does with a line */
		json_get_str(&j, 0, "type", s, sizeof s);
		json_get_i64(&j, 0, "ts", &i);
	}
	ndjson_free(&r);
	json_free(&j);
	return 0;
}
