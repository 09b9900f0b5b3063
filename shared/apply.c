/* apply.c - bringing plan objects to the cluster: created in parallel, and
 * those that exist read, compared and updated (labels and annotations
 * merged, the rest replaced; a rolebinding whose roleRef changed replaced).
 * Every change is logged for undo, room reserved before it is made. */
#include "prov_internal.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

#define UPDATE_ROUNDS 3

/* The objects of one apply and where each stands. */
struct batch {
	ws_run *run;
	const ws_plan_object *const *objs;
	size_t n;
	ws_k8s_op *ops;  /* per object: its create, then its read */
	int *pending;    /* exists: to be read, compared and maybe updated */
	int failed;
	ws_err *err;
};

/* desired merged into existing: labels and annotations entries set, every
 * other top-level field of desired replaced. NULL when out of memory. */
static cJSON *merge_into(const cJSON *desired, const cJSON *existing)
{
	cJSON *m = cJSON_Duplicate(existing, 1), *meta = ws_json_obj(m, "metadata");
	const cJSON *f, *e;
	const char *maps[] = {"labels", "annotations"};
	size_t i;

	if (!m || !meta) {
		cJSON_Delete(m);
		return NULL;
	}
	for (i = 0; i < 2; i++) {
		const cJSON *want = ws_json_get(desired, "metadata", maps[i], NULL);
		cJSON *have;

		if (!want)
			continue;
		have = ws_json_obj(meta, maps[i]);
		cJSON_ArrayForEach(e, want)
			ws_json_set(have, e->string, cJSON_Duplicate(e, 1));
	}
	cJSON_ArrayForEach(f, desired) {
		if (strcmp(f->string, "metadata") == 0 || strcmp(f->string, "apiVersion") == 0 ||
		    strcmp(f->string, "kind") == 0)
			continue;
		ws_json_set(m, f->string, cJSON_Duplicate(f, 1));
	}
	return m;
}

static int roleref_differs(const cJSON *desired, const cJSON *existing)
{
	const cJSON *w = ws_json_get(desired, "roleRef", NULL);

	return w && !cJSON_Compare(w, ws_json_get(existing, "roleRef", NULL), 1);
}

/* The first failure of the batch fills b->err: "step 'role': cannot create role/x in namespace y: ...". */
static void set_error(struct batch *b, size_t i, const char *verb, const ws_err *cause)
{
	const ws_plan_object *o = b->objs[i];
	char subject[320];

	if (b->failed++)
		return;
	ws_prov_subject(o->kind, o->name, subject, sizeof(subject));
	*b->err = *cause;
	ws_err_prefix(b->err, "step '%s': cannot %s %s%s%s", ws_step_name(o->step), verb, subject,
		      o->namespace ? " in namespace " : "", o->namespace ? o->namespace : "");
}

static void report_object(struct batch *b, size_t i, enum ws_outcome o, const char *detail)
{
	char subject[320];

	ws_prov_subject(b->objs[i]->kind, b->objs[i]->name, subject, sizeof(subject));
	ws_prov_report(b->run->p, b->objs[i]->step, subject, o, detail);
}

/* Report object i failed and set the error (first failure only). */
static void fail_object(struct batch *b, size_t i, const char *verb, const ws_err *cause)
{
	report_object(b, i, WS_OUT_FAILED, cause->msg);
	set_error(b, i, verb, cause);
}

static void fail_oom(struct batch *b)
{
	if (!b->failed++)
		ws_fail(b->err, WS_E_INTERNAL, "out of memory");
}

/* Log a change of object i for undo; before (taken) is NULL for a creation.
 * Room was reserved before the change, so this cannot fail. */
static void log_change(struct batch *b, size_t i, cJSON *before)
{
	const ws_plan_object *o = b->objs[i];
	ws_undo_entry e;

	if (b->run->p->dry_run) {
		cJSON_Delete(before);
		return;
	}
	ws_undo_object(&e, WS_UNDO_OBJECT, o->step, o->kind, o->namespace, o->name, before);
	if (ws_undo_push(&b->run->undo, &e, NULL))
		abort(); /* cannot happen: room was reserved */
}

