/* controller.c - watch workspace records and carry them out, as the one
 * leader among the replicas (see controller.h). */
#include "controller.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

#define DEFAULT_LEASE "workspace-controller"
#define MAX_BACKOFF_S 30

struct seen {
	char id[64];
	unsigned long hash; /* of workspace.json, to skip status-only changes */
};

struct ctl {
	ws_prov *p;
	const ws_controller_options *o;
	const char *lease_name;
	long lease_s;
	long resync_s;
	struct seen *seen;
	size_t nseen;
	int leader;
	time_t renewed;     /* last successful renewal */
	time_t resynced;
	char rv[32];        /* watch position; "" = list again */
};

static int stopping(const struct ctl *c)
{
	if (c->o->heartbeat)
		*c->o->heartbeat = time(NULL);
	return c->o->stop && *c->o->stop;
}

static void tell(struct ctl *c, const char *id, const char *action, int rc, const char *msg)
{
	if (c->o->on_reconcile)
		c->o->on_reconcile(c->o->ctx, id, action, rc, msg);
}

/* ---- leader election ------------------------------------------------------ */

static void micro_time(time_t t, char out[40])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
}

static time_t parse_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return timegm(&tm);
}

static cJSON *lease_object(struct ctl *c, const char *rv, long transitions, const char *acquired)
{
	cJSON *o = cJSON_CreateObject(), *meta, *spec;
	char now[40];

	micro_time(time(NULL), now);
	cJSON_AddStringToObject(o, "apiVersion", WS_KIND_LEASE.api_version);
	cJSON_AddStringToObject(o, "kind", WS_KIND_LEASE.kind);
	meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", c->lease_name);
	cJSON_AddStringToObject(meta, "namespace", c->p->platform->system_namespace);
	if (rv)
		cJSON_AddStringToObject(meta, "resourceVersion", rv);
	spec = cJSON_AddObjectToObject(o, "spec");
	cJSON_AddStringToObject(spec, "holderIdentity", c->o->identity);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", (double)c->lease_s);
	cJSON_AddStringToObject(spec, "acquireTime", acquired ? acquired : now);
	cJSON_AddStringToObject(spec, "renewTime", now);
	cJSON_AddNumberToObject(spec, "leaseTransitions", (double)transitions);
	return o;
}

/* Take or renew the lease; sets c->leader. Errors only for the log. */
static void elect(struct ctl *c)
{
	ws_prov *p = c->p;
	cJSON *lease = NULL, *next;
	const char *holder, *rv;
	ws_err err;
	int rc, was = c->leader;

	if (ws_k8s_get(p->k8s, &WS_KIND_LEASE, p->platform->system_namespace, c->lease_name, &lease,
		       &err)) {
		if (!ws_err_is_http(&err, 404)) {
			c->leader = c->leader && time(NULL) - c->renewed < c->lease_s;
			goto out;
		}
		next = lease_object(c, NULL, 0, NULL);
		rc = ws_k8s_create(p->k8s, &WS_KIND_LEASE, next, 0, NULL, &err);
		cJSON_Delete(next);
		c->leader = rc == 0;
		goto out;
	}
	holder = ws_json_str(lease, "spec", "holderIdentity", NULL);
	rv = ws_json_str(lease, "metadata", "resourceVersion", NULL);
	if (holder && strcmp(holder, c->o->identity) == 0) {
		next = lease_object(c, rv, (long)cJSON_GetNumberValue(
					ws_json_get(lease, "spec", "leaseTransitions", NULL)),
				    ws_json_str(lease, "spec", "acquireTime", NULL));
	} else {
		const cJSON *dur = ws_json_get(lease, "spec", "leaseDurationSeconds", NULL);
		time_t renew = parse_time(ws_json_str(lease, "spec", "renewTime", NULL));
		long d = cJSON_IsNumber(dur) ? (long)dur->valuedouble : c->lease_s;

		if (holder && *holder && renew + d > time(NULL)) {
			c->leader = 0; /* someone else holds it */
			goto out;
		}
		next = lease_object(c, rv, (long)cJSON_GetNumberValue(
					ws_json_get(lease, "spec", "leaseTransitions", NULL)) + 1, NULL);
	}
	rc = ws_k8s_update(p->k8s, &WS_KIND_LEASE, next, 0, NULL, &err);
	cJSON_Delete(next);
	c->leader = rc == 0;
out:
	if (c->leader)
		c->renewed = time(NULL);
	if (c->leader != was) {
		tell(c, c->lease_name, c->leader ? "leading" : "following", 0, NULL);
		c->rv[0] = '\0'; /* a new leader starts with a full list */
	}
	cJSON_Delete(lease);
}

/* ---- reconciling ------------------------------------------------------------- */

static unsigned long fnv1a(const char *s)
{
	unsigned long h = 1469598103934665603UL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211UL;
	return h;
}

static struct seen *find_seen(struct ctl *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->nseen; i++)
		if (strcmp(c->seen[i].id, id) == 0)
			return &c->seen[i];
	return NULL;
}

static void remember(struct ctl *c, const char *id, unsigned long hash)
{
	struct seen *s = find_seen(c, id);

	if (!s) {
		s = realloc(c->seen, (c->nseen + 1) * sizeof(*s));
		if (!s)
			return;
		c->seen = s;
		s = &c->seen[c->nseen++];
		snprintf(s->id, sizeof(s->id), "%s", id);
	}
	s->hash = hash;
}

static void forget(struct ctl *c, const char *id)
{
	struct seen *s = find_seen(c, id);

	if (s) {
		*s = c->seen[c->nseen - 1];
		c->nseen--;
	}
}

