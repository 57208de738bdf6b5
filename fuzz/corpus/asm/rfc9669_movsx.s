
mov32 %r1, 0x00000080
movsx832 %r2, %r1
jne32 %r2, 0xffffff80, fail

mov32 %r3, 0x00008001
movsx1632 %r4, %r3
jne32 %r4, 0xffff8001, fail

mov32 %r5, 0x00000080
movsx864 %r6, %r5
jne %r6, 0xffffff80, fail

mov32 %r7, 0x00008001
movsx1664 %r8, %r7
jne %r8, 0xffff8001, fail

mov32 %r9, 0x80000001
movsx3264 %r0, %r9
jne %r0, 0x80000001, fail

mov %r0, 1
exit
fail:
mov %r0, 0
exit
