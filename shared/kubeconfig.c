/* kubeconfig.c - find the API server and the credentials as kubectl does
 * (see kubeconfig.h): merged KUBECONFIG files, contexts, TLS material
 * inline or from files, token files, exec credential plugins, in-cluster.
 * Secrets are read with one allocation each (no realloc copies left
 * behind) and wiped when released.
 */
#include "kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "json.h"
#include "yamlconv.h"

extern char **environ;

#define KUBECONFIG_MAX (4u << 20)
#define SECRET_MAX (1u << 20)
#define EXEC_OUTPUT_MAX (1u << 20)
#define EXEC_TIMEOUT_S 60
#define EXEC_INTERACTIVE_TIMEOUT_S 300
#define INCLUSTER_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define EXEC_V1 "client.authentication.k8s.io/v1"
#define EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"
#define WHERE_MAX 600

/* ---- small helpers ---- */


static void json_wipe(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
		json_wipe(j->child);
	}
}

/* Free a tree that may hold tokens, overwriting its strings first. */
static void json_wipe_delete(cJSON *j)
{
	if (!j)
		return;
	json_wipe(j->child);
	if (j->valuestring)
		explicit_bzero(j->valuestring, strlen(j->valuestring));
	cJSON_Delete(j);
}

static char *xstrdup(const char *s, ws_err *err)
{
	char *d = strdup(s);

	if (!d)
		ws_fail(err, WS_E_INTERNAL, "out of memory");
	return d;
}

static char *join_path(const char *dir, const char *path, ws_err *err)
{
	size_t n;
	char *p;

	if (path[0] == '/' || !dir)
		return xstrdup(path, err);
	n = strlen(dir) + strlen(path) + 2;
	p = malloc(n);
	if (!p) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		return NULL;
	}
	snprintf(p, n, "%s/%s", dir, path);
	return p;
}

/* Read a whole file into one allocation of the right size (NUL after it),
 * so that no partial copy of a secret is left in freed memory. */
static int read_file_once(const char *path, size_t max, unsigned char **out, size_t *len, ws_err *err)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t got = 0, want = 0;
	int fd, rc = -1;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ws_fail(err, WS_E_IO, "cannot read '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ws_fail(err, WS_E_IO, "cannot read '%s': not a regular file", path);
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		ws_fail(err, WS_E_INVALID, "cannot read '%s': larger than %zu bytes", path, max);
		goto out;
	}
	want = (size_t)st.st_size;
	buf = malloc(want + 1);
	if (!buf) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		goto out;
	}
	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ws_fail(err, WS_E_IO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
	rc = 0;
out:
	ws_wipe_free(buf, want + 1);
	close(fd);
	return rc;
}

/* Strip surrounding whitespace in place (token files end with a newline). */
static size_t trim(char *s, size_t len)
{
	size_t start = 0;

	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' ||
		       s[len - 1] == '\t'))
		s[--len] = '\0';
	while (start < len && (s[start] == ' ' || s[start] == '\t' || s[start] == '\n'))
		start++;
	if (start) {
		memmove(s, s + start, len - start + 1);
		explicit_bzero(s + len - start + 1, start);
	}
	return len - start;
}

/* ---- parsed kubeconfig files ---- */

struct kfile {
	char *path;
	char *dir;
	cJSON *root;
};

struct kcfg {
	struct kfile *files;
	size_t n;
	char *names; /* "a:b", for messages */
};

/* One named entry of a section: the inner map (may be NULL) and its file. */
struct entry {
	const char *name;
	const cJSON *obj;
	const struct kfile *file;
};

static void kcfg_release(struct kcfg *k)
{
	size_t i;

	for (i = 0; i < k->n; i++) {
		free(k->files[i].path);
		free(k->files[i].dir);
		json_wipe_delete(k->files[i].root);
	}
	free(k->files);
	free(k->names);
	memset(k, 0, sizeof(*k));
}

