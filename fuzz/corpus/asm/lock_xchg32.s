mov %r0, 1
lddw %r1, 0x1111111111111111
stxdw [%r10-8], %r1
lddw %r1, 0x2222222222222222
lock xchg32 [%r10-8], %r1
ldxdw %r2, [%r10-8]
lddw %r0, 0x1111111122222222
jne %r2, %r0, exit
lddw %r0, 0x11111111
jne %r1, %r0, exit
mov %r0, 0
exit
