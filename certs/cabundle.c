/* cabundle.c - caBundle injection into YAML or JSON manifests (see cabundle.h). */
#include "cabundle.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "xalloc.h"
#include "yamlconv.h"

#define OUT_MAX ((size_t)64 << 20)

static int is_webhook_kind(const char *k)
{
	return k && (strcmp(k, "MutatingWebhookConfiguration") == 0 ||
		     strcmp(k, "ValidatingWebhookConfiguration") == 0);
}

/* ---- JSON -------------------------------------------------------------------- */

static int fill_json(cJSON *obj, const char *b64, size_t *count, ws_err *err)
{
	const char *kind = ws_json_str(obj, "kind", NULL);
	cJSON *items, *it, *hooks, *cc;

	if (cJSON_IsArray(obj) || (kind && strcmp(kind, "List") == 0)) {
		items = cJSON_IsArray(obj) ? obj : ws_json_get(obj, "items", NULL);
		cJSON_ArrayForEach(it, items)
			if (fill_json(it, b64, count, err))
				return -1;
		return 0;
	}
	if (!is_webhook_kind(kind))
		return 0;
	hooks = ws_json_get(obj, "webhooks", NULL);
	cJSON_ArrayForEach(it, hooks) {
		cc = ws_json_get(it, "clientConfig", NULL);
		if (!cJSON_IsObject(cc))
			return ws_fail(err, WS_E_INVALID, "webhook '%s' of %s '%s' has no clientConfig",
				       ws_json_str(it, "name", NULL) ? ws_json_str(it, "name", NULL) : "?",
				       kind, ws_json_str(obj, "metadata", "name", NULL)
						     ? ws_json_str(obj, "metadata", "name", NULL) : "?");
		ws_json_set_str(cc, "caBundle", b64);
		(*count)++;
	}
	return 0;
}

static char *inject_json(const char *text, size_t len, const char *b64, size_t *count,
			 ws_err *err)
{
	cJSON *root = ws_json_parse(text, len, err);
	char *out = NULL, *printed;
	size_t n;

	if (!root)
		return NULL;
	if (fill_json(root, b64, count, err) == 0) {
		printed = cJSON_Print(root);
		n = strlen(printed);
		out = xmalloc(n + 2);
		memcpy(out, printed, n);
		memcpy(out + n, "\n", 2);
		free(printed);
	}
	cJSON_Delete(root);
	return out;
}

/* ---- YAML, edited as text ----------------------------------------------------- */

typedef struct line {
	const char *s;
	size_t len;  /* without the line break (a trailing '\r' included) */
	size_t full; /* with it */
} line;

enum action { KEEP, DROP, REPLACE };

typedef struct lines {
	line *v;
	size_t n;
	enum action *act;
	size_t *col;    /* REPLACE: indentation of the caBundle line */
	size_t *insert; /* after this line: insert caBundle at insert[i]-1 columns (0: none) */
} lines;

static size_t text_len(const line *l)
{
	size_t n = l->len;

	if (n && l->s[n - 1] == '\r')
		n--;
	return n;
}

static size_t indent_of(const line *l)
{
	size_t i = 0, n = text_len(l);

	while (i < n && l->s[i] == ' ')
		i++;
	return i;
}

static int blank_or_comment(const line *l)
{
	size_t i = indent_of(l), n = text_len(l);

	return i == n || l->s[i] == '#';
}

/* The content after indentation and "- " sequence markers; *col its column. */
static const char *content(const line *l, size_t *col, size_t *clen)
{
	size_t i = indent_of(l), n = text_len(l);

	while (i + 1 < n && l->s[i] == '-' && l->s[i + 1] == ' ') {
		i += 2;
		while (i < n && l->s[i] == ' ')
			i++;
	}
	*col = i;
	*clen = n - i;
	return l->s + i;
}

/* "key:" at the start of c, followed by nothing, a space or a comment. */
static int is_key(const char *c, size_t clen, const char *key, const char **rest, size_t *rlen)
{
	size_t k = strlen(key);

	if (clen < k + 1 || memcmp(c, key, k) != 0 || c[k] != ':' ||
	    (clen > k + 1 && c[k + 1] != ' '))
		return 0;
	*rest = c + k + 1;
	*rlen = clen - k - 1;
	while (*rlen && **rest == ' ') {
		(*rest)++;
		(*rlen)--;
	}
	return 1;
}

