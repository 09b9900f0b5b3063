/* test_plan.c - the plan of the seed example, object by object, and the
 * plan's refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "plan.h"

#define ID "ws-customer-segmentation-analysis-001"
#define NS "flyte-" ID
#define LABELS "{\"workspace-id\":\"" ID "\",\"managed-by\":\"kubectl-workspace\"}"

static ws_platform platform;

static int setup(void **state)
{
	ws_err err;

	(void)state;
	return ws_platform_defaults(&platform, &err);
}

static int teardown(void **state)
{
	(void)state;
	ws_platform_release(&platform);
	return 0;
}

/* The seed: "Customer Segmentation Analysis", owner alice, member bob=contributor. */
static void seed_record(ws_record *r)
{
	ws_err err;

	assert_int_equal(ws_record_init(r, &platform, "Customer Segmentation Analysis", 1,
					"alice@company.com", NULL, "2026-11-28T10:00:00Z", &err), 0);
	assert_int_equal(ws_record_add_user(r, "bob", NULL, WS_ROLE_CONTRIBUTOR, &err), 0);
	assert_int_equal(ws_record_add_service(r, "flyte", &err), 0);
}

static void expect_object(const ws_plan *plan, size_t i, enum ws_step step, const char *json)
{
	cJSON *want = cJSON_Parse(json);

	if (!want)
		fail_msg("bad expectation JSON for object %zu", i);
	assert_true(i < plan->nobjects);
	assert_int_equal(plan->objects[i].step, step);
	if (!cJSON_Compare(want, plan->objects[i].body, 1)) {
		char *got = cJSON_PrintUnformatted(plan->objects[i].body);

		fail_msg("object %zu differs:\n got  %s\n want %s", i, got, json);
	}
	cJSON_Delete(want);
}

static void test_seed_record(void **state)
{
	ws_record r;

	(void)state;
	seed_record(&r);
	assert_string_equal(r.workspace_id, ID);
	assert_string_equal(r.data_bucket, ID "-data");
	assert_string_equal(r.tier, "standard");
	assert_int_equal(r.nusers, 2);
	assert_string_equal(r.users[0].user_id, "alice");
	assert_string_equal(r.users[0].email, "alice@company.com");
	assert_int_equal(r.users[0].role, WS_ROLE_OWNER);
	ws_record_release(&r);
}

