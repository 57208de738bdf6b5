/*
 * libgcc_extra.c - the integer helpers gcc calls on the LX106 that Debian's
 * xtensa-lx106-elf libgcc does not have; and the libgcc of the windowed ESP32s, of which
 * there is none here (LLVM 22 calls the 64-bit ones there: no MUL32_HIGH on qemu's core).
 *
 * The LX106 has a 32-bit multiply (MULL, low word only) and 16x16 multiplies, but no
 * divide and no 32x32->64 multiply: gcc calls __udivsi3, __umodsi3, __divsi3,
 * __modsi3 for 32-bit division, __umulsidi3 and __muldi3 for 64-bit products and
 * __udivdi3, __umoddi3, __divdi3, __moddi3 for 64-bit division. On the chip every
 * one of them is in the mask ROM (the SDK's eagle.rom.addr.v6.ld gives their
 * addresses) and firmware links those; Debian's libgcc for the lx106 leaves them
 * out (its __moddi3 and __udivmoddi4 even call the missing ones), so the qemu
 * harnesses link these small C versions instead. They use only shifts, adds,
 * compares and 32-bit MULL, so gcc cannot turn them back into calls of themselves
 * (compile with -fno-builtin; the tests check the results against the host).
 *
 * Division by zero gives quotient 0 and remainder = dividend here; translated code
 * never divides by zero (eBPF defines x / 0 = 0 and x % 0 = x, and the emitted C
 * tests the divisor first).
 */
#include <stdint.h>

/* LLVM (clang-22, the windowed ESP32s) recognizes the sum of partial products below as
 * a 32x32->64 multiply and, on a core built without MUL32_HIGH, calls __muldi3 for it:
 * this very function. An empty asm hides the value from that pattern. */
#define FC_OPAQUE(v) __asm__("" : "+r"(v))

uint64_t __umulsidi3(uint32_t a, uint32_t b);
uint64_t __muldi3(uint64_t a, uint64_t b);
uint32_t __udivsi3(uint32_t n, uint32_t d);
uint32_t __umodsi3(uint32_t n, uint32_t d);
int32_t __divsi3(int32_t n, int32_t d);
int32_t __modsi3(int32_t n, int32_t d);
uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);

/* 32x32 -> 64 from four 16x16 -> 32 products. */
uint64_t __umulsidi3(uint32_t a, uint32_t b) {
    uint32_t al = a & 0xffff, ah = a >> 16, bl = b & 0xffff, bh = b >> 16;
    uint32_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    FC_OPAQUE(lh);
    FC_OPAQUE(hl);
    /* At most 0xfffe0001 + 0xffff + 0xffff: no carry out. */
    uint32_t mid = lh + (ll >> 16) + (hl & 0xffff);
    uint32_t lo = (mid << 16) | (ll & 0xffff);
    uint32_t hi = hh + (mid >> 16) + (hl >> 16);
    return ((uint64_t)hi << 32) | lo;
}

/* The low 64 bits of a 64x64 product: the cross terms only reach the high word. */
uint64_t __muldi3(uint64_t a, uint64_t b) {
    uint32_t al = (uint32_t)a, ah = (uint32_t)(a >> 32), bl = (uint32_t)b, bh = (uint32_t)(b >> 32);
    uint64_t p = __umulsidi3(al, bl);
    uint32_t cross = al * bh + ah * bl;
    return p + ((uint64_t)cross << 32);
}

/* Shift-and-subtract: align d under n, then one quotient bit per step. */
static uint32_t udivmod32(uint32_t n, uint32_t d, uint32_t *rem) {
    uint32_t q = 0, bit = 1;
    if (d == 0) {
        *rem = n;
        return 0;
    }
    while (d < n && !(d & 0x80000000u)) {
        d <<= 1;
        bit <<= 1;
    }
    while (bit) {
        if (n >= d) {
            n -= d;
            q |= bit;
        }
        d >>= 1;
        bit >>= 1;
    }
    *rem = n;
    return q;
}

static uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *rem) {
    if ((n >> 32) == 0 && (d >> 32) == 0) {
        uint32_t r;
        uint32_t q = udivmod32((uint32_t)n, (uint32_t)d, &r);
        *rem = r;
        return q;
    }
    uint64_t q = 0, bit = 1;
    if (d == 0) {
        *rem = n;
        return 0;
    }
    while (d < n && !(d >> 63)) {
        d <<= 1;
        bit <<= 1;
    }
    while (bit) {
        if (n >= d) {
            n -= d;
            q |= bit;
        }
        d >>= 1;
        bit >>= 1;
    }
    *rem = n;
    return q;
}

uint32_t __udivsi3(uint32_t n, uint32_t d) {
    uint32_t r;
    return udivmod32(n, d, &r);
}

uint32_t __umodsi3(uint32_t n, uint32_t d) {
    uint32_t r;
    udivmod32(n, d, &r);
    return r;
}

/* Signed: truncating toward zero, the remainder has the dividend's sign (C99). */
static uint32_t mag32(int32_t v) { return v < 0 ? 0u - (uint32_t)v : (uint32_t)v; }
static uint64_t mag64(int64_t v) { return v < 0 ? 0u - (uint64_t)v : (uint64_t)v; }

int32_t __divsi3(int32_t n, int32_t d) {
    uint32_t r, q = udivmod32(mag32(n), mag32(d), &r);
    return (int32_t)((n < 0) != (d < 0) ? 0u - q : q);
}

int32_t __modsi3(int32_t n, int32_t d) {
    uint32_t r;
    udivmod32(mag32(n), mag32(d), &r);
    return (int32_t)(n < 0 ? 0u - r : r);
}

uint64_t __udivdi3(uint64_t n, uint64_t d) {
    uint64_t r;
    return udivmod64(n, d, &r);
}

uint64_t __umoddi3(uint64_t n, uint64_t d) {
    uint64_t r;
    udivmod64(n, d, &r);
    return r;
}

int64_t __divdi3(int64_t n, int64_t d) {
    uint64_t r, q = udivmod64(mag64(n), mag64(d), &r);
    return (int64_t)((n < 0) != (d < 0) ? 0u - q : q);
}

int64_t __moddi3(int64_t n, int64_t d) {
    uint64_t r;
    udivmod64(mag64(n), mag64(d), &r);
    return (int64_t)(n < 0 ? 0u - r : r);
}
