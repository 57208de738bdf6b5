stb [%r10-1], 0x80
ldxsb %r0, [%r10-1]
exit
