/* jsondoc.c - read-only JSON documents parsed into an arena (see jsondoc.h).
 * The grammar and its corner cases follow cJSON 1.7.15's parser. */
#include "jsondoc.h"

#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The first block is sized for the whole tree: six times the text, where a
 * review's tree takes four (5.2 KB for the 1.3 KB bench review), so that
 * reviews with more nodes per byte still fit; more blocks, doubling up to
 * BLOCK_MAX, if it does not. */
#define BLOCK_MIN ((size_t)4 << 10)
#define BLOCK_MAX ((size_t)1 << 20)
#define NUMBER_MAX 63 /* longer numbers are copied to the arena for strtod */

struct ws_json_block {
	struct ws_json_block *next;
	size_t size, used;
	/* size bytes follow, 8-aligned (the header is three words) */
};

typedef struct parser {
	const unsigned char *s;
	size_t len, off;
	int depth, max_depth;
	int strict;           /* refuse duplicate keys and trailing text (ws_json_doc_parse_with) */
	size_t next_block;    /* 0: the arena may not grow (a cap was given) */
	ws_json_doc *doc;
	const char *oom;      /* set when an allocation failed */
	int nul;              /* the last string parsed holds a NUL */
} parser;

/* A new block of at least n bytes, of which the first n are taken. */
static void *take_block(parser *p, size_t n)
{
	size_t size = n > p->next_block ? n : p->next_block;
	struct ws_json_block *b;

	if (!p->next_block && p->doc->blocks) {
		p->doc->too_big = 1;
		return NULL;
	}
	b = malloc(sizeof(*b) + size);
	if (!b) {
		p->oom = "out of memory";
		return NULL;
	}
	if (p->next_block && p->next_block < BLOCK_MAX)
		p->next_block *= 2;
	b->next = p->doc->blocks;
	b->size = size;
	b->used = n;
	p->doc->blocks = b;
	return b + 1;
}

static inline void *take(parser *p, size_t n, size_t align)
{
	struct ws_json_block *b = p->doc->blocks;
	size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;

	if (b && at <= b->size && n <= b->size - at) {
		b->used = at + n;
		return (unsigned char *)(b + 1) + at;
	}
	return take_block(p, n);
}

static cJSON *new_node(parser *p)
{
	cJSON *n = take(p, sizeof(cJSON), sizeof(void *));

	if (n)
		memset(n, 0, sizeof(*n));
	return n;
}

static void skip_ws(parser *p)
{
	while (p->off < p->len && p->s[p->off] <= 32)
		p->off++;
}

static int at(const parser *p, unsigned char c)
{
	return p->off < p->len && p->s[p->off] == c;
}

/* Four hex digits; 0 for anything else, as cJSON does. */
static unsigned hex4(const unsigned char *s)
{
	unsigned h = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned char c = s[i];

		h <<= 4;
		if (c >= '0' && c <= '9')
			h |= (unsigned)(c - '0');
		else if (c >= 'A' && c <= 'F')
			h |= (unsigned)(c - 'A' + 10);
		else if (c >= 'a' && c <= 'f')
			h |= (unsigned)(c - 'a' + 10);
		else
			return 0;
	}
	return h;
}

/* A \u escape with its four hex digits (or a surrogate pair of them) at in,
 * before end, as UTF-8 at *out.
 * Returns the escape's length, 0 when it is invalid. */
