/* platform.c - platform settings: defaults and the operator overlay (see platform.h). */
#include "platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "yamlconv.h"

#define PLATFORM_FILE_MAX (1u << 20)

void ws_strlist_release(ws_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

int ws_strlist_add(ws_strlist *l, const char *s)
{
	char **items = realloc(l->items, (l->n + 1) * sizeof(*items));

	if (!items)
		return -1;
	l->items = items;
	l->items[l->n] = strdup(s);
	if (!l->items[l->n])
		return -1;
	l->n++;
	return 0;
}

int ws_strlist_has(const ws_strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return 1;
	return 0;
}

static void set(char **field, const char *value)
{
	char *copy = value ? strdup(value) : NULL;

	free(*field);
	*field = copy;
}

/* Provider defaults for the runner identity and the storage scheme. */
static void provider_defaults(ws_platform *p)
{
	if (strcmp(p->cloud_provider, "gcp") == 0) {
		set(&p->role_annotation, "iam.gke.io/gcp-service-account");
		/* {{ gsa }}: the id shortened to GCP's 30 characters (ws_gcp_sa_id) */
		set(&p->role_template, "{{ gsa }}@{{ account }}.iam.gserviceaccount.com");
		set(&p->storage_scheme, "gs");
	} else {
		set(&p->role_annotation, "eks.amazonaws.com/role-arn");
		set(&p->role_template, "arn:aws:iam::{{ account }}:role/{{ id }}-runner");
		set(&p->storage_scheme, "s3");
	}
}

int ws_platform_defaults(ws_platform *p, ws_err *err)
{
	static const char *const domains[] = {"development", "staging", "production"};
	size_t i;

	memset(p, 0, sizeof(*p));
	set(&p->system_namespace, WS_DEFAULT_SYSTEM_NS);
	if (ws_ns_template_parse(&p->ns_template, WS_DEFAULT_NS_TEMPLATE, err))
		return -1;
	for (i = 0; i < 3; i++)
		ws_strlist_add(&p->domains, domains[i]);
	set(&p->default_domain, "development");
	set(&p->flyte_namespace, "flyte");
	set(&p->flyteadmin_configmap, "flyte-admin-base-config");
	set(&p->flyteadmin_config_key, "namespace_config.yaml");
	ws_strlist_add(&p->allow_namespaces, "flyte");
	set(&p->cloud_provider, "aws");
	set(&p->cloud_account, "123456789012");
	provider_defaults(p);
	set(&p->default_tier, WS_DEFAULT_TIER);
	ws_strlist_add(&p->quota_managers, "group:system:masters");
	/* kubeadm >= 1.29: admin.conf is in this group, no longer in system:masters */
	ws_strlist_add(&p->quota_managers, "group:kubeadm:cluster-admins");
	ws_strlist_add(&p->quota_managers, "system:serviceaccount:workspace-system:workspace-controller");
	return ws_tiers_default(&p->tiers, err);
}

void ws_platform_release(ws_platform *p)
{
	free(p->system_namespace);
	ws_strlist_release(&p->domains);
	free(p->default_domain);
	free(p->flyte_endpoint);
	free(p->console_url);
	free(p->flyte_ca_file);
	free(p->flyte_namespace);
	free(p->flyteadmin_configmap);
	free(p->flyteadmin_config_key);
	ws_strlist_release(&p->allow_namespaces);
	free(p->cloud_provider);
	free(p->cloud_account);
	free(p->role_annotation);
	free(p->role_template);
	free(p->storage_scheme);
	free(p->default_tier);
	ws_tiers_release(&p->tiers);
	ws_strlist_release(&p->quota_managers);
	memset(p, 0, sizeof(*p));
}

/* ---- overlay ------------------------------------------------------------ */

struct field {
	const char *section; /* NULL for top level */
	const char *key;
	size_t offset;       /* of a char * in ws_platform */
};

#define F(sec, key, member) { sec, key, offsetof(ws_platform, member) }
static const struct field string_fields[] = {
	F(NULL, "systemNamespace", system_namespace),
	F(NULL, "defaultDomain", default_domain),
	F(NULL, "defaultTier", default_tier),
	F("flyte", "endpoint", flyte_endpoint),
	F("flyte", "consoleUrl", console_url),
	F("flyte", "caCertFile", flyte_ca_file),
	F("flyte", "namespace", flyte_namespace),
	F("flyte", "adminConfigMap", flyteadmin_configmap),
	F("flyte", "adminConfigKey", flyteadmin_config_key),
	F("cloud", "accountId", cloud_account),
	F("cloud", "roleAnnotation", role_annotation),
	F("cloud", "roleTemplate", role_template),
	F("cloud", "storageScheme", storage_scheme),
};
#undef F

static int string_list(ws_strlist *out, const cJSON *v, const char *name, ws_err *err)
{
	const cJSON *c;
	ws_strlist fresh = {0};

	if (!cJSON_IsArray(v))
		return ws_fail(err, WS_E_INVALID, "platform setting '%s' must be a list of strings", name);
	cJSON_ArrayForEach(c, v) {
		if (!cJSON_IsString(c) || !*c->valuestring) {
			ws_strlist_release(&fresh);
			return ws_fail(err, WS_E_INVALID,
				       "platform setting '%s' must be a list of non-empty strings", name);
		}
		ws_strlist_add(&fresh, c->valuestring);
	}
	ws_strlist_release(out);
	*out = fresh;
	return 0;
}

static int scalar_string(const cJSON *v, char *buf, size_t size, const char **out)
{
	if (cJSON_IsString(v)) {
		*out = v->valuestring;
		return 0;
	}
	if (cJSON_IsNumber(v)) {
		snprintf(buf, size, "%.0f", v->valuedouble);
		*out = buf;
		return 0;
	}
	return -1;
}

/* Apply one key of a section (NULL = top level); 1 if known, 0 if not, -1 on error. */
static int apply_key(ws_platform *p, const char *section, const cJSON *v, ws_err *err)
{
	const char *key = v->string;
	char num[64];
	const char *s;
	size_t i;

	for (i = 0; i < sizeof(string_fields) / sizeof(string_fields[0]); i++) {
		const struct field *f = &string_fields[i];

		if ((f->section == NULL) != (section == NULL) ||
		    (section && strcmp(section, f->section) != 0) || strcmp(key, f->key) != 0)
			continue;
		if (scalar_string(v, num, sizeof(num), &s))
			return ws_fail(err, WS_E_INVALID, "platform setting '%s%s%s' must be a string",
				       section ? section : "", section ? "." : "", key);
		set((char **)((char *)p + f->offset), s);
		return 1;
	}
	if (!section && strcmp(key, "namespaceTemplate") == 0) {
		if (!cJSON_IsString(v))
			return ws_fail(err, WS_E_INVALID, "platform setting 'namespaceTemplate' must be a string");
		return ws_ns_template_parse(&p->ns_template, v->valuestring, err) ? -1 : 1;
	}
	if (!section && strcmp(key, "domains") == 0)
		return string_list(&p->domains, v, key, err) ? -1 : 1;
	if (!section && strcmp(key, "quotaManagers") == 0)
		return string_list(&p->quota_managers, v, key, err) ? -1 : 1;
	if (!section && strcmp(key, "tiers") == 0)
		return ws_tiers_from_json(&p->tiers, v, err) ? -1 : 1;
	if (section && strcmp(section, "network") == 0 && strcmp(key, "allowNamespaces") == 0)
		return string_list(&p->allow_namespaces, v, "network.allowNamespaces", err) ? -1 : 1;
	if (section && strcmp(section, "cloud") == 0 && strcmp(key, "provider") == 0) {
		if (!cJSON_IsString(v) || (strcmp(v->valuestring, "aws") && strcmp(v->valuestring, "gcp")))
			return ws_fail(err, WS_E_INVALID, "platform setting 'cloud.provider' must be aws or gcp");
		set(&p->cloud_provider, v->valuestring);
		return 1;
	}
	return 0;
}

int ws_platform_apply(ws_platform *p, const cJSON *cfg, ws_err *err)
{
	const cJSON *c, *cloud;
	int rc;

	if (!cJSON_IsObject(cfg))
		return ws_fail(err, WS_E_INVALID, "platform settings must be a mapping");
	/* The provider decides the defaults the rest of "cloud" may override. */
	cloud = cJSON_GetObjectItemCaseSensitive(cfg, "cloud");
	if (cloud && !cJSON_IsObject(cloud))
		return ws_fail(err, WS_E_INVALID, "platform setting 'cloud' must be a mapping");
	c = cJSON_GetObjectItemCaseSensitive(cloud, "provider");
	if (c) {
		if (apply_key(p, "cloud", c, err) < 0)
			return -1;
		provider_defaults(p);
	}
	cJSON_ArrayForEach(c, cfg) {
		const char *section = c->string;
		const cJSON *sub;

		if (cJSON_IsObject(c) && (strcmp(section, "flyte") == 0 || strcmp(section, "cloud") == 0 ||
					  strcmp(section, "network") == 0)) {
			cJSON_ArrayForEach(sub, c) {
				rc = apply_key(p, section, sub, err);
				if (rc < 0)
					return -1;
				if (rc == 0)
					return ws_fail(err, WS_E_INVALID, "unknown platform setting '%s.%s'",
						       section, sub->string);
			}
			continue;
		}
		rc = apply_key(p, NULL, c, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return ws_fail(err, WS_E_INVALID, "unknown platform setting '%s'", section);
	}
	if (!p->domains.n)
		return ws_fail(err, WS_E_INVALID, "platform setting 'domains' must not be empty");
	if (!ws_strlist_has(&p->domains, p->default_domain))
		return ws_fail(err, WS_E_INVALID, "default domain '%s' is not one of the domains",
			       p->default_domain);
	if (!ws_tiers_find(&p->tiers, p->default_tier, err))
		return ws_err_prefix(err, "platform setting 'defaultTier'");
	return ws_check_dns_label(p->system_namespace, "system namespace", err);
}

int ws_platform_apply_text(ws_platform *p, const char *text, size_t len, const char *origin,
			   ws_err *err)
{
	cJSON *cfg = ws_yaml_parse(text, len, err);
	int rc;

	if (!cfg)
		return ws_err_prefix(err, "%s", origin);
	rc = ws_platform_apply(p, cfg, err);
	cJSON_Delete(cfg);
	return rc ? ws_err_prefix(err, "%s", origin) : 0;
}

int ws_platform_load_file(ws_platform *p, const char *path, ws_err *err)
{
	ws_buf b = WS_BUF_INIT(PLATFORM_FILE_MAX);
	char origin[512];
	int rc;

	if (ws_buf_read_file(&b, path, err))
		return -1;
	snprintf(origin, sizeof(origin), "platform config '%s'", path);
	rc = ws_platform_apply_text(p, b.data, b.len, origin, err);
	ws_buf_release(&b);
	return rc;
}

/* ---- templates and URLs ---------------------------------------------------- */

char *ws_template_render(const char *tmpl, const char *const *keys, const char *const *values,
			 size_t n, ws_err *err)
{
	ws_buf out = WS_BUF_INIT(1u << 16);
	const char *p = tmpl;

	while (*p) {
		const char *open = strstr(p, "{{"), *close, *k, *e;
		size_t i, kl;

		if (!open) {
			if (ws_buf_adds(&out, p, err))
				goto fail;
			break;
		}
		if (ws_buf_add(&out, p, (size_t)(open - p), err))
			goto fail;
		close = strstr(open, "}}");
		if (!close) {
			ws_fail(err, WS_E_INVALID, "template '%s' has an unclosed '{{'", tmpl);
			goto fail;
		}
		for (k = open + 2; *k == ' '; k++)
			;
		for (e = close; e > k && e[-1] == ' '; e--)
			;
		kl = (size_t)(e - k);
		for (i = 0; i < n; i++)
			if (strlen(keys[i]) == kl && strncmp(keys[i], k, kl) == 0)
				break;
		if (i == n) {
			ws_fail(err, WS_E_INVALID, "template '%s' has an unknown placeholder '%.*s'", tmpl,
				(int)kl, k);
			goto fail;
		}
		if (ws_buf_adds(&out, values[i], err))
			goto fail;
		p = close + 2;
	}
	if (!out.data && ws_buf_add(&out, "", 0, err))
		goto fail;
	return ws_buf_detach(&out, NULL);
fail:
	ws_buf_release(&out);
	return NULL;
}

char *ws_platform_console_url(const ws_platform *p, const char *project, const char *domain)
{
	ws_buf out = WS_BUF_INIT(4096);
	const char *base = p->console_url;
	char host[1024];
	size_t n;

	if (!base && p->flyte_endpoint) {
		/* The console is served by the same host as Admin: keep scheme://host[:port]. */
		const char *s = strstr(p->flyte_endpoint, "://");
		const char *h = s ? s + 3 : p->flyte_endpoint;
		const char *slash = strchr(h, '/');

		n = slash ? (size_t)(slash - p->flyte_endpoint) : strlen(p->flyte_endpoint);
		snprintf(host, sizeof(host), "%s%.*s", s ? "" : "https://", (int)n, p->flyte_endpoint);
		base = host;
	}
	if (!base)
		return NULL;
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (n >= 8 && strncmp(base + n - 8, "/console", 8) == 0)
		n -= 8;
	if (ws_buf_printf(&out, NULL, "%.*s/console/projects/%s/domains/%s/executions", (int)n, base,
			  project, domain)) {
		ws_buf_release(&out);
		return NULL;
	}
	return ws_buf_detach(&out, NULL);
}
