/* fuzz_yaml.c - the YAML reader (kubeconfig files, platform settings): any
 * input parses or fails with a reason; what parses emits YAML that parses
 * back to the same tree. */
#include <stdint.h>
#include <stdlib.h>

#include "yamlconv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ws_err err;
	cJSON *tree = ws_yaml_parse((const char *)data, size, &err), *back;
	char *text;

	if (!tree) {
		if (!err.msg[0])
			abort();
		return 0;
	}
	text = ws_yaml_emit(tree, &err);
	if (!text)
		abort();
	back = ws_yaml_parse(text, strlen(text), &err);
	if (!back || !cJSON_Compare(tree, back, 1))
		abort();
	cJSON_Delete(back);
	cJSON_Delete(tree);
	free(text);
	return 0;
}
