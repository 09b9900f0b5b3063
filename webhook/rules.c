/* rules.c - dispatch of an admission request to the rule of its kind, and
 * the decision helpers the rules share (see rules.h, rule.h). */
#include "rule.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

#define OP(o) (1u << (o))

static const struct {
	const char *group;
	const char *kind;
	enum wh_kind k;
	unsigned ops;
	void (*fn)(const wh_ctx *, wh_decision *);
} table[] = {
	{"", "Namespace", WH_KIND_NAMESPACE, OP(WS_ADM_CREATE) | OP(WS_ADM_UPDATE), wh_rule_namespace},
	{"", "Pod", WH_KIND_POD, OP(WS_ADM_CREATE), wh_rule_pod},
	{"flyte.lyft.com", "FlyteWorkflow", WH_KIND_FLYTEWORKFLOW, OP(WS_ADM_CREATE),
	 wh_rule_flyteworkflow},
	{"", "ResourceQuota", WH_KIND_RESOURCEQUOTA,
	 OP(WS_ADM_CREATE) | OP(WS_ADM_UPDATE) | OP(WS_ADM_DELETE), wh_rule_quota},
};

const char *wh_kind_name(enum wh_kind k)
{
	static const char *const names[WH_KIND_COUNT] = {"Namespace", "Pod", "FlyteWorkflow",
							 "ResourceQuota", "other"};

	return k < WH_KIND_COUNT ? names[k] : "other";
}

const char *wh_outcome_name(enum wh_outcome o)
{
	static const char *const names[WH_OUTCOME_COUNT] = {"allowed", "patched", "denied"};

	return o < WH_OUTCOME_COUNT ? names[o] : "denied";
}

void wh_deny(wh_decision *d, int code, const char *reason, const char *fmt, ...)
{
	va_list ap;

	if (d->outcome == WH_DENIED)
		return;
	d->outcome = WH_DENIED;
	d->code = code;
	d->reason = reason;
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
}

void wh_warn(wh_decision *d, const char *fmt, ...)
{
	va_list ap;

	if (d->nwarnings >= WH_WARN_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(d->warnings[d->nwarnings++], WH_WARN_LEN, fmt, ap);
	va_end(ap);
}

/* Remember the first thing the patch adds: /validate refuses with it. */
static void need(wh_decision *d, const char *fmt, va_list ap)
{
	if (d->outcome != WH_DENIED && !d->message[0])
		vsnprintf(d->message, sizeof(d->message), fmt, ap);
}

static void need_f(wh_decision *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void need_f(wh_decision *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	need(d, fmt, ap);
	va_end(ap);
}

void wh_put_map(wh_decision *d, const cJSON *current, const char *const *tokens, size_t n,
		const cJSON *want, const char *what)
{
	const cJSON *w;
	ws_err err;

	if (d->outcome == WH_DENIED)
		return;
	if (!cJSON_IsObject(current))
		current = NULL;
	cJSON_ArrayForEach(w, want) {
		const cJSON *have = ws_json_member(current, w->string);

		if (have && cJSON_Compare(have, w, 1))
			continue;
		if (!have) {
			need_f(d, "%s '%s' is missing", what, w->string);
			continue;
		}
		need_f(d, "%s '%s' is '%.63s' instead of '%s'", what, w->string,
		       cJSON_IsString(have) ? have->valuestring : "(not a string)", w->valuestring);
		wh_warn(d, "%s '%s' set to '%s' (was '%.63s')", what, w->string, w->valuestring,
			cJSON_IsString(have) ? have->valuestring : "(not a string)");
	}
	if (ws_patch_put_keys(&d->patch, current, tokens, n, want, &err))
		wh_deny(d, 500, "InternalError", "internal error: %s", err.msg);
}

void wh_patch_add(wh_decision *d, const char *const *tokens, size_t n, cJSON *value,
		  const char *fmt, ...)
{
	va_list ap;
	ws_err err;

	if (d->outcome == WH_DENIED) {
		cJSON_Delete(value);
		return;
	}
	va_start(ap, fmt);
	need(d, fmt, ap);
	va_end(ap);
	if (ws_patch_op(&d->patch, "add", tokens, n, value, &err))
		wh_deny(d, 500, "InternalError", "internal error: %s", err.msg);
}

enum ws_ns_kind wh_classify(const ws_platform *p, const char *ns, char id[WS_NAME_BUF],
			    char domain[WS_NAME_BUF], ws_err *why)
{
	if (!ns || !*ns)
		return WS_NS_OTHER;
	return ws_ns_classify(&p->ns_template, (const char *const *)p->domains.items, p->domains.n,
			      ns, id, domain, why);
}

const char *wh_map_str(const cJSON *map, const char *key)
{
	const cJSON *v = cJSON_IsObject(map) ? ws_json_member(map, key) : NULL;

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* /validate: the object lacks what /mutate would have added. */
static void refuse_unmutated(wh_decision *d)
{
	char missing[WS_ERR_MSG_MAX];

	memcpy(missing, d->message, sizeof(missing));
	wh_deny(d, 403, "Forbidden",
		"%.900s: the workspace mutating webhook adds it; check that "
		"MutatingWebhookConfiguration 'workspace-webhook' is installed",
		missing);
}

void wh_decide(const ws_platform *p, enum wh_mode mode, const ws_admission_request *req,
	       wh_decision *d)
{
	wh_ctx c = {p, req, mode};
	size_t i;

	/* not memset: the message and warning buffers are large and written before read */
	d->code = 0;
	d->reason = NULL;
	d->message[0] = '\0';
	d->nwarnings = 0;
	ws_patch_init(&d->patch);
	d->kind = WH_KIND_OTHER;
	d->outcome = WH_ALLOWED;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(req->kind, table[i].kind) == 0 && strcmp(req->group, table[i].group) == 0)
			break;
	if (i == sizeof(table) / sizeof(table[0]))
		return;
	d->kind = table[i].k;
	/* Subresources (status, finalize, binding, ...) are not the object itself. */
	if (*req->sub_resource || !(table[i].ops & OP(req->op)))
		return;
	table[i].fn(&c, d);
	if (d->outcome != WH_DENIED) {
		if (ws_patch_count(&d->patch) == 0) {
			d->message[0] = '\0';
			return;
		}
		if (mode == WH_MUTATE) {
			d->outcome = WH_PATCHED;
			return;
		}
		refuse_unmutated(d);
	}
	/* A denial carries no patch. */
	ws_patch_release(&d->patch);
	ws_patch_init(&d->patch);
}

void wh_decision_release(wh_decision *d)
{
	ws_patch_release(&d->patch);
}
