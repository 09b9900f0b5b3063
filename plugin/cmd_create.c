/* cmd_create.c - `kubectl workspace create`: collect the workspace's inputs
 * (flags, or prompts on a terminal), build the record and its plan, then
 * print the plan (--dry-run=client) or provision it. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "xalloc.h"
#include "json.h"
#include "plan.h"

static const char create_help[] =
	"Create a Flyte workspace.\n\n"
	"The workspace id ws-<slug>-<NNN> is derived from NAME and is also the Flyte project id.\n"
	"Creating a workspace registers the Flyte project with its settings (runner service\n"
	"account, data bucket), creates the namespace flyte-<id> with tenant labels, a resource\n"
	"quota from the tier, a Role and RoleBinding per member, the runner service account bound\n"
	"to the cloud role and a network policy, and records the workspace.\n\n"
	"Examples:\n"
	"  # Create a workspace without questions\n"
	"  kubectl workspace create \"Customer Segmentation Analysis\" --owner alice@company.com \\\n"
	"      --member bob=contributor --service flyte --yes\n\n"
	"  # Show what would be created, as a List of Kubernetes objects\n"
	"  kubectl workspace create \"Churn Model\" --owner alice@company.com --dry-run=client -o yaml\n\n"
	"Options:\n"
	"    --owner='': E-mail address of the owner (required). The owner's user id is the part\n"
	"        before '@'; RBAC subjects use the full address.\n"
	"    --member=[]: A member as USER=ROLE[:EMAIL]; ROLE is owner, contributor or viewer. Repeat\n"
	"        the flag for more members. The RBAC subject is EMAIL when given, else USER.\n"
	"    --service=[flyte]: Services of the workspace, comma separated. Only flyte is provisioned\n"
	"        here; other services are recorded for their own provisioners.\n"
	"    --tier='standard': Quota tier (small, standard, large, or the operator's table).\n"
	"    --yes=false: Do not ask for confirmation.\n"
	"    --dry-run='none': 'client' prints the plan without contacting the cluster (the id then\n"
	"        takes sequence 001); 'server' checks every object with the API server without\n"
	"        persisting anything.\n"
	"    -o, --output='': json|yaml|name. With --dry-run=client, json and yaml print a v1 List of\n"
	"        the Kubernetes objects on standard output, so it can be piped to 'kubectl apply -f -';\n"
	"        the Flyte Admin calls (the project and its settings) are printed to standard error\n"
	"        as '#'-comment lines with their method, path and JSON body.\n\n"
	"Usage:\n"
	"  kubectl workspace create [NAME] --owner EMAIL [--member USER=ROLE[:EMAIL]]... [options]\n";

struct create_opts {
	const char *owner;
	char *owner_buf;  /* owner typed at a prompt */
	char *tier_buf;
	ws_strlist members;
	ws_strlist services;
	const char *tier;
	const char *dry_run;
	int yes;
};

/* "bob=contributor[:bob@company.com]" -> user, role, email into the record. */
static int add_member(ws_record *r, const char *spec, ws_err *err)
{
	const char *eq = strchr(spec, '='), *colon;
	char user[256], role_s[64], email[256];
	enum ws_role role;

	if (!eq || eq == spec)
		return ws_fail(err, WS_E_INVALID,
			       "invalid --member '%s': expected USER=ROLE[:EMAIL], e.g. bob=contributor", spec);
	colon = strchr(eq + 1, ':');
	snprintf(user, sizeof(user), "%.*s", (int)(eq - spec), spec);
	snprintf(role_s, sizeof(role_s), "%.*s",
		 (int)(colon ? (size_t)(colon - eq - 1) : strlen(eq + 1)), eq + 1);
	snprintf(email, sizeof(email), "%s", colon ? colon + 1 : "");
	if (ws_role_parse(role_s, &role, err))
		return ws_err_prefix(err, "invalid --member '%s'", spec);
	if (!*email && strchr(user, '@'))
		snprintf(email, sizeof(email), "%s", user);
	if (*email && ws_check_email(email, err))
		return ws_err_prefix(err, "invalid --member '%s'", spec);
	if (ws_record_add_user(r, user, email, role, err))
		return ws_err_prefix(err, "invalid --member '%s'", spec);
	return 0;
}

