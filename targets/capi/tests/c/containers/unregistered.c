/*
 * unregistered.c - calls application helper 0x1ff, which the C test never
 * registers: the load must fail with ILLEGAL_CALL.
 *
 * Context: none needed. Returns: whatever helper 0x1ff returns.
 */
#include <fc_helpers.h>

FC_APP_HELPER(uint64_t, app_missing, 0x1ff, uint64_t value);

int64_t unregistered(void *ctx)
{
	(void)ctx;
	return (int64_t)app_missing(1);
}
