/*
 * crt.h - the little C run-time the harness (runtime_harness.c) is written against.
 * On the bare-metal SoCs (ESP32-C3 rv32imc, RP2040 Cortex-M0+, ESP8266 lx106) there is
 * no libc: each target's crt.c has the system-call layer (fc_write, fc_exit: Linux
 * system calls as that target's qemu-user implements them) and includes crt_common.c,
 * which has the rest. On the Linux ISAs targets/linux/crt.c implements it over the C
 * library and includes only the buffered output (crt_output.c).
 */
#ifndef FC_CRT_H
#define FC_CRT_H

#include <stddef.h>
#include <stdint.h>

/* Linux system calls as the target's qemu-user implements them (targets/SOC/crt.c), or
 * the C library's (targets/linux/crt.c). */
long fc_write(int fd, const void *buf, size_t len);
__attribute__((noreturn)) void fc_exit(int status);

/* What gcc may call on its own (structure copies, zeroing). */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
__attribute__((noreturn)) void abort(void);
/* The runtime library's panic report (fc_runtime.h). */
void fc_runtime_panic(const uint8_t *file, size_t file_len, uint32_t line);

/* Buffered stdout: fc_flush() writes it out (fc_exit does too). */
void fc_putc(char c);
void fc_puts(const char *s);          /* no newline added */
void fc_put_hex(uint64_t v);          /* lowercase, no leading zeros, no 0x */
void fc_put_hex_fixed(uint64_t v);    /* always 16 digits: costs the same for every value */
void fc_put_hex_upper32(uint32_t v);  /* uppercase, no leading zeros */
void fc_put_udec(uint64_t v);
void fc_put_dec(int64_t v);
void fc_flush(void);

#endif
