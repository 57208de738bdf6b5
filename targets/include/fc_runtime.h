/*
 * fc_runtime.h - C API of the fc-aot Femto-Container runtime.
 *
 * Link with the `fc-runtime-capi` crate's static library (libfc_runtime_capi.a;
 * on Linux add -lpthread -ldl -lm) or its shared library. Usable from C (C99
 * and later) and C++.
 *
 * The API follows Sming's C++ host API (spec section 4): a store context holds
 * the one pool of key/value entries shared by the global store and every VM's
 * local store; a VM loads one container at a time, verifies it, and runs it.
 *
 * Conventions
 * - Every function accepts NULL handles and pointers without crashing and
 *   reports them as an error (false, NULL, 0 or an FC_* code, as documented).
 * - Functions returning bool return false on failure; the reason of a failed
 *   load or run is in fc_vm_last_error().
 * - Results of runs are int64_t: r0 on success, the (negative) error code when
 *   the run failed. Check fc_vm_last_error() to tell them apart, since a
 *   container may return negative values too.
 *
 * Lifetimes and ownership
 * - fc_stores is reference counted: each VM made from it holds a reference, so
 *   fc_stores_free() while VMs still use the context only gives up the
 *   caller's handle; the pool is freed with the last of those VMs. Do not use
 *   the handle after fc_stores_free().
 * - fc_vm_load() does NOT copy the container: the bytes must stay alive and
 *   unchanged until the VM unloads, loads another container, or is freed
 *   (firmware keeps containers in flash as const arrays, which satisfies this).
 *   fc_vm_load_copy() copies them instead (the VM frees its copy on unload).
 * - Callback user pointers are stored as given and passed back unchanged.
 *
 * Callbacks and reentrancy
 * - Application helpers, the output sink and the clock run inside
 *   fc_vm_execute(). They may call this API, also on the running VM: there
 *   fc_vm_execute*() fails with FC_ILLEGAL_CALL, loads and settings fail
 *   (false), fc_vm_unload() does nothing, and fc_vm_free() is deferred until the
 *   run returns. The store functions (fc_global_*, fc_local_*),
 *   fc_vm_last_error*() and fc_vm_is_loaded() work as usual.
 * - Callbacks must not unwind (C++ exceptions, longjmp) through the runtime.
 *
 * Threads
 * - A VM must be used by one thread at a time. Without a lock hook a store
 *   context and its VMs must be used by one thread at a time. With a lock hook
 *   (fc_stores_set_lock) every access to the pool, and the creation of VMs, is
 *   serialized by the hook, so VMs of one context may run on different threads
 *   or cores (each VM still on one at a time).
 */
#ifndef FC_RUNTIME_H
#define FC_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The native ABI of translated containers (fc_env, fc_entry_fn), for fc_vm_set_native(). */
#include "fc_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes, FC_DEFAULT_STACK_SIZE and the FC_PROFILE_* helper-id profiles come from fc_abi.h. */

/* Engines, for fc_vm_set_engine(). */
#define FC_ENGINE_REFERENCE 0 /* the reference interpreter */
#define FC_ENGINE_INTERP 1    /* the optimized interpreter (pre-decodes at load; the default) */

/* A store context: the pool of global and local store entries. */
typedef struct fc_stores fc_stores;
/* A virtual machine: one loaded container, its helpers and settings. */
typedef struct fc_vm fc_vm;
/* The memory map of the current run, handed to application helpers. */
typedef struct fc_mem fc_mem;

/* Lock hook: called around every access to a store context's pool. */
typedef void (*fc_lock_fn)(void);
/* Output sink: receives printf output one line (with its '\n') at a time, and
 * what is left without a newline when a run ends. `text` holds `len` bytes
 * followed by a NUL (the text itself may contain NULs from %c); it is valid
 * only during the call. */
typedef void (*fc_output_fn)(void *user, const char *text, size_t len);
/* Clock: milliseconds for bpf_now_ms. */
typedef uint32_t (*fc_clock_fn)(void *user);
/* Application helper: receives r1..r5 in args (only the first `arity` are
 * meaningful) and the run's memory map, valid only during the call; returns
 * r0. Translate container pointers with fc_mem_* before touching them. */
typedef uint64_t (*fc_helper_fn)(void *user, fc_mem *mem, const uint64_t args[5]);

/* ---- Store contexts ------------------------------------------------------ */

/** Creates an empty store context. Returns NULL only if out of memory.
 *  Free it with fc_stores_free(). */
fc_stores *fc_stores_new(void);

/** Gives up the caller's handle. The pool itself is freed when no VM made
 *  from it is left (immediately when there is none). NULL is ignored. */
