/* test_wire.c - the wire (http, kubeconfig, k8s, flyte clients) against the
 * local cluster: tests/cluster/up starts the emulated kube-apiserver and
 * Flyte Admin with TLS in a temporary directory, tests/cluster/fault injects
 * failures, tests/cluster/down stops them. Every credential kind of the
 * generated kubeconfig, CRUD with Status errors, paging, parallel batches,
 * retries (503, 429 Retry-After, dropped connections) and their absence
 * (403, a dropped POST), watches (events and 410), and Flyte projects and
 * attributes. Skipped when tests/cluster/up is missing
 * (WS_SOURCE_DIR names the source tree; default: the current directory).
 * A guard process stops the cluster and removes its directory even when
 * this test crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "flyte.h"
#include "json.h"
#include "k8s.h"

extern char **environ;

static char src[1024];    /* source tree */
static char dir[256];     /* the cluster's directory */
static char kubeconfig[512];
static int have_cluster;
static int guard_fd = -1; /* closing it tells the guard to clean up */
static pid_t guard_pid = -1;

#define NEED_CLUSTER()                                                                     \
	do {                                                                               \
		if (!have_cluster)                                                         \
			skip();                                                            \
	} while (0)

/* Run a tool of tests/cluster without a shell; its stdout is discarded. */
static int tool(const char *name, const char *const *args)
{
	char path[1200];
	char *argv[24];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, n = 0, rc;

	snprintf(path, sizeof(path), "%s/tests/cluster/%s", src, name);
	argv[n++] = path;
	argv[n++] = dir;
	while (*args && n < 23)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Fork the guard: it waits until our end of a pipe closes (teardown, or
 * this process dying), then runs tests/cluster/down and removes dir. */
static int start_guard(void)
{
	int p[2];
	char c;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	guard_pid = fork();
	if (guard_pid < 0)
		return -1;
	if (guard_pid == 0) {
		const char *none[] = {NULL};

		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		close(p[1]);
		while (read(p[0], &c, 1) != 0 && errno == EINTR)
			;
		tool("down", none);
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		_exit(0);
	}
	close(p[0]);
	guard_fd = p[1];
	return 0;
}

static void fault(const char *server, const char *const *args)
{
	const char *argv[20] = {server, "add"};
	int n = 2;

	while (*args && n < 19)
		argv[n++] = *args++;
	argv[n] = NULL;
	assert_int_equal(tool("fault", argv), 0);
}

static int setup(void **state)
{
	const char *s = getenv("WS_SOURCE_DIR");
	const char *up[] = {NULL};
	char path[1400], line[2048];
	FILE *f;

	(void)state;
	snprintf(src, sizeof(src), "%s", s && *s ? s : ".");
	snprintf(path, sizeof(path), "%s/tests/cluster/up", src);
	if (access(path, X_OK) != 0)
		return 0;
	snprintf(dir, sizeof(dir), "/tmp/ws-wire-XXXXXX");
	if (!mkdtemp(dir) || start_guard())
		return -1;
	if (tool("up", up)) {
		fprintf(stderr, "tests/cluster/up %s failed\n", dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/env", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		line[strcspn(line, "\n")] = '\0';
		if (!eq)
			continue;
		*eq = '\0';
		setenv(line, eq + 1, 1);
	}
	fclose(f);
	snprintf(kubeconfig, sizeof(kubeconfig), "%s", getenv("KUBECONFIG"));
	have_cluster = 1;
	return 0;
}

static int teardown(void **state)
{
	int status = 0;

	(void)state;
	if (guard_pid <= 0)
		return 0;
	close(guard_fd);
	while (waitpid(guard_pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void open_ctx(ws_k8s *k, const char *context)
{
	ws_kubeconfig_options opt = {0};
	ws_err err;

	opt.kubeconfig = kubeconfig;
	opt.context = context;
	if (ws_k8s_open(k, &opt, &err))
		fail_msg("open context %s: %s", context ? context : "(current)", err.msg);
}

static cJSON *object(const char *fmt, ...)
{
	char text[4096];
	va_list ap;
	cJSON *o;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	o = cJSON_Parse(text);
	assert_non_null(o);
	return o;
}

static void make_namespace(ws_k8s *k, const char *name)
{
	cJSON *ns = object("{\"metadata\":{\"name\":\"%s\"}}", name);
	ws_err err;

	if (ws_k8s_create(k, &WS_KIND_NAMESPACE, ns, 0, NULL, &err))
		fail_msg("create namespace %s: %s", name, err.msg);
	cJSON_Delete(ns);
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- credentials ---- */

static void test_each_credential(void **state)
{
	static const char *const contexts[] = {"admin", "cert", "tokenfile", "exec"};
	ws_kubeconfig_options opt = {0};
	ws_k8s k;
	cJSON *ns = NULL;
	ws_err err;
	size_t i;

	(void)state;
	NEED_CLUSTER();
	for (i = 0; i < sizeof(contexts) / sizeof(contexts[0]); i++) {
		open_ctx(&k, contexts[i]);
		if (ws_k8s_get(&k, &WS_KIND_NAMESPACE, NULL, "default", &ns, &err))
			fail_msg("context %s: %s", contexts[i], err.msg);
		assert_string_equal(ws_json_str(ns, "metadata", "name", NULL), "default");
		assert_string_equal(ws_json_str(ns, "kind", NULL), "Namespace");
		cJSON_Delete(ns);
		ws_k8s_close(&k);
	}
	/* KUBECONFIG and current-context (admin). */
	assert_int_equal(ws_k8s_open(&k, NULL, &err), 0);
	assert_string_equal(k.conn.context, "admin");
	assert_int_equal(ws_k8s_get(&k, &WS_KIND_NAMESPACE, NULL, "default", NULL, &err), 0);
	ws_k8s_close(&k);

	/* alice may not create namespaces: 403, as the server says. */
	open_ctx(&k, "alice");
	ns = object("{\"metadata\":{\"name\":\"alice-ns\"}}");
	assert_int_equal(ws_k8s_create(&k, &WS_KIND_NAMESPACE, ns, 0, NULL, &err), -1);
	assert_int_equal(err.code, 403);
	assert_string_equal(err.reason, "Forbidden");
	assert_non_null(strstr(err.msg, "alice@company.com"));
	cJSON_Delete(ns);
	ws_k8s_close(&k);

	/* A wrong token: 401, naming the context. */
	opt.kubeconfig = kubeconfig;
	opt.context = "admin";
	opt.token = "not-a-valid-token";
	assert_int_equal(ws_k8s_open(&k, &opt, &err), 0);
	assert_int_equal(ws_k8s_get(&k, &WS_KIND_NAMESPACE, NULL, "default", NULL, &err), -1);
	assert_int_equal(err.code, 401);
	assert_string_equal(err.reason, "Unauthorized");
	assert_non_null(strstr(err.msg, "rejected the credentials of context 'admin'"));
	assert_null(strstr(err.msg, "not-a-valid-token"));
	ws_k8s_close(&k);

	/* The CA is the only trust: without it, verification fails. */
	opt.token = NULL;
	assert_int_equal(ws_k8s_open(&k, &opt, &err), 0);
	free(k.conn.target.ca_pem);
	k.conn.target.ca_pem = NULL;
	k.conn.target.ca_len = 0;
	k.conn.target.max_retries = -1;
	assert_int_equal(ws_k8s_get(&k, &WS_KIND_NAMESPACE, NULL, "default", NULL, &err), -1);
	assert_int_equal(err.kind, WS_E_TRANSPORT);
	ws_k8s_close(&k);
}

/* tls-server-name: the serving certificate is for "apiserver"-ish names;
 * routing through a name it carries must still reach 127.0.0.1. */
static void test_tls_server_name(void **state)
{
	ws_k8s k;
	ws_err err;

	(void)state;
	NEED_CLUSTER();
	open_ctx(&k, "admin");
	k.conn.target.tls_server_name = strdup("localhost");
	if (ws_k8s_get(&k, &WS_KIND_NAMESPACE, NULL, "default", NULL, &err))
		fail_msg("via tls-server-name localhost: %s", err.msg);
	free(k.conn.target.tls_server_name);
	k.conn.target.tls_server_name = strdup("not-in-the-certificate.example");
	k.conn.target.max_retries = -1;
	assert_int_equal(ws_k8s_get(&k, &WS_KIND_NAMESPACE, NULL, "default", NULL, &err), -1);
	assert_int_equal(err.kind, WS_E_TRANSPORT);
	ws_k8s_close(&k);
}

/* ---- objects ---- */

static void test_crud_and_status_errors(void **state)
{
	ws_k8s k;
	ws_err err;
	cJSON *cm, *got = NULL, *stale, *patch;
	const char *rv;

	(void)state;
	NEED_CLUSTER();
	open_ctx(&k, "admin");
	make_namespace(&k, "wire-crud");
	cm = object("{\"metadata\":{\"name\":\"rec\",\"namespace\":\"wire-crud\","
		    "\"labels\":{\"app\":\"wire\"}},\"data\":{\"k\":\"v1\"}}");

	/* dry run: answered, not stored */
	assert_int_equal(ws_k8s_create(&k, &WS_KIND_CONFIGMAP, cm, 1, &got, &err), 0);
	assert_string_equal(ws_json_str(got, "data", "k", NULL), "v1");
	cJSON_Delete(got);
	assert_int_equal(ws_k8s_get(&k, &WS_KIND_CONFIGMAP, "wire-crud", "rec", NULL, &err), -1);
	assert_int_equal(err.code, 404);
	assert_string_equal(err.reason, "NotFound");
	assert_string_equal(err.msg, "configmaps \"rec\" not found");

	/* create, then AlreadyExists */
	assert_int_equal(ws_k8s_create(&k, &WS_KIND_CONFIGMAP, cm, 0, &got, &err), 0);
	assert_non_null(ws_json_str(got, "metadata", "uid", NULL));
	cJSON_Delete(got);
	assert_int_equal(ws_k8s_create(&k, &WS_KIND_CONFIGMAP, cm, 0, NULL, &err), -1);
	assert_int_equal(err.code, 409);
	assert_string_equal(err.reason, "AlreadyExists");
	assert_string_equal(err.msg, "configmaps \"rec\" already exists");

	/* get, update with the current resourceVersion, then with a stale one */
	assert_int_equal(ws_k8s_get(&k, &WS_KIND_CONFIGMAP, "wire-crud", "rec", &got, &err), 0);
	stale = cJSON_Duplicate(got, 1);
	ws_json_set_str(ws_json_obj(got, "data"), "k", "v2");
	assert_int_equal(ws_k8s_update(&k, &WS_KIND_CONFIGMAP, got, 0, NULL, &err), 0);
	cJSON_Delete(got);
	ws_json_set_str(ws_json_obj(stale, "data"), "k", "v3");
	assert_int_equal(ws_k8s_update(&k, &WS_KIND_CONFIGMAP, stale, 0, NULL, &err), -1);
	assert_int_equal(err.code, 409);
	assert_string_equal(err.reason, "Conflict");
	assert_non_null(strstr(err.msg, "the object has been modified"));
	cJSON_Delete(stale);

	/* merge patch and JSON patch */
	patch = object("{\"metadata\":{\"labels\":{\"patched\":\"yes\"}}}");
	assert_int_equal(ws_k8s_patch(&k, &WS_KIND_CONFIGMAP, "wire-crud", "rec", NULL, patch, 0,
				      &got, &err),
			 0);
	assert_string_equal(ws_json_str(got, "metadata", "labels", "patched", NULL), "yes");
	assert_string_equal(ws_json_str(got, "data", "k", NULL), "v2");
	rv = ws_json_str(got, "metadata", "resourceVersion", NULL);
	assert_non_null(rv);
	cJSON_Delete(got);
	cJSON_Delete(patch);
	patch = object("[{\"op\":\"replace\",\"path\":\"/data/k\",\"value\":\"v4\"}]");
	assert_int_equal(ws_k8s_patch(&k, &WS_KIND_CONFIGMAP, "wire-crud", "rec",
				      "application/json-patch+json", patch, 0, &got, &err),
			 0);
	assert_string_equal(ws_json_str(got, "data", "k", NULL), "v4");
	cJSON_Delete(got);
	cJSON_Delete(patch);

	/* 422 Invalid with the server's reason */
	patch = object("{\"metadata\":{\"name\":\"Not_Valid\",\"namespace\":\"wire-crud\"}}");
	assert_int_equal(ws_k8s_create(&k, &WS_KIND_CONFIGMAP, patch, 0, NULL, &err), -1);
	assert_int_equal(err.code, 422);
	assert_string_equal(err.reason, "Invalid");
	assert_non_null(strstr(err.msg, "Not_Valid"));
	cJSON_Delete(patch);

	/* delete (dry run first), then NotFound */
	assert_int_equal(ws_k8s_delete(&k, &WS_KIND_CONFIGMAP, "wire-crud", "rec", 1, &err), 0);
	assert_int_equal(ws_k8s_get(&k, &WS_KIND_CONFIGMAP, "wire-crud", "rec", NULL, &err), 0);
	assert_int_equal(ws_k8s_delete(&k, &WS_KIND_CONFIGMAP, "wire-crud", "rec", 0, &err), 0);
	assert_int_equal(ws_k8s_delete(&k, &WS_KIND_CONFIGMAP, "wire-crud", "rec", 0, &err), -1);
	assert_int_equal(err.code, 404);
	assert_string_equal(err.reason, "NotFound");
	cJSON_Delete(cm);
	ws_k8s_close(&k);
}

static void test_list_paging_and_selector(void **state)
{
	ws_k8s k;
	ws_k8s_list_opts lo = {0};
	ws_k8s_op ops[9];
	cJSON *objs[9], *items = NULL, *it;
	char rv[32] = "";
	ws_err err;
	size_t i;
	int seen = 0;

	(void)state;
	NEED_CLUSTER();
	open_ctx(&k, "admin");
	make_namespace(&k, "wire-list");
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < 9; i++) {
		objs[i] = object("{\"metadata\":{\"name\":\"cm-%zu\",\"namespace\":\"wire-list\","
				 "\"labels\":{\"app\":\"%s\"}}}",
				 i, i < 7 ? "wire" : "other");
		ops[i].verb = WS_K8S_CREATE;
		ops[i].kind = &WS_KIND_CONFIGMAP;
		ops[i].body = objs[i];
	}
	assert_int_equal(ws_k8s_run(&k, ops, 9), 0);
	ws_k8s_ops_release(ops, 9);
	lo.label_selector = "app=wire";
	lo.page_size = 3;
	if (ws_k8s_list(&k, &WS_KIND_CONFIGMAP, "wire-list", &lo, &items, rv, &err))
		fail_msg("list: %s", err.msg);
	assert_int_equal(cJSON_GetArraySize(items), 7);
	assert_true(rv[0] != '\0');
	cJSON_ArrayForEach(it, items) {
		assert_string_equal(ws_json_str(it, "kind", NULL), "ConfigMap");
		assert_string_equal(ws_json_str(it, "apiVersion", NULL), "v1");
		assert_string_equal(ws_json_str(it, "metadata", "labels", "app", NULL), "wire");
		seen++;
	}
	assert_int_equal(seen, 7);
	cJSON_Delete(items);
	/* set-based selector, all namespaces */
	lo.label_selector = "app in (other)";
	lo.page_size = 0;
	assert_int_equal(ws_k8s_list(&k, &WS_KIND_CONFIGMAP, NULL, &lo, &items, NULL, &err), 0);
	assert_int_equal(cJSON_GetArraySize(items), 2);
	cJSON_Delete(items);
	for (i = 0; i < 9; i++)
		cJSON_Delete(objs[i]);
	ws_k8s_close(&k);
}

static void test_batch_parallel(void **state)
{
	ws_k8s k;
	ws_k8s_op ops[6];
	cJSON *objs[6];
	size_t i;

	(void)state;
	NEED_CLUSTER();
	open_ctx(&k, "admin");
	make_namespace(&k, "wire-batch");
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < 6; i++) {
		objs[i] = object("{\"metadata\":{\"name\":\"b-%zu\"},\"data\":{\"i\":\"%zu\"}}", i, i);
		ops[i].verb = WS_K8S_CREATE;
		ops[i].kind = &WS_KIND_CONFIGMAP;
		ops[i].ns = "wire-batch";
		ops[i].body = objs[i];
	}
	assert_int_equal(ws_k8s_run(&k, ops, 6), 0);
	for (i = 0; i < 6; i++) {
		assert_int_equal(ops[i].rc, 0);
		assert_non_null(ws_json_str(ops[i].result, "metadata", "uid", NULL));
	}
	ws_k8s_ops_release(ops, 6);
	/* Again: each fails on its own with AlreadyExists; a GET in the same
	 * batch succeeds. */
	ops[5].verb = WS_K8S_GET;
	ops[5].name = "b-5";
	assert_int_equal(ws_k8s_run(&k, ops, 6), 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(ops[i].err.reason, "AlreadyExists");
	assert_int_equal(ops[5].rc, 0);
	assert_string_equal(ws_json_str(ops[5].result, "data", "i", NULL), "5");
	ws_k8s_ops_release(ops, 6);
	for (i = 0; i < 6; i++)
		cJSON_Delete(objs[i]);
	ws_k8s_close(&k);
}

/* ---- retries ---- */

static void test_retries(void **state)
{
	static const char *const f503[] = {"--method", "GET", "--path",
					   "^/api/v1/namespaces/wire-retry$", "--status", "503",
					   NULL};
	static const char *const f403[] = {"--method", "GET", "--path",
					   "^/api/v1/namespaces/wire-retry$", "--status", "403",
					   "--count", "2", NULL};
	static const char *const f429[] = {"--method", "GET", "--path",
					   "^/api/v1/namespaces/wire-retry$", "--status", "429",
					   NULL};
	static const char *const fdrop[] = {"--method", "GET", "--path",
					    "^/api/v1/namespaces/wire-retry$", "--drop", NULL};
	static const char *const fdrop_post[] = {"--method", "POST", "--path",
						 "^/api/v1/namespaces/wire-retry/configmaps$",
						 "--drop", NULL};
	ws_k8s k;
	ws_err err;
	long long t0;
	cJSON *cm;

	(void)state;
	NEED_CLUSTER();
	open_ctx(&k, "admin");
	k.conn.target.backoff_ms = 50;
	make_namespace(&k, "wire-retry");

	/* 503 (with Retry-After: 1): repeated, then success. */
	fault("apiserver", f503);
	t0 = ms_now();
	if (ws_k8s_get(&k, &WS_KIND_NAMESPACE, NULL, "wire-retry", NULL, &err))
		fail_msg("after 503: %s", err.msg);
	assert_true(ms_now() - t0 >= 1000);

	/* 403: not repeated. The rule fires twice, so a retry would have used
	 * it up and the second call would pass. */
	fault("apiserver", f403);
	assert_int_equal(ws_k8s_get(&k, &WS_KIND_NAMESPACE, NULL, "wire-retry", NULL, &err), -1);
	assert_int_equal(err.code, 403);
	assert_int_equal(ws_k8s_get(&k, &WS_KIND_NAMESPACE, NULL, "wire-retry", NULL, &err), -1);
	assert_int_equal(err.code, 403);
	assert_int_equal(ws_k8s_get(&k, &WS_KIND_NAMESPACE, NULL, "wire-retry", NULL, &err), 0);

	/* 429 with Retry-After: waited for, then success. */
	fault("apiserver", f429);
	t0 = ms_now();
	assert_int_equal(ws_k8s_get(&k, &WS_KIND_NAMESPACE, NULL, "wire-retry", NULL, &err), 0);
	assert_true(ms_now() - t0 >= 1000);

	/* A dropped connection: a GET is repeated. */
	fault("apiserver", fdrop);
	if (ws_k8s_get(&k, &WS_KIND_NAMESPACE, NULL, "wire-retry", NULL, &err))
		fail_msg("after a dropped connection: %s", err.msg);

	/* A POST that may have reached the server is not. */
	fault("apiserver", fdrop_post);
	cm = object("{\"metadata\":{\"name\":\"once\",\"namespace\":\"wire-retry\"}}");
	assert_int_equal(ws_k8s_create(&k, &WS_KIND_CONFIGMAP, cm, 0, NULL, &err), -1);
	assert_int_equal(err.kind, WS_E_TRANSPORT);
	assert_int_equal(ws_k8s_create(&k, &WS_KIND_CONFIGMAP, cm, 0, NULL, &err), 0);
	cJSON_Delete(cm);
	ws_k8s_close(&k);
}

/* ---- watch ---- */

/* What a watch saw of the config map 'watched'. The first event (ADDED,
 * replayed from the listed resourceVersion) tells the mutating thread that
 * the watch is open: its changes then come live. */
struct seen {
	char types[16][12];
	int n;
	pthread_mutex_t lock;
	pthread_cond_t changed;
};

static int on_event(void *ctx, const char *type, const cJSON *obj)
{
	struct seen *s = ctx;
	const char *name = ws_json_str(obj, "metadata", "name", NULL);

	if (strcmp(type, "BOOKMARK") == 0 || !name || strcmp(name, "watched") != 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	if (s->n < 16)
		snprintf(s->types[s->n++], sizeof(s->types[0]), "%s", type);
	pthread_cond_signal(&s->changed);
	pthread_mutex_unlock(&s->lock);
	return strcmp(type, "DELETED") == 0;
}

/* Once the watch has seen the config map created, change and delete it. */
static void *mutate(void *arg)
{
	struct seen *s = arg;
	struct timespec until;
	ws_k8s k;
	ws_err err;
	cJSON *patch = object("{\"data\":{\"x\":\"1\"}}");
	int open;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_mutex_lock(&s->lock);
	while (s->n == 0 && pthread_cond_timedwait(&s->changed, &s->lock, &until) == 0)
		;
	open = s->n > 0;
	pthread_mutex_unlock(&s->lock);
	open_ctx(&k, "admin");
	if (!open)
		fprintf(stderr, "mutate: the watch saw nothing in 20 s\n");
	else if (ws_k8s_patch(&k, &WS_KIND_CONFIGMAP, "wire-watch", "watched", NULL, patch, 0,
			      NULL, &err) ||
		 ws_k8s_delete(&k, &WS_KIND_CONFIGMAP, "wire-watch", "watched", 0, &err))
		fprintf(stderr, "mutate: %s\n", err.msg);
	cJSON_Delete(patch);
	ws_k8s_close(&k);
	return NULL;
}

static void test_watch(void **state)
{
	ws_k8s k;
	ws_err err;
	cJSON *items = NULL;
	char rv[32] = "", old_rv[32];
	struct seen s;
	pthread_t th;
	ws_http_req r, *p = &r;
	cJSON *cm;

	(void)state;
	NEED_CLUSTER();
	open_ctx(&k, "admin");
	make_namespace(&k, "wire-watch");
	assert_int_equal(ws_k8s_list(&k, &WS_KIND_CONFIGMAP, "wire-watch", NULL, &items, rv, &err), 0);
	cJSON_Delete(items);
	snprintf(old_rv, sizeof(old_rv), "%s", rv);
	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.changed, NULL);
	cm = object("{\"metadata\":{\"name\":\"watched\",\"namespace\":\"wire-watch\"}}");
	assert_int_equal(ws_k8s_create(&k, &WS_KIND_CONFIGMAP, cm, 0, NULL, &err), 0);
	cJSON_Delete(cm);
	assert_int_equal(pthread_create(&th, NULL, mutate, &s), 0);
	if (ws_k8s_watch(&k, &WS_KIND_CONFIGMAP, "wire-watch", NULL, rv, 20, on_event, &s, &err))
		fail_msg("watch: %s", err.msg);
	pthread_join(th, NULL);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.types[0], "ADDED");
	assert_string_equal(s.types[1], "MODIFIED");
	assert_string_equal(s.types[2], "DELETED");
	assert_true(atol(rv) > atol(old_rv));

	/* After a compaction the old resourceVersion is gone: 410. */
	assert_int_equal(ws_http_req_init(&r, &k.conn.target, "POST", "/_emulator/compact",
					  "application/json", "{}", 2, &err),
			 0);
	ws_http_perform(&p, 1);
	assert_int_equal(r.status, 200);
	ws_http_req_release(&r);
	s.n = 0;
	assert_int_equal(ws_k8s_watch(&k, &WS_KIND_CONFIGMAP, "wire-watch", NULL, old_rv, 5,
				      on_event, &s, &err),
			 -1);
	assert_int_equal(err.code, 410);
	assert_string_equal(err.reason, "Expired");
	pthread_cond_destroy(&s.changed);
	pthread_mutex_destroy(&s.lock);
	ws_k8s_close(&k);
}

/* ---- Flyte ---- */

static void test_flyte(void **state)
{
	static const char *const f503[] = {"--method", "GET", "--path", "^/api/v1/domains$",
					   "--status", "503", NULL};
	ws_flyte_options o = {0};
	ws_flyte f;
	ws_err err;
	ws_strlist domains = {0};
	cJSON *body, *got = NULL;

	(void)state;
	NEED_CLUSTER();
	ws_flyte_options_from_env(&o);
	if (ws_flyte_open(&f, &o, &err))
		fail_msg("flyte open: %s", err.msg);
	f.target.backoff_ms = 50;

	body = object("{\"project\":{\"id\":\"wire-proj\",\"name\":\"Wire\",\"description\":\"d\","
		      "\"labels\":{\"values\":{\"workspace-id\":\"wire-proj\"}},\"state\":\"ACTIVE\"}}");
	if (ws_flyte_call(&f, "POST", "/api/v1/projects", body, NULL, &err))
		fail_msg("register: %s", err.msg);
	assert_int_equal(ws_flyte_call(&f, "POST", "/api/v1/projects", body, NULL, &err), -1);
	assert_int_equal(err.code, 409);
	assert_string_equal(err.reason, "AlreadyExists");
	cJSON_Delete(body);

	/* domains are global: sending them is refused */
	body = object("{\"project\":{\"id\":\"wire-dom\",\"name\":\"D\",\"domains\":[{\"id\":\"x\","
		      "\"name\":\"x\"}]}}");
	assert_int_equal(ws_flyte_call(&f, "POST", "/api/v1/projects", body, NULL, &err), -1);
	assert_int_equal(err.code, 400);
	assert_string_equal(err.reason, "InvalidArgument");
	cJSON_Delete(body);

	fault("flyte", f503);
	if (ws_flyte_domains(&f, &domains, &err))
		fail_msg("domains: %s", err.msg);
	assert_true(ws_strlist_has(&domains, "development"));
	assert_true(ws_strlist_has(&domains, "production"));
	ws_strlist_release(&domains);

	body = object("{\"attributes\":{\"project\":\"wire-proj\",\"matching_attributes\":"
		      "{\"workflow_execution_config\":{\"security_context\":{\"run_as\":"
		      "{\"k8s_service_account\":\"flyte-wire-proj-runner\"}}}}}}");
	if (ws_flyte_call(&f, "PUT", "/api/v1/project_attributes/wire-proj", body, NULL, &err))
		fail_msg("put attributes: %s", err.msg);
	cJSON_Delete(body);
	if (ws_flyte_get_attributes(&f, "wire-proj", "WORKFLOW_EXECUTION_CONFIG", &got, &err))
		fail_msg("get attributes: %s", err.msg);
	assert_string_equal(ws_json_str(got, "matching_attributes", "workflow_execution_config",
					"security_context", "run_as", "k8s_service_account", NULL),
			    "flyte-wire-proj-runner");
	cJSON_Delete(got);
	assert_int_equal(ws_flyte_get_attributes(&f, "wire-proj", "CLUSTER_RESOURCE", &got, &err), -1);
	assert_int_equal(err.code, 404);

	/* Projects are archived, never deleted. */
	assert_int_equal(ws_flyte_get_project(&f, "wire-proj", &got, &err), 0);
	assert_string_equal(ws_json_str(got, "name", NULL), "Wire");
	assert_int_equal(ws_flyte_set_project_state(&f, got, "ARCHIVED", &err), 0);
	cJSON_Delete(got);
	assert_int_equal(ws_flyte_get_project(&f, "wire-proj", &got, &err), 0);
	assert_string_equal(ws_json_str(got, "state", NULL), "ARCHIVED");
	cJSON_Delete(got);
	assert_int_equal(ws_flyte_get_project(&f, "no-such-proj", &got, &err), -1);
	assert_int_equal(err.code, 404);
	assert_string_equal(err.reason, "NotFound");
	ws_flyte_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_credential),
		cmocka_unit_test(test_tls_server_name),
		cmocka_unit_test(test_crud_and_status_errors),
		cmocka_unit_test(test_list_paging_and_selector),
		cmocka_unit_test(test_batch_parallel),
		cmocka_unit_test(test_retries),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_flyte),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
