/* json.c - cJSON helpers (see json.h). */
#include "json.h"

#include <float.h>
#include <math.h>
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

cJSON *ws_json_member(const cJSON *obj, const char *key)
{
	const cJSON *m;

	if (!obj)
		return NULL;
	for (m = obj->child; m; m = m->next)
		if (m->string && m->string[0] == key[0] && strcmp(m->string, key) == 0)
			return (cJSON *)m;
	return NULL;
}

static cJSON *vget(const cJSON *obj, va_list ap)
{
	const char *key;
	const cJSON *cur = obj;

	while ((key = va_arg(ap, const char *)) != NULL) {
		if (!cJSON_IsObject(cur))
			return NULL;
		cur = ws_json_member(cur, key);
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

/* ---- writing ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		need = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		need = 4;
	else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	/* overlong forms, UTF-16 surrogates, above U+10FFFF */
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
		return 0;
	return need;
}

/* The bytes a JSON string literal takes as they are: printable ASCII but
 * '"' and '\\'; the rest are escaped or checked as UTF-8. */
static int json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

int ws_json_quote(ws_buf *out, const char *s, ws_err *err)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	char *at;

	/* Most strings are plain: copy them in one piece. */
	while (i < n && json_plain(p[i]))
		i++;
	if (i == n) {
		if (!(at = ws_buf_extend(out, n + 2, err)))
			return -1;
		at[0] = '"';
		memcpy(at + 1, s, n);
		at[n + 1] = '"';
		return 0;
	}
	if (ws_buf_add(out, "\"", 1, err) || ws_buf_add(out, s, i, err))
		return -1;
	while (i < n) {
		size_t start = i, l;
		unsigned char c;
		char esc[8];
		size_t elen;

		while (i < n && json_plain(p[i]))
			i++;
		while (i < n && p[i] >= 0x80 && (l = utf8_len(p + i, n - i)) > 0)
			i += l;
		if (i > start) {
			if (ws_buf_add(out, p + start, i - start, err))
				return -1;
			continue;
		}
		c = p[i++];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			elen = 2;
		} else if (c == '\n') {
			memcpy(esc, "\\n", 2);
			elen = 2;
		} else if (c == '\t') {
			memcpy(esc, "\\t", 2);
			elen = 2;
		} else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		} else {
			memcpy(esc, "\\ufffd", 6); /* a byte that is not valid UTF-8 */
			elen = 6;
		}
		if (ws_buf_add(out, esc, elen, err))
			return -1;
	}
	return ws_buf_add(out, "\"", 1, err);
}

static double magnitude(double x)
{
	return x < 0 ? -x : x;
}

/* A number as cJSON prints it: integers plainly, else the shortest of 15
 * or 17 significant digits that reads back the same. */
static int write_number(ws_buf *out, const cJSON *item, ws_err *err)
{
	double d = item->valuedouble, back;
	char num[32];

	if (isnan(d) || isinf(d))
		return ws_buf_adds(out, "null", err);
	if (d == (double)item->valueint)
		return ws_buf_printf(out, err, "%d", item->valueint);
	snprintf(num, sizeof(num), "%1.15g", d);
	if (sscanf(num, "%lg", &back) != 1 ||
	    magnitude(back - d) > (magnitude(back) > magnitude(d) ? magnitude(back) : magnitude(d)) *
					   DBL_EPSILON)
		snprintf(num, sizeof(num), "%1.17g", d);
	return ws_buf_adds(out, num, err);
}

int ws_json_write(ws_buf *out, const cJSON *item, ws_err *err)
{
	const cJSON *c;

	switch (item->type & 0xFF) {
	case cJSON_False:
		return ws_buf_adds(out, "false", err);
	case cJSON_True:
		return ws_buf_adds(out, "true", err);
	case cJSON_NULL:
		return ws_buf_adds(out, "null", err);
	case cJSON_Number:
		return write_number(out, item, err);
	case cJSON_String:
		return ws_json_quote(out, item->valuestring ? item->valuestring : "", err);
	case cJSON_Raw:
		return ws_buf_adds(out, item->valuestring ? item->valuestring : "", err);
	case cJSON_Array:
	case cJSON_Object:
		if (ws_buf_add(out, cJSON_IsArray(item) ? "[" : "{", 1, err))
			return -1;
		for (c = item->child; c; c = c->next) {
			if ((c != item->child && ws_buf_add(out, ",", 1, err)) ||
			    (cJSON_IsObject(item) &&
			     (ws_json_quote(out, c->string ? c->string : "", err) ||
			      ws_buf_add(out, ":", 1, err))) ||
			    ws_json_write(out, c, err))
				return -1;
		}
		return ws_buf_add(out, cJSON_IsArray(item) ? "]" : "}", 1, err);
	default:
		return ws_fail(err, WS_E_INVALID, "cannot write an invalid JSON item");
	}
}

int ws_json_field_str(const cJSON *obj, const char *key, const char **out, const char *where,
		      ws_err *err)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return ws_fail(err, WS_E_INVALID, "%s: '%s' must be a string", where, key);
	if (*v->valuestring)
		*out = v->valuestring;
	return 0;
}

int ws_json_field_bool(const cJSON *obj, const char *key, int *out, const char *where,
		       ws_err *err)
{
	const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	*out = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return ws_fail(err, WS_E_INVALID, "%s: '%s' must be true or false", where, key);
	*out = cJSON_IsTrue(v);
	return 0;
}

static void json_wipe(cJSON *j)
{
	for (; j; j = j->next) {
		if (j->valuestring)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
		json_wipe(j->child);
	}
}

void ws_json_wipe_delete(cJSON *j)
{
	if (!j)
		return;
	json_wipe(j->child);
	if (j->valuestring)
		explicit_bzero(j->valuestring, strlen(j->valuestring));
	cJSON_Delete(j);
}
