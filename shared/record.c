/* record.c - workspace.json <-> ws_record (see record.h). */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static const char *const role_names[WS_ROLE_COUNT] = {"owner", "contributor", "viewer"};

const char *ws_role_name(enum ws_role role)
{
	return role < WS_ROLE_COUNT ? role_names[role] : "unknown";
}

int ws_role_parse(const char *s, enum ws_role *role, ws_err *err)
{
	int i;

	for (i = 0; i < WS_ROLE_COUNT; i++) {
		if (s && strcmp(s, role_names[i]) == 0) {
			*role = (enum ws_role)i;
			return 0;
		}
	}
	return ws_fail(err, WS_E_INVALID, "unknown role '%s' (valid roles: owner, contributor, viewer)",
		       s ? s : "");
}

int ws_record_set(char **field, const char *value)
{
	char *copy = value ? strdup(value) : NULL;

	if (value && !copy)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

/* Copy the members of obj not listed in `known` into a new object (or NULL). */
static int unknown_fields(const cJSON *obj, const char *const *known, cJSON **extra, ws_err *err)
{
	const cJSON *c;

	*extra = NULL;
	cJSON_ArrayForEach(c, obj) {
		const char *const *k;

		for (k = known; *k; k++)
			if (strcmp(*k, c->string) == 0)
				break;
		if (*k)
			continue;
		if (!*extra)
			*extra = cJSON_CreateObject();
		if (!cJSON_AddItemToObject(*extra, c->string, cJSON_Duplicate(c, 1)))
			return ws_fail(err, WS_E_INTERNAL, "out of memory");
	}
	return 0;
}

/* 1 when done, 0 when out of memory. */
static int add_unknown(cJSON *obj, const cJSON *extra)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, extra)
		if (!cJSON_GetObjectItemCaseSensitive(obj, c->string) &&
		    !cJSON_AddItemToObject(obj, c->string, cJSON_Duplicate(c, 1)))
			return 0;
	return 1;
}

/* A string field: required ones must be non-empty strings; optional ones
 * may be absent or null. */
static int get_string(const cJSON *obj, const char *key, int required, const char *where,
		      char **out, ws_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v || cJSON_IsNull(v)) {
		if (required)
			return ws_fail(err, WS_E_INVALID, "workspace record: %s'%s' is missing", where, key);
		return 0;
	}
	if (!cJSON_IsString(v))
		return ws_fail(err, WS_E_INVALID, "workspace record: %s'%s' must be a string", where, key);
	if (required && !*v->valuestring)
		return ws_fail(err, WS_E_INVALID, "workspace record: %s'%s' is empty", where, key);
	*out = strdup(v->valuestring);
	if (!*out)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	return 0;
}

static int parse_user(ws_user *u, const cJSON *o, size_t i, ws_err *err)
{
	static const char *const known[] = {"user_id", "email", "role", NULL};
	char where[48], *role = NULL;
	int rc;

	snprintf(where, sizeof(where), "users[%zu].", i);
	if (!cJSON_IsObject(o))
		return ws_fail(err, WS_E_INVALID, "workspace record: users[%zu] must be an object", i);
	if (get_string(o, "user_id", 1, where, &u->user_id, err) ||
	    get_string(o, "email", 0, where, &u->email, err) ||
	    get_string(o, "role", 1, where, &role, err))
		return -1;
	rc = ws_role_parse(role, &u->role, err);
	free(role);
	if (rc)
		return ws_err_prefix(err, "workspace record: users[%zu].role", i);
	return unknown_fields(o, known, &u->extra, err);
}

static int parse_service(ws_service *s, const cJSON *o, size_t i, ws_err *err)
{
	static const char *const known[] = {"service_type", "config", NULL};
	const cJSON *cfg;
	char where[48];

	snprintf(where, sizeof(where), "services[%zu].", i);
	if (!cJSON_IsObject(o))
		return ws_fail(err, WS_E_INVALID, "workspace record: services[%zu] must be an object", i);
	if (get_string(o, "service_type", 1, where, &s->service_type, err))
		return -1;
	cfg = cJSON_GetObjectItemCaseSensitive(o, "config");
	if (cfg && !cJSON_IsNull(cfg) && !cJSON_IsObject(cfg))
		return ws_fail(err, WS_E_INVALID, "workspace record: %sconfig must be an object", where);
	s->config = cJSON_IsObject(cfg) ? cJSON_Duplicate(cfg, 1) : cJSON_CreateObject();
	if (!s->config)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	return unknown_fields(o, known, &s->extra, err);
}