static size_t utf16_escape(const unsigned char *in, const unsigned char *end, unsigned char **out)
{
	unsigned long cp;
	unsigned first, second;
	size_t seq = 6, n, i;
	unsigned char mark = 0;

	if (end - in < 6)
		return 0;
	first = hex4(in + 2);
	if (first >= 0xDC00 && first <= 0xDFFF)
		return 0;
	cp = first;
	if (first >= 0xD800 && first <= 0xDBFF) {
		if (end - in < 12 || in[6] != '\\' || in[7] != 'u')
			return 0;
		second = hex4(in + 8);
		if (second < 0xDC00 || second > 0xDFFF)
			return 0;
		cp = 0x10000 + (((first & 0x3FF) << 10) | (second & 0x3FF));
		seq = 12;
	}
	if (cp < 0x80) {
		n = 1;
	} else if (cp < 0x800) {
		n = 2;
		mark = 0xC0;
	} else if (cp < 0x10000) {
		n = 3;
		mark = 0xE0;
	} else {
		n = 4;
		mark = 0xF0;
	}
	for (i = n - 1; i > 0; i--) {
		(*out)[i] = (unsigned char)((cp | 0x80) & 0xBF);
		cp >>= 6;
	}
	(*out)[0] = (unsigned char)(n > 1 ? (cp | mark) & 0xFF : cp & 0x7F);
	*out += n;
	return seq;
}

/* Whether any of the 8 bytes in w is c (the zero-byte test on w ^ c). */
static int has_byte(uint64_t w, unsigned char c)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t x = w ^ (ones * c);

	return ((x - ones) & ~x & (ones << 7)) != 0;
}

/* A string literal at p->off into a NUL-terminated copy. One function of
 * about 90 lines, on purpose: it is the webhook's hottest loop (every key
 * and string of every review), and the escape-free path (find the quote,
 * copy once) falls through to the escape path with its scan state. */
static int parse_string(parser *p, char **out)
{
	const unsigned char *s = p->s, *in, *end, *esc;
	size_t i, skipped = 0;
	unsigned char *o;

	p->nul = 0;
	if (!at(p, '"'))
		return -1;
	/* Most strings have no escape: find the quote, copy what is before it. */
	in = s + p->off + 1;
	end = s + p->len;
	for (esc = in; end - esc >= 8; esc += 8) {
		uint64_t w;

		memcpy(&w, esc, sizeof(w));
		if (has_byte(w, '"') || has_byte(w, '\\'))
			break;
	}
	while (esc < end && *esc != '"' && *esc != '\\')
		esc++;
	if (esc == end)
		return -1;
	if (*esc == '"') {
		o = take(p, (size_t)(esc - in) + 1, 1);
		if (!o)
			return -1;
		memcpy(o, in, (size_t)(esc - in));
		o[esc - in] = '\0';
		*out = (char *)o;
		p->off = (size_t)(esc - s) + 1;
		p->nul = memchr(o, '\0', (size_t)(esc - in)) != NULL; /* a raw NUL byte */
		return 0;
	}
	i = (size_t)(esc - s);
	while (i < p->len && s[i] != '"') {
		if (s[i] == '\\') {
			if (i + 1 >= p->len)
				return -1;
			skipped++;
			i++;
		}
		i++;
	}
	if (i >= p->len)
		return -1;
	o = take(p, i - p->off - skipped + 1, 1);
	if (!o)
		return -1;
	*out = (char *)o;
	end = s + i;
	while (in < end) {
		const unsigned char *run = in;

		while (in < end && *in != '\\')
			in++;
		memcpy(o, run, (size_t)(in - run));
		o += in - run;
		if (in == end)
			break;
		switch (in[1]) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case '"':
		case '\\':
		case '/': *o++ = in[1]; break;
		case 'u': {
			size_t n = utf16_escape(in, end, &o);

			if (!n) {
				p->off = (size_t)(in - s);
				return -1;
			}
			in += n;
			continue;
		}
		default:
			p->off = (size_t)(in - s);
			return -1;
		}
		in += 2;
	}
	*o = '\0';
	p->off = i + 1;
	p->nul = strlen(*out) != (size_t)(o - (unsigned char *)*out);
	return 0;
}

static int is_number_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == 'e' || c == 'E' || c == '.';
}

