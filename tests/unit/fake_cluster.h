/* fake_cluster.h - an in-memory Kubernetes API and Flyte Admin for unit
 * tests of the provisioner. Include it in one test file (after
 * fail_alloc.h) and link that test with UNIT_WRAP_ALLOC and UNIT_WRAP_FAKE
 * (Makefile): the ws_k8s_* and ws_flyte_* calls then reach this store
 * instead of a server. It behaves like the servers where the provisioner
 * relies on it: 409 on create of an existing object, 404 for a missing one
 * or a missing namespace, resourceVersion-guarded updates, a namespace
 * delete taking its objects, label-selected lists, merge patches. A rule
 * (fake_fail) makes matching requests fail with a status. Its own
 * allocations are not counted by fail_alloc.h. */
#ifndef FAKE_CLUSTER_H
#define FAKE_CLUSTER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flyte.h"
#include "json.h"
#include "k8s.h"

#define FAKE_RULES 8

static struct fake {
	cJSON *objects;  /* array of stored objects, each with "kind" plural in "_plural" */
	cJSON *projects; /* Flyte: id -> project */
	cJSON *attrs;    /* Flyte: "path resource_type" -> attributes */
	long rv;
	struct {
		const char *verb;  /* "create", "update", "delete", "get", "list", "patch",
				      "PUT", "POST", ... ; NULL: unused */
		const char *what;  /* plural ("rolebindings") or a Flyte path; NULL any */
		const char *name;  /* NULL any */
		int status;
	} rules[FAKE_RULES];
} fake;

static void fake_reset(void)
{
	cJSON_Delete(fake.objects);
	cJSON_Delete(fake.projects);
	cJSON_Delete(fake.attrs);
	memset(&fake, 0, sizeof(fake));
	fake.objects = cJSON_CreateArray();
	fake.projects = cJSON_CreateObject();
	fake.attrs = cJSON_CreateObject();
}

static void fake_fail(const char *verb, const char *what, const char *name, int status)
{
	size_t i;

	for (i = 0; i < FAKE_RULES && fake.rules[i].verb; i++)
		;
	fake.rules[i].verb = verb;
	fake.rules[i].what = what;
	fake.rules[i].name = name;
	fake.rules[i].status = status;
}

static int fake_rule(const char *verb, const char *what, const char *name, ws_err *err)
{
	size_t i;

	for (i = 0; i < FAKE_RULES && fake.rules[i].verb; i++)
		if (strcmp(fake.rules[i].verb, verb) == 0 &&
		    (!fake.rules[i].what || (what && strcmp(fake.rules[i].what, what) == 0)) &&
		    (!fake.rules[i].name || (name && strcmp(fake.rules[i].name, name) == 0)))
			return ws_fail_http(err, fake.rules[i].status, "Forbidden", "%s %s/%s: injected %d",
					    verb, what ? what : "", name ? name : "", fake.rules[i].status);
	return 0;
}

static int fake_is(const cJSON *o, const ws_kind *k, const char *ns, const char *name)
{
	const char *ons = ws_json_str(o, "metadata", "namespace", NULL);

	return strcmp(ws_json_str(o, "_plural", NULL), k->plural) == 0 &&
	       strcmp(ws_json_str(o, "metadata", "name", NULL), name) == 0 &&
	       (!k->namespaced || (ons && ns && strcmp(ons, ns) == 0));
}

/* The stored object, or NULL. */
static cJSON *fake_find(const ws_kind *k, const char *ns, const char *name)
{
	cJSON *o;

	cJSON_ArrayForEach(o, fake.objects)
		if (name && fake_is(o, k, ns, name))
			return o;
	return NULL;
}

/* A copy as the server would answer it. */
static cJSON *fake_copy(const cJSON *o)
{
	cJSON *c = cJSON_Duplicate(o, 1);

	cJSON_DeleteItemFromObjectCaseSensitive(c, "_plural");
	return c;
}

static void fake_store(const ws_kind *k, cJSON *o)
{
	char rv[32];

	snprintf(rv, sizeof(rv), "%ld", ++fake.rv);
	ws_json_set_str(ws_json_obj(o, "metadata"), "resourceVersion", rv);
	ws_json_set_str(o, "_plural", k->plural);
	cJSON_AddItemToArray(fake.objects, o);
}

