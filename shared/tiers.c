/* tiers.c - the quota tier table (see tiers.h). */
#include "tiers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "naming.h"
#include "yamlconv.h"

#define TIERS_FILE_MAX (1u << 20)

static const char *const builtin[][13] = {
	{"small", "requests.cpu", "4", "requests.memory", "8Gi", "limits.cpu", "8",
	 "limits.memory", "16Gi", "pods", "20", "persistentvolumeclaims", "5"},
	{"standard", "requests.cpu", "20", "requests.memory", "40Gi", "limits.cpu", "40",
	 "limits.memory", "80Gi", "pods", "100", "persistentvolumeclaims", "20"},
	{"large", "requests.cpu", "64", "requests.memory", "128Gi", "limits.cpu", "128",
	 "limits.memory", "256Gi", "pods", "500", "persistentvolumeclaims", "50"},
};

int ws_quantity_valid(const char *s)
{
	static const char *const suffixes[] = {"", "n", "u", "m", "k", "M", "G", "T", "P", "E",
					       "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", NULL};
	const char *p = s;
	const char *const *suf;
	int digits = 0, dots = 0;

	if (*p == '+' || *p == '-')
		p++;
	for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
		if (*p == '.')
			dots++;
		else
			digits++;
	}
	if (!digits || dots > 1)
		return 0;
	if (*p == 'e' || *p == 'E') {
		const char *q = p + 1;

		if (*q == '+' || *q == '-')
			q++;
		if (*q >= '0' && *q <= '9') {
			while (*q >= '0' && *q <= '9')
				q++;
			return *q == '\0';
		}
	}
	for (suf = suffixes; *suf; suf++)
		if (strcmp(p, *suf) == 0)
			return 1;
	return 0;
}

void ws_tiers_release(ws_tiers *t)
{
	size_t i, j;

	for (i = 0; i < t->n; i++) {
		for (j = 0; j < t->tiers[i].nitems; j++) {
			free(t->tiers[i].items[j].resource);
			free(t->tiers[i].items[j].quantity);
		}
		free(t->tiers[i].items);
		free(t->tiers[i].name);
	}
	free(t->tiers);
	t->tiers = NULL;
	t->n = 0;
}

int ws_tiers_default(ws_tiers *t, ws_err *err)
{
	size_t i, j, n = sizeof(builtin) / sizeof(builtin[0]);

	t->tiers = calloc(n, sizeof(*t->tiers));
	if (!t->tiers)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	t->n = n;
	for (i = 0; i < n; i++) {
		ws_tier *tier = &t->tiers[i];

		if (!(tier->name = ws_strdup(builtin[i][0], err)))
			goto fail;
		tier->items = calloc(6, sizeof(*tier->items));
		if (!tier->items)
			goto oom;
		for (j = 0; j < 6; j++) {
			tier->nitems = j + 1;
			if (!(tier->items[j].resource = ws_strdup(builtin[i][1 + 2 * j], err)) ||
			    !(tier->items[j].quantity = ws_strdup(builtin[i][2 + 2 * j], err)))
				goto fail;
		}
	}
	return 0;
oom:
	ws_fail(err, WS_E_INTERNAL, "out of memory");
fail:
	ws_tiers_release(t);
	return -1;
}

static int parse_tier(ws_tier *tier, const cJSON *spec, ws_err *err)
{
	const cJSON *c;
	size_t i = 0;

	if (ws_check_label_value(tier->name, NULL) || !*tier->name)
		return ws_fail(err, WS_E_INVALID, "tier name '%s' is invalid", tier->name);
	if (!cJSON_IsObject(spec) || !spec->child)
		return ws_fail(err, WS_E_INVALID,
			       "tier '%s' must map resource names to quantities", tier->name);
	tier->items = calloc((size_t)cJSON_GetArraySize(spec), sizeof(*tier->items));
	if (!tier->items)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	cJSON_ArrayForEach(c, spec) {
		char num[64];
		const char *q = c->valuestring;

		if (cJSON_IsNumber(c)) {
			if (c->valuedouble == (double)(long long)c->valuedouble)
				snprintf(num, sizeof(num), "%lld", (long long)c->valuedouble);
			else
				snprintf(num, sizeof(num), "%g", c->valuedouble);
			q = num;
		} else if (!cJSON_IsString(c)) {
			return ws_fail(err, WS_E_INVALID, "tier '%s': '%s' must be a quantity",
				       tier->name, c->string);
		}
		if (ws_check_label_key(c->string, NULL))
			return ws_fail(err, WS_E_INVALID, "tier '%s': '%s' is not a resource name",
				       tier->name, c->string);
		if (!ws_quantity_valid(q))
			return ws_fail(err, WS_E_INVALID,
				       "tier '%s': '%s' for '%s' is not a quantity (e.g. 20, 500m, 40Gi)",
				       tier->name, q, c->string);
		tier->nitems = ++i;
		if (!(tier->items[i - 1].resource = ws_strdup(c->string, err)) ||
		    !(tier->items[i - 1].quantity = ws_strdup(q, err)))
			return -1;
	}
	return 0;
}

int ws_tiers_from_json(ws_tiers *t, const cJSON *table, ws_err *err)
{
	ws_tiers fresh = {0};
	const cJSON *c;
	size_t i = 0;

	if (!cJSON_IsObject(table) || !table->child)
		return ws_fail(err, WS_E_INVALID, "the tier table must map tier names to quotas");
	fresh.tiers = calloc((size_t)cJSON_GetArraySize(table), sizeof(*fresh.tiers));
	if (!fresh.tiers)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	cJSON_ArrayForEach(c, table) {
		fresh.n = ++i;
		if (!(fresh.tiers[i - 1].name = ws_strdup(c->string, err)) ||
		    parse_tier(&fresh.tiers[i - 1], c, err)) {
			ws_tiers_release(&fresh);
			return -1;
		}
	}
	ws_tiers_release(t);
	*t = fresh;
	return 0;
}

int ws_tiers_load_file(ws_tiers *t, const char *path, ws_err *err)
{
	ws_buf b = WS_BUF_INIT(TIERS_FILE_MAX);
	cJSON *table;
	int rc;

	if (ws_buf_read_file(&b, path, err))
		return -1;
	table = ws_yaml_parse(b.data, b.len, err);
	ws_buf_release(&b);
	if (!table)
		return ws_err_prefix(err, "tier file '%s'", path);
	rc = ws_tiers_from_json(t, table, err);
	cJSON_Delete(table);
	return rc ? ws_err_prefix(err, "tier file '%s'", path) : 0;
}

void ws_tiers_names(const ws_tiers *t, char *buf, size_t size)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < t->n && off < size; i++) {
		int n = snprintf(buf + off, size - off, "%s%s", i ? ", " : "", t->tiers[i].name);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

const ws_tier *ws_tiers_find(const ws_tiers *t, const char *name, ws_err *err)
{
	char names[256];
	size_t i;

	for (i = 0; i < t->n; i++)
		if (name && strcmp(t->tiers[i].name, name) == 0)
			return &t->tiers[i];
	ws_tiers_names(t, names, sizeof(names));
	ws_fail(err, WS_E_INVALID, "unknown tier '%s' (known tiers: %s)", name ? name : "", names);
	return NULL;
}

const char *ws_tier_get(const ws_tier *tier, const char *resource)
{
	size_t i;

	for (i = 0; i < tier->nitems; i++)
		if (strcmp(tier->items[i].resource, resource) == 0)
			return tier->items[i].quantity;
	return NULL;
}
