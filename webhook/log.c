/* log.c - JSON log lines on stderr (see log.h). */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"

#define LINE_MAX_BYTES 16384
#define FIELD_MAX 1024
#define QUEUE_MAX ((size_t)4 << 20)
#define FLUSH_AT ((size_t)64 << 10)
/* A queue that grew past this while the writer was held up is freed once
 * written, so a burst does not keep its memory (main.c maps such buffers
 * separately, so freeing returns them to the system). */
#define KEEP_MAX ((size_t)256 << 10)
#define FLUSH_MS 50

static struct {
	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_t thread;
	ws_buf queue, writing;
	unsigned long dropped;
	int running, stopping;
} Q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

/* {"time":"2024-05-01T12:00:00.123Z","level":"info" -- the seconds part is
 * formatted once a second per thread. */
static int head(ws_buf *b, const char *level)
{
	static __thread time_t cached_sec = -1;
	static __thread char cached[24];
	struct timespec ts;
	char ms[8];
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = ts.tv_sec;
	}
	ms[0] = '.';
	ms[1] = (char)('0' + ts.tv_nsec / 100000000);
	ms[2] = (char)('0' + ts.tv_nsec / 10000000 % 10);
	ms[3] = (char)('0' + ts.tv_nsec / 1000000 % 10);
	memcpy(ms + 4, "Z\"", 3);
	return ws_buf_adds(b, "{\"time\":\"", NULL) || ws_buf_adds(b, cached, NULL) ||
	       ws_buf_adds(b, ms, NULL) || ws_buf_adds(b, ",\"level\":", NULL) ||
	       ws_json_quote(b, level, NULL);
}

static void write_all(const char *p, size_t left)
{
	while (left > 0) {
		ssize_t n = write(STDERR_FILENO, p, left);

		if (n <= 0)
			break;
		p += n;
		left -= (size_t)n;
	}
}

/* Queue a complete line (or write it when no writer runs). */
static void emit(const ws_buf *b)
{
	pthread_mutex_lock(&Q.mu);
	if (!Q.running) {
		pthread_mutex_unlock(&Q.mu);
		write_all(b->data, b->len);
		return;
	}
	if (ws_buf_add(&Q.queue, b->data, b->len, NULL))
		Q.dropped++;
	else if (Q.queue.len >= FLUSH_AT)
		pthread_cond_signal(&Q.wake);
	pthread_mutex_unlock(&Q.mu);
}

static void *writer(void *arg)
{
	char note[128];

	(void)arg;
	pthread_mutex_lock(&Q.mu);
	for (;;) {
		struct timespec until;
		unsigned long dropped;
		ws_buf swap;

		if (!Q.stopping && Q.queue.len < FLUSH_AT) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += FLUSH_MS * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&Q.wake, &Q.mu, &until);
		}
		if (Q.stopping && !Q.queue.len)
			break;
		/* write outside the lock: requests keep queueing meanwhile */
		swap = Q.writing;
		Q.writing = Q.queue;
		Q.queue = swap;
		dropped = Q.dropped;
		Q.dropped = 0;
		pthread_mutex_unlock(&Q.mu);
		write_all(Q.writing.data, Q.writing.len);
		if (Q.writing.cap > KEEP_MAX)
			ws_buf_release(&Q.writing);
		else
			ws_buf_reset(&Q.writing);
		if (dropped) {
			snprintf(note, sizeof(note),
				 "{\"level\":\"warn\",\"msg\":\"log output was blocked: %lu lines "
				 "dropped\"}\n",
				 dropped);
			write_all(note, strlen(note));
		}
		pthread_mutex_lock(&Q.mu);
	}
	pthread_mutex_unlock(&Q.mu);
	return NULL;
}

int wh_log_start(void)
{
	ws_buf_init(&Q.queue, QUEUE_MAX);
	ws_buf_init(&Q.writing, QUEUE_MAX);
	Q.stopping = 0;
	if (pthread_create(&Q.thread, NULL, writer, NULL) != 0)
		return -1;
	pthread_mutex_lock(&Q.mu);
	Q.running = 1;
	pthread_mutex_unlock(&Q.mu);
	return 0;
}

