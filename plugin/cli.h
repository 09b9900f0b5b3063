/* cli.h - what every subcommand of kubectl-workspace shares: the command
 * signature, the global options, flag parsing and output helpers.
 *
 * To add a command: write plugin/cmd_<name>.c with
 *   int cmd_<name>(int argc, char **argv, struct cli *cli);
 * declare it below, and add a row to the table in main.c.
 * A command returns the process exit code (0 ok, 1 failure/drift, 2 usage).
 */
#ifndef WS_CLI_H
#define WS_CLI_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h"
#include "flyte.h"
#include "k8s.h"
#include "platform.h"
#include "provision.h"
#include "strlist.h"

#define EXIT_USAGE 2

/* Options every command accepts (kubectl's conventions). */
struct cli {
	const char *prog;           /* "kubectl workspace" when run by kubectl */
	const char *kubeconfig;     /* --kubeconfig */
	const char *context;        /* --context */
	const char *server;         /* -s, --server: the API server's address */
	const char *system_namespace; /* -n/--namespace: where records live */
	const char *output;         /* -o/--output; NULL for the default (-o table) */
	int output_table;           /* -o table was given (cli_parse sets output NULL) */
	const char *flyte_endpoint; /* --flyte-endpoint */
	const char *platform_config; /* --platform-config FILE */
	const char *tiers_file;     /* --tiers-file FILE */
	const char *request_timeout; /* --request-timeout (e.g. 30s) */
	const char *mode;           /* --mode direct|controller; NULL: controller when one runs */
	int help;
	int tty;                    /* stdin and stdout are terminals */
};

/* ---- flag parsing ------------------------------------------------------- */

enum opt_type {
	OPT_BOOL,     /* --yes, --yes=false */
	OPT_STRING,   /* --tier large, --tier=large, -t large */
	OPT_LIST,     /* repeatable; comma-split when split is set */
	OPT_OPTIONAL  /* value only with '=': --dry-run, --dry-run=server */
};

struct opt {
	const char *name;   /* long name without "--" */
	char short_name;    /* or 0 */
	enum opt_type type;
	void *target;       /* int*, const char**, ws_strlist* */
	const char *implicit; /* OPT_OPTIONAL: value when given without '=' */
	int split;          /* OPT_LIST: split values at ',' */
};

/* Parse argv[1..] against the command's options and the global ones.
 * Positional arguments are collected in pos (copies; ws_strlist_release frees
 * them; "--" ends the options). Unknown flags are an error naming the flag.
 * -o table means the default human output: cli->output is left NULL and
 * cli->output_table set, so commands only ever see json, yaml, name... */
int cli_parse(int argc, char **argv, const struct opt *opts, struct cli *cli, ws_strlist *pos,
	      ws_err *err);
/* What a command accepts: its flags (NULL: only the global ones), its
 * --help text, min_pos..max_pos positional arguments (else count_msg is
 * the error) and the -o formats (NULL: -o not allowed; -o table, the
 * default output, is accepted whenever formats is not NULL). */
struct cmd_spec {
	const struct opt *opts;
	const char *help;
	size_t min_pos, max_pos;
	const char *count_msg;
	const char *const *formats;
};

/* The start of every command: parse the flags, print the help for --help,
 * check the positional arguments and -o against spec.
 * Returns -1 to go on, else the exit code for the command to return. */
int cli_start(int argc, char **argv, const struct cmd_spec *spec, struct cli *cli,
	      ws_strlist *pos);
/* Where the subcommand is in a plugin command line: the index of the first
 * argument that is neither a global flag nor a global flag's value
 * (`kubectl workspace --context admin list` -> 3), as kubectl accepts
 * global flags anywhere. argc when there is none (only flags). A command
 * flag or an unknown one before the subcommand stops the search there. */
int cli_find_command(int argc, char **argv);

/* Print "error: <msg>" to stderr; returns code for `return cli_error(...)`. */
int cli_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_err(int code, const ws_err *err);

/* Load platform settings: defaults, then --platform-config or
 * WORKSPACE_PLATFORM_CONFIG, then --tiers-file, then -n and
 * --flyte-endpoint. (Commands that reach the cluster overlay the
 * cluster's workspace-platform ConfigMap in between.) */
int cli_platform(const struct cli *cli, ws_platform *p, ws_err *err);
/* Apply the command-line overrides (-n, --flyte-endpoint, --tiers-file) last. */
int cli_platform_overrides(const struct cli *cli, ws_platform *p, ws_err *err);

/* ---- a connection to the cluster and Flyte ------------------------------ */

struct session {
	ws_k8s k8s;
	ws_flyte flyte;
	int have_flyte;
	ws_platform platform;
	ws_prov prov;
	int progress_to_stderr; /* keep stdout for -o output */
	int live;               /* rewrite progress lines in place (terminal) */
	int quiet_unchanged;    /* print only what changed */
};

