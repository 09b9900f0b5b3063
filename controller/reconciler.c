/* reconciler.c - watch records, queue them by workspace, and converge or
 * clean up each as the lease holder (see reconciler.h). */
#include "reconciler.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "election.h"
#include "events.h"
#include "finalizer.h"
#include "health.h"
#include "json.h"
#include "leader.h"
#include "log.h"
#include "resync.h"
#include "workqueue.h"

#define MAX_BACKOFF_S 30
#define WATCH_SECONDS 5

struct ctl {
	ws_prov *p;
	const ctl_options *o;
	ctl_leader leader;
	ws_workqueue queue;
};

static int stopping(const struct ctl *c)
{
	return *c->o->stop != 0;
}

/* CLOCK_MONOTONIC in milliseconds. */
static long long mono_ms(void)
{
	return ws_clock_system.now_ms(NULL);
}

/* ---- one workspace ------------------------------------------------------------ */

/* What a run changed, from the provisioner's progress reports. */
struct changes {
	int n;
	char what[512];
};

static void on_progress(void *ctx, enum ws_step step, const char *subject, enum ws_outcome outcome,
			const char *detail)
{
	struct changes *ch = ctx;
	size_t len = strlen(ch->what);

	(void)step, (void)detail;
	if (outcome != WS_OUT_CREATED && outcome != WS_OUT_CONFIGURED &&
	    outcome != WS_OUT_DELETED && outcome != WS_OUT_ARCHIVED)
		return;
	ch->n++;
	snprintf(ch->what + len, sizeof(ch->what) - len, "%s%s %s", len ? ", " : "", subject,
		 ws_outcome_name(outcome));
}

