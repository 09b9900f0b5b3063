/* jsonpatch.h - build RFC 6902 JSON Patch documents with RFC 6901 pointer
 * escaping ("~" -> "~0", "/" -> "~1"), as the admission webhook returns them.
 * The document is kept as compact JSON text from the first operation on, so
 * handing it out costs no printing.
 *
 * Lifecycle: ws_patch_init -> ops... -> ws_patch_text -> ws_patch_release.
 */
#ifndef WS_JSONPATCH_H
#define WS_JSONPATCH_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"

/* A patch longer than this fails its op (WS_E_INVALID): base64-encoded in a
 * reply it is a third longer, and kube-apiserver's own request cap is 3 MiB. */
#define WS_PATCH_MAX ((size_t)2 << 20)

typedef struct ws_patch {
	ws_buf text;  /* "[{...},...]", empty before the first op */
	size_t count;
} ws_patch;

void ws_patch_init(ws_patch *p);
void ws_patch_release(ws_patch *p);
size_t ws_patch_count(const ws_patch *p);

/* Escape one reference token into out; fails when it does not fit. */
int ws_pointer_escape(const char *token, char *out, size_t size, ws_err *err);
/* Join escaped tokens into a pointer "/a/b~1c"; "" for no tokens. */
int ws_pointer(const char *const *tokens, size_t n, char *out, size_t size, ws_err *err);

/* Append {"op": op, "path": pointer(tokens), "value": value}. Takes value
 * (NULL for "remove"). */
int ws_patch_op(ws_patch *p, const char *op, const char *const *tokens, size_t n, cJSON *value,
		ws_err *err);

/* Make map[key] == value for every member of `entries`, given the current
 * map (NULL when it does not exist) at tokens: one "add" of the whole map
 * when it is missing, else an "add" per key whose value differs. Adds
 * nothing when all match, so applying it twice is a no-op. Borrows entries. */
int ws_patch_put_keys(ws_patch *p, const cJSON *current, const char *const *tokens, size_t n,
		      const cJSON *entries, ws_err *err);

/* The patch as compact JSON ("[]" when empty): borrowed, valid until the
 * next op or the release. */
const char *ws_patch_text(const ws_patch *p);

#endif
