/*
 * sort.c - in-place bubble sort of 64 unsigned 32-bit words.
 *
 * Context (256 bytes):
 *   struct sort_ctx {
 *       uint32_t values[64];   offset 0, sorted ascending in place
 *   };
 * Returns: the number of swaps performed (0 for already sorted input,
 *          2016 = 64 * 63 / 2 for strictly descending input).
 * Branch budget: worst case (descending input) is 2016 inner iterations
 *          with up to 2 taken jumps each, plus the outer loop: ~4200.
 *          Use 8192 (64 * 64 * 2). Sorted input needs only ~130.
 */
#include <stdint.h>

#define SORT_N 64

struct sort_ctx {
	uint32_t values[SORT_N];
};

_Static_assert(sizeof(struct sort_ctx) == 256, "context layout");

int64_t sort(struct sort_ctx *ctx)
{
	uint32_t *v = ctx->values;
	int64_t swaps = 0;

	for (uint32_t pass = 0; pass < SORT_N - 1; pass++) {
		uint32_t swapped = 0;

		for (uint32_t j = 0; j < SORT_N - 1 - pass; j++) {
			uint32_t x = v[j];
			uint32_t y = v[j + 1];

			if (x > y) {
				v[j] = y;
				v[j + 1] = x;
				swapped = 1;
				swaps++;
			}
		}
		if (!swapped)
			break;
	}
	return swaps;
}
