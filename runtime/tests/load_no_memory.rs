//! A load whose allocation fails reports NO_MEMORY instead of aborting the process.
//! This test binary's allocator refuses every allocation over `LIMIT`, as a small
//! heap would.

use std::alloc::{GlobalAlloc, Layout, System};

use fc_runtime::error::ErrorCode;
use fc_runtime::format::{self, Image, Layout as FileLayout};
use fc_runtime::stores::StoreContext;
use fc_runtime::vm::{LoadError, Section};
use fc_runtime::VirtualMachine;

const LIMIT: usize = 16 << 20;

struct Small;

// SAFETY: every method forwards to `System` unchanged, or returns null, which
// `GlobalAlloc` allows for a failed allocation.
unsafe impl GlobalAlloc for Small {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > LIMIT {
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
        if new_size > LIMIT {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` came from `System` with `layout`; `new_size` is valid by the caller's contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Small = Small;

fn container(bss_len: u32) -> Vec<u8> {
    // mov r0, 7; exit
    let text = [[0xb7, 0, 0, 0, 7, 0, 0, 0], [0x95, 0, 0, 0, 0, 0, 0, 0]].concat();
    let image = Image { text, bss_len, functions: vec![("main".to_string(), 0)], ..Image::default() };
    format::write(&image, FileLayout::Sming32).unwrap()
}

#[test]
fn failed_allocations_are_no_memory_load_errors() {
    // Fits its slot, not this heap.
    let bss = 64 << 20;
    let (big, small) = (container(bss), container(0));
    let stores = StoreContext::new();
    let mut vm = VirtualMachine::new(&stores);
    let c = &big;
    assert!(vm.check(c, 512).is_ok(), "fits the address map");
    assert!(!vm.load(c, 512));
    assert_eq!(vm.load_error(), Some(&LoadError::NoMemory { section: Section::Data, bytes: bss as usize }));
    assert_eq!(vm.last_error(), ErrorCode::NoMemory.code());
    assert!(!vm.is_loaded());

    let c = &small;
    let stack = 32 << 20;
    assert!(!vm.load(c, stack));
    let section = Section::Stack { frame_size: stack, frames: 1 };
    assert_eq!(vm.load_error(), Some(&LoadError::NoMemory { section, bytes: stack }));
    assert_eq!(vm.last_error(), ErrorCode::NoMemory.code());

    // What fits the heap loads and runs.
    assert!(vm.load(c, 512), "{:?}", vm.load_error());
    assert_eq!(vm.execute(&mut []), 7);
}
