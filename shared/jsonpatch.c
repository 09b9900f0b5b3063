/* jsonpatch.c - JSON Patch builder (see jsonpatch.h). */
#include "jsonpatch.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

#define POINTER_MAX 1024

void ws_patch_init(ws_patch *p)
{
	ws_buf_init(&p->text, WS_PATCH_MAX);
	p->count = 0;
}

void ws_patch_release(ws_patch *p)
{
	ws_buf_release(&p->text);
	p->count = 0;
}

size_t ws_patch_count(const ws_patch *p)
{
	return p->count;
}

int ws_pointer_escape(const char *token, char *out, size_t size, ws_err *err)
{
	size_t n = 0;

	for (; *token; token++) {
		const char *rep = *token == '~' ? "~0" : *token == '/' ? "~1" : NULL;
		size_t l = rep ? 2 : 1;

		if (n + l >= size)
			return ws_fail(err, WS_E_INVALID, "JSON pointer too long");
		if (rep)
			memcpy(out + n, rep, 2);
		else
			out[n] = *token;
		n += l;
	}
	if (size == 0)
		return ws_fail(err, WS_E_INVALID, "JSON pointer too long");
	out[n] = '\0';
	return 0;
}

int ws_pointer(const char *const *tokens, size_t n, char *out, size_t size, ws_err *err)
{
	size_t i, off = 0;

	if (size == 0)
		return ws_fail(err, WS_E_INVALID, "JSON pointer too long");
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (off + 1 >= size)
			return ws_fail(err, WS_E_INVALID, "JSON pointer too long");
		out[off++] = '/';
		if (ws_pointer_escape(tokens[i], out + off, size - off, err))
			return -1;
		off += strlen(out + off);
	}
	return 0;
}

/* Append one op, keeping the text a complete array; value borrowed. */
static int append_op(ws_patch *p, const char *op, const char *const *tokens, size_t n,
		     const cJSON *value, ws_err *err)
{
	char path[POINTER_MAX];
	size_t undo = p->text.len;

	if (ws_pointer(tokens, n, path, sizeof(path), err))
		return -1;
	if (p->count)
		p->text.len--; /* the closing bracket */
	if (ws_buf_adds(&p->text, p->count ? ",{\"op\":" : "[{\"op\":", err) ||
	    ws_json_quote(&p->text, op, err) || ws_buf_adds(&p->text, ",\"path\":", err) ||
	    ws_json_quote(&p->text, path, err) ||
	    (value && (ws_buf_adds(&p->text, ",\"value\":", err) ||
		       ws_json_write(&p->text, value, err))) ||
	    ws_buf_adds(&p->text, "}]", err)) {
		p->text.len = undo;
		if (p->count)
			p->text.data[undo - 1] = ']';
		if (p->text.data)
			p->text.data[undo] = '\0';
		return -1;
	}
	p->count++;
	return 0;
}

int ws_patch_op(ws_patch *p, const char *op, const char *const *tokens, size_t n, cJSON *value,
		ws_err *err)
{
	int rc = append_op(p, op, tokens, n, value, err);

	cJSON_Delete(value);
	return rc;
}

int ws_patch_put_keys(ws_patch *p, const cJSON *current, const char *const *tokens, size_t n,
		      const cJSON *entries, ws_err *err)
{
	const char *path[16];
	const cJSON *e;

	if (!cJSON_IsObject(current))
		return append_op(p, "add", tokens, n, entries, err);
	if (n + 1 > sizeof(path) / sizeof(path[0]))
		return ws_fail(err, WS_E_INVALID, "JSON pointer too deep");
	memcpy(path, tokens, n * sizeof(*tokens));
	cJSON_ArrayForEach(e, entries) {
		const cJSON *have = ws_json_member(current, e->string);

		if (have && cJSON_Compare(have, e, 1))
			continue;
		path[n] = e->string;
		if (append_op(p, "add", path, n + 1, e, err))
			return -1;
	}
	return 0;
}

const char *ws_patch_text(const ws_patch *p)
{
	return p->count ? p->text.data : "[]";
}
