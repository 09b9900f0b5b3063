/* cmd_doctor.c - `kubectl workspace doctor [ID] [--fix]`: diff the plan of
 * each workspace against the cluster and Flyte; exit 1 on drift. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xalloc.h"

static const char doctor_help[] =
	"Check workspaces against their plans: every object (missing, different, or managed\n"
	"but no longer planned), the Flyte project and its settings, and flyteadmin's\n"
	"namespace_mapping.template. Exits 1 when anything drifted, or could not be checked\n"
	"(an object that could not be read).\n\n"
	"Examples:\n"
	"  kubectl workspace doctor\n"
	"  kubectl workspace doctor ws-churn-001 --fix\n\n"
	"Options:\n"
	"    --fix=false: Bring every drifted workspace back to its plan, then check again.\n"
	"    -o, --output='': json|yaml prints {drift: N, workspaces: [{workspace, drift, unchecked,\n"
	"        fixed, items: [{object, where, state, detail}]}]}: the objects that are not ok (after\n"
	"        --fix, as checked again). table (the default) prints text. Same exit code.\n\n"
	"Usage:\n"
	"  kubectl workspace doctor [ID] [--fix] [-o json|yaml|table]\n";

/* Check one workspace; prints its drift, or with entry (-o) stores it there
 * as data instead (caller owns). Returns the number drifted, -1 on error.
 * An object that could not be read (state unknown) is not drift, but the
 * workspace is then not known to be clean: *unchecked counts them. */
static long check(struct session *s, const ws_record *r, cJSON **entry, size_t *unchecked)
{
	ws_drift *d = NULL, *bad;
	size_t n, ndrift, i, nb = 0;
	ws_err err;

	if (ws_diff(&s->prov, r, &d, &n, &ndrift, &err)) {
		cli_err(1, &err);
		return -1;
	}
	bad = xcalloc(n + 1, sizeof(*bad));
	*unchecked = 0;
	for (i = 0; i < n; i++) {
		if (d[i].state != WS_DRIFT_OK)
			bad[nb++] = d[i];
		if (d[i].state == WS_DRIFT_UNKNOWN)
			++*unchecked;
	}
	if (entry) {
		*entry = cJSON_CreateObject();
		cJSON_AddStringToObject(*entry, "workspace", r->workspace_id);
		cJSON_AddNumberToObject(*entry, "drift", (double)ndrift);
		cJSON_AddNumberToObject(*entry, "unchecked", (double)*unchecked);
		cJSON_AddItemToObject(*entry, "items", drift_json(bad, nb));
	} else if (!ndrift && *unchecked) {
		printf("%s: no drift found, but %zu could not be checked (%zu objects match the "
		       "plan)\n", r->workspace_id, *unchecked, n - nb);
		for (i = 0; i < nb; i++)
			printf("  %s: %s\n", bad[i].subject, bad[i].detail);
	} else if (!ndrift) {
		printf("%s: ok (%zu objects match the plan)\n", r->workspace_id, n - nb);
		for (i = 0; i < nb; i++)
			printf("  note: %s: %s\n", bad[i].subject, bad[i].detail);
	} else {
		printf("%s: %zu drifted\n", r->workspace_id, ndrift);
		print_drift_table(stdout, bad, nb);
	}
	free(bad);
	free(d);
	return (long)ndrift;
}

int cmd_doctor(int argc, char **argv, struct cli *cli)
{
	int fix = 0;
	cJSON *doc = NULL, *list = NULL, *entry = NULL, **as_data = NULL;
	long total = 0;
	const struct opt opts[] = {
		{"fix", 0, OPT_BOOL, &fix, NULL, 0},
		{NULL, 0, 0, NULL, NULL, 0},
	};
	const struct cmd_spec spec = {
		opts, doctor_help, 0, 1, "doctor takes at most one workspace ID",
		(const char *const[]){"json", "yaml", NULL},
	};
	ws_strlist pos = {0};
	struct session s;
	ws_record *recs = NULL;
	size_t n = 0, i;
	ws_err err;
	int rc = 1, drifted = 0, failed = 0;

	rc = cli_start_session(argc, argv, &spec, cli, &pos, &s);
	if (rc >= 0)
		goto out;
	rc = 1;
	s.quiet_unchanged = 1;
	if (pos.n == 1) {
		recs = xcalloc(1, sizeof(*recs));
		if (ws_record_load(&s.prov, pos.items[0], &recs[0], NULL, &err)) {
			free(recs);
			rc = cli_err(1, &err);
			goto out_session;
		}
		n = 1;
	} else if (ws_record_list(&s.prov, &recs, NULL, &n, &err)) {
		rc = cli_err(1, &err);
		goto out_session;
	}
	if (cli->output) {
		/* -o: data on stdout; "fixing" and the progress of --fix go to stderr */
		doc = cJSON_CreateObject();
		list = cJSON_CreateArray();
		as_data = &entry;
	} else if (n == 0) {
		printf("No workspaces found in namespace %s.\n", s.platform.system_namespace);
	}
	for (i = 0; i < n; i++) {
		size_t unchecked = 0;
		long d = check(&s, &recs[i], as_data, &unchecked);

		if (d > 0 && fix) {
			fprintf(as_data ? stderr : stdout, "fixing %s\n", recs[i].workspace_id);
			if (ws_converge(&s.prov, &recs[i], &err)) {
				cli_err(1, &err);
				failed = 1;
			} else {
				cJSON_Delete(entry);
				entry = NULL;
				d = check(&s, &recs[i], as_data, &unchecked);
			}
			if (entry)
				cJSON_AddBoolToObject(entry, "fixed", d == 0);
		}
		if (as_data && !entry) { /* not checked: its error went to stderr */
			entry = cJSON_CreateObject();
			cJSON_AddStringToObject(entry, "workspace", recs[i].workspace_id);
			cJSON_AddStringToObject(entry, "error", "could not be checked (see the error "
								 "on standard error)");
		}
		if (entry) {
			cJSON_AddItemToArray(list, entry);
			entry = NULL;
		}
		if (d < 0 || unchecked)
			failed = 1;
		else if (d > 0)
			drifted = 1, total += d;
	}
	if (doc) {
		cJSON_AddNumberToObject(doc, "drift", (double)total);
		cJSON_AddItemToObject(doc, "workspaces", list);
		if (print_as(stdout, cli->output, doc, &err))
			failed = cli_err(1, &err);
		cJSON_Delete(doc);
	}
	rc = failed || drifted ? 1 : 0;
	ws_records_release(recs, NULL, n);
out_session:
	session_close(&s);
out:
	ws_strlist_release(&pos);
	return rc;
}
