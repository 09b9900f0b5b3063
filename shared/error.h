/* error.h - the one error convention of libworkspace.
 *
 * Every fallible function takes a `ws_err *` last and returns 0 on success,
 * -1 on failure after filling the error (a NULL `ws_err *` is allowed and
 * simply drops the message). Messages are lower case, say what failed first
 * and quote the subject: "cannot create namespace 'flyte-ws-x': forbidden".
 */
#ifndef WS_ERROR_H
#define WS_ERROR_H

#include <stddef.h>

/* Where an error came from; `code` holds the HTTP status for WS_E_HTTP. */
enum ws_err_kind {
	WS_E_NONE = 0,
	WS_E_INVALID,   /* bad input: a flag, a name, a file */
	WS_E_IO,        /* local file or system error */
	WS_E_TRANSPORT, /* connection, TLS, timeout: nothing was answered */
	WS_E_HTTP,      /* the server answered with an error status (code) */
	WS_E_CONFLICT,  /* an object differs or is held by someone else */
	WS_E_INTERNAL
};

#define WS_ERR_MSG_MAX 1024

typedef struct ws_err {
	enum ws_err_kind kind;
	int code;       /* HTTP status for WS_E_HTTP, else 0 */
	char reason[48]; /* Kubernetes Status reason ("AlreadyExists") or "" */
	char msg[WS_ERR_MSG_MAX];
} ws_err;

/* Clear an error (kind WS_E_NONE, empty message). */
void ws_err_clear(ws_err *err);

/* Fill `err` with a printf-style message; returns -1 for `return ws_fail(...)`. */
int ws_fail(ws_err *err, enum ws_err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like ws_fail for an HTTP error status: kind WS_E_HTTP, code = status. */
int ws_fail_http(ws_err *err, int status, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Prepend context: "cannot create 'x': " + the existing message. Returns -1. */
int ws_err_prefix(ws_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* strdup that reports out of memory: the copy (caller frees), or NULL
 * with err set. */
char *ws_strdup(const char *s, ws_err *err);

/* Append to the message (truncated to fit): err->msg + the formatted text,
 * e.g. " (after 3 attempts)". Returns -1. */
int ws_err_append(ws_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when the error is an HTTP answer with this status. */
int ws_err_is_http(const ws_err *err, int status);

#endif