static int check_section(const struct kfile *f, const char *section, const char *inner, ws_err *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(f->root, section), *it;

	if (!arr || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return ws_fail(err, WS_E_INVALID, "kubeconfig %s: '%s' must be a list", f->path, section);
	cJSON_ArrayForEach(it, arr) {
		const cJSON *in = cJSON_GetObjectItemCaseSensitive(it, inner);

		if (!ws_json_str(it, "name", NULL))
			return ws_fail(err, WS_E_INVALID, "kubeconfig %s: an entry of '%s' has no name",
				       f->path, section);
		if (in && !cJSON_IsNull(in) && !cJSON_IsObject(in))
			return ws_fail(err, WS_E_INVALID, "kubeconfig %s: %s '%s': '%s' must be a map",
				       f->path, inner, ws_json_str(it, "name", NULL), inner);
	}
	return 0;
}

/* Load one file; a missing file is skipped unless must_exist. */
static int kcfg_add(struct kcfg *k, const char *path, int must_exist, ws_err *err)
{
	struct kfile f = {0}, *nf;
	unsigned char *text = NULL;
	size_t len = 0, i;
	char *slash;
	int rc = -1;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->files[i].path, path) == 0)
			return 0;
	if (!must_exist && access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if (read_file_once(path, KUBECONFIG_MAX, &text, &len, err))
		return ws_err_prefix(err, "kubeconfig");
	f.root = ws_yaml_parse((const char *)text, len, err);
	if (!f.root) {
		ws_err_prefix(err, "kubeconfig %s", path);
		goto out;
	}
	if (!cJSON_IsObject(f.root)) {
		ws_fail(err, WS_E_INVALID, "kubeconfig %s: not a kubeconfig (a YAML map)", path);
		goto out;
	}
	f.path = xstrdup(path, err);
	if (!f.path || check_section(&f, "clusters", "cluster", err) ||
	    check_section(&f, "users", "user", err) || check_section(&f, "contexts", "context", err))
		goto out;
	f.dir = xstrdup(path, err);
	if (!f.dir)
		goto out;
	slash = strrchr(f.dir, '/');
	if (!slash)
		strcpy(f.dir, ".");
	else if (slash == f.dir)
		f.dir[1] = '\0';
	else
		*slash = '\0';
	nf = realloc(k->files, (k->n + 1) * sizeof(*nf));
	if (!nf) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		goto out;
	}
	k->files = nf;
	k->files[k->n++] = f;
	memset(&f, 0, sizeof(f));
	rc = 0;
out:
	ws_wipe_free(text, len);
	free(f.path);
	free(f.dir);
	json_wipe_delete(f.root);
	return rc;
}

static int kcfg_collect(struct kcfg *k, const ws_kubeconfig_options *opt, ws_err *err)
{
	const char *env = getenv("KUBECONFIG"), *home = getenv("HOME");
	ws_buf names = WS_BUF_INIT(1u << 16);
	char *copy = NULL, *save = NULL, *p;
	size_t i;
	int rc = -1;

	if (opt->kubeconfig) {
		if (kcfg_add(k, opt->kubeconfig, 1, err))
			goto out;
	} else if (env && *env) {
		copy = xstrdup(env, err);
		if (!copy)
			goto out;
		for (p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save))
			if (kcfg_add(k, p, 0, err))
				goto out;
	} else if (home && *home) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/.kube/config", home);
		if (kcfg_add(k, path, 0, err))
			goto out;
	}
	for (i = 0; i < k->n; i++)
		if (ws_buf_printf(&names, err, "%s%s", i ? ":" : "", k->files[i].path))
			goto out;
	k->names = ws_buf_detach(&names, NULL);
	rc = 0;
out:
	free(copy);
	ws_buf_release(&names);
	return rc;
}

/* The first entry named `name` in section (clusters/users/contexts). */
static int kcfg_find(const struct kcfg *k, const char *section, const char *inner, const char *name,
		     struct entry *e)
{
	size_t i;
	const cJSON *it;

	for (i = 0; i < k->n; i++) {
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(k->files[i].root, section)) {
			const char *n = ws_json_str(it, "name", NULL);

			if (n && strcmp(n, name) == 0) {
				e->name = n;
				e->obj = cJSON_GetObjectItemCaseSensitive(it, inner);
				if (!cJSON_IsObject(e->obj))
					e->obj = NULL;
				e->file = &k->files[i];
				return 1;
			}
		}
	}
	return 0;
}

/* A string field: *out = value or NULL when absent; other types fail. */
static int field_str(const cJSON *obj, const char *key, const char **out, const char *where,
		     ws_err *err)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return ws_fail(err, WS_E_INVALID, "%s: '%s' must be a string", where, key);
	if (*v->valuestring)
		*out = v->valuestring;
	return 0;
}

static int field_bool(const cJSON *obj, const char *key, int *out, const char *where, ws_err *err)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	*out = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return ws_fail(err, WS_E_INVALID, "%s: '%s' must be true or false", where, key);
	*out = cJSON_IsTrue(v);
	return 0;
}

/* TLS material or a token from `<name>-data` (base64) or `<name>` (a file
 * relative to the kubeconfig's directory); both set is an error. */
static int load_pem(const struct entry *e, const char *name, const char *where, unsigned char **out,
		    size_t *len, ws_err *err)
{
	char key[64];
	const char *data, *file;
	char *path = NULL;
	int rc;

	*out = NULL;
	*len = 0;
	snprintf(key, sizeof(key), "%s-data", name);
	if (field_str(e->obj, key, &data, where, err) || field_str(e->obj, name, &file, where, err))
		return -1;
	if (data && file)
		return ws_fail(err, WS_E_INVALID, "%s: both '%s' and '%s' are set; keep one", where,
			       key, name);
	if (data) {
		*out = ws_base64_decode(data, strlen(data), len, err);
		return *out ? 0 : ws_err_prefix(err, "%s: '%s'", where, key);
	}
	if (!file)
		return 0;
	path = join_path(e->file->dir, file, err);
	if (!path)
		return -1;
	rc = read_file_once(path, SECRET_MAX, out, len, err);
	free(path);
	return rc ? ws_err_prefix(err, "%s: '%s'", where, name) : 0;
}

