/* execcred.h - exec credential plugins (client.authentication.k8s.io/v1 and
 * v1beta1 ExecCredential), as kubectl runs them for a kubeconfig user's
 * `exec` map.
 *
 * The plugin is started with posix_spawnp (no shell; a bare command name is
 * looked up on PATH) with an explicit environment: ours, then the config's
 * env (replacing variables of the same name), then KUBERNETES_EXEC_INFO.
 * Its standard output (capped at 1 MiB, 60 s; 300 s when interactive) must
 * be an ExecCredential; a token or client certificate from it is put on an
 * HTTP target. Secrets it returns are wiped when replaced or released.
 */
#ifndef WS_EXECCRED_H
#define WS_EXECCRED_H

#include <cjson/cJSON.h>

#include "error.h"
#include "http.h"

typedef struct ws_execcred ws_execcred;

/* Parse a kubeconfig user's `exec` map x. dir: the kubeconfig's directory (a
 * relative command with a '/' is relative to it); where: message prefix
 * ("kubeconfig /x: user 'u'"). 0 and *out (the caller frees it with
 * ws_execcred_free), or -1 with err. */
int ws_execcred_parse(const cJSON *x, const char *dir, const char *where, ws_execcred **out,
		      ws_err *err);
/* 1 when the map asked for provideClusterInfo: then give the cluster's
 * spec.cluster JSON text to ws_execcred_set_cluster (which owns it after). */
int ws_execcred_wants_cluster(const ws_execcred *e);
void ws_execcred_set_cluster(ws_execcred *e, char *cluster_json);

/* 1 while the last credentials are good (run once and not expired). */
int ws_execcred_valid(const ws_execcred *e);
/* Run the plugin and store its credentials on t (bearer, or client cert
 * and key). -1 with err naming the plugin; t keeps what it had. */
int ws_execcred_run(ws_execcred *e, ws_http_target *t, ws_err *err);

void ws_execcred_free(ws_execcred *e);

#endif
