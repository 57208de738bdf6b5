/*
 * globalcall.c - a call to a second *global* function.
 *
 * clang emits such a call as `call -1` with an R_BPF_64_32 relocation; the
 * converter resolves it to a pc-relative local call (src=1). Both functions
 * are in the function table; the VM runs the first (`globalcall`), and
 * `scale` can be run on its own by name.
 *
 * Context: struct globalcall_ctx { uint32_t value; uint32_t factor; }  (8 bytes)
 * Returns: scale(value, factor) + scale(factor, 3)
 *          where scale(a, b) = a * b + (a ^ b)
 * Branch budget: 0 taken jumps (default 200 is plenty).
 */
#include <stdint.h>

struct globalcall_ctx {
	uint32_t value;
	uint32_t factor;
};

__attribute__((noinline)) uint64_t scale(uint64_t a, uint64_t b);

int64_t globalcall(struct globalcall_ctx *ctx)
{
	return scale(ctx->value, ctx->factor) + scale(ctx->factor, 3);
}

__attribute__((noinline)) uint64_t scale(uint64_t a, uint64_t b)
{
	return a * b + (a ^ b);
}
