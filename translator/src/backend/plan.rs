//! The lowering plan: what native code does for each verified instruction, decided
//! once for every backend.
//!
//! [`steps`] turns an [`Instruction`] of the verified IR into a short list of
//! [`Step`]s. A step fixes everything that does not depend on the backend: which
//! address-map check an access needs and the trap it raises (error code and slot),
//! the budget charge of a taken jump, the masks of shifts, what division by zero
//! and signed overflow give, where the budget is stored around calls, which flags
//! end the function after a call and whether the call's slot is recorded. The C
//! emitter and the Cranelift lowering walk the same steps and only emit them
//! (in the manner of a visitor over a macro assembler), so a rule changes here,
//! once, for both.

use fc_runtime::error::ErrorCode;
use fc_runtime::insn::{AluOp, AtomicOp, ByteOrder, Cond, Operand, Reg, Size, SwapWidth, SxSize, Width};
use fc_runtime::memory::Access;
use fc_runtime::verifier::{Instr, Instruction};

/// The error code of a failed address-map check.
pub const ACCESS_TRAP: ErrorCode = ErrorCode::IllegalMem;
/// The error code of a taken jump the budget cannot pay for.
pub const BUDGET_TRAP: ErrorCode = ErrorCode::OutOfBranches;

/// Where a run stops with an error: the code and the slot it reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trap {
    pub code: ErrorCode,
    pub slot: usize,
}

/// The address-map check before an access: `[r[base] + off, + bytes)` must lie in
/// one region (and be writable for [`Access::ReadWrite`]); otherwise `trap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    pub base: Reg,
    pub off: i16,
    pub bytes: u32,
    pub access: Access,
    pub trap: Trap,
}

/// The budget charge of a taken jump: one unit. At 0 the run stops with `trap`,
/// unless the budget is off (`FLAG_BUDGET_OFF` in the environment): then the
/// countdown starts a new round (`u64::MAX`) and the jump is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charge {
    pub trap: Trap,
}

/// The two-operand operations without a special case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Or,
    And,
    Xor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    Left,
    /// Logical.
    Right,
    Arithmetic,
}

/// What a division or remainder gives where the hardware (or C) has no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    Zero,
    /// The dividend unchanged.
    Dividend,
    /// The dividend negated (wrapping).
    Negated,
}

/// How an ALU instruction computes `dst = dst OP src` at its width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compute {
    Binary(Binary),
    /// `dst = src`.
    Move,
    /// The amount is `src & mask` (the width in bits, less one).
    Shift { op: Shift, mask: u32 },
    /// Quotient or remainder, unsigned or signed. A zero divisor gives `by_zero`; a
    /// signed divisor of -1 gives `by_minus_one` (INT_MIN / -1 overflows: hardware traps,
    /// C is undefined), never the machine's division.
    Divide { signed: bool, remainder: bool, by_zero: Fallback, by_minus_one: Option<Fallback> },
}

/// The read-modify-write of an atomic, on the old value and `src`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    Binary(Binary),
    /// The new value is `src`.
    Exchange,
    /// The new value is `src` when the old one equals `expected` (taken at the width), else the old one.
    CompareExchange { expected: Reg },
}

/// A flag of the environment that ends the function when set after a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// `error`: a fault below.
    Error,
    /// `stop`: a helper ended the run (an unwind), or the helper's charge failed.
    Stop,
}

