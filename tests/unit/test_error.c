/* test_error.c - the error convention's helpers (shared/error.c): prefix
 * and append, truncated to the message buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "error.h"

static void test_prefix_and_append(void **state)
{
	ws_err err;

	(void)state;
	ws_fail(&err, WS_E_HTTP, "forbidden");
	assert_int_equal(ws_err_prefix(&err, "cannot create '%s'", "x"), -1);
	assert_int_equal(ws_err_append(&err, " (after %d attempts)", 3), -1);
	assert_string_equal(err.msg, "cannot create 'x': forbidden (after 3 attempts)");
	assert_int_equal(err.kind, WS_E_HTTP);
	assert_int_equal(ws_err_append(NULL, "%s", "dropped"), -1);
}

static void test_append_truncates(void **state)
{
	char long_text[2 * WS_ERR_MSG_MAX];
	ws_err err;

	(void)state;
	memset(long_text, 'a', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	ws_fail(&err, WS_E_IO, "start");
	ws_err_append(&err, "%s", long_text);
	assert_int_equal(strlen(err.msg), WS_ERR_MSG_MAX - 1);
	assert_memory_equal(err.msg, "startaaa", 8);
	ws_err_append(&err, "more");
	assert_int_equal(strlen(err.msg), WS_ERR_MSG_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_and_append),
		cmocka_unit_test(test_append_truncates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
