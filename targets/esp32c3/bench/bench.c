/*
 * bench.c - one kernel call, counted under qemu-riscv32 -singlestep -d exec,nochain.
 *
 *     bench HEX run|empty
 *
 * Parses the context from HEX, sets up the environment, calls the kernel once
 * (`run`) or not at all (`empty`), prints r0 as 16 hex digits and exits. Both modes
 * execute exactly the same instructions apart from the call, so the dynamic
 * instruction count of `run` minus that of `empty` is the call alone.
 *
 * Built with -DNATIVE=native_NAME: the kernel's C compiled natively (its entry renamed
 * with -DNAME=native_NAME), called with a pointer to the context. Otherwise with
 * -DFC_PREFIX=fc_NAME -DFC_ENTRY=fc_NAME_NAME: the translated container (fc-aot
 * translate --backend c), called through the native ABI of fc_abi.h with every check.
 */
#include <stdint.h>

#include "crt.h"
#include "fc_abi.h"
#include "fc_hex.h"

#define FRAME 512u
#define MAX_FRAMES 33u
#define MAX_MEMORY 4096u

static uint8_t memory[MAX_MEMORY] __attribute__((aligned(8)));
static uint8_t stack[FRAME * MAX_FRAMES] __attribute__((aligned(16)));
static uint8_t data[4096] __attribute__((aligned(16)));

#ifdef NATIVE
extern int64_t NATIVE(void *ctx);
#else
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
extern uint64_t FC_ENTRY(fc_env *env, uint64_t r1, uint64_t r2);
extern const uint32_t CAT(FC_ENTRY, _depth);
extern const uint8_t CAT(FC_PREFIX, _rodata)[], CAT(FC_PREFIX, _data)[];
extern const uint32_t CAT(FC_PREFIX, _rodata_len), CAT(FC_PREFIX, _data_len), CAT(FC_PREFIX, _bss_len);

static uint64_t helper(fc_env *env, uint32_t id, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5) {
    (void)env, (void)id, (void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
    return UINT64_MAX; /* the benchmark kernels call no helper */
}
#endif

int main(int argc, char **argv) {
    if (argc < 3) {
        fc_puts("usage: bench HEX run|empty\n");
        return 2;
    }
    uint32_t len = (uint32_t)fc_hex_parse_loose(argv[1], memory, MAX_MEMORY);
    int run = argv[2][0] == 'r';
    uint64_t r0 = 0;
    int error = 0;
#ifdef NATIVE
    if (run) r0 = (uint64_t)NATIVE(memory);
#else
    uint32_t frames = CAT(FC_ENTRY, _depth) + 1;
    uint32_t data_len = CAT(FC_PREFIX, _data_len) + CAT(FC_PREFIX, _bss_len);
    if (frames > MAX_FRAMES || data_len > sizeof data) return 2;
    memcpy(data, CAT(FC_PREFIX, _data), CAT(FC_PREFIX, _data_len));
    fc_env env;
    memset(&env, 0, sizeof env);
    memset(stack, 0, FRAME * frames);
    env.regions[FC_SLOT_RODATA] = (fc_region){(uint8_t *)CAT(FC_PREFIX, _rodata), CAT(FC_PREFIX, _rodata_len), 0};
    env.regions[FC_SLOT_DATA] = (fc_region){data, data_len, 1};
    env.regions[FC_SLOT_STACK] = (fc_region){stack, FRAME * frames, 1};
    env.regions[FC_SLOT_CONTEXT] = (fc_region){memory, len, 1};
    env.helper = helper;
    env.budget = 1u << 24;
    env.frame_size = FRAME;
    env.stack_top = ((uint64_t)FC_SLOT_STACK << FC_SLOT_SHIFT) + FRAME * frames;
    if (run) r0 = FC_ENTRY(&env, (uint64_t)FC_SLOT_CONTEXT << FC_SLOT_SHIFT, len);
    error = env.error;
#endif
    fc_puts("0x");
    fc_put_hex_fixed(r0);
    fc_putc('\n');
    return error ? 1 : 0;
}
