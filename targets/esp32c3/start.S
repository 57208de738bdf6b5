/*
 * start.S - start-up for rv32imc programs run under qemu-riscv32 (user mode).
 *
 * qemu-user starts a static ELF at _start with the Linux process stack:
 *     0(sp) = argc, 4(sp) = argv[0], ..., argv[argc] = 0, then envp.
 * We keep a pointer to it, switch to our own stack in .bss (so the stack a
 * program sees does not depend on the length of its arguments), set gp for
 * the linker's gp-relative relaxation, call main(argc, argv) and end with
 * fc_exit(status) (crt.c: flush stdout, Linux `exit` system call, a7 = 93).
 *
 * On an ESP32-C3 none of this is used: ESP-IDF's own start-up calls app_main.
 */
    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    lw      a0, 0(sp)           /* argc */
    addi    a1, sp, 4           /* argv */
    la      sp, fc_crt_stack_top
    andi    sp, sp, -16
    call    main
    /* a0 = status: fc_exit (crt.c) flushes buffered output and exits. */
    call    fc_exit
    li      a7, 93
    ecall
1:  j       1b
    .size _start, . - _start

    .section .bss.fc_crt_stack, "aw", @nobits
    .balign 16
fc_crt_stack:
    .space  65536
fc_crt_stack_top:
