/* main.c - workspace-certs: the CA and serving certificate of the webhook,
 * and caBundle injection into its manifests. A command table; each command
 * lives in its own file (cmd.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "xalloc.h"

static const struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"generate", cmd_generate, "write a new CA and a serving certificate signed by it"},
	{"rotate", cmd_rotate, "renew the serving certificate (new key) with the same CA"},
	{"inject-ca", cmd_inject_ca, "fill caBundle into webhook configuration manifests"},
	{"check", cmd_check, "report a certificate's expiry; non-zero exit within --warn-days"},
};

static void usage(FILE *out)
{
	size_t i;

	fputs("usage: workspace-certs COMMAND [options]   (COMMAND --help for its options)\n\n", out);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int certs_error(int status, const ws_err *err)
{
	fprintf(stderr, "workspace-certs: error: %s\n", err->msg);
	return status;
}

int certs_bad_option(int c, char **argv)
{
	ws_err err;

	ws_fail(&err, WS_E_INVALID, "%s: %s (see --help)", argv[optind - 1],
		c == ':' ? "needs a value" : "unknown option");
	return certs_error(2, &err);
}

int certs_rest(int argc, const char *value, const char *required)
{
	ws_err err;

	if (value && optind >= argc)
		return 0;
	ws_fail(&err, WS_E_INVALID, "%s (see --help)", value ? "unexpected argument" : required);
	return certs_error(2, &err);
}

int main(int argc, char **argv)
{
	size_t i;

	xalloc_cjson();
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "workspace-certs: error: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
