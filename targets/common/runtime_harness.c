/*
 * runtime_harness.c - runs one container on the fc-aot runtime itself under qemu-user
 * (or natively): the runtime's no_std C API library (libfc_runtime_capi.a, what
 * `fc-aot runtime` hands out) parses, verifies and runs it, on its interpreters or,
 * built with -DFC_HARNESS_NATIVE, on translated code linked in (fc_prog_native[]: the
 * container's function table, each name with its fc_prog_<name> entry). The one harness
 * of every target outside the host's process: the bare-metal SoCs (no libc: crt.c, own
 * start-up: start.S; every engine) and the Linux ISAs of the `aot` engine
 * (targets/linux/crt.c over the C library; -DFC_HARNESS_NATIVE), for `fc-aot run` and
 * the conformance suite there.
 *
 *     prog CONTAINER-HEX [CTX-HEX] [-ereference|-einterp] [-fNAME] [-b<budget>|-boff]
 *          [-n<runs>] [-s<frame>] [-priot|-pconformance] [-v] [-m]
 *
 * r1 = a private copy of the context (absent or empty: none, r1 = 0), r2 = its length;
 * frames of -s bytes (default 512); budget 1 << 24 units unless -b says otherwise;
 * -f runs that function-table entry instead of the first. The helpers are the runtime's
 * (the profile's built-ins; now_ms reads no clock and gives 0 here, which keeps runs
 * reproducible); no application helpers.
 *
 * Output: without -v only the last line `0x<r0>` (exit 0) or `error <code> at insn
 * <slot>` (exit 1). With -v, per run: its printf lines as `printf: LINE`, then
 * `ctx: HEX`, `data: HEX`, `global store: k=v, ...`, `local store: k=v, ...` (keys
 * ascending) and the r0 / error line. A load the runtime refuses prints `load: <code>
 * <text>` (exit 3); what the harness cannot hold is refused before any run with
 * `harness: <reason>` (exit 2). -m ends with the heap's high-water mark. Built with
 * -DFC_HARNESS_FLASH, the container is fc_prog_blob (in flash) instead, loaded through
 * fc_vm_load_flash, and the first argument is the context.
 *
 * Its room, in bytes (decimal, so that the refusals can name it): the context
 * FC_HARNESS_MAX_CONTEXT, the container FC_HARNESS_MAX_CONTAINER and the runtime's arena
 * FC_HARNESS_ARENA (the VM, the loaded program, its stack, data and bss); a SoC's RAM
 * holds the defaults, the Linux ISAs define more.
 */
#include <stdint.h>

#include "crt.h"
#include "fc_cmdline.h"
#include "fc_hex.h"
#include "fc_runtime.h"

#define FRAME 512u
#define BUDGET (1u << 24)
#ifndef FC_HARNESS_MAX_CONTEXT
#define FC_HARNESS_MAX_CONTEXT 32768
#endif
#ifndef FC_HARNESS_MAX_CONTAINER
#define FC_HARNESS_MAX_CONTAINER 32768
#endif
#ifndef FC_HARNESS_ARENA
#define FC_HARNESS_ARENA 65536
#endif
/* A number as text, for the refusals. */
#define TEXT(n) #n
#define NUMBER(n) TEXT(n)

#ifdef FC_HARNESS_NATIVE
extern const fc_native_fn fc_prog_native[];
extern const size_t fc_prog_native_len;
#endif
#ifdef FC_HARNESS_FLASH
/* The container in flash (linked in), loaded with fc_vm_load_flash: every argument that
 * is not a flag is the context. */
extern const uint8_t *const fc_prog_blob;
extern const size_t fc_prog_blob_len;
#endif

static uint8_t arena[FC_HARNESS_ARENA] __attribute__((aligned(16)));
static uint8_t container[FC_HARNESS_MAX_CONTAINER];
static uint8_t memory[FC_HARNESS_MAX_CONTEXT];
static uint8_t memory_init[FC_HARNESS_MAX_CONTEXT];

/* ---- printf: each output line becomes `printf: LINE` ---- */
static void print_line(void *user, const char *text, size_t len) {
    (void)user;
    fc_puts("printf: ");
    for (size_t i = 0; i < len; i++) fc_putc(text[i]);
    /* The rest of a run's output may end without a newline. */
    if (len == 0 || text[len - 1] != '\n') fc_putc('\n');
}

static void put_entries(const char *name, const uint32_t *keys, const uint32_t *values, size_t n) {
    fc_puts(name);
    fc_puts(" store:");
    for (size_t i = 0; i < n; i++) {
        fc_puts(i ? ", " : " ");
        fc_put_udec(keys[i]);
        fc_putc('=');
        fc_put_udec(values[i]);
    }
    fc_putc('\n');
}