static void test_seed_plan(void **state)
{
	ws_record r;
	ws_plan plan;
	ws_err err;
	char *record_json;
	char cm[2048];

	(void)state;
	seed_record(&r);
	assert_int_equal(ws_plan_build(&r, &platform, &plan, &err), 0);
	assert_string_equal(plan.workspace_id, ID);
	assert_int_equal(plan.namespaces.n, 1);
	assert_string_equal(plan.namespaces.items[0], NS);
	assert_int_equal(plan.nobjects, 9);

	record_json = ws_record_print(&r);
	{
		cJSON *s = cJSON_CreateString(record_json);
		char *quoted = cJSON_PrintUnformatted(s);

		snprintf(cm, sizeof(cm),
			 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" ID "\","
			 "\"namespace\":\"workspace-system\",\"labels\":{\"workspace-id\":\"" ID "\","
			 "\"managed-by\":\"kubectl-workspace\",\"app\":\"workspace-config\"}},"
			 "\"data\":{\"workspace.json\":%s}}", quoted);
		free(quoted);
		cJSON_Delete(s);
	}
	free(record_json);
	expect_object(&plan, 0, WS_STEP_RECORD, cm);
	expect_object(&plan, 1, WS_STEP_NAMESPACE,
		      "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" NS "\","
		      "\"labels\":{\"workspace-id\":\"" ID "\",\"managed-by\":\"kubectl-workspace\","
		      "\"flyte.org/tenant\":\"" ID "\",\"service\":\"flyte\"},"
		      "\"annotations\":{\"workspace.flyte.org/name\":\"Customer Segmentation Analysis\","
		      "\"workspace.flyte.org/created-by\":\"alice@company.com\","
		      "\"workspace.flyte.org/tier\":\"standard\","
		      "\"workspace.flyte.org/quota\":\"requests.cpu=20,requests.memory=40Gi,limits.cpu=40,"
		      "limits.memory=80Gi,pods=100,persistentvolumeclaims=20\"}}}");
	expect_object(&plan, 2, WS_STEP_QUOTA,
		      "{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"metadata\":{\"name\":\"" ID "-quota\","
		      "\"namespace\":\"" NS "\",\"labels\":" LABELS ","
		      "\"annotations\":{\"workspace.flyte.org/tier\":\"standard\"}},"
		      "\"spec\":{\"hard\":{\"requests.cpu\":\"20\",\"requests.memory\":\"40Gi\","
		      "\"limits.cpu\":\"40\",\"limits.memory\":\"80Gi\",\"pods\":\"100\","
		      "\"persistentvolumeclaims\":\"20\"}}}");
	expect_object(&plan, 3, WS_STEP_SERVICEACCOUNT,
		      "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"flyte-" ID
		      "-runner\",\"namespace\":\"" NS "\",\"labels\":" LABELS ",\"annotations\":"
		      "{\"eks.amazonaws.com/role-arn\":\"arn:aws:iam::123456789012:role/" ID "-runner\"}}}");
	expect_object(&plan, 4, WS_STEP_NETWORKPOLICY,
		      "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":"
		      "{\"name\":\"" ID "-isolation\",\"namespace\":\"" NS "\",\"labels\":" LABELS "},"
		      "\"spec\":{\"podSelector\":{},\"policyTypes\":[\"Ingress\"],\"ingress\":[{\"from\":"
		      "[{\"podSelector\":{}},{\"namespaceSelector\":{\"matchLabels\":"
		      "{\"kubernetes.io/metadata.name\":\"flyte\"}}}]}]}}");
	/* alice: owner */
	assert_int_equal(plan.objects[5].step, WS_STEP_ROLE);
	assert_string_equal(plan.objects[5].name, ID "-alice-role");
	assert_string_equal(plan.objects[5].namespace, NS);
	assert_string_equal(ws_json_str(plan.objects[5].body, "metadata", "annotations",
					"workspace.flyte.org/role", NULL), "owner");
	{
		cJSON *rules = ws_json_get(plan.objects[5].body, "rules", NULL);
		cJSON *first = cJSON_GetArrayItem(rules, 0);
		char *verbs = cJSON_PrintUnformatted(ws_json_get(first, "verbs", NULL));
		char *res = cJSON_PrintUnformatted(ws_json_get(first, "resources", NULL));

		assert_int_equal(cJSON_GetArraySize(rules), 7);
		assert_string_equal(verbs, "[\"get\",\"list\",\"watch\",\"create\",\"update\",\"patch\","
				    "\"delete\",\"deletecollection\"]");
		assert_string_equal(res, "[\"pods\",\"pods/log\",\"pods/exec\",\"pods/portforward\","
				    "\"services\",\"endpoints\",\"configmaps\",\"secrets\","
				    "\"persistentvolumeclaims\",\"serviceaccounts\"]");
		free(verbs);
		free(res);
	}
	expect_object(&plan, 6, WS_STEP_ROLEBINDING,
		      "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\",\"metadata\":"
		      "{\"name\":\"" ID "-alice-binding\",\"namespace\":\"" NS "\",\"labels\":" LABELS "},"
		      "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Role\","
		      "\"name\":\"" ID "-alice-role\"},\"subjects\":[{\"kind\":\"User\","
		      "\"apiGroup\":\"rbac.authorization.k8s.io\",\"name\":\"alice@company.com\"}]}");
	/* bob: contributor, no secrets, no deletecollection */
	assert_string_equal(plan.objects[7].name, ID "-bob-role");
	{
		char *rules = cJSON_PrintUnformatted(ws_json_get(plan.objects[7].body, "rules", NULL));

		assert_null(strstr(rules, "secrets"));
		assert_null(strstr(rules, "deletecollection"));
		assert_non_null(strstr(rules, "flyteworkflows"));
		free(rules);
	}
	assert_string_equal(ws_json_str(plan.objects[7].body, "metadata", "annotations",
					"workspace.flyte.org/role", NULL), "contributor");
	expect_object(&plan, 8, WS_STEP_ROLEBINDING,
		      "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"RoleBinding\",\"metadata\":"
		      "{\"name\":\"" ID "-bob-binding\",\"namespace\":\"" NS "\",\"labels\":" LABELS "},"
		      "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Role\","
		      "\"name\":\"" ID "-bob-role\"},\"subjects\":[{\"kind\":\"User\","
		      "\"apiGroup\":\"rbac.authorization.k8s.io\",\"name\":\"bob\"}]}");
	ws_plan_release(&plan);
	ws_record_release(&r);
}

