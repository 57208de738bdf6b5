mov %r0, 0
mov %r1, 1
mov %r2, 2
mov %r3, 3
mov %r4, 4
mov %r5, 5
mov %r6, 6
mov %r7, 7
mov %r8, 8
mov %r9, 9
call local func1
jne %r0, 15, failed
jne %r6, 6, failed
jne %r7, 7, failed
jne %r8, 8, failed
jne %r9, 9, failed
mov %r0, 1
exit
failed:
mov %r0, -1
exit
func1:
mov %r0, 0
add %r0, %r1
add %r0, %r2
add %r0, %r3
add %r0, %r4
add %r0, %r5
mov %r6, 0
mov %r7, 0
mov %r8, 0
mov %r9, 0
exit
