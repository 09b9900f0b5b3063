/* metrics.c - counters, histogram and gauges for /metrics (see metrics.h). */
#include "metrics.h"

#include <stdatomic.h>

#include "budget.h"

#define NMODE 2
#define NOP 4
#define NBUCKET 12

static const double bucket_le[NBUCKET] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
					  0.01,   0.025,   0.05,   0.1,   0.5,    1.0};
static const char *const mode_names[NMODE] = {"mutate", "validate"};
static const char *const op_names[NOP] = {"CREATE", "UPDATE", "DELETE", "CONNECT"};
static const int error_codes[] = {400, 404, 405, 413, 415, 429, 431, 500};
#define NERR (sizeof(error_codes) / sizeof(error_codes[0]))

static atomic_ulong requests[NMODE][WH_KIND_COUNT][NOP][WH_OUTCOME_COUNT];
static atomic_ulong buckets[NMODE][NBUCKET];
static atomic_ulong count[NMODE];
static atomic_ulong sum_us[NMODE];
static atomic_ulong http_errors[NERR];
static atomic_long in_flight;
static atomic_ulong timed_out;
static atomic_ulong refused;
static atomic_llong cert_not_after;
static atomic_ulong cert_reloads[2];

void wh_metrics_decision(enum wh_mode mode, enum wh_kind kind, enum ws_admission_op op,
			 enum wh_outcome outcome, uint64_t us)
{
	double s = (double)us / 1e6;
	size_t b;

