/* test_yaml.c - YAML <-> JSON conversion and the platform settings overlay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "platform.h"
#include "yamlconv.h"

static void test_parse_types(void **state)
{
	const char *y = "a: 1\nb: \"1\"\nc: true\nd: 'yes'\ne: ~\nf: 1.5\ng: hello world\n"
			"h: [x, y]\ni: {j: k}\nl: |\n  line1\n  line2\nm: yes\nn: 0x10\n";
	cJSON *j;
	ws_err err;

	(void)state;
	j = ws_yaml_parse(y, strlen(y), &err);
	assert_non_null(j);
	assert_true(cJSON_IsNumber(ws_json_get(j, "a", NULL)));
	assert_string_equal(ws_json_str(j, "b", NULL), "1");
	assert_true(cJSON_IsTrue(ws_json_get(j, "c", NULL)));
	assert_string_equal(ws_json_str(j, "d", NULL), "yes");
	assert_true(cJSON_IsNull(ws_json_get(j, "e", NULL)));
	assert_true(ws_json_get(j, "f", NULL)->valuedouble == 1.5);
	assert_string_equal(ws_json_str(j, "g", NULL), "hello world");
	assert_int_equal(cJSON_GetArraySize(ws_json_get(j, "h", NULL)), 2);
	assert_string_equal(ws_json_str(j, "i", "j", NULL), "k");
	assert_string_equal(ws_json_str(j, "l", NULL), "line1\nline2\n");
	assert_true(cJSON_IsTrue(ws_json_get(j, "m", NULL)));
	assert_int_equal((int)ws_json_get(j, "n", NULL)->valuedouble, 16);
	cJSON_Delete(j);
	/* JSON has no infinity: such a number stays text (found by fuzz_yaml) */
	j = ws_yaml_parse("big: 1e400\n", 11, &err);
	assert_string_equal(ws_json_str(j, "big", NULL), "1e400");
	cJSON_Delete(j);
}

static void test_anchors_and_errors(void **state)
{
	const char *y = "base: &b {x: 1}\ncopy: *b\n";
	cJSON *j;
	ws_err err;

	(void)state;
	j = ws_yaml_parse(y, strlen(y), &err);
	assert_non_null(j);
	assert_int_equal((int)ws_json_get(j, "copy", "x", NULL)->valuedouble, 1);
	cJSON_Delete(j);
	assert_null(ws_yaml_parse("a: [1, 2", 8, &err));
	assert_non_null(strstr(err.msg, "invalid YAML at line"));
	assert_null(ws_yaml_parse("a: *nope\n", 9, &err));
	j = ws_yaml_parse("", 0, &err);
	assert_true(cJSON_IsObject(j));
	cJSON_Delete(j);
}

static void test_round_trip(void **state)
{
	const char *json = "{\"s\":\"true\",\"n\":\"123\",\"e\":\"\",\"sp\":\" x\",\"multi\":\"a\\nb\","
			   "\"num\":42,\"f\":2.5,\"b\":false,\"z\":null,\"arr\":[{\"k\":\"v\"},\"no\"],"
			   "\"colon\":\"a: b\",\"hash\":\"# c\",\"uni\":\"Ανάλυση\"}";
	cJSON *in = cJSON_Parse(json), *back;
	ws_err err;
	char *y = ws_yaml_emit(in, &err);

	(void)state;
	assert_non_null(y);
	back = ws_yaml_parse(y, strlen(y), &err);
	assert_non_null(back);
	if (!cJSON_Compare(in, back, 1))
		fail_msg("round trip changed the tree:\n%s", y);
	cJSON_Delete(back);
	cJSON_Delete(in);
	free(y);
}

static void test_platform_overlay(void **state)
{
	const char *cfg = "namespaceTemplate: \"team-{{ project }}\"\n"
			  "systemNamespace: platform\n"
			  "flyte: {endpoint: \"https://flyte.example.com\", consoleUrl: \"https://c.example.com/console\"}\n"
			  "cloud: {accountId: 999999999999}\n"
			  "tiers: {mini: {pods: 3}}\ndefaultTier: mini\n"
			  "quotaManagers: [\"group:ops\"]\n";
	ws_platform p;
	ws_err err;
	char *url;

	(void)state;
	assert_int_equal(ws_platform_defaults(&p, &err), 0);
	assert_int_equal(ws_platform_apply_text(&p, cfg, strlen(cfg), "test", &err), 0);
	assert_string_equal(p.ns_template.lit[0], "team-");
	assert_string_equal(p.system_namespace, "platform");
	assert_string_equal(p.cloud_account, "999999999999");
	assert_string_equal(p.role_template, "arn:aws:iam::{{ account }}:role/{{ id }}-runner");
	assert_string_equal(p.default_tier, "mini");
	assert_int_equal(p.quota_managers.n, 1);
	url = ws_platform_console_url(&p, "ws-a-001", "development");
	assert_string_equal(url, "https://c.example.com/console/projects/ws-a-001/domains/development/executions");
	free(url);
	ws_platform_release(&p);
}

static void overlay_fails(const char *cfg, const char *want)
{
	ws_platform p;
	ws_err err;

	assert_int_equal(ws_platform_defaults(&p, &err), 0);
	assert_int_equal(ws_platform_apply_text(&p, cfg, strlen(cfg), "cfg", &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("'%s' lacks '%s'", err.msg, want);
	ws_platform_release(&p);
}

static void test_platform_errors(void **state)
{
	(void)state;
	overlay_fails("namespaceTempalte: x", "unknown platform setting 'namespaceTempalte'");
	overlay_fails("flyte: {endpont: x}", "unknown platform setting 'flyte.endpont'");
	overlay_fails("cloud: {provider: azure}", "must be aws or gcp");
	overlay_fails("defaultTier: gold", "unknown tier 'gold'");
	overlay_fails("domains: []", "'domains' must not be empty");
	overlay_fails("namespaceTemplate: \"x-{{ domain }}\"", "has no {{ project }}");
	overlay_fails("[1]", "must be a mapping");
}

static void test_template_render(void **state)
{
	const char *keys[] = {"id", "account"};
	const char *vals[] = {"ws-a-001", "42"};
	ws_err err;
	char *s = ws_template_render("arn:{{account}}:role/{{ id }}-runner", keys, vals, 2, &err);

	(void)state;
	assert_string_equal(s, "arn:42:role/ws-a-001-runner");
	free(s);
	assert_null(ws_template_render("{{ nope }}", keys, vals, 2, &err));
	assert_non_null(strstr(err.msg, "unknown placeholder 'nope'"));
	assert_null(ws_template_render("{{ id", keys, vals, 2, &err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_types),
		cmocka_unit_test(test_anchors_and_errors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_platform_overlay),
		cmocka_unit_test(test_platform_errors),
		cmocka_unit_test(test_template_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
