
mov32 %r1, 0xffffffff
add32 %r1, 1
jne32 %r1, 0, fail

mov32 %r2, 10
add32 %r2, 32
jne32 %r2, 42, fail

mov32 %r3, 40
mov32 %r4, 2
add32 %r3, %r4
jne32 %r3, 42, fail

mov %r5, -1
mov32 %r5, 1
rsh %r5, 32
jne32 %r5, 0, fail

mov %r0, 1
exit
fail:
mov %r0, 0
exit
