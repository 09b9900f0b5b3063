/* fuzz_admission.c - libFuzzer target over what an admission request body
 * goes through in workspace-webhook: the AdmissionReview decoder, both
 * decisions (/mutate and /validate) of the rules on whatever object it
 * carries, and the reply encoder. Must never crash, leak or read out of
 * bounds; every reply must be valid JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "json.h"
#include "platform.h"
#include "rules.h"

static ws_platform platform;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char cfg[] = "flyte: {endpoint: https://flyte.example.com}\n"
				  "quotaManagers: [\"group:system:masters\", admin]\n";

	(void)argc;
	(void)argv;
	if (ws_platform_defaults(&platform, NULL) ||
	    ws_platform_apply_text(&platform, cfg, sizeof(cfg) - 1, "fuzz", NULL))
		abort();
	return 0;
}

static void decide_and_encode(const ws_admission_request *req, enum wh_mode mode)
{
	ws_buf out = WS_BUF_INIT((size_t)16 << 20);
	wh_decision d;
	cJSON *back;

	wh_decide(&platform, mode, req, &d);
	if (wh_reply_encode(req, &d, &out, NULL))
		abort();
	back = ws_json_parse(out.data, out.len, NULL);
	if (!back)
		abort(); /* the reply must always be valid JSON */
	cJSON_Delete(back);
	ws_buf_release(&out);
	wh_decision_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ws_admission_request req;
	ws_err err;

	if (ws_admission_parse((const char *)data, size,
			       size <= WS_ADMISSION_BODY_MAX ?
				       ws_admission_tree_bytes((const char *)data, size) : 0,
			       &req, &err)) {
		if (err.kind != WS_E_HTTP || (err.code != 400 && err.code != 413 && err.code != 500) ||
		    !err.msg[0])
			abort(); /* every refusal is a 400 or 413 (500: out of memory) with a reason */
		return 0;
	}
	decide_and_encode(&req, WH_MUTATE);
	decide_and_encode(&req, WH_VALIDATE);
	ws_admission_release(&req);
	return 0;
}
