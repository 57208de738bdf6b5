//! Every allocation a load makes may fail, as on a microcontroller whose arena runs out
//! at any point: the load then fails with NO_MEMORY (or succeeds, when the refused
//! allocation was not needed), never aborts, and the VM stays usable. This test binary's
//! allocator refuses the n-th allocation after it is armed, for every n a load makes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use fc_runtime::error::ErrorCode;
use fc_runtime::format::{self, Image, Layout as FileLayout};
use fc_runtime::interp::{Interp, Reference};
use fc_runtime::stores::StoreContext;
use fc_runtime::VirtualMachine;

/// Allocations left before the one refused; negative: disarmed.
static LEFT: AtomicIsize = AtomicIsize::new(-1);

struct Failing;

impl Failing {
    /// Whether this allocation is the refused one.
    fn refuse() -> bool {
        LEFT.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| if n >= 0 { Some(n - 1) } else { None }) == Ok(0)
    }
}

// SAFETY: every method forwards to `System` unchanged, or returns null, which `GlobalAlloc`
// allows for a failed allocation.
unsafe impl GlobalAlloc for Failing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if Self::refuse() {
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's contract for `alloc` is `System.alloc`'s.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with `layout` (only `System` allocates here).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if Self::refuse() {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` came from `System` with `layout`; `new_size` is valid by the caller's contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Failing = Failing;

/// Two functions (a local call), data and bss: every table the verifier and a load build.
fn container() -> Vec<u8> {
    let text = [
        [0xb7, 0x01, 0, 0, 5, 0, 0, 0],    // mov r1, 5
        [0x85, 0x10, 0, 0, 1, 0, 0, 0],    // call +1 (local)
        [0x95, 0, 0, 0, 0, 0, 0, 0],       // exit
        [0xbf, 0x10, 0, 0, 0, 0, 0, 0],    // mov r0, r1
        [0x07, 0x00, 0, 0, 37, 0, 0, 0],   // add r0, 37
        [0x95, 0, 0, 0, 0, 0, 0, 0],       // exit
    ]
    .concat();
    let image = Image {
        text,
        data: vec![1; 16],
        bss_len: 8,
        rodata: b"text\0".to_vec(),
        functions: vec![("main".to_string(), 0), ("helper".to_string(), 24)],
    };
    format::write(&image, FileLayout::Sming32).unwrap()
}

#[test]
fn a_load_survives_every_refused_allocation() {
    let bin = container();
    let stores = StoreContext::new();
    // Making the VM allocates its engine: refused, it is an error, not an abort.
    LEFT.store(0, Ordering::SeqCst);
    let made = VirtualMachine::try_new(&stores);
    let refused_one = LEFT.swap(-1, Ordering::SeqCst) < 0;
    assert!(made.is_err() && refused_one, "a VM made without memory for its engine");
    drop(made);
    for engine in ["interp", "reference"] {
        let mut vm = VirtualMachine::new(&stores);
        match engine {
            "interp" => vm.set_engine(Box::new(Interp::default())),
            _ => vm.set_engine(Box::new(Reference)),
        }
        assert!(vm.load(&bin, 512), "{engine}: {:?}", vm.load_error());
        assert_eq!(vm.execute(&mut []), 42);
        let (mut refused, mut n) = (0, 0);
        loop {
            LEFT.store(n, Ordering::SeqCst);
            let loaded = vm.load(&bin, 512);
            let untouched = LEFT.swap(-1, Ordering::SeqCst) >= 0;
            if loaded {
                assert_eq!(vm.execute(&mut []), 42, "{engine}: allocation {n} refused, then a run");
            } else {
                assert_eq!(vm.last_error(), ErrorCode::NoMemory.code(), "{engine}: allocation {n} refused: {:?}", vm.load_error());
                refused += 1;
                // The VM is still usable: the next load, with memory, works.
                assert!(vm.load(&bin, 512), "{engine}: after refusal {n}");
            }
            if untouched {
                break;
            }
            n += 1;
        }
        assert!(refused >= 10, "{engine}: only {refused} of {n} allocations of a load could be refused");
        // The reference engine prepares nothing: these are the load's own. The function table
        // (names), the verifier's per-slot and per-function tables, the program (instructions,
        // functions, the caller's callees, leaders, entries), data, stack and the loaded state.
        if engine == "reference" {
            assert!(n <= 11, "a load allocates {n} times, more than 11");
        }
        eprintln!("{engine}: each of the {n} allocations of a load refused in turn: {refused} loads failed with NO_MEMORY, none aborted");
    }
}
