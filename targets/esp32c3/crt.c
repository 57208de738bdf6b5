/*
 * crt.c - the little C run-time of the rv32imc qemu harnesses: no libc.
 *
 * Output goes through the Linux `write` system call (a7 = 64) and the program
 * ends with `exit` (a7 = 93), both as qemu-riscv32 implements them. memset,
 * memcpy, memmove and memcmp are here because gcc may call them even in
 * -ffreestanding code (structure copies and zeroing); this file is compiled with
 * -fno-builtin -fno-tree-loop-distribute-patterns so that they do not call themselves.
 */
#include "crt.h"

long fc_write(int fd, const void *buf, size_t len) {
    register long a0 __asm__("a0") = fd;
    register long a1 __asm__("a1") = (long)buf;
    register long a2 __asm__("a2") = (long)len;
    register long a7 __asm__("a7") = 64;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

void fc_exit(int status) {
    fc_flush();
    register long a0 __asm__("a0") = status;
    register long a7 __asm__("a7") = 93;
    __asm__ volatile("ecall" : : "r"(a0), "r"(a7) : "memory");
    for (;;) {
    }
}

/* memset, memcpy, memmove, memcmp and the buffered output: shared by every SoC. */
#include "crt_common.c"
