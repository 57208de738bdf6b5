/*
 * arith64.c - 64-bit ALU: multiply, unsigned divide / modulo, shifts.
 *
 * Context (80 bytes):
 *   struct arith64_ctx {
 *       uint64_t a;        offset 0    in
 *       uint64_t b;        offset 8    in (divisor; 0 gives quot = rem = 0)
 *       int64_t  c;        offset 16   in (signed, for arithmetic shift)
 *       uint32_t shift;    offset 24   in (used modulo 64)
 *       uint32_t reserved; offset 28
 *       uint64_t prod;     offset 32   out: a * b          (mod 2^64)
 *       uint64_t quot;     offset 40   out: a / b          (unsigned)
 *       uint64_t rem;      offset 48   out: a % b          (unsigned)
 *       uint64_t shl;      offset 56   out: a << s         (s = shift & 63)
 *       uint64_t shr;      offset 64   out: a >> s         (logical)
 *       int64_t  sar;      offset 72   out: c >> s         (arithmetic)
 *   };                     size 80
 * Returns: prod + quot + rem + (shl ^ shr ^ (uint64_t)sar), as int64_t
 *          (two's complement wrap).
 * Branch budget: < 5 taken jumps (default 200 is plenty).
 *
 * Signed division is not used: BPF before v4 has no signed div/mod.
 */
#include <stdint.h>

struct arith64_ctx {
	uint64_t a;
	uint64_t b;
	int64_t c;
	uint32_t shift;
	uint32_t reserved;
	uint64_t prod;
	uint64_t quot;
	uint64_t rem;
	uint64_t shl;
	uint64_t shr;
	int64_t sar;
};

_Static_assert(sizeof(struct arith64_ctx) == 80, "context layout");

int64_t arith64(struct arith64_ctx *ctx)
{
	uint64_t a = ctx->a;
	uint64_t b = ctx->b;
	int64_t c = ctx->c;
	uint32_t s = ctx->shift & 63;
	uint64_t quot = 0;
	uint64_t rem = 0;

	if (b != 0) {
		quot = a / b;
		rem = a % b;
	}

	ctx->prod = a * b;
	ctx->quot = quot;
	ctx->rem = rem;
	ctx->shl = a << s;
	ctx->shr = a >> s;
	ctx->sar = c >> s;

	return (int64_t)(ctx->prod + quot + rem +
			 (ctx->shl ^ ctx->shr ^ (uint64_t)ctx->sar));
}
