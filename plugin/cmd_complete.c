/* cmd_complete.c - shell completion for kubectl (1.26+): for `kubectl
 * workspace WORDS... CURRENT<TAB>` kubectl runs `kubectl_complete-workspace
 * WORDS... CURRENT` (every word after "workspace", flags included, CURRENT
 * possibly "") and reads one candidate a line, then ":<directive>" (4: no
 * file completion; 0: the shell's default, files, for flags that take a
 * path). Candidates: subcommands, flags, workspace ids (from the cluster),
 * member user ids, roles, tiers, domains, formats, dry-run modes and
 * kubeconfig contexts. Global flags may come before the subcommand. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kubeconfig.h"

#define DIRECTIVE_DEFAULT 0
#define DIRECTIVE_NO_FILES 4

static const char *const global_flags[] = {"--kubeconfig", "--context", "--server", "--namespace",
					   "--flyte-endpoint", "--platform-config", "--tiers-file",
					   "--request-timeout", "--mode", "--help", NULL};
static const char *const roles[] = {"owner", "contributor", "viewer", NULL};

/* What each subcommand accepts, as its cli_start/parsing does: its own
 * flags, its -o formats (NULL: it refuses -o) and its --dry-run modes. */
struct complete_spec {
	const char *name;
	const char *const *flags;
	const char *const *formats;
	const char *const *dry_run;
};

static const char *const all_formats[] = {"json", "yaml", "name", "table", NULL};
static const char *const data_formats[] = {"json", "yaml", "table", NULL};
static const char *const dry_runs[] = {"none", "client", "server", NULL};

static const struct complete_spec specs[] = {
	{"create", (const char *const[]){"--owner", "--member", "--service", "--tier", "--yes",
					  "--dry-run", NULL}, all_formats, dry_runs},
	{"list", NULL, all_formats, NULL},
	{"describe", NULL, all_formats, NULL},
	{"member", (const char *const[]){"--email", NULL}, NULL, NULL},
	{"tier", NULL, NULL, NULL},
	{"delete", (const char *const[]){"--yes", "--dry-run", NULL}, NULL, dry_runs},
	{"env", (const char *const[]){"--domain", "--write-config", NULL}, data_formats, NULL},
	{"doctor", (const char *const[]){"--fix", NULL}, data_formats, NULL},
	{"version", NULL, data_formats, NULL},
};

#define NSPECS (sizeof(specs) / sizeof(specs[0]))

/* Print lead+word for each word starting with prefix. */
static void offer(const char *lead, const char *const *words, const char *prefix)
{
	for (; words && *words; words++)
		if (strncmp(*words, prefix, strlen(prefix)) == 0)
			printf("%s%s\n", lead, *words);
}

static const struct complete_spec *spec_of(const char *cmd)
{
	size_t i;

	for (i = 0; cmd && i < NSPECS; i++)
		if (strcmp(specs[i].name, cmd) == 0)
			return &specs[i];
	return NULL;
}

/* Connect quietly (errors just mean no candidates). */
static int quiet_session(struct cli *cli, struct session *s)
{
	ws_err err;

	if (!cli->request_timeout)
		cli->request_timeout = "3s";
	return session_open(cli, s, &err);
}

static void offer_ids(struct cli *cli, const char *prefix)
{
	struct session s;
	ws_record *recs;
	size_t n, i;
	ws_err err;

	if (quiet_session(cli, &s))
		return;
	if (!ws_record_list(&s.prov, &recs, NULL, &n, &err)) {
		for (i = 0; i < n; i++)
			if (strncmp(recs[i].workspace_id, prefix, strlen(prefix)) == 0)
				puts(recs[i].workspace_id);
		ws_records_release(recs, NULL, n);
	}
	session_close(&s);
}

static void offer_users(struct cli *cli, const char *id, const char *prefix)
{
	struct session s;
	ws_record r;
	size_t i;
	ws_err err;

	if (quiet_session(cli, &s))
		return;
	if (!ws_record_load(&s.prov, id, &r, NULL, &err)) {
		for (i = 0; i < r.nusers; i++)
			if (strncmp(r.users[i].user_id, prefix, strlen(prefix)) == 0)
				puts(r.users[i].user_id);
		ws_record_release(&r);
	}
	session_close(&s);
}

