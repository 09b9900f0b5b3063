/* log.h - structured logs of workspace-webhook: one JSON object per line on
 * stderr, written with a single write(2) so lines from the server's threads
 * never interleave. Decisions carry the request's identity and outcome,
 * never object bodies, patches or key material.
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

/* {"time","level","msg"} with msg printf-formatted; level "info", "warn", "error". */
void wh_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
