/* workqueue.c - work queue keyed by workspace id (see workqueue.h). */
#include "workqueue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finalizer.h"
#include "json.h"
#include "provision.h"
#include "record.h"

struct ws_work_entry {
	char id[64];
	char uid[48];
	char *text;
	char *converged;
	int deleting, finalizer, gone, was_ready;
	int queued;     /* in the fifo */
	int processing; /* a worker has it */
	int dirty;      /* changed while processing: queue again when done */
	int failures;   /* failed reconciles in a row */
	long long retry_at; /* when to try a failed one again (ms), or 0 */
};

#define RETRY_FIRST_MS 1000LL
#define RETRY_MAX_MS (300 * 1000LL)

void ws_work_item_release(ws_work_item *it)
{
	free(it->text);
	free(it->converged);
	memset(it, 0, sizeof(*it));
}

void ws_workqueue_init(ws_workqueue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->ready, NULL);
}

void ws_workqueue_release(ws_workqueue *q)
{
	size_t i;

	for (i = 0; i < q->n; i++) {
		free(q->entries[i]->text);
		free(q->entries[i]->converged);
		free(q->entries[i]);
	}
	free(q->entries);
	free(q->fifo);
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->ready);
}

static struct ws_work_entry *find(ws_workqueue *q, const char *id, int create)
{
	struct ws_work_entry *e;
	size_t i;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->entries[i]->id, id) == 0)
			return q->entries[i];
	if (!create)
		return NULL;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct ws_work_entry **grown = realloc(q->entries, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		q->entries = grown;
		q->cap = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	snprintf(e->id, sizeof(e->id), "%s", id);
	q->entries[q->n++] = e;
	return e;
}

static void push(ws_workqueue *q, struct ws_work_entry *e)
{
	if (e->queued)
		return;
	if (e->processing) {
		e->dirty = 1;
		return;
	}
	if (q->tail == q->fifo_cap) {
		size_t live = q->tail - q->head, cap;

		if (live)
			memmove(q->fifo, q->fifo + q->head, live * sizeof(*q->fifo));
		q->head = 0;
		q->tail = live;
		if (live == q->fifo_cap) {
			struct ws_work_entry **grown;

			cap = q->fifo_cap ? q->fifo_cap * 2 : 64;
			grown = realloc(q->fifo, cap * sizeof(*grown));
			if (!grown)
				return;
			q->fifo = grown;
			q->fifo_cap = cap;
		}
	}
	q->fifo[q->tail++] = e;
	e->queued = 1;
	pthread_cond_signal(&q->ready);
}

static int status_ready(const cJSON *cm)
{
	const char *text = ws_json_str(cm, "data", WS_STATUS_KEY, NULL);
	cJSON *st = text ? cJSON_Parse(text) : NULL;
	const char *phase = ws_json_str(st, "phase", NULL);
	int ready = phase && strcmp(phase, "Ready") == 0;

	cJSON_Delete(st);
	return ready;
}

static int has_finalizer(const cJSON *cm)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, ws_json_get(cm, "metadata", "finalizers", NULL))
		if (cJSON_IsString(f) && strcmp(f->valuestring, WS_FINALIZER) == 0)
			return 1;
	return 0;
}

/* Under q->lock; synced: count the text as converged instead of queueing. */
static void offer_locked(ws_workqueue *q, const cJSON *cm, int gone, int force,
				      int synced)
{
	const char *id = ws_json_str(cm, "metadata", "name", NULL);
	const char *text = ws_json_str(cm, "data", WS_RECORD_KEY, NULL), *uid;
	struct ws_work_entry *e;
	int same;

	if (!id || strlen(id) >= sizeof(e->id))
		return;
	e = find(q, id, 1);
	if (!e)
		return;
	same = text && e->text && strcmp(text, e->text) == 0;
	if (!same) {
		free(e->text);
		e->text = text ? strdup(text) : NULL;
	}
	e->gone = gone;
	uid = ws_json_str(cm, "metadata", "uid", NULL);
	snprintf(e->uid, sizeof(e->uid), "%s", uid ? uid : "");
	e->was_ready = status_ready(cm);
	e->deleting = ws_json_get(cm, "metadata", "deletionTimestamp", NULL) != NULL;
	e->finalizer = has_finalizer(cm);
	if (synced && e->text) {
		free(e->converged);
		e->converged = strdup(e->text);
		return;
	}
	if (force || gone || e->deleting || !e->finalizer || !e->converged || !e->text ||
	    strcmp(e->converged, e->text) != 0)
		push(q, e);
}

