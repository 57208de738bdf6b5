/*
 * crt_common.c - the part of the bare-metal SoC targets' little C run-time that does not
 * depend on the SoC (ESP32-C3, RP2040, ESP8266): memset, memcpy, memmove, memcmp and the
 * buffered output over fc_write / fc_exit. Each target's crt.c defines its system-call
 * layer (fc_write, fc_exit) and then includes this file (compile it with
 * -I targets/common), so that it is one object per target as before. It is compiled with
 * -fno-builtin -fno-tree-loop-distribute-patterns so that memset/memcpy do not call
 * themselves. The includer has already included crt.h (targets/common/crt.h).
 */

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