/* Put an object in the store as it is (test setup). */
static void fake_put(const ws_kind *k, const cJSON *obj)
{
	fake_store(k, cJSON_Duplicate(obj, 1));
}

static void fake_remove(cJSON *o)
{
	cJSON *c;
	int i = 0;

	cJSON_ArrayForEach(c, fake.objects) {
		if (c == o) {
			cJSON_DeleteItemFromArray(fake.objects, i);
			return;
		}
		i++;
	}
}

/* Every label of "a=b,c=d" on o. */
static int fake_selected(const cJSON *o, const char *selector)
{
	char sel[256], *save = NULL, *tok;

	snprintf(sel, sizeof(sel), "%s", selector ? selector : "");
	for (tok = strtok_r(sel, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		const char *v;

		*eq = '\0';
		v = ws_json_str(o, "metadata", "labels", tok, NULL);
		if (!v || strcmp(v, eq + 1) != 0)
			return 0;
	}
	return 1;
}

static void fake_merge(cJSON *target, const cJSON *patch)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, patch) {
		cJSON *t = ws_json_member(target, m->string);

		if (cJSON_IsObject(m) && cJSON_IsObject(t))
			fake_merge(t, m);
		else
			ws_json_set(target, m->string, cJSON_Duplicate(m, 1));
	}
}

static int fake_get_op(ws_k8s_op *op)
{
	cJSON *o = fake_find(op->kind, op->ns, op->name), *c;

	if (op->list) {
		if (fake_rule("list", op->kind->plural, op->ns, &op->err))
			return -1;
		op->result = cJSON_CreateObject();
		cJSON_AddObjectToObject(op->result, "metadata");
		cJSON_AddArrayToObject(op->result, "items");
		cJSON_ArrayForEach(c, fake.objects)
			if (strcmp(ws_json_str(c, "_plural", NULL), op->kind->plural) == 0 &&
			    (!op->kind->namespaced ||
			     strcmp(ws_json_str(c, "metadata", "namespace", NULL), op->ns) == 0) &&
			    fake_selected(c, op->label_selector))
				cJSON_AddItemToArray(cJSON_GetObjectItem(op->result, "items"), fake_copy(c));
		return 0;
	}
	if (fake_rule("get", op->kind->plural, op->name, &op->err))
		return -1;
	if (!o)
		return ws_fail_http(&op->err, 404, "NotFound", "%s \"%s\" not found", op->kind->plural,
				    op->name);
	op->result = fake_copy(o);
	return 0;
}

static int fake_write_op(ws_k8s_op *op)
{
	const char *name = op->name ? op->name : ws_json_str(op->body, "metadata", "name", NULL);
	const char *ns = op->kind->namespaced ? (op->ns ? op->ns : ws_json_str(op->body, "metadata",
									     "namespace", NULL))
					      : NULL;
	cJSON *o = fake_find(op->kind, ns, name), *n;
	const char *rv;

	if (!op->body && op->verb != WS_K8S_DELETE)
		return ws_fail_http(&op->err, 400, "BadRequest", "no body");
	if (op->kind->namespaced && !fake_find(&WS_KIND_NAMESPACE, NULL, ns))
		return ws_fail_http(&op->err, 404, "NotFound", "namespaces \"%s\" not found", ns);
	switch (op->verb) {
	case WS_K8S_CREATE:
		if (fake_rule("create", op->kind->plural, name, &op->err))
			return -1;
		if (o)
			return ws_fail_http(&op->err, 409, "AlreadyExists", "%s \"%s\" already exists",
					    op->kind->plural, name);
		n = cJSON_Duplicate(op->body, 1);
		break;
	case WS_K8S_UPDATE:
	case WS_K8S_PATCH:
		if (fake_rule(op->verb == WS_K8S_UPDATE ? "update" : "patch", op->kind->plural, name,
			      &op->err))
			return -1;
		if (!o)
			return ws_fail_http(&op->err, 404, "NotFound", "%s \"%s\" not found",
					    op->kind->plural, name);
		rv = ws_json_str(op->body, "metadata", "resourceVersion", NULL);
		if (op->verb == WS_K8S_UPDATE && rv &&
		    strcmp(rv, ws_json_str(o, "metadata", "resourceVersion", NULL)) != 0)
			return ws_fail_http(&op->err, 409, "Conflict", "the object has been modified");
		n = op->verb == WS_K8S_UPDATE ? cJSON_Duplicate(op->body, 1) : cJSON_Duplicate(o, 1);
		if (op->verb == WS_K8S_PATCH)
			fake_merge(n, op->body);
		break;
	default:
		if (fake_rule("delete", op->kind->plural, name, &op->err))
			return -1;
		if (!o)
			return ws_fail_http(&op->err, 404, "NotFound", "%s \"%s\" not found",
					    op->kind->plural, name);
		if (op->dry_run)
			return 0;
		if (op->kind == &WS_KIND_NAMESPACE) {
			cJSON *c = fake.objects->child, *next;

			for (; c; c = next) {
				const char *cns = ws_json_str(c, "metadata", "namespace", NULL);

				next = c->next;
				if (cns && strcmp(cns, name) == 0)
					fake_remove(c);
			}
		}
		fake_remove(o);
		return 0;
	}
	op->result = fake_copy(n);
	if (op->dry_run) {
		cJSON_Delete(n);
		return 0;
	}
	if (o)
		fake_remove(o);
	fake_store(op->kind, n);
	cJSON_Delete(op->result);
	op->result = fake_copy(n);
	return 0;
}

