//! One test per verifier rule: each program breaks exactly one rule and the error names it and its slot.

use fc_runtime::error::ErrorCode;
use fc_runtime::helpers::{Builtin, Profile};
use fc_runtime::insn::{
    AluOp, ByteOrder, Cond, DecodeErrorKind, Field, Op, Operand, RawSlot, Reg, Size, SwapWidth, SxSize, Width,
};
use fc_runtime::verifier::{verify, Config, VerifyError, VerifyErrorKind, MAX_SLOTS};

fn r(n: u8) -> Reg {
    Reg::new(n).unwrap()
}

fn mov(dst: u8, imm: i32) -> Op {
    Op::Alu { width: Width::W64, op: AluOp::Mov, dst: r(dst), src: Operand::Imm(imm) }
}

fn text(ops: &[Op]) -> Vec<u8> {
    ops.iter().flat_map(|op| op.encode().as_bytes().to_vec()).collect()
}

fn raw(slots: &[RawSlot]) -> Vec<u8> {
    slots.iter().flat_map(|s| s.to_bytes()).collect()
}

fn sming_arity(id: u32) -> Option<u8> {
    Profile::Sming.builtin(id).map(Builtin::arity)
}

fn check_with(bytes: &[u8], entries: &[usize], max_call_depth: usize) -> Result<(), Vec<VerifyError>> {
    let config = Config { max_call_depth, helper_arity: &sming_arity };
    verify(bytes, entries, &config).map(|_| ()).map_err(|r| r.errors().to_vec())
}

/// The program is rejected, and the first error is `kind` at `pc`.
fn rejects(bytes: &[u8], pc: usize, kind: VerifyErrorKind) {
    let errors = check_with(bytes, &[], 8).expect_err("the verifier accepted a bad program");
    assert_eq!(errors[0], VerifyError { pc, kind }, "all errors: {errors:?}");
}

const EXIT: Op = Op::Exit;

#[test]
fn a_good_program_passes() {
    assert_eq!(check_with(&text(&[mov(0, 1), EXIT]), &[], 8), Ok(()));
}

#[test]
fn read_of_an_undefined_register() {
    // After a local call r1..r5 are undefined.
    let prog = text(&[Op::CallLocal { imm: 2 }, Op::Alu { width: Width::W64, op: AluOp::Mov, dst: r(0), src: Operand::Reg(r(3)) }, EXIT, mov(0, 0), EXIT]);
    rejects(&prog, 1, VerifyErrorKind::UndefinedRegister(r(3)));
    // At a callee's entry r6..r9 and r0 are undefined.
    let prog = text(&[Op::CallLocal { imm: 1 }, EXIT, Op::Alu { width: Width::W64, op: AluOp::Add, dst: r(6), src: Operand::Imm(1) }, EXIT]);
    rejects(&prog, 2, VerifyErrorKind::UndefinedRegister(r(6)));
    let prog = text(&[Op::CallLocal { imm: 1 }, EXIT, EXIT]);
    rejects(&prog, 2, VerifyErrorKind::UndefinedRegister(r(0)));
}

#[test]
fn unknown_opcode() {
    rejects(&raw(&[RawSlot { opcode: 0x06 | 0xf0, dst: 0, src: 0, off: 0, imm: 0 }]), 0, VerifyErrorKind::Decode(DecodeErrorKind::UnknownOpcode(0xf6)));
    // callx (0x8d) is not RFC 9669.
    let callx = raw(&[RawSlot { opcode: 0x8d, dst: 1, src: 0, off: 0, imm: 0 }, RawSlot::from_bytes(EXIT.encode().as_bytes().try_into().unwrap())]);
    rejects(&callx, 0, VerifyErrorKind::Decode(DecodeErrorKind::UnknownOpcode(0x8d)));
}

#[test]
fn reserved_field_not_zero_names_the_field() {
    let mut slot = RawSlot::from_bytes(mov(0, 1).encode().as_bytes().try_into().unwrap());
    slot.off = 3;
    let prog = [raw(&[slot]), text(&[EXIT])].concat();
    rejects(&prog, 0, VerifyErrorKind::Decode(DecodeErrorKind::ReservedNotZero { field: Field::Offset, value: 3 }));
}

#[test]
fn register_above_r10() {
    let prog = raw(&[RawSlot { opcode: 0xb7, dst: 11, src: 0, off: 0, imm: 0 }]);
    rejects(&prog, 0, VerifyErrorKind::Decode(DecodeErrorKind::BadRegister { field: Field::Dst, value: 11 }));
}

