/* test_kubeconfig.c - kubeconfig resolution (shared/kubeconfig.c): merging
 * KUBECONFIG files, --kubeconfig/--context and overrides, relative paths,
 * inline and file TLS material, tokenFile re-reads, exec plugins (a small
 * script written here: token and certificate output, expiry and caching,
 * env and KUBERNETES_EXEC_INFO, bad JSON, failure, interactiveMode), the
 * in-cluster config (WS_INCLUSTER_DIR) and the error messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "kubeconfig.h"

static char dir[256];

static void put(const char *name, const char *text, int mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
}

static char *path_of(const char *name)
{
	static char path[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", dir, name);
	return path[i];
}

/* A file's text, read back (for what the exec plugin wrote). */
static char *slurp(const char *name)
{
	static char buf[8192];
	FILE *f = fopen(path_of(name), "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ws-kubeconfig-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (mkdir(path_of("sub"), 0755) || mkdir(path_of("home"), 0755))
		return -1;
	/* Nothing from the machine running the tests. */
	setenv("HOME", path_of("home"), 1);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	/* No terminal: interactiveMode decisions are predictable. */
	return freopen("/dev/null", "r", stdin) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *FILE_A =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: a\n"
	"clusters:\n"
	"- name: c1\n"
	"  cluster: {server: 'https://a.example:6443/', insecure-skip-tls-verify: true}\n"
	"contexts:\n"
	"- name: a\n"
	"  context: {cluster: c1, user: u1, namespace: team-a}\n"
	"users:\n"
	"- name: u1\n"
	"  user: {token: token-a}\n";

static const char *FILE_B =
	"current-context: b\n"
	"clusters:\n"
	"- name: c1\n"
	"  cluster: {server: 'https://loser.example'}\n"
	"- name: c2\n"
	"  cluster: {server: 'b.example:443', tls-server-name: api.internal,\n"
	"            proxy-url: 'http://proxy:3128'}\n"
	"contexts:\n"
	"- name: b\n"
	"  context: {cluster: c2, user: u2}\n"
	"- name: a\n"
	"  context: {cluster: c2, user: u2}\n"
	"users:\n"
	"- name: u1\n"
	"  user: {token: loser}\n"
	"- name: u2\n"
	"  user: {token: token-b}\n";

static void load_ok(ws_kube_conn *c, const ws_kubeconfig_options *opt)
{
	ws_err err;

	ws_err_clear(&err);
	if (ws_kubeconfig_load(c, opt, &err))
		fail_msg("load failed: %s", err.msg);
}

static void load_fails(const ws_kubeconfig_options *opt, const char *needle)
{
	ws_kube_conn c;
	ws_err err;

	ws_err_clear(&err);
	assert_int_equal(ws_kubeconfig_load(&c, opt, &err), -1);
	if (!strstr(err.msg, needle))
		fail_msg("error '%s' does not contain '%s'", err.msg, needle);
	/* A failed load leaves nothing to free. */
	assert_null(c.target.base_url);
	assert_null(c.exec);
}

static void test_merge_first_wins(void **state)
{
	ws_kubeconfig_options opt = {0};
	ws_kube_conn c;
	char env[1024];

	(void)state;
	put("a.yaml", FILE_A, 0600);
	put("b.yaml", FILE_B, 0600);
	snprintf(env, sizeof(env), "%s::%s:%s", path_of("a.yaml"), path_of("missing.yaml"),
		 path_of("b.yaml"));
	setenv("KUBECONFIG", env, 1);
	load_ok(&c, &opt);
	assert_string_equal(c.context, "a");
	assert_string_equal(c.namespace, "team-a");
	assert_string_equal(c.target.base_url, "https://a.example:6443");
	assert_int_equal(c.target.skip_tls_verify, 1);
	assert_string_equal(c.target.bearer, "token-a");
	assert_non_null(strstr(c.source, "a.yaml"));
	assert_non_null(strstr(c.source, "b.yaml"));
	ws_kube_conn_release(&c);

	/* --context picks b: its cluster and user come from the second file. */
	opt.context = "b";
	load_ok(&c, &opt);
	assert_string_equal(c.target.base_url, "https://b.example:443");
	assert_string_equal(c.target.tls_server_name, "api.internal");
	assert_string_equal(c.target.proxy_url, "http://proxy:3128");
	assert_string_equal(c.target.bearer, "token-b");
	assert_string_equal(c.namespace, "default");
	ws_kube_conn_release(&c);

	/* --kubeconfig means that file alone. */
	opt.context = NULL;
	opt.kubeconfig = path_of("b.yaml");
	load_ok(&c, &opt);
	assert_string_equal(c.context, "b");
	ws_kube_conn_release(&c);
	opt.context = "a";
	load_ok(&c, &opt);
	assert_string_equal(c.target.bearer, "token-b");
	ws_kube_conn_release(&c);
	unsetenv("KUBECONFIG");
}

static void test_overrides(void **state)
{
	ws_kubeconfig_options opt = {0};
	ws_kube_conn c;

	(void)state;
	put("a.yaml", FILE_A, 0600);
	opt.kubeconfig = path_of("a.yaml");
	opt.server = "https://other:1234";
	opt.token = "flag-token";
	load_ok(&c, &opt);
	assert_string_equal(c.target.base_url, "https://other:1234");
	assert_string_equal(c.target.bearer, "flag-token");
	ws_kube_conn_release(&c);

	/* --server and --token with no kubeconfig at all. */
	memset(&opt, 0, sizeof(opt));
	opt.server = "http://127.0.0.1:8080";
	opt.token = "t";
	load_ok(&c, &opt);
	assert_string_equal(c.target.base_url, "http://127.0.0.1:8080");
	assert_string_equal(c.source, "--server");
	ws_kube_conn_release(&c);

	/* ~/.kube/config is the default. */
	assert_int_equal(mkdir(path_of("home/.kube"), 0755), 0);
	put("home/.kube/config", FILE_A, 0600);
	load_ok(&c, NULL);
	assert_string_equal(c.target.bearer, "token-a");
	ws_kube_conn_release(&c);
	unlink(path_of("home/.kube/config"));
	rmdir(path_of("home/.kube"));
}

static void test_relative_paths_and_tls(void **state)
{
	ws_kubeconfig_options opt = {0};
	ws_kube_conn c;
	char text[4096], *ca64;

	(void)state;
	put("sub/ca.pem", "CA-FILE\n", 0644);
	put("client.pem", "CERT-FILE\n", 0600);
	put("sub/key.pem", "KEY-FILE\n", 0600);
	put("sub/config",
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {server: 'https://h:1', certificate-authority: ca.pem}}]\n"
	    "users: [{name: u, user: {client-certificate: ../client.pem, client-key: key.pem}}]\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
	    0600);
	opt.kubeconfig = path_of("sub/config");
	load_ok(&c, &opt);
	assert_int_equal(c.target.ca_len, 8);
	assert_memory_equal(c.target.ca_pem, "CA-FILE\n", 8);
	assert_memory_equal(c.target.cert_pem, "CERT-FILE\n", 10);
	assert_memory_equal(c.target.key_pem, "KEY-FILE\n", 9);
	assert_null(c.target.bearer);
	assert_int_equal(c.target.skip_tls_verify, 0);
	ws_kube_conn_release(&c);

	/* Inline data (base64). */
	ca64 = ws_base64_encode("CA-INLINE", 9);
	snprintf(text, sizeof(text),
		 "current-context: x\n"
		 "clusters: [{name: c, cluster: {server: 'https://h:1', certificate-authority-data: %s}}]\n"
		 "users: [{name: u, user: {client-certificate-data: %s, client-key-data: %s}}]\n"
		 "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
		 ca64, ca64, ca64);
	put("inline", text, 0600);
	opt.kubeconfig = path_of("inline");
	load_ok(&c, &opt);
	assert_int_equal(c.target.ca_len, 9);
	assert_memory_equal(c.target.ca_pem, "CA-INLINE", 9);
	assert_memory_equal(c.target.key_pem, "CA-INLINE", 9);
	ws_kube_conn_release(&c);

	/* --insecure-skip-tls-verify drops the CA. */
	opt.skip_tls_verify = 1;
	load_ok(&c, &opt);
	assert_null(c.target.ca_pem);
	assert_int_equal(c.target.skip_tls_verify, 1);
	ws_kube_conn_release(&c);
	opt.skip_tls_verify = 0;

	/* Both forms at once, or a CA with insecure: refused. */
	snprintf(text, sizeof(text),
		 "current-context: x\n"
		 "clusters: [{name: c, cluster: {server: 'https://h:1', certificate-authority-data: %s,"
		 " certificate-authority: ca.pem}}]\n"
		 "contexts: [{name: x, context: {cluster: c}}]\n",
		 ca64);
	put("both", text, 0600);
	opt.kubeconfig = path_of("both");
	load_fails(&opt, "both 'certificate-authority-data' and 'certificate-authority' are set");
	snprintf(text, sizeof(text),
		 "current-context: x\n"
		 "clusters: [{name: c, cluster: {server: 'https://h:1', certificate-authority-data: %s,"
		 " insecure-skip-tls-verify: true}}]\n"
		 "contexts: [{name: x, context: {cluster: c}}]\n",
		 ca64);
	put("both", text, 0600);
	load_fails(&opt, "cannot both be set");
	put("both",
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {server: 'https://h:1', certificate-authority-data: '!!'}}]\n"
	    "contexts: [{name: x, context: {cluster: c}}]\n",
	    0600);
	load_fails(&opt, "'certificate-authority-data'");
	put("both",
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"
	    "users: [{name: u, user: {client-certificate: client.pem}}]\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
	    0600);
	load_fails(&opt, "client-certificate without client-key");
	free(ca64);
}

