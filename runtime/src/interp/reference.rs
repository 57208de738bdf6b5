//! The reference interpreter: spec §2 written out plainly, one instruction at a time.
//! Every other engine is tested against it, so clarity wins over speed here.

use heapless::Vec as FixedVec;

use super::Invocation;
use crate::error::{ErrorCode, Trap};
use crate::helpers::{HelperOutcome, Helpers};
use crate::insn::{AluOp, AtomicOp, ByteOrder, Cond, Operand, Size, SwapWidth, Width};
use crate::memory::{Access, MemoryMap};
use crate::verifier::{Instr, Target, VerifiedProgram, CALL_DEPTH_LIMIT};

/// What a local call saves: where to return (an instruction index) and the caller's preserved registers.
struct Frame {
    return_to: usize,
    saved: [u64; 4],
    r10: u64,
}

fn sign_extend(value: u64, bits: u32) -> u64 {
    let shift = 64 - bits;
    (((value << shift) as i64) >> shift) as u64
}

fn alu64(op: AluOp, a: u64, b: u64) -> u64 {
    let (sa, sb) = (a as i64, b as i64);
    match op {
        AluOp::Add => a.wrapping_add(b),
        AluOp::Sub => a.wrapping_sub(b),
        AluOp::Mul => a.wrapping_mul(b),
        // RFC 9669: x / 0 = 0 and x % 0 = x (the `unwrap_or`s are those results).
        AluOp::Div => a.checked_div(b).unwrap_or(0),
        AluOp::SDiv => if sb == 0 { 0 } else { sa.wrapping_div(sb) as u64 },
        AluOp::Mod => a.checked_rem(b).unwrap_or(a),
        AluOp::SMod => if sb == 0 { a } else { sa.wrapping_rem(sb) as u64 },
        AluOp::Or => a | b,
        AluOp::And => a & b,
        AluOp::Xor => a ^ b,
        AluOp::Lsh => a << (b & 63),
        AluOp::Rsh => a >> (b & 63),
        AluOp::Arsh => (sa >> (b & 63)) as u64,
        AluOp::Mov => b,
    }
}

fn alu32(op: AluOp, a: u32, b: u32) -> u32 {
    let (sa, sb) = (a as i32, b as i32);
    match op {
        AluOp::Add => a.wrapping_add(b),
        AluOp::Sub => a.wrapping_sub(b),
        AluOp::Mul => a.wrapping_mul(b),
        // RFC 9669: x / 0 = 0 and x % 0 = x (the `unwrap_or`s are those results).
        AluOp::Div => a.checked_div(b).unwrap_or(0),
        AluOp::SDiv => if sb == 0 { 0 } else { sa.wrapping_div(sb) as u32 },
        AluOp::Mod => a.checked_rem(b).unwrap_or(a),
        AluOp::SMod => if sb == 0 { a } else { sa.wrapping_rem(sb) as u32 },
        AluOp::Or => a | b,
        AluOp::And => a & b,
        AluOp::Xor => a ^ b,
        AluOp::Lsh => a << (b & 31),
        AluOp::Rsh => a >> (b & 31),
        AluOp::Arsh => (sa >> (b & 31)) as u32,
        AluOp::Mov => b,
    }
}

fn condition(cond: Cond, width: Width, a: u64, b: u64) -> bool {
    let (a, b, sa, sb) = match width {
        Width::W64 => (a, b, a as i64, b as i64),
        Width::W32 => (a as u32 as u64, b as u32 as u64, a as i32 as i64, b as i32 as i64),
    };
    match cond {
        Cond::Eq => a == b,
        Cond::Ne => a != b,
        Cond::Gt => a > b,
        Cond::Ge => a >= b,
        Cond::Lt => a < b,
        Cond::Le => a <= b,
        Cond::Set => a & b != 0,
        Cond::Sgt => sa > sb,
        Cond::Sge => sa >= sb,
        Cond::Slt => sa < sb,
        Cond::Sle => sa <= sb,
    }
}

fn swap(order: ByteOrder, width: SwapWidth, v: u64) -> u64 {
    match (order, width) {
        (ByteOrder::ToLe, SwapWidth::W16) => v as u16 as u64,
        (ByteOrder::ToLe, SwapWidth::W32) => v as u32 as u64,
        (ByteOrder::ToLe, SwapWidth::W64) => v,
        (ByteOrder::ToBe | ByteOrder::Swap, SwapWidth::W16) => (v as u16).swap_bytes() as u64,
        (ByteOrder::ToBe | ByteOrder::Swap, SwapWidth::W32) => (v as u32).swap_bytes() as u64,
        (ByteOrder::ToBe | ByteOrder::Swap, SwapWidth::W64) => v.swap_bytes(),
    }
}

