/* cmd_env.c - `kubectl workspace env ID`: the Flyte project context for
 * pyflyte and flytectl, as shell exports or a config.yaml. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

static const char env_help[] =
	"Print the shell exports that make pyflyte and flytectl use a workspace's Flyte project:\n"
	"FLYTE_DEFAULT_PROJECT, FLYTE_DEFAULT_DOMAIN, FLYTE_PLATFORM_URL (and\n"
	"FLYTE_PLATFORM_INSECURE for a plain-HTTP endpoint).\n\n"
	"Examples:\n"
	"  eval \"$(kubectl workspace env ws-churn-001)\"\n"
	"  kubectl workspace env ws-churn-001 --domain staging --write-config ~/.flyte/config.yaml\n\n"
	"Options:\n"
	"    --domain='development': The Flyte domain (development, staging, production).\n"
	"    --write-config='': Also write a Flyte config file (admin.endpoint, admin.insecure,\n"
	"        task.project, task.domain) that pyflyte and flytectl read.\n"
	"    -o, --output='': json|yaml prints the variables as a map (name: value, all strings);\n"
	"        table (the default) prints them as shell exports.\n\n"
	"Usage:\n"
	"  kubectl workspace env ID [--domain D] [--write-config FILE] [-o json|yaml|table]\n";

/* "https://h:p/x" -> host "h:p", insecure 0; "h:p" -> "h:p", insecure from env. */
static void endpoint_parts(const char *url, char *host, size_t size, int *insecure)
{
	const char *s = strstr(url, "://"), *h = s ? s + 3 : url, *slash;
	const char *env = getenv("FLYTE_PLATFORM_INSECURE");

	if (strncmp(url, "dns:///", 7) == 0)
		h = url + 7, s = NULL;
	*insecure = s ? strncmp(url, "http://", 7) == 0
		      : env && (strcmp(env, "true") == 0 || strcmp(env, "True") == 0 || strcmp(env, "1") == 0);
	slash = strchr(h, '/');
	snprintf(host, size, "%.*s", (int)(slash ? (size_t)(slash - h) : strlen(h)), h);
	if (s && !strchr(host, ':')) {
		size_t n = strlen(host);

		snprintf(host + n, size - n, ":%s", *insecure ? "80" : "443");
	}
}

static int write_config(const char *path, const char *host, int insecure, const char *project,
			const char *domain, ws_err *err)
{
	cJSON *cfg = cJSON_CreateObject(), *admin, *task;
	char tmp[4096], endpoint[600];
	const char *ca = getenv("FLYTE_PLATFORM_CA_CERT_FILE_PATH");
	FILE *f;
	int rc;

	snprintf(endpoint, sizeof(endpoint), "dns:///%s", host);
	admin = cJSON_AddObjectToObject(cfg, "admin");
	cJSON_AddStringToObject(admin, "endpoint", endpoint);
	cJSON_AddBoolToObject(admin, "insecure", insecure);
	if (ca && *ca)
		cJSON_AddStringToObject(admin, "caCertFilePath", ca);
	task = cJSON_AddObjectToObject(cfg, "task");
	cJSON_AddStringToObject(task, "project", project);
	cJSON_AddStringToObject(task, "domain", domain);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		cJSON_Delete(cfg);
		return ws_fail(err, WS_E_IO, "cannot write '%s': %s", path, strerror(errno));
	}
	rc = print_yaml(f, cfg, err);
	cJSON_Delete(cfg);
	if (fclose(f) || rc || rename(tmp, path)) {
		unlink(tmp);
		return rc ? -1 : ws_fail(err, WS_E_IO, "cannot write '%s': %s", path, strerror(errno));
	}
	return 0;
}

int cmd_env(int argc, char **argv, struct cli *cli)
{
	const char *domain = NULL, *config = NULL;
	const struct opt opts[] = {
		{"domain", 'd', OPT_STRING, &domain, NULL, 0},
		{"write-config", 0, OPT_STRING, &config, NULL, 0},
		{NULL, 0, 0, NULL, NULL, 0},
	};
	struct strvec pos = {0};
	struct session s;
	ws_record r;
	ws_err err;
	char host[512];
	int rc = 1, insecure = 0;

	rc = cli_start(argc, argv, opts, cli, &pos, env_help, 1, 1, "env needs exactly one workspace ID",
		       (const char *const[]){"json", "yaml", NULL});
	if (rc >= 0)
		goto out;
	rc = 1;
	if (session_open(cli, &s, &err)) {
		rc = cli_err(1, &err);
		goto out;
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
	if (ws_record_load(&s.prov, pos.v[0], &r, NULL, &err)) {
		rc = cli_err(1, &err);
		goto out_session;
	}
	if (!s.platform.flyte_endpoint) {
		rc = cli_error(1, "the Flyte Admin endpoint is not known: pass --flyte-endpoint, set "
				  "FLYTE_PLATFORM_URL, or set flyte.endpoint in the %s ConfigMap",
			       WS_PLATFORM_CONFIGMAP);
		goto out_record;
	}
	endpoint_parts(s.platform.flyte_endpoint, host, sizeof(host), &insecure);
	if (config && write_config(config, host, insecure, r.workspace_id, domain, &err)) {
		rc = cli_err(1, &err);
		goto out_record;
	}
	rc = 0;
	if (cli->output) {
		cJSON *vars = cJSON_CreateObject();

		cJSON_AddStringToObject(vars, "FLYTE_DEFAULT_PROJECT", r.workspace_id);
		cJSON_AddStringToObject(vars, "FLYTE_DEFAULT_DOMAIN", domain);
		cJSON_AddStringToObject(vars, "FLYTE_PLATFORM_URL", host);
		cJSON_AddStringToObject(vars, "FLYTE_PLATFORM_INSECURE", insecure ? "true" : "false");
		if (print_as(stdout, cli->output, vars, &err))
			rc = cli_err(1, &err);
		cJSON_Delete(vars);
	} else {
		printf("export FLYTE_DEFAULT_PROJECT=%s\n", r.workspace_id);
		printf("export FLYTE_DEFAULT_DOMAIN=%s\n", domain);
		printf("export FLYTE_PLATFORM_URL='%s'\n", host);
		printf("export FLYTE_PLATFORM_INSECURE=%s\n", insecure ? "true" : "false");
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
	strvec_release(&pos);
	return rc;
}
