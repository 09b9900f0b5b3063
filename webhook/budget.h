/* budget.h - one cap on the memory the webhook holds for reviews in
 * flight: request bodies (by their Content-Length, or as a chunked body
 * grows), their parsed trees (by ws_admission_tree_bytes) and the replies
 * waiting to be sent. A request that does not fit is answered 429 with
 * Retry-After (kube-apiserver retries it), so a flood of large reviews
 * waits its turn instead of growing the process past its memory limit.
 *
 * Process-wide, lock-free (one atomic counter): safe from any thread.
 */
#ifndef WH_BUDGET_H
#define WH_BUDGET_H

#include <stddef.h>

/* Set the cap (bytes) once, before the server starts. */
void wh_budget_init(size_t cap);
/* Hold n more bytes: 0, or -1 (nothing held) when they would exceed the cap. */
int wh_budget_take(size_t n);
/* Hold n bytes even past the cap: for memory already allocated. */
void wh_budget_force(size_t n);
void wh_budget_give(size_t n);
size_t wh_budget_held(void);
size_t wh_budget_cap(void);

#endif
