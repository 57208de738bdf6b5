/*
 * increment.c - seed sample.
 *
 * Context: struct increment_ctx { uint64_t value; }   (8 bytes)
 * Returns: value + 1
 * Branch budget: 0 taken jumps (default 200 is plenty).
 */
#include <stdint.h>

struct increment_ctx {
	uint64_t value;
};

int64_t increment(struct increment_ctx *ctx)
{
	return ctx->value + 1;
}