static void expect_call(const ws_plan_call *c, const char *method, const char *path, const char *json)
{
	cJSON *want = cJSON_Parse(json);

	assert_string_equal(c->method, method);
	assert_string_equal(c->path, path);
	if (!cJSON_Compare(want, c->body, 1)) {
		char *got = cJSON_PrintUnformatted(c->body);

		fail_msg("flyte call differs:\n got  %s\n want %s", got, json);
	}
	cJSON_Delete(want);
}

static void test_seed_flyte(void **state)
{
	ws_record r;
	ws_plan plan;
	ws_err err;

	(void)state;
	seed_record(&r);
	assert_int_equal(ws_plan_build(&r, &platform, &plan, &err), 0);
	assert_int_equal(plan.nflyte, 3);
	expect_call(&plan.flyte[0], "POST", "/api/v1/projects",
		    "{\"project\":{\"id\":\"" ID "\",\"name\":\"Flyte - Customer Segmentation Analysis\","
		    "\"description\":\"Workspace 'Customer Segmentation Analysis' owned by alice@company.com\","
		    "\"labels\":{\"values\":{\"workspace-id\":\"" ID "\",\"managed-by\":\"kubectl-workspace\","
		    "\"tier\":\"standard\"}},\"state\":\"ACTIVE\"}}");
	assert_null(ws_json_get(plan.flyte[0].body, "project", "domains", NULL));
	expect_call(&plan.flyte[1], "PUT", "/api/v1/project_attributes/" ID,
		    "{\"attributes\":{\"project\":\"" ID "\",\"matching_attributes\":"
		    "{\"workflow_execution_config\":{\"security_context\":{\"run_as\":"
		    "{\"k8s_service_account\":\"flyte-" ID "-runner\"}},\"raw_output_data_config\":"
		    "{\"output_location_prefix\":\"s3://" ID "-data\"},\"labels\":{\"values\":"
		    "{\"workspace-id\":\"" ID "\"}}}}}}");
	expect_call(&plan.flyte[2], "PUT", "/api/v1/project_attributes/" ID,
		    "{\"attributes\":{\"project\":\"" ID "\",\"matching_attributes\":"
		    "{\"cluster_resource_attributes\":{\"attributes\":{\"projectQuotaCpu\":\"40\","
		    "\"projectQuotaMemory\":\"80Gi\"}}}}}");
	assert_null(plan.console_url); /* no endpoint configured */
	ws_plan_release(&plan);
	ws_record_release(&r);
}

static void test_list_and_console(void **state)
{
	ws_record r;
	ws_plan plan;
	ws_err err;
	cJSON *list;

	(void)state;
	seed_record(&r);
	platform.flyte_endpoint = strdup("https://flyte.example.com:8089/api");
	assert_int_equal(ws_plan_build(&r, &platform, &plan, &err), 0);
	assert_string_equal(plan.console_url, "https://flyte.example.com:8089/console/projects/" ID
			    "/domains/development/executions");
	list = ws_plan_to_list(&plan);
	assert_string_equal(ws_json_str(list, "apiVersion", NULL), "v1");
	assert_string_equal(ws_json_str(list, "kind", NULL), "List");
	assert_int_equal(cJSON_GetArraySize(ws_json_get(list, "items", NULL)), 9);
	cJSON_Delete(list);
	ws_plan_release(&plan);
	free(platform.flyte_endpoint);
	platform.flyte_endpoint = NULL;
	ws_record_release(&r);
}

