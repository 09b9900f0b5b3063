/* provision.c - apply a workspace plan with rollback: converge and change
 * (see provision.h), and the helpers the provisioner's files share. The
 * other parts: prov_record.c (record store), undo.c and prov_undo.c (undo
 * log and rollback), apply.c, prune.c, prov_flyte.c, prov_create.c,
 * prov_delete.c, drift.c. */
#include "prov_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS_GONE_WAIT_S 60


static const char *const outcome_names[] = {
	"creating", "created", "configured", "unchanged", "deleted", "archived", "failed", "undone",
};

const char *ws_outcome_name(enum ws_outcome o)
{
	return o <= WS_OUT_UNDONE ? outcome_names[o] : "unknown";
}

/* p->warn with a formatted line, when set. */
static __attribute__((format(printf, 2, 3))) void ws_prov_warn(ws_prov *p, const char *fmt, ...)
{
	char msg[WS_ERR_MSG_MAX + 256];
	va_list ap;

	if (!p->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->warn(p->progress_ctx, msg);
}

void ws_prov_report(ws_prov *p, enum ws_step step, const char *subject, enum ws_outcome o,
		    const char *detail)
{
	if (p->progress)
		p->progress(p->progress_ctx, step, subject, o,
			    detail || !p->dry_run || o == WS_OUT_START ? detail : "server dry run");
}

void ws_prov_subject(const ws_kind *k, const char *name, char *out, size_t size)
{
	size_t i, n = 0;

	for (i = 0; k->kind[i] && n + 1 < size; i++)
		out[n++] = (char)(k->kind[i] >= 'A' && k->kind[i] <= 'Z' ? k->kind[i] + 32 : k->kind[i]);
	snprintf(out + n, size - n, "/%s", name ? name : "");
}

void ws_prov_append(char *buf, size_t size, const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, fmt, a, b);
}

void ws_prov_left_behind(char *left, size_t size, const char *subject, const char *why)
{
	size_t n = strlen(left);

	snprintf(left + n, size - n, "%s%s (%s)", n ? ", " : "", subject, why);
}

void ws_prov_wait_namespace_gone(ws_prov *p, const char *ns)
{
	int i;

	for (i = 0; i < NS_GONE_WAIT_S * 10 && !ws_http_stopped(); i++) {
		ws_err e;

		if (ws_k8s_get(p->k8s, &WS_KIND_NAMESPACE, NULL, ns, NULL, &e) && ws_err_is_http(&e, 404))
			return;
		usleep(100 * 1000);
	}
}

void ws_run_release(ws_run *run)
{
	ws_undo_release(&run->undo);
	free(run->record_written);
	memset(run, 0, sizeof(*run));
}

#define STEP(s) (1u << (s))

/* Plan objects of the given steps (the record is handled apart). */
static size_t select_objects(const ws_plan *plan, unsigned steps, const ws_plan_object **out)
{
	size_t i, n = 0;

	for (i = 0; i < plan->nobjects; i++)
		if (steps & (1u << plan->objects[i].step))
			out[n++] = &plan->objects[i];
	return n;
}

int ws_prov_apply_plan(ws_run *run, const ws_plan *plan, ws_err *err)
{
	const ws_plan_object **objs = calloc(plan->nobjects + 1, sizeof(*objs));
	size_t n;
	int rc = -1;

	if (!objs)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	/* 1. the namespaces; 2. everything in them at once; 3. stale objects; 4. Flyte */
	n = select_objects(plan, STEP(WS_STEP_NAMESPACE), objs);
	if (ws_prov_apply_objects(run, objs, n, err))
		goto out;
	n = select_objects(plan, STEP(WS_STEP_QUOTA) | STEP(WS_STEP_SERVICEACCOUNT) |
				 STEP(WS_STEP_NETWORKPOLICY) | STEP(WS_STEP_ROLE) | STEP(WS_STEP_ROLEBINDING),
			   objs);
	if (ws_prov_apply_objects(run, objs, n, err))
		goto out;
	if (ws_prov_prune(run, plan, err))
		goto out;
	if (plan->nflyte && (ws_prov_need_flyte(run->p, err) || ws_prov_apply_flyte(run, plan, err)))
		goto out;
	rc = 0;
out:
	free(objs);
	return rc;
}

void ws_prov_final_status(ws_prov *p, const char *id, const char *phase, const char *msg)
{
	ws_err e;

	ws_http_interrupt_hold(1); /* the work is done or undone: record it */
	if (ws_prov_set_status(p, id, phase, msg, &e))
		ws_prov_warn(p, "the status of workspace '%s' could not be set to %s: %s", id, phase, e.msg);
	ws_http_interrupt_hold(0);
}


/* Converge with an undo log that may hold this run's record edit already
 * (ws_change): on failure everything in it is rolled back. */
static int converge_run(ws_run *run, const ws_record *r, ws_err *err)
{
	ws_prov *p = run->p;
	ws_plan plan;
	int rc;

	rc = ws_plan_build(r, p->platform, &plan, err);
	if (!rc && plan.nflyte && (ws_prov_need_flyte(p, err) || ws_prov_check_domains(p, err)))
		rc = -1;
	if (rc) {
		/* nothing applied; only a record edit to put back */
		if (run->undo.n && ws_prov_rollback(run, err))
			ws_prov_final_status(p, r->workspace_id, "Failed", err->msg);
		ws_plan_release(&plan);
		return -1;
	}
	rc = ws_prov_apply_plan(run, &plan, err);
	if (rc) {
		/* When all was undone, a record edit was put back with its status. */
		if (ws_prov_rollback(run, err) || !run->record_written)
			ws_prov_final_status(p, r->workspace_id, "Failed", err->msg);
	} else {
		ws_prov_final_status(p, r->workspace_id, "Ready", "");
	}
	ws_plan_release(&plan);
	return rc;
}

int ws_converge(ws_prov *p, const ws_record *r, ws_err *err)
{
	ws_run run = {p};
	int rc = converge_run(&run, r, err);

	ws_run_release(&run);
	return rc;
}

int ws_change(ws_prov *p, const char *id, int (*edit)(void *ctx, ws_record *r, ws_err *err),
	      void *ctx, ws_record *out, ws_err *err)
{
	ws_run run = {p};
	cJSON *before = NULL;
	ws_record r;
	int rc;

	/* room for the edit in the undo log before it is made */
	if (ws_undo_reserve(&run.undo, 1, err) ||
	    ws_prov_record_edit(p, id, edit, ctx, &r, &before, &run.record_written, err)) {
		ws_run_release(&run);
		return -1;
	}
	/* The edit is the first entry of the undo log, so it is undone last. */
	if (before && !p->dry_run) {
		ws_undo_entry e;

		ws_undo_object(&e, WS_UNDO_RECORD, WS_STEP_RECORD, &WS_KIND_CONFIGMAP,
			       p->platform->system_namespace, id, before);
		if (ws_undo_push(&run.undo, &e, NULL))
			abort(); /* cannot happen: room was reserved */
	} else {
		cJSON_Delete(before);
	}
	rc = converge_run(&run, &r, err);
	ws_run_release(&run);
	if (rc == 0 && out)
		*out = r;
	else
		ws_record_release(&r);
	return rc;
}

