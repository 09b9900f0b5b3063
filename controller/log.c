/* log.c - JSON log lines on stderr (see log.h). */
#include "log.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void ctl_log(const char *level, const char *workspace, const char *fmt, ...)
{
	cJSON *line = cJSON_CreateObject();
	char msg[2048], when[40];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	char *text;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + 19, sizeof(when) - 19, ".%03ldZ", ts.tv_nsec / 1000000);
	cJSON_AddStringToObject(line, "time", when);
	cJSON_AddStringToObject(line, "level", level);
	if (workspace && *workspace)
		cJSON_AddStringToObject(line, "workspace", workspace);
	cJSON_AddStringToObject(line, "msg", msg);
	text = cJSON_PrintUnformatted(line);
	pthread_mutex_lock(&lock);
	fprintf(stderr, "%s\n", text ? text : msg);
	fflush(stderr);
	pthread_mutex_unlock(&lock);
	free(text);
	cJSON_Delete(line);
}
