lddw %r0, 0x123456789abcdef0
stxdw [%r10-8], %r0
lddw %r1, 0x1122334455667788
lddw %r0, 0xfedcba987654321
lock cmpxchg [%r10-8], %r1 # Atomically compare %r0 and [%r10-8] and set [%r10-8] to %r1 if matches.
lddw %r1, 0x123456789abcdef0
jne %r0, %r1, exit
ldxdw %r0, [%r10-8]
jne %r0, %r1, exit

lddw %r0, 0x123456789abcdef0
stxdw [%r10-8], %r0
lddw %r1, 0x1122334455667788
lock cmpxchg [%r10-8], %r1 # Atomically compare %r0 and [%r10-8] and set [%r10-8] to %r1 if matches.
lddw %r1, 0x123456789abcdef0
jne %r0, %r1, exit
ldxdw %r0, [%r10-8]
lddw %r1, 0x1122334455667788
jne %r0, %r1, exit

mov %r0, 0
exit
