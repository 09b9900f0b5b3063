/* rules.h - the admission decision of workspace-webhook: which kinds it
 * guards, what it injects and what it refuses (README "Rules").
 *
 * One decision serves both endpoints: /mutate answers with the JSON Patch
 * the rules produce; /validate runs the same rules on the (already mutated)
 * object and refuses it when a patch would still be needed, so the two can
 * never disagree and mutation is idempotent by construction (a second call
 * on the mutated object produces no patch).
 */
#ifndef WH_RULES_H
#define WH_RULES_H

#include <stddef.h>

#include "admission.h"
#include "error.h"
#include "jsonpatch.h"
#include "platform.h"

enum wh_kind {
	WH_KIND_NAMESPACE,
	WH_KIND_POD,
	WH_KIND_FLYTEWORKFLOW,
	WH_KIND_RESOURCEQUOTA,
	WH_KIND_OTHER,
	WH_KIND_COUNT
};

enum wh_mode { WH_MUTATE, WH_VALIDATE };

enum wh_outcome { WH_ALLOWED, WH_PATCHED, WH_DENIED, WH_OUTCOME_COUNT };

#define WH_WARN_MAX 4
#define WH_WARN_LEN 256

typedef struct wh_decision {
	enum wh_kind kind;
	enum wh_outcome outcome;
	int code;                       /* denial: HTTP code for response.status */
	const char *reason;             /* denial: "Forbidden", "Invalid" */
	char message[WS_ERR_MSG_MAX];   /* denial message; for a patch, what it adds first */
	ws_patch patch;                 /* /mutate only; empty unless outcome is WH_PATCHED */
	char warnings[WH_WARN_MAX][WH_WARN_LEN];
	size_t nwarnings;
} wh_decision;

/* Decide on one request. Never fails: an internal error (out of memory)
 * becomes a denial with code 500. Release the decision afterwards. */
void wh_decide(const ws_platform *p, enum wh_mode mode, const ws_admission_request *req,
	       wh_decision *d);
void wh_decision_release(wh_decision *d);

/* Append the AdmissionReview reply to decision d on req: what the server
 * sends (and the fuzz target checks). */
int wh_reply_encode(const ws_admission_request *req, const wh_decision *d, ws_buf *out,
		    ws_err *err);

/* "Namespace", "Pod", "FlyteWorkflow", "ResourceQuota", "other" */
const char *wh_kind_name(enum wh_kind k);
/* "allowed", "patched", "denied" */
const char *wh_outcome_name(enum wh_outcome o);

#endif
