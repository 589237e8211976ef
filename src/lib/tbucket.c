#include "lib/tbucket.h"

#include "lib/time.h"

bool tbucket_take(struct tbucket *b, uint32_t rate, uint32_t burst, uint64_t now_ns)
{
	uint64_t t, tau, tat;

	if (!rate)
		return true;
	t = NSEC_PER_SEC / rate; /* >= 232 ns: rate <= UINT32_MAX */
	tau = (uint64_t)(burst ? burst - 1 : 0) * t; /* < 2^64: 2^32 * 2^30 */
	tat = b->tat_ns > now_ns ? b->tat_ns : now_ns;
	/* never more than empty: a rate raised since applies at once */
	if (tat - now_ns > tau + t)
		tat = now_ns + tau + t;
	b->tat_ns = tat;
	if (tat - now_ns > tau)
		return false;
	b->tat_ns = tat + t;
	return true;
}
