/* cabundle.h - fill `caBundle` into webhook configuration manifests, as
 * `workspace-certs inject-ca` does.
 *
 * JSON input (an object, a v1 List, or an array of objects) is parsed and
 * printed back. YAML input (any number of `---` documents, e.g. the output
 * of `kubectl kustomize`) is edited as text so that everything else, the
 * comments, key order and quoting included, stays byte for byte: in every
 * document whose top-level kind is MutatingWebhookConfiguration or
 * ValidatingWebhookConfiguration, each block-style `clientConfig:` mapping
 * gets `caBundle: <base64>` as its first key, or its existing caBundle line
 * (and any continuation lines of an old multi-line value) replaced. The
 * result is then parsed again and refused unless every webhook of every
 * such document carries exactly the new caBundle. Other documents (CRD
 * conversion webhooks included) are never touched.
 */
#ifndef CERTS_CABUNDLE_H
#define CERTS_CABUNDLE_H

#include <stddef.h>

#include "error.h"

/* Returns the new text (malloc'd, caller frees) and the number of webhooks
 * filled in *count; fails when there is none, or on a layout it cannot edit
 * safely (flow-style clientConfig). b64 is the base64 of the CA PEM. */
char *cabundle_inject(const char *text, size_t len, const char *b64, size_t *count, ws_err *err);

#endif
