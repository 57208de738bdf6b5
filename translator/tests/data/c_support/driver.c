/*
 * driver.c - runs one container translated with `fc-aot translate --backend c`
 * on the C support code (targets/common/fc_support.c) and prints what
 * `fc-aot run` prints for the same arguments, byte for byte (tests/c_support.rs).
 *
 *     driver [--ctx HEX] [--budget N|off] [--stack N] [--function NAME]
 *            [--helpers sming|riot|conformance]
 *            [--runs N] [--vms N] [--unload] [--clock MS] [--app-helpers] [--lock-count]
 *
 * With the first five options alone the output is `fc-aot run`'s report. The
 * others make scenarios the test mirrors on the Rust VirtualMachine: several
 * runs (data kept, stack zeroed), several VMs on one pool, unloading, a fixed
 * clock, application helpers, counting the lock hook's calls.
 *
 * The container's symbols come from driver_container.h, which the test
 * generates: `static const fc_support_container driver_container`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_hex.h"
#include "fc_run_report.h"
#include "fc_support.h"
#include "driver_container.h"

#define MAX_VMS 4

static int fail(const char *what, const char *detail) {
    fprintf(stderr, "driver: %s%s\n", what, detail ? detail : "");
    return 1;
}

static uint8_t *parse_hex(const char *text, size_t *len) {
    size_t n = strlen(text);
    if (n % 2 != 0) return NULL;
    uint8_t *bytes = malloc(n / 2 + 1);
    if (!bytes) return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = fc_hex_digit(text[2 * i]), lo = fc_hex_digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(bytes);
            return NULL;
        }
        bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return bytes;
}

static void print_store(fc_support_stores *stores, const char *what, fc_store_owner owner) {
    uint32_t keys[FC_STORE_NUM_VALUES], values[FC_STORE_NUM_VALUES];
    fc_report_store(what, keys, values, fc_support_store_entries(stores, owner, keys, values, FC_STORE_NUM_VALUES));
}

/* The lock hook, counting and checking that calls pair up. */
static unsigned long locks, depth, nested;

static void on_lock(void *user) {
    (void)user;
    locks++;
    if (depth++ != 0) nested++;
}

static void on_unlock(void *user) {
    (void)user;
    if (depth-- != 1) nested++;
}

static uint32_t fixed_clock(void *user) {
    return *(const uint32_t *)user;
}

/* Application helpers (the test registers the same ones on the Rust VM). */
static uint64_t app_sum(void *user, fc_env *env, const uint64_t args[5]) {
    (void)user;
    (void)env;
    return args[0] + 2 * args[1] + 3 * args[2] + 4 * args[3] + 5 * args[4];
}

static uint64_t app_strlen(void *user, fc_env *env, const uint64_t args[5]) {
    (void)user;
    size_t n = 0;
    return fc_support_string(env, args[0], &n) ? (uint64_t)n : UINT64_MAX;
}

static uint64_t app_fill(void *user, fc_env *env, const uint64_t args[5]) {
    (void)user;
    uint8_t *p = fc_support_translate(env, args[0], (size_t)args[1], true);
    if (!p) return UINT64_MAX;
    memset(p, (int)(uint8_t)args[2], (size_t)args[1]);
    return 0;
}