/* Room in the undo log for n changes, before making them. */
static int reserve(struct batch *b, size_t n)
{
	if (b->run->p->dry_run || ws_undo_reserve(&b->run->undo, n, NULL) == 0)
		return 0;
	fail_oom(b);
	return -1;
}

/* Create every object at once; those that exist become pending. */
static void create_all(struct batch *b)
{
	ws_prov *p = b->run->p;
	size_t i;

	if (reserve(b, b->n))
		return;
	for (i = 0; i < b->n; i++) {
		report_object(b, i, WS_OUT_START, NULL);
		b->ops[i].verb = WS_K8S_CREATE;
		b->ops[i].kind = b->objs[i]->kind;
		b->ops[i].ns = b->objs[i]->namespace;
		b->ops[i].body = b->objs[i]->body;
		b->ops[i].dry_run = p->dry_run;
	}
	ws_k8s_run(p->k8s, b->ops, b->n);
	for (i = 0; i < b->n; i++) {
		if (b->ops[i].rc == 0) {
			log_change(b, i, NULL);
			report_object(b, i, WS_OUT_CREATED, NULL);
		} else if (p->dry_run && b->objs[i]->kind->namespaced &&
			   ws_err_is_http(&b->ops[i].err, 404)) {
			/* A server dry run creates no namespace, so the server cannot check
			 * what goes into a new one. */
			report_object(b, i, WS_OUT_CREATED,
				      "not checked by the server: its namespace does not exist yet");
		} else if (ws_err_is_http(&b->ops[i].err, 409)) {
			b->pending[i] = 1;
		} else if (!b->failed) {
			fail_object(b, i, "create", &b->ops[i].err);
		}
	}
}

/* Read every pending object at once into b->ops[i].result. Returns how many
 * were read (0: none pending, or a failure). */
static size_t read_pending(struct batch *b)
{
	ws_k8s_op *batch = calloc(b->n + 1, sizeof(*batch));
	size_t *idx = calloc(b->n + 1, sizeof(*idx)), i, j, npending = 0;

	ws_k8s_ops_release(b->ops, b->n);
	memset(b->ops, 0, b->n * sizeof(*b->ops));
	if (!batch || !idx) {
		free(batch);
		free(idx);
		fail_oom(b);
		return 0;
	}
	for (i = 0; i < b->n; i++) {
		if (!b->pending[i])
			continue;
		batch[npending].verb = WS_K8S_GET;
		batch[npending].kind = b->objs[i]->kind;
		batch[npending].ns = b->objs[i]->namespace;
		batch[npending].name = b->objs[i]->name;
		idx[npending++] = i;
	}
	if (npending)
		ws_k8s_run(b->run->p->k8s, batch, npending);
	for (j = 0; j < npending; j++)
		b->ops[idx[j]] = batch[j];
	free(batch);
	free(idx);
	return npending;
}

/* roleRef is immutable: replace the binding. Its undo is two entries, run
 * in reverse: delete the new binding, then create the old one again. A
 * server dry run cannot create what it only pretended to delete. */
static void replace_binding(struct batch *b, size_t i)
{
	ws_prov *p = b->run->p;
	const ws_plan_object *o = b->objs[i];
	ws_err e;

	if (reserve(b, 2))
		return;
	if (ws_k8s_delete(p->k8s, o->kind, o->namespace, o->name, p->dry_run, &e)) {
		fail_object(b, i, "replace", &e);
		return;
	}
	log_change(b, i, b->ops[i].result);
	b->ops[i].result = NULL;
	if (!p->dry_run && ws_k8s_create(p->k8s, o->kind, o->body, 0, NULL, &e)) {
		fail_object(b, i, "replace", &e);
		return;
	}
	log_change(b, i, NULL);
	b->pending[i] = 0;
	report_object(b, i, WS_OUT_CONFIGURED, "roleRef replaced");
}