static void split_lines(const char *text, size_t len, lines *L)
{
	size_t i = 0, cap = 64;

	L->v = xmalloc(cap * sizeof(*L->v));
	L->n = 0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (L->n == cap)
			L->v = xrealloc(L->v, (cap *= 2) * sizeof(*L->v));
		L->v[L->n].s = text + i;
		L->v[L->n].len = end - i;
		L->v[L->n].full = (nl ? end + 1 : end) - i;
		L->n++;
		i = nl ? end + 1 : len;
	}
	L->act = xcalloc(L->n + 1, sizeof(*L->act));
	L->col = xcalloc(L->n + 1, sizeof(*L->col));
	L->insert = xcalloc(L->n + 1, sizeof(*L->insert));
}

static void free_lines(lines *L)
{
	free(L->v);
	free(L->act);
	free(L->col);
	free(L->insert);
}

static int is_separator(const line *l)
{
	size_t n = text_len(l);

	return (n >= 3 && (memcmp(l->s, "---", 3) == 0 || memcmp(l->s, "...", 3) == 0) &&
		(n == 3 || l->s[3] == ' '));
}

/* The document's top-level kind names a webhook configuration. */
static int webhook_doc(const lines *L, size_t a, size_t b)
{
	size_t i, col, clen, rlen, n;
	const char *c, *rest;
	char kind[64];

	for (i = a; i < b; i++) {
		if (indent_of(&L->v[i]) != 0)
			continue;
		c = content(&L->v[i], &col, &clen);
		if (col != 0 || !is_key(c, clen, "kind", &rest, &rlen))
			continue;
		/* the scalar: unquoted, or in single or double quotes */
		if (rlen && (*rest == '"' || *rest == '\'')) {
			const char *q = memchr(rest + 1, *rest, rlen - 1);

			n = q ? (size_t)(q - rest - 1) : 0;
			rest++;
		} else {
			for (n = 0; n < rlen && rest[n] != ' ' && rest[n] != '#'; n++)
				;
		}
		if (n >= sizeof(kind))
			return 0;
		memcpy(kind, rest, n);
		kind[n] = '\0';
		return is_webhook_kind(kind);
	}
	return 0;
}

/* Plan the edit of one clientConfig block whose key is on line i at column col. */
static int plan_client_config(lines *L, size_t i, size_t col, size_t b, ws_err *err)
{
	size_t j, k, child, found = 0, c2, clen, rlen;
	const char *c, *rest;
	int have = 0;

	for (j = i + 1; j < b && blank_or_comment(&L->v[j]); j++)
		;
	if (j == b || indent_of(&L->v[j]) <= col)
		return ws_fail(err, WS_E_INVALID, "line %zu: clientConfig has no fields", i + 1);
	child = indent_of(&L->v[j]);
	for (k = j; k < b; k++) {
		if (blank_or_comment(&L->v[k]))
			continue;
		if (indent_of(&L->v[k]) < child)
			break;
		c = content(&L->v[k], &c2, &clen);
		if (indent_of(&L->v[k]) == child && c2 == child &&
		    is_key(c, clen, "caBundle", &rest, &rlen)) {
			have = 1;
			found = k;
			break;
		}
	}
	if (!have) {
		L->insert[i] = child + 1;
		return 0;
	}
	L->act[found] = REPLACE;
	L->col[found] = child;
	/* continuation lines of the old value */
	for (k = found + 1; k < b; k++) {
		if (!blank_or_comment(&L->v[k]) && indent_of(&L->v[k]) <= child)
			break;
		if (blank_or_comment(&L->v[k]) && indent_of(&L->v[k]) <= child)
			continue;
		L->act[k] = DROP;
	}
	return 0;
}

static int plan_doc(lines *L, size_t a, size_t b, ws_err *err)
{
	size_t i, col, clen, rlen;
	const char *c, *rest;

	for (i = a; i < b; i++) {
		if (blank_or_comment(&L->v[i]))
			continue;
		c = content(&L->v[i], &col, &clen);
		if (!is_key(c, clen, "clientConfig", &rest, &rlen))
			continue;
		if (rlen && *rest != '#')
			return ws_fail(err, WS_E_INVALID,
				       "line %zu: clientConfig in flow style is not supported; write "
				       "it as a block mapping (or give JSON)",
				       i + 1);
		if (plan_client_config(L, i, col, b, err))
			return -1;
	}
	return 0;
}

