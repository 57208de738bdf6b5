//! The C ABI of the fc-aot runtime, declared in `targets/include/fc_runtime.h`.
//!
//! Ownership and lifetimes (the Rust API borrows, C cannot):
//!
//! - `fc_stores` is a boxed context with a reference count (kept under the context's
//!   lock hook: the SoCs have no atomic read-modify-write). The handle holds one
//!   reference and every `fc_vm` made from it another, so `fc_stores_free` with live
//!   VMs only drops the handle's reference: the pool goes away with the last VM. Each
//!   VM's `VirtualMachine<'static>` borrows the `StoreContext` inside that box, which
//!   stays put until the count reaches 0.
//! - `fc_vm_load` borrows the caller's container bytes (firmware keeps them in
//!   flash); `fc_vm_load_copy` copies them into a boxed buffer the handle owns as a
//!   raw pointer and frees only after the VM has unloaded. The `'static` lifetime
//!   of the inner VM is therefore never visible outside this file.
//! - Application helpers, output sink and clock are `move` closures over the
//!   caller's raw `user` pointer and C function pointer.
//! - A run may call back into C (helpers, sink, clock) and C may call this API
//!   again from there. The `&mut` to the VM lives only while the handle's state is
//!   `Running`; reentrant calls on the same VM see that and fail with an error code
//!   (stores and `last_error` stay usable, `fc_vm_free` is deferred to the end of
//!   the run). Nothing unwinds into C: with `std` every body runs under
//!   `catch_unwind`; the firmware library (no `std`) is built with panics that abort,
//!   through [`bare_metal`]'s handler.
//! - Every allocation of a load is fallible: running out of the heap (on a SoC, the
//!   arena given to `fc_runtime_init`) fails the load with NO_MEMORY.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![allow(non_camel_case_types)]

extern crate alloc;

#[cfg(not(feature = "std"))]
mod bare_metal;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, UnsafeCell};
use core::ffi::{c_char, c_int, c_void, CStr};
use core::fmt::Write as _;
use core::ptr::{self, NonNull};

use fc_runtime::error::ErrorCode;
use fc_runtime::fallible;
use fc_runtime::format::{Container, LayoutChoice};
use fc_runtime::helpers::{Profile, FIRST_APP_HELPER};
use fc_runtime::interp::{Engine, Interp, Reference};
use fc_runtime::memory::{Access, HelperMemory};
use fc_runtime::native::{EntryFn, Linked, ABI_VERSION};
use fc_runtime::text::decimal;
use fc_runtime::stores::{LockHook, Owner, StoreContext, STORE_NUM_VALUES};
use fc_runtime::VirtualMachine;

const NO_MEMORY: i32 = ErrorCode::NoMemory.code();
const ILLEGAL_CALL: i32 = ErrorCode::IllegalCall.code();
const ILLEGAL_LEN: i32 = ErrorCode::IllegalLen.code();
const ILLEGAL_INSTRUCTION: i32 = ErrorCode::IllegalInstruction.code();

/// `FC_PROFILE_*` of the header.
pub const FC_PROFILE_SMING: c_int = 0;
pub const FC_PROFILE_RIOT: c_int = 1;
pub const FC_PROFILE_CONFORMANCE: c_int = 2;
/// `FC_ENGINE_*` of the header.
pub const FC_ENGINE_REFERENCE: c_int = 0;
pub const FC_ENGINE_INTERP: c_int = 1;

/// Runs `f`, turning a panic into `fallback`: nothing unwinds into C.
#[cfg(feature = "std")]
fn guard<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// Without `std` panics abort (`bare_metal`'s handler): nothing to catch.
#[cfg(not(feature = "std"))]
fn guard<R>(_fallback: R, f: impl FnOnce() -> R) -> R {
    f()
}

/// The C signature of a lock hook function.
pub type CLockFn = extern "C" fn();

// ---------------------------------------------------------------------------
// Store contexts.

/// The pool shared by the global store and the local stores of the VMs made from it.
pub struct fc_stores {
    ctx: StoreContext,
    /// The handle's reference and one per VM, changed under `ctx`'s lock hook.
    refs: Cell<usize>,
}

impl fc_stores {
    fn acquire(&self) {
        self.ctx.under_lock(|| self.refs.set(self.refs.get() + 1));
    }
    /// Whether this was the last reference.
    fn release(&self) -> bool {
        self.ctx.under_lock(|| {
            self.refs.set(self.refs.get() - 1);
            self.refs.get() == 0
        })
    }
}

/// Drops one reference to a context, freeing it with the last.
///
/// # Safety
/// `stores` is a handle from `fc_stores_new` and the caller owns one of its references.
unsafe fn release(stores: NonNull<fc_stores>) {
    // SAFETY: the caller owns a reference, so the context is live.
    if unsafe { stores.as_ref() }.release() {
        // SAFETY: made by `Box::into_raw` in `fc_stores_new`; that was the last reference, so no
        // VM borrows the context any more.
        drop(unsafe { Box::from_raw(stores.as_ptr()) });
    }
}

/// The context behind a handle.
unsafe fn stores_ref<'s>(stores: *const fc_stores) -> Option<&'s fc_stores> {
    // SAFETY: the caller passes NULL or a handle from `fc_stores_new` that is still referenced
    // (this function's contract): a pointer to a live `fc_stores`.
    unsafe { stores.as_ref() }
}

/// A new, empty store context (`StoreContext::new`); NULL without memory for it. Free it
/// with `fc_stores_free`.
#[no_mangle]
pub extern "C" fn fc_stores_new() -> *mut fc_stores {
    guard(ptr::null_mut(), || {
        fallible::boxed(fc_stores { ctx: StoreContext::new(), refs: Cell::new(1) }).map_or(ptr::null_mut(), Box::into_raw)
    })
}

/// Drops the handle's reference; the pool lives on while VMs made from it do.
///
/// # Safety
/// `stores` is NULL or a handle from `fc_stores_new` not freed before.
#[no_mangle]
pub unsafe extern "C" fn fc_stores_free(stores: *mut fc_stores) {
    if stores.is_null() {
        return;
    }
    guard((), || {
        // SAFETY: `stores` is a non-null handle from `fc_stores_new` not freed before (contract):
        // the handle's reference, given up here.
        unsafe { release(NonNull::new_unchecked(stores)) }
    });
}

