/*
 * start.S - start-up for Cortex-M0+ (ARMv6-M Thumb) programs run under qemu-arm
 * (user mode, its default CPU; qemu-user aborts with M-profile CPUs).
 *
 * qemu-user starts a static ELF at _start with the Linux process stack:
 *     [sp] = argc, [sp + 4] = argv[0], ..., argv[argc] = 0, then envp.
 * We read argc/argv, switch to our own 64 KiB stack in .bss (so the stack a program
 * sees does not depend on the length of its arguments), call main(argc, argv) and
 * end with fc_exit(status) (crt.c: flush stdout, Linux `exit`, r7 = 1, `svc 0`).
 * Only ARMv6-M instructions are used.
 *
 * On an RP2040 none of this is used: the pico-sdk's crt0 calls main.
 */
    .syntax unified
    .cpu cortex-m0plus
    .thumb
    .section .text.start, "ax", %progbits
    .globl _start
    .type _start, %function
    .thumb_func
_start:
    ldr     r0, [sp]            /* argc */
    mov     r1, sp
    adds    r1, r1, #4          /* argv */
    ldr     r2, =fc_crt_stack_top
    mov     sp, r2
    bl      main
    /* r0 = status: fc_exit (crt.c) flushes buffered output and exits. */
    bl      fc_exit
    movs    r7, #1
    svc     #0
1:  b       1b
    .size _start, . - _start
    .ltorg

    .section .bss.fc_crt_stack, "aw", %nobits
    .balign 16
fc_crt_stack:
    .space  65536
fc_crt_stack_top:
