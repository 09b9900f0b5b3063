/* naming.h - every naming rule of the product, in one place (DESIGN §3).
 *
 * workspace id  ws-<slug>-<NNN>  (also the Flyte project id)
 * namespace     rendered from a template, default "flyte-{{ project }}"
 * derived names quota, roles, bindings, runner service account, bucket, ...
 * GCP identity  the runner's GCP service account id (GKE Workload Identity)
 *
 * Nothing else in the code base builds one of these names by hand. All
 * functions are pure; output buffers are caller-owned and sized with
 * WS_NAME_BUF (every name here is at most 63 characters) unless noted.
 */
#ifndef WS_NAMING_H
#define WS_NAMING_H

#include <stddef.h>

#include "error.h"

#define WS_DNS_LABEL_MAX 63
#define WS_DNS_SUBDOMAIN_MAX 253
#define WS_NAME_BUF 64     /* fits any DNS label + NUL */
#define WS_LONG_NAME_BUF 254 /* fits any DNS subdomain + NUL */
#define WS_SEQ_MAX 999
#define WS_GCP_SA_MIN 6
#define WS_GCP_SA_MAX 30
#define WS_DEFAULT_NS_TEMPLATE "flyte-{{ project }}"

/* ---- slug and workspace id ------------------------------------------ */

/* Turn a human name into a slug: lower case, Latin/Greek/Cyrillic letters
 * transliterated to ASCII, full-width ASCII forms mapped to ASCII, combining
 * marks (U+0300..U+036F) dropped, every run of other characters turned into
 * one '-', trimmed of '-', then cut to at most max_len characters (never
 * ending in '-'). Fails with a reason when name is not valid UTF-8, when
 * max_len is 0, or when nothing usable is left. */
int ws_slugify(const char *name, size_t max_len, char *out, size_t outsz, ws_err *err);

/* 1 when s is a well-formed slug: [a-z0-9]+(-[a-z0-9]+)* */
int ws_slug_valid(const char *s);

/* "ws-<slug>-<NNN>"; fails when seq is outside 1..999 or the id exceeds 63. */
int ws_id_format(const char *slug, unsigned seq, char out[WS_NAME_BUF], ws_err *err);

/* Split an id into slug and sequence; fails with a reason saying the
 * expected form ("ws-<slug>-<NNN>") when id is not a workspace id. */
int ws_id_parse(const char *id, char slug[WS_NAME_BUF], unsigned *seq, ws_err *err);

/* ---- namespace template --------------------------------------------- */

/* A parsed namespace template: literal text around "{{ project }}" and an
 * optional "{{ domain }}" (spaces inside the braces optional). */
typedef struct ws_ns_template {
	char text[128];
	char lit[3][64];     /* before, between, after the placeholders */
	int has_domain;
	int domain_first;    /* "{{ domain }}" comes before "{{ project }}" */
} ws_ns_template;

int ws_ns_template_parse(ws_ns_template *t, const char *text, ws_err *err);

/* Render the namespace for a project (and domain when the template has
 * one; domain is ignored otherwise). Fails if the result is not a DNS label. */
int ws_ns_render(const ws_ns_template *t, const char *project, const char *domain,
		 char out[WS_NAME_BUF], ws_err *err);

enum ws_ns_kind {
	WS_NS_OTHER = 0,   /* not a workspace namespace at all */
	WS_NS_WORKSPACE,   /* a valid workspace namespace; id (and domain) filled */
	WS_NS_MALFORMED    /* in the workspace pattern but invalid; why filled */
};

/* Classify a namespace name against the template. A name is in the
 * workspace pattern when the template's literal text matches around an id
 * slot that starts with "ws-", whatever stands in the domain's place (so
 * "flyte-ws-demo-001-qa" and "flyte-ws-demo-001" are in the pattern of
 * "flyte-{{ project }}-{{ domain }}"); it is a workspace namespace only when
 * the id is valid and, for templates with "{{ domain }}", the domain is one
 * of `domains`. Otherwise it is malformed, and why says the expected form
 * (with the known domains). id and domain may be NULL. */
enum ws_ns_kind ws_ns_classify(const ws_ns_template *t, const char *const *domains,
			       size_t ndomains, const char *ns, char id[WS_NAME_BUF],
			       char domain[WS_NAME_BUF], ws_err *why);

/* The longest slug for which every derived name stays valid: the namespace
 * for the longest domain, the bucket, the Flyte project id. 0 when the
 * template leaves no room for an id at all. */
size_t ws_slug_max(const ws_ns_template *t, const char *const *domains, size_t ndomains);

/* ws_slug_max into *max, failing with a reason that names the template (and
 * its longest domain) when that is 0. */
int ws_slug_room(const ws_ns_template *t, const char *const *domains, size_t ndomains,
		 size_t *max, ws_err *err);

/* ---- users and derived names ---------------------------------------- */

/* A safe name part for a free-text user id (often an e-mail address):
 * "Alice.Smith@Company.com" -> "alice-smith-company-com" (max 63). */
int ws_user_part(const char *user, char out[WS_NAME_BUF], ws_err *err);

enum ws_name_kind {
	WS_NAME_RECORD,     /* <id>              workspace record ConfigMap */
	WS_NAME_QUOTA,      /* <id>-quota */
	WS_NAME_ROLE,       /* <id>-<user>-role */
	WS_NAME_BINDING,    /* <id>-<user>-binding */
	WS_NAME_RUNNER_SA,  /* flyte-<id>-runner */
	WS_NAME_BUCKET,     /* <id>-data */
	WS_NAME_NETPOL      /* <id>-isolation */
};

/* Build a derived name; user_part (from ws_user_part) is needed for roles
 * and bindings only. out must hold WS_LONG_NAME_BUF bytes. */
int ws_name(enum ws_name_kind kind, const char *id, const char *user_part,
	    char out[WS_LONG_NAME_BUF], ws_err *err);

/* ---- GCP service account ------------------------------------------- */

/* The runner's GCP service account id (the part before '@', 6-30 of
 * [a-z0-9-], starting with a letter, not ending in '-') for a workspace id:
 * the id itself when it has at most 30 characters, else its first 21
 * characters (trailing '-' dropped), '-' and 8 hex digits of a 32-bit FNV-1a
 * hash of the whole id: "ws-customer-segmentation-analysis-001" ->
 * "ws-customer-segmentat-<hash>". Fails when the result is not valid. */
int ws_gcp_sa_id(const char *id, char out[WS_NAME_BUF], ws_err *err);

/* 0 when s is a valid GCP service account id, else -1 with the rule. */
int ws_check_gcp_sa_id(const char *s, ws_err *err);

/* ---- validators (Kubernetes and Flyte rules) ------------------------ */

/* 0 when s is valid UTF-8 (RFC 3629), else -1 with "<what> is not valid
 * UTF-8 (byte 0x.. at offset N)"; the message never quotes s. */
int ws_check_utf8(const char *s, const char *what, ws_err *err);

/* `what` names the thing in the message ("namespace", "label value"). */
int ws_check_dns_label(const char *s, const char *what, ws_err *err);
int ws_check_dns_subdomain(const char *s, const char *what, ws_err *err);
int ws_check_label_key(const char *s, ws_err *err);
int ws_check_label_value(const char *s, ws_err *err);
/* Also refuses input that is not valid UTF-8. */
int ws_check_email(const char *s, ws_err *err);

#endif
