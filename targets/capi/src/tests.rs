//! The FFI functions called directly from Rust: NULL handling, ownership, reentrancy.

use super::*;
use fc_runtime::env::Environment;
use fc_runtime::format::{self, Image, Layout};
use std::ffi::CStr;

const HEADER: &str = concat!(include_str!("../../include/fc_abi.h"), include_str!("../../include/fc_runtime.h"));

fn insn(op: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let mut b = [op, src << 4 | dst, 0, 0, 0, 0, 0, 0];
    b[2..4].copy_from_slice(&off.to_le_bytes());
    b[4..8].copy_from_slice(&imm.to_le_bytes());
    b
}

const EXIT: [u8; 8] = [0x95, 0, 0, 0, 0, 0, 0, 0];

fn mov(dst: u8, imm: i32) -> [u8; 8] {
    insn(0xb7, dst, 0, 0, imm)
}

fn call(id: i32) -> [u8; 8] {
    insn(0x85, 0, 0, 0, id)
}

/// A container with one function `main` whose text is `insns`.
fn container(insns: &[[u8; 8]]) -> Vec<u8> {
    let image = Image { text: insns.concat(), functions: vec![("main".to_string(), 0)], ..Image::default() };
    format::write(&image, Layout::Seed).unwrap()
}

/// r0 = *(u64 *)ctx + 1.
fn increment() -> Vec<u8> {
    container(&[insn(0x79, 0, 1, 0, 0), insn(0x07, 0, 0, 0, 1), EXIT])
}

/// r0 = helper `id`(6, 7).
fn calls(id: i32) -> Vec<u8> {
    container(&[mov(1, 6), mov(2, 7), call(id), EXIT])
}

/// `ja -1`: loops until the budget stops it.
fn spin() -> Vec<u8> {
    container(&[insn(0x05, 0, 0, -1, 0), EXIT])
}

