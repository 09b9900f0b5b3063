/* pki.c - keys and certificates with OpenSSL 3 (see pki.h). */
#include "pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomicfile.h"
#include "buf.h"

/* Certificates are valid from a few minutes ago: clocks in a cluster drift. */
#define BACKDATE_SECONDS 300

static int ssl_fail(ws_err *err, const char *what)
{
	char detail[256] = "";
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	return ws_fail(err, WS_E_INTERNAL, "%s%s%s", what, e ? ": " : "", detail);
}

EVP_PKEY *pki_keygen(const char *type, ws_err *err)
{
	EVP_PKEY *k = NULL;

	if (strcmp(type, "ecdsa") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(type, "rsa") == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	else
		ws_fail(err, WS_E_INVALID, "--key-type '%s': expected ecdsa or rsa", type);
	if (!k && err && err->kind == WS_E_NONE)
		ssl_fail(err, "cannot generate a key");
	return k;
}

static int add_ext(X509 *crt, X509 *issuer, int nid, const char *value, ws_err *err)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer, crt, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext || !X509_add_ext(crt, ext, -1)) {
		X509_EXTENSION_free(ext);
		return ssl_fail(err, "cannot add a certificate extension");
	}
	X509_EXTENSION_free(ext);
	return 0;
}

/* Version 3, random 159-bit serial, validity, subject CN, public key. */
static X509 *new_cert(EVP_PKEY *key, const char *cn, unsigned days, ws_err *err)
{
	X509 *crt = X509_new();
	BIGNUM *bn = BN_new();
	X509_NAME *name = X509_NAME_new();
	int ok = crt && bn && name && X509_set_version(crt, 2) &&
		 BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
		 BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt)) &&
		 X509_gmtime_adj(X509_getm_notBefore(crt), -BACKDATE_SECONDS) &&
		 X509_time_adj_ex(X509_getm_notAfter(crt), (int)days, 0, NULL) &&
		 X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					    -1, 0) &&
		 X509_set_subject_name(crt, name) && X509_set_pubkey(crt, key);

	BN_free(bn);
	X509_NAME_free(name);
	if (!ok) {
		X509_free(crt);
		ssl_fail(err, "cannot build a certificate");
		return NULL;
	}
	return crt;
}

