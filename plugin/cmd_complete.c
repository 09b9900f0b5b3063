/* cmd_complete.c - shell completion for kubectl (1.26+): kubectl runs
 * `kubectl_complete-workspace WORDS... CURRENT` and reads one candidate a
 * line, then ":4" (no file completion). Candidates: subcommands, flags,
 * workspace ids (from the cluster), member user ids, roles, tiers, formats. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DIRECTIVE_NO_FILES 4

static const char *const subcommands[] = {"create", "list", "describe", "member", "tier", "delete",
					  "env", "doctor", "version", NULL};
static const char *const global_flags[] = {"--kubeconfig", "--context", "--namespace", "--output",
					   "--flyte-endpoint", "--platform-config", "--tiers-file",
					   "--request-timeout", "--help", NULL};
static const char *const create_flags[] = {"--owner", "--member", "--service", "--tier", "--yes",
					   "--dry-run", NULL};
static const char *const roles[] = {"owner", "contributor", "viewer", NULL};
static const char *const formats[] = {"json", "yaml", "name", NULL};

static void offer(const char *const *words, const char *prefix)
{
	for (; *words; words++)
		if (strncmp(*words, prefix, strlen(prefix)) == 0)
			puts(*words);
}

static const char *const *flags_of(const char *cmd)
{
	static const char *const member[] = {"--email", NULL}, *const doctor[] = {"--fix", NULL};
	static const char *const env[] = {"--domain", "--write-config", NULL};
	static const char *const del[] = {"--yes", "--dry-run", NULL};

	if (strcmp(cmd, "create") == 0)
		return create_flags;
	if (strcmp(cmd, "member") == 0)
		return member;
	if (strcmp(cmd, "doctor") == 0)
		return doctor;
	if (strcmp(cmd, "env") == 0)
		return env;
	if (strcmp(cmd, "delete") == 0)
		return del;
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

static void offer_tiers(struct cli *cli, const char *prefix)
{
	ws_platform p;
	ws_err err;
	size_t i;

	if (cli_platform(cli, &p, &err))
		return;
	for (i = 0; i < p.tiers.n; i++)
		if (strncmp(p.tiers.tiers[i].name, prefix, strlen(prefix)) == 0)
			puts(p.tiers.tiers[i].name);
	ws_platform_release(&p);
}

int cmd_complete(int argc, char **argv, struct cli *cli)
{
	const char *cur = argc > 1 ? argv[argc - 1] : "";
	const char *prev = argc > 2 ? argv[argc - 2] : "";
	const char *cmd = argc > 2 ? argv[1] : NULL;
	struct strvec pos = {0};
	size_t npos;
	ws_err err;
	int i;

	if (!cmd) {
		offer(subcommands, cur);
		goto done;
	}
	/* the value of a flag */
	if (strcmp(prev, "--tier") == 0) {
		offer_tiers(cli, cur);
		goto done;
	}
	if (strcmp(prev, "-o") == 0 || strcmp(prev, "--output") == 0) {
		offer(formats, cur);
		goto done;
	}
	if (strcmp(prev, "--service") == 0) {
		offer((const char *const[]){"flyte", NULL}, cur);
		goto done;
	}
	if (cur[0] == '-') {
		if (flags_of(cmd))
			offer(flags_of(cmd), cur);
		offer(global_flags, cur);
		goto done;
	}
	/* positional arguments typed before the current word (flags skipped) */
	{
		char **words = calloc((size_t)argc + 1, sizeof(*words));

		words[0] = argv[0];
		for (i = 1; i < argc - 1; i++)
			words[i] = argv[i];
		cli_parse(argc - 1, words, NULL, cli, &pos, &err);
		free(words);
	}
	npos = pos.n; /* includes the subcommand */
	if (strcmp(cmd, "member") == 0) {
		if (npos == 1)
			offer((const char *const[]){"add", "remove", "set-role", NULL}, cur);
		else if (npos == 2)
			offer_ids(cli, cur);
		else if (npos == 3 && strcmp(pos.v[1], "add") != 0)
			offer_users(cli, pos.v[2], cur);
		else if (npos == 4 && strcmp(pos.v[1], "remove") != 0)
			offer(roles, cur);
	} else if (strcmp(cmd, "tier") == 0) {
		if (npos == 1)
			offer_ids(cli, cur);
		else if (npos == 2)
			offer_tiers(cli, cur);
	} else if (strcmp(cmd, "describe") == 0 || strcmp(cmd, "delete") == 0 ||
		   strcmp(cmd, "env") == 0 || strcmp(cmd, "doctor") == 0) {
		if (npos == 1)
			offer_ids(cli, cur);
	}
done:
	printf(":%d\n", DIRECTIVE_NO_FILES);
	strvec_release(&pos);
	return 0;
}
