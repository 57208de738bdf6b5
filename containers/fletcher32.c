/*
 * fletcher32.c - Fletcher-32 checksum over 180 16-bit words.
 *
 * Context (360 bytes):
 *   struct fletcher32_ctx {
 *       uint16_t words[180];   offset 0, host byte order (little endian)
 *   };
 * Returns: the Fletcher-32 checksum (sum2 << 16 | sum1, both sums start at
 *          0xffff, reduced modulo 65535 as in the usual "ones' complement"
 *          variant; a sum that is 0 mod 65535 comes out as 0xffff), as a
 *          non-negative int64_t.
 * Branch budget: ~180 taken jumps (one per word if the loop is not
 *          unrolled) plus a few; use 400.
 *
 * With only 180 words neither 32-bit sum can overflow before the final
 * reduction (sum2 < 181 * 182 / 2 * 0xffff < 2^32), so one pass suffices.
 */
#include <stdint.h>

#define FLETCHER32_WORDS 180

struct fletcher32_ctx {
	uint16_t words[FLETCHER32_WORDS];
};

_Static_assert(sizeof(struct fletcher32_ctx) == 360, "context layout");

int64_t fletcher32(const struct fletcher32_ctx *ctx)
{
	uint32_t sum1 = 0xffff;
	uint32_t sum2 = 0xffff;

	for (uint32_t i = 0; i < FLETCHER32_WORDS; i++) {
		sum1 += ctx->words[i];
		sum2 += sum1;
	}
	/* Two folding steps reduce a 32-bit sum to 16 bits. */
	sum1 = (sum1 & 0xffff) + (sum1 >> 16);
	sum1 = (sum1 & 0xffff) + (sum1 >> 16);
	sum2 = (sum2 & 0xffff) + (sum2 >> 16);
	sum2 = (sum2 & 0xffff) + (sum2 >> 16);

	return (int64_t)((sum2 << 16) | sum1);
}
