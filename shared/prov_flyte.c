/* prov_flyte.c - the Flyte side of a workspace: the project registered or
 * updated, then its settings (project attributes) read at once and those
 * that differ put at once. Every change is logged for undo. */
#include "prov_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int ws_prov_need_flyte(ws_prov *p, ws_err *err)
{
	if (p->flyte)
		return 0;
	return ws_fail(err, WS_E_INVALID,
		       "the Flyte Admin endpoint is not known: pass --flyte-endpoint, set "
		       "FLYTE_PLATFORM_URL, or set flyte.endpoint in the %s ConfigMap",
		       WS_PLATFORM_CONFIGMAP);
}

/* Domains are global in Flyte Admin, set in its configuration. */
int ws_prov_check_domains(ws_prov *p, ws_err *err)
{
	ws_strlist have = {0};
	size_t i;
	char list[256] = "";

	if (ws_flyte_domains(p->flyte, &have, err))
		return ws_err_prefix(err, "cannot read Flyte domains");
	for (i = 0; i < have.n; i++)
		ws_prov_append(list, sizeof(list), "%s%s", i ? ", " : "", have.items[i]);
	for (i = 0; i < p->platform->domains.n; i++) {
		if (!ws_strlist_has(&have, p->platform->domains.items[i])) {
			ws_fail(err, WS_E_INVALID,
				"Flyte Admin has no domain '%s' (it has: %s); domains are set system wide "
				"in flyteadmin's configuration, not per project",
				p->platform->domains.items[i], list);
			ws_strlist_release(&have);
			return -1;
		}
	}
	ws_strlist_release(&have);
	return 0;
}

/* The fields we own: id, name, description, labels. */
int ws_prov_project_matches(const cJSON *want, const cJSON *have)
{
	static const char *const fields[] = {"id", "name", "description", "labels", NULL};
	size_t i;

	for (i = 0; fields[i]; i++)
		if (!ws_json_subset(ws_json_get(want, fields[i], NULL), ws_json_get(have, fields[i], NULL)))
			return 0;
	return ws_json_str(have, "state", NULL) && strcmp(ws_json_str(have, "state", NULL), "ACTIVE") == 0;
}

/* "step 'flyte project': cannot register flyte project 'ws-x': <server message>" */
static int flyte_fail(ws_err *err, const ws_plan *plan, const ws_plan_call *c, const char *verb)
{
	return ws_err_prefix(err, "step '%s': cannot %s flyte %s %s'%s'", ws_step_name(c->step), verb,
			     c->what, c->step == WS_STEP_FLYTE_PROJECT ? "" : "of ", plan->workspace_id);
}

/* The Flyte resource type of a project settings call. */
const char *ws_prov_resource_type(const char *what)
{
	if (strcmp(what, "workflow_execution_config") == 0)
		return "WORKFLOW_EXECUTION_CONFIG";
	if (strcmp(what, "cluster_resource_attributes") == 0)
		return "CLUSTER_RESOURCE";
	if (strcmp(what, "task_resource_attributes") == 0)
		return "TASK_RESOURCE";
	return "WORKFLOW_EXECUTION_CONFIG";
}


/* Log a Flyte change for undo (room was reserved before it was made). */
static void log_flyte(ws_run *run, enum ws_undo_what what, const ws_plan *plan, const ws_plan_call *c,
		      cJSON *before)
{
	ws_undo_entry e;

	memset(&e, 0, sizeof(e));
	e.what = what;
	e.step = c->step;
	snprintf(e.name, sizeof(e.name), "%s", plan->workspace_id);
	snprintf(e.path, sizeof(e.path), "%s", c->path);
	e.attrs = c->what;
	e.before = before;
	if (ws_undo_push(&run->undo, &e, NULL))
		abort(); /* cannot happen: room was reserved */
}

/* The project is missing: register it. *dry_done when a dry run has
 * nothing more to check (Flyte Admin has no dry run). */
static int register_project(ws_run *run, const ws_plan *plan, int *dry_done, ws_err *err)
{
	ws_prov *p = run->p;
	const ws_plan_call *c = &plan->flyte[0];
	char subject[128];
	size_t j;

	snprintf(subject, sizeof(subject), "flyte project/%s", plan->workspace_id);
	if (!p->dry_run && (ws_undo_reserve(&run->undo, 1, err) ||
			    ws_flyte_call(p->flyte, c->method, c->path, c->body, NULL, err))) {
		ws_prov_report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_FAILED, err->msg);
		return flyte_fail(err, plan, c, "register");
	}
	if (!p->dry_run)
		log_flyte(run, WS_UNDO_FLYTE_PROJECT, plan, c, NULL);
	ws_prov_report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_CREATED,
		       p->dry_run ? "not checked: Flyte Admin has no dry run" : NULL);
	if (!p->dry_run)
		return 0;
	/* Flyte Admin has no dry run: its settings would be put as planned. */
	for (j = 1; j < plan->nflyte; j++) {
		snprintf(subject, sizeof(subject), "flyte settings/%s", plan->flyte[j].what);
		ws_prov_report(p, plan->flyte[j].step, subject, WS_OUT_CREATED,
			       "not checked: Flyte Admin has no dry run");
	}
	*dry_done = 1;
	return 0;
}

