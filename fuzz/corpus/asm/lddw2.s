lddw %r0, 2147483648
exit
