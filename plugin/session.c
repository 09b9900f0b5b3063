/* session.c - connect to the cluster and Flyte Admin for a command, print
 * provisioning progress, and ask questions on the terminal (see cli.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

/* "30s", "2m", "500ms", "10" (seconds) -> milliseconds; -1 when invalid. */
static long parse_timeout(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return (long)(v * 1000);
	if (strcmp(end, "ms") == 0)
		return (long)v;
	if (strcmp(end, "m") == 0)
		return (long)(v * 60000);
	if (strcmp(end, "h") == 0)
		return (long)(v * 3600000);
	return -1;
}

static void progress(void *ctx, enum ws_step step, const char *subject, enum ws_outcome o,
		     const char *detail)
{
	struct session *s = ctx;
	FILE *f = s->progress_to_stderr ? stderr : stdout;

	(void)step;
	if (o == WS_OUT_UNCHANGED && s->quiet_unchanged) {
		if (s->live)
			fputs("\r\033[K", f);
		return;
	}
	if (o == WS_OUT_START) {
		if (s->live) {
			fprintf(f, "\r\033[K  ... %s", subject);
			fflush(f);
		}
		return;
	}
	if (s->live)
		fputs("\r\033[K", f);
	fprintf(f, "%s%s %s%s%s%s\n", s->live ? "  " : "", subject, ws_outcome_name(o),
		detail && *detail ? " (" : "", detail && *detail ? detail : "",
		detail && *detail ? ")" : "");
	fflush(f);
}

static void warn(void *ctx, const char *msg)
{
	struct session *s = ctx;

	if (s->live)
		fputs("\r\033[K", s->progress_to_stderr ? stderr : stdout);
	fflush(stdout);
	fprintf(stderr, "warning: %s\n", msg);
}

/* Ctrl-C or SIGTERM: the first one stops the command after the requests in
 * flight (reads are aborted); the command then fails (a command that
 * changes things rolls back what it did: session_changes_begin), and
 * main() exits with 128 + the signal. In such a command later ones do not
 * stop it (objects would be left half undone): they are answered once;
 * elsewhere the second one kills. Only write(), flags and raise() here
 * (async-signal-safe). */
static volatile sig_atomic_t signals_seen;
static volatile sig_atomic_t erase_live_line; /* a progress line is drawn on the terminal */
/* what the first and later signals say: [0] a read-only command (nothing,
 * and the second signal kills), then by enum session_changes + 1 */
static const char *const says[][2] = {
	{NULL, NULL},
	{"rolling back...\n",
	 "still rolling back; wait for it, or Ctrl-\\ to quit at once and leave objects behind\n"},
	{"stopping: what is not deleted yet will be listed...\n",
	 "still stopping; wait for it, or Ctrl-\\ to quit at once\n"},
};
static volatile sig_atomic_t changes; /* index into says */

static void say(const char *msg)
{
	ssize_t n = write(STDERR_FILENO, msg, strlen(msg));

	(void)n; /* nothing to do about a failed write in a signal handler */
}

static void on_signal(int sig)
{
	const char *first = says[changes][0], *later = says[changes][1];
	int saved = errno;

	if (signals_seen == 0) {
		ws_http_interrupt(sig);
		if (erase_live_line && first)
			say("\r\033[K");
		if (first)
			say(first);
	} else if (!first) {
		signal(sig, SIG_DFL);
		raise(sig);
	} else if (signals_seen == 1) {
		say(later);
	}
	if (signals_seen < 2)
		signals_seen++;
	errno = saved;
}

void session_changes_begin(enum session_changes how)
{
	changes = (sig_atomic_t)how + 1;
}

static void catch_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM};
	struct sigaction sa, old;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]); /* one handler at a time */
	/* No SA_RESTART: a prompt waiting for an answer gives up (end of input). */
	sa.sa_flags = 0;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* a signal ignored by whoever started us (nohup, &) stays ignored */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