/* The project exists as `have` (taken) but differs: put it as planned, ACTIVE. */
static int update_project(ws_run *run, const ws_plan *plan, cJSON *have, ws_err *err)
{
	ws_prov *p = run->p;
	cJSON *update = cJSON_Duplicate(ws_json_get(plan->flyte[0].body, "project", NULL), 1);
	char subject[128], path[200];
	int rc = 0;

	snprintf(subject, sizeof(subject), "flyte project/%s", plan->workspace_id);
	snprintf(path, sizeof(path), "/api/v1/projects/%s", plan->workspace_id);
	if (!update || !ws_json_set_str(update, "state", "ACTIVE"))
		rc = ws_fail(err, WS_E_INTERNAL, "out of memory");
	else if (!p->dry_run && (ws_undo_reserve(&run->undo, 1, err) ||
				 ws_flyte_call(p->flyte, "PUT", path, update, NULL, err)))
		rc = -1;
	cJSON_Delete(update);
	if (rc) {
		cJSON_Delete(have);
		ws_prov_report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_FAILED, err->msg);
		return flyte_fail(err, plan, &plan->flyte[0], "update");
	}
	if (p->dry_run)
		cJSON_Delete(have);
	else
		log_flyte(run, WS_UNDO_FLYTE_PROJECT, plan, &plan->flyte[0], have);
	ws_prov_report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_CONFIGURED, NULL);
	return 0;
}

/* Register the project, or bring it to the plan. */
static int apply_project(ws_run *run, const ws_plan *plan, int *dry_done, ws_err *err)
{
	ws_prov *p = run->p;
	cJSON *have = NULL;
	char subject[128];

	snprintf(subject, sizeof(subject), "flyte project/%s", plan->workspace_id);
	ws_prov_report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_START, NULL);
	if (ws_flyte_get_project(p->flyte, plan->workspace_id, &have, err)) {
		if (ws_err_is_http(err, 404))
			return register_project(run, plan, dry_done, err);
		ws_prov_report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_FAILED, err->msg);
		return flyte_fail(err, plan, &plan->flyte[0], "read");
	}
	if (!ws_prov_project_matches(ws_json_get(plan->flyte[0].body, "project", NULL), have))
		return update_project(run, plan, have, err);
	cJSON_Delete(have);
	ws_prov_report(p, WS_STEP_FLYTE_PROJECT, subject, WS_OUT_UNCHANGED, NULL);
	return 0;
}

/* The settings calls of a plan (plan->flyte[1..]) and where each stands. */
struct settings {
	ws_run *run;
	const ws_plan *plan;
	size_t n;
	ws_http_req *reqs;
	ws_http_req **rp;
	int *put;       /* 0 same, 1 missing (to create), 2 differs (to update) */
	cJSON **before; /* per call: the attributes it had, when it differs */
	int failed;
	ws_err *err;
};

/* Report call j failed; the first failure fills s->err. */
static void fail_call(struct settings *s, size_t j, const char *verb, const ws_err *cause)
{
	const ws_plan_call *c = &s->plan->flyte[j + 1];
	char subject[128];

	snprintf(subject, sizeof(subject), "flyte settings/%s", c->what);
	ws_prov_report(s->run->p, c->step, subject, WS_OUT_FAILED, cause->msg);
	if (s->failed++)
		return;
	*s->err = *cause;
	flyte_fail(s->err, s->plan, c, verb);
}

static void release_reqs(struct settings *s)
{
	size_t j;

	for (j = 0; j < s->n; j++) {
		ws_http_req_release(&s->reqs[j]);
		memset(&s->reqs[j], 0, sizeof(s->reqs[j]));
	}
}

