/* test_jsondoc.c - the arena JSON parser accepts what cJSON accepts and
 * builds the same tree (the same comparison as tests/fuzz/fuzz_jsondoc.c,
 * over hand-picked corner cases), caps nesting, and reads only len bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsondoc.h"
#include "json_same.h"

/* With the arena capped at ws_json_doc_bound the parse decides the same. */
static void check_bound(const char *text, size_t len, int want_rc)
{
	ws_json_limits lim = {1000, ws_json_doc_bound(text, len), 0};
	ws_json_doc doc;
	ws_err err;
	int rc = ws_json_doc_parse_with(&doc, text, len, &lim, &err);

	if (rc != want_rc)
		fail_msg("'%.*s': capped at its bound (%zu bytes) the parse %s it: %s", (int)len,
			 text, lim.max_bytes, rc ? "refuses" : "accepts", rc ? err.msg : "");
	ws_json_doc_release(&doc);
}

static void check_like_cjson(const char *text, size_t len)
{
	const char *end = NULL;
	cJSON *want = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	ws_json_doc doc;
	ws_err err;
	int rc = ws_json_doc_parse(&doc, text, len, 1000, &err);

	if (!want != (rc != 0))
		fail_msg("'%.*s': cJSON %s it, jsondoc %s it", (int)len, text,
			 want ? "accepts" : "refuses", rc ? "refuses" : "accepts");
	if (want && !same_tree(want, doc.root))
		fail_msg("'%.*s': the trees differ", (int)len, text);
	if (rc)
		assert_null(doc.root);
	cJSON_Delete(want);
	ws_json_doc_release(&doc);
	check_bound(text, len, rc);
}