enum platform_list { TIERS, DOMAINS };

/* Tiers or domains: the cluster's settings when it answers, else the local
 * ones (built-in defaults, --platform-config, --tiers-file). */
static void offer_platform(struct cli *cli, enum platform_list what, const char *lead,
			   const char *prefix)
{
	struct session s;
	ws_platform local;
	const ws_platform *p;
	ws_err err;
	size_t i;
	int connected = !quiet_session(cli, &s);

	if (connected)
		p = &s.platform;
	else if (!cli_platform(cli, &local, &err))
		p = &local;
	else
		return;
	if (what == TIERS) {
		for (i = 0; i < p->tiers.n; i++)
			offer(lead, (const char *const[]){p->tiers.tiers[i].name, NULL}, prefix);
	} else {
		for (i = 0; i < p->domains.n; i++)
			offer(lead, (const char *const[]){p->domains.items[i], NULL}, prefix);
	}
	if (connected)
		session_close(&s);
	else
		ws_platform_release(&local);
}

/* The kubeconfig files kubectl would read: --kubeconfig, else KUBECONFIG
 * (':'-separated), else ~/.kube/config. */
struct context_offer {
	const char *lead, *prefix;
};

static void offer_context(void *ctx, const char *name)
{
	const struct context_offer *o = ctx;

	offer(o->lead, (const char *const[]){name, NULL}, o->prefix);
}

/* Context names of the kubeconfig files kubectl-workspace would read. */
static void offer_contexts(const struct cli *cli, const char *lead, const char *prefix)
{
	ws_kubeconfig_options ko = {0};
	struct context_offer o = {lead, prefix};

	ko.kubeconfig = cli->kubeconfig;
	ws_kubeconfig_contexts(&ko, offer_context, &o);
}

/* Flags whose value follows as the next word (the others are booleans, or
 * --dry-run, whose value only comes after '='). */
static int takes_value(const char *flag)
{
	static const char *const valued[] = {
		"--kubeconfig", "--context", "--server", "-s", "--namespace", "-n", "--output", "-o",
		"--flyte-endpoint",
		"--platform-config", "--tiers-file", "--request-timeout", "--mode", "--owner", "--member",
		"--service", "--tier", "--email", "--domain", "-d", "--write-config", NULL};
	const char *const *v;

	for (v = valued; *v; v++)
		if (strcmp(*v, flag) == 0)
			return 1;
	return 0;
}

/* Candidates for the value of `flag` (lead is "--flag=" for the '=' form,
 * else ""). Returns the directive. */
static int offer_value(struct cli *cli, const struct complete_spec *spec, const char *flag,
		       const char *lead, const char *prefix)
{
	if (strcmp(flag, "--kubeconfig") == 0 || strcmp(flag, "--platform-config") == 0 ||
	    strcmp(flag, "--tiers-file") == 0 || strcmp(flag, "--write-config") == 0)
		return DIRECTIVE_DEFAULT;
	if (strcmp(flag, "--tier") == 0) {
		offer_platform(cli, TIERS, lead, prefix);
	} else if (strcmp(flag, "--domain") == 0 || strcmp(flag, "-d") == 0) {
		offer_platform(cli, DOMAINS, lead, prefix);
	} else if (strcmp(flag, "--context") == 0) {
		offer_contexts(cli, lead, prefix);
	} else if (strcmp(flag, "-o") == 0 || strcmp(flag, "--output") == 0) {
		offer(lead, spec ? spec->formats : NULL, prefix);
	} else if (strcmp(flag, "--service") == 0) {
		offer(lead, (const char *const[]){"flyte", NULL}, prefix);
	} else if (strcmp(flag, "--dry-run") == 0) {
		/* only --dry-run=MODE: "--dry-run server" would make server an argument */
		if (*lead)
			offer(lead, spec ? spec->dry_run : NULL, prefix);
	} else if (strcmp(flag, "--member") == 0 && strchr(prefix, '=')) {
		/* USER=ROLE: keep what is typed up to '=', complete the role */
		const char *eq = strchr(prefix, '=');
		char user_lead[512];

		snprintf(user_lead, sizeof(user_lead), "%s%.*s", lead, (int)(eq + 1 - prefix), prefix);
		offer(user_lead, roles, eq + 1);
	}
	return DIRECTIVE_NO_FILES;
}

