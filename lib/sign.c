/* sign.c: see sign.h.  OpenSSL 3 EVP only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "buf.h"
#include "cfg.h"
#include "diag.h"
#include "rlimits.h"
#include "sign.h"

struct kx_key {
	EVP_PKEY *pk;
};

static void
ossl_warn(const char *what)
{
	char e[256];
	unsigned long code = ERR_get_error();

	if (code)
		ERR_error_string_n(code, e, sizeof e);
	else
		snprintf(e, sizeof e, "unknown OpenSSL error");
	ERR_clear_error();
	warnx_("%s: %s", what, e);
}

struct kx_key *
kx_key_from_pem(const char *pem, size_t n, int want_private)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)n);
	EVP_PKEY *pk = NULL;
	struct kx_key *k;

	if (bio == NULL)
		return NULL;
	if (want_private)
		pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	else {
		pk = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		if (pk == NULL) {       /* the public half of a private key will do */
			ERR_clear_error();
			BIO_free(bio);
			if ((bio = BIO_new_mem_buf(pem, (int)n)) == NULL)
				return NULL;
			pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		}
	}
	BIO_free(bio);
	if (pk == NULL)
		return NULL;
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pk);
		ERR_raise(ERR_LIB_EVP, EVP_R_EXPECTING_AN_RSA_KEY);
		return NULL;
	}
	k = xmalloc(sizeof *k);
	k->pk = pk;
	return k;
}

/* A PEM key file, read whole into a fixed buffer: growing a heap buffer
 * would leave copies of the key behind realloc, out of explicit_bzero's
 * reach.  An RSA-16384 PKCS#8 PEM is under 13 KiB. */
enum { KEY_PEM_MAX = 16384 };

static struct kx_key *
load(const char *path, int fd, int want_private)
{
	char pem[KEY_PEM_MAX];
	size_t len = 0;
	ssize_t n;
	struct kx_key *k = NULL;

	while ((n = read(fd, pem + len, sizeof pem - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			warnx_("%s: read error:", path);
			goto out;
		}
		if ((len += (size_t)n) == sizeof pem) {
			warnx_("%s: larger than %d bytes, not a key", path, KEY_PEM_MAX);
			goto out;
		}
	}
	if ((k = kx_key_from_pem(pem, len, want_private)) == NULL) {
		char what[RECIO_PATH_MAX + 64];

		snprintf(what, sizeof what, "%s: not a PEM RSA %s key", path, want_private ? "private" : "public");
		ossl_warn(what);
	}
out:
	explicit_bzero(pem, sizeof pem);
	close(fd);
	return k;
}

struct kx_key *
kx_key_load_private(const char *path)
{
	int fd = cfg_open_secret(path);

	return fd < 0 ? NULL : load(path, fd, 1);
}

struct kx_key *
kx_key_load_public(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		warnx_("%s: cannot open:", path);
		return NULL;
	}
	return load(path, fd, 0);
}

void
kx_key_free(struct kx_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pk);
	free(k);
}

/* The signed message: ts + METHOD + path without its query. */
static void
message(struct buf *m, int64_t ts_ms, const char *method, const char *path)
{
	buf_printf(m, "%lld%s", (long long)ts_ms, method);
	buf_add(m, path, strcspn(path, "?"));
}

static int
pss(EVP_PKEY_CTX *pctx)
{
	return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0;
}

int
kx_sign(struct kx_key *k, int64_t ts_ms, const char *method, const char *path, char *out, size_t cap)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char sig[1024];
	size_t slen = sizeof sig;
	struct buf m = { 0 };
	int rc = -1;

	message(&m, ts_ms, method, path);
	if (md == NULL || EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, k->pk) <= 0 || !pss(pctx) ||
	    EVP_DigestSign(md, sig, &slen, (const unsigned char *)m.p, m.len) <= 0) {
		ossl_warn("cannot sign the request");
		goto out;
	}
	if (cap < 4 * ((slen + 2) / 3) + 1) {
		warnx_("internal error: signature buffer too small");
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)out, sig, (int)slen);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	buf_free(&m);
	return rc;
}

/* Strict standard base64 with padding.  Returns the decoded length or -1. */
static int
unbase64(const char *s, unsigned char *out, size_t cap)
{
	size_t n = strlen(s), pad = 0;
	int len;

	if (n == 0 || n % 4 || n / 4 * 3 > cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '=') {
			if (i < n - 2)
				return -1;
			pad++;
		} else if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return -1;
	}
	len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	return len < 0 ? -1 : len - (int)pad;
}

int
kx_verify(struct kx_key *k, int64_t ts_ms, const char *method, const char *path, const char *sig_b64)
{
	EVP_MD_CTX *md;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char sig[1024];
	struct buf m = { 0 };
	int slen, rc;

	if (strlen(sig_b64) > RECIO_SIG_B64_MAX || (slen = unbase64(sig_b64, sig, sizeof sig)) <= 0)
		return 0;
	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	message(&m, ts_ms, method, path);
	if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, k->pk) <= 0 || !pss(pctx))
		rc = -1;
	else
		rc = EVP_DigestVerify(md, sig, (size_t)slen, (const unsigned char *)m.p, m.len) == 1;
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	buf_free(&m);
	return rc;
}

int
kx_keygen(const char *priv_path, const char *pub_path)
{
	EVP_PKEY *pk = EVP_RSA_gen(2048);
	FILE *f;
	int fd, rc = -1;

	if (pk == NULL) {
		ossl_warn("cannot generate an RSA key");
		return -1;
	}
	if ((fd = open(priv_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		warnx_("%s: cannot create:", priv_path);
		goto out;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		warnx_("%s: cannot open:", priv_path);
		close(fd);
		goto out;
	}
	if (!PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL)) {
		ossl_warn(priv_path);
		(void)fclose(f);
		goto out;
	}
	if (fclose(f) != 0) {
		warnx_("%s: write error:", priv_path);
		goto out;
	}
	if ((f = fopen(pub_path, "w")) == NULL) {
		warnx_("%s: cannot create:", pub_path);
		goto out;
	}
	if (!PEM_write_PUBKEY(f, pk)) {
		ossl_warn(pub_path);
		(void)fclose(f);
		goto out;
	}
	if (fclose(f) != 0) {
		warnx_("%s: write error:", pub_path);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(pk);
	return rc;
}
