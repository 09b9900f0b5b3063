/* test_provision.c - the provisioner (shared/provision.h) against an
 * in-memory Kubernetes API and Flyte Admin (fake_cluster.h): apply,
 * idempotence, rollback after a failure, delete, and what happens when an
 * allocation fails anywhere in a run (fail_alloc.h): never a change left
 * out of the undo log, never a record written with less than it had. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fail_alloc.h"
#include "fake_cluster.h"
#include "prov_internal.h"

#define ID "ws-team-001"
#define SWEEP_MAX 20000

static ws_platform platform;
static ws_prov prov;
static int outcomes[WS_OUT_UNDONE + 1];

static void progress(void *ctx, enum ws_step step, const char *subject, enum ws_outcome o,
		     const char *detail)
{
	(void)ctx;
	(void)step;
	(void)subject;
	(void)detail;
	outcomes[o]++;
}

/* A fresh cluster with the system namespace, and a provisioner for it. */
static void setup_cluster(int with_flyte)
{
	static char k8s_handle, flyte_handle;
	cJSON *ns = cJSON_CreateObject();

	fake_reset();
	cJSON_AddStringToObject(cJSON_AddObjectToObject(ns, "metadata"), "name",
				platform.system_namespace);
	fake_put(&WS_KIND_NAMESPACE, ns);
	cJSON_Delete(ns);
	memset(&prov, 0, sizeof(prov));
	prov.k8s = (ws_k8s *)&k8s_handle;
	prov.flyte = with_flyte ? (ws_flyte *)&flyte_handle : NULL;
	prov.platform = &platform;
	prov.progress = progress;
	memset(outcomes, 0, sizeof(outcomes));
}

/* Record ID owned by alice with bob as contributor (and Flyte when asked). */
static void make_record(ws_record *r, int with_flyte)
{
	ws_err err;

	assert_int_equal(ws_record_init(r, &platform, "team", 1, "alice@company.com", NULL,
					"2026-01-01T00:00:00Z", &err), 0);
	assert_int_equal(ws_record_add_user(r, "bob", "bob@company.com", WS_ROLE_CONTRIBUTOR, &err), 0);
	if (with_flyte)
		assert_int_equal(ws_record_add_service(r, "flyte", &err), 0);
}

/* Store the record's ConfigMap as a create would have. */
static void store_record(const ws_record *r)
{
	cJSON *cm = cJSON_CreateObject(), *meta = cJSON_AddObjectToObject(cm, "metadata"), *labels;
	char *text = ws_record_print(r);

	assert_non_null(text);
	cJSON_AddStringToObject(meta, "name", r->workspace_id);
	cJSON_AddStringToObject(meta, "namespace", platform.system_namespace);
	labels = cJSON_AddObjectToObject(meta, "labels");
	cJSON_AddStringToObject(labels, WS_LABEL_WORKSPACE, r->workspace_id);
	cJSON_AddStringToObject(labels, WS_LABEL_MANAGED_BY, WS_MANAGED_BY);
	cJSON_AddStringToObject(labels, WS_LABEL_RECORD_APP, WS_RECORD_APP);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(cm, "data"), WS_RECORD_KEY, text);
	fake_put(&WS_KIND_CONFIGMAP, cm);
	cJSON_Delete(cm);
	free(text);
}

/* The record as stored, parsed; -1 when it is missing or unreadable. */
static int stored_record(ws_record *r)
{
	const cJSON *cm = fake_find(&WS_KIND_CONFIGMAP, platform.system_namespace, ID);
	const char *text = ws_json_str(cm, "data", WS_RECORD_KEY, NULL);

	memset(r, 0, sizeof(*r));
	return text ? ws_record_parse(r, text, strlen(text), NULL) : -1;
}

static size_t count(const ws_kind *k)
{
	const cJSON *o;
	size_t n = 0;

	cJSON_ArrayForEach(o, fake.objects)
		n += strcmp(ws_json_str(o, "_plural", NULL), k->plural) == 0;
	return n;
}

/* The stored object of kind plural named name (NULL: the first of that
 * kind), or NULL. */
static cJSON *find_kind(const char *plural, const char *name)
{
	cJSON *o;

	cJSON_ArrayForEach(o, fake.objects)
		if (strcmp(ws_json_str(o, "_plural", NULL), plural) == 0 &&
		    (!name || strcmp(ws_json_str(o, "metadata", "name", NULL), name) == 0))
			return o;
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	return ws_platform_defaults(&platform, NULL);
}