static void event(struct ctl *c, const ws_work_item *it, const char *type, const char *reason,
		  const char *action, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void event(struct ctl *c, const ws_work_item *it, const char *type, const char *reason,
		  const char *action, const char *fmt, ...)
{
	ctl_regarding about = {c->p->platform->system_namespace, it->id, it->uid};
	char note[1024];
	va_list ap;
	ws_err err;

	va_start(ap, fmt);
	vsnprintf(note, sizeof(note), fmt, ap);
	va_end(ap);
	ctl_log(strcmp(type, "Warning") == 0 ? "error" : "info", it->id, "%s: %s", reason, note);
	if (ctl_event(c->p->k8s, &about, c->o->identity, type, reason, action, note, &err))
		ctl_log("warn", it->id, "%s", err.msg);
}

/* Events for what an edit of the record asked: members and tier. */
static void edit_events(struct ctl *c, const ws_work_item *it, const ws_record *before,
			const ws_record *after)
{
	size_t i;

	for (i = 0; i < after->nusers; i++) {
		const ws_user *u = &after->users[i];
		int j = ws_record_find_user(before, u->user_id);

		if (j < 0)
			event(c, it, "Normal", "MemberAdded", "AddMember", "member '%s' added as %s",
			      u->user_id, ws_role_name(u->role));
		else if (before->users[j].role != u->role)
			event(c, it, "Normal", "MemberRoleChanged", "SetRole",
			      "member '%s' changed from %s to %s", u->user_id,
			      ws_role_name(before->users[j].role), ws_role_name(u->role));
	}
	for (i = 0; i < before->nusers; i++)
		if (ws_record_find_user(after, before->users[i].user_id) < 0)
			event(c, it, "Normal", "MemberRemoved", "RemoveMember", "member '%s' removed",
			      before->users[i].user_id);
	if (strcmp(before->tier ? before->tier : "", after->tier ? after->tier : "") != 0)
		event(c, it, "Normal", "TierChanged", "SetTier", "tier changed from %s to %s",
		      before->tier ? before->tier : "(default)", after->tier ? after->tier : "(default)");
}

/* Delete the namespaces, archive the project, and check that the
 * namespaces are gone. */
static int clean_up(ws_prov *p, const ws_record *r, ws_err *err)
{
	ws_plan plan;
	size_t i;
	int rc = 0;

	if (ws_destroy_record(p, r, 0, err))
		return -1;
	if (ws_plan_build(r, p->platform, &plan, err))
		return -1;
	for (i = 0; i < plan.namespaces.n && rc == 0; i++) {
		ws_err e;

		if (!ws_k8s_get(p->k8s, &WS_KIND_NAMESPACE, NULL, plan.namespaces.items[i], NULL, &e))
			rc = ws_fail(err, WS_E_CONFLICT, "namespace '%s' is still terminating",
				     plan.namespaces.items[i]);
		else if (!ws_err_is_http(&e, 404))
			rc = ws_fail(err, e.kind, "cannot check namespace '%s': %s",
				     plan.namespaces.items[i], e.msg);
	}
	ws_plan_release(&plan);
	return rc;
}

/* Carry one record out; 0 when done (its text counts as converged). */
static int reconcile(struct ctl *c, const ws_work_item *it)
{
	struct changes ch = {0};
	ws_prov p = *c->p;
	ws_record r, before;
	ws_err err;
	int rc = -1;

	p.progress = on_progress;
	p.progress_ctx = &ch;
	if (!it->text)
		return 0; /* nothing known to act on */
	if (ws_record_parse(&r, it->text, strlen(it->text), &err)) {
		if (!it->gone && !it->deleting)
			event(c, it, "Warning", "InvalidRecord", "Read", "cannot read the record: %s",
			      err.msg);
		return 0; /* reported once per change */
	}
	if (it->gone || it->deleting) {
		if (it->deleting && !it->finalizer) {
			rc = 0; /* not ours to hold: it goes by itself */
			goto out;
		}
		if (clean_up(&p, &r, &err)) {
			event(c, it, "Warning", "CleanupFailed", "Cleanup", "%s", err.msg);
			goto out;
		}
		if (it->deleting && ws_finalizer_set(p.k8s, p.platform->system_namespace, it->id, 0, &err)) {
			event(c, it, "Warning", "CleanupFailed", "Cleanup", "%s", err.msg);
			goto out;
		}
		event(c, it, "Normal", "CleanedUp", "Cleanup",
		      "namespaces deleted and Flyte project archived%s%s", ch.n ? ": " : "", ch.what);
		rc = 0;
		goto out;
	}
	if (!it->finalizer &&
	    ws_finalizer_set(p.k8s, p.platform->system_namespace, it->id, 1, &err)) {
		event(c, it, "Warning", "Failed", "Finalize", "%s", err.msg);
		goto out;
	}
	if (ws_converge(&p, &r, &err)) {
		event(c, it, "Warning", "Failed", "Converge", "%s", err.msg);
		goto out;
	}
	rc = 0;
	if (it->converged && strcmp(it->converged, it->text) != 0 &&
	    ws_record_parse(&before, it->converged, strlen(it->converged), &err) == 0) {
		edit_events(c, it, &before, &r);
		ws_record_release(&before);
	} else if (ch.n && !it->was_ready && !it->converged) {
		event(c, it, "Normal", "Provisioned", "Provision", "workspace provisioned: %s", ch.what);
	} else if (ch.n) {
		event(c, it, "Normal", "DriftRepaired", "Converge", "repaired: %s", ch.what);
	}
out:
	ws_record_release(&r);
	return rc;
}

static void *worker(void *arg)
{
	struct ctl *c = arg;
	ws_work_item it;

	while (ws_workqueue_take(&c->queue, &it) == 0) {
		int ok = ctl_leader_leading(&c->leader) && reconcile(c, &it) == 0;

		ws_workqueue_done(&c->queue, &it, ok, mono_ms());
		ws_work_item_release(&it);
	}
	return NULL;
}

/* ---- watching ---------------------------------------------------------------- */

static int on_event(void *ctx, const char *type, const cJSON *object)
{
	struct ctl *c = ctx;
	const char *app = ws_json_str(object, "metadata", "labels", WS_LABEL_RECORD_APP, NULL);

	ctl_heartbeat();
	if (strcmp(type, "BOOKMARK") != 0 && app && strcmp(app, WS_RECORD_APP) == 0 &&
	    (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0 ||
	     strcmp(type, "DELETED") == 0))
		ws_workqueue_offer(&c->queue, object, strcmp(type, "DELETED") == 0, 0);
	return stopping(c) || !ctl_leader_leading(&c->leader);
}

/* List every record into the queue and set rv; with resync, check every
 * workspace with one list per kind (resync.h) and queue those that differ. */
static int relist(struct ctl *c, int resync, char rv[32], ws_err *err)
{
	ws_k8s_list_opts opts = {WS_LABEL_RECORD_APP "=" WS_RECORD_APP, NULL, 0};
	cJSON *items = NULL, *cm;

	if (ws_k8s_list(c->p->k8s, &WS_KIND_CONFIGMAP, c->p->platform->system_namespace, &opts,
			&items, rv, err))
		return -1;
	if (resync) {
		ws_err e;

		if (ctl_resync(c->p, &c->queue, items, &e))
			ctl_log("warn", NULL, "resync: %s; every workspace is converged instead", e.msg);
	} else {
		cJSON_ArrayForEach(cm, items)
			ws_workqueue_offer(&c->queue, cm, 0, 0);
	}
	cJSON_Delete(items);
	return 0;
}

static void nap_ms(struct ctl *c, long long ms)
{
	long long end = mono_ms() + ms;

	while (!stopping(c) && mono_ms() < end) {
		ctl_heartbeat();
		usleep(100 * 1000);
	}
}

static void watch_loop(struct ctl *c)
{
	long long resynced = 0, backoff_ms = 1000;
	char rv[32] = "";
	int leading = 0;
	ws_err e;

	while (!stopping(c)) {
		ctl_heartbeat();
		if (!ctl_leader_leading(&c->leader)) {
			if (leading)
				ws_workqueue_drop_waiting(&c->queue);
			leading = 0;
			rv[0] = '\0';
			resynced = 0; /* a new term starts with a full check */
			nap_ms(c, 200);
			continue;
		}
		leading = 1;
		ws_workqueue_retry_due(&c->queue, mono_ms());
		if (!rv[0] || mono_ms() - resynced >= c->o->resync_seconds * 1000) {
			int resync = resynced == 0 || mono_ms() - resynced >= c->o->resync_seconds * 1000;

			if (relist(c, resync, rv, &e)) {
				ctl_log("error", NULL, "cannot list the records: %s", e.msg);
				rv[0] = '\0';
				goto backoff;
			}
			if (resync)
				resynced = mono_ms();
		}
		if (ws_k8s_watch(c->p->k8s, &WS_KIND_CONFIGMAP, c->p->platform->system_namespace,
				 WS_LABEL_RECORD_APP "=" WS_RECORD_APP, rv, WATCH_SECONDS, on_event, c,
				 &e) == 0) {
			backoff_ms = 1000;
			continue;
		}
		rv[0] = '\0';
		if (ws_err_is_http(&e, 410)) {
			ctl_log("info", NULL, "watch position expired: listing again");
			continue;
		}
		ctl_log("warn", NULL, "watch of the records failed: %s", e.msg);
backoff:
		/* exponential with jitter, so that replicas do not come back in step */
		nap_ms(c, backoff_ms / 2 + rand() % (backoff_ms / 2 + 1));
		backoff_ms = backoff_ms * 2 > MAX_BACKOFF_S * 1000 ? MAX_BACKOFF_S * 1000 : backoff_ms * 2;
	}
}

int ctl_run(ws_prov *p, ws_k8s *lease_k8s, const ctl_options *o, ws_err *err)
{
	struct ctl c;
	pthread_t *threads;
	int i, started = 0;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.o = o;
	threads = calloc((size_t)o->workers, sizeof(*threads));
	if (!threads)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	ws_workqueue_init(&c.queue);
	if (ctl_leader_start(&c.leader, lease_k8s, p->platform->system_namespace, CTL_LEASE_NAME,
			     o->identity, o->lease_seconds, err)) {
		ws_workqueue_release(&c.queue);
		free(threads);
		return -1;
	}
	p->k8s->conn.target.write_guard = ws_election_guard;
	p->k8s->conn.target.write_guard_ctx = &c.leader.election;
	if (p->flyte) {
		p->flyte->target.write_guard = ws_election_guard;
		p->flyte->target.write_guard_ctx = &c.leader.election;
	}
	for (i = 0; i < o->workers; i++, started++)
		if (pthread_create(&threads[i], NULL, worker, &c) != 0)
			break;
	watch_loop(&c);
	ws_workqueue_stop(&c.queue);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	ctl_leader_stop(&c.leader);
	p->k8s->conn.target.write_guard = NULL;
	if (p->flyte)
		p->flyte->target.write_guard = NULL;
	ws_workqueue_release(&c.queue);
	free(threads);
	return 0;
}
