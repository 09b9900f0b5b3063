/* error.c - fill and extend ws_err messages (see error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ws_err_clear(ws_err *err)
{
	if (!err)
		return;
	err->kind = WS_E_NONE;
	err->code = 0;
	err->reason[0] = '\0';
	err->msg[0] = '\0';
}

static void vfill(ws_err *err, const char *fmt, va_list ap)
{
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int ws_fail(ws_err *err, enum ws_err_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->kind = kind;
	err->code = 0;
	err->reason[0] = '\0';
	va_start(ap, fmt);
	vfill(err, fmt, ap);
	va_end(ap);
	return -1;
}

int ws_fail_http(ws_err *err, int status, const char *reason, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->kind = WS_E_HTTP;
	err->code = status;
	snprintf(err->reason, sizeof(err->reason), "%s", reason ? reason : "");
	va_start(ap, fmt);
	vfill(err, fmt, ap);
	va_end(ap);
	return -1;
}

int ws_err_prefix(ws_err *err, const char *fmt, ...)
{
	char head[WS_ERR_MSG_MAX], old[WS_ERR_MSG_MAX];
	size_t n, rest;
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	n = strlen(head);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, head, n);
	memcpy(err->msg + n, ": ", 2);
	n += 2;
	rest = strlen(old);
	if (rest > sizeof(err->msg) - 1 - n)
		rest = sizeof(err->msg) - 1 - n;
	memcpy(err->msg + n, old, rest);
	err->msg[n + rest] = '\0';
	return -1;
}

int ws_err_append(ws_err *err, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (!err)
		return -1;
	n = strlen(err->msg);
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - n, fmt, ap);
	va_end(ap);
	return -1;
}

int ws_err_is_http(const ws_err *err, int status)
{
	return err && err->kind == WS_E_HTTP && err->code == status;
}

char *ws_strdup(const char *s, ws_err *err)
{
	char *d = strdup(s);

	if (!d)
		ws_fail(err, WS_E_INTERNAL, "out of memory");
	return d;
}
