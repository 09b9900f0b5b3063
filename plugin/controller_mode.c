/* controller_mode.c - `create`, `member`, `tier` and `delete` through a
 * running workspace-controller: the plugin writes the record only and
 * follows the controller's Events about it live, so users need rights on
 * records only. Chosen by --mode, else when a controller holds a fresh
 * Lease. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "xalloc.h"

#define LEASE_NAME "workspace-controller"
#define FOLLOW_TIMEOUT_S 600
#define POLL_MS 200

/* 1 when the Lease is held and was renewed within its duration. The
 * holder's renewTime is compared with this machine's clock: good enough to
 * choose a mode (the controller itself never trusts it for election). */
static int lease_fresh(const cJSON *lease, char *holder, size_t size)
{
	const char *who = ws_json_str(lease, "spec", "holderIdentity", NULL);
	const char *renew = ws_json_str(lease, "spec", "renewTime", NULL);
	const cJSON *dur = ws_json_get(lease, "spec", "leaseDurationSeconds", NULL);
	struct tm tm;

	if (!who || !*who || !renew || !cJSON_IsNumber(dur))
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (!strptime(renew, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	snprintf(holder, size, "%s", who);
	return timegm(&tm) + (time_t)dur->valuedouble + 2 >= time(NULL);
}

int use_controller(const struct cli *cli, struct session *s, char *holder, size_t size,
		   ws_err *err)
{
	cJSON *lease = NULL;
	int fresh;

	snprintf(holder, size, "%s", "workspace-controller");
	if (cli->mode && strcmp(cli->mode, "direct") == 0)
		return 0;
	if (cli->mode && strcmp(cli->mode, "controller") != 0)
		return ws_fail(err, WS_E_INVALID, "invalid --mode '%s': use direct or controller",
			       cli->mode);
	if (ws_k8s_get(&s->k8s, &WS_KIND_LEASE, s->platform.system_namespace, LEASE_NAME, &lease,
		       NULL))
		return cli->mode ? 1 : 0; /* none (or not readable): direct unless asked */
	fresh = lease_fresh(lease, holder, size);
	cJSON_Delete(lease);
	return cli->mode ? 1 : fresh;
}

/* The names of the events already about the record, so that only new ones
 * are printed. */
struct seen {
	char **names;
	size_t n;
};

static int seen_add(struct seen *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return 0;
	s->names = xrealloc(s->names, (s->n + 1) * sizeof(*s->names));
	s->names[s->n++] = xstrdup(name);
	return 1;
}

static void seen_release(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
}

/* Print an event as progress lines: its reason, then each step of its
 * note ("namespace/x created, quota/y created" gives one line a step). */
static void print_event(FILE *out, const cJSON *e)
{
	const char *reason = ws_json_str(e, "reason", NULL), *msg = ws_json_str(e, "message", NULL);
	const char *type = ws_json_str(e, "type", NULL), *colon;

	msg = msg ? msg : "";
	colon = strstr(msg, ": ");
	if (colon && strstr(colon, ", ")) {
		char *steps = xstrdup(colon + 2), *save = NULL, *step;

		fprintf(out, "controller: %s: %.*s\n", reason ? reason : "", (int)(colon - msg), msg);
		for (step = strtok_r(steps, ",", &save); step;
		     step = strtok_r(NULL, ",", &save))
			fprintf(out, "  %s\n", step + strspn(step, " "));
		free(steps);
	} else {
		fprintf(out, "controller: %s%s: %s\n",
			type && strcmp(type, "Warning") == 0 ? "warning: " : "", reason ? reason : "", msg);
	}
	fflush(out);
}

static int reason_in(const char *reason, const char *const *set)
{
	for (; *set; set++)
		if (reason && strcmp(reason, *set) == 0)
			return 1;
	return 0;
}

int follow_controller(struct session *s, const char *id, const char *holder,
		      const char *const *done, int gone_ends, const cJSON *history, ws_err *err)
{
	FILE *out = s->progress_to_stderr ? stderr : stdout; /* stdout may be -o output */
	struct seen seen = {0};
	cJSON *cm = NULL, *last = NULL, *events = NULL;
	const cJSON *e;
	time_t end = time(NULL) + FOLLOW_TIMEOUT_S;
	int rc = -1, gone = 0;

	cJSON_ArrayForEach(e, history)
		if (ws_json_str(e, "metadata", "name", NULL))
			seen_add(&seen, ws_json_str(e, "metadata", "name", NULL));
	fprintf(out, "workspace/%s record written; %s carries it out:\n", id, holder);
	fflush(out);
	err->kind = WS_E_NONE;
	while (time(NULL) < end) {
		ws_err ge;

		if (ws_k8s_get(&s->k8s, &WS_KIND_CONFIGMAP, s->platform.system_namespace, id, &cm,
			       &ge)) {
			if (!gone_ends || !ws_err_is_http(&ge, 404) || !last) {
				*err = ge;
				break;
			}
			gone = 1; /* the events of the record last seen, one last time */
		} else {
			cJSON_Delete(last);
			last = cm;
			cm = NULL;
		}
		if (record_events(&s->k8s, s->platform.system_namespace, last, &events, err))
			break;
		cJSON_ArrayForEach(e, events) {
			const char *name = ws_json_str(e, "metadata", "name", NULL);
			const char *reason = ws_json_str(e, "reason", NULL);
			const char *type = ws_json_str(e, "type", NULL);

			if (!name || !seen_add(&seen, name))
				continue;
			print_event(out, e);
			if (type && strcmp(type, "Warning") == 0) {
				ws_fail(err, WS_E_INVALID, "the controller failed: %s",
					ws_json_str(e, "message", NULL) ? ws_json_str(e, "message", NULL)
									 : reason);
				goto out;
			}
			if (!gone_ends && reason_in(reason, done)) {
				rc = 0;
				goto out;
			}
		}
		cJSON_Delete(events);
		events = NULL;
		if (gone) {
			rc = 0;
			goto out;
		}
		usleep(POLL_MS * 1000);
	}
	if (rc && err->kind == WS_E_NONE)
		ws_fail(err, WS_E_TRANSPORT,
			"%s did not finish workspace '%s' within %d s; the record is written, see "
			"'kubectl workspace describe %s'", holder, id, FOLLOW_TIMEOUT_S, id);
out:
	cJSON_Delete(events);
	cJSON_Delete(cm);
	cJSON_Delete(last);
	seen_release(&seen);
	return rc;
}
