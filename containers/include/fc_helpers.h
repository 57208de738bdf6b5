/*
 * fc_helpers.h - helper declarations for Femto-Container programs.
 *
 * Usable from C and C++ (compiled with clang -target bpf).
 *
 * A helper is reached through a constant function pointer whose value is
 * the helper id; clang folds the pointer into `call <id>` (BPF_CALL with
 * src_reg = 0 and imm = id).  No data, no relocation is emitted for it.
 *
 * Helper numbering (Sming):
 *   0x01        bpf_printf        int (const char *fmt, ...)      up to 4 args after fmt
 *                                 formats: %d %i %u %x %X %ld %lu %lx %lld %llu %llx
 *                                          %s %c %p %%
 *   0x02        bpf_memcpy        int (void *dst, const void *src, size_t n)  0 or -1
 *   0x10        bpf_store_global  int (uint32_t key, uint32_t value)  0, -1 when store full
 *   0x11        bpf_store_local   int (uint32_t key, uint32_t value)  0, -1 when store full
 *   0x12        bpf_fetch_global  int (uint32_t key, uint32_t *value) missing key added with 0
 *   0x13        bpf_fetch_local   int (uint32_t key, uint32_t *value) missing key added with 0
 *   0x20        bpf_now_ms        uint32_t (void)
 *   0x100 ...   application helpers: declare them with FC_APP_HELPER, e.g.
 *                 FC_APP_HELPER(int, app_set_led, 0x100, uint32_t led, uint32_t on);
 *
 * BPF calls take at most 5 arguments (r1..r5); bpf_printf therefore takes
 * the format plus at most 4 values.
 *
 * Native mode: when the compiler does not target BPF (`__bpf__` undefined),
 * every helper is declared as an ordinary `extern` function (C linkage) with
 * the same name and signature, for the host program to provide.  This lets
 * the same container source be compiled natively (benches/ does this).
 */
#ifndef FC_HELPERS_H
#define FC_HELPERS_H

#include <stdint.h>
#include <stddef.h>

#ifdef __bpf__

#ifdef __cplusplus
#define FC_HELPER_CAST(type, id) reinterpret_cast<type>(static_cast<uintptr_t>(id))
#else
#define FC_HELPER_CAST(type, id) ((type)(uintptr_t)(id))
#endif

/* Declare helper `name` with id `id`: FC_HELPER(ret, name, id, params...) */
#define FC_HELPER(ret, name, id, ...)                                          \
	__attribute__((unused)) static ret (*const name)(__VA_ARGS__) =         \
		FC_HELPER_CAST(ret (*)(__VA_ARGS__), id)

#else /* native: helpers are extern functions the host provides */

#ifdef __cplusplus
#define FC_HELPER_LINKAGE extern "C"
#else
#define FC_HELPER_LINKAGE extern
#endif

/* Declare helper `name` (the id is unused natively): FC_HELPER(ret, name, id, params...) */
#define FC_HELPER(ret, name, id, ...) FC_HELPER_LINKAGE ret name(__VA_ARGS__)

#endif /* __bpf__ */

/* Application helpers live at ids 0x100 and above. */
#define FC_APP_HELPER_BASE 0x100
#define FC_APP_HELPER(ret, name, id, ...) FC_HELPER(ret, name, id, __VA_ARGS__)

FC_HELPER(int, bpf_printf, 0x01, const char *fmt, ...);
FC_HELPER(int, bpf_memcpy, 0x02, void *dst, const void *src, size_t n);

FC_HELPER(int, bpf_store_global, 0x10, uint32_t key, uint32_t value);
FC_HELPER(int, bpf_store_local, 0x11, uint32_t key, uint32_t value);
FC_HELPER(int, bpf_fetch_global, 0x12, uint32_t key, uint32_t *value);
FC_HELPER(int, bpf_fetch_local, 0x13, uint32_t key, uint32_t *value);

FC_HELPER(uint32_t, bpf_now_ms, 0x20, void);

#endif /* FC_HELPERS_H */
