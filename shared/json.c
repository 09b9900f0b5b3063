/* json.c - cJSON helpers (see json.h). */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *ws_json_parse(const char *data, size_t len, ws_err *err)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(data, len, &end, 0);

	if (!j) {
		size_t off = end && end >= data ? (size_t)(end - data) : 0;

		ws_fail(err, WS_E_INVALID, "invalid JSON at byte %zu", off);
	}
	return j;
}

static cJSON *vget(const cJSON *obj, va_list ap)
{
	const char *key;
	const cJSON *cur = obj;

	while ((key = va_arg(ap, const char *)) != NULL) {
		if (!cJSON_IsObject(cur))
			return NULL;
		cur = cJSON_GetObjectItemCaseSensitive(cur, key);
		if (!cur)
			return NULL;
	}
	return (cJSON *)cur;
}

cJSON *ws_json_get(const cJSON *obj, ...)
{
	va_list ap;
	cJSON *r;

	va_start(ap, obj);
	r = vget(obj, ap);
	va_end(ap);
	return r;
}

const char *ws_json_str(const cJSON *obj, ...)
{
	va_list ap;
	cJSON *r;

	va_start(ap, obj);
	r = vget(obj, ap);
	va_end(ap);
	return cJSON_IsString(r) ? r->valuestring : NULL;
}

cJSON *ws_json_obj(cJSON *obj, const char *key)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (cJSON_IsObject(c))
		return c;
	c = cJSON_CreateObject();
	ws_json_set(obj, key, c);
	return c;
}

void ws_json_set(cJSON *obj, const char *key, cJSON *item)
{
	if (cJSON_GetObjectItemCaseSensitive(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
	else
		cJSON_AddItemToObject(obj, key, item);
}

cJSON *ws_json_set_str(cJSON *obj, const char *key, const char *val)
{
	cJSON *s = cJSON_CreateString(val);

	ws_json_set(obj, key, s);
	return s;
}

int ws_json_subset(const cJSON *want, const cJSON *have)
{
	const cJSON *w;

	if (!have)
		return 0;
	if (cJSON_IsObject(want)) {
		if (!cJSON_IsObject(have))
			return 0;
		cJSON_ArrayForEach(w, want)
			if (!ws_json_subset(w, cJSON_GetObjectItemCaseSensitive(have, w->string)))
				return 0;
		return 1;
	}
	return cJSON_Compare(want, have, 1);
}

static int diff_at(const cJSON *want, const cJSON *have, char *path, size_t plen, char *out,
		   size_t size)
{
	const cJSON *w;
	char *ws, *hs;

	if (cJSON_IsObject(want) && cJSON_IsObject(have)) {
		cJSON_ArrayForEach(w, want) {
			size_t n = strlen(path);

			snprintf(path + n, plen - n, "%s%s", n ? "." : "", w->string);
			if (diff_at(w, cJSON_GetObjectItemCaseSensitive(have, w->string), path, plen, out,
				    size))
				return 1;
			path[n] = '\0';
		}
		return 0;
	}
	if (have && cJSON_Compare(want, have, 1))
		return 0;
	ws = cJSON_PrintUnformatted(want);
	hs = have ? cJSON_PrintUnformatted(have) : NULL;
	snprintf(out, size, "%s: want %.120s, have %.120s", path[0] ? path : "(object)",
		 ws ? ws : "?", hs ? hs : "nothing");
	free(ws);
	free(hs);
	return 1;
}

int ws_json_diff(const cJSON *want, const cJSON *have, char *out, size_t size)
{
	char path[512] = "";

	if (size)
		out[0] = '\0';
	return diff_at(want, have, path, sizeof(path), out, size);
}

char *ws_json_print(const cJSON *item)
{
	return cJSON_PrintUnformatted(item);
}