static int teardown(void **state)
{
	(void)state;
	ws_platform_release(&platform);
	fake_reset();
	return 0;
}

static void test_converge_then_unchanged_then_destroy(void **state)
{
	ws_record r;
	ws_err err;

	(void)state;
	setup_cluster(0);
	make_record(&r, 0);
	store_record(&r);
	assert_int_equal(ws_converge(&prov, &r, &err), 0);
	assert_true(count(&WS_KIND_NAMESPACE) > 1);
	assert_true(outcomes[WS_OUT_CREATED] > 0);
	assert_int_equal(outcomes[WS_OUT_FAILED], 0);
	memset(outcomes, 0, sizeof(outcomes));
	assert_int_equal(ws_converge(&prov, &r, &err), 0); /* idempotent */
	assert_int_equal(outcomes[WS_OUT_CREATED] + outcomes[WS_OUT_CONFIGURED], 0);
	assert_true(outcomes[WS_OUT_UNCHANGED] > 0);
	assert_int_equal(ws_destroy(&prov, ID, &err), 0);
	assert_int_equal(count(&WS_KIND_NAMESPACE), 1);
	assert_int_equal(count(&WS_KIND_CONFIGMAP), 0);
	ws_record_release(&r);
}

/* A role changed by hand is brought back to the plan; when a later step
 * fails, the rollback gives it its hand-made rules back. */
static void test_failure_restores_updated_objects(void **state)
{
	ws_record r;
	ws_err err;
	cJSON *role, *before;
	char name[WS_LONG_NAME_BUF];

	(void)state;
	setup_cluster(0);
	make_record(&r, 0);
	store_record(&r);
	assert_int_equal(ws_converge(&prov, &r, &err), 0);
	cJSON_ArrayForEach(role, fake.objects)
		if (strcmp(ws_json_str(role, "_plural", NULL), "roles") == 0)
			break;
	assert_non_null(role);
	snprintf(name, sizeof(name), "%s", ws_json_str(role, "metadata", "name", NULL));
	assert_true(cJSON_GetArraySize(ws_json_get(role, "rules", NULL)) > 0); /* a real change */
	ws_json_set(role, "rules", cJSON_CreateArray());
	before = cJSON_Duplicate(ws_json_get(role, "rules", NULL), 1);
	fake_fail("list", NULL, NULL, 500); /* pruning comes after the updates */
	assert_int_equal(ws_converge(&prov, &r, &err), -1);
	assert_non_null(strstr(err.msg, "everything this run did was undone"));
	assert_int_equal(outcomes[WS_OUT_CONFIGURED], 1);
	assert_int_equal(outcomes[WS_OUT_UNDONE], 1);
	cJSON_ArrayForEach(role, fake.objects)
		if (strcmp(ws_json_str(role, "_plural", NULL), "roles") == 0 &&
		    cJSON_GetArraySize(ws_json_get(role, "rules", NULL)) == 0)
			break;
	assert_non_null(role);
	assert_true(cJSON_Compare(before, ws_json_get(role, "rules", NULL), 1));
	/* the role that was edited, not merely some role with no rules */
	role = find_kind("roles", name);
	assert_non_null(role);
	assert_true(cJSON_Compare(before, ws_json_get(role, "rules", NULL), 1));
	cJSON_Delete(before);
	ws_record_release(&r);
}

/* Issue 12: a change whose undo entry could not be logged (out of memory)
 * was never rolled back, and the error said everything was undone. Every
 * allocation of a failing converge fails in turn: what the run created is
 * gone afterwards, or the error names it. */
static void test_out_of_memory_never_hides_a_change(void **state)
{
	ws_record r;
	long n;

	(void)state;
	make_record(&r, 0);
	for (n = 1; n < SWEEP_MAX; n++) {
		ws_err err;
		const cJSON *o;
		const char *left;
		int rc, fired;

		setup_cluster(0);
		store_record(&r);
		fake_fail("create", "rolebindings", NULL, 403);
		fail_alloc_at(n);
		rc = ws_converge(&prov, &r, &err);
		fired = fail_alloc_stop();
		assert_int_equal(rc, -1);
		left = strstr(err.msg, "left after rollback: ");
		cJSON_ArrayForEach(o, fake.objects) {
			const char *name = ws_json_str(o, "metadata", "name", NULL);
			char subject[320];

			if (strcmp(name, platform.system_namespace) == 0 ||
			    strcmp(ws_json_str(o, "_plural", NULL), "configmaps") == 0)
				continue;
			snprintf(subject, sizeof(subject), "%s/%s", ws_json_str(o, "kind", NULL), name);
			subject[0] = (char)(subject[0] - 'A' + 'a'); /* "Namespace/x" -> "namespace/x" */
			if (!left || !strstr(left, subject))
				fail_msg("allocation %ld failed: %s left, error: %s", n, subject, err.msg);
		}
		if (!fired)
			break;
	}
	assert_true(n > 1 && n < SWEEP_MAX);
	ws_record_release(&r);
}

