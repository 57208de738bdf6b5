/*
 * start.S - start-up for ESP8266 (Xtensa LX106, call0 ABI) programs run under
 * `qemu-xtensa -cpu lx106` (user mode).
 *
 * qemu-user starts a static ELF at _start with a1 (the stack pointer) at the Linux
 * process stack: 0(a1) = argc, 4(a1) = argv[0], ..., argv[argc] = 0, then envp.
 * We pick argc and argv up from there, switch to our own 16-aligned stack in .bss
 * (so the stack a program sees does not depend on the length of its arguments),
 * call main(argc, argv) (call0 ABI: arguments in a2, a3, result in a2) and end with
 * fc_exit(status) (crt.c: flush stdout, Linux `exit` system call: a2 = 118,
 * a6 = status, `syscall`).
 *
 * call0 from flash reaches IRAM and back only as l32r + callx0: assembled with
 * --longcalls (gcc -mlongcalls passes it), `call0` becomes that where needed.
 *
 * On an ESP8266 none of this is used: the SDK's (or Sming's, Arduino's) start-up
 * calls user_init / app_main.
 */
    .section .text.start, "ax", @progbits
    .literal_position
    .align  4
    .global _start
    .type   _start, @function
_start:
    l32i    a2, a1, 0           /* argc */
    addi    a3, a1, 4           /* argv */
    movi    a1, fc_crt_stack_top
    movi    a4, -16
    and     a1, a1, a4
    movi    a0, 0               /* no return address: the end of the call chain */
    call0   main
    /* a2 = status: fc_exit (crt.c) flushes buffered output and exits. */
    call0   fc_exit
    movi    a6, 0
    movi    a2, 118
    syscall
1:  j       1b
    .size   _start, . - _start

    .section .bss.fc_crt_stack, "aw", @nobits
    .balign 16
fc_crt_stack:
    .space  65536
fc_crt_stack_top:
