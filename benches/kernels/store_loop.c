/*
 * store_loop.c - a store-heavy loop: 64 rounds of global store, global fetch
 * and local store on 4 keys.
 *
 * Context (16 bytes):
 *   struct store_loop_ctx {
 *       uint32_t seed;      offset 0   in
 *       uint32_t reserved;  offset 4
 *       uint64_t result;    offset 8   out: the final accumulator
 *   };
 * Effects: round i (0..63), key k = 0x100 + (i & 3):
 *   bpf_store_global(k, acc + i); bpf_fetch_global(k, &v);
 *   acc = (acc ^ v) * 0x01000193 + i (32-bit); bpf_store_local(k, acc).
 *   Leaves 4 global and 4 local entries (8 of the pool's 16). Every value
 *   read back was written in the same run, so the result depends on the
 *   seed only, not on what the stores held before.
 * Returns: acc (starting at seed), also written to result; -1 if a helper
 *          failed (a full store pool).
 * Branch budget: 2 taken jumps per round at -O2 (past the first helper's
 *          check, and the loop), 128 plus a few; use 200 (the VM default).
 */
#include <fc_helpers.h>

#define STORE_LOOP_ROUNDS 64
#define STORE_LOOP_KEYS 4
#define STORE_LOOP_KEY_BASE 0x100u

struct store_loop_ctx {
	uint32_t seed;
	uint32_t reserved;
	uint64_t result;
};

_Static_assert(sizeof(struct store_loop_ctx) == 16, "context layout");

int64_t store_loop(struct store_loop_ctx *ctx)
{
	uint32_t acc = ctx->seed;

	for (uint32_t i = 0; i < STORE_LOOP_ROUNDS; i++) {
		uint32_t key = STORE_LOOP_KEY_BASE + (i & (STORE_LOOP_KEYS - 1));
		uint32_t v = 0;

		if (bpf_store_global(key, acc + i) != 0)
			return -1;
		if (bpf_fetch_global(key, &v) != 0)
			return -1;
		acc = (acc ^ v) * 0x01000193u + i;
		if (bpf_store_local(key, acc) != 0)
			return -1;
	}
	ctx->result = acc;
	return acc;
}
