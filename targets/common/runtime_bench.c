/*
 * runtime_bench.c - the driver of scripts/bench-runtime: one container on the fc-aot
 * runtime itself (the firmware library, libfc_runtime.a of `fc-aot runtime`), bare
 * metal under qemu-user, counted with `-singlestep -d exec,nochain`.
 *
 *     bench CONTAINER-HEX CTX-HEX none|init|load|run|stack
 *
 * Every mode parses both hex arguments, then goes as far as its name says and prints
 * one line `0x<r0 as 16 hex digits>` (0 when nothing ran), so the dynamic instruction
 * counts of two modes differ only by the step between them:
 *
 *     none   nothing more
 *     init   fc_runtime_init (static arena), fc_stores_new, fc_vm_new, the settings
 *            (Sming profile, budget 1 << 24 taken jumps, enabled; the engine is
 *            fc_vm_new's, interp)
 *     load   init + fc_vm_load (512-byte frames)
 *     run    load + one fc_vm_execute on a copy of the context
 *     stack  run, measured rather than counted: before fc_vm_execute it fills 16 KiB of
 *            the native stack below the current sp with a pattern, afterwards it looks
 *            for the deepest word overwritten, and it prints, after r0,
 *            `stack N` (bytes below main's sp the execute used) and the arena's
 *            figures of fc_runtime_heap: `heap-stores`, `heap-vm` (used after
 *            fc_stores_new, after fc_vm_new), `heap-load` / `peak-load` (used / high-
 *            water after the load), `heap-run` / `peak-run` (after the execute) and
 *            `arena` (its size).
 *
 * Exit 0; 1 when the execute stopped with an error (printed as `error CODE at insn
 * PC`); 2 for bad arguments or a refused init; 3 when the load was refused.
 *
 * Built with -DFC_BENCH_STUB it calls nothing of the runtime (no fc_runtime.h needed):
 * the same parsing and output, for the code size of the runtime = size(driver) -
 * size(stub), both linked with --gc-sections.
 */
#include <stdint.h>

#include "crt.h"
#include "fc_cmdline.h"
#include "fc_hex.h"
#ifndef FC_BENCH_STUB
#include "fc_runtime.h"
#endif

#define FRAME 512u
#define BUDGET (1u << 24)
#define MAX_CONTAINER 4096u
#define MAX_MEMORY 4096u
#define ARENA (1u << 16)
#define PAINT_BYTES 16384u
#define PAINT 0x5aa5c33cu

static uint8_t container[MAX_CONTAINER] __attribute__((aligned(8)));
static uint8_t memory_init[MAX_MEMORY] __attribute__((aligned(8)));

static void put_r0(uint64_t r0) {
    fc_puts("0x");
    fc_put_hex_fixed(r0);
    fc_putc('\n');
}

#ifndef FC_BENCH_STUB
static uint8_t arena[ARENA] __attribute__((aligned(16)));
static uint8_t memory[MAX_MEMORY] __attribute__((aligned(8)));

/* fc_runtime_panic: targets/common/crt_output.c. */

static inline uintptr_t sp_now(void) {
    uintptr_t sp;
#if defined(__riscv)
    __asm__ volatile("mv %0, sp" : "=r"(sp));
#elif defined(__arm__)
    __asm__ volatile("mov %0, sp" : "=r"(sp));
#elif defined(__XTENSA__)
    __asm__ volatile("mov %0, a1" : "=r"(sp));
#else
#error "runtime_bench.c: no stack pointer read for this ISA"
#endif
    return sp;
}

/* Fills [lo, own sp - 64) with PAINT; a leaf with a tiny frame of its own. */
__attribute__((noinline)) static void paint(volatile uint32_t *lo) {
    volatile uint32_t *hi = (volatile uint32_t *)((sp_now() - 64) & ~(uintptr_t)3);
    for (volatile uint32_t *p = lo; p < hi; p++) *p = PAINT;
}

/* The lowest address at or above lo whose word is no longer PAINT. */
__attribute__((noinline)) static uintptr_t deepest(volatile uint32_t *lo, uintptr_t top) {
    volatile uint32_t *p = lo;
    while ((uintptr_t)p < top && *p == PAINT) p++;
    return (uintptr_t)p;
}

static void put_field(const char *name, uint64_t v) {
    fc_puts(name);
    fc_putc(' ');
    fc_put_udec(v);
    fc_putc('\n');
}
#endif

int main(int argc, char **argv) {
    if (argc != 4) {
        fc_puts("usage: bench CONTAINER-HEX CTX-HEX none|init|load|run|stack\n");
        return 2;
    }
    size_t container_len = fc_hex_parse_loose(argv[1], container, MAX_CONTAINER);
    size_t len = fc_hex_parse_loose(argv[2], memory_init, MAX_MEMORY);
    char mode = argv[3][0];
    uint64_t r0 = 0;
    if (mode == 'n') {
        put_r0(r0);
        return 0;
    }
#ifdef FC_BENCH_STUB
    (void)container_len, (void)len;
    put_r0(r0);
    return 0;
#else
    size_t used = 0, peak = 0, heap_stores, heap_vm;
    if (!fc_runtime_init(arena, sizeof arena, NULL, NULL)) return 2;
    fc_stores *stores = fc_stores_new();
    fc_runtime_heap(&heap_stores, &peak);
    fc_vm *vm = fc_vm_new(stores);
    if (!vm) return 2;
    fc_runtime_heap(&heap_vm, &peak);
    /* The engine stays fc_vm_new's, the optimized interpreter: a firmware that never
     * calls fc_vm_set_engine links no reference interpreter, and neither does this. */
    fc_vm_set_profile(vm, FC_PROFILE_SMING);
    fc_vm_set_budget(vm, BUDGET, true);
    if (mode == 'i') {
        put_r0(r0);
        return 0;
    }
    if (!fc_vm_load(vm, container, container_len, FRAME)) {
        fc_puts("load: ");
        fc_put_dec(fc_vm_last_error(vm));
        fc_putc('\n');
        return 3;
    }
    if (mode == 'l') {
        put_r0(r0);
        return 0;
    }
    size_t heap_load, peak_load;
    fc_runtime_heap(&heap_load, &peak_load);
    memcpy(memory, memory_init, len);
    uintptr_t top = 0, low = 0;
    volatile uint32_t *lo = 0;
    if (mode == 's') {
        top = sp_now();
        lo = (volatile uint32_t *)((top - PAINT_BYTES) & ~(uintptr_t)3);
        paint(lo);
    }
    r0 = (uint64_t)fc_vm_execute(vm, len ? memory : NULL, len);
    if (mode == 's') low = deepest(lo, top);
    int error = fc_vm_last_error(vm);
    put_r0(r0);
    if (mode == 's') {
        if (low == (uintptr_t)lo) fc_puts("stack overflowed the painted 16 KiB\n");
        put_field("stack", top - low);
        put_field("heap-stores", heap_stores);
        put_field("heap-vm", heap_vm);
        put_field("heap-load", heap_load);
        put_field("peak-load", peak_load);
        size_t arena_len = fc_runtime_heap(&used, &peak);
        put_field("heap-run", used);
        put_field("peak-run", peak);
        put_field("arena", arena_len);
    }
    if (error != 0) {
        fc_put_error(error, fc_vm_last_error_pc(vm));
        return 1;
    }
    return 0;
#endif
}