/// Installs (both non-NULL) or removes (both NULL) the lock hook; false while VMs
/// use the context, or for a half-NULL pair.
///
/// # Safety
/// `stores` is NULL or a live handle; `lock`/`unlock` are callable and do not call this API.
#[no_mangle]
pub unsafe extern "C" fn fc_stores_set_lock(stores: *mut fc_stores, lock: Option<CLockFn>, unlock: Option<CLockFn>) -> bool {
    if stores.is_null() {
        return false;
    }
    guard(false, || {
        // SAFETY: `stores` is a live handle (contract).
        let s = unsafe { &mut *stores };
        // Only the handle's reference: no VM borrows the context, so it may be replaced.
        if s.refs.get() != 1 {
            return false;
        }
        let ctx = match (lock, unlock) {
            (Some(lock), Some(unlock)) => StoreContext::with_lock(LockHook { lock, unlock }),
            (None, None) => StoreContext::new(),
            _ => return false,
        };
        // Without VMs only global entries can be in the pool: carry them over.
        for (k, v) in s.ctx.entries(Owner::Global) {
            ctx.update(Owner::Global, k, v);
        }
        s.ctx = ctx;
        true
    })
}

/// Entries the pool holds in all (`BPF_STORE_NUM_VALUES` at build time).
#[no_mangle]
pub extern "C" fn fc_store_capacity() -> usize {
    STORE_NUM_VALUES
}

/// Free entries left in the pool; 0 for NULL.
///
/// # Safety
/// `stores` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_stores_free_entries(stores: *const fc_stores) -> usize {
    // SAFETY: `stores` is NULL or a live handle (this function's contract).
    let Some(s) = (unsafe { stores_ref(stores) }) else { return 0 };
    guard(0, || s.ctx.free())
}

fn update(ctx: &StoreContext, owner: Owner, key: u32, value: u32) -> bool {
    guard(false, || ctx.update(owner, key, value))
}

unsafe fn fetch(ctx: &StoreContext, owner: Owner, key: u32, value: *mut u32) -> bool {
    if value.is_null() {
        return false;
    }
    guard(false, || match ctx.fetch(owner, key) {
        Some(v) => {
            // SAFETY: `value` is checked non-null above and the caller passes a writable `uint32_t`
            // (contract of `fc_global_fetch` / `fc_local_fetch`); an unaligned write needs no
            // alignment.
            unsafe { value.write_unaligned(v) };
            true
        }
        None => false,
    })
}

unsafe fn entries(ctx: &StoreContext, owner: Owner, keys: *mut u32, values: *mut u32, capacity: usize) -> usize {
    guard(0, || {
        let all = ctx.entries(owner);
        for (i, &(k, v)) in all.iter().take(capacity).enumerate() {
            // SAFETY: the caller provides `capacity` writable elements in each non-NULL array
            // (contract of the `*_entries` functions), and `i < capacity`.
            unsafe {
                if !keys.is_null() {
                    keys.add(i).write_unaligned(k);
                }
                if !values.is_null() {
                    values.add(i).write_unaligned(v);
                }
            }
        }
        all.len()
    })
}

/// `GlobalStore::update`.
///
/// # Safety
/// `stores` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_global_update(stores: *mut fc_stores, key: u32, value: u32) -> bool {
    // SAFETY: `stores` is NULL or a live handle (this function's contract).
    let Some(s) = (unsafe { stores_ref(stores) }) else { return false };
    update(&s.ctx, Owner::Global, key, value)
}

/// `GlobalStore::fetch`.
///
/// # Safety
/// `stores` is NULL or a live handle; `value` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fc_global_fetch(stores: *mut fc_stores, key: u32, value: *mut u32) -> bool {
    // SAFETY: `stores` is NULL or a live handle (this function's contract).
    let Some(s) = (unsafe { stores_ref(stores) }) else { return false };
    // SAFETY: `value` is NULL or writable (this function's contract).
    unsafe { fetch(&s.ctx, Owner::Global, key, value) }
}

/// `GlobalStore::get`.
///
/// # Safety
/// `stores` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_global_get(stores: *mut fc_stores, key: u32) -> u32 {
    // SAFETY: `stores` is NULL or a live handle (this function's contract).
    let Some(s) = (unsafe { stores_ref(stores) }) else { return 0 };
    guard(0, || s.ctx.fetch(Owner::Global, key).unwrap_or(0))
}

/// The global entries, keys ascending: fills up to `capacity`, returns how many there are.
///
/// # Safety
/// `stores` is NULL or a live handle; `keys`/`values` are NULL or hold `capacity` elements.
#[no_mangle]
pub unsafe extern "C" fn fc_global_entries(stores: *const fc_stores, keys: *mut u32, values: *mut u32, capacity: usize) -> usize {
    // SAFETY: `stores` is NULL or a live handle (this function's contract).
    let Some(s) = (unsafe { stores_ref(stores) }) else { return 0 };
    // SAFETY: `keys` and `values` are NULL or hold `capacity` elements (this function's contract).
    unsafe { entries(&s.ctx, Owner::Global, keys, values, capacity) }
}

// ---------------------------------------------------------------------------
// VMs.

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    /// A `&mut Inner` exists (a load, a run, a setting).
    Busy,
    /// `fc_vm_free` was called during the busy call; it frees the VM when it ends.
    FreeWhenDone,
}

struct Inner {
    vm: VirtualMachine<'static>,
    /// The bytes `fc_vm_load_copy` made (a leaked `Box<[u8]>`); the loaded program borrows them.
    copy: Option<NonNull<[u8]>>,
    /// Translated code linked into the program (`fc_vm_set_native`), engine of every load.
    native: Option<Native>,
    /// Why the last load could not link the native code (the runtime's load error does not cover it).
    native_error: Option<String>,
}

/// What `fc_vm_set_native` registered: names copied, entry points as given.
struct Native {
    abi_version: u32,
    entries: Vec<(String, EntryFn)>,
}

