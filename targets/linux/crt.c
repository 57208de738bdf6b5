/*
 * crt.c - crt.h's interface for the Linux ISAs (x86-64, AArch64, RISC-V 64 under
 * qemu-user) over the C library, so that the one harness of the bare-metal SoCs
 * (targets/common/runtime_harness.c over the runtime's library) runs there unchanged:
 * fc_write is write(2), fc_exit flushes and calls exit(3); memset, memcpy, memmove,
 * memcmp, strlen and abort are the C library's own. Linked statically (qemu-user then
 * needs no sysroot).
 */
#include <stdlib.h>
#include <unistd.h>

#include "crt.h"

long fc_write(int fd, const void *buf, size_t len) {
    return (long)write(fd, buf, len);
}

void fc_exit(int status) {
    fc_flush();
    exit(status);
}

/* The buffered output and the runtime's panic report: shared with the bare-metal SoCs. */
#include "crt_output.c"
