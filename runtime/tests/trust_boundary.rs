//! The runtime's trust boundary (issue 13): what a host hands a container, what
//! an engine trusts, what a load allocates and what a helper may do to the map.

use fc_runtime::error::{ErrorCode, Trap};
use fc_runtime::format::{self, Container, Image, Layout, LayoutChoice, MAGIC};
use fc_runtime::helpers::{Builtin, ConformanceHelpers, Profile};
use fc_runtime::insn::Size;
use fc_runtime::interp::{fast, Engine, Interp, Invocation, Reference};
use fc_runtime::memory::{Access, HelperMemory, MemoryMap, MAX_REGION_LEN, SLOT_SIZE};
use fc_runtime::stores::StoreContext;
use fc_runtime::verifier::{self, Config, VerifiedProgram, DEFAULT_MAX_CALL_DEPTH};
use fc_runtime::vm::{Footprint, LoadError, Parts, Section};
use fc_runtime::VirtualMachine;

/// One instruction slot: opcode, dst, src, offset, immediate.
fn insn(op: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
    let [o0, o1] = off.to_le_bytes();
    let [i0, i1, i2, i3] = imm.to_le_bytes();
    [op, dst | (src << 4), o0, o1, i0, i1, i2, i3]
}

fn text(slots: &[[u8; 8]]) -> Vec<u8> {
    slots.concat()
}

const EXIT: [u8; 8] = [0x95, 0, 0, 0, 0, 0, 0, 0];

/// `mov r0, imm; exit`
fn returns(imm: i32) -> Vec<u8> {
    text(&[insn(0xb7, 0, 0, 0, imm), EXIT])
}

fn parts(text: &[u8]) -> Parts<'_> {
    Parts { text, data: &[], bss_len: 0, rodata: &[], functions: Vec::new() }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Ctx {
    value: u64,
    len: u32,
    flags: u32,
}

/// `execute_with` takes plain old data only (the refusals are compile_fail doc tests on
/// `VirtualMachine::execute_with`); a `Pod` struct goes in and comes back written.
#[test]
fn execute_with_a_pod_struct() {
    // r0 = ctx.value; ctx.len = r2 (the context length); exit
    let text = text(&[insn(0x79, 0, 1, 0, 0), insn(0x63, 1, 2, 8, 0), EXIT]);
    let stores = StoreContext::new();
    let mut vm = VirtualMachine::new(&stores);
    assert!(vm.load_parts(parts(&text), 512), "{:?}", vm.load_error());
    let mut ctx = Ctx { value: 0x1234_5678_9abc, len: 0, flags: 7 };
    assert_eq!(vm.execute_with(&mut ctx), 0x1234_5678_9abc);
    assert_eq!(vm.last_error(), 0);
    assert_eq!(ctx, Ctx { value: 0x1234_5678_9abc, len: 16, flags: 7 });
}

fn verified(text: &[u8]) -> VerifiedProgram<'_> {
    let arity = |id| Profile::Conformance.builtin(id).map(Builtin::arity);
    let config = Config { max_call_depth: DEFAULT_MAX_CALL_DEPTH, helper_arity: &arity };
    verifier::verify(text, &[], &config).expect("verifies")
}

fn invocation() -> Invocation {
    Invocation { function: 0, r1: 0, r2: 0, budget: None, frame_size: 512 }
}

const REFUSED: Trap = Trap { code: ErrorCode::IllegalInstruction, pc: 0 };

/// Code the optimized interpreter compiled for program A, run with program B, is
/// refused, never run: before, `fast::run` took any `&[Compiled]` and indexed it
/// unchecked with B's slots (a shorter A read out of bounds; a same-size A ran A).
#[test]
fn fast_code_of_another_program_is_refused() {
    let a = returns(1);
    // B: longer than A, so A's code has fewer slots than B.
    let b = text(&[insn(0xb7, 0, 0, 0, 2), insn(0x07, 0, 0, 0, 1), EXIT]);
    // C: as long as A, other instructions.
    let c = returns(3);
    let (a, b, c) = (verified(&a), verified(&b), verified(&c));
    let mut memory = MemoryMap::default();
    let mut helpers = ConformanceHelpers;
    let code = fast::compile(&a, vec![fast::Compiled::TAIL; a.slot_count()]).unwrap();
    assert_eq!((code.slots(), code.program()), (2, a.id()));
    assert_eq!(fast::run(&a, &code, &invocation(), &mut memory, &mut helpers, &mut fast::Workspace::for_program(&a).unwrap()), Ok(1));
    assert_eq!(fast::run(&b, &code, &invocation(), &mut memory, &mut helpers, &mut fast::Workspace::for_program(&a).unwrap()), Err(REFUSED));
    assert_eq!(fast::run(&c, &code, &invocation(), &mut memory, &mut helpers, &mut fast::Workspace::for_program(&a).unwrap()), Err(REFUSED));
    // An invocation of a function the program does not have is refused as well.
    let bad = Invocation { function: 5, ..invocation() };
    assert_eq!(fast::run(&a, &code, &bad, &mut memory, &mut helpers, &mut fast::Workspace::for_program(&a).unwrap()), Err(REFUSED));

    // The same through the engine interface the VM uses.
    let mut engine = Interp::default();
    assert_eq!(engine.run(&a, &invocation(), &mut memory, &mut helpers), Err(REFUSED), "nothing prepared");
    engine.prepare(&a).unwrap();
    assert_eq!(engine.run(&a, &invocation(), &mut memory, &mut helpers), Ok(1));
    assert_eq!(engine.run(&b, &invocation(), &mut memory, &mut helpers), Err(REFUSED));
    assert_eq!(engine.run(&c, &invocation(), &mut memory, &mut helpers), Err(REFUSED));
    engine.prepare(&b).unwrap();
    assert_eq!(engine.run(&b, &invocation(), &mut memory, &mut helpers), Ok(3));
    assert_eq!(engine.run(&a, &invocation(), &mut memory, &mut helpers), Err(REFUSED));
}