impl Native {
    /// The engine for `container`: each function-table entry mapped to its entry point by name.
    /// Err: the error code and text of the failed load.
    fn link(&self, container: &Container) -> Result<Linked, (i32, Option<String>)> {
        // Built from pieces, not core::fmt: its machinery costs kilobytes on a microcontroller.
        let text = |pieces: &[&str]| fallible::concat(pieces).ok();
        if self.abi_version != ABI_VERSION {
            let (mut ours, mut theirs) = ([0u8; 24], [0u8; 24]);
            let (ours, theirs) = (decimal(ABI_VERSION.into(), &mut ours), decimal(self.abi_version.into(), &mut theirs));
            return Err((ILLEGAL_INSTRUCTION, text(&["translated code has native ABI version ", theirs, ", this runtime runs version ", ours])));
        }
        let in_table = |name: &str| container.functions().any(|f| f.name == name);
        let names = || {
            let mut all = String::new();
            for (i, f) in container.functions().enumerate() {
                let sep = if i == 0 { "" } else { ", " };
                if all.try_reserve(sep.len() + f.name.len() + 2).is_err() {
                    break;
                }
                for piece in [sep, "`", f.name, "`"] {
                    all.push_str(piece);
                }
            }
            all
        };
        for (i, (name, _)) in self.entries.iter().enumerate() {
            if !in_table(name) {
                return Err((ILLEGAL_CALL, text(&["native function `", name, "` is not in the container's function table (", &names(), ")"])));
            }
            if self.entries[..i].iter().any(|(n, _)| n == name) {
                return Err((ILLEGAL_CALL, text(&["native function `", name, "` is registered twice"])));
            }
        }
        let mut by_slot = fallible::with_capacity(container.functions().count()).map_err(|_| (NO_MEMORY, None))?;
        for f in container.functions() {
            match self.entries.iter().find(|(n, _)| n == f.name) {
                Some(&(_, entry)) => by_slot.push((f.slot(), entry)),
                None => return Err((ILLEGAL_CALL, text(&["no native code for function `", f.name, "` of the container"]))),
            }
        }
        // SAFETY: the entries are what `fc_vm_set_native` was given, whose contract is
        // that they are code fc-aot translated for this ABI. The version was checked
        // above, so `new` accepts it.
        unsafe { Linked::new(self.abi_version, by_slot) }.map_err(|e| (e.code(), text(&["native code refused: ", e.text()])))
    }
}

impl Inner {
    /// Unloads (releasing the local entries), then frees the copy nothing borrows any more.
    fn unload(&mut self) {
        self.vm.unload();
        self.free_copy();
    }
    fn free_copy(&mut self) {
        if let Some(p) = self.copy.take() {
            // SAFETY: `p` was made by `Box::into_raw` in `fc_vm_load_copy`, and `take` removed the
            // only copy; callers run this only when the VM holds no borrow of the bytes (unloaded,
            // or the load failed).
            drop(unsafe { Box::from_raw(p.as_ptr()) });
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The container copy must go only after the VM stopped borrowing it.
        self.unload();
    }
}

/// A VM handle.
pub struct fc_vm {
    state: Cell<State>,
    /// Copies of the VM's last error, readable even during a run.
    last_error: Cell<i32>,
    last_error_pc: Cell<usize>,
    local: Owner,
    /// Dropped before `stores` is released (`Drop`): the VM borrows the context.
    inner: UnsafeCell<core::mem::ManuallyDrop<Inner>>,
    /// This VM's reference to its context.
    stores: NonNull<fc_stores>,
}

impl fc_vm {
    fn stores(&self) -> &fc_stores {
        // SAFETY: the VM holds a reference to its context, which stays live until `Drop` gives it up.
        unsafe { self.stores.as_ref() }
    }
}

impl Drop for fc_vm {
    fn drop(&mut self) {
        // SAFETY: dropped once, here; nothing uses `inner` afterwards.
        unsafe { core::mem::ManuallyDrop::drop(self.inner.get_mut()) };
        // SAFETY: the VM's own reference, given up after the VM stopped borrowing the context.
        unsafe { release(self.stores) };
    }
}

/// The memory map of the current run, as application helpers see it (a
/// `HelperMemory`: it checks, reads and writes, but cannot remap).
pub struct fc_mem {
    _opaque: [u8; 0],
}

impl fc_vm {
    /// Copies the VM's error after a load or a run.
    fn sync(&self, inner: &Inner) {
        self.last_error.set(inner.vm.last_error());
        self.last_error_pc.set(inner.vm.last_error_pc());
    }
}

unsafe fn vm_ref<'v>(vm: *const fc_vm) -> Option<&'v fc_vm> {
    // SAFETY: the caller passes NULL or a handle from `fc_vm_new` not yet freed (this function's
    // contract): a pointer to a live `fc_vm`.
    unsafe { vm.as_ref() }
}

/// Runs `f` with exclusive access to the VM, or returns `busy` when a call on
/// this VM is already under way (a reentrant call from a helper, sink or clock).
unsafe fn with_vm<R>(vm: *mut fc_vm, busy: R, f: impl FnOnce(&fc_vm, &mut Inner) -> R) -> R {
    let result = {
        // SAFETY: `vm` is NULL or a live handle (this function's contract).
        let Some(h) = (unsafe { vm_ref(vm) }) else { return busy };
        if h.state.get() != State::Idle {
            return busy;
        }
        struct Done<'a>(&'a Cell<State>);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                if self.0.get() == State::Busy {
                    self.0.set(State::Idle);
                }
            }
        }
        h.state.set(State::Busy);
        let _done = Done(&h.state);
        // SAFETY: the state was Idle, so no other `&mut Inner` exists, and none can be made until
        // `_done` resets it.
        let inner = unsafe { &mut *h.inner.get() };
        f(h, inner)
    };
    // SAFETY: `vm` is non-null (`vm_ref` returned a handle above) and still live: only this point
    // frees a handle whose state is FreeWhenDone.
    if unsafe { (*vm).state.get() } == State::FreeWhenDone {
        // SAFETY: made by `Box::into_raw` in `fc_vm_new`; `fc_vm_free` handed it over
        // (FreeWhenDone), and no reference into the handle is left.
        guard((), || drop(unsafe { Box::from_raw(vm) }));
    }
    result
}