static void test_gcp_and_tier(void **state)
{
	ws_platform p;
	ws_record r;
	ws_plan plan;
	ws_err err;
	const char *cfg = "cloud: {provider: gcp, accountId: my-proj}\nnetwork: {allowNamespaces: [flyte, monitoring]}\n";

	(void)state;
	assert_int_equal(ws_platform_defaults(&p, &err), 0);
	assert_int_equal(ws_platform_apply_text(&p, cfg, strlen(cfg), "test", &err), 0);
	assert_int_equal(ws_record_init(&r, &p, "Churn", 2, "a@b.co", "large", "t", &err), 0);
	assert_int_equal(ws_record_add_service(&r, "flyte", &err), 0);
	assert_int_equal(ws_plan_build(&r, &p, &plan, &err), 0);
	assert_string_equal(ws_json_str(plan.objects[3].body, "metadata", "annotations",
					"iam.gke.io/gcp-service-account", NULL),
			    "ws-churn-002@my-proj.iam.gserviceaccount.com");
	assert_string_equal(ws_json_str(plan.objects[2].body, "spec", "hard", "limits.cpu", NULL), "128");
	assert_int_equal(cJSON_GetArraySize(ws_json_get(
		cJSON_GetArrayItem(ws_json_get(plan.objects[4].body, "spec", "ingress", NULL), 0), "from",
		NULL)), 3);
	assert_string_equal(ws_json_str(plan.flyte[1].body, "attributes", "matching_attributes",
					"workflow_execution_config", "raw_output_data_config",
					"output_location_prefix", NULL), "gs://ws-churn-002-data");
	ws_plan_release(&plan);
	ws_record_release(&r);
	ws_platform_release(&p);
}

