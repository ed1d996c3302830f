/* fuzz_health_serve: the dashboard server's request handling (paths, query
 * strings, cookies, JSON bodies, the login and its limits, static files),
 * its own main in a thread on a loopback port, with a SQLite database, a
 * user, and data logs (t/fuzz/health-serve-logs) to serve from.
 *
 * Compact inputs (see fuzz_http.h) whose first byte has bit 1 set also
 * carry a live session's cookie and its X-CSRF-Token, so they reach what
 * is behind the login; the others come as a stranger would. */
/* a login costs 2 ms, not a second: the fuzzer logs in, and in again */
#define PBKDF2_ITER 1000
#define main health_serve_main
#include "../../bin/health-serve.c" /* NOLINT(bugprone-suspicious-include): the tool itself is the target */
#undef main

#include <sys/stat.h>

#include "fuzz.h"
#include "fuzz_http.h"

static int hs_port;
static char hs_auth[512];

static void *
hs_thread(void *arg)
{
	char **argv = arg;
	int argc = 0;

	while (argv[argc])
		argc++;
	optind = 0;
	exit(health_serve_main(argc, argv));
}

static void
copy_file(const char *from, const char *to)
{
	char b[4096];
	size_t n;
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");

	if (!in || !out)
		abort();
	while ((n = fread(b, 1, sizeof b, in)) > 0)
		if (fwrite(b, 1, n, out) != n)
			abort();
	(void)fclose(in);
	if (fclose(out) != 0)
		abort();
}

/* a session, as the dashboard gets one: the cookie and the CSRF token */
static void
login(void)
{
	static const char rq[] =
	    "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
	    "Content-Length: 44\r\n\r\n{\"username\":\"fuzz\",\"password\":\"fuzz-secret\"}";
	struct buf resp = { 0 };
	const char *c, *x;
	size_t nc, nx;

	/* from 127.0.0.2: the fuzzer's wrong passwords (from 127.0.0.1) use
	 * up that address's login attempts, and this one would get 429 */
	fuzz_src_addr = 0x7f000002;
	fuzz_exchange(hs_port, rq, sizeof rq - 1, &resp);
	fuzz_src_addr = 0;
	if (!resp.p || !(c = strstr(resp.p, "__Host-recio_session=")) || !(x = strstr(resp.p, "\"csrf\":\""))) {
		fprintf(stderr, "fuzz: login failed: %s\n", resp.p ? resp.p : "(no answer)");
		abort();
	}
	nc = strcspn(c, ";\r\n");
	x += 8;
	nx = strcspn(x, "\"");
	snprintf(hs_auth, sizeof hs_auth, "Cookie: %.*s\r\nX-CSRF-Token: %.*s\r\n", (int)nc, c, (int)nx, x);
	buf_free(&resp);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/recio-fuzz-hs.XXXXXX";
	static char db[128], run[128], port_file[128], www[PATH_MAX], sql[PATH_MAX], p[PATH_MAX], q[PATH_MAX];
	static const char *svcs[] = { "btc-tick", "kalshi-fetch" };
	static char *args[16];
	const char *top = getenv("RECIO_TOP") ? getenv("RECIO_TOP") : ".";
	char *add[] = { "health-serve", "-d", db, "--user-add", "fuzz", NULL };
	int n = 0;

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(db, sizeof db, "sqlite:%s/recio.db", dir);
	snprintf(run, sizeof run, "%s/run", dir);
	snprintf(port_file, sizeof port_file, "%s/port", dir);
	snprintf(www, sizeof www, "%s/share/www", top);
	snprintf(sql, sizeof sql, "%s/share/sql", top);
	setenv("RECIO_SQL", sql, 1);
	setenv("RECIO_STATE", dir, 1);      /* settings, kill switch: here */
	for (size_t i = 0; i < sizeof svcs / sizeof svcs[0]; i++) {
		snprintf(p, sizeof p, "%s/log/%s/data", run, svcs[i]);
		for (char *s = p + strlen(dir) + 1; (s = strchr(s + 1, '/')) != NULL;) {
			*s = '\0';
			mkdir(p, 0700);
			*s = '/';
		}
		if (mkdir(p, 0700) < 0)
			abort();
		snprintf(q, sizeof q, "%s/current", p);
		snprintf(p, sizeof p, "%s/t/fuzz/health-serve-logs/%s", top, svcs[i]);
		copy_file(p, q);
	}
	/* order-send's FIFO, held open here as order-send would hold it */
	snprintf(p, sizeof p, "%s/fifo", run);
	snprintf(q, sizeof q, "%s/fifo/order-send.in", run);
	if (mkdir(p, 0700) < 0 || mkfifo(q, 0600) < 0 || open(q, O_RDWR | O_NONBLOCK | O_CLOEXEC) < 0)
		abort();
	/* the user: health-serve --user-add reads the password on stdin */
	snprintf(p, sizeof p, "%s/pw", dir);
	{
		FILE *f = fopen(p, "w");

		if (!f || fputs("fuzz-secret\n", f) < 0 || fclose(f) != 0 || !freopen(p, "r", stdin))
			abort();
	}
	optind = 0;
	if (health_serve_main(5, add) != 0)
		abort();
	args[n++] = "health-serve";
	args[n++] = "-p";
	args[n++] = "0";
	args[n++] = "--port-file";
	args[n++] = port_file;
	args[n++] = "-d";
	args[n++] = db;
	args[n++] = "-w";
	args[n++] = www;
	args[n++] = "-r";
	args[n++] = run;
	args[n] = NULL;
	hs_port = fuzz_server_start(hs_thread, args, port_file);
	login();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct buf req, resp;
	struct fuzz_req r;

	if (size == 0)
		return 0;
	if (!(data[0] & 1)) {
		fuzz_exchange(hs_port, data + 1, size - 1, &resp);
		return 0;
	}
	if (fuzz_req_split((const char *)data + 1, size - 1, &r) < 0)
		return 0;
	fuzz_req_build(&r, data[0] & 2 ? hs_auth : NULL, &req);
	fuzz_exchange(hs_port, req.p, req.len, &resp);
	/* a logout (or a password change) ended the session: a new one */
	if ((data[0] & 2) && resp.len > 12 && memcmp(resp.p + 9, "401", 3) == 0) {
		static const char probe[] = "GET /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";

		buf_reset(&req);
		buf_puts(&req, probe);
		buf_puts(&req, hs_auth);
		buf_puts(&req, "\r\n");
		fuzz_exchange(hs_port, req.p, req.len, &resp);
		if (resp.len > 12 && memcmp(resp.p + 9, "401", 3) == 0)
			login();
	}
	return 0;
}
