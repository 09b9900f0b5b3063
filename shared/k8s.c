/* k8s.c - Kubernetes REST client (see k8s.h): single calls and parallel
 * batches over http.h, Status replies turned into ws_err, paged lists and
 * watches. Credentials rejected with 401 are refreshed once (exec plugins,
 * token files) before the error is reported.
 */
#include "k8s.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

#define K8S_PATH_MAX 4096
#define K8S_PAGE_DEFAULT 500

int ws_k8s_open(ws_k8s *k, const ws_kubeconfig_options *opt, ws_err *err)
{
	memset(k, 0, sizeof(*k));
	if (ws_http_global_init(err) || ws_kubeconfig_load(&k->conn, opt, err))
		return -1;
	snprintf(k->field_manager, sizeof(k->field_manager), "%s", "kubectl-workspace");
	return 0;
}

void ws_k8s_close(ws_k8s *k)
{
	if (k)
		ws_kube_conn_release(&k->conn);
}

/* ---- errors ---- */

static const char *default_reason(long status)
{
	switch (status) {
	case 400: return "BadRequest";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "NotFound";
	case 405: return "MethodNotAllowed";
	case 406: return "NotAcceptable";
	case 409: return "Conflict";
	case 410: return "Expired";
	case 413: return "RequestEntityTooLarge";
	case 415: return "UnsupportedMediaType";
	case 422: return "Invalid";
	case 429: return "TooManyRequests";
	case 500: return "InternalError";
	case 503: return "ServiceUnavailable";
	case 504: return "Timeout";
	default: return status >= 500 ? "InternalError" : "BadRequest";
	}
}

/* The first line of a non-Status body, printable and short. */
static void body_excerpt(const char *body, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len && body[i] != '\n' && o + 1 < size && o < 200; i++)
		out[o++] = (body[i] >= 0x20 && body[i] < 0x7f) ? body[i] : '?';
	out[o] = '\0';
}

int ws_k8s_status_error(long status, const char *body, size_t len, ws_err *err)
{
	cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const char *kind = ws_json_str(j, "kind", NULL), *reason = NULL, *msg = NULL;
	char text[WS_ERR_MSG_MAX];
	const cJSON *cause;
	size_t n;

	if (kind && strcmp(kind, "Status") == 0) {
		reason = ws_json_str(j, "reason", NULL);
		msg = ws_json_str(j, "message", NULL);
	}
	if (!reason || !*reason)
		reason = default_reason(status);
	if (msg && *msg) {
		snprintf(text, sizeof(text), "%s", msg);
	} else if (kind && strcmp(kind, "Status") == 0) {
		snprintf(text, sizeof(text), "%ld %s", status, reason);
	} else {
		char excerpt[256];

		body_excerpt(body ? body : "", body ? len : 0, excerpt, sizeof(excerpt));
		snprintf(text, sizeof(text), "%ld %s%s%s", status, reason, *excerpt ? ": " : "",
			 excerpt);
	}
	/* 422 causes that the message does not already spell out. */
	cJSON_ArrayForEach(cause, ws_json_get(j, "details", "causes", NULL)) {
		const char *field = ws_json_str(cause, "field", NULL);
		const char *cmsg = ws_json_str(cause, "message", NULL);

		if (!cmsg || strstr(text, cmsg))
			continue;
		n = strlen(text);
		snprintf(text + n, sizeof(text) - n, "; %s%s%s", field ? field : "", field ? ": " : "",
			 cmsg);
	}
	ws_fail_http(err, (int)status, reason, "%s", text);
	cJSON_Delete(j);
	return -1;
}

/* ---- requests ---- */

/* Append "?key=value" or "&key=value", the value percent-encoded. */
static int add_query(ws_buf *b, const char *key, const char *value, ws_err *err)
{
	char *esc = curl_easy_escape(NULL, value, 0);
	int rc;

	if (!esc)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	rc = ws_buf_printf(b, err, "%c%s=%s", strchr(b->data, '?') ? '&' : '?', key, esc);
	curl_free(esc);
	return rc;
}