static void build_fails(ws_record *r, const char *want)
{
	ws_plan plan;
	ws_err err;

	ws_err_clear(&err);
	assert_int_equal(ws_plan_build(r, &platform, &plan, &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("'%s' lacks '%s'", err.msg, want);
	assert_int_equal(plan.nobjects, 0);
}

/* GCP service account ids are at most 30 characters: a long id is shortened
 * (ws_gcp_sa_id), and an operator template that gives a longer one fails. */
static void test_gcp_long_id(void **state)
{
	ws_platform p;
	ws_record r;
	ws_plan plan;
	ws_err err;
	const char *cfg = "cloud: {provider: gcp, accountId: my-proj}\n";
	const char *own = "cloud: {roleTemplate: \"{{ id }}@{{ account }}.iam.gserviceaccount.com\"}\n";
	const char *own_gsa = "cloud: {roleTemplate: \"runner-{{ gsa }}@{{ account }}.iam.gserviceaccount.com\"}\n";

	(void)state;
	assert_int_equal(ws_platform_defaults(&p, &err), 0);
	assert_int_equal(ws_platform_apply_text(&p, cfg, strlen(cfg), "test", &err), 0);
	assert_string_equal(p.role_template, "{{ gsa }}@{{ account }}.iam.gserviceaccount.com");
	seed_record(&r);
	assert_int_equal(ws_plan_build(&r, &p, &plan, &err), 0);
	assert_string_equal(ws_json_str(plan.objects[3].body, "metadata", "annotations",
					"iam.gke.io/gcp-service-account", NULL),
			    "ws-customer-segmentat-640f3572@my-proj.iam.gserviceaccount.com");
	ws_plan_release(&plan);

	/* an operator's {{ id }} still works while the id fits... */
	assert_int_equal(ws_platform_apply_text(&p, own, strlen(own), "test", &err), 0);
	{
		ws_record s;

		assert_int_equal(ws_record_init(&s, &p, "Churn", 1, "a@b.co", NULL, "t", &err), 0);
		assert_int_equal(ws_plan_build(&s, &p, &plan, &err), 0);
		assert_string_equal(ws_json_str(plan.objects[3].body, "metadata", "annotations",
						"iam.gke.io/gcp-service-account", NULL),
				    "ws-churn-001@my-proj.iam.gserviceaccount.com");
		ws_plan_release(&plan);
		ws_record_release(&s);
	}
	/* ...and is refused, before anything is planned, when it does not */
	ws_err_clear(&err);
	assert_int_equal(ws_plan_build(&r, &p, &plan, &err), -1);
	assert_int_equal(plan.nobjects, 0);
	assert_string_equal(err.msg, "cloud.roleTemplate '{{ id }}@{{ account }}.iam.gserviceaccount.com': "
			    "GCP service account id 'ws-customer-segmentation-analysis-001' is longer "
			    "than 30 characters (use {{ gsa }}, the workspace id shortened to fit)");

	/* a prefix that pushes even {{ gsa }} over 30 is refused too */
	assert_int_equal(ws_platform_apply_text(&p, own_gsa, strlen(own_gsa), "test", &err), 0);
	assert_int_equal(ws_plan_build(&r, &p, &plan, &err), -1);
	assert_non_null(strstr(err.msg, "GCP service account id 'runner-ws-customer-segmentat-640f3572' "
			       "is longer than 30 characters"));
	ws_record_release(&r);
	ws_platform_release(&p);
}

static void record_init_fails(const char *cfg, const char *name, const char *owner, const char *want)
{
	ws_platform p;
	ws_record r;
	ws_err err;

	assert_int_equal(ws_platform_defaults(&p, &err), 0);
	if (cfg)
		assert_int_equal(ws_platform_apply_text(&p, cfg, strlen(cfg), "test", &err), 0);
	ws_err_clear(&err);
	assert_int_equal(ws_record_init(&r, &p, name, 1, owner, NULL, "t", &err), -1);
	assert_string_equal(err.msg, want);
	ws_platform_release(&p);
}

static void test_no_room_and_utf8(void **state)
{
	ws_record r;

	(void)state;
	record_init_fails("namespaceTemplate: \"flyte-{{ project }}-{{ domain }}\"\n"
			  "domains: [development, aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
			  "Team", "a@b.co",
			  "namespace template 'flyte-{{ project }}-{{ domain }}' leaves no room for a "
			  "workspace id (at most 63 characters with domain "
			  "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')");
	record_init_fails("namespaceTemplate: "
			  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-{{ project }}\"\n",
			  "Team", "a@b.co",
			  "namespace template 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-"
			  "{{ project }}' leaves no room for a workspace id (at most 63 characters)");
	record_init_fails(NULL, "Caf\xe9 team", "a@b.co",
			  "the workspace name is not valid UTF-8 (byte 0xe9 at offset 3)");
	record_init_fails(NULL, "ok", "caf\xe9@b.co",
			  "--owner: e-mail address is not valid UTF-8 (byte 0xe9 at offset 3)");

	/* a record that reaches the plan with bad bytes (e.g. edited by hand) */
	seed_record(&r);
	ws_record_set(&r.workspace_name, "Caf\xe9 team");
	build_fails(&r, "the workspace name is not valid UTF-8 (byte 0xe9 at offset 3)");
	ws_record_set(&r.workspace_name, "ok");
	ws_record_set(&r.users[1].user_id, "b\xe9" "b");
	build_fails(&r, "a member's user id is not valid UTF-8 (byte 0xe9 at offset 1)");
	ws_record_set(&r.users[1].user_id, "bob");
	ws_record_set(&r.users[1].email, "b\xe9" "b@x.io");
	build_fails(&r, "member 'bob': e-mail address is not valid UTF-8 (byte 0xe9 at offset 1)");
	ws_record_release(&r);
}

/* A viewer may read, never change: every rule has exactly get/list/watch. */
static void test_viewer_read_only(void **state)
{
	static const char *const want[] = {
		"{\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"pods/log\",\"services\",\"configmaps\","
		"\"persistentvolumeclaims\",\"events\",\"resourcequotas\",\"serviceaccounts\"],"
		"\"verbs\":[\"get\",\"list\",\"watch\"]}",
		"{\"apiGroups\":[\"apps\"],\"resources\":[\"deployments\",\"statefulsets\",\"replicasets\"],"
		"\"verbs\":[\"get\",\"list\",\"watch\"]}",
		"{\"apiGroups\":[\"batch\"],\"resources\":[\"jobs\",\"cronjobs\"],"
		"\"verbs\":[\"get\",\"list\",\"watch\"]}",
		"{\"apiGroups\":[\"flyte.lyft.com\"],\"resources\":[\"flyteworkflows\"],"
		"\"verbs\":[\"get\",\"list\",\"watch\"]}",
	};
	ws_record r;
	ws_plan plan;
	ws_err err;
	cJSON *rules, *rule, *verb;
	size_t i;

	(void)state;
	seed_record(&r);
	assert_int_equal(ws_record_add_user(&r, "carol", "carol@company.com", WS_ROLE_VIEWER, &err), 0);
	assert_int_equal(ws_plan_build(&r, &platform, &plan, &err), 0);
	assert_int_equal(plan.nobjects, 11);
	assert_int_equal(plan.objects[9].step, WS_STEP_ROLE);
	assert_string_equal(plan.objects[9].name, ID "-carol-role");
	assert_string_equal(plan.objects[9].namespace, NS);
	assert_string_equal(ws_json_str(plan.objects[9].body, "metadata", "annotations",
					"workspace.flyte.org/role", NULL), "viewer");
	rules = ws_json_get(plan.objects[9].body, "rules", NULL);
	assert_int_equal(cJSON_GetArraySize(rules), 4);
	i = 0;
	cJSON_ArrayForEach(rule, rules) {
		cJSON *w = cJSON_Parse(want[i]);

		if (!cJSON_Compare(w, rule, 1)) {
			char *got = cJSON_PrintUnformatted(rule);

			fail_msg("viewer rule %zu differs:\n got  %s\n want %s", i, got, want[i]);
		}
		cJSON_Delete(w);
		cJSON_ArrayForEach(verb, ws_json_get(rule, "verbs", NULL))
			assert_true(strcmp(verb->valuestring, "get") == 0 ||
				    strcmp(verb->valuestring, "list") == 0 ||
				    strcmp(verb->valuestring, "watch") == 0);
		i++;
	}
	assert_string_equal(ws_json_str(plan.objects[10].body, "roleRef", "name", NULL), ID "-carol-role");
	ws_plan_release(&plan);
	ws_record_release(&r);
}

static void test_per_domain_template(void **state)
{
	ws_platform p;
	ws_record r;
	ws_plan plan;
	ws_err err;
	const char *cfg = "namespaceTemplate: \"{{ project }}-{{ domain }}\"\ndomains: [development, production]\n";

	(void)state;
	assert_int_equal(ws_platform_defaults(&p, &err), 0);
	assert_int_equal(ws_platform_apply_text(&p, cfg, strlen(cfg), "test", &err), 0);
	assert_int_equal(ws_record_init(&r, &p, "Churn", 1, "a@b.co", NULL, "t", &err), 0);
	assert_int_equal(ws_plan_build(&r, &p, &plan, &err), 0);
	assert_int_equal(plan.namespaces.n, 2);
	assert_string_equal(plan.namespaces.items[0], "ws-churn-001-development");
	assert_string_equal(plan.namespaces.items[1], "ws-churn-001-production");
	/* record + 2 x (ns, quota, sa, netpol, role, binding) */
	assert_int_equal(plan.nobjects, 13);
	assert_string_equal(ws_json_str(plan.objects[7].body, "metadata", "labels", "flyte.org/domain",
					NULL), "production");
	ws_plan_release(&plan);
	ws_record_release(&r);
	ws_platform_release(&p);
}

static void test_refusals(void **state)
{
	ws_record r;
	ws_err err;

	(void)state;
	seed_record(&r);
	assert_int_equal(ws_record_add_user(&r, "Bob", NULL, WS_ROLE_VIEWER, &err), 0);
	build_fails(&r, "members 'bob' and 'Bob' would share the object names 'bob'");
	ws_record_release(&r);

	seed_record(&r);
	ws_record_set(&r.tier, "huge");
	build_fails(&r, "unknown tier 'huge'");
	ws_record_set(&r.tier, "standard");
	ws_record_set(&r.workspace_id, "flyte-x");
	build_fails(&r, "not a workspace id");
	ws_record_set(&r.workspace_id, ID);
	ws_record_set(&r.owner_email, "alice");
	build_fails(&r, "owner: 'alice' is not a valid e-mail address");
	ws_record_set(&r.owner_email, "alice@company.com");
	r.users[0].role = WS_ROLE_VIEWER; /* a record edited by hand */
	build_fails(&r, "has no owner");
	ws_record_release(&r);

	assert_int_equal(ws_record_init(&r, &platform, "", 1, "a@b.co", NULL, "t", &err), -1);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(ws_record_init(&r, &platform, "???", 1, "a@b.co", NULL, "t", &err), -1);
	assert_non_null(strstr(err.msg, "no letters or digits"));
	assert_int_equal(ws_record_init(&r, &platform, "ok", 1, "nope", NULL, "t", &err), -1);
	assert_non_null(strstr(err.msg, "--owner"));
	assert_int_equal(ws_record_init(&r, &platform, "ok", 1, "a@b.co", "gold", "t", &err), -1);
	assert_non_null(strstr(err.msg, "unknown tier 'gold'"));
}

static void test_long_names(void **state)
{
	char name[301];
	ws_record r;
	ws_plan plan;
	ws_err err;
	size_t i;

	(void)state;
	memset(name, 'Q', 300);
	name[300] = '\0';
	assert_int_equal(ws_record_init(&r, &platform, name, 999, "a@b.co", NULL, "t", &err), 0);
	assert_int_equal(strlen(r.workspace_id), 57);
	assert_int_equal(ws_record_add_service(&r, "flyte", &err), 0);
	assert_int_equal(ws_record_add_user(&r, "someone.with.a.very.long.address@a-very-long-domain-name.example.com",
					    NULL, WS_ROLE_VIEWER, &err), 0);
	assert_int_equal(ws_plan_build(&r, &platform, &plan, &err), 0);
	for (i = 0; i < plan.nobjects; i++) {
		const char *n = plan.objects[i].name;

		assert_true(strlen(n) <= 253);
		if (plan.objects[i].kind == &WS_KIND_NAMESPACE)
			assert_int_equal(ws_check_dns_label(n, "namespace", &err), 0);
	}
	/* the Flyte project name is cut to 64 bytes */
	assert_int_equal(strlen(ws_json_str(plan.flyte[0].body, "project", "name", NULL)), 64);
	assert_true(strlen(ws_json_str(plan.flyte[0].body, "project", "description", NULL)) <= 300);
	ws_plan_release(&plan);
	ws_record_release(&r);
}

static void test_namespace_meta_matches_plan(void **state)
{
	ws_record r;
	ws_plan plan;
	ws_err err;
	cJSON *labels, *annotations;

	(void)state;
	seed_record(&r);
	assert_int_equal(ws_plan_build(&r, &platform, &plan, &err), 0);
	assert_int_equal(ws_namespace_meta(&platform, ID, NULL, NULL, NULL, NULL, &labels, &annotations,
					   &err), 0);
	assert_true(cJSON_Compare(labels, ws_json_get(plan.objects[1].body, "metadata", "labels", NULL), 1));
	assert_string_equal(ws_json_str(annotations, WS_ANNOT_TIER, NULL), "standard");
	assert_null(ws_json_get(annotations, WS_ANNOT_NAME, NULL));
	cJSON_Delete(labels);
	cJSON_Delete(annotations);
	ws_plan_release(&plan);
	ws_record_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_record),
		cmocka_unit_test(test_seed_plan),
		cmocka_unit_test(test_seed_flyte),
		cmocka_unit_test(test_list_and_console),
		cmocka_unit_test(test_gcp_and_tier),
		cmocka_unit_test(test_gcp_long_id),
		cmocka_unit_test(test_no_room_and_utf8),
		cmocka_unit_test(test_viewer_read_only),
		cmocka_unit_test(test_per_domain_template),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_namespace_meta_matches_plan),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
