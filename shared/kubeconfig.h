/* kubeconfig.h - how to reach the Kubernetes API server, as kubectl does:
 *
 * - --kubeconfig FILE: that file alone; else KUBECONFIG (':'-separated files,
 *   merged, first value wins for every map entry and field); else
 *   ~/.kube/config; else in-cluster (KUBERNETES_SERVICE_HOST/PORT and
 *   /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace}).
 * - --context NAME picks the context, else current-context.
 * - Cluster: server, certificate-authority(-data), insecure-skip-tls-verify,
 *   tls-server-name, proxy-url. User: token, tokenFile (re-read when it
 *   changes), client-certificate(-data), client-key(-data), exec
 *   (client.authentication.k8s.io/v1 ExecCredential; KUBERNETES_EXEC_INFO
 *   in; status.token or clientCertificateData/clientKeyData and
 *   expirationTimestamp out; cached until expiry; interactiveMode honoured;
 *   stdout capped), username/password (basic) rejected with a reason.
 *
 * Relative file paths resolve against the directory of the kubeconfig file
 * that named them. Every secret is read into memory and handed to the HTTP
 * target; none is printed, logged or put on a command line.
 *
 * Exec plugins run lazily (through the target's refresh hook, before the
 * first request), directly with fork/execvp (never a shell), with the
 * config's env, KUBERNETES_EXEC_INFO, stdin a terminal only when
 * interactiveMode allows it, stderr passed through, stdout capped at 1 MiB
 * and a timeout (60 s; 300 s when interactive). A tokenFile (also the
 * in-cluster token) is re-read when the file changes.
 *
 * WS_INCLUSTER_DIR (for tests) replaces the service account directory
 * /var/run/secrets/kubernetes.io/serviceaccount of the in-cluster config.
 */
#ifndef WS_KUBECONFIG_H
#define WS_KUBECONFIG_H

#include "error.h"
#include "http.h"

typedef struct ws_kubeconfig_options {
	const char *kubeconfig; /* --kubeconfig, or NULL */
	const char *context;    /* --context, or NULL */
	const char *cluster;    /* --cluster override, or NULL */
	const char *user;       /* --user override, or NULL */
	const char *server;     /* --server override, or NULL */
	const char *token;      /* --token override (kept in memory), or NULL */
	int skip_tls_verify;    /* --insecure-skip-tls-verify */
} ws_kubeconfig_options;

typedef struct ws_kube_conn {
	ws_http_target target;  /* base_url = server; TLS and credentials set */
	char *context;          /* name of the context used ("" in-cluster) */
	char *namespace;        /* context namespace, or "default" */
	char *source;           /* "kubeconfig /path", "in-cluster", for messages */
	void *exec;             /* refresh state (exec plugin, tokenFile; private), or NULL */
} ws_kube_conn;

/* Resolve the connection; errors name the file and field at fault
 * ("kubeconfig /x: context 'foo' not found", "no configuration: set
 * KUBECONFIG or use --kubeconfig"). */
int ws_kubeconfig_load(ws_kube_conn *c, const ws_kubeconfig_options *opt, ws_err *err);

/* Call each(ctx, name) for every context name in the files
 * ws_kubeconfig_load would read, each name once, in file order (for shell
 * completion). Nothing when they cannot be read. */
void ws_kubeconfig_contexts(const ws_kubeconfig_options *opt,
			    void (*each)(void *ctx, const char *name), void *ctx);
void ws_kube_conn_release(ws_kube_conn *c);

/* After a 401: drop cached credentials (exec plugin output, token file
 * contents) so that the next attempt fetches fresh ones. Returns 1 when
 * there was something to refresh (a retry may help), else 0. */
int ws_kube_conn_reauth(ws_kube_conn *c);

#endif
