/*
 * fc_support.h - the C support code translated containers link with when the
 * firmware has no Rust runtime (`fc-aot translate NAME.bin --backend c`).
 *
 * It gives translated code what runtime/src (env.rs, stores.rs, helpers.rs,
 * memory.rs, vm.rs) gives it on the Rust side, with the same behaviour:
 * - the region table of a run (rodata read-only, data + bss read-write and kept
 *   across runs, a stack zeroed per run of frame_size * (depth + 1) bytes, the
 *   context) and the one access check (fc_support_translate);
 * - the stores: one pool of FC_STORE_NUM_VALUES entries shared by the global
 *   store and every VM's local store, with an optional lock hook;
 * - the helpers by profile (sming, riot, conformance): printf, memcpy (memmove
 *   semantics), store/fetch global/local, now_ms, unwind, and application
 *   helpers the host registers from 0x100 up.
 *
 * C99, freestanding: only <stdint.h>, <stddef.h>, <stdbool.h> (and fc_abi.h).
 * No malloc: the caller provides every buffer (the VM structure, the RAM for
 * data + bss, the stack). No libc printf: the formatter is our own and its
 * output goes, one line at a time, to a sink the host sets.
 *
 * Names are prefixed fc_support_ so that a program may also include
 * fc_runtime.h (the Rust runtime's C API, which has its own fc_stores, fc_vm,
 * fc_lock_fn); the error and profile macros below are spelt exactly as there.
 */
#ifndef FC_SUPPORT_H
#define FC_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Configuration (override with -D...) ---------------------------------- */

/* Entries of the store pool: BPF_STORE_NUM_VALUES, as the Rust runtime reads it
 * at build time, else 16. */
#ifndef FC_STORE_NUM_VALUES
#ifdef BPF_STORE_NUM_VALUES
#define FC_STORE_NUM_VALUES BPF_STORE_NUM_VALUES
#else
#define FC_STORE_NUM_VALUES 16
#endif
#endif
#if FC_STORE_NUM_VALUES < 1
#error "the store pool needs at least one entry"
#endif

/* Application helpers one VM can hold. */
#ifndef FC_SUPPORT_APP_HELPERS
#define FC_SUPPORT_APP_HELPERS 8
#endif

/* Bytes of printf output buffered until a newline or the end of the run. A
 * longer line is delivered in pieces of this size (the Rust runtime has no
 * bound: there the line arrives whole). */
#ifndef FC_SUPPORT_LINE_MAX
#define FC_SUPPORT_LINE_MAX 256
#endif

/* Error codes, FC_DEFAULT_STACK_SIZE and FC_PROFILE_* come from fc_abi.h. */

/* Taken jumps per run unless fc_support_set_budget says otherwise. */
#define FC_SUPPORT_DEFAULT_BUDGET 200u

/* First id of application helpers. */
#define FC_SUPPORT_FIRST_APP_HELPER 0x100u

/* ---- Stores --------------------------------------------------------------- */

/* Who a store entry belongs to: FC_STORE_GLOBAL, or a VM's local owner (its id,
 * below 2^32, from fc_support_stores_new_local). */
typedef uint64_t fc_store_owner;
#define FC_STORE_GLOBAL ((fc_store_owner)1 << 32)

/* Lock hook: called around every access to the pool (and the creation of local
 * owners), for firmware that runs VMs from interrupts or on two cores. */
typedef void (*fc_support_lock_fn)(void *user);

typedef struct fc_support_store_entry {
    uint32_t used;
    uint32_t key;
    uint32_t value;
    fc_store_owner owner;
} fc_support_store_entry;

/* The pool. Firmware keeps one (static storage is fine: fc_support_stores_init). */
typedef struct fc_support_stores {
    fc_support_store_entry pool[FC_STORE_NUM_VALUES];
    uint32_t next_local;
    fc_support_lock_fn lock, unlock;
    void *lock_user;
} fc_support_stores;