/* "https://host:port[/prefix]" without a trailing '/'; a bare host:port
 * gets https://, as kubectl does. */
static int set_server(ws_http_target *t, const char *server, const char *where, ws_err *err)
{
	size_t n = strlen(server) + sizeof("https://");
	char *url = malloc(n);

	if (!url)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	snprintf(url, n, "%s%s", strstr(server, "://") ? "" : "https://", server);
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
		free(url);
		return ws_fail(err, WS_E_INVALID, "%s: server '%s' is not an http or https URL",
			       where, server);
	}
	n = strlen(url);
	while (n > 8 && url[n - 1] == '/')
		url[--n] = '\0';
	free(t->base_url);
	t->base_url = url;
	return 0;
}

/* ---- refresh state: token file and exec plugin ---- */

enum interactive_mode { IM_NEVER, IM_IF_AVAILABLE, IM_ALWAYS };

struct kc_exec {
	char **argv;       /* command and args, NULL-terminated */
	char **env;        /* "NAME=value" from the config, NULL-terminated */
	char *api_version;
	enum interactive_mode mode;
	char *install_hint;
	char *cluster_json; /* spec.cluster when provideClusterInfo, else NULL */
	int cached;
	time_t expiry;      /* 0: none */
};

struct kc_auth {
	char *token_file;
	struct stat token_st; /* of the last successful read */
	struct kc_exec *exec;
	atomic_int invalid;   /* set by ws_kube_conn_reauth */
};

static void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		ws_wipe_str(v[i]);
	free(v);
}

static void exec_free(struct kc_exec *e)
{
	if (!e)
		return;
	strv_free(e->argv);
	strv_free(e->env);
	free(e->api_version);
	free(e->install_hint);
	free(e->cluster_json);
	free(e);
}

static void auth_free(struct kc_auth *a)
{
	if (!a)
		return;
	free(a->token_file);
	exec_free(a->exec);
	free(a);
}

static void set_bearer(ws_http_target *t, char *token)
{
	ws_wipe_str(t->bearer);
	t->bearer = token;
}

/* Re-read the token file when it changed (or force); keep the last good
 * token when a later read fails, as client-go does. */
static int token_file_refresh(struct kc_auth *a, ws_http_target *t, int force, ws_err *err)
{
	struct stat st;
	unsigned char *data = NULL;
	size_t len = 0;

	if (stat(a->token_file, &st) == 0 && !force && t->bearer && st.st_ino == a->token_st.st_ino &&
	    st.st_size == a->token_st.st_size && st.st_mtim.tv_sec == a->token_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == a->token_st.st_mtim.tv_nsec)
		return 0;
	if (read_file_once(a->token_file, SECRET_MAX, &data, &len, err)) {
		if (t->bearer)
			return 0;
		return ws_err_prefix(err, "token file");
	}
	if (trim((char *)data, len) == 0) {
		ws_wipe_free(data, len + 1);
		if (t->bearer)
			return 0;
		return ws_fail(err, WS_E_INVALID, "token file '%s' is empty", a->token_file);
	}
	set_bearer(t, (char *)data);
	stat(a->token_file, &a->token_st);
	return 0;
}

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

static int exec_valid(const struct kc_exec *e)
{
	return e->cached && (e->expiry == 0 || time(NULL) < e->expiry);
}

/* The environment of the plugin: ours, then the config's env (replacing
 * variables of the same name), then KUBERNETES_EXEC_INFO. */
static char **exec_env(const struct kc_exec *e, const char *info)
{
	size_t n = 0, m = 0, i, j, k = 0;
	char **env;

	while (environ[n])
		n++;
	while (e->env[m])
		m++;
	env = calloc(n + m + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		int replaced = nl == strlen("KUBERNETES_EXEC_INFO") &&
			       strncmp(environ[i], "KUBERNETES_EXEC_INFO", nl) == 0;

		for (j = 0; j < m && !replaced; j++)
			replaced = strncmp(e->env[j], environ[i], nl) == 0 && e->env[j][nl] == '=';
		if (!replaced)
			env[k++] = environ[i];
	}
	for (j = 0; j < m; j++)
		env[k++] = e->env[j];
	env[k] = (char *)info;
	return env;
}

static char *exec_info(const struct kc_exec *e, int interactive)
{
	cJSON *root = cJSON_CreateObject(), *spec;
	char *text = NULL;

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
	{
		char *json = cJSON_PrintUnformatted(root);
		size_t n;

		if (json) {
			n = strlen(json) + sizeof("KUBERNETES_EXEC_INFO=");
			text = malloc(n);
			if (text)
				snprintf(text, n, "KUBERNETES_EXEC_INFO=%s", json);
			free(json);
		}
	}
	cJSON_Delete(root);
	return text;
}

/* Make fd the descriptor `to` in the child, kept open across exec. */
static int child_fd(int fd, int to)
{
	if (fd == to)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, to) < 0 ? -1 : 0;
}

