/* test_xalloc.c - the command-line programs' out-of-memory policy
 * (shared/xalloc.c): a failed allocation prints "<program>: out of memory"
 * and exits 1. malloc is wrapped (-Wl,--wrap, this binary only, see the
 * Makefile) so that it can fail on demand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xalloc.h"

void *__real_malloc(size_t n);
static int fail_malloc;

void *__wrap_malloc(size_t n);
void *__wrap_malloc(size_t n)
{
	return fail_malloc ? NULL : __real_malloc(n);
}

/* Run fn in a child with malloc failing: its exit status and stderr. */
static int in_child(void (*fn)(void), char *out, size_t size)
{
	int fds[2], status = 0;
	ssize_t n, got = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		fail_malloc = 1;
		fn();
		_exit(99); /* fn returned: the policy did not apply */
	}
	close(fds[1]);
	while ((n = read(fds[0], out + got, size - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void call_xmalloc(void)
{
	free(xmalloc(16));
}

static void call_cjson(void)
{
	xalloc_cjson();
	cJSON_Delete(cJSON_CreateObject());
}

static void test_out_of_memory_exits(void **state)
{
	char want[128], out[256];

	(void)state;
	snprintf(want, sizeof(want), "%s: out of memory\n", program_invocation_short_name);
	assert_int_equal(in_child(call_xmalloc, out, sizeof(out)), 1);
	assert_string_equal(out, want);
	assert_int_equal(in_child(call_cjson, out, sizeof(out)), 1);
	assert_string_equal(out, want);
}

static void test_success(void **state)
{
	char *s = xstrndup("abcdef", 3), *z = xcalloc(0, 0);

	(void)state;
	assert_string_equal(s, "abc");
	assert_non_null(z);
	s = xrealloc(s, 64);
	assert_string_equal(s, "abc");
	free(s);
	free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_out_of_memory_exits),
		cmocka_unit_test(test_success),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
