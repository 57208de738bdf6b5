// Test fixture (objdump_agreement, mutation): weak C++ template and inline
// member functions in their own .text._Z... sections, reached by R_BPF_64_32
// calls from the extern "C" entry.
template <typename T> __attribute__((noinline)) T twice(T x) { return x + x; }
struct S {
    int v;
    __attribute__((noinline)) int get() const { return v * 7; }
};
static const char table[] = "abcdefgh";
extern "C" long cpp_entry(int *c)
{
    S s{c[0]};
    return twice<int>(c[1]) + twice<long>(c[2]) + s.get() + table[c[3] & 7];
}
