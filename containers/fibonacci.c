/*
 * fibonacci.c - iterative Fibonacci number.
 *
 * Context (16 bytes):
 *   struct fibonacci_ctx {
 *       uint32_t n;         offset 0   in
 *       uint32_t reserved;  offset 4
 *       uint64_t result;    offset 8   out: F(n), F(0) = 0, F(1) = 1
 *   };
 * Returns: F(n) for n <= 93 (largest that fits in uint64_t; F(93) does
 *          not fit int64_t, so the return value wraps negative for n = 93
 *          while result holds the exact value), or -1 for n > 93.
 * Branch budget: ~n taken jumps (one per iteration) plus a few; the
 *          default 200 covers every valid n (<= 93).
 */
#include <stdint.h>

#define FIB_MAX_N 93

struct fibonacci_ctx {
	uint32_t n;
	uint32_t reserved;
	uint64_t result;
};

_Static_assert(sizeof(struct fibonacci_ctx) == 16, "context layout");

int64_t fibonacci(struct fibonacci_ctx *ctx)
{
	uint32_t n = ctx->n;
	uint64_t prev = 0;
	uint64_t cur = 1;

	if (n > FIB_MAX_N)
		return -1;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t next = prev + cur;

		prev = cur;
		cur = next;
	}
	ctx->result = prev;
	return (int64_t)prev;
}