/* Converge one record (a ConfigMap), unless its workspace.json is what
 * was converged last and force is off. */
static void reconcile(struct ctl *c, const cJSON *cm, int force)
{
	const char *id = ws_json_str(cm, "metadata", "name", NULL);
	const char *text = ws_json_str(cm, "data", WS_RECORD_KEY, NULL);
	struct seen *s;
	unsigned long h;
	ws_record r;
	ws_err err;

	if (!id || !text || ws_json_get(cm, "metadata", "deletionTimestamp", NULL))
		return;
	h = fnv1a(text);
	s = find_seen(c, id);
	if (!force && s && s->hash == h)
		return;
	if (ws_record_parse(&r, text, strlen(text), &err)) {
		tell(c, id, "skip", -1, err.msg);
		remember(c, id, h); /* an unreadable record is reported once per change */
		return;
	}
	if (ws_converge(c->p, &r, &err)) {
		tell(c, id, "converge", -1, err.msg);
		forget(c, id); /* try again at the next event or resync */
	} else {
		tell(c, id, "converge", 0, NULL);
		remember(c, id, h);
	}
	ws_record_release(&r);
}

static void destroy(struct ctl *c, const cJSON *cm)
{
	const char *id = ws_json_str(cm, "metadata", "name", NULL);
	const char *text = ws_json_str(cm, "data", WS_RECORD_KEY, NULL);
	ws_record r;
	ws_err err;

	if (!id || !text)
		return;
	forget(c, id);
	if (ws_record_parse(&r, text, strlen(text), &err)) {
		tell(c, id, "delete", -1, err.msg);
		return;
	}
	if (ws_destroy_record(c->p, &r, 0, &err))
		tell(c, id, "delete", -1, err.msg);
	else
		tell(c, id, "delete", 0, NULL);
	ws_record_release(&r);
}

static int on_event(void *ctx, const char *type, const cJSON *object)
{
	struct ctl *c = ctx;
	const char *app = ws_json_str(object, "metadata", "labels", WS_LABEL_RECORD_APP, NULL);

	if (strcmp(type, "BOOKMARK") != 0 && (!app || strcmp(app, WS_RECORD_APP) != 0))
		return stopping(c);
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0)
		reconcile(c, object, 0);
	else if (strcmp(type, "DELETED") == 0)
		destroy(c, object);
	/* Renew during a long burst of work; stop acting when that fails. */
	if (time(NULL) - c->renewed >= c->lease_s / 3) {
		elect(c);
		if (!c->leader)
			return 1;
	}
	return stopping(c);
}

/* List every record, converge each (all of them when forced), and set the
 * watch position. */
static int relist(struct ctl *c, int force, ws_err *err)
{
	ws_k8s_list_opts opts = {WS_LABEL_RECORD_APP "=" WS_RECORD_APP, NULL, 0};
	cJSON *items = NULL, *cm;
	char rv[32] = "";

	if (ws_k8s_list(c->p->k8s, &WS_KIND_CONFIGMAP, c->p->platform->system_namespace, &opts, &items,
			rv, err))
		return -1;
	cJSON_ArrayForEach(cm, items) {
		if (stopping(c) || !c->leader)
			break;
		reconcile(c, cm, force);
	}
	cJSON_Delete(items);
	snprintf(c->rv, sizeof(c->rv), "%s", rv);
	return 0;
}

static void nap(struct ctl *c, long seconds)
{
	long i;

	for (i = 0; i < seconds * 10 && !stopping(c); i++)
		usleep(100 * 1000);
}

int ws_controller_run(ws_prov *p, const ws_controller_options *o, ws_err *err)
{
	struct ctl c;
	long backoff = 1;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.o = o;
	c.lease_name = o->lease_name ? o->lease_name : DEFAULT_LEASE;
	c.lease_s = o->lease_seconds > 3 ? o->lease_seconds : 15;
	c.resync_s = o->resync_seconds > 0 ? o->resync_seconds : 300;
	if (!o->identity || !*o->identity) {
		free(c.seen);
		return ws_fail(err, WS_E_INVALID, "the controller needs an identity for its lease");
	}
	while (!stopping(&c)) {
		ws_err e;
		int force;

		elect(&c);
		if (!c.leader) {
			nap(&c, c.lease_s / 3);
			continue;
		}
		force = time(NULL) - c.resynced >= c.resync_s;
		if (!c.rv[0] || force) {
			if (relist(&c, force, &e)) {
				tell(&c, "", "list", -1, e.msg);
				nap(&c, backoff);
				backoff = backoff * 2 > MAX_BACKOFF_S ? MAX_BACKOFF_S : backoff * 2;
				continue;
			}
			if (force)
				c.resynced = time(NULL);
		}
		if (ws_k8s_watch(p->k8s, &WS_KIND_CONFIGMAP, p->platform->system_namespace,
				 WS_LABEL_RECORD_APP "=" WS_RECORD_APP, c.rv, c.lease_s / 3, on_event, &c,
				 &e)) {
			if (ws_err_is_http(&e, 410)) {
				c.rv[0] = '\0'; /* too old: list again */
				continue;
			}
			tell(&c, "", "watch", -1, e.msg);
			c.rv[0] = '\0';
			nap(&c, backoff);
			backoff = backoff * 2 > MAX_BACKOFF_S ? MAX_BACKOFF_S : backoff * 2;
			continue;
		}
		backoff = 1;
	}
	free(c.seen);
	return 0;
}