/* The same through the update paths and Flyte: a converged workspace whose
 * role and Flyte settings were changed by hand is converged again with
 * every allocation failing in turn (issue 12: unchecked calloc results
 * there). A failure must put the hand-made role back or name what was left;
 * with nothing left, the Flyte project and settings are as they were.
 * (Success is not checked against the plan: ws_plan_build still builds a
 * partial object when cJSON runs out of memory.) */
static void test_out_of_memory_in_updates_and_flyte(void **state)
{
	ws_record r;
	ws_err err;
	long n;
	int clean_failures = 0;

	(void)state;
	make_record(&r, 1);
	for (n = 1; n < SWEEP_MAX; n++) {
		char role[WS_LONG_NAME_BUF];
		cJSON *a, *attrs, *projects;
		int rc, fired;

		setup_cluster(1);
		store_record(&r);
		assert_int_equal(ws_converge(&prov, &r, &err), 0);
		snprintf(role, sizeof(role), "%s",
			 ws_json_str(find_kind("roles", NULL), "metadata", "name", NULL));
		ws_json_set(find_kind("roles", role), "rules", cJSON_CreateArray());
		assert_true(cJSON_GetArraySize(fake.attrs) > 0);
		cJSON_ArrayForEach(a, fake.attrs) { /* settings that differ */
			cJSON *m = ws_json_get(a, "matching_attributes", NULL);
			char key[64];

			/* keep the key: fake_resource_type() files a PUT by it */
			assert_non_null(m);
			assert_non_null(m->child);
			snprintf(key, sizeof(key), "%s", m->child->string);
			cJSON_DeleteItemFromObjectCaseSensitive(m, key);
			cJSON_AddObjectToObject(m, key);
		}
		attrs = cJSON_Duplicate(fake.attrs, 1);
		projects = cJSON_Duplicate(fake.projects, 1);
		fail_alloc_at(n);
		rc = ws_converge(&prov, &r, &err);
		fired = fail_alloc_stop();
		if (rc && !strstr(err.msg, "left after rollback") &&
		    cJSON_GetArraySize(ws_json_get(find_kind("roles", role), "rules", NULL)) != 0)
			fail_msg("allocation %ld failed: '%s', but the role was not put back", n, err.msg);
		if (rc && !strstr(err.msg, "left after rollback")) {
			if (!cJSON_Compare(attrs, fake.attrs, 1))
				fail_msg("allocation %ld failed: '%s', but the Flyte settings were not put back",
					 n, err.msg);
			if (!cJSON_Compare(projects, fake.projects, 1))
				fail_msg("allocation %ld failed: '%s', but the Flyte project was not put back",
					 n, err.msg);
			clean_failures++;
		}
		if (!fired) { /* no allocation failed: the hand edits are changes it makes */
			assert_int_equal(rc, 0);
			assert_false(cJSON_Compare(attrs, fake.attrs, 1));
		}
		cJSON_Delete(attrs);
		cJSON_Delete(projects);
		if (!fired)
			break;
	}
	assert_true(n > 1 && n < SWEEP_MAX);
	assert_true(clean_failures > 0); /* the Flyte checks above ran */
	ws_record_release(&r);
}

/* A server dry run reports what it would do and leaves the cluster as it was. */
static void test_dry_run_changes_nothing(void **state)
{
	ws_record r;
	ws_err err;
	size_t n;
	long rv;
	cJSON *before;

	(void)state;
	setup_cluster(0);
	make_record(&r, 0);
	store_record(&r);
	n = (size_t)cJSON_GetArraySize(fake.objects);
	rv = fake.rv; /* fake_store bumps it on every write that persists */
	before = cJSON_Duplicate(fake.objects, 1);
	prov.dry_run = 1;
	assert_int_equal(ws_converge(&prov, &r, &err), 0);
	assert_int_equal((size_t)cJSON_GetArraySize(fake.objects), n);
	assert_int_equal(fake.rv, rv);
	assert_true(cJSON_Compare(before, fake.objects, 1));
	cJSON_Delete(before);
	assert_true(outcomes[WS_OUT_CREATED] > 0);
	ws_record_release(&r);
}

