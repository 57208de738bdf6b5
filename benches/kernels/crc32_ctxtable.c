/*
 * crc32_ctxtable.c - CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320)
 * over 1 KiB, with the lookup table passed in the context.
 *
 * The algorithm of containers/crc32.c, but the 256-entry table comes after
 * the data in the context instead of living in .rodata, so the program needs
 * no LDDW 0xb8/0xd8 (data/rodata address) form: the `rbpf` crate, which has
 * none, can run it.
 *
 * Context (2048 bytes):
 *   struct crc32_ctxtable_ctx {
 *       uint8_t  data[1024];   offset 0
 *       uint32_t table[256];   offset 1024, the zlib CRC-32 table
 *                              (table[n] = CRC of byte n, polynomial 0xEDB88320)
 *   };
 * Returns: the CRC-32 of the 1024 bytes (init 0xFFFFFFFF, final xor
 *          0xFFFFFFFF; same as zlib crc32()), as a non-negative int64_t.
 *          Check value: CRC-32 of 1024 zero bytes is 0xEFB5AF2E.
 * Branch budget: ~1024 taken jumps (one per byte if the loop is not
 *          unrolled) plus a few; use 1100 (2048 to be generous).
 */
#include <stdint.h>

#define CRC32_LEN 1024

struct crc32_ctxtable_ctx {
	uint8_t data[CRC32_LEN];
	uint32_t table[256];
};

_Static_assert(sizeof(struct crc32_ctxtable_ctx) == 2048, "context layout");

int64_t crc32_ctxtable(const struct crc32_ctxtable_ctx *ctx)
{
	uint32_t crc = 0xFFFFFFFFu;

	for (uint32_t i = 0; i < CRC32_LEN; i++)
		crc = ctx->table[(crc ^ ctx->data[i]) & 0xff] ^ (crc >> 8);

	return (int64_t)(crc ^ 0xFFFFFFFFu);
}