static int build_record(ws_record *r, const ws_platform *p, const char *name, unsigned seq,
			const struct create_opts *o, ws_err *err)
{
	char now[32];
	size_t i;

	rfc3339_now(now);
	if (ws_record_init(r, p, name, seq, o->owner, o->tier, now, err))
		return -1;
	for (i = 0; i < o->members.n; i++)
		if (add_member(r, o->members.items[i], err))
			goto fail;
	if (o->services.n == 0 && ws_record_add_service(r, "flyte", err))
		goto fail;
	for (i = 0; i < o->services.n; i++) {
		if (ws_check_dns_label(o->services.items[i], "service", err) ||
		    ws_record_add_service(r, o->services.items[i], err))
			goto fail;
	}
	return 0;
fail:
	ws_record_release(r);
	return -1;
}

/* The Flyte half of the plan, as comment lines (stderr with -o json|yaml). */
static void print_flyte_comments(FILE *f, const ws_plan *plan)
{
	size_t i;

	if (!plan->nflyte)
		return;
	fputs("# Flyte Admin calls of this plan (not Kubernetes objects, so not in the List):\n", f);
	for (i = 0; i < plan->nflyte; i++) {
		char *body = cJSON_PrintUnformatted(plan->flyte[i].body);

		fprintf(f, "# %s %s  (%s)\n#   %s\n", plan->flyte[i].method, plan->flyte[i].path,
			plan->flyte[i].what, body ? body : "");
		free(body);
	}
}

static void print_plan_table(FILE *f, const ws_record *r, const ws_plan *plan)
{
	const char **cells = xcalloc((plan->nobjects + 1) * 3, sizeof(*cells));
	size_t i;

	fprintf(f, "Workspace %s (\"%s\"), tier %s, owner %s\n\n", r->workspace_id, r->workspace_name,
		r->tier, r->owner_email);
	cells[0] = "KIND";
	cells[1] = "NAMESPACE";
	cells[2] = "NAME";
	for (i = 0; i < plan->nobjects; i++) {
		cells[3 * (i + 1)] = plan->objects[i].kind->kind;
		cells[3 * (i + 1) + 1] = plan->objects[i].namespace ? plan->objects[i].namespace : "";
		cells[3 * (i + 1) + 2] = plan->objects[i].name;
	}
	print_table(f, cells, plan->nobjects + 1, 3);
	free(cells);
	if (plan->nflyte) {
		fprintf(f, "\nFlyte project %s \"%s\":\n", r->workspace_id,
			ws_json_str(plan->flyte[0].body, "project", "name", NULL));
		for (i = 0; i < plan->nflyte; i++)
			fprintf(f, "  %-4s %-55s %s\n", plan->flyte[i].method, plan->flyte[i].path,
				plan->flyte[i].what);
	}
	for (i = 0; i < r->nservices; i++)
		if (strcmp(r->services[i].service_type, "flyte") != 0)
			fprintf(f, "\nService '%s' is recorded for its own provisioner.\n",
				r->services[i].service_type);
	if (plan->console_url)
		fprintf(f, "\nConsole: %s\n", plan->console_url);
}

static int print_dry_run(const struct cli *cli, const ws_record *r, const ws_plan *plan, ws_err *err)
{
	cJSON *list;
	size_t i;
	int rc = 0;

	if (!cli->output) {
		print_plan_table(stdout, r, plan);
		printf("\n(dry run: nothing was created)\n");
		return 0;
	}
	if (strcmp(cli->output, "name") == 0) {
		for (i = 0; i < plan->nobjects; i++) {
			char lower[64];
			size_t j;

			for (j = 0; plan->objects[i].kind->kind[j] && j < sizeof(lower) - 1; j++)
				lower[j] = (char)(plan->objects[i].kind->kind[j] | 0x20);
			lower[j] = '\0';
			printf("%s/%s\n", lower, plan->objects[i].name);
		}
		return 0;
	}
	list = ws_plan_to_list(plan);
	rc = print_as(stdout, cli->output, list, err);
	cJSON_Delete(list);
	if (rc == 0) {
		fflush(stdout);
		print_flyte_comments(stderr, plan);
	}
	return rc;
}

