/* cmd_check.c - `check`: report a certificate's names and expiry, and
 * optionally that it chains to the CA, matches its key and serves a host.
 * Exit 0 when all is well, 1 when it expires within --warn-days (or has
 * expired, or a check fails), 2 on bad usage or an unreadable file. */
#include <errno.h>
#include <getopt.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "pki.h"

#define DAY 86400

static const char usage[] =
	"usage: workspace-certs check --cert FILE [--warn-days N] [--ca FILE] [--key FILE]\n"
	"                             [--host NAME]\n"
	"\n"
	"Prints the certificate's subject, names and expiry. Exits 1 when it expires within\n"
	"--warn-days (default 30) or has expired, or when a requested check fails:\n"
	"\n"
	"  --ca FILE      the certificate must be signed by this CA (itself checked for expiry)\n"
	"  --key FILE     the private key must belong to the certificate\n"
	"  --host NAME    the certificate must be valid for this host name\n";

static void print_expiry(const char *what, X509 *crt, long warn_days, int *status)
{
	int64_t left = pki_not_after(crt) - (int64_t)time(NULL);
	time_t t = (time_t)pki_not_after(crt);
	char when[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (left <= 0) {
		printf("%s expired at %s\n", what, when);
		fprintf(stderr, "workspace-certs: error: the %s has expired\n", what);
		*status = 1;
	} else {
		printf("%s expires %s (in %lld days)\n", what, when, (long long)(left / DAY));
		if (left < (int64_t)warn_days * DAY) {
			fprintf(stderr,
				"workspace-certs: warning: the %s expires in %lld days (within "
				"--warn-days %ld): renew it with 'workspace-certs rotate'\n",
				what, (long long)(left / DAY), warn_days);
			*status = 1;
		}
	}
}

static int verify_chain(X509 *crt, X509 *ca)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = store && ctx && X509_STORE_add_cert(store, ca) &&
		 X509_STORE_CTX_init(ctx, store, crt, NULL) && X509_verify_cert(ctx) == 1;

	if (!ok && ctx)
		fprintf(stderr, "workspace-certs: error: not signed by the CA: %s\n",
			X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

int cmd_check(int argc, char **argv)
{
	static const struct option options[] = {
		{"cert", required_argument, NULL, 'c'}, {"ca", required_argument, NULL, 'a'},
		{"key", required_argument, NULL, 'k'},  {"host", required_argument, NULL, 'H'},
		{"warn-days", required_argument, NULL, 'w'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cert_path = NULL, *ca_path = NULL, *key_path = NULL, *host = NULL;
	ws_strlist dns = {0}, ips = {0};
	X509 *crt = NULL, *ca = NULL;
	EVP_PKEY *key = NULL;
	long warn_days = 30;
	char cn[256], *end;
	int c, status = 0;
	ws_err err;
	size_t i;

	ws_err_clear(&err);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			cert_path = optarg;
			break;
		case 'a':
			ca_path = optarg;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'w':
			errno = 0;
			warn_days = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || warn_days < 0 || warn_days > 36500) {
				ws_fail(&err, WS_E_INVALID, "--warn-days '%s': expected 0 to 36500", optarg);
				return certs_error(2, &err);
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return certs_bad_option(c, argv);
		}
	}
	if (certs_rest(argc, cert_path, "--cert FILE is required"))
		return 2;
	crt = pki_read_cert(cert_path, &err);
	if (!crt || (ca_path && !(ca = pki_read_cert(ca_path, &err))) ||
	    (key_path && !(key = pki_read_key(key_path, &err)))) {
		status = certs_error(2, &err);
		goto out;
	}
	pki_common_name(crt, cn, sizeof(cn));
	if (pki_sans(crt, &dns, &ips, &err)) {
		status = certs_error(1, &err);
		goto out;
	}
	printf("certificate %s\nsubject CN=%s\n", cert_path, cn);
	for (i = 0; i < dns.n; i++)
		printf("DNS name %s\n", dns.items[i]);
	for (i = 0; i < ips.n; i++)
		printf("IP address %s\n", ips.items[i]);
	print_expiry("certificate", crt, warn_days, &status);
	if (ca) {
		print_expiry("CA", ca, warn_days, &status);
		if (!verify_chain(crt, ca))
			status = 1;
		else
			printf("signed by the CA %s\n", ca_path);
	}
	if (key && !pki_key_matches(crt, key)) {
		fprintf(stderr, "workspace-certs: error: '%s' is not the certificate's key\n", key_path);
		status = 1;
	}
	if (host && X509_check_host(crt, host, 0, 0, NULL) != 1) {
		fprintf(stderr, "workspace-certs: error: the certificate is not valid for '%s'\n", host);
		status = 1;
	}
out:
	ws_strlist_release(&dns);
	ws_strlist_release(&ips);
	X509_free(crt);
	X509_free(ca);
	EVP_PKEY_free(key);
	return status;
}