X509 *pki_make_ca(EVP_PKEY *key, const char *cn, unsigned days, ws_err *err)
{
	X509 *crt = new_cert(key, cn, days, err);

	if (!crt)
		return NULL;
	if (!X509_set_issuer_name(crt, X509_get_subject_name(crt)) ||
	    add_ext(crt, crt, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", err) ||
	    add_ext(crt, crt, NID_key_usage, "critical,keyCertSign,cRLSign", err) ||
	    add_ext(crt, crt, NID_subject_key_identifier, "hash", err) ||
	    !X509_sign(crt, key, EVP_sha256())) {
		if (err && err->kind == WS_E_NONE)
			ssl_fail(err, "cannot sign the CA certificate");
		X509_free(crt);
		return NULL;
	}
	return crt;
}

static int san_value(const ws_strlist *dns, const ws_strlist *ips, ws_buf *out, ws_err *err)
{
	unsigned char addr[16];
	size_t i;

	for (i = 0; i < dns->n; i++) {
		if (ws_check_dns_subdomain(dns->items[i], "DNS name", err))
			return -1;
		if (ws_buf_printf(out, err, "%sDNS:%s", out->len ? "," : "", dns->items[i]))
			return -1;
	}
	for (i = 0; i < ips->n; i++) {
		if (inet_pton(AF_INET, ips->items[i], addr) != 1 &&
		    inet_pton(AF_INET6, ips->items[i], addr) != 1)
			return ws_fail(err, WS_E_INVALID, "--ip '%s': not an IPv4 or IPv6 address",
				       ips->items[i]);
		if (ws_buf_printf(out, err, "%sIP:%s", out->len ? "," : "", ips->items[i]))
			return -1;
	}
	if (!out->len)
		return ws_fail(err, WS_E_INVALID, "a serving certificate needs at least one name");
	return 0;
}

X509 *pki_make_serving(EVP_PKEY *key, const char *cn, const ws_strlist *dns, const ws_strlist *ips,
		       X509 *ca, EVP_PKEY *ca_key, unsigned days, ws_err *err)
{
	ws_buf san = WS_BUF_INIT(1 << 16);
	const char *usage = EVP_PKEY_is_a(key, "RSA") ? "critical,digitalSignature,keyEncipherment"
						       : "critical,digitalSignature";
	X509 *crt;

	if (san_value(dns, ips, &san, err))
		goto fail_san;
	crt = new_cert(key, cn, days, err);
	if (!crt)
		goto fail_san;
	if (!X509_set_issuer_name(crt, X509_get_subject_name(ca)) ||
	    add_ext(crt, ca, NID_basic_constraints, "critical,CA:FALSE", err) ||
	    add_ext(crt, ca, NID_key_usage, usage, err) ||
	    add_ext(crt, ca, NID_ext_key_usage, "serverAuth", err) ||
	    add_ext(crt, ca, NID_subject_key_identifier, "hash", err) ||
	    add_ext(crt, ca, NID_authority_key_identifier, "keyid:always", err) ||
	    add_ext(crt, ca, NID_subject_alt_name, san.data, err) ||
	    !X509_sign(crt, ca_key, EVP_sha256())) {
		if (err && err->kind == WS_E_NONE)
			ssl_fail(err, "cannot sign the serving certificate");
		X509_free(crt);
		goto fail_san;
	}
	ws_buf_release(&san);
	return crt;
fail_san:
	ws_buf_release(&san);
	return NULL;
}

X509 *pki_read_cert(const char *path, ws_err *err)
{
	FILE *f = fopen(path, "r");
	X509 *crt;

	if (!f) {
		ws_fail(err, WS_E_IO, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	crt = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!crt) {
		ERR_clear_error();
		ws_fail(err, WS_E_INVALID, "'%s' is not a PEM certificate", path);
	}
	return crt;
}

EVP_PKEY *pki_read_key(const char *path, ws_err *err)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *key;

	if (!f) {
		ws_fail(err, WS_E_IO, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!key) {
		ERR_clear_error();
		ws_fail(err, WS_E_INVALID, "'%s' is not an unencrypted PEM private key", path);
	}
	return key;
}

int pki_key_matches(X509 *crt, EVP_PKEY *key)
{
	return X509_check_private_key(crt, key) == 1 ? 1 : (ERR_clear_error(), 0);
}

struct pem_out {
	int (*emit)(BIO *, void *);
	void *obj;
	const char *path;
};

/* Straight to the descriptor, past stdio's buffer: no copy of a key is left
 * in freed memory. */
static int write_pem(FILE *f, void *ctx, ws_err *err)
{
	const struct pem_out *o = ctx;
	BIO *bio = BIO_new_fd(fileno(f), BIO_NOCLOSE);
	int ok = bio && o->emit(bio, o->obj) && BIO_flush(bio) == 1;

	BIO_free(bio);
	ERR_clear_error();
	return ok ? 0 : ws_fail(err, WS_E_IO, "cannot write '%s': write failed", o->path);
}

static int emit_cert(BIO *b, void *crt)
{
	return PEM_write_bio_X509(b, crt);
}

static int emit_key(BIO *b, void *key)
{
	return PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
}

int pki_write_cert(const char *path, X509 *crt, ws_err *err)
{
	struct pem_out o = {emit_cert, crt, path};

	return ws_file_replace(path, 0644, write_pem, &o, err);
}

int pki_write_key(const char *path, EVP_PKEY *key, ws_err *err)
{
	struct pem_out o = {emit_key, key, path};

	return ws_file_replace(path, 0600, write_pem, &o, err);
}

int pki_sans(X509 *crt, ws_strlist *dns, ws_strlist *ips, ws_err *err)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(crt, NID_subject_alt_name, NULL, NULL);
	int i, rc = 0;

	for (i = 0; rc == 0 && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		char text[INET6_ADDRSTRLEN];

		if (g->type == GEN_DNS) {
			rc = ws_strlist_add(dns, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
					    err);
		} else if (g->type == GEN_IPADD) {
			int len = ASN1_STRING_length(g->d.iPAddress);
			const unsigned char *a = ASN1_STRING_get0_data(g->d.iPAddress);

			if ((len == 4 || len == 16) &&
			    inet_ntop(len == 4 ? AF_INET : AF_INET6, a, text, sizeof(text)))
				rc = ws_strlist_add(ips, text, err);
		}
	}
	GENERAL_NAMES_free(names);
	return rc;
}

void pki_common_name(X509 *crt, char *buf, size_t size)
{
	buf[0] = '\0';
	X509_NAME_get_text_by_NID(X509_get_subject_name(crt), NID_commonName, buf, (int)size);
}

int64_t pki_not_after(X509 *crt)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(X509_get0_notAfter(crt), &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

int pki_path(char *out, size_t size, const char *dir, const char *name, ws_err *err)
{
	if (snprintf(out, size, "%s/%s", dir, name) >= (int)size)
		return ws_fail(err, WS_E_INVALID, "path too long: '%s/%s'", dir, name);
	return 0;
}
