
mov %r0, 0
ja32 target
target:
mov %r0, 1
exit
