/* workqueue.h - the controller's work queue, keyed by workspace id, with the
 * latest known state of every record (client-go's workqueue + cache).
 *
 * A key is never handed to two workers at once: a record that changes
 * while it is being reconciled is queued again when its worker is done.
 * A record whose workspace.json is what was last converged, which carries
 * the finalizer and is not being deleted, is not queued (its own status
 * writes come back as events), unless forced (resync).
 * Memory: per record its id, its workspace.json and the last converged one.
 * All functions are thread-safe.
 */
#ifndef WS_WORKQUEUE_H
#define WS_WORKQUEUE_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stddef.h>

/* What a worker gets: a copy, released with ws_work_item_release. */
typedef struct ws_work_item {
	char id[64];
	char uid[48];    /* metadata.uid */
	char *text;      /* workspace.json as last seen, or NULL */
	char *converged; /* workspace.json as last converged by this process, or NULL */
	int deleting;    /* metadata.deletionTimestamp is set */
	int finalizer;   /* the record carries WS_FINALIZER */
	int gone;        /* the record was deleted (DELETED event) */
	int was_ready;   /* its status.json said Ready */
} ws_work_item;

void ws_work_item_release(ws_work_item *it);

struct ws_work_entry;

typedef struct ws_workqueue {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct ws_work_entry **entries; /* every record seen */
	size_t n, cap;
	struct ws_work_entry **fifo;    /* keys waiting, oldest first */
	size_t head, tail, fifo_cap;
	size_t busy;                /* keys being worked on */
	int stopping;
} ws_workqueue;

void ws_workqueue_init(ws_workqueue *q);
void ws_workqueue_release(ws_workqueue *q);

/* Take in a record (a ConfigMap) from a list or watch event; gone for a
 * DELETED event. Queued when it needs work, or always when force. */
void ws_workqueue_offer(ws_workqueue *q, const cJSON *configmap, int gone, int force);

/* Take in a record found to match the cluster (resync.h): when it carries
 * the finalizer, is not being deleted, says Ready and nobody works on it,
 * its workspace.json counts as converged and it is not queued; else as
 * ws_workqueue_offer(q, configmap, 0, 0). */
void ws_workqueue_offer_synced(ws_workqueue *q, const cJSON *configmap);

/* Wait for a key (0, *it filled) or for ws_workqueue_stop (-1). */
int ws_workqueue_take(ws_workqueue *q, ws_work_item *it);

/* The worker is done with it at now_ms (a monotonic clock); ok: it.text
 * is now converged. A change offered meanwhile is queued again. A failure
 * is retried at the next event, or after a backoff that doubles with each
 * failure in a row (1 s, 2 s, ... up to 5 min): see ws_workqueue_retry_due. */
void ws_workqueue_done(ws_workqueue *q, const ws_work_item *it, int ok, long long now_ms);

/* Queue the failed keys whose backoff has passed; returns how many. */
size_t ws_workqueue_retry_due(ws_workqueue *q, long long now_ms);

/* Drop every waiting key (leadership lost: the next leader lists afresh). */
void ws_workqueue_drop_waiting(ws_workqueue *q);

/* 1 when no key is waiting or being worked on. */
int ws_workqueue_idle(ws_workqueue *q);

/* Wake every worker; ws_workqueue_take returns -1 from then on. */
void ws_workqueue_stop(ws_workqueue *q);

#endif
