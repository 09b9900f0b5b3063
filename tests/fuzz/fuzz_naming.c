/* fuzz_naming.c - any workspace name gives a valid slug, id, namespace and
 * derived names, or a refusal with a reason; parsing gives the parts back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "naming.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const domains[] = {"development", "staging", "production"};
	char name[4096], slug[WS_NAME_BUF], id[WS_NAME_BUF], ns[WS_NAME_BUF], back[WS_NAME_BUF];
	char part[WS_NAME_BUF], derived[WS_LONG_NAME_BUF], dom[WS_NAME_BUF];
	ws_ns_template t;
	unsigned seq;
	ws_err err;

	if (size >= sizeof(name))
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	if (ws_ns_template_parse(&t, "flyte-{{ project }}", &err))
		abort();
	if (ws_slugify(name, ws_slug_max(&t, domains, 3), slug, sizeof(slug), &err)) {
		if (!err.msg[0])
			abort();
	} else {
		if (!ws_slug_valid(slug) || ws_id_format(slug, 999, id, &err) ||
		    ws_ns_render(&t, id, NULL, ns, &err) || ws_check_dns_label(ns, "ns", &err) ||
		    ws_ns_classify(&t, domains, 3, ns, back, dom, &err) != WS_NS_WORKSPACE ||
		    strcmp(back, id) != 0 || ws_id_parse(id, back, &seq, &err) ||
		    strcmp(back, slug) != 0 || seq != 999 ||
		    ws_name(WS_NAME_BUCKET, id, NULL, derived, &err) ||
		    ws_check_dns_label(derived, "bucket", &err))
			abort();
	}
	if (!ws_user_part(name, part, &err) &&
	    (ws_name(WS_NAME_BINDING, "ws-a-001", part, derived, &err) ||
	     ws_check_dns_subdomain(derived, "binding", &err)))
		abort();
	/* classification never crashes on arbitrary namespace names */
	ws_ns_classify(&t, domains, 3, name, back, dom, &err);
	return 0;
}
