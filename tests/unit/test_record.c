/* test_record.c - workspace.json <-> ws_record: the seed record, unknown
 * fields kept on a round trip, clear errors, member edits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"
#include "record.h"

static const char seed[] =
	"{\"workspace_id\": \"ws-customer-segmentation-analysis-001\","
	" \"workspace_name\": \"Customer Segmentation Analysis\","
	" \"owner_email\": \"alice@company.com\","
	" \"users\": [{\"user_id\": \"alice\", \"email\": \"alice@company.com\", \"role\": \"owner\"},"
	"            {\"user_id\": \"bob\", \"email\": \"bob@company.com\", \"role\": \"contributor\"}],"
	" \"services\": [{\"service_type\": \"flyte\", \"config\": {}}],"
	" \"tier\": \"standard\", \"data_bucket\": \"ws-customer-segmentation-analysis-001-data\","
	" \"created_at\": \"2026-11-28T10:00:00Z\"}";

static void test_parse_seed(void **state)
{
	ws_record r;
	ws_err err;

	(void)state;
	assert_int_equal(ws_record_parse(&r, seed, strlen(seed), &err), 0);
	assert_string_equal(r.workspace_id, "ws-customer-segmentation-analysis-001");
	assert_string_equal(r.workspace_name, "Customer Segmentation Analysis");
	assert_string_equal(r.owner_email, "alice@company.com");
	assert_int_equal(r.nusers, 2);
	assert_string_equal(r.users[0].user_id, "alice");
	assert_string_equal(r.users[0].email, "alice@company.com");
	assert_int_equal(r.users[0].role, WS_ROLE_OWNER);
	assert_string_equal(r.users[1].user_id, "bob");
	assert_int_equal(r.users[1].role, WS_ROLE_CONTRIBUTOR);
	assert_int_equal(r.nservices, 1);
	assert_string_equal(r.services[0].service_type, "flyte");
	assert_true(cJSON_IsObject(r.services[0].config));
	assert_string_equal(r.tier, "standard");
	assert_string_equal(r.data_bucket, "ws-customer-segmentation-analysis-001-data");
	assert_string_equal(r.created_at, "2026-11-28T10:00:00Z");
	assert_null(r.extra);
	ws_record_release(&r);
}

static void test_round_trip_exact(void **state)
{
	ws_record r;
	ws_err err;
	cJSON *want = cJSON_Parse(seed), *got;

	(void)state;
	assert_int_equal(ws_record_parse(&r, seed, strlen(seed), &err), 0);
	got = ws_record_to_json(&r);
	assert_true(cJSON_Compare(want, got, 1));
	cJSON_Delete(got);
	cJSON_Delete(want);
	ws_record_release(&r);
}

static void test_unknown_fields_kept(void **state)
{
	const char *text =
		"{\"workspace_id\":\"ws-a-001\",\"workspace_name\":\"A\",\"owner_email\":\"a@b.co\","
		"\"users\":[{\"user_id\":\"a\",\"role\":\"owner\",\"team\":\"ml\"}],"
		"\"services\":[{\"service_type\":\"jupyter\",\"config\":{\"image\":\"x\"},\"since\":3}],"
		"\"cost_center\":{\"id\":42},\"tags\":[\"x\",\"y\"]}";
	ws_record r;
	ws_err err;
	cJSON *got;

	(void)state;
	assert_int_equal(ws_record_parse(&r, text, strlen(text), &err), 0);
	assert_non_null(r.extra);
	got = ws_record_to_json(&r);
	assert_int_equal((int)ws_json_get(got, "cost_center", "id", NULL)->valuedouble, 42);
	assert_int_equal(cJSON_GetArraySize(ws_json_get(got, "tags", NULL)), 2);
	assert_string_equal(ws_json_str(cJSON_GetArrayItem(ws_json_get(got, "users", NULL), 0), "team",
					NULL), "ml");
	assert_string_equal(ws_json_str(cJSON_GetArrayItem(ws_json_get(got, "services", NULL), 0),
					"config", "image", NULL), "x");
	assert_int_equal((int)ws_json_get(cJSON_GetArrayItem(ws_json_get(got, "services", NULL), 0),
					  "since", NULL)->valuedouble, 3);
	/* a second round trip is stable */
	{
		char *once = cJSON_PrintUnformatted(got), *twice;
		ws_record r2;

		assert_int_equal(ws_record_parse(&r2, once, strlen(once), &err), 0);
		twice = ws_record_print(&r2);
		assert_string_equal(once, twice);
		free(once);
		free(twice);
		ws_record_release(&r2);
	}
	cJSON_Delete(got);
	ws_record_release(&r);
}

