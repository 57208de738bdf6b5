
mov %r1, -13
mov %r2, 3
sdiv %r1, %r2
jne %r1, 0xfffffffc, fail

mov %r3, -13
mov %r4, 0
sdiv %r3, %r4
jne %r3, 0, fail

mov %r0, 1
exit
fail:
mov %r0, 0
exit
