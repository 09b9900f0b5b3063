/* naming.c - slugs, workspace ids, namespace templates, derived names and
 * the Kubernetes/Flyte name validators (see naming.h). */
#include "naming.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_alnum_lower(c) || (c >= 'A' && c <= 'Z');
}

/* ---- transliteration -------------------------------------------------- */

/* U+00C0..U+00FF; "" means "not a letter" (becomes a separator). */
static const char *const latin1[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
};

/* U+0100..U+017F (Latin Extended-A). */
static const char *const latin_ext_a[128] = {
	"a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",
	"d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
	"g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",
	"i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",
	"l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
	"o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",
	"s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",
	"u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",
};

/* U+0386..U+03CE (Greek, simple Latin transliteration). */
static const char *const greek[73] = {
	"a", "", "e", "i", "i", "", "o", "", "y", "o", "i",              /* 0386-0390 */
	"a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", /* 0391-039D */
	"x", "o", "p", "r", "", "s", "t", "y", "f", "ch", "ps", "o",      /* 039E-03A9 */
	"i", "y", "a", "e", "i", "i", "y",                                /* 03AA-03B0 */
	"a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", /* 03B1-03BD */
	"x", "o", "p", "r", "s", "s", "t", "y", "f", "ch", "ps", "o",     /* 03BE-03C9 */
	"i", "y", "o", "y", "o",                                          /* 03CA-03CE */
};

/* U+0410..U+044F (Russian alphabet), lower half repeats the upper. */
static const char *const cyrillic[32] = {
	"a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
	"r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya",
};

/* ASCII letters/digits for one code point, "" for a separator, or NULL for
 * a code point that is dropped: a combining mark (U+0300..U+036F) belongs to
 * the letter before it, so "Re\u0301sume\u0301" gives the same slug as
 * "R\u00e9sum\u00e9". Full-width forms (U+FF01..U+FF5E) count as ASCII. */
static const char *translit(uint32_t cp, char ascii[2])
{
	if (cp >= 0xFF01 && cp <= 0xFF5E)
		cp -= 0xFEE0;
	if (cp < 0x80) {
		if (cp >= 'A' && cp <= 'Z')
			cp += 'a' - 'A';
		if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
			ascii[0] = (char)cp;
			ascii[1] = '\0';
			return ascii;
		}
		return "";
	}
	if (cp >= 0x300 && cp <= 0x36F)
		return NULL;
	if (cp >= 0xC0 && cp <= 0xFF)
		return latin1[cp - 0xC0];
	if (cp >= 0x100 && cp <= 0x17F)
		return latin_ext_a[cp - 0x100];
	if (cp >= 0x386 && cp <= 0x3CE)
		return greek[cp - 0x386];
	if (cp >= 0x410 && cp <= 0x44F)
		return cyrillic[(cp - 0x410) % 32];
	if (cp == 0x401 || cp == 0x451)
		return "e";
	return "";
}

/* Decode one UTF-8 sequence at s as RFC 3629 has it (no overlong forms, no
 * surrogates, nothing above U+10FFFF); returns its length, 0 if invalid.
 * Never reads past a NUL: a NUL is not a continuation byte. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	uint32_t c, min;
	size_t n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0)
		n = 2, c = s[0] & 0x1F, min = 0x80;
	else if ((s[0] & 0xF0) == 0xE0)
		n = 3, c = s[0] & 0x0F, min = 0x800;
	else if ((s[0] & 0xF8) == 0xF0)
		n = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

/* The message quotes no input: the bytes are what is wrong with it. */
int ws_check_utf8(const char *s, const char *what, ws_err *err)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n;

	for (; *p; p += n)
		if (!(n = utf8_decode(p, &cp)))
			return ws_fail(err, WS_E_INVALID,
				       "%s is not valid UTF-8 (byte 0x%02x at offset %zu)", what, *p,
				       (size_t)(p - (const unsigned char *)s));
	return 0;
}

/* ---- slug and id -------------------------------------------------------- */

