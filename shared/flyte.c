/* flyte.c - Flyte Admin REST client (see flyte.h): endpoint forms as pyflyte
 * and flytectl write them, grpc-gateway error bodies turned into ws_err with
 * the gRPC code's name as reason, and the few calls the product makes.
 */
#include "flyte.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"

#define FLYTE_FILE_MAX (1u << 20)
#define FLYTE_PATH_MAX 2048

static int truthy(const char *v)
{
	return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0;
}

void ws_flyte_options_from_env(ws_flyte_options *o)
{
	const char *v;

	if (!o->endpoint && (v = getenv("FLYTE_PLATFORM_URL")) && *v)
		o->endpoint = v;
	if (!o->plain_http && (v = getenv("FLYTE_PLATFORM_INSECURE")) && truthy(v))
		o->plain_http = 1;
	if (!o->ca_file && (v = getenv("FLYTE_PLATFORM_CA_CERT_FILE_PATH")) && *v)
		o->ca_file = v;
	if (!o->token_file && (v = getenv("FLYTE_TOKEN_FILE")) && *v)
		o->token_file = v;
}

/* Read a small file into one exact allocation (it may be a token). */
static int read_small(const char *path, unsigned char **out, size_t *len, ws_err *err)
{
	FILE *f = fopen(path, "rb");
	long size;
	unsigned char *buf;

	if (!f)
		return ws_fail(err, WS_E_IO, "cannot read '%s': %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return ws_fail(err, WS_E_IO, "cannot read '%s': not a regular file", path);
	}
	if ((unsigned long)size > FLYTE_FILE_MAX) {
		fclose(f);
		return ws_fail(err, WS_E_INVALID, "cannot read '%s': larger than %u bytes", path,
			       FLYTE_FILE_MAX);
	}
	buf = malloc((size_t)size + 1);
	if (!buf) {
		fclose(f);
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	}
	*len = fread(buf, 1, (size_t)size, f);
	buf[*len] = '\0';
	fclose(f);
	*out = buf;
	return 0;
}

/* "https://h:p", "http://h:p", "dns:///h:p" or "h:p" -> a base URL. */
static int set_endpoint(ws_http_target *t, const char *endpoint, int plain_http, ws_err *err)
{
	const char *ep = endpoint;
	size_t n;

	if (strncmp(ep, "dns:///", 7) == 0)
		ep += 7;
	if (strstr(ep, "://") && strncmp(ep, "https://", 8) != 0 && strncmp(ep, "http://", 7) != 0)
		return ws_fail(err, WS_E_INVALID,
			       "flyte endpoint '%s' is not http(s)://host:port, dns:///host:port or "
			       "host:port",
			       endpoint);
	if (!*ep)
		return ws_fail(err, WS_E_INVALID, "flyte endpoint '%s' has no host", endpoint);
	n = strlen(ep) + sizeof("https://");
	t->base_url = malloc(n);
	if (!t->base_url)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	snprintf(t->base_url, n, "%s%s", strstr(ep, "://") ? "" : plain_http ? "http://" : "https://",
		 ep);
	n = strlen(t->base_url);
	while (n > 8 && t->base_url[n - 1] == '/')
		t->base_url[--n] = '\0';
	return 0;
}

/* Whether a plain-HTTP base URL ("http://host[:port][/...]") names a loopback
 * host: the only place a bearer token may go unencrypted. Sets host (for the
 * message) either way. */
static int plain_http_is_loopback(const char *url, char *host, size_t size)
{
	const char *h = url + strlen("http://"), *end;
	size_t n;

	end = *h == '[' ? strchr(h, ']') : h + strcspn(h, ":/");
	end = end ? end + (*h == '[') : h + strlen(h);
	n = (size_t)(end - h) < size ? (size_t)(end - h) : size - 1;
	memcpy(host, h, n);
	host[n] = '\0';
	return strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
	       (strncmp(host, "127.", 4) == 0 && strspn(host, "0123456789.") == n);
}

/* Refuse a token that would travel over plain HTTP to another machine. */
static int check_token_transport(const ws_http_target *t, ws_err *err)
{
	char host[256];

	if (!t->bearer || strncmp(t->base_url, "http://", 7) != 0 ||
	    plain_http_is_loopback(t->base_url, host, sizeof(host)))
		return 0;
	return ws_fail(err, WS_E_INVALID,
		       "refusing to send the flyte token over plain HTTP to '%s': use https or a "
		       "loopback endpoint",
		       host);
}

