/* strlist.c - the growable list of owned strings (see strlist.h). */
#include "strlist.h"

#include <stdlib.h>
#include <string.h>

int ws_strlist_add(ws_strlist *l, const char *s, ws_err *err)
{
	char *copy = strdup(s);
	char **items;

	if (!copy)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	items = realloc(l->items, (l->n + 2) * sizeof(*items));
	if (!items) {
		free(copy);
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	}
	l->items = items;
	l->items[l->n++] = copy;
	l->items[l->n] = NULL;
	return 0;
}

int ws_strlist_has(const ws_strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return 1;
	return 0;
}

void ws_strlist_release(ws_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}