fn text(p: *const c_char) -> String {
    // SAFETY: `p` is one of this API's NUL-terminated static or per-thread strings, read at once.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

struct Stores(*mut fc_stores);
impl Drop for Stores {
    fn drop(&mut self) {
        // SAFETY: `self.0` is the live handle `stores()` made, freed only here.
        unsafe { fc_stores_free(self.0) };
    }
}
fn stores() -> Stores {
    let s = fc_stores_new();
    assert!(!s.is_null());
    Stores(s)
}

/// The references to a live store handle (handle + VMs).
fn refs(s: *mut fc_stores) -> usize {
    // SAFETY: `s` is a live handle.
    unsafe { &*s }.refs.get()
}

#[test]
fn sizes() {
    println!("size_of::<VirtualMachine>() = {}", std::mem::size_of::<VirtualMachine<'static>>());
    println!("size_of::<Environment>()    = {}", std::mem::size_of::<Environment<'static>>());
    println!("size_of::<StoreContext>()   = {} (STORE_NUM_VALUES = {STORE_NUM_VALUES})", std::mem::size_of::<StoreContext>());
    println!("size_of::<fc_vm>()          = {}", std::mem::size_of::<fc_vm>());
    println!("size_of::<fc_stores>()      = {}", std::mem::size_of::<fc_stores>());
}

#[test]
fn null_pointers_give_errors_not_crashes() {
    let null_vm: *mut fc_vm = ptr::null_mut();
    let null_stores: *mut fc_stores = ptr::null_mut();
    let null_mem: *mut fc_mem = ptr::null_mut();
    let mut v = 5u32;
    let mut buf = [0u8; 8];
    // SAFETY: every pointer is NULL (which each function accepts) or a live local (`v`, `buf`, the
    // containers) with its true length.
    unsafe {
        fc_stores_free(null_stores);
        assert!(!fc_stores_set_lock(null_stores, None, None));
        assert_eq!(fc_stores_free_entries(null_stores), 0);
        assert!(!fc_global_update(null_stores, 1, 2));
        assert!(!fc_global_fetch(null_stores, 1, &mut v));
        assert_eq!(fc_global_get(null_stores, 1), 0);
        assert_eq!(fc_global_entries(null_stores, ptr::null_mut(), ptr::null_mut(), 4), 0);

        assert!(fc_vm_new(null_stores).is_null());
        fc_vm_free(null_vm);
        assert!(!fc_vm_load(null_vm, increment().as_ptr(), increment().len(), 512));
        assert!(!fc_vm_load_copy(null_vm, increment().as_ptr(), increment().len(), 512));
        fc_vm_unload(null_vm);
        assert!(!fc_vm_is_loaded(null_vm));
        assert_eq!(fc_vm_execute(null_vm, ptr::null_mut(), 0), NO_MEMORY as i64);
        assert_eq!(fc_vm_execute_function(null_vm, c"main".as_ptr(), ptr::null_mut(), 0), NO_MEMORY as i64);
        assert_eq!(fc_vm_last_error(null_vm), NO_MEMORY);
        assert_eq!(fc_vm_last_error_pc(null_vm), 0);
        assert_eq!(fc_vm_load_error_text(null_vm, buf.as_mut_ptr().cast(), buf.len()), 0);
        assert!(!fc_vm_set_budget(null_vm, 1, true));
        assert!(!fc_vm_set_max_call_depth(null_vm, 1));
        assert!(!fc_vm_set_profile(null_vm, FC_PROFILE_RIOT));
        assert!(!fc_vm_set_engine(null_vm, FC_ENGINE_INTERP));
        assert!(!fc_vm_reset_data(null_vm));
        let mut len = 7;
        assert!(fc_vm_data(null_vm, &mut len).is_null());
        assert_eq!(len, 0);
        assert!(!fc_vm_set_output(null_vm, None, ptr::null_mut()));
        assert!(!fc_vm_set_clock(null_vm, None, ptr::null_mut()));
        assert!(!fc_vm_register_helper(null_vm, 0x100, 1, Some(add_helper), ptr::null_mut()));
        assert!(!fc_local_update(null_vm, 1, 2));
        assert!(!fc_local_fetch(null_vm, 1, &mut v));
        assert_eq!(fc_local_get(null_vm, 1), 0);
        assert_eq!(fc_local_entries(null_vm, ptr::null_mut(), ptr::null_mut(), 4), 0);

        assert!(fc_mem_translate(null_mem, 0x1000_0000, 1, false).is_null());
        assert!(!fc_mem_read(null_mem, 0x1000_0000, buf.as_mut_ptr().cast(), 1));
        assert!(!fc_mem_write(null_mem, 0x1000_0000, buf.as_ptr().cast(), 1));
        assert!(fc_mem_string(null_mem, 0x1000_0000, ptr::null_mut()).is_null());
    }
    assert_eq!(v, 5, "nothing was written through the value pointer");

    // NULL arguments next to a live handle.
    let s = stores();
    // SAFETY: `s.0` is a live handle and `vm` one made from it; every other pointer is NULL or a
    // live local with its true length, and `inc` outlives the VM's use of it.
    unsafe {
        assert!(!fc_global_fetch(s.0, 1, ptr::null_mut()));
        assert_eq!(fc_stores_free_entries(s.0), STORE_NUM_VALUES, "a failed fetch inserts nothing");
        assert!(!fc_stores_set_lock(s.0, Some(noop), None), "half a lock hook");
        let vm = fc_vm_new(s.0);
        assert!(!fc_vm_load(vm, ptr::null(), 100, 512));
        assert_eq!(fc_vm_last_error(vm), ILLEGAL_LEN, "a NULL container is an empty (truncated) one");
        assert!(!fc_vm_load_copy(vm, ptr::null(), 100, 512));
        assert_eq!(fc_vm_last_error(vm), ILLEGAL_LEN);
        let inc = increment();
        assert!(fc_vm_load(vm, inc.as_ptr(), inc.len(), 512));
        assert_eq!(fc_vm_execute(vm, ptr::null_mut(), 8), ILLEGAL_LEN as i64, "NULL context with a length");
        assert_eq!(fc_vm_last_error(vm), ILLEGAL_LEN);
        assert_eq!(fc_vm_execute(vm, ptr::null_mut(), 0), ErrorCode::IllegalMem.code() as i64, "no context: r1 = 0");
        assert_eq!(fc_vm_execute_function(vm, ptr::null(), ptr::null_mut(), 0), ILLEGAL_CALL as i64);
        assert_eq!(fc_vm_execute_function(vm, c"\xff".as_ptr(), ptr::null_mut(), 0), ILLEGAL_CALL as i64, "not UTF-8");
        assert!(!fc_vm_register_helper(vm, 0x100, 1, None, ptr::null_mut()));
        assert!(!fc_vm_register_helper(vm, 0x10, 1, Some(add_helper), ptr::null_mut()), "below 0x100");
        assert!(!fc_vm_register_helper(vm, 0x100, 6, Some(add_helper), ptr::null_mut()), "arity above 5");
        assert!(!fc_vm_set_profile(vm, 3));
        assert!(!fc_vm_set_engine(vm, 2));
        assert!(!fc_local_fetch(vm, 1, ptr::null_mut()));
        assert_eq!(fc_vm_load_error_text(vm, ptr::null_mut(), 0), 0, "the last load succeeded");
        fc_vm_free(vm);
    }
}

extern "C" fn noop() {}

/// r0 = r1 + r2 + *user.
unsafe extern "C" fn add_helper(user: *mut c_void, _mem: *mut fc_mem, args: *const u64) -> u64 {
    // SAFETY: `user` is NULL or the `u64` the test registered, live during the run.
    let extra = if user.is_null() { 0 } else { unsafe { *user.cast::<u64>() } };
    // SAFETY: the runtime passes five `u64` arguments, live for the call.
    let args = unsafe { std::slice::from_raw_parts(args, 5) };
    args[0] + args[1] + extra
}

#[test]
fn runs_loads_and_errors() {
    let s = stores();
    // SAFETY: `s.0` is a live handle and `vm` one made from it, freed at the end; containers are
    // live Vecs passed with their lengths and kept until the next load; `ctx_ptr` and `extra` point
    // at live locals of the sizes given.
    unsafe {
        let vm = fc_vm_new(s.0);
        assert_eq!(refs(s.0), 2, "the VM holds the context");
        assert_eq!(fc_vm_execute(vm, ptr::null_mut(), 0), NO_MEMORY as i64, "nothing loaded");
        assert_eq!(fc_vm_last_error(vm), NO_MEMORY);
        let mut ctx = 41u64;
        let ctx_ptr = ptr::from_mut(&mut ctx).cast::<c_void>();
        for engine in [FC_ENGINE_REFERENCE, FC_ENGINE_INTERP] {
            assert!(fc_vm_set_engine(vm, engine));
            let mut bytes = increment();
            assert!(fc_vm_load_copy(vm, bytes.as_ptr(), bytes.len(), 512));
            bytes.fill(0xff);
            drop(bytes);
            assert!(fc_vm_is_loaded(vm));
            assert_eq!(fc_vm_execute(vm, ctx_ptr, 8), 42, "runs from the VM's own copy");
            assert_eq!(fc_vm_execute_function(vm, c"main".as_ptr(), ctx_ptr, 8), 42);
            assert_eq!(fc_vm_execute_function(vm, c"nope".as_ptr(), ctx_ptr, 8), ILLEGAL_CALL as i64);
            assert_eq!(fc_vm_last_error(vm), ILLEGAL_CALL);
        }
        let bytes = spin();
        assert!(fc_vm_load(vm, bytes.as_ptr(), bytes.len(), 512));
        assert!(fc_vm_set_budget(vm, 10, true));
        assert_eq!(fc_vm_execute(vm, ptr::null_mut(), 0), ErrorCode::OutOfBranches.code() as i64);
        assert_eq!(fc_vm_last_error_pc(vm), 0);
        assert!(!fc_vm_load(vm, b"garbage".as_ptr(), 7, 512));
        assert_eq!(fc_vm_last_error(vm), ILLEGAL_LEN);
        assert!(!fc_vm_is_loaded(vm));
        let mut buf = [0u8; 16];
        let n = fc_vm_load_error_text(vm, buf.as_mut_ptr().cast(), buf.len());
        assert!(n > 15, "the full length is reported");
        assert_eq!(buf[15], 0, "truncated and terminated");
        let inc = increment();
        assert!(!fc_vm_load(vm, inc.as_ptr(), inc.len(), 7));
        assert_eq!(fc_vm_last_error(vm), ILLEGAL_LEN, "stack size not a multiple of 8");

        // Helpers: unregistered -> ILLEGAL_CALL at load; registered -> called with r1, r2 and user.
        let prog = calls(0x100);
        assert!(!fc_vm_load(vm, prog.as_ptr(), prog.len(), 512));
        assert_eq!(fc_vm_last_error(vm), ILLEGAL_CALL);
        assert_eq!(fc_vm_last_error_pc(vm), 2, "the call instruction");
        let mut extra = 100u64;
        assert!(fc_vm_register_helper(vm, 0x100, 2, Some(add_helper), ptr::from_mut(&mut extra).cast()));
        assert!(fc_vm_load(vm, prog.as_ptr(), prog.len(), 512));
        assert_eq!(fc_vm_execute(vm, ptr::null_mut(), 0), 113);
        assert_eq!(fc_vm_last_error(vm), 0);
        fc_vm_unload(vm);
        assert_eq!(fc_vm_execute(vm, ptr::null_mut(), 0), NO_MEMORY as i64);

        // RIOT numbers the stores the other way round: 0x10 is store_local there.
        let prog = container(&[mov(1, 3), mov(2, 33), call(0x10), EXIT]);
        assert!(fc_vm_set_profile(vm, FC_PROFILE_RIOT));
        assert!(fc_vm_load(vm, prog.as_ptr(), prog.len(), 512));
        assert_eq!(fc_vm_execute(vm, ptr::null_mut(), 0), 0);
        assert_eq!(fc_local_get(vm, 3), 33);
        assert_eq!(fc_global_entries(s.0, ptr::null_mut(), ptr::null_mut(), 0), 0);
        fc_vm_free(vm);
        assert_eq!(refs(s.0), 1);
        assert_eq!(fc_stores_free_entries(s.0), STORE_NUM_VALUES, "freeing the VM released its locals");
    }
}

/// `fc_vm_load` goes through the runtime's size checks: what cannot fit its slot of the
/// address map is ILLEGAL_LEN before anything is allocated (a bss of 0xF000_0000 used
/// to abort the process; a stack of 2^64 - 8 to panic inside the guard).
#[test]
fn sizes_that_cannot_fit_are_load_errors() {
    let s = stores();
    let image = Image { text: [mov(0, 1), EXIT].concat(), bss_len: 0xF000_0000, functions: vec![("main".to_string(), 0)], ..Image::default() };
    let huge_bss = format::write(&image, Layout::Sming32).unwrap();
    let inc = increment();
    // SAFETY: `s.0` is a live handle, `vm` one made from it and freed last; every
    // container pointer is a live Vec's with its length; the text buffer holds 256 bytes.
    unsafe {
        let vm = fc_vm_new(s.0);
        assert!(!fc_vm_load(vm, huge_bss.as_ptr(), huge_bss.len(), 512));
        assert_eq!(fc_vm_last_error(vm), ILLEGAL_LEN);
        let mut buf = [0u8; 256];
        fc_vm_load_error_text(vm, buf.as_mut_ptr().cast(), buf.len());
        let text = CStr::from_bytes_until_nul(&buf).unwrap().to_str().unwrap();
        assert!(text.starts_with("data + bss needs 4026531840 bytes"), "{text}");
        assert!(!fc_vm_load_copy(vm, huge_bss.as_ptr(), huge_bss.len(), 512));
        assert_eq!(fc_vm_last_error(vm), ILLEGAL_LEN);
        for stack in [usize::MAX - 7, 1 << 36, 1 << 28] {
            assert!(!fc_vm_load(vm, inc.as_ptr(), inc.len(), stack), "stack {stack}");
            assert_eq!(fc_vm_last_error(vm), ILLEGAL_LEN);
        }
        assert!(fc_vm_load(vm, inc.as_ptr(), inc.len(), 512));
        fc_vm_free(vm);
    }
}

#[test]
fn stores_outlive_their_handle_while_vms_use_them() {
    // SAFETY: `s` and `vm` are live handles until freed (the VM keeps the pool alive); `keys`,
    // `values` and `prog` are live locals with their lengths.
    unsafe {
        let s = fc_stores_new();
        let vm = fc_vm_new(s);
        assert!(fc_global_update(s, 1, 10));
        assert!(!fc_stores_set_lock(s, Some(noop), Some(noop)), "a VM uses the context");
        fc_stores_free(s);
        // The pool is still there for the VM.
        assert!(fc_local_update(vm, 2, 20));
        let (mut keys, mut values) = ([0u32; 4], [0u32; 4]);
        assert_eq!(fc_local_entries(vm, keys.as_mut_ptr(), values.as_mut_ptr(), 4), 1);
        assert_eq!((keys[0], values[0]), (2, 20));
        let prog = container(&[mov(1, 1), mov(2, 0), insn(0xbf, 2, 10, 0, 0), insn(0x07, 2, 0, 0, -8), call(0x12),
            insn(0x61, 0, 10, -8, 0), EXIT]);
        assert!(fc_vm_load(vm, prog.as_ptr(), prog.len(), 512));
        assert_eq!(fc_vm_execute(vm, ptr::null_mut(), 0), 10, "fetch_global reads the entry the freed handle wrote");
        fc_vm_free(vm);
    }
}

#[test]
fn fetch_and_entries() {
    let s = stores();
    // SAFETY: `s.0` is a live handle; `v`, `keys` and `values` are live locals with the capacities
    // given.
    unsafe {
        let mut v = 7u32;
        assert!(fc_global_fetch(s.0, 5, &mut v));
        assert_eq!(v, 0, "a missing key is added with 0");
        assert!(fc_global_update(s.0, 5, 50));
        assert!(fc_global_update(s.0, 3, 30));
        assert_eq!(fc_global_get(s.0, 5), 50);
        let (mut keys, mut values) = ([0u32; 1], [0u32; 1]);
        assert_eq!(fc_global_entries(s.0, keys.as_mut_ptr(), values.as_mut_ptr(), 1), 2, "count beyond capacity");
        assert_eq!((keys[0], values[0]), (3, 30), "keys ascending");
        for k in 0..STORE_NUM_VALUES as u32 {
            fc_global_update(s.0, 100 + k, k);
        }
        assert_eq!(fc_stores_free_entries(s.0), 0);
        assert!(!fc_global_update(s.0, 9999, 1));
        assert!(!fc_global_fetch(s.0, 9999, &mut v));
        assert_eq!(fc_global_get(s.0, 9999), 0);
    }
}

struct Reentry {
    vm: *mut fc_vm,
    seen: Vec<i64>,
    free_inside: bool,
}

/// Calls the API on its own VM from inside the run.
unsafe extern "C" fn reentrant_helper(user: *mut c_void, mem: *mut fc_mem, args: *const u64) -> u64 {
    // SAFETY: `user` is the `Reentry` the test registered, live and otherwise unused during the
    // run.
    let r = unsafe { &mut *user.cast::<Reentry>() };
    // SAFETY: the runtime passes five `u64` arguments, live for the call.
    let args = unsafe { std::slice::from_raw_parts(args, 5) };
    // SAFETY: `r.vm` is live (a reentrant free is deferred to the end of the run); `mem` is this
    // call's `fc_mem`; `word` and the written `u64` are live locals of 8 bytes.
    unsafe {
        r.seen.push(fc_vm_execute(r.vm, ptr::null_mut(), 0));
        r.seen.push(fc_vm_load(r.vm, ptr::null(), 0, 512) as i64);
        r.seen.push(fc_vm_set_budget(r.vm, 1, true) as i64);
        r.seen.push(fc_vm_is_loaded(r.vm) as i64);
        r.seen.push(fc_local_update(r.vm, 1, 11) as i64);
        fc_vm_unload(r.vm);
        r.seen.push(fc_vm_last_error(r.vm) as i64);
        // The context is mapped at 0x4000_0000; args[0] is r1.
        let mut word = [0u8; 8];
        r.seen.push(fc_mem_read(mem, args[0], word.as_mut_ptr().cast(), 8) as i64);
        r.seen.push(u64::from_le_bytes(word) as i64);
        r.seen.push(fc_mem_write(mem, args[0], 77u64.to_le_bytes().as_ptr().cast(), 8) as i64);
        r.seen.push(fc_mem_write(mem, args[0] + 1, word.as_ptr().cast(), 8) as i64);
        r.seen.push(fc_mem_translate(mem, 0, 1, false).is_null() as i64);
        if r.free_inside {
            fc_vm_free(r.vm);
        }
    }
    5
}

#[test]
fn reentrant_calls_are_refused_and_free_is_deferred() {
    let s = stores();
    let prog = container(&[call(0x100), EXIT]);
    for free_inside in [false, true] {
        // SAFETY: `s.0` is a live handle and `vm` one made from it, freed once; `r`, `ctx` and
        // `prog` outlive every run that uses them.
        unsafe {
            let vm = fc_vm_new(s.0);
            let mut r = Reentry { vm, seen: Vec::new(), free_inside };
            assert!(fc_vm_register_helper(vm, 0x100, 1, Some(reentrant_helper), ptr::from_mut(&mut r).cast()));
            assert!(fc_vm_load(vm, prog.as_ptr(), prog.len(), 512));
            let mut ctx = 9u64;
            assert_eq!(fc_vm_execute(vm, ptr::from_mut(&mut ctx).cast(), 8), 5);
            assert_eq!(r.seen, [ILLEGAL_CALL as i64, 0, 0, 1, 1, 0, 1, 9, 1, 0, 1]);
            assert_eq!(ctx, 77, "fc_mem_write reached the context");
            if free_inside {
                assert_eq!(refs(s.0), 1, "the VM was freed when its run ended");
                assert_eq!(fc_stores_free_entries(s.0), STORE_NUM_VALUES, "and released its locals");
            } else {
                assert!(fc_vm_is_loaded(vm), "the unload inside the run was refused");
                assert_eq!(fc_local_get(vm, 1), 11);
                fc_vm_free(vm);
            }
        }
    }
}

struct Captured(Vec<String>);

unsafe extern "C" fn capture(user: *mut c_void, text: *const c_char, len: usize) {
    // SAFETY: `user` is the `Captured` the test registered, live and otherwise unused during the
    // run.
    let c = unsafe { &mut *user.cast::<Captured>() };
    // SAFETY: the runtime passes `len` bytes and their NUL, live for the call.
    let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len + 1) };
    assert_eq!(bytes[len], 0, "NUL-terminated");
    c.0.push(String::from_utf8(bytes[..len].to_vec()).unwrap());
}

unsafe extern "C" fn clock(user: *mut c_void) -> u32 {
    user as usize as u32
}

#[test]
fn output_clock_and_strings() {
    // rodata "hi %d\n\0" at 0x1000_0000; printf(fmt, now_ms()).
    let image = Image {
        rodata: b"hi %d\n\0".to_vec(),
        text: [call(0x20), insn(0xbf, 2, 0, 0, 0), insn(0x18, 1, 0, 0, 0x1000_0000), [0; 8], call(1), call(0x20), EXIT]
            .concat(),
        functions: vec![("main".to_string(), 0)],
        ..Image::default()
    };
    let prog = format::write(&image, Layout::Seed).unwrap();
    let s = stores();
    // SAFETY: `s.0` is a live handle and `vm` one made from it, freed at the end; `out` and `prog`
    // outlive the runs; the clock's user pointer is only a number.
    unsafe {
        let vm = fc_vm_new(s.0);
        let mut out = Captured(Vec::new());
        assert!(fc_vm_set_output(vm, Some(capture), ptr::from_mut(&mut out).cast()));
        assert!(fc_vm_set_clock(vm, Some(clock), 1234 as *mut c_void));
        assert!(fc_vm_load(vm, prog.as_ptr(), prog.len(), 512));
        assert_eq!(fc_vm_execute(vm, ptr::null_mut(), 0), 1234);
        assert_eq!(out.0, ["hi 1234\n"]);
        assert!(fc_vm_set_clock(vm, None, ptr::null_mut()));
        assert!(fc_vm_set_output(vm, None, ptr::null_mut()));
        assert_eq!(fc_vm_execute(vm, ptr::null_mut(), 0), 0, "no clock: 0");
        assert_eq!(out.0.len(), 1, "output discarded");
        fc_vm_free(vm);
    }
}

static LOCKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
extern "C" fn count_lock() {
    LOCKS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

#[test]
fn lock_hooks_guard_the_pool() {
    use std::sync::atomic::Ordering;
    // SAFETY: every handle is used between its `fc_stores_new` / `fc_vm_new` and its free; the lock
    // hooks are `extern "C"` functions that do not call this API.
    unsafe {
        let s = fc_stores_new();
        assert!(fc_global_update(s, 1, 1));
        assert!(fc_stores_set_lock(s, Some(count_lock), Some(noop)));
        assert_eq!(fc_global_get(s, 1), 1, "entries carried over");
        let before = LOCKS.load(Ordering::SeqCst);
        assert!(fc_global_update(s, 2, 2));
        let vm = fc_vm_new(s);
        assert!(!fc_stores_set_lock(s, None, None), "not while a VM uses the context");
        assert!(fc_local_update(vm, 3, 3));
        assert!(LOCKS.load(Ordering::SeqCst) >= before + 4, "update, the count, new_local and the local update locked");
        fc_vm_free(vm);
        assert!(!fc_stores_set_lock(s, Some(noop), None), "half a pair");
        assert!(fc_stores_set_lock(s, None, None), "removed once no VM uses it");
        assert_eq!(fc_global_get(s, 2), 2);
        // Many contexts may have hooks at once: there is no table of slots.
        let others: Vec<*mut fc_stores> = (0..20)
            .map(|_| {
                let o = fc_stores_new();
                assert!(fc_stores_set_lock(o, Some(noop), Some(noop)));
                o
            })
            .collect();
        for o in others {
            fc_stores_free(o);
        }
        fc_stores_free(s);
    }
}

#[test]
fn error_strings_match_the_runtime() {
    for code in ErrorCode::ALL {
        assert_eq!(text(fc_error_string(code.code())), code.text());
    }
    assert_eq!(text(fc_error_string(-42)), "ERROR -42");
    assert_eq!(text(fc_error_string(i32::MIN)), "ERROR -2147483648");
    assert_eq!(text(fc_error_string(7)), "ERROR 7");
    assert_eq!(text(fc_runtime_version()), env!("CARGO_PKG_VERSION"));
    assert_eq!(fc_store_capacity(), STORE_NUM_VALUES);
}

/// `#define NAME VALUE` lines of the header.
fn defines() -> Vec<(String, String)> {
    HEADER
        .lines()
        .filter_map(|l| l.trim().strip_prefix("#define "))
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.to_owned(), it.next()?.trim_matches(|c| c == '(' || c == ')').to_owned()))
        })
        .collect()
}

