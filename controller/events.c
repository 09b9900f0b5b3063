/* events.c - post events.k8s.io/v1 Events about records (see events.h). */
#include "events.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"

#define REPORTING_CONTROLLER "workspace.flyte.org/workspace-controller"
#define NOTE_MAX 1024

static const ws_kind KIND_EVENT = {"Event", "events.k8s.io/v1", "events", 1};

int ctl_event(ws_k8s *k, const ctl_regarding *about, const char *instance, const char *type,
	      const char *reason, const char *action, const char *note, ws_err *err)
{
	static _Atomic unsigned long serial;
	cJSON *ev = cJSON_CreateObject(), *meta, *reg;
	char name[128], when[48], text[NOTE_MAX];
	struct timespec ts;
	struct tm tm;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + 19, sizeof(when) - 19, ".%06ldZ", ts.tv_nsec / 1000);
	/* client-go's naming: the object's name and a unique hex suffix. */
	snprintf(name, sizeof(name), "%.60s.%llx%04lx", about->name,
		 (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec,
		 atomic_fetch_add(&serial, 1) & 0xffff);
	snprintf(text, sizeof(text), "%s", note ? note : "");
	meta = cJSON_AddObjectToObject(ev, "metadata");
	cJSON_AddStringToObject(meta, "name", name);
	cJSON_AddStringToObject(meta, "namespace", about->ns);
	cJSON_AddStringToObject(ev, "eventTime", when);
	cJSON_AddStringToObject(ev, "reportingController", REPORTING_CONTROLLER);
	cJSON_AddStringToObject(ev, "reportingInstance", instance);
	cJSON_AddStringToObject(ev, "action", action);
	cJSON_AddStringToObject(ev, "reason", reason);
	cJSON_AddStringToObject(ev, "type", type);
	cJSON_AddStringToObject(ev, "note", text);
	reg = cJSON_AddObjectToObject(ev, "regarding");
	cJSON_AddStringToObject(reg, "apiVersion", "v1");
	cJSON_AddStringToObject(reg, "kind", "ConfigMap");
	cJSON_AddStringToObject(reg, "namespace", about->ns);
	cJSON_AddStringToObject(reg, "name", about->name);
	if (about->uid && *about->uid)
		cJSON_AddStringToObject(reg, "uid", about->uid);
	rc = ws_k8s_create(k, &KIND_EVENT, ev, 0, NULL, err);
	cJSON_Delete(ev);
	if (rc)
		return ws_err_prefix(err, "cannot post event '%s' about '%s'", reason, about->name);
	return 0;
}