/* In the child: wire stdout (and stdin) and exec; report errno on failure.
 * Only async-signal-safe calls here. */
static void exec_child(char **argv, char **envp, int out_fd, int in_fd, int report_fd)
{
	struct sigaction sa;
	sigset_t none;
	int code;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (child_fd(out_fd, STDOUT_FILENO) || (in_fd >= 0 && child_fd(in_fd, STDIN_FILENO)))
		goto fail;
	execvpe(argv[0], argv, envp);
fail:
	code = errno;
	if (write(report_fd, &code, sizeof(code)) < 0)
		_exit(126);
	_exit(127);
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

/* Turn the plugin's output into credentials on the target. */
static int exec_apply(struct kc_exec *e, ws_http_target *t, const char *out, size_t len,
		      ws_err *err)
{
	const char *cmd = e->argv[0], *kind, *ver, *token, *cert, *key, *exp;
	cJSON *root;
	const cJSON *status;
	time_t expiry = 0;
	int rc = -1;

	root = ws_json_parse(out, len, err);
	if (!root)
		return ws_err_prefix(err, "exec plugin '%s' printed no ExecCredential", cmd);
	kind = ws_json_str(root, "kind", NULL);
	ver = ws_json_str(root, "apiVersion", NULL);
	status = ws_json_get(root, "status", NULL);
	if (!kind || strcmp(kind, "ExecCredential") != 0) {
		ws_fail(err, WS_E_INVALID, "exec plugin '%s' printed no ExecCredential (kind '%s')", cmd,
			kind ? kind : "");
		goto out;
	}
	if (!ver || strcmp(ver, e->api_version) != 0) {
		ws_fail(err, WS_E_INVALID,
			"exec plugin '%s' answered with apiVersion '%s'; the kubeconfig asks for '%s'",
			cmd, ver ? ver : "", e->api_version);
		goto out;
	}
	if (!cJSON_IsObject(status)) {
		ws_fail(err, WS_E_INVALID, "exec plugin '%s' printed an ExecCredential without status",
			cmd);
		goto out;
	}
	token = ws_json_str(status, "token", NULL);
	cert = ws_json_str(status, "clientCertificateData", NULL);
	key = ws_json_str(status, "clientKeyData", NULL);
	exp = ws_json_str(status, "expirationTimestamp", NULL);
	if (token && !*token)
		token = NULL;
	if (!token && !cert && !key) {
		ws_fail(err, WS_E_INVALID,
			"exec plugin '%s' returned neither a token nor a client certificate", cmd);
		goto out;
	}
	if (!cert != !key) {
		ws_fail(err, WS_E_INVALID,
			"exec plugin '%s' returned a client certificate without its key (or the reverse)",
			cmd);
		goto out;
	}
	if (exp && parse_time(exp, &expiry)) {
		ws_fail(err, WS_E_INVALID, "exec plugin '%s' returned a bad expirationTimestamp '%s'",
			cmd, exp);
		goto out;
	}
	if (token) {
		char *copy = xstrdup(token, err);

		if (!copy)
			goto out;
		set_bearer(t, copy);
	}
	if (cert) {
		char *c = xstrdup(cert, err), *k = c ? xstrdup(key, err) : NULL;

		if (!k) {
			free(c);
			goto out;
		}
		ws_wipe_free(t->cert_pem, t->cert_len);
		ws_wipe_free(t->key_pem, t->key_len);
		t->cert_pem = (unsigned char *)c;
		t->cert_len = strlen(c);
		t->key_pem = (unsigned char *)k;
		t->key_len = strlen(k);
	}
	e->cached = 1;
	e->expiry = expiry;
	rc = 0;
out:
	json_wipe_delete(root);
	return rc;
}

/* Run the plugin (fork/execvp, no shell) and take its credentials. */
static int exec_run(struct kc_exec *e, ws_http_target *t, ws_err *err)
{
	const char *cmd = e->argv[0];
	/* status stays 0 if the exit status is lost (SIGCHLD ignored): the
	 * output is still checked. */
	int tty = isatty(STDIN_FILENO), interactive, status = 0, child_errno = 0;
	int out[2] = {-1, -1}, rep[2] = {-1, -1}, devnull = -1, rc = -1;
	char *info = NULL, **envp = NULL, *buf = NULL;
	size_t len = 0;
	pid_t pid = -1;
	ssize_t n;

	if (e->mode == IM_ALWAYS && !tty)
		return ws_fail(err, WS_E_INVALID,
			       "exec plugin '%s' needs a terminal (interactiveMode Always) but standard "
			       "input is not one",
			       cmd);
	interactive = e->mode == IM_ALWAYS || (e->mode == IM_IF_AVAILABLE && tty);
	info = exec_info(e, interactive);
	envp = info ? exec_env(e, info) : NULL;
	buf = malloc(EXEC_OUTPUT_MAX + 1);
	if (!envp || !buf) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		goto out;
	}
	if (pipe2(out, O_CLOEXEC) || pipe2(rep, O_CLOEXEC) ||
	    (!interactive && (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)) {
		ws_fail(err, WS_E_IO, "cannot run exec plugin '%s': %s", cmd, strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		ws_fail(err, WS_E_IO, "cannot run exec plugin '%s': %s", cmd, strerror(errno));
		goto out;
	}
	if (pid == 0)
		exec_child(e->argv, envp, out[1], devnull, rep[1]);
	close(out[1]);
	close(rep[1]);
	out[1] = rep[1] = -1;
	do
		n = read(rep[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(child_errno)) {
		ws_fail(err, WS_E_IO, "cannot run exec plugin '%s': %s%s%s", cmd, strerror(child_errno),
			e->install_hint ? "\n\n" : "", e->install_hint ? e->install_hint : "");
		goto out;
	}
	if (exec_read(out[0], buf, &len,
		      mono_ms() + 1000LL * (interactive ? EXEC_INTERACTIVE_TIMEOUT_S : EXEC_TIMEOUT_S),
		      cmd, err)) {
		kill(pid, SIGKILL);
		goto out;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	if (WIFSIGNALED(status)) {
		ws_fail(err, WS_E_IO, "exec plugin '%s' was killed by signal %d", cmd, WTERMSIG(status));
		goto out;
	}
	if (WEXITSTATUS(status) != 0) {
		ws_fail(err, WS_E_IO, "exec plugin '%s' failed with exit status %d", cmd,
			WEXITSTATUS(status));
		goto out;
	}
	rc = exec_apply(e, t, buf, len, err);
out:
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (rep[0] >= 0)
		close(rep[0]);
	if (rep[1] >= 0)
		close(rep[1]);
	if (devnull >= 0)
		close(devnull);
	if (buf)
		ws_wipe_free(buf, len);
	free(envp);
	free(info);
	return rc;
}

/* The target's refresh hook (http.h): runs under http.c's credential lock. */
static int kc_refresh(void *ctx, ws_http_target *t, ws_err *err)
{
	struct kc_auth *a = ctx;
	int force = atomic_exchange(&a->invalid, 0);

	if (a->token_file && token_file_refresh(a, t, force, err))
		return -1;
	if (a->exec && (force || !exec_valid(a->exec)))
		return exec_run(a->exec, t, err);
	return 0;
}

int ws_kube_conn_reauth(ws_kube_conn *c)
{
	struct kc_auth *a = c ? c->exec : NULL;

	if (!a)
		return 0;
	atomic_store(&a->invalid, 1);
	return 1;
}

static struct kc_auth *conn_auth(ws_kube_conn *c, ws_err *err)
{
	if (!c->exec) {
		c->exec = calloc(1, sizeof(struct kc_auth));
		if (!c->exec) {
			ws_fail(err, WS_E_INTERNAL, "out of memory");
			return NULL;
		}
		c->target.refresh = kc_refresh;
		c->target.refresh_ctx = c->exec;
	}
	return c->exec;
}

/* ---- building the connection ---- */

/* spec.cluster of KUBERNETES_EXEC_INFO (provideClusterInfo). */
static char *cluster_info(const ws_http_target *t, const struct entry *cl)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *exts, *ext;
	char *text = NULL;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "server", t->base_url);
	if (t->tls_server_name)
		cJSON_AddStringToObject(o, "tls-server-name", t->tls_server_name);
	if (t->skip_tls_verify)
		cJSON_AddBoolToObject(o, "insecure-skip-tls-verify", 1);
	if (t->ca_pem) {
		char *b64 = ws_base64_encode(t->ca_pem, t->ca_len);

		if (b64)
			cJSON_AddStringToObject(o, "certificate-authority-data", b64);
		free(b64);
	}
	if (t->proxy_url)
		cJSON_AddStringToObject(o, "proxy-url", t->proxy_url);
	exts = cl && cl->obj ? cJSON_GetObjectItemCaseSensitive(cl->obj, "extensions") : NULL;
	cJSON_ArrayForEach(ext, exts) {
		const char *name = ws_json_str(ext, "name", NULL);

		if (name && strcmp(name, "client.authentication.k8s.io/exec") == 0)
			cJSON_AddItemToObject(o, "config", cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(ext, "extension"), 1));
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

static int set_cluster(ws_kube_conn *c, const struct entry *e, const ws_kubeconfig_options *opt,
		       ws_err *err)
{
	ws_http_target *t = &c->target;
	char where[WHERE_MAX];
	const char *server, *tsn, *proxy;
	int skip_verify;

	snprintf(where, sizeof(where), "kubeconfig %s: cluster '%s'", e->file->path, e->name);
	if (field_str(e->obj, "server", &server, where, err) ||
	    field_str(e->obj, "tls-server-name", &tsn, where, err) ||
	    field_str(e->obj, "proxy-url", &proxy, where, err) ||
	    field_bool(e->obj, "insecure-skip-tls-verify", &skip_verify, where, err))
		return -1;
	if (opt->server)
		server = opt->server;
	if (!server)
		return ws_fail(err, WS_E_INVALID, "%s: no server", where);
	if (set_server(t, server, where, err))
		return -1;
	if (opt->skip_tls_verify) {
		t->skip_tls_verify = 1;
	} else {
		if (load_pem(e, "certificate-authority", where, &t->ca_pem, &t->ca_len, err))
			return -1;
		if (skip_verify && t->ca_pem)
			return ws_fail(err, WS_E_INVALID,
				       "%s: a certificate authority and insecure-skip-tls-verify "
				       "cannot both be set",
				       where);
		t->skip_tls_verify = skip_verify;
	}
	if (tsn && !(t->tls_server_name = xstrdup(tsn, err)))
		return -1;
	if (proxy) {
		if (!strstr(proxy, "://"))
			return ws_fail(err, WS_E_INVALID, "%s: proxy-url '%s' has no scheme", where,
				       proxy);
		if (!(t->proxy_url = xstrdup(proxy, err)))
			return -1;
	}
	return 0;
}

static int strv_add(char ***v, size_t *n, const char *s, ws_err *err)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));

	if (!nv)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	nv[++*n] = NULL;
	return 0;
}

