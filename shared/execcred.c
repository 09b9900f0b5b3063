/* execcred.c - exec credential plugins (see execcred.h): the `exec` map,
 * the plugin's environment, posix_spawnp, and the ExecCredential it prints.
 */
#include "execcred.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "strlist.h"

extern char **environ;

#define EXEC_OUTPUT_MAX (1u << 20)
#define EXEC_TIMEOUT_S 60
#define EXEC_INTERACTIVE_TIMEOUT_S 300
#define EXEC_V1 "client.authentication.k8s.io/v1"
#define EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"
#define INFO_VAR "KUBERNETES_EXEC_INFO"

enum interactive_mode { IM_NEVER, IM_IF_AVAILABLE, IM_ALWAYS };

struct ws_execcred {
	ws_strlist argv;     /* command and args */
	ws_strlist env;      /* "NAME=value" from the config */
	char *api_version;
	enum interactive_mode mode;
	char *install_hint;
	int provide_cluster;
	char *cluster_json;  /* spec.cluster when provideClusterInfo, else NULL */
	int cached;
	time_t expiry;       /* 0: none */
};

/* ---- the exec map ---- */

static void wipe_list(ws_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		explicit_bzero(l->items[i], strlen(l->items[i]));
	ws_strlist_release(l);
}

void ws_execcred_free(ws_execcred *e)
{
	if (!e)
		return;
	wipe_list(&e->argv);
	wipe_list(&e->env);
	free(e->api_version);
	free(e->install_hint);
	free(e->cluster_json);
	free(e);
}

static int parse_mode(ws_execcred *e, const char *ver, const char *mode, const char *where,
		      ws_err *err)
{
	if (!mode && strcmp(ver, EXEC_V1) == 0)
		return ws_fail(err, WS_E_INVALID,
			       "%s: exec interactiveMode must be set for " EXEC_V1
			       " (Never, IfAvailable or Always)",
			       where);
	if (!mode || strcmp(mode, "IfAvailable") == 0)
		e->mode = IM_IF_AVAILABLE;
	else if (strcmp(mode, "Never") == 0)
		e->mode = IM_NEVER;
	else if (strcmp(mode, "Always") == 0)
		e->mode = IM_ALWAYS;
	else
		return ws_fail(err, WS_E_INVALID,
			       "%s: exec interactiveMode '%s' is not Never, IfAvailable or Always",
			       where, mode);
	return 0;
}

/* command (relative to dir when it has a '/' but is not absolute; a bare
 * name is looked up on PATH), then args. */
static int parse_argv(ws_execcred *e, const cJSON *x, const char *cmd, const char *dir,
		      const char *where, ws_err *err)
{
	ws_buf path = WS_BUF_INIT(1u << 16);
	const cJSON *it;
	int rc;

	if (strchr(cmd, '/') && cmd[0] != '/' && dir)
		rc = ws_buf_printf(&path, err, "%s/%s", dir, cmd) ||
		     ws_strlist_add(&e->argv, path.data, err);
	else
		rc = ws_strlist_add(&e->argv, cmd, err);
	ws_buf_release(&path);
	if (rc)
		return -1;
	cJSON_ArrayForEach(it, ws_json_member(x, "args")) {
		if (!cJSON_IsString(it))
			return ws_fail(err, WS_E_INVALID, "%s: exec args must be strings", where);
		if (ws_strlist_add(&e->argv, it->valuestring, err))
			return -1;
	}
	return 0;
}

static int parse_env(ws_execcred *e, const cJSON *x, const char *where, ws_err *err)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, ws_json_member(x, "env")) {
		const char *name = ws_json_str(it, "name", NULL), *value = ws_json_str(it, "value", NULL);
		ws_buf line = WS_BUF_INIT(1u << 20);
		int bad;

		if (!name || !*name || strchr(name, '=') || !value)
			return ws_fail(err, WS_E_INVALID,
				       "%s: exec env entries need a name (without '=') and a value",
				       where);
		bad = ws_buf_printf(&line, err, "%s=%s", name, value) ||
		      ws_strlist_add(&e->env, line.data, err);
		ws_wipe_free(line.data, line.cap);
		if (bad)
			return -1;
	}
	return 0;
}