/** An empty pool without a lock hook. */
void fc_support_stores_init(fc_support_stores *stores);
/** Installs (both non-NULL) or removes (both NULL) the lock hook. False for a half-NULL pair. */
bool fc_support_stores_set_lock(fc_support_stores *stores, fc_support_lock_fn lock, fc_support_lock_fn unlock,
                                void *user);
/** A fresh owner for a VM's local store (fc_support_vm_init takes one). */
fc_store_owner fc_support_stores_new_local(fc_support_stores *stores);
/** Number of entries of the pool (FC_STORE_NUM_VALUES). */
size_t fc_support_store_capacity(void);
/** Free entries left. */
size_t fc_support_stores_free(fc_support_stores *stores);
/** Inserts or overwrites; false only when a new entry is needed and the pool is full. */
bool fc_support_store_update(fc_support_stores *stores, fc_store_owner owner, uint32_t key, uint32_t value);
/** Sming's fetch(key, value&): the value of `key`, a missing key added with 0;
 *  false (and *value untouched) when the pool is full. */
bool fc_support_store_fetch(fc_support_stores *stores, fc_store_owner owner, uint32_t key, uint32_t *value);
/** The value; 0 when missing (the key is then added with 0) or when the pool is full. */
uint32_t fc_support_store_get(fc_support_stores *stores, fc_store_owner owner, uint32_t key);
/** Returns every entry of `owner` to the pool (a VM's locals at unload). */
void fc_support_store_release(fc_support_stores *stores, fc_store_owner owner);
/** Copies up to `capacity` entries of `owner`, keys ascending, into keys[] and
 *  values[] (either may be NULL); returns how many entries `owner` has in all. */
size_t fc_support_store_entries(fc_support_stores *stores, fc_store_owner owner, uint32_t *keys, uint32_t *values,
                                size_t capacity);

/* ---- One translated container --------------------------------------------- */

/* One function-table entry of a translated container. The depth is read at
 * load through a pointer, so a table can be a static initializer. */
typedef struct fc_support_function {
    const char *name;      /* the function-table name */
    fc_entry_fn entry;     /* fc_<container>_<name> */
    const uint32_t *depth; /* &fc_<container>_<name>_depth */
} fc_support_function;

/* The symbols `fc-aot translate --backend c` exports for one container. */
typedef struct fc_support_container {
    const uint32_t *abi_version; /* &fc_<c>_abi_version */
    const fc_support_function *functions;
    size_t function_count; /* the first is the entry function */
    const uint8_t *rodata;
    const uint32_t *rodata_len;
    const uint8_t *data; /* initial contents of data; bss (zeros) follows */
    const uint32_t *data_len;
    const uint32_t *bss_len;
} fc_support_container;

/* Declarations of a translated container's symbols, and its descriptor:
 *
 *     FC_SUPPORT_DECLARE(globalcall);
 *     FC_SUPPORT_DECLARE_FUNCTION(globalcall, globalcall);
 *     FC_SUPPORT_DECLARE_FUNCTION(globalcall, scale);
 *     static const fc_support_function globalcall_fns[] = {
 *         FC_SUPPORT_FUNCTION(globalcall, globalcall), FC_SUPPORT_FUNCTION(globalcall, scale),
 *     };
 *     static const fc_support_container globalcall = FC_SUPPORT_CONTAINER(globalcall, globalcall_fns);
 *
 * C and F are the symbol parts (plain identifiers as they are, other names escaped:
 * fc_abi.h, docs/native-abi.md); FC_SUPPORT_FUNCTION_NAMED gives the table name when it differs. */
#define FC_SUPPORT_DECLARE(C)                                                                             \
    extern const uint32_t fc_##C##_abi_version;                                                          \
    extern const uint8_t fc_##C##_rodata[];                                                              \
    extern const uint8_t fc_##C##_data[];                                                                \
    extern const uint32_t fc_##C##_rodata_len, fc_##C##_data_len, fc_##C##_bss_len
#define FC_SUPPORT_DECLARE_FUNCTION(C, F)                                                                 \
    uint64_t fc_##C##_##F(fc_env *env, uint64_t r1, uint64_t r2);                                        \
    extern const uint32_t fc_##C##_##F##_depth