static const char *verb_method(enum ws_k8s_verb v)
{
	switch (v) {
	case WS_K8S_GET: return "GET";
	case WS_K8S_CREATE: return "POST";
	case WS_K8S_UPDATE: return "PUT";
	case WS_K8S_PATCH: return "PATCH";
	case WS_K8S_DELETE: return "DELETE";
	}
	return "GET";
}

/* Build the HTTP request of an op. */
static int op_prepare(ws_k8s *k, const ws_k8s_op *op, ws_http_req *r, ws_err *err)
{
	const char *ns = op->ns, *name = op->name, *ctype = NULL;
	char path[K8S_PATH_MAX];
	ws_buf url = WS_BUF_INIT(K8S_PATH_MAX * 2);
	cJSON *copy = NULL;
	char *text = NULL;
	int writes = op->verb != WS_K8S_GET && op->verb != WS_K8S_DELETE, rc = -1;

	if (!op->kind)
		return ws_fail(err, WS_E_INVALID, "no kind given");
	if (op->verb == WS_K8S_CREATE || op->verb == WS_K8S_UPDATE) {
		if (!cJSON_IsObject(op->body))
			return ws_fail(err, WS_E_INVALID, "no %s object given", op->kind->kind);
		if (!ns)
			ns = ws_json_str(op->body, "metadata", "namespace", NULL);
		if (op->verb == WS_K8S_UPDATE && !name)
			name = ws_json_str(op->body, "metadata", "name", NULL);
		if (op->verb == WS_K8S_CREATE)
			name = NULL;
	}
	if (op->list && op->verb == WS_K8S_GET)
		name = NULL;
	else if (op->verb != WS_K8S_CREATE && (!name || !*name))
		return ws_fail(err, WS_E_INVALID, "no %s name given", op->kind->kind);
	if (op->kind->namespaced && (!ns || !*ns))
		return ws_fail(err, WS_E_INVALID, "no namespace given for %s '%s'", op->kind->kind,
			       name ? name : "");
	if (op->verb == WS_K8S_PATCH && !op->body)
		return ws_fail(err, WS_E_INVALID, "no patch given for %s '%s'", op->kind->kind, name);
	if (ws_kind_path(op->kind, ns, name, path, sizeof(path), err) ||
	    ws_buf_adds(&url, path, err))
		goto out;
	if (writes && k->field_manager[0] && add_query(&url, "fieldManager", k->field_manager, err))
		goto out;
	if (op->dry_run && op->verb != WS_K8S_GET && add_query(&url, "dryRun", "All", err))
		goto out;
	if (!name && op->verb == WS_K8S_GET && op->label_selector && *op->label_selector &&
	    add_query(&url, "labelSelector", op->label_selector, err))
		goto out;
	if (op->verb == WS_K8S_CREATE || op->verb == WS_K8S_UPDATE) {
		ctype = "application/json";
		if (!ws_json_str(op->body, "apiVersion", NULL) || !ws_json_str(op->body, "kind", NULL)) {
			copy = cJSON_Duplicate(op->body, 1);
			if (!copy) {
				ws_fail(err, WS_E_INTERNAL, "out of memory");
				goto out;
			}
			ws_json_set_str(copy, "apiVersion", op->kind->api_version);
			ws_json_set_str(copy, "kind", op->kind->kind);
		}
	} else if (op->verb == WS_K8S_PATCH) {
		ctype = op->patch_type ? op->patch_type : "application/merge-patch+json";
	}
	if (op->body && op->verb != WS_K8S_GET && op->verb != WS_K8S_DELETE) {
		text = ws_json_print(copy ? copy : op->body);
		if (!text) {
			ws_fail(err, WS_E_INTERNAL, "out of memory");
			goto out;
		}
	}
	rc = ws_http_req_init(r, &k->conn.target, verb_method(op->verb), url.data, ctype, text,
			      text ? strlen(text) : 0, err);
out:
	if (text) {
		/* The body may carry a Secret's data. */
		explicit_bzero(text, strlen(text));
		free(text);
	}
	cJSON_Delete(copy);
	ws_buf_release(&url);
	return rc;
}

/* Perform, and repeat once the requests that got 401 when the
 * credentials can be refreshed (an exec plugin's token may be revoked
 * before its expiry). */