/* Compare each pending object read with the plan: unchanged ones are done,
 * bindings replaced; the rest get an update in upd[] (bodies owned there). */
static size_t decide(struct batch *b, ws_k8s_op *upd, size_t *idx)
{
	size_t i, nu = 0;

	for (i = 0; i < b->n && !b->failed; i++) {
		const ws_plan_object *o = b->objs[i];

		if (!b->pending[i])
			continue;
		if (b->ops[i].rc) {
			fail_object(b, i, "read", &b->ops[i].err);
		} else if (ws_json_subset(o->body, b->ops[i].result)) {
			b->pending[i] = 0;
			report_object(b, i, WS_OUT_UNCHANGED, NULL);
		} else if (o->kind == &WS_KIND_ROLEBINDING && roleref_differs(o->body, b->ops[i].result)) {
			replace_binding(b, i);
		} else if (!(upd[nu].body = merge_into(o->body, b->ops[i].result))) {
			fail_oom(b);
		} else {
			upd[nu].verb = WS_K8S_UPDATE;
			upd[nu].kind = o->kind;
			upd[nu].ns = o->namespace;
			upd[nu].name = o->name;
			upd[nu].dry_run = b->run->p->dry_run;
			idx[nu++] = i;
		}
	}
	return nu;
}

/* Run the updates decided at once. They ran together: every one that
 * succeeded is logged for undo, also those after a failure; a 409 Conflict
 * stays pending, to be read again next round. */
static void update(struct batch *b, ws_k8s_op *upd, const size_t *idx, size_t nu)
{
	size_t i, j;

	if (b->failed || !nu || reserve(b, nu))
		return;
	ws_k8s_run(b->run->p->k8s, upd, nu);
	for (j = 0; j < nu; j++) {
		i = idx[j];
		if (upd[j].rc == 0) {
			log_change(b, i, b->ops[i].result);
			b->ops[i].result = NULL;
			b->pending[i] = 0;
			report_object(b, i, WS_OUT_CONFIGURED, NULL);
		} else if (!ws_err_is_http(&upd[j].err, 409)) {
			fail_object(b, i, "update", &upd[j].err);
		}
	}
}

/* One round over the pending objects: read, compare, update. */
static void update_round(struct batch *b)
{
	size_t n = read_pending(b), nu, j;
	ws_k8s_op *upd;
	size_t *idx;

	if (!n)
		return;
	upd = calloc(n, sizeof(*upd));
	idx = calloc(n, sizeof(*idx));
	if (!upd || !idx) {
		fail_oom(b);
	} else {
		nu = decide(b, upd, idx);
		update(b, upd, idx, nu);
		ws_k8s_ops_release(upd, nu);
		for (j = 0; j < nu; j++)
			cJSON_Delete((cJSON *)upd[j].body);
	}
	free(upd);
	free(idx);
}

int ws_prov_apply_objects(ws_run *run, const ws_plan_object *const *objs, size_t n, ws_err *err)
{
	struct batch b = {run, objs, n, NULL, NULL, 0, err};
	int round;
	size_t i;

	b.ops = calloc(n + 1, sizeof(*b.ops));
	b.pending = calloc(n + 1, sizeof(*b.pending));
	if (!b.ops || !b.pending) {
		free(b.ops);
		free(b.pending);
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	}
	create_all(&b);
	for (round = 0; round < UPDATE_ROUNDS && !b.failed; round++)
		update_round(&b);
	for (i = 0; i < n && !b.failed; i++) {
		if (b.pending[i]) {
			ws_err e;

			ws_fail(&e, WS_E_CONFLICT, "it kept changing while being updated");
			set_error(&b, i, "update", &e);
		}
	}
	ws_k8s_ops_release(b.ops, n);
	free(b.ops);
	free(b.pending);
	return b.failed ? -1 : 0;
}
