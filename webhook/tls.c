/* tls.c - serving certificate loading and reload (see tls.h). */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PEM_MAX (1u << 20)
#define CHAIN_MAX 8
/* A retired pair is freed once no handshake can still be using it: a
 * handshake takes the pair when the ClientHello is complete and uses it
 * while writing its first flight, far less than this. */
#define RETIRE_SECONDS 600

struct gen {
	gnutls_pcert_st pcert[CHAIN_MAX];
	unsigned int npcert;
	gnutls_privkey_t key;
	int64_t not_after;
	time_t retired_at;
	struct gen *next;
};

struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

static struct {
	char *cert_file, *key_file;
	struct file_id cert_id, key_id;   /* of the files in use */
	int rsa_kx;                       /* the priorities offer RSA key exchange */
	struct file_id bad_cert, bad_key; /* of files that failed to load */
	time_t bad_retry_at;              /* when they may pass (not valid yet), else 0 */
	_Atomic(struct gen *) current;
	struct gen *retired;
} S;

static void gen_free(struct gen *g)
{
	unsigned int i;

	if (!g)
		return;
	for (i = 0; i < g->npcert; i++)
		gnutls_pcert_deinit(&g->pcert[i]);
	if (g->key)
		gnutls_privkey_deinit(g->key);
	free(g);
}

static int tls_fail(ws_err *err, const char *what, const char *file, int rc)
{
	return ws_fail(err, WS_E_INVALID, "cannot load %s '%s': %s", what, file, gnutls_strerror(rc));
}

/* Read a PEM file into one exactly sized allocation, so that key bytes
 * exist in exactly one place, which pem_release wipes. */
static int read_pem(gnutls_datum_t *d, const char *path, ws_err *err)
{
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	d->data = NULL;
	d->size = 0;
	if (fd < 0 || fstat(fd, &st) != 0) {
		ws_fail(err, WS_E_IO, "cannot read '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (st.st_size <= 0 || (size_t)st.st_size > PEM_MAX) {
		ws_fail(err, WS_E_INVALID, "cannot read '%s': %s", path,
			st.st_size <= 0 ? "the file is empty" : "larger than 1 MiB");
		goto fail;
	}
	d->data = malloc((size_t)st.st_size);
	if (!d->data) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, d->data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	d->size = (unsigned int)got;
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void pem_release(gnutls_datum_t *d)
{
	if (d->data)
		explicit_bzero(d->data, d->size);
	free(d->data);
	d->data = NULL;
	d->size = 0;
}

/* The key must be the certificate's: compare their public key ids. */
static int key_matches(struct gen *g, ws_err *err)
{
	unsigned char a[64], b[64];
	size_t alen = sizeof(a), blen = sizeof(b);
	gnutls_pubkey_t pub;
	int rc;

	if (gnutls_pubkey_init(&pub) < 0)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	rc = gnutls_pubkey_import_privkey(pub, g->key, 0, 0);
	if (rc >= 0)
		rc = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a, &alen);
	gnutls_pubkey_deinit(pub);
	if (rc >= 0)
		rc = gnutls_pubkey_get_key_id(g->pcert[0].pubkey, GNUTLS_KEYID_USE_SHA256, b, &blen);
	if (rc < 0)
		return ws_fail(err, WS_E_INVALID, "cannot compare key and certificate: %s",
			       gnutls_strerror(rc));
	if (alen != blen || memcmp(a, b, alen) != 0)
		return ws_fail(err, WS_E_INVALID,
			       "private key '%s' does not belong to certificate '%s'", S.key_file,
			       S.cert_file);
	return 0;
}

static void utc(time_t t, char out[32])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "%lld", (long long)t);
}

/* notBefore <= now < notAfter. A certificate not valid yet sets *retry_at
 * to its notBefore: the same files are worth another try then. */