static void perform(ws_k8s *k, ws_http_req **reqs, size_t n)
{
	ws_http_req **again;
	size_t i, m = 0;

	ws_http_perform(reqs, n);
	for (i = 0; i < n; i++)
		if (reqs[i]->status == 401)
			m++;
	if (m == 0 || !ws_kube_conn_reauth(&k->conn))
		return;
	again = calloc(m, sizeof(*again));
	if (!again)
		return;
	for (i = 0, m = 0; i < n; i++)
		if (reqs[i]->status == 401)
			again[m++] = reqs[i];
	ws_http_perform(again, m);
	free(again);
}

/* Turn a finished request into 0 + *out, or -1 + err. */
static int finish(ws_k8s *k, ws_http_req *r, cJSON **out, ws_err *err)
{
	*out = NULL;
	if (r->status == 0) {
		if (err)
			*err = r->err;
		return -1;
	}
	if (r->status < 200 || r->status >= 300) {
		ws_k8s_status_error(r->status, r->response.data, r->response.len, err);
		if (r->status == 401)
			ws_err_append(err, " (the server rejected the credentials of %s%s%s)",
				      k->conn.context && *k->conn.context ? "context '" : "",
				      k->conn.context && *k->conn.context ? k->conn.context
									  : k->conn.source,
				      k->conn.context && *k->conn.context ? "'" : "");
		return -1;
	}
	if (r->response.len == 0)
		return 0;
	*out = ws_json_parse(r->response.data, r->response.len, err);
	if (!*out)
		return ws_err_prefix(err, "%s %s: bad answer", r->method, r->path);
	return 0;
}

size_t ws_k8s_run(ws_k8s *k, ws_k8s_op *ops, size_t n)
{
	ws_http_req *reqs = calloc(n ? n : 1, sizeof(*reqs));
	ws_http_req **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	size_t i, m = 0, failed = 0;

	for (i = 0; i < n; i++) {
		ops[i].rc = -1;
		ops[i].result = NULL;
		ws_err_clear(&ops[i].err);
	}
	if (!reqs || !ptrs) {
		for (i = 0; i < n; i++)
			ws_fail(&ops[i].err, WS_E_INTERNAL, "out of memory");
		failed = n;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (op_prepare(k, &ops[i], &reqs[i], &ops[i].err) == 0)
			ptrs[m++] = &reqs[i];
	}
	perform(k, ptrs, m);
	for (i = 0; i < n; i++) {
		if (reqs[i].path)
			ops[i].rc = finish(k, &reqs[i], &ops[i].result, &ops[i].err);
		if (ops[i].rc)
			failed++;
		ws_http_req_release(&reqs[i]);
	}
out:
	free(reqs);
	free(ptrs);
	return failed;
}

void ws_k8s_ops_release(ws_k8s_op *ops, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		cJSON_Delete(ops[i].result);
		ops[i].result = NULL;
	}
}

static int run_one(ws_k8s *k, ws_k8s_op *op, cJSON **out, ws_err *err)
{
	ws_k8s_run(k, op, 1);
	if (op->rc) {
		if (err)
			*err = op->err;
		return -1;
	}
	if (out)
		*out = op->result;
	else
		cJSON_Delete(op->result);
	op->result = NULL;
	return 0;
}

int ws_k8s_get(ws_k8s *k, const ws_kind *kind, const char *ns, const char *name, cJSON **out,
	       ws_err *err)
{
	ws_k8s_op op = {.verb = WS_K8S_GET, .kind = kind, .ns = ns, .name = name};

	return run_one(k, &op, out, err);
}

int ws_k8s_create(ws_k8s *k, const ws_kind *kind, const cJSON *obj, int dry_run, cJSON **out,
		  ws_err *err)
{
	ws_k8s_op op = {.verb = WS_K8S_CREATE, .kind = kind, .body = obj, .dry_run = dry_run};

	return run_one(k, &op, out, err);
}

int ws_k8s_update(ws_k8s *k, const ws_kind *kind, const cJSON *obj, int dry_run, cJSON **out,
		  ws_err *err)
{
	ws_k8s_op op = {.verb = WS_K8S_UPDATE, .kind = kind, .body = obj, .dry_run = dry_run};

	return run_one(k, &op, out, err);
}