/// A new VM using `stores` (sming profile, the optimized interpreter, budget 200); NULL for a
/// NULL `stores` or without memory for it.
///
/// # Safety
/// `stores` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_new(stores: *mut fc_stores) -> *mut fc_vm {
    if stores.is_null() {
        return ptr::null_mut();
    }
    guard(ptr::null_mut(), || {
        // SAFETY: `stores` is a non-null live handle (contract).
        let shared = unsafe { NonNull::new_unchecked(stores) };
        // SAFETY: live (contract) during this call; the reference taken below keeps the context
        // at this address until the VM is dropped (`fc_vm`'s `Drop` releases it after the inner
        // VM); the `'static` never leaves this file.
        let ctx: &'static StoreContext = unsafe { &*ptr::addr_of!((*stores).ctx) };
        // The runtime takes the lock hook while it allocates the VM's local store. Without
        // memory for the VM's engine, NULL (and no reference was taken).
        let Ok(mut vm) = VirtualMachine::try_new(ctx) else { return ptr::null_mut() };
        // SAFETY: live (contract).
        unsafe { shared.as_ref() }.acquire();
        let local = vm.environment().local_owner();
        let handle = fc_vm {
            state: Cell::new(State::Idle),
            last_error: Cell::new(0),
            last_error_pc: Cell::new(0),
            local,
            inner: UnsafeCell::new(core::mem::ManuallyDrop::new(Inner { vm, copy: None, native: None, native_error: None })),
            stores: shared,
        };
        // Without memory the handle is dropped here, giving the reference back.
        fallible::boxed(handle).map_or(ptr::null_mut(), Box::into_raw)
    })
}

/// Unloads and frees the VM (deferred to the end of the run when called from one).
///
/// # Safety
/// `vm` is NULL or a live handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_free(vm: *mut fc_vm) {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    let Some(h) = (unsafe { vm_ref(vm) }) else { return };
    guard((), || match h.state.get() {
        State::Idle => {
            // SAFETY: Idle: nothing borrows the handle, made by `Box::into_raw` in `fc_vm_new`; the
            // caller does not use it afterwards (contract).
            drop(unsafe { Box::from_raw(vm) });
        }
        State::Busy => h.state.set(State::FreeWhenDone),
        State::FreeWhenDone => {}
    });
}

/// Loads `container`, which the caller keeps alive and unchanged until unload.
///
/// # Safety
/// `vm` is NULL or a live handle; `container` is NULL or readable for `len` bytes
/// until the VM unloads, loads again or is freed.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_load(vm: *mut fc_vm, container: *const u8, len: usize, stack_size: usize) -> bool {
    let bytes: &'static [u8] = if container.is_null() || len > isize::MAX as usize {
        &[]
    } else {
        // SAFETY: `container` is non-null and `len <= isize::MAX`, and the caller keeps the bytes
        // readable and unchanged until the VM unloads, loads again or is freed (this function's
        // contract).
        unsafe { core::slice::from_raw_parts(container, len) }
    };
    let op = |h: &fc_vm, inner: &mut Inner| {
        guard(false, || {
            inner.unload();
            load_into(h, inner, bytes, stack_size)
        })
    };
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { with_vm(vm, false, op) }
}

/// Loads `bytes` into the unloaded VM, first linking the native code when there is some.
fn load_into(h: &fc_vm, inner: &mut Inner, bytes: &'static [u8], stack_size: usize) -> bool {
    inner.native_error = None;
    let container = match Container::parse(bytes, LayoutChoice::Auto) {
        Ok(container) => container,
        Err(_) => {
            // The load reports the format error (parsing again on this path only).
            let ok = inner.vm.load(bytes, stack_size);
            h.sync(inner);
            return ok;
        }
    };
    let linked = inner.native.as_ref().map(|native| native.link(&container));
    match linked {
        Some(Err((code, text))) => {
            // Without memory for the text only the code is reported.
            inner.native_error = Some(text.unwrap_or_default());
            h.last_error.set(code);
            h.last_error_pc.set(0);
            return false;
        }
        Some(Ok(engine)) => match fallible::boxed(engine) {
            Ok(engine) => inner.vm.set_engine(engine),
            Err(_) => {
                h.last_error.set(NO_MEMORY);
                h.last_error_pc.set(0);
                return false;
            }
        },
        None => {}
    }
    let ok = inner.vm.load_container(&container, stack_size);
    h.sync(inner);
    ok
}

/// Copies `container` into memory the VM owns, then loads it.
///
/// # Safety
/// `vm` is NULL or a live handle; `container` is NULL or readable for `len` bytes during the call.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_load_copy(vm: *mut fc_vm, container: *const u8, len: usize, stack_size: usize) -> bool {
    // SAFETY: `vm` is NULL or a live handle; `container` is readable for `len` bytes (contract).
    unsafe {
        load_copied(vm, container, len, stack_size, |copy| {
            // SAFETY: `load_copied` passes a non-null `container` with `len <= isize::MAX`,
            // readable for `len` bytes during this call (contract).
            copy.extend_from_slice(core::slice::from_raw_parts(container, len))
        })
    }
}

/// Copies `container` into memory the VM owns with aligned 32-bit loads only, then loads
/// the copy: for containers in memory that takes no other access (the ESP8266's flash
/// and IRAM raise LoadStoreError on a byte load). Nothing but this copy reads `container`.
///
/// # Safety
/// `vm` is NULL or a live handle; `container` is NULL or `len` bytes of memory in which the
/// aligned 32-bit words covering them are readable during the call.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_load_flash(vm: *mut fc_vm, container: *const u8, len: usize, stack_size: usize) -> bool {
    // SAFETY: as this function's contract says; `copy_words` reads only the aligned words that
    // cover the `len` bytes at `container`.
    unsafe { load_copied(vm, container, len, stack_size, |copy| copy_words(container, len, copy)) }
}

/// Appends the `len` bytes at `src` to `out`, reading memory only as aligned 32-bit words
/// (the first and last word may hold bytes outside the range, which are dropped).
///
/// # Safety
/// The aligned words covering `[src, src + len)` are readable.
unsafe fn copy_words(src: *const u8, len: usize, out: &mut Vec<u8>) {
    let start = src as usize;
    let (first, end) = (start & !3, start + len);
    let mut word = first;
    while word < end {
        // SAFETY: `word` is 4-aligned and one of the words covering the range (contract);
        // volatile, so the compiler keeps it one 32-bit load and never splits it into bytes.
        let value = unsafe { core::ptr::read_volatile(word as *const u32) }.to_le_bytes();
        let from = start.saturating_sub(word).min(4);
        let to = (end - word).min(4);
        out.extend_from_slice(&value[from..to]);
        word += 4;
    }
}