static int parse_exec(ws_kube_conn *c, const struct entry *user, const cJSON *x,
		      const struct entry *cl, const char *where, ws_err *err)
{
	struct kc_exec *e;
	struct kc_auth *a;
	const char *ver, *cmd, *mode, *hint;
	const cJSON *it;
	size_t nargv = 0, nenv = 0;
	char *path;
	int provide;

	if (!cJSON_IsObject(x))
		return ws_fail(err, WS_E_INVALID, "%s: 'exec' must be a map", where);
	if (field_str(x, "apiVersion", &ver, where, err) || field_str(x, "command", &cmd, where, err) ||
	    field_str(x, "interactiveMode", &mode, where, err) ||
	    field_str(x, "installHint", &hint, where, err) ||
	    field_bool(x, "provideClusterInfo", &provide, where, err))
		return -1;
	if (!ver || (strcmp(ver, EXEC_V1) != 0 && strcmp(ver, EXEC_V1BETA1) != 0))
		return ws_fail(err, WS_E_INVALID,
			       "%s: exec apiVersion '%s' is not supported (use " EXEC_V1 ")", where,
			       ver ? ver : "");
	if (!cmd)
		return ws_fail(err, WS_E_INVALID, "%s: exec has no command", where);
	if (!mode && strcmp(ver, EXEC_V1) == 0)
		return ws_fail(err, WS_E_INVALID,
			       "%s: exec interactiveMode must be set for " EXEC_V1
			       " (Never, IfAvailable or Always)",
			       where);
	a = conn_auth(c, err);
	if (!a)
		return -1;
	e = calloc(1, sizeof(*e));
	if (!e)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	a->exec = e;
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
	/* A relative command with a '/' is relative to the kubeconfig; a bare
	 * name is looked up on PATH. */
	path = strchr(cmd, '/') ? join_path(user->file->dir, cmd, err) : xstrdup(cmd, err);
	if (!path)
		return -1;
	if (strv_add(&e->argv, &nargv, path, err)) {
		free(path);
		return -1;
	}
	free(path);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(x, "args")) {
		if (!cJSON_IsString(it))
			return ws_fail(err, WS_E_INVALID, "%s: exec args must be strings", where);
		if (strv_add(&e->argv, &nargv, it->valuestring, err))
			return -1;
	}
	e->env = calloc(1, sizeof(*e->env));
	if (!e->env)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(x, "env")) {
		const char *name = ws_json_str(it, "name", NULL), *value = ws_json_str(it, "value", NULL);
		ws_buf line = WS_BUF_INIT(1u << 20);
		int bad;

		if (!name || !*name || strchr(name, '=') || !value)
			return ws_fail(err, WS_E_INVALID,
				       "%s: exec env entries need a name (without '=') and a value",
				       where);
		bad = ws_buf_printf(&line, err, "%s=%s", name, value) ||
		      strv_add(&e->env, &nenv, line.data, err);
		ws_wipe_free(line.data, line.cap);
		if (bad)
			return -1;
	}
	if (!(e->api_version = xstrdup(ver, err)))
		return -1;
	if (hint && !(e->install_hint = xstrdup(hint, err)))
		return -1;
	if (provide && !(e->cluster_json = cluster_info(&c->target, cl)))
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	return 0;
}