int ws_k8s_patch(ws_k8s *k, const ws_kind *kind, const char *ns, const char *name,
		 const char *patch_type, const cJSON *patch, int dry_run, cJSON **out, ws_err *err)
{
	ws_k8s_op op = {.verb = WS_K8S_PATCH, .kind = kind, .ns = ns, .name = name, .body = patch,
			.patch_type = patch_type, .dry_run = dry_run};

	return run_one(k, &op, out, err);
}

int ws_k8s_delete(ws_k8s *k, const ws_kind *kind, const char *ns, const char *name, int dry_run,
		  ws_err *err)
{
	ws_k8s_op op = {.verb = WS_K8S_DELETE, .kind = kind, .ns = ns, .name = name,
			.dry_run = dry_run};

	return run_one(k, &op, NULL, err);
}

/* ---- list and watch ---- */

/* A GET of a collection path with query; *out is the parsed reply. */
static int get_path(ws_k8s *k, const char *path, cJSON **out, long *status, ws_err *err)
{
	ws_http_req r, *p = &r;
	int rc;

	*status = 0;
	if (ws_http_req_init(&r, &k->conn.target, "GET", path, NULL, NULL, 0, err))
		return -1;
	perform(k, &p, 1);
	*status = r.status;
	rc = finish(k, &r, out, err);
	ws_http_req_release(&r);
	return rc;
}

static int collection_path(const ws_kind *kind, const char *ns, ws_buf *url, ws_err *err)
{
	char path[K8S_PATH_MAX];

	if (ws_kind_path(kind, ns, NULL, path, sizeof(path), err))
		return -1;
	ws_buf_reset(url);
	return ws_buf_adds(url, path, err);
}

static void set_type_meta(cJSON *obj, const ws_kind *kind)
{
	if (!ws_json_str(obj, "apiVersion", NULL))
		ws_json_set_str(obj, "apiVersion", kind->api_version);
	if (!ws_json_str(obj, "kind", NULL))
		ws_json_set_str(obj, "kind", kind->kind);
}

int ws_k8s_list(ws_k8s *k, const ws_kind *kind, const char *ns, const ws_k8s_list_opts *opts,
		cJSON **items, char *resource_version, ws_err *err)
{
	ws_buf url = WS_BUF_INIT(K8S_PATH_MAX * 4);
	cJSON *all = cJSON_CreateArray(), *page = NULL, *it;
	char *cont = NULL, limit[32];
	long page_size = opts && opts->page_size > 0 ? opts->page_size : K8S_PAGE_DEFAULT, status;
	int first = 1, restarted = 0, rc = -1;

	*items = NULL;
	if (!all)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	for (;;) {
		const char *next, *rv;
		cJSON *arr;

		if (collection_path(kind, ns, &url, err))
			goto out;
		snprintf(limit, sizeof(limit), "%ld", page_size);
		if ((page_size > 0 && add_query(&url, "limit", limit, err)) ||
		    (opts && opts->label_selector && *opts->label_selector &&
		     add_query(&url, "labelSelector", opts->label_selector, err)) ||
		    (opts && opts->field_selector && *opts->field_selector &&
		     add_query(&url, "fieldSelector", opts->field_selector, err)) ||
		    (cont && add_query(&url, "continue", cont, err)))
			goto out;
		if (get_path(k, url.data, &page, &status, err)) {
			/* The continue token expired: list again, in one piece. */
			if (status == 410 && cont && !restarted) {
				restarted = first = 1;
				page_size = 0;
				free(cont);
				cont = NULL;
				cJSON_Delete(all);
				all = cJSON_CreateArray();
				if (!all) {
					ws_fail(err, WS_E_INTERNAL, "out of memory");
					goto out;
				}
				continue;
			}
			goto out;
		}
		arr = cJSON_GetObjectItemCaseSensitive(page, "items");
		if (arr && !cJSON_IsNull(arr) && !cJSON_IsArray(arr)) {
			ws_fail(err, WS_E_INVALID, "list of %s: 'items' is not a list", kind->plural);
			goto out;
		}
		while (arr && cJSON_IsArray(arr) && (it = cJSON_DetachItemFromArray(arr, 0)) != NULL) {
			set_type_meta(it, kind);
			cJSON_AddItemToArray(all, it);
		}
		rv = ws_json_str(page, "metadata", "resourceVersion", NULL);
		if (first && resource_version)
			snprintf(resource_version, 32, "%s", rv ? rv : "");
		first = 0;
		next = ws_json_str(page, "metadata", "continue", NULL);
		free(cont);
		cont = NULL;
		if (next && *next && !(cont = strdup(next))) {
			ws_fail(err, WS_E_INTERNAL, "out of memory");
			goto out;
		}
		cJSON_Delete(page);
		page = NULL;
		if (!cont)
			break;
	}
	*items = all;
	all = NULL;
	rc = 0;
out:
	cJSON_Delete(all);
	cJSON_Delete(page);
	free(cont);
	ws_buf_release(&url);
	return rc;
}

