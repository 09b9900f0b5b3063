/* undo.c - the undo log of a provisioning run (see undo.h). */
#include "undo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ws_undo_reserve(ws_undo *u, size_t n, ws_err *err)
{
	ws_undo_entry *items;
	size_t cap;

	if (u->n + n <= u->cap)
		return 0;
	cap = u->cap ? u->cap : 8;
	while (cap < u->n + n)
		cap *= 2;
	items = realloc(u->items, cap * sizeof(*items));
	if (!items)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	u->items = items;
	u->cap = cap;
	return 0;
}

int ws_undo_push(ws_undo *u, const ws_undo_entry *e, ws_err *err)
{
	if (ws_undo_reserve(u, 1, err))
		return -1;
	u->items[u->n++] = *e;
	return 0;
}

void ws_undo_object(ws_undo_entry *e, enum ws_undo_what what, enum ws_step step,
		    const ws_kind *k, const char *ns, const char *name, cJSON *before)
{
	memset(e, 0, sizeof(*e));
	e->what = what;
	e->step = step;
	e->kind = k;
	snprintf(e->ns, sizeof(e->ns), "%s", ns ? ns : "");
	snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
	e->before = before;
}

int ws_undo_created_namespace(const ws_undo *u, const char *ns)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (u->items[i].what == WS_UNDO_OBJECT && u->items[i].kind == &WS_KIND_NAMESPACE &&
		    !u->items[i].before && strcmp(u->items[i].name, ns) == 0)
			return 1;
	return 0;
}

int ws_undo_registered_project(const ws_undo *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (u->items[i].what == WS_UNDO_FLYTE_PROJECT && !u->items[i].before)
			return 1;
	return 0;
}

void ws_undo_release(ws_undo *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		cJSON_Delete(u->items[i].before);
	free(u->items);
	memset(u, 0, sizeof(*u));
}
