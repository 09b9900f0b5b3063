/* fuzz_jsondoc.c - libFuzzer target, differential: the arena parser of
 * jsondoc.h must accept exactly what cJSON_ParseWithLengthOpts accepts and
 * build the same tree, and never read past the input; capped at
 * ws_json_doc_bound, it must still accept it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "../unit/json_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so that ASan catches any read past it */
	char *text = malloc(size ? size : 1);
	const char *end = NULL;
	cJSON *want;
	ws_json_limits lim = {1000, 0, 0};
	ws_json_doc doc;
	int rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	want = cJSON_ParseWithLengthOpts(text, size, &end, 0);
	rc = ws_json_doc_parse(&doc, text, size, 1000, NULL);
	if (!want != (rc != 0) || (want && !same_tree(want, doc.root)))
		abort();
	ws_json_doc_release(&doc);
	lim.max_bytes = ws_json_doc_bound(text, size);
	if (ws_json_doc_parse_with(&doc, text, size, &lim, NULL) != rc)
		abort();
	cJSON_Delete(want);
	ws_json_doc_release(&doc);
	free(text);
	return 0;
}
