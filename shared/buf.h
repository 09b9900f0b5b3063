/* buf.h - a growable byte buffer with a hard cap, for anything that holds
 * outside input (HTTP bodies, plugin output, files).
 *
 * Lifecycle: ws_buf_init(&b, max) -> append... -> ws_buf_release(&b), or
 * ws_buf_detach(&b) to take the NUL-terminated data (caller frees it).
 * The data is always NUL-terminated after a successful append (the NUL is
 * not counted in len), so text can be used as a C string.
 */
#ifndef WS_BUF_H
#define WS_BUF_H

#include <stddef.h>

#include "error.h"

typedef struct ws_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* appends that would exceed this many bytes fail */
} ws_buf;

#define WS_BUF_INIT(max_) { NULL, 0, 0, (max_) }

void ws_buf_init(ws_buf *b, size_t max);
void ws_buf_release(ws_buf *b);
/* Hand the data to the caller (may be NULL when nothing was appended). */
char *ws_buf_detach(ws_buf *b, size_t *len);
void ws_buf_reset(ws_buf *b);

/* Append bytes; fails (-1, WS_E_INVALID "too large") past the cap. */
int ws_buf_add(ws_buf *b, const void *data, size_t len, ws_err *err);
int ws_buf_adds(ws_buf *b, const char *s, ws_err *err);
/* Append len bytes for the caller to fill in: returns where they start, or
 * NULL past the cap. */
char *ws_buf_extend(ws_buf *b, size_t len, ws_err *err);
int ws_buf_printf(ws_buf *b, ws_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Read a whole file (at most max bytes) into b. */
int ws_buf_read_file(ws_buf *b, const char *path, ws_err *err);

/* Free memory that held a secret (a token, a key), zeroed first so that it
 * does not linger in freed memory. NULL is fine. */
void ws_wipe_free(void *p, size_t n);
void ws_wipe_str(char *s);

#endif