int ws_slugify(const char *name, size_t max_len, char *out, size_t outsz, ws_err *err)
{
	const unsigned char *p = (const unsigned char *)(name ? name : "");
	size_t len = 0;
	int pending_dash = 0;

	if (outsz == 0)
		return ws_fail(err, WS_E_INTERNAL, "slug buffer too small");
	if (!name || !*name)
		return ws_fail(err, WS_E_INVALID, "the workspace name is empty");
	if (ws_check_utf8(name, "the workspace name", err))
		return -1;
	if (max_len == 0)
		return ws_fail(err, WS_E_INVALID,
			       "the namespace template leaves no room for a workspace id");
	if (max_len > outsz - 1)
		max_len = outsz - 1;
	while (*p && len < max_len) {
		char ascii[2];
		uint32_t cp;
		const char *t;

		p += utf8_decode(p, &cp);
		t = translit(cp, ascii);
		if (!t)
			continue;
		if (!*t) {
			pending_dash = len > 0;
			continue;
		}
		if (pending_dash && len < max_len) {
			out[len++] = '-';
			pending_dash = 0;
		}
		for (; *t && len < max_len; t++)
			out[len++] = *t;
	}
	while (len > 0 && out[len - 1] == '-')
		len--;
	out[len] = '\0';
	if (len == 0)
		return ws_fail(err, WS_E_INVALID,
			       "name '%s' has no letters or digits to build an id from "
			       "(use a-z, 0-9, or Latin, Greek or Cyrillic letters)", name);
	return 0;
}

int ws_slug_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '-') {
			if (s[i + 1] == '-')
				return 0;
		} else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
			return 0;
		}
	}
	return 1;
}

int ws_id_format(const char *slug, unsigned seq, char out[WS_NAME_BUF], ws_err *err)
{
	int n;

	if (!ws_slug_valid(slug))
		return ws_fail(err, WS_E_INVALID, "invalid slug '%s'", slug);
	if (seq < 1 || seq > WS_SEQ_MAX)
		return ws_fail(err, WS_E_INVALID,
			       "no free workspace number for '%s' (001 to 999 are taken)", slug);
	n = snprintf(out, WS_NAME_BUF, "ws-%s-%03u", slug, seq);
	if (n < 0 || n > WS_DNS_LABEL_MAX)
		return ws_fail(err, WS_E_INVALID, "workspace id for slug '%s' is longer than 63 characters",
			       slug);
	return 0;
}