/* What strtod reads of the number characters at p->off. */
static int parse_number(parser *p, cJSON *item)
{
	char small[NUMBER_MAX + 1], *num = small, *after, point = localeconv()->decimal_point[0];
	size_t n = 0, i;
	double d;

	while (p->off + n < p->len && is_number_char(p->s[p->off + n]))
		n++;
	if (n > NUMBER_MAX && !(num = take(p, n + 1, 1)))
		return -1;
	memcpy(num, p->s + p->off, n);
	num[n] = '\0';
	for (i = 0; point != '.' && i < n; i++)
		if (num[i] == '.')
			num[i] = point;
	d = strtod(num, &after);
	if (after == num)
		return -1;
	item->type = cJSON_Number;
	item->valuedouble = d;
	item->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
	p->off += (size_t)(after - num);
	return 0;
}

static int parse_value(parser *p, cJSON *item);

static int key_order(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 1 when two members of the object starting at head have the same key:
 * pairwise for a few, through one sort for many. Keys holding a NUL are
 * left out (read cut, they could seem to repeat another): a reader that
 * cares refuses them as such (WS_JSON_NUL_KEY). */
static int duplicate_key(parser *p, const cJSON *head, size_t n)
{
	const cJSON *a, *b;
	const char **keys;
	size_t i;
	int dup = 0;

	if (n <= 16) {
		for (a = head; a; a = a->next)
			for (b = a->next; b && !(a->type & WS_JSON_NUL_KEY); b = b->next)
				if (!(b->type & WS_JSON_NUL_KEY) && strcmp(a->string, b->string) == 0)
					return 1;
		return 0;
	}
	keys = malloc(n * sizeof(*keys));
	if (!keys) {
		p->oom = "out of memory";
		return 1;
	}
	for (i = 0, a = head; a; a = a->next)
		if (!(a->type & WS_JSON_NUL_KEY))
			keys[i++] = a->string;
	n = i;
	qsort(keys, n, sizeof(*keys), key_order);
	for (i = 1; i < n && !dup; i++)
		dup = strcmp(keys[i - 1], keys[i]) == 0;
	free(keys);
	return dup;
}

/* The members of an array (keys NULL) or object, after its opening bracket. */
static int parse_members(parser *p, cJSON *item, int object)
{
	const unsigned char close = object ? '}' : ']';
	cJSON *head = NULL, *tail = NULL;
	size_t members = 0;
	int key_nul;

	if (p->depth >= p->max_depth) {
		p->doc->too_deep = 1;
		return -1;
	}
	p->depth++;
	p->off++;
	skip_ws(p);
	if (!at(p, close)) {
		for (;;) {
			cJSON *n = new_node(p);

			if (!n)
				return -1;
			if (tail) {
				tail->next = n;
				n->prev = tail;
			} else {
				head = n;
			}
			tail = n;
			members++;
			key_nul = 0;
			if (object) {
				if (parse_string(p, &n->string))
					return -1;
				key_nul = p->nul;
				p->doc->nul |= key_nul;
				skip_ws(p);
				if (!at(p, ':'))
					return -1;
				p->off++;
				skip_ws(p);
			}
			if (parse_value(p, n))
				return -1;
			if (key_nul)
				n->type |= WS_JSON_NUL_KEY;
			skip_ws(p);
			if (!at(p, ','))
				break;
			p->off++;
			skip_ws(p);
		}
		if (!at(p, close))
			return -1;
		head->prev = tail;
		if (object && p->strict && duplicate_key(p, head, members)) {
			p->doc->duplicate = !p->oom;
			return -1;
		}
	}
	p->off++;
	p->depth--;
	item->type = object ? cJSON_Object : cJSON_Array;
	item->child = head;
	return 0;
}

static int parse_value(parser *p, cJSON *item)
{
	const unsigned char *c = p->s + p->off;
	size_t left = p->len - p->off;

	if (left >= 4 && memcmp(c, "null", 4) == 0) {
		item->type = cJSON_NULL;
		p->off += 4;
		return 0;
	}
	if (left >= 5 && memcmp(c, "false", 5) == 0) {
		item->type = cJSON_False;
		p->off += 5;
		return 0;
	}
	if (left >= 4 && memcmp(c, "true", 4) == 0) {
		item->type = cJSON_True;
		item->valueint = 1;
		p->off += 4;
		return 0;
	}
	if (!left)
		return -1;
	switch (*c) {
	case '"':
		item->type = cJSON_String;
		if (parse_string(p, &item->valuestring))
			return -1;
		if (p->nul) {
			item->type |= WS_JSON_NUL_VALUE;
			p->doc->nul = 1;
		}
		return 0;
	case '[':
		return parse_members(p, item, 0);
	case '{':
		return parse_members(p, item, 1);
	default:
		if (*c == '-' || (*c >= '0' && *c <= '9'))
			return parse_number(p, item);
		return -1;
	}
}

size_t ws_json_doc_bound(const char *data, size_t len)
{
	const unsigned char *s = (const unsigned char *)data;
	size_t values = 1, i = 0;

	while (i < len) {
		unsigned char c = s[i++];

		if (c == '"') {
			while (i < len && s[i] != '"')
				i += s[i] == '\\' ? 2 : 1;
			i++;
		} else if (c == ',' || c == '[' || c == '{') {
			values++;
		}
	}
	/* per value: its node, the padding before the next node, and the NULs
	 * of its key and string; the text of every string and long number is
	 * copied at most once */
	return values * (sizeof(cJSON) + sizeof(void *) + 2) + len;
}

int ws_json_doc_parse_with(ws_json_doc *doc, const char *data, size_t len,
			   const ws_json_limits *lim, ws_err *err)
{
	parser p = {(const unsigned char *)data, len, 0, 0, lim->max_depth, lim->strict, 0, doc,
		    NULL, 0};
	int too_deep, too_big, duplicate;

	memset(doc, 0, sizeof(*doc));
	if (!lim->max_bytes)
		p.next_block = len < BLOCK_MIN / 6 ? BLOCK_MIN : len * 6 < BLOCK_MAX ? len * 6
										 : BLOCK_MAX;
	else if (!take_block(&p, lim->max_bytes))
		goto fail;
	else
		doc->blocks->used = 0;
	if (len >= 5 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		p.off = 3;
	skip_ws(&p);
	if (len && (doc->root = new_node(&p)) && parse_value(&p, doc->root) == 0) {
		skip_ws(&p);
		if (!p.strict || p.off == len)
			return 0;
		doc->trailing = 1;
	}
fail:
	if (p.oom)
		ws_fail(err, WS_E_INTERNAL, "%s", p.oom);
	else if (doc->too_deep)
		ws_fail(err, WS_E_INVALID, "nested deeper than %d levels", lim->max_depth);
	else if (doc->too_big)
		ws_fail(err, WS_E_INVALID, "its tree would take more than %zu bytes", lim->max_bytes);
	else if (doc->duplicate)
		ws_fail(err, WS_E_INVALID, "an object has a duplicate key (before byte %zu)", p.off);
	else if (doc->trailing)
		ws_fail(err, WS_E_INVALID, "text after the JSON value at byte %zu", p.off);
	else
		ws_fail(err, WS_E_INVALID, "invalid JSON at byte %zu", p.off < len ? p.off : len);
	too_deep = doc->too_deep;
	too_big = doc->too_big;
	duplicate = doc->duplicate;
	ws_json_doc_release(doc);
	doc->too_deep = too_deep;
	doc->too_big = too_big;
	doc->duplicate = duplicate;
	return -1;
}

int ws_json_doc_parse(ws_json_doc *doc, const char *data, size_t len, int max_depth, ws_err *err)
{
	ws_json_limits lim = {max_depth, 0, 0};

	return ws_json_doc_parse_with(doc, data, len, &lim, err);
}

void ws_json_doc_release(ws_json_doc *doc)
{
	while (doc->blocks) {
		struct ws_json_block *b = doc->blocks;

		doc->blocks = b->next;
		free(b);
	}
	memset(doc, 0, sizeof(*doc));
}