int ws_execcred_parse(const cJSON *x, const char *dir, const char *where, ws_execcred **out,
		      ws_err *err)
{
	const char *ver, *cmd, *mode, *hint;
	ws_execcred *e;
	int provide;

	*out = NULL;
	if (!cJSON_IsObject(x))
		return ws_fail(err, WS_E_INVALID, "%s: 'exec' must be a map", where);
	if (ws_json_field_str(x, "apiVersion", &ver, where, err) ||
	    ws_json_field_str(x, "command", &cmd, where, err) ||
	    ws_json_field_str(x, "interactiveMode", &mode, where, err) ||
	    ws_json_field_str(x, "installHint", &hint, where, err) ||
	    ws_json_field_bool(x, "provideClusterInfo", &provide, where, err))
		return -1;
	if (!ver || (strcmp(ver, EXEC_V1) != 0 && strcmp(ver, EXEC_V1BETA1) != 0))
		return ws_fail(err, WS_E_INVALID,
			       "%s: exec apiVersion '%s' is not supported (use " EXEC_V1 ")", where,
			       ver ? ver : "");
	if (!cmd)
		return ws_fail(err, WS_E_INVALID, "%s: exec has no command", where);
	e = calloc(1, sizeof(*e));
	if (!e)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	e->provide_cluster = provide;
	if (parse_mode(e, ver, mode, where, err) || parse_argv(e, x, cmd, dir, where, err) ||
	    parse_env(e, x, where, err) || !(e->api_version = ws_strdup(ver, err)) ||
	    (hint && !(e->install_hint = ws_strdup(hint, err)))) {
		ws_execcred_free(e);
		return -1;
	}
	*out = e;
	return 0;
}

int ws_execcred_wants_cluster(const ws_execcred *e)
{
	return e->provide_cluster;
}

void ws_execcred_set_cluster(ws_execcred *e, char *cluster_json)
{
	free(e->cluster_json);
	e->cluster_json = cluster_json;
}

int ws_execcred_valid(const ws_execcred *e)
{
	return e->cached && (e->expiry == 0 || time(NULL) < e->expiry);
}

/* ---- the ExecCredential ---- */

/* Parse an RFC 3339 time ("2024-05-01T10:00:00Z", fractions and offsets). */
static int parse_time(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh, om, m2 = 0;
	long off = 0;
	const char *p;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n == 0)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m2) != 2)
			return -1;
		off = (*p == '-' ? -1L : 1L) * (oh * 3600L + om * 60L);
		p += 1 + m2;
	} else {
		return -1;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm) - off;
	return 0;
}

/* The status of a well-formed ExecCredential of our apiVersion, or NULL. */
static const cJSON *credential_status(const ws_execcred *e, const cJSON *root, ws_err *err)
{
	const char *cmd = e->argv.items[0];
	const char *kind = ws_json_str(root, "kind", NULL), *ver = ws_json_str(root, "apiVersion", NULL);
	const cJSON *status = ws_json_get(root, "status", NULL);

	if (!kind || strcmp(kind, "ExecCredential") != 0)
		ws_fail(err, WS_E_INVALID, "exec plugin '%s' printed no ExecCredential (kind '%s')", cmd,
			kind ? kind : "");
	else if (!ver || strcmp(ver, e->api_version) != 0)
		ws_fail(err, WS_E_INVALID,
			"exec plugin '%s' answered with apiVersion '%s'; the kubeconfig asks for '%s'",
			cmd, ver ? ver : "", e->api_version);
	else if (!cJSON_IsObject(status))
		ws_fail(err, WS_E_INVALID, "exec plugin '%s' printed an ExecCredential without status",
			cmd);
	else
		return status;
	return NULL;
}

/* Put the token and/or client certificate on t (copies; old ones wiped). */
static int store_credential(ws_http_target *t, const char *token, const char *cert,
			    const char *key, ws_err *err)
{
	char *tok = NULL, *c = NULL, *k = NULL;

	if ((token && !(tok = ws_strdup(token, err))) || (cert && !(c = ws_strdup(cert, err))) ||
	    (cert && !(k = ws_strdup(key, err)))) {
		ws_wipe_str(tok);
		ws_wipe_str(c);
		return -1;
	}
	if (tok) {
		ws_wipe_str(t->bearer);
		t->bearer = tok;
	}
	if (c) {
		ws_wipe_free(t->cert_pem, t->cert_len);
		ws_wipe_free(t->key_pem, t->key_len);
		t->cert_pem = (unsigned char *)c;
		t->cert_len = strlen(c);
		t->key_pem = (unsigned char *)k;
		t->key_len = strlen(k);
	}
	return 0;
}

/* Turn the plugin's output into credentials on the target. */
static int exec_apply(ws_execcred *e, ws_http_target *t, const char *out, size_t len,
		      ws_err *err)
{
	const char *cmd = e->argv.items[0], *token, *cert, *key, *exp;
	const cJSON *status;
	time_t expiry = 0;
	cJSON *root;
	int rc = -1;

	root = ws_json_parse(out, len, err);
	if (!root)
		return ws_err_prefix(err, "exec plugin '%s' printed no ExecCredential", cmd);
	if (!(status = credential_status(e, root, err)))
		goto out;
	token = ws_json_str(status, "token", NULL);
	cert = ws_json_str(status, "clientCertificateData", NULL);
	key = ws_json_str(status, "clientKeyData", NULL);
	exp = ws_json_str(status, "expirationTimestamp", NULL);
	if (token && !*token)
		token = NULL;
	if (!token && !cert && !key)
		ws_fail(err, WS_E_INVALID,
			"exec plugin '%s' returned neither a token nor a client certificate", cmd);
	else if (!cert != !key)
		ws_fail(err, WS_E_INVALID,
			"exec plugin '%s' returned a client certificate without its key (or the reverse)",
			cmd);
	else if (exp && parse_time(exp, &expiry))
		ws_fail(err, WS_E_INVALID, "exec plugin '%s' returned a bad expirationTimestamp '%s'",
			cmd, exp);
	else if (!store_credential(t, token, cert, key, err))
		rc = 0;
	if (rc == 0) {
		e->cached = 1;
		e->expiry = expiry;
	}
out:
	ws_json_wipe_delete(root);
	return rc;
}

/* ---- running the plugin ---- */

/* The plugin's environment: ours, then the config's env (replacing
 * variables of the same name), then info ("KUBERNETES_EXEC_INFO=..."). The
 * array is ours to free; its strings are borrowed. */
static char **exec_env(const ws_execcred *e, const char *info)
{
	size_t n = 0, i, j, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + e->env.n + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int replaced = nl == strlen(INFO_VAR) && strncmp(environ[i], INFO_VAR, nl) == 0;

		for (j = 0; j < e->env.n && !replaced; j++)
			replaced = strncmp(e->env.items[j], environ[i], nl) == 0 &&
				   e->env.items[j][nl] == '=';
		if (!replaced)
			env[k++] = environ[i];
	}
	for (j = 0; j < e->env.n; j++)
		env[k++] = e->env.items[j];
	env[k] = (char *)info;
	return env;
}

/* "KUBERNETES_EXEC_INFO=<ExecCredential with spec>" (malloc'd), or NULL. */
static char *exec_info(const ws_execcred *e, int interactive)
{
	cJSON *root = cJSON_CreateObject(), *spec;
	ws_buf text = WS_BUF_INIT(EXEC_OUTPUT_MAX);
	char *json;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "apiVersion", e->api_version);
	cJSON_AddStringToObject(root, "kind", "ExecCredential");
	spec = cJSON_AddObjectToObject(root, "spec");
	if (spec) {
		cJSON_AddBoolToObject(spec, "interactive", interactive);
		if (e->cluster_json)
			cJSON_AddItemToObject(spec, "cluster", cJSON_Parse(e->cluster_json));
	}
	json = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (json && ws_buf_printf(&text, NULL, INFO_VAR "=%s", json))
		ws_buf_release(&text);
	free(json);
	return ws_buf_detach(&text, NULL);
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read the child's stdout until EOF, the cap or the deadline. */
static int exec_read(int fd, char *buf, size_t *len, long long deadline, const char *cmd,
		     ws_err *err)
{
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		long long left = deadline - mono_ms();
		ssize_t n;
		int r;

		if (left <= 0)
			return ws_fail(err, WS_E_IO, "exec plugin '%s' timed out", cmd);
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno != EINTR)
			return ws_fail(err, WS_E_IO, "exec plugin '%s': %s", cmd, strerror(errno));
		if (r <= 0)
			continue;
		n = read(fd, buf + *len, EXEC_OUTPUT_MAX + 1 - *len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return ws_fail(err, WS_E_IO, "exec plugin '%s': %s", cmd, strerror(errno));
		if (n == 0)
			return 0;
		*len += (size_t)n;
		if (*len > EXEC_OUTPUT_MAX)
			return ws_fail(err, WS_E_INVALID, "exec plugin '%s' printed more than %u bytes",
				       cmd, EXEC_OUTPUT_MAX);
	}
}

