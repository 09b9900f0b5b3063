/* alloc.c - per-thread small-block cache for cJSON (see alloc.h). */
#include "alloc.h"

#include <cjson/cJSON.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#define GRAIN 16
#define CLASSES 16    /* blocks of up to 16 * 16 = 256 bytes */
#define PER_CLASS 256 /* at most this many kept per size, per thread */

struct block {
	struct block *next;
};

struct cache {
	struct block *head[CLASSES];
	unsigned int n[CLASSES];
};

static __thread struct cache *tc;
static pthread_key_t key;

static void drain(void *arg)
{
	struct cache *c = arg;
	size_t i;

	if (!c)
		return;
	for (i = 0; i < CLASSES; i++) {
		while (c->head[i]) {
			struct block *b = c->head[i];

			c->head[i] = b->next;
			free(b);
		}
	}
	free(c);
	if (c == tc)
		tc = NULL;
}

/* Class i serves requests of up to (i + 1) * GRAIN bytes. */
static void *hook_malloc(size_t size)
{
	size_t i = size ? (size - 1) / GRAIN : 0;
	struct block *b;

	if (i >= CLASSES)
		return malloc(size);
	if (tc && (b = tc->head[i]) != NULL) {
		tc->head[i] = b->next;
		tc->n[i]--;
		return b;
	}
	return malloc((i + 1) * GRAIN);
}

static void hook_free(void *p)
{
	struct block *b = p;
	size_t usable, i;

	if (!p)
		return;
	usable = malloc_usable_size(p);
	if (usable < GRAIN) {
		free(p);
		return;
	}
	i = usable / GRAIN - 1;
	if (i >= CLASSES) {
		free(p);
		return;
	}
	if (!tc) {
		tc = calloc(1, sizeof(*tc));
		if (!tc || pthread_setspecific(key, tc) != 0) {
			free(tc);
			tc = NULL;
			free(p);
			return;
		}
	}
	if (tc->n[i] >= PER_CLASS) {
		free(p);
		return;
	}
	b->next = tc->head[i];
	tc->head[i] = b;
	tc->n[i]++;
}

void wh_alloc_install(void)
{
	cJSON_Hooks hooks = {hook_malloc, hook_free};

	if (pthread_key_create(&key, drain) != 0)
		return;
	cJSON_InitHooks(&hooks);
	atexit(wh_alloc_thread_done); /* the main thread's cache: key destructors skip it */
}

void wh_alloc_thread_done(void)
{
	struct cache *c = tc;

	if (!c)
		return;
	pthread_setspecific(key, NULL);
	drain(c);
}