static void test_errors(void **state)
{
	ws_kubeconfig_options opt = {0};

	(void)state;
	load_fails(&opt, "no configuration: set KUBECONFIG or use --kubeconfig");
	setenv("KUBECONFIG", path_of("gone-1"), 1);
	load_fails(&opt, "no configuration: no file of KUBECONFIG=");
	unsetenv("KUBECONFIG");
	opt.kubeconfig = path_of("nope.yaml");
	load_fails(&opt, "nope.yaml");
	put("a.yaml", FILE_A, 0600);
	opt.kubeconfig = path_of("a.yaml");
	opt.context = "zzz";
	load_fails(&opt, "context 'zzz' not found");
	opt.context = NULL;
	opt.user = "ghost";
	load_fails(&opt, "user 'ghost' (of context 'a') not found");
	opt.user = NULL;
	opt.cluster = "ghost";
	load_fails(&opt, "cluster 'ghost' (of context 'a') not found");
	opt.cluster = NULL;
	put("e.yaml", "clusters: [{name: c, cluster: {server: 'https://h'}}]\n", 0600);
	opt.kubeconfig = path_of("e.yaml");
	load_fails(&opt, "no current-context; use --context");
	put("e.yaml",
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {insecure-skip-tls-verify: true}}]\n"
	    "contexts: [{name: x, context: {cluster: c}}]\n",
	    0600);
	load_fails(&opt, "cluster 'c': no server");
	put("e.yaml",
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {server: 'ftp://h'}}]\n"
	    "contexts: [{name: x, context: {cluster: c}}]\n",
	    0600);
	load_fails(&opt, "is not an http or https URL");
	put("e.yaml",
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {username: admin, password: secret}}]\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
	    0600);
	load_fails(&opt, "basic authentication (username/password) is not supported");
	put("e.yaml",
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {auth-provider: {name: oidc}}}]\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
	    0600);
	load_fails(&opt, "auth-provider 'oidc' is not supported");
	put("e.yaml", "clusters: {c: 1}\n", 0600);
	load_fails(&opt, "'clusters' must be a list");
	put("e.yaml", "clusters: [\n", 0600);
	load_fails(&opt, "invalid YAML");
	put("e.yaml",
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {tokenFile: no-such-token}}]\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
	    0600);
	load_fails(&opt, "no-such-token");
}

