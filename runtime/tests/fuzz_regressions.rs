//! Inputs the cargo-fuzz targets (`fuzz/`) found, minimised (`cargo fuzz tmin`), kept as
//! regression tests of the normal test suite. Each test names its target and input form.

use fc_runtime::error::ErrorCode;
use fc_runtime::helpers::{Builtin, Profile};
use fc_runtime::stores::StoreContext;
use fc_runtime::verifier::{verify, Config, VerifyError, DEFAULT_MAX_CALL_DEPTH};
use fc_runtime::vm::Parts;
use fc_runtime::VirtualMachine;

fn conformance_arity(id: u32) -> Option<u8> {
    Profile::Conformance.builtin(id).map(Builtin::arity)
}

fn verify_with_entries(text: &[u8], entries: &[usize]) -> Result<(), Vec<VerifyError>> {
    let config = Config { max_call_depth: DEFAULT_MAX_CALL_DEPTH, helper_arity: &conformance_arity };
    verify(text, entries, &config).map(|_| ()).map_err(|r| r.errors().to_vec())
}

/// Loads `text` with host-callable functions at `slots` the way a host passes them to
/// `VirtualMachine::load_parts`; returns whether the load succeeded and the error code.
fn load_with_entries(text: &[u8], slots: &[usize]) -> (bool, i32) {
    let stores = StoreContext::new();
    let mut vm = VirtualMachine::new(&stores);
    vm.environment().set_profile(Profile::Conformance);
    let names = ["main", "f", "g"];
    let functions = slots.iter().enumerate().map(|(i, &s)| (names[i], s)).collect();
    let parts = Parts { text, data: &[], bss_len: 0, rodata: &[], functions };
    let loaded = vm.load_parts(parts, 512);
    (loaded, vm.last_error())
}

/// Target `verify`, input `text ++ ctx ++ [ctx length]`: the first context byte names a
/// second entry point. Entry slot 4 of a one-slot program (`ldxb %r0, [%r0]`) made
/// `verify` index past its per-slot tables and panic; `load_parts` passes a host's slots
/// straight to it. Now the entry is rejected (ILLEGAL_CALL, at the entry's slot).
#[test]
fn verify_entry_slot_past_the_text() {
    let input: [u8; 10] = [0x71, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x01];
    let (text, slot) = (&input[..8], input[8] as usize);
    let errors = verify_with_entries(text, &[0, slot]).expect_err("an entry past the text was accepted");
    assert_eq!((errors[0].pc, errors[0].kind.code()), (slot, ErrorCode::IllegalCall), "{errors:?}");
    assert_eq!(load_with_entries(text, &[0, slot]), (false, ErrorCode::IllegalCall.code()));
    // The only entry past the text (no slot-0 function before it), and just past the end.
    assert!(verify_with_entries(text, &[slot]).is_err());
    assert!(verify_with_entries(text, &[1]).is_err());
    assert!(verify_with_entries(text, &[usize::MAX]).is_err());
    // With slot 0 alone the program is rejected for itself (it falls off its end), not for an entry.
    let errors = verify_with_entries(text, &[0]).unwrap_err();
    assert!(errors.iter().all(|e| e.kind.code() != ErrorCode::IllegalCall), "{errors:?}");
}

/// The same rule inside the text: an entry on the second slot of an LDDW is not an
/// instruction start.
#[test]
fn verify_entry_slot_inside_an_lddw() {
    // lddw %r0, 1; exit
    let text = [0x18, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(verify_with_entries(&text, &[0]), Ok(()));
    assert_eq!(verify_with_entries(&text, &[2]), Ok(()), "slot 2 (exit) is a function start");
    let errors = verify_with_entries(&text, &[0, 1]).expect_err("an entry inside an lddw was accepted");
    assert_eq!((errors[0].pc, errors[0].kind.code()), (1, ErrorCode::IllegalCall), "{errors:?}");
    assert_eq!(load_with_entries(&text, &[0, 1]), (false, ErrorCode::IllegalCall.code()));
}

/// Found by the `verify` target as a timeout: eight levels of functions, each calling
/// the next 50 times with no jump anywhere, pass every per-instruction rule yet run
/// about 50^8 calls, since the budget counts taken jumps only. The verifier now bounds
/// the straight-line work of a call tree.
#[test]
fn verify_rejects_a_call_tree_that_fans_out_without_jumps() {
    use fc_runtime::insn::{AluOp, Op, Operand, Reg, Width};
    use fc_runtime::verifier::{VerifyErrorKind, MAX_STRAIGHT_LINE_WORK};
    let calls_per_level = 50usize;
    let levels = 8usize;
    let mut ops = Vec::new();
    for _ in 0..levels {
        for i in 0..calls_per_level {
            // The next level starts after this level's remaining calls and its exit.
            ops.push(Op::CallLocal { imm: (calls_per_level - i) as i32 });
        }
        ops.push(Op::Exit);
    }
    ops.push(Op::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg::R0, src: Operand::Imm(0) });
    ops.push(Op::Exit);
    let text: Vec<u8> = ops.iter().flat_map(|op| op.encode().as_bytes().to_vec()).collect();
    let errors = verify_with_entries(&text, &[0]).expect_err("an exponential call tree was accepted");
    assert!(
        matches!(errors[0].kind, VerifyErrorKind::CallTreeTooLarge { work } if work > MAX_STRAIGHT_LINE_WORK),
        "{errors:?}"
    );
    assert_eq!(errors[0].kind.code(), ErrorCode::IllegalCall);
    // Two levels of the same shape are fine: 50 * 51 + 2 instructions.
    let small: Vec<u8> = [
        (0..calls_per_level).map(|i| Op::CallLocal { imm: (calls_per_level - i) as i32 }).collect::<Vec<_>>(),
        vec![Op::Exit, Op::Alu { width: Width::W64, op: AluOp::Mov, dst: Reg::R0, src: Operand::Imm(0) }, Op::Exit],
    ]
    .concat()
    .iter()
    .flat_map(|op| op.encode().as_bytes().to_vec())
    .collect();
    assert_eq!(verify_with_entries(&small, &[0]), Ok(()));
}
