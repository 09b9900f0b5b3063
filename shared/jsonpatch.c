/* jsonpatch.c - JSON Patch builder (see jsonpatch.h). */
#include "jsonpatch.h"

#include <stdlib.h>
#include <string.h>

#include "base64.h"

#define POINTER_MAX 1024

void ws_patch_init(ws_patch *p)
{
	p->ops = cJSON_CreateArray();
}

void ws_patch_release(ws_patch *p)
{
	cJSON_Delete(p->ops);
	p->ops = NULL;
}

size_t ws_patch_count(const ws_patch *p)
{
	return (size_t)cJSON_GetArraySize(p->ops);
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

int ws_patch_op(ws_patch *p, const char *op, const char *const *tokens, size_t n, cJSON *value,
		ws_err *err)
{
	char path[POINTER_MAX];
	cJSON *o;

	if (ws_pointer(tokens, n, path, sizeof(path), err)) {
		cJSON_Delete(value);
		return -1;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "op", op);
	cJSON_AddStringToObject(o, "path", path);
	if (value)
		cJSON_AddItemToObject(o, "value", value);
	cJSON_AddItemToArray(p->ops, o);
	return 0;
}

int ws_patch_put_keys(ws_patch *p, const cJSON *current, const char *const *tokens, size_t n,
		      const cJSON *entries, ws_err *err)
{
	const char *path[16];
	const cJSON *e;

	if (!cJSON_IsObject(current))
		return ws_patch_op(p, "add", tokens, n, cJSON_Duplicate(entries, 1), err);
	if (n + 1 > sizeof(path) / sizeof(path[0]))
		return ws_fail(err, WS_E_INVALID, "JSON pointer too deep");
	memcpy(path, tokens, n * sizeof(*tokens));
	cJSON_ArrayForEach(e, entries) {
		const cJSON *have = cJSON_GetObjectItemCaseSensitive(current, e->string);

		if (have && cJSON_Compare(have, e, 1))
			continue;
		path[n] = e->string;
		if (ws_patch_op(p, "add", path, n + 1, cJSON_Duplicate(e, 1), err))
			return -1;
	}
	return 0;
}

char *ws_patch_print(const ws_patch *p)
{
	return cJSON_PrintUnformatted(p->ops);
}

char *ws_patch_base64(const ws_patch *p)
{
	char *text = ws_patch_print(p), *b64;

	if (!text)
		return NULL;
	b64 = ws_base64_encode(text, strlen(text));
	free(text);
	return b64;
}
