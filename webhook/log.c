/* log.c - JSON log lines on stderr (see log.h). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384
#define FIELD_MAX 1024

/* {"time":"2024-05-01T12:00:00.123Z","level":"info" */
static int head(ws_buf *b, const char *level)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	return ws_buf_printf(b, NULL, "{\"time\":\"%s.%03ldZ\",\"level\":", when,
			     ts.tv_nsec / 1000000) ||
	       ws_json_quote(b, level, NULL);
}

static void emit(ws_buf *b)
{
	const char *p = b->data;
	size_t left = b->len;

	while (left > 0) {
		ssize_t n = write(STDERR_FILENO, p, left);

		if (n <= 0)
			break;
		p += n;
		left -= (size_t)n;
	}
}

/* Values come from requests: cut them so that one line stays one line. */
static int field(ws_buf *b, const char *key, const char *value)
{
	char cut[FIELD_MAX + 4];
	size_t n = value ? strlen(value) : 0;

	if (n > FIELD_MAX) {
		memcpy(cut, value, FIELD_MAX);
		memcpy(cut + FIELD_MAX, "...", 4);
		value = cut;
	}
	return ws_buf_printf(b, NULL, ",\"%s\":", key) || ws_json_quote(b, value ? value : "", NULL);
}

void wh_log_decision(const char *webhook, const ws_admission_request *req, const wh_decision *d,
		     long us)
{
	ws_buf b = WS_BUF_INIT(LINE_MAX_BYTES);

	if (head(&b, d->outcome == WH_DENIED && d->code >= 500 ? "error" : "info") ||
	    field(&b, "msg", "admission") || field(&b, "webhook", webhook) ||
	    field(&b, "uid", req->uid) || field(&b, "kind", req->kind) ||
	    field(&b, "namespace", req->namespace) || field(&b, "name", req->name) ||
	    field(&b, "operation", req->operation) || field(&b, "user", req->username) ||
	    ws_buf_printf(&b, NULL, ",\"dryRun\":%s", req->dry_run ? "true" : "false") ||
	    field(&b, "decision", wh_outcome_name(d->outcome)) ||
	    field(&b, "reason", d->message) || ws_buf_printf(&b, NULL, ",\"us\":%ld}\n", us))
		goto out;
	emit(&b);
out:
	ws_buf_release(&b);
}

void wh_log(const char *level, const char *fmt, ...)
{
	ws_buf b = WS_BUF_INIT(LINE_MAX_BYTES);
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (head(&b, level) || field(&b, "msg", msg) || ws_buf_adds(&b, "}\n", NULL))
		goto out;
	emit(&b);
out:
	ws_buf_release(&b);
}
