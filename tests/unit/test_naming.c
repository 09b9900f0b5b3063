/* test_naming.c - every naming rule of DESIGN §3 with exact expected values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "naming.h"

static void slug_is(const char *name, size_t max, const char *want)
{
	char out[WS_NAME_BUF];
	ws_err err;

	ws_err_clear(&err);
	if (ws_slugify(name, max, out, sizeof(out), &err) != 0)
		fail_msg("slugify('%s') failed: %s", name, err.msg);
	assert_string_equal(out, want);
	assert_true(ws_slug_valid(out));
}

static void slug_fails(const char *name, const char *reason_part)
{
	char out[WS_NAME_BUF];
	ws_err err;

	ws_err_clear(&err);
	assert_int_equal(ws_slugify(name, 50, out, sizeof(out), &err), -1);
	assert_int_equal(err.kind, WS_E_INVALID);
	assert_non_null(strstr(err.msg, reason_part));
}

static void test_slug_basic(void **state)
{
	(void)state;
	slug_is("Customer Segmentation Analysis", 50, "customer-segmentation-analysis");
	slug_is("  many   spaces  between ", 50, "many-spaces-between");
	slug_is("under_score.dot/slash", 50, "under-score-dot-slash");
	slug_is("--Leading and trailing--", 50, "leading-and-trailing");
	slug_is("2024 Forecast", 50, "2024-forecast");
	slug_is("123", 50, "123");
	slug_is("A", 50, "a");
	slug_is("MiXeD CaSe", 50, "mixed-case");
	slug_is("tab\tand\nnewline", 50, "tab-and-newline");
}

static void test_slug_unicode(void **state)
{
	(void)state;
	slug_is("Café Über Straße", 50, "cafe-uber-strasse");
	slug_is("Ανάλυση Πελατών", 50, "analysi-pelaton");
	slug_is("Анализ клиентов", 50, "analiz-klientov");
	slug_is("Łódź Żółć", 50, "lodz-zolc");
	slug_is("Sales 🚀 Rocket", 50, "sales-rocket");
	slug_is("データ 2025", 50, "2025");
	slug_is("Æsir Œuvre", 50, "aesir-oeuvre");
	/* combining accents (decomposed spelling) are dropped, not separators */
	slug_is("Re\xcc\x81sume\xcc\x81 Team", 50, "resume-team");
	slug_is("Résumé Team", 50, "resume-team");
	slug_is("Zu\xcc\x88rich a \xcc\x81" "b", 50, "zurich-a-b");
	/* full-width ASCII forms count as their ASCII letters and digits */
	slug_is("ｆｕｌｌ Ｗｉｄｔｈ　１２", 50, "full-width-12");
	slug_is("ＡＢＣ！ｄｅｆ～", 50, "abc-def");
}

static void slug_fails_exactly(const char *name, size_t max, const char *want)
{
	char out[WS_NAME_BUF];
	ws_err err;

	ws_err_clear(&err);
	assert_int_equal(ws_slugify(name, max, out, sizeof(out), &err), -1);
	assert_int_equal(err.kind, WS_E_INVALID);
	assert_string_equal(err.msg, want);
}

static void test_utf8(void **state)
{
	char part[WS_NAME_BUF];
	ws_err err;

	(void)state;
	slug_fails_exactly("Caf\xe9 team", 50,
			   "the workspace name is not valid UTF-8 (byte 0xe9 at offset 3)");
	slug_fails_exactly("\xc0\xaf overlong", 50,
			   "the workspace name is not valid UTF-8 (byte 0xc0 at offset 0)");
	slug_fails_exactly("ok \xed\xa0\x80 surrogate", 50,
			   "the workspace name is not valid UTF-8 (byte 0xed at offset 3)");
	slug_fails_exactly("ab\xe2\x82", 50,
			   "the workspace name is not valid UTF-8 (byte 0xe2 at offset 2)");
	slug_fails_exactly("\xf4\x90\x80\x80", 50,
			   "the workspace name is not valid UTF-8 (byte 0xf4 at offset 0)");
	slug_fails_exactly("x\x80", 50, "the workspace name is not valid UTF-8 (byte 0x80 at offset 1)");
	slug_fails_exactly("\xcc\x81\xcc\x81", 50,
			   "name '\xcc\x81\xcc\x81' has no letters or digits to build an id from "
			   "(use a-z, 0-9, or Latin, Greek or Cyrillic letters)");

	assert_int_equal(ws_check_utf8("Café 🚀 Ωμέγα", "name", &err), 0);
	assert_int_equal(ws_check_utf8("\xf4\x8f\xbf\xbf", "name", &err), 0); /* U+10FFFF */
	assert_int_equal(ws_check_utf8("\xe0\x80\x80", "name", &err), -1);    /* overlong */

	ws_err_clear(&err);
	assert_int_equal(ws_user_part("b\xe9" "b", part, &err), -1);
	assert_string_equal(err.msg, "a member's user id is not valid UTF-8 (byte 0xe9 at offset 1)");
	assert_int_equal(ws_check_email("caf\xe9@example.com", &err), -1);
	assert_string_equal(err.msg, "e-mail address is not valid UTF-8 (byte 0xe9 at offset 3)");
	assert_int_equal(ws_check_email("a@ex\xc3" "ample.com", &err), -1);
	assert_string_equal(err.msg, "e-mail address is not valid UTF-8 (byte 0xc3 at offset 4)");
}

