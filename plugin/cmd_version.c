/* cmd_version.c - `kubectl workspace version`. */
#include <string.h>

#include "cli.h"
#include "version.h"

static const char version_help[] =
	"Print the version of the kubectl-workspace plugin.\n\n"
	"Options:\n"
	"    -o, --output='': json|yaml prints {version: ...}; table (the default) one line.\n\n"
	"Usage:\n"
	"  kubectl workspace version [-o json|yaml|table]\n";

int cmd_version(int argc, char **argv, struct cli *cli)
{
	const struct cmd_spec spec = {
		NULL, version_help, 0, 0, "version takes no arguments",
		(const char *const[]){"json", "yaml", NULL},
	};
	ws_strlist pos = {0};
	ws_err err;
	cJSON *v;
	int rc;

	rc = cli_start(argc, argv, &spec, cli, &pos);
	if (rc >= 0)
		goto out;
	rc = 0;
	if (!cli->output) {
		printf("kubectl-workspace %s\n", WS_VERSION);
		goto out;
	}
	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "version", WS_VERSION);
	if (print_as(stdout, cli->output, v, &err))
		rc = cli_err(1, &err);
	cJSON_Delete(v);
out:
	ws_strlist_release(&pos);
	return rc;
}
