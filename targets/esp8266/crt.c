/*
 * crt.c - the little C run-time of the Xtensa qemu harnesses: no libc. The ESP8266's
 * (lx106, call0, compiled by gcc) and the windowed ESP32s' (compiled by LLVM 22).
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

/* memset, memcpy, memmove, memcmp and the buffered output: shared by every SoC. */
#include "crt_common.c"
