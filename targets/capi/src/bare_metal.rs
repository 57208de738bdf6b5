//! What std gives the host library and firmware must get otherwise: the heap (an arena the firmware hands over) and the panic handler.
//!
//! The heap is a first-fit free list over the firmware's arena (static RAM, typically),
//! taken under the firmware's lock hook when it gives one (VMs used from interrupts or
//! on two cores). Until `fc_runtime_init` every allocation fails, so every call that
//! needs memory reports NO_MEMORY / NULL: never an abort.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr::{self, NonNull};

use linked_list_allocator::Heap;

use crate::CLockFn;

struct State {
    heap: Heap,
    lock: Option<(CLockFn, CLockFn)>,
    initialized: bool,
    /// Most bytes in use at once since `fc_runtime_init`.
    peak: usize,
    unknown_text: [u8; 24],
}

struct Runtime(UnsafeCell<State>);

// SAFETY: the state is only reached through `Runtime::with`, under the firmware's lock hook
// when it installed one; without one, `fc_runtime_init` documents that the runtime is used
// from one context at a time (no interrupt or second core calls it meanwhile).
unsafe impl Sync for Runtime {}

static RUNTIME: Runtime = Runtime(UnsafeCell::new(State {
    heap: Heap::empty(),
    lock: None,
    initialized: false,
    peak: 0,
    unknown_text: [0; 24],
}));

impl Runtime {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        // SAFETY: reading the hook pair: it is written only by `fc_runtime_init`, before any other
        // call of the runtime (its contract).
        let lock = unsafe { (*self.0.get()).lock };
        if let Some((l, _)) = lock {
            l();
        }
        // SAFETY: under the lock (or in the single context the contract requires): the only
        // `&mut` to the state, for this call; `f` does not re-enter `with`.
        let r = f(unsafe { &mut *self.0.get() });
        if let Some((_, u)) = lock {
            u();
        }
        r
    }
}

#[global_allocator]
static HEAP: Allocator = Allocator;

/// The global allocator, a view of [`RUNTIME`]'s heap.
struct Allocator;

// SAFETY: `alloc` returns a block of the arena of at least `layout.size()` bytes aligned to
// `layout.align()`, or null; `dealloc` returns blocks `alloc` gave out, with their layout, to the
// same heap: the free list's invariants are `linked_list_allocator`'s.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        RUNTIME.with(|s| match s.heap.allocate_first_fit(layout) {
            Ok(p) => {
                s.peak = s.peak.max(s.heap.used());
                p.as_ptr()
            }
            Err(()) => ptr::null_mut(),
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(ptr) {
            // SAFETY: `ptr` came from `alloc` with `layout` (GlobalAlloc's contract).
            RUNTIME.with(|s| unsafe { s.heap.deallocate(p, layout) });
        }
    }
}

/// Gives the runtime its heap: `len` bytes at `arena` (at least 64), once, before any
/// other call. `lock`/`unlock` (both or neither) are taken around every heap access.
/// False when called again, for NULL or too small an arena, or a half pair.
///
/// # Safety
/// `arena` is NULL or `len` writable bytes the firmware never touches again; `lock` and
/// `unlock` are callable from every context that uses the runtime and do not call it.
/// Without a lock the runtime must be used from one context at a time.
#[no_mangle]
pub unsafe extern "C" fn fc_runtime_init(arena: *mut c_void, len: usize, lock: Option<CLockFn>, unlock: Option<CLockFn>) -> bool {
    let hook = match (lock, unlock) {
        (Some(l), Some(u)) => Some((l, u)),
        (None, None) => None,
        _ => return false,
    };
    if arena.is_null() || len < 64 {
        return false;
    }
    // SAFETY: before any other call (contract): nothing else reaches the state.
    let s = unsafe { &mut *RUNTIME.0.get() };
    if s.initialized {
        return false;
    }
    // SAFETY: `len` writable bytes at `arena` that only the heap uses from now on (contract).
    unsafe { s.heap.init(arena.cast(), len) };
    s.lock = hook;
    s.initialized = true;
    true
}

/// The heap's size, and through the pointers (each may be NULL) the bytes in use now and
/// the most ever in use: what firmware sizes its arena by.
///
/// # Safety
/// `used` and `peak` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn fc_runtime_heap(used: *mut usize, peak: *mut usize) -> usize {
    let (size, now, most) = RUNTIME.with(|s| (s.heap.size(), s.heap.used(), s.peak));
    // SAFETY: each is NULL or writable (contract).
    unsafe {
        if let Some(u) = used.as_mut() {
            *u = now;
        }
        if let Some(p) = peak.as_mut() {
            *p = most;
        }
    }
    size
}

/// `f` with the one buffer `fc_error_string` renders unknown codes into.
pub(crate) fn with_unknown_text<R>(f: impl FnOnce(&mut [u8; 24]) -> R) -> R {
    RUNTIME.with(|s| f(&mut s.unknown_text))
}

extern "C" {
    /// Called when the runtime panics (a bug: no input of any API should get here), with
    /// the panic's location; the firmware reports it and resets. Must not return.
    fn fc_runtime_panic(file: *const u8, file_len: usize, line: u32) -> !;
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
    // SAFETY: the firmware provides `fc_runtime_panic` (the header's contract); the file name
    // is `file.len()` readable bytes.
    unsafe { fc_runtime_panic(file.as_ptr(), file.len(), line) }
}
