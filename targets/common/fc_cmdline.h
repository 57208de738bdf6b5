/*
 * fc_cmdline.h - what the qemu harnesses share in reading their command line and
 * printing their report: decimal and prefix parsing, the length of a hex argument,
 * bytes as hex, and the `harness: <reason>` refusal. Header only, over crt.h and fc_hex.h.
 */
#ifndef FC_CMDLINE_H
#define FC_CMDLINE_H

#include <stdint.h>

#include "crt.h"
#include "fc_hex.h"

static inline uint64_t fc_parse_dec(const char *s) {
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) v = v * 10 + (uint64_t)(*s - '0');
    return v;
}

static inline int fc_starts(const char *s, const char *prefix) {
    for (; *prefix; s++, prefix++) {
        if (*s != *prefix) return 0;
    }
    return 1;
}

/* Bytes of the hex text `s` (its digits in pairs; other characters are skipped, as
 * fc_hex_parse_loose skips them). */
static inline uint64_t fc_hex_bytes(const char *s) {
    uint64_t digits = 0;
    for (; *s; s++) digits += fc_hex_digit(*s) >= 0;
    return digits / 2;
}

/* `NAME: HEX` and a newline. */
static inline void fc_put_bytes(const char *name, const uint8_t *b, size_t n) {
    fc_puts(name);
    fc_puts(": ");
    for (size_t i = 0; i < n; i++) {
        fc_putc("0123456789abcdef"[b[i] >> 4]);
        fc_putc("0123456789abcdef"[b[i] & 15]);
    }
    fc_putc('\n');
}

/* The line of a run that stopped: `error <code> at insn <slot>`. */
static inline void fc_put_error(int64_t code, uint64_t slot) {
    fc_puts("error ");
    fc_put_dec(code);
    fc_puts(" at insn ");
    fc_put_udec(slot);
    fc_putc('\n');
}

/* What a harness cannot hold: `harness: <what>`, exit status 2, before any run. */
static inline int fc_refuse(const char *what) {
    fc_puts("harness: ");
    fc_puts(what);
    fc_putc('\n');
    fc_flush();
    return 2;
}

#endif
