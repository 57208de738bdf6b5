/*
 * crt.c - the little C run-time of the ESP8266 (lx106) qemu harnesses: no libc.
 *
 * Output goes through the Linux `write` system call and the program ends with
 * `exit`, both as qemu-xtensa implements them: a2 = the system call number (13
 * write, 118 exit in Xtensa Linux numbering), a6, a3, a4 = the first three
 * arguments, `syscall`, result in a2. memset, memcpy, memmove and memcmp are here
 * because gcc may call them even in -ffreestanding code (structure copies and
 * zeroing); this file is compiled with -fno-builtin -fno-tree-loop-distribute-patterns
 * so that they do not call themselves. The 64-bit and division helpers libgcc lacks
 * are in libgcc_extra.c.
 */
#include "crt.h"

#define SYS_WRITE 13
#define SYS_EXIT 118

long fc_write(int fd, const void *buf, size_t len) {
    register long a2 __asm__("a2") = SYS_WRITE;
    register long a6 __asm__("a6") = fd;
    register long a3 __asm__("a3") = (long)buf;
    register long a4 __asm__("a4") = (long)len;
    __asm__ volatile("syscall" : "+r"(a2) : "r"(a6), "r"(a3), "r"(a4) : "memory");
    return a2;
}

void fc_exit(int status) {
    fc_flush();
    register long a2 __asm__("a2") = SYS_EXIT;
    register long a6 __asm__("a6") = status;
    __asm__ volatile("syscall" : "+r"(a2) : "r"(a6) : "memory");
    for (;;) {
    }
}

void *memset(void *dst, int c, size_t n) {
    uint8_t *d = dst;
    while (n--) *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
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

static char out[1024];
static size_t out_len;

void fc_flush(void) {
    size_t done = 0;
    while (done < out_len) {
        long n = fc_write(1, out + done, out_len - done);
        if (n <= 0) break;
        done += (size_t)n;
    }
    out_len = 0;
}

void fc_putc(char c) {
    if (out_len == sizeof out) fc_flush();
    out[out_len++] = c;
}

void fc_puts(const char *s) {
    while (*s) fc_putc(*s++);
}

static const char lower[] = "0123456789abcdef";
static const char upper[] = "0123456789ABCDEF";

void fc_put_hex(uint64_t v) {
    char buf[16];
    int n = 0;
    do {
        buf[n++] = lower[v & 15];
        v >>= 4;
    } while (v);
    while (n) fc_putc(buf[--n]);
}

void fc_put_hex_fixed(uint64_t v) {
    for (int shift = 60; shift >= 0; shift -= 4) fc_putc(lower[(v >> shift) & 15]);
}

void fc_put_hex_upper32(uint32_t v) {
    char buf[8];
    int n = 0;
    do {
        buf[n++] = upper[v & 15];
        v >>= 4;
    } while (v);
    while (n) fc_putc(buf[--n]);
}

void fc_put_udec(uint64_t v) {
    char buf[20];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) fc_putc(buf[--n]);
}

void fc_put_dec(int64_t v) {
    if (v < 0) {
        fc_putc('-');
        fc_put_udec(0 - (uint64_t)v);
    } else {
        fc_put_udec((uint64_t)v);
    }
}
