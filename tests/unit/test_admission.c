/* test_admission.c - AdmissionReview v1 decoding (every malformed input gets a
 * 400/413 with a reason) and reply encoding (valid JSON, uid echoed, patch
 * only with patchType, status on denial). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "admission.h"
#include "json.h"

#define REVIEW_HEAD "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"

/* ws_admission_parse with the tree budget the server gives it (a body over
 * the size cap is refused before its tree is measured). */
static int parse(const char *body, size_t len, ws_admission_request *r, ws_err *err)
{
	size_t tree = len <= WS_ADMISSION_BODY_MAX ? ws_admission_tree_bytes(body, len) : 0;

	return ws_admission_parse(body, len, tree, r, err);
}

static const char *const good =
	REVIEW_HEAD "{\"uid\":\"705ab4f5-6393-11e8-b7cc-42010a800002\","
	"\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Namespace\"},"
	"\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"namespaces\"},"
	"\"name\":\"flyte-ws-demo-001\",\"namespace\":\"flyte-ws-demo-001\","
	"\"operation\":\"CREATE\",\"userInfo\":{\"username\":\"alice\","
	"\"groups\":[\"system:authenticated\",\"data-science\"]},"
	"\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":"
	"\"flyte-ws-demo-001\"}},\"oldObject\":null,\"dryRun\":true,\"options\":{}}}";

static void test_parse_good(void **state)
{
	ws_admission_request r;
	ws_err err;

	(void)state;
	assert_int_equal(parse(good, strlen(good), &r, &err), 0);
	assert_string_equal(r.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
	assert_string_equal(r.group, "");
	assert_string_equal(r.version, "v1");
	assert_string_equal(r.kind, "Namespace");
	assert_string_equal(r.resource, "namespaces");
	assert_string_equal(r.sub_resource, "");
	assert_string_equal(r.name, "flyte-ws-demo-001");
	assert_string_equal(r.namespace, "flyte-ws-demo-001");
	assert_int_equal(r.op, WS_ADM_CREATE);
	assert_string_equal(r.username, "alice");
	assert_true(ws_admission_in_group(&r, "data-science"));
	assert_false(ws_admission_in_group(&r, "system:masters"));
	assert_non_null(r.object);
	assert_null(r.old_object);
	assert_true(r.dry_run);
	assert_string_equal(ws_json_str(r.object, "metadata", "name", NULL), "flyte-ws-demo-001");
	ws_admission_release(&r);
	assert_null(r.doc.root);
}

/* The body need not be NUL-terminated: parse a prefix of a longer buffer. */
static void test_parse_not_terminated(void **state)
{
	size_t n = strlen(good);
	char *copy = malloc(n + 5);
	ws_admission_request r;
	ws_err err;

	(void)state;
	memcpy(copy, good, n);
	memcpy(copy + n, "xxxxx", 5);
	assert_int_equal(parse(copy, n, &r, &err), 0);
	ws_admission_release(&r);
	free(copy);
}

static void expect_bad(const char *body, int code, const char *needle)
{
	ws_admission_request r;
	ws_err err;

	ws_err_clear(&err);
	assert_int_equal(parse(body, strlen(body), &r, &err), -1);
	assert_null(r.doc.root);
	if (!ws_err_is_http(&err, code) || !strstr(err.msg, needle))
		fail_msg("body %.80s: got %d '%s', want %d '%s'", body, err.code, err.msg, code,
			 needle);
}

#define REQ(fields) REVIEW_HEAD "{" fields "}}"
#define BASE "\"uid\":\"u1\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"}," \
	     "\"resource\":{\"group\":\"\",\"version\":\"v1\",\"resource\":\"pods\"}," \
	     "\"userInfo\":{\"username\":\"bob\"}"

static void test_parse_bad(void **state)
{
	(void)state;
	expect_bad("", 400, "empty");
	expect_bad("{\"apiVersion\":", 400, "not valid JSON");
	expect_bad("\xff\xfe", 400, "not valid JSON");
	expect_bad("[1,2]", 400, "not a JSON object");
	expect_bad("\"AdmissionReview\"", 400, "not a JSON object");
	expect_bad("{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}", 400, "'Pod', not an AdmissionReview");
	expect_bad("{\"apiVersion\":\"v1\"}", 400, "no kind");
	expect_bad("{\"kind\":\"AdmissionReview\"}", 400, "no apiVersion");
	expect_bad("{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\"}", 400,
		   "admissionReviewVersions: [v1]");
	expect_bad(REVIEW_HEAD "null}", 400, "no request object");
	expect_bad(REVIEW_HEAD "[]}", 400, "no request object");
	expect_bad(REQ("\"operation\":\"CREATE\",\"kind\":{\"version\":\"v1\",\"kind\":\"Pod\"}"), 400,
		   "request.uid is missing");
	expect_bad(REQ("\"uid\":7"), 400, "request.uid must be a string");
	expect_bad(REQ("\"uid\":\"\""), 400, "request.uid is empty");
	expect_bad(REQ("\"uid\":\"u1\""), 400, "request.kind is missing");
	expect_bad(REQ("\"uid\":\"u1\",\"kind\":\"Pod\""), 400, "request.kind must be an object");
	expect_bad(REQ("\"uid\":\"u1\",\"kind\":{\"version\":\"v1\"}"), 400, "request.kind.kind is missing");
	expect_bad(REQ("\"uid\":\"u1\",\"kind\":{\"version\":\"v1\",\"kind\":\"\"}"), 400,
		   "request.kind.kind is empty");
	expect_bad(REQ("\"uid\":\"u1\",\"kind\":{\"version\":\"v1\",\"kind\":\"Pod\"}"), 400,
		   "request.resource is missing");
	expect_bad(REQ(BASE), 400, "request.operation is missing");
	expect_bad(REQ(BASE ",\"operation\":\"PATCH\""), 400, "'PATCH' is not one of CREATE");
	expect_bad(REQ(BASE ",\"operation\":\"CREATE\""), 400, "request.object is missing");
	expect_bad(REQ(BASE ",\"operation\":\"CREATE\",\"object\":[]"), 400,
		   "request.object must be an object");
	expect_bad(REQ(BASE ",\"operation\":\"UPDATE\",\"object\":{}"), 400,
		   "request.oldObject is missing");
	expect_bad(REQ(BASE ",\"operation\":\"DELETE\",\"name\":5"), 400, "request.name must be a string");
	expect_bad(REQ(BASE ",\"operation\":\"DELETE\",\"dryRun\":\"yes\""), 400,
		   "request.dryRun must be a boolean");
	expect_bad(REQ("\"uid\":\"u1\",\"kind\":{\"version\":\"v1\",\"kind\":\"Pod\"},"
		       "\"resource\":{\"resource\":\"pods\"},\"operation\":\"DELETE\","
		       "\"userInfo\":{\"groups\":[\"a\",1]}"),
		   400, "groups must be a list of strings");
	expect_bad(REQ("\"uid\":\"u1\",\"kind\":{\"version\":\"v1\",\"kind\":\"Pod\"},"
		       "\"resource\":{\"resource\":\"pods\"},\"operation\":\"DELETE\""),
		   400, "request.userInfo is missing");
}

static void expect_bad_len(const char *body, size_t len, const char *needle)
{
	ws_admission_request r;
	ws_err err;

	ws_err_clear(&err);
	assert_int_equal(parse(body, len, &r, &err), -1);
	assert_null(r.doc.root);
	if (!ws_err_is_http(&err, 400) || !strstr(err.msg, needle))
		fail_msg("body %.120s: got %d '%s', want 400 '%s'", body, err.code, err.msg, needle);
}

#define NUL_REVIEW(uid, kind, name, ns, user, groups, obj)                                 \
	REVIEW_HEAD "{\"uid\":\"" uid "\",\"kind\":{\"group\":\"\",\"version\":\"v1\","          \
	"\"kind\":\"" kind "\"},\"resource\":{\"group\":\"\",\"version\":\"v1\","               \
	"\"resource\":\"configmaps\"},\"name\":\"" name "\",\"namespace\":\"" ns "\","          \
	"\"operation\":\"CREATE\",\"userInfo\":{\"username\":\"" user "\",\"groups\":" groups \
	"},\"object\":" obj "}}"

/* A NUL (\u0000, or a raw 0 byte) would cut a request field short: refused,
 * naming the field. Inside object and oldObject it is the object's data. */
static void test_parse_nul(void **state)
{
	static const char raw[] = NUL_REVIEW("a\0b", "ConfigMap", "n", "ns", "bob", "[]", "{}");
	static const char ok[] = NUL_REVIEW("u1", "ConfigMap", "n", "ns", "bob", "[\"g\"]",
					    "{\"data\":{\"k\":\"a\\u0000b\",\"k\\u0000\":\"\\u0000\"}}");
	static const char escaped_backslash[] =
		NUL_REVIEW("a\\\\u0000", "ConfigMap", "n", "ns", "bob", "[]", "{}");
	ws_admission_request r;
	ws_err err;

	(void)state;
	expect_bad(NUL_REVIEW("a\\u0000b", "ConfigMap", "n", "ns", "bob", "[]", "{}"),
		   400, "request.uid must be a non-empty string without NUL characters");
	expect_bad(NUL_REVIEW("\\u0000", "ConfigMap", "n", "ns", "bob", "[]", "{}"),
		   400, "request.uid must be a non-empty string without NUL characters");
	expect_bad_len(raw, sizeof(raw) - 1,
		       "request.uid must be a non-empty string without NUL characters");
	expect_bad(NUL_REVIEW("u1", "Namespace\\u0000x", "n", "ns", "bob", "[]", "{}"), 400,
		   "request.kind.kind must not contain a NUL character");
	expect_bad(NUL_REVIEW("u1", "ConfigMap", "n\\u0000x", "ns", "bob", "[]", "{}"), 400,
		   "request.name must not contain a NUL character");
	expect_bad(NUL_REVIEW("u1", "ConfigMap", "n", "flyte-ws-a-001\\u0000", "bob", "[]", "{}"),
		   400, "request.namespace must not contain a NUL character");
	expect_bad(NUL_REVIEW("u1", "ConfigMap", "n", "ns", "system:admin\\u0000bob", "[]", "{}"),
		   400, "request.userInfo.username must not contain a NUL character");
	expect_bad(NUL_REVIEW("u1", "ConfigMap", "n", "ns", "bob",
			      "[\"a\",\"system:masters\\u0000\"]", "{}"),
		   400, "request.userInfo.groups[1] must not contain a NUL character");
	/* \u escapes with bad digits decode as 0 too (as cJSON reads them) */
	expect_bad(NUL_REVIEW("abc\\u00zzdef", "ConfigMap", "n", "ns", "bob", "[]", "{}"),
		   400, "request.uid must be a non-empty string without NUL characters");
	expect_bad(NUL_REVIEW("u1", "ConfigMap", "n", "ns", "system:admin\\u000Xevil", "[]", "{}"),
		   400, "request.userInfo.username must not contain a NUL character");
	expect_bad(NUL_REVIEW("u1", "ConfigMap", "n", "ns", "bob", "[\"sys\\uzzzz\"]", "{}"),
		   400, "request.userInfo.groups[0] must not contain a NUL character");
	expect_bad(REQ("\"uid\\u0000x\":\"u1\",\"uid\":\"u2\""), 400,
		   "request has a key with a NUL character");
	expect_bad(REVIEW_HEAD "{\"uid\":\"u1\"},\"x\\u0000\":1}", 400,
		   "the review has a key with a NUL character");

	/* NULs in the object's data, and an escaped backslash before "u0000" */
	assert_int_equal(parse(ok, strlen(ok), &r, &err), 0);
	assert_string_equal(r.uid, "u1");
	assert_string_equal(ws_json_str(r.object, "data", "k", NULL), "a");
	ws_admission_release(&r);
	assert_int_equal(parse(escaped_backslash, strlen(escaped_backslash), &r, &err), 0);
	assert_string_equal(r.uid, "a\\u0000");
	ws_admission_release(&r);
}

static void test_parse_caps(void **state)
{
	size_t depth = WS_ADMISSION_DEPTH_MAX + 1, i;
	char *deep = malloc(2 * depth + 1), *uid;
	ws_admission_request r;
	ws_err err;

	(void)state;
	for (i = 0; i < depth; i++) {
		deep[i] = '[';
		deep[depth + i] = ']';
	}
	deep[2 * depth] = '\0';
	expect_bad(deep, 400, "nested deeper than 256 levels");
	/* brackets inside strings do not count */
	memset(deep, 'a', 2 * depth);
	deep[0] = '"';
	for (i = 1; i < depth; i++)
		deep[i] = '[';
	deep[2 * depth - 1] = '"';
	assert_int_equal(parse(deep, 2 * depth, &r, &err), -1);
	assert_non_null(strstr(err.msg, "not a JSON object"));
	free(deep);

	assert_int_equal(parse("{}", WS_ADMISSION_BODY_MAX + 1, &r, &err), -1);
	assert_true(ws_err_is_http(&err, 413));

	uid = malloc(WS_ADMISSION_UID_MAX + 256);
	snprintf(uid, WS_ADMISSION_UID_MAX + 256, REQ("\"uid\":\"%0*d\""), WS_ADMISSION_UID_MAX + 1, 0);
	expect_bad(uid, 400, "longer than 128");
	free(uid);
}

/* What Go's decoder in kube-apiserver would read another way is refused:
 * a repeated key, text after the review, a uid that would come back
 * changed. */
static void test_parse_ambiguous(void **state)
{
	ws_admission_request r;
	ws_err err;

	(void)state;
	expect_bad(REQ(BASE ",\"operation\":\"CREATE\",\"operation\":\"DELETE\","
		       "\"object\":{}"), 400, "duplicate key");
	assert_int_equal(parse(REQ(BASE ",\"operation\":\"DELETE\"") " \n", strlen(REQ(BASE ",\"operation\":\"DELETE\"") " \n"), &r, &err), 0);
	ws_admission_release(&r);
	expect_bad(REQ(BASE ",\"operation\":\"DELETE\"") "{}", 400, "text after the JSON value");
	expect_bad(REQ(BASE ",\"operation\":\"DELETE\"") "\n" REQ(BASE ",\"operation\":\"DELETE\""),
		   400, "text after the JSON value");
	expect_bad(REQ("\"uid\":\"u\xff" "1\",\"kind\":{}"), 400, "request.uid is not valid UTF-8");
}

/* A review of many small values is refused before its tree is built. */
static void test_parse_tree_cap(void **state)
{
	size_t n = WS_ADMISSION_BODY_MAX - 64, i, len;
	char *body = malloc(n + 128);
	ws_admission_request r;
	ws_err err;

	(void)state;
	len = (size_t)snprintf(body, 128, REVIEW_HEAD "{\"x\":[");
	for (i = 0; len + 8 < n; i++) {
		body[len++] = '1';
		body[len++] = ',';
	}
	len += (size_t)snprintf(body + len - 1, 64, "]}}") - 1;
	assert_true(ws_admission_tree_bytes(body, len) > WS_ADMISSION_TREE_MAX);
	assert_int_equal(parse(body, len, &r, &err), -1);
	assert_true(ws_err_is_http(&err, 413));
	assert_non_null(strstr(err.msg, "too many JSON values"));
	free(body);
}

static void test_encode_allowed_patch(void **state)
{
	const char *warnings[] = {"label \"managed-by\" set", "second"};
	ws_admission_reply rep = {.uid = "u-1", .allowed = 1, .patch = "[]",
				  .warnings = warnings, .nwarnings = 2};
	ws_buf b = WS_BUF_INIT(1 << 16);
	ws_err err;
	cJSON *j;

	(void)state;
	assert_int_equal(ws_admission_encode(&rep, &b, &err), 0);
	j = ws_json_parse(b.data, b.len, &err);
	assert_non_null(j);
	assert_string_equal(ws_json_str(j, "apiVersion", NULL), "admission.k8s.io/v1");
	assert_string_equal(ws_json_str(j, "kind", NULL), "AdmissionReview");
	assert_string_equal(ws_json_str(j, "response", "uid", NULL), "u-1");
	assert_true(cJSON_IsTrue(ws_json_get(j, "response", "allowed", NULL)));
	assert_string_equal(ws_json_str(j, "response", "patchType", NULL), "JSONPatch");
	assert_string_equal(ws_json_str(j, "response", "patch", NULL), "W10="); /* base64 of [] */
	assert_null(ws_json_get(j, "response", "status", NULL));
	assert_string_equal(cJSON_GetArrayItem(ws_json_get(j, "response", "warnings", NULL), 0)->valuestring,
			    "label \"managed-by\" set");
	cJSON_Delete(j);
	ws_buf_release(&b);
}

static void test_encode_denied(void **state)
{
	/* control characters, quotes and invalid UTF-8 in the message */
	ws_admission_reply rep = {.uid = "u\"2", .allowed = 0, .code = 422, .reason = "Invalid",
				  .message = "bad \x01 name 'x\xff\xc3' caf\xc3\xa9 \xed\xa0\x80\n",
				  .patch = "ignored"};
	ws_buf b = WS_BUF_INIT(1 << 16);
	ws_err err;
	cJSON *j;

	(void)state;
	assert_int_equal(ws_admission_encode(&rep, &b, &err), 0);
	j = ws_json_parse(b.data, b.len, &err);
	assert_non_null(j);
	assert_string_equal(ws_json_str(j, "response", "uid", NULL), "u\"2");
	assert_true(cJSON_IsFalse(ws_json_get(j, "response", "allowed", NULL)));
	assert_null(ws_json_get(j, "response", "patch", NULL));
	assert_null(ws_json_get(j, "response", "patchType", NULL));
	assert_int_equal(ws_json_get(j, "response", "status", "code", NULL)->valueint, 422);
	assert_string_equal(ws_json_str(j, "response", "status", "reason", NULL), "Invalid");
	assert_string_equal(ws_json_str(j, "response", "status", "message", NULL),
			    "bad \x01 name 'x\xef\xbf\xbd\xef\xbf\xbd' caf\xc3\xa9 "
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\n");
	assert_null(strstr(b.data, "\xff"));
	cJSON_Delete(j);

	/* defaults: 403 Forbidden */
	ws_buf_reset(&b);
	rep.code = 0;
	rep.reason = NULL;
	rep.message = "no";
	assert_int_equal(ws_admission_encode(&rep, &b, &err), 0);
	assert_non_null(strstr(b.data, "\"status\":{\"code\":403,\"reason\":\"Forbidden\",\"message\":\"no\"}"));
	ws_buf_release(&b);
}

static void test_encode_status(void **state)
{
	ws_buf b = WS_BUF_INIT(4096);
	ws_err err;
	cJSON *j;

	(void)state;
	assert_int_equal(ws_admission_encode_status(413, "RequestEntityTooLarge", "too \"big\"", 0, &b, &err), 0);
	j = ws_json_parse(b.data, b.len, &err);
	assert_non_null(j);
	assert_string_equal(ws_json_str(j, "kind", NULL), "Status");
	assert_string_equal(ws_json_str(j, "status", NULL), "Failure");
	assert_string_equal(ws_json_str(j, "message", NULL), "too \"big\"");
	assert_int_equal(ws_json_get(j, "code", NULL)->valueint, 413);
	assert_null(ws_json_get(j, "details", NULL));
	cJSON_Delete(j);
	ws_buf_reset(&b);
	assert_int_equal(ws_admission_encode_status(429, "TooManyRequests", "busy", 1, &b, &err), 0);
	j = ws_json_parse(b.data, b.len, &err);
	assert_non_null(j);
	assert_int_equal(ws_json_get(ws_json_get(j, "details", NULL), "retryAfterSeconds", NULL)->valueint, 1);
	cJSON_Delete(j);
	ws_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_not_terminated),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_nul),
		cmocka_unit_test(test_parse_caps),
		cmocka_unit_test(test_parse_ambiguous),
		cmocka_unit_test(test_parse_tree_cap),
		cmocka_unit_test(test_encode_allowed_patch),
		cmocka_unit_test(test_encode_denied),
		cmocka_unit_test(test_encode_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
