/* base64.c - RFC 4648 base64 (see base64.h). */
#include "base64.h"

#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encode len bytes into the (len + 2) / 3 * 4 bytes at out, plus a NUL. */
static void encode(const unsigned char *in, size_t len, char *out)
{
	char *o = out;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		*o++ = alphabet[in[i] >> 2];
		*o++ = alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = alphabet[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = alphabet[in[i + 2] & 63];
	}
	if (i < len) {
		*o++ = alphabet[in[i] >> 2];
		if (i + 1 < len) {
			*o++ = alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			*o++ = alphabet[(in[i + 1] & 15) << 2];
		} else {
			*o++ = alphabet[(in[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
}

char *ws_base64_encode(const void *data, size_t len)
{
	char *out = malloc((len + 2) / 3 * 4 + 1);

	if (out)
		encode(data, len, out);
	return out;
}

int ws_base64_append(ws_buf *out, const void *data, size_t len, ws_err *err)
{
	char *at = ws_buf_extend(out, (len + 2) / 3 * 4, err);

	if (!at)
		return -1;
	encode(data, len, at); /* its NUL lands on the buffer's own */
	return 0;
}

static int value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

unsigned char *ws_base64_decode(const char *text, size_t len, size_t *out_len, ws_err *err)
{
	unsigned char *out = malloc(len / 4 * 3 + 4);
	size_t i, n = 0, pad = 0;
	unsigned acc = 0, bits = 0;

	if (!out) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		return NULL;
	}
	for (i = 0; i < len; i++) {
		char c = text[i];
		int v;

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = value_of(c);
		if (v < 0 || pad) {
			free(out);
			ws_fail(err, WS_E_INVALID, "invalid base64 data");
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (pad > 2 || bits >= 6) {
		free(out);
		ws_fail(err, WS_E_INVALID, "invalid base64 data");
		return NULL;
	}
	out[n] = '\0';
	if (out_len)
		*out_len = n;
	return out;
}