void fc_stores_free(fc_stores *stores);

/** Installs a lock hook (both functions non-NULL) or removes it (both NULL).
 *  The hook is called around every pool access, in every thread that uses the
 *  context; it must not call this API. Only possible while no VM uses the
 *  context (set it right after fc_stores_new); the global entries are kept.
 *  Returns false for a NULL handle, a half-NULL pair, or while VMs exist. */
bool fc_stores_set_lock(fc_stores *stores, fc_lock_fn lock, fc_lock_fn unlock);

/** Number of entries a pool holds (BPF_STORE_NUM_VALUES when the runtime was built). */
size_t fc_store_capacity(void);

/** Free entries left in the pool; 0 for NULL. */
size_t fc_stores_free_entries(const fc_stores *stores);

/** Sets global `key` to `value` (GlobalStore::update). False when a new entry
 *  is needed and the pool is full, or for NULL. */
bool fc_global_update(fc_stores *stores, uint32_t key, uint32_t value);

/** Reads global `key` into `*value` (GlobalStore::fetch); a missing key is
 *  added with 0. False (and *value untouched) when the pool is full or a
 *  pointer is NULL. */
bool fc_global_fetch(fc_stores *stores, uint32_t key, uint32_t *value);

/** The value of global `key`: 0 when missing (the key is then added with 0),
 *  when the pool is full, or for NULL (GlobalStore::get). */
uint32_t fc_global_get(fc_stores *stores, uint32_t key);

/** Copies up to `capacity` global entries, keys ascending, into keys[] and
 *  values[] (either may be NULL); returns how many entries there are in all. */
size_t fc_global_entries(const fc_stores *stores, uint32_t *keys, uint32_t *values, size_t capacity);

/* ---- VMs ----------------------------------------------------------------- */

/** Creates an empty VM using `stores` for its global and local stores: Sming
 *  helper profile, optimized interpreter, budget 200 taken jumps, no output sink
 *  (printf output is dropped), no clock (bpf_now_ms returns 0), no application
 *  helpers. The VM keeps the store context alive. NULL for a NULL `stores`, or
 *  when the arena has no room for it. */
fc_vm *fc_vm_new(fc_stores *stores);

/** Unloads (releasing the VM's local store entries) and frees the VM. NULL is
 *  ignored. Called from a callback of this VM's run, the free happens when the
 *  run returns. */
void fc_vm_free(fc_vm *vm);

/** Parses, verifies and prepares a container, replacing the loaded one (which
 *  is unloaded first, releasing the local store entries). The bytes are
 *  borrowed, not copied: keep them alive and unchanged until the VM unloads,
 *  loads again or is freed. `stack_size` is the bytes per call frame, a
 *  positive multiple of 8 (FC_DEFAULT_STACK_SIZE). Register application helpers
 *  and pick the profile before loading: the verifier rejects calls to helpers
 *  the VM does not provide (FC_ILLEGAL_CALL). On failure (false) nothing is
 *  loaded and fc_vm_last_error() / fc_vm_last_error_pc() /
 *  fc_vm_load_error_text() tell why (a NULL container is an empty one:
 *  FC_ILLEGAL_LEN). */
bool fc_vm_load(fc_vm *vm, const uint8_t *container, size_t len, size_t stack_size);

/** As fc_vm_load(), but the VM first copies the container into memory it owns
 *  (freed on unload, reload or free), so the caller's bytes may go right away. */
bool fc_vm_load_copy(fc_vm *vm, const uint8_t *container, size_t len, size_t stack_size);

/** As fc_vm_load_copy(), but the copy reads the container with aligned 32-bit
 *  loads only, and nothing else reads it: for containers in memory that takes no
 *  other access, such as the ESP8266's flash and IRAM (a byte load there raises
 *  LoadStoreError), where Sming keeps FSTR arrays. The aligned words covering the
 *  container must be readable. */
bool fc_vm_load_flash(fc_vm *vm, const uint8_t *container, size_t len, size_t stack_size);

/** Frees the container's RAM and returns the VM's local store entries to the
 *  pool. The VM keeps its settings and helpers. NULL is ignored. */
void fc_vm_unload(fc_vm *vm);

/** Whether a container is loaded; false for NULL. */
bool fc_vm_is_loaded(const fc_vm *vm);

/** Runs the entry function (the first function-table entry) with r1 = the
 *  context's address and r2 = ctx_len. The context is mapped writable for the
 *  run (ctx == NULL and ctx_len == 0: no context, r1 = 0); during the run the
 *  VM owns it, so helpers reach it through fc_mem. Returns r0, or the error
 *  code when the run failed: FC_NO_MEMORY when nothing is loaded or vm is NULL,
 *  FC_ILLEGAL_LEN for a NULL ctx with a length, FC_ILLEGAL_CALL when called
 *  from a callback of this VM's own run. Data and bss keep their values
 *  across runs (see fc_vm_reset_data). */