static int set_user(ws_kube_conn *c, const struct entry *e, const struct entry *cl,
		    const ws_kubeconfig_options *opt, ws_err *err)
{
	ws_http_target *t = &c->target;
	char where[WHERE_MAX];
	const char *token, *token_file, *s;
	const cJSON *x;
	struct kc_auth *a;

	snprintf(where, sizeof(where), "kubeconfig %s: user '%s'", e->file->path, e->name);
	if (field_str(e->obj, "username", &s, where, err))
		return -1;
	if (s || (e->obj && cJSON_GetObjectItemCaseSensitive(e->obj, "password")))
		return ws_fail(err, WS_E_INVALID,
			       "%s: basic authentication (username/password) is not supported; use a "
			       "token, a client certificate or an exec plugin",
			       where);
	if ((x = cJSON_GetObjectItemCaseSensitive(e->obj, "auth-provider")) && !cJSON_IsNull(x))
		return ws_fail(err, WS_E_INVALID,
			       "%s: auth-provider '%s' is not supported; use an exec plugin", where,
			       ws_json_str(x, "name", NULL) ? ws_json_str(x, "name", NULL) : "");
	if (cJSON_GetObjectItemCaseSensitive(e->obj, "as") ||
	    cJSON_GetObjectItemCaseSensitive(e->obj, "as-groups") ||
	    cJSON_GetObjectItemCaseSensitive(e->obj, "as-uid"))
		return ws_fail(err, WS_E_INVALID, "%s: impersonation ('as') is not supported", where);
	if (load_pem(e, "client-certificate", where, &t->cert_pem, &t->cert_len, err) ||
	    load_pem(e, "client-key", where, &t->key_pem, &t->key_len, err))
		return -1;
	if (!t->cert_pem != !t->key_pem)
		return ws_fail(err, WS_E_INVALID, "%s: %s", where,
			       t->cert_pem ? "client-certificate without client-key"
					   : "client-key without client-certificate");
	if (opt->token) {
		char *copy = xstrdup(opt->token, err);

		if (!copy)
			return -1;
		set_bearer(t, copy);
		return 0;
	}
	if (field_str(e->obj, "token", &token, where, err) ||
	    field_str(e->obj, "tokenFile", &token_file, where, err))
		return -1;
	if (token_file) {
		if (!(a = conn_auth(c, err)) || !(a->token_file = join_path(e->file->dir, token_file, err)))
			return -1;
		if (token_file_refresh(a, t, 1, err))
			return ws_err_prefix(err, "%s", where);
	} else if (token) {
		char *copy = xstrdup(token, err);

		if (!copy)
			return -1;
		set_bearer(t, copy);
	}
	x = cJSON_GetObjectItemCaseSensitive(e->obj, "exec");
	if (x && !cJSON_IsNull(x))
		return parse_exec(c, e, x, cl, where, err);
	return 0;
}

static int from_kubeconfig(ws_kube_conn *c, const struct kcfg *k, const ws_kubeconfig_options *opt,
			   ws_err *err)
{
	struct entry ctx = {0}, cl = {0}, user = {0};
	const char *name = opt->context, *cluster = NULL, *user_name = NULL, *ns = NULL;
	char where[WHERE_MAX];
	size_t i, n;

	for (i = 0; !name && i < k->n; i++) {
		const char *cur = ws_json_str(k->files[i].root, "current-context", NULL);

		if (cur && *cur)
			name = cur;
	}
	if (!name)
		return ws_fail(err, WS_E_INVALID, "kubeconfig %s: no current-context; use --context",
			       k->names);
	if (!kcfg_find(k, "contexts", "context", name, &ctx))
		return ws_fail(err, WS_E_INVALID, "kubeconfig %s: context '%s' not found", k->names,
			       name);
	snprintf(where, sizeof(where), "kubeconfig %s: context '%s'", ctx.file->path, name);
	if (field_str(ctx.obj, "cluster", &cluster, where, err) ||
	    field_str(ctx.obj, "user", &user_name, where, err) ||
	    field_str(ctx.obj, "namespace", &ns, where, err))
		return -1;
	if (opt->cluster)
		cluster = opt->cluster;
	if (opt->user)
		user_name = opt->user;
	if (!cluster && !opt->server)
		return ws_fail(err, WS_E_INVALID, "%s: no cluster", where);
	if (cluster && !kcfg_find(k, "clusters", "cluster", cluster, &cl))
		return ws_fail(err, WS_E_INVALID, "kubeconfig %s: cluster '%s' (of context '%s') not found",
			       k->names, cluster, name);
	if (cl.file) {
		if (set_cluster(c, &cl, opt, err))
			return -1;
	} else {
		if (set_server(&c->target, opt->server, "--server", err))
			return -1;
		c->target.skip_tls_verify = opt->skip_tls_verify;
	}
	if (user_name && !kcfg_find(k, "users", "user", user_name, &user))
		return ws_fail(err, WS_E_INVALID, "kubeconfig %s: user '%s' (of context '%s') not found",
			       k->names, user_name, name);
	if (user.file) {
		if (set_user(c, &user, &cl, opt, err))
			return -1;
	} else if (opt->token) {
		if (!(c->target.bearer = xstrdup(opt->token, err)))
			return -1;
	}
	n = strlen(k->names) + sizeof("kubeconfig ");
	c->source = malloc(n);
	if (c->source)
		snprintf(c->source, n, "kubeconfig %s", k->names);
	c->context = strdup(name);
	c->namespace = strdup(ns ? ns : "default");
	if (!c->source || !c->context || !c->namespace)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	return 0;
}

