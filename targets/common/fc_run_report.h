/*
 * fc_run_report.h - the report `fc-aot run` prints after a run, byte for byte, for
 * the C programs that must print the same: targets/host/run_native.c (the Rust
 * runtime's C API) and translator/tests/data/c_support/driver.c (fc_support.c).
 *
 *     r0: <decimal> (0x<hex>)        or  r0: <decimal> (<signed>, 0x<hex>) when bit 63 is set
 *     error: OK                      or  error: <NAME> at insn <pc>
 *     printf: <line>                 one per line of output, as from_utf8_lossy shows it
 *     ctx: <hex>                     when the context is not empty
 *     data: <hex>                    data + bss after the run, when not empty
 *     global store: k=v, k=v         keys ascending
 *     local store: k=v, k=v
 *
 * The printf lines are kept from the output sink (fc_report_collect, which has the
 * signature of both fc_output_fn and fc_support_output_fn) until the report.
 *
 * C99, header only, hosted (stdio, malloc).
 */
#ifndef FC_RUN_REPORT_H
#define FC_RUN_REPORT_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes `s` as Rust's String::from_utf8_lossy shows it (as fc-aot does): each
 * maximal ill-formed subsequence becomes U+FFFD. */
static inline void fc_report_put_lossy(const uint8_t *s, size_t len) {
    static const char replacement[] = "\xef\xbf\xbd";
    size_t i = 0;
    while (i < len) {
        uint8_t b = s[i];
        size_t need;
        uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */
        if (b < 0x80) {
            fputc(b, stdout);
            i++;
            continue;
        } else if (b >= 0xc2 && b <= 0xdf) {
            need = 2;
        } else if (b >= 0xe0 && b <= 0xef) {
            need = 3;
            if (b == 0xe0) lo = 0xa0;
            if (b == 0xed) hi = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
            need = 4;
            if (b == 0xf0) lo = 0x90;
            if (b == 0xf4) hi = 0x8f;
        } else {
            fputs(replacement, stdout);
            i++;
            continue;
        }
        size_t k = 1;
        while (k < need && i + k < len) {
            uint8_t c = s[i + k];
            uint8_t min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xbf;
            if (c < min || c > max) break;
            k++;
        }
        if (k == need) {
            fwrite(s + i, 1, need, stdout);
        } else {
            fputs(replacement, stdout);
        }
        i += k;
    }
}

/* printf output, one entry per call of the sink, kept until the run's report. */
typedef struct {
    char **text;
    size_t *len;
    size_t count, capacity;
    int failed; /* out of memory: a line was lost */
} fc_report_lines;

/* The output sink: keeps a copy of the line, without its newline (fc-aot strips it). */
static inline void fc_report_collect(void *user, const char *text, size_t len) {
    fc_report_lines *l = user;
    if (len > 0 && text[len - 1] == '\n') len--;
    if (l->count == l->capacity) {
        size_t cap = l->capacity ? l->capacity * 2 : 16;
        char **t = realloc(l->text, cap * sizeof *t);
        if (t) l->text = t;
        size_t *n = realloc(l->len, cap * sizeof *n);
        if (n) l->len = n;
        if (!t || !n) {
            l->failed = 1;
            return;
        }
        l->capacity = cap;
    }
    char *copy = malloc(len ? len : 1);
    if (!copy) {
        l->failed = 1;
        return;
    }
    memcpy(copy, text, len);
    l->text[l->count] = copy;
    l->len[l->count++] = len;
}

/* Frees what `l` holds; it is empty afterwards and may collect again. */
static inline void fc_report_lines_free(fc_report_lines *l) {
    for (size_t i = 0; i < l->count; i++) free(l->text[i]);
    free(l->text);
    free(l->len);
    memset(l, 0, sizeof *l);
}

/* `<name>: <hex>` of bytes that are not empty. */
static inline void fc_report_bytes(const char *name, const uint8_t *bytes, size_t len) {
    if (len == 0) return;
    printf("%s: ", name);
    for (size_t i = 0; i < len; i++) printf("%02x", bytes[i]);
    putchar('\n');
}

/* The report of one run. `error_name` is NULL when the run ended without error (then
 * `error_pc` is not printed); `lines` are the run's printf lines, emptied here; `ctx`
 * is the context after the run, `data` the data section (with bss). The store lines
 * follow, with fc_report_store. */
static inline void fc_report_run(uint64_t r0, const char *error_name, uint64_t error_pc, fc_report_lines *lines,
                                 const uint8_t *ctx, size_t ctx_len, const uint8_t *data, size_t data_len) {
    if (r0 >> 63) {
        /* Two's complement by hand: converting an out-of-range value to int64_t is
         * implementation-defined in C99. */
        printf("r0: %" PRIu64 " (-%" PRIu64 ", 0x%" PRIx64 ")\n", r0, ~r0 + 1, r0);
    } else {
        printf("r0: %" PRIu64 " (0x%" PRIx64 ")\n", r0, r0);
    }
    if (!error_name) {
        printf("error: OK\n");
    } else {
        printf("error: %s at insn %" PRIu64 "\n", error_name, error_pc);
    }
    for (size_t i = 0; i < lines->count; i++) {
        fputs("printf: ", stdout);
        fc_report_put_lossy((const uint8_t *)lines->text[i], lines->len[i]);
        putchar('\n');
    }
    fc_report_lines_free(lines);
    fc_report_bytes("ctx", ctx, ctx_len);
    fc_report_bytes("data", data, data_len);
}

/* One store line: `<what> store: k=v, k=v` (entries as given: keys ascending). */
static inline void fc_report_store(const char *what, const uint32_t *keys, const uint32_t *values, size_t n) {
    printf("%s store: ", what);
    for (size_t i = 0; i < n; i++) printf("%s%" PRIu32 "=%" PRIu32, i ? ", " : "", keys[i], values[i]);
    putchar('\n');
}

#endif