static int check_window(gnutls_x509_crt_t crt, struct gen *g, time_t now, time_t *retry_at,
			ws_err *err)
{
	time_t from = gnutls_x509_crt_get_activation_time(crt);
	time_t until = gnutls_x509_crt_get_expiration_time(crt);
	char when[32];

	if (from == (time_t)-1 || until == (time_t)-1)
		return ws_fail(err, WS_E_INVALID, "certificate '%s' has no readable validity period",
			       S.cert_file);
	g->not_after = (int64_t)until;
	if (now < from) {
		*retry_at = from;
		utc(from, when);
		return ws_fail(err, WS_E_INVALID, "certificate '%s' is not valid before %s",
			       S.cert_file, when);
	}
	if (now >= until) {
		utc(until, when);
		return ws_fail(err, WS_E_INVALID, "certificate '%s' expired at %s", S.cert_file,
			       when);
	}
	return 0;
}

/* Not a CA; key usage, when present, allows the handshake: digitalSignature
 * (TLS 1.3 and ECDHE sign), or for an RSA key keyEncipherment when the
 * priorities offer RSA key exchange; extended key usage, when present,
 * includes serverAuth (anyExtendedKeyUsage alone is not enough: OpenSSL's
 * clients refuse it for a server). */
static int check_usage(gnutls_x509_crt_t crt, ws_err *err)
{
	unsigned int critical, usage, i;
	unsigned int allowed = GNUTLS_KEY_DIGITAL_SIGNATURE;
	char oid[128];
	size_t len;
	int rc;

	if (gnutls_x509_crt_get_ca_status(crt, &critical) > 0)
		return ws_fail(err, WS_E_INVALID,
			       "certificate '%s' is a CA certificate (basicConstraints CA:TRUE), "
			       "not a serving certificate", S.cert_file);
	if (S.rsa_kx && gnutls_x509_crt_get_pk_algorithm(crt, NULL) == GNUTLS_PK_RSA)
		allowed |= GNUTLS_KEY_KEY_ENCIPHERMENT;
	rc = gnutls_x509_crt_get_key_usage(crt, &usage, &critical);
	if (rc >= 0 && !(usage & allowed))
		return ws_fail(err, WS_E_INVALID,
			       "certificate '%s' has key usage without %s: it cannot serve TLS",
			       S.cert_file,
			       allowed == GNUTLS_KEY_DIGITAL_SIGNATURE
				       ? "digitalSignature"
				       : "digitalSignature or keyEncipherment");
	for (i = 0;; i++) {
		len = sizeof(oid);
		rc = gnutls_x509_crt_get_key_purpose_oid(crt, i, oid, &len, &critical);
		if (rc == GNUTLS_E_SHORT_MEMORY_BUFFER)
			continue; /* a long OID is not serverAuth */
		if (rc < 0)
			break;
		if (strcmp(oid, GNUTLS_KP_TLS_WWW_SERVER) == 0)
			return 0;
	}
	if (i > 0)
		return ws_fail(err, WS_E_INVALID,
			       "certificate '%s' has extended key usage without serverAuth: it "
			       "cannot serve TLS", S.cert_file);
	return 0;
}

/* The leaf must be able to serve, or every handshake would fail: a pair
 * that does not is refused before it serves. Sets g->not_after. */
static int leaf_usable(struct gen *g, time_t now, time_t *retry_at, ws_err *err)
{
	gnutls_x509_crt_t crt;
	int rc;

	if (gnutls_x509_crt_init(&crt) < 0)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	rc = gnutls_x509_crt_import(crt, &g->pcert[0].cert, GNUTLS_X509_FMT_DER);
	if (rc < 0)
		tls_fail(err, "certificate", S.cert_file, rc);
	else if (check_window(crt, g, now, retry_at, err) || check_usage(crt, err))
		rc = -1;
	gnutls_x509_crt_deinit(crt);
	return rc < 0 ? -1 : 0;
}

/* The pair in the files, checked (see leaf_usable); NULL on refusal, with
 * *retry_at set when the same files may pass later (else 0). */
static struct gen *load_pair(time_t now, time_t *retry_at, ws_err *err)
{
	struct gen *g = calloc(1, sizeof(*g));
	gnutls_datum_t pem;
	int rc;

