/* yamlconv.h - YAML <-> cJSON through libyaml (kubeconfig files, -o yaml,
 * operator configuration). Only the JSON-compatible part of YAML is
 * supported: mappings, sequences, scalars (plain scalars typed as YAML 1.2's
 * core schema: null, true/false, numbers; quoted ones are strings), anchors
 * and aliases resolved. Trees returned belong to the caller. */
#ifndef WS_YAML_H
#define WS_YAML_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"

/* Parse the first document of a YAML (or JSON) text. An empty document
 * gives an empty object. */
cJSON *ws_yaml_parse(const char *text, size_t len, ws_err *err);

/* Emit a tree as a YAML document (malloc'd text; caller frees). Strings that
 * would read back as another type are quoted. */
char *ws_yaml_emit(const cJSON *root, ws_err *err);

#endif