int ws_flyte_open(ws_flyte *f, const ws_flyte_options *o, ws_err *err)
{
	unsigned char *tok = NULL;
	size_t len = 0;

	memset(f, 0, sizeof(*f));
	if (ws_http_global_init(err))
		return -1;
	if (!o->endpoint || !*o->endpoint)
		return ws_fail(err, WS_E_INVALID,
			       "no flyte endpoint: use --flyte-endpoint, set FLYTE_PLATFORM_URL or "
			       "configure flyte.endpoint in the platform config");
	if (set_endpoint(&f->target, o->endpoint, o->plain_http, err))
		goto fail;
	if (o->ca_file && read_small(o->ca_file, &f->target.ca_pem, &f->target.ca_len, err)) {
		ws_err_prefix(err, "flyte CA file");
		goto fail;
	}
	if (o->token_file) {
		if (read_small(o->token_file, &tok, &len, err)) {
			ws_err_prefix(err, "flyte token file");
			goto fail;
		}
		while (len && (tok[len - 1] == '\n' || tok[len - 1] == '\r' || tok[len - 1] == ' '))
			tok[--len] = '\0';
		if (len == 0) {
			free(tok);
			ws_fail(err, WS_E_INVALID, "flyte token file '%s' is empty", o->token_file);
			goto fail;
		}
		f->target.bearer = (char *)tok;
		if (check_token_transport(&f->target, err))
			goto fail;
	}
	f->target.timeout_ms = o->timeout_ms;
	return 0;
fail:
	ws_http_target_release(&f->target);
	return -1;
}

void ws_flyte_close(ws_flyte *f)
{
	if (f)
		ws_http_target_release(&f->target);
}

/* ---- errors ---- */

static const char *grpc_name(int code)
{
	static const char *const names[] = {
		"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
		"AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
		"Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
		"Unauthenticated",
	};

	return code >= 0 && code < (int)(sizeof(names) / sizeof(names[0])) ? names[code] : "Unknown";
}

/* grpc-gateway's HTTP status for each code, read backwards. */
static const char *http_name(long status)
{
	switch (status) {
	case 400: return "InvalidArgument";
	case 401: return "Unauthenticated";
	case 403: return "PermissionDenied";
	case 404: return "NotFound";
	case 409: return "AlreadyExists";
	case 412: return "FailedPrecondition";
	case 429: return "ResourceExhausted";
	case 499: return "Canceled";
	case 501: return "Unimplemented";
	case 503: return "Unavailable";
	case 504: return "DeadlineExceeded";
	default: return status >= 500 ? "Internal" : "Unknown";
	}
}

static int flyte_error(long status, const char *body, size_t len, ws_err *err)
{
	cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
	const char *msg = ws_json_str(j, "message", NULL), *reason;
	char excerpt[201];
	size_t i, o = 0;

	if (!msg || !*msg)
		msg = ws_json_str(j, "error", NULL); /* grpc-gateway v1 */
	reason = cJSON_IsNumber(code) ? grpc_name(code->valueint) : http_name(status);
	if (msg && *msg) {
		ws_fail_http(err, (int)status, reason, "%s", msg);
	} else {
		for (i = 0; body && i < len && body[i] != '\n' && o + 1 < sizeof(excerpt); i++)
			excerpt[o++] = (body[i] >= 0x20 && body[i] < 0x7f) ? body[i] : '?';
		excerpt[o] = '\0';
		ws_fail_http(err, (int)status, reason, "%ld %s%s%s", status, reason, o ? ": " : "",
			     excerpt);
	}
	cJSON_Delete(j);
	return -1;
}

/* ---- calls ---- */

int ws_flyte_req(ws_flyte *f, ws_http_req *r, const char *method, const char *path,
		 const cJSON *body, ws_err *err)
{
	char *text = NULL;
	int rc;

	if (body && !(text = ws_json_print(body)))
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	rc = ws_http_req_init(r, &f->target, method, path, text ? "application/json" : NULL, text,
			      text ? strlen(text) : 0, err);
	free(text);
	return rc;
}

