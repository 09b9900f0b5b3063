/* main.c - kubectl-workspace: the table of contents. kubectl runs this
 * binary for `kubectl workspace ...`; each subcommand lives in cmd_<name>.c. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "xalloc.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv, struct cli *cli);
	const char *summary;
};

static const struct command commands[] = {
	{"create", cmd_create, "Create a workspace: Flyte project, namespace, quota, RBAC and runner account"},
	{"list", cmd_list, "List workspaces"},
	{"describe", cmd_describe, "Show a workspace and whether the cluster matches its plan"},
	{"member", cmd_member, "Add, remove or re-role a member"},
	{"tier", cmd_tier, "Change the quota tier of a workspace"},
	{"delete", cmd_delete, "Delete a workspace (its Flyte project is archived)"},
	{"env", cmd_env, "Print the Flyte project context for pyflyte and flytectl"},
	{"doctor", cmd_doctor, "Check workspaces against their plans; --fix repairs them"},
	{"version", cmd_version, "Print the plugin version"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fputs("Self-service Flyte workspaces on Kubernetes.\n\n"
	      "A workspace is a Flyte project (ws-<name>-<NNN>) and its namespace (flyte-<id>) with\n"
	      "tenant labels, a resource quota from a tier, RBAC for its members, a runner service\n"
	      "account bound to a cloud role and a network policy. Its record in the cluster is the\n"
	      "source of truth.\n\n"
	      "Available Commands:\n", f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\nOptions (accepted by every command):\n"
	      "    --kubeconfig='': Path to the kubeconfig file to use (else KUBECONFIG, ~/.kube/config, in-cluster).\n"
	      "    --context='': The name of the kubeconfig context to use.\n"
	      "    -s, --server='': The address and port of the Kubernetes API server.\n"
	      "    -n, --namespace='workspace-system': The namespace that holds workspace records.\n"
	      "    --flyte-endpoint='': Flyte Admin URL (else FLYTE_PLATFORM_URL, else the platform config).\n"
	      "    --platform-config='': Platform settings file (else WORKSPACE_PLATFORM_CONFIG, else the\n"
	      "        workspace-platform ConfigMap).\n"
	      "    --tiers-file='': A YAML or JSON file that replaces the quota tier table.\n"
	      "    --mode='': direct (carry changes out here) or controller (write the record and follow\n"
	      "        workspace-controller); default: controller when one holds a fresh lease.\n"
	      "    -h, --help: Help for the command.\n\n"
	      "Usage:\n"
	      "  kubectl workspace [command] [options]\n\n"
	      "Use \"kubectl workspace <command> --help\" for more information about a given command.\n",
	      f);
}

int main(int argc, char **argv)
{
	struct cli cli;
	size_t i;
	int at;

	xalloc_cjson();
	memset(&cli, 0, sizeof(cli));
	cli.prog = "kubectl workspace";
	cli.tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (strcmp(basename(argv[0]), "kubectl_complete-workspace") == 0)
		return cmd_complete(argc, argv, &cli);
	/* kubectl takes global flags anywhere: `--context admin list` runs as
	 * `list --context admin` (the commands parse flags on either side). */
	at = cli_find_command(argc, argv);
	if (argc >= 2 && at >= argc) { /* only flags: help if asked, else usage */
		for (i = 1; i < (size_t)argc; i++)
			if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
				usage(stdout);
				return 0;
			}
		usage(stderr);
		return EXIT_USAGE;
	}
	if (at > 1 && at < argc) {
		char *cmd = argv[at];

		memmove(argv + 2, argv + 1, (size_t)(at - 1) * sizeof(*argv));
		argv[1] = cmd;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1, &cli);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			int rc = commands[i].run(argc - 1, argv + 1, &cli);

			/* Stopped by Ctrl-C or SIGTERM (see session.c): exit as kubectl
			 * does, 128 + the signal (130 for Ctrl-C). */
			return rc && ws_http_interrupted() ? 128 + ws_http_interrupted() : rc;
		}
	}
	fprintf(stderr, "error: unknown command \"%s\" for \"kubectl workspace\"\n"
			"Run 'kubectl workspace --help' for usage.\n", argv[1]);
	return EXIT_USAGE;
}
