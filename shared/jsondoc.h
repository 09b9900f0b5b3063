/* jsondoc.h - a read-only JSON document parsed into one arena: the tree is
 * made of ordinary cJSON nodes (every cJSON reader works on it), but its
 * nodes and strings are carved from a few large blocks instead of one
 * malloc each, and released all at once. For the admission webhook, which
 * parses a review, reads it and throws it away on every request: parsing
 * this way costs a fraction of cJSON_Parse plus cJSON_Delete.
 *
 * Accepts exactly what cJSON_ParseWithLengthOpts(data, len, &end, 0)
 * accepts (1.7.15, including its leniencies: a leading UTF-8 BOM, bytes up
 * to 0x20 as white space, numbers as strtod reads them, text after the
 * first value ignored) and builds the same tree (tests/unit/test_jsondoc.c
 * compares them), with a cap on nesting instead of cJSON's 1000.
 *
 * Ownership: the document owns every node and string of its tree. Never
 * pass a node to cJSON_Delete or attach it to another tree; cJSON_Duplicate
 * makes an ordinary copy.
 */
#ifndef WS_JSONDOC_H
#define WS_JSONDOC_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"

/* Set in a node's type (above cJSON's own bits, which its readers mask
 * off) when its string value, or its key, came out holding a NUL: a
 * \u0000 escape, or any \u escape cJSON decodes as 0 (invalid digits). C
 * readers see such a string cut at the NUL. */
#define WS_JSON_NUL_VALUE (1 << 12)
#define WS_JSON_NUL_KEY (1 << 13)

typedef struct ws_json_doc {
	cJSON *root;
	int too_deep;              /* after a failure: the nesting cap was hit */
	int too_big;               /* after a failure: the arena cap (max_bytes) was hit */
	int duplicate;             /* after a failure (strict): an object repeats a key */
	int trailing;              /* after a failure (strict): text follows the value */
	int nul;                   /* some key or string holds a NUL (see above) */
	struct ws_json_block *blocks;
} ws_json_doc;

/* Parse len bytes (need not be NUL-terminated), refusing nesting deeper
 * than max_depth arrays and objects. On failure doc is empty, err says
 * where the text stops being JSON ("invalid JSON at byte 12") or that it
 * is nested too deep ("nested deeper than 256 levels", doc->too_deep). */
int ws_json_doc_parse(ws_json_doc *doc, const char *data, size_t len, int max_depth, ws_err *err);

/* The same with limits for input from an untrusted peer. max_bytes (0: no
 * cap) is allocated up front as the arena's one block, and the parse fails
 * (too_big) when the tree needs more; ws_json_doc_bound gives a cap the
 * tree of len bytes never exceeds. strict refuses what Go's decoder reads
 * differently: an object with a repeated key (cJSON finds the first, Go
 * keeps the last) and any text after the value but white space. */
typedef struct ws_json_limits {
	int max_depth;
	size_t max_bytes;
	int strict;
} ws_json_limits;

int ws_json_doc_parse_with(ws_json_doc *doc, const char *data, size_t len,
			   const ws_json_limits *lim, ws_err *err);

/* An upper bound on the arena bytes the tree of this text takes, from one
 * pass that counts its values: about 74 bytes per value plus the text. */
size_t ws_json_doc_bound(const char *data, size_t len);
void ws_json_doc_release(ws_json_doc *doc);

#endif
