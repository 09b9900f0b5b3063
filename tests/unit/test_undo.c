/* test_undo.c - the undo log (shared/undo.h): order, ownership, the
 * queries the rollback makes, and a push that fails for want of memory
 * leaving the log as it was, while a push into reserved room cannot fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fail_alloc.h"
#include "undo.h"

static void push_object(ws_undo *u, const ws_kind *k, const char *ns, const char *name,
			cJSON *before, int expect)
{
	ws_undo_entry e;
	ws_err err;

	ws_undo_object(&e, WS_UNDO_OBJECT, WS_STEP_ROLE, k, ns, name, before);
	assert_int_equal(ws_undo_push(u, &e, &err), expect);
	if (expect)
		assert_string_equal(err.msg, "out of memory");
}

static void test_order_and_queries(void **state)
{
	ws_undo u = {0};
	ws_undo_entry e;
	int i;

	(void)state;
	push_object(&u, &WS_KIND_NAMESPACE, NULL, "flyte-ws-a-001-development", NULL, 0);
	push_object(&u, &WS_KIND_ROLE, "flyte-ws-a-001-development", "r", cJSON_CreateObject(), 0);
	for (i = 0; i < 20; i++) /* grows past its first allocation */
		push_object(&u, &WS_KIND_ROLE, "ns", "x", NULL, 0);
	assert_int_equal(u.n, 22);
	assert_string_equal(u.items[0].name, "flyte-ws-a-001-development");
	assert_non_null(u.items[1].before);
	assert_true(ws_undo_created_namespace(&u, "flyte-ws-a-001-development"));
	assert_false(ws_undo_created_namespace(&u, "other"));
	assert_false(ws_undo_registered_project(&u));
	memset(&e, 0, sizeof(e));
	e.what = WS_UNDO_FLYTE_PROJECT;
	snprintf(e.name, sizeof(e.name), "ws-a-001");
	e.before = cJSON_CreateObject(); /* updated, not registered */
	assert_int_equal(ws_undo_push(&u, &e, NULL), 0);
	assert_false(ws_undo_registered_project(&u));
	e.before = NULL;
	assert_int_equal(ws_undo_push(&u, &e, NULL), 0);
	assert_true(ws_undo_registered_project(&u));
	ws_undo_release(&u); /* frees every before (ASan checks) */
	assert_int_equal(u.n, 0);
	assert_null(u.items);
}

/* A push that cannot grow the log fails, and the log is as it was. */
static void test_push_fails_cleanly(void **state)
{
	ws_undo u = {0};
	cJSON *before = cJSON_CreateObject();
	size_t n;

	(void)state;
	push_object(&u, &WS_KIND_ROLE, "ns", "a", NULL, 0);
	while (u.n < u.cap)
		push_object(&u, &WS_KIND_ROLE, "ns", "fill", NULL, 0);
	n = u.n;
	fail_alloc_at(1);
	push_object(&u, &WS_KIND_ROLE, "ns", "b", before, -1);
	assert_true(fail_alloc_stop());
	assert_int_equal(u.n, n);
	assert_string_equal(u.items[u.n - 1].name, "fill");
	push_object(&u, &WS_KIND_ROLE, "ns", "b", before, 0); /* the log takes it now */
	assert_ptr_equal(u.items[n].before, before);
	ws_undo_release(&u);
}

/* After ws_undo_reserve(n), n pushes allocate nothing: they cannot fail. */
static void test_reserved_push_cannot_fail(void **state)
{
	ws_undo u = {0};
	ws_err err;
	int i;

	(void)state;
	assert_int_equal(ws_undo_reserve(&u, 40, &err), 0);
	fail_alloc_at(1);
	for (i = 0; i < 40; i++)
		push_object(&u, &WS_KIND_ROLE, "ns", "x", NULL, 0);
	assert_false(fail_alloc_stop());
	fail_alloc_at(1);
	assert_int_equal(ws_undo_reserve(&u, 100, &err), -1);
	assert_true(fail_alloc_stop());
	assert_string_equal(err.msg, "out of memory");
	assert_int_equal(u.n, 40);
	ws_undo_release(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_queries),
		cmocka_unit_test(test_push_fails_cleanly),
		cmocka_unit_test(test_reserved_push_cannot_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
