/* fuzz_record.c - workspace.json decoding: any input either fails with a
 * reason or round-trips to a record that decodes again to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ws_record r, again;
	ws_err err;
	char *once, *twice;

	if (ws_record_parse(&r, (const char *)data, size, &err)) {
		if (!err.msg[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	once = ws_record_print(&r);
	if (!once || ws_record_parse(&again, once, strlen(once), &err))
		abort();
	twice = ws_record_print(&again);
	if (!twice || strcmp(once, twice) != 0)
		abort();
	free(once);
	free(twice);
	ws_record_release(&again);
	ws_record_release(&r);
	return 0;
}
