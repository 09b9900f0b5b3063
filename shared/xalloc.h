/* xalloc.h - the out-of-memory policy of the command-line programs (git's
 * xmalloc): an allocation that fails prints "<program>: out of memory" to
 * standard error and exits with status 1, so callers have no NULL to handle.
 *
 * For plugin/ and certs/, and for cJSON in the controller (xalloc_cjson).
 * Code in shared/ returns "out of memory" as a ws_err instead (see
 * error.h), and the webhook must never die of one: it answers 500 and
 * serves the next request.
 */
#ifndef WS_XALLOC_H
#define WS_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Make cJSON allocate through xmalloc too; call once, first thing in main. */
void xalloc_cjson(void);

#endif