int main(int argc, char **argv) {
    const char *function = NULL, *ctx_hex = NULL, *budget_text = "200", *profile_text = "sming";
    unsigned long stack = FC_DEFAULT_STACK_SIZE, runs = 1, vms = 1;
    int unload = 0, app_helpers = 0, lock_count = 0, has_clock = 0;
    uint32_t clock_ms = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--ctx") == 0 && v) {
            ctx_hex = argv[++i];
        } else if (strcmp(a, "--budget") == 0 && v) {
            budget_text = argv[++i];
        } else if (strcmp(a, "--function") == 0 && v) {
            function = argv[++i];
        } else if (strcmp(a, "--stack") == 0 && v) {
            stack = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(a, "--helpers") == 0 && v) {
            profile_text = argv[++i];
        } else if (strcmp(a, "--runs") == 0 && v) {
            runs = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(a, "--vms") == 0 && v) {
            vms = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(a, "--clock") == 0 && v) {
            has_clock = 1;
            clock_ms = (uint32_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(a, "--unload") == 0) {
            unload = 1;
        } else if (strcmp(a, "--app-helpers") == 0) {
            app_helpers = 1;
        } else if (strcmp(a, "--lock-count") == 0) {
            lock_count = 1;
        } else {
            return fail("bad argument ", a);
        }
    }
    if (vms < 1 || vms > MAX_VMS) return fail("--vms: 1..4", NULL);
    int profile = strcmp(profile_text, "riot") == 0          ? FC_PROFILE_RIOT
                  : strcmp(profile_text, "conformance") == 0 ? FC_PROFILE_CONFORMANCE
                                                             : FC_PROFILE_SMING;
    int bounded = strcmp(budget_text, "off") != 0;
    uint32_t budget = bounded ? (uint32_t)strtoul(budget_text, NULL, 10) : 0;
    uint8_t *ctx = NULL;
    size_t ctx_len = 0;
    if (ctx_hex && !(ctx = parse_hex(ctx_hex, &ctx_len))) return fail("--ctx: not hex", NULL);
    int scenario = runs != 1 || vms != 1 || unload || lock_count;

    static fc_support_stores stores;
    static fc_support_vm vm[MAX_VMS];
    static fc_report_lines output;
    fc_support_stores_init(&stores);
    if (lock_count && !fc_support_stores_set_lock(&stores, on_lock, on_unlock, NULL)) return fail("set_lock", NULL);

    uint8_t *ram[MAX_VMS] = {NULL}, *stk[MAX_VMS] = {NULL};
    size_t ram_size = fc_support_ram_size(&driver_container);
    size_t stack_size = fc_support_stack_size(&driver_container, stack);
    for (unsigned long v = 0; v < vms; v++) {
        fc_support_vm_init(&vm[v], &stores);
        fc_support_set_profile(&vm[v], profile);
        fc_support_set_budget(&vm[v], budget, bounded);
        fc_support_set_output(&vm[v], fc_report_collect, &output);
        if (has_clock) fc_support_set_clock(&vm[v], fixed_clock, &clock_ms);
        if (app_helpers) {
            if (fc_support_register_helper(&vm[v], 0xff, 1, app_sum, NULL)) return fail("id 0xff accepted", NULL);
            if (!fc_support_register_helper(&vm[v], 0x100, 5, app_strlen, NULL) ||
                !fc_support_register_helper(&vm[v], 0x100, 5, app_sum, NULL) /* replaces */ ||
                !fc_support_register_helper(&vm[v], 0x101, 1, app_strlen, NULL) ||
                !fc_support_register_helper(&vm[v], 0x102, 3, app_fill, NULL))
                return fail("register_helper", NULL);
        }
        ram[v] = malloc(ram_size + 1);
        stk[v] = malloc(stack_size + 1);
        if (!ram[v] || !stk[v]) return fail("out of memory", NULL);
        int code = fc_support_load(&vm[v], &driver_container, ram[v], ram_size, stk[v], stack_size, stack);
        if (code != FC_OK) return fail("load: ", fc_support_error_name(code));
    }
    if (function) {
        size_t i = 0;
        while (i < driver_container.function_count && strcmp(driver_container.functions[i].name, function) != 0) i++;
        if (i == driver_container.function_count) return fail("no function ", function);
    }

    int error = FC_OK;
    for (unsigned long r = 0; r < runs; r++) {
        for (unsigned long v = 0; v < vms; v++) {
            if (scenario) printf("-- vm %lu run %lu\n", v, r);
            uint64_t r0 = 0;
            error = function ? fc_support_run_function(&vm[v], function, ctx, ctx_len, &r0)
                             : fc_support_run(&vm[v], ctx, ctx_len, &r0);
            if (error != fc_support_last_error(&vm[v])) return fail("last_error differs from the result", NULL);
            if (output.failed) return fail("out of memory", NULL);
            const char *error_name = error == FC_OK ? NULL : fc_support_error_name(error);
            size_t data_len;
            const uint8_t *data = fc_support_data(&vm[v], &data_len);
            fc_report_run(r0, error_name, fc_support_last_error_pc(&vm[v]), &output, ctx, ctx_len, data, data_len);
            print_store(&stores, "global", FC_STORE_GLOBAL);
            print_store(&stores, "local", fc_support_local_owner(&vm[v]));
        }
    }
    if (unload) {
        for (unsigned long v = 0; v < vms; v++) {
            fc_support_unload(&vm[v]);
            printf("-- unloaded vm %lu\n", v);
            print_store(&stores, "global", FC_STORE_GLOBAL);
            print_store(&stores, "local", fc_support_local_owner(&vm[v]));
            printf("free: %zu\n", fc_support_stores_free(&stores));
        }
    }
    if (scenario) {
        /* As the Rust VMs' Drop: unload each, in order. */
        for (unsigned long v = 0; v < vms; v++) fc_support_unload(&vm[v]);
        printf("free: %zu\n", fc_support_stores_free(&stores));
    }
    if (lock_count) printf("locks: %lu%s\n", locks, nested ? " (unpaired)" : "");
    for (unsigned long v = 0; v < vms; v++) {
        if (!scenario) fc_support_unload(&vm[v]);
        free(ram[v]);
        free(stk[v]);
    }
    free(ctx);
    return error == FC_OK ? 0 : 3; /* fc-aot run's status for a run that stopped with an error */
}
