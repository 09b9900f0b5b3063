/* undo.h - the undo log of a provisioning run: every change the run made to
 * the cluster, Flyte Admin or the record, in order, with what is needed to
 * put it back. The log is a plain list; carrying it out is prov_undo.c's.
 *
 * Ownership: an entry's `before` belongs to the log once pushed and is freed
 * by ws_undo_release. Growing the log is the only thing that can fail, so a
 * run reserves room before it acts (ws_undo_reserve) and its pushes after
 * the act then cannot fail: no change is ever left out of the log.
 */
#ifndef WS_UNDO_H
#define WS_UNDO_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"
#include "kinds.h"
#include "naming.h"
#include "plan.h"

enum ws_undo_what {
	WS_UNDO_OBJECT,        /* a Kubernetes object (kind, ns, name) */
	WS_UNDO_RECORD,        /* the workspace record ConfigMap (kind, ns, name) */
	WS_UNDO_FLYTE_PROJECT, /* the Flyte project `name` */
	WS_UNDO_FLYTE_ATTRS    /* the project settings `what` of project `name` at `path` */
};

typedef struct ws_undo_entry {
	enum ws_undo_what what;
	enum ws_step step;
	const ws_kind *kind;         /* objects and the record; NULL for Flyte */
	char ns[WS_NAME_BUF];
	char name[WS_LONG_NAME_BUF]; /* object name, record id or Flyte project id */
	char path[256];              /* Flyte settings: the attributes path */
	const char *attrs;           /* Flyte settings: "workflow_execution_config", ... (static) */
	cJSON *before;               /* NULL: created by the run (undo = delete, archive or
					delete the settings); else the previous state (owned) */
} ws_undo_entry;

typedef struct ws_undo {
	ws_undo_entry *items;        /* in the order the changes were made */
	size_t n;
	size_t cap;
} ws_undo;

/* Make room for n more entries. -1 "out of memory" (the log is unchanged). */
int ws_undo_reserve(ws_undo *u, size_t n, ws_err *err);

/* Append a copy of *e; the log takes e->before. Fails only when there was no
 * reserved room and none could be made: then nothing changes and e->before
 * is still the caller's. */
int ws_undo_push(ws_undo *u, const ws_undo_entry *e, ws_err *err);

/* Fill an entry for an object or record (ns may be NULL); before is taken as is. */
void ws_undo_object(ws_undo_entry *e, enum ws_undo_what what, enum ws_step step,
		    const ws_kind *k, const char *ns, const char *name, cJSON *before);

/* 1 when the log holds the creation of namespace ns. */
int ws_undo_created_namespace(const ws_undo *u, const char *ns);

/* 1 when the log holds the registration (creation) of a Flyte project. */
int ws_undo_registered_project(const ws_undo *u);

/* Free every entry's before and the list; the log is empty afterwards. */
void ws_undo_release(ws_undo *u);

#endif