	*retry_at = 0;
	if (!g) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		return NULL;
	}
	if (read_pem(&pem, S.cert_file, err))
		goto fail;
	g->npcert = CHAIN_MAX;
	rc = gnutls_pcert_list_import_x509_raw(g->pcert, &g->npcert, &pem, GNUTLS_X509_FMT_PEM, 0);
	pem_release(&pem);
	if (rc < 0) {
		g->npcert = 0;
		tls_fail(err, "certificate", S.cert_file, rc);
		goto fail;
	}
	if (read_pem(&pem, S.key_file, err))
		goto fail;
	rc = gnutls_privkey_init(&g->key);
	if (rc >= 0)
		rc = gnutls_privkey_import_x509_raw(g->key, &pem, GNUTLS_X509_FMT_PEM, NULL, 0);
	pem_release(&pem);
	if (rc < 0) {
		tls_fail(err, "private key", S.key_file, rc);
		goto fail;
	}
	if (key_matches(g, err) || leaf_usable(g, now, retry_at, err))
		goto fail;
	return g;
fail:
	gen_free(g);
	return NULL;
}

/* Whether a priority string offers RSA key exchange, the one handshake that
 * uses keyEncipherment. */
static int offers_rsa_kx(const char *priorities)
{
	gnutls_priority_t prio;
	const unsigned int *kx;
	int i, n, found = 0;

	if (!priorities || gnutls_priority_init(&prio, priorities, NULL) < 0)
		return 0;
	n = gnutls_priority_kx_list(prio, &kx);
	for (i = 0; i < n; i++)
		if (kx[i] == GNUTLS_KX_RSA)
			found = 1;
	gnutls_priority_deinit(prio);
	return found;
}

static int file_id(const char *path, struct file_id *id)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	return 0;
}

static int same_id(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

int wh_tls_init(const char *cert_file, const char *key_file, const char *priorities,
		ws_err *err)
{
	struct gen *g;
	time_t retry_at;

	S.rsa_kx = offers_rsa_kx(priorities);
	S.cert_file = strdup(cert_file);
	S.key_file = strdup(key_file);
	if (!S.cert_file || !S.key_file)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	/* ids first: a change racing with the load is seen by the next refresh */
	file_id(cert_file, &S.cert_id);
	file_id(key_file, &S.key_id);
	g = load_pair(time(NULL), &retry_at, err);
	if (!g)
		return -1;
	atomic_store_explicit(&S.current, g, memory_order_release);
	return 0;
}

static void free_retired(time_t now, int all)
{
	struct gen **pp = &S.retired;

	while (*pp) {
		struct gen *g = *pp;

		if (all || now - g->retired_at >= RETIRE_SECONDS) {
			*pp = g->next;
			gen_free(g);
		} else {
			pp = &g->next;
		}
	}
}

int wh_tls_refresh(ws_err *err)
{
	struct file_id c, k;
	struct gen *g, *old;
	time_t now = time(NULL);

	free_retired(now, 0);
	if (file_id(S.cert_file, &c) || file_id(S.key_file, &k))
		return 0; /* mid-rotation (files swapped), or gone: keep serving the old pair */
	if (same_id(&c, &S.cert_id) && same_id(&k, &S.key_id))
		return 0;
	if (same_id(&c, &S.bad_cert) && same_id(&k, &S.bad_key) &&
	    (!S.bad_retry_at || now < S.bad_retry_at))
		return 0; /* already refused; wait for the next change (or notBefore) */
	g = load_pair(now, &S.bad_retry_at, err);
	if (!g) {
		S.bad_cert = c;
		S.bad_key = k;
		return -1;
	}
	S.cert_id = c;
	S.key_id = k;
	old = atomic_exchange_explicit(&S.current, g, memory_order_acq_rel);
	if (old) {
		old->retired_at = now;
		old->next = S.retired;
		S.retired = old;
	}
	return 1;
}

int64_t wh_tls_not_after(void)
{
	struct gen *g = atomic_load_explicit(&S.current, memory_order_acquire);

	return g ? g->not_after : 0;
}

int wh_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
		    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		    gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
	struct gen *g = atomic_load_explicit(&S.current, memory_order_acquire);

	(void)session;
	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (!g)
		return -1;
	*pcert = g->pcert;
	*pcert_length = g->npcert;
	*privkey = g->key;
	return 0;
}

void wh_tls_shutdown(void)
{
	gen_free(atomic_exchange(&S.current, NULL));
	free_retired(0, 1);
	free(S.cert_file);
	free(S.key_file);
	S.cert_file = S.key_file = NULL;
}