/* Ask for what is missing, one question at a time, re-asking on bad input. */
static int ask_missing(const ws_platform *p, char **name, struct create_opts *o, ws_err *err)
{
	char line[512], names[256];

	while (!*name) {
		char slug[WS_NAME_BUF];
		ws_err e;

		if (prompt_line("Workspace name", NULL, line, sizeof(line)))
			return ws_fail(err, WS_E_INVALID, "no workspace name given");
		if (ws_slugify(line, ws_slug_max(&p->ns_template, (const char *const *)p->domains.items,
						 p->domains.n), slug, sizeof(slug), &e)) {
			printf("  %s\n", e.msg);
			continue;
		}
		printf("  the workspace id will be ws-%s-<NNN>\n", slug);
		*name = xstrdup(line);
	}
	while (!o->owner) {
		ws_err e;

		if (prompt_line("Owner e-mail", NULL, line, sizeof(line)))
			return ws_fail(err, WS_E_INVALID, "no owner given");
		if (ws_check_email(line, &e)) {
			printf("  %s\n", e.msg);
			continue;
		}
		o->owner = o->owner_buf = xstrdup(line);
	}
	if (!o->members.n) {
		for (;;) {
			char user[256], role[64], email[256], spec[600];
			enum ws_role r;
			ws_err e;

			if (prompt_line("Add a member (user id or e-mail; empty to finish)", "", user,
					sizeof(user)) || !*user)
				break;
			for (;;) {
				if (prompt_line("  Role (owner, contributor, viewer)", "contributor", role,
						sizeof(role)))
					return ws_fail(err, WS_E_INVALID, "input ended");
				if (!ws_role_parse(role, &r, &e))
					break;
				printf("  %s\n", e.msg);
			}
			email[0] = '\0';
			if (!strchr(user, '@')) {
				for (;;) {
					if (prompt_line("  E-mail (optional)", "", email, sizeof(email)))
						return ws_fail(err, WS_E_INVALID, "input ended");
					if (!*email || !ws_check_email(email, &e))
						break;
					printf("  %s\n", e.msg);
				}
			}
			snprintf(spec, sizeof(spec), "%s=%s%s%s", user, role, *email ? ":" : "", email);
			if (ws_strlist_add(&o->members, spec, err))
				return -1;
		}
	}
	if (!o->services.n) {
		if (prompt_line("Services (comma separated)", "flyte", line, sizeof(line)))
			return ws_fail(err, WS_E_INVALID, "input ended");
		{
			char *tok, *save = NULL;

			for (tok = strtok_r(line, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
				if (ws_strlist_add(&o->services, tok, err))
					return -1;
		}
	}
	ws_tiers_names(&p->tiers, names, sizeof(names));
	while (!o->tier) {
		char q[300];
		ws_err e;

		snprintf(q, sizeof(q), "Tier (%s)", names);
		if (prompt_line(q, p->default_tier, line, sizeof(line)))
			return ws_fail(err, WS_E_INVALID, "input ended");
		if (!ws_tiers_find(&p->tiers, line, &e)) {
			printf("  %s\n", e.msg);
			continue;
		}
		o->tier = o->tier_buf = xstrdup(line);
	}
	return 0;
}

static int print_created(const struct cli *cli, const struct session *s, const ws_record *r,
			 int existed, ws_err *err)
{
	cJSON *o;
	int rc;

	if (cli->output && strcmp(cli->output, "name") == 0) {
		printf("workspace/%s\n", r->workspace_id);
		return 0;
	}
	if (cli->output) {
		o = record_with_status(r, NULL);
		rc = print_as(stdout, cli->output, o, err);
		cJSON_Delete(o);
		return rc;
	}
	if (s->prov.dry_run) {
		printf("\n%s (server dry run: nothing was persisted).\n\n",
		       existed ? "The workspace exists; this request would bring it to the plan"
			       : "The workspace would be created");
		print_summary(stdout, &s->platform, r);
		return 0;
	}
	printf("\n%s\n\n", existed ? "Workspace already existed; it now matches this request."
				   : "Workspace created.");
	print_summary(stdout, &s->platform, r);
	printf("\nNext:\n  eval \"$(kubectl workspace env %s)\"\n"
	       "  pyflyte run --remote workflows.py my_wf   # registers and runs in project %s\n",
	       r->workspace_id, r->workspace_id);
	return 0;
}

int cmd_create(int argc, char **argv, struct cli *cli)
{
	struct create_opts o = {0};
	const struct opt opts[] = {
		{"owner", 0, OPT_STRING, &o.owner, NULL, 0},
		{"member", 0, OPT_LIST, &o.members, NULL, 0},
		{"service", 0, OPT_LIST, &o.services, NULL, 1},
		{"tier", 0, OPT_STRING, &o.tier, NULL, 0},
		{"yes", 'y', OPT_BOOL, &o.yes, NULL, 0},
		{"dry-run", 0, OPT_OPTIONAL, &o.dry_run, "client", 0},
		{NULL, 0, 0, NULL, NULL, 0},
	};
	ws_strlist pos = {0};
	struct session sess;
	ws_platform platform, *pf;
	ws_record record;
	ws_plan plan;
	ws_err err;
	char *name = NULL;
	static const char *const provisioned[] = {"Provisioned", "DriftRepaired", NULL};
	char holder[128];
	int rc = 1, client_only, interactive, existed = 0, ctl = 0;

	if (cli_parse(argc, argv, opts, cli, &pos, &err)) {
		rc = cli_err(EXIT_USAGE, &err);
		goto out_args;
	}
	if (cli->help) {
		fputs(create_help, stdout);
		rc = 0;
		goto out_args;
	}
	if (pos.n > 1) {
		rc = cli_error(EXIT_USAGE, "create takes one NAME, got %zu (quote a name with spaces)", pos.n);
		goto out_args;
	}
	if (o.dry_run && strcmp(o.dry_run, "client") && strcmp(o.dry_run, "server") &&
	    strcmp(o.dry_run, "none")) {
		rc = cli_error(EXIT_USAGE, "invalid --dry-run '%s': use none, client or server", o.dry_run);
		goto out_args;
	}
	if (cli->output && strcmp(cli->output, "json") && strcmp(cli->output, "yaml") &&
	    strcmp(cli->output, "name")) {
		rc = cli_error(EXIT_USAGE, "invalid --output '%s': use json, yaml or name", cli->output);
		goto out_args;
	}
	client_only = o.dry_run && strcmp(o.dry_run, "client") == 0;
	name = pos.n ? xstrdup(pos.items[0]) : NULL;
	interactive = cli->tty && (!name || !o.owner);
	if (!interactive && (!name || !o.owner)) {
		rc = cli_error(EXIT_USAGE, "missing %s%s%s (pass them as arguments, or run on a terminal to be asked)",
			       name ? "" : "NAME", !name && !o.owner ? " and " : "",
			       o.owner ? "" : "--owner");
		goto out_args;
	}
	/* Settings: from the cluster unless this is a client-side dry run. */
	if (client_only) {
		if (cli_platform(cli, &platform, &err)) {
			rc = cli_err(1, &err);
			goto out_args;
		}
		pf = &platform;
	} else {
		if ((rc = cli_session(cli, &sess)) >= 0)
			goto out_args;
		rc = 1;
		sess.prov.dry_run = o.dry_run && strcmp(o.dry_run, "server") == 0;
		pf = &sess.platform;
	}
	if (interactive && ask_missing(pf, &name, &o, &err)) {
		rc = cli_err(1, &err);
		goto out_platform;
	}
	if (build_record(&record, pf, name, 1, &o, &err)) {
		rc = cli_err(1, &err);
		goto out_platform;
	}
	if (ws_plan_build(&record, pf, &plan, &err)) {
		rc = cli_err(1, &err);
		goto out_record;
	}
	if (client_only) {
		rc = print_dry_run(cli, &record, &plan, &err) ? cli_err(1, &err) : 0;
		goto out_plan;
	}
	if (cli->tty && !o.yes) {
		putchar('\n');
		print_plan_table(stdout, &record, &plan);
		printf("\n(the number %03u is a placeholder: the next free one is taken)\n", 1u);
		if (prompt_yes("Create this workspace?", 0) != 1) {
			rc = cli_error(1, "cancelled: nothing was created");
			goto out_plan;
		}
	}
	if (!sess.prov.dry_run) {
		ctl = use_controller(cli, &sess, holder, sizeof(holder), &err);
		if (ctl < 0) {
			rc = cli_err(EXIT_USAGE, &err);
			goto out_plan;
		}
		sess.prov.record_only = ctl;
		if (!ctl) /* with a controller, this run only writes the record */
			session_changes_begin(SESSION_ROLLS_BACK);
	}
	if (ws_create(&sess.prov, &record, &existed, &err)) {
		rc = cli_err(1, &err);
		goto out_plan;
	}
	/* The controller converges a re-run's record too, but an unchanged one
	 * gives no event to wait for: only a new workspace is followed. */
	if (ctl && !existed &&
	    follow_controller(&sess, record.workspace_id, holder, provisioned, 0, NULL, &err)) {
		rc = cli_err(1, &err);
		goto out_plan;
	}
	rc = print_created(cli, &sess, &record, existed, &err) ? cli_err(1, &err) : 0;
out_plan:
	ws_plan_release(&plan);
out_record:
	ws_record_release(&record);
out_platform:
	if (client_only)
		ws_platform_release(&platform);
	else
		session_close(&sess);
out_args:
	free(name);
	free(o.owner_buf);
	free(o.tier_buf);
	ws_strlist_release(&o.members);
	ws_strlist_release(&o.services);
	ws_strlist_release(&pos);
	return rc;
}
