/* json.h - small helpers over cJSON used across the code base.
 *
 * Ownership: cJSON trees returned by functions here belong to the caller
 * (free with cJSON_Delete); pointers *into* a tree (ws_json_str, ws_json_get)
 * are borrowed and live as long as the tree.
 */
#ifndef WS_JSON_H
#define WS_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"

/* Parse len bytes (need not be NUL-terminated). The error says where. */
cJSON *ws_json_parse(const char *data, size_t len, ws_err *err);

/* obj[key] (the first member of that name), or NULL: what
 * cJSON_GetObjectItemCaseSensitive returns, for less. */
cJSON *ws_json_member(const cJSON *obj, const char *key);

/* Walk a path of object keys, NULL-terminated: ws_json_get(o, "metadata", "name", NULL). */
cJSON *ws_json_get(const cJSON *obj, ...);
/* The string at a path, or NULL when absent or not a string. */
const char *ws_json_str(const cJSON *obj, ...);

/* Optional typed fields of a config map, for messages prefixed with where
 * ("kubeconfig /x: user 'u'"). A string field: *out = the value, or NULL
 * when absent, null or ""; a bool: *out = 0 when absent or null. Another
 * type: -1 with err "<where>: '<key>' must be a string / true or false". */
int ws_json_field_str(const cJSON *obj, const char *key, const char **out, const char *where,
		      ws_err *err);
int ws_json_field_bool(const cJSON *obj, const char *key, int *out, const char *where,
		       ws_err *err);

/* Get or create the child object `key` of obj (replacing a non-object). */
cJSON *ws_json_obj(cJSON *obj, const char *key);
/* Set obj[key] to a string (replacing what was there). Returns the item. */
cJSON *ws_json_set_str(cJSON *obj, const char *key, const char *val);
/* Set obj[key] to item (taking ownership, replacing what was there). */
void ws_json_set(cJSON *obj, const char *key, cJSON *item);

/* 1 when every member of `want` is present and equal in `have`, recursively
 * for objects; arrays and scalars must be equal. Used to tell whether an
 * object in the cluster already matches the plan (the server adds fields). */
int ws_json_subset(const cJSON *want, const cJSON *have);

/* Where `want` is not a subset of `have` (see ws_json_subset): writes the
 * first differing path and both values ("spec.hard.pods: want \"100\", have
 * \"20\"") into out and returns 1; returns 0 when it is a subset. */
int ws_json_diff(const cJSON *want, const cJSON *have, char *out, size_t size);

/* cJSON_Delete a tree that may hold secrets, overwriting its strings first.
 * NULL is allowed. */
void ws_json_wipe_delete(cJSON *j);

/* Compact JSON text (malloc'd; caller frees). */
char *ws_json_print(const cJSON *item);

/* Append s as a JSON string literal (quotes included). Control characters
 * are escaped and bytes that are not valid UTF-8 become U+FFFD, so the
 * result is always valid JSON. */
int ws_json_quote(ws_buf *out, const char *s, ws_err *err);

/* Append item as compact JSON, as cJSON_PrintUnformatted prints it except
 * that strings are written by ws_json_quote. */
int ws_json_write(ws_buf *out, const cJSON *item, ws_err *err);

#endif
