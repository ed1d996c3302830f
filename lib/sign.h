/* sign.h: Kalshi request signatures (RSA-PSS, SHA-256, MGF1-SHA-256,
 * salt length 32), on OpenSSL 3.
 *
 * The signed message is  timestamp_ms (decimal) + METHOD + path, where
 * path starts at "/trade-api/v2" and stops before any '?'.  The signature
 * travels base64-encoded (standard alphabet, padded, no newlines). */
#ifndef RECIO_SIGN_H
#define RECIO_SIGN_H

#include <stddef.h>
#include <stdint.h>

struct kx_key;    /* opaque: an EVP_PKEY, private or public */

/* Load a PEM RSA private key (PKCS#1 or PKCS#8).  The file must pass
 * cfg_open_secret (owner-only mode).  Returns NULL with a message
 * "prog: PATH: reason" on any failure.  The key material read is wiped
 * from memory after parsing. */
struct kx_key *kx_key_load_private(const char *path);
/* Load a PEM public key (SubjectPublicKeyInfo), or the public half of a
 * private key PEM.  No mode check (public keys are not secret). */
struct kx_key *kx_key_load_public(const char *path);
struct kx_key *kx_key_from_pem(const char *pem, size_t n, int want_private);
void kx_key_free(struct kx_key *k);

/* Sign: writes the NUL-terminated base64 signature to out (cap >=
 * RECIO_SIG_B64_MAX).  Returns 0, or -1 (OpenSSL's reason printed). */
int kx_sign(struct kx_key *k, int64_t ts_ms, const char *method, const char *path,
            char *out, size_t cap);
/* Verify: 1 valid, 0 invalid (bad base64 included), -1 internal error.
 * path may carry a query; it is cut at '?' as for signing. */
int kx_verify(struct kx_key *k, int64_t ts_ms, const char *method, const char *path,
              const char *sig_b64);

/* Generate a 2048-bit RSA key pair: private PEM to priv_path (mode 0600,
 * created exclusively), public PEM to pub_path.  For tests and the demo. */
int kx_keygen(const char *priv_path, const char *pub_path);

#endif
