/* cmd_list.c - `kubectl workspace list`: every workspace record. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xalloc.h"
#include "json.h"

static const char list_help[] =
	"List workspaces.\n\n"
	"Examples:\n"
	"  kubectl workspace list\n"
	"  kubectl workspace list -o json\n\n"
	"Options:\n"
	"    -o, --output='': json|yaml|name; by default a table.\n\n"
	"Usage:\n"
	"  kubectl workspace list [options]\n";

int cmd_list(int argc, char **argv, struct cli *cli)
{
	const struct cmd_spec spec = {
		NULL, list_help, 0, 0, "list takes no arguments",
		(const char *const[]){"json", "yaml", "name", NULL},
	};
	ws_strlist pos = {0};
	struct session s;
	ws_record *recs = NULL;
	cJSON **status = NULL;
	size_t n = 0, i;
	ws_err err;
	int rc = 1;

	rc = cli_start_session(argc, argv, &spec, cli, &pos, &s);
	if (rc >= 0)
		goto out;
	rc = 1;
	if (ws_record_list(&s.prov, &recs, &status, &n, &err)) {
		rc = cli_err(1, &err);
		goto out_session;
	}
	rc = 0;
	if (cli->output && strcmp(cli->output, "name") == 0) {
		for (i = 0; i < n; i++)
			printf("workspace/%s\n", recs[i].workspace_id);
	} else if (cli->output) {
		cJSON *list = cJSON_CreateObject(), *items;

		cJSON_AddStringToObject(list, "apiVersion", "v1");
		cJSON_AddStringToObject(list, "kind", "List");
		items = cJSON_AddArrayToObject(list, "items");
		for (i = 0; i < n; i++)
			cJSON_AddItemToArray(items, record_with_status(&recs[i], status[i]));
		if (print_as(stdout, cli->output, list, &err))
			rc = cli_err(1, &err);
		cJSON_Delete(list);
	} else if (n == 0) {
		fprintf(stderr, "No workspaces found in namespace %s.\n", s.platform.system_namespace);
	} else {
		const char **cells = xcalloc((n + 1) * 6, sizeof(*cells));
		char (*members)[16] = xcalloc(n, sizeof(*members));

		cells[0] = "ID";
		cells[1] = "NAME";
		cells[2] = "OWNER";
		cells[3] = "TIER";
		cells[4] = "MEMBERS";
		cells[5] = "STATUS";
		for (i = 0; i < n; i++) {
			const char *phase = ws_json_str(status[i], "phase", NULL);

			snprintf(members[i], sizeof(members[i]), "%zu", recs[i].nusers);
			cells[6 * (i + 1)] = recs[i].workspace_id;
			cells[6 * (i + 1) + 1] = recs[i].workspace_name;
			cells[6 * (i + 1) + 2] = recs[i].owner_email;
			cells[6 * (i + 1) + 3] = recs[i].tier ? recs[i].tier : s.platform.default_tier;
			cells[6 * (i + 1) + 4] = members[i];
			cells[6 * (i + 1) + 5] = phase ? phase : "Unknown";
		}
		print_table(stdout, cells, n + 1, 6);
		free(cells);
		free(members);
	}
	ws_records_release(recs, status, n);
out_session:
	session_close(&s);
out:
	ws_strlist_release(&pos);
	return rc;
}
