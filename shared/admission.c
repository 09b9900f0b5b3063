/* admission.c - AdmissionReview v1 decoding and reply encoding (see admission.h). */
#include "admission.h"

#include <string.h>

#include "json.h"

#define BAD "BadRequest"

static int bad(ws_err *err, const char *what)
{
	return ws_fail_http(err, 400, BAD, "%s", what);
}

/* Bytes check_depth must look at: brackets, quotes, backslashes. */
static const unsigned char depth_class[256] = {
	['"'] = 1, ['\\'] = 2, ['{'] = 3, ['['] = 3, ['}'] = 4, [']'] = 4,
};

/* Refuse nesting deeper than the cap without parsing: cJSON and everything
 * that walks its trees recurse once per level. */
static int check_depth(const char *s, size_t len, ws_err *err)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t depth = 0;
	int in_str = 0;

	for (; p < end; p++) {
		unsigned char c = depth_class[*p];

		if (!c)
			continue;
		if (in_str) {
			if (c == 2 && p + 1 < end)
				p++;
			else if (c == 1)
				in_str = 0;
		} else if (c == 1) {
			in_str = 1;
		} else if (c == 3) {
			if (++depth > WS_ADMISSION_DEPTH_MAX)
				return ws_fail_http(err, 400, BAD,
						    "request body is nested deeper than %d levels",
						    WS_ADMISSION_DEPTH_MAX);
		} else if (c == 4 && depth > 0) {
			depth--;
		}
	}
	return 0;
}

/* obj[key] as a string: "" when absent or null (optional) or an error naming
 * request.<key> (required, or wrong type). */
static int get_str(const cJSON *obj, const char *key, const char *where, int required,
		   const char **out, ws_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

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
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

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
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
	const cJSON *av = cJSON_GetObjectItemCaseSensitive(root, "apiVersion");

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

static int parse_request(const cJSON *rq, ws_admission_request *req, ws_err *err)
{
	const cJSON *kind, *res, *user, *groups, *g, *dry;
	const char *ignored;

	if (get_str(rq, "uid", "request", 1, &req->uid, err))
		return -1;
	if (!*req->uid)
		return bad(err, "request.uid is empty");
	if (strlen(req->uid) > WS_ADMISSION_UID_MAX)
		return ws_fail_http(err, 400, BAD, "request.uid is longer than %d characters",
				    WS_ADMISSION_UID_MAX);

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
	groups = cJSON_GetObjectItemCaseSensitive(user, "groups");
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
	dry = cJSON_GetObjectItemCaseSensitive(rq, "dryRun");
	if (dry && !cJSON_IsNull(dry) && !cJSON_IsBool(dry))
		return bad(err, "request.dryRun must be a boolean");
	req->dry_run = cJSON_IsTrue(dry);
	return 0;
}

int ws_admission_parse(const char *body, size_t len, ws_admission_request *req, ws_err *err)
{
	const cJSON *rq;
	ws_err perr;

	memset(req, 0, sizeof(*req));
	if (len > WS_ADMISSION_BODY_MAX)
		return ws_fail_http(err, 413, "RequestEntityTooLarge",
				    "request body is larger than %zu bytes", WS_ADMISSION_BODY_MAX);
	if (len == 0)
		return bad(err, "request body is empty: expected an AdmissionReview");
	if (check_depth(body, len, err))
		return -1;
	req->root = ws_json_parse(body, len, &perr);
	if (!req->root)
		return ws_fail_http(err, 400, BAD, "request body is not valid JSON: %s", perr.msg);
	if (check_envelope(req->root, err))
		goto fail;
	rq = cJSON_GetObjectItemCaseSensitive(req->root, "request");
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
	cJSON_Delete(req->root);
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

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		need = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		need = 4;
	else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	/* overlong forms, UTF-16 surrogates, above U+10FFFF */
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
		return 0;
	return need;
}

/* The bytes a JSON string literal takes as they are: printable ASCII but
 * '"' and '\\'; the rest are escaped or checked as UTF-8. */
static int json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

int ws_json_quote(ws_buf *out, const char *s, ws_err *err)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;

	if (ws_buf_add(out, "\"", 1, err))
		return -1;
	while (i < n) {
		size_t start = i, l;
		unsigned char c;
		char esc[8];
		size_t elen;

		while (i < n && json_plain(p[i]))
			i++;
		while (i < n && p[i] >= 0x80 && (l = utf8_len(p + i, n - i)) > 0)
			i += l;
		if (i > start) {
			if (ws_buf_add(out, p + start, i - start, err))
				return -1;
			continue;
		}
		c = p[i++];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			elen = 2;
		} else if (c == '\n') {
			memcpy(esc, "\\n", 2);
			elen = 2;
		} else if (c == '\t') {
			memcpy(esc, "\\t", 2);
			elen = 2;
		} else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		} else {
			memcpy(esc, "\\ufffd", 6); /* a byte that is not valid UTF-8 */
			elen = 6;
		}
		if (ws_buf_add(out, esc, elen, err))
			return -1;
	}
	return ws_buf_add(out, "\"", 1, err);
}

int ws_admission_encode(const ws_admission_reply *r, ws_buf *out, ws_err *err)
{
	size_t i;

	if (ws_buf_adds(out, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
			     "\"response\":{\"uid\":", err) ||
	    ws_json_quote(out, r->uid, err) ||
	    ws_buf_adds(out, r->allowed ? ",\"allowed\":true" : ",\"allowed\":false", err))
		return -1;
	if (r->allowed && r->patch) {
		if (ws_buf_adds(out, ",\"patchType\":\"JSONPatch\",\"patch\":", err) ||
		    ws_json_quote(out, r->patch, err))
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

int ws_admission_encode_status(int code, const char *reason, const char *message, ws_buf *out,
			       ws_err *err)
{
	if (ws_buf_adds(out, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
			     "\"message\":", err) ||
	    ws_json_quote(out, message, err) || ws_buf_adds(out, ",\"reason\":", err) ||
	    ws_json_quote(out, reason, err))
		return -1;
	return ws_buf_printf(out, err, ",\"code\":%d}", code);
}
