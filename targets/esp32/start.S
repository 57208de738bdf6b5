/*
 * start.S - start-up for the windowed-ABI Xtensa programs (ESP32, ESP32-S2, ESP32-S3)
 * run under `qemu-xtensa -cpu dc233c` (user mode, a core with the windowed register
 * option).
 *
 * qemu-user starts a static ELF at _start with a1 (the stack pointer) at the Linux
 * process stack: 0(a1) = argc, 4(a1) = argv[0], ..., argv[argc] = 0, then envp; it
 * has set WINDOWBASE = 0, WINDOWSTART = 1 and PS.WOE, as the Linux kernel does, and
 * it handles the window overflow and underflow exceptions as the kernel's vectors
 * would. What is left is what ESP-IDF's call_start_cpu0 does before it calls C:
 *
 *  - a0 = 0: the end of the call chain (a backtrace stops here);
 *  - a1 = the top of our own 16-aligned stack in .bss (so the stack a program sees
 *    does not depend on the length of its arguments), minus the 16-byte base save area
 *    of this frame and room for the extra save area of a call8 frame;
 *  - the word at a1 - 12, which the overflow handler reads as this frame's caller's
 *    stack pointer when it spills this frame, points at that room (there is no caller).
 *
 * main(argc, argv) is called with callx8 (arguments in a10, a11, which main sees as a2,
 * a3; the result comes back in a10), then fc_exit(status) (crt.c: flush stdout, Linux
 * `exit` system call: a2 = 118, a6 = status, `syscall`). callx8 through a register:
 * the start-up is in flash and reaches anything.
 *
 * On an ESP32 none of this is used: ESP-IDF's start-up calls app_main.
 */
    .section .text.start, "ax", @progbits
    .literal_position
    .align  4
    .global _start
    .type   _start, @function
_start:
    l32i    a10, a1, 0          /* argc */
    addi    a11, a1, 4          /* argv */
    movi    a1, fc_crt_stack_top
    movi    a4, -16
    and     a1, a1, a4
    addi    a1, a1, -64         /* 32 bytes of room for the extra save area, 32 spare */
    addi    a4, a1, 64          /* the room ends at the stack's top */
    addi    a5, a1, -16
    s32i    a4, a5, 4           /* [a1 - 12] = "the caller's stack pointer" */
    movi    a0, 0               /* no return address: the end of the call chain */
    movi    a8, main
    callx8  a8
    /* a10 = status: fc_exit (crt.c) flushes buffered output and exits. */
    movi    a8, fc_exit
    callx8  a8
1:  j       1b
    .size   _start, . - _start

    .section .bss.fc_crt_stack, "aw", @nobits
    .balign 16
fc_crt_stack:
    .space  65536
fc_crt_stack_top:

    /* No executable stack (GNU ld warns of one without this note). */
    .section .note.GNU-stack, "", @progbits