/* --server (and --token) without any kubeconfig file. */
static int from_flags(ws_kube_conn *c, const ws_kubeconfig_options *opt, ws_err *err)
{
	if (set_server(&c->target, opt->server, "--server", err))
		return -1;
	c->target.skip_tls_verify = opt->skip_tls_verify;
	if (opt->token && !(c->target.bearer = xstrdup(opt->token, err)))
		return -1;
	c->context = strdup("");
	c->namespace = strdup("default");
	c->source = strdup("--server");
	if (!c->context || !c->namespace || !c->source)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	return 0;
}

static int in_cluster(ws_kube_conn *c, ws_err *err)
{
	const char *dir = getenv("WS_INCLUSTER_DIR"), *host = getenv("KUBERNETES_SERVICE_HOST"),
		   *port = getenv("KUBERNETES_SERVICE_PORT");
	char path[4096], url[512];
	unsigned char *data = NULL;
	size_t len = 0;
	struct kc_auth *a;

	if (!dir || !*dir)
		dir = INCLUSTER_DIR;
	snprintf(url, sizeof(url), "https://%s%s%s:%s", strchr(host, ':') ? "[" : "", host,
		 strchr(host, ':') ? "]" : "", port);
	if (set_server(&c->target, url, "in-cluster configuration", err))
		return -1;
	a = conn_auth(c, err);
	snprintf(path, sizeof(path), "%s/token", dir);
	if (!a || !(a->token_file = xstrdup(path, err)))
		return -1;
	if (token_file_refresh(a, &c->target, 1, err))
		return ws_err_prefix(err, "in-cluster configuration");
	/* Like client-go: without ca.crt, the system trust store is used. */
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	if (access(path, F_OK) == 0 &&
	    read_file_once(path, SECRET_MAX, &c->target.ca_pem, &c->target.ca_len, err))
		return ws_err_prefix(err, "in-cluster configuration");
	snprintf(path, sizeof(path), "%s/namespace", dir);
	if (access(path, F_OK) == 0 && read_file_once(path, 4096, &data, &len, NULL) == 0 &&
	    trim((char *)data, len) > 0)
		c->namespace = (char *)data;
	else
		free(data);
	if (!c->namespace)
		c->namespace = strdup("default");
	c->context = strdup("");
	c->source = strdup("in-cluster");
	if (!c->namespace || !c->context || !c->source)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	return 0;
}

void ws_kubeconfig_contexts(const ws_kubeconfig_options *opt,
			    void (*each)(void *ctx, const char *name), void *ctx)
{
	static const ws_kubeconfig_options none;
	struct kcfg k = {0};
	ws_err err;
	size_t i, j;

	if (kcfg_collect(&k, opt ? opt : &none, &err) == 0) {
		for (i = 0; i < k.n; i++) {
			const cJSON *list = cJSON_GetObjectItemCaseSensitive(k.files[i].root, "contexts");
			const cJSON *c;

			cJSON_ArrayForEach(c, (cJSON_IsArray(list) ? list : NULL)) {
				const char *name = ws_json_str(c, "name", NULL);
				int seen = 0;

				/* once: the first file that names it wins, as for loading */
				for (j = 0; j <= i && name && !seen; j++) {
					const cJSON *l = cJSON_GetObjectItemCaseSensitive(k.files[j].root,
											  "contexts");
					const cJSON *o;

					cJSON_ArrayForEach(o, (cJSON_IsArray(l) ? l : NULL)) {
						if (o == c)
							break;
						if (ws_json_str(o, "name", NULL) &&
						    strcmp(ws_json_str(o, "name", NULL), name) == 0) {
							seen = 1;
							break;
						}
					}
				}
				if (name && !seen)
					each(ctx, name);
			}
		}
	}
	kcfg_release(&k);
}

int ws_kubeconfig_load(ws_kube_conn *c, const ws_kubeconfig_options *opt, ws_err *err)
{
	static const ws_kubeconfig_options none;
	struct kcfg k = {0};
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (!opt)
		opt = &none;
	if (kcfg_collect(&k, opt, err))
		goto out;
	if (k.n > 0)
		rc = from_kubeconfig(c, &k, opt, err);
	else if (opt->server)
		rc = from_flags(c, opt, err);
	else if (getenv("KUBERNETES_SERVICE_HOST") && getenv("KUBERNETES_SERVICE_PORT"))
		rc = in_cluster(c, err);
	else if (getenv("KUBECONFIG") && *getenv("KUBECONFIG"))
		ws_fail(err, WS_E_INVALID, "no configuration: no file of KUBECONFIG=%s exists",
			getenv("KUBECONFIG"));
	else
		ws_fail(err, WS_E_INVALID, "no configuration: set KUBECONFIG or use --kubeconfig");
out:
	kcfg_release(&k);
	if (rc)
		ws_kube_conn_release(c);
	return rc;
}

void ws_kube_conn_release(ws_kube_conn *c)
{
	if (!c)
		return;
	ws_http_target_release(&c->target);
	free(c->context);
	free(c->namespace);
	free(c->source);
	auth_free(c->exec);
	memset(c, 0, sizeof(*c));
}
