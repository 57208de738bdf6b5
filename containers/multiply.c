/*
 * multiply.c - 32 x 32 -> 64-bit multiplication.
 *
 * Context (16 bytes):
 *   struct multiply_ctx {
 *       uint32_t a;        offset 0   in
 *       uint32_t b;        offset 4   in
 *       uint64_t result;   offset 8   out: (uint64_t)a * b
 *   };
 * Returns: the 64-bit product a * b (also written to result).
 * Branch budget: 0 taken jumps (default 200 is plenty).
 */
#include <stdint.h>

struct multiply_ctx {
	uint32_t a;
	uint32_t b;
	uint64_t result;
};

_Static_assert(sizeof(struct multiply_ctx) == 16, "context layout");

int64_t multiply(struct multiply_ctx *ctx)
{
	uint64_t product = (uint64_t)ctx->a * ctx->b;

	ctx->result = product;
	return (int64_t)product;
}