#[test]
fn write_to_r10() {
    rejects(&text(&[mov(10, 0), EXIT]), 0, VerifyErrorKind::WriteToR10);
}

#[test]
fn jump_outside_the_function() {
    rejects(&text(&[Op::Ja { off: 5 }, EXIT]), 0, VerifyErrorKind::JumpOutsideFunction { target: 6 });
    rejects(&text(&[Op::Ja { off: -2 }, EXIT]), 0, VerifyErrorKind::JumpOutsideFunction { target: -1 });
    // Into another function.
    let prog = text(&[Op::CallLocal { imm: 2 }, Op::Ja { off: 1 }, EXIT, mov(0, 0), EXIT]);
    rejects(&prog, 1, VerifyErrorKind::JumpOutsideFunction { target: 3 });
}

#[test]
fn jump_into_the_second_slot_of_an_lddw() {
    let prog = text(&[Op::Ja { off: 1 }, Op::Lddw { dst: r(0), imm: 1 }, EXIT]);
    rejects(&prog, 0, VerifyErrorKind::JumpIntoLddw { target: 2 });
}

#[test]
fn control_falls_off_the_end() {
    rejects(&text(&[mov(0, 1)]), 0, VerifyErrorKind::FallsOffEnd);
    let cond = Op::Jump { width: Width::W64, cond: Cond::Eq, dst: r(1), src: Operand::Imm(0), off: -2 };
    rejects(&text(&[mov(0, 1), cond]), 1, VerifyErrorKind::FallsOffEnd);
}

#[test]
fn helper_the_vm_does_not_provide() {
    let prog = text(&[Op::CallHelper { id: 0x55 }, EXIT]);
    rejects(&prog, 0, VerifyErrorKind::UnknownHelper(0x55));
    assert_eq!(VerifyErrorKind::UnknownHelper(0x55).code(), ErrorCode::IllegalCall);
}

#[test]
fn local_call_target_not_a_function_start() {
    rejects(&text(&[Op::CallLocal { imm: 7 }, EXIT]), 0, VerifyErrorKind::CallTargetNotFunction { target: 8 });
    let prog = text(&[Op::CallLocal { imm: 1 }, EXIT, Op::Lddw { dst: r(0), imm: 0 }, EXIT]);
    let into_lddw = text(&[Op::CallLocal { imm: 2 }, EXIT, Op::Lddw { dst: r(0), imm: 0 }, EXIT]);
    assert_eq!(check_with(&prog, &[], 8), Ok(()));
    rejects(&into_lddw, 0, VerifyErrorKind::CallTargetNotFunction { target: 3 });
}

#[test]
fn recursion() {
    rejects(&text(&[Op::CallLocal { imm: -1 }, EXIT]), 0, VerifyErrorKind::Recursion);
    // f -> g -> f
    let prog = text(&[Op::CallLocal { imm: 1 }, EXIT, Op::CallLocal { imm: -3 }, EXIT]);
    rejects(&prog, 2, VerifyErrorKind::Recursion);
}

#[test]
fn call_depth_over_the_bound() {
    // A chain of 4 nested calls: depth 4.
    let mut ops = Vec::new();
    for _ in 0..4 {
        ops.extend([Op::CallLocal { imm: 1 }, EXIT]);
    }
    ops.extend([mov(0, 0), EXIT]);
    let prog = text(&ops);
    assert_eq!(check_with(&prog, &[], 4), Ok(()));
    let errors = check_with(&prog, &[], 3).unwrap_err();
    assert_eq!(errors[0], VerifyError { pc: 0, kind: VerifyErrorKind::CallDepth { depth: 4, max: 3 } });
}

#[test]
fn end_width_not_16_32_64() {
    let prog = raw(&[RawSlot { opcode: 0xdc, dst: 0, src: 0, off: 0, imm: 24 }]);
    rejects(&prog, 0, VerifyErrorKind::Decode(DecodeErrorKind::BadEndWidth(24)));
    assert_eq!(check_with(&text(&[Op::End { order: ByteOrder::ToBe, dst: r(0), width: SwapWidth::W16 }, EXIT]), &[], 8), Ok(()));
}

