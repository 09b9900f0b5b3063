/* kubeconfig.c - find the API server and the credentials as kubectl does
 * (see kubeconfig.h): merged KUBECONFIG files, contexts, TLS material
 * inline or from files, token files, exec credential plugins, in-cluster.
 * Secrets are read with one allocation each (no realloc copies left
 * behind) and wiped when released.
 */
#include "kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "execcred.h"
#include "json.h"
#include "yamlconv.h"

#define KUBECONFIG_MAX (4u << 20)
#define SECRET_MAX (1u << 20)
#define INCLUSTER_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define WHERE_MAX 600

/* ---- small helpers ---- */

static char *join_path(const char *dir, const char *path, ws_err *err)
{
	size_t n;
	char *p;

	if (path[0] == '/' || !dir)
		return ws_strdup(path, err);
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
		ws_json_wipe_delete(k->files[i].root);
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
	f.path = ws_strdup(path, err);
	if (!f.path || check_section(&f, "clusters", "cluster", err) ||
	    check_section(&f, "users", "user", err) || check_section(&f, "contexts", "context", err))
		goto out;
	f.dir = ws_strdup(path, err);
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
	ws_json_wipe_delete(f.root);
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
		copy = ws_strdup(env, err);
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
	if (ws_json_field_str(e->obj, key, &data, where, err) || ws_json_field_str(e->obj, name, &file, where, err))
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

struct kc_auth {
	char *token_file;
	struct stat token_st; /* of the last successful read */
	ws_execcred *exec;
	atomic_int invalid;   /* set by ws_kube_conn_reauth */
};

static void auth_free(struct kc_auth *a)
{
	if (!a)
		return;
	free(a->token_file);
	ws_execcred_free(a->exec);
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

/* The target's refresh hook (http.h): runs under http.c's credential lock. */
static int kc_refresh(void *ctx, ws_http_target *t, ws_err *err)
{
	struct kc_auth *a = ctx;
	int force = atomic_exchange(&a->invalid, 0);

	if (a->token_file && token_file_refresh(a, t, force, err))
		return -1;
	if (a->exec && (force || !ws_execcred_valid(a->exec)))
		return ws_execcred_run(a->exec, t, err);
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
	if (ws_json_field_str(e->obj, "server", &server, where, err) ||
	    ws_json_field_str(e->obj, "tls-server-name", &tsn, where, err) ||
	    ws_json_field_str(e->obj, "proxy-url", &proxy, where, err) ||
	    ws_json_field_bool(e->obj, "insecure-skip-tls-verify", &skip_verify, where, err))
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
	if (tsn && !(t->tls_server_name = ws_strdup(tsn, err)))
		return -1;
	if (proxy) {
		if (!strstr(proxy, "://"))
			return ws_fail(err, WS_E_INVALID, "%s: proxy-url '%s' has no scheme", where,
				       proxy);
		if (!(t->proxy_url = ws_strdup(proxy, err)))
			return -1;
	}
	return 0;
}

/* A user's exec plugin (execcred.h), refreshed before each request. */
static int set_exec(ws_kube_conn *c, const struct entry *user, const cJSON *x,
		    const struct entry *cl, const char *where, ws_err *err)
{
	struct kc_auth *a = conn_auth(c, err);
	char *cluster;

	if (!a || ws_execcred_parse(x, user->file->dir, where, &a->exec, err))
		return -1;
	if (!ws_execcred_wants_cluster(a->exec))
		return 0;
	if (!(cluster = cluster_info(&c->target, cl)))
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	ws_execcred_set_cluster(a->exec, cluster);
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
	if (ws_json_field_str(e->obj, "username", &s, where, err))
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
		char *copy = ws_strdup(opt->token, err);

		if (!copy)
			return -1;
		set_bearer(t, copy);
		return 0;
	}
	if (ws_json_field_str(e->obj, "token", &token, where, err) ||
	    ws_json_field_str(e->obj, "tokenFile", &token_file, where, err))
		return -1;
	if (token_file) {
		if (!(a = conn_auth(c, err)) || !(a->token_file = join_path(e->file->dir, token_file, err)))
			return -1;
		if (token_file_refresh(a, t, 1, err))
			return ws_err_prefix(err, "%s", where);
	} else if (token) {
		char *copy = ws_strdup(token, err);

		if (!copy)
			return -1;
		set_bearer(t, copy);
	}
	x = cJSON_GetObjectItemCaseSensitive(e->obj, "exec");
	if (x && !cJSON_IsNull(x))
		return set_exec(c, e, x, cl, where, err);
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
	if (ws_json_field_str(ctx.obj, "cluster", &cluster, where, err) ||
	    ws_json_field_str(ctx.obj, "user", &user_name, where, err) ||
	    ws_json_field_str(ctx.obj, "namespace", &ns, where, err))
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
		if (!(c->target.bearer = ws_strdup(opt->token, err)))
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
	if (opt->token && !(c->target.bearer = ws_strdup(opt->token, err)))
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
	if (!a || !(a->token_file = ws_strdup(path, err)))
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
