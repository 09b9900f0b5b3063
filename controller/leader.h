/* leader.h - the controller's leader election: shared/election.h over the
 * Lease in the system namespace, renewed by a thread of its own every
 * retry period, whatever the reconcile workers are doing. */
#ifndef CTL_LEADER_H
#define CTL_LEADER_H

#include <pthread.h>

#include "election.h"
#include "k8s.h"

typedef struct ctl_leader {
	ws_election election;
	ws_k8s *k8s;        /* borrowed; a connection of its own, without write guard */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
} ctl_leader;

/* Start electing (and renewing) in a thread. k8s is borrowed. */
int ctl_leader_start(ctl_leader *l, ws_k8s *k8s, const char *ns, const char *name,
		     const char *identity, long lease_seconds, ws_err *err);

/* 1 while this replica leads (ws_election_leading). */
int ctl_leader_leading(ctl_leader *l);

/* Stop the thread and give the lease up when holding it. */
void ctl_leader_stop(ctl_leader *l);

#endif
