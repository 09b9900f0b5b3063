/* test_jsonpatch.c - RFC 6901 escaping and the patch builder, plus base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base64.h"
#include "jsonpatch.h"

static void test_escape(void **state)
{
	char out[64];
	ws_err err;
	const char *toks[] = {"metadata", "labels", "flyte.org/tenant"};
	const char *tricky[] = {"a~b/c", "~1", ""};

	(void)state;
	assert_int_equal(ws_pointer_escape("flyte.org/tenant", out, sizeof(out), &err), 0);
	assert_string_equal(out, "flyte.org~1tenant");
	assert_int_equal(ws_pointer_escape("a~/b", out, sizeof(out), &err), 0);
	assert_string_equal(out, "a~0~1b");
	assert_int_equal(ws_pointer(toks, 3, out, sizeof(out), &err), 0);
	assert_string_equal(out, "/metadata/labels/flyte.org~1tenant");
	/* "~1" must become "~01", not "/" on the way back */
	assert_int_equal(ws_pointer(tricky, 3, out, sizeof(out), &err), 0);
	assert_string_equal(out, "/a~0b~1c/~01/");
	assert_int_equal(ws_pointer(toks, 0, out, sizeof(out), &err), 0);
	assert_string_equal(out, "");
	assert_int_equal(ws_pointer_escape("////////", out, 8, &err), -1);
}

static void test_put_keys(void **state)
{
	const char *labels_path[] = {"metadata", "labels"};
	cJSON *want = cJSON_Parse("{\"workspace-id\":\"ws-a-001\",\"flyte.org/tenant\":\"ws-a-001\"}");
	cJSON *have;
	ws_patch p;
	ws_err err;
	const char *text;

	(void)state;
	/* map missing: one add of the whole map */
	ws_patch_init(&p);
	assert_int_equal(ws_patch_put_keys(&p, NULL, labels_path, 2, want, &err), 0);
	text = ws_patch_text(&p);
	assert_string_equal(text, "[{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":"
			    "{\"workspace-id\":\"ws-a-001\",\"flyte.org/tenant\":\"ws-a-001\"}}]");
	ws_patch_release(&p);

	/* map present with one key right and one wrong: one add for the wrong one */
	have = cJSON_Parse("{\"workspace-id\":\"ws-a-001\",\"flyte.org/tenant\":\"ws-b-001\",\"x\":\"y\"}");
	ws_patch_init(&p);
	assert_int_equal(ws_patch_put_keys(&p, have, labels_path, 2, want, &err), 0);
	text = ws_patch_text(&p);
	assert_string_equal(text, "[{\"op\":\"add\",\"path\":\"/metadata/labels/flyte.org~1tenant\","
			    "\"value\":\"ws-a-001\"}]");
	ws_patch_release(&p);
	cJSON_Delete(have);

	/* all present: nothing (idempotent) */
	have = cJSON_Duplicate(want, 1);
	ws_patch_init(&p);
	assert_int_equal(ws_patch_put_keys(&p, have, labels_path, 2, want, &err), 0);
	assert_int_equal(ws_patch_count(&p), 0);
	assert_string_equal(ws_patch_text(&p), "[]");
	ws_patch_release(&p);
	cJSON_Delete(have);
	cJSON_Delete(want);
}

static void test_ops_and_base64(void **state)
{
	const char *path[] = {"spec", "containers", "0", "env", "-"};
	ws_patch p;
	ws_buf b64 = WS_BUF_INIT(1 << 16);
	ws_err err;
	const char *text;
	unsigned char *raw;
	size_t n;

	(void)state;
	ws_patch_init(&p);
	assert_int_equal(ws_patch_op(&p, "add", path, 5, cJSON_CreateString("v"), &err), 0);
	assert_int_equal(ws_patch_op(&p, "remove", path, 2, NULL, &err), 0);
	text = ws_patch_text(&p);
	assert_string_equal(text, "[{\"op\":\"add\",\"path\":\"/spec/containers/0/env/-\",\"value\":\"v\"},"
			    "{\"op\":\"remove\",\"path\":\"/spec/containers\"}]");
	assert_int_equal(ws_base64_append(&b64, text, strlen(text), &err), 0);
	raw = ws_base64_decode(b64.data, b64.len, &n, &err);
	assert_non_null(raw);
	assert_int_equal(n, strlen(text));
	assert_memory_equal(raw, text, n);
	free(raw);
	ws_buf_release(&b64);
	ws_patch_release(&p);
}

/* Values are written as cJSON prints them (but for the escapes of \b \f \r
 * and invalid UTF-8, which ws_json_quote writes its own way). */
static void test_values_as_cjson_prints_them(void **state)
{
	const char *path[] = {"metadata", "annotations", "x"};
	const char *text =
		"{\"s\":\"q\\\"b\\\\s/n\\nt\\t caf\u00e9 \u20ac\",\"n\":[0,-3,0.1,1e300,-2.5e-7,"
		"123456789012,0.30000000000000004],\"b\":[true,false,null],\"o\":{},\"a\":[[]]}";
	cJSON *value = cJSON_Parse(text);
	char *want = cJSON_PrintUnformatted(value);
	ws_buf op = WS_BUF_INIT(1 << 16);
	ws_patch p;
	ws_err err;

	(void)state;
	assert_non_null(value);
	ws_patch_init(&p);
	assert_int_equal(ws_patch_op(&p, "add", path, 3, value, &err), 0);
	assert_int_equal(ws_buf_printf(&op, &err, "[{\"op\":\"add\",\"path\":"
						 "\"/metadata/annotations/x\",\"value\":%s}]", want), 0);
	assert_string_equal(ws_patch_text(&p), op.data);
	ws_buf_release(&op);
	free(want);
	ws_patch_release(&p);
}

static void test_base64_vectors(void **state)
{
	static const char *const vec[][2] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
	};
	ws_err err;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		char *e = ws_base64_encode(vec[i][0], strlen(vec[i][0]));
		unsigned char *d = ws_base64_decode(vec[i][1], strlen(vec[i][1]), &n, &err);

		assert_string_equal(e, vec[i][1]);
		assert_int_equal(n, strlen(vec[i][0]));
		assert_memory_equal(d, vec[i][0], n);
		free(e);
		free(d);
	}
	assert_null(ws_base64_decode("Zm9v!", 5, &n, &err));
	assert_null(ws_base64_decode("Zg==Zg", 6, &n, &err));
	/* line breaks as in PEM-ish data are fine */
	{
		unsigned char *d = ws_base64_decode("Zm9v\nYmFy\n", 10, &n, &err);

		assert_int_equal(n, 6);
		free(d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_put_keys),
		cmocka_unit_test(test_ops_and_base64),
		cmocka_unit_test(test_values_as_cjson_prints_them),
		cmocka_unit_test(test_base64_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