int main(int argc, char **argv) {
    uint32_t budget = BUDGET, runs = 1;
    bool bounded = true;
    size_t frame = FRAME, len = 0, container_len = 0;
    int verbose = 0, heap = 0, profile = FC_PROFILE_SMING, engine = FC_ENGINE_INTERP, have_container = 0;
    const char *function = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (fc_starts(a, "-boff")) bounded = false;
        else if (fc_starts(a, "-b")) budget = (uint32_t)fc_parse_dec(a + 2), bounded = true;
        else if (fc_starts(a, "-n")) runs = (uint32_t)fc_parse_dec(a + 2);
        else if (fc_starts(a, "-s")) frame = (size_t)fc_parse_dec(a + 2);
        else if (fc_starts(a, "-priot")) profile = FC_PROFILE_RIOT;
        else if (fc_starts(a, "-pconformance")) profile = FC_PROFILE_CONFORMANCE;
        else if (fc_starts(a, "-ereference")) engine = FC_ENGINE_REFERENCE;
        else if (fc_starts(a, "-einterp")) engine = FC_ENGINE_INTERP;
        else if (fc_starts(a, "-f")) function = a + 2;
        else if (fc_starts(a, "-v")) verbose = 1;
        else if (fc_starts(a, "-m")) heap = 1;
#ifndef FC_HARNESS_FLASH
        else if (!have_container) {
            if (fc_hex_bytes(a) > FC_HARNESS_MAX_CONTAINER) return fc_refuse("the container is larger than its " NUMBER(FC_HARNESS_MAX_CONTAINER) " bytes");
            container_len = fc_hex_parse_loose(a, container, FC_HARNESS_MAX_CONTAINER);
            have_container = 1;
        }
#endif
        else if (fc_hex_bytes(a) > FC_HARNESS_MAX_CONTEXT) return fc_refuse("the context is larger than its " NUMBER(FC_HARNESS_MAX_CONTEXT) " bytes");
        else len = fc_hex_parse_loose(a, memory_init, FC_HARNESS_MAX_CONTEXT);
    }
#ifdef FC_HARNESS_FLASH
    (void)have_container;
    (void)container;
#else
    if (!have_container) return fc_refuse("no container given");
#endif
    if (!fc_runtime_init(arena, sizeof arena, NULL, NULL)) return fc_refuse("fc_runtime_init refused the arena");
    fc_stores *stores = fc_stores_new();
    fc_vm *vm = fc_vm_new(stores);
    if (!vm) return fc_refuse("no memory for the VM");
    fc_vm_set_engine(vm, engine);
#ifdef FC_HARNESS_NATIVE
    if (!fc_vm_set_native(vm, FC_ABI_VERSION, fc_prog_native, fc_prog_native_len)) return fc_refuse("fc_vm_set_native refused the table");
#endif
    fc_vm_set_profile(vm, profile);
    fc_vm_set_budget(vm, budget, bounded);
    fc_vm_set_output(vm, print_line, NULL);
#ifdef FC_HARNESS_FLASH
    bool loaded = fc_vm_load_flash(vm, fc_prog_blob, fc_prog_blob_len, frame);
#else
    bool loaded = fc_vm_load(vm, container, container_len, frame);
#endif
    if (!loaded) {
        char text[200];
        fc_vm_load_error_text(vm, text, sizeof text);
        fc_puts("load: ");
        fc_put_dec(fc_vm_last_error(vm));
        fc_putc(' ');
        fc_puts(text);
        fc_putc('\n');
        fc_flush();
        return 3;
    }
    int status = 0;
    for (uint32_t run = 0; run < runs; run++) {
        memcpy(memory, memory_init, len);
        int64_t r0 = function ? fc_vm_execute_function(vm, function, len ? memory : NULL, len)
                              : fc_vm_execute(vm, len ? memory : NULL, len);
        int error = fc_vm_last_error(vm);
        if (verbose) {
            size_t data_len = 0;
            const uint8_t *data = fc_vm_data(vm, &data_len);
            fc_put_bytes("ctx", memory, len);
            fc_put_bytes("data", data, data_len);
            uint32_t keys[64], values[64];
            size_t n = fc_global_entries(stores, keys, values, 64);
            put_entries("global", keys, values, n < 64 ? n : 64);
            n = fc_local_entries(vm, keys, values, 64);
            put_entries("local", keys, values, n < 64 ? n : 64);
        }
        if (error != 0) {
            fc_put_error(error, fc_vm_last_error_pc(vm));
            status = 1;
        } else {
            fc_puts("0x");
            fc_put_hex((uint64_t)r0);
            fc_putc('\n');
            status = 0;
        }
    }
    if (heap) {
        size_t used = 0, peak = 0;
        size_t size = fc_runtime_heap(&used, &peak);
        fc_puts("heap: ");
        fc_put_udec(peak);
        fc_puts(" of ");
        fc_put_udec(size);
        fc_puts(" bytes at most in use\n");
    }
    fc_flush();
    return status;
}