#[test]
fn header_constants_match_the_runtime() {
    let defines = defines();
    let value = |name: &str| -> i64 {
        let v = &defines.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name} missing from fc_runtime.h")).1;
        v.parse().unwrap_or_else(|_| panic!("{name} = {v}"))
    };
    for code in ErrorCode::ALL {
        assert_eq!(value(&format!("FC_{}", code.text())), code.code() as i64, "{code}");
    }
    let codes = defines.iter().filter(|(n, _)| {
        n.starts_with("FC_") && !n.starts_with("FC_PROFILE_") && !n.starts_with("FC_ENGINE_") && !n.contains("STACK")
            && !n.contains("RUNTIME_H") && !n.contains("LOCKED") && !n.starts_with("FC_ABI") && !n.starts_with("FC_SLOT")
            && !n.starts_with("FC_FLAG_")
    });
    assert_eq!(codes.count(), ErrorCode::ALL.len(), "no extra error codes");
    assert_eq!(value("FC_DEFAULT_STACK_SIZE"), fc_runtime::vm::DEFAULT_STACK_SIZE as i64);
    assert_eq!(value("FC_PROFILE_SMING"), FC_PROFILE_SMING as i64);
    assert_eq!(value("FC_PROFILE_RIOT"), FC_PROFILE_RIOT as i64);
    assert_eq!(value("FC_PROFILE_CONFORMANCE"), FC_PROFILE_CONFORMANCE as i64);
    assert_eq!(value("FC_ENGINE_REFERENCE"), FC_ENGINE_REFERENCE as i64);
    assert_eq!(value("FC_ENGINE_INTERP"), FC_ENGINE_INTERP as i64);
    let flag = defines.iter().find(|(n, _)| n == "FC_FLAG_BUDGET_OFF").map(|(_, v)| v.clone());
    assert_eq!(flag, Some(format!("{}u", fc_runtime::native::FLAG_BUDGET_OFF)));
}

