/*
 * crt_common.c - the part of the bare-metal SoC targets' little C run-time that does not
 * depend on the SoC (ESP32-C3, RP2040, ESP8266): memset, memcpy, memmove, memcmp, strlen
 * and abort (what the Rust runtime's library takes from the firmware's C library) and
 * (crt_output.c) the buffered output over fc_write / fc_exit and fc_runtime_panic. Each
 * target's crt.c defines its system-call layer (fc_write, fc_exit) and then includes
 * this file (compile it with
 * -I targets/common), so that it is one object per target as before. It is compiled with
 * -fno-builtin -fno-tree-loop-distribute-patterns so that memset/memcpy do not call
 * themselves. The includer has already included crt.h (targets/common/crt.h).
 */

/* Words where both ends are 4-aligned, as a firmware's libc does (the runtime library
 * moves its structures with memcpy): a byte loop would make every load and run of the
 * benchmarks pay for the harness's C library. */
typedef uint32_t __attribute__((may_alias)) fc_word;

void *memset(void *dst, int c, size_t n) {
    uint8_t *d = dst;
    if (((uintptr_t)d & 3) == 0) {
        fc_word w = (uint8_t)c * 0x01010101u;
        for (; n >= 4; n -= 4, d += 4) *(fc_word *)d = w;
    }
    while (n--) *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if ((((uintptr_t)d | (uintptr_t)s) & 3) == 0) {
        for (; n >= 4; n -= 4, d += 4, s += 4) *(fc_word *)d = *(const fc_word *)s;
    }
    while (n--) *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else if (d > s) {
        d += n;
        s += n;
        while (n--) *--d = *--s;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++) {
        if (*x != *y) return *x < *y ? -1 : 1;
    }
    return 0;
}

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/* What a trap instruction becomes where the core has none (LLVM's Xtensa backend). */
void abort(void) {
    fc_exit(134);
}

/* The buffered output and the runtime's panic report: shared with the Linux ISAs' crt
 * (targets/linux/crt.c). */
#include "crt_output.c"
