/* metrics.h - the Prometheus metrics of workspace-webhook, served on
 * GET /metrics in the text exposition format:
 *
 *   workspace_webhook_admission_requests_total{webhook,kind,operation,decision}
 *   workspace_webhook_admission_duration_seconds{webhook} (histogram)
 *   workspace_webhook_http_errors_total{code}      requests refused before a decision
 *   workspace_webhook_requests_in_flight
 *   workspace_webhook_connections_timed_out_total  closed by --read-timeout
 *   workspace_webhook_connections_refused_total    closed at accept: a connection limit
 *   workspace_webhook_review_memory_bytes          held for reviews in flight (budget.h)
 *   workspace_webhook_connections                  open connections (added by server.c)
 *   workspace_webhook_certificate_expiry_timestamp_seconds
 *   workspace_webhook_certificate_reloads_total{result}
 *
 * Process-wide counters updated with relaxed atomics: safe from any thread.
 */
#ifndef WH_METRICS_H
#define WH_METRICS_H

#include <stdint.h>

#include "admission.h"
#include "buf.h"
#include "rules.h"

void wh_metrics_decision(enum wh_mode mode, enum wh_kind kind, enum ws_admission_op op,
			 enum wh_outcome outcome, uint64_t us);
/* A request answered with an HTTP error status (400, 404, 405, 413, 415,
 * 429, 431, 500; others are not counted). */
void wh_metrics_http_error(int code);
/* A connection closed because its request did not arrive in time. */
void wh_metrics_connection_timed_out(void);
/* A connection refused at accept; returns the count so far. */
unsigned long wh_metrics_connection_refused(void);
void wh_metrics_in_flight(int delta);
long wh_metrics_in_flight_now(void);
/* The serving certificate's notAfter (unix seconds), and reload outcomes. */
void wh_metrics_cert_expiry(int64_t not_after);
void wh_metrics_cert_reload(int ok);

/* Append the exposition text. */
int wh_metrics_render(ws_buf *out, ws_err *err);

#endif
