//! The runtime's trust boundary (issue 13): what a host hands a container, what
//! an engine trusts, what a load allocates and what a helper may do to the map.

use fc_runtime::stores::StoreContext;
use fc_runtime::vm::Parts;
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
