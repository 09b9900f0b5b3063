/* test_flyte.c - the Flyte client's pure parts (shared/flyte.c): endpoint
 * forms, environment fallbacks, CA and token files, and grpc-gateway error
 * bodies -> ws_err with the gRPC code's name as reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flyte.h"

static void endpoint(const char *ep, int plain_http, const char *want)
{
	ws_flyte_options o = {0};
	ws_flyte f;
	ws_err err;

	o.endpoint = ep;
	o.plain_http = plain_http;
	if (ws_flyte_open(&f, &o, &err))
		fail_msg("open '%s': %s", ep, err.msg);
	assert_string_equal(f.target.base_url, want);
	ws_flyte_close(&f);
}

static void test_endpoint_forms(void **state)
{
	ws_flyte_options o = {0};
	ws_flyte f;
	ws_err err;

	(void)state;
	endpoint("https://flyte.example.com/", 0, "https://flyte.example.com");
	endpoint("http://localhost:30080", 0, "http://localhost:30080");
	endpoint("dns:///flyte.example.com:443", 0, "https://flyte.example.com:443");
	endpoint("localhost:30080", 1, "http://localhost:30080");
	endpoint("localhost:30080", 0, "https://localhost:30080");
	o.endpoint = "grpc://x:1";
	assert_int_equal(ws_flyte_open(&f, &o, &err), -1);
	assert_non_null(strstr(err.msg, "flyte endpoint 'grpc://x:1'"));
	o.endpoint = NULL;
	assert_int_equal(ws_flyte_open(&f, &o, &err), -1);
	assert_non_null(strstr(err.msg, "no flyte endpoint"));
}

static void test_env_fallbacks(void **state)
{
	ws_flyte_options o = {0};

	(void)state;
	setenv("FLYTE_PLATFORM_URL", "localhost:30080", 1);
	setenv("FLYTE_PLATFORM_INSECURE", "True", 1);
	setenv("FLYTE_PLATFORM_CA_CERT_FILE_PATH", "/ca.pem", 1);
	setenv("FLYTE_TOKEN_FILE", "/tok", 1);
	ws_flyte_options_from_env(&o);
	assert_string_equal(o.endpoint, "localhost:30080");
	assert_int_equal(o.plain_http, 1);
	assert_string_equal(o.ca_file, "/ca.pem");
	assert_string_equal(o.token_file, "/tok");
	/* Flags win over the environment. */
	memset(&o, 0, sizeof(o));
	o.endpoint = "https://flag:1";
	setenv("FLYTE_PLATFORM_INSECURE", "false", 1);
	ws_flyte_options_from_env(&o);
	assert_string_equal(o.endpoint, "https://flag:1");
	assert_int_equal(o.plain_http, 0);
	unsetenv("FLYTE_PLATFORM_URL");
	unsetenv("FLYTE_PLATFORM_INSECURE");
	unsetenv("FLYTE_PLATFORM_CA_CERT_FILE_PATH");
	unsetenv("FLYTE_TOKEN_FILE");
}

static void test_files(void **state)
{
	char dir[] = "/tmp/ws-flyte-XXXXXX", ca[64], tok[64];
	ws_flyte_options o = {0};
	ws_flyte f;
	ws_err err;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(tok, sizeof(tok), "%s/token", dir);
	fp = fopen(ca, "w");
	fputs("PEM", fp);
	fclose(fp);
	fp = fopen(tok, "w");
	fputs("flyte-token\n", fp);
	fclose(fp);
	o.endpoint = "https://f:1";
	o.ca_file = ca;
	o.token_file = tok;
	o.timeout_ms = 1234;
	assert_int_equal(ws_flyte_open(&f, &o, &err), 0);
	assert_int_equal(f.target.ca_len, 3);
	assert_memory_equal(f.target.ca_pem, "PEM", 3);
	assert_string_equal(f.target.bearer, "flyte-token");
	assert_int_equal(f.target.timeout_ms, 1234);
	ws_flyte_close(&f);
	unlink(tok);
	assert_int_equal(ws_flyte_open(&f, &o, &err), -1);
	assert_non_null(strstr(err.msg, "flyte token file: cannot read"));
	unlink(ca);
	rmdir(dir);
}

/* A token goes over plain HTTP only to a loopback host. */
static int open_with_token(const char *ep, int plain_http, const char *tok, ws_err *err)
{
	ws_flyte_options o = {0};
	ws_flyte f;

	o.endpoint = ep;
	o.plain_http = plain_http;
	o.token_file = tok;
	if (ws_flyte_open(&f, &o, err))
		return -1;
	ws_flyte_close(&f);
	return 0;
}