int ws_record_from_json(ws_record *r, const cJSON *o, ws_err *err)
{
	static const char *const known[] = {"workspace_id", "workspace_name", "owner_email", "users",
					    "services", "tier", "data_bucket", "created_at", NULL};
	const cJSON *arr, *c;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(o))
		return ws_fail(err, WS_E_INVALID, "workspace record: expected a JSON object");
	if (get_string(o, "workspace_id", 1, "", &r->workspace_id, err) ||
	    get_string(o, "workspace_name", 1, "", &r->workspace_name, err) ||
	    get_string(o, "owner_email", 1, "", &r->owner_email, err) ||
	    get_string(o, "tier", 0, "", &r->tier, err) ||
	    get_string(o, "data_bucket", 0, "", &r->data_bucket, err) ||
	    get_string(o, "created_at", 0, "", &r->created_at, err))
		goto fail;
	arr = cJSON_GetObjectItemCaseSensitive(o, "users");
	if (!cJSON_IsArray(arr)) {
		ws_fail(err, WS_E_INVALID, "workspace record: 'users' %s",
			arr ? "must be an array" : "is missing");
		goto fail;
	}
	r->users = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*r->users));
	if (!r->users)
		goto oom;
	i = 0;
	cJSON_ArrayForEach(c, arr) {
		r->nusers = i + 1;
		if (parse_user(&r->users[i], c, i, err))
			goto fail;
		i++;
	}
	arr = cJSON_GetObjectItemCaseSensitive(o, "services");
	if (arr && !cJSON_IsNull(arr) && !cJSON_IsArray(arr)) {
		ws_fail(err, WS_E_INVALID, "workspace record: 'services' must be an array");
		goto fail;
	}
	r->services = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*r->services));
	if (!r->services)
		goto oom;
	i = 0;
	cJSON_ArrayForEach(c, arr) {
		r->nservices = i + 1;
		if (parse_service(&r->services[i], c, i, err))
			goto fail;
		i++;
	}
	if (unknown_fields(o, known, &r->extra, err))
		goto fail;
	return 0;
oom:
	ws_fail(err, WS_E_INTERNAL, "out of memory");
fail:
	ws_record_release(r);
	return -1;
}

int ws_record_parse(ws_record *r, const char *text, size_t len, ws_err *err)
{
	cJSON *o = ws_json_parse(text, len, err);
	int rc;

	memset(r, 0, sizeof(*r));
	if (!o)
		return ws_err_prefix(err, "workspace record");
	rc = ws_record_from_json(r, o, err);
	cJSON_Delete(o);
	return rc;
}

/* 1 when done (or nothing to add), 0 when out of memory. */
static int add_opt_string(cJSON *o, const char *key, const char *val)
{
	return !val || cJSON_AddStringToObject(o, key, val);
}

static cJSON *user_json(const ws_user *u)
{
	cJSON *o = cJSON_CreateObject();

	if (add_opt_string(o, "user_id", u->user_id) && add_opt_string(o, "email", u->email) &&
	    cJSON_AddStringToObject(o, "role", ws_role_name(u->role)) && add_unknown(o, u->extra))
		return o;
	cJSON_Delete(o);
	return NULL;
}

static cJSON *service_json(const ws_service *s)
{
	cJSON *o = cJSON_CreateObject();

	if (add_opt_string(o, "service_type", s->service_type) &&
	    cJSON_AddItemToObject(o, "config", s->config ? cJSON_Duplicate(s->config, 1)
							  : cJSON_CreateObject()) &&
	    add_unknown(o, s->extra))
		return o;
	cJSON_Delete(o);
	return NULL;
}

cJSON *ws_record_to_json(const ws_record *r)
{
	cJSON *o = cJSON_CreateObject(), *users = NULL, *services = NULL;
	size_t i;
	int ok;

	ok = add_opt_string(o, "workspace_id", r->workspace_id) &&
	     add_opt_string(o, "workspace_name", r->workspace_name) &&
	     add_opt_string(o, "owner_email", r->owner_email) &&
	     (users = cJSON_AddArrayToObject(o, "users")) != NULL;
	for (i = 0; ok && i < r->nusers; i++)
		ok = cJSON_AddItemToArray(users, user_json(&r->users[i]));
	ok = ok && (services = cJSON_AddArrayToObject(o, "services")) != NULL;
	for (i = 0; ok && i < r->nservices; i++)
		ok = cJSON_AddItemToArray(services, service_json(&r->services[i]));
	ok = ok && add_opt_string(o, "tier", r->tier) &&
	     add_opt_string(o, "data_bucket", r->data_bucket) &&
	     add_opt_string(o, "created_at", r->created_at) && add_unknown(o, r->extra);
	if (ok)
		return o;
	cJSON_Delete(o);
	return NULL;
}

char *ws_record_print(const ws_record *r)
{
	cJSON *o = ws_record_to_json(r);
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	return s;
}

static void user_release(ws_user *u)
{
	free(u->user_id);
	free(u->email);
	cJSON_Delete(u->extra);
}