static void test_token_file(void **state)
{
	ws_kubeconfig_options opt = {0};
	ws_kube_conn c;
	ws_err err;

	(void)state;
	put("tok", "first-token\n", 0600);
	put("t.yaml",
	    "current-context: x\n"
	    "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
	    "users: [{name: u, user: {tokenFile: tok, token: ignored}}]\n"
	    "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
	    0600);
	opt.kubeconfig = path_of("t.yaml");
	load_ok(&c, &opt);
	assert_string_equal(c.target.bearer, "first-token");
	assert_non_null(c.target.refresh);
	assert_int_equal(c.target.refresh(c.target.refresh_ctx, &c.target, &err), 0);
	assert_string_equal(c.target.bearer, "first-token");
	/* Rotated: picked up by the next refresh. */
	put("tok.new", "second-token", 0600);
	assert_int_equal(rename(path_of("tok.new"), path_of("tok")), 0);
	assert_int_equal(c.target.refresh(c.target.refresh_ctx, &c.target, &err), 0);
	assert_string_equal(c.target.bearer, "second-token");
	/* Gone: the last good token stays. */
	unlink(path_of("tok"));
	assert_int_equal(c.target.refresh(c.target.refresh_ctx, &c.target, &err), 0);
	assert_string_equal(c.target.bearer, "second-token");
	assert_int_equal(ws_kube_conn_reauth(&c), 1);
	ws_kube_conn_release(&c);
}

