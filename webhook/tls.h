/* tls.h - the serving certificate of workspace-webhook. The certificate
 * chain and key are read from PEM files (as cert-manager or a Secret volume
 * provides them), handed to GnuTLS for every handshake through
 * MHD_OPTION_HTTPS_CERT_CALLBACK, and reloaded when the files change, so a
 * rotation needs no restart and drops no connection: established
 * connections keep their session, new handshakes get the new certificate.
 *
 * A process-wide singleton (GnuTLS's retrieve callback carries no user
 * pointer). wh_tls_refresh runs on one thread (the main loop); the callback
 * runs on the server's threads and only reads the published generation.
 * Key material never leaves this module and is never logged.
 */
#ifndef WH_TLS_H
#define WH_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdint.h>

#include "error.h"

/* Load the pair once; fails when a file is unreadable, not PEM, the key
 * does not belong to the certificate, or the certificate cannot serve: not
 * within notBefore <= now < notAfter, a CA (basicConstraints CA:TRUE), key
 * usage without digitalSignature (keyEncipherment is enough for an RSA key
 * when `priorities`, the server's GnuTLS priority string, offer RSA key
 * exchange), or extended key usage without serverAuth. */
int wh_tls_init(const char *cert_file, const char *key_file, const char *priorities,
		ws_err *err);

/* Reload when either file changed (checked by device, inode, size and
 * mtime), with the checks of wh_tls_init. Returns 1 when a new pair is in
 * use, 0 when nothing changed, -1 when the new files are unusable (the old
 * pair stays in use; a half-written rotation is retried on the next call
 * once the files change again, a certificate not valid yet once its
 * notBefore has passed). */
int wh_tls_refresh(ws_err *err);

/* notAfter of the leaf certificate in use (unix seconds). */
int64_t wh_tls_not_after(void);

/* The gnutls_certificate_retrieve_function2 given to MHD. */
int wh_tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
		    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		    gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *privkey);

/* Free every generation; only after the server has stopped. */
void wh_tls_shutdown(void);

#endif
