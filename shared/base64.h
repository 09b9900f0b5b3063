/* base64.h - standard base64 (RFC 4648, with padding), for JSON Patch
 * responses, caBundle and kubeconfig *-data fields. */
#ifndef WS_BASE64_H
#define WS_BASE64_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

/* Encode len bytes; returns a malloc'd NUL-terminated string (caller frees). */
char *ws_base64_encode(const void *data, size_t len);
/* Append the encoding of len bytes to out. */
int ws_base64_append(ws_buf *out, const void *data, size_t len, ws_err *err);

/* Decode text (whitespace ignored); returns malloc'd bytes with a NUL after
 * them (not counted in *out_len), or NULL with a reason. Caller frees. */
unsigned char *ws_base64_decode(const char *text, size_t len, size_t *out_len, ws_err *err);

#endif