/* An exec plugin: counts its runs, records its env, prints `out`. */
static void write_plugin(const char *name, const char *out, int status)
{
	char text[8192];

	snprintf(text, sizeof(text),
		 "#!/bin/sh\n"
		 "d='%s'\n"
		 "echo run >> \"$d/runs\"\n"
		 "printf '%%s' \"$KUBERNETES_EXEC_INFO\" > \"$d/exec-info\"\n"
		 "printf '%%s|%%s|%%s' \"$PLUGIN_MODE\" \"$1\" \"$2\" > \"$d/exec-env\"\n"
		 "cat <<'EOF'\n%s\nEOF\n"
		 "exit %d\n",
		 dir, out, status);
	put(name, text, 0755);
}

static int runs(void)
{
	const char *s = slurp("runs");
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static void exec_config(const char *command, const char *mode, const char *extra)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "current-context: x\n"
		 "clusters:\n"
		 "- name: c\n"
		 "  cluster:\n"
		 "    server: 'https://h:6443'\n"
		 "    extensions:\n"
		 "    - name: client.authentication.k8s.io/exec\n"
		 "      extension: {audience: workspace}\n"
		 "users:\n"
		 "- name: u\n"
		 "  user:\n"
		 "    exec:\n"
		 "      apiVersion: client.authentication.k8s.io/v1\n"
		 "      command: %s\n"
		 "      args: [--flag, 'two words']\n"
		 "      env: [{name: PLUGIN_MODE, value: test}]\n"
		 "      installHint: 'install it with: apt install the-plugin'\n"
		 "%s%s%s%s"
		 "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
		 command, mode ? "      interactiveMode: " : "", mode ? mode : "",
		 mode ? "\n" : "", extra ? extra : "");
	put("x.yaml", text, 0600);
}

static char *timestamp(long from_now)
{
	static char buf[64];
	time_t t = time(NULL) + from_now;

	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	return buf;
}