/* Read every setting at once and decide what to put. */
static void read_settings(struct settings *s)
{
	ws_prov *p = s->run->p;
	size_t j;

	for (j = 0; j < s->n && !s->failed; j++) {
		char path[300];

		snprintf(path, sizeof(path), "%s?resource_type=%s", s->plan->flyte[j + 1].path,
			 ws_prov_resource_type(s->plan->flyte[j + 1].what));
		s->rp[j] = &s->reqs[j];
		if (ws_flyte_req(p->flyte, &s->reqs[j], "GET", path, NULL, s->err))
			s->failed = 1;
	}
	if (!s->failed)
		ws_http_perform(s->rp, s->n);
	for (j = 0; j < s->n && !s->failed; j++) {
		const ws_plan_call *c = &s->plan->flyte[j + 1];
		const cJSON *want = ws_json_get(c->body, "attributes", "matching_attributes", NULL);
		cJSON *got = NULL;
		char subject[128];
		ws_err e;

		snprintf(subject, sizeof(subject), "flyte settings/%s", c->what);
		if (ws_flyte_result(&s->reqs[j], &got, &e)) {
			if (ws_err_is_http(&e, 404))
				s->put[j] = 1;
			else
				fail_call(s, j, "read", &e);
		} else if (ws_json_subset(want, ws_json_get(got, "attributes", "matching_attributes", NULL))) {
			ws_prov_report(p, c->step, subject, WS_OUT_UNCHANGED, NULL);
		} else {
			s->put[j] = 2;
			if (ws_json_get(got, "attributes", NULL) &&
			    !(s->before[j] = cJSON_Duplicate(ws_json_get(got, "attributes", NULL), 1)) &&
			    !s->failed++)
				ws_fail(s->err, WS_E_INTERNAL, "out of memory");
		}
		cJSON_Delete(got);
	}
	release_reqs(s);
}

/* Put the settings that differ, at once. They ran together: every one that
 * succeeded is logged for undo, also those after a failure. */
static void put_settings(struct settings *s)
{
	ws_prov *p = s->run->p;
	size_t j, m = 0;

	for (j = 0; j < s->n && !s->failed; j++) {
		const ws_plan_call *c = &s->plan->flyte[j + 1];
		char subject[128];

		if (!s->put[j])
			continue;
		if (p->dry_run) {
			snprintf(subject, sizeof(subject), "flyte settings/%s", c->what);
			ws_prov_report(p, c->step, subject, s->put[j] == 1 ? WS_OUT_CREATED : WS_OUT_CONFIGURED,
				       NULL);
			s->put[j] = 0;
			continue;
		}
		if (ws_flyte_req(p->flyte, &s->reqs[j], c->method, c->path, c->body, s->err))
			s->failed = 1;
		s->rp[m++] = &s->reqs[j];
	}
	if (!s->failed && !p->dry_run && ws_undo_reserve(&s->run->undo, m, s->err))
		s->failed = 1;
	if (s->failed)
		return;
	ws_http_perform(s->rp, m);
	for (j = 0; j < s->n; j++) {
		const ws_plan_call *c = &s->plan->flyte[j + 1];
		char subject[128];
		ws_err e;

		if (!s->put[j])
			continue;
		if (ws_flyte_result(&s->reqs[j], NULL, &e)) {
			fail_call(s, j, "put", &e);
			continue;
		}
		log_flyte(s->run, WS_UNDO_FLYTE_ATTRS, s->plan, c, s->before[j]);
		s->before[j] = NULL;
		snprintf(subject, sizeof(subject), "flyte settings/%s", c->what);
		ws_prov_report(p, c->step, subject, s->put[j] == 1 ? WS_OUT_CREATED : WS_OUT_CONFIGURED,
			       NULL);
	}
}

int ws_prov_apply_flyte(ws_run *run, const ws_plan *plan, ws_err *err)
{
	struct settings s = {run, plan, plan->nflyte - 1, NULL, NULL, NULL, NULL, 0, err};
	int dry_done = 0;
	size_t j;

	if (apply_project(run, plan, &dry_done, err))
		return -1;
	if (dry_done)
		return 0;
	s.reqs = calloc(s.n + 1, sizeof(*s.reqs));
	s.rp = calloc(s.n + 1, sizeof(*s.rp));
	s.put = calloc(s.n + 1, sizeof(*s.put));
	s.before = calloc(s.n + 1, sizeof(*s.before));
	if (!s.reqs || !s.rp || !s.put || !s.before)
		s.failed = ws_fail(err, WS_E_INTERNAL, "out of memory");
	else
		read_settings(&s);
	if (!s.failed)
		put_settings(&s);
	for (j = 0; s.reqs && j < s.n; j++)
		ws_http_req_release(&s.reqs[j]);
	for (j = 0; s.before && j < s.n; j++)
		cJSON_Delete(s.before[j]);
	free(s.reqs);
	free(s.rp);
	free(s.put);
	free(s.before);
	return s.failed ? -1 : 0;
}
