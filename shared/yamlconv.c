/* yamlconv.c - YAML <-> cJSON with libyaml (see yaml.h). */
#include "yamlconv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"

#define YAML_MAX_DEPTH 256
#define YAML_MAX_ANCHORS 256
#define YAML_MAX_OUTPUT (64u << 20)

struct anchor {
	char *name;
	cJSON *node; /* owned copy */
};

struct reader {
	yaml_parser_t parser;
	struct anchor anchors[YAML_MAX_ANCHORS];
	size_t nanchors;
	ws_err *err;
};

static int next_event(struct reader *r, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&r->parser, ev))
		return ws_fail(r->err, WS_E_INVALID, "invalid YAML at line %zu: %s",
			       r->parser.problem_mark.line + 1,
			       r->parser.problem ? r->parser.problem : "syntax error");
	return 0;
}

static int matches(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

static int is_number(const char *s, double *out)
{
	char *end;
	const char *p = s;

	if (!*p)
		return 0;
	if (*p == '+' || *p == '-')
		p++;
	if (!((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')))
		return 0;
	if (strncmp(p, "0x", 2) == 0 || strncmp(p, "0o", 2) == 0) {
		*out = (double)strtoll(p + 2, &end, p[1] == 'x' ? 16 : 8);
		if (*s == '-')
			*out = -*out;
		return *end == '\0' && end != p + 2;
	}
	*out = strtod(s, &end);
	return *end == '\0';
}

/* Resolve a plain scalar the way kubectl's YAML decoder would. */
static cJSON *plain_scalar(const char *s)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", "yes", "Yes", "YES",
					    "on", "On", "ON", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", "no", "No", "NO",
					     "off", "Off", "OFF", NULL};
	double d;

	if (matches(s, nulls))
		return cJSON_CreateNull();
	if (matches(s, trues))
		return cJSON_CreateTrue();
	if (matches(s, falses))
		return cJSON_CreateFalse();
	/* JSON has no infinity: "1e400" stays text */
	if (is_number(s, &d) && isfinite(d))
		return cJSON_CreateNumber(d);
	return cJSON_CreateString(s);
}

static int remember(struct reader *r, const char *anchor, const cJSON *node)
{
	if (!anchor)
		return 0;
	if (r->nanchors == YAML_MAX_ANCHORS)
		return ws_fail(r->err, WS_E_INVALID, "invalid YAML: too many anchors");
	r->anchors[r->nanchors].name = strdup(anchor);
	r->anchors[r->nanchors].node = cJSON_Duplicate(node, 1);
	r->nanchors++;
	return 0;
}

static cJSON *read_node(struct reader *r, yaml_event_t *ev, int depth);

static cJSON *read_children(struct reader *r, int mapping, int depth)
{
	cJSON *node = mapping ? cJSON_CreateObject() : cJSON_CreateArray();
	yaml_event_t ev;

	for (;;) {
		cJSON *key = NULL, *val;

		if (next_event(r, &ev))
			goto fail;
		if (ev.type == (mapping ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
			yaml_event_delete(&ev);
			return node;
		}
		if (mapping) {
			key = read_node(r, &ev, depth + 1);
			yaml_event_delete(&ev);
			if (!key)
				goto fail;
			if (!cJSON_IsString(key) && !cJSON_IsNumber(key) && !cJSON_IsBool(key)) {
				cJSON_Delete(key);
				ws_fail(r->err, WS_E_INVALID, "invalid YAML: mapping keys must be scalars");
				goto fail;
			}
			if (next_event(r, &ev)) {
				cJSON_Delete(key);
				goto fail;
			}
		}
		val = read_node(r, &ev, depth + 1);
		yaml_event_delete(&ev);
		if (!val) {
			cJSON_Delete(key);
			goto fail;
		}
		if (mapping) {
			char numkey[64];
			const char *k = key->valuestring;

			if (!cJSON_IsString(key)) {
				if (cJSON_IsBool(key))
					k = cJSON_IsTrue(key) ? "true" : "false";
				else
					snprintf(numkey, sizeof(numkey), "%.17g", key->valuedouble), k = numkey;
			}
			cJSON_DeleteItemFromObjectCaseSensitive(node, k);
			cJSON_AddItemToObject(node, k, val);
			cJSON_Delete(key);
		} else {
			cJSON_AddItemToArray(node, val);
		}
	}
fail:
	cJSON_Delete(node);
	return NULL;
}

/* Build the node that starts with event ev (not consumed here). */
static cJSON *read_node(struct reader *r, yaml_event_t *ev, int depth)
{
	cJSON *node = NULL;
	const char *anchor = NULL;
	size_t i;

	if (depth > YAML_MAX_DEPTH) {
		ws_fail(r->err, WS_E_INVALID, "invalid YAML: nested more than %d levels", YAML_MAX_DEPTH);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = (const char *)ev->data.scalar.anchor;
		if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag)
			node = plain_scalar((const char *)ev->data.scalar.value);
		else
			node = cJSON_CreateString((const char *)ev->data.scalar.value);
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = (const char *)ev->data.sequence_start.anchor;
		node = read_children(r, 0, depth);
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = (const char *)ev->data.mapping_start.anchor;
		node = read_children(r, 1, depth);
		break;
	case YAML_ALIAS_EVENT:
		for (i = 0; i < r->nanchors; i++)
			if (strcmp(r->anchors[i].name, (const char *)ev->data.alias.anchor) == 0)
				return cJSON_Duplicate(r->anchors[i].node, 1);
		ws_fail(r->err, WS_E_INVALID, "invalid YAML: unknown alias '%s'",
			(const char *)ev->data.alias.anchor);
		return NULL;
	default:
		ws_fail(r->err, WS_E_INVALID, "invalid YAML: unexpected event");
		return NULL;
	}
	if (node && remember(r, anchor, node)) {
		cJSON_Delete(node);
		return NULL;
	}
	return node;
}

cJSON *ws_yaml_parse(const char *text, size_t len, ws_err *err)
{
	struct reader r;
	yaml_event_t ev;
	cJSON *root = NULL;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.err = err;
	if (!yaml_parser_initialize(&r.parser)) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
	for (;;) {
		if (next_event(&r, &ev))
			break;
		if (ev.type == YAML_STREAM_END_EVENT || ev.type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			if (!root)
				root = cJSON_CreateObject();
			break;
		}
		if (ev.type == YAML_STREAM_START_EVENT || ev.type == YAML_DOCUMENT_START_EVENT) {
			yaml_event_delete(&ev);
			continue;
		}
		root = read_node(&r, &ev, 0);
		yaml_event_delete(&ev);
		if (!root)
			break;
	}
	for (i = 0; i < r.nanchors; i++) {
		free(r.anchors[i].name);
		cJSON_Delete(r.anchors[i].node);
	}
	yaml_parser_delete(&r.parser);
	return root;
}

/* ---- emitting ---------------------------------------------------------- */

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	return ws_buf_add(data, buffer, size, NULL) == 0;
}

/* A string that a YAML 1.1 reader would not read back as that string. */
static int needs_quotes(const char *s)
{
	cJSON *probe;
	int typed;
	size_t n = strlen(s);

	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
		return 1;
	probe = plain_scalar(s);
	typed = !cJSON_IsString(probe);
	cJSON_Delete(probe);
	return typed || strcmp(s, "=") == 0 || strcmp(s, "<<") == 0;
}

static int emit_scalar(yaml_emitter_t *e, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
	return yaml_emitter_emit(e, &ev);
}

static int emit_string(yaml_emitter_t *e, const char *s)
{
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;

	if (needs_quotes(s))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	else if (strchr(s, '\n'))
		style = YAML_LITERAL_SCALAR_STYLE;
	return emit_scalar(e, s, style);
}

static int emit_node(yaml_emitter_t *e, const cJSON *n)
{
	yaml_event_t ev;
	const cJSON *c;
	char num[64];

	if (cJSON_IsObject(n)) {
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		if (!yaml_emitter_emit(e, &ev))
			return 0;
		cJSON_ArrayForEach(c, n)
			if (!emit_string(e, c->string) || !emit_node(e, c))
				return 0;
		yaml_mapping_end_event_initialize(&ev);
		return yaml_emitter_emit(e, &ev);
	}
	if (cJSON_IsArray(n)) {
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		if (!yaml_emitter_emit(e, &ev))
			return 0;
		cJSON_ArrayForEach(c, n)
			if (!emit_node(e, c))
				return 0;
		yaml_sequence_end_event_initialize(&ev);
		return yaml_emitter_emit(e, &ev);
	}
	if (cJSON_IsString(n))
		return emit_string(e, n->valuestring);
	if (cJSON_IsBool(n))
		return emit_scalar(e, cJSON_IsTrue(n) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
	if (cJSON_IsNumber(n)) {
		double d = n->valuedouble;

		if (d == floor(d) && fabs(d) < 1e15)
			snprintf(num, sizeof(num), "%.0f", d);
		else
			snprintf(num, sizeof(num), "%.17g", d);
		return emit_scalar(e, num, YAML_PLAIN_SCALAR_STYLE);
	}
	return emit_scalar(e, "null", YAML_PLAIN_SCALAR_STYLE);
}

char *ws_yaml_emit(const cJSON *root, ws_err *err)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	ws_buf out = WS_BUF_INIT(YAML_MAX_OUTPUT);
	int ok;

	if (!yaml_emitter_initialize(&e)) {
		ws_fail(err, WS_E_INTERNAL, "out of memory");
		return NULL;
	}
	yaml_emitter_set_output(&e, write_handler, &out);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, 1 << 20);
	yaml_emitter_set_indent(&e, 2);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	ok = yaml_emitter_emit(&e, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	ok = ok && yaml_emitter_emit(&e, &ev);
	ok = ok && emit_node(&e, root);
	yaml_document_end_event_initialize(&ev, 1);
	ok = ok && yaml_emitter_emit(&e, &ev);
	yaml_stream_end_event_initialize(&ev);
	ok = ok && yaml_emitter_emit(&e, &ev);
	yaml_emitter_delete(&e);
	if (!ok) {
		ws_buf_release(&out);
		ws_fail(err, WS_E_INTERNAL, "cannot write YAML");
		return NULL;
	}
	return ws_buf_detach(&out, NULL);
}
