/*
 * crt_output.c - the buffered output of crt.h (fc_putc, fc_puts, fc_put_*, fc_flush) over
 * the includer's fc_write, and the runtime library's panic report over it: for the
 * bare-metal SoCs through crt_common.c, for the Linux ISAs through targets/linux/crt.c.
 * The includer has already included crt.h.
 */

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

/* The firmware's side of the runtime library (fc_runtime.h): its panic (a bug, never an
 * input's fault) ends the program with status 101 after saying where. */
void fc_runtime_panic(const uint8_t *file, size_t file_len, uint32_t line) {
    fc_flush();
    fc_puts("the runtime panicked at ");
    for (size_t i = 0; i < file_len; i++) fc_putc((char)file[i]);
    fc_putc(':');
    fc_put_udec(line);
    fc_putc('\n');
    fc_exit(101);
}
