/* buf.c - capped growable buffer (see buf.h). */
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ws_buf_init(ws_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void ws_wipe_free(void *p, size_t n)
{
	if (!p)
		return;
	explicit_bzero(p, n);
	free(p);
}

void ws_wipe_str(char *s)
{
	if (s)
		ws_wipe_free(s, strlen(s));
}

void ws_buf_release(ws_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *ws_buf_detach(ws_buf *b, size_t *len)
{
	char *d = b->data;

	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

void ws_buf_reset(ws_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int grow(ws_buf *b, size_t extra, ws_err *err)
{
	size_t need, cap;
	char *d;

	if (extra > b->max || b->len > b->max - extra)
		return ws_fail(err, WS_E_INVALID, "data too large (more than %zu bytes)", b->max);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	d = realloc(b->data, cap);
	if (!d)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	b->data = d;
	b->cap = cap;
	return 0;
}

int ws_buf_add(ws_buf *b, const void *data, size_t len, ws_err *err)
{
	if (grow(b, len, err))
		return -1;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

char *ws_buf_extend(ws_buf *b, size_t len, ws_err *err)
{
	char *at;

	if (grow(b, len, err))
		return NULL;
	at = b->data + b->len;
	b->len += len;
	b->data[b->len] = '\0';
	return at;
}

int ws_buf_adds(ws_buf *b, const char *s, ws_err *err)
{
	return ws_buf_add(b, s, strlen(s), err);
}

int ws_buf_printf(ws_buf *b, ws_err *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return ws_fail(err, WS_E_INTERNAL, "bad format");
	if (grow(b, (size_t)n, err))
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int ws_buf_read_file(ws_buf *b, const char *path, ws_err *err)
{
	char chunk[8192];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return ws_fail(err, WS_E_IO, "cannot read '%s': %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (ws_buf_add(b, chunk, n, err)) {
			fclose(f);
			return ws_err_prefix(err, "cannot read '%s'", path);
		}
	}
	if (ferror(f)) {
		fclose(f);
		return ws_fail(err, WS_E_IO, "cannot read '%s': read error", path);
	}
	fclose(f);
	if (!b->data)
		return ws_buf_add(b, "", 0, err);
	return 0;
}
