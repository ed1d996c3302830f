/* fuzz_config: the KEY=VALUE reader and signal-eval's settings (files the
 * dashboard writes and people edit), and the fingerprint CSV loader. */
#include "cfg.h"
#include "diag.h"
#include "fp.h"
#include "fuzz.h"
#include "settings.h"

static int
pair(const char *k, const char *v, void *arg)
{
	(void)k;
	(void)v;
	(void)arg;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size, NULL);
	struct settings s;
	static struct fp_table t;

	cfg_read_file(path, pair, NULL);
	settings_default(&s);
	settings_load(&s, path);
	if (fp_load_table(&t, path) == 0)
		fp_lookup(&t, true, 30, 0.5);
	return 0;
}
