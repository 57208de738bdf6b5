
lddw %r0, 0x123456789abcdef0
stxdw [%r10-8], %r0

mov32 %r1, 0x87654321
mov32 %r0, 0x12345678
lock cmpxchg32 [%r10-8], %r1

mov32 %r1, 0x9abcdef0
jne32 %r0, %r1, fail

ldxdw %r2, [%r10-8]
lddw %r3, 0x123456789abcdef0
jne %r2, %r3, fail

lddw %r0, 0x123456789abcdef0
stxdw [%r10-8], %r0
mov32 %r1, 0x11223344
lock cmpxchg32 [%r10-8], %r1

mov32 %r2, 0x9abcdef0
jne32 %r0, %r2, fail

ldxdw %r0, [%r10-8]
lddw %r1, 0x1234567811223344
jne %r0, %r1, fail

mov %r0, 1
exit
fail:
mov %r0, 0
exit
