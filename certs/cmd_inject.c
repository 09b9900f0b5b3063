/* cmd_inject.c - `inject-ca`: fill the CA into the caBundle of every
 * webhook of the webhook configurations in a manifest (cabundle.h says how). */
#include <getopt.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "base64.h"
#include "buf.h"
#include "cabundle.h"
#include "cmd.h"
#include "pki.h"

#define MANIFEST_MAX ((size_t)32 << 20)

static const char usage[] =
	"usage: workspace-certs inject-ca --ca FILE [--in FILE] [--out FILE]\n"
	"\n"
	"Sets caBundle (base64 of the CA certificate PEM) in every webhook of every\n"
	"MutatingWebhookConfiguration and ValidatingWebhookConfiguration of a manifest:\n"
	"YAML with any number of documents (e.g. `kubectl kustomize webhook/deploy`), edited\n"
	"in place line by line so the rest is unchanged, or JSON. Other documents are copied\n"
	"as they are. Fails when the manifest holds no webhook configuration.\n"
	"\n"
	"  --ca FILE     the CA certificate (ca.crt written by generate)\n"
	"  --in FILE     the manifest (default: standard input)\n"
	"  --out FILE    where to write it (default: standard output; may equal --in)\n";

static int read_input(ws_buf *b, const char *path, ws_err *err)
{
	char chunk[65536];
	size_t n;

	if (path && strcmp(path, "-") != 0)
		return ws_buf_read_file(b, path, err);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if (ws_buf_add(b, chunk, n, err))
			return ws_err_prefix(err, "standard input");
	if (ferror(stdin))
		return ws_fail(err, WS_E_IO, "cannot read standard input");
	return ws_buf_add(b, "", 0, err);
}

static int write_text(FILE *f, void *text, ws_err *err)
{
	(void)err;
	fputs(text, f);
	return 0;
}

static int write_output(const char *path, const char *text, ws_err *err)
{
	size_t n = strlen(text);

	if (!path || strcmp(path, "-") == 0) {
		if (fwrite(text, 1, n, stdout) != n || fflush(stdout) != 0)
			return ws_fail(err, WS_E_IO, "cannot write standard output");
		return 0;
	}
	return ws_file_replace(path, 0644, write_text, (void *)text, err);
}

int cmd_inject_ca(int argc, char **argv)
{
	static const struct option options[] = {
		{"ca", required_argument, NULL, 'c'}, {"in", required_argument, NULL, 'i'},
		{"out", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *ca_path = NULL, *in = NULL, *out_path = NULL;
	ws_buf pem = WS_BUF_INIT(1 << 20), manifest = WS_BUF_INIT(MANIFEST_MAX);
	char *b64 = NULL, *result = NULL;
	X509 *ca = NULL;
	size_t count = 0;
	int c, status = 1;
	ws_err err;

	ws_err_clear(&err);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			ca_path = optarg;
			break;
		case 'i':
			in = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return certs_bad_option(c, argv);
		}
	}
	if (certs_rest(argc, ca_path, "--ca FILE is required"))
		return 2;
	ca = pki_read_cert(ca_path, &err);
	if (!ca || ws_buf_read_file(&pem, ca_path, &err))
		goto out;
	if (X509_check_ca(ca) == 0)
		fprintf(stderr, "workspace-certs: warning: '%s' is not a CA certificate\n", ca_path);
	b64 = ws_base64_encode(pem.data, pem.len);
	if (!b64 || read_input(&manifest, in, &err))
		goto out;
	result = cabundle_inject(manifest.data, manifest.len, b64, &count, &err);
	if (!result) {
		ws_err_prefix(&err, "cannot inject the CA into '%s'", in ? in : "standard input");
		goto out;
	}
	if (write_output(out_path, result, &err))
		goto out;
	fprintf(stderr, "workspace-certs: caBundle set in %zu webhook%s\n", count,
		count == 1 ? "" : "s");
	status = 0;
out:
	X509_free(ca);
	free(b64);
	free(result);
	ws_buf_release(&pem);
	ws_buf_release(&manifest);
	return status ? certs_error(status, &err) : 0;
}