/// One thing native code does. Widths are the instruction's: 32-bit operations work
/// on the low halves and zero the upper half of the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Alu { width: Width, dst: Reg, src: Operand, compute: Compute },
    Neg { width: Width, dst: Reg },
    /// `dst = sign-extended low `from` bits of `src`, at the width.
    SignExtend { width: Width, dst: Reg, src: Reg, from: SxSize },
    /// `dst = low `bits` of dst` (zero-extended).
    ZeroExtend { dst: Reg, bits: u32 },
    /// `dst = the low `bits` of dst, byte-reversed` (zero-extended).
    ByteSwap { dst: Reg, bits: u32 },
    Const { dst: Reg, value: u64 },
    /// `dst = *(size *)addr` after `check`, zero- or sign-extended to 64 bits.
    Load { dst: Reg, size: Size, signed: bool, check: Check },
    /// `*(size *)addr = src` (truncated) after `check`.
    Store { size: Size, src: Operand, check: Check },
    /// `old = *addr; *addr = update(old, src)` after `check`; then `result = old` when there is one.
    Atomic { width: Width, update: Update, src: Reg, result: Option<Reg>, check: Check },
    /// A jump that is always taken: `charge`, then on at slot `target`.
    Jump { target: usize, charge: Charge },
    /// When `dst COND src` at the width holds: `charge`, then on at `target`; else on at `next`.
    Branch { width: Width, cond: Cond, dst: Reg, src: Operand, target: usize, next: usize, charge: Charge },
    /// The function's budget countdown is written to the environment.
    SpillBudget,
    /// The function's budget countdown is read back from the environment.
    ReloadBudget,
    /// `r0 = helper(env, id, r1, ..., r5)` through the environment's dispatch.
    CallHelper { id: u32 },
    /// `r0 = function callee(env, r1, ..., r5, r10 - frame_size)`: the callee's frame lies below.
    CallLocal { callee: usize },
    /// When one of `flags` is set: `error_pc = record_slot` (when given), and return r0.
    /// The budget in the environment is current here (it was just reloaded).
    LeaveIf { flags: &'static [Flag], record_slot: Option<usize> },
    /// Return r0 (the budget was spilled before).
    Return,
}

impl Step {
    /// Whether control does not go on to the next step (the block ends).
    pub const fn ends_block(&self) -> bool {
        matches!(self, Step::Jump { .. } | Step::Branch { .. } | Step::Return)
    }
}

/// The steps of one instruction, at most four.
#[derive(Clone, Debug, Default)]
pub struct Steps {
    steps: [Option<Step>; 4],
}

impl Steps {
    fn of(list: &[Step]) -> Steps {
        let mut s = Steps::default();
        for (slot, step) in s.steps.iter_mut().zip(list) {
            *slot = Some(*step);
        }
        debug_assert!(list.len() <= 4);
        s
    }
    pub fn iter(&self) -> impl Iterator<Item = Step> + '_ {
        self.steps.iter().map_while(|s| *s)
    }
}

const AFTER_HELPER: &[Flag] = &[Flag::Stop];
const AFTER_CALL: &[Flag] = &[Flag::Error, Flag::Stop];

const fn width_mask(width: Width) -> u32 {
    match width {
        Width::W32 => 31,
        Width::W64 => 63,
    }
}

/// How an ALU operation computes (RFC 9669 §4.1: x / 0 = 0, x % 0 = x; shifts use
/// the amount modulo the width; signed INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0).
pub fn compute(width: Width, op: AluOp) -> Compute {
    let divide = |signed, remainder| {
        let by_zero = if remainder { Fallback::Dividend } else { Fallback::Zero };
        let by_minus_one = match (signed, remainder) {
            (false, _) => None,
            (true, false) => Some(Fallback::Negated),
            (true, true) => Some(Fallback::Zero),
        };
        Compute::Divide { signed, remainder, by_zero, by_minus_one }
    };
    let shift = |op| Compute::Shift { op, mask: width_mask(width) };
    match op {
        AluOp::Add => Compute::Binary(Binary::Add),
        AluOp::Sub => Compute::Binary(Binary::Sub),
        AluOp::Mul => Compute::Binary(Binary::Mul),
        AluOp::Or => Compute::Binary(Binary::Or),
        AluOp::And => Compute::Binary(Binary::And),
        AluOp::Xor => Compute::Binary(Binary::Xor),
        AluOp::Mov => Compute::Move,
        AluOp::Lsh => shift(Shift::Left),
        AluOp::Rsh => shift(Shift::Right),
        AluOp::Arsh => shift(Shift::Arithmetic),
        AluOp::Div => divide(false, false),
        AluOp::Mod => divide(false, true),
        AluOp::SDiv => divide(true, false),
        AluOp::SMod => divide(true, true),
    }
}

