/* cli.c - flag parsing, error printing and platform loading shared by the
 * subcommands (see cli.h). */
#include "cli.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int cli_error(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int cli_err(int code, const ws_err *err)
{
	return cli_error(code, "%s", err->msg[0] ? err->msg : "unknown error");
}

static const struct opt *find_opt(const struct opt *opts, const char *name, size_t len, char short_name)
{
	if (!opts)
		return NULL;
	for (; opts->name; opts++) {
		if (short_name ? opts->short_name == short_name
			       : strlen(opts->name) == len && strncmp(opts->name, name, len) == 0)
			return opts;
	}
	return NULL;
}

static int parse_bool(const char *v, int *out)
{
	if (!v || strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
		*out = 0;
		return 0;
	}
	return -1;
}

static int set_value(const struct opt *o, const char *v, ws_err *err)
{
	ws_strlist *s = o->target;
	const char *p = v;

	if (o->type != OPT_LIST) {
		*(const char **)o->target = v;
		return 0;
	}
	if (!o->split)
		return ws_strlist_add(s, v, err);
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char *piece = xstrndup(p, n);
		int rc = n ? ws_strlist_add(s, piece, err) : 0;

		free(piece);
		if (rc)
			return -1;
		p += n + (comma != NULL);
	}
	return 0;
}

/* The options every command accepts; g must hold GLOBAL_OPTS entries. */
#define GLOBAL_OPTS 12
static void global_opts(struct cli *cli, struct opt g[GLOBAL_OPTS])
{
	const struct opt globals[GLOBAL_OPTS] = {
		{"kubeconfig", 0, OPT_STRING, &cli->kubeconfig, NULL, 0},
		{"context", 0, OPT_STRING, &cli->context, NULL, 0},
		{"server", 's', OPT_STRING, &cli->server, NULL, 0},
		{"namespace", 'n', OPT_STRING, &cli->system_namespace, NULL, 0},
		{"output", 'o', OPT_STRING, &cli->output, NULL, 0},
		{"flyte-endpoint", 0, OPT_STRING, &cli->flyte_endpoint, NULL, 0},
		{"platform-config", 0, OPT_STRING, &cli->platform_config, NULL, 0},
		{"tiers-file", 0, OPT_STRING, &cli->tiers_file, NULL, 0},
		{"request-timeout", 0, OPT_STRING, &cli->request_timeout, NULL, 0},
		{"mode", 0, OPT_STRING, &cli->mode, NULL, 0},
		{"help", 'h', OPT_BOOL, &cli->help, NULL, 0},
		{NULL, 0, 0, NULL, NULL, 0},
	};

	memcpy(g, globals, sizeof(globals));
}

/* Split argv[i] into its option and inline value (--x=v, -ov, -o=v).
 * Returns NULL when argv[i] is not a flag of opts. */
static const struct opt *flag_of(const struct opt *opts, const char *a, const char **val)
{
	const char *name, *eq;
	size_t len;
	char short_name = 0;

	*val = NULL;
	if (a[1] == '-') {
		name = a + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		if (eq)
			*val = eq + 1;
	} else {
		/* -o json, -ojson, -o=json */
		name = a + 1;
		short_name = a[1];
		len = 1;
		if (a[2])
			*val = a[2] == '=' ? a + 3 : a + 2;
	}
	return find_opt(opts, name, len, short_name);
}

int cli_find_command(int argc, char **argv)
{
	struct cli scratch;
	struct opt globals[GLOBAL_OPTS];
	int i;

	memset(&scratch, 0, sizeof(scratch));
	global_opts(&scratch, globals);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val;
		const struct opt *o;

		if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0)
			return i;
		o = flag_of(globals, a, &val);
		if (!o)
			return i;
		if (o->type == OPT_STRING && !val)
			i++; /* its value is the next argument */
	}
	return argc;
}

