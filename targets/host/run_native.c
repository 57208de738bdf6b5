/*
 * run_native.c - runs a container on its translated (native) code, linked into
 * this program, through the runtime's C API, and prints what `fc-aot run`
 * prints for the same container, context and budget, byte for byte.
 *
 *     run_native FILE.bin [--ctx HEX] [--budget N|off] [--stack N] [--function NAME]
 *
 * Build (see README.md): this file, the generated entries.c of one container,
 * the container's object from `fc-aot translate NAME.bin -o NAME.o`, and
 * libfc_runtime_capi.a:
 *
 *     gcc -std=c11 -I targets/include -I targets/common -I targets/host \
 *         run_native.c entries.c NAME.o libfc_runtime_capi.a -lpthread -ldl -lm -o run_native
 *
 * Exit status as `fc-aot run`: 0 when the run ended without error, 3 when it
 * stopped with one, 1 for bad arguments or a container that does not load.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fc_hex.h"
#include "fc_native_entries.h"
#include "fc_run_report.h"

#define EXIT_BAD_INPUT 1
#define EXIT_RUN_ERROR 3

/* One error line, `run_native: <what>`, and the exit status of bad input. */
static int fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fputs("run_native: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    return EXIT_BAD_INPUT;
}

static int is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* `--ctx`: hex digits in pairs, whitespace ignored (as fc-aot). */
static const char *parse_hex(const char *text, uint8_t **bytes, size_t *len) {
    size_t digits = 0;
    for (const char *p = text; *p; p++) digits += !is_space(*p);
    if (digits % 2 != 0) return "odd number of hex digits";
    *len = digits / 2;
    *bytes = malloc(*len ? *len : 1);
    if (!*bytes) return "out of memory";
    size_t n = 0;
    int high = -1;
    for (const char *p = text; *p; p++) {
        if (is_space(*p)) continue;
        int d = fc_hex_digit(*p);
        if (d < 0) return "not a hex byte";
        if (high < 0) {
            high = d;
        } else {
            (*bytes)[n++] = (uint8_t)(high << 4 | d);
            high = -1;
        }
    }
    return NULL;
}

/* A decimal number without sign or spaces, at most `max`. */
static int parse_number(const char *text, uint64_t max, uint64_t *value) {
    uint64_t v = 0;
    if (*text == '+') text++;
    if (!*text) return 0;
    for (; *text; text++) {
        if (*text < '0' || *text > '9') return 0;
        unsigned d = (unsigned)(*text - '0');
        if (v > (max - d) / 10) return 0;
        v = v * 10 + d;
    }
    *value = v;
    return 1;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        uint8_t *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* bpf_now_ms as fc-aot run gives it: milliseconds since the program started. */
static struct timespec started;

static uint32_t elapsed_ms(void *user) {
    (void)user;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ms = (int64_t)(now.tv_sec - started.tv_sec) * 1000 + (now.tv_nsec - started.tv_nsec) / 1000000;
    return (uint32_t)ms;
}

int main(int argc, char **argv) {
    const char *file = NULL, *function = NULL;
    const char *ctx_hex = NULL, *budget_text = "200";
    uint64_t stack = FC_DEFAULT_STACK_SIZE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "--ctx") == 0 && has_value) {
            ctx_hex = argv[++i];
        } else if (strcmp(a, "--budget") == 0 && has_value) {
            budget_text = argv[++i];
        } else if (strcmp(a, "--function") == 0 && has_value) {
            function = argv[++i];
        } else if (strcmp(a, "--stack") == 0 && has_value) {
            if (!parse_number(argv[++i], SIZE_MAX, &stack)) return fail("--stack: `%s` is not a number", argv[i]);
        } else if (a[0] != '-' && !file) {
            file = a;
        } else {
            return fail("usage: run_native FILE.bin [--ctx HEX] [--budget N|off] [--stack N] [--function NAME]");
        }
    }
    if (!file) return fail("usage: run_native FILE.bin [--ctx HEX] [--budget N|off] [--stack N] [--function NAME]");

    uint8_t *ctx = NULL;
    size_t ctx_len = 0;
    if (ctx_hex) {
        const char *why = parse_hex(ctx_hex, &ctx, &ctx_len);
        if (why) return fail("--ctx: %s", why);
    }
    uint64_t budget = 0;
    int bounded = strcmp(budget_text, "off") != 0;
    if (bounded && !parse_number(budget_text, UINT32_MAX, &budget))
        return fail("--budget: `%s` is not a number of jumps or `off`", budget_text);

    size_t len = 0;
    uint8_t *bytes = read_file(file, &len);
    if (!bytes) return fail("%s: cannot read it", file);

    clock_gettime(CLOCK_MONOTONIC, &started);
    fc_report_lines output = {0};
    fc_stores *stores = fc_stores_new();
    fc_vm *vm = fc_vm_new(stores);
    if (!vm) return fail("out of memory");
    fc_vm_set_budget(vm, (uint32_t)budget, bounded);
    fc_vm_set_profile(vm, FC_PROFILE_SMING);
    fc_vm_set_output(vm, fc_report_collect, &output);
    fc_vm_set_clock(vm, elapsed_ms, NULL);
    /* The translated code: every function of the container, by name. */
    if (!fc_vm_set_native(vm, *fc_native_abi_version, fc_native_entries, fc_native_count))
        return fail("%s: the native entry table is malformed", file);
    if (!fc_vm_load(vm, bytes, len, (size_t)stack)) {
        char why[512];
        fc_vm_load_error_text(vm, why, sizeof why);
        return fail("%s: %s", file, why);
    }

    int64_t result;
    if (function) {
        /* A load succeeds only when the entries name exactly the function table. */
        size_t i = 0;
        while (i < fc_native_count && strcmp(fc_native_entries[i].name, function) != 0) i++;
        if (i == fc_native_count) {
            fprintf(stderr, "run_native: %s: no function `%s` (have: ", file, function);
            for (size_t j = 0; j < fc_native_count; j++) fprintf(stderr, "%s%s", j ? ", " : "", fc_native_entries[j].name);
            fputs(")\n", stderr);
            return EXIT_BAD_INPUT;
        }
        result = fc_vm_execute_function(vm, function, ctx, ctx_len);
    } else {
        result = fc_vm_execute(vm, ctx, ctx_len);
    }
    int error = fc_vm_last_error(vm);
    size_t error_pc = fc_vm_last_error_pc(vm);
    if (output.failed) return fail("out of memory");

    size_t data_len;
    const uint8_t *data = fc_vm_data(vm, &data_len);
    fc_report_run((uint64_t)result, error == FC_OK ? NULL : fc_error_string(error), error_pc, &output, ctx, ctx_len, data, data_len);
    size_t n_global = fc_global_entries(stores, NULL, NULL, 0);
    size_t n_local = fc_local_entries(vm, NULL, NULL, 0);
    size_t n = (n_global > n_local ? n_global : n_local) + 1;
    uint32_t *keys = malloc(n * sizeof *keys), *values = malloc(n * sizeof *values);
    if (!keys || !values) return fail("out of memory");
    n_global = fc_global_entries(stores, keys, values, n);
    fc_report_store("global", keys, values, n_global < n ? n_global : n);
    n_local = fc_local_entries(vm, keys, values, n);
    fc_report_store("local", keys, values, n_local < n ? n_local : n);

    free(keys);
    free(values);
    fc_vm_free(vm);
    fc_stores_free(stores);
    free(bytes);
    free(ctx);
    return error == FC_OK ? EXIT_SUCCESS : EXIT_RUN_ERROR;
}
