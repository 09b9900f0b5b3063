/* admission.h - AdmissionReview (admission.k8s.io/v1) for the webhook
 * (DESIGN §6): decode a request body into its fields, with caps and a clear
 * reason for every malformed input, and encode the reply. Pure: no network,
 * no globals, safe to call from any thread.
 *
 * Ownership: a decoded ws_admission_request owns its JSON document (`doc`,
 * a read-only cJSON tree, jsondoc.h); every other pointer in it is
 * borrowed from that tree and lives until ws_admission_release. The encoders append to a caller-owned ws_buf.
 */
#ifndef WS_ADMISSION_H
#define WS_ADMISSION_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"
#include "jsondoc.h"

/* kube-apiserver caps a webhook request at 3 MiB; so do we. */
#define WS_ADMISSION_BODY_MAX ((size_t)3 << 20)
/* The parsed tree of one review may take at most this much (about 64 bytes
 * per JSON value plus its strings): a 3 MiB review of small values would
 * otherwise take 100 MiB. A realistic review takes 4 to 8 times its text. */
#define WS_ADMISSION_TREE_MAX ((size_t)16 << 20)
/* Deeper JSON is refused (a Pod spec is about 12 deep). */
#define WS_ADMISSION_DEPTH_MAX 256
/* The uid is echoed in the reply; Kubernetes sends a 36-character UUID. */
#define WS_ADMISSION_UID_MAX 128

enum ws_admission_op {
	WS_ADM_CREATE,
	WS_ADM_UPDATE,
	WS_ADM_DELETE,
	WS_ADM_CONNECT
};

typedef struct ws_admission_request {
	ws_json_doc doc;           /* the whole review (doc.root), owned */
	const char *uid;           /* non-empty, at most WS_ADMISSION_UID_MAX */
	const char *group;         /* request.kind.group ("" for the core group) */
	const char *version;       /* request.kind.version */
	const char *kind;          /* request.kind.kind, non-empty */
	const char *resource;      /* request.resource.resource */
	const char *sub_resource;  /* "" when absent */
	const char *name;          /* "" when absent (CREATE with generateName) */
	const char *namespace;     /* "" for cluster-scoped objects; own name for a Namespace */
	enum ws_admission_op op;
	const char *operation;     /* "CREATE", ... */
	const char *username;      /* "" when absent */
	const cJSON *groups;       /* array of strings, or NULL */
	const cJSON *object;       /* NULL when absent or null */
	const cJSON *old_object;   /* NULL when absent or null */
	int dry_run;
} ws_admission_request;

/* The most the parsed tree of this body can take (ws_json_doc_bound): what
 * a caller holding many reviews at once budgets before parsing one. */
size_t ws_admission_tree_bytes(const char *body, size_t len);

/* Decode len bytes (need not be NUL-terminated) into a tree of at most
 * tree_bytes (from ws_admission_tree_bytes; over WS_ADMISSION_TREE_MAX is
 * refused with 413 before any parsing). The JSON is read as Go's decoder
 * in kube-apiserver would write it: a repeated key in an object, or text
 * after the document, is refused rather than read one of two ways. On
 * failure req is empty and err is an HTTP error (ws_err_is_http(err, 400)
 * or 413; 500 when out of memory) whose message says what is wrong: not
 * JSON, nested too deep, not an admission.k8s.io/v1 AdmissionReview, a
 * missing or mistyped request field, a uid that is not UTF-8. */
int ws_admission_parse(const char *body, size_t len, size_t tree_bytes,
		       ws_admission_request *req, ws_err *err);
void ws_admission_release(ws_admission_request *req);

/* 1 when userInfo.groups contains group. */
int ws_admission_in_group(const ws_admission_request *req, const char *group);

/* The reply. On denial code/reason/message fill response.status (code 0
 * means 403, reason NULL means "Forbidden"). patch is a JSON Patch document
 * (text, sent base64-encoded), or NULL for none; it is only sent when
 * allowed. */
typedef struct ws_admission_reply {
	const char *uid;
	int allowed;
	int code;
	const char *reason;
	const char *message;
	const char *patch;
	const char *const *warnings;
	size_t nwarnings;
} ws_admission_reply;

/* Append the AdmissionReview reply. Strings are escaped as JSON and invalid
 * UTF-8 is replaced, so the reply is always valid JSON. */
int ws_admission_encode(const ws_admission_reply *r, ws_buf *out, ws_err *err);

/* Append a v1 Status {"kind":"Status",...,"code":code} for replies that are
 * not AdmissionReviews (400, 404, 405, 413, 415, 429); retry_after (non-zero)
 * adds details.retryAfterSeconds, which kube-apiserver's webhook client
 * reads as "retry after that delay". */
int ws_admission_encode_status(int code, const char *reason, const char *message,
			       unsigned retry_after, ws_buf *out, ws_err *err);

#endif
