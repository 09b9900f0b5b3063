/* cmd_describe.c - `kubectl workspace describe ID`: the record, its status,
 * every object of its plan with whether the cluster matches, and the
 * Events about the record (the controller's audit trail). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xalloc.h"
#include "json.h"

static const char describe_help[] =
	"Show a workspace: its record, status, and every object of its plan with whether the\n"
	"cluster and Flyte match it.\n\n"
	"Examples:\n"
	"  kubectl workspace describe ws-customer-segmentation-analysis-001\n\n"
	"Options:\n"
	"    -o, --output='': json|yaml prints the record, status, object states and events; name prints\n"
	"        workspace/ID; table (the default) the summary and the object table.\n\n"
	"Usage:\n"
	"  kubectl workspace describe ID [options]\n";

cJSON *drift_json(const ws_drift *d, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "object", d[i].subject);
		cJSON_AddStringToObject(o, "where", d[i].where);
		cJSON_AddStringToObject(o, "state", ws_drift_name(d[i].state));
		if (d[i].detail[0])
			cJSON_AddStringToObject(o, "detail", d[i].detail);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

void print_drift_table(FILE *f, const ws_drift *d, size_t n)
{
	const char **cells = xcalloc((n + 1) * 4, sizeof(*cells));
	size_t i;

	cells[0] = "OBJECT";
	cells[1] = "WHERE";
	cells[2] = "STATE";
	cells[3] = "DETAIL";
	for (i = 0; i < n; i++) {
		cells[4 * (i + 1)] = d[i].subject;
		cells[4 * (i + 1) + 1] = d[i].where;
		cells[4 * (i + 1) + 2] = ws_drift_name(d[i].state);
		cells[4 * (i + 1) + 3] = d[i].detail;
	}
	print_table(f, cells, n + 1, 4);
	free(cells);
}

int cmd_describe(int argc, char **argv, struct cli *cli)
{
	const struct cmd_spec spec = {
		NULL, describe_help, 1, 1, "describe needs exactly one workspace ID",
		(const char *const[]){"json", "yaml", "name", NULL},
	};
	ws_strlist pos = {0};
	struct session s;
	ws_record r;
	ws_drift *drift = NULL;
	size_t n = 0, ndrift = 0;
	cJSON *cm = NULL, *status = NULL, *events = NULL;
	ws_err err;
	int rc = 1;

	rc = cli_start_session(argc, argv, &spec, cli, &pos, &s);
	if (rc >= 0)
		goto out;
	rc = 1;
	if (ws_record_load(&s.prov, pos.items[0], &r, NULL, &err)) {
		rc = cli_err(1, &err);
		goto out_session;
	}
	if (cli->output && strcmp(cli->output, "name") == 0) {
		/* as kubectl get -o name: the record exists, nothing more is checked */
		printf("workspace/%s\n", r.workspace_id);
		rc = 0;
		goto out_record;
	}
	if (!ws_k8s_get(&s.k8s, &WS_KIND_CONFIGMAP, s.platform.system_namespace, pos.items[0], &cm, NULL)) {
		const char *st = ws_json_str(cm, "data", WS_STATUS_KEY, NULL);

		status = st ? cJSON_Parse(st) : NULL;
		/* the audit trail is extra: describe still shows the rest without it */
		if (record_events(&s.k8s, s.platform.system_namespace, cm, &events, &err))
			fprintf(stderr, "warning: %s\n", err.msg);
	}
	if (ws_diff(&s.prov, &r, &drift, &n, &ndrift, &err)) {
		rc = cli_err(1, &err);
		goto out_record;
	}
	rc = 0;
	if (cli->output) {
		cJSON *o = record_with_status(&r, status);

		cJSON_AddItemToObject(o, "objects", drift_json(drift, n));
		if (events)
			cJSON_AddItemReferenceToObject(o, "events", events);
		if (print_as(stdout, cli->output, o, &err))
			rc = cli_err(1, &err);
		cJSON_Delete(o);
	} else {
		const char *phase = ws_json_str(status, "phase", NULL);
		const char *msg = ws_json_str(status, "message", NULL);

		print_summary(stdout, &s.platform, &r);
		printf("Owner:          %s\n", r.owner_email);
		printf("Created:        %s\n", r.created_at ? r.created_at : "");
		printf("Status:         %s%s%s\n", phase ? phase : "Unknown", msg && *msg ? ": " : "",
		       msg && *msg ? msg : "");
		printf("Drift:          %s\n\n", ndrift ? "yes (run 'kubectl workspace doctor --fix')" : "none");
		print_drift_table(stdout, drift, n);
		if (cJSON_GetArraySize(events) > 0) {
			printf("\nEvents:\n");
			print_events(stdout, events);
		}
	}
	free(drift);
out_record:
	cJSON_Delete(status);
	cJSON_Delete(events);
	cJSON_Delete(cm);
	ws_record_release(&r);
out_session:
	session_close(&s);
out:
	ws_strlist_release(&pos);
	return rc;
}
