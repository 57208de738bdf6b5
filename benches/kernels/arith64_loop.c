/*
 * arith64_loop.c - 64-bit multiply, unsigned divide / modulo and shifts
 * (logical and arithmetic) in a loop over the context's words.
 *
 * Context (264 bytes):
 *   struct arith64_loop_ctx {
 *       uint64_t words[32];   offset 0    in
 *       uint64_t result;      offset 256  out: the final accumulator
 *   };
 * Computes, all in 64 bits, acc = 0x9E3779B97F4A7C15; for each word w:
 *   d = w | 1 (never 0);  m = (w >> 3) | 1;
 *   acc = acc * w + acc / d + acc % m;
 *   acc ^= (acc << (w & 63)) ^ (acc >> ((w >> 6) & 63));
 *   acc += (uint64_t)((int64_t)acc >> 7);
 * Returns: acc as int64_t (two's complement wrap), also written to result.
 * Branch budget: 32 taken jumps (one per word) plus a few; use 64.
 *
 * No signed division (BPF before v4 has none); the divisors are never 0.
 * clang 14 expands `%` into div, mul, sub (it emits no BPF mod), so each
 * round has 2 divides, 2 multiplies and 3 shifts.
 */
#include <stdint.h>

#define ARITH64_WORDS 32

struct arith64_loop_ctx {
	uint64_t words[ARITH64_WORDS];
	uint64_t result;
};

_Static_assert(sizeof(struct arith64_loop_ctx) == 264, "context layout");

int64_t arith64_loop(struct arith64_loop_ctx *ctx)
{
	uint64_t acc = 0x9E3779B97F4A7C15ull;

	for (uint32_t i = 0; i < ARITH64_WORDS; i++) {
		uint64_t w = ctx->words[i];
		uint64_t d = w | 1;
		uint64_t m = (w >> 3) | 1;

		acc = acc * w + acc / d + acc % m;
		acc ^= (acc << (w & 63)) ^ (acc >> ((w >> 6) & 63));
		acc += (uint64_t)((int64_t)acc >> 7);
	}
	ctx->result = acc;
	return (int64_t)acc;
}
