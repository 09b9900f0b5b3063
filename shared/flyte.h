/* flyte.h - Flyte Admin REST client (grpc-gateway routes, DESIGN §7).
 *
 * Errors: kind WS_E_HTTP, code = HTTP status, reason = gRPC code name
 * ("AlreadyExists" for code 6, "InvalidArgument" 3, "NotFound" 5, ...),
 * msg = the server's message. Retries as in http.h. Every cJSON tree
 * returned belongs to the caller.
 */
#ifndef WS_FLYTE_H
#define WS_FLYTE_H

#include <cjson/cJSON.h>

#include "error.h"
#include "http.h"
#include "platform.h"

typedef struct ws_flyte_options {
	const char *endpoint; /* "https://host:port", "http://...", "dns:///host:port" or
				 "host:port" (https unless plain_http) */
	int plain_http;       /* plain HTTP for an endpoint without scheme (FLYTE_PLATFORM_INSECURE);
				 a token is then sent to a loopback host only */
	const char *ca_file;  /* PEM file to trust instead of the system store, or NULL */
	const char *token_file; /* bearer token file, or NULL */
	long timeout_ms;
} ws_flyte_options;

typedef struct ws_flyte {
	ws_http_target target;
} ws_flyte;

/* Fill options from the environment where not set: FLYTE_PLATFORM_URL,
 * FLYTE_PLATFORM_INSECURE, FLYTE_PLATFORM_CA_CERT_FILE_PATH,
 * FLYTE_TOKEN_FILE. Strings point into the environment. */
void ws_flyte_options_from_env(ws_flyte_options *o);

int ws_flyte_open(ws_flyte *f, const ws_flyte_options *o, ws_err *err);
void ws_flyte_close(ws_flyte *f);

/* Prepare a request for a batch (see http.h) / run one call. body may be
 * NULL; *out (may be NULL) receives the parsed reply. */
int ws_flyte_req(ws_flyte *f, ws_http_req *r, const char *method, const char *path,
		 const cJSON *body, ws_err *err);
/* Turn a finished request into 0 + *out, or -1 + err (as described above). */
int ws_flyte_result(ws_http_req *r, cJSON **out, ws_err *err);
int ws_flyte_call(ws_flyte *f, const char *method, const char *path, const cJSON *body,
		  cJSON **out, ws_err *err);

/* Common calls. */
int ws_flyte_get_project(ws_flyte *f, const char *id, cJSON **project, ws_err *err);
/* PUT the project with state ARCHIVED (or ACTIVE). */
int ws_flyte_set_project_state(ws_flyte *f, const cJSON *project, const char *state, ws_err *err);
int ws_flyte_domains(ws_flyte *f, ws_strlist *out, ws_err *err);
/* resource_type: "WORKFLOW_EXECUTION_CONFIG", "CLUSTER_RESOURCE", ... */
int ws_flyte_get_attributes(ws_flyte *f, const char *project, const char *resource_type,
			    cJSON **attributes, ws_err *err);

#endif
