/* queue.h - the controller's work queue, keyed by workspace id, with the
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
#ifndef CTL_QUEUE_H
#define CTL_QUEUE_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stddef.h>

/* What a worker gets: a copy, released with ctl_item_release. */
typedef struct ctl_item {
	char id[64];
	char uid[48];    /* metadata.uid */
	char *text;      /* workspace.json as last seen, or NULL */
	char *converged; /* workspace.json as last converged by this process, or NULL */
	int deleting;    /* metadata.deletionTimestamp is set */
	int finalizer;   /* the record carries WS_FINALIZER */
	int gone;        /* the record was deleted (DELETED event) */
	int was_ready;   /* its status.json said Ready */
} ctl_item;

void ctl_item_release(ctl_item *it);

struct ctl_entry;

typedef struct ctl_queue {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct ctl_entry **entries; /* every record seen */
	size_t n, cap;
	struct ctl_entry **fifo;    /* keys waiting, oldest first */
	size_t head, tail, fifo_cap;
	size_t busy;                /* keys being worked on */
	int stopping;
} ctl_queue;

void ctl_queue_init(ctl_queue *q);
void ctl_queue_release(ctl_queue *q);

/* Take in a record (a ConfigMap) from a list or watch event; gone for a
 * DELETED event. Queued when it needs work, or always when force. */
void ctl_queue_offer(ctl_queue *q, const cJSON *configmap, int gone, int force);

/* Wait for a key (0, *it filled) or for ctl_queue_stop (-1). */
int ctl_queue_take(ctl_queue *q, ctl_item *it);

/* The worker is done with it; ok: it.text is now converged. A change
 * offered meanwhile is queued again; a failure is retried after the next
 * event or resync. */
void ctl_queue_done(ctl_queue *q, const ctl_item *it, int ok);

/* Drop every waiting key (leadership lost: the next leader lists afresh). */
void ctl_queue_drop_waiting(ctl_queue *q);

/* 1 when no key is waiting or being worked on. */
int ctl_queue_idle(ctl_queue *q);

/* Wake every worker; ctl_queue_take returns -1 from then on. */
void ctl_queue_stop(ctl_queue *q);

#endif
