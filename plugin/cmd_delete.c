/* cmd_delete.c - `kubectl workspace delete ID`: the namespaces and record go,
 * the Flyte project is archived (Flyte cannot delete projects). */
#include <string.h>

#include "cli.h"
#include "finalizer.h"
#include "plan.h"

static const char delete_help[] =
	"Delete a workspace: its namespace (with everything in it) and its record. Its Flyte\n"
	"project is archived, since Flyte Admin cannot delete projects.\n\n"
	"Examples:\n"
	"  kubectl workspace delete ws-churn-001 --yes\n\n"
	"Options:\n"
	"    --yes=false: Do not ask for confirmation (required without a terminal).\n"
	"    --dry-run='none': 'client' (also plain --dry-run) reads the record and prints what\n"
	"        would be deleted and archived; 'server' sends the deletions as server-side dry\n"
	"        runs. Neither changes anything, so neither asks for confirmation.\n\n"
	"Usage:\n"
	"  kubectl workspace delete ID [--yes] [--dry-run=none|client|server]\n";

/* --dry-run=client: what ws_destroy would do, from the record's plan, with
 * nothing sent but the record's GET (Flyte is not asked). */
static int print_client_dry_run(const struct session *s, const ws_record *r, ws_err *err)
{
	ws_record copy;
	ws_plan plan;
	size_t i;
	int rc;

	/* ws_destroy plans with the default tier when the record's is gone; a
	 * shallow copy (never released) is enough to change the tier. */
	copy = *r;
	if (r->tier && !ws_tiers_find(&s->platform.tiers, r->tier, NULL))
		copy.tier = NULL;
	rc = ws_plan_build(&copy, &s->platform, &plan, err);
	if (rc)
		return ws_err_prefix(err, "cannot plan the deletion of '%s'", r->workspace_id);
	for (i = 0; i < plan.namespaces.n; i++)
		printf("namespace/%s deleted (dry run)\n", plan.namespaces.items[i]);
	if (plan.nflyte)
		printf("flyte project/%s archived (dry run; Flyte cannot delete projects)\n",
		       r->workspace_id);
	printf("configmap/%s deleted (dry run; the record, in namespace %s)\n", r->workspace_id,
	       s->platform.system_namespace);
	printf("workspace/%s deleted (dry run)\n", r->workspace_id);
	ws_plan_release(&plan);
	return 0;
}

/* Controller mode: delete the record; its finalizer holds it until the
 * controller has cleaned up, which is followed until the record is gone. */
static int controller_delete(struct session *s, const char *id, const char *holder, ws_err *err)
{
	cJSON *cm = NULL, *history = NULL;
	int rc = -1;

	if (ws_k8s_get(&s->k8s, &WS_KIND_CONFIGMAP, s->platform.system_namespace, id, &cm, err) ||
	    record_events(&s->k8s, s->platform.system_namespace, cm, &history, err))
		goto out;
	if (ws_k8s_delete(&s->k8s, &WS_KIND_CONFIGMAP, s->platform.system_namespace, id, 0, err)) {
		ws_err_prefix(err, "cannot delete record '%s'", id);
		goto out;
	}
	rc = follow_controller(s, id, holder, NULL, 1, history, err);
out:
	cJSON_Delete(history);
	cJSON_Delete(cm);
	return rc;
}

int cmd_delete(int argc, char **argv, struct cli *cli)
{
	int yes = 0;
	const char *dry_run = NULL;
	const struct opt opts[] = {
		{"yes", 'y', OPT_BOOL, &yes, NULL, 0},
		/* plain --dry-run is client, as for create and kubectl */
		{"dry-run", 0, OPT_OPTIONAL, &dry_run, "client", 0},
		{NULL, 0, 0, NULL, NULL, 0},
	};
	const struct cmd_spec spec = {
		opts, delete_help, 1, 1, "delete needs exactly one workspace ID", NULL,
	};
	ws_strlist pos = {0};
	struct session s;
	ws_record r;
	ws_err err;
	char holder[128];
	int rc = 1, ctl;

	rc = cli_start(argc, argv, &spec, cli, &pos);
	if (rc >= 0)
		goto out;
	if (dry_run && strcmp(dry_run, "client") && strcmp(dry_run, "server") &&
	    strcmp(dry_run, "none")) {
		rc = cli_error(EXIT_USAGE, "invalid --dry-run '%s': use none, client or server", dry_run);
		goto out;
	}
	if (dry_run && strcmp(dry_run, "none") == 0)
		dry_run = NULL;
	if (dry_run)
		yes = 1; /* nothing is deleted: nothing to confirm */
	if (!yes && !cli->tty) {
		rc = cli_error(EXIT_USAGE, "refusing to delete '%s' without --yes (no terminal to ask on)",
			       pos.items[0]);
		goto out;
	}
	rc = cli_session(cli, &s);
	if (rc >= 0)
		goto out;
	rc = 1;
	s.prov.dry_run = dry_run && strcmp(dry_run, "server") == 0;
	if (ws_record_load(&s.prov, pos.items[0], &r, NULL, &err)) {
		rc = cli_err(1, &err);
		goto out_session;
	}
	if (dry_run && strcmp(dry_run, "client") == 0) {
		rc = print_client_dry_run(&s, &r, &err) ? cli_err(1, &err) : 0;
		goto out_record;
	}
	if (!yes) {
		char q[512];

		print_summary(stdout, &s.platform, &r);
		snprintf(q, sizeof(q), "\nDelete workspace %s and everything in its namespace?",
			 r.workspace_id);
		if (prompt_yes(q, 0) != 1) {
			rc = cli_error(1, "cancelled: nothing was deleted");
			goto out_record;
		}
	}
	ctl = s.prov.dry_run ? 0 : use_controller(cli, &s, holder, sizeof(holder), &err);
	if (ctl < 0) {
		rc = cli_err(EXIT_USAGE, &err);
		goto out_record;
	}
	if (ctl) {
		rc = controller_delete(&s, pos.items[0], holder, &err) ? cli_err(1, &err) : 0;
		if (!rc)
			printf("workspace/%s deleted\n", pos.items[0]);
		goto out_record;
	}
	if (!s.prov.dry_run)
		session_changes_begin(SESSION_STOPS);
	/* The record is deleted last; the controller's finalizer would hold it
	 * until a controller runs, but what it guards is done by now. */
	if (ws_destroy(&s.prov, pos.items[0], &err) ||
	    (!s.prov.dry_run &&
	     ws_finalizer_set(&s.k8s, s.platform.system_namespace, pos.items[0], 0, &err))) {
		rc = cli_err(1, &err);
		goto out_record;
	}
	printf("workspace/%s deleted%s\n", pos.items[0], s.prov.dry_run ? " (server dry run)" : "");
	rc = 0;
out_record:
	ws_record_release(&r);
out_session:
	session_close(&s);
out:
	ws_strlist_release(&pos);
	return rc;
}
