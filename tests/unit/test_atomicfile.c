/* test_atomicfile.c - ws_file_replace (shared/atomicfile.c): contents and
 * mode of the new file, and on every failure the old file kept, no
 * temporary file left behind and no descriptor left open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"

static char dir[] = "/tmp/ws-atomic-XXXXXX";

static int write_text(FILE *f, void *text, ws_err *err)
{
	(void)err;
	return fputs(text, f) < 0 ? -1 : 0;
}

static int write_fails(FILE *f, void *text, ws_err *err)
{
	fputs(text, f);
	return ws_fail(err, WS_E_INVALID, "writer gave up");
}

static size_t count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void assert_contents(const char *path, const char *want)
{
	char got[256] = "";
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_true(fread(got, 1, sizeof(got) - 1, f) <= sizeof(got) - 1);
	fclose(f);
	assert_string_equal(got, want);
}

static void test_replace(void **state)
{
	char path[64];
	struct stat st;
	mode_t old = umask(022);
	ws_err err;

	(void)state;
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	assert_int_equal(ws_file_replace(path, 0600, write_text, "one\n", &err), 0);
	assert_contents(path, "one\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ws_file_replace(path, 0644, write_text, "two\n", &err), 0);
	assert_contents(path, "two\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(count_entries(dir), 1);
	unlink(path);
	umask(old);
}

/* The umask applies, as to open(2): 0644 under 077 is 0600. */
static void test_umask_applies(void **state)
{
	char path[64];
	struct stat st;
	mode_t old = umask(077);
	ws_err err;

	(void)state;
	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	assert_int_equal(ws_file_replace(path, 0644, write_text, "x\n", &err), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	unlink(path);
}

static void test_failures_leave_nothing(void **state)
{
	char path[64], sub[64], missing[96];
	size_t fds = count_entries("/proc/self/fd");
	ws_err err;

	(void)state;
	snprintf(path, sizeof(path), "%s/config.yaml", dir);
	assert_int_equal(ws_file_replace(path, 0644, write_text, "old\n", &err), 0);
	/* The writer fails: its message, the old contents. */
	assert_int_equal(ws_file_replace(path, 0644, write_fails, "new\n", &err), -1);
	assert_string_equal(err.msg, "writer gave up");
	assert_contents(path, "old\n");
	/* The rename fails (a directory is in the way). */
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(ws_file_replace(sub, 0644, write_text, "x", &err), -1);
	assert_int_equal(err.kind, WS_E_IO);
	assert_non_null(strstr(err.msg, "cannot write '"));
	/* No such directory. */
	snprintf(missing, sizeof(missing), "%s/none/x", dir);
	assert_int_equal(ws_file_replace(missing, 0644, write_text, "x", &err), -1);
	assert_non_null(strstr(err.msg, "No such file or directory"));
	assert_int_equal(count_entries(dir), 2);
	assert_int_equal(count_entries("/proc/self/fd"), fds);
	rmdir(sub);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_umask_applies),
		cmocka_unit_test(test_failures_leave_nothing),
	};
	int rc;

	if (!mkdtemp(dir))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
