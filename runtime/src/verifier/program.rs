//! The verified program: what the verifier proved, in the one form every engine reads.
//!
//! The instructions are decoded once, by the verifier; engines read [`Instruction`]s
//! and never decode the text again. Control flow is resolved: a jump carries its
//! [`Target`] (slot and instruction index), a local call its callee's function index,
//! so no engine handles a target that is missing or outside the program. Only the
//! verifier builds a [`VerifiedProgram`] (and its [`Target`]s); static facts about
//! the program belong here too.

use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use crate::insn::{self, AluOp, AtomicOp, ByteOrder, Cond, Op, Operand, Reg, Size, SwapWidth, SxSize, Width};
use crate::memory::{DATA_START, RODATA_START};

/// Where a jump goes: an instruction start of the same function. Only the verifier makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    slot: usize,
    index: usize,
}

impl Target {
    /// The slot index of the target instruction in the text.
    pub const fn slot(self) -> usize {
        self.slot
    }
    /// Its index into [`VerifiedProgram::instructions`].
    pub const fn index(self) -> usize {
        self.index
    }
}

/// What a verified instruction does: the decoded [`Op`] with its control flow
/// resolved and the lddw forms turned into the value they load.
///
/// Matching on it without `_ =>` makes the compiler list every engine that misses
/// a newly added variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Instr {
    Alu { width: Width, op: AluOp, dst: Reg, src: Operand },
    /// Sign-extending move.
    MovSx { width: Width, dst: Reg, src: Reg, from: SxSize },
    Neg { width: Width, dst: Reg },
    End { order: ByteOrder, dst: Reg, width: SwapWidth },
    /// The lddw forms (two slots): a 64-bit constant, or the data / rodata address
    /// plus an offset, resolved to the address.
    Const { dst: Reg, value: u64 },
    Load { size: Size, dst: Reg, src: Reg, off: i16 },
    LoadSx { size: SxSize, dst: Reg, src: Reg, off: i16 },
    Store { size: Size, dst: Reg, off: i16, src: Operand },
    Atomic { width: Width, op: AtomicOp, dst: Reg, src: Reg, off: i16 },
    /// `ja` and `gotol`: always taken.
    Goto { target: Target },
    /// A conditional jump; when not taken, control goes on to the next instruction.
    Branch { width: Width, cond: Cond, dst: Reg, src: Operand, target: Target },
    CallHelper { id: u32 },
    /// A local call of function `callee` (index into [`VerifiedProgram::functions`]);
    /// it returns to the next instruction.
    Call { callee: usize },
    Exit,
}

/// One verified instruction: its slot, the decoded operation and what it does.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instruction {
    slot: usize,
    op: Op,
    /// The control flow the verifier resolved: a jump's target instruction index, a
    /// local call's callee function index (0 for the other instructions). What the
    /// instruction does ([`Instruction::instr`]) follows from it and `op`, so a program
    /// keeps no more than this per instruction.
    link: usize,
}

impl Instruction {
    /// The instruction `op` at `slot`, before the verifier resolved its control flow.
    pub(super) const fn decoded(slot: usize, op: Op) -> Instruction {
        Instruction { slot, op, link: 0 }
    }
    /// Sets the jump's target instruction index or the call's callee, once the verifier proved it.
    pub(super) fn resolve(&mut self, link: usize) {
        self.link = link;
    }
    /// The jump's target instruction index or the call's callee (0 for other instructions).
    pub(super) const fn link(&self) -> usize {
        self.link
    }
    /// The slot index of the instruction in the text (traps report it).
    pub const fn slot(&self) -> usize {
        self.slot
    }
    /// The operation as decoded (for rendering; engines match on [`Instruction::instr`]).
    pub const fn op(&self) -> Op {
        self.op
    }
    /// What the instruction does.
    pub const fn instr(&self) -> Instr {
        match self.op {
            Op::Alu { width, op, dst, src } => Instr::Alu { width, op, dst, src },
            Op::MovSx { width, dst, src, from } => Instr::MovSx { width, dst, src, from },
            Op::Neg { width, dst } => Instr::Neg { width, dst },
            Op::End { order, dst, width } => Instr::End { order, dst, width },
            Op::Lddw { dst, imm } => Instr::Const { dst, value: imm },
            Op::LddwData { dst, offset } => Instr::Const { dst, value: DATA_START.wrapping_add(offset) },
            Op::LddwRodata { dst, offset } => Instr::Const { dst, value: RODATA_START.wrapping_add(offset) },
            Op::Load { size, dst, src, off } => Instr::Load { size, dst, src, off },
            Op::LoadSx { size, dst, src, off } => Instr::LoadSx { size, dst, src, off },
            Op::Store { size, dst, off, src } => Instr::Store { size, dst, off, src },
            Op::Atomic { width, op, dst, src, off } => Instr::Atomic { width, op, dst, src, off },
            Op::Ja { off } => Instr::Goto { target: self.target(off as isize) },
            Op::Gotol { imm } => Instr::Goto { target: self.target(imm as isize) },
            Op::Jump { width, cond, dst, src, off } => Instr::Branch { width, cond, dst, src, target: self.target(off as isize) },
            Op::CallHelper { id } => Instr::CallHelper { id },
            Op::CallLocal { .. } => Instr::Call { callee: self.link },
            Op::Exit => Instr::Exit,
        }
    }
    /// The target of the jump `rel` slots past the next: the verifier proved it inside the text.
    const fn target(&self, rel: isize) -> Target {
        Target { slot: self.slot.wrapping_add(1).wrapping_add_signed(rel), index: self.link }
    }
    /// The slot of the instruction after it (lddw takes two slots).
    pub const fn next_slot(&self) -> usize {
        self.slot + self.op.slots()
    }
}