static void test_like_cjson(void **state)
{
	static const char *const cases[] = {
		"{}", "[]", "null", "true", "false", "0", "-0", "12", "-3.25e2", "1E400", "-1e400",
		"2147483648", "-2147483649", "0.1", "1.", "01", "1.2.3", "1e", "-", "+1", ".5",
		"\"\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "\"\\u00e9\\u20AC\"",
		"\"\\ud83d\\ude00\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83dx\"", "\"\\u12\"",
		"\"\\uzzzz\"", "\"\\x\"", "\"abc", "\"abc\\", "\"\x01\x1f raw\"", "\"caf\xc3\xa9 \xff\"",
		"{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}", "{\"a\":1,\"a\":2}",
		"[1,2,]", "[,1]", "{\"a\" 1}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "[1 2]",
		"  \t\r\n [ 1 , { } ] ", "\x01[\x02]\x03", "\xEF\xBB\xBF{\"bom\":1}", "\xEF\xBB\xBF{}",
		"\xEF\xBB\xBF", "{} trailing", "[] ]", "nul", "nulls", "truex", "[tru]", "",
		"   ", "{\"k\\u0000x\":\"v\\u0000w\"}", "[[[[[[[[[[]]]]]]]]]]", "[[[[", "{\"a\":[{\"b\":[",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_like_cjson(cases[i], strlen(cases[i]));
	/* an embedded NUL ends nothing: both see len bytes */
	check_like_cjson("[1,\0]", 5);
	check_like_cjson("\"a\0b\"", 5);
}

static void test_review(void **state)
{
	static const char review[] =
		"{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":"
		"{\"uid\":\"705ab4f5\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
		"\"object\":{\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"x\"},"
		"\"managedFields\":[{\"time\":\"2024-05-14T09:21:07Z\",\"fieldsV1\":{\"f:metadata\":{}}}]},"
		"\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"busybox\",\"args\":[\"a b\",\"c\"],"
		"\"resources\":{\"limits\":{\"cpu\":0.5,\"memory\":1073741824}}}]}},\"dryRun\":false}}";

	(void)state;
	check_like_cjson(review, sizeof(review) - 1);
}

static void test_depth_cap(void **state)
{
	char deep[2 * 258 + 1];
	ws_json_doc doc;
	ws_err err;
	size_t i;

	(void)state;
	for (i = 0; i < 257; i++) {
		deep[i] = '[';
		deep[257 + i] = ']';
	}
	assert_int_equal(ws_json_doc_parse(&doc, deep, 2 * 257, 256, &err), -1);
	assert_true(doc.too_deep);
	assert_null(doc.root);
	assert_non_null(strstr(err.msg, "nested deeper than 256 levels"));
	assert_int_equal(ws_json_doc_parse(&doc, deep + 1, 2 * 256, 256, &err), 0);
	ws_json_doc_release(&doc);
	assert_int_equal(ws_json_doc_parse(&doc, "[1,", 3, 256, &err), -1);
	assert_false(doc.too_deep);
	assert_non_null(strstr(err.msg, "invalid JSON at byte"));
}

static void test_large_and_unterminated(void **state)
{
	size_t n = 200000, i, len = 0;
	char *big = malloc(n * 40 + 16);

	(void)state;
	/* a tree that takes many arena blocks: [{"k":"v0","n":0},...] */
	big[len++] = '[';
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(big + len, "%s{\"k\":\"v%zu\",\"n\":%zu}", i ? "," : "", i, i);
	big[len++] = ']';
	check_like_cjson(big, len);
	/* a number longer than the parser's small buffer */
	memset(big, '1', 200);
	memcpy(big + 200, ".5e-3", 5);
	check_like_cjson(big, 205);
	/* only len bytes are read: what follows does not exist */
	memcpy(big, "{\"a\":\"b\"}", 9);
	memcpy(big + 9, "\"", 1);
	check_like_cjson(big, 5);
	check_like_cjson(big, 9);
	free(big);
}

/* Keys and strings that came out holding a NUL are marked, and only those. */
static void test_nul_marks(void **state)
{
	static const char text[] = "{\"a\\u0000\":\"x\",\"b\":\"x\\u00zzy\",\"c\":\"\\\\u0000\","
				   "\"d\":[\"\\u0000\"],\"e\":\"\\u00e9\"}";
	ws_json_doc doc;
	ws_err err;
	const cJSON *c;

	(void)state;
	assert_int_equal(ws_json_doc_parse(&doc, text, strlen(text), 64, &err), 0);
	assert_true(doc.nul);
	c = doc.root->child; /* "a\0" : "x" */
	assert_true(c->type & WS_JSON_NUL_KEY);
	assert_false(c->type & WS_JSON_NUL_VALUE);
	assert_true(cJSON_IsString(c));
	c = c->next; /* "b" : "x\0" (bad digits) */
	assert_int_equal(c->type & (WS_JSON_NUL_KEY | WS_JSON_NUL_VALUE), WS_JSON_NUL_VALUE);
	assert_string_equal(c->valuestring, "x");
	c = c->next; /* "c" : "\\u0000" is a backslash, not a NUL */
	assert_false(c->type & (WS_JSON_NUL_KEY | WS_JSON_NUL_VALUE));
	c = c->next; /* "d" : ["\0"] */
	assert_false(c->type & (WS_JSON_NUL_KEY | WS_JSON_NUL_VALUE));
	assert_true(c->child->type & WS_JSON_NUL_VALUE);
	c = c->next; /* "e" : "é" */
	assert_false(c->type & (WS_JSON_NUL_KEY | WS_JSON_NUL_VALUE));
	ws_json_doc_release(&doc);
	assert_int_equal(ws_json_doc_parse(&doc, "{\"k\":\"v\"}", 9, 64, &err), 0);
	assert_false(doc.nul);
	ws_json_doc_release(&doc);
}

/* Strict parsing refuses what cJSON and Go read differently; a cap on the
 * arena refuses a tree that needs more. */
static void test_strict_and_cap(void **state)
{
	ws_json_limits strict = {64, 0, 1};
	ws_json_doc doc;
	ws_err err;
	char many[64 * 8];
	size_t i, n = 0;

	(void)state;
	assert_int_equal(ws_json_doc_parse_with(&doc, "{\"a\":1,\"b\":2} ", strlen("{\"a\":1,\"b\":2} "), &strict, &err), 0);
	ws_json_doc_release(&doc);
	assert_int_equal(ws_json_doc_parse_with(&doc, "{\"a\":1,\"a\":2}", strlen("{\"a\":1,\"a\":2}"), &strict, &err), -1);
	assert_true(doc.duplicate);
	assert_non_null(strstr(err.msg, "duplicate key"));
	assert_int_equal(ws_json_doc_parse_with(&doc, "{} {}", strlen("{} {}"), &strict, &err), -1);
	assert_non_null(strstr(err.msg, "text after the JSON value at byte 3"));
	assert_int_equal(ws_json_doc_parse_with(&doc, "[1] x", strlen("[1] x"), &strict, &err), -1);
	/* many keys go through the sort: the repeat is the first and the last */
	n += (size_t)snprintf(many + n, sizeof(many) - n, "{");
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "\"k%zu\":0,", i % 39);
	many[n - 1] = '}';
	assert_int_equal(ws_json_doc_parse_with(&doc, many, n, &strict, &err), -1);
	assert_true(doc.duplicate);
	n = 0;
	n += (size_t)snprintf(many + n, sizeof(many) - n, "{");
	for (i = 0; i < 40; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "\"k%zu\":0,", i);
	many[n - 1] = '}';
	assert_int_equal(ws_json_doc_parse_with(&doc, many, n, &strict, &err), 0);
	ws_json_doc_release(&doc);

	strict.max_bytes = 4 * sizeof(cJSON);
	assert_int_equal(ws_json_doc_parse_with(&doc, "[1,2,3,4,5,6,7,8]", strlen("[1,2,3,4,5,6,7,8]"), &strict, &err), -1);
	assert_true(doc.too_big);
	assert_null(doc.root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_and_cap),
		cmocka_unit_test(test_like_cjson),
		cmocka_unit_test(test_review),
		cmocka_unit_test(test_depth_cap),
		cmocka_unit_test(test_large_and_unterminated),
		cmocka_unit_test(test_nul_marks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
