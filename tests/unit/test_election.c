/* test_election.c - leader election (shared/election.h) with a fake clock
 * and a fake Lease store that behaves like the API server (resourceVersion
 * guarded updates, 409 on conflict, injectable failures). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "election.h"
#include "json.h"

struct fake {
	long long now;    /* monotonic ms */
	time_t wall;      /* this node's wall clock */
	cJSON *lease;     /* the stored lease, or NULL */
	long rv;
	int fail;         /* every call fails with 503 while set */
	int writes;       /* successful creates and updates */
};

static long long fake_now(void *ctx)
{
	return ((struct fake *)ctx)->now;
}

static time_t fake_wall(void *ctx)
{
	return ((struct fake *)ctx)->wall;
}

static void store_set(struct fake *f, const cJSON *lease)
{
	char rv[32];

	cJSON_Delete(f->lease);
	f->lease = cJSON_Duplicate(lease, 1);
	snprintf(rv, sizeof(rv), "%ld", ++f->rv);
	ws_json_set_str(cJSON_GetObjectItem(f->lease, "metadata"), "resourceVersion", rv);
	f->writes++;
}

static int fake_get(void *ctx, cJSON **lease, ws_err *err)
{
	struct fake *f = ctx;

	if (f->fail)
		return ws_fail_http(err, 503, "ServiceUnavailable", "unavailable");
	if (!f->lease)
		return ws_fail_http(err, 404, "NotFound", "not found");
	*lease = cJSON_Duplicate(f->lease, 1);
	return 0;
}

static int fake_create(void *ctx, const cJSON *lease, cJSON **out, ws_err *err)
{
	struct fake *f = ctx;

	if (f->fail)
		return ws_fail_http(err, 503, "ServiceUnavailable", "unavailable");
	if (f->lease)
		return ws_fail_http(err, 409, "AlreadyExists", "exists");
	store_set(f, lease);
	*out = cJSON_Duplicate(f->lease, 1);
	return 0;
}

static int fake_update(void *ctx, const cJSON *lease, cJSON **out, ws_err *err)
{
	struct fake *f = ctx;
	const char *rv = ws_json_str(lease, "metadata", "resourceVersion", NULL);

	if (f->fail)
		return ws_fail_http(err, 503, "ServiceUnavailable", "unavailable");
	if (!f->lease || !rv ||
	    strcmp(rv, ws_json_str(f->lease, "metadata", "resourceVersion", NULL)) != 0)
		return ws_fail_http(err, 409, "Conflict", "the object has been modified");
	store_set(f, lease);
	if (out)
		*out = cJSON_Duplicate(f->lease, 1);
	return 0;
}

/* Someone else writes the lease (as another replica would). */
static void other_holds(struct fake *f, const char *holder, const char *renew_time)
{
	cJSON *l = cJSON_CreateObject(), *meta, *spec;

	meta = cJSON_AddObjectToObject(l, "metadata");
	cJSON_AddStringToObject(meta, "name", "workspace-controller");
	spec = cJSON_AddObjectToObject(l, "spec");
	cJSON_AddStringToObject(spec, "holderIdentity", holder);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", 15);
	cJSON_AddStringToObject(spec, "renewTime", renew_time);
	cJSON_AddNumberToObject(spec, "leaseTransitions", 3);
	store_set(f, l);
	cJSON_Delete(l);
}

static void start(ws_election *e, struct fake *f, const char *identity)
{
	ws_lease_store store = {fake_get, fake_create, fake_update, f};
	ws_clock clock = {fake_now, fake_wall, f};

	ws_election_init(e, identity, "workspace-system", "workspace-controller", 15, &store,
			 &clock);
}

static const char *holder(const struct fake *f)
{
	return ws_json_str(f->lease, "spec", "holderIdentity", NULL);
}

static void test_acquire_and_renew(void **state)
{
	struct fake f = {.now = 1000, .wall = 1700000000};
	ws_election e;
	int i, writes;

	(void)state;
	start(&e, &f, "a");
	assert_int_equal(e.renew_deadline_ms, 10000);
	assert_int_equal(e.retry_ms, 3000);
	assert_int_equal(ws_election_try(&e, NULL), 1);
	assert_string_equal(holder(&f), "a");
	assert_string_equal(ws_json_str(f.lease, "spec", "renewTime", NULL),
			    "2023-11-14T22:13:20.000000Z");
	/* renewing every retry period keeps leadership well past the lease duration */
	for (i = 0; i < 20; i++) {
		f.now += e.retry_ms;
		f.wall += 3;
		writes = f.writes;
		assert_int_equal(ws_election_try(&e, NULL), 1);
		assert_int_equal(f.writes, writes + 1);
		assert_true(ws_election_leading(&e));
	}
	assert_string_equal(holder(&f), "a");
	assert_string_equal(ws_json_str(f.lease, "spec", "renewTime", NULL),
			    "2023-11-14T22:14:20.000000Z");
	assert_int_equal(cJSON_GetNumberValue(ws_json_get(f.lease, "spec", "leaseTransitions", NULL)),
			 0);
	ws_election_release(&e);
	cJSON_Delete(f.lease);
}