int ws_flyte_result(ws_http_req *r, cJSON **out, ws_err *err)
{
	if (out)
		*out = NULL;
	if (r->status == 0) {
		if (err)
			*err = r->err;
		return -1;
	}
	if (r->status < 200 || r->status >= 300)
		return flyte_error(r->status, r->response.data, r->response.len, err);
	if (!out)
		return 0;
	*out = r->response.len ? ws_json_parse(r->response.data, r->response.len, err)
			       : cJSON_CreateObject();
	if (!*out)
		return ws_err_prefix(err, "%s %s: bad answer", r->method, r->path);
	return 0;
}

int ws_flyte_call(ws_flyte *f, const char *method, const char *path, const cJSON *body,
		  cJSON **out, ws_err *err)
{
	ws_http_req r, *p = &r;
	int rc;

	if (out)
		*out = NULL;
	if (ws_flyte_req(f, &r, method, path, body, err))
		return -1;
	ws_http_perform(&p, 1);
	rc = ws_flyte_result(&r, out, err);
	ws_http_req_release(&r);
	return rc;
}

/* "/api/v1/<collection>/<escaped id>[suffix]" */
static int id_path(char *out, size_t size, const char *collection, const char *id,
		   const char *suffix, ws_err *err)
{
	char *esc = curl_easy_escape(NULL, id ? id : "", 0);
	int n;

	if (!esc)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	n = snprintf(out, size, "/api/v1/%s/%s%s", collection, esc, suffix ? suffix : "");
	curl_free(esc);
	if (n < 0 || (size_t)n >= size)
		return ws_fail(err, WS_E_INVALID, "flyte project id too long");
	return 0;
}

int ws_flyte_get_project(ws_flyte *f, const char *id, cJSON **project, ws_err *err)
{
	char path[FLYTE_PATH_MAX];

	if (id_path(path, sizeof(path), "projects", id, NULL, err))
		return -1;
	return ws_flyte_call(f, "GET", path, NULL, project, err);
}

int ws_flyte_set_project_state(ws_flyte *f, const cJSON *project, const char *state, ws_err *err)
{
	char path[FLYTE_PATH_MAX];
	const char *id = ws_json_str(project, "id", NULL);
	cJSON *copy;
	int rc;

	if (!id || !*id)
		return ws_fail(err, WS_E_INVALID, "flyte project without id");
	if (id_path(path, sizeof(path), "projects", id, NULL, err))
		return -1;
	copy = cJSON_Duplicate(project, 1);
	if (!copy)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	ws_json_set_str(copy, "state", state);
	/* Get fills in the system-wide domains; sending them back is refused. */
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "domains");
	rc = ws_flyte_call(f, "PUT", path, copy, NULL, err);
	cJSON_Delete(copy);
	return rc;
}

int ws_flyte_domains(ws_flyte *f, ws_strlist *out, ws_err *err)
{
	cJSON *reply = NULL;
	const cJSON *d;
	int rc = -1;

	if (ws_flyte_call(f, "GET", "/api/v1/domains", NULL, &reply, err))
		return -1;
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(reply, "domains")) {
		const char *id = ws_json_str(d, "id", NULL);

		if (id && ws_strlist_add(out, id, err))
			goto out;
	}
	rc = 0;
out:
	cJSON_Delete(reply);
	return rc;
}

int ws_flyte_get_attributes(ws_flyte *f, const char *project, const char *resource_type,
			    cJSON **attributes, ws_err *err)
{
	char path[FLYTE_PATH_MAX], suffix[128];
	cJSON *reply = NULL;

	*attributes = NULL;
	snprintf(suffix, sizeof(suffix), "?resource_type=%s", resource_type);
	if (id_path(path, sizeof(path), "project_attributes", project, suffix, err) ||
	    ws_flyte_call(f, "GET", path, NULL, &reply, err))
		return -1;
	*attributes = cJSON_DetachItemFromObjectCaseSensitive(reply, "attributes");
	cJSON_Delete(reply);
	if (!*attributes)
		*attributes = cJSON_CreateObject();
	return *attributes ? 0 : ws_fail(err, WS_E_INTERNAL, "out of memory");
}