static void fake_op(ws_k8s_op *op)
{
	fail_alloc_pause(1);
	ws_err_clear(&op->err);
	op->result = NULL;
	op->rc = op->verb == WS_K8S_GET ? fake_get_op(op) : fake_write_op(op);
	if (op->rc) {
		cJSON_Delete(op->result);
		op->result = NULL;
	}
	fail_alloc_pause(0);
}

size_t __wrap_ws_k8s_run(ws_k8s *k, ws_k8s_op *ops, size_t n);
size_t __wrap_ws_k8s_run(ws_k8s *k, ws_k8s_op *ops, size_t n)
{
	size_t i, failed = 0;

	(void)k;
	for (i = 0; i < n; i++) {
		fake_op(&ops[i]);
		failed += ops[i].rc != 0;
	}
	return failed;
}

static int fake_one(ws_k8s_op *op, cJSON **out, ws_err *err)
{
	fake_op(op);
	if (out)
		*out = op->result;
	else
		cJSON_Delete(op->result);
	if (op->rc && err)
		*err = op->err;
	return op->rc;
}

int __wrap_ws_k8s_get(ws_k8s *k, const ws_kind *kind, const char *ns, const char *name, cJSON **out,
		      ws_err *err);
int __wrap_ws_k8s_get(ws_k8s *k, const ws_kind *kind, const char *ns, const char *name, cJSON **out,
		      ws_err *err)
{
	ws_k8s_op op = {WS_K8S_GET, kind, ns, name};

	(void)k;
	return fake_one(&op, out, err);
}

int __wrap_ws_k8s_create(ws_k8s *k, const ws_kind *kind, const cJSON *obj, int dry_run, cJSON **out,
			 ws_err *err);
int __wrap_ws_k8s_create(ws_k8s *k, const ws_kind *kind, const cJSON *obj, int dry_run, cJSON **out,
			 ws_err *err)
{
	ws_k8s_op op = {WS_K8S_CREATE, kind, NULL, NULL, obj, NULL, dry_run};

	(void)k;
	return fake_one(&op, out, err);
}

int __wrap_ws_k8s_update(ws_k8s *k, const ws_kind *kind, const cJSON *obj, int dry_run, cJSON **out,
			 ws_err *err);
int __wrap_ws_k8s_update(ws_k8s *k, const ws_kind *kind, const cJSON *obj, int dry_run, cJSON **out,
			 ws_err *err)
{
	ws_k8s_op op = {WS_K8S_UPDATE, kind, NULL, NULL, obj, NULL, dry_run};

	(void)k;
	return fake_one(&op, out, err);
}

int __wrap_ws_k8s_patch(ws_k8s *k, const ws_kind *kind, const char *ns, const char *name,
			const char *patch_type, const cJSON *patch, int dry_run, cJSON **out, ws_err *err);
