/* cmd_version.c - `kubectl workspace version`. */
#include <string.h>

#include "cli.h"
#include "version.h"

int cmd_version(int argc, char **argv, struct cli *cli)
{
	struct strvec pos = {0};
	ws_err err;
	cJSON *v;
	int rc = 0;

	if (cli_parse(argc, argv, NULL, cli, &pos, &err))
		return cli_err(EXIT_USAGE, &err);
	if (cli->help) {
		puts("Print the version of the kubectl-workspace plugin.\n\n"
		     "Usage:\n  kubectl workspace version [-o json|yaml]");
		goto out;
	}
	if (!cli->output) {
		printf("kubectl-workspace %s\n", WS_VERSION);
		goto out;
	}
	v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "version", WS_VERSION);
	if (print_as(stdout, cli->output, v, &err))
		rc = cli_err(EXIT_USAGE, &err);
	cJSON_Delete(v);
out:
	strvec_release(&pos);
	return rc;
}