/// Two programs verified from the same text bytes are one program to the compiled code.
#[test]
fn fast_code_runs_with_any_program_of_its_text() {
    let t = returns(4);
    let (first, second) = (verified(&t), verified(&t));
    let mut slots = [fast::Compiled::TAIL; 4];
    let code = fast::compile(&first, &mut slots[..]).unwrap();
    let mut memory = MemoryMap::default();
    assert_eq!(fast::run(&second, &code, &invocation(), &mut memory, &mut ConformanceHelpers, &mut fast::Workspace::for_program(&second).unwrap()), Ok(4));
    // Too small a buffer is NO_MEMORY, not a panic.
    let mut small = [fast::Compiled::TAIL; 1];
    assert_eq!(fast::compile(&first, &mut small[..]).err(), Some(ErrorCode::NoMemory));
}

/// Slots before the first function are only decoded by the verifier, so their jumps
/// may point anywhere: `compile` makes them faults (the code never leaves itself)
/// rather than refusing the program.
#[test]
fn fast_code_of_a_program_with_dead_slots() {
    // 0: ja +1000 (dead, outside the text); 1: mov r0, 5; 2: exit. Entry: slot 1.
    let t = text(&[insn(0x05, 0, 0, 1000, 0), insn(0xb7, 0, 0, 0, 5), EXIT]);
    let arity = |_| None;
    let config = Config { max_call_depth: DEFAULT_MAX_CALL_DEPTH, helper_arity: &arity };
    let program = verifier::verify(&t, &[1], &config).expect("slot 0 is not in a function");
    let code = fast::compile(&program, vec![fast::Compiled::TAIL; 3]).unwrap();
    let mut memory = MemoryMap::default();
    assert_eq!(fast::run(&program, &code, &invocation(), &mut memory, &mut ConformanceHelpers, &mut fast::Workspace::for_program(&program).unwrap()), Ok(5));
}

/// A sming32 container (bss in the header, not in the file) with one function `main`.
fn sming32(text: &[u8], bss_len: u32) -> Vec<u8> {
    let image = Image { text: text.to_vec(), bss_len, functions: vec![("main".to_string(), 0)], ..Image::default() };
    format::write(&image, Layout::Sming32).unwrap()
}