#define FC_SUPPORT_FUNCTION_NAMED(NAME, C, F) { (NAME), fc_##C##_##F, &fc_##C##_##F##_depth }
#define FC_SUPPORT_FUNCTION(C, F) FC_SUPPORT_FUNCTION_NAMED(#F, C, F)
#define FC_SUPPORT_CONTAINER(C, FUNCTIONS)                                                                \
    { &fc_##C##_abi_version, (FUNCTIONS), sizeof(FUNCTIONS) / sizeof((FUNCTIONS)[0]), fc_##C##_rodata,    \
      &fc_##C##_rodata_len, fc_##C##_data, &fc_##C##_data_len, &fc_##C##_bss_len }

/* ---- VMs -------------------------------------------------------------------- */

/* printf output: one line (with its '\n') at a time, and what is left without a
 * newline when a run ends. `text` holds `len` bytes (it may contain NULs from
 * %c) and is valid only during the call. */
typedef void (*fc_support_output_fn)(void *user, const char *text, size_t len);
/* Clock: milliseconds for bpf_now_ms. */
typedef uint32_t (*fc_support_clock_fn)(void *user);
/* Application helper: r1..r5 in args; returns r0. `env` is the run's
 * environment: check and translate container addresses with
 * fc_support_translate / fc_support_string before touching them. */
typedef uint64_t (*fc_support_app_fn)(void *user, fc_env *env, const uint64_t args[5]);

typedef struct fc_support_app_helper {
    uint32_t id;
    uint8_t arity;
    fc_support_app_fn fn;
    void *user;
} fc_support_app_helper;

/* A VM: one loaded container, its settings, helpers and RAM. Treat the fields
 * as private; the caller provides the storage (static or on a stack). */
typedef struct fc_support_vm {
    fc_support_stores *stores;
    fc_store_owner local;
    int profile;
    uint32_t budget;
    bool budget_enabled;
    bool running;
    fc_support_output_fn output;
    void *output_user;
    fc_support_clock_fn clock;
    void *clock_user;
    fc_support_app_helper apps[FC_SUPPORT_APP_HELPERS];
    size_t app_count;
    /* the loaded container (NULL: none) and the caller's buffers */
    const fc_support_container *container;
    uint8_t *ram;
    uint8_t *stack;
    size_t frame_size;
    int32_t last_error;
    uint32_t last_error_pc;
    size_t line_len;
    char line[FC_SUPPORT_LINE_MAX];
} fc_support_vm;

/** An empty VM using `stores` (its global store and a fresh local owner): Sming
 *  profile, budget FC_SUPPORT_DEFAULT_BUDGET, no output sink (printf output is
 *  dropped), no clock (bpf_now_ms gives 0), no application helpers. */
void fc_support_vm_init(fc_support_vm *vm, fc_support_stores *stores);

/** Loads a translated container, unloading the previous one first (its local
 *  entries go back to the pool). `ram` takes data + bss (data_len + bss_len
 *  bytes: fc_support_ram_size), `stack` frame_size * (deepest depth + 1) bytes
 *  (fc_support_stack_size); both stay the VM's until it unloads. Data is
 *  initialised here and then kept across runs. Returns FC_OK, or:
 *  FC_ILLEGAL_INSTRUCTION for another ABI version, FC_ILLEGAL_LEN for a frame
 *  size that is not a positive multiple of 8, FC_NO_MEMORY when a buffer is
 *  NULL or too small, FC_ILLEGAL_CALL from inside a run of this VM. */
int fc_support_load(fc_support_vm *vm, const fc_support_container *container, uint8_t *ram, size_t ram_size,
                    uint8_t *stack, size_t stack_size, size_t frame_size);

/** Bytes of RAM a container needs for data + bss. */
size_t fc_support_ram_size(const fc_support_container *container);
/** Bytes of stack for `frame_size` bytes per frame and the deepest function. */
size_t fc_support_stack_size(const fc_support_container *container, size_t frame_size);

/** Forgets the container and returns this VM's local store entries to the pool
 *  (the VM keeps its settings and helpers). Does nothing inside a run. */
void fc_support_unload(fc_support_vm *vm);
bool fc_support_is_loaded(const fc_support_vm *vm);

/** Runs the entry function (the first of the table) with r1 = 0x40000000 and
 *  r2 = ctx_len (ctx_len == 0: no context, r1 = 0). Stores r0 in *r0 (may be
 *  NULL): the program's r0, or the error code (sign-extended) when the run
 *  failed, as VirtualMachine::execute returns it. Returns the error code: FC_OK,
 *  a fault of the program (fc_support_last_error_pc: its instruction), or
 *  FC_NO_MEMORY when nothing is loaded, FC_ILLEGAL_LEN for a NULL ctx with a
 *  length or a region over 256 MiB, FC_ILLEGAL_CALL from inside a run of this VM
 *  (the last error is then left as it was). */
int fc_support_run(fc_support_vm *vm, void *ctx, size_t ctx_len, uint64_t *r0);
/** As fc_support_run, for the function-table entry `name` (FC_ILLEGAL_CALL if none). */
int fc_support_run_function(fc_support_vm *vm, const char *name, void *ctx, size_t ctx_len, uint64_t *r0);

/** Error code of the last load or run (FC_OK on success). */
int fc_support_last_error(const fc_support_vm *vm);
/** Instruction slot index where the last failed run stopped. */
uint32_t fc_support_last_error_pc(const fc_support_vm *vm);
/** Restores data and bss to their state at load. */
void fc_support_reset_data(fc_support_vm *vm);
/** The data + bss of the loaded container as it is now (NULL when none); its length in *len. */
const uint8_t *fc_support_data(const fc_support_vm *vm, size_t *len);

/** Helper-id profile (FC_PROFILE_*). False for an unknown one. */
bool fc_support_set_profile(fc_support_vm *vm, int profile);
/** Taken jumps allowed per run; enabled = false removes the bound. */
void fc_support_set_budget(fc_support_vm *vm, uint32_t budget, bool enabled);
/** Where printf output goes; NULL drops it. */
void fc_support_set_output(fc_support_vm *vm, fc_support_output_fn sink, void *user);
/** The clock bpf_now_ms reads; NULL makes it return 0. */
void fc_support_set_clock(fc_support_vm *vm, fc_support_clock_fn clock, void *user);
/** Registers (or replaces) application helper `id` (0x100 and above) reading
 *  `arity` (at most 5) arguments. False for an id below 0x100, a NULL helper, or
 *  a full table (FC_SUPPORT_APP_HELPERS). In the conformance profile application
 *  helpers are not offered. */
bool fc_support_register_helper(fc_support_vm *vm, uint32_t id, uint8_t arity, fc_support_app_fn fn, void *user);

/** The VM's local store owner, for the fc_support_store_* functions. */
fc_store_owner fc_support_local_owner(const fc_support_vm *vm);

/* ---- For helpers and hosts ------------------------------------------------ */

/** The one access check: host address of container range [addr, addr + len)
 *  when it lies inside one mapped region that grants the access (write: a
 *  writable one), else NULL. */
void *fc_support_translate(const fc_env *env, uint64_t addr, size_t len, bool write);
/** The NUL-terminated string at container address addr, or NULL when it does
 *  not end inside the region it starts in; its length (without the NUL) in *len. */
const char *fc_support_string(const fc_env *env, uint64_t addr, size_t *len);

/** The helper dispatch fc_support_run puts in fc_env (env->host is the VM).
 *  A helper the profile does not offer ends the run with FC_ILLEGAL_CALL. */
uint64_t fc_support_helper(fc_env *env, uint32_t id, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5);

/** The name of an error code ("OK", "ILLEGAL_MEM", ...), NULL for other numbers. */
const char *fc_support_error_name(int code);

#ifdef __cplusplus
}
#endif

#endif /* FC_SUPPORT_H */
