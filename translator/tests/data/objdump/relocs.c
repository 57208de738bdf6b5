/* Test fixture (objdump_agreement, mutation): a call to a global function
 * (R_BPF_64_32), a static local call (src=1, no relocation), and LDDW
 * relocations against a named .bss symbol, a named .data symbol and a string
 * section. Two global functions, so the function table has two entries. */
__attribute__((noinline)) int helper2(int x) { return x * 3 + 1; }
static __attribute__((noinline)) int loc(int x) { return x ^ 5; }
static const char msg[] = "hello";
static const unsigned long long big = 0x1122334455667788ULL;
int counter;
int initd = 7;
long entry(int *c)
{
    counter++;
    initd += msg[c[0] & 3];
    return helper2(c[0]) + loc(c[1]) + (long)(big >> (c[2] & 7)) + (c[3] == -5 ? 0x123456789abcLL : -2);
}