/// Runs `inv.function` of `program` until its EXIT, an error, or an unwind.
pub fn run(program: &VerifiedProgram, inv: &Invocation, memory: &mut MemoryMap, helpers: &mut dyn Helpers) -> Result<u64, Trap> {
    run_detailed(program, inv, memory, helpers).map_err(|stop| stop.trap)
}

/// A memory access an instruction tried: `len` bytes at `addr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub addr: u64,
    pub len: usize,
    pub access: Access,
}

/// Why a run stopped early: the trap and, for an ILLEGAL_MEM, the access the memory map
/// refused (ask the map why: [`MemoryMap::refusal`]). The command line explains faults with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop {
    pub trap: Trap,
    pub refused: Option<Attempt>,
}

/// [`run`], telling which access an ILLEGAL_MEM was.
pub fn run_detailed(
    program: &VerifiedProgram,
    inv: &Invocation,
    memory: &mut MemoryMap,
    helpers: &mut dyn Helpers,
) -> Result<u64, Stop> {
    let mut reg = [0u64; 11];
    reg[1] = inv.r1;
    reg[2] = inv.r2;
    reg[10] = inv.stack_top(program);
    let mut frames: FixedVec<Frame, CALL_DEPTH_LIMIT> = FixedVec::new();
    let mut budget = inv.budget;
    // Instructions go by their index in the program; traps report the slot.
    let mut at = program.functions()[inv.function].instructions.start;
    loop {
        // Every successor the verifier resolved is an index of the program.
        let insn = program.instruction(at);
        let pc = insn.slot();
        let trap = |code| Stop { trap: Trap { code, pc }, refused: None };
        let refused = |addr, size: Size, access| Stop {
            trap: Trap { code: ErrorCode::IllegalMem, pc },
            refused: Some(Attempt { addr, len: size.bytes(), access }),
        };
        let mut next = at + 1;
        let value = |src: Operand, reg: &[u64; 11]| match src {
            Operand::Reg(r) => reg[r.index()],
            Operand::Imm(i) => i as i64 as u64,
        };
        let address = |base: u64, off: i16| base.wrapping_add(off as i64 as u64);
        let mut take_jump = |target: Target| -> Result<(), Stop> {
            match &mut budget {
                Some(0) => return Err(trap(ErrorCode::OutOfBranches)),
                Some(left) => *left -= 1,
                None => {}
            }
            next = target.index();
            Ok(())
        };
        match insn.instr() {
            Instr::Alu { width: Width::W64, op, dst, src } => reg[dst.index()] = alu64(op, reg[dst.index()], value(src, &reg)),
            Instr::Alu { width: Width::W32, op, dst, src } => {
                reg[dst.index()] = alu32(op, reg[dst.index()] as u32, value(src, &reg) as u32) as u64
            }
            Instr::MovSx { width, dst, src, from } => {
                let v = sign_extend(reg[src.index()], from.bits());
                reg[dst.index()] = if width == Width::W32 { v as u32 as u64 } else { v };
            }
            Instr::Neg { width: Width::W64, dst } => reg[dst.index()] = reg[dst.index()].wrapping_neg(),
            Instr::Neg { width: Width::W32, dst } => reg[dst.index()] = (reg[dst.index()] as u32).wrapping_neg() as u64,
            Instr::End { order, dst, width } => reg[dst.index()] = swap(order, width, reg[dst.index()]),
            Instr::Const { dst, value } => reg[dst.index()] = value,
            Instr::Load { size, dst, src, off } => {
                let addr = address(reg[src.index()], off);
                reg[dst.index()] = memory.load(addr, size).ok_or(refused(addr, size, Access::Read))?
            }
            Instr::LoadSx { size, dst, src, off } => {
                let addr = address(reg[src.index()], off);
                let raw = memory.load(addr, size.size()).ok_or(refused(addr, size.size(), Access::Read))?;
                reg[dst.index()] = sign_extend(raw, size.bits());
            }
            Instr::Store { size, dst, off, src } => {
                let addr = address(reg[dst.index()], off);
                memory.store(addr, size, value(src, &reg)).ok_or(refused(addr, size, Access::Write))?
            }
            Instr::Atomic { width, op, dst, src, off } => {
                let size = if width == Width::W32 { Size::W } else { Size::DW };
                let addr = address(reg[dst.index()], off);
                // Read and write access are both required, even when nothing is stored.
                memory.check(addr, size.bytes(), Access::ReadWrite).ok_or(refused(addr, size, Access::ReadWrite))?;
                let old = memory.load(addr, size).ok_or(refused(addr, size, Access::ReadWrite))?;
                let operand = reg[src.index()];
                let expected = if width == Width::W32 { reg[0] as u32 as u64 } else { reg[0] };
                let new = op.stored(old, operand, expected);
                memory.store(addr, size, new).ok_or(refused(addr, size, Access::ReadWrite))?;
                match op {
                    AtomicOp::CmpXchg => reg[0] = old,
                    _ if op.fetches() => reg[src.index()] = old,
                    _ => {}
                }
            }
            Instr::Goto { target } => take_jump(target)?,
            Instr::Branch { width, cond, dst, src, target } => {
                if condition(cond, width, reg[dst.index()], value(src, &reg)) {
                    take_jump(target)?;
                }
            }
            Instr::CallHelper { id } => {
                let args = [reg[1], reg[2], reg[3], reg[4], reg[5]];
                let mut view = memory.helper_view();
                // The helper's work is charged first; what the budget cannot pay is not done.
                if let Some(left) = &mut budget {
                    let cost = helpers.cost(id, args, &view);
                    *left = u32::try_from(cost).ok().and_then(|c| left.checked_sub(c)).ok_or(trap(ErrorCode::OutOfBranches))?;
                }
                match helpers.call(id, args, &mut view) {
                    HelperOutcome::Return(v) => reg[0] = v,
                    HelperOutcome::Exit(v) => return Ok(v),
                }
            }
            Instr::Call { callee } => {
                let frame = Frame { return_to: next, saved: [reg[6], reg[7], reg[8], reg[9]], r10: reg[10] };
                frames.push(frame).map_err(|_| trap(ErrorCode::IllegalCall))?;
                reg[10] -= inv.frame_size as u64;
                next = program.functions()[callee].instructions.start;
            }
            Instr::Exit => match frames.pop() {
                Some(frame) => {
                    reg[6..10].copy_from_slice(&frame.saved);
                    reg[10] = frame.r10;
                    next = frame.return_to;
                }
                None => return Ok(reg[0]),
            },
        }
        at = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::SxSize;

    #[test]
    fn signed_corners_follow_the_rfc() {
        assert_eq!(alu64(AluOp::SDiv, i64::MIN as u64, -1i64 as u64), i64::MIN as u64);
        assert_eq!(alu64(AluOp::SMod, i64::MIN as u64, -1i64 as u64), 0);
        assert_eq!(alu64(AluOp::Mod, 7, 0), 7);
        assert_eq!(alu64(AluOp::Div, 7, 0), 0);
        assert_eq!(alu32(AluOp::SMod, (-7i32) as u32, 0), (-7i32) as u32);
        assert_eq!(alu32(AluOp::Lsh, 1, 33), 2);
        assert_eq!(sign_extend(0x80, SxSize::B.bits()), 0xffff_ffff_ffff_ff80);
    }

    #[test]
    fn an_illegal_mem_tells_the_access_it_tried() {
        use crate::helpers::ConformanceHelpers;
        use crate::insn::RawSlot;
        use crate::memory::{Refusal, Slot, CONTEXT_START};
        use crate::verifier::{verify, Config, DEFAULT_MAX_CALL_DEPTH};
        use std::vec::Vec;

        // r0 = 0; *(u32 *)(r1 + 20) = 7 (one past a 20-byte context); exit.
        let slots = [
            RawSlot { opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
            RawSlot { opcode: 0x62, dst: 1, src: 0, off: 20, imm: 7 },
            RawSlot { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
        ];
        let text: Vec<u8> = slots.iter().flat_map(|s| s.to_bytes()).collect();
        let config = Config { max_call_depth: DEFAULT_MAX_CALL_DEPTH, helper_arity: &|_| None };
        let program = verify(&text, &[], &config).unwrap();
        let mut ctx = [0u8; 20];
        let mut stack = [0u8; 512];
        let mut memory = MemoryMap::default();
        memory.map_writable(Slot::Stack, &mut stack).unwrap();
        memory.map_writable(Slot::Context, &mut ctx).unwrap();
        let inv = Invocation { function: 0, r1: CONTEXT_START, r2: 20, budget: Some(10), frame_size: 512 };
        let stop = run_detailed(&program, &inv, &mut memory, &mut ConformanceHelpers).unwrap_err();
        let attempt = Attempt { addr: CONTEXT_START + 20, len: 4, access: Access::Write };
        assert_eq!(stop, Stop { trap: Trap { code: ErrorCode::IllegalMem, pc: 1 }, refused: Some(attempt) });
        assert_eq!(memory.refusal(attempt.addr, attempt.len, attempt.access), Some(Refusal::OutOfBounds { slot: 4, len: 20 }));
        assert_eq!(run(&program, &inv, &mut memory, &mut ConformanceHelpers), Err(stop.trap), "run reports the same trap");
    }
}