/* Connect: kubeconfig (--kubeconfig, --context), platform settings (built-in
 * defaults, the cluster's workspace-platform ConfigMap, --platform-config,
 * --tiers-file, -n), Flyte Admin (--flyte-endpoint, else FLYTE_PLATFORM_URL,
 * else the platform's flyte.endpoint). Progress lines go to stdout, or to
 * stderr when -o is set. */
int session_open(struct cli *cli, struct session *s, ws_err *err);
void session_close(struct session *s);
/* A command about to change the cluster: from now on the first Ctrl-C or
 * SIGTERM says what happens next ("rolling back..." for a command that
 * undoes a failed run, "stopping..." for delete, which goes forward) and
 * lets the command end in order; later ones are answered once and do not
 * stop it. Before (and in read-only commands) the first one says nothing
 * and the command fails at once; a second one kills it. */
enum session_changes { SESSION_ROLLS_BACK, SESSION_STOPS };
void session_changes_begin(enum session_changes how);
/* session_open, printing its error: -1 when s is open (the caller closes
 * it), else the exit code for the command to return. */
int cli_session(struct cli *cli, struct session *s);
/* The start of a command that reaches the cluster: cli_start, then
 * cli_session. -1 to go on with s open, else the exit code (s not open). */
int cli_start_session(int argc, char **argv, const struct cmd_spec *spec, struct cli *cli,
		      ws_strlist *pos, struct session *s);

/* Ask on the terminal: prints the prompt (and default) and reads a line.
 * Returns 0 with the answer (default when empty), -1 at end of input. */
int prompt_line(const char *question, const char *def, char *out, size_t size);
/* y/n question; def is the answer to an empty line. -1 at end of input. */
int prompt_yes(const char *question, int def);

/* ---- output -------------------------------------------------------------- */

/* Print a tree as kubectl does for -o json (4-space indent) or -o yaml. */
int print_json(FILE *f, const cJSON *item);
int print_yaml(FILE *f, const cJSON *item, ws_err *err);
/* Print a tree in the format named by -o (json|yaml); fails on others. */
int print_as(FILE *f, const char *format, const cJSON *item, ws_err *err);
/* Print rows as a kubectl-style table: columns padded with 3 spaces.
 * cells is nrows * ncols strings, the first row being the header. */
void print_table(FILE *f, const char *const *cells, size_t nrows, size_t ncols);

/* "2026-11-28T11:23:34Z" for now (UTC). */
void rfc3339_now(char out[32]);

/* ---- commands --------------------------------------------------------------- */

int cmd_create(int argc, char **argv, struct cli *cli);
int cmd_list(int argc, char **argv, struct cli *cli);
int cmd_describe(int argc, char **argv, struct cli *cli);
int cmd_member(int argc, char **argv, struct cli *cli);
int cmd_tier(int argc, char **argv, struct cli *cli);
int cmd_delete(int argc, char **argv, struct cli *cli);
int cmd_env(int argc, char **argv, struct cli *cli);
int cmd_doctor(int argc, char **argv, struct cli *cli);
int cmd_version(int argc, char **argv, struct cli *cli);
/* kubectl_complete-workspace: candidates for the words typed so far. */
int cmd_complete(int argc, char **argv, struct cli *cli);

/* Shared by the commands that show a workspace. */
void print_summary(FILE *f, const ws_platform *p, const ws_record *r);
cJSON *record_with_status(const ws_record *r, const cJSON *status);

/* events.c: the Events about a record ConfigMap (core v1 view, oldest
 * first); *events is a cJSON array the caller frees. print_events prints
 * them as a table. */
int record_events(ws_k8s *k, const char *ns, const cJSON *record_cm, cJSON **events, ws_err *err);
void print_events(FILE *f, const cJSON *events);

/* controller_mode.c: 1 when the change goes through workspace-controller
 * (--mode controller, or no --mode and a controller holds a fresh Lease;
 * holder gets its name), 0 direct, -1 a bad --mode (err). */
int use_controller(const struct cli *cli, struct session *s, char *holder, size_t size,
		   ws_err *err);
/* After the record of id was written: print every new Event about it as it
 * comes (history: the events from before the write, not printed; may be
 * NULL) until one whose reason is in done (NULL-terminated), or, with
 * gone_ends, until the record is gone. A Warning event fails with its
 * message; so does a timeout. 0 or -1 with err. */
int follow_controller(struct session *s, const char *id, const char *holder,
		      const char *const *done, int gone_ends, const cJSON *history, ws_err *err);
void print_drift_table(FILE *f, const ws_drift *d, size_t n);
/* Drift items as an array of {object, where, state, detail} (caller owns). */
cJSON *drift_json(const ws_drift *d, size_t n);

#endif
