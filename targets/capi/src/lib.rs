//! The C ABI of the fc-aot runtime, declared in `targets/include/fc_runtime.h`.
//!
//! Ownership and lifetimes (the Rust API borrows, C cannot):
//!
//! - `fc_stores` is an `Arc<fc_stores>` turned into a raw pointer. The handle
//!   holds one reference and every `fc_vm` made from it another, so
//!   `fc_stores_free` with live VMs only drops the handle's reference: the pool
//!   goes away with the last VM. Each VM's `VirtualMachine<'static>` borrows the
//!   `StoreContext` inside that `Arc`, which stays put until the count reaches 0.
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
//!   the run). Nothing unwinds into C: every body runs under `catch_unwind`.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![allow(non_camel_case_types)]

use std::cell::{Cell, UnsafeCell};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Arc;

use fc_runtime::error::{error_string, ErrorCode};
use fc_runtime::format::{Container, LayoutChoice};
use fc_runtime::helpers::{Profile, FIRST_APP_HELPER};
use fc_runtime::interp::{Interp, Reference};
use fc_runtime::memory::{Access, HelperMemory};
use fc_runtime::native::{EntryFn, Linked, ABI_VERSION};
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
/// How many store contexts may have a lock hook at the same time (see `fc_stores_set_lock`).
pub const FC_MAX_LOCKED_STORES: usize = 8;

/// Runs `f`, turning a panic into `fallback`: nothing unwinds into C.
fn guard<R>(fallback: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

// ---------------------------------------------------------------------------
// Lock hooks: `LockHook` takes plain `fn()`s, which cannot carry the C function
// pointers. Each locked store context takes one of a fixed set of slots; the
// slot's trampolines call the C functions stored in it.

type CLockFn = unsafe extern "C" fn();

struct LockSlot {
    used: AtomicBool,
    lock: AtomicPtr<()>,
    unlock: AtomicPtr<()>,
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE_SLOT: LockSlot =
    LockSlot { used: AtomicBool::new(false), lock: AtomicPtr::new(ptr::null_mut()), unlock: AtomicPtr::new(ptr::null_mut()) };

static LOCK_SLOTS: [LockSlot; FC_MAX_LOCKED_STORES] = [FREE_SLOT; FC_MAX_LOCKED_STORES];

fn call_slot(f: &AtomicPtr<()>) {
    let f = f.load(Ordering::Acquire);
    if !f.is_null() {
        // SAFETY: `f` is non-null, and only `HeldSlot::take` stores into a slot, from a `CLockFn`:
        // this turns it back into that function pointer.
        let f: CLockFn = unsafe { std::mem::transmute::<*mut (), CLockFn>(f) };
        // SAFETY: `fc_stores_set_lock`'s caller promised `lock` and `unlock` are callable `void
        // (*)(void)` that do not call this API.
        unsafe { f() }
    }
}

fn slot_lock<const I: usize>() {
    call_slot(&LOCK_SLOTS[I].lock);
}

fn slot_unlock<const I: usize>() {
    call_slot(&LOCK_SLOTS[I].unlock);
}

macro_rules! hooks {
    ($($i:literal)*) => { [$(LockHook { lock: slot_lock::<$i>, unlock: slot_unlock::<$i> }),*] };
}

const SLOT_HOOKS: [LockHook; FC_MAX_LOCKED_STORES] = hooks!(0 1 2 3 4 5 6 7);

/// A lock slot taken by one store context; dropping it frees the slot.
struct HeldSlot(usize);

impl HeldSlot {
    fn take(lock: CLockFn, unlock: CLockFn) -> Option<HeldSlot> {
        let i = LOCK_SLOTS.iter().position(|s| s.used.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_ok())?;
        LOCK_SLOTS[i].lock.store(lock as *mut (), Ordering::Release);
        LOCK_SLOTS[i].unlock.store(unlock as *mut (), Ordering::Release);
        Some(HeldSlot(i))
    }
    fn hook(&self) -> LockHook {
        SLOT_HOOKS[self.0]
    }
}

impl Drop for HeldSlot {
    fn drop(&mut self) {
        let s = &LOCK_SLOTS[self.0];
        s.lock.store(ptr::null_mut(), Ordering::Release);
        s.unlock.store(ptr::null_mut(), Ordering::Release);
        s.used.store(false, Ordering::Release);
    }
}

// ---------------------------------------------------------------------------
// Store contexts.

/// The pool shared by the global store and the local stores of the VMs made from it.
pub struct fc_stores {
    ctx: StoreContext,
    /// Declared after `ctx`: the slot is freed only once the context is gone.
    lock: Option<HeldSlot>,
}

/// The context behind a handle (a pointer `Arc::into_raw` made).
unsafe fn stores_ref<'s>(stores: *const fc_stores) -> Option<&'s fc_stores> {
    // SAFETY: the caller passes NULL or a handle from `fc_stores_new` that is still referenced
    // (this function's contract): a pointer to a live `fc_stores`.
    unsafe { stores.as_ref() }
}

/// A new, empty store context (`StoreContext::new`); free it with `fc_stores_free`.
#[no_mangle]
// An `Arc` for its atomic count: with a lock hook, VMs of one context may be freed on
// different threads. The context itself is only reached through the C API's rules.
#[allow(clippy::arc_with_non_send_sync)]
pub extern "C" fn fc_stores_new() -> *mut fc_stores {
    guard(ptr::null_mut(), || Arc::into_raw(Arc::new(fc_stores { ctx: StoreContext::new(), lock: None })).cast_mut())
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
        // it owns one strong reference, given up here.
        drop(unsafe { Arc::from_raw(stores.cast_const()) });
    });
}

