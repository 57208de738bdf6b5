//! `fc_vm_set_native` from Rust: NULL handling, the ABI version and name checks at load,
//! and runs through "translated" entry points written here in Rust with the fc_abi.h
//! signature (the real translated objects are linked from C in host_glue.rs).

use std::ffi::{c_char, c_void, CStr};
use std::ptr;

use fc_runtime::error::ErrorCode;
use fc_runtime::format::{self, Image, Layout};
use fc_runtime::memory::CONTEXT_START;
use fc_runtime::native::{Env, ABI_VERSION};
use fc_runtime_capi::*;

const CONTEXT_SLOT: usize = 4;

fn insn(op: u8, dst: u8, imm: i32) -> [u8; 8] {
    let mut b = [op, dst, 0, 0, 0, 0, 0, 0];
    b[4..8].copy_from_slice(&imm.to_le_bytes());
    b
}

/// Two functions: `main` (r0 = 7) and `other` (r0 = 9); the interpreters give those.
fn container() -> Vec<u8> {
    let text = [insn(0xb7, 0, 7), insn(0x95, 0, 0), insn(0xb7, 0, 9), insn(0x95, 0, 0)].concat();
    let functions = vec![("main".to_string(), 0), ("other".to_string(), 16)];
    format::write(&Image { text, functions, ..Image::default() }, Layout::Seed).unwrap()
}

/// `main`: r0 = first context byte + 1000, after checking r1/r2 and the context region.
unsafe extern "C" fn native_main(env: *mut Env, r1: u64, r2: u64) -> u64 {
    let env = unsafe { &mut *env };
    let ctx = env.regions[CONTEXT_SLOT];
    if r1 != CONTEXT_START || r2 != u64::from(ctx.len) || ctx.len == 0 {
        env.error = ErrorCode::IllegalMem.code();
        return 0;
    }
    // Mapped writable for the run, `len` bytes.
    unsafe {
        *ctx.base += 1;
        u64::from(*ctx.base) + 1000
    }
}

/// `other`: calls application helper 0x100 with (40, 2) through the environment.
unsafe extern "C" fn native_other(env: *mut Env, _r1: u64, _r2: u64) -> u64 {
    let helper = unsafe { (*env).helper };
    unsafe { helper(env, 0x100, 40, 2, 0, 0, 0) }
}

/// Stops as translated code does on a fault.
unsafe extern "C" fn native_fault(env: *mut Env, _r1: u64, _r2: u64) -> u64 {
    unsafe {
        (*env).error = ErrorCode::IllegalDiv.code();
        (*env).error_pc = 3;
    }
    0
}

unsafe extern "C" fn add(_user: *mut c_void, _mem: *mut fc_mem, args: *const u64) -> u64 {
    unsafe { *args + *args.add(1) }
}

fn entry(name: &CStr, f: fc_runtime::native::EntryFn) -> fc_native_fn {
    fc_native_fn { name: name.as_ptr(), entry: Some(f) }
}

fn table() -> [fc_native_fn; 2] {
    [entry(c"main", native_main), entry(c"other", native_other)]
}

/// A VM on its own store context, freed on drop.
struct Vm {
    stores: *mut fc_stores,
    vm: *mut fc_vm,
}

impl Vm {
    fn new() -> Vm {
        let stores = fc_stores_new();
        let vm = unsafe { fc_vm_new(stores) };
        assert!(!vm.is_null());
        Vm { stores, vm }
    }
    fn load(&self, bytes: &[u8]) -> bool {
        unsafe { fc_vm_load_copy(self.vm, bytes.as_ptr(), bytes.len(), 512) }
    }
    fn load_error(&self) -> String {
        let mut buf = [0 as c_char; 256];
        let n = unsafe { fc_vm_load_error_text(self.vm, buf.as_mut_ptr(), buf.len()) };
        let text = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap().to_owned();
        assert_eq!(n, text.len(), "fits the buffer");
        text
    }
    fn run(&self, name: &CStr, ctx: &mut [u8]) -> i64 {
        unsafe { fc_vm_execute_function(self.vm, name.as_ptr(), ctx.as_mut_ptr().cast(), ctx.len()) }
    }
    fn error(&self) -> i32 {
        unsafe { fc_vm_last_error(self.vm) }
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        unsafe {
            fc_vm_free(self.vm);
            fc_stores_free(self.stores);
        }
    }
}

