/*
 * fc_hex.h - hex digits of a container or context given on the command line, for the
 * programs that run containers: runtime_harness.c and runtime_bench.c (through
 * fc_cmdline.h), targets/esp32c3/bench/bench.c and targets/host/run_native.c.
 *
 * C99, header only, freestanding: only <stddef.h> and <stdint.h>, no libc call, so the
 * bare-metal rv32imc harnesses can include it as well as hosted programs.
 */
#ifndef FC_HEX_H
#define FC_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of hex digit `c` (either case), or -1. */
static inline int fc_hex_digit(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The hex digits of `text` in pairs, into `out`: any other character is skipped, and
 * digits past `max` bytes (or an odd last one) are ignored. Returns the bytes written. */
static inline size_t fc_hex_parse_loose(const char *text, uint8_t *out, size_t max) {
    size_t n = 0;
    int high = -1;
    for (; *text; text++) {
        int d = fc_hex_digit(*text);
        if (d < 0) continue;
        if (high < 0) {
            high = d;
        } else if (n < max) {
            out[n++] = (uint8_t)(high << 4 | d);
            high = -1;
        }
    }
    return n;
}

#endif
