/* log.h - structured logs of workspace-webhook: one JSON object per line on
 * stderr. Decisions carry the request's identity and outcome, never object
 * bodies, patches or key material.
 *
 * Between wh_log_start and wh_log_stop, lines are queued and a writer
 * thread writes them in batches (every 50 ms, or as soon as 64 KiB are
 * queued), so a request costs no write(2) of its own; whole lines only,
 * so lines of different threads never interleave. When stderr blocks and
 * 4 MiB are queued, new lines are dropped and counted, and a line reporting
 * the count follows once writing resumes: a stuck log reader must not stall
 * admission. Outside start/stop, lines are written at once.
 */
#ifndef WH_LOG_H
#define WH_LOG_H

#include "admission.h"
#include "rules.h"

/* {"time","level":"info","msg":"admission","webhook","uid","kind","namespace",
 *  "name","operation","user","dryRun","decision","reason","us"}, built in
 * scratch (reset first; a buffer the caller reuses, so that logging
 * allocates nothing in the steady state). */
void wh_log_decision(ws_buf *scratch, const char *webhook, const ws_admission_request *req,
		     const wh_decision *d, long us);

/* {"time","level":"warn","msg":"refused","method","path","status","reason",
 *  "message","remote"} for a request answered with an HTTP error (level
 * "error" for 5xx): never its body. method and path NULL when unknown
 * (refused before its request line was read). scratch as above. */
void wh_log_refused(ws_buf *scratch, const char *method, const char *path, int status,
		    const char *reason, const char *message, const char *remote);

/* Start and stop the writer thread; stop writes what is queued. */
int wh_log_start(void);
void wh_log_stop(void);

/* {"time","level","msg"} with msg printf-formatted; level "info", "warn", "error". */
void wh_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like wh_log at level "error", for a process about to die: writes what is
 * queued, then this line, at once (not through the writer thread). */
void wh_log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