/// A seed-layout container whose data and rodata are `data_len` and `rodata_len` zero
/// bytes (allocated zeroed, so untouched pages cost nothing), no function table.
fn seed(text: &[u8], data_len: usize, rodata_len: usize) -> Vec<u8> {
    let header = [MAGIC, 0, 0, data_len as u32, rodata_len as u32, text.len() as u32, 0];
    let mut bytes = vec![0u8; 28 + data_len + rodata_len + text.len()];
    for (i, w) in header.iter().enumerate() {
        bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    bytes[28 + data_len + rodata_len..].copy_from_slice(text);
    bytes
}

/// Loads `container` and returns the load error, checking the VM agrees with itself:
/// `check` gives the same error, the code is the error's, nothing is loaded.
fn load_error(container: &[u8], stack_size: usize) -> LoadError {
    let stores = StoreContext::new();
    let mut vm = VirtualMachine::new(&stores);
    let checked = vm.check(container, stack_size).expect_err("check accepted it");
    assert!(!vm.load(container, stack_size), "loaded");
    let e = vm.load_error().cloned().expect("a load error");
    assert_eq!(e, checked);
    assert_eq!(vm.last_error(), e.code().code());
    assert!(!vm.is_loaded());
    e
}

fn too_large(section: Section, bytes: u128) -> LoadError {
    LoadError::TooLarge { section, bytes }
}

/// Before, a 78-byte container declaring `bss_len = 0xF000_0000` aborted the process
/// (memory allocation of 4026531840 bytes failed), and 0xE000_0000 passed `verify`.
#[test]
fn huge_bss_is_a_load_error_sming32() {
    let t = returns(0);
    for bss in [0xF000_0000u32, 0xE000_0000, 0x1000_0000] {
        let c = sming32(&t, bss);
        let e = load_error(&c, 512);
        assert_eq!(e, too_large(Section::Data, bss as u128));
        assert_eq!(e.code(), ErrorCode::IllegalLen);
        assert!(e.to_string().contains("data + bss needs"), "{e}");
    }
    // One byte under the slot loads (the bss is allocated).
    let stores = StoreContext::new();
    let vm = VirtualMachine::new(&stores);
    let c = sming32(&t, MAX_REGION_LEN as u32 & !7);
    assert_eq!(vm.check(&c, 512).map(|f| f.data), Ok(MAX_REGION_LEN as usize & !7));
}

/// The seed layout stores bss as zeros inside data: data (or rodata) of a whole slot
/// is refused before anything is copied; before, it loaded and failed at run time.
#[test]
fn huge_data_or_rodata_is_a_load_error_seed() {
    let t = returns(0);
    let slot = SLOT_SIZE as usize;
    let c = seed(&t, slot, 0);
    assert_eq!(Container::parse(&c, LayoutChoice::Auto).map(|c| c.layout).ok(), Some(Layout::Seed));
    assert_eq!(load_error(&c, 512), too_large(Section::Data, slot as u128));
    drop(c);
    let c = seed(&t, 0, slot);
    assert_eq!(load_error(&c, 512), too_large(Section::Rodata, slot as u128));
}

/// `fc-aot run --stack N` with N = 2^64 - 8 panicked (capacity overflow), 2^36 aborted,
/// 2^34 ran on for 20 s, and 2^28 (the slot size) loaded and failed at run time.
#[test]
fn huge_stack_sizes_are_load_errors() {
    let c = sming32(&returns(0), 0);
    for stack in [usize::MAX - 7, 1 << 36, 1 << 34, SLOT_SIZE as usize] {
        let stack_section = Section::Stack { frame_size: stack, frames: 1 };
        assert_eq!(load_error(&c, stack), too_large(stack_section, stack as u128), "stack {stack}");
    }
    // Not a multiple of 8 / zero: as before.
    assert_eq!(load_error(&c, usize::MAX), LoadError::StackSize(usize::MAX));
    assert_eq!(load_error(&c, 0), LoadError::StackSize(0));
    // The largest stack that fits the slot passes the check.
    let stores = StoreContext::new();
    let vm = VirtualMachine::new(&stores);
    let fits = SLOT_SIZE as usize - 8;
    assert_eq!(vm.check(&c, fits), Ok(Footprint { data: 0, stack: fits, frames: 1 }));
}

/// The whole reserved stack is stack size x (depth + 1): the product can overflow, and
/// frames that each fit can add up to more than the slot.
#[test]
fn stack_times_depth_is_checked() {
    // 0: call 2; 1: exit; 2: mov r0, 1; 3: exit. Depth 1: two frames.
    let t = text(&[insn(0x85, 0, 1, 0, 1), EXIT, insn(0xb7, 0, 0, 0, 1), EXIT]);
    let c = sming32(&t, 0);
    let frames = |frame_size| Section::Stack { frame_size, frames: 2 };
    let huge = (usize::MAX / 2 + 1) & !7;
    assert_eq!(load_error(&c, huge), too_large(frames(huge), huge as u128 * 2), "overflow of stack x 2");
    let half = SLOT_SIZE as usize / 2;
    assert_eq!(load_error(&c, half), too_large(frames(half), SLOT_SIZE as u128), "one byte over the slot");
    let stores = StoreContext::new();
    let mut vm = VirtualMachine::new(&stores);
    assert_eq!(vm.check(&c, half - 8).map(|f| f.stack), Ok(SLOT_SIZE as usize - 16));
    assert!(vm.load(&c, 4096), "{:?}", vm.load_error());
    assert_eq!(vm.execute(&mut []), 1);
}

/// Helpers get a `HelperMemory`, a view that reads and writes the run's memory on
/// every engine; it has no mapping methods (compile_fail doc tests on `HelperMemory`).
#[test]
fn helpers_reach_memory_through_a_view() {
    // r1 = ctx (the VM's), call 0x100, exit
    let t = text(&[insn(0x85, 0, 0, 0, 0x100), EXIT]);
    let engines: [Box<dyn Engine>; 2] = [Box::new(Reference), Box::new(Interp::default())];
    for engine in engines {
        let stores = StoreContext::new();
        let mut vm = VirtualMachine::new(&stores);
        vm.set_engine(engine);
        let helper = |args: [u64; 5], mem: &mut HelperMemory| {
            let len = mem.read(args[0], 8).map_or(0, |b| b.len() as u64);
            if let Some(bytes) = mem.write(args[0] + 8, 4) {
                bytes.copy_from_slice(b"view");
            }
            assert!(mem.check(args[0], 17, Access::Read).is_none(), "past the context");
            len + mem.load(args[0], Size::B).unwrap_or(0)
        };
        assert!(vm.environment().register(0x100, 1, helper));
        assert!(vm.load_parts(parts(&t), 512), "{:?}", vm.load_error());
        let mut ctx = [0u8; 16];
        ctx[0] = 5;
        assert_eq!(vm.execute(&mut ctx), 13, "{}", vm.engine_name());
        assert_eq!(&ctx[8..12], b"view");
    }
}
