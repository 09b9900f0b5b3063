/* cmd_generate.c - `generate` (a new CA and serving certificate) and
 * `rotate` (a new serving key and certificate from the same CA, so the
 * caBundle registered in the cluster stays valid). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "naming.h"
#include "pki.h"

#define DAY 86400

typedef struct opts {
	const char *service, *ns, *out, *key_type;
	unsigned days, ca_days;
	ws_strlist ips, dns;
	int force;
} opts;

static const char generate_usage[] =
	"usage: workspace-certs generate --service NAME --namespace NS --out DIR [options]\n"
	"\n"
	"Writes DIR/ca.crt, DIR/ca.key (a new CA) and DIR/tls.crt, DIR/tls.key (the webhook's\n"
	"serving certificate, for NAME, NAME.NS, NAME.NS.svc, NAME.NS.svc.cluster.local).\n"
	"Keys are written with mode 0600. DIR is created when missing.\n"
	"\n"
	"  --service NAME     the webhook's Service name\n"
	"  --namespace NS     the Service's namespace\n"
	"  --out DIR          where to write the four files\n"
	"  --days N           serving certificate validity (default 365)\n"
	"  --ca-days N        CA validity (default 3650)\n"
	"  --ip IP            an IP address SAN (repeatable), e.g. 127.0.0.1 for local tests\n"
	"  --dns NAME         an extra DNS SAN (repeatable)\n"
	"  --key-type TYPE    ecdsa (P-256, default) or rsa (3072)\n"
	"  --force            replace an existing CA in DIR (breaks the caBundle registered\n"
	"                     in the cluster until inject-ca is run again)\n";

static const char rotate_usage[] =
	"usage: workspace-certs rotate --out DIR [options]\n"
	"\n"
	"Renews DIR/tls.crt and DIR/tls.key (a new key) with the CA in DIR/ca.crt and\n"
	"DIR/ca.key. The names of the current tls.crt are kept unless --service and\n"
	"--namespace are given. The files are replaced atomically, so a running\n"
	"workspace-webhook reloads them without dropping a connection.\n"
	"\n"
	"  --out DIR          the directory written by generate\n"
	"  --days N           validity (default 365; never beyond the CA's)\n"
	"  --service NAME     \\  recompute the names, as generate does\n"
	"  --namespace NS     /\n"
	"  --ip IP            an IP address SAN (repeatable; with --service)\n"
	"  --dns NAME         an extra DNS SAN (repeatable; with --service)\n"
	"  --key-type TYPE    ecdsa (default) or rsa\n";

static int parse_days(const char *flag, const char *s, unsigned *out, ws_err *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < 1 || v > 36500)
		return ws_fail(err, WS_E_INVALID, "%s '%s': expected a number of days from 1 to 36500",
			       flag, s);
	*out = (unsigned)v;
	return 0;
}

/* Checked before anything is written: a bad --ip must not leave a new CA
 * behind. */
static int check_names(const opts *o, ws_err *err)
{
	unsigned char addr[16];
	size_t i;

	for (i = 0; i < o->ips.n; i++)
		if (inet_pton(AF_INET, o->ips.items[i], addr) != 1 &&
		    inet_pton(AF_INET6, o->ips.items[i], addr) != 1)
			return ws_fail(err, WS_E_INVALID, "--ip '%s': not an IPv4 or IPv6 address",
				       o->ips.items[i]);
	for (i = 0; i < o->dns.n; i++)
		if (ws_check_dns_subdomain(o->dns.items[i], "--dns", err))
			return -1;
	if (strcmp(o->key_type, "ecdsa") != 0 && strcmp(o->key_type, "rsa") != 0)
		return ws_fail(err, WS_E_INVALID, "--key-type '%s': expected ecdsa or rsa", o->key_type);
	return 0;
}