/// Loads a copy the VM owns, which `fill` writes into a vector with room for `len` bytes.
///
/// # Safety
/// `vm` is NULL or a live handle; `fill` may read `container` as its caller's contract allows.
unsafe fn load_copied(vm: *mut fc_vm, container: *const u8, len: usize, stack_size: usize, fill: impl FnOnce(&mut Vec<u8>)) -> bool {
    if container.is_null() || len > isize::MAX as usize {
        // SAFETY: `vm` is NULL or a live handle (this function's contract).
        return unsafe { fc_vm_load(vm, ptr::null(), 0, stack_size) };
    }
    let op = |h: &fc_vm, inner: &mut Inner| {
        guard(false, || {
            inner.unload();
            let Ok(mut copy) = fallible::with_capacity(len) else {
                h.last_error.set(NO_MEMORY);
                h.last_error_pc.set(0);
                return false;
            };
            fill(&mut copy);
            let raw = NonNull::from(Box::leak(copy.into_boxed_slice()));
            inner.copy = Some(raw);
            // SAFETY: `raw` is the box just leaked; `Inner::unload` and `free_copy` free it only
            // after the VM stopped borrowing it.
            let bytes: &'static [u8] = unsafe { raw.as_ref() };
            let ok = load_into(h, inner, bytes, stack_size);
            if !ok {
                inner.free_copy();
            }
            ok
        })
    };
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { with_vm(vm, false, op) }
}

/// Frees the container's RAM and returns the VM's local entries to the pool.
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_unload(vm: *mut fc_vm) {
    let op = |_: &fc_vm, inner: &mut Inner| guard((), || inner.unload());
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { with_vm(vm, (), op) }
}

/// Whether a container is loaded.
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_is_loaded(vm: *const fc_vm) -> bool {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    let Some(h) = (unsafe { vm_ref(vm) }) else { return false };
    match h.state.get() {
        // Busy: a run or a load is under way; only runs call back into C.
        State::Busy | State::FreeWhenDone => true,
        // SAFETY: Idle: no `&mut Inner` exists (only `with_vm` makes one, while the state is Busy).
        State::Idle => unsafe { &*h.inner.get() }.vm.is_loaded(),
    }
}

/// The context as a slice; `None` for a NULL pointer with a length.
///
/// # Safety
/// `ctx` is NULL or writable for `len` bytes, and nothing else uses them while the slice lives.
unsafe fn ctx_slice<'c>(ctx: *mut c_void, len: usize) -> Option<&'c mut [u8]> {
    if len == 0 {
        return Some(&mut []);
    }
    if ctx.is_null() || len > isize::MAX as usize {
        return None;
    }
    // SAFETY: `ctx` is non-null and `len <= isize::MAX`, and the caller lends `len` writable bytes
    // that nothing else uses while the slice lives (this function's contract).
    Some(unsafe { core::slice::from_raw_parts_mut(ctx.cast::<u8>(), len) })
}

unsafe fn execute(vm: *mut fc_vm, name: Option<&str>, ctx: *mut c_void, ctx_len: usize) -> i64 {
    if vm.is_null() {
        return NO_MEMORY as i64;
    }
    // SAFETY: `fc_vm_execute`'s contract: `ctx` is NULL or writable for `ctx_len` bytes during the
    // run, and nothing else uses them meanwhile.
    let ctx = unsafe { ctx_slice(ctx, ctx_len) };
    let op = |h: &fc_vm, inner: &mut Inner| {
        let Some(ctx) = ctx else {
            h.last_error.set(ILLEGAL_LEN);
            return ILLEGAL_LEN as i64;
        };
        let r = guard(NO_MEMORY as i64, || match name {
            None => inner.vm.execute(ctx),
            Some(name) => inner.vm.execute_function(name, ctx),
        });
        h.sync(inner);
        r
    };
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { with_vm(vm, ILLEGAL_CALL as i64, op) }
}

/// Runs the entry function with `ctx` (NULL/0: no context); r0 or the error code.
///
/// # Safety
/// `vm` is NULL or a live handle; `ctx` is NULL or writable for `ctx_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_execute(vm: *mut fc_vm, ctx: *mut c_void, ctx_len: usize) -> i64 {
    // SAFETY: `vm` is NULL or a live handle, `ctx` NULL or writable for `ctx_len` bytes (this
    // function's contract).
    unsafe { execute(vm, None, ctx, ctx_len) }
}

/// Runs the function-table entry `name`.
///
/// # Safety
/// As `fc_vm_execute`; `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_execute_function(vm: *mut fc_vm, name: *const c_char, ctx: *mut c_void, ctx_len: usize) -> i64 {
    // Names in a container never contain NUL: "\0" finds no function, so a NULL or
    // non-UTF-8 name fails as an unknown name does (NO_MEMORY first when unloaded).
    // SAFETY: `name` is non-null here and NUL-terminated (this function's contract).
    let name = if name.is_null() { "\0" } else { unsafe { CStr::from_ptr(name) }.to_str().unwrap_or("\0") };
    // SAFETY: `vm` and `ctx` as in `fc_vm_execute` (this function's contract).
    unsafe { execute(vm, Some(name), ctx, ctx_len) }
}

/// Error code of the last load or run (0: success); FC_NO_MEMORY for NULL.
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_last_error(vm: *const fc_vm) -> c_int {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { vm_ref(vm) }.map_or(NO_MEMORY, |h| h.last_error.get())
}

/// Instruction index where the last failed load or run stopped; 0 for NULL.
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_last_error_pc(vm: *const fc_vm) -> usize {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { vm_ref(vm) }.map_or(0, |h| h.last_error_pc.get())
}

