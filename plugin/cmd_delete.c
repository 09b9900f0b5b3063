/* cmd_delete.c - `kubectl workspace delete ID`: the namespaces and record go,
 * the Flyte project is archived (Flyte cannot delete projects). */
#include <string.h>

#include "cli.h"

static const char delete_help[] =
	"Delete a workspace: its namespace (with everything in it) and its record. Its Flyte\n"
	"project is archived, since Flyte Admin cannot delete projects.\n\n"
	"Examples:\n"
	"  kubectl workspace delete ws-churn-001 --yes\n\n"
	"Options:\n"
	"    --yes=false: Do not ask for confirmation (required without a terminal).\n"
	"    --dry-run='none': 'server' sends the deletions as server-side dry runs.\n\n"
	"Usage:\n"
	"  kubectl workspace delete ID [--yes]\n";

int cmd_delete(int argc, char **argv, struct cli *cli)
{
	int yes = 0;
	const char *dry_run = NULL;
	const struct opt opts[] = {
		{"yes", 'y', OPT_BOOL, &yes, NULL, 0},
		{"dry-run", 0, OPT_OPTIONAL, &dry_run, "server", 0},
		{NULL, 0, 0, NULL, NULL, 0},
	};
	struct strvec pos = {0};
	struct session s;
	ws_record r;
	ws_err err;
	int rc = 1;

	rc = cli_start(argc, argv, opts, cli, &pos, delete_help, 1, 1,
		       "delete needs exactly one workspace ID", NULL);
	if (rc >= 0)
		goto out;
	rc = 1;
	if (dry_run && strcmp(dry_run, "server") && strcmp(dry_run, "none")) {
		rc = cli_error(EXIT_USAGE, "invalid --dry-run '%s': use none or server", dry_run);
		goto out;
	}
	if (!yes && !cli->tty) {
		rc = cli_error(EXIT_USAGE, "refusing to delete '%s' without --yes (no terminal to ask on)",
			       pos.v[0]);
		goto out;
	}
	if (session_open(cli, &s, &err)) {
		rc = cli_err(1, &err);
		goto out;
	}
	s.prov.dry_run = dry_run && strcmp(dry_run, "server") == 0;
	if (ws_record_load(&s.prov, pos.v[0], &r, NULL, &err)) {
		rc = cli_err(1, &err);
		goto out_session;
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
	if (ws_destroy(&s.prov, pos.v[0], &err)) {
		rc = cli_err(1, &err);
		goto out_record;
	}
	printf("workspace/%s deleted%s\n", pos.v[0], s.prov.dry_run ? " (server dry run)" : "");
	rc = 0;
out_record:
	ws_record_release(&r);
out_session:
	session_close(&s);
out:
	strvec_release(&pos);
	return rc;
}
