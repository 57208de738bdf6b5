//! The helpers natively: what `fc_helpers.h` declares as `extern` functions when a
//! container is compiled for the host, backed by simple arrays. The `rbpf` engine
//! calls the same stores through its helper table (see [`rbpf_helpers`]).

use std::cell::RefCell;
use std::os::raw::c_int;

use fc_runtime::stores::STORE_NUM_VALUES;

/// One store: up to `STORE_NUM_VALUES` (key, value) pairs, linear search, as the VM's pool.
#[derive(Clone, Copy)]
pub struct Table {
    len: usize,
    keys: [u32; STORE_NUM_VALUES],
    values: [u32; STORE_NUM_VALUES],
}

impl Table {
    const EMPTY: Table = Table { len: 0, keys: [0; STORE_NUM_VALUES], values: [0; STORE_NUM_VALUES] };

    /// Inserts or overwrites; false when a new entry is needed and the table is full.
    fn update(&mut self, key: u32, value: u32) -> bool {
        for i in 0..self.len {
            if self.keys[i] == key {
                self.values[i] = value;
                return true;
            }
        }
        if self.len == STORE_NUM_VALUES {
            return false;
        }
        self.keys[self.len] = key;
        self.values[self.len] = value;
        self.len += 1;
        true
    }

    /// The value of `key`; a missing key is added with 0 (as the VM's stores do).
    fn fetch(&mut self, key: u32) -> Option<u32> {
        for i in 0..self.len {
            if self.keys[i] == key {
                return Some(self.values[i]);
            }
        }
        self.update(key, 0).then_some(0)
    }

    /// Entries, keys ascending.
    pub fn entries(&self) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = (0..self.len).map(|i| (self.keys[i], self.values[i])).collect();
        v.sort_unstable();
        v
    }
}

thread_local! {
    static GLOBAL: RefCell<Table> = const { RefCell::new(Table::EMPTY) };
    static LOCAL: RefCell<Table> = const { RefCell::new(Table::EMPTY) };
}

/// Empties both native stores (before a run whose stores are compared).
pub fn reset_stores() {
    GLOBAL.with(|t| *t.borrow_mut() = Table::EMPTY);
    LOCAL.with(|t| *t.borrow_mut() = Table::EMPTY);
}

/// (global entries, local entries), keys ascending.
pub fn store_entries() -> crate::engines::Stores {
    (GLOBAL.with(|t| t.borrow().entries()), LOCAL.with(|t| t.borrow().entries()))
}

fn store(table: &'static std::thread::LocalKey<RefCell<Table>>, key: u32, value: u32) -> c_int {
    if table.with(|t| t.borrow_mut().update(key, value)) {
        0
    } else {
        -1
    }
}

/// # Safety
/// `value` is null or points to 4 writable bytes.
unsafe fn fetch(table: &'static std::thread::LocalKey<RefCell<Table>>, key: u32, value: *mut u32) -> c_int {
    if value.is_null() {
        return -1;
    }
    match table.with(|t| t.borrow_mut().fetch(key)) {
        Some(v) => {
            // The caller passes the address of a u32 (a C local or a container's stack slot).
            unsafe { value.write_unaligned(v) };
            0
        }
        None => -1,
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn bpf_store_global(key: u32, value: u32) -> c_int {
    store(&GLOBAL, key, value)
}

#[unsafe(no_mangle)]
pub extern "C" fn bpf_store_local(key: u32, value: u32) -> c_int {
    store(&LOCAL, key, value)
}

/// # Safety
/// `value` is null or points to 4 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bpf_fetch_global(key: u32, value: *mut u32) -> c_int {
    unsafe { fetch(&GLOBAL, key, value) }
}

/// # Safety
/// `value` is null or points to 4 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bpf_fetch_local(key: u32, value: *mut u32) -> c_int {
    unsafe { fetch(&LOCAL, key, value) }
}

/// # Safety
/// Both ranges are valid for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bpf_memcpy(dst: *mut u8, src: *const u8, n: usize) -> c_int {
    unsafe { std::ptr::copy(src, dst, n) };
    0
}

#[unsafe(no_mangle)]
pub extern "C" fn bpf_now_ms() -> u32 {
    0
}

// bpf_printf is variadic: stable Rust cannot define a C variadic function, and no
// benchmark kernel prints, so it is left undefined (a kernel using it fails to link).

/// A helper as the `rbpf` crate registers it.
pub type RbpfHelper = fn(u64, u64, u64, u64, u64) -> u64;

/// The store helpers as the `rbpf` crate calls them (five u64 arguments, r0 back),
/// by Sming id. rbpf passes host addresses, so a fetch writes through the pointer.
pub fn rbpf_helpers() -> [(u32, RbpfHelper); 4] {
    fn r0(ret: c_int) -> u64 {
        ret as i64 as u64
    }
    fn store_global(k: u64, v: u64, _: u64, _: u64, _: u64) -> u64 {
        r0(bpf_store_global(k as u32, v as u32))
    }
    fn store_local(k: u64, v: u64, _: u64, _: u64, _: u64) -> u64 {
        r0(bpf_store_local(k as u32, v as u32))
    }
    fn fetch_global(k: u64, p: u64, _: u64, _: u64, _: u64) -> u64 {
        // rbpf checks no helper pointer; the kernels pass their stack slot.
        r0(unsafe { bpf_fetch_global(k as u32, p as *mut u32) })
    }
    fn fetch_local(k: u64, p: u64, _: u64, _: u64, _: u64) -> u64 {
        r0(unsafe { bpf_fetch_local(k as u32, p as *mut u32) })
    }
    [(0x10, store_global), (0x11, store_local), (0x12, fetch_global), (0x13, fetch_local)]
}