/// Writes the text of the last load failure (NUL-terminated, truncated to `capacity`);
/// returns its full length, 0 when the last load did not fail.
///
/// # Safety
/// `vm` is NULL or a live handle; `buf` is NULL or writable for `capacity` bytes.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_load_error_text(vm: *mut fc_vm, buf: *mut c_char, capacity: usize) -> usize {
    let op = |_: &fc_vm, inner: &mut Inner| {
        guard(0, || {
            // Rendered straight into `buf`: no allocation, so it works when the heap is full.
            let out: &mut [u8] = if buf.is_null() || capacity == 0 {
                &mut []
            } else {
                // SAFETY: `buf` is non-null and writable for `capacity` bytes (contract).
                unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), capacity) }
            };
            let mut w = Truncating { out, len: 0 };
            let _ = match &inner.native_error {
                Some(text) => w.write_str(text),
                None => match inner.vm.load_error() {
                    Some(e) => write!(w, "{e}"),
                    None => Ok(()),
                },
            };
            w.finish()
        })
    };
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { with_vm(vm, 0, op) }
}

/// Writes text into a C buffer, keeping the first `capacity - 1` bytes and a NUL; counts all of it.
struct Truncating<'b> {
    out: &'b mut [u8],
    len: usize,
}

impl Truncating<'_> {
    /// NUL-terminates what was kept; the full length.
    fn finish(self) -> usize {
        if let Some(last) = self.out.len().checked_sub(1) {
            self.out[self.len.min(last)] = 0;
        }
        self.len
    }
}

impl core::fmt::Write for Truncating<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.out.len().saturating_sub(1).saturating_sub(self.len);
        let n = s.len().min(room);
        let start = self.len.min(self.out.len());
        self.out[start..start + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += s.len();
        Ok(())
    }
}

/// Applies a setting to an idle VM: false for NULL, during its own run, on a panic, or
/// when `f` says it could not (no memory).
///
/// # Safety
/// `vm` is NULL or a live handle.
unsafe fn set(vm: *mut fc_vm, f: impl FnOnce(&mut VirtualMachine<'static>) -> bool) -> bool {
    let op = |_: &fc_vm, inner: &mut Inner| guard(false, || f(&mut inner.vm));
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { with_vm(vm, false, op) }
}

/// Taken jumps allowed per run; `enabled = false` switches the bound off.
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_set_budget(vm: *mut fc_vm, budget: u32, enabled: bool) -> bool {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { set(vm, |vm| {
        vm.set_budget(enabled.then_some(budget));
        true
    }) }
}

/// Call depth the verifier accepts (checked at the next load).
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_set_max_call_depth(vm: *mut fc_vm, depth: usize) -> bool {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { set(vm, |vm| {
        vm.set_max_call_depth(depth);
        true
    }) }
}

/// The helper-id profile (FC_PROFILE_*), used from the next load on.
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_set_profile(vm: *mut fc_vm, profile: c_int) -> bool {
    let profile = match profile {
        FC_PROFILE_SMING => Profile::Sming,
        FC_PROFILE_RIOT => Profile::Riot,
        FC_PROFILE_CONFORMANCE => Profile::Conformance,
        _ => return false,
    };
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { set(vm, |vm| {
        vm.environment().set_profile(profile);
        true
    }) }
}

/// The engine (FC_ENGINE_*); unloads the current container.
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_set_engine(vm: *mut fc_vm, engine: c_int) -> bool {
    if engine != FC_ENGINE_REFERENCE && engine != FC_ENGINE_INTERP {
        return false;
    }
    let op = |_: &fc_vm, inner: &mut Inner| {
        guard(false, || {
            // Unload through Inner so a container copy is freed too.
            inner.unload();
            inner.native = None;
            // `Reference` has no size: boxing it cannot fail.
            let boxed: Result<Box<dyn Engine>, _> = if engine == FC_ENGINE_INTERP {
                fallible::boxed(Interp::default()).map(|e| e as Box<dyn Engine>)
            } else {
                fallible::boxed(Reference).map(|e| e as Box<dyn Engine>)
            };
            match boxed {
                Ok(e) => inner.vm.set_engine(e),
                Err(_) => return false,
            }
            true
        })
    };
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { with_vm(vm, false, op) }
}

/// `fc_native_fn` of the header: a function-table name and its translated entry point.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct fc_native_fn {
    pub name: *const c_char,
    pub entry: Option<EntryFn>,
}

/// Runs the next loads on translated code linked into the program: `fns[i].name` is a
/// function-table name, `fns[i].entry` its `fc_<container>_<name>`. Names are copied.
/// Unloads the current container. False for NULL `vm`/`fns`, a NULL or non-UTF-8 name,
/// a NULL entry, or during the VM's own run; the ABI version and the names are checked
/// against the container at each load (a mismatch fails the load).
///
/// # Safety
/// `vm` is NULL or a live handle; `fns` is NULL or holds `n` elements whose names are
/// NULL or NUL-terminated; each entry is code fc-aot translated, for this ABI, from the
/// containers the VM will load.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_set_native(vm: *mut fc_vm, abi_version: u32, fns: *const fc_native_fn, n: usize) -> bool {
    if vm.is_null() || fns.is_null() || n > isize::MAX as usize / core::mem::size_of::<fc_native_fn>() {
        return false;
    }
    let entries = guard(None, || {
        // SAFETY: `fns` is non-null and `n` elements fit the address space (checked above); the
        // caller provides `n` elements (contract).
        let fns = unsafe { core::slice::from_raw_parts(fns, n) };
        let mut entries = fallible::with_capacity(n).ok()?;
        for f in fns {
            if f.name.is_null() {
                return None;
            }
            // SAFETY: checked non-null; NUL-terminated by this function's contract.
            let name = unsafe { CStr::from_ptr(f.name) }.to_str().ok()?;
            let mut owned = String::new();
            owned.try_reserve_exact(name.len()).ok()?;
            owned.push_str(name);
            entries.push((owned, f.entry?));
        }
        Some(entries)
    });
    let Some(entries) = entries else { return false };
    let op = |_: &fc_vm, inner: &mut Inner| {
        guard(false, || {
            inner.unload();
            inner.native = Some(Native { abi_version, entries });
            true
        })
    };
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { with_vm(vm, false, op) }
}

/// Restores the container's data and bss to their state at load.
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_reset_data(vm: *mut fc_vm) -> bool {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { set(vm, |vm| {
        vm.reset_data();
        true
    }) }
}

