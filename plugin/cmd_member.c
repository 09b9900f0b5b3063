/* cmd_member.c - `kubectl workspace member add|remove|set-role` and
 * `kubectl workspace tier`: edit the record, then bring the cluster to it;
 * all or nothing (ws_change): a failure puts the record back too. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char member_help[] =
	"Change the members of a workspace. The record is updated first, then the workspace's\n"
	"roles and bindings are brought to it (a removed member's role and binding are deleted).\n"
	"If that fails, the record is put back too: nothing changes.\n\n"
	"Examples:\n"
	"  kubectl workspace member add ws-churn-001 carol viewer --email carol@company.com\n"
	"  kubectl workspace member set-role ws-churn-001 carol contributor\n"
	"  kubectl workspace member remove ws-churn-001 carol\n\n"
	"Options:\n"
	"    --email='': E-mail address of the member (add), used as the RBAC subject.\n\n"
	"Usage:\n"
	"  kubectl workspace member add ID USER [ROLE] [--email EMAIL]   (ROLE defaults to contributor)\n"
	"  kubectl workspace member remove ID USER\n"
	"  kubectl workspace member set-role ID USER ROLE\n";

static const char tier_help[] =
	"Change the quota tier of a workspace: the record is updated, then its ResourceQuota,\n"
	"namespace annotations and Flyte project settings are brought to it. If that fails, the\n"
	"record is put back too: nothing changes.\n\n"
	"Examples:\n"
	"  kubectl workspace tier ws-churn-001 large\n\n"
	"Usage:\n"
	"  kubectl workspace tier ID TIER\n";

enum member_op { OP_ADD, OP_REMOVE, OP_SET_ROLE, OP_TIER };

struct edit {
	enum member_op op;
	const char *user;
	const char *email;
	enum ws_role role;
	const char *tier;
	const ws_platform *platform;
};

static int apply_edit(void *ctx, ws_record *r, ws_err *err)
{
	struct edit *e = ctx;

	switch (e->op) {
	case OP_ADD:
		if (e->email && ws_check_email(e->email, err))
			return ws_err_prefix(err, "--email");
		return ws_record_add_user(r, e->user, e->email ? e->email
				: strchr(e->user, '@') ? e->user : NULL, e->role, err);
	case OP_REMOVE:
		return ws_record_remove_user(r, e->user, err);
	case OP_SET_ROLE:
		return ws_record_set_role(r, e->user, e->role, err);
	case OP_TIER:
		if (!ws_tiers_find(&e->platform->tiers, e->tier, err))
			return -1;
		if (ws_record_set(&r->tier, e->tier))
			return ws_fail(err, WS_E_INTERNAL, "out of memory");
		return 0;
	}
	return ws_fail(err, WS_E_INTERNAL, "unknown edit");
}

/* Controller mode: write the edited record, and follow the controller
 * until it reports the change (an edit that changes nothing is done). */
static int controller_edit(struct session *s, const char *id, const char *holder, struct edit *e,
			   ws_record *r, ws_err *err)
{
	static const char *const done[] = {"MemberAdded", "MemberRemoved", "MemberRoleChanged",
					   "TierChanged", NULL};
	cJSON *cm = NULL, *history = NULL;
	char *before = NULL, *after = NULL;
	ws_record old;
	int rc = -1;

	if (ws_record_load(&s->prov, id, &old, NULL, err))
		return -1;
	before = ws_record_print(&old);
	ws_record_release(&old);
	if (ws_k8s_get(&s->k8s, &WS_KIND_CONFIGMAP, s->platform.system_namespace, id, &cm, err) ||
	    record_events(&s->k8s, s->platform.system_namespace, cm, &history, err) ||
	    ws_record_edit(&s->prov, id, apply_edit, e, r, err))
		goto out;
	after = ws_record_print(r);
	if (before && after && strcmp(before, after) == 0)
		rc = 0; /* nothing changed: nothing for the controller to do */
	else
		rc = follow_controller(s, id, holder, done, 0, history, err);
	if (rc)
		ws_record_release(r);
out:
	free(before);
	free(after);
	cJSON_Delete(history);
	cJSON_Delete(cm);
	return rc;
}

