sth [%r10-2], 0x8001
ldxsh %r0, [%r10-2]
exit