#[test]
fn null_arguments_are_refused() {
    let vm = Vm::new();
    let fns = table();
    unsafe {
        assert!(!fc_vm_set_native(ptr::null_mut(), ABI_VERSION, fns.as_ptr(), fns.len()));
        assert!(!fc_vm_set_native(vm.vm, ABI_VERSION, ptr::null(), 0));
        assert!(!fc_vm_set_native(vm.vm, ABI_VERSION, ptr::null(), 2));
        let no_name = [fc_native_fn { name: ptr::null(), entry: Some(native_main) }];
        assert!(!fc_vm_set_native(vm.vm, ABI_VERSION, no_name.as_ptr(), 1));
        let no_entry = [fc_native_fn { name: c"main".as_ptr(), entry: None }];
        assert!(!fc_vm_set_native(vm.vm, ABI_VERSION, no_entry.as_ptr(), 1));
        let bad_utf8 = [fc_native_fn { name: c"\xff".as_ptr(), entry: Some(native_main) }];
        assert!(!fc_vm_set_native(vm.vm, ABI_VERSION, bad_utf8.as_ptr(), 1));
    }
    // Refused settings leave the VM on its interpreter.
    assert!(vm.load(&container()));
    assert_eq!(vm.run(c"main", &mut [0]), 7);
}

#[test]
fn a_wrong_abi_version_fails_the_load() {
    let vm = Vm::new();
    let fns = table();
    assert!(vm.load(&container()));
    assert!(unsafe { fc_vm_set_native(vm.vm, ABI_VERSION + 1, fns.as_ptr(), fns.len()) });
    assert!(!unsafe { fc_vm_is_loaded(vm.vm) }, "set_native unloads");
    assert!(!vm.load(&container()));
    assert_eq!(vm.error(), ErrorCode::IllegalInstruction.code());
    assert_eq!(unsafe { fc_vm_last_error_pc(vm.vm) }, 0);
    assert!(!unsafe { fc_vm_is_loaded(vm.vm) });
    let text = vm.load_error();
    assert!(text.contains(&format!("ABI version {}", ABI_VERSION + 1)) && text.contains(&format!("version {ABI_VERSION}")), "{text}");
    assert_eq!(vm.run(c"main", &mut [0]), ErrorCode::NoMemory.code() as i64);
}

#[test]
fn names_must_match_the_function_table() {
    let vm = Vm::new();
    let cases: [(&[fc_native_fn], &str); 3] = [
        (&[entry(c"main", native_main), entry(c"other", native_other), entry(c"nope", native_main)], "`nope` is not in the container's function table"),
        (&[entry(c"main", native_main)], "no native code for function `other`"),
        (&[entry(c"main", native_main), entry(c"other", native_other), entry(c"main", native_main)], "`main` is registered twice"),
    ];
    for (fns, why) in cases {
        assert!(unsafe { fc_vm_set_native(vm.vm, ABI_VERSION, fns.as_ptr(), fns.len()) });
        assert!(!vm.load(&container()));
        assert_eq!(vm.error(), ErrorCode::IllegalCall.code());
        let text = vm.load_error();
        assert!(text.contains(why), "{text:?} lacks {why:?}");
    }
    // A container that does not parse reports its format error as without native code.
    assert!(!vm.load(&[1, 2, 3]));
    assert_eq!(vm.error(), ErrorCode::IllegalLen.code());
    assert!(!vm.load_error().is_empty());
}

#[test]
fn runs_call_the_native_entry_points() {
    let vm = Vm::new();
    // Names in buffers freed right after the call: the VM keeps copies.
    let names = [std::ffi::CString::new("main").unwrap(), std::ffi::CString::new("other").unwrap()];
    let fns = [entry(&names[0], native_main), entry(&names[1], native_other)];
    unsafe {
        assert!(fc_vm_register_helper(vm.vm, 0x100, 2, Some(add), ptr::null_mut()));
        assert!(fc_vm_set_native(vm.vm, ABI_VERSION, fns.as_ptr(), fns.len()));
    }
    drop(names);
    assert!(vm.load(&container()), "{}", vm.load_error());
    assert_eq!(vm.load_error(), "");
    let mut ctx = [41u8, 0, 0];
    assert_eq!(vm.run(c"main", &mut ctx), 1042);
    assert_eq!(vm.error(), 0);
    assert_eq!(ctx[0], 42, "the context is the caller's memory");
    let r0 = unsafe { fc_vm_execute(vm.vm, ctx.as_mut_ptr().cast(), ctx.len()) };
    assert_eq!(r0, 1043, "fc_vm_execute runs the first function");
    assert_eq!(vm.run(c"other", &mut []), 42, "helpers are reached through env->helper");

    // A fault reported through the environment is the run's error.
    let faulty = [entry(c"main", native_fault), entry(c"other", native_other)];
    assert!(unsafe { fc_vm_set_native(vm.vm, ABI_VERSION, faulty.as_ptr(), faulty.len()) });
    assert!(vm.load(&container()));
    assert_eq!(vm.run(c"main", &mut []), ErrorCode::IllegalDiv.code() as i64);
    assert_eq!(vm.error(), ErrorCode::IllegalDiv.code());
    assert_eq!(unsafe { fc_vm_last_error_pc(vm.vm) }, 3);

    // Back to an interpreter: the container's own text runs again.
    assert!(unsafe { fc_vm_set_engine(vm.vm, FC_ENGINE_INTERP) });
    assert!(vm.load(&container()));
    assert_eq!(vm.run(c"main", &mut [0]), 7);
    assert_eq!(vm.run(c"other", &mut []), 9);
}