/* 0 ok, 1 --help printed, -1 error. */
static int parse(int argc, char **argv, opts *o, const char *usage, ws_err *err)
{
	static const struct option options[] = {
		{"service", required_argument, NULL, 's'}, {"namespace", required_argument, NULL, 'n'},
		{"out", required_argument, NULL, 'o'},     {"days", required_argument, NULL, 'd'},
		{"ca-days", required_argument, NULL, 'c'}, {"ip", required_argument, NULL, 'i'},
		{"dns", required_argument, NULL, 'D'},     {"key-type", required_argument, NULL, 'k'},
		{"force", no_argument, NULL, 'f'},         {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->days = 365;
	o->ca_days = 3650;
	o->key_type = "ecdsa";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		switch (c) {
		case 's':
			o->service = optarg;
			break;
		case 'n':
			o->ns = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'd':
			if (parse_days("--days", optarg, &o->days, err))
				return -1;
			break;
		case 'c':
			if (parse_days("--ca-days", optarg, &o->ca_days, err))
				return -1;
			break;
		case 'i':
			if (ws_strlist_add(&o->ips, optarg, err))
				return -1;
			break;
		case 'D':
			if (ws_strlist_add(&o->dns, optarg, err))
				return -1;
			break;
		case 'k':
			o->key_type = optarg;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case ':':
			return ws_fail(err, WS_E_INVALID, "%s needs a value", argv[optind - 1]);
		default:
			return ws_fail(err, WS_E_INVALID, "unknown option '%s' (see --help)",
				       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ws_fail(err, WS_E_INVALID, "unexpected argument '%s'", argv[optind]);
	if (!o->out)
		return ws_fail(err, WS_E_INVALID, "--out DIR is required (see --help)");
	if ((o->service == NULL) != (o->ns == NULL))
		return ws_fail(err, WS_E_INVALID, "--service and --namespace go together");
	if (o->service && (ws_check_dns_label(o->service, "--service", err) ||
			   ws_check_dns_label(o->ns, "--namespace", err)))
		return -1;
	return check_names(o, err);
}

static void release(opts *o)
{
	ws_strlist_release(&o->ips);
	ws_strlist_release(&o->dns);
}

/* Append every item of from to to. */
static int add_all(ws_strlist *to, const ws_strlist *from, ws_err *err)
{
	size_t i;

	for (i = 0; i < from->n; i++)
		if (ws_strlist_add(to, from->items[i], err))
			return -1;
	return 0;
}

/* The four Service names first, then --dns extras; CN = NAME.NS.svc. */
static int service_names(const opts *o, ws_strlist *dns, char *cn, size_t cnsize, ws_err *err)
{
	static const char *const forms[] = {"%s", "%s.%s", "%s.%s.svc", "%s.%s.svc.cluster.local"};
	char name[WS_LONG_NAME_BUF * 2];
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		snprintf(name, sizeof(name), forms[i], o->service, o->ns);
		if (ws_strlist_add(dns, name, err))
			return -1;
		if (i == 2)
			snprintf(cn, cnsize, "%s", name);
	}
	return add_all(dns, &o->dns, err);
}

static void print_cert(const char *what, const char *path, X509 *crt)
{
	char when[32];
	time_t t = (time_t)pki_not_after(crt);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("wrote %s %s (expires %s)\n", what, path, when);
}

/* Issue and write tls.key then tls.crt. */
static int issue(const char *dir, const char *key_type, const char *cn, const ws_strlist *dns,
		 const ws_strlist *ips, X509 *ca, EVP_PKEY *ca_key, unsigned days, ws_err *err)
{
	char crt_path[4096], key_path[4096];
	EVP_PKEY *key = NULL;
	X509 *crt = NULL;
	int rc = -1;

	if (pki_path(crt_path, sizeof(crt_path), dir, PKI_CERT, err) ||
	    pki_path(key_path, sizeof(key_path), dir, PKI_KEY, err))
		return -1;
	key = pki_keygen(key_type, err);
	if (!key)
		goto out;
	crt = pki_make_serving(key, cn, dns, ips, ca, ca_key, days, err);
	if (!crt || pki_write_key(key_path, key, err) || pki_write_cert(crt_path, crt, err))
		goto out;
	print_cert("serving certificate", crt_path, crt);
	printf("wrote serving key %s\n", key_path);
	rc = 0;
out:
	X509_free(crt);
	EVP_PKEY_free(key);
	return rc;
}

int cmd_generate(int argc, char **argv)
{
	char ca_crt[4096], ca_key_path[4096], cn[WS_LONG_NAME_BUF * 2], ca_cn[WS_LONG_NAME_BUF * 2];
	ws_strlist dns = {0};
	EVP_PKEY *ca_key = NULL;
	X509 *ca = NULL;
	ws_err err;
	int rc, status = 1;
	opts o;

	ws_err_clear(&err);
	rc = parse(argc, argv, &o, generate_usage, &err);
	if (rc) {
		release(&o);
		return rc > 0 ? 0 : certs_error(2, &err);
	}
	if (!o.service) {
		release(&o);
		ws_fail(&err, WS_E_INVALID, "--service and --namespace are required (see --help)");
		return certs_error(2, &err);
	}
	if (pki_path(ca_crt, sizeof(ca_crt), o.out, PKI_CA_CERT, &err) ||
	    pki_path(ca_key_path, sizeof(ca_key_path), o.out, PKI_CA_KEY, &err))
		goto out;
	if (mkdir(o.out, 0700) != 0 && errno != EEXIST) {
		ws_fail(&err, WS_E_IO, "cannot create '%s': %s", o.out, strerror(errno));
		goto out;
	}
	if (!o.force && access(ca_crt, F_OK) == 0) {
		ws_fail(&err, WS_E_INVALID,
			"'%s' exists: use 'workspace-certs rotate' to renew the serving certificate "
			"with it, or --force to replace the CA",
			ca_crt);
		goto out;
	}
	snprintf(ca_cn, sizeof(ca_cn), "%s.%s webhook CA", o.service, o.ns);
	if (service_names(&o, &dns, cn, sizeof(cn), &err))
		goto out;
	ca_key = pki_keygen(o.key_type, &err);
	if (!ca_key)
		goto out;
	ca = pki_make_ca(ca_key, ca_cn, o.ca_days, &err);
	if (!ca || pki_write_key(ca_key_path, ca_key, &err) || pki_write_cert(ca_crt, ca, &err))
		goto out;
	print_cert("CA certificate", ca_crt, ca);
	printf("wrote CA key %s\n", ca_key_path);
	if (o.days > o.ca_days)
		o.days = o.ca_days;
	if (issue(o.out, o.key_type, cn, &dns, &o.ips, ca, ca_key, o.days, &err))
		goto out;
	status = 0;
out:
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	ws_strlist_release(&dns);
	release(&o);
	return status ? certs_error(status, &err) : 0;
}

int cmd_rotate(int argc, char **argv)
{
	char ca_crt[4096], ca_key_path[4096], crt_path[4096], cn[WS_LONG_NAME_BUF * 2];
	ws_strlist dns = {0}, ips = {0};
	EVP_PKEY *ca_key = NULL;
	X509 *ca = NULL, *old = NULL;
	int64_t ca_left;
	ws_err err;
	int rc, status = 1;
	opts o;

	ws_err_clear(&err);
	rc = parse(argc, argv, &o, rotate_usage, &err);
	if (rc) {
		release(&o);
		return rc > 0 ? 0 : certs_error(2, &err);
	}
	if (pki_path(ca_crt, sizeof(ca_crt), o.out, PKI_CA_CERT, &err) ||
	    pki_path(ca_key_path, sizeof(ca_key_path), o.out, PKI_CA_KEY, &err) ||
	    pki_path(crt_path, sizeof(crt_path), o.out, PKI_CERT, &err))
		goto out;
	ca = pki_read_cert(ca_crt, &err);
	ca_key = ca ? pki_read_key(ca_key_path, &err) : NULL;
	if (!ca_key)
		goto out;
	if (!pki_key_matches(ca, ca_key)) {
		ws_fail(&err, WS_E_INVALID, "'%s' is not the key of '%s'", ca_key_path, ca_crt);
		goto out;
	}
	ca_left = (pki_not_after(ca) - (int64_t)time(NULL)) / DAY;
	if (ca_left < 1) {
		ws_fail(&err, WS_E_INVALID,
			"the CA '%s' expires within a day: run 'workspace-certs generate --force' and "
			"inject the new caBundle",
			ca_crt);
		goto out;
	}
	if (o.days > ca_left) {
		fprintf(stderr, "workspace-certs: warning: the CA expires in %lld days: the new "
				"certificate is valid for %lld days, not %u\n",
			(long long)ca_left, (long long)ca_left, o.days);
		o.days = (unsigned)ca_left;
	}
	if (o.service) {
		if (service_names(&o, &dns, cn, sizeof(cn), &err) || add_all(&ips, &o.ips, &err))
			goto out;
	} else {
		old = pki_read_cert(crt_path, &err);
		if (!old) {
			ws_err_prefix(&err, "cannot take the names from the current certificate "
					    "(give --service and --namespace)");
			goto out;
		}
		pki_common_name(old, cn, sizeof(cn));
		if (pki_sans(old, &dns, &ips, &err) || add_all(&dns, &o.dns, &err) ||
		    add_all(&ips, &o.ips, &err))
			goto out;
	}
	if (issue(o.out, o.key_type, cn, &dns, &ips, ca, ca_key, o.days, &err))
		goto out;
	status = 0;
out:
	X509_free(old);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	ws_strlist_release(&dns);
	ws_strlist_release(&ips);
	release(&o);
	return status ? certs_error(status, &err) : 0;
}