static void test_lost_on_failed_renew(void **state)
{
	struct fake f = {.now = 1000, .wall = 1700000000};
	ws_err err;
	ws_election e;

	(void)state;
	start(&e, &f, "a");
	assert_int_equal(ws_election_try(&e, NULL), 1);
	f.fail = 1;
	f.now += 3000;
	/* one failed renewal within the deadline: still leading */
	assert_int_equal(ws_election_try(&e, &err), 1);
	assert_int_equal(err.code, 503);
	f.now += 6999; /* 9.999 s after the last successful renewal started */
	assert_true(ws_election_leading(&e));
	assert_int_equal(ws_election_guard(&e, NULL), 0);
	f.now += 1; /* the renew deadline: lost, whether or not a renewal is tried */
	assert_false(ws_election_leading(&e));
	assert_int_equal(ws_election_try(&e, NULL), 0);
	/* and it is not regained by itself: the next successful try is a fresh take */
	f.now += 1000;
	assert_false(ws_election_leading(&e));
	ws_election_release(&e);
	cJSON_Delete(f.lease);
}

static void test_no_write_after_loss(void **state)
{
	struct fake f = {.now = 1000, .wall = 1700000000};
	ws_election e;
	ws_err err;

	(void)state;
	start(&e, &f, "a");
	assert_int_equal(ws_election_try(&e, NULL), 1);
	assert_int_equal(ws_election_guard(&e, &err), 0);
	f.now += e.renew_deadline_ms; /* no renewal happened: lost */
	assert_int_equal(ws_election_guard(&e, &err), -1);
	assert_string_equal(err.msg, "not the leader (lease 'workspace-controller' lost): write not sent");
	/* another replica takes the lease: a renewal then sees it is gone and stays out */
	other_holds(&f, "b", "2023-11-14T22:13:30.000000Z");
	assert_int_equal(ws_election_try(&e, &err), 0);
	assert_int_equal(err.kind, WS_E_CONFLICT);
	assert_int_equal(ws_election_guard(&e, NULL), -1);
	assert_string_equal(holder(&f), "b");
	ws_election_release(&e);
	cJSON_Delete(f.lease);
}

static void test_taken_by_other_while_leading(void **state)
{
	struct fake f = {.now = 1000, .wall = 1700000000};
	ws_election e;

	(void)state;
	start(&e, &f, "a");
	assert_int_equal(ws_election_try(&e, NULL), 1);
	other_holds(&f, "b", "2023-11-14T22:13:21.000000Z");
	f.now += 100;
	assert_int_equal(ws_election_try(&e, NULL), 0);
	assert_false(ws_election_leading(&e));
	ws_election_release(&e);
	cJSON_Delete(f.lease);
}

static void test_take_over_after_expiry(void **state)
{
	struct fake f = {.now = 50000, .wall = 1700000000};
	ws_election e;
	int writes;

	(void)state;
	other_holds(&f, "b", "2023-11-14T22:13:20.000000Z");
	start(&e, &f, "a");
	writes = f.writes;
	assert_int_equal(ws_election_try(&e, NULL), 0);
	/* b keeps renewing: a stays out however long it waits */
	f.now += 14000;
	other_holds(&f, "b", "2023-11-14T22:13:34.000000Z");
	writes = f.writes;
	f.now += 14000;
	assert_int_equal(ws_election_try(&e, NULL), 0);
	assert_int_equal(f.writes, writes); /* a follower writes nothing */
	/* b stops: a last saw a change just now (the renewal above); 15 s
	 * later, and not before, it takes over */
	f.now += 14999;
	assert_int_equal(ws_election_try(&e, NULL), 0);
	assert_int_equal(f.writes, writes);
	f.now += 1;
	assert_int_equal(ws_election_try(&e, NULL), 1);
	assert_string_equal(holder(&f), "a");
	assert_int_equal(cJSON_GetNumberValue(ws_json_get(f.lease, "spec", "leaseTransitions", NULL)),
			 4);
	ws_election_release(&e);
	cJSON_Delete(f.lease);
}

/* The holder's renewTime says nothing to a follower: a time far in the
 * past (the holder's clock is behind) does not make the lease expired, and
 * one far in the future (ahead) does not keep it alive. */
static void test_skewed_renew_time(void **state)
{
	struct fake f = {.now = 1000, .wall = 1700000000};
	ws_election e;

	(void)state;
	other_holds(&f, "b", "2001-01-01T00:00:00.000000Z");
	start(&e, &f, "a");
	assert_int_equal(ws_election_try(&e, NULL), 0);
	f.now += 14999;
	assert_int_equal(ws_election_try(&e, NULL), 0);
	f.now += 1;
	assert_int_equal(ws_election_try(&e, NULL), 1);
	ws_election_release(&e);

	other_holds(&f, "b", "2099-01-01T00:00:00.000000Z");
	start(&e, &f, "c");
	assert_int_equal(ws_election_try(&e, NULL), 0);
	f.now += 15000;
	assert_int_equal(ws_election_try(&e, NULL), 1);
	assert_string_equal(holder(&f), "c");
	ws_election_release(&e);
	cJSON_Delete(f.lease);
}

static void test_resign(void **state)
{
	struct fake f = {.now = 1000, .wall = 1700000000};
	ws_election a, b;

	(void)state;
	start(&a, &f, "a");
	start(&b, &f, "b");
	assert_int_equal(ws_election_try(&a, NULL), 1);
	assert_int_equal(ws_election_try(&b, NULL), 0);
	ws_election_resign(&a);
	assert_false(ws_election_leading(&a));
	assert_string_equal(holder(&f), "");
	/* a free lease is taken at once */
	assert_int_equal(ws_election_try(&b, NULL), 1);
	ws_election_release(&a);
	ws_election_release(&b);
	cJSON_Delete(f.lease);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acquire_and_renew),
		cmocka_unit_test(test_lost_on_failed_renew),
		cmocka_unit_test(test_no_write_after_loss),
		cmocka_unit_test(test_taken_by_other_while_leading),
		cmocka_unit_test(test_take_over_after_expiry),
		cmocka_unit_test(test_skewed_renew_time),
		cmocka_unit_test(test_resign),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
