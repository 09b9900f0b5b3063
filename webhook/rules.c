/* rules.c - dispatch of an admission request to the rule of its kind, and
 * the decision helpers the rules share (see rules.h, rule.h). */
#include "rule.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

#define OP(o) (1u << (o))

/* Which requests each rule sees: operations on the object itself, and the
 * subresources (all on UPDATE) whose strategy keeps what the rule guards:
 * namespaces/status, namespaces/finalize, pods/status and
 * resourcequotas/status keep metadata changes (labels), pods/ephemeralcontainers
 * adds containers, resourcequotas/status sets the status.hard that quota
 * admission enforces. Other subresources (binding, eviction, ...) are
 * allowed unchanged. */
static const struct {
	const char *group;
	const char *kind;
	enum wh_kind k;
	unsigned ops;
	const char *subs[3];
	void (*fn)(const wh_ctx *, wh_decision *);
} table[] = {
	{"", "Namespace", WH_KIND_NAMESPACE, OP(WS_ADM_CREATE) | OP(WS_ADM_UPDATE),
	 {"status", "finalize", NULL}, wh_rule_namespace},
	{"", "Pod", WH_KIND_POD, OP(WS_ADM_CREATE) | OP(WS_ADM_UPDATE), {"ephemeralcontainers", "status", NULL},
	 wh_rule_pod},
	{"flyte.lyft.com", "FlyteWorkflow", WH_KIND_FLYTEWORKFLOW, OP(WS_ADM_CREATE) | OP(WS_ADM_UPDATE), {NULL},
	 wh_rule_flyteworkflow},
	{"", "ResourceQuota", WH_KIND_RESOURCEQUOTA,
	 OP(WS_ADM_CREATE) | OP(WS_ADM_UPDATE) | OP(WS_ADM_DELETE), {"status", NULL}, wh_rule_quota},
};

static int guarded_sub(const char *const *subs, const char *sub)
{
	size_t i;

	for (i = 0; i < 3 && subs[i]; i++)
		if (strcmp(subs[i], sub) == 0)
			return 1;
	return 0;
}

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

/* s for a message: itself when at most max characters, else cut at the last
 * token boundary (',', ' ', ';') that leaves room for "...", which is
 * appended (a quota summary is cut between two of its resources). */
static const char *clip_value(const char *s, size_t max, char *out, size_t outsz)
{
	size_t len = strlen(s), cut, i;

	if (max >= outsz)
		max = outsz - 1;
	if (len <= max || max < 4) {
		snprintf(out, max + 1, "%s", s);
		return out;
	}
	/* the last whole token that leaves room for "..." */
	cut = max - 3;
	for (i = cut; i > 0; i--)
		if (s[i] == ',' || s[i] == ' ' || s[i] == ';')
			break;
	if (i > 0)
		cut = i;
	memcpy(out, s, cut);
	memcpy(out + cut, "...", 4);
	return out;
}

/* "<what> '<key>' set to '<value>' (was '<old>')", the old value cut at a
 * token boundary so that the whole warning fits in WH_WARN_LEN. */
static void warn_replaced(wh_decision *d, const char *what, const char *key, const char *value,
			  const char *was)
{
	char head[WH_WARN_LEN], old[WH_WARN_LEN];
	int n = snprintf(head, sizeof(head), "%s '%s' set to '%s' (was '", what, key, value);
	size_t room = n > 0 && (size_t)n + 2 < WH_WARN_LEN - 1 ? WH_WARN_LEN - 1 - (size_t)n - 2 : 0;

	wh_warn(d, "%s%s')", head, clip_value(was, room, old, sizeof(old)));
}

/* A patch that outgrew its cap is the object's doing (thousands of
 * containers, say): a 413 the user can act on, not an internal error. */
static void patch_failed(wh_decision *d, const ws_err *err)
{
	if (err->kind == WS_E_INVALID)
		wh_deny(d, 413, "RequestEntityTooLarge",
			"the webhook's changes to this object would make a JSON patch over %zu MiB "
			"(too many containers or entries to mutate)",
			WS_PATCH_MAX >> 20);
	else
		wh_deny(d, 500, "InternalError", "internal error: %s", err->msg);
}

void wh_put_map(wh_decision *d, const cJSON *current, const char *const *tokens, size_t n,
		const cJSON *want, const char *what)
{
	const cJSON *w;
	const char *was;
	char clip[168];
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
		was = cJSON_IsString(have) ? have->valuestring : "(not a string)";
		need_f(d, "%s '%s' is '%s' instead of '%s'", what, w->string,
		       clip_value(was, 160, clip, sizeof(clip)), w->valuestring);
		warn_replaced(d, what, w->string, w->valuestring, was);
	}
	if (ws_patch_put_keys(&d->patch, current, tokens, n, want, &err))
		patch_failed(d, &err);
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
		patch_failed(d, &err);
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

const char *wh_keep_label(wh_decision *d, const cJSON *labels, const cJSON *old_labels,
			  const char *key, const char *kind, const char *name, const char *via)
{
	const char *v = wh_map_str(labels, key), *was = wh_map_str(old_labels, key);

	if (!was)
		return v;
	if (!v)
		wh_deny(d, 403, "Forbidden", "tenant label '%s' of %s '%s' cannot be removed (it is "
			"'%.63s')%s", key, kind, name, was, via);
	else if (strcmp(v, was) != 0)
		wh_deny(d, 403, "Forbidden", "tenant label '%s' of %s '%s' cannot be changed from "
			"'%.63s' to '%.63s'%s", key, kind, name, was, v, via);
	return NULL;
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
	if (*req->sub_resource ? req->op != WS_ADM_UPDATE || !guarded_sub(table[i].subs, req->sub_resource)
			       : !(table[i].ops & OP(req->op)))
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

int wh_reply_encode(const ws_admission_request *req, const wh_decision *d, ws_buf *out,
		    ws_err *err)
{
	const char *warnings[WH_WARN_MAX];
	ws_admission_reply rep = {0};
	size_t i;

	for (i = 0; i < d->nwarnings; i++)
		warnings[i] = d->warnings[i];
	rep.uid = req->uid;
	rep.allowed = d->outcome != WH_DENIED;
	rep.code = d->code;
	rep.reason = d->reason;
	rep.message = d->message;
	rep.patch = d->outcome == WH_PATCHED ? ws_patch_text(&d->patch) : NULL;
	rep.warnings = warnings;
	rep.nwarnings = d->nwarnings;
	return ws_admission_encode(&rep, out, err);
}
