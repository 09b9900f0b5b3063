/* xalloc.c - allocations that exit on failure (see xalloc.h). */
#include "xalloc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *checked(void *p)
{
	if (!p) {
		/* No stdio: it may need the memory that just ran out. */
		static const char tail[] = ": out of memory\n";
		const char *name = program_invocation_short_name;

		if (write(STDERR_FILENO, name, strlen(name)) < 0 ||
		    write(STDERR_FILENO, tail, sizeof(tail) - 1) < 0)
			_exit(1);
		exit(1);
	}
	return p;
}

void *xmalloc(size_t n)
{
	return checked(malloc(n ? n : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return checked(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t n)
{
	return checked(realloc(p, n ? n : 1));
}

char *xstrdup(const char *s)
{
	return checked(strdup(s));
}

char *xstrndup(const char *s, size_t n)
{
	return checked(strndup(s, n));
}

static void *cjson_malloc(size_t n)
{
	return xmalloc(n);
}

void xalloc_cjson(void)
{
	cJSON_Hooks hooks = {cjson_malloc, free};

	cJSON_InitHooks(&hooks);
}