static void test_slug_errors(void **state)
{
	(void)state;
	slug_fails("", "empty");
	slug_fails("!!! ??? ...", "no letters or digits");
	slug_fails("🚀🚀🚀", "no letters or digits");
	slug_fails("データ", "no letters or digits");
	slug_fails("   ", "no letters or digits");
}

static void test_slug_length(void **state)
{
	char name[301], want[51];

	(void)state;
	memset(name, 'a', 300);
	name[300] = '\0';
	memset(want, 'a', 50);
	want[50] = '\0';
	slug_is(name, 50, want);
	/* a cut that lands on a separator never leaves a trailing '-' */
	slug_is("abcdefghij klmnopqrst", 10, "abcdefghij");
	slug_is("abcdefghi klmnopqrst", 10, "abcdefghi");
	/* transliteration that does not fit is cut too */
	slug_is("abcdefghiß", 10, "abcdefghis");
}

static void test_slug_valid(void **state)
{
	(void)state;
	assert_true(ws_slug_valid("a"));
	assert_true(ws_slug_valid("a-b-1"));
	assert_false(ws_slug_valid(""));
	assert_false(ws_slug_valid("-a"));
	assert_false(ws_slug_valid("a-"));
	assert_false(ws_slug_valid("a--b"));
	assert_false(ws_slug_valid("A"));
	assert_false(ws_slug_valid("a_b"));
}

static void test_id_format_parse(void **state)
{
	char id[WS_NAME_BUF], slug[WS_NAME_BUF];
	unsigned seq;
	ws_err err;

	(void)state;
	assert_int_equal(ws_id_format("customer-segmentation-analysis", 1, id, &err), 0);
	assert_string_equal(id, "ws-customer-segmentation-analysis-001");
	assert_int_equal(ws_id_format("x", 42, id, &err), 0);
	assert_string_equal(id, "ws-x-042");
	assert_int_equal(ws_id_format("x", 999, id, &err), 0);
	assert_string_equal(id, "ws-x-999");
	assert_int_equal(ws_id_format("x", 0, id, &err), -1);
	assert_int_equal(ws_id_format("x", 1000, id, &err), -1);
	assert_non_null(strstr(err.msg, "no free workspace number"));
	assert_int_equal(ws_id_format("Bad", 1, id, &err), -1);

	assert_int_equal(ws_id_parse("ws-customer-segmentation-analysis-001", slug, &seq, &err), 0);
	assert_string_equal(slug, "customer-segmentation-analysis");
	assert_int_equal(seq, 1);
	assert_int_equal(ws_id_parse("ws-q3-2024-017", slug, &seq, &err), 0);
	assert_string_equal(slug, "q3-2024");
	assert_int_equal(seq, 17);

	assert_int_equal(ws_id_parse("ws-foo", slug, &seq, &err), -1);
	assert_non_null(strstr(err.msg, "expected ws-<slug>-<NNN>"));
	assert_int_equal(ws_id_parse("ws-foo-1234", slug, &seq, &err), -1);
	assert_int_equal(ws_id_parse("ws-foo-000", slug, &seq, &err), -1);
	assert_int_equal(ws_id_parse("ws--001", slug, &seq, &err), -1);
	assert_int_equal(ws_id_parse("ws-Foo-001", slug, &seq, &err), -1);
	assert_int_equal(ws_id_parse("xs-foo-001", slug, &seq, &err), -1);
	assert_int_equal(ws_id_parse("ws-foo--001", slug, &seq, &err), -1);
	assert_int_equal(ws_id_parse("ws-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-001", slug, &seq,
				     &err), -1); /* 64 characters */
}