static int emit_bundle(ws_buf *out, size_t col, const char *b64, int crlf, ws_err *err)
{
	return ws_buf_printf(out, err, "%*scaBundle: %s%s", (int)col, "", b64, crlf ? "\r\n" : "\n");
}

static int render(const lines *L, const char *b64, ws_buf *out, ws_err *err)
{
	size_t i;

	for (i = 0; i < L->n; i++) {
		const line *l = &L->v[i];
		int crlf = l->len && l->s[l->len - 1] == '\r';

		if (L->act[i] == DROP)
			continue;
		if (L->act[i] == REPLACE) {
			if (emit_bundle(out, L->col[i], b64, crlf, err))
				return -1;
		} else if (ws_buf_add(out, l->s, l->full, err)) {
			return -1;
		}
		if (L->insert[i]) {
			if (l->full == l->len && ws_buf_adds(out, "\n", err)) /* last line had no break */
				return -1;
			if (emit_bundle(out, L->insert[i] - 1, b64, crlf, err))
				return -1;
		}
	}
	return 0;
}

/* Parse every document of the result; count webhooks carrying b64, fail on any other. */
static int verify(const char *text, size_t len, const char *b64, size_t *count, ws_err *err)
{
	lines L = {0};
	size_t a = 0, b;
	int rc = -1;

	split_lines(text, len, &L);
	for (b = 0; b <= L.n; b++) {
		cJSON *doc, *hook;
		const char *start, *end;

		if (b < L.n && !is_separator(&L.v[b]))
			continue;
		if (b > a && webhook_doc(&L, a, b)) {
			start = L.v[a].s;
			end = L.v[b - 1].s + L.v[b - 1].full;
			doc = ws_yaml_parse(start, (size_t)(end - start), err);
			if (!doc)
				goto out;
			cJSON_ArrayForEach(hook, ws_json_get(doc, "webhooks", NULL)) {
				const char *got = ws_json_str(hook, "clientConfig", "caBundle", NULL);

				if (!got || strcmp(got, b64) != 0) {
					ws_fail(err, WS_E_INVALID,
						"webhook '%s' (line %zu on) did not get the caBundle: "
						"unsupported layout; give the manifest as JSON",
						ws_json_str(hook, "name", NULL) ? ws_json_str(hook, "name", NULL)
										 : "?",
						a + 1);
					cJSON_Delete(doc);
					goto out;
				}
				(*count)++;
			}
			cJSON_Delete(doc);
		}
		a = b + 1;
	}
	rc = 0;
out:
	free_lines(&L);
	return rc;
}

static char *inject_yaml(const char *text, size_t len, const char *b64, size_t *count,
			 ws_err *err)
{
	ws_buf out = WS_BUF_INIT(OUT_MAX);
	lines L = {0};
	size_t a = 0, b;
	char *res = NULL;

	split_lines(text, len, &L);
	for (b = 0; b <= L.n; b++) {
		if (b < L.n && !is_separator(&L.v[b]))
			continue;
		if (b > a && webhook_doc(&L, a, b) && plan_doc(&L, a, b, err))
			goto out;
		a = b + 1;
	}
	if (render(&L, b64, &out, err) || ws_buf_add(&out, "", 0, err) ||
	    verify(out.data, out.len, b64, count, err))
		goto out;
	res = ws_buf_detach(&out, NULL);
out:
	free_lines(&L);
	ws_buf_release(&out);
	return res;
}

char *cabundle_inject(const char *text, size_t len, const char *b64, size_t *count, ws_err *err)
{
	size_t i = 0;
	char *out;

	*count = 0;
	while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
		i++;
	if (i < len && (text[i] == '{' || text[i] == '['))
		out = inject_json(text, len, b64, count, err);
	else
		out = inject_yaml(text, len, b64, count, err);
	if (out && *count == 0) {
		free(out);
		ws_fail(err, WS_E_INVALID,
			"no MutatingWebhookConfiguration or ValidatingWebhookConfiguration with "
			"webhooks found");
		return NULL;
	}
	return out;
}
