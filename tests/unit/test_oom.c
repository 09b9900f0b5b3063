/* test_oom.c - out of memory in shared code is an error, never a crash or a
 * silently shorter result: the string list (shared/strlist.c, also its
 * NULL-terminated items and lookups), platform settings and tiers. strdup
 * and realloc are wrapped (-Wl,--wrap, this binary only, see the Makefile)
 * so that a test can make them fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "strlist.h"
#include "tiers.h"

char *__real_strdup(const char *s);
void *__real_realloc(void *p, size_t n);

static int fail_strdup, fail_realloc; /* make the next calls fail */

char *__wrap_strdup(const char *s);
char *__wrap_strdup(const char *s)
{
	return fail_strdup ? NULL : __real_strdup(s);
}

void *__wrap_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n)
{
	return fail_realloc ? NULL : __real_realloc(p, n);
}

static void test_add_has_release(void **state)
{
	ws_strlist l = {0};
	ws_err err;

	(void)state;
	assert_int_equal(ws_strlist_add(&l, "a", &err), 0);
	assert_int_equal(ws_strlist_add(&l, "b", &err), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0], "a");
	assert_string_equal(l.items[1], "b");
	assert_null(l.items[2]);
	assert_true(ws_strlist_has(&l, "b"));
	assert_false(ws_strlist_has(&l, "c"));
	ws_strlist_release(&l);
	assert_null(l.items);
	assert_int_equal(l.n, 0);
}

static void add_fails(int *which)
{
	ws_strlist l = {0};
	ws_err err;

	assert_int_equal(ws_strlist_add(&l, "kept", &err), 0);
	*which = 1;
	ws_err_clear(&err);
	assert_int_equal(ws_strlist_add(&l, "lost", &err), -1);
	*which = 0;
	assert_int_equal(err.kind, WS_E_INTERNAL);
	assert_string_equal(err.msg, "out of memory");
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0], "kept");
	assert_null(l.items[1]);
	ws_strlist_release(&l);
}

static void test_add_reports_out_of_memory(void **state)
{
	(void)state;
	add_fails(&fail_strdup);
	add_fails(&fail_realloc);
}

/* A caller: a platform list setting that cannot be stored is an error,
 * not a shorter list. */
static void test_platform_list_out_of_memory(void **state)
{
	static const char yaml[] = "domains: [development, production]\ndefaultDomain: production\n";
	ws_platform p;
	ws_err err;

	(void)state;
	assert_int_equal(ws_platform_defaults(&p, &err), 0);
	fail_realloc = 1;
	assert_int_equal(ws_platform_apply_text(&p, yaml, strlen(yaml), "test", &err), -1);
	fail_realloc = 0;
	assert_non_null(strstr(err.msg, "out of memory"));
	assert_int_equal(ws_platform_apply_text(&p, yaml, strlen(yaml), "test", &err), 0);
	assert_int_equal(p.domains.n, 2);
	ws_platform_release(&p);
}

/* A platform string setting that cannot be copied is an error, and the old
 * value stays (not a NULL setting). */
static void test_platform_setting_out_of_memory(void **state)
{
	cJSON *cfg = cJSON_Parse("{\"systemNamespace\": \"other\", \"cloud\": {\"provider\": \"gcp\"}}");
	ws_platform p;
	ws_err err;

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(ws_platform_defaults(&p, &err), 0);
	fail_strdup = 1;
	assert_int_equal(ws_platform_apply(&p, cfg, &err), -1);
	fail_strdup = 0;
	assert_string_equal(err.msg, "out of memory");
	assert_string_equal(p.system_namespace, "workspace-system");
	assert_int_equal(ws_platform_apply(&p, cfg, &err), 0);
	assert_string_equal(p.system_namespace, "other");
	assert_string_equal(p.storage_scheme, "gs");
	ws_platform_release(&p);
	cJSON_Delete(cfg);
}

static void test_tiers_out_of_memory(void **state)
{
	cJSON *table = cJSON_Parse("{\"tiny\": {\"pods\": 5}}");
	ws_tiers t = {0};
	ws_err err;

	(void)state;
	fail_strdup = 1;
	assert_int_equal(ws_tiers_default(&t, &err), -1);
	fail_strdup = 0;
	assert_string_equal(err.msg, "out of memory");
	assert_int_equal(t.n, 0);
	assert_int_equal(ws_tiers_default(&t, &err), 0);
	fail_strdup = 1;
	assert_int_equal(ws_tiers_from_json(&t, table, &err), -1);
	fail_strdup = 0;
	assert_string_equal(err.msg, "out of memory");
	assert_int_equal(t.n, 3); /* the table before */
	assert_int_equal(ws_tiers_from_json(&t, table, &err), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.tiers[0].items[0].quantity, "5");
	ws_tiers_release(&t);
	cJSON_Delete(table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_has_release),
		cmocka_unit_test(test_add_reports_out_of_memory),
		cmocka_unit_test(test_platform_list_out_of_memory),
		cmocka_unit_test(test_platform_setting_out_of_memory),
		cmocka_unit_test(test_tiers_out_of_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