void wh_log_stop(void)
{
	pthread_mutex_lock(&Q.mu);
	if (!Q.running) {
		pthread_mutex_unlock(&Q.mu);
		return;
	}
	Q.stopping = 1;
	Q.running = 0; /* lines from now on are written at once */
	pthread_cond_signal(&Q.wake);
	pthread_mutex_unlock(&Q.mu);
	pthread_join(Q.thread, NULL);
	ws_buf_release(&Q.queue);
	ws_buf_release(&Q.writing);
}

/* ,"key":"value" -- values come from requests: cut them so that one line
 * stays one line. key is a literal that needs no escaping. */
static int field(ws_buf *b, const char *key, const char *value)
{
	char cut[FIELD_MAX + 4];

	if (!value)
		value = "";
	if (strlen(value) > FIELD_MAX) {
		memcpy(cut, value, FIELD_MAX);
		memcpy(cut + FIELD_MAX, "...", 4);
		value = cut;
	}
	return ws_buf_adds(b, ",\"", NULL) || ws_buf_adds(b, key, NULL) ||
	       ws_buf_adds(b, "\":", NULL) || ws_json_quote(b, value, NULL);
}

void wh_log_decision(ws_buf *b, const char *webhook, const ws_admission_request *req,
		     const wh_decision *d, long us)
{
	char num[32];

	ws_buf_reset(b);
	snprintf(num, sizeof(num), ",\"us\":%ld}\n", us);
	if (head(b, d->outcome == WH_DENIED && d->code >= 500 ? "error" : "info") ||
	    field(b, "msg", "admission") || field(b, "webhook", webhook) ||
	    field(b, "uid", req->uid) || field(b, "kind", req->kind) ||
	    field(b, "namespace", req->namespace) || field(b, "name", req->name) ||
	    field(b, "operation", req->operation) || field(b, "user", req->username) ||
	    ws_buf_adds(b, req->dry_run ? ",\"dryRun\":true" : ",\"dryRun\":false", NULL) ||
	    field(b, "decision", wh_outcome_name(d->outcome)) || field(b, "reason", d->message) ||
	    ws_buf_adds(b, num, NULL))
		return;
	emit(b);
}

void wh_log_refused(ws_buf *b, const char *method, const char *path, int status,
		    const char *reason, const char *message, const char *remote)
{
	char num[32];

	ws_buf_reset(b);
	snprintf(num, sizeof(num), ",\"status\":%d", status);
	if (head(b, status >= 500 ? "error" : "warn") || field(b, "msg", "refused") ||
	    field(b, "method", method) || field(b, "path", path) || ws_buf_adds(b, num, NULL) ||
	    field(b, "reason", reason) || field(b, "message", message) ||
	    field(b, "remote", remote) || ws_buf_adds(b, "}\n", NULL))
		return;
	emit(b);
}

/* {"time","level","msg"} with msg printf-formatted; 0, or -1 when it did not fit. */
static int format_line(ws_buf *b, const char *level, const char *fmt, va_list ap)
{
	char msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return head(b, level) || field(b, "msg", msg) || ws_buf_adds(b, "}\n", NULL) ? -1 : 0;
}

void wh_log_fatal(const char *fmt, ...)
{
	ws_buf b = WS_BUF_INIT(LINE_MAX_BYTES);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = format_line(&b, "error", fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&Q.mu);
	write_all(Q.queue.data, Q.queue.len);
	ws_buf_reset(&Q.queue);
	if (rc == 0)
		write_all(b.data, b.len);
	pthread_mutex_unlock(&Q.mu);
	ws_buf_release(&b);
}

void wh_log(const char *level, const char *fmt, ...)
{
	ws_buf b = WS_BUF_INIT(LINE_MAX_BYTES);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = format_line(&b, level, fmt, ap);
	va_end(ap);
	if (rc == 0)
		emit(&b);
	ws_buf_release(&b);
}
