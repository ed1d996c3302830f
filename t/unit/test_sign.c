/* test_sign.c: RSA-PSS request signatures, cross-checked with the openssl
 * command line tool (an independent implementation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "t.h"
#include "rlimits.h"
#include "sign.h"

int
main(void)
{
	char dir[] = "/tmp/test_sign.XXXXXX", priv[128], pub[128], cmd[1024], sig[RECIO_SIG_B64_MAX],
	    b64[RECIO_SIG_B64_MAX + 8];
	struct kx_key *k, *p;
	const int64_t ts = 1795618740123LL;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL, "tmpdir");
	snprintf(priv, sizeof priv, "%s/k.pem", dir);
	snprintf(pub, sizeof pub, "%s/k.pub", dir);
	CHECK(kx_keygen(priv, pub) == 0, "keygen");
	{
		struct stat st;

		CHECK(stat(priv, &st) == 0 && (st.st_mode & 0777) == 0600, "private key is 0600");
	}
	CHECK(kx_keygen(priv, pub) == -1, "keygen never overwrites a key");
	k = kx_key_load_private(priv);
	p = kx_key_load_public(pub);
	CHECK(k && p, "keys load");
	if (!k || !p)
		return T_DONE();

	CHECK(kx_sign(k, ts, "GET", "/trade-api/v2/portfolio/balance", sig, sizeof sig) == 0, "sign");
	CHECK(strlen(sig) == 344, "2048-bit signature is 344 base64 chars: %zu", strlen(sig));
	CHECK(kx_verify(p, ts, "GET", "/trade-api/v2/portfolio/balance", sig) == 1, "verify");
	CHECK(kx_verify(k, ts, "GET", "/trade-api/v2/portfolio/balance?limit=5", sig) == 1, "query not signed");
	CHECK(kx_verify(p, ts + 1, "GET", "/trade-api/v2/portfolio/balance", sig) == 0, "other timestamp");
	CHECK(kx_verify(p, ts, "POST", "/trade-api/v2/portfolio/balance", sig) == 0, "other method");
	CHECK(kx_verify(p, ts, "GET", "/trade-api/v2/portfolio/fills", sig) == 0, "other path");
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	CHECK(kx_verify(p, ts, "GET", "/trade-api/v2/portfolio/balance", sig) == 0, "tampered");
	CHECK(kx_verify(p, ts, "GET", "/x", "not base64!") == 0, "junk");
	CHECK(kx_verify(p, ts, "GET", "/x", "") == 0, "empty");

	/* strict base64: the padding is required, and nothing else may creep in */
	CHECK(kx_sign(k, ts, "GET", "/trade-api/v2/markets", sig, sizeof sig) == 0, "sign");
	CHECK(strcmp(sig + 342, "==") == 0, "256 bytes end in ==: %s", sig + 340);
	snprintf(b64, sizeof b64, "%s", sig);
	CHECK(kx_verify(p, ts, "GET", "/trade-api/v2/markets", b64) == 1, "intact");
	b64[342] = '\0';
	CHECK(kx_verify(p, ts, "GET", "/trade-api/v2/markets", b64) == 0, "padding stripped");
	snprintf(b64, sizeof b64, "%s\n", sig);
	CHECK(kx_verify(p, ts, "GET", "/trade-api/v2/markets", b64) == 0, "trailing newline");
	snprintf(b64, sizeof b64, " %s", sig);
	CHECK(kx_verify(p, ts, "GET", "/trade-api/v2/markets", b64) == 0, "leading space");
	snprintf(b64, sizeof b64, "%s", sig);
	b64[100] = '=';
	CHECK(kx_verify(p, ts, "GET", "/trade-api/v2/markets", b64) == 0, "'=' inside");
	snprintf(b64, sizeof b64, "%s", sig);
	b64[100] = '-';
	CHECK(kx_verify(p, ts, "GET", "/trade-api/v2/markets", b64) == 0, "url-safe alphabet");
	snprintf(b64, sizeof b64, "%s", sig);
	b64[340] = '=';
	CHECK(kx_verify(p, ts, "GET", "/trade-api/v2/markets", b64) == 0, "three '='");
	CHECK(kx_verify(p, ts, "GET", "/trade-api/v2/markets", "QUJD") == 0, "short signature");
	CHECK(kx_sign(p, ts, "GET", "/x", sig, sizeof sig) == -1, "a public key cannot sign");
	CHECK(kx_key_from_pem("junk", 4, 0) == NULL && kx_key_from_pem("junk", 4, 1) == NULL, "junk PEM");

	/* a signature made by `openssl dgst` verifies with kx_verify, and ours with openssl */
	snprintf(cmd, sizeof cmd, "printf '%%s' '%lldPOST/trade-api/v2/portfolio/events/orders' | "
	    "openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sign %s | "
	    "base64 -w0", (long long)ts, priv);
	f = popen(cmd, "r");
	CHECK(f && fgets(sig, sizeof sig, f) != NULL, "openssl signs");
	if (f)
		pclose(f);
	CHECK(kx_verify(p, ts, "POST", "/trade-api/v2/portfolio/events/orders", sig) == 1, "openssl's signature verifies");
	CHECK(kx_sign(k, ts, "DELETE", "/trade-api/v2/portfolio/events/orders/abc", sig, sizeof sig) == 0, "sign");
	snprintf(cmd, sizeof cmd, "printf '%%s' '%s' | base64 -d > %s/sig && printf '%%s' "
	    "'%lldDELETE/trade-api/v2/portfolio/events/orders/abc' | openssl dgst -sha256 -sigopt "
	    "rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 -verify %s -signature %s/sig >/dev/null",
	    sig, dir, (long long)ts, pub, dir);
	CHECK(system(cmd) == 0, "openssl verifies ours (salt length = digest length)");

	/* the public half of a private key PEM; PKCS#1 ("BEGIN RSA PRIVATE KEY")
	 * loads too; a public key, an EC key or a huge file is no private key */
	{
		struct kx_key *q;
		char path[160];

		CHECK((q = kx_key_load_public(priv)) != NULL, "public half of a private PEM");
		if (q) {
			CHECK(kx_sign(k, ts, "GET", "/p", sig, sizeof sig) == 0, "sign");
			CHECK(kx_verify(q, ts, "GET", "/p", sig) == 1, "verifies with that half");
			kx_key_free(q);
		}
		snprintf(cmd, sizeof cmd, "cd %s && openssl rsa -in k.pem -traditional -out p1.pem 2>/dev/null && "
		    "chmod 600 p1.pem && grep -q 'BEGIN RSA PRIVATE KEY' p1.pem && "
		    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem 2>/dev/null && "
		    "chmod 600 ec.pem k.pub && head -c 20000 /dev/zero > big.pem && chmod 600 big.pem", dir);
		CHECK(system(cmd) == 0, "openssl rsa -traditional, genpkey EC");
		snprintf(path, sizeof path, "%s/p1.pem", dir);
		CHECK((q = kx_key_load_private(path)) != NULL, "PKCS#1 key loads");
		if (q) {
			CHECK(kx_sign(q, ts, "GET", "/p", sig, sizeof sig) == 0, "sign with PKCS#1 key");
			CHECK(kx_verify(p, ts, "GET", "/p", sig) == 1, "same key");
			kx_key_free(q);
		}
		snprintf(path, sizeof path, "%s/ec.pem", dir);
		CHECK(kx_key_load_private(path) == NULL, "EC key refused");
		CHECK(kx_key_load_private(pub) == NULL, "a public key is no private key");
		snprintf(path, sizeof path, "%s/big.pem", dir);
		CHECK(kx_key_load_private(path) == NULL, "oversized file refused");
		snprintf(path, sizeof path, "%s/absent.pem", dir);
		CHECK(kx_key_load_private(path) == NULL && kx_key_load_public(path) == NULL, "absent file");
	}

	/* a private key readable by others is refused */
	chmod(priv, 0644);
	CHECK(kx_key_load_private(priv) == NULL, "0644 key refused");
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK(system(cmd) == 0, "cleanup");
	kx_key_free(k);
	kx_key_free(p);
	return T_DONE();
}
