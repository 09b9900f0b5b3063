/* record.h - the workspace record (DESIGN §4): the seed's workspace.json to
 * and from a C struct. The record is the source of truth for a workspace.
 *
 * Unknown fields (top level, per user, per service) are kept in `extra` and
 * written back, so a newer tool's fields survive an older tool's edit.
 * Every string and cJSON member is owned by the record; ws_record_release
 * frees them all.
 */
#ifndef WS_RECORD_H
#define WS_RECORD_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "error.h"

enum ws_role { WS_ROLE_OWNER, WS_ROLE_CONTRIBUTOR, WS_ROLE_VIEWER, WS_ROLE_COUNT };

/* "owner" <-> WS_ROLE_OWNER; parse fails with the list of valid roles. */
const char *ws_role_name(enum ws_role role);
int ws_role_parse(const char *s, enum ws_role *role, ws_err *err);

typedef struct ws_user {
	char *user_id;   /* free text; exact string kept for RBAC subjects */
	char *email;     /* may be NULL */
	enum ws_role role;
	cJSON *extra;    /* unknown fields, or NULL */
} ws_user;

typedef struct ws_service {
	char *service_type; /* "flyte", or others recorded for other provisioners */
	cJSON *config;      /* object, never NULL once parsed */
	cJSON *extra;
} ws_service;

typedef struct ws_record {
	char *workspace_id;
	char *workspace_name;
	char *owner_email;
	ws_user *users;
	size_t nusers;
	ws_service *services;
	size_t nservices;
	char *tier;
	char *data_bucket;
	char *created_at; /* RFC 3339 */
	cJSON *extra;
} ws_record;

/* Parse workspace.json text / a cJSON object into r (zeroed first). Fails
 * with a message naming the missing or wrong field. On failure r is empty. */
int ws_record_parse(ws_record *r, const char *text, size_t len, ws_err *err);
int ws_record_from_json(ws_record *r, const cJSON *obj, ws_err *err);

/* The record as a cJSON object (caller owns) / compact JSON text (caller frees);
 * NULL when out of memory, never a partial record. */
cJSON *ws_record_to_json(const ws_record *r);
char *ws_record_print(const ws_record *r);

void ws_record_release(ws_record *r);

/* Members. ws_record_find_user returns the index of the user id, or -1.
 * ws_record_find_member also accepts a member's e-mail address: the user id
 * wins; else the first member whose email is exactly `who` (create --owner
 * alice@company.com records user id 'alice', and people then name her by
 * address). add fails when the user id exists; remove and set_role find the
 * member with ws_record_find_member and fail when absent; remove, and
 * set_role away from owner, fail when that would leave no owner. */
int ws_record_find_user(const ws_record *r, const char *user_id);
int ws_record_find_member(const ws_record *r, const char *who);
int ws_record_add_user(ws_record *r, const char *user_id, const char *email,
		       enum ws_role role, ws_err *err);
int ws_record_remove_user(ws_record *r, const char *who, ws_err *err);
int ws_record_set_role(ws_record *r, const char *who, enum ws_role role, ws_err *err);
int ws_record_add_service(ws_record *r, const char *service_type, ws_err *err);
/* 1 when the record lists this service type. */
int ws_record_has_service(const ws_record *r, const char *service_type);

/* Replace a string member (NULL allowed), e.g. ws_record_set(&r->tier, "large").
 * -1 when out of memory: the member is then unchanged. */
int ws_record_set(char **field, const char *value);

#endif
