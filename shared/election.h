/* election.h - leader election on a coordination.k8s.io/v1 Lease, with
 * client-go's rules, apart from any transport so that it can be tested
 * with a fake clock and a fake store.
 *
 * - Expiry is judged on this process's monotonic clock: a lease held by
 *   someone else is taken over only when its record (resourceVersion and
 *   holder) has not changed for leaseDurationSeconds since this process
 *   last saw it change. The holder's renewTime is never compared with the
 *   local wall clock (clocks of different nodes disagree).
 * - The leader renews on its own timer (ws_election_try every retry_ms).
 * - Leadership lasts renew_deadline_ms (< the lease duration) from the
 *   start of the last successful renewal: a leader that cannot renew stops
 *   counting itself leader before anyone else may take the lease over.
 *   ws_election_leading is the check made before every write.
 *
 * Thread-safe: one thread renews while others ask ws_election_leading.
 */
#ifndef WS_ELECTION_H
#define WS_ELECTION_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <time.h>

#include "error.h"

/* Where the Lease lives. get: 0 and *lease (caller frees), or -1 with err
 * (WS_E_HTTP 404 when there is none). create / update: 0, and *out (caller
 * frees) the stored lease, or -1 with err (409 when someone else wrote it
 * first: update sends metadata.resourceVersion). */
typedef struct ws_lease_store {
	int (*get)(void *ctx, cJSON **lease, ws_err *err);
	int (*create)(void *ctx, const cJSON *lease, cJSON **out, ws_err *err);
	int (*update)(void *ctx, const cJSON *lease, cJSON **out, ws_err *err);
	void *ctx;
} ws_lease_store;

/* Clocks: now_ms monotonic (milliseconds), wall for the acquireTime and
 * renewTime written into the lease (information for people only). */
typedef struct ws_clock {
	long long (*now_ms)(void *ctx);
	time_t (*wall)(void *ctx);
	void *ctx;
} ws_clock;

/* The process's clocks (CLOCK_MONOTONIC and time()). */
extern const ws_clock ws_clock_system;

typedef struct ws_election {
	/* settings, read-only after init */
	char identity[128];
	char name[64];
	char ns[64];
	long long duration_ms;
	long long renew_deadline_ms;
	long long retry_ms;
	ws_lease_store store;
	ws_clock clock;
	/* state, under lock */
	pthread_mutex_t lock;
	char observed_rv[32];
	char observed_holder[128];
	long long observed_at;  /* monotonic ms when the record last changed */
	int leader;
	long long renewed_at;   /* monotonic ms when the last successful renewal started */
	long transitions;
} ws_election;

/* Prepare: duration_s is the lease duration; the renew deadline is two
 * thirds of it and the retry period a fifth (client-go's 15/10/2 s ratios). */
void ws_election_init(ws_election *e, const char *identity, const char *ns, const char *name,
		      long duration_s, const ws_lease_store *store, const ws_clock *clock);
void ws_election_release(ws_election *e);

/* One attempt to take or renew the lease. Returns 1 when this process
 * leads afterwards, 0 when not; err (may be NULL) says why an attempt
 * failed (a failed renewal does not end leadership before the deadline). */
int ws_election_try(ws_election *e, ws_err *err);

/* 1 while the last successful renewal started less than the renew
 * deadline ago and nobody else took the lease since. */
int ws_election_leading(ws_election *e);

/* A write guard (ws_http_target.write_guard) over ws_election_leading:
 * ctx is the ws_election; fails with "not the leader" when it does not lead. */
int ws_election_guard(void *ctx, ws_err *err);

/* Give the lease up when holding it (holder "" so that another replica
 * takes it at once); leadership ends at once either way. */
void ws_election_resign(ws_election *e);

#endif