static void test_exec_token_cached(void **state)
{
	ws_kubeconfig_options opt = {0};
	ws_kube_conn c;
	ws_err err;
	char out[512];
	const char *info;

	(void)state;
	unlink(path_of("runs"));
	snprintf(out, sizeof(out),
		 "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
		 "\"status\":{\"token\":\"exec-token\",\"expirationTimestamp\":\"%s\"}}",
		 timestamp(3600));
	write_plugin("sub/plugin", out, 0);
	/* Relative to the kubeconfig, as it contains a '/'. */
	exec_config("./sub/plugin", "Never", "      provideClusterInfo: true\n");
	opt.kubeconfig = path_of("x.yaml");
	load_ok(&c, &opt);
	/* Lazy: nothing runs before the first request. */
	assert_int_equal(runs(), 0);
	assert_null(c.target.bearer);
	if (c.target.refresh(c.target.refresh_ctx, &c.target, &err))
		fail_msg("refresh: %s", err.msg);
	assert_string_equal(c.target.bearer, "exec-token");
	assert_int_equal(runs(), 1);
	/* Cached until it expires. */
	assert_int_equal(c.target.refresh(c.target.refresh_ctx, &c.target, &err), 0);
	assert_int_equal(runs(), 1);
	/* A 401 drops the cache. */
	assert_int_equal(ws_kube_conn_reauth(&c), 1);
	assert_int_equal(c.target.refresh(c.target.refresh_ctx, &c.target, &err), 0);
	assert_int_equal(runs(), 2);
	/* What the plugin saw. */
	assert_string_equal(slurp("exec-env"), "test|--flag|two words");
	info = slurp("exec-info");
	assert_non_null(strstr(info, "\"apiVersion\":\"client.authentication.k8s.io/v1\""));
	assert_non_null(strstr(info, "\"kind\":\"ExecCredential\""));
	assert_non_null(strstr(info, "\"interactive\":false"));
	assert_non_null(strstr(info, "\"server\":\"https://h:6443\""));
	assert_non_null(strstr(info, "\"config\":{\"audience\":\"workspace\"}"));
	ws_kube_conn_release(&c);
}

static void test_exec_expiry_and_cert(void **state)
{
	ws_kubeconfig_options opt = {0};
	ws_kube_conn c;
	ws_err err;
	char out[1024];

	(void)state;
	unlink(path_of("runs"));
	/* Already expired: run again before every attempt. Offsets parse. */
	snprintf(out, sizeof(out),
		 "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
		 "\"status\":{\"clientCertificateData\":\"-----BEGIN CERTIFICATE-----\\nX\\n\","
		 "\"clientKeyData\":\"-----BEGIN PRIVATE KEY-----\\nY\\n\","
		 "\"expirationTimestamp\":\"2020-01-01T01:00:00.123+01:00\"}}");
	write_plugin("plugin", out, 0);
	exec_config(path_of("plugin"), "IfAvailable", NULL);
	opt.kubeconfig = path_of("x.yaml");
	load_ok(&c, &opt);
	assert_int_equal(c.target.refresh(c.target.refresh_ctx, &c.target, &err), 0);
	assert_int_equal(c.target.refresh(c.target.refresh_ctx, &c.target, &err), 0);
	assert_int_equal(runs(), 2);
	assert_null(c.target.bearer);
	assert_memory_equal(c.target.cert_pem, "-----BEGIN CERTIFICATE-----\nX\n", c.target.cert_len);
	assert_memory_equal(c.target.key_pem, "-----BEGIN PRIVATE KEY-----\nY\n", c.target.key_len);
	/* IfAvailable without a terminal: not interactive. */
	assert_non_null(strstr(slurp("exec-info"), "\"interactive\":false"));
	ws_kube_conn_release(&c);
}

static void exec_fails(const char *plugin_out, int status, const char *mode, const char *needle)
{
	ws_kubeconfig_options opt = {0};
	ws_kube_conn c;
	ws_err err;

	write_plugin("plugin", plugin_out, status);
	exec_config(path_of("plugin"), mode, NULL);
	opt.kubeconfig = path_of("x.yaml");
	load_ok(&c, &opt);
	ws_err_clear(&err);
	assert_int_equal(c.target.refresh(c.target.refresh_ctx, &c.target, &err), -1);
	if (!strstr(err.msg, needle))
		fail_msg("error '%s' does not contain '%s'", err.msg, needle);
	/* The output may hold a token: never in the message. */
	assert_null(strstr(err.msg, "sekrit"));
	ws_kube_conn_release(&c);
}