impl fmt::Debug for Instruction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Instruction").field("slot", &self.slot).field("op", &self.op).field("instr", &self.instr()).finish()
    }
}

/// One function of the program: the slots `[start, end)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    pub start: usize,
    pub end: usize,
    /// Indices (into [`VerifiedProgram::functions`]) of the functions it calls.
    pub callees: Vec<usize>,
    /// The most nested local calls below it (0 when it calls nothing).
    pub depth: usize,
    /// Its instructions: a range of [`VerifiedProgram::instructions`].
    pub instructions: Range<usize>,
}

impl Function {
    /// Stack frames a run of it needs: one per call level, depth + 1.
    pub const fn frames(&self) -> usize {
        self.depth + 1
    }
}

/// A program the verifier accepted. Only [`super::verify`] builds one.
#[derive(Clone, Debug)]
pub struct VerifiedProgram<'a> {
    text: &'a [u8],
    /// The instructions of every function, in slot order.
    instructions: Vec<Instruction>,
    functions: Vec<Function>,
    /// Basic-block leaders, one bit per slot.
    leaders: Vec<u64>,
    entries: Vec<usize>,
}

impl<'a> VerifiedProgram<'a> {
    /// The program the verifier proved: `instructions` are those of `functions` (each a
    /// range of them, with its extent, callees and depth), in slot order, every jump's
    /// [`Target`] and every local call's callee resolved. So every successor of an
    /// instruction (its next one when it falls through, its jump target, its callee's
    /// first instruction) is an index into `instructions`.
    pub(super) fn new(
        text: &'a [u8],
        instructions: Vec<Instruction>,
        functions: Vec<Function>,
        leaders: Vec<u64>,
        entries: Vec<usize>,
    ) -> VerifiedProgram<'a> {
        VerifiedProgram { text, instructions, functions, leaders, entries }
    }

    pub fn text(&self) -> &'a [u8] {
        self.text
    }
    pub fn slot_count(&self) -> usize {
        insn::slot_count(self.text)
    }
    /// The instructions of every function, in slot order.
    pub fn instructions(&self) -> &[Instruction] {
        &self.instructions
    }
    /// The instruction at `index` (a [`Target::index`] or inside a [`Function::instructions`]).
    pub fn instruction(&self, index: usize) -> &Instruction {
        &self.instructions[index]
    }
    /// The instructions of function `function`, in slot order.
    pub fn body(&self, function: usize) -> &[Instruction] {
        &self.instructions[self.functions[function].instructions.clone()]
    }
    /// Functions sorted by start slot.
    pub fn functions(&self) -> &[Function] {
        &self.functions
    }
    /// The function that starts at `slot`.
    pub fn function_at(&self, slot: usize) -> Option<usize> {
        self.functions.binary_search_by_key(&slot, |f| f.start).ok()
    }
    /// Indices of the functions a host may run (the function table, or slot 0).
    pub fn entries(&self) -> &[usize] {
        &self.entries
    }
    /// Whether a basic block starts at `slot`: a function start, a jump target, or the
    /// slot after a jump or an exit.
    pub fn is_leader(&self, slot: usize) -> bool {
        self.leaders.get(slot / 64).is_some_and(|w| w & (1 << (slot % 64)) != 0)
    }
    /// Call depth D of a function: its frame count is D + 1.
    pub fn depth(&self, function: usize) -> usize {
        self.functions[function].depth
    }
    /// Stack frames a run of `function` needs (D + 1).
    pub fn frames(&self, function: usize) -> usize {
        self.functions[function].frames()
    }
    /// Which program this is, for code an engine compiled from it (see [`ProgramId`]).
    pub fn id(&self) -> ProgramId {
        ProgramId { addr: self.text.as_ptr() as usize, len: self.text.len() }
    }
}

/// The identity of a [`VerifiedProgram`]: the address and length of the text it
/// borrows. While a program lives its text cannot change, so two live programs
/// with one identity run the same instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProgramId {
    addr: usize,
    len: usize,
}