struct watch {
	const ws_kind *kind;
	char *rv;
	int (*on_event)(void *ctx, const char *type, const cJSON *object);
	void *ctx;
	int failed;
	ws_err err;
};

static int on_watch_line(void *vw, const char *line, size_t len)
{
	struct watch *w = vw;
	cJSON *ev = ws_json_parse(line, len, &w->err);
	const cJSON *obj = ws_json_get(ev, "object", NULL);
	const char *type = ws_json_str(ev, "type", NULL), *rv;
	int stop;

	if (!ev || !type || !cJSON_IsObject(obj)) {
		if (ev)
			ws_fail(&w->err, WS_E_INVALID, "watch of %s: an event without type or object",
				w->kind->plural);
		else
			ws_err_prefix(&w->err, "watch of %s: bad event", w->kind->plural);
		w->failed = 1;
		cJSON_Delete(ev);
		return 1;
	}
	if (strcmp(type, "ERROR") == 0) {
		char *text = ws_json_print(obj);
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");

		ws_k8s_status_error(cJSON_IsNumber(code) ? (long)code->valueint : 500, text,
				    text ? strlen(text) : 0, &w->err);
		free(text);
		w->failed = 1;
		cJSON_Delete(ev);
		return 1;
	}
	rv = ws_json_str(obj, "metadata", "resourceVersion", NULL);
	if (rv)
		snprintf(w->rv, 32, "%s", rv);
	if (strcmp(type, "BOOKMARK") != 0)
		set_type_meta((cJSON *)obj, w->kind);
	stop = w->on_event(w->ctx, type, obj);
	cJSON_Delete(ev);
	return stop;
}

int ws_k8s_watch(ws_k8s *k, const ws_kind *kind, const char *ns, const char *label_selector,
		 char resource_version[32], long timeout_s,
		 int (*on_event)(void *ctx, const char *type, const cJSON *object), void *ctx,
		 ws_err *err)
{
	ws_buf url = WS_BUF_INIT(K8S_PATH_MAX * 4);
	struct watch w = {kind, resource_version, on_event, ctx, 0, {0}};
	ws_http_req r;
	char secs[32];
	ws_err serr;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (collection_path(kind, ns, &url, err) || add_query(&url, "watch", "1", err) ||
	    add_query(&url, "allowWatchBookmarks", "true", err) ||
	    (resource_version[0] && add_query(&url, "resourceVersion", resource_version, err)) ||
	    (label_selector && *label_selector &&
	     add_query(&url, "labelSelector", label_selector, err)))
		goto out;
	if (timeout_s > 0) {
		snprintf(secs, sizeof(secs), "%ld", timeout_s);
		if (add_query(&url, "timeoutSeconds", secs, err))
			goto out;
	}
	if (ws_http_req_init(&r, &k->conn.target, "GET", url.data, NULL, NULL, 0, err))
		goto out;
	/* The server ends the watch after timeoutSeconds; the client limit is
	 * a safety net a little later. */
	if (ws_http_stream(&r, timeout_s > 0 ? timeout_s + 15 : 0, on_watch_line, &w, &serr)) {
		if (r.status >= 300 || (r.status > 0 && r.status < 200))
			ws_k8s_status_error(r.status, r.response.data, r.response.len, err);
		else if (err)
			*err = serr;
		goto out;
	}
	if (w.failed) {
		if (err)
			*err = w.err;
		goto out;
	}
	rc = 0;
out:
	ws_http_req_release(&r);
	ws_buf_release(&url);
	return rc;
}