static void test_template(void **state)
{
	ws_ns_template t;
	char ns[WS_NAME_BUF];
	ws_err err;

	(void)state;
	assert_int_equal(ws_ns_template_parse(&t, "flyte-{{ project }}", &err), 0);
	assert_false(t.has_domain);
	assert_int_equal(ws_ns_render(&t, "ws-a-001", NULL, ns, &err), 0);
	assert_string_equal(ns, "flyte-ws-a-001");

	assert_int_equal(ws_ns_template_parse(&t, "{{project}}-{{ domain }}", &err), 0);
	assert_true(t.has_domain);
	assert_false(t.domain_first);
	assert_int_equal(ws_ns_render(&t, "ws-a-001", "development", ns, &err), 0);
	assert_string_equal(ns, "ws-a-001-development");

	assert_int_equal(ws_ns_template_parse(&t, "{{ domain }}-{{ project }}-x", &err), 0);
	assert_true(t.domain_first);
	assert_int_equal(ws_ns_render(&t, "ws-a-001", "staging", ns, &err), 0);
	assert_string_equal(ns, "staging-ws-a-001-x");

	assert_int_equal(ws_ns_template_parse(&t, "flyte", &err), -1);
	assert_non_null(strstr(err.msg, "no {{ project }}"));
	assert_int_equal(ws_ns_template_parse(&t, "{{ project }}-{{ project }}", &err), -1);
	assert_int_equal(ws_ns_template_parse(&t, "Flyte-{{ project }}", &err), -1);
	assert_int_equal(ws_ns_template_parse(&t, "{{ project }}{{ domain }}", &err), -1);
	assert_int_equal(ws_ns_template_parse(&t, "x-{{ tenant }}", &err), -1);
	assert_int_equal(ws_ns_template_parse(&t, "-{{ project }}", &err), -1);
}

static void test_classify(void **state)
{
	const char *domains[] = {"development", "staging", "production"};
	ws_ns_template t;
	char id[WS_NAME_BUF], dom[WS_NAME_BUF];
	ws_err err;

	(void)state;
	ws_ns_template_parse(&t, "flyte-{{ project }}", &err);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "flyte-ws-demo-001", id, dom, &err),
			 WS_NS_WORKSPACE);
	assert_string_equal(id, "ws-demo-001");
	assert_string_equal(dom, "");
	assert_int_equal(ws_ns_classify(&t, domains, 3, "kube-system", id, dom, &err), WS_NS_OTHER);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "flyte", id, dom, &err), WS_NS_OTHER);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "flyte-system", id, dom, &err), WS_NS_OTHER);
	ws_err_clear(&err);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "flyte-ws-demo", id, dom, &err), WS_NS_MALFORMED);
	assert_non_null(strstr(err.msg, "expected flyte-{{ project }} with project ws-<slug>-<NNN>"));
	assert_int_equal(ws_ns_classify(&t, domains, 3, "flyte-ws-Demo-001", id, dom, &err),
			 WS_NS_MALFORMED);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "flyte-ws--001", id, dom, &err), WS_NS_MALFORMED);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "flyte-ws-demo-1", id, dom, &err),
			 WS_NS_MALFORMED);

	ws_ns_template_parse(&t, "{{ project }}-{{ domain }}", &err);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "ws-demo-001-staging", id, dom, &err),
			 WS_NS_WORKSPACE);
	assert_string_equal(id, "ws-demo-001");
	assert_string_equal(dom, "staging");
	assert_int_equal(ws_ns_classify(&t, domains, 3, "ws-demo-production", id, dom, &err),
			 WS_NS_MALFORMED);
	/* in the pattern, with an unknown domain or none: malformed, never "other" */
	ws_err_clear(&err);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "ws-demo-001-qa", id, dom, &err),
			 WS_NS_MALFORMED);
	assert_non_null(strstr(err.msg, "expected {{ project }}-{{ domain }} with project "
				       "ws-<slug>-<NNN>"));
	assert_non_null(strstr(err.msg, "domain one of development, staging, production"));
	assert_int_equal(ws_ns_classify(&t, domains, 3, "ws-demo-001", id, dom, &err),
			 WS_NS_MALFORMED);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "team-a", id, dom, &err), WS_NS_OTHER);

	ws_ns_template_parse(&t, "flyte-{{ project }}-{{ domain }}", &err);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "flyte-ws-demo-001-staging", id, dom, &err),
			 WS_NS_WORKSPACE);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "flyte-ws-demo-001-qa", id, dom, &err),
			 WS_NS_MALFORMED);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "flyte-ws-demo-001", id, dom, &err),
			 WS_NS_MALFORMED);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "flyte-ws-", id, dom, &err), WS_NS_MALFORMED);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "flyte-system", id, dom, &err), WS_NS_OTHER);

	/* domain first: the domain's place is whatever precedes "-ws-" */
	ws_ns_template_parse(&t, "{{ domain }}-{{ project }}", &err);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "staging-ws-demo-001", id, dom, &err),
			 WS_NS_WORKSPACE);
	assert_string_equal(dom, "staging");
	assert_int_equal(ws_ns_classify(&t, domains, 3, "qa-ws-demo-001", id, dom, &err),
			 WS_NS_MALFORMED);
	assert_int_equal(ws_ns_classify(&t, domains, 3, "ws-demo-001", id, dom, &err), WS_NS_OTHER);
}

