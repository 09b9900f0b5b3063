/* cmd_env.c - `kubectl workspace env ID`: the Flyte project context for
 * pyflyte and flytectl, as shell exports or a config.yaml. What flytekit
 * reads is from its source (configuration/internal.py Platform, file.py,
 * clis/sdk_in_container/utils.py): FLYTE_PLATFORM_URL/INSECURE/CA_CERT_FILE_PATH
 * or admin.endpoint/insecure/caCertFilePath of a *.yaml file, and the project
 * and domain only from FLYTE_DEFAULT_PROJECT/DOMAIN (task.* is flytectl's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "cli.h"
#include "json.h"

static const char env_help[] =
	"Print the shell exports that make pyflyte and flytectl use a workspace's Flyte project:\n"
	"FLYTE_DEFAULT_PROJECT, FLYTE_DEFAULT_DOMAIN, FLYTE_PLATFORM_URL, FLYTE_PLATFORM_INSECURE\n"
	"and, when the platform names the CA of Flyte Admin's certificate (flyte.caCertFile or\n"
	"FLYTE_PLATFORM_CA_CERT_FILE_PATH), FLYTE_PLATFORM_CA_CERT_FILE_PATH.\n\n"
	"Examples:\n"
	"  eval \"$(kubectl workspace env ws-churn-001)\"\n"
	"  kubectl workspace env ws-churn-001 --domain staging --write-config ~/.flyte/config.yaml\n\n"
	"Options:\n"
	"    --domain='development': The Flyte domain (development, staging, production).\n"
	"    --write-config='': Also write a Flyte config file, FILE.yaml or FILE.yml (admin.endpoint,\n"
	"        admin.insecure, admin.caCertFilePath, task.project, task.domain). pyflyte reads the\n"
	"        admin.* keys but takes the project only from FLYTE_DEFAULT_PROJECT (task.* is for\n"
	"        flytectl): export it too.\n"
	"    -o, --output='': json|yaml prints the variables as a map (name: value, all strings);\n"
	"        table (the default) prints them as shell exports.\n\n"
	"Usage:\n"
	"  kubectl workspace env ID [--domain D] [--write-config FILE] [-o json|yaml|table]\n";

/* "https://h:p/x" -> host "h:p", plain_http 0; "h:p" -> "h:p", plain_http from env. */
static void endpoint_parts(const char *url, char *host, size_t size, int *plain_http)
{
	const char *s = strstr(url, "://"), *h = s ? s + 3 : url, *slash;
	const char *env = getenv("FLYTE_PLATFORM_INSECURE");

	if (strncmp(url, "dns:///", 7) == 0)
		h = url + 7, s = NULL;
	*plain_http = s ? strncmp(url, "http://", 7) == 0
		      : env && (strcmp(env, "true") == 0 || strcmp(env, "True") == 0 || strcmp(env, "1") == 0);
	slash = strchr(h, '/');
	snprintf(host, size, "%.*s", (int)(slash ? (size_t)(slash - h) : strlen(h)), h);
	if (s && !strchr(host, ':')) {
		size_t n = strlen(host);

		snprintf(host + n, size - n, ":%s", *plain_http ? "80" : "443");
	}
}

/* pyflyte parses a config file as YAML only when its name ends in yaml or yml
 * (flytekit/configuration/file.py ConfigFile), else as INI. */
static int yaml_name(const char *path)
{
	size_t n = strlen(path);

	return (n >= 4 && strcmp(path + n - 4, "yaml") == 0) ||
	       (n >= 3 && strcmp(path + n - 3, "yml") == 0);
}

struct flyte_config {
	cJSON *cfg;
	const char *project, *domain;
};

static int write_yaml(FILE *f, void *ctx, ws_err *err)
{
	const struct flyte_config *c = ctx;

	fprintf(f, "# Flyte config for workspace %s, domain %s (kubectl workspace env --write-config).\n"
		   "# pyflyte reads admin.*; it takes the project only from FLYTE_DEFAULT_PROJECT\n"
		   "# (task.* below is read by flytectl), so also run:\n"
		   "#   export FLYTE_DEFAULT_PROJECT=%s FLYTE_DEFAULT_DOMAIN=%s\n",
		c->project, c->domain, c->project, c->domain);
	return print_yaml(f, c->cfg, err);
}

static int write_config(const char *path, const char *host, int plain_http, const char *ca,
			const char *project, const char *domain, ws_err *err)
{
	struct flyte_config c = {cJSON_CreateObject(), project, domain};
	cJSON *admin, *task;
	char endpoint[600];
	int rc;

	snprintf(endpoint, sizeof(endpoint), "dns:///%s", host);
	admin = cJSON_AddObjectToObject(c.cfg, "admin");
	cJSON_AddStringToObject(admin, "endpoint", endpoint);
	cJSON_AddBoolToObject(admin, "insecure", plain_http);
	if (ca && *ca)
		cJSON_AddStringToObject(admin, "caCertFilePath", ca);
	task = cJSON_AddObjectToObject(c.cfg, "task");
	cJSON_AddStringToObject(task, "project", project);
	cJSON_AddStringToObject(task, "domain", domain);
	rc = ws_file_replace(path, 0644, write_yaml, &c, err);
	cJSON_Delete(c.cfg);
	return rc;
}

