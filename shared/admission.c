/* admission.c - AdmissionReview v1 decoding and reply encoding (see admission.h). */
#include "admission.h"

#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "json.h"
#include "naming.h"


#define BAD "BadRequest"

static int bad(ws_err *err, const char *what)
{
	return ws_fail_http(err, 400, BAD, "%s", what);
}

/* obj[key] as a string: "" when absent or null (optional) or an error naming
 * request.<key> (required, or wrong type). */
static int get_str(const cJSON *obj, const char *key, const char *where, int required,
		   const char **out, ws_err *err)
{
	const cJSON *v = ws_json_member(obj, key);

	*out = "";
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return ws_fail_http(err, 400, BAD, "%s.%s is missing", where, key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return ws_fail_http(err, 400, BAD, "%s.%s must be a string", where, key);
	*out = v->valuestring;
	return 0;
}

static int get_obj(const cJSON *obj, const char *key, int required, const cJSON **out,
		   ws_err *err)
{
	const cJSON *v = ws_json_member(obj, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v)) {
		if (required)
			return ws_fail_http(err, 400, BAD, "request.%s is missing", key);
		return 0;
	}
	if (!cJSON_IsObject(v))
		return ws_fail_http(err, 400, BAD, "request.%s must be an object", key);
	*out = v;
	return 0;
}

static int check_envelope(const cJSON *root, ws_err *err)
{
	const cJSON *kind = ws_json_member(root, "kind");
	const cJSON *av = ws_json_member(root, "apiVersion");

	if (!cJSON_IsObject(root))
		return bad(err, "request body is not a JSON object: expected an AdmissionReview");
	if (!cJSON_IsString(kind))
		return bad(err, "request body has no kind: expected kind AdmissionReview");
	if (strcmp(kind->valuestring, "AdmissionReview") != 0)
		return ws_fail_http(err, 400, BAD,
				    "request body is a '%.100s', not an AdmissionReview",
				    kind->valuestring);
	if (!cJSON_IsString(av))
		return bad(err, "AdmissionReview has no apiVersion: expected admission.k8s.io/v1");
	if (strcmp(av->valuestring, "admission.k8s.io/v1") != 0)
		return ws_fail_http(err, 400, BAD,
				    "AdmissionReview apiVersion '%.100s' is not supported: register "
				    "the webhook with admissionReviewVersions: [v1]",
				    av->valuestring);
	return 0;
}

static int parse_op(const char *s, enum ws_admission_op *op, ws_err *err)
{
	static const char *const names[] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*op = (enum ws_admission_op)i;
			return 0;
		}
	}
	return ws_fail_http(err, 400, BAD,
			    "request.operation '%.40s' is not one of CREATE, UPDATE, DELETE, CONNECT", s);
}

/* ---- NUL characters ----------------------------------------------------------
 * A string with a NUL (a raw 0 byte, the escape \u0000, or a \u escape
 * with bad digits, which cJSON decodes as 0) is cut short at it in the
 * tree: "a\u0000b" reads as "a". The uid would be echoed back cut and the
 * other request fields (kind, name, namespace, user, groups) would be judged
 * by their first part, so such a review is refused. Inside object and
 * oldObject, where the strings are the object's own data (a ConfigMap value
 * may hold any character), NULs are left alone. The parser marks the nodes
 * whose key or value holds a NUL (WS_JSON_NUL_KEY, WS_JSON_NUL_VALUE). */

/* Where a node is: its parent's place and its own key or index. */
struct place {
	const struct place *up;
	const char *key;
	int index;
};

static void place_text(const struct place *p, char *out, size_t cap)
{
	char tail[160];

	if (!p) {
		snprintf(out, cap, "the review");
		return;
	}
	if (!p->up) {
		snprintf(out, cap, "%.60s", p->key);
		return;
	}
	place_text(p->up, tail, sizeof(tail));
	if (p->key)
		snprintf(out, cap, "%s.%.60s", tail, p->key);
	else
		snprintf(out, cap, "%s[%d]", tail, p->index);
}

/* The first NUL of v's tree (v at `at`) outside request.object and
 * request.oldObject: 1 and its place in path (*key when in a key). */
static int find_nul(const cJSON *v, const struct place *at, char path[160], int *key)
{
	const cJSON *c;
	int i = 0;

	if (v->type & WS_JSON_NUL_VALUE) {
		place_text(at, path, 160);
		return 1;
	}
	for (c = cJSON_IsArray(v) || cJSON_IsObject(v) ? v->child : NULL; c; c = c->next, i++) {
		struct place p = {at, cJSON_IsObject(v) ? c->string : NULL, i};

		if (c->type & WS_JSON_NUL_KEY) {
			place_text(at, path, 160);
			*key = 1;
			return 1;
		}
		/* request.object and request.oldObject hold the object's own data */
		if (at && !at->up && p.key && strcmp(at->key, "request") == 0 &&
		    (strcmp(p.key, "object") == 0 || strcmp(p.key, "oldObject") == 0))
			continue;
		if (find_nul(c, &p, path, key))
			return 1;
	}
	return 0;
}

static int check_nul(const ws_json_doc *doc, ws_err *err)
{
	char path[160] = "";
	int key = 0;

	if (!doc->nul || !find_nul(doc->root, NULL, path, &key))
		return 0;
	if (key)
		return ws_fail_http(err, 400, BAD, "%s has a key with a NUL character (\\u0000)",
				    path);
	if (strcmp(path, "request.uid") == 0)
		return bad(err, "request.uid must be a non-empty string without NUL characters "
				"(\\u0000)");
	return ws_fail_http(err, 400, BAD, "%s must not contain a NUL character (\\u0000)",
			    path);
}

static int parse_request(const cJSON *rq, ws_admission_request *req, ws_err *err)
{
	const cJSON *kind, *res, *user, *groups, *g, *dry;
	const char *ignored;
	ws_err uerr;

	if (get_str(rq, "uid", "request", 1, &req->uid, err))
		return -1;
	if (!*req->uid)
		return bad(err, "request.uid is empty");
	if (strlen(req->uid) > WS_ADMISSION_UID_MAX)
		return ws_fail_http(err, 400, BAD, "request.uid is longer than %d characters",
				    WS_ADMISSION_UID_MAX);
	/* echoed back: bytes that are not UTF-8 would come back changed */
	if (ws_check_utf8(req->uid, "request.uid", &uerr))
		return ws_fail_http(err, 400, BAD, "%s", uerr.msg);

	if (get_obj(rq, "kind", 1, &kind, err) ||
	    get_str(kind, "group", "request.kind", 0, &req->group, err) ||
	    get_str(kind, "version", "request.kind", 1, &req->version, err) ||
	    get_str(kind, "kind", "request.kind", 1, &req->kind, err))
		return -1;
	if (!*req->kind)
		return bad(err, "request.kind.kind is empty");
	if (get_obj(rq, "resource", 1, &res, err) ||
	    get_str(res, "group", "request.resource", 0, &ignored, err) ||
	    get_str(res, "resource", "request.resource", 1, &req->resource, err))
		return -1;

	if (get_str(rq, "operation", "request", 1, &req->operation, err) ||
	    parse_op(req->operation, &req->op, err))
		return -1;
	if (get_obj(rq, "userInfo", 1, &user, err) ||
	    get_str(user, "username", "request.userInfo", 0, &req->username, err))
		return -1;
	groups = ws_json_member(user, "groups");
	if (groups && !cJSON_IsNull(groups)) {
		if (!cJSON_IsArray(groups))
			return bad(err, "request.userInfo.groups must be a list of strings");
		cJSON_ArrayForEach(g, groups)
			if (!cJSON_IsString(g))
				return bad(err, "request.userInfo.groups must be a list of strings");
		req->groups = groups;
	}

	if (get_str(rq, "name", "request", 0, &req->name, err) ||
	    get_str(rq, "namespace", "request", 0, &req->namespace, err) ||
	    get_str(rq, "subResource", "request", 0, &req->sub_resource, err) ||
	    get_obj(rq, "object", req->op == WS_ADM_CREATE || req->op == WS_ADM_UPDATE,
		    &req->object, err) ||
	    get_obj(rq, "oldObject", req->op == WS_ADM_UPDATE, &req->old_object, err))
		return -1;
	dry = ws_json_member(rq, "dryRun");
	if (dry && !cJSON_IsNull(dry) && !cJSON_IsBool(dry))
		return bad(err, "request.dryRun must be a boolean");
	req->dry_run = cJSON_IsTrue(dry);
	return 0;
}

size_t ws_admission_tree_bytes(const char *body, size_t len)
{
	return ws_json_doc_bound(body, len);
}