/* roleRef cannot be changed: the binding is replaced, and a failure later
 * in the run gives the old binding back. */
static void test_binding_replaced_and_restored(void **state)
{
	ws_record r;
	ws_err err;
	cJSON *b;
	char name[WS_LONG_NAME_BUF];

	(void)state;
	setup_cluster(0);
	make_record(&r, 0);
	store_record(&r);
	assert_int_equal(ws_converge(&prov, &r, &err), 0);
	b = find_kind("rolebindings", NULL);
	snprintf(name, sizeof(name), "%s", ws_json_str(b, "metadata", "name", NULL));
	ws_json_set_str(ws_json_get(b, "roleRef", NULL), "name", "hand-made");
	fake_fail("list", NULL, NULL, 500); /* pruning comes after */
	memset(outcomes, 0, sizeof(outcomes));
	assert_int_equal(ws_converge(&prov, &r, &err), -1);
	assert_non_null(strstr(err.msg, "everything this run did was undone"));
	assert_int_equal(outcomes[WS_OUT_CONFIGURED], 1); /* "roleRef replaced" */
	assert_int_equal(outcomes[WS_OUT_UNDONE], 2);     /* deleted, then created again */
	cJSON_ArrayForEach(b, fake.objects)
		if (strcmp(ws_json_str(b, "metadata", "name", NULL), name) == 0)
			break;
	assert_non_null(b);
	assert_string_equal(ws_json_str(b, "roleRef", "name", NULL), "hand-made");
	ws_record_release(&r);
}

static const ws_drift *drift_of(const ws_drift *items, size_t n, const char *subject)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(items[i].subject, subject) == 0)
			return &items[i];
	return NULL;
}

/* ws_diff: a changed role differs, a deleted quota is missing, a managed
 * object the plan does not have is extra; the rest is ok. */
static void test_diff(void **state)
{
	ws_record r;
	ws_err err;
	ws_drift *items;
	size_t n, ndrift;
	cJSON *role, *extra, *quota;
	char subject[320], changed[320];
	const ws_drift *d;

	(void)state;
	setup_cluster(0);
	make_record(&r, 0);
	store_record(&r);
	assert_int_equal(ws_converge(&prov, &r, &err), 0);
	assert_int_equal(ws_diff(&prov, &r, &items, &n, &ndrift, &err), 0);
	assert_int_equal(ndrift, 0);
	free(items);
	role = find_kind("roles", NULL);
	assert_non_null(role);
	snprintf(changed, sizeof(changed), "role/%s", ws_json_str(role, "metadata", "name", NULL));
	extra = cJSON_Duplicate(role, 1);
	ws_json_set_str(ws_json_obj(extra, "metadata"), "name", "ws-team-001-stale");
	cJSON_DeleteItemFromObject(extra, "_plural");
	fake_put(&WS_KIND_ROLE, extra);
	cJSON_Delete(extra);
	ws_json_set(role, "rules", cJSON_CreateArray());
	quota = find_kind("resourcequotas", NULL);
	snprintf(subject, sizeof(subject), "resourcequota/%s", ws_json_str(quota, "metadata", "name", NULL));
	fake_remove(quota);
	assert_int_equal(ws_diff(&prov, &r, &items, &n, &ndrift, &err), 0);
	assert_int_equal(ndrift, 3);
	assert_int_equal(drift_of(items, n, "role/ws-team-001-stale")->state, WS_DRIFT_EXTRA);
	assert_int_equal(drift_of(items, n, subject)->state, WS_DRIFT_MISSING);
	d = drift_of(items, n, changed);
	assert_non_null(d);
	assert_int_equal(d->state, WS_DRIFT_DIFFERS);
	free(items);
	ws_record_release(&r);
}

static int add_carol(void *ctx, ws_record *r, ws_err *err)
{
	(void)ctx;
	return ws_record_add_user(r, "carol", "carol@company.com", WS_ROLE_VIEWER, err);
}

/* Issue 12: when printing the edited record failed, "{}" was written over
 * it. With every allocation failing in turn (cJSON's too), the stored
 * record is the old one or the edited one, and success means the edit. */