void ws_workqueue_offer(ws_workqueue *q, const cJSON *cm, int gone, int force)
{
	pthread_mutex_lock(&q->lock);
	offer_locked(q, cm, gone, force, 0);
	pthread_mutex_unlock(&q->lock);
}

void ws_workqueue_offer_synced(ws_workqueue *q, const cJSON *cm)
{
	const char *id = ws_json_str(cm, "metadata", "name", NULL);
	const char *text = ws_json_str(cm, "data", WS_RECORD_KEY, NULL);
	struct ws_work_entry *e;
	int synced = 0;

	if (text && has_finalizer(cm) && !ws_json_get(cm, "metadata", "deletionTimestamp", NULL) &&
	    status_ready(cm) && id) {
		pthread_mutex_lock(&q->lock);
		e = find(q, id, 0);
		if (!e || (!e->processing && !e->queued)) {
			offer_locked(q, cm, 0, 0, 1);
			synced = 1;
		}
		pthread_mutex_unlock(&q->lock);
	}
	if (!synced)
		ws_workqueue_offer(q, cm, 0, 0);
}

int ws_workqueue_take(ws_workqueue *q, ws_work_item *it)
{
	struct ws_work_entry *e;

	memset(it, 0, sizeof(*it));
	pthread_mutex_lock(&q->lock);
	while (!q->stopping && q->head == q->tail)
		pthread_cond_wait(&q->ready, &q->lock);
	if (q->stopping) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	e = q->fifo[q->head++];
	e->queued = 0;
	e->processing = 1;
	q->busy++;
	snprintf(it->id, sizeof(it->id), "%s", e->id);
	it->text = e->text ? strdup(e->text) : NULL;
	it->converged = e->converged ? strdup(e->converged) : NULL;
	it->deleting = e->deleting;
	it->finalizer = e->finalizer;
	it->gone = e->gone;
	it->was_ready = e->was_ready;
	snprintf(it->uid, sizeof(it->uid), "%s", e->uid);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void ws_workqueue_done(ws_workqueue *q, const ws_work_item *it, int ok, long long now_ms)
{
	struct ws_work_entry *e;

	pthread_mutex_lock(&q->lock);
	e = find(q, it->id, 0);
	if (e) {
		e->processing = 0;
		q->busy--;
		if (ok) { /* a failure keeps the last converged text: events compare with it */
			free(e->converged);
			e->converged = it->text && !it->deleting && !it->gone ? strdup(it->text) : NULL;
		}
		if (ok && (it->gone || it->deleting)) {
			free(e->text); /* cleaned up: only the id is kept */
			e->text = NULL;
		}
		if (ok) {
			e->failures = 0;
			e->retry_at = 0;
		} else {
			long long wait = RETRY_FIRST_MS << (e->failures < 9 ? e->failures : 9);

			e->failures++;
			e->retry_at = now_ms + (wait < RETRY_MAX_MS ? wait : RETRY_MAX_MS);
		}
		if (e->dirty) {
			e->dirty = 0;
			push(q, e);
		}
	}
	pthread_mutex_unlock(&q->lock);
}

size_t ws_workqueue_retry_due(ws_workqueue *q, long long now_ms)
{
	size_t i, n = 0;

	pthread_mutex_lock(&q->lock);
	for (i = 0; i < q->n; i++) {
		struct ws_work_entry *e = q->entries[i];

		if (e->retry_at && e->retry_at <= now_ms && !e->processing && !e->queued) {
			e->retry_at = 0;
			push(q, e);
			n++;
		}
	}
	pthread_mutex_unlock(&q->lock);
	return n;
}

void ws_workqueue_drop_waiting(ws_workqueue *q)
{
	pthread_mutex_lock(&q->lock);
	while (q->head < q->tail)
		q->fifo[q->head++]->queued = 0;
	pthread_mutex_unlock(&q->lock);
}

int ws_workqueue_idle(ws_workqueue *q)
{
	int idle;

	pthread_mutex_lock(&q->lock);
	idle = q->head == q->tail && q->busy == 0;
	pthread_mutex_unlock(&q->lock);
	return idle;
}

void ws_workqueue_stop(ws_workqueue *q)
{
	pthread_mutex_lock(&q->lock);
	q->stopping = 1;
	pthread_cond_broadcast(&q->ready);
	pthread_mutex_unlock(&q->lock);
}