int cli_parse(int argc, char **argv, const struct opt *opts, struct cli *cli, ws_strlist *pos,
	      ws_err *err)
{
	struct opt globals[GLOBAL_OPTS];
	int i, only_pos = 0;

	global_opts(cli, globals);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const struct opt *o;

		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (ws_strlist_add(pos, a, err))
				return -1;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		o = flag_of(opts, a, &val);
		if (!o)
			o = flag_of(globals, a, &val);
		if (!o && strncmp(a, "--dry-run", 9) == 0 && (a[9] == '\0' || a[9] == '='))
			return ws_fail(err, WS_E_INVALID, "unknown flag: --dry-run ('%s' has no dry run)",
				       argv[0]);
		if (!o)
			return ws_fail(err, WS_E_INVALID, "unknown flag: %s", a);
		switch (o->type) {
		case OPT_BOOL:
			if (parse_bool(val, o->target))
				return ws_fail(err, WS_E_INVALID, "invalid value '%s' for %s: use true or false",
					       val, a);
			break;
		case OPT_OPTIONAL:
			*(const char **)o->target = val ? val : o->implicit;
			break;
		case OPT_STRING:
		case OPT_LIST:
			if (!val) {
				if (i + 1 >= argc)
					return ws_fail(err, WS_E_INVALID, "flag needs an argument: %s", a);
				val = argv[++i];
			}
			if (set_value(o, val, err))
				return -1;
			break;
		}
	}
	/* -o table is the human output every command prints without -o. */
	if (cli->output && strcmp(cli->output, "table") == 0) {
		cli->output = NULL;
		cli->output_table = 1;
	}
	return 0;
}

int cli_platform_overrides(const struct cli *cli, ws_platform *p, ws_err *err)
{
	if (cli->tiers_file && ws_tiers_load_file(&p->tiers, cli->tiers_file, err))
		return -1;
	if (cli->tiers_file && !ws_tiers_find(&p->tiers, p->default_tier, NULL)) {
		free(p->default_tier);
		p->default_tier = xstrdup(p->tiers.tiers[0].name);
	}
	if (cli->system_namespace) {
		if (ws_check_dns_label(cli->system_namespace, "namespace", err))
			return -1;
		free(p->system_namespace);
		p->system_namespace = xstrdup(cli->system_namespace);
	}
	if (cli->flyte_endpoint) {
		free(p->flyte_endpoint);
		p->flyte_endpoint = xstrdup(cli->flyte_endpoint);
	}
	return 0;
}

int cli_platform(const struct cli *cli, ws_platform *p, ws_err *err)
{
	const char *file = cli->platform_config ? cli->platform_config
						: getenv("WORKSPACE_PLATFORM_CONFIG");

	if (ws_platform_defaults(p, err))
		return -1;
	if (file && *file && ws_platform_load_file(p, file, err))
		goto fail;
	if (!cli->flyte_endpoint && !p->flyte_endpoint && getenv("FLYTE_PLATFORM_URL") &&
	    *getenv("FLYTE_PLATFORM_URL")) {
		p->flyte_endpoint = xstrdup(getenv("FLYTE_PLATFORM_URL"));
	}
	if (cli_platform_overrides(cli, p, err))
		goto fail;
	return 0;
fail:
	ws_platform_release(p);
	return -1;
}

int cli_start(int argc, char **argv, const struct cmd_spec *spec, struct cli *cli,
	      ws_strlist *pos)
{
	const char *const *f, *const *formats = spec->formats;
	ws_err err;

	if (cli_parse(argc, argv, spec->opts, cli, pos, &err))
		return cli_err(EXIT_USAGE, &err);
	if (cli->help) {
		fputs(spec->help, stdout);
		return 0;
	}
	if (pos->n < spec->min_pos || pos->n > spec->max_pos)
		return cli_error(EXIT_USAGE, "%s", spec->count_msg);
	if (cli->output_table && !formats)
		return cli_error(EXIT_USAGE, "invalid --output 'table': this command has no -o");
	if (!cli->output)
		return -1;
	for (f = formats; f && *f; f++)
		if (strcmp(cli->output, *f) == 0)
			return -1;
	if (!formats)
		return cli_error(EXIT_USAGE, "invalid --output '%s': this command has no -o", cli->output);
	{
		char list[128] = "";
		size_t n;

		for (f = formats; *f; f++) {
			n = strlen(list);
			snprintf(list + n, sizeof(list) - n, "%s|", *f);
		}
		return cli_error(EXIT_USAGE, "invalid --output '%s': use one of %stable", cli->output, list);
	}
}

int cli_session(struct cli *cli, struct session *s)
{
	ws_err err;

	return session_open(cli, s, &err) ? cli_err(1, &err) : -1;
}

int cli_start_session(int argc, char **argv, const struct cmd_spec *spec, struct cli *cli,
		      ws_strlist *pos, struct session *s)
{
	int rc = cli_start(argc, argv, spec, cli, pos);

	return rc >= 0 ? rc : cli_session(cli, s);
}