/// Installs (both non-NULL) or removes (both NULL) the lock hook; false while VMs
/// use the context, for a half-NULL pair, or when all lock slots are taken.
///
/// # Safety
/// `stores` is NULL or a live handle; `lock`/`unlock` are callable and do not call this API.
#[no_mangle]
pub unsafe extern "C" fn fc_stores_set_lock(stores: *mut fc_stores, lock: Option<CLockFn>, unlock: Option<CLockFn>) -> bool {
    if stores.is_null() {
        return false;
    }
    guard(false, || {
        // SAFETY: `stores` is a live handle (contract) made by `Arc::into_raw`; `ManuallyDrop`
        // borrows the handle's reference without giving it up.
        let mut arc = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(stores.cast_const()) });
        // Unique: no VM borrows the context, so it may be replaced.
        let Some(s) = Arc::get_mut(&mut arc) else { return false };
        let slot = match (lock, unlock) {
            (Some(l), Some(u)) => match HeldSlot::take(l, u) {
                Some(slot) => Some(slot),
                None => return false,
            },
            (None, None) => None,
            _ => return false,
        };
        let ctx = match &slot {
            Some(slot) => StoreContext::with_lock(slot.hook()),
            None => StoreContext::new(),
        };
        // Without VMs only global entries can be in the pool: carry them over.
        for (k, v) in s.ctx.entries(Owner::Global) {
            ctx.update(Owner::Global, k, v);
        }
        s.ctx = ctx;
        s.lock = slot;
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
    fn link(&self, container: &Container) -> Result<Linked, (i32, String)> {
        if self.abi_version != ABI_VERSION {
            return Err((
                ILLEGAL_INSTRUCTION,
                format!("translated code has native ABI version {}, this runtime runs version {ABI_VERSION}", self.abi_version),
            ));
        }
        let table: Vec<(&str, usize)> = container.functions().map(|f| (f.name, f.slot())).collect();
        let names = || table.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        for (i, (name, _)) in self.entries.iter().enumerate() {
            if !table.iter().any(|(n, _)| n == name) {
                return Err((ILLEGAL_CALL, format!("native function `{name}` is not in the container's function table ({})", names())));
            }
            if self.entries[..i].iter().any(|(n, _)| n == name) {
                return Err((ILLEGAL_CALL, format!("native function `{name}` is registered twice")));
            }
        }
        let mut by_slot = Vec::with_capacity(table.len());
        for &(name, slot) in &table {
            match self.entries.iter().find(|(n, _)| n == name) {
                Some(&(_, entry)) => by_slot.push((slot, entry)),
                None => return Err((ILLEGAL_CALL, format!("no native code for function `{name}` of the container"))),
            }
        }
        // SAFETY: the entries are what `fc_vm_set_native` was given, whose contract is
        // that they are code fc-aot translated for this ABI. The version was checked
        // above, so `new` accepts it.
        unsafe { Linked::new(self.abi_version, by_slot) }.map_err(|e| (e.code(), format!("native code refused: {}", e.text())))
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
    /// Dropped before `stores` (declaration order): the VM borrows the context.
    inner: UnsafeCell<Inner>,
    stores: Arc<fc_stores>,
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

/// A new VM using `stores` (sming profile, reference engine, budget 200); NULL for a NULL `stores`.
///
/// # Safety
/// `stores` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_new(stores: *mut fc_stores) -> *mut fc_vm {
    if stores.is_null() {
        return ptr::null_mut();
    }
    guard(ptr::null_mut(), || {
        // SAFETY: `stores` is a non-null live handle (contract) made by `Arc::into_raw`: count one
        // more reference and take it as this VM's `Arc`.
        let arc = unsafe {
            Arc::increment_strong_count(stores.cast_const());
            Arc::from_raw(stores.cast_const())
        };
        // SAFETY: the `Arc` keeps the context at this address until the VM, dropped before `stores`
        // in `fc_vm`, is gone; the `'static` never leaves this file.
        let ctx: &'static StoreContext = unsafe { &*ptr::addr_of!(arc.ctx) };
        // The runtime takes the lock hook while it allocates the VM's local store.
        let mut vm = VirtualMachine::new(ctx);
        let local = vm.environment().local_owner();
        Box::into_raw(Box::new(fc_vm {
            state: Cell::new(State::Idle),
            last_error: Cell::new(0),
            last_error_pc: Cell::new(0),
            local,
            inner: UnsafeCell::new(Inner { vm, copy: None, native: None, native_error: None }),
            stores: arc,
        }))
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
        unsafe { std::slice::from_raw_parts(container, len) }
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
    let linked = match (&inner.native, Container::parse(bytes, LayoutChoice::Auto)) {
        (Some(native), Ok(container)) => Some(native.link(&container)),
        // No native code, or bytes the load itself will reject with its format error.
        _ => None,
    };
    match linked {
        Some(Err((code, text))) => {
            inner.native_error = Some(text);
            h.last_error.set(code);
            h.last_error_pc.set(0);
            return false;
        }
        Some(Ok(engine)) => inner.vm.set_engine(Box::new(engine)),
        None => {}
    }
    let ok = inner.vm.load(bytes, stack_size);
    h.sync(inner);
    ok
}

/// Copies `container` into memory the VM owns, then loads it.
///
/// # Safety
/// `vm` is NULL or a live handle; `container` is NULL or readable for `len` bytes during the call.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_load_copy(vm: *mut fc_vm, container: *const u8, len: usize, stack_size: usize) -> bool {
    if container.is_null() || len > isize::MAX as usize {
        // SAFETY: `vm` is NULL or a live handle (this function's contract).
        return unsafe { fc_vm_load(vm, ptr::null(), 0, stack_size) };
    }
    let op = |h: &fc_vm, inner: &mut Inner| {
        guard(false, || {
            inner.unload();
            // SAFETY: `container` is non-null and `len <= isize::MAX` (checked above), readable for
            // `len` bytes during this call (contract).
            let copy: Box<[u8]> = unsafe { std::slice::from_raw_parts(container, len) }.into();
            let raw = NonNull::from(Box::leak(copy));
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
    Some(unsafe { std::slice::from_raw_parts_mut(ctx.cast::<u8>(), len) })
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
            let text = match &inner.native_error {
                Some(text) => text.clone(),
                None => inner.vm.load_error().map(|e| e.to_string()).unwrap_or_default(),
            };
            if !buf.is_null() && capacity > 0 {
                let n = text.len().min(capacity - 1);
                // SAFETY: `buf` is non-null and writable for `capacity` bytes (contract), and n + 1
                // <= capacity.
                unsafe {
                    ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n);
                    buf.add(n).write(0);
                }
            }
            text.len()
        })
    };
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { with_vm(vm, 0, op) }
}

/// Applies a setting to an idle VM: false for NULL, during its own run, or on a panic.
///
/// # Safety
/// `vm` is NULL or a live handle.
unsafe fn set(vm: *mut fc_vm, f: impl FnOnce(&mut VirtualMachine<'static>)) -> bool {
    let op = |_: &fc_vm, inner: &mut Inner| {
        guard(false, || {
            f(&mut inner.vm);
            true
        })
    };
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
    unsafe { set(vm, |vm| vm.set_budget(enabled.then_some(budget))) }
}

/// Call depth the verifier accepts (checked at the next load).
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_vm_set_max_call_depth(vm: *mut fc_vm, depth: usize) -> bool {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    unsafe { set(vm, |vm| vm.set_max_call_depth(depth)) }
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
    unsafe { set(vm, |vm| vm.environment().set_profile(profile)) }
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
            if engine == FC_ENGINE_INTERP {
                inner.vm.set_engine(Box::new(Interp::default()));
            } else {
                inner.vm.set_engine(Box::new(Reference));
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
    if vm.is_null() || fns.is_null() || n > isize::MAX as usize / std::mem::size_of::<fc_native_fn>() {
        return false;
    }
    let entries = guard(None, || {
        // SAFETY: `fns` is non-null and `n` elements fit the address space (checked above); the
        // caller provides `n` elements (contract).
        let fns = unsafe { std::slice::from_raw_parts(fns, n) };
        let mut entries = Vec::with_capacity(n);
        for f in fns {
            if f.name.is_null() {
                return None;
            }
            // SAFETY: checked non-null; NUL-terminated by this function's contract.
            let name = unsafe { CStr::from_ptr(f.name) }.to_str().ok()?;
            entries.push((name.to_owned(), f.entry?));
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
    unsafe { set(vm, |vm| vm.reset_data()) }
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
        std::ptr::null()
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
            let mut line = Vec::new();
            vm.environment().set_output(move |text: &[u8]| {
                line.clear();
                line.extend_from_slice(text);
                line.push(0);
                // SAFETY: `sink` is callable with `user` while the VM may run (`fc_vm_set_output`'s
                // contract); `line` is `text` and a NUL.
                unsafe { sink(user, line.as_ptr().cast(), text.len()) }
            });
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
    unsafe { set(vm, |vm| _ = vm.environment().register(id, arity, call)) }
}

/// `LocalStore::update` of the VM.
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_local_update(vm: *mut fc_vm, key: u32, value: u32) -> bool {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    let Some(h) = (unsafe { vm_ref(vm) }) else { return false };
    update(&h.stores.ctx, h.local, key, value)
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
    unsafe { fetch(&h.stores.ctx, h.local, key, value) }
}

/// `LocalStore::get` of the VM.
///
/// # Safety
/// `vm` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn fc_local_get(vm: *mut fc_vm, key: u32) -> u32 {
    // SAFETY: `vm` is NULL or a live handle (this function's contract).
    let Some(h) = (unsafe { vm_ref(vm) }) else { return 0 };
    guard(0, || h.stores.ctx.fetch(h.local, key).unwrap_or(0))
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
    unsafe { entries(&h.stores.ctx, h.local, keys, values, capacity) }
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

thread_local! {
    /// `ERROR n` for codes the spec does not name; "ERROR -2147483648" needs 18 bytes.
    static UNKNOWN_TEXT: UnsafeCell<[u8; 24]> = const { UnsafeCell::new([0; 24]) };
}

/// `getErrorString`: a static string for known codes; for others `ERROR n` in a
/// per-thread buffer that the next unknown code on the same thread overwrites.
#[no_mangle]
pub extern "C" fn fc_error_string(code: c_int) -> *const c_char {
    guard(c"ERROR".as_ptr(), || match ErrorCode::from_code(code) {
        Some(e) => known_text(e).as_ptr(),
        None => UNKNOWN_TEXT
            .try_with(|cell| {
                // SAFETY: this thread's buffer; the only `&mut` to it is this one, for this call.
                let buf = unsafe { &mut *cell.get() };
                let mut w = &mut buf[..];
                // 24 bytes hold any `ERROR <i32>` and its NUL.
                let _ = write!(w, "{}\0", error_string(code));
                buf.as_ptr().cast::<c_char>()
            })
            .unwrap_or(c"ERROR".as_ptr()),
    })
}

/// The crate version, e.g. "0.1.0".
#[no_mangle]
pub extern "C" fn fc_runtime_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

#[cfg(test)]
mod tests;
