/* budget.c - the cap on memory held for reviews in flight (see budget.h). */
#include "budget.h"

#include <stdatomic.h>

static atomic_size_t held;
static size_t cap;

void wh_budget_init(size_t bytes)
{
	cap = bytes;
	atomic_store(&held, 0);
}

int wh_budget_take(size_t n)
{
	size_t now = atomic_load_explicit(&held, memory_order_relaxed);

	do {
		if (n > cap || now > cap - n)
			return -1;
	} while (!atomic_compare_exchange_weak_explicit(&held, &now, now + n, memory_order_relaxed,
							memory_order_relaxed));
	return 0;
}

void wh_budget_force(size_t n)
{
	atomic_fetch_add_explicit(&held, n, memory_order_relaxed);
}

void wh_budget_give(size_t n)
{
	atomic_fetch_sub_explicit(&held, n, memory_order_relaxed);
}

size_t wh_budget_held(void)
{
	return atomic_load_explicit(&held, memory_order_relaxed);
}

size_t wh_budget_cap(void)
{
	return cap;
}