static void test_record_edit_never_writes_less(void **state)
{
	ws_record r, got;
	long n;

	(void)state;
	make_record(&r, 0);
	fail_alloc_hook_cjson();
	for (n = 1; n < SWEEP_MAX; n++) {
		ws_err err;
		int rc, fired;

		setup_cluster(0);
		store_record(&r);
		fail_alloc_ignore_leaks(1);
		fail_alloc_at(n);
		rc = ws_record_edit(&prov, ID, add_carol, NULL, NULL, &err);
		fired = fail_alloc_stop();
		fail_alloc_ignore_leaks(0);
		assert_int_equal(stored_record(&got), 0);
		assert_int_equal(got.nusers, rc == 0 ? 3 : 2);
		assert_string_equal(got.tier, r.tier);
		assert_string_equal(got.data_bucket, r.data_bucket);
		ws_record_release(&got);
		if (!fired)
			break;
	}
	assert_true(n > 1 && n < SWEEP_MAX);
	ws_record_release(&r);
}

/* A create that finds its workspace takes the new inputs: members added,
 * updated and removed without bending the last-owner guard. */
static void test_create_again_adopts_inputs(void **state)
{
	ws_record r, in, got;
	ws_err err;
	int existed;

	(void)state;
	setup_cluster(0);
	make_record(&r, 0);
	store_record(&r);
	assert_int_equal(ws_record_init(&in, &platform, "team", 1, "alice@company.com", NULL,
					"2026-02-02T00:00:00Z", &err), 0);
	/* the input's owner has another user id: the stored owner goes */
	ws_record_set(&in.users[0].user_id, "alice2");
	assert_int_equal(ws_record_add_user(&in, "carol", NULL, WS_ROLE_VIEWER, &err), 0);
	prov.record_only = 1;
	assert_int_equal(ws_create(&prov, &in, &existed, &err), 0);
	assert_true(existed);
	assert_int_equal(stored_record(&got), 0);
	assert_int_equal(got.nusers, 2);
	assert_int_equal(ws_record_find_user(&got, "bob"), -1);
	assert_int_equal(ws_record_find_user(&got, "alice"), -1);
	assert_int_equal(got.users[ws_record_find_user(&got, "alice2")].role, WS_ROLE_OWNER);
	assert_string_equal(got.created_at, "2026-01-01T00:00:00Z"); /* kept */
	ws_record_release(&got);
	ws_record_release(&in);
	ws_record_release(&r);
}

/* Issue 12: adopting ignored every failure, so an out-of-memory left the
 * record with members missing and reported success. */
static void test_create_again_out_of_memory(void **state)
{
	ws_record r, in, got;
	ws_err err;
	long n;

	(void)state;
	make_record(&r, 0);
	assert_int_equal(ws_record_init(&in, &platform, "team", 1, "alice@company.com", NULL,
					"2026-02-02T00:00:00Z", &err), 0);
	assert_int_equal(ws_record_add_user(&in, "carol", "carol@company.com", WS_ROLE_VIEWER, &err), 0);
	assert_int_equal(ws_record_add_user(&in, "dave", "dave@company.com", WS_ROLE_OWNER, &err), 0);
	for (n = 1; n < SWEEP_MAX; n++) {
		ws_record copy;
		int existed, rc, fired;

		setup_cluster(0);
		store_record(&r);
		prov.record_only = 1;
		assert_int_equal(ws_record_init(&copy, &platform, "team", 1, "alice@company.com", NULL,
						"2026-02-02T00:00:00Z", &err), 0);
		assert_int_equal(ws_record_add_user(&copy, "carol", "carol@company.com", WS_ROLE_VIEWER,
						    &err), 0);
		assert_int_equal(ws_record_add_user(&copy, "dave", "dave@company.com", WS_ROLE_OWNER,
						    &err), 0);
		fail_alloc_at(n);
		rc = ws_create(&prov, &copy, &existed, &err);
		fired = fail_alloc_stop();
		assert_int_equal(stored_record(&got), 0);
		if (rc == 0) {
			assert_true(existed); /* not taken for a new workspace */
			assert_int_equal(got.nusers, 3);
			assert_true(ws_record_find_user(&got, "dave") >= 0);
			assert_true(ws_record_find_user(&got, "carol") >= 0);
			assert_string_equal(got.users[ws_record_find_user(&got, "carol")].email,
					    "carol@company.com");
		} else {
			assert_int_equal(got.nusers, 2); /* as it was: alice and bob */
			assert_true(ws_record_find_user(&got, "bob") >= 0);
		}
		ws_record_release(&got);
		ws_record_release(&copy);
		if (!fired)
			break;
	}
	assert_true(n > 1 && n < SWEEP_MAX);
	ws_record_release(&in);
	ws_record_release(&r);
}