/// The steps of `insn`.
pub fn steps(insn: &Instruction) -> Steps {
    let slot = insn.slot();
    let check = |base, off, bytes: usize, access| Check {
        base,
        off,
        bytes: bytes as u32,
        access,
        trap: Trap { code: ACCESS_TRAP, slot },
    };
    let charge = Charge { trap: Trap { code: BUDGET_TRAP, slot } };
    let one = |s: Step| Steps::of(&[s]);
    match insn.instr() {
        Instr::Alu { width, op, dst, src } => one(Step::Alu { width, dst, src, compute: compute(width, op) }),
        Instr::MovSx { width, dst, src, from } => one(Step::SignExtend { width, dst, src, from }),
        Instr::Neg { width, dst } => one(Step::Neg { width, dst }),
        // Little-endian is the byte order of the address map: to-le is a truncation.
        Instr::End { order: ByteOrder::ToLe, width: SwapWidth::W64, .. } => Steps::default(),
        Instr::End { order: ByteOrder::ToLe, dst, width } => one(Step::ZeroExtend { dst, bits: width.bits() }),
        Instr::End { order: ByteOrder::ToBe | ByteOrder::Swap, dst, width } => one(Step::ByteSwap { dst, bits: width.bits() }),
        Instr::Const { dst, value } => one(Step::Const { dst, value }),
        Instr::Load { size, dst, src, off } => {
            one(Step::Load { dst, size, signed: false, check: check(src, off, size.bytes(), Access::Read) })
        }
        Instr::LoadSx { size, dst, src, off } => {
            let size = size.size();
            one(Step::Load { dst, size, signed: true, check: check(src, off, size.bytes(), Access::Read) })
        }
        Instr::Store { size, dst, off, src } => {
            one(Step::Store { size, src, check: check(dst, off, size.bytes(), Access::ReadWrite) })
        }
        Instr::Atomic { width, op, dst, src, off } => {
            let bytes = match width {
                Width::W32 => 4,
                Width::W64 => 8,
            };
            let update = match op {
                AtomicOp::Add { .. } => Update::Binary(Binary::Add),
                AtomicOp::Or { .. } => Update::Binary(Binary::Or),
                AtomicOp::And { .. } => Update::Binary(Binary::And),
                AtomicOp::Xor { .. } => Update::Binary(Binary::Xor),
                AtomicOp::Xchg => Update::Exchange,
                AtomicOp::CmpXchg => Update::CompareExchange { expected: Reg::R0 },
            };
            let result = match op {
                AtomicOp::CmpXchg => Some(Reg::R0),
                _ if op.fetches() => Some(src),
                _ => None,
            };
            // Read and write access are both required, even when nothing is stored.
            one(Step::Atomic { width, update, src, result, check: check(dst, off, bytes, Access::ReadWrite) })
        }
        Instr::Goto { target } => one(Step::Jump { target: target.slot(), charge }),
        Instr::Branch { width, cond, dst, src, target } => {
            one(Step::Branch { width, cond, dst, src, target: target.slot(), next: insn.next_slot(), charge })
        }
        // The dispatch charges the helper's work against the budget in the environment;
        // a stop is reported at the call's slot.
        Instr::CallHelper { id } => Steps::of(&[
            Step::SpillBudget,
            Step::CallHelper { id },
            Step::ReloadBudget,
            Step::LeaveIf { flags: AFTER_HELPER, record_slot: Some(slot) },
        ]),
        // The callee runs on the budget in the environment; a fault or an unwind below
        // ends this function too (the callee recorded its slot).
        Instr::Call { callee } => Steps::of(&[
            Step::SpillBudget,
            Step::CallLocal { callee },
            Step::ReloadBudget,
            Step::LeaveIf { flags: AFTER_CALL, record_slot: None },
        ]),
        Instr::Exit => Steps::of(&[Step::SpillBudget, Step::Return]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_and_shift_rules() {
        assert_eq!(
            compute(Width::W64, AluOp::SMod),
            Compute::Divide { signed: true, remainder: true, by_zero: Fallback::Dividend, by_minus_one: Some(Fallback::Zero) }
        );
        assert_eq!(
            compute(Width::W32, AluOp::SDiv),
            Compute::Divide { signed: true, remainder: false, by_zero: Fallback::Zero, by_minus_one: Some(Fallback::Negated) }
        );
        assert_eq!(
            compute(Width::W32, AluOp::Div),
            Compute::Divide { signed: false, remainder: false, by_zero: Fallback::Zero, by_minus_one: None }
        );
        assert_eq!(compute(Width::W32, AluOp::Lsh), Compute::Shift { op: Shift::Left, mask: 31 });
        assert_eq!(compute(Width::W64, AluOp::Arsh), Compute::Shift { op: Shift::Arithmetic, mask: 63 });
    }
}