#[test]
fn undefined_movsx_ldsx_sdiv_smod_forms() {
    let undefined = |field, value| VerifyErrorKind::Decode(DecodeErrorKind::UndefinedForm { field, value });
    // movsx32 from 32 bits.
    rejects(&raw(&[RawSlot { opcode: 0xbc, dst: 0, src: 1, off: 32, imm: 0 }]), 0, undefined(Field::Offset, 32));
    // sdiv with offset 2.
    rejects(&raw(&[RawSlot { opcode: 0x3f, dst: 0, src: 1, off: 2, imm: 0 }]), 0, undefined(Field::Offset, 2));
    // smod32 with offset 5.
    rejects(&raw(&[RawSlot { opcode: 0x94, dst: 0, src: 0, off: 5, imm: 3 }]), 0, undefined(Field::Offset, 5));
    // ldsx of 8 bytes does not exist.
    rejects(&raw(&[RawSlot { opcode: 0x99, dst: 0, src: 1, off: 0, imm: 0 }]), 0, VerifyErrorKind::Decode(DecodeErrorKind::UnknownOpcode(0x99)));
    let ok = text(&[
        Op::MovSx { width: Width::W64, dst: r(0), src: r(1), from: SxSize::W },
        Op::LoadSx { size: SxSize::B, dst: r(0), src: r(10), off: -1 },
        EXIT,
    ]);
    assert_eq!(check_with(&ok, &[], 8), Ok(()));
}

#[test]
fn incomplete_lddw() {
    let lddw = text(&[Op::Lddw { dst: r(0), imm: 5 }]);
    rejects(&lddw[..8], 0, VerifyErrorKind::Decode(DecodeErrorKind::IncompleteLddw));
}

#[test]
fn empty_program() {
    rejects(&[], 0, VerifyErrorKind::EmptyProgram);
}

#[test]
fn more_instructions_than_the_limit() {
    let mut ops = vec![mov(0, 0); MAX_SLOTS];
    ops.push(EXIT);
    rejects(&text(&ops), MAX_SLOTS, VerifyErrorKind::TooLarge { slots: MAX_SLOTS + 1 });
    let mut ops = vec![mov(0, 0); MAX_SLOTS - 1];
    ops.push(EXIT);
    assert_eq!(check_with(&text(&ops), &[], 8), Ok(()));
}

#[test]
fn a_register_undefined_on_a_loops_way_back() {
    // r1 is defined on the way in, not after the call at the loop's end: the read at slot 1
    // is found only once the jump back to slot 0 is followed.
    let body = |back: Op| {
        text(&[
            mov(0, 0),
            Op::Alu { width: Width::W64, op: AluOp::Mov, dst: r(2), src: Operand::Reg(r(1)) },
            Op::CallLocal { imm: 2 },
            back,
            EXIT,
            mov(0, 1),
            EXIT,
        ])
    };
    rejects(&body(Op::Ja { off: -4 }), 1, VerifyErrorKind::UndefinedRegister(r(1)));
    // Back to after the read: nothing reads what the call left undefined.
    assert_eq!(check_with(&body(Op::Ja { off: -2 }), &[], 8), Ok(()));
}

#[test]
fn every_problem_is_reported() {
    let prog = text(&[mov(10, 0), Op::CallHelper { id: 0x77 }, Op::Ja { off: 9 }, EXIT]);
    let errors = check_with(&prog, &[], 8).unwrap_err();
    let pcs: Vec<usize> = errors.iter().map(|e| e.pc).collect();
    assert_eq!(pcs, [0, 1, 2], "{errors:?}");
}

#[test]
fn helper_arguments_must_be_defined() {
    // memcpy reads r1..r3; after a local call they are undefined.
    let prog = text(&[Op::CallLocal { imm: 2 }, Op::CallHelper { id: 0x02 }, EXIT, mov(0, 0), EXIT]);
    rejects(&prog, 1, VerifyErrorKind::UndefinedRegister(r(1)));
    // now_ms reads nothing.
    let prog = text(&[Op::CallLocal { imm: 2 }, Op::CallHelper { id: 0x20 }, EXIT, mov(0, 0), EXIT]);
    assert_eq!(check_with(&prog, &[], 8), Ok(()));
}

#[test]
fn stores_and_loads_verify() {
    let prog = text(&[
        Op::Store { size: Size::DW, dst: r(10), off: -8, src: Operand::Imm(3) },
        Op::Load { size: Size::DW, dst: r(0), src: r(10), off: -8 },
        EXIT,
    ]);
    assert_eq!(check_with(&prog, &[], 8), Ok(()));
}