int __wrap_ws_k8s_patch(ws_k8s *k, const ws_kind *kind, const char *ns, const char *name,
			const char *patch_type, const cJSON *patch, int dry_run, cJSON **out, ws_err *err)
{
	ws_k8s_op op = {WS_K8S_PATCH, kind, ns, name, patch, patch_type, dry_run};

	(void)k;
	return fake_one(&op, out, err);
}

int __wrap_ws_k8s_delete(ws_k8s *k, const ws_kind *kind, const char *ns, const char *name, int dry_run,
			 ws_err *err);
int __wrap_ws_k8s_delete(ws_k8s *k, const ws_kind *kind, const char *ns, const char *name, int dry_run,
			 ws_err *err)
{
	ws_k8s_op op = {WS_K8S_DELETE, kind, ns, name, NULL, NULL, dry_run};

	(void)k;
	return fake_one(&op, NULL, err);
}

int __wrap_ws_k8s_list(ws_k8s *k, const ws_kind *kind, const char *ns, const ws_k8s_list_opts *opts,
		       cJSON **items, char *rv, ws_err *err);
int __wrap_ws_k8s_list(ws_k8s *k, const ws_kind *kind, const char *ns, const ws_k8s_list_opts *opts,
		       cJSON **items, char *rv, ws_err *err)
{
	ws_k8s_op op = {WS_K8S_GET, kind, ns};
	cJSON *list = NULL;

	(void)k;
	op.list = 1;
	op.label_selector = opts ? opts->label_selector : NULL;
	if (fake_one(&op, &list, err))
		return -1;
	if (rv)
		snprintf(rv, 32, "%ld", fake.rv);
	fail_alloc_pause(1);
	*items = cJSON_DetachItemFromObject(list, "items");
	cJSON_Delete(list);
	fail_alloc_pause(0);
	return 0;
}

/* ---- Flyte Admin ---- */

static const char *fake_resource_type(const cJSON *attributes)
{
	const cJSON *m = ws_json_get(attributes, "matching_attributes", NULL);
	const char *what = m && m->child ? m->child->string : "";

	return strcmp(what, "cluster_resource_attributes") == 0 ? "CLUSTER_RESOURCE"
	       : strcmp(what, "task_resource_attributes") == 0 ? "TASK_RESOURCE"
								 : "WORKFLOW_EXECUTION_CONFIG";
}

/* One Flyte Admin request: status and reply (owned by the caller, may be NULL). */
static int fake_flyte(const char *method, const char *path, const cJSON *body, cJSON **reply)
{
	char key[400], base[300];
	const char *q = strchr(path, '?');
	ws_err e;

	*reply = NULL;
	if (fake_rule(method, path, NULL, &e))
		return e.code;
	snprintf(base, sizeof(base), "%.*s", (int)(q ? (size_t)(q - path) : strlen(path)), path);
	if (strcmp(method, "POST") == 0 && strcmp(path, "/api/v1/projects") == 0) {
		const char *id = ws_json_str(body, "project", "id", NULL);

		if (ws_json_member(fake.projects, id))
			return 409;
		cJSON_AddItemToObject(fake.projects, id, cJSON_Duplicate(ws_json_get(body, "project", NULL), 1));
		return 200;
	}
	if (strncmp(base, "/api/v1/projects/", 17) == 0) {
		if (strcmp(method, "GET") == 0) {
			const cJSON *pr = ws_json_member(fake.projects, base + 17);

			*reply = pr ? cJSON_Duplicate(pr, 1) : NULL;
			return pr ? 200 : 404;
		}
		ws_json_set(fake.projects, base + 17, cJSON_Duplicate(body, 1));
		return 200;
	}
	if (strcmp(method, "GET") == 0) {
		const cJSON *a;

		snprintf(key, sizeof(key), "%s %s", base, q ? strchr(q, '=') + 1 : "");
		a = ws_json_member(fake.attrs, key);
		if (!a)
			return 404;
		*reply = cJSON_CreateObject();
		cJSON_AddItemToObject(*reply, "attributes", cJSON_Duplicate(a, 1));
		return 200;
	}
	if (strcmp(method, "PUT") == 0) {
		const cJSON *a = ws_json_get(body, "attributes", NULL);

		snprintf(key, sizeof(key), "%s %s", base, fake_resource_type(a));
		ws_json_set(fake.attrs, key, cJSON_Duplicate(a, 1));
		return 200;
	}
	snprintf(key, sizeof(key), "%s %s", base, ws_json_str(body, "resource_type", NULL));
	if (!ws_json_member(fake.attrs, key))
		return 404;
	cJSON_DeleteItemFromObject(fake.attrs, key);
	return 200;
}