int ws_admission_parse(const char *body, size_t len, size_t tree_bytes,
		       ws_admission_request *req, ws_err *err)
{
	ws_json_limits lim = {WS_ADMISSION_DEPTH_MAX, tree_bytes, 1};
	const cJSON *rq;
	ws_err perr;

	memset(req, 0, sizeof(*req));
	if (len > WS_ADMISSION_BODY_MAX)
		return ws_fail_http(err, 413, "RequestEntityTooLarge",
				    "request body is larger than %zu bytes", WS_ADMISSION_BODY_MAX);
	if (len == 0)
		return bad(err, "request body is empty: expected an AdmissionReview");
	if (tree_bytes > WS_ADMISSION_TREE_MAX)
		return ws_fail_http(err, 413, "RequestEntityTooLarge",
				    "request body holds too many JSON values: parsed, it would take "
				    "%zu MiB, over the webhook's %zu MiB",
				    (tree_bytes + (1 << 20) - 1) >> 20, WS_ADMISSION_TREE_MAX >> 20);
	if (ws_json_doc_parse_with(&req->doc, body, len, &lim, &perr)) {
		if (perr.kind == WS_E_INTERNAL)
			return ws_fail_http(err, 500, "InternalError", "%s", perr.msg);
		return ws_fail_http(err, 400, BAD, "request body is %s%s",
				    req->doc.too_deep ? "" : "not valid JSON: ", perr.msg);
	}
	if (check_envelope(req->doc.root, err) || check_nul(&req->doc, err))
		goto fail;
	rq = ws_json_member(req->doc.root, "request");
	if (!cJSON_IsObject(rq)) {
		bad(err, "AdmissionReview has no request object");
		goto fail;
	}
	if (parse_request(rq, req, err))
		goto fail;
	return 0;
fail:
	ws_admission_release(req);
	return -1;
}

void ws_admission_release(ws_admission_request *req)
{
	ws_json_doc_release(&req->doc);
	memset(req, 0, sizeof(*req));
}

int ws_admission_in_group(const ws_admission_request *req, const char *group)
{
	const cJSON *g;

	cJSON_ArrayForEach(g, req->groups)
		if (cJSON_IsString(g) && strcmp(g->valuestring, group) == 0)
			return 1;
	return 0;
}

/* ---- encoding --------------------------------------------------------------- */

int ws_admission_encode(const ws_admission_reply *r, ws_buf *out, ws_err *err)
{
	size_t i;

	if (ws_buf_adds(out, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			     "\"response\":{\"uid\":", err) ||
	    ws_json_quote(out, r->uid, err) ||
	    ws_buf_adds(out, r->allowed ? ",\"allowed\":true" : ",\"allowed\":false", err))
		return -1;
	if (r->allowed && r->patch) {
		if (ws_buf_adds(out, ",\"patchType\":\"JSONPatch\",\"patch\":\"", err) ||
		    ws_base64_append(out, r->patch, strlen(r->patch), err) ||
		    ws_buf_add(out, "\"", 1, err))
			return -1;
	}
	if (!r->allowed) {
		if (ws_buf_printf(out, err, ",\"status\":{\"code\":%d,\"reason\":",
				  r->code ? r->code : 403) ||
		    ws_json_quote(out, r->reason ? r->reason : "Forbidden", err) ||
		    ws_buf_adds(out, ",\"message\":", err) ||
		    ws_json_quote(out, r->message ? r->message : "denied", err) ||
		    ws_buf_adds(out, "}", err))
			return -1;
	}
	if (r->nwarnings) {
		if (ws_buf_adds(out, ",\"warnings\":[", err))
			return -1;
		for (i = 0; i < r->nwarnings; i++)
			if ((i && ws_buf_adds(out, ",", err)) || ws_json_quote(out, r->warnings[i], err))
				return -1;
		if (ws_buf_adds(out, "]", err))
			return -1;
	}
	return ws_buf_adds(out, "}}", err);
}

int ws_admission_encode_status(int code, const char *reason, const char *message,
			       unsigned retry_after, ws_buf *out, ws_err *err)
{
	if (ws_buf_adds(out, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
			     "\"message\":", err) ||
	    ws_json_quote(out, message, err) || ws_buf_adds(out, ",\"reason\":", err) ||
	    ws_json_quote(out, reason, err))
		return -1;
	if (retry_after &&
	    ws_buf_printf(out, err, ",\"details\":{\"retryAfterSeconds\":%u}", retry_after))
		return -1;
	return ws_buf_printf(out, err, ",\"code\":%d}", code);
}
