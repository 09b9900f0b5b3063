/* test_k8s_status.c - Kubernetes error replies -> ws_err
 * (ws_k8s_status_error), and the checks ws_k8s_run makes before sending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "k8s.h"

static void check(long status, const char *body, const char *reason, const char *msg)
{
	ws_err err;

	ws_err_clear(&err);
	assert_int_equal(ws_k8s_status_error(status, body, body ? strlen(body) : 0, &err), -1);
	assert_int_equal(err.kind, WS_E_HTTP);
	assert_int_equal(err.code, status);
	assert_string_equal(err.reason, reason);
	assert_string_equal(err.msg, msg);
}

static void test_status_bodies(void **state)
{
	(void)state;
	check(409,
	      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
	      "\"message\":\"namespaces \\\"flyte-ws-x\\\" already exists\",\"reason\":\"AlreadyExists\","
	      "\"details\":{\"name\":\"flyte-ws-x\",\"kind\":\"namespaces\"},\"code\":409}",
	      "AlreadyExists", "namespaces \"flyte-ws-x\" already exists");
	check(409,
	      "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"Operation cannot be fulfilled "
	      "on configmaps \\\"ws-a-001\\\": the object has been modified\",\"reason\":\"Conflict\","
	      "\"code\":409}",
	      "Conflict", "Operation cannot be fulfilled on configmaps \"ws-a-001\": the object has been modified");
	check(404,
	      "{\"kind\":\"Status\",\"message\":\"configmaps \\\"x\\\" not found\",\"reason\":\"NotFound\","
	      "\"code\":404}",
	      "NotFound", "configmaps \"x\" not found");
	check(403,
	      "{\"kind\":\"Status\",\"message\":\"namespaces is forbidden: User \\\"bob\\\" cannot create "
	      "resource \\\"namespaces\\\"\",\"reason\":\"Forbidden\",\"code\":403}",
	      "Forbidden", "namespaces is forbidden: User \"bob\" cannot create resource \"namespaces\"");
	check(410,
	      "{\"kind\":\"Status\",\"message\":\"too old resource version: 5 (90)\",\"reason\":\"Expired\","
	      "\"code\":410}",
	      "Expired", "too old resource version: 5 (90)");
	check(429, "{\"kind\":\"Status\",\"message\":\"slow down\",\"reason\":\"TooManyRequests\"}",
	      "TooManyRequests", "slow down");
}

static void test_invalid_with_causes(void **state)
{
	(void)state;
	/* Causes already in the message are not repeated. */
	check(422,
	      "{\"kind\":\"Status\",\"message\":\"Namespace \\\"Bad\\\" is invalid: metadata.name: Invalid "
	      "value: \\\"Bad\\\": a lowercase RFC 1123 label\",\"reason\":\"Invalid\",\"details\":"
	      "{\"name\":\"Bad\",\"kind\":\"Namespace\",\"causes\":[{\"reason\":\"FieldValueInvalid\","
	      "\"message\":\"Invalid value: \\\"Bad\\\": a lowercase RFC 1123 label\",\"field\":"
	      "\"metadata.name\"}]},\"code\":422}",
	      "Invalid",
	      "Namespace \"Bad\" is invalid: metadata.name: Invalid value: \"Bad\": a lowercase RFC 1123 label");
	/* Others are added, with their field. */
	check(422,
	      "{\"kind\":\"Status\",\"message\":\"ResourceQuota \\\"q\\\" is invalid\",\"reason\":\"Invalid\","
	      "\"details\":{\"causes\":[{\"message\":\"must be a quantity\",\"field\":\"spec.hard.cpu\"},"
	      "{\"message\":\"Required value\"}]},\"code\":422}",
	      "Invalid",
	      "ResourceQuota \"q\" is invalid; spec.hard.cpu: must be a quantity; Required value");
}

static void test_not_a_status(void **state)
{
	(void)state;
	check(502, "<html><body>Bad Gateway</body></html>\nmore", "InternalError",
	      "502 InternalError: <html><body>Bad Gateway</body></html>");
	check(401, "", "Unauthorized", "401 Unauthorized");
	check(401, NULL, "Unauthorized", "401 Unauthorized");
	check(503, "{\"kind\":\"Status\"}", "ServiceUnavailable", "503 ServiceUnavailable");
	check(500, "{\"kind\":\"Status\",\"reason\":\"\",\"message\":\"etcd down\"}", "InternalError",
	      "etcd down");
	check(400, "\x01\x02 bin\x7f", "BadRequest", "400 BadRequest: ?? bin?");
	check(422, "{\"kind\":\"Status\"", "Invalid", "422 Invalid: {\"kind\":\"Status\"");
}

static void test_truncates_long_messages(void **state)
{
	char *body = malloc(5000);
	ws_err err;

	(void)state;
	strcpy(body, "{\"kind\":\"Status\",\"reason\":\"Invalid\",\"message\":\"");
	memset(body + strlen(body), 'x', 3000);
	strcpy(body + strlen("{\"kind\":\"Status\",\"reason\":\"Invalid\",\"message\":\"") + 3000, "\"}");
	ws_k8s_status_error(422, body, strlen(body), &err);
	assert_int_equal(strlen(err.msg), WS_ERR_MSG_MAX - 1);
	free(body);
}

/* ws_k8s_run refuses what it cannot address, before any request. */
static void test_op_checks(void **state)
{
	ws_k8s k;
	ws_k8s_op ops[4];
	cJSON *cm = cJSON_Parse("{\"metadata\":{\"name\":\"a\"}}");

	(void)state;
	memset(&k, 0, sizeof(k));
	memset(ops, 0, sizeof(ops));
	k.conn.target.base_url = strdup("http://127.0.0.1:1");
	k.conn.target.max_retries = -1;
	ops[0].verb = WS_K8S_GET;
	ops[0].kind = &WS_KIND_CONFIGMAP;
	ops[0].name = "a";
	ops[1].verb = WS_K8S_CREATE;
	ops[1].kind = &WS_KIND_CONFIGMAP;
	ops[2].verb = WS_K8S_CREATE;
	ops[2].kind = &WS_KIND_CONFIGMAP;
	ops[2].body = cm;
	ops[3].verb = WS_K8S_DELETE;
	ops[3].kind = &WS_KIND_NAMESPACE;
	assert_int_equal(ws_k8s_run(&k, ops, 4), 4);
	assert_string_equal(ops[0].err.msg, "no namespace given for ConfigMap 'a'");
	assert_string_equal(ops[1].err.msg, "no ConfigMap object given");
	assert_string_equal(ops[2].err.msg, "no namespace given for ConfigMap ''");
	assert_string_equal(ops[3].err.msg, "no Namespace name given");
	/* Well-formed, but nobody listens: a transport error. */
	ops[0].ns = "default";
	assert_int_equal(ws_k8s_run(&k, ops, 1), 1);
	assert_int_equal(ops[0].err.kind, WS_E_TRANSPORT);
	assert_non_null(strstr(ops[0].err.msg, "GET http://127.0.0.1:1/api/v1/namespaces/default/configmaps/a"));
	cJSON_Delete(cm);
	ws_k8s_close(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_bodies),
		cmocka_unit_test(test_invalid_with_causes),
		cmocka_unit_test(test_not_a_status),
		cmocka_unit_test(test_truncates_long_messages),
		cmocka_unit_test(test_op_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