/// The container's data and bss as they are now, their length in `*len` (when `len` is
/// not NULL); NULL and 0 when nothing is loaded, for a NULL vm, or from a callback of
/// this VM's own run. Valid until the next load, unload, run or free of `vm`.
///
/// # Safety
/// `vm` is NULL or a live handle; `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_data(vm: *const fc_vm, len: *mut usize) -> *const u8 {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    let data: &[u8] = match unsafe { vm_ref(vm) } {
        // SAFETY: Idle: no `&mut Inner` exists (only `with_vm` makes one, while the state is Busy).
        Some(h) if h.state.get() == State::Idle => unsafe { &*h.inner.get() }.vm.data(),
        _ => &[],
    };
    if !len.is_null() {
        // SAFETY: `len` is non-null and writable (this function's contract).
        unsafe { *len = data.len() };
    }
    if data.is_empty() {
        ptr::null()
    } else {
        data.as_ptr()
    }
}

/// The C signature of an output sink: one line (or the rest of a run's output) at a time.
pub type OutputFn = unsafe extern "C" fn(user: *mut c_void, text: *const c_char, len: usize);
/// The C signature of a clock.
pub type ClockFn = unsafe extern "C" fn(user: *mut c_void) -> u32;
/// The C signature of an application helper.
pub type HelperFn = unsafe extern "C" fn(user: *mut c_void, mem: *mut fc_mem, args: *const u64) -> u64;

/// Where printf output goes; NULL discards it.
///
/// # Safety
/// `vm` is NULL or a live handle; `sink` is callable with `user` while the VM may run.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_set_output(vm: *mut fc_vm, sink: Option<OutputFn>, user: *mut c_void) -> bool {
    let install = |vm: &mut VirtualMachine<'static>| match sink {
        Some(sink) => {
            let mut line: Vec<u8> = Vec::new();
            vm.environment().set_output(move |text: &[u8]| {
                line.clear();
                if line.try_reserve(text.len() + 1).is_ok() {
                    line.extend_from_slice(text);
                    line.push(0);
                    // SAFETY: `sink` is callable with `user` while the VM may run (`fc_vm_set_output`'s
                    // contract); `line` is `text` and a NUL.
                    unsafe { sink(user, line.as_ptr().cast(), text.len()) }
                    return;
                }
                // No memory for a NUL-terminated copy: the line goes out in pieces.
                let mut piece = [0u8; 64];
                for chunk in text.chunks(piece.len() - 1) {
                    piece[..chunk.len()].copy_from_slice(chunk);
                    piece[chunk.len()] = 0;
                    // SAFETY: as above; `piece` holds `chunk` and a NUL.
                    unsafe { sink(user, piece.as_ptr().cast(), chunk.len()) }
                }
            })
        }
        None => vm.environment().set_output(|_| {}),
    };
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { set(vm, install) }
}

/// The clock `bpf_now_ms` reads; NULL: it returns 0.
///
/// # Safety
/// `vm` is NULL or a live handle; `clock` is callable with `user` while the VM may run.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_set_clock(vm: *mut fc_vm, clock: Option<ClockFn>, user: *mut c_void) -> bool {
    let install = |vm: &mut VirtualMachine<'static>| match clock {
        // SAFETY: `clock` is callable with `user` while the VM may run (`fc_vm_set_clock`'s
        // contract).
        Some(clock) => vm.environment().set_clock(move || unsafe { clock(user) }),
        None => vm.environment().set_clock(|| 0),
    };
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { set(vm, install) }
}

/// Registers (or replaces) application helper `id` (>= 0x100) reading `arity` (<= 5) arguments.
///
/// # Safety
/// `vm` is NULL or a live handle; `helper` is callable with `user` while the VM may run.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_register_helper(vm: *mut fc_vm, id: u32, arity: u8, helper: Option<HelperFn>, user: *mut c_void) -> bool {
    let Some(helper) = helper else { return false };
    if id < FIRST_APP_HELPER || arity > 5 {
        return false;
    }
    let call = move |args: [u64; 5], mem: &mut HelperMemory| {
        let mem = ptr::from_mut(mem).cast::<fc_mem>();
        // SAFETY: `helper` is callable with `user` while the VM may run (`fc_vm_register_helper`'s
        // contract); `mem` points at the run's `HelperMemory` and `args` at five `u64`s, both live
        // for the call.
        unsafe { helper(user, mem, args.as_ptr()) }
    };
    // SAFETY: `vm` is NULL or a live handle (this function's contract). `register` can only refuse
    // ids below 0x100, checked above.
    unsafe { set(vm, |vm| vm.environment().register(id, arity, call)) }
}

/// `LocalStore::update` of the VM.
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_local_update(vm: *mut fc_vm, key: u32, value: u32) -> bool {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    let Some(h) = (unsafe { vm_ref(vm) }) else { return false };
    update(&h.stores().ctx, h.local, key, value)
}

/// `LocalStore::fetch` of the VM.
///
/// # Safety
/// `vm` is NULL or a live handle; `value` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fc_local_fetch(vm: *mut fc_vm, key: u32, value: *mut u32) -> bool {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    let Some(h) = (unsafe { vm_ref(vm) }) else { return false };
    // SAFETY: `value` is NULL or writable (this function's contract).
    unsafe { fetch(&h.stores().ctx, h.local, key, value) }
}

/// `LocalStore::get` of the VM.
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_local_get(vm: *mut fc_vm, key: u32) -> u32 {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    let Some(h) = (unsafe { vm_ref(vm) }) else { return 0 };
    guard(0, || h.stores().ctx.fetch(h.local, key).unwrap_or(0))
}

/// The VM's local entries, keys ascending (as `fc_global_entries`).
///
/// # Safety
/// `vm` is NULL or a live handle; `keys`/`values` are NULL or hold `capacity` elements.
#[no_mangle]
pub unsafe extern "C" fn fc_local_entries(vm: *const fc_vm, keys: *mut u32, values: *mut u32, capacity: usize) -> usize {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    let Some(h) = (unsafe { vm_ref(vm) }) else { return 0 };
    // SAFETY: `keys` and `values` are NULL or hold `capacity` elements (this function's contract).
    unsafe { entries(&h.stores().ctx, h.local, keys, values, capacity) }
}

// ---------------------------------------------------------------------------
// The run's memory, for application helpers.

unsafe fn mem_ref<'m>(mem: *const fc_mem) -> Option<&'m HelperMemory<'m>> {
    // SAFETY: non-null `fc_mem` pointers are the `HelperMemory` of the helper call under way (the
    // callers' contract), live for that call.
    unsafe { mem.cast::<HelperMemory<'m>>().as_ref() }
}