int ws_id_parse(const char *id, char slug[WS_NAME_BUF], unsigned *seq, ws_err *err)
{
	size_t n = strlen(id), slen;
	const char *d;

	if (n > WS_DNS_LABEL_MAX || n < 8 || strncmp(id, "ws-", 3) != 0 || id[n - 4] != '-')
		goto bad;
	d = id + n - 3;
	if (d[0] < '0' || d[0] > '9' || d[1] < '0' || d[1] > '9' || d[2] < '0' || d[2] > '9')
		goto bad;
	slen = n - 3 - 4;
	memcpy(slug, id + 3, slen);
	slug[slen] = '\0';
	if (!ws_slug_valid(slug))
		goto bad;
	*seq = (unsigned)((d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0'));
	if (*seq == 0)
		goto bad;
	return 0;
bad:
	slug[0] = '\0';
	return ws_fail(err, WS_E_INVALID,
		       "'%s' is not a workspace id: expected ws-<slug>-<NNN>, the slug of "
		       "lower-case letters, digits and single '-', NNN from 001 to 999, at most 63 characters",
		       id);
}

/* ---- namespace template -------------------------------------------------- */

/* Match "{{ word }}" at p (spaces optional); returns its length or 0. */
static size_t placeholder(const char *p, const char *word)
{
	const char *s = p;
	size_t wl = strlen(word);

	if (strncmp(s, "{{", 2) != 0)
		return 0;
	s += 2;
	while (*s == ' ')
		s++;
	if (strncmp(s, word, wl) != 0)
		return 0;
	s += wl;
	while (*s == ' ')
		s++;
	if (strncmp(s, "}}", 2) != 0)
		return 0;
	return (size_t)(s + 2 - p);
}

static int literal_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

int ws_ns_template_parse(ws_ns_template *t, const char *text, ws_err *err)
{
	const char *p = text;
	int part = 0, seen_project = 0;
	size_t len = 0, n;

	memset(t, 0, sizeof(*t));
	if (strlen(text) >= sizeof(t->text))
		return ws_fail(err, WS_E_INVALID, "namespace template '%s' is too long", text);
	snprintf(t->text, sizeof(t->text), "%s", text);
	while (*p) {
		if ((n = placeholder(p, "project")) || (n = placeholder(p, "domain"))) {
			int is_project = p[2 + strspn(p + 2, " ")] == 'p';

			if (is_project ? seen_project : t->has_domain)
				return ws_fail(err, WS_E_INVALID,
					       "namespace template '%s' has a placeholder twice", text);
			if (is_project)
				seen_project = 1;
			else
				t->has_domain = 1, t->domain_first = !seen_project;
			t->lit[part][len] = '\0';
			part++;
			len = 0;
			p += n;
			continue;
		}
		if (*p == '{')
			return ws_fail(err, WS_E_INVALID,
				       "namespace template '%s': only {{ project }} and {{ domain }} are allowed",
				       text);
		if (len + 1 >= sizeof(t->lit[0]))
			return ws_fail(err, WS_E_INVALID, "namespace template '%s' is too long", text);
		t->lit[part][len++] = *p++;
	}
	t->lit[part][len] = '\0';
	if (!seen_project)
		return ws_fail(err, WS_E_INVALID, "namespace template '%s' has no {{ project }}", text);
	for (part = 0; part < 3; part++)
		if (!literal_ok(t->lit[part]))
			return ws_fail(err, WS_E_INVALID,
				       "namespace template '%s': text outside placeholders must be a-z, 0-9 or '-'",
				       text);
	if (t->lit[0][0] == '-' || (t->lit[2][0] && t->lit[2][strlen(t->lit[2]) - 1] == '-'))
		return ws_fail(err, WS_E_INVALID,
			       "namespace template '%s' would give names starting or ending with '-'", text);
	if (t->has_domain && !t->lit[1][0])
		return ws_fail(err, WS_E_INVALID,
			       "namespace template '%s' needs text between {{ project }} and {{ domain }}",
			       text);
	return 0;
}

int ws_ns_render(const ws_ns_template *t, const char *project, const char *domain,
		 char out[WS_NAME_BUF], ws_err *err)
{
	char buf[512];
	const char *first = project, *second = domain;

	if (t->has_domain && !domain)
		return ws_fail(err, WS_E_INVALID, "namespace template '%s' needs a domain", t->text);
	if (t->has_domain && t->domain_first)
		first = domain, second = project;
	if (t->has_domain)
		snprintf(buf, sizeof(buf), "%s%s%s%s%s", t->lit[0], first, t->lit[1], second, t->lit[2]);
	else
		snprintf(buf, sizeof(buf), "%s%s%s", t->lit[0], project, t->lit[1]);
	if (ws_check_dns_label(buf, "namespace", err))
		return -1;
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

/* Strip `lit` from the front of *s (advancing) or the back (shortening *n). */
static int strip_front(const char **s, size_t *n, const char *lit)
{
	size_t l = strlen(lit);

	if (*n < l || strncmp(*s, lit, l) != 0)
		return 0;
	*s += l;
	*n -= l;
	return 1;
}

static int strip_back(const char *s, size_t *n, const char *lit)
{
	size_t l = strlen(lit);

	if (*n < l || strncmp(s + *n - l, lit, l) != 0)
		return 0;
	*n -= l;
	return 1;
}

/* Find the id slot for one candidate domain (NULL without domains). */
static int id_slot(const ws_ns_template *t, const char *ns, const char *domain,
		   const char **slot, size_t *slot_len)
{
	const char *s = ns;
	size_t n = strlen(ns);

	if (!strip_front(&s, &n, t->lit[0]))
		return 0;
	if (!t->has_domain) {
		if (!strip_back(s, &n, t->lit[1]))
			return 0;
	} else if (t->domain_first) {
		if (!strip_front(&s, &n, domain) || !strip_front(&s, &n, t->lit[1]) ||
		    !strip_back(s, &n, t->lit[2]))
			return 0;
	} else {
		if (!strip_back(s, &n, t->lit[2]) || !strip_back(s, &n, domain) ||
		    !strip_back(s, &n, t->lit[1]))
			return 0;
	}
	if (n < 3 || strncmp(s, "ws-", 3) != 0)
		return 0;
	*slot = s;
	*slot_len = n;
	return 1;
}

/* In the workspace pattern: the template's literal text around an id slot
 * that starts with "ws-", whatever stands where the domain goes. Such a name
 * is a workspace namespace or a malformed one, never an unrelated one. */
static int in_pattern(const ws_ns_template *t, const char *ns)
{
	const char *s = ns, *hit;
	size_t n = strlen(ns), l1 = strlen(t->lit[1]);

	if (!strip_front(&s, &n, t->lit[0]))
		return 0;
	if (!t->has_domain)
		return strip_back(s, &n, t->lit[1]) && n >= 3 && strncmp(s, "ws-", 3) == 0;
	if (!strip_back(s, &n, t->lit[2]))
		return 0;
	if (!t->domain_first)
		return n >= 3 && strncmp(s, "ws-", 3) == 0;
	/* "<domain><lit1>ws-...": the separator followed by "ws-", after a domain */
	for (hit = s + 1; hit + l1 + 3 <= s + n; hit++)
		if (strncmp(hit, t->lit[1], l1) == 0 && strncmp(hit + l1, "ws-", 3) == 0)
			return 1;
	return 0;
}

enum ws_ns_kind ws_ns_classify(const ws_ns_template *t, const char *const *domains,
			       size_t ndomains, const char *ns, char id[WS_NAME_BUF],
			       char domain[WS_NAME_BUF], ws_err *why)
{
	size_t i, tries = t->has_domain ? ndomains : 1, slot_len = 0;
	const char *slot = NULL, *dom = NULL;
	char idbuf[WS_NAME_BUF], slug[WS_NAME_BUF];
	unsigned seq;

	for (i = 0; i < tries && !slot; i++) {
		dom = t->has_domain ? domains[i] : NULL;
		if (!id_slot(t, ns, dom, &slot, &slot_len))
			slot = NULL;
	}
	if (!slot && !in_pattern(t, ns))
		return WS_NS_OTHER;
	if (!slot || slot_len >= WS_NAME_BUF ||
	    ws_id_parse((memcpy(idbuf, slot, slot_len), idbuf[slot_len] = '\0', idbuf), slug, &seq,
			NULL) ||
	    ws_check_dns_label(ns, "namespace", NULL)) {
		char doms[256] = "";

		for (i = 0; t->has_domain && i < ndomains; i++)
			snprintf(doms + strlen(doms), sizeof(doms) - strlen(doms), "%s%s",
				 i ? ", " : " and domain one of ", domains[i]);
		ws_fail(why, WS_E_INVALID,
			"namespace '%s' is in the workspace pattern but is not a valid workspace "
			"namespace: expected %s with project ws-<slug>-<NNN> (slug of a-z, 0-9 and "
			"single '-', NNN from 001 to 999)%s, at most 63 characters",
			ns, t->text, doms);
		return WS_NS_MALFORMED;
	}
	if (id)
		memcpy(id, idbuf, strlen(idbuf) + 1);
	if (domain)
		snprintf(domain, WS_NAME_BUF, "%s", dom ? dom : "");
	return WS_NS_WORKSPACE;
}

/* The longest of the template's domains ("" without {{ domain }}). */
static const char *longest_domain(const ws_ns_template *t, const char *const *domains,
				  size_t ndomains)
{
	const char *longest = "";
	size_t i;

	if (t->has_domain)
		for (i = 0; i < ndomains; i++)
			if (strlen(domains[i]) > strlen(longest))
				longest = domains[i];
	return longest;
}

size_t ws_slug_max(const ws_ns_template *t, const char *const *domains, size_t ndomains)
{
	size_t fixed = strlen(t->lit[0]) + strlen(t->lit[1]) + strlen(t->lit[2]);
	size_t longest = strlen(longest_domain(t, domains, ndomains));
	size_t id_max, bucket_id_max = WS_DNS_LABEL_MAX - strlen("-data");

	id_max = WS_DNS_LABEL_MAX > fixed + longest ? WS_DNS_LABEL_MAX - fixed - longest : 0;
	if (id_max > bucket_id_max)
		id_max = bucket_id_max;
	/* "ws-" + slug + "-NNN" */
	return id_max > 7 ? id_max - 7 : 0;
}

int ws_slug_room(const ws_ns_template *t, const char *const *domains, size_t ndomains,
		 size_t *max, ws_err *err)
{
	const char *longest = longest_domain(t, domains, ndomains);

	*max = ws_slug_max(t, domains, ndomains);
	if (*max > 0)
		return 0;
	if (*longest)
		return ws_fail(err, WS_E_INVALID,
			       "namespace template '%s' leaves no room for a workspace id "
			       "(at most 63 characters with domain '%s')", t->text, longest);
	return ws_fail(err, WS_E_INVALID,
		       "namespace template '%s' leaves no room for a workspace id (at most 63 characters)",
		       t->text);
}

/* ---- users and derived names ---------------------------------------------- */

int ws_user_part(const char *user, char out[WS_NAME_BUF], ws_err *err)
{
	if (!user || !*user)
		return ws_fail(err, WS_E_INVALID, "a member has an empty user id");
	if (ws_check_utf8(user, "a member's user id", err))
		return -1;
	if (ws_slugify(user, WS_DNS_LABEL_MAX, out, WS_NAME_BUF, NULL))
		return ws_fail(err, WS_E_INVALID,
			       "user '%s' has no letters or digits to build object names from", user);
	return 0;
}

/* ---- GCP service account id -------------------------------------------------- */

/* 32-bit FNV-1a: short, stable on every platform, good enough to tell apart
 * the few ids that share a 21-character prefix. */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int ws_gcp_sa_id(const char *id, char out[WS_NAME_BUF], ws_err *err)
{
	size_t n = strlen(id), keep = WS_GCP_SA_MAX - 9; /* room for "-" + 8 hex digits */

	if (n <= WS_GCP_SA_MAX) {
		snprintf(out, WS_NAME_BUF, "%s", id);
	} else {
		while (keep > 0 && id[keep - 1] == '-')
			keep--;
		snprintf(out, WS_NAME_BUF, "%.*s-%08x", (int)keep, id, (unsigned)fnv1a(id));
	}
	return ws_check_gcp_sa_id(out, err);
}

int ws_check_gcp_sa_id(const char *s, ws_err *err)
{
	size_t i, n = strlen(s);

	if (n > WS_GCP_SA_MAX)
		return ws_fail(err, WS_E_INVALID,
			       "GCP service account id '%s' is longer than 30 characters", s);
	for (i = 0; i < n; i++)
		if (!is_alnum_lower(s[i]) && s[i] != '-')
			break;
	if (n < WS_GCP_SA_MIN || i < n || !(s[0] >= 'a' && s[0] <= 'z') || s[n - 1] == '-')
		return ws_fail(err, WS_E_INVALID,
			       "GCP service account id '%s' is invalid: 6 to 30 lower-case letters, "
			       "digits and '-', starting with a letter and not ending with '-'",
			       s);
	return 0;
}

int ws_name(enum ws_name_kind kind, const char *id, const char *user_part,
	    char out[WS_LONG_NAME_BUF], ws_err *err)
{
	int n;

	switch (kind) {
	case WS_NAME_RECORD:
		n = snprintf(out, WS_LONG_NAME_BUF, "%s", id);
		break;
	case WS_NAME_QUOTA:
		n = snprintf(out, WS_LONG_NAME_BUF, "%s-quota", id);
		break;
	case WS_NAME_ROLE:
	case WS_NAME_BINDING:
		if (!user_part || !ws_slug_valid(user_part))
			return ws_fail(err, WS_E_INVALID, "invalid user name part '%s'",
				       user_part ? user_part : "");
		n = snprintf(out, WS_LONG_NAME_BUF, "%s-%s-%s", id, user_part,
			     kind == WS_NAME_ROLE ? "role" : "binding");
		break;
	case WS_NAME_RUNNER_SA:
		n = snprintf(out, WS_LONG_NAME_BUF, "flyte-%s-runner", id);
		break;
	case WS_NAME_BUCKET:
		n = snprintf(out, WS_LONG_NAME_BUF, "%s-data", id);
		break;
	case WS_NAME_NETPOL:
		n = snprintf(out, WS_LONG_NAME_BUF, "%s-isolation", id);
		break;
	default:
		return ws_fail(err, WS_E_INTERNAL, "unknown name kind %d", (int)kind);
	}
	if (n < 0 || n >= WS_LONG_NAME_BUF)
		return ws_fail(err, WS_E_INVALID, "derived name for '%s' is too long", id);
	if (kind == WS_NAME_BUCKET && n > WS_DNS_LABEL_MAX)
		return ws_fail(err, WS_E_INVALID, "bucket name '%s' is longer than 63 characters", out);
	return 0;
}

/* ---- validators ------------------------------------------------------------ */

int ws_check_dns_label(const char *s, const char *what, ws_err *err)
{
	size_t i, n = strlen(s);

	if (n == 0)
		return ws_fail(err, WS_E_INVALID, "%s name is empty", what);
	if (n > WS_DNS_LABEL_MAX)
		return ws_fail(err, WS_E_INVALID, "%s '%s' is longer than 63 characters", what, s);
	for (i = 0; i < n; i++)
		if (!is_alnum_lower(s[i]) && s[i] != '-')
			break;
	if (i < n || s[0] == '-' || s[n - 1] == '-')
		return ws_fail(err, WS_E_INVALID,
			       "%s '%s' is not a valid DNS-1123 label: lower-case letters, digits and "
			       "'-', starting and ending with a letter or digit",
			       what, s);
	return 0;
}

int ws_check_dns_subdomain(const char *s, const char *what, ws_err *err)
{
	size_t i, n = strlen(s);

	if (n == 0)
		return ws_fail(err, WS_E_INVALID, "%s name is empty", what);
	if (n > WS_DNS_SUBDOMAIN_MAX)
		return ws_fail(err, WS_E_INVALID, "%s '%s' is longer than 253 characters", what, s);
	for (i = 0; i < n; i++) {
		char c = s[i];
		int edge = i == 0 || i == n - 1 || s[i - 1] == '.' || s[i + 1] == '.';

		if (is_alnum_lower(c))
			continue;
		if ((c == '-' || c == '.') && !edge)
			continue;
		return ws_fail(err, WS_E_INVALID,
			       "%s '%s' is not a valid DNS-1123 subdomain: lower-case letters, digits, "
			       "'-' and '.', each part starting and ending with a letter or digit",
			       what, s);
	}
	return 0;
}

/* name part of a label key or a label value: (([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])? */
static int label_token_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 1;
	if (!is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

int ws_check_label_value(const char *s, ws_err *err)
{
	size_t n = strlen(s);

	if (n > WS_DNS_LABEL_MAX || !label_token_ok(s, n))
		return ws_fail(err, WS_E_INVALID,
			       "label value '%s' is invalid: at most 63 characters, letters, digits, "
			       "'-', '_' or '.', starting and ending with a letter or digit",
			       s);
	return 0;
}

int ws_check_label_key(const char *s, ws_err *err)
{
	const char *slash = strchr(s, '/');
	const char *name = slash ? slash + 1 : s;
	size_t n = strlen(name);

	if (slash) {
		char prefix[WS_LONG_NAME_BUF];
		size_t pl = (size_t)(slash - s);

		if (pl == 0 || pl >= sizeof(prefix))
			goto bad;
		memcpy(prefix, s, pl);
		prefix[pl] = '\0';
		if (ws_check_dns_subdomain(prefix, "label prefix", NULL))
			goto bad;
	}
	if (n == 0 || n > WS_DNS_LABEL_MAX || !label_token_ok(name, n))
		goto bad;
	return 0;
bad:
	return ws_fail(err, WS_E_INVALID,
		       "label key '%s' is invalid: an optional DNS subdomain prefix and '/', then a "
		       "name of at most 63 letters, digits, '-', '_' or '.'",
		       s);
}

int ws_check_email(const char *s, ws_err *err)
{
	const char *at = strchr(s, '@'), *p, *label;

	if (ws_check_utf8(s, "e-mail address", err))
		return -1;
	if (!at || at == s || strchr(at + 1, '@') || strlen(s) > 254)
		goto bad;
	for (p = s; p < at; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '(' || *p == ')' || *p == ',' ||
		    *p == ':' || *p == ';' || *p == '<' || *p == '>' || *p == '[' || *p == ']' ||
		    *p == '\\' || (unsigned char)*p >= 0x7f)
			goto bad;
	if (!strchr(at + 1, '.'))
		goto bad;
	for (label = p = at + 1;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || label[0] == '-' || p[-1] == '-')
				goto bad;
			if (!*p)
				break;
			label = p + 1;
		} else if (!is_alnum(*p) && *p != '-') {
			goto bad;
		}
	}
	return 0;
bad:
	return ws_fail(err, WS_E_INVALID, "'%s' is not a valid e-mail address (expected user@example.com)",
		       s);
}
