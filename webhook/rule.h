/* rule.h - what the per-kind rule modules (rule_*.c) share: the request
 * context they are given and the helpers that record a denial, a warning
 * or a patch in the decision. Internal to the webhook; see rules.h.
 */
#ifndef WH_RULE_H
#define WH_RULE_H

#include <cjson/cJSON.h>

#include "naming.h"
#include "rules.h"

typedef struct wh_ctx {
	const ws_platform *p;
	const ws_admission_request *req;
	enum wh_mode mode;
} wh_ctx;

/* One handler per guarded kind; called only for the operations it guards. */
void wh_rule_namespace(const wh_ctx *c, wh_decision *d);
void wh_rule_pod(const wh_ctx *c, wh_decision *d);
void wh_rule_flyteworkflow(const wh_ctx *c, wh_decision *d);
void wh_rule_quota(const wh_ctx *c, wh_decision *d);

/* Deny with response.status {code, reason, message}. The first denial wins. */
void wh_deny(wh_decision *d, int code, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Add a warning (dropped past WH_WARN_MAX). */
void wh_warn(wh_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Patch map `current` (the object's map at tokens, NULL when absent) so
 * that it holds every member of `want`, recording for /validate what is
 * missing (`what` names the map in messages: "label", "annotation") and a
 * warning for every existing value that is replaced. Borrows want. */
void wh_put_map(wh_decision *d, const cJSON *current, const char *const *tokens, size_t n,
		const cJSON *want, const char *what);
/* Append one patch operation (takes value) and record for /validate what
 * it adds ("container 'main' has no FLYTE_DEFAULT_PROJECT"). */
void wh_patch_add(wh_decision *d, const char *const *tokens, size_t n, cJSON *value,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Classify a namespace name against the platform's template (naming.h). */
enum ws_ns_kind wh_classify(const ws_platform *p, const char *ns, char id[WS_NAME_BUF],
			    char domain[WS_NAME_BUF], ws_err *why);

/* The string value of a map member, or NULL (map may be NULL or not a map). */
const char *wh_map_str(const cJSON *map, const char *key);

/* An UPDATE's tenant label `key` (labels and old_labels: the maps, either
 * may be NULL): refuses (403) its removal or change, naming the object
 * ("<kind> '<name>'"), each message ending in `via` (", also not through
 * pods/status", or ""). Returns the label's new value when the update
 * adds it (the caller checks the value), else NULL. */
const char *wh_keep_label(wh_decision *d, const cJSON *labels, const cJSON *old_labels,
			  const char *key, const char *kind, const char *name, const char *via);

#endif