int64_t fc_vm_execute(fc_vm *vm, void *ctx, size_t ctx_len);

/** As fc_vm_execute(), running the function-table entry called `name`
 *  (NUL-terminated). An unknown, NULL or non-UTF-8 name gives FC_ILLEGAL_CALL. */
int64_t fc_vm_execute_function(fc_vm *vm, const char *name, void *ctx, size_t ctx_len);

/** Error code of the last load or run (FC_OK on success); FC_NO_MEMORY for NULL.
 *  Calls refused because of reentrancy do not change it. */
int fc_vm_last_error(const fc_vm *vm);

/** Instruction slot index where the last failed load or run stopped (0 when a
 *  load error is not about an instruction, and for NULL). */
size_t fc_vm_last_error_pc(const fc_vm *vm);

/** Writes a description of the last load failure into buf (NUL-terminated,
 *  truncated to `capacity` bytes; buf may be NULL) and returns its full length
 *  like snprintf; returns 0 when the last load succeeded or vm is NULL. */
size_t fc_vm_load_error_text(fc_vm *vm, char *buf, size_t capacity);

/** Taken jumps allowed per run (default 200; a run that needs more stops with
 *  FC_OUT_OF_BRANCHES); enabled = false removes the bound. False for NULL. */
bool fc_vm_set_budget(fc_vm *vm, uint32_t budget, bool enabled);

/** Deepest chain of local calls the verifier accepts, checked at the next
 *  load. False for NULL. */
bool fc_vm_set_max_call_depth(fc_vm *vm, size_t depth);

/** Selects the helper-id profile (FC_PROFILE_*), used from the next load on.
 *  False for NULL or an unknown profile. */
bool fc_vm_set_profile(fc_vm *vm, int profile);

/** Selects the engine (FC_ENGINE_*). Unloads the current container and drops
 *  native code set with fc_vm_set_native(). False for NULL or an unknown engine. */
bool fc_vm_set_engine(fc_vm *vm, int engine);

/* ---- Translated code linked into the program ----------------------------- */
/* `fc-aot translate NAME.bin -o NAME.o` turns a container into native code
 * (targets/include/fc_abi.h): for each function-table entry FN an entry point
 * fc_<NAME>_<FN> (names that are not plain identifiers are escaped: fc_abi.h), and
 * fc_<NAME>_abi_version. Link NAME.o into the program, hand the entry points
 * to the VM, then load the same container: the VM verifies it as usual, maps
 * its data, stack and context, and its runs call the native code instead of
 * interpreting. Helpers, stores, output, clock, budget and errors behave as on
 * the interpreters. */

/* One translated function: its function-table name (as in the container, not
 * the symbol) and its entry point. */
typedef struct fc_native_fn {
    const char *name;
    fc_entry_fn entry;
} fc_native_fn;

/** Makes the VM run translated code from the next load on: at each
 *  fc_vm_load() / fc_vm_load_copy() every entry of the container's function
 *  table is matched by name with fns[0..n) and the runs call those entry
 *  points. `abi_version` is what the object exports (fc_<NAME>_abi_version),
 *  checked against the runtime's FC_ABI_VERSION. The names are copied, the
 *  table need not outlive the call. Unloads the current container; the setting
 *  stays for later loads until fc_vm_set_engine().
 *  A load then fails (false; nothing loaded; fc_vm_load_error_text() says
 *  which) when the ABI version differs (FC_ILLEGAL_INSTRUCTION), or when a name
 *  of fns is not in the function table, is listed twice, or a function of the
 *  table has no entry in fns (FC_ILLEGAL_CALL).
 *  Returns false for a NULL vm or fns, a NULL or non-UTF-8 name, a NULL entry,
 *  or when called from a callback of this VM's run.
 *  The entry points must be code fc-aot translated from the container being
 *  loaded: the runtime trusts them as it trusts its own interpreters. */
bool fc_vm_set_native(fc_vm *vm, uint32_t abi_version, const fc_native_fn *fns, size_t n);

/** Restores the container's data and bss to their state at load. False for NULL. */
bool fc_vm_reset_data(fc_vm *vm);

/** The container's data and bss as they are now (NULL when nothing is loaded, for a
 *  NULL vm, or from a callback of this VM's own run), their length in *len when len is
 *  not NULL. Valid until the next load, unload, run or free of vm. */