static void parse_fails(const char *text, const char *want)
{
	ws_record r;
	ws_err err;

	ws_err_clear(&err);
	assert_int_equal(ws_record_parse(&r, text, strlen(text), &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("error '%s' does not contain '%s'", err.msg, want);
	assert_null(r.workspace_id);
}

static void test_errors(void **state)
{
	(void)state;
	parse_fails("not json", "invalid JSON");
	parse_fails("[]", "expected a JSON object");
	parse_fails("{\"workspace_name\":\"A\",\"owner_email\":\"a@b.co\",\"users\":[]}",
		    "'workspace_id' is missing");
	parse_fails("{\"workspace_id\":7,\"workspace_name\":\"A\",\"owner_email\":\"a@b.co\",\"users\":[]}",
		    "'workspace_id' must be a string");
	parse_fails("{\"workspace_id\":\"ws-a-001\",\"workspace_name\":\"\",\"owner_email\":\"a@b.co\","
		    "\"users\":[]}", "'workspace_name' is empty");
	parse_fails("{\"workspace_id\":\"ws-a-001\",\"workspace_name\":\"A\",\"owner_email\":\"a@b.co\"}",
		    "'users' is missing");
	parse_fails("{\"workspace_id\":\"ws-a-001\",\"workspace_name\":\"A\",\"owner_email\":\"a@b.co\","
		    "\"users\":{}}", "'users' must be an array");
	parse_fails("{\"workspace_id\":\"ws-a-001\",\"workspace_name\":\"A\",\"owner_email\":\"a@b.co\","
		    "\"users\":[{\"user_id\":\"a\",\"role\":\"admin\"}]}",
		    "users[0].role: unknown role 'admin'");
	parse_fails("{\"workspace_id\":\"ws-a-001\",\"workspace_name\":\"A\",\"owner_email\":\"a@b.co\","
		    "\"users\":[{\"role\":\"owner\"}]}", "users[0].'user_id' is missing");
	parse_fails("{\"workspace_id\":\"ws-a-001\",\"workspace_name\":\"A\",\"owner_email\":\"a@b.co\","
		    "\"users\":[],\"services\":[{\"service_type\":\"flyte\",\"config\":[]}]}",
		    "services[0].config must be an object");
}

static void test_members(void **state)
{
	ws_record r;
	ws_err err;

	(void)state;
	assert_int_equal(ws_record_parse(&r, seed, strlen(seed), &err), 0);
	assert_int_equal(ws_record_add_user(&r, "carol", NULL, WS_ROLE_VIEWER, &err), 0);
	assert_int_equal(r.nusers, 3);
	assert_null(r.users[2].email);
	assert_int_equal(ws_record_add_user(&r, "carol", NULL, WS_ROLE_VIEWER, &err), -1);
	assert_non_null(strstr(err.msg, "already a member"));
	assert_int_equal(ws_record_set_role(&r, "carol", WS_ROLE_CONTRIBUTOR, &err), 0);
	assert_int_equal(r.users[2].role, WS_ROLE_CONTRIBUTOR);
	assert_int_equal(ws_record_remove_user(&r, "bob", &err), 0);
	assert_int_equal(r.nusers, 2);
	assert_string_equal(r.users[1].user_id, "carol");
	assert_int_equal(ws_record_remove_user(&r, "bob", &err), -1);
	assert_non_null(strstr(err.msg, "not a member"));
	/* the last owner stays */
	assert_int_equal(ws_record_remove_user(&r, "alice", &err), -1);
	assert_non_null(strstr(err.msg, "last owner"));
	assert_int_equal(ws_record_set_role(&r, "alice", WS_ROLE_VIEWER, &err), -1);
	assert_non_null(strstr(err.msg, "last owner"));
	assert_int_equal(ws_record_set_role(&r, "carol", WS_ROLE_OWNER, &err), 0);
	assert_int_equal(ws_record_set_role(&r, "alice", WS_ROLE_VIEWER, &err), 0);
	assert_int_equal(ws_record_add_service(&r, "flyte", &err), 0);
	assert_int_equal(r.nservices, 1);
	assert_int_equal(ws_record_add_service(&r, "jupyter", &err), 0);
	assert_true(ws_record_has_service(&r, "jupyter"));
	ws_record_release(&r);
}

/* create --owner alice@company.com records user id 'alice': members can be
 * named by their exact e-mail address too, the user id winning. */
static void test_member_by_email(void **state)
{
	ws_record r;
	ws_err err;

	(void)state;
	assert_int_equal(ws_record_parse(&r, seed, strlen(seed), &err), 0);
	assert_int_equal(ws_record_find_member(&r, "bob@company.com"), 1);
	assert_int_equal(ws_record_find_member(&r, "alice"), 0);
	assert_int_equal(ws_record_find_member(&r, "Bob@company.com"), -1);
	assert_int_equal(ws_record_find_member(&r, "bob@company"), -1);
	assert_int_equal(ws_record_find_user(&r, "bob@company.com"), -1);
	/* a member whose user id is an address another member has as e-mail */
	assert_int_equal(ws_record_add_user(&r, "bob@company.com", NULL, WS_ROLE_VIEWER, &err), 0);
	assert_int_equal(ws_record_find_member(&r, "bob@company.com"), 2);
	assert_int_equal(ws_record_remove_user(&r, "bob@company.com", &err), 0);
	assert_int_equal(ws_record_set_role(&r, "bob@company.com", WS_ROLE_VIEWER, &err), 0);
	assert_int_equal(r.users[1].role, WS_ROLE_VIEWER);
	assert_int_equal(ws_record_set_role(&r, "alice@company.com", WS_ROLE_VIEWER, &err), -1);
	assert_non_null(strstr(err.msg, "last owner"));
	assert_int_equal(ws_record_remove_user(&r, "bob@company.com", &err), 0);
	assert_int_equal(r.nusers, 1);
	assert_string_equal(r.users[0].user_id, "alice");
	assert_int_equal(ws_record_remove_user(&r, "carol@company.com", &err), -1);
	assert_non_null(strstr(err.msg, "not a member"));
	ws_record_release(&r);
}

static void test_roles(void **state)
{
	enum ws_role role;
	ws_err err;

	(void)state;
	assert_int_equal(ws_role_parse("viewer", &role, &err), 0);
	assert_int_equal(role, WS_ROLE_VIEWER);
	assert_string_equal(ws_role_name(WS_ROLE_CONTRIBUTOR), "contributor");
	assert_int_equal(ws_role_parse("Owner", &role, &err), -1);
	assert_non_null(strstr(err.msg, "valid roles: owner, contributor, viewer"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_seed),
		cmocka_unit_test(test_round_trip_exact),
		cmocka_unit_test(test_unknown_fields_kept),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_member_by_email),
		cmocka_unit_test(test_roles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