void ws_record_release(ws_record *r)
{
	size_t i;

	for (i = 0; i < r->nusers; i++)
		user_release(&r->users[i]);
	for (i = 0; i < r->nservices; i++) {
		free(r->services[i].service_type);
		cJSON_Delete(r->services[i].config);
		cJSON_Delete(r->services[i].extra);
	}
	free(r->users);
	free(r->services);
	free(r->workspace_id);
	free(r->workspace_name);
	free(r->owner_email);
	free(r->tier);
	free(r->data_bucket);
	free(r->created_at);
	cJSON_Delete(r->extra);
	memset(r, 0, sizeof(*r));
}

int ws_record_find_user(const ws_record *r, const char *user_id)
{
	size_t i;

	for (i = 0; i < r->nusers; i++)
		if (strcmp(r->users[i].user_id, user_id) == 0)
			return (int)i;
	return -1;
}

int ws_record_find_member(const ws_record *r, const char *who)
{
	int i = ws_record_find_user(r, who);
	size_t j;

	if (i >= 0 || !strchr(who, '@'))
		return i;
	for (j = 0; j < r->nusers; j++)
		if (r->users[j].email && strcmp(r->users[j].email, who) == 0)
			return (int)j;
	return -1;
}

int ws_record_add_user(ws_record *r, const char *user_id, const char *email,
		       enum ws_role role, ws_err *err)
{
	ws_user *users;

	if (!user_id || !*user_id)
		return ws_fail(err, WS_E_INVALID, "a member needs a user id");
	if (ws_record_find_user(r, user_id) >= 0)
		return ws_fail(err, WS_E_INVALID, "user '%s' is already a member of '%s'", user_id,
			       r->workspace_id ? r->workspace_id : "the workspace");
	users = realloc(r->users, (r->nusers + 1) * sizeof(*users));
	if (!users)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	r->users = users;
	memset(&users[r->nusers], 0, sizeof(*users));
	users[r->nusers].user_id = strdup(user_id);
	users[r->nusers].email = email && *email ? strdup(email) : NULL;
	users[r->nusers].role = role;
	if (!users[r->nusers].user_id || (email && *email && !users[r->nusers].email)) {
		user_release(&users[r->nusers]);
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	}
	r->nusers++;
	return 0;
}

static size_t owner_count(const ws_record *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nusers; i++)
		n += r->users[i].role == WS_ROLE_OWNER;
	return n;
}

int ws_record_remove_user(ws_record *r, const char *user_id, ws_err *err)
{
	int i = ws_record_find_member(r, user_id);

	if (i < 0)
		return ws_fail(err, WS_E_INVALID, "user '%s' is not a member of '%s'", user_id,
			       r->workspace_id ? r->workspace_id : "the workspace");
	if (r->users[i].role == WS_ROLE_OWNER && owner_count(r) == 1)
		return ws_fail(err, WS_E_INVALID,
			       "cannot remove '%s': it is the last owner of '%s' (add another owner first)",
			       user_id, r->workspace_id ? r->workspace_id : "the workspace");
	user_release(&r->users[i]);
	memmove(&r->users[i], &r->users[i + 1], (r->nusers - (size_t)i - 1) * sizeof(*r->users));
	r->nusers--;
	return 0;
}

int ws_record_set_role(ws_record *r, const char *user_id, enum ws_role role, ws_err *err)
{
	int i = ws_record_find_member(r, user_id);

	if (i < 0)
		return ws_fail(err, WS_E_INVALID, "user '%s' is not a member of '%s'", user_id,
			       r->workspace_id ? r->workspace_id : "the workspace");
	if (r->users[i].role == WS_ROLE_OWNER && role != WS_ROLE_OWNER && owner_count(r) == 1)
		return ws_fail(err, WS_E_INVALID,
			       "cannot make '%s' a %s: it is the last owner of '%s' (add another owner first)",
			       user_id, ws_role_name(role),
			       r->workspace_id ? r->workspace_id : "the workspace");
	r->users[i].role = role;
	return 0;
}

int ws_record_has_service(const ws_record *r, const char *service_type)
{
	size_t i;

	for (i = 0; i < r->nservices; i++)
		if (strcmp(r->services[i].service_type, service_type) == 0)
			return 1;
	return 0;
}

int ws_record_add_service(ws_record *r, const char *service_type, ws_err *err)
{
	ws_service *s;

	if (!service_type || !*service_type)
		return ws_fail(err, WS_E_INVALID, "empty service name");
	if (ws_record_has_service(r, service_type))
		return 0;
	s = realloc(r->services, (r->nservices + 1) * sizeof(*s));
	if (!s)
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	r->services = s;
	memset(&s[r->nservices], 0, sizeof(*s));
	s[r->nservices].service_type = strdup(service_type);
	s[r->nservices].config = cJSON_CreateObject();
	if (!s[r->nservices].service_type || !s[r->nservices].config) {
		free(s[r->nservices].service_type);
		cJSON_Delete(s[r->nservices].config);
		return ws_fail(err, WS_E_INTERNAL, "out of memory");
	}
	r->nservices++;
	return 0;
}
