/* tiers.h - quota tiers (DESIGN §5): a tier is a named, ordered list of
 * ResourceQuota hard limits. Built-in table: small, standard (the seed's
 * quota), large; an operator file (YAML or JSON) can replace it:
 *
 *   standard:
 *     requests.cpu: "20"
 *     limits.memory: 80Gi
 *
 * A ws_tiers owns all its strings; ws_tiers_release frees them.
 */
#ifndef WS_TIERS_H
#define WS_TIERS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"

#define WS_DEFAULT_TIER "standard"

typedef struct ws_quota_item {
	char *resource; /* "requests.cpu" */
	char *quantity; /* "20" */
} ws_quota_item;

typedef struct ws_tier {
	char *name;
	ws_quota_item *items;
	size_t nitems;
} ws_tier;

typedef struct ws_tiers {
	ws_tier *tiers;
	size_t n;
} ws_tiers;

/* The built-in table. */
int ws_tiers_default(ws_tiers *t, ws_err *err);
/* Replace the table with one read from a mapping {tier: {resource: quantity}}. */
int ws_tiers_from_json(ws_tiers *t, const cJSON *table, ws_err *err);
/* Read a YAML or JSON file holding such a mapping. */
int ws_tiers_load_file(ws_tiers *t, const char *path, ws_err *err);
void ws_tiers_release(ws_tiers *t);

/* Look up a tier; fails listing the known tiers. */
const ws_tier *ws_tiers_find(const ws_tiers *t, const char *name, ws_err *err);
/* The quantity for a resource in a tier, or NULL. */
const char *ws_tier_get(const ws_tier *tier, const char *resource);
/* "small, standard, large" into buf. */
void ws_tiers_names(const ws_tiers *t, char *buf, size_t size);

/* 1 when s is a Kubernetes resource quantity ("20", "40Gi", "500m", "1e3"). */
int ws_quantity_valid(const char *s);

#endif
