/* test_workqueue.c - the controller's work queue (shared/workqueue.h): one
 * worker per key at a time, a change during a reconcile queued again after,
 * converged records not queued, resync forcing, deletions, failure backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "finalizer.h"
#include "json.h"
#include "workqueue.h"

/* A record ConfigMap; finalizer 1 puts the controller's finalizer on it. */
static cJSON *record(const char *id, const char *text, int finalizer, int deleting)
{
	cJSON *cm = cJSON_CreateObject(), *meta = cJSON_AddObjectToObject(cm, "metadata");

	cJSON_AddStringToObject(meta, "name", id);
	cJSON_AddStringToObject(meta, "uid", "uid-1");
	if (finalizer)
		cJSON_AddItemToArray(cJSON_AddArrayToObject(meta, "finalizers"),
				     cJSON_CreateString(WS_FINALIZER));
	if (deleting)
		cJSON_AddStringToObject(meta, "deletionTimestamp", "2024-01-01T00:00:00Z");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(cm, "data"), "workspace.json", text);
	return cm;
}

static void offer(ws_workqueue *q, const char *id, const char *text, int finalizer, int force)
{
	cJSON *cm = record(id, text, finalizer, 0);

	ws_workqueue_offer(q, cm, 0, force);
	cJSON_Delete(cm);
}

static void test_one_worker_per_key(void **state)
{
	ws_workqueue q;
	ws_work_item a, b;

	(void)state;
	ws_workqueue_init(&q);
	offer(&q, "ws-a-001", "{\"v\":1}", 0, 0);
	offer(&q, "ws-a-001", "{\"v\":2}", 0, 0); /* coalesced: still one key */
	offer(&q, "ws-b-001", "{\"v\":1}", 0, 0);
	assert_int_equal(ws_workqueue_take(&q, &a), 0);
	assert_string_equal(a.id, "ws-a-001");
	assert_string_equal(a.text, "{\"v\":2}");
	assert_string_equal(a.uid, "uid-1");
	assert_false(a.finalizer);
	/* a changes while a worker has it: not handed out again */
	offer(&q, "ws-a-001", "{\"v\":3}", 1, 0);
	assert_int_equal(ws_workqueue_take(&q, &b), 0);
	assert_string_equal(b.id, "ws-b-001");
	ws_workqueue_done(&q, &b, 1, 0);
	ws_work_item_release(&b);
	assert_false(ws_workqueue_idle(&q)); /* a is still being worked on */
	/* ... and once its worker is done, it is queued again with the change */
	ws_workqueue_done(&q, &a, 1, 0);
	ws_work_item_release(&a);
	assert_false(ws_workqueue_idle(&q));
	assert_int_equal(ws_workqueue_take(&q, &a), 0);
	assert_string_equal(a.id, "ws-a-001");
	assert_string_equal(a.text, "{\"v\":3}");
	assert_string_equal(a.converged, "{\"v\":2}"); /* what the events compare with */
	assert_true(a.finalizer);
	ws_workqueue_done(&q, &a, 1, 0);
	ws_work_item_release(&a);
	assert_true(ws_workqueue_idle(&q));
	ws_workqueue_release(&q);
}

