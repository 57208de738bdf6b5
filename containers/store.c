/*
 * store.c - key/value stores, printf, and writable .data / .bss statics.
 *
 * Context (8 bytes):
 *   struct store_ctx {
 *       uint32_t key;      offset 0   in: global-store key to write
 *       uint32_t value;    offset 4   in: value to write under key
 *   };
 * Effects:
 *   - bpf_store_global(key, value), then reads it back with bpf_fetch_global
 *   - local store key STORE_KEY_CALLS counts the calls of this container
 *     (fetch, +1, store back)
 *   - static `call_count` (.bss, zero-initialised) counts calls too,
 *     static `last_value` (.data, initialised to 0xC0FFEE) remembers the
 *     previous context value
 *   - prints a line with %s and %d
 * Returns: the local-store call count after this call (1 on first call),
 *          or -1 if a store/fetch helper failed or the global read-back
 *          differs.
 * Branch budget: < 10 taken jumps (default 200 is plenty).
 */
#include <fc_helpers.h>

#define STORE_KEY_CALLS 0x1u

struct store_ctx {
	uint32_t key;
	uint32_t value;
};

_Static_assert(sizeof(struct store_ctx) == 8, "context layout");

static uint32_t call_count;             /* .bss  */
static uint32_t last_value = 0xC0FFEE;  /* .data */

int64_t store(struct store_ctx *ctx)
{
	uint32_t readback = 0;
	uint32_t calls = 0;
	uint32_t previous = last_value;

	last_value = ctx->value;
	call_count++;

	if (bpf_store_global(ctx->key, ctx->value) != 0)
		return -1;
	if (bpf_fetch_global(ctx->key, &readback) != 0 || readback != ctx->value)
		return -1;

	if (bpf_fetch_local(STORE_KEY_CALLS, &calls) != 0)
		return -1;
	calls++;
	if (bpf_store_local(STORE_KEY_CALLS, calls) != 0)
		return -1;

	bpf_printf("%s: call %d (static %d), previous value %d\n", "store",
		   (int)calls, (int)call_count, (int)previous);

	return calls;
}
