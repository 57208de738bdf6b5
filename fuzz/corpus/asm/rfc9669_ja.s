
mov %r0, 1
ja done
done:
exit
