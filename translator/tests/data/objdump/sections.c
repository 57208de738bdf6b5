/* Test fixture (objdump_agreement, mutation): global functions in two text
 * sections (.text and .text.second), so the second section's functions sit
 * at a non-zero base in the merged text and in the function table; `fourth`
 * is never called (only the function table refers to it). */
__attribute__((section(".text.second"), noinline)) long second(long x) { return x - 1; }
__attribute__((section(".text.second"), noinline)) long third(long x) { return x * 5; }
__attribute__((section(".text.second"))) long fourth(long *c) { return c[2] >> 1; }
long first(long *c) { return second(c[0]) + third(c[1]) + 2; }