static int run_edit(struct cli *cli, const char *id, struct edit *e)
{
	struct session s;
	ws_record r;
	char holder[128];
	ws_err err;
	int rc, ctl;

	if ((rc = cli_session(cli, &s)) >= 0)
		return rc;
	e->platform = &s.platform;
	s.quiet_unchanged = 1;
	ctl = use_controller(cli, &s, holder, sizeof(holder), &err);
	if (ctl < 0) {
		rc = cli_err(EXIT_USAGE, &err);
	} else if (ctl) {
		rc = controller_edit(&s, id, holder, e, &r, &err) ? cli_err(1, &err) : 0;
	} else {
		session_changes_begin(SESSION_ROLLS_BACK);
		rc = ws_change(&s.prov, id, apply_edit, e, &r, &err) ? cli_err(1, &err) : 0;
	}
	if (!rc) {
		printf("workspace/%s record updated\n", id);
		printf("workspace/%s matches its record\n", id);
		ws_record_release(&r);
	}
	e->platform = NULL; /* it pointed into this frame's session */
	session_close(&s);
	return rc;
}

int cmd_member(int argc, char **argv, struct cli *cli)
{
	const char *email = NULL;
	const struct opt opts[] = {
		{"email", 0, OPT_STRING, &email, NULL, 0},
		{NULL, 0, 0, NULL, NULL, 0},
	};
	ws_strlist pos = {0};
	struct edit e = {0};
	ws_err err;
	const char *verb;
	int rc;

	if (cli_parse(argc, argv, opts, cli, &pos, &err)) {
		rc = cli_err(EXIT_USAGE, &err);
		goto out;
	}
	if (cli->output || cli->output_table) {
		rc = cli_error(EXIT_USAGE, "invalid --output '%s': this command has no -o",
			       cli->output ? cli->output : "table");
		goto out;
	}
	if (cli->help || pos.n == 0) {
		fputs(member_help, stdout);
		rc = cli->help ? 0 : EXIT_USAGE;
		goto out;
	}
	verb = pos.items[0];
	e.email = email;
	e.role = WS_ROLE_CONTRIBUTOR;
	if (strcmp(verb, "add") == 0 && (pos.n == 3 || pos.n == 4)) {
		e.op = OP_ADD;
	} else if (strcmp(verb, "remove") == 0 && pos.n == 3) {
		e.op = OP_REMOVE;
	} else if (strcmp(verb, "set-role") == 0 && pos.n == 4) {
		e.op = OP_SET_ROLE;
	} else {
		rc = cli_error(EXIT_USAGE, "usage: member add ID USER [ROLE] | member remove ID USER | "
					   "member set-role ID USER ROLE");
		goto out;
	}
	e.user = pos.items[2];
	if (pos.n == 4 && ws_role_parse(pos.items[3], &e.role, &err)) {
		rc = cli_err(EXIT_USAGE, &err);
		goto out;
	}
	if (email && e.op != OP_ADD) {
		rc = cli_error(EXIT_USAGE, "--email goes with 'member add'");
		goto out;
	}
	rc = run_edit(cli, pos.items[1], &e);
out:
	ws_strlist_release(&pos);
	return rc;
}

int cmd_tier(int argc, char **argv, struct cli *cli)
{
	static const struct cmd_spec spec = {NULL, tier_help, 2, 2, "usage: tier ID TIER", NULL};
	ws_strlist pos = {0};
	struct edit e = {0};
	int rc;

	rc = cli_start(argc, argv, &spec, cli, &pos);
	if (rc >= 0)
		goto out;
	e.op = OP_TIER;
	e.tier = pos.items[1];
	rc = run_edit(cli, pos.items[0], &e);
out:
	ws_strlist_release(&pos);
	return rc;
}
