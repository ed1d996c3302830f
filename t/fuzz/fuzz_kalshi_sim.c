/* fuzz_kalshi_sim: the simulator's request handling (routing, signature
 * check, query strings, order bodies, paging cursors), its own main in a
 * thread on a loopback port.  Compact inputs (see fuzz_http.h) are signed
 * with a key the simulator knows, so they reach the portfolio endpoints. */
#define main kalshi_sim_main
#include "../../bin/kalshi-sim.c" /* NOLINT(bugprone-suspicious-include): the tool itself is the target */
#undef main

#include <sys/stat.h>

#include "fuzz.h"
#include "fuzz_http.h"

static int sim_port;
static struct kx_key *sim_key;

static void *
sim_thread(void *arg)
{
	char **argv = arg;
	int argc = 0;

	while (argv[argc])
		argc++;
	exit(kalshi_sim_main(argc, argv));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/recio-fuzz-sim.XXXXXX";
	static char keys[64], port_file[64], priv[64], pub[64];
	static char *args[16];
	int n = 0;

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(keys, sizeof keys, "%s/keys", dir);
	snprintf(port_file, sizeof port_file, "%s/port", dir);
	snprintf(priv, sizeof priv, "%s/fuzz.key", dir);
	snprintf(pub, sizeof pub, "%s/keys/fuzz.pem", dir);
	if (mkdir(keys, 0700) < 0 || kx_keygen(priv, pub) != 0 || !(sim_key = kx_key_load_private(priv)))
		abort();
	args[n++] = "kalshi-sim";
	args[n++] = "-p";
	args[n++] = "0";
	args[n++] = "--port-file";
	args[n++] = port_file;
	args[n++] = "-k";
	args[n++] = keys;
	args[n++] = "--rate-limit";
	args[n++] = "off";
	args[n++] = "-x";
	args[n++] = "60";
	args[n++] = "--start";
	args[n++] = "2026-11-25T14:40:00Z";
	args[n] = NULL;
	sim_port = fuzz_server_start(sim_thread, args, port_file);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct buf req, resp, method, target, extra;
	char sig[RECIO_SIG_B64_MAX];
	struct fuzz_req r;
	int64_t ts = rt_now_ms();

	if (size == 0)
		return 0;
	if (!(data[0] & 1)) {
		fuzz_exchange(sim_port, data + 1, size - 1, &resp);
		return 0;
	}
	if (fuzz_req_split((const char *)data + 1, size - 1, &r) < 0)
		return 0;
	buf_reset(&method);
	buf_add(&method, r.method, r.nmethod);
	buf_reset(&target);
	buf_add(&target, r.target, r.ntarget);
	buf_reset(&extra);
	/* signed as a client would sign it (a NUL in either: left unsigned) */
	if (strlen(method.p) == method.len && strlen(target.p) == target.len &&
	    kx_sign(sim_key, ts, method.p, target.p, sig, sizeof sig) == 0)
		buf_printf(&extra,
		    "KALSHI-ACCESS-KEY: fuzz\r\nKALSHI-ACCESS-TIMESTAMP: %lld\r\nKALSHI-ACCESS-SIGNATURE: %s\r\n",
		    (long long)ts, sig);
	fuzz_req_build(&r, extra.len ? extra.p : NULL, &req);
	fuzz_exchange(sim_port, req.p, req.len, &resp);
	return 0;
}