/* Issue 12: Flyte settings calls past the eighth were put and never undone
 * (fixed arrays of 8). A plan with ten settings calls, each existing with
 * other values; the last put fails: all nine others are put back. */
static void test_every_flyte_settings_call_is_undone(void **state)
{
	ws_record r;
	ws_plan plan;
	ws_run run;
	ws_err err;
	char key[400];
	size_t i;
	int v;

	(void)state;
	setup_cluster(1);
	make_record(&r, 1);
	assert_int_equal(ws_plan_build(&r, &platform, &plan, &err), 0);
	plan.flyte = realloc(plan.flyte, 11 * sizeof(*plan.flyte));
	for (i = plan.nflyte; i < 11; i++) {
		cJSON *b = cJSON_CreateObject(), *m;

		plan.flyte[i] = plan.flyte[1];
		snprintf(plan.flyte[i].path, sizeof(plan.flyte[i].path), "/api/v1/project_attributes/%s-%zu",
			 ID, i);
		m = cJSON_AddObjectToObject(cJSON_AddObjectToObject(b, "attributes"), "matching_attributes");
		cJSON_AddNumberToObject(cJSON_AddObjectToObject(m, "workflow_execution_config"), "max", 1);
		plan.flyte[i].body = b;
	}
	plan.nflyte = 11;
	/* the project as planned; every setting there with other values */
	cJSON_AddItemToObject(fake.projects, ID,
			      cJSON_Duplicate(ws_json_get(plan.flyte[0].body, "project", NULL), 1));
	for (i = 1, v = 100; i < plan.nflyte; i++, v++) {
		cJSON *a = cJSON_Duplicate(ws_json_get(plan.flyte[i].body, "attributes", NULL), 1);

		cJSON_AddNumberToObject(a, "old", v);
		cJSON_DeleteItemFromObject(a, "matching_attributes");
		cJSON_AddItemToObject(a, "matching_attributes", cJSON_CreateObject());
		cJSON_AddObjectToObject(ws_json_get(a, "matching_attributes", NULL),
					ws_json_get(plan.flyte[i].body, "attributes", "matching_attributes",
						    NULL)->child->string);
		snprintf(key, sizeof(key), "%s %s", plan.flyte[i].path, fake_resource_type(a));
		cJSON_AddItemToObject(fake.attrs, key, a);
	}
	fake_fail("PUT", plan.flyte[10].path, NULL, 500);
	memset(&run, 0, sizeof(run));
	run.p = &prov;
	assert_int_equal(ws_prov_apply_flyte(&run, &plan, &err), -1);
	assert_int_equal(outcomes[WS_OUT_CONFIGURED], 9);
	assert_int_equal(ws_prov_rollback(&run, &err), 0);
	assert_non_null(strstr(err.msg, "everything this run did was undone"));
	for (i = 1, v = 100; i < plan.nflyte; i++, v++) {
		const cJSON *a;

		snprintf(key, sizeof(key), "%s %s", plan.flyte[i].path,
			 fake_resource_type(ws_json_get(plan.flyte[i].body, "attributes", NULL)));
		a = ws_json_member(fake.attrs, key);
		assert_non_null(a);
		assert_int_equal(cJSON_GetObjectItem(a, "old")->valueint, v);
	}
	ws_run_release(&run);
	ws_plan_release(&plan);
	ws_record_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converge_then_unchanged_then_destroy),
		cmocka_unit_test(test_failure_restores_updated_objects),
		cmocka_unit_test(test_out_of_memory_never_hides_a_change),
		cmocka_unit_test(test_out_of_memory_in_updates_and_flyte),
		cmocka_unit_test(test_dry_run_changes_nothing),
		cmocka_unit_test(test_binding_replaced_and_restored),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_create_again_adopts_inputs),
		cmocka_unit_test(test_create_again_out_of_memory),
		cmocka_unit_test(test_every_flyte_settings_call_is_undone),
		cmocka_unit_test(test_record_edit_never_writes_less),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