int cmd_complete(int argc, char **argv, struct cli *cli)
{
	const char *cur = argc > 1 ? argv[argc - 1] : "";
	const char *prev = argc > 2 ? argv[argc - 2] : "";
	/* the words before the current one */
	int nwords = argc > 1 ? argc - 1 : 1, at = cli_find_command(nwords, argv);
	const struct complete_spec *spec = at < nwords ? spec_of(argv[at]) : NULL;
	const char *cmd = at < nwords ? argv[at] : NULL;
	/* every flag that takes a value, so that values are not taken for arguments */
	static int dummy_bool;
	static const char *dummy_str;
	const struct opt opts[] = {
		{"owner", 0, OPT_STRING, &dummy_str, NULL, 0},
		{"member", 0, OPT_STRING, &dummy_str, NULL, 0},
		{"service", 0, OPT_STRING, &dummy_str, NULL, 0},
		{"tier", 0, OPT_STRING, &dummy_str, NULL, 0},
		{"email", 0, OPT_STRING, &dummy_str, NULL, 0},
		{"domain", 'd', OPT_STRING, &dummy_str, NULL, 0},
		{"write-config", 0, OPT_STRING, &dummy_str, NULL, 0},
		{"yes", 'y', OPT_BOOL, &dummy_bool, NULL, 0},
		{"fix", 0, OPT_BOOL, &dummy_bool, NULL, 0},
		{"dry-run", 0, OPT_OPTIONAL, &dummy_str, "client", 0},
		{NULL, 0, 0, NULL, NULL, 0},
	};
	ws_strlist pos = {0};
	size_t npos;
	ws_err err;
	int directive = DIRECTIVE_NO_FILES;

	/* the words typed so far: global flags (--context, --kubeconfig...)
	 * into cli, arguments into pos (the subcommand first) */
	cli_parse(nwords, argv, opts, cli, &pos, &err);
	if (strncmp(cur, "--", 2) == 0 && strchr(cur, '=')) {
		/* --flag=VALUE */
		size_t n = (size_t)(strchr(cur, '=') - cur);
		char flag[128], lead[128];

		snprintf(flag, sizeof(flag), "%.*s", (int)n, cur);
		snprintf(lead, sizeof(lead), "%.*s", (int)n + 1, cur);
		directive = offer_value(cli, spec, flag, lead, cur + n + 1);
		goto done;
	}
	if (argc > 2 && takes_value(prev)) {
		directive = offer_value(cli, spec, prev, "", cur);
		goto done;
	}
	if (cur[0] == '-') {
		if (spec)
			offer("", spec->flags, cur);
		offer("", global_flags, cur);
		if (spec && spec->formats)
			offer("", (const char *const[]){"--output", NULL}, cur);
		goto done;
	}
	if (!cmd) {
		size_t i;

		for (i = 0; i < NSPECS; i++)
			offer("", (const char *const[]){specs[i].name, NULL}, cur);
		goto done;
	}
	npos = pos.n; /* includes the subcommand */
	if (strcmp(cmd, "member") == 0) {
		if (npos == 1)
			offer("", (const char *const[]){"add", "remove", "set-role", NULL}, cur);
		else if (npos == 2)
			offer_ids(cli, cur);
		else if (npos == 3 && strcmp(pos.items[1], "add") != 0)
			offer_users(cli, pos.items[2], cur);
		else if (npos == 4 && strcmp(pos.items[1], "remove") != 0)
			offer("", roles, cur);
	} else if (strcmp(cmd, "tier") == 0) {
		if (npos == 1)
			offer_ids(cli, cur);
		else if (npos == 2)
			offer_platform(cli, TIERS, "", cur);
	} else if (strcmp(cmd, "describe") == 0 || strcmp(cmd, "delete") == 0 ||
		   strcmp(cmd, "env") == 0 || strcmp(cmd, "doctor") == 0) {
		if (npos == 1)
			offer_ids(cli, cur);
	}
done:
	printf(":%d\n", directive);
	ws_strlist_release(&pos);
	return 0;
}