static int fake_flyte_err(int status, const char *method, const char *path, ws_err *err)
{
	if (status >= 200 && status < 300)
		return 0;
	return ws_fail_http(err, status, "", "%s %s: %d", method, path, status);
}

int __wrap_ws_flyte_call(ws_flyte *f, const char *method, const char *path, const cJSON *body,
			 cJSON **out, ws_err *err);
int __wrap_ws_flyte_call(ws_flyte *f, const char *method, const char *path, const cJSON *body,
			 cJSON **out, ws_err *err)
{
	cJSON *reply;
	int status;

	(void)f;
	fail_alloc_pause(1);
	status = fake_flyte(method, path, body, &reply);
	if (out)
		*out = reply;
	else
		cJSON_Delete(reply);
	fail_alloc_pause(0);
	return fake_flyte_err(status, method, path, err);
}

int __wrap_ws_flyte_get_project(ws_flyte *f, const char *id, cJSON **project, ws_err *err);
int __wrap_ws_flyte_get_project(ws_flyte *f, const char *id, cJSON **project, ws_err *err)
{
	char path[200];

	snprintf(path, sizeof(path), "/api/v1/projects/%s", id);
	return __wrap_ws_flyte_call(f, "GET", path, NULL, project, err);
}

int __wrap_ws_flyte_set_project_state(ws_flyte *f, const cJSON *project, const char *state,
				      ws_err *err);
int __wrap_ws_flyte_set_project_state(ws_flyte *f, const cJSON *project, const char *state,
				      ws_err *err)
{
	cJSON *p;
	char path[200];
	int rc;

	fail_alloc_pause(1);
	p = cJSON_Duplicate(project, 1);
	ws_json_set_str(p, "state", state);
	snprintf(path, sizeof(path), "/api/v1/projects/%s", ws_json_str(project, "id", NULL));
	fail_alloc_pause(0);
	rc = __wrap_ws_flyte_call(f, "PUT", path, p, NULL, err);
	cJSON_Delete(p);
	return rc;
}

int __wrap_ws_flyte_domains(ws_flyte *f, ws_strlist *out, ws_err *err);
int __wrap_ws_flyte_domains(ws_flyte *f, ws_strlist *out, ws_err *err)
{
	(void)f;
	(void)err;
	fail_alloc_pause(1);
	memset(out, 0, sizeof(*out));
	ws_strlist_add(out, "development", NULL);
	ws_strlist_add(out, "staging", NULL);
	ws_strlist_add(out, "production", NULL);
	fail_alloc_pause(0);
	return 0;
}

/* A batch request is prepared as is and answered by ws_http_perform. */
int __wrap_ws_flyte_req(ws_flyte *f, ws_http_req *r, const char *method, const char *path,
			const cJSON *body, ws_err *err);
int __wrap_ws_flyte_req(ws_flyte *f, ws_http_req *r, const char *method, const char *path,
			const cJSON *body, ws_err *err)
{
	(void)f;
	(void)err;
	fail_alloc_pause(1);
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->path = strdup(path);
	r->body = body ? cJSON_PrintUnformatted(body) : NULL;
	r->body_len = r->body ? strlen(r->body) : 0;
	fail_alloc_pause(0);
	return 0;
}

size_t __wrap_ws_http_perform(ws_http_req **reqs, size_t n);
size_t __wrap_ws_http_perform(ws_http_req **reqs, size_t n)
{
	size_t i;

	fail_alloc_pause(1);
	for (i = 0; i < n; i++) {
		ws_http_req *r = reqs[i];
		cJSON *body = r->body ? cJSON_Parse(r->body) : NULL, *reply = NULL;
		char *text;

		r->status = fake_flyte(r->method, r->path, body, &reply);
		text = reply ? cJSON_PrintUnformatted(reply) : NULL;
		ws_buf_init(&r->response, 1 << 20);
		if (text)
			ws_buf_adds(&r->response, text, NULL);
		free(text);
		cJSON_Delete(reply);
		cJSON_Delete(body);
	}
	fail_alloc_pause(0);
	return 0;
}

#endif
