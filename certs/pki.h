/* pki.h - the X.509 work of workspace-certs on OpenSSL 3: keys, a CA, the
 * webhook's serving certificate, and reading them back. Files are written
 * atomically (a temporary file renamed over the target, so a reader such
 * as the webhook's reload never sees half a file); keys with mode 0600.
 * Key material is only ever written to the key files, never printed.
 *
 * Objects returned belong to the caller (X509_free, EVP_PKEY_free).
 */
#ifndef CERTS_PKI_H
#define CERTS_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>

#include "error.h"
#include "platform.h"

/* File names inside --out DIR (the keys of a kubernetes.io/tls Secret). */
#define PKI_CA_CERT "ca.crt"
#define PKI_CA_KEY "ca.key"
#define PKI_CERT "tls.crt"
#define PKI_KEY "tls.key"

/* "ecdsa" (P-256, the default) or "rsa" (3072 bits). */
EVP_PKEY *pki_keygen(const char *type, ws_err *err);

/* A self-signed CA: CA:TRUE, pathlen 0, keyCertSign/cRLSign, days valid. */
X509 *pki_make_ca(EVP_PKEY *key, const char *cn, unsigned days, ws_err *err);

/* A serving certificate signed by the CA: serverAuth, CA:FALSE, subject CN
 * cn, subjectAltName with every DNS name and IP address (checked). */
X509 *pki_make_serving(EVP_PKEY *key, const char *cn, const ws_strlist *dns, const ws_strlist *ips,
		       X509 *ca, EVP_PKEY *ca_key, unsigned days, ws_err *err);

X509 *pki_read_cert(const char *path, ws_err *err);
EVP_PKEY *pki_read_key(const char *path, ws_err *err);
/* 1 when key is the private key of crt's public key. */
int pki_key_matches(X509 *crt, EVP_PKEY *key);

int pki_write_cert(const char *path, X509 *crt, ws_err *err);
int pki_write_key(const char *path, EVP_PKEY *key, ws_err *err);

/* The certificate's subjectAltName entries, appended to dns and ips.
 * 0, or -1 (out of memory) with err set. */
int pki_sans(X509 *crt, ws_strlist *dns, ws_strlist *ips, ws_err *err);
/* Subject CN into buf ("" when none). */
void pki_common_name(X509 *crt, char *buf, size_t size);
/* notAfter as unix seconds. */
int64_t pki_not_after(X509 *crt);

/* "path/name" into out; fails when it does not fit. */
int pki_path(char *out, size_t size, const char *dir, const char *name, ws_err *err);

#endif
