/* finalizer.c - put the controller's finalizer on a record or take it off
 * (see finalizer.h), by a resourceVersion-guarded update. */
#include "finalizer.h"

#include <string.h>

#include "json.h"

#define CONFLICT_RETRIES 5

/* Index of the finalizer in list, or -1. */
static int find(const cJSON *list)
{
	const cJSON *f;
	int i = 0;

	cJSON_ArrayForEach(f, list) {
		if (cJSON_IsString(f) && strcmp(f->valuestring, WS_FINALIZER) == 0)
			return i;
		i++;
	}
	return -1;
}

int ws_finalizer_set(ws_k8s *k, const char *ns, const char *id, int present, ws_err *err)
{
	int attempt;

	for (attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
		cJSON *cm = NULL, *meta, *list;
		int at, rc;

		if (ws_k8s_get(k, &WS_KIND_CONFIGMAP, ns, id, &cm, err)) {
			if (!present && ws_err_is_http(err, 404))
				return 0;
			return ws_err_prefix(err, "cannot read record '%s'", id);
		}
		meta = cJSON_GetObjectItem(cm, "metadata");
		list = cJSON_GetObjectItem(meta, "finalizers");
		at = find(list);
		if ((at >= 0) == present) {
			cJSON_Delete(cm);
			return 0;
		}
		if (present) {
			if (!cJSON_IsArray(list)) {
				cJSON_DeleteItemFromObject(meta, "finalizers");
				list = cJSON_AddArrayToObject(meta, "finalizers");
			}
			cJSON_AddItemToArray(list, cJSON_CreateString(WS_FINALIZER));
		} else {
			cJSON_DeleteItemFromArray(list, at);
		}
		rc = ws_k8s_update(k, &WS_KIND_CONFIGMAP, cm, 0, NULL, err);
		cJSON_Delete(cm);
		if (rc == 0 || (!present && ws_err_is_http(err, 404)))
			return 0;
		if (!ws_err_is_http(err, 409))
			break;
	}
	return ws_err_prefix(err, "cannot %s the finalizer of record '%s'",
			     present ? "put" : "take off", id);
}
