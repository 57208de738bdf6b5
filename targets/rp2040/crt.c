/*
 * crt.c - the little C run-time of the Cortex-M0+ (ARMv6-M) qemu harnesses: no libc.
 *
 * Output goes through the Linux `write` system call (r7 = 4, `svc 0`) and the
 * program ends with `exit` (r7 = 1), both as qemu-arm implements them (EABI: the
 * number in r7, arguments in r0-r2, result in r0). memset, memcpy, memmove and memcmp
 * are here because gcc may call them even in -ffreestanding code (structure copies
 * and zeroing); this file is compiled with -fno-builtin
 * -fno-tree-loop-distribute-patterns so that they do not call themselves.
 */
#include "crt.h"

long fc_write(int fd, const void *buf, size_t len) {
    register long r0 __asm__("r0") = fd;
    register long r1 __asm__("r1") = (long)buf;
    register long r2 __asm__("r2") = (long)len;
    register long r7 __asm__("r7") = 4;
    __asm__ volatile("svc #0" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r7) : "memory");
    return r0;
}

void fc_exit(int status) {
    fc_flush();
    register long r0 __asm__("r0") = status;
    register long r7 __asm__("r7") = 1;
    __asm__ volatile("svc #0" : : "r"(r0), "r"(r7) : "memory");
    for (;;) {
    }
}
/* The personality routine the Rust runtime's unwind tables name. Its panics abort, so
 * nothing ever unwinds through them; without this, libgcc's unwinder (and its need for
 * __exidx_start/__exidx_end) would be linked in. */
void __aeabi_unwind_cpp_pr0(void) {}

/* memset, memcpy, memmove, memcmp and the buffered output: shared by every SoC. */
#include "crt_common.c"