/* Start the plugin: stdout to out_fd, stdin from in_fd (or ours when -1),
 * SIGPIPE at its default and no signal blocked. 0 or an errno value. */
static int spawn(const ws_execcred *e, char **envp, int out_fd, int in_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	int rc;

	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&attr)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	/* The pipes are close-on-exec; dup2 gives the child copies without it. */
	if (!(rc = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO)) &&
	    !(rc = in_fd < 0 ? 0 : posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO)) &&
	    !(rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) &&
	    !(rc = posix_spawnattr_setsigmask(&attr, &none)) &&
	    !(rc = posix_spawnattr_setsigdefault(&attr, &def)))
		rc = posix_spawnp(pid, e->argv.items[0], &fa, &attr, e->argv.items, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* Wait for the plugin; -1 with err unless it exited with status 0. A lost
 * exit status (SIGCHLD ignored) counts as 0: the output is still checked. */
static int reap(pid_t pid, const char *cmd, ws_err *err)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		return ws_fail(err, WS_E_IO, "exec plugin '%s' was killed by signal %d", cmd,
			       WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return ws_fail(err, WS_E_IO, "exec plugin '%s' failed with exit status %d", cmd,
			       WEXITSTATUS(status));
	return 0;
}

/* Start the plugin and read what it prints into buf (*len bytes). */
static int exec_output(ws_execcred *e, int interactive, const char *info, char *buf, size_t *len,
		       ws_err *err)
{
	const char *cmd = e->argv.items[0];
	int out[2] = {-1, -1}, devnull = -1, rc = -1, code;
	char **envp = exec_env(e, info);
	pid_t pid;

	if (!envp)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	if (pipe2(out, O_CLOEXEC) ||
	    (!interactive && (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)) {
		ws_fail(err, WS_E_IO, "cannot run exec plugin '%s': %s", cmd, strerror(errno));
		goto out;
	}
	if ((code = spawn(e, envp, out[1], devnull, &pid)) != 0) {
		ws_fail(err, WS_E_IO, "cannot run exec plugin '%s': %s%s%s", cmd, strerror(code),
			e->install_hint ? "\n\n" : "", e->install_hint ? e->install_hint : "");
		goto out;
	}
	close(out[1]);
	out[1] = -1;
	rc = exec_read(out[0], buf, len,
		       mono_ms() + 1000LL * (interactive ? EXEC_INTERACTIVE_TIMEOUT_S : EXEC_TIMEOUT_S),
		       cmd, err);
	if (rc)
		kill(pid, SIGKILL);
	if (reap(pid, cmd, rc ? NULL : err))
		rc = -1;
out:
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (devnull >= 0)
		close(devnull);
	free(envp);
	return rc;
}

int ws_execcred_run(ws_execcred *e, ws_http_target *t, ws_err *err)
{
	int tty = isatty(STDIN_FILENO), interactive, rc = -1;
	char *info, *buf;
	size_t len = 0;

	if (e->mode == IM_ALWAYS && !tty)
		return ws_fail(err, WS_E_INVALID,
			       "exec plugin '%s' needs a terminal (interactiveMode Always) but standard "
			       "input is not one",
			       e->argv.items[0]);
	interactive = e->mode == IM_ALWAYS || (e->mode == IM_IF_AVAILABLE && tty);
	info = exec_info(e, interactive);
	buf = malloc(EXEC_OUTPUT_MAX + 1);
	if (!info || !buf)
		ws_fail(err, WS_E_INTERNAL, "out of memory");
	else if (exec_output(e, interactive, info, buf, &len, err) == 0)
		rc = exec_apply(e, t, buf, len, err);
	if (buf)
		ws_wipe_free(buf, len);
	free(info);
	return rc;
}
