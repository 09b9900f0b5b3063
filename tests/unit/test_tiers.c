/* test_tiers.c - the built-in tier table, operator overrides, quantities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tiers.h"
#include "yamlconv.h"

static void test_builtin(void **state)
{
	static const char *const want[][2] = {
		{"requests.cpu", "20"}, {"requests.memory", "40Gi"}, {"limits.cpu", "40"},
		{"limits.memory", "80Gi"}, {"pods", "100"}, {"persistentvolumeclaims", "20"},
	};
	ws_tiers t = {0};
	const ws_tier *s;
	char names[64];
	ws_err err;
	size_t i;

	(void)state;
	assert_int_equal(ws_tiers_default(&t, &err), 0);
	ws_tiers_names(&t, names, sizeof(names));
	assert_string_equal(names, "small, standard, large");
	s = ws_tiers_find(&t, "standard", &err);
	assert_non_null(s);
	assert_int_equal(s->nitems, 6);
	for (i = 0; i < 6; i++) {
		assert_string_equal(s->items[i].resource, want[i][0]);
		assert_string_equal(s->items[i].quantity, want[i][1]);
	}
	assert_string_equal(ws_tier_get(ws_tiers_find(&t, "small", &err), "limits.memory"), "16Gi");
	assert_string_equal(ws_tier_get(ws_tiers_find(&t, "large", &err), "pods"), "500");
	assert_null(ws_tier_get(s, "services"));
	assert_null(ws_tiers_find(&t, "huge", &err));
	assert_string_equal(err.msg, "unknown tier 'huge' (known tiers: small, standard, large)");
	ws_tiers_release(&t);
}

static void test_override_file(void **state)
{
	char path[] = "/tmp/ws-tiers-XXXXXX";
	const char *yaml = "gpu:\n  requests.nvidia.com/gpu: 2\n  limits.cpu: \"16\"\n"
			   "tiny:\n  pods: 5\n";
	ws_tiers t = {0};
	const ws_tier *g;
	ws_err err;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (int)strlen(yaml));
	close(fd);
	ws_tiers_default(&t, &err);
	assert_int_equal(ws_tiers_load_file(&t, path, &err), 0);
	unlink(path);
	assert_int_equal(t.n, 2);
	assert_null(ws_tiers_find(&t, "standard", &err));
	g = ws_tiers_find(&t, "gpu", &err);
	assert_non_null(g);
	assert_string_equal(ws_tier_get(g, "requests.nvidia.com/gpu"), "2");
	assert_string_equal(ws_tier_get(g, "limits.cpu"), "16");
	assert_string_equal(ws_tier_get(ws_tiers_find(&t, "tiny", &err), "pods"), "5");
	ws_tiers_release(&t);
}

static void bad_table(const char *yaml, const char *want)
{
	ws_tiers t = {0};
	ws_err err;
	cJSON *j = ws_yaml_parse(yaml, strlen(yaml), &err);

	assert_non_null(j);
	ws_tiers_default(&t, &err);
	assert_int_equal(ws_tiers_from_json(&t, j, &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("'%s' lacks '%s'", err.msg, want);
	/* the table is unchanged after a failed load */
	assert_int_equal(t.n, 3);
	cJSON_Delete(j);
	ws_tiers_release(&t);
}

static void test_bad_tables(void **state)
{
	(void)state;
	bad_table("[]", "must map tier names");
	bad_table("x: 1", "tier 'x' must map resource names");
	bad_table("x: {pods: lots}", "'lots' for 'pods' is not a quantity");
	bad_table("x: {\"bad key!\": 1}", "'bad key!' is not a resource name");
	bad_table("\"Bad Tier\": {pods: 1}", "tier name 'Bad Tier' is invalid");
}

static void test_quantities(void **state)
{
	(void)state;
	assert_true(ws_quantity_valid("20"));
	assert_true(ws_quantity_valid("40Gi"));
	assert_true(ws_quantity_valid("500m"));
	assert_true(ws_quantity_valid("1.5"));
	assert_true(ws_quantity_valid("1e3"));
	assert_true(ws_quantity_valid("+2k"));
	assert_false(ws_quantity_valid(""));
	assert_false(ws_quantity_valid("Gi"));
	assert_false(ws_quantity_valid("1.2.3"));
	assert_false(ws_quantity_valid("10GB"));
	assert_false(ws_quantity_valid("ten"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_override_file),
		cmocka_unit_test(test_bad_tables),
		cmocka_unit_test(test_quantities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
