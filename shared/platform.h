/* platform.h - the operator's platform settings: where records live, the
 * namespace template (which must equal flyteadmin's namespace_mapping
 * template), domains, Flyte endpoint and console, cloud identity for the
 * runner service account, network policy, tiers, quota managers.
 *
 * Defaults are built in; an operator overrides any of them once, in the
 * ConfigMap `workspace-platform` (key `platform.yaml`) of the system
 * namespace, or in a file given with --platform-config:
 *
 *   namespaceTemplate: "flyte-{{ project }}"
 *   domains: [development, staging, production]
 *   flyte: {endpoint: "https://flyte.example.com", consoleUrl: "...", namespace: flyte,
 *           caCertFile: /etc/ssl/flyte-ca.pem}
 *   cloud: {provider: aws, accountId: "123456789012"}
 *   network: {allowNamespaces: [flyte]}
 *   tiers: {standard: {requests.cpu: "20", ...}}
 *   defaultTier: standard
 *   quotaManagers: ["group:system:masters", "group:kubeadm:cluster-admins",
 *                   "system:serviceaccount:workspace-system:workspace-controller"]
 *
 * A ws_platform owns every member; ws_platform_release frees them.
 */
#ifndef WS_PLATFORM_H
#define WS_PLATFORM_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"
#include "naming.h"
#include "tiers.h"

#define WS_PLATFORM_CONFIGMAP "workspace-platform"
#define WS_PLATFORM_KEY "platform.yaml"
#define WS_DEFAULT_SYSTEM_NS "workspace-system"
#define WS_MANAGED_BY "kubectl-workspace"

typedef struct ws_strlist {
	char **items;
	size_t n;
} ws_strlist;

typedef struct ws_platform {
	char *system_namespace;      /* records and platform config live here */
	ws_ns_template ns_template;  /* default flyte-{{ project }} */
	ws_strlist domains;          /* Flyte domains the workspace needs */
	char *default_domain;        /* development */
	char *flyte_endpoint;        /* NULL when not configured */
	char *console_url;           /* NULL: derived from the endpoint */
	char *flyte_ca_file;         /* PEM file of the CA that signed Flyte Admin's
				      * certificate, as users see the path; NULL: system roots */
	char *flyte_namespace;       /* namespace flyteadmin runs in */
	char *flyteadmin_configmap;  /* its config map holding namespace_mapping */
	char *flyteadmin_config_key;
	ws_strlist allow_namespaces; /* NetworkPolicy: namespaces allowed in */
	char *cloud_provider;        /* aws | gcp */
	char *cloud_account;         /* AWS account id or GCP project id */
	char *role_annotation;       /* runner SA annotation key */
	char *role_template;         /* its value; {{ id }}, {{ account }}, {{ namespace }},
				      * {{ gsa }} (GCP service account id, ws_gcp_sa_id);
				      * on gcp the part before '@' must be a valid id */
	char *storage_scheme;        /* s3 | gs */
	char *default_tier;
	ws_tiers tiers;
	ws_strlist quota_managers;   /* user names, or "group:<name>" */
} ws_platform;

/* The built-in defaults (AWS IRSA, s3, flyte-{{ project }}, ...). */
int ws_platform_defaults(ws_platform *p, ws_err *err);
/* Overlay settings from a parsed platform.yaml; unknown keys are an error
 * (a typo must not silently fall back to a default). */
int ws_platform_apply(ws_platform *p, const cJSON *cfg, ws_err *err);
/* Overlay from YAML/JSON text, e.g. the ConfigMap's platform.yaml. */
int ws_platform_apply_text(ws_platform *p, const char *text, size_t len, const char *origin,
			   ws_err *err);
int ws_platform_load_file(ws_platform *p, const char *path, ws_err *err);
void ws_platform_release(ws_platform *p);

/* Replace {{ key }} placeholders (spaces optional) with values; unknown
 * placeholders are an error. Result is malloc'd (caller frees). */
char *ws_template_render(const char *tmpl, const char *const *keys, const char *const *values,
			 size_t n, ws_err *err);

/* Console URL of a project's executions in a domain (malloc'd), or NULL
 * when neither console nor endpoint is known. */
char *ws_platform_console_url(const ws_platform *p, const char *project, const char *domain);

void ws_strlist_release(ws_strlist *l);
/* Append a copy of s; -1 when out of memory (the list is unchanged). */
int ws_strlist_add(ws_strlist *l, const char *s);
int ws_strlist_has(const ws_strlist *l, const char *s);

#endif