#[test]
fn word_copies_take_exactly_the_bytes_asked_for() {
    // 4-aligned, with a word of room on each side: every covering word is in bounds.
    let words: Vec<u32> = (0..8u32).map(|i| 0x0302_0100 + i * 0x0404_0404).collect();
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    for start in 4..8 {
        for len in 0..12 {
            let mut out = Vec::new();
            // SAFETY: the words covering [start, start + len) lie inside `words`.
            unsafe { copy_words(words.as_ptr().cast::<u8>().add(start), len, &mut out) };
            assert_eq!(out, bytes[start..start + len], "start {start}, len {len}");
        }
    }
}

#[test]
fn a_container_in_word_only_memory_loads_from_its_copy() {
    let bin = increment();
    // One byte in: the container starts unaligned, as in flash it may.
    let mut padded = vec![0u32; bin.len() / 4 + 3];
    // SAFETY: `padded` has room for the container one byte in, and its words cover it.
    unsafe {
        let at = padded.as_mut_ptr().cast::<u8>().add(1);
        ptr::copy_nonoverlapping(bin.as_ptr(), at, bin.len());
        let s = stores();
        let vm = fc_vm_new(s.0);
        assert!(fc_vm_load_flash(vm, at, bin.len(), 512), "{}", fc_vm_last_error(vm));
        // The VM runs its copy: the caller's bytes may change.
        ptr::write_bytes(at, 0xff, bin.len());
        let mut ctx = 41u64.to_le_bytes();
        assert_eq!(fc_vm_execute(vm, ctx.as_mut_ptr().cast(), 8), 42);
        assert!(!fc_vm_load_flash(vm, ptr::null(), 8, 512));
        fc_vm_free(vm);
    }
}
