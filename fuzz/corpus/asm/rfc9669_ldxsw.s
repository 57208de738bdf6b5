stw [%r10-4], 0x80000001
ldxsw %r0, [%r10-4]
exit
