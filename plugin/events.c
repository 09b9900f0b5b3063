/* events.c - the Events about a workspace record (the controller's audit
 * trail), read as `kubectl describe` reads them: a core v1 list selected by
 * involvedObject, which shows events.k8s.io/v1 Events too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "xalloc.h"

static const ws_kind KIND_CORE_EVENT = {"Event", "v1", "events", 1};

static const char *event_time(const cJSON *e)
{
	const char *t = ws_json_str(e, "eventTime", NULL);

	if (!t || !*t)
		t = ws_json_str(e, "lastTimestamp", NULL);
	if (!t || !*t)
		t = ws_json_str(e, "firstTimestamp", NULL);
	return t ? t : "";
}

static int by_time(const void *a, const void *b)
{
	return strcmp(event_time(*(cJSON *const *)a), event_time(*(cJSON *const *)b));
}

int record_events(ws_k8s *k, const char *ns, const cJSON *record_cm, cJSON **events, ws_err *err)
{
	const char *name = ws_json_str(record_cm, "metadata", "name", NULL);
	const char *uid = ws_json_str(record_cm, "metadata", "uid", NULL);
	ws_k8s_list_opts opts = {NULL, NULL, 0};
	cJSON *items = NULL, **sorted, *e;
	char selector[512];
	size_t n = 0, i;

	*events = NULL;
	snprintf(selector, sizeof(selector),
		 "involvedObject.kind=ConfigMap,involvedObject.name=%s%s%s", name ? name : "",
		 uid ? ",involvedObject.uid=" : "", uid ? uid : "");
	opts.field_selector = selector;
	if (ws_k8s_list(k, &KIND_CORE_EVENT, ns, &opts, &items, NULL, err))
		return ws_err_prefix(err, "cannot list the events of '%s'", name ? name : "");
	sorted = xcalloc((size_t)cJSON_GetArraySize(items) + 1, sizeof(*sorted));
	cJSON_ArrayForEach(e, items)
		sorted[n++] = e;
	qsort(sorted, n, sizeof(*sorted), by_time);
	*events = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(*events, cJSON_Duplicate(sorted[i], 1));
	free(sorted);
	cJSON_Delete(items);
	return 0;
}

void print_events(FILE *f, const cJSON *events)
{
	size_t n = (size_t)cJSON_GetArraySize(events), i = 1;
	const char **cells = xcalloc((n + 1) * 5, sizeof(*cells));
	const cJSON *e;

	cells[0] = "TIME";
	cells[1] = "TYPE";
	cells[2] = "REASON";
	cells[3] = "FROM";
	cells[4] = "MESSAGE";
	cJSON_ArrayForEach(e, events) {
		const char *from = ws_json_str(e, "reportingComponent", NULL);

		if (!from || !*from)
			from = ws_json_str(e, "source", "component", NULL);
		cells[5 * i] = event_time(e);
		cells[5 * i + 1] = ws_json_str(e, "type", NULL) ? ws_json_str(e, "type", NULL) : "";
		cells[5 * i + 2] = ws_json_str(e, "reason", NULL) ? ws_json_str(e, "reason", NULL) : "";
		cells[5 * i + 3] = from ? from : "";
		cells[5 * i + 4] = ws_json_str(e, "message", NULL) ? ws_json_str(e, "message", NULL) : "";
		i++;
	}
	print_table(f, cells, n + 1, 5);
	free(cells);
}
