/* leader.c - run the election in a thread of its own (see leader.h). */
#include "leader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static int lease_get(void *ctx, cJSON **lease, ws_err *err)
{
	ctl_leader *l = ctx;

	return ws_k8s_get(l->k8s, &WS_KIND_LEASE, l->election.ns, l->election.name, lease, err);
}

static int lease_create(void *ctx, const cJSON *lease, cJSON **out, ws_err *err)
{
	return ws_k8s_create(((ctl_leader *)ctx)->k8s, &WS_KIND_LEASE, lease, 0, out, err);
}

static int lease_update(void *ctx, const cJSON *lease, cJSON **out, ws_err *err)
{
	return ws_k8s_update(((ctl_leader *)ctx)->k8s, &WS_KIND_LEASE, lease, 0, out, err);
}

static void *run(void *arg)
{
	ctl_leader *l = arg;
	char last[WS_ERR_MSG_MAX] = ""; /* said once until it changes */
	int was = 0;

	pthread_mutex_lock(&l->lock);
	while (!l->stopping) {
		struct timespec until;
		ws_err err;
		int now;

		pthread_mutex_unlock(&l->lock);
		err.kind = WS_E_NONE;
		err.msg[0] = '\0';
		now = ws_election_try(&l->election, &err);
		if (now != was)
			ctl_log("info", NULL, "%s lease '%s'", now ? "leading: holds" : "following: lost",
				l->election.name);
		else if (err.kind != WS_E_NONE && err.kind != WS_E_CONFLICT &&
			 strcmp(err.msg, last) != 0)
			ctl_log("warn", NULL, "cannot %s lease '%s': %s", now ? "renew" : "take",
				l->election.name, err.msg);
		snprintf(last, sizeof(last), "%s", err.kind == WS_E_CONFLICT ? "" : err.msg);
		was = now;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += l->election.retry_ms / 1000;
		until.tv_nsec += (l->election.retry_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&l->lock);
		while (!l->stopping &&
		       pthread_cond_timedwait(&l->wake, &l->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

int ctl_leader_start(ctl_leader *l, ws_k8s *k8s, const char *ns, const char *name,
		     const char *identity, long lease_seconds, ws_err *err)
{
	ws_lease_store store = {lease_get, lease_create, lease_update, l};
	pthread_condattr_t attr;

	memset(l, 0, sizeof(*l));
	l->k8s = k8s;
	ws_election_init(&l->election, identity, ns, name, lease_seconds, &store, NULL);
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&l->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&l->thread, NULL, run, l) != 0) {
		ws_election_release(&l->election);
		return ws_fail(err, WS_E_INTERNAL, "cannot start the election thread");
	}
	return 0;
}

int ctl_leader_leading(ctl_leader *l)
{
	return ws_election_leading(&l->election);
}

void ctl_leader_stop(ctl_leader *l)
{
	pthread_mutex_lock(&l->lock);
	l->stopping = 1;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->thread, NULL);
	ws_election_resign(&l->election);
	ws_election_release(&l->election);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->wake);
}