const uint8_t *fc_vm_data(const fc_vm *vm, size_t *len);

/** Sets where printf output goes (see fc_output_fn); NULL discards it.
 *  False for a NULL vm. */
bool fc_vm_set_output(fc_vm *vm, fc_output_fn sink, void *user);

/** Sets the clock bpf_now_ms reads; NULL makes it return 0. False for a NULL vm. */
bool fc_vm_set_clock(fc_vm *vm, fc_clock_fn clock, void *user);

/** Registers (or replaces) application helper `id` (0x100 and above) reading
 *  `arity` (0..5) of r1..r5; the verifier checks those registers are set at
 *  every call. Register before fc_vm_load(). False for NULL vm or helper, an
 *  id below 0x100, or an arity above 5. */
bool fc_vm_register_helper(fc_vm *vm, uint32_t id, uint8_t arity, fc_helper_fn helper, void *user);

/** LocalStore::update of the VM's local store (see fc_global_update). The
 *  entries stay until the VM unloads or is freed. */
bool fc_local_update(fc_vm *vm, uint32_t key, uint32_t value);

/** LocalStore::fetch of the VM's local store (see fc_global_fetch). */
bool fc_local_fetch(fc_vm *vm, uint32_t key, uint32_t *value);

/** LocalStore::get of the VM's local store (see fc_global_get). */
uint32_t fc_local_get(fc_vm *vm, uint32_t key);

/** The VM's local entries, keys ascending (see fc_global_entries). */
size_t fc_local_entries(const fc_vm *vm, uint32_t *keys, uint32_t *values, size_t capacity);

/* ---- Memory access for application helpers ------------------------------- */
/* Container addresses are 64-bit values from args[]; each function checks the
 * whole range lies inside one mapped region (rodata, data, stack, context)
 * that grants the access. Use them only during the helper call that received
 * `mem`. */

/** Host address of container range [addr, addr + len), or NULL when it is not
 *  inside one region readable (write = false) or writable (write = true). */
void *fc_mem_translate(fc_mem *mem, uint64_t addr, size_t len, bool write);

/** Copies len bytes at container address addr to dst. False, copying
 *  nothing, when the range is not readable or a pointer is NULL. */
bool fc_mem_read(fc_mem *mem, uint64_t addr, void *dst, size_t len);

/** Copies len bytes from src to container address addr. False, copying
 *  nothing, when the range is not writable or a pointer is NULL. */
bool fc_mem_write(fc_mem *mem, uint64_t addr, const void *src, size_t len);

/** The NUL-terminated string at container address addr, or NULL when it does
 *  not end inside the readable region it starts in. Stores its length
 *  (without the NUL) in *len when len is not NULL. */
const char *fc_mem_string(fc_mem *mem, uint64_t addr, size_t *len);

/* ---- Texts --------------------------------------------------------------- */

/** The name of an error code ("OK", "ILLEGAL_CALL", "NO_MEMORY", ...; spec
 *  section 2) as a static string. Any other code gives "ERROR <code>" in a
 *  per-thread buffer that the next such call on the same thread overwrites. */
const char *fc_error_string(int code);

/** Version of the runtime library, e.g. "0.1.0" (static string). */
const char *fc_runtime_version(void);

/* ---- The firmware library --------------------------------------------------
 * Built without std for a SoC (`fc-aot runtime --target SOC -o DIR`), the runtime
 * takes its memory from an arena the firmware hands over once, at start-up, and
 * reports a panic (a bug in the runtime: no input should get there) to the
 * firmware. The host library (std) has none of these: it uses the C library's heap. */

/** Gives the runtime its heap: `len` bytes at `arena` (static RAM; at least 64),
 *  once, before any other call. `lock`/`unlock` (both or neither; a critical
 *  section suits interrupts and two cores) are taken around every heap access;
 *  without them the runtime must be used from one context at a time. Running out
 *  of the arena fails a load with FC_NO_MEMORY (or a constructor with NULL),
 *  never aborts. False when called again, for NULL, too small an arena or a half
 *  pair. */
bool fc_runtime_init(void *arena, size_t len, fc_lock_fn lock, fc_lock_fn unlock);

/** The arena's size; in *used (when not NULL) the bytes in use now, in *peak the
 *  most ever in use: what an arena is sized by. */
size_t fc_runtime_heap(size_t *used, size_t *peak);

/** Provided by the firmware: the runtime panicked at `file` (`file_len` bytes,
 *  not NUL-terminated), `line`. Report it and reset; must not return. */
void fc_runtime_panic(const uint8_t *file, size_t file_len, uint32_t line);

#ifdef __cplusplus
}
#endif

#endif /* FC_RUNTIME_H */