	atomic_fetch_add_explicit(&requests[mode][kind][op][outcome], 1, memory_order_relaxed);
	for (b = 0; b < NBUCKET && s > bucket_le[b]; b++)
		;
	/* Stored per bucket, summed into cumulative counts when rendered. */
	if (b < NBUCKET)
		atomic_fetch_add_explicit(&buckets[mode][b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&count[mode], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sum_us[mode], us, memory_order_relaxed);
}

void wh_metrics_http_error(int code)
{
	size_t i;

	for (i = 0; i < NERR; i++)
		if (error_codes[i] == code)
			atomic_fetch_add_explicit(&http_errors[i], 1, memory_order_relaxed);
}

void wh_metrics_connection_timed_out(void)
{
	atomic_fetch_add_explicit(&timed_out, 1, memory_order_relaxed);
}

unsigned long wh_metrics_connection_refused(void)
{
	return atomic_fetch_add_explicit(&refused, 1, memory_order_relaxed) + 1;
}

void wh_metrics_in_flight(int delta)
{
	atomic_fetch_add_explicit(&in_flight, delta, memory_order_relaxed);
}

long wh_metrics_in_flight_now(void)
{
	return atomic_load_explicit(&in_flight, memory_order_relaxed);
}

void wh_metrics_cert_expiry(int64_t not_after)
{
	atomic_store_explicit(&cert_not_after, not_after, memory_order_relaxed);
}

void wh_metrics_cert_reload(int ok)
{
	atomic_fetch_add_explicit(&cert_reloads[ok ? 0 : 1], 1, memory_order_relaxed);
}

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static int render_requests(ws_buf *o, ws_err *err)
{
	size_t m, k, op, d;

	if (ws_buf_adds(o, "# HELP workspace_webhook_admission_requests_total Admission decisions "
			   "by webhook, kind, operation and decision.\n"
			   "# TYPE workspace_webhook_admission_requests_total counter\n", err))
		return -1;
	for (m = 0; m < NMODE; m++)
		for (k = 0; k < WH_KIND_COUNT; k++)
			for (op = 0; op < NOP; op++)
				for (d = 0; d < WH_OUTCOME_COUNT; d++)
					if (ws_buf_printf(o, err,
							  "workspace_webhook_admission_requests_total{webhook=\"%s\","
							  "kind=\"%s\",operation=\"%s\",decision=\"%s\"} %lu\n",
							  mode_names[m], wh_kind_name((enum wh_kind)k),
							  op_names[op], wh_outcome_name((enum wh_outcome)d),
							  LOAD(requests[m][k][op][d])))
						return -1;
	return 0;
}

static int render_histogram(ws_buf *o, ws_err *err)
{
	size_t m, b;

	if (ws_buf_adds(o, "# HELP workspace_webhook_admission_duration_seconds Time from the "
			   "request's headers to its decision.\n"
			   "# TYPE workspace_webhook_admission_duration_seconds histogram\n", err))
		return -1;
	for (m = 0; m < NMODE; m++) {
		unsigned long cum = 0, n = LOAD(count[m]);

		for (b = 0; b < NBUCKET; b++) {
			cum += LOAD(buckets[m][b]);
			if (ws_buf_printf(o, err,
					  "workspace_webhook_admission_duration_seconds_bucket{webhook=\"%s\","
					  "le=\"%g\"} %lu\n",
					  mode_names[m], bucket_le[b], cum))
				return -1;
		}
		/* count was read before the buckets: never below the last bucket */
		if (n < cum)
			n = cum;
		if (ws_buf_printf(o, err,
				  "workspace_webhook_admission_duration_seconds_bucket{webhook=\"%s\","
				  "le=\"+Inf\"} %lu\n"
				  "workspace_webhook_admission_duration_seconds_sum{webhook=\"%s\"} %.6f\n"
				  "workspace_webhook_admission_duration_seconds_count{webhook=\"%s\"} %lu\n",
				  mode_names[m], n, mode_names[m], (double)LOAD(sum_us[m]) / 1e6,
				  mode_names[m], n))
			return -1;
	}
	return 0;
}

int wh_metrics_render(ws_buf *o, ws_err *err)
{
	size_t i;

	if (render_requests(o, err) || render_histogram(o, err) ||
	    ws_buf_adds(o, "# HELP workspace_webhook_http_errors_total Requests refused before a "
			   "decision, by HTTP status.\n"
			   "# TYPE workspace_webhook_http_errors_total counter\n", err))
		return -1;
	for (i = 0; i < NERR; i++)
		if (ws_buf_printf(o, err, "workspace_webhook_http_errors_total{code=\"%d\"} %lu\n",
				  error_codes[i], LOAD(http_errors[i])))
			return -1;
	return ws_buf_printf(
		o, err,
		"# HELP workspace_webhook_requests_in_flight Requests received and not yet answered.\n"
		"# TYPE workspace_webhook_requests_in_flight gauge\n"
		"workspace_webhook_requests_in_flight %ld\n"
		"# HELP workspace_webhook_connections_timed_out_total Connections closed because a "
		"request did not arrive within --read-timeout.\n"
		"# TYPE workspace_webhook_connections_timed_out_total counter\n"
		"workspace_webhook_connections_timed_out_total %lu\n"
		"# HELP workspace_webhook_connections_refused_total Connections closed at accept: "
		"--max-connections or --max-connections-per-client reached.\n"
		"# TYPE workspace_webhook_connections_refused_total counter\n"
		"workspace_webhook_connections_refused_total %lu\n"
		"# HELP workspace_webhook_review_memory_bytes Memory held for reviews in flight "
		"(bodies, parsed trees, replies), capped by --max-review-memory.\n"
		"# TYPE workspace_webhook_review_memory_bytes gauge\n"
		"workspace_webhook_review_memory_bytes %zu\n"
		"# HELP workspace_webhook_certificate_expiry_timestamp_seconds notAfter of the serving "
		"certificate in use.\n"
		"# TYPE workspace_webhook_certificate_expiry_timestamp_seconds gauge\n"
		"workspace_webhook_certificate_expiry_timestamp_seconds %lld\n"
		"# HELP workspace_webhook_certificate_reloads_total Reloads of the serving certificate "
		"after its files changed.\n"
		"# TYPE workspace_webhook_certificate_reloads_total counter\n"
		"workspace_webhook_certificate_reloads_total{result=\"success\"} %lu\n"
		"workspace_webhook_certificate_reloads_total{result=\"failure\"} %lu\n",
		LOAD(in_flight), LOAD(timed_out), LOAD(refused), wh_budget_held(), LOAD(cert_not_after), LOAD(cert_reloads[0]), LOAD(cert_reloads[1]));
}