static void test_converged_not_queued(void **state)
{
	ws_workqueue q;
	ws_work_item it;
	cJSON *cm;

	(void)state;
	ws_workqueue_init(&q);
	offer(&q, "ws-a-001", "{\"v\":1}", 1, 0);
	assert_int_equal(ws_workqueue_take(&q, &it), 0);
	ws_workqueue_done(&q, &it, 1, 0);
	ws_work_item_release(&it);
	/* its own status write comes back as an event: nothing to do */
	offer(&q, "ws-a-001", "{\"v\":1}", 1, 0);
	assert_true(ws_workqueue_idle(&q));
	/* the resync forces it */
	offer(&q, "ws-a-001", "{\"v\":1}", 1, 1);
	assert_false(ws_workqueue_idle(&q));
	assert_int_equal(ws_workqueue_take(&q, &it), 0);
	/* a failed reconcile of a change keeps the last converged text */
	ws_workqueue_done(&q, &it, 0, 0);
	ws_work_item_release(&it);
	offer(&q, "ws-a-001", "{\"v\":2}", 1, 0);
	assert_false(ws_workqueue_idle(&q));
	assert_int_equal(ws_workqueue_take(&q, &it), 0);
	assert_string_equal(it.converged, "{\"v\":1}");
	ws_workqueue_done(&q, &it, 0, 0);
	ws_work_item_release(&it);
	offer(&q, "ws-a-001", "{\"v\":2}", 1, 0); /* still not converged: queued */
	assert_false(ws_workqueue_idle(&q));
	assert_int_equal(ws_workqueue_take(&q, &it), 0);
	ws_workqueue_done(&q, &it, 1, 0);
	ws_work_item_release(&it);
	offer(&q, "ws-a-001", "{\"v\":1}", 1, 0);
	assert_int_equal(ws_workqueue_take(&q, &it), 0);
	ws_workqueue_done(&q, &it, 1, 0);
	ws_work_item_release(&it);
	/* a record without the finalizer needs it put on */
	offer(&q, "ws-a-001", "{\"v\":1}", 0, 0);
	assert_false(ws_workqueue_idle(&q));
	assert_int_equal(ws_workqueue_take(&q, &it), 0);
	ws_workqueue_done(&q, &it, 1, 0);
	ws_work_item_release(&it);
	/* being deleted, or gone: always work */
	cm = record("ws-a-001", "{\"v\":1}", 1, 1);
	ws_workqueue_offer(&q, cm, 0, 0);
	assert_int_equal(ws_workqueue_take(&q, &it), 0);
	assert_true(it.deleting);
	assert_false(it.gone);
	ws_workqueue_done(&q, &it, 1, 0);
	ws_work_item_release(&it);
	ws_workqueue_offer(&q, cm, 1, 0);
	assert_int_equal(ws_workqueue_take(&q, &it), 0);
	assert_true(it.gone);
	ws_workqueue_done(&q, &it, 1, 0);
	ws_work_item_release(&it);
	cJSON_Delete(cm);
	ws_workqueue_release(&q);
}

static void test_failure_backoff(void **state)
{
	ws_workqueue q;
	ws_work_item it;
	long long now = 10000, waits[] = {1000, 2000, 4000, 8000};
	size_t i;

	(void)state;
	ws_workqueue_init(&q);
	offer(&q, "ws-a-001", "{}", 1, 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(ws_workqueue_take(&q, &it), 0);
		ws_workqueue_done(&q, &it, 0, now);
		ws_work_item_release(&it);
		assert_int_equal(ws_workqueue_retry_due(&q, now + waits[i] - 1), 0);
		assert_true(ws_workqueue_idle(&q));
		now += waits[i];
		assert_int_equal(ws_workqueue_retry_due(&q, now), 1);
		assert_false(ws_workqueue_idle(&q));
	}
	/* success resets it: no retry pending */
	assert_int_equal(ws_workqueue_take(&q, &it), 0);
	ws_workqueue_done(&q, &it, 1, now);
	ws_work_item_release(&it);
	assert_int_equal(ws_workqueue_retry_due(&q, now + 10000000), 0);
	/* the backoff is capped at 5 minutes */
	for (i = 0; i < 12; i++) {
		offer(&q, "ws-a-001", "{}", 1, 1);
		assert_int_equal(ws_workqueue_take(&q, &it), 0);
		ws_workqueue_done(&q, &it, 0, now);
		ws_work_item_release(&it);
	}
	assert_int_equal(ws_workqueue_retry_due(&q, now + 300000 - 1), 0);
	assert_int_equal(ws_workqueue_retry_due(&q, now + 300000), 1);
	ws_workqueue_release(&q);
}

static void test_drop_and_stop(void **state)
{
	ws_workqueue q;
	ws_work_item it;
	char id[32];
	int i;

	(void)state;
	ws_workqueue_init(&q);
	for (i = 0; i < 300; i++) { /* grows past the first allocation */
		snprintf(id, sizeof(id), "ws-n-%03d", i);
		offer(&q, id, "{}", 1, 0);
	}
	assert_int_equal(ws_workqueue_take(&q, &it), 0);
	assert_string_equal(it.id, "ws-n-000");
	ws_work_item_release(&it);
	ws_workqueue_drop_waiting(&q);
	offer(&q, "ws-n-299", "{}", 1, 0); /* dropped keys can be queued again */
	assert_int_equal(ws_workqueue_take(&q, &it), 0);
	assert_string_equal(it.id, "ws-n-299");
	ws_work_item_release(&it);
	ws_workqueue_stop(&q);
	assert_int_equal(ws_workqueue_take(&q, &it), -1);
	ws_workqueue_release(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_worker_per_key),
		cmocka_unit_test(test_converged_not_queued),
		cmocka_unit_test(test_failure_backoff),
		cmocka_unit_test(test_drop_and_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