/* export NAME='VALUE' with VALUE quoted for sh (a ' becomes '\''). */
static void print_export(const char *name, const char *value)
{
	printf("export %s='", name);
	for (; *value; value++) {
		if (*value == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*value);
	}
	printf("'\n");
}

int cmd_env(int argc, char **argv, struct cli *cli)
{
	const char *domain = NULL, *config = NULL;
	const struct opt opts[] = {
		{"domain", 'd', OPT_STRING, &domain, NULL, 0},
		{"write-config", 0, OPT_STRING, &config, NULL, 0},
		{NULL, 0, 0, NULL, NULL, 0},
	};
	const struct cmd_spec spec = {
		opts, env_help, 1, 1, "env needs exactly one workspace ID",
		(const char *const[]){"json", "yaml", NULL},
	};
	ws_strlist pos = {0};
	struct session s;
	ws_record r;
	ws_err err;
	char host[512];
	const char *ca;
	int rc = 1, plain_http = 0;

	rc = cli_start_session(argc, argv, &spec, cli, &pos, &s);
	if (rc >= 0)
		goto out;
	rc = 1;
	if (config && !yaml_name(config)) {
		rc = cli_error(EXIT_USAGE, "--write-config '%s': the name must end in .yaml or .yml "
					   "(pyflyte reads any other name as an INI file)", config);
		goto out_session;
	}
	if (!domain)
		domain = s.platform.default_domain;
	if (!ws_strlist_has(&s.platform.domains, domain)) {
		char list[256] = "";
		size_t i, n;

		for (i = 0; i < s.platform.domains.n; i++) {
			n = strlen(list);
			snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", s.platform.domains.items[i]);
		}
		rc = cli_error(EXIT_USAGE, "unknown domain '%s' (domains: %s)", domain, list);
		goto out_session;
	}
	if (ws_record_load(&s.prov, pos.items[0], &r, NULL, &err)) {
		rc = cli_err(1, &err);
		goto out_session;
	}
	if (!s.platform.flyte_endpoint) {
		rc = cli_error(1, "the Flyte Admin endpoint is not known: pass --flyte-endpoint, set "
				  "FLYTE_PLATFORM_URL, or set flyte.endpoint in the %s ConfigMap",
			       WS_PLATFORM_CONFIGMAP);
		goto out_record;
	}
	endpoint_parts(s.platform.flyte_endpoint, host, sizeof(host), &plain_http);
	ca = getenv("FLYTE_PLATFORM_CA_CERT_FILE_PATH");
	if (!ca || !*ca)
		ca = s.platform.flyte_ca_file;
	if (plain_http || (ca && !*ca))
		ca = NULL;
	if (config && write_config(config, host, plain_http, ca, r.workspace_id, domain, &err)) {
		rc = cli_err(1, &err);
		goto out_record;
	}
	rc = 0;
	if (cli->output) {
		cJSON *vars = cJSON_CreateObject();

		cJSON_AddStringToObject(vars, "FLYTE_DEFAULT_PROJECT", r.workspace_id);
		cJSON_AddStringToObject(vars, "FLYTE_DEFAULT_DOMAIN", domain);
		cJSON_AddStringToObject(vars, "FLYTE_PLATFORM_URL", host);
		cJSON_AddStringToObject(vars, "FLYTE_PLATFORM_INSECURE", plain_http ? "true" : "false");
		if (ca)
			cJSON_AddStringToObject(vars, "FLYTE_PLATFORM_CA_CERT_FILE_PATH", ca);
		if (print_as(stdout, cli->output, vars, &err))
			rc = cli_err(1, &err);
		cJSON_Delete(vars);
	} else {
		printf("export FLYTE_DEFAULT_PROJECT=%s\n", r.workspace_id);
		printf("export FLYTE_DEFAULT_DOMAIN=%s\n", domain);
		printf("export FLYTE_PLATFORM_URL='%s'\n", host);
		printf("export FLYTE_PLATFORM_INSECURE=%s\n", plain_http ? "true" : "false");
		if (ca)
			print_export("FLYTE_PLATFORM_CA_CERT_FILE_PATH", ca);
	}
	/* keep stdout pure data under -o */
	if (config)
		fprintf(cli->output ? stderr : stdout, "# wrote %s (FLYTECTL_CONFIG=%s selects it)\n",
			config, config);
out_record:
	ws_record_release(&r);
out_session:
	session_close(&s);
out:
	ws_strlist_release(&pos);
	return rc;
}
