/* fail_alloc.h - allocation-failure injection for unit tests. Include it in
 * one test file and link that test with UNIT_WRAP_ALLOC (Makefile): then
 * every malloc, calloc, realloc and strdup made by libworkspace or the test
 * goes through here, and, after fail_alloc_hook_cjson(), every allocation of
 * cJSON. fail_alloc_at(n) makes the n-th allocation from now fail, once;
 * fail_alloc_stop() ends that and tells whether it did (a sweep n = 1, 2, ...
 * stops at the first n that the code under test never reached). Production code has
 * no hook: the linker's --wrap does it. */
#ifndef FAIL_ALLOC_H
#define FAIL_ALLOC_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define FA_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FA_LSAN 1
#endif
#endif
#ifdef FA_LSAN
#include <sanitizer/lsan_interface.h>
#endif

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static long fa_count, fa_at; /* fa_at 0: never fail */
static int fa_fired, fa_paused;

static int fa_fail_now(void)
{
	if (fa_paused || !fa_at || fa_fired)
		return 0;
	if (++fa_count < fa_at)
		return 0;
	fa_fired = 1;
	return 1;
}

void *__wrap_malloc(size_t n)
{
	return fa_fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fa_fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fa_fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return fa_fail_now() ? NULL : __real_strdup(s);
}

static inline void *fa_cjson_malloc(size_t n)
{
	return __wrap_malloc(n);
}

static inline void fa_cjson_free(void *p)
{
	free(p);
}

/* Let cJSON's allocations count too (and fail). */
static inline void fail_alloc_hook_cjson(void)
{
	cJSON_Hooks hooks = {fa_cjson_malloc, fa_cjson_free};

	cJSON_InitHooks(&hooks);
}

/* The n-th allocation from now fails. */
static inline void fail_alloc_at(long n)
{
	fa_count = 0;
	fa_at = n;
	fa_fired = 0;
}

/* No more failures; 1 when one was made since fail_alloc_at. */
static inline int fail_alloc_stop(void)
{
	fa_at = 0;
	return fa_fired;
}

/* Under ASan: allocations made meanwhile are not reported as leaks. For a
 * sweep through code that builds cJSON trees: when cJSON_AddItemToObject
 * cannot copy the key it does not free the item, so such runs leak by
 * design of the library; what they write is what the sweep checks. */
static inline void fail_alloc_ignore_leaks(int ignore)
{
#ifdef FA_LSAN
	if (ignore)
		__lsan_disable();
	else
		__lsan_enable();
#else
	(void)ignore;
#endif
}

/* Allocations of a fake server are not the code under test's: not counted. */
static inline void fail_alloc_pause(int pause)
{
	fa_paused = pause;
}

#endif