static void test_exec_failures(void **state)
{
	ws_kubeconfig_options opt = {0};

	(void)state;
	exec_fails("this is not json sekrit", 0, "Never", "printed no ExecCredential");
	exec_fails("{\"kind\":\"Other\",\"status\":{\"token\":\"sekrit\"}}", 0, "Never",
		   "printed no ExecCredential (kind 'Other')");
	exec_fails("{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
		   "\"status\":{\"token\":\"sekrit\"}}",
		   0, "Never", "answered with apiVersion 'client.authentication.k8s.io/v1beta1'");
	exec_fails("{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
		   "\"status\":{}}",
		   0, "Never", "neither a token nor a client certificate");
	exec_fails("{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
		   "\"status\":{\"token\":\"sekrit\",\"expirationTimestamp\":\"tomorrow\"}}",
		   0, "Never", "bad expirationTimestamp 'tomorrow'");
	exec_fails("{}", 3, "Never", "failed with exit status 3");
	exec_fails("{}", 0, "Always", "needs a terminal (interactiveMode Always)");

	/* Not installed: the install hint is shown. */
	exec_config(path_of("not-installed"), "Never", NULL);
	{
		ws_kube_conn c;
		ws_err err;

		opt.kubeconfig = path_of("x.yaml");
		load_ok(&c, &opt);
		assert_int_equal(c.target.refresh(c.target.refresh_ctx, &c.target, &err), -1);
		assert_non_null(strstr(err.msg, "cannot run exec plugin"));
		assert_non_null(strstr(err.msg, "No such file or directory"));
		assert_non_null(strstr(err.msg, "install it with: apt install the-plugin"));
		ws_kube_conn_release(&c);
	}
	/* Config errors are found at load time. */
	exec_config(path_of("plugin"), NULL, NULL);
	opt.kubeconfig = path_of("x.yaml");
	load_fails(&opt, "interactiveMode must be set");
	exec_config(path_of("plugin"), "Sometimes", NULL);
	load_fails(&opt, "interactiveMode 'Sometimes'");
}

static void test_in_cluster(void **state)
{
	ws_kube_conn c;
	ws_err err;

	(void)state;
	assert_int_equal(mkdir(path_of("sa"), 0755), 0);
	put("sa/token", "sa-token\n", 0600);
	put("sa/ca.crt", "CLUSTER-CA", 0644);
	put("sa/namespace", "workspace-system\n", 0644);
	setenv("WS_INCLUSTER_DIR", path_of("sa"), 1);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	load_ok(&c, NULL);
	assert_string_equal(c.source, "in-cluster");
	assert_string_equal(c.context, "");
	assert_string_equal(c.target.base_url, "https://10.96.0.1:443");
	assert_string_equal(c.namespace, "workspace-system");
	assert_string_equal(c.target.bearer, "sa-token");
	assert_memory_equal(c.target.ca_pem, "CLUSTER-CA", 10);
	/* The projected token rotates. */
	put("sa/token.new", "rotated", 0600);
	assert_int_equal(rename(path_of("sa/token.new"), path_of("sa/token")), 0);
	assert_int_equal(c.target.refresh(c.target.refresh_ctx, &c.target, &err), 0);
	assert_string_equal(c.target.bearer, "rotated");
	ws_kube_conn_release(&c);

	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	unlink(path_of("sa/namespace"));
	load_ok(&c, NULL);
	assert_string_equal(c.target.base_url, "https://[fd00::1]:443");
	assert_string_equal(c.namespace, "default");
	ws_kube_conn_release(&c);

	unlink(path_of("sa/token"));
	{
		ws_kubeconfig_options opt = {0};

		load_fails(&opt, "in-cluster configuration");
	}
	unsetenv("WS_INCLUSTER_DIR");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_first_wins),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_relative_paths_and_tls),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_token_file),
		cmocka_unit_test(test_exec_token_cached),
		cmocka_unit_test(test_exec_expiry_and_cert),
		cmocka_unit_test(test_exec_failures),
		cmocka_unit_test(test_in_cluster),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