/// Host address of `[addr, addr + len)` if it lies in one region granting the access; else NULL.
///
/// # Safety
/// `mem` is NULL or the pointer the current helper call received.
#[no_mangle]
pub unsafe extern "C" fn fc_mem_translate(mem: *mut fc_mem, addr: u64, len: usize, write: bool) -> *mut c_void {
    // SAFETY: `mem` is NULL or the pointer the current helper call received (this function's
    // contract).
    let Some(m) = (unsafe { mem_ref(mem) }) else { return ptr::null_mut() };
    let access = if write { Access::Write } else { Access::Read };
    guard(ptr::null_mut(), || m.check(addr, len, access).map_or(ptr::null_mut(), |p| p.cast()))
}

/// Copies `len` bytes from container address `addr` to `dst`; false (nothing copied) when not readable.
///
/// # Safety
/// `mem` as in `fc_mem_translate`; `dst` is NULL or writable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fc_mem_read(mem: *mut fc_mem, addr: u64, dst: *mut c_void, len: usize) -> bool {
    // SAFETY: `mem` is NULL or the pointer the current helper call received (this function's
    // contract).
    let Some(m) = (unsafe { mem_ref(mem) }) else { return false };
    if dst.is_null() && len > 0 {
        return false;
    }
    guard(false, || match m.check(addr, len, Access::Read) {
        Some(src) => {
            // SAFETY: `check` proved `len` bytes at `src` readable; `dst` is non-null (or `len` is
            // 0) and writable for `len` bytes (contract); `copy` tolerates overlap.
            unsafe { ptr::copy(src, dst.cast::<u8>(), len) };
            true
        }
        None => false,
    })
}

/// Copies `len` bytes from `src` to container address `addr`; false (nothing copied) when not writable.
///
/// # Safety
/// `mem` as in `fc_mem_translate`; `src` is NULL or readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fc_mem_write(mem: *mut fc_mem, addr: u64, src: *const c_void, len: usize) -> bool {
    // SAFETY: `mem` is NULL or the pointer the current helper call received (this function's
    // contract).
    let Some(m) = (unsafe { mem_ref(mem) }) else { return false };
    if src.is_null() && len > 0 {
        return false;
    }
    guard(false, || match m.check(addr, len, Access::Write) {
        Some(dst) => {
            // SAFETY: `check` proved `len` bytes at `dst` writable; `src` is non-null (or `len` is
            // 0) and readable for `len` bytes (contract); `copy` tolerates overlap.
            unsafe { ptr::copy(src.cast::<u8>(), dst, len) };
            true
        }
        None => false,
    })
}

/// The NUL-terminated string at `addr` if it ends inside one readable region; else NULL.
///
/// # Safety
/// `mem` as in `fc_mem_translate`; `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fc_mem_string(mem: *mut fc_mem, addr: u64, len: *mut usize) -> *const c_char {
    // SAFETY: `mem` is NULL or the pointer the current helper call received (this function's
    // contract).
    let Some(m) = (unsafe { mem_ref(mem) }) else { return ptr::null() };
    guard(ptr::null(), || match m.c_string(addr) {
        Some(s) => {
            if !len.is_null() {
                // SAFETY: checked non-null; the caller passes a writable `size_t` (contract).
                unsafe { len.write_unaligned(s.len()) };
            }
            // The NUL follows `s` inside the same region.
            s.as_ptr().cast()
        }
        None => ptr::null(),
    })
}

// ---------------------------------------------------------------------------
// Texts.

fn known_text(code: ErrorCode) -> &'static CStr {
    match code {
        ErrorCode::Ok => c"OK",
        ErrorCode::IllegalInstruction => c"ILLEGAL_INSTRUCTION",
        ErrorCode::IllegalMem => c"ILLEGAL_MEM",
        ErrorCode::IllegalJump => c"ILLEGAL_JUMP",
        ErrorCode::IllegalCall => c"ILLEGAL_CALL",
        ErrorCode::IllegalLen => c"ILLEGAL_LEN",
        ErrorCode::IllegalRegister => c"ILLEGAL_REGISTER",
        ErrorCode::NoReturn => c"NO_RETURN",
        ErrorCode::OutOfBranches => c"OUT_OF_BRANCHES",
        ErrorCode::IllegalDiv => c"ILLEGAL_DIV",
        ErrorCode::NoMemory => c"NO_MEMORY",
    }
}

/// Renders `ERROR n` into `buf` (24 bytes hold any `ERROR <i32>` and its NUL).
fn unknown_text(code: c_int, buf: &mut [u8; 24]) -> *const c_char {
    // Only unknown codes reach this (the known ones have static texts); no core::fmt.
    let mut digits = [0u8; 24];
    let number = decimal(code.unsigned_abs().into(), &mut digits);
    let mut w = Truncating { out: buf, len: 0 };
    for piece in ["ERROR ", if code < 0 { "-" } else { "" }, number] {
        let _ = w.write_str(piece);
    }
    w.finish();
    buf.as_ptr().cast()
}

#[cfg(feature = "std")]
thread_local! {
    static UNKNOWN_TEXT: UnsafeCell<[u8; 24]> = const { UnsafeCell::new([0; 24]) };
}

/// `getErrorString`: a static string for known codes; for others `ERROR n` in a buffer
/// that the next unknown code overwrites (per thread on the host; one for the firmware
/// library, whose callers on two cores must not ask for unknown codes at once).
#[no_mangle]
pub extern "C" fn fc_error_string(code: c_int) -> *const c_char {
    guard(c"ERROR".as_ptr(), || match ErrorCode::from_code(code) {
        Some(e) => known_text(e).as_ptr(),
        #[cfg(feature = "std")]
        None => UNKNOWN_TEXT
            .try_with(|cell| {
                // SAFETY: this thread's buffer; the only `&mut` to it is this one, for this call.
                unknown_text(code, unsafe { &mut *cell.get() })
            })
            .unwrap_or(c"ERROR".as_ptr()),
        #[cfg(not(feature = "std"))]
        None => bare_metal::with_unknown_text(|buf| unknown_text(code, buf)),
    })
}

/// The crate version, e.g. "0.1.0".
#[no_mangle]
pub extern "C" fn fc_runtime_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests;