static void test_slug_max(void **state)
{
	const char *domains[] = {"development", "staging", "production"};
	ws_ns_template t;
	ws_err err;

	(void)state;
	ws_ns_template_parse(&t, "flyte-{{ project }}", &err);
	/* 63 - len("flyte-") = 57 for the id; minus "ws-" and "-NNN" */
	assert_int_equal(ws_slug_max(&t, domains, 3), 50);
	ws_ns_template_parse(&t, "{{ project }}", &err);
	/* the bucket "<id>-data" is the limit here: 58 - 7 */
	assert_int_equal(ws_slug_max(&t, domains, 3), 51);
	ws_ns_template_parse(&t, "flyte-{{ project }}-{{ domain }}", &err);
	/* 63 - 6 - 1 - 11 ("development") = 45; minus 7 */
	assert_int_equal(ws_slug_max(&t, domains, 3), 38);
}

static void test_slug_room(void **state)
{
	const char *domains[] = {"development", "staging", "production"};
	const char *long_domains[] = {"development", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	ws_ns_template t;
	size_t max = 99;
	ws_err err;

	(void)state;
	ws_ns_template_parse(&t, "flyte-{{ project }}", &err);
	assert_int_equal(ws_slug_room(&t, domains, 3, &max, &err), 0);
	assert_int_equal(max, 50);

	/* a 49-character domain: 63 - 7 - 49 = 7, too short for "ws-" + slug + "-NNN" */
	ws_ns_template_parse(&t, "flyte-{{ project }}-{{ domain }}", &err);
	ws_err_clear(&err);
	assert_int_equal(ws_slug_room(&t, long_domains, 2, &max, &err), -1);
	assert_int_equal(max, 0);
	assert_string_equal(err.msg,
			    "namespace template 'flyte-{{ project }}-{{ domain }}' leaves no room for a "
			    "workspace id (at most 63 characters with domain "
			    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')");
	/* one character less leaves room for a one-character slug */
	long_domains[1] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	assert_int_equal(ws_slug_room(&t, long_domains, 2, &max, &err), 0);
	assert_int_equal(max, 1);

	/* a 55-character literal prefix */
	ws_ns_template_parse(&t, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-{{ project }}", &err);
	ws_err_clear(&err);
	assert_int_equal(ws_slug_room(&t, domains, 3, &max, &err), -1);
	assert_string_equal(err.msg,
			    "namespace template 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-"
			    "{{ project }}' leaves no room for a workspace id (at most 63 characters)");

	/* ws_slugify itself never says "no letters" when it has no room */
	slug_fails_exactly("Team", 0, "the namespace template leaves no room for a workspace id");
}

static void gsa_is(const char *id, const char *want)
{
	char out[WS_NAME_BUF];
	ws_err err;

	ws_err_clear(&err);
	if (ws_gcp_sa_id(id, out, &err))
		fail_msg("ws_gcp_sa_id('%s') failed: %s", id, err.msg);
	assert_string_equal(out, want);
}

static void test_gcp_sa_id(void **state)
{
	char id[WS_NAME_BUF], out[WS_NAME_BUF], slug[WS_NAME_BUF];
	ws_err err;
	size_t n;

	(void)state;
	gsa_is("ws-churn-001", "ws-churn-001");
	gsa_is("ws-abcdefghijklmnopqrstuvw-001", "ws-abcdefghijklmnopqrstuvw-001"); /* 30: kept */
	gsa_is("ws-abcdefghijklmnopqrstuvwx-001", "ws-abcdefghijklmnopqr-0eb53d88"); /* 31 */
	gsa_is("ws-customer-segmentation-analysis-001", "ws-customer-segmentat-640f3572");
	gsa_is("ws-customer-segmentation-analysis-002", "ws-customer-segmentat-630f33df");
	/* a cut that lands on '-' drops it */
	gsa_is("ws-aaaaaaaaaaaaaaaaa-bbbbbbbbbbbbb-001", "ws-aaaaaaaaaaaaaaaaa-c876d218");

	/* every workspace id, from the shortest to the longest, gives a valid id */
	for (n = 1; n <= 50; n++) {
		memset(slug, 'q', n);
		slug[n] = '\0';
		if (n > 2)
			slug[n / 2] = '-';
		assert_int_equal(ws_id_format(slug, 999, id, &err), 0);
		assert_int_equal(ws_gcp_sa_id(id, out, &err), 0);
		assert_true(strlen(out) >= 6 && strlen(out) <= 30);
		assert_int_equal(ws_check_gcp_sa_id(out, &err), 0);
	}

	assert_int_equal(ws_check_gcp_sa_id("ws-a-1", &err), 0);
	assert_int_equal(ws_check_gcp_sa_id("ws-customer-segmentation-analysis-001", &err), -1);
	assert_string_equal(err.msg, "GCP service account id 'ws-customer-segmentation-analysis-001' "
			    "is longer than 30 characters");
	assert_int_equal(ws_check_gcp_sa_id("ws-a1", &err), -1);
	assert_string_equal(err.msg, "GCP service account id 'ws-a1' is invalid: 6 to 30 lower-case "
			    "letters, digits and '-', starting with a letter and not ending with '-'");
	assert_int_equal(ws_check_gcp_sa_id("1abcdef", &err), -1);
	assert_int_equal(ws_check_gcp_sa_id("abcdef-", &err), -1);
	assert_int_equal(ws_check_gcp_sa_id("Abcdef", &err), -1);
	assert_int_equal(ws_check_gcp_sa_id("abc_def", &err), -1);
}

static void test_longest_name_fits(void **state)
{
	const char *domains[] = {"development"};
	char name[301], slug[WS_NAME_BUF], id[WS_NAME_BUF], ns[WS_NAME_BUF], b[WS_LONG_NAME_BUF];
	ws_ns_template t;
	ws_err err;

	(void)state;
	memset(name, 'x', 300);
	name[300] = '\0';
	ws_ns_template_parse(&t, "flyte-{{ project }}", &err);
	assert_int_equal(ws_slugify(name, ws_slug_max(&t, domains, 1), slug, sizeof(slug), &err), 0);
	assert_int_equal(ws_id_format(slug, 999, id, &err), 0);
	assert_int_equal(strlen(id), 57);
	assert_int_equal(ws_ns_render(&t, id, NULL, ns, &err), 0);
	assert_int_equal(strlen(ns), 63);
	assert_int_equal(ws_check_dns_label(ns, "namespace", &err), 0);
	assert_int_equal(ws_name(WS_NAME_BUCKET, id, NULL, b, &err), 0);
	assert_int_equal(strlen(b), 62);
}

static void test_user_part(void **state)
{
	char part[WS_NAME_BUF];
	ws_err err;

	(void)state;
	assert_int_equal(ws_user_part("alice", part, &err), 0);
	assert_string_equal(part, "alice");
	assert_int_equal(ws_user_part("Alice.Smith@Company.com", part, &err), 0);
	assert_string_equal(part, "alice-smith-company-com");
	assert_int_equal(ws_user_part("bob+ml@x.io", part, &err), 0);
	assert_string_equal(part, "bob-ml-x-io");
	assert_int_equal(ws_user_part("", part, &err), -1);
	assert_int_equal(ws_user_part("@@@", part, &err), -1);
	assert_non_null(strstr(err.msg, "'@@@'"));
}

static void test_derived_names(void **state)
{
	const char *id = "ws-customer-segmentation-analysis-001";
	char out[WS_LONG_NAME_BUF];
	ws_err err;

	(void)state;
	assert_int_equal(ws_name(WS_NAME_RECORD, id, NULL, out, &err), 0);
	assert_string_equal(out, "ws-customer-segmentation-analysis-001");
	assert_int_equal(ws_name(WS_NAME_QUOTA, id, NULL, out, &err), 0);
	assert_string_equal(out, "ws-customer-segmentation-analysis-001-quota");
	assert_int_equal(ws_name(WS_NAME_ROLE, id, "alice", out, &err), 0);
	assert_string_equal(out, "ws-customer-segmentation-analysis-001-alice-role");
	assert_int_equal(ws_name(WS_NAME_BINDING, id, "bob", out, &err), 0);
	assert_string_equal(out, "ws-customer-segmentation-analysis-001-bob-binding");
	assert_int_equal(ws_name(WS_NAME_RUNNER_SA, id, NULL, out, &err), 0);
	assert_string_equal(out, "flyte-ws-customer-segmentation-analysis-001-runner");
	assert_int_equal(ws_name(WS_NAME_BUCKET, id, NULL, out, &err), 0);
	assert_string_equal(out, "ws-customer-segmentation-analysis-001-data");
	assert_int_equal(ws_name(WS_NAME_NETPOL, id, NULL, out, &err), 0);
	assert_string_equal(out, "ws-customer-segmentation-analysis-001-isolation");
	assert_int_equal(ws_name(WS_NAME_ROLE, id, "Bad Part", out, &err), -1);
	assert_int_equal(ws_name(WS_NAME_ROLE, id, NULL, out, &err), -1);
}

static void test_validators(void **state)
{
	ws_err err;
	char long_label[65];

	(void)state;
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	assert_int_equal(ws_check_dns_label("flyte-ws-a-001", "namespace", &err), 0);
	assert_int_equal(ws_check_dns_label("Bad", "namespace", &err), -1);
	assert_non_null(strstr(err.msg, "namespace 'Bad'"));
	assert_int_equal(ws_check_dns_label("-a", "x", &err), -1);
	assert_int_equal(ws_check_dns_label("a-", "x", &err), -1);
	assert_int_equal(ws_check_dns_label("", "x", &err), -1);
	assert_int_equal(ws_check_dns_label(long_label, "x", &err), -1);
	assert_non_null(strstr(err.msg, "longer than 63"));
	long_label[63] = '\0';
	assert_int_equal(ws_check_dns_label(long_label, "x", &err), 0);

	assert_int_equal(ws_check_dns_subdomain("a.b-c.d", "x", &err), 0);
	assert_int_equal(ws_check_dns_subdomain("a..b", "x", &err), -1);
	assert_int_equal(ws_check_dns_subdomain("a.-b", "x", &err), -1);

	assert_int_equal(ws_check_label_value("", &err), 0);
	assert_int_equal(ws_check_label_value("Ab_c.d-9", &err), 0);
	assert_int_equal(ws_check_label_value("_a", &err), -1);
	assert_int_equal(ws_check_label_value("a b", &err), -1);
	assert_int_equal(ws_check_label_key("flyte.org/tenant", &err), 0);
	assert_int_equal(ws_check_label_key("workspace-id", &err), 0);
	assert_int_equal(ws_check_label_key("/x", &err), -1);
	assert_int_equal(ws_check_label_key("Bad_Prefix/x", &err), -1);
	assert_int_equal(ws_check_label_key("a/", &err), -1);

	assert_int_equal(ws_check_email("alice@company.com", &err), 0);
	assert_int_equal(ws_check_email("a.b+c@sub.example.co", &err), 0);
	assert_int_equal(ws_check_email("alice", &err), -1);
	assert_non_null(strstr(err.msg, "not a valid e-mail address"));
	assert_int_equal(ws_check_email("@company.com", &err), -1);
	assert_int_equal(ws_check_email("alice@", &err), -1);
	assert_int_equal(ws_check_email("alice@company", &err), -1);
	assert_int_equal(ws_check_email("al ice@company.com", &err), -1);
	assert_int_equal(ws_check_email("a@b@c.com", &err), -1);
	assert_int_equal(ws_check_email("alice@-company.com", &err), -1);
	assert_int_equal(ws_check_email("alice@company..com", &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slug_basic),
		cmocka_unit_test(test_slug_unicode),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_slug_errors),
		cmocka_unit_test(test_slug_length),
		cmocka_unit_test(test_slug_valid),
		cmocka_unit_test(test_id_format_parse),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_slug_max),
		cmocka_unit_test(test_slug_room),
		cmocka_unit_test(test_gcp_sa_id),
		cmocka_unit_test(test_longest_name_fits),
		cmocka_unit_test(test_user_part),
		cmocka_unit_test(test_derived_names),
		cmocka_unit_test(test_validators),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
