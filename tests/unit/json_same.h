/* json_same.h - for the tests of the arena JSON parser (unit and fuzz):
 * whether two cJSON trees are the same, so that jsondoc.c can be held to
 * exactly what cJSON builds. Header-only: each test program includes it. */
#ifndef WS_TEST_JSON_SAME_H
#define WS_TEST_JSON_SAME_H

#include <cjson/cJSON.h>
#include <string.h>

/* Same types, values, keys and order, and the same list links. */
static inline int same_tree(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	if ((a->type & 0xFF) != (b->type & 0xFF) || a->valueint != b->valueint ||
	    memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)) != 0 ||
	    !a->string != !b->string || (a->string && strcmp(a->string, b->string) != 0) ||
	    !a->valuestring != !b->valuestring ||
	    (a->valuestring && strcmp(a->valuestring, b->valuestring) != 0) ||
	    !a->child != !b->child || (a->child && !a->child->prev != !b->child->prev))
		return 0;
	for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
		if (!same_tree(x, y) || (x->next && x->next->prev != x) ||
		    (y->next && y->next->prev != y) ||
		    (!x->next && x != a->child->prev) || (!y->next && y != b->child->prev))
			return 0;
	return !x && !y;
}

#endif