static void test_no_token_over_plain_http(void **state)
{
	char dir[] = "/tmp/ws-flyte-XXXXXX", tok[64];
	ws_err err;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(tok, sizeof(tok), "%s/token", dir);
	fp = fopen(tok, "w");
	fputs("flyte-token\n", fp);
	fclose(fp);
	assert_int_equal(open_with_token("flyte.example.com:80", 1, tok, &err), -1);
	assert_string_equal(err.msg, "refusing to send the flyte token over plain HTTP to "
				     "'flyte.example.com': use https or a loopback endpoint");
	assert_int_equal(err.kind, WS_E_INVALID);
	assert_int_equal(open_with_token("http://10.0.0.1:8089/", 0, tok, &err), -1);
	assert_non_null(strstr(err.msg, "plain HTTP to '10.0.0.1'"));
	assert_int_equal(open_with_token("http://localhost.evil.example", 0, tok, &err), -1);
	assert_int_equal(open_with_token("localhost:30080", 1, tok, &err), 0);
	assert_int_equal(open_with_token("http://127.0.0.1:30080", 0, tok, &err), 0);
	assert_int_equal(open_with_token("http://[::1]:30080", 0, tok, &err), 0);
	assert_int_equal(open_with_token("flyte.example.com:443", 0, tok, &err), 0);
	/* Without a token there is no secret to protect. */
	assert_int_equal(open_with_token("flyte.example.com:80", 1, NULL, &err), 0);
	unlink(tok);
	rmdir(dir);
}

static void result(long status, const char *body, const char *reason, const char *msg)
{
	ws_http_req r;
	ws_err err;
	cJSON *out = (cJSON *)1;

	memset(&r, 0, sizeof(r));
	ws_buf_init(&r.response, 1 << 20);
	r.method = "POST";
	r.status = status;
	if (body)
		ws_buf_adds(&r.response, body, NULL);
	assert_int_equal(ws_flyte_result(&r, &out, &err), -1);
	assert_null(out);
	assert_int_equal(err.kind, WS_E_HTTP);
	assert_int_equal(err.code, status);
	assert_string_equal(err.reason, reason);
	assert_string_equal(err.msg, msg);
	ws_buf_release(&r.response);
}

static void test_errors(void **state)
{
	(void)state;
	result(409, "{\"code\":6,\"message\":\"project with id ws-a-001 already exists\",\"details\":[]}",
	       "AlreadyExists", "project with id ws-a-001 already exists");
	result(400, "{\"code\":3,\"message\":\"Domains are currently only set system wide\"}",
	       "InvalidArgument", "Domains are currently only set system wide");
	result(404, "{\"code\":5,\"message\":\"missing entity of type project\"}", "NotFound",
	       "missing entity of type project");
	/* grpc-gateway v1 bodies carry "error". */
	result(503, "{\"error\":\"upstream down\",\"code\":14}", "Unavailable", "upstream down");
	/* No JSON: the reason from the HTTP status. */
	result(409, "conflict", "AlreadyExists", "409 AlreadyExists: conflict");
	result(500, NULL, "Internal", "500 Internal");
	result(401, "{}", "Unauthenticated", "401 Unauthenticated: {}");
}

static void test_success_and_transport(void **state)
{
	ws_http_req r;
	ws_err err;
	cJSON *out = NULL;

	(void)state;
	memset(&r, 0, sizeof(r));
	ws_buf_init(&r.response, 1 << 20);
	r.method = "GET";
	r.status = 200;
	assert_int_equal(ws_flyte_result(&r, &out, &err), 0);
	assert_true(cJSON_IsObject(out));
	cJSON_Delete(out);
	ws_buf_adds(&r.response, "{\"domains\":[]}", NULL);
	assert_int_equal(ws_flyte_result(&r, &out, &err), 0);
	assert_non_null(cJSON_GetObjectItem(out, "domains"));
	cJSON_Delete(out);
	r.status = 0;
	ws_fail(&r.err, WS_E_TRANSPORT, "GET https://f:1/api/v1/domains: connection refused");
	assert_int_equal(ws_flyte_result(&r, &out, &err), -1);
	assert_int_equal(err.kind, WS_E_TRANSPORT);
	assert_string_equal(err.msg, "GET https://f:1/api/v1/domains: connection refused");
	ws_buf_release(&r.response);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_forms),
		cmocka_unit_test(test_env_fallbacks),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_no_token_over_plain_http),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_success_and_transport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
