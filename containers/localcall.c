/*
 * localcall.c - BPF-to-BPF local calls to a non-inlined static function.
 *
 * Context (24 bytes):
 *   struct localcall_ctx {
 *       uint32_t a, b, c, d;   offset 0..15   in
 *       uint64_t result;       offset 16      out
 *   };
 * Returns: mix(mix(a, b), mix(c, d)) where
 *          mix(x, y) = (uint32_t)((x * 31 + y) ^ ((x * 31 + y) >> 7)),
 *          also written to result.
 * Branch budget: 0 taken jumps (calls and exits are not jumps); default
 *          200 is plenty.  Uses 2 stack frames.
 *
 * `mix` is `static __attribute__((noinline))`, so the object contains a
 * `call` instruction with src_reg = 1 (BPF_PSEUDO_CALL) and a pc-relative
 * immediate, resolved by the assembler (no relocation).
 */
#include <stdint.h>

struct localcall_ctx {
	uint32_t a;
	uint32_t b;
	uint32_t c;
	uint32_t d;
	uint64_t result;
};

_Static_assert(sizeof(struct localcall_ctx) == 24, "context layout");

static __attribute__((noinline)) uint32_t mix(uint32_t x, uint32_t y);

int64_t localcall(struct localcall_ctx *ctx)
{
	uint32_t left = mix(ctx->a, ctx->b);
	uint32_t right = mix(ctx->c, ctx->d);
	uint32_t r = mix(left, right);

	ctx->result = r;
	return r;
}

static __attribute__((noinline)) uint32_t mix(uint32_t x, uint32_t y)
{
	uint32_t h = x * 31u + y;

	return h ^ (h >> 7);
}
