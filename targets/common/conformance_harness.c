/*
 * conformance_harness.c - runs one translated conformance program (container `prog`,
 * function `main`) the way the conformance suite expects: r1 = a private copy of the
 * memory given as hex in argv[1], r2 = its length, 512-byte frames, and the
 * `conformance` helper profile (helper 5 = uBPF's unwind). Prints `0x<r0>` and exits 0,
 * or prints the error and exits 1. Needs no Rust runtime, so it runs on any ISA.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_abi.h"
#include "fc_hex.h"

extern uint64_t fc_prog_main(fc_env *env, uint64_t r1, uint64_t r2);
extern const uint32_t fc_prog_main_depth;
extern const uint32_t fc_prog_abi_version;

#define FRAME 512u
#define MAX_FRAMES 33u
#define BUDGET (1ull << 24)

static uint8_t memory[1 << 16];
static uint8_t stack[FRAME * MAX_FRAMES];

static uint64_t helper(fc_env *env, uint32_t id, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5) {
    (void)r2, (void)r3, (void)r4, (void)r5;
    if (id == 5) { /* unwind: returns r1; 0 ends the program with r0 = 0 */
        if (r1 == 0) env->stop = 1;
        return r1;
    }
    return (uint64_t)-1; /* the verifier admits no other helper in this profile */
}

int main(int argc, char **argv) {
    if (fc_prog_abi_version != FC_ABI_VERSION) {
        printf("ABI version %u, harness %u\n", fc_prog_abi_version, FC_ABI_VERSION);
        return 1;
    }
    uint32_t frames = fc_prog_main_depth + 1;
    if (frames > MAX_FRAMES) {
        printf("call depth %u too deep for the harness\n", fc_prog_main_depth);
        return 1;
    }
    size_t len = argc > 1 ? fc_hex_parse_loose(argv[1], memory, sizeof memory) : 0;
    fc_env env;
    memset(&env, 0, sizeof env);
    env.regions[FC_SLOT_STACK] = (fc_region){stack, FRAME * frames, 1};
    if (len > 0) env.regions[FC_SLOT_CONTEXT] = (fc_region){memory, (uint32_t)len, 1};
    env.helper = helper;
    env.budget = BUDGET; /* env.flags 0: the budget is on; unwind costs nothing */
    env.frame_size = FRAME;
    env.stack_top = ((uint64_t)FC_SLOT_STACK << FC_SLOT_SHIFT) + FRAME * frames;
    uint64_t r1 = len > 0 ? (uint64_t)FC_SLOT_CONTEXT << FC_SLOT_SHIFT : 0;
    uint64_t r0 = fc_prog_main(&env, r1, len);
    if (env.error != 0) {
        printf("error %d at insn %u\n", env.error, env.error_pc);
        return 1;
    }
    printf("0x%llx\n", (unsigned long long)r0);
    return 0;
}
