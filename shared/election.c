/* election.c - client-go style leader election over a Lease store (see
 * election.h): local monotonic expiry, renew deadline, write guard. */
#include "election.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "kinds.h"

static long long system_now_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static time_t system_wall(void *ctx)
{
	(void)ctx;
	return time(NULL);
}

const ws_clock ws_clock_system = {system_now_ms, system_wall, NULL};

void ws_election_init(ws_election *e, const char *identity, const char *ns, const char *name,
		      long duration_s, const ws_lease_store *store, const ws_clock *clock)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->identity, sizeof(e->identity), "%s", identity);
	snprintf(e->ns, sizeof(e->ns), "%s", ns);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->duration_ms = duration_s * 1000;
	e->renew_deadline_ms = e->duration_ms * 2 / 3;
	e->retry_ms = e->duration_ms / 5;
	e->store = *store;
	e->clock = clock ? *clock : ws_clock_system;
	pthread_mutex_init(&e->lock, NULL);
}

void ws_election_release(ws_election *e)
{
	pthread_mutex_destroy(&e->lock);
}

static void micro_time(const ws_election *e, char out[40])
{
	time_t t = e->clock.wall(e->clock.ctx);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
}

/* The lease this process writes: held by holder (this process, or "" to
 * resign), guarded by rv when updating. */
static cJSON *lease_object(const ws_election *e, const char *holder, const char *rv,
			   const char *acquired, long transitions)
{
	cJSON *o = cJSON_CreateObject(), *meta, *spec;
	char now[40];

	micro_time(e, now);
	cJSON_AddStringToObject(o, "apiVersion", WS_KIND_LEASE.api_version);
	cJSON_AddStringToObject(o, "kind", WS_KIND_LEASE.kind);
	meta = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(meta, "name", e->name);
	cJSON_AddStringToObject(meta, "namespace", e->ns);
	if (rv)
		cJSON_AddStringToObject(meta, "resourceVersion", rv);
	spec = cJSON_AddObjectToObject(o, "spec");
	cJSON_AddStringToObject(spec, "holderIdentity", holder);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", (double)(e->duration_ms / 1000));
	cJSON_AddStringToObject(spec, "acquireTime", acquired ? acquired : now);
	cJSON_AddStringToObject(spec, "renewTime", now);
	cJSON_AddNumberToObject(spec, "leaseTransitions", (double)transitions);
	return o;
}

/* Note the lease as seen now; its clock restarts when it changed. */
static void observe(ws_election *e, const cJSON *lease, long long now)
{
	const char *rv = ws_json_str(lease, "metadata", "resourceVersion", NULL);
	const char *holder = ws_json_str(lease, "spec", "holderIdentity", NULL);

	rv = rv ? rv : "";
	holder = holder ? holder : "";
	if (e->observed_at && strcmp(rv, e->observed_rv) == 0 &&
	    strcmp(holder, e->observed_holder) == 0)
		return;
	snprintf(e->observed_rv, sizeof(e->observed_rv), "%s", rv);
	snprintf(e->observed_holder, sizeof(e->observed_holder), "%s", holder);
	e->observed_at = now;
}

static int leading_locked(const ws_election *e, long long now)
{
	return e->leader && now - e->renewed_at < e->renew_deadline_ms;
}

int ws_election_try(ws_election *e, ws_err *caller_err)
{
	ws_err local, *err = caller_err ? caller_err : &local;
	long long start = e->clock.now_ms(e->clock.ctx);
	cJSON *lease = NULL, *next = NULL, *stored = NULL;
	const char *holder;
	long long duration;
	int rc, leading;

	pthread_mutex_lock(&e->lock);
	if (e->store.get(e->store.ctx, &lease, err)) {
		if (!ws_err_is_http(err, 404))
			goto out;
		next = lease_object(e, e->identity, NULL, NULL, 0);
		rc = e->store.create(e->store.ctx, next, &stored, err);
	} else {
		const cJSON *dur = ws_json_get(lease, "spec", "leaseDurationSeconds", NULL);
		const cJSON *tr = ws_json_get(lease, "spec", "leaseTransitions", NULL);
		long transitions = cJSON_IsNumber(tr) ? (long)tr->valuedouble : 0;
		int mine;

		observe(e, lease, start);
		holder = ws_json_str(lease, "spec", "holderIdentity", NULL);
		mine = holder && strcmp(holder, e->identity) == 0;
		duration = cJSON_IsNumber(dur) && dur->valuedouble > 0
				   ? (long long)(dur->valuedouble * 1000)
				   : e->duration_ms;
		if (!mine && holder && *holder && start - e->observed_at < duration) {
			e->leader = 0; /* held by someone else, and alive as far as we can see */
			ws_fail(err, WS_E_CONFLICT, "lease '%s' is held by '%s'", e->name, holder);
			goto out;
		}
		if (!mine)
			e->leader = 0; /* taken by someone else since */
		next = lease_object(e, e->identity, ws_json_str(lease, "metadata", "resourceVersion", NULL),
				    mine ? ws_json_str(lease, "spec", "acquireTime", NULL) : NULL,
				    mine ? transitions : transitions + 1);
		rc = e->store.update(e->store.ctx, next, &stored, err);
	}
	if (rc == 0) {
		e->leader = 1;
		e->renewed_at = start;
		e->transitions = (long)cJSON_GetNumberValue(
			ws_json_get(stored ? stored : next, "spec", "leaseTransitions", NULL));
		observe(e, stored ? stored : next, start);
	}
out:
	leading = leading_locked(e, e->clock.now_ms(e->clock.ctx));
	if (!leading)
		e->leader = 0;
	pthread_mutex_unlock(&e->lock);
	cJSON_Delete(lease);
	cJSON_Delete(next);
	cJSON_Delete(stored);
	return leading;
}

int ws_election_leading(ws_election *e)
{
	int leading;

	pthread_mutex_lock(&e->lock);
	leading = leading_locked(e, e->clock.now_ms(e->clock.ctx));
	pthread_mutex_unlock(&e->lock);
	return leading;
}

int ws_election_guard(void *ctx, ws_err *err)
{
	ws_election *e = ctx;

	if (ws_election_leading(e))
		return 0;
	return ws_fail(err, WS_E_CONFLICT, "not the leader (lease '%s' lost): write not sent",
		       e->name);
}

void ws_election_resign(ws_election *e)
{
	cJSON *lease = NULL, *next;
	const char *holder, *rv;

	pthread_mutex_lock(&e->lock);
	if (leading_locked(e, e->clock.now_ms(e->clock.ctx)) &&
	    e->store.get(e->store.ctx, &lease, NULL) == 0) {
		holder = ws_json_str(lease, "spec", "holderIdentity", NULL);
		rv = ws_json_str(lease, "metadata", "resourceVersion", NULL);
		if (holder && strcmp(holder, e->identity) == 0) {
			next = lease_object(e, "", rv, ws_json_str(lease, "spec", "acquireTime", NULL),
					    e->transitions);
			e->store.update(e->store.ctx, next, NULL, NULL);
			cJSON_Delete(next);
		}
	}
	e->leader = 0;
	pthread_mutex_unlock(&e->lock);
	cJSON_Delete(lease);
}
