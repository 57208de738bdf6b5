/*
 * calls.c - many BPF-to-BPF local calls: a loop calling non-inlined static
 * functions, one of which calls another (two call levels).
 *
 * Context (72 bytes):
 *   struct calls_ctx {
 *       uint32_t words[16];   offset 0   in
 *       uint64_t result;      offset 64  out: the final hash
 *   };
 * Computes h = 0x811C9DC5; for i in 0..63:
 *   h = twist(h, i);  h = step(h, words[i & 15]);  h = fold(h)
 * where twist calls step, so each round makes 4 local calls (256 in all).
 * step(h, x) = (h ^ x) * 0x01000193;  twist(h, i) = step(h, i) + (i << 3);
 * fold(h) = h ^ (h >> 15)  (all 32-bit).
 * Returns: h, also written to result.
 * Branch budget: 64 taken jumps (one per round) plus a few; use 100
 *          (calls and exits are not jumps). Uses 3 stack frames.
 *
 * The helpers are `static __attribute__((noinline))` and defined after the
 * entry, so the entry is the first function of .text (slot 0) and the calls
 * are `call` with src_reg = 1 (BPF_PSEUDO_CALL), no relocation.  clang
 * emits them in order of first use (twist, step, fold), each after its
 * callers, so every call jumps forward: the `rbpf` crate (0.4.1) computes a
 * call target with `insn_ptr += imm as usize`, which panics on a backward
 * call in a debug build.
 */
#include <stdint.h>

#define CALLS_ROUNDS 64
#define CALLS_WORDS 16

struct calls_ctx {
	uint32_t words[CALLS_WORDS];
	uint64_t result;
};

_Static_assert(sizeof(struct calls_ctx) == 72, "context layout");

static __attribute__((noinline)) uint32_t twist(uint32_t h, uint32_t i);
static __attribute__((noinline)) uint32_t step(uint32_t h, uint32_t x);
static __attribute__((noinline)) uint32_t fold(uint32_t h);

int64_t calls(struct calls_ctx *ctx)
{
	uint32_t h = 0x811C9DC5u;

	for (uint32_t i = 0; i < CALLS_ROUNDS; i++) {
		h = twist(h, i);
		h = step(h, ctx->words[i & (CALLS_WORDS - 1)]);
		h = fold(h);
	}
	ctx->result = h;
	return h;
}

static __attribute__((noinline)) uint32_t twist(uint32_t h, uint32_t i)
{
	return step(h, i) + (i << 3);
}

static __attribute__((noinline)) uint32_t step(uint32_t h, uint32_t x)
{
	return (h ^ x) * 0x01000193u;
}

static __attribute__((noinline)) uint32_t fold(uint32_t h)
{
	return h ^ (h >> 15);
}