int session_open(struct cli *cli, struct session *s, ws_err *err)
{
	ws_kubeconfig_options ko = {0};
	ws_flyte_options fo = {0};
	const char *file = cli->platform_config ? cli->platform_config
						: getenv("WORKSPACE_PLATFORM_CONFIG");
	long timeout = 0;

	memset(s, 0, sizeof(*s));
	catch_signals();
	if (cli->request_timeout && (timeout = parse_timeout(cli->request_timeout)) < 0)
		return ws_fail(err, WS_E_INVALID, "invalid --request-timeout '%s' (e.g. 30s, 2m)",
			       cli->request_timeout);
	ko.kubeconfig = cli->kubeconfig;
	ko.context = cli->context;
	ko.server = cli->server;
	if (ws_http_global_init(err) || ws_k8s_open(&s->k8s, &ko, err))
		return -1;
	if (timeout)
		s->k8s.conn.target.timeout_ms = timeout;
	if (ws_platform_from_cluster(&s->k8s, cli->system_namespace ? cli->system_namespace
								    : WS_DEFAULT_SYSTEM_NS,
				     &s->platform, err))
		goto fail_k8s;
	if (file && *file && ws_platform_load_file(&s->platform, file, err))
		goto fail_platform;
	if (cli_platform_overrides(cli, &s->platform, err))
		goto fail_platform;
	/* Flyte endpoint: flag, then FLYTE_PLATFORM_URL, then the platform settings. */
	ws_flyte_options_from_env(&fo);
	if (!fo.ca_file || !*fo.ca_file)
		fo.ca_file = s->platform.flyte_ca_file;
	if (cli->flyte_endpoint)
		fo.endpoint = cli->flyte_endpoint;
	else if (!fo.endpoint || !*fo.endpoint)
		fo.endpoint = s->platform.flyte_endpoint;
	if (fo.endpoint && *fo.endpoint) {
		if (fo.endpoint != s->platform.flyte_endpoint) {
			free(s->platform.flyte_endpoint);
			s->platform.flyte_endpoint = strdup(fo.endpoint);
			fo.endpoint = s->platform.flyte_endpoint;
		}
		if (timeout)
			fo.timeout_ms = timeout;
		if (ws_flyte_open(&s->flyte, &fo, err))
			goto fail_platform;
		s->have_flyte = 1;
	}
	s->progress_to_stderr = cli->output != NULL;
	s->live = isatty(s->progress_to_stderr ? STDERR_FILENO : STDOUT_FILENO);
	erase_live_line = s->live && isatty(STDERR_FILENO);
	s->prov.k8s = &s->k8s;
	s->prov.flyte = s->have_flyte ? &s->flyte : NULL;
	s->prov.platform = &s->platform;
	s->prov.progress = progress;
	s->prov.progress_ctx = s;
	s->prov.warn = warn;
	return 0;
fail_platform:
	ws_platform_release(&s->platform);
fail_k8s:
	ws_k8s_close(&s->k8s);
	return -1;
}

void session_close(struct session *s)
{
	if (s->have_flyte)
		ws_flyte_close(&s->flyte);
	ws_platform_release(&s->platform);
	ws_k8s_close(&s->k8s);
}

int prompt_line(const char *question, const char *def, char *out, size_t size)
{
	size_t n;
	int c;

	for (;;) {
		if (def && *def)
			printf("%s [%s]: ", question, def);
		else
			printf("%s: ", question);
		fflush(stdout);
		if (!fgets(out, (int)size, stdin)) {
			putchar('\n');
			return -1;
		}
		n = strlen(out);
		if (n == 0 || out[n - 1] == '\n' || feof(stdin))
			break;
		/* Longer than the buffer: drop the rest of the line, ask again. */
		while ((c = getchar()) != EOF && c != '\n')
			;
		printf("  that answer is too long (at most %zu characters)\n", size - 2);
		if (c == EOF)
			return -1;
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		out[--n] = '\0';
	if (!n && def)
		snprintf(out, size, "%s", def);
	return 0;
}

int prompt_yes(const char *question, int def)
{
	char answer[16];

	for (;;) {
		if (prompt_line(question, def ? "Y/n" : "y/N", answer, sizeof(answer)))
			return -1;
		if (strcmp(answer, "Y/n") == 0 || strcmp(answer, "y/N") == 0)
			return def;
		if (strcmp(answer, "y") == 0 || strcmp(answer, "yes") == 0 || strcmp(answer, "Y") == 0)
			return 1;
		if (strcmp(answer, "n") == 0 || strcmp(answer, "no") == 0 || strcmp(answer, "N") == 0)
			return 0;
		puts("  please answer y or n");
	}
}

cJSON *record_with_status(const ws_record *r, const cJSON *status)
{
	cJSON *o = ws_record_to_json(r);

	cJSON_AddItemToObject(o, "status", status ? cJSON_Duplicate(status, 1) : cJSON_CreateObject());
	return o;
}

void print_summary(FILE *f, const ws_platform *p, const ws_record *r)
{
	char ns[WS_NAME_BUF] = "";
	char *console = ws_platform_console_url(p, r->workspace_id, p->default_domain);
	size_t i;

	ws_ns_render(&p->ns_template, r->workspace_id,
		     p->ns_template.has_domain ? p->default_domain : NULL, ns, NULL);
	fprintf(f, "Workspace:      %s\n", r->workspace_id);
	fprintf(f, "Name:           %s\n", r->workspace_name);
	fprintf(f, "Namespace:      %s%s\n", ns, p->ns_template.has_domain ? " (and one per domain)" : "");
	if (ws_record_has_service(r, "flyte"))
		fprintf(f, "Flyte project:  %s\n", r->workspace_id);
	fprintf(f, "Console:        %s\n", console ? console : "(unknown: no Flyte endpoint configured)");
	fprintf(f, "Data bucket:    %s://%s\n", p->storage_scheme, r->data_bucket ? r->data_bucket : "");
	fprintf(f, "Tier:           %s\n", r->tier ? r->tier : p->default_tier);
	fprintf(f, "Members:        ");
	for (i = 0; i < r->nusers; i++)
		fprintf(f, "%s%s (%s)", i ? ", " : "", ws_user_subject(&r->users[i]),
			ws_role_name(r->users[i].role));
	fputc('\n', f);
	free(console);
}
