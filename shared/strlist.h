/* strlist.h - the one growable list of owned strings (flag values, domains,
 * certificate names, an exec plugin's argv and environment).
 *
 * Lifecycle: ws_strlist l = {0} -> ws_strlist_add... -> ws_strlist_release.
 * The list owns a copy of every string. Once non-empty, items[n] is NULL,
 * so items can be passed as an argv or envp as it is.
 */
#ifndef WS_STRLIST_H
#define WS_STRLIST_H

#include <stddef.h>

#include "error.h"

typedef struct ws_strlist {
	char **items;
	size_t n;
} ws_strlist;

/* Append a copy of s. On out of memory: -1, err set, the list unchanged. */
int ws_strlist_add(ws_strlist *l, const char *s, ws_err *err);
/* 1 when s is in the list, else 0. */
int ws_strlist_has(const ws_strlist *l, const char *s);
/* Free every string and the array; the list is empty (and reusable) after. */
void ws_strlist_release(ws_strlist *l);

#endif
