//! The optimized interpreter: the verified program compiled into a flat array of
//! specialised 16-byte instructions (with super-instructions for the commonest pairs),
//! run by one dense `match` with the address map checked in 32 bits by a test of the
//! upper half, a shift, a mask and a compare.
//!
//! [`compile`] writes into storage the caller owns (a [`Buffer`]: a borrowed slice,
//! a `Vec` or a boxed slice) and returns it as [`Code`]; [`run`] allocates nothing:
//! registers, region table and call frames live in a [`Workspace`] made once per
//! program, so the native stack holds little more than `run`'s own locals.
//!
//! [`run`] indexes the code without bounds checks. That is sound whatever program
//! it is given: only [`compile`] makes a [`Code`], and it checks (without trusting
//! the verifier) that every instruction's successors stay inside the code; [`run`]
//! checks, once per run, that the program is the one the code was compiled from
//! and that the entry is inside the code.

use super::Invocation;
use crate::error::{ErrorCode, Trap};
use crate::helpers::{HelperOutcome, Helpers};
use crate::insn::{AtomicOp, ByteOrder, Operand, Size, SwapWidth, SxSize, Width};
use crate::fallible;
use crate::memory::{MemoryMap, SLOTS, SLOT_SHIFT, SLOT_SIZE};
use crate::verifier::{Instr, Instruction, ProgramId, VerifiedProgram};

/// The specialised operations: each fixes the operation, width and operand form.
#[rustfmt::skip]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    // Binary ALU: operation x {64-bit, 32-bit} x {immediate, register}; the order matches AluOp::ALL.
    Add64I, Add64R, Add32I, Add32R, Sub64I, Sub64R, Sub32I, Sub32R, Mul64I, Mul64R, Mul32I, Mul32R,
    Div64I, Div64R, Div32I, Div32R, SDiv64I, SDiv64R, SDiv32I, SDiv32R, Or64I, Or64R, Or32I, Or32R,
    And64I, And64R, And32I, And32R, Lsh64I, Lsh64R, Lsh32I, Lsh32R, Rsh64I, Rsh64R, Rsh32I, Rsh32R,
    Mod64I, Mod64R, Mod32I, Mod32R, SMod64I, SMod64R, SMod32I, SMod32R, Xor64I, Xor64R, Xor32I, Xor32R,
    Mov64I, Mov64R, Mov32I, Mov32R, Arsh64I, Arsh64R, Arsh32I, Arsh32R,
    // Conditional jumps: condition x {64, 32} x {imm, reg}; the order matches Cond::ALL.
    Jeq64I, Jeq64R, Jeq32I, Jeq32R, Jgt64I, Jgt64R, Jgt32I, Jgt32R, Jge64I, Jge64R, Jge32I, Jge32R,
    Jset64I, Jset64R, Jset32I, Jset32R, Jne64I, Jne64R, Jne32I, Jne32R, Jsgt64I, Jsgt64R, Jsgt32I, Jsgt32R,
    Jsge64I, Jsge64R, Jsge32I, Jsge32R, Jlt64I, Jlt64R, Jlt32I, Jlt32R, Jle64I, Jle64R, Jle32I, Jle32R,
    Jslt64I, Jslt64R, Jslt32I, Jslt32R, Jsle64I, Jsle64R, Jsle32I, Jsle32R,
    // Everything else.
    MovSx64B, MovSx64H, MovSx64W, MovSx32B, MovSx32H, Neg64, Neg32,
    Le16, Le32, Be16, Be32, Be64, Nop,
    Const64,
    Ldxb, Ldxh, Ldxw, Ldxdw, Ldxsb, Ldxsh, Ldxsw,
    Stb, Sth, Stw, Stdw, Stxb, Stxh, Stxw, Stxdw,
    Atomic32, Atomic64,
    Ja, CallHelper, CallLocal, Exit,
    // Super-instructions of two slots; the second slot keeps its own entry.
    // A conditional jump over a `ja`: to the slot after the `ja` when the condition holds,
    // else to the `ja`'s target; condition x {64, 32} x {imm, reg} in the order of Cond::ALL.
    Jeq64IJa, Jeq64RJa, Jeq32IJa, Jeq32RJa, Jgt64IJa, Jgt64RJa, Jgt32IJa, Jgt32RJa,
    Jge64IJa, Jge64RJa, Jge32IJa, Jge32RJa, Jset64IJa, Jset64RJa, Jset32IJa, Jset32RJa,
    Jne64IJa, Jne64RJa, Jne32IJa, Jne32RJa, Jsgt64IJa, Jsgt64RJa, Jsgt32IJa, Jsgt32RJa,
    Jsge64IJa, Jsge64RJa, Jsge32IJa, Jsge32RJa, Jlt64IJa, Jlt64RJa, Jlt32IJa, Jlt32RJa,
    Jle64IJa, Jle64RJa, Jle32IJa, Jle32RJa, Jslt64IJa, Jslt64RJa, Jslt32IJa, Jslt32RJa,
    Jsle64IJa, Jsle64RJa, Jsle32IJa, Jsle32RJa,
    // `mov dst, src` and an ALU operation on dst: `dst = src + imm`, `dst = src + sub`
    // (64 and 32 bits), `dst = src & imm` (32 bits).
    MovAdd64I, MovAdd64R, MovAdd32R, MovAnd32I,
    /// The second slot of an LDDW: never executed, it keeps slot index = array index.
    Tail,
}

/// One compiled instruction; its index in the array is its slot index. Only [`compile`]
/// sets the fields (other code sees [`Compiled::TAIL`] or copies), so `dst` and `src`
/// are always 8 × a verified register number (0..=10): [`run`] indexes with them unchecked.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Compiled {
    kind: Kind,
    /// Destination and source register, as byte offsets into the register file (8 × number).
    dst: u8,
    src: u8,
    /// Atomic operation (index into `AtomicOp::ALL`), or a fused pair's second source
    /// register (as a byte offset, like `src`).
    sub: u8,
    /// Memory offset, or the jump / call target slot.
    a: i32,
    /// Immediate (sign-extended), 64-bit constant, or helper id.
    b: u64,
}

impl Compiled {
    pub const TAIL: Compiled = Compiled { kind: Kind::Tail, dst: 0, src: 0, sub: 0, a: 0, b: 0 };
}

fn form(width: Width, src: Operand) -> (usize, u8, u64) {
    let w = if width == Width::W64 { 0 } else { 2 };
    match src {
        Operand::Imm(i) => (w, 0, i as i64 as u64),
        Operand::Reg(r) => (w + 1, r.num(), 0),
    }
}

fn kind_at(first: Kind, index: usize) -> Kind {
    // `Kind` lays the specialised families out contiguously; index stays inside its family.
    let k = first as u8 as usize + index;
    assert!(k < Kind::Tail as usize, "kind family overflow");
    // SAFETY: `Kind` is `repr(u8)` with dense discriminants 0..=Tail, and `k < Tail`
    // (asserted above), so `k` is the discriminant of a variant.
    unsafe { core::mem::transmute::<u8, Kind>(k as u8) }
}

mod sealed {
    pub trait Sealed {}
}

/// Storage [`compile`] writes the compiled instructions into. Sealed: only
/// these types, whose slices stay put and unchanged while a [`Code`] owns them.
pub trait Buffer: sealed::Sealed {
    fn entries(&self) -> &[Compiled];
    fn entries_mut(&mut self) -> &mut [Compiled];
}

impl sealed::Sealed for &mut [Compiled] {}
impl Buffer for &mut [Compiled] {
    fn entries(&self) -> &[Compiled] {
        self
    }
    fn entries_mut(&mut self) -> &mut [Compiled] {
        self
    }
}

#[cfg(feature = "alloc")]
impl sealed::Sealed for alloc::vec::Vec<Compiled> {}
#[cfg(feature = "alloc")]
impl Buffer for alloc::vec::Vec<Compiled> {
    fn entries(&self) -> &[Compiled] {
        self
    }
    fn entries_mut(&mut self) -> &mut [Compiled] {
        self
    }
}

#[cfg(feature = "alloc")]
impl sealed::Sealed for alloc::boxed::Box<[Compiled]> {}
#[cfg(feature = "alloc")]
impl Buffer for alloc::boxed::Box<[Compiled]> {
    fn entries(&self) -> &[Compiled] {
        self
    }
    fn entries_mut(&mut self) -> &mut [Compiled] {
        self
    }
}

/// A program [`compile`]d for [`run`]: the compiled instructions, how many
/// slots they cover and which program they came from. Only [`compile`] makes one,
/// and nothing changes the instructions afterwards.
#[derive(Clone, Debug)]
pub struct Code<B: Buffer> {
    buffer: B,
    /// Entries of `buffer` in use: the program's slot count (`buffer` holds at least as many).
    slots: usize,
    program: ProgramId,
}

impl<B: Buffer> Code<B> {
    /// Instruction slots the code covers.
    pub fn slots(&self) -> usize {
        self.slots
    }
    /// The program the code was compiled from.
    pub fn program(&self) -> ProgramId {
        self.program
    }
    /// The storage back, to compile another program into.
    pub fn into_buffer(self) -> B {
        self.buffer
    }
}

/// Whether control after `c` at `pc` stays inside `n` slots: its jump or call target,
/// the slot it falls through to, and the return slot of a call. The verifier proves
/// this for every instruction of every function; [`compile`] checks it again so that
/// [`run`]'s unchecked indexing relies on [`Code`] alone.
fn stays_inside(c: &Compiled, pc: usize, n: usize) -> bool {
    let kind = c.kind as u8;
    let conditional = (Kind::Jeq64I as u8..=Kind::Jsle32R as u8).contains(&kind);
    let over_ja = (Kind::Jeq64IJa as u8..=Kind::Jsle32RJa as u8).contains(&kind);
    let jumps = conditional || over_ja || matches!(c.kind, Kind::Ja | Kind::CallLocal);
    let falls_through = !matches!(c.kind, Kind::Ja | Kind::Exit | Kind::Tail);
    let next = pc + slots(c.kind);
    let target_inside = usize::try_from(c.a).is_ok_and(|t| t < n);
    (!jumps || target_inside) && (!falls_through || next < n)
}

/// Slots an instruction of `kind` covers: two for a 64-bit constant and a super-instruction.
fn slots(kind: Kind) -> usize {
    let pair = (Kind::Jeq64IJa as u8..=Kind::MovAnd32I as u8).contains(&(kind as u8));
    if pair || kind == Kind::Const64 { 2 } else { 1 }
}

/// The super-instruction for `first` at `pc` followed by `second`, if there is one.
/// The caller makes sure that nothing jumps to `second`, so control reaches it only
/// through `first`.
fn fused(first: &Compiled, second: &Compiled, pc: usize) -> Option<Compiled> {
    let conditional = (Kind::Jeq64I as u8..=Kind::Jsle32R as u8).contains(&(first.kind as u8));
    if conditional && first.a as usize == pc + 2 && second.kind == Kind::Ja {
        let kind = kind_at(Kind::Jeq64IJa, first.kind as usize - Kind::Jeq64I as usize);
        return Some(Compiled { kind, a: second.a, ..*first });
    }
    // `mov dst, src; op dst, x`; a second source other than dst is still the one it read.
    if second.dst != first.dst || (second.src == first.dst && matches!(second.kind, Kind::Add64R | Kind::Add32R)) {
        return None;
    }
    const PAIRS: [(Kind, Kind, Kind); 4] = [
        (Kind::Mov64R, Kind::Add64I, Kind::MovAdd64I),
        (Kind::Mov64R, Kind::Add64R, Kind::MovAdd64R),
        (Kind::Mov32R, Kind::Add32R, Kind::MovAdd32R),
        (Kind::Mov32R, Kind::And32I, Kind::MovAnd32I),
    ];
    let &(_, _, kind) = PAIRS.iter().find(|&&(mov, op, _)| mov == first.kind && op == second.kind)?;
    Some(Compiled { kind, sub: second.src, b: second.b, ..*first })
}

/// Marks the entry of a jump target before the instructions go in (see [`compile`]).
const TARGET: Compiled = Compiled { a: 1, ..Compiled::TAIL };

/// Compiles the instructions of `program` into `buffer`, which needs one entry per instruction slot
/// ([`VerifiedProgram::slot_count`]); NO_MEMORY when it has fewer.
pub fn compile<B: Buffer>(program: &VerifiedProgram, mut buffer: B) -> Result<Code<B>, ErrorCode> {
    let n = program.slot_count();
    let out = buffer.entries_mut();
    if out.len() < n {
        return Err(ErrorCode::NoMemory);
    }
    out[..n].fill(Compiled::TAIL);
    // Instructions go in in slot order, so when one is compiled the next slot still
    // tells whether it is a jump target, which a super-instruction may not swallow.
    for insn in program.instructions() {
        if let Instr::Goto { target } | Instr::Branch { target, .. } = insn.instr() {
            out[target.slot()] = TARGET;
        }
    }
    let instructions = program.instructions();
    for (k, insn) in instructions.iter().enumerate() {
        let pc = insn.slot();
        let mut c = single(program, insn);
        let second = instructions.get(k + 1).filter(|next| next.slot() == pc + 1 && !is_target(&out[pc + 1]));
        if let Some(pair) = second.and_then(|next| fused(&c, &single(program, next), pc)) {
            c = pair;
        }
        // Verified code always stays inside; this re-check keeps `run` sound on `Code`
        // alone. Slots outside every function (before the first one, which the verifier
        // only checks) are not instructions of the program and stay faults.
        out[pc] = if stays_inside(&c, pc, n) { c } else { Compiled::TAIL };
    }
    Ok(Code { buffer, slots: n, program: program.id() })
}

fn is_target(c: &Compiled) -> bool {
    c.kind == Kind::Tail && c.a == TARGET.a
}

/// One instruction compiled on its own.
fn single(program: &VerifiedProgram, insn: &Instruction) -> Compiled {
    let mut c = Compiled::TAIL;
    match insn.instr() {
        Instr::Alu { width, op, dst, src } => {
            let (f, s, imm) = form(width, src);
            c = Compiled { kind: kind_at(Kind::Add64I, op.index() * 4 + f), dst: dst.num(), src: s, b: imm, ..c };
        }
        Instr::Branch { width, cond, dst, src, target } => {
            let (f, s, imm) = form(width, src);
            let (kind, a) = (kind_at(Kind::Jeq64I, cond.index() * 4 + f), target.slot() as i32);
            c = Compiled { kind, dst: dst.num(), src: s, a, b: imm, ..c };
        }
        Instr::MovSx { width, dst, src, from } => {
            let kind = match (width, from) {
                (Width::W64, SxSize::B) => Kind::MovSx64B,
                (Width::W64, SxSize::H) => Kind::MovSx64H,
                (Width::W64, SxSize::W) => Kind::MovSx64W,
                (Width::W32, SxSize::B) => Kind::MovSx32B,
                // The verifier never yields 32-bit from 32 bits; H covers the rest.
                (Width::W32, SxSize::H | SxSize::W) => Kind::MovSx32H,
            };
            c = Compiled { kind, dst: dst.num(), src: src.num(), ..c };
        }
        Instr::Neg { width, dst } => {
            c = Compiled { kind: if width == Width::W64 { Kind::Neg64 } else { Kind::Neg32 }, dst: dst.num(), ..c };
        }
        Instr::End { order, dst, width } => {
            let kind = match (order, width) {
                (ByteOrder::ToLe, SwapWidth::W16) => Kind::Le16,
                (ByteOrder::ToLe, SwapWidth::W32) => Kind::Le32,
                (ByteOrder::ToLe, SwapWidth::W64) => Kind::Nop,
                (ByteOrder::ToBe | ByteOrder::Swap, SwapWidth::W16) => Kind::Be16,
                (ByteOrder::ToBe | ByteOrder::Swap, SwapWidth::W32) => Kind::Be32,
                (ByteOrder::ToBe | ByteOrder::Swap, SwapWidth::W64) => Kind::Be64,
            };
            c = Compiled { kind, dst: dst.num(), ..c };
        }
        Instr::Const { dst, value } => c = Compiled { kind: Kind::Const64, dst: dst.num(), b: value, ..c },
        Instr::Load { size, dst, src, off } => {
            let kind = [Kind::Ldxb, Kind::Ldxh, Kind::Ldxw, Kind::Ldxdw][size_index(size)];
            c = Compiled { kind, dst: dst.num(), src: src.num(), a: off as i32, ..c };
        }
        Instr::LoadSx { size, dst, src, off } => {
            let kind = [Kind::Ldxsb, Kind::Ldxsh, Kind::Ldxsw][size_index(size.size())];
            c = Compiled { kind, dst: dst.num(), src: src.num(), a: off as i32, ..c };
        }
        Instr::Store { size, dst, off, src: Operand::Imm(imm) } => {
            let kind = [Kind::Stb, Kind::Sth, Kind::Stw, Kind::Stdw][size_index(size)];
            c = Compiled { kind, dst: dst.num(), a: off as i32, b: imm as i64 as u64, ..c };
        }
        Instr::Store { size, dst, off, src: Operand::Reg(s) } => {
            let kind = [Kind::Stxb, Kind::Stxh, Kind::Stxw, Kind::Stxdw][size_index(size)];
            c = Compiled { kind, dst: dst.num(), src: s.num(), a: off as i32, ..c };
        }
        Instr::Atomic { width, op, dst, src, off } => {
            let kind = if width == Width::W64 { Kind::Atomic64 } else { Kind::Atomic32 };
            let sub = op.index() as u8;
            c = Compiled { kind, dst: dst.num(), src: src.num(), sub, a: off as i32, ..c };
        }
        Instr::Goto { target } => c = Compiled { kind: Kind::Ja, a: target.slot() as i32, ..c },
        Instr::CallHelper { id } => c = Compiled { kind: Kind::CallHelper, b: id as u64, ..c },
        Instr::Call { callee } => {
            c = Compiled { kind: Kind::CallLocal, a: program.functions()[callee].start as i32, ..c };
        }
        Instr::Exit => c = Compiled { kind: Kind::Exit, ..c },
    }
    // Registers as byte offsets into the register file spare the hot loop a shift.
    (c.dst, c.src) = (c.dst << 3, c.src << 3);
    c
}

const fn size_index(size: Size) -> usize {
    match size {
        Size::B => 0,
        Size::H => 1,
        Size::W => 2,
        Size::DW => 3,
    }
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    return_pc: usize,
    saved: [u64; 4],
    r10: u64,
}

/// What a run works in besides the code: the registers, the region table in the form
/// the hot loop wants and the call frames. It lives in the engine's memory rather than
/// on the native stack (a microcontroller's is a few KiB), allocated once per loaded
/// program, and [`run`] reaches all of it through one reference.
#[derive(Debug)]
pub struct Workspace {
    regs: [u64; 11],
    /// Per slot: the host base, and the readable and writable lengths (0 when the
    /// access is not granted). Lengths fit 28 bits ([`crate::memory::MAX_REGION_LEN`]).
    base: [*mut u8; SLOTS],
    read_len: [u32; SLOTS],
    write_len: [u32; SLOTS],
    /// Room for the deepest chain of local calls the verifier proved.
    frames: alloc::vec::Vec<Frame>,
}

impl Workspace {
    /// A workspace with room for `program`'s deepest call chain; NO_MEMORY when there is none.
    pub fn for_program(program: &VerifiedProgram) -> Result<alloc::boxed::Box<Workspace>, ErrorCode> {
        let depth = (0..program.functions().len()).map(|f| program.depth(f)).max().unwrap_or(0);
        let frames = fallible::with_capacity(depth).map_err(|_| ErrorCode::NoMemory)?;
        let w = Workspace {
            regs: [0; 11],
            base: [core::ptr::null_mut(); SLOTS],
            read_len: [0; SLOTS],
            write_len: [0; SLOTS],
            frames,
        };
        fallible::boxed(w).map_err(|_| ErrorCode::NoMemory)
    }

    /// The register at byte offset `offset` of the register file.
    ///
    /// # Safety
    /// `offset` is 8 × a register number (0..=10).
    #[inline(always)]
    unsafe fn reg(&mut self, offset: u8) -> &mut u64 {
        // SAFETY: by the caller's contract, `offset` is the byte offset of an element of `regs`.
        unsafe { &mut *self.regs.as_mut_ptr().byte_add(offset as usize) }
    }

    /// Atomic `i` (an Atomic32 or Atomic64 of some code); `None` is ILLEGAL_MEM. Out
    /// of line, like [`call_helper`].
    #[inline(never)]
    fn atomic(&mut self, i: &Compiled) -> Option<()> {
        let wide = i.kind == Kind::Atomic64;
        // SAFETY: every `Compiled` comes from `compile` (or is `TAIL`), whose `dst` and
        // `src` are 8 × a verified register number (0..=10).
        let (base, operand) = unsafe { (*self.reg(i.dst), *self.reg(i.src)) };
        let addr = base.wrapping_add(i.a as i64 as u64);
        // Read and write access are both required, even when nothing is stored.
        if wide { self.at::<8>(&self.write_len, addr) } else { self.at::<4>(&self.write_len, addr) }?;
        let old = if wide { self.load::<8>(addr) } else { self.load::<4>(addr) }?;
        let mask = if wide { u64::MAX } else { u32::MAX as u64 };
        let op = AtomicOp::ALL[i.sub as usize];
        let new = op.stored(old, operand, self.regs[0] & mask);
        if wide { self.store::<8>(addr, new) } else { self.store::<4>(addr, new) }?;
        match op {
            AtomicOp::CmpXchg => self.regs[0] = old,
            // SAFETY: as above.
            _ if op.fetches() => unsafe { *self.reg(i.src) = old },
            _ => {}
        }
        Some(())
    }

    fn map(&mut self, memory: &MemoryMap) {
        for (i, region) in memory.regions().iter().enumerate() {
            self.base[i] = region.base;
            self.read_len[i] = region.len;
            self.write_len[i] = if region.writable != 0 { region.len } else { 0 };
        }
    }

    /// The host address of `[addr, addr + N)` if `lens` grants it. Regions live in
    /// the low 4 GiB, so one test of the upper half refuses the rest and slot, offset
    /// and length work in 32 bits.
    #[inline(always)]
    fn at<const N: u32>(&self, lens: &[u32; SLOTS], addr: u64) -> Option<*mut u8> {
        if addr >> 32 != 0 {
            return None;
        }
        let addr = addr as u32;
        let slot = (addr >> SLOT_SHIFT) as usize;
        let offset = addr & (SLOT_SIZE as u32 - 1);
        if offset + N <= lens[slot] {
            // SAFETY: `offset` has 28 bits, so `offset + N` cannot wrap; `offset + N <=
            // lens[slot]`, which is 0 or the length of the region at `base[slot]`,
            // borrowed by the map for the whole run.
            Some(unsafe { self.base[slot].add(offset as usize) })
        } else {
            None
        }
    }

    #[inline(always)]
    fn load<const N: u32>(&self, addr: u64) -> Option<u64> {
        let p = self.at::<N>(&self.read_len, addr)?;
        // SAFETY: `at` proved N (1, 2, 4 or 8) bytes at `p` readable; each arm reads
        // N bytes, aligned only where `p` is aligned for that width.
        Some(unsafe {
            match N {
                1 => *p as u64,
                2 if p.cast::<u16>().is_aligned() => u16::from_le(p.cast::<u16>().read()) as u64,
                4 if p.cast::<u32>().is_aligned() => u32::from_le(p.cast::<u32>().read()) as u64,
                8 if p.cast::<u64>().is_aligned() => u64::from_le(p.cast::<u64>().read()),
                _ => read_unaligned(p, N as usize),
            }
        })
    }

    #[inline(always)]
    fn store<const N: u32>(&self, addr: u64, value: u64) -> Option<()> {
        let p = self.at::<N>(&self.write_len, addr)?;
        // SAFETY: `at` proved N (1, 2, 4 or 8) bytes at `p` writable, in a region of
        // the map `run` holds `&mut`, and no reference into it is live; each arm writes
        // N bytes, aligned only where `p` is aligned for that width.
        unsafe {
            match N {
                1 => *p = value as u8,
                2 if p.cast::<u16>().is_aligned() => p.cast::<u16>().write((value as u16).to_le()),
                4 if p.cast::<u32>().is_aligned() => p.cast::<u32>().write((value as u32).to_le()),
                8 if p.cast::<u64>().is_aligned() => p.cast::<u64>().write(value.to_le()),
                _ => write_unaligned(p, N as usize, value),
            }
        }
        Some(())
    }
}

/// Runs `program`, [`compile`]d into `code`, in `w`. Code compiled from another program,
/// or an entry outside the code, fails the run with ILLEGAL_INSTRUCTION at slot 0.
///
/// Inlined into its caller (the engine's one call site), which spares a microcontroller
/// the stack frame of a call with this many arguments.
#[inline(always)]
pub fn run<B: Buffer>(
    program: &VerifiedProgram,
    code: &Code<B>,
    inv: &Invocation,
    memory: &mut MemoryMap,
    helpers: &mut dyn Helpers,
    w: &mut Workspace,
) -> Result<u64, Trap> {
    let refused = Trap { code: ErrorCode::IllegalInstruction, pc: 0 };
    if code.program != program.id() || code.slots != program.slot_count() {
        return Err(refused);
    }
    let entry = program.functions().get(inv.function).ok_or(refused)?.start;
    let code = code.buffer.entries().get(..code.slots).ok_or(refused)?;
    if entry >= code.len() {
        return Err(refused);
    }
    // The hot loop steps a pointer into `code`, not an index: the slot index of an
    // instruction is only worked out when a trap or a call needs it.
    let base = code.as_ptr();
    let mut ip = base.wrapping_add(entry);
    w.map(memory);
    w.regs = [0; 11];
    w.regs[1] = inv.r1;
    w.regs[2] = inv.r2;
    w.regs[10] = inv.stack_top(program);
    w.frames.clear();
    // Budget off: a countdown that is refilled whenever it reaches 0, and helpers cost nothing.
    let off = inv.budget.is_none();
    let mut budget: u32 = inv.budget.unwrap_or(u32::MAX);
    let frame_size = inv.frame_size as u64;
    // The register at a byte offset taken from an entry of `code`.
    macro_rules! r {
        ($offset:expr) => {
            // SAFETY: `$offset` is the `dst` or `src` of a `Compiled`, or the `sub` of a
            // fused `mov` + ALU pair: `compile`, the only code that sets them, makes each
            // 8 × a verified register number (0..=10), or leaves it 0.
            *unsafe { w.reg($offset) }
        };
    }
    macro_rules! pc {
        () => {
            (ip as usize - base as usize) / core::mem::size_of::<Compiled>()
        };
    }
    macro_rules! fault {
        ($code:expr) => {
            return Err(Trap { code: $code, pc: pc!() })
        };
    }
    // One taken jump, of the instruction at slot `at`.
    macro_rules! charge {
        ($at:expr) => {
            if budget == 0 {
                exhausted();
                if !off {
                    return Err(Trap { code: ErrorCode::OutOfBranches, pc: $at });
                }
                budget = u32::MAX;
            }
            budget -= 1;
        };
    }
    macro_rules! jump {
        ($cond:expr, $i:expr) => {
            if $cond {
                charge!(pc!());
                ip = base.wrapping_add($i.a as usize);
                continue;
            }
        };
    }
    // A conditional jump over a `ja` (at `pc + 1`): either way one jump is taken.
    macro_rules! jump_or_ja {
        ($cond:expr, $i:expr) => {{
            let (to, second) = if $cond { (ip.wrapping_add(2), 0) } else { (base.wrapping_add($i.a as usize), 1) };
            charge!(pc!() + second);
            ip = to;
            continue;
        }};
    }
    macro_rules! pair {
        ($e:expr) => {{
            $e;
            ip = ip.wrapping_add(2);
            continue;
        }};
    }
    macro_rules! load {
        ($n:literal, $i:expr) => {
            {
                let addr = r!($i.src).wrapping_add($i.a as i64 as u64);
                match w.load::<$n>(addr) {
                    Some(v) => v,
                    None => fault!(ErrorCode::IllegalMem),
                }
            }
        };
    }
    macro_rules! store {
        ($n:literal, $i:expr, $v:expr) => {
            {
                let (addr, value) = (r!($i.dst).wrapping_add($i.a as i64 as u64), $v);
                if w.store::<$n>(addr, value).is_none() {
                    fault!(ErrorCode::IllegalMem);
                }
            }
        };
    }
    loop {
        debug_assert!(ip >= base && pc!() < code.len());
        // SAFETY: `ip` is `base + pc` with `pc < code.len()`, so it points at an entry of
        // `code`. That holds for the entry (checked above), and every later `pc` is a
        // successor of an entry of `code`: a jump or call target, the slot after an
        // instruction that falls through (two after a Const64 or a super-instruction),
        // or the return slot after a CallLocal, popped from `w.frames`. `compile`, the
        // only maker of a `Code`, kept only entries whose successors are all below
        // `code.len()` (`stays_inside`), and `code` is exactly those entries.
        let i = unsafe { &*ip };
        // Fields are read inside each arm, so an operation loads only what it uses.
        macro_rules! d {
            () => {
                r!(i.dst)
            };
        }
        macro_rules! s {
            () => {
                r!(i.src)
            };
        }
        match i.kind {
            Kind::Add64I => d!() = d!().wrapping_add(i.b),
            Kind::Add64R => d!() = d!().wrapping_add(s!()),
            Kind::Add32I => d!() = (d!() as u32).wrapping_add(i.b as u32) as u64,
            Kind::Add32R => d!() = (d!() as u32).wrapping_add(s!() as u32) as u64,
            Kind::Sub64I => d!() = d!().wrapping_sub(i.b),
            Kind::Sub64R => d!() = d!().wrapping_sub(s!()),
            Kind::Sub32I => d!() = (d!() as u32).wrapping_sub(i.b as u32) as u64,
            Kind::Sub32R => d!() = (d!() as u32).wrapping_sub(s!() as u32) as u64,
            Kind::Mul64I => d!() = d!().wrapping_mul(i.b),
            Kind::Mul64R => d!() = d!().wrapping_mul(s!()),
            Kind::Mul32I => d!() = (d!() as u32).wrapping_mul(i.b as u32) as u64,
            Kind::Mul32R => d!() = (d!() as u32).wrapping_mul(s!() as u32) as u64,
            Kind::Div64I => d!() = udiv64(d!(), i.b),
            Kind::Div64R => d!() = udiv64(d!(), s!()),
            Kind::Div32I => d!() = udiv32(d!(), i.b),
            Kind::Div32R => d!() = udiv32(d!(), s!()),
            Kind::SDiv64I => d!() = sdiv64(d!(), i.b),
            Kind::SDiv64R => d!() = sdiv64(d!(), s!()),
            Kind::SDiv32I => d!() = sdiv32(d!(), i.b),
            Kind::SDiv32R => d!() = sdiv32(d!(), s!()),
            Kind::Or64I => d!() |= i.b,
            Kind::Or64R => d!() |= s!(),
            Kind::Or32I => d!() = (d!() as u32 | i.b as u32) as u64,
            Kind::Or32R => d!() = (d!() as u32 | s!() as u32) as u64,
            Kind::And64I => d!() &= i.b,
            Kind::And64R => d!() &= s!(),
            Kind::And32I => d!() = (d!() as u32 & i.b as u32) as u64,
            Kind::And32R => d!() = (d!() as u32 & s!() as u32) as u64,
            Kind::Lsh64I => d!() <<= i.b & 63,
            Kind::Lsh64R => d!() <<= s!() & 63,
            Kind::Lsh32I => d!() = ((d!() as u32) << (i.b & 31)) as u64,
            Kind::Lsh32R => d!() = ((d!() as u32) << (s!() & 31)) as u64,
            Kind::Rsh64I => d!() >>= i.b & 63,
            Kind::Rsh64R => d!() >>= s!() & 63,
            Kind::Rsh32I => d!() = ((d!() as u32) >> (i.b & 31)) as u64,
            Kind::Rsh32R => d!() = ((d!() as u32) >> (s!() & 31)) as u64,
            Kind::Mod64I => d!() = umod64(d!(), i.b),
            Kind::Mod64R => d!() = umod64(d!(), s!()),
            Kind::Mod32I => d!() = umod32(d!(), i.b),
            Kind::Mod32R => d!() = umod32(d!(), s!()),
            Kind::SMod64I => d!() = smod64(d!(), i.b),
            Kind::SMod64R => d!() = smod64(d!(), s!()),
            Kind::SMod32I => d!() = smod32(d!(), i.b),
            Kind::SMod32R => d!() = smod32(d!(), s!()),
            Kind::Xor64I => d!() ^= i.b,
            Kind::Xor64R => d!() ^= s!(),
            Kind::Xor32I => d!() = (d!() as u32 ^ i.b as u32) as u64,
            Kind::Xor32R => d!() = (d!() as u32 ^ s!() as u32) as u64,
            Kind::Mov64I => d!() = i.b,
            Kind::Mov64R => d!() = s!(),
            Kind::Mov32I => d!() = i.b as u32 as u64,
            Kind::Mov32R => d!() = s!() as u32 as u64,
            Kind::Arsh64I => d!() = ((d!() as i64) >> (i.b & 63)) as u64,
            Kind::Arsh64R => d!() = ((d!() as i64) >> (s!() & 63)) as u64,
            Kind::Arsh32I => d!() = ((d!() as i32) >> (i.b & 31)) as u32 as u64,
            Kind::Arsh32R => d!() = ((d!() as i32) >> (s!() & 31)) as u32 as u64,
            Kind::Jeq64I => jump!(d!() == i.b, i),
            Kind::Jeq64R => jump!(d!() == s!(), i),
            Kind::Jeq32I => jump!(d!() as u32 == i.b as u32, i),
            Kind::Jeq32R => jump!(d!() as u32 == s!() as u32, i),
            Kind::Jgt64I => jump!(d!() > i.b, i),
            Kind::Jgt64R => jump!(d!() > s!(), i),
            Kind::Jgt32I => jump!(d!() as u32 > i.b as u32, i),
            Kind::Jgt32R => jump!(d!() as u32 > s!() as u32, i),
            Kind::Jge64I => jump!(d!() >= i.b, i),
            Kind::Jge64R => jump!(d!() >= s!(), i),
            Kind::Jge32I => jump!(d!() as u32 >= i.b as u32, i),
            Kind::Jge32R => jump!(d!() as u32 >= s!() as u32, i),
            Kind::Jset64I => jump!(d!() & i.b != 0, i),
            Kind::Jset64R => jump!(d!() & s!() != 0, i),
            Kind::Jset32I => jump!(d!() as u32 & i.b as u32 != 0, i),
            Kind::Jset32R => jump!(d!() as u32 & s!() as u32 != 0, i),
            Kind::Jne64I => jump!(d!() != i.b, i),
            Kind::Jne64R => jump!(d!() != s!(), i),
            Kind::Jne32I => jump!(d!() as u32 != i.b as u32, i),
            Kind::Jne32R => jump!(d!() as u32 != s!() as u32, i),
            Kind::Jsgt64I => jump!(d!() as i64 > i.b as i64, i),
            Kind::Jsgt64R => jump!(d!() as i64 > s!() as i64, i),
            Kind::Jsgt32I => jump!(d!() as i32 > i.b as i32, i),
            Kind::Jsgt32R => jump!(d!() as i32 > s!() as i32, i),
            Kind::Jsge64I => jump!(d!() as i64 >= i.b as i64, i),
            Kind::Jsge64R => jump!(d!() as i64 >= s!() as i64, i),
            Kind::Jsge32I => jump!(d!() as i32 >= i.b as i32, i),
            Kind::Jsge32R => jump!(d!() as i32 >= s!() as i32, i),
            Kind::Jlt64I => jump!(d!() < i.b, i),
            Kind::Jlt64R => jump!(d!() < s!(), i),
            Kind::Jlt32I => jump!((d!() as u32) < i.b as u32, i),
            Kind::Jlt32R => jump!((d!() as u32) < s!() as u32, i),
            Kind::Jle64I => jump!(d!() <= i.b, i),
            Kind::Jle64R => jump!(d!() <= s!(), i),
            Kind::Jle32I => jump!(d!() as u32 <= i.b as u32, i),
            Kind::Jle32R => jump!(d!() as u32 <= s!() as u32, i),
            Kind::Jslt64I => jump!((d!() as i64) < i.b as i64, i),
            Kind::Jslt64R => jump!((d!() as i64) < s!() as i64, i),
            Kind::Jslt32I => jump!((d!() as i32) < i.b as i32, i),
            Kind::Jslt32R => jump!((d!() as i32) < s!() as i32, i),
            Kind::Jsle64I => jump!(d!() as i64 <= i.b as i64, i),
            Kind::Jsle64R => jump!(d!() as i64 <= s!() as i64, i),
            Kind::Jsle32I => jump!(d!() as i32 <= i.b as i32, i),
            Kind::Jsle32R => jump!(d!() as i32 <= s!() as i32, i),
            Kind::Jeq64IJa => jump_or_ja!(d!() == i.b, i),
            Kind::Jeq64RJa => jump_or_ja!(d!() == s!(), i),
            Kind::Jeq32IJa => jump_or_ja!(d!() as u32 == i.b as u32, i),
            Kind::Jeq32RJa => jump_or_ja!(d!() as u32 == s!() as u32, i),
            Kind::Jgt64IJa => jump_or_ja!(d!() > i.b, i),
            Kind::Jgt64RJa => jump_or_ja!(d!() > s!(), i),
            Kind::Jgt32IJa => jump_or_ja!(d!() as u32 > i.b as u32, i),
            Kind::Jgt32RJa => jump_or_ja!(d!() as u32 > s!() as u32, i),
            Kind::Jge64IJa => jump_or_ja!(d!() >= i.b, i),
            Kind::Jge64RJa => jump_or_ja!(d!() >= s!(), i),
            Kind::Jge32IJa => jump_or_ja!(d!() as u32 >= i.b as u32, i),
            Kind::Jge32RJa => jump_or_ja!(d!() as u32 >= s!() as u32, i),
            Kind::Jset64IJa => jump_or_ja!(d!() & i.b != 0, i),
            Kind::Jset64RJa => jump_or_ja!(d!() & s!() != 0, i),
            Kind::Jset32IJa => jump_or_ja!(d!() as u32 & i.b as u32 != 0, i),
            Kind::Jset32RJa => jump_or_ja!(d!() as u32 & s!() as u32 != 0, i),
            Kind::Jne64IJa => jump_or_ja!(d!() != i.b, i),
            Kind::Jne64RJa => jump_or_ja!(d!() != s!(), i),
            Kind::Jne32IJa => jump_or_ja!(d!() as u32 != i.b as u32, i),
            Kind::Jne32RJa => jump_or_ja!(d!() as u32 != s!() as u32, i),
            Kind::Jsgt64IJa => jump_or_ja!(d!() as i64 > i.b as i64, i),
            Kind::Jsgt64RJa => jump_or_ja!(d!() as i64 > s!() as i64, i),
            Kind::Jsgt32IJa => jump_or_ja!(d!() as i32 > i.b as i32, i),
            Kind::Jsgt32RJa => jump_or_ja!(d!() as i32 > s!() as i32, i),
            Kind::Jsge64IJa => jump_or_ja!(d!() as i64 >= i.b as i64, i),
            Kind::Jsge64RJa => jump_or_ja!(d!() as i64 >= s!() as i64, i),
            Kind::Jsge32IJa => jump_or_ja!(d!() as i32 >= i.b as i32, i),
            Kind::Jsge32RJa => jump_or_ja!(d!() as i32 >= s!() as i32, i),
            Kind::Jlt64IJa => jump_or_ja!(d!() < i.b, i),
            Kind::Jlt64RJa => jump_or_ja!(d!() < s!(), i),
            Kind::Jlt32IJa => jump_or_ja!((d!() as u32) < i.b as u32, i),
            Kind::Jlt32RJa => jump_or_ja!((d!() as u32) < s!() as u32, i),
            Kind::Jle64IJa => jump_or_ja!(d!() <= i.b, i),
            Kind::Jle64RJa => jump_or_ja!(d!() <= s!(), i),
            Kind::Jle32IJa => jump_or_ja!(d!() as u32 <= i.b as u32, i),
            Kind::Jle32RJa => jump_or_ja!(d!() as u32 <= s!() as u32, i),
            Kind::Jslt64IJa => jump_or_ja!((d!() as i64) < i.b as i64, i),
            Kind::Jslt64RJa => jump_or_ja!((d!() as i64) < s!() as i64, i),
            Kind::Jslt32IJa => jump_or_ja!((d!() as i32) < i.b as i32, i),
            Kind::Jslt32RJa => jump_or_ja!((d!() as i32) < s!() as i32, i),
            Kind::Jsle64IJa => jump_or_ja!(d!() as i64 <= i.b as i64, i),
            Kind::Jsle64RJa => jump_or_ja!(d!() as i64 <= s!() as i64, i),
            Kind::Jsle32IJa => jump_or_ja!(d!() as i32 <= i.b as i32, i),
            Kind::Jsle32RJa => jump_or_ja!(d!() as i32 <= s!() as i32, i),
            Kind::MovAdd64I => pair!(d!() = s!().wrapping_add(i.b)),
            Kind::MovAdd64R => pair!(d!() = s!().wrapping_add(r!(i.sub))),
            Kind::MovAdd32R => pair!(d!() = (s!() as u32).wrapping_add(r!(i.sub) as u32) as u64),
            Kind::MovAnd32I => pair!(d!() = (s!() as u32 & i.b as u32) as u64),
            Kind::MovSx64B => d!() = s!() as i8 as i64 as u64,
            Kind::MovSx64H => d!() = s!() as i16 as i64 as u64,
            Kind::MovSx64W => d!() = s!() as i32 as i64 as u64,
            Kind::MovSx32B => d!() = s!() as i8 as i32 as u32 as u64,
            Kind::MovSx32H => d!() = s!() as i16 as i32 as u32 as u64,
            Kind::Neg64 => d!() = d!().wrapping_neg(),
            Kind::Neg32 => d!() = (d!() as u32).wrapping_neg() as u64,
            Kind::Le16 => d!() = d!() as u16 as u64,
            Kind::Le32 => d!() = d!() as u32 as u64,
            Kind::Be16 => d!() = (d!() as u16).swap_bytes() as u64,
            Kind::Be32 => d!() = (d!() as u32).swap_bytes() as u64,
            Kind::Be64 => d!() = d!().swap_bytes(),
            Kind::Nop => {}
            Kind::Const64 => {
                d!() = i.b;
                ip = ip.wrapping_add(2);
                continue;
            }
            Kind::Ldxb => d!() = load!(1, i),
            Kind::Ldxh => d!() = load!(2, i),
            Kind::Ldxw => d!() = load!(4, i),
            Kind::Ldxdw => d!() = load!(8, i),
            Kind::Ldxsb => d!() = load!(1, i) as i8 as i64 as u64,
            Kind::Ldxsh => d!() = load!(2, i) as i16 as i64 as u64,
            Kind::Ldxsw => d!() = load!(4, i) as i32 as i64 as u64,
            Kind::Stb => store!(1, i, i.b),
            Kind::Sth => store!(2, i, i.b),
            Kind::Stw => store!(4, i, i.b),
            Kind::Stdw => store!(8, i, i.b),
            Kind::Stxb => store!(1, i, s!()),
            Kind::Stxh => store!(2, i, s!()),
            Kind::Stxw => store!(4, i, s!()),
            Kind::Stxdw => store!(8, i, s!()),
            Kind::Atomic32 | Kind::Atomic64 => {
                if w.atomic(i).is_none() {
                    fault!(ErrorCode::IllegalMem);
                }
            }
            Kind::Ja => jump!(true, i),
            Kind::CallHelper => match call_helper(w, i.b as u32, memory, helpers, &mut budget, off) {
                Ok(None) => {}
                Ok(Some(v)) => return Ok(v),
                Err(code) => fault!(code),
            },
            Kind::CallLocal => {
                let frame = Frame { return_pc: pc!() + 1, saved: [w.regs[6], w.regs[7], w.regs[8], w.regs[9]], r10: w.regs[10] };
                // Never full for a verified program (its depth sized the frames); push then
                // stays within the capacity and never allocates.
                if w.frames.len() == w.frames.capacity() {
                    fault!(ErrorCode::IllegalCall);
                }
                w.frames.push(frame);
                w.regs[10] -= frame_size;
                ip = base.wrapping_add(i.a as usize);
                continue;
            }
            Kind::Exit => match w.frames.pop() {
                Some(frame) => {
                    w.regs[6..10].copy_from_slice(&frame.saved);
                    w.regs[10] = frame.r10;
                    ip = base.wrapping_add(frame.return_pc);
                    continue;
                }
                None => return Ok(w.regs[0]),
            },
            Kind::Tail => fault!(ErrorCode::IllegalInstruction),
        }
        ip = ip.wrapping_add(1);
    }
}

/// Calls helper `id` with r1..r5 and charges its cost first (unless the budget is off):
/// r0 is its result; `Some` when it ended the run with that value, OUT_OF_BRANCHES
/// when the budget cannot pay (and the helper did nothing). Out of line, so that its
/// locals do not enlarge `run`'s frame for programs that call no helper.
#[inline(never)]
fn call_helper(
    w: &mut Workspace,
    id: u32,
    memory: &mut MemoryMap,
    helpers: &mut dyn Helpers,
    budget: &mut u32,
    off: bool,
) -> Result<Option<u64>, ErrorCode> {
    let args = [w.regs[1], w.regs[2], w.regs[3], w.regs[4], w.regs[5]];
    let mut view = memory.helper_view();
    if !off {
        let cost = helpers.cost(id, args, &view);
        if cost > *budget as u64 {
            return Err(ErrorCode::OutOfBranches);
        }
        *budget -= cost as u32;
    }
    match helpers.call(id, args, &mut view) {
        HelperOutcome::Return(v) => w.regs[0] = v,
        HelperOutcome::Exit(v) => return Ok(Some(v)),
    }
    Ok(None)
}

/// Marks the path it is on as rare: the budget running out, or refilling when it is off.
#[cold]
#[inline(never)]
fn exhausted() {}

/// Reads `n` (at most 8) bytes at `p`, little-endian. Kept out of line so that the
/// compiler cannot merge the aligned paths of [`Workspace::load`] into byte copies.
///
/// # Safety
/// `n <= 8` bytes at `p` are readable.
#[cold]
#[inline(never)]
unsafe fn read_unaligned(p: *const u8, n: usize) -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: `n` bytes at `p` are readable (the caller's contract); `b` holds 8 >= `n`;
    // a byte copy needs no alignment.
    unsafe { core::ptr::copy_nonoverlapping(p, b.as_mut_ptr(), n) };
    u64::from_le_bytes(b)
}

/// Writes the low `n` (at most 8) bytes of `value` at `p`, little-endian; out of line
/// like [`read_unaligned`].
///
/// # Safety
/// `n <= 8` bytes at `p` are writable and no reference to them is live.
#[cold]
#[inline(never)]
unsafe fn write_unaligned(p: *mut u8, n: usize, value: u64) {
    // SAFETY: `n` bytes at `p` are writable (the caller's contract), `value` has 8 >= `n`.
    unsafe { core::ptr::copy_nonoverlapping(value.to_le_bytes().as_ptr(), p, n) };
}

#[inline(always)]
fn udiv64(a: u64, b: u64) -> u64 {
    // RFC 9669: x / 0 = 0.
    a.checked_div(b).unwrap_or(0)
}
#[inline(always)]
fn udiv32(a: u64, b: u64) -> u64 {
    // RFC 9669: x / 0 = 0.
    (a as u32).checked_div(b as u32).unwrap_or(0) as u64
}
#[inline(always)]
fn sdiv64(a: u64, b: u64) -> u64 {
    if b == 0 { 0 } else { (a as i64).wrapping_div(b as i64) as u64 }
}
#[inline(always)]
fn sdiv32(a: u64, b: u64) -> u64 {
    if b as u32 == 0 { 0 } else { (a as i32).wrapping_div(b as i32) as u32 as u64 }
}
#[inline(always)]
fn umod64(a: u64, b: u64) -> u64 {
    a.checked_rem(b).unwrap_or(a)
}
#[inline(always)]
fn umod32(a: u64, b: u64) -> u64 {
    (a as u32).checked_rem(b as u32).unwrap_or(a as u32) as u64
}
#[inline(always)]
fn smod64(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { (a as i64).wrapping_rem(b as i64) as u64 }
}
#[inline(always)]
fn smod32(a: u64, b: u64) -> u64 {
    if b as u32 == 0 { a as u32 as u64 } else { (a as i32).wrapping_rem(b as i32) as u32 as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::{AluOp, Cond};

    #[test]
    fn families_line_up_with_the_op_tables() {
        // The `Kind` order is what compile relies on: spot-check each family's ends.
        assert_eq!(kind_at(Kind::Add64I, 13 * 4 + 3), Kind::Arsh32R);
        assert_eq!(kind_at(Kind::Add64I, 12 * 4), Kind::Mov64I);
        assert_eq!(kind_at(Kind::Jeq64I, 10 * 4 + 3), Kind::Jsle32R);
        assert_eq!(kind_at(Kind::Jeq64I, 7 * 4 + 1), Kind::Jlt64R);
        assert_eq!(AluOp::ALL[12], AluOp::Mov);
        assert_eq!(Cond::ALL[7], Cond::Lt);
        assert_eq!(kind_at(Kind::Add64I, AluOp::Mov.index() * 4), Kind::Mov64I);
        assert_eq!(kind_at(Kind::Jeq64I, Cond::Lt.index() * 4 + 1), Kind::Jlt64R);
        assert_eq!(core::mem::size_of::<Compiled>(), 16);
    }

    /// Runs `slots` on both interpreters with every budget up to `most` and with none:
    /// the same r0, or the same error at the same slot. Returns the fast engine's code.
    fn same_as_reference(slots: &[(u8, u8, u8, i16, i32)], most: u32) -> std::vec::Vec<Compiled> {
        use crate::helpers::ConformanceHelpers;
        use crate::insn::RawSlot;
        use crate::memory::Slot;
        use crate::verifier::{verify, Config, DEFAULT_MAX_CALL_DEPTH};
        use std::vec::Vec;

        let raw = slots.iter().map(|&(opcode, dst, src, off, imm)| RawSlot { opcode, dst, src, off, imm });
        let text: Vec<u8> = raw.flat_map(|s| s.to_bytes()).collect();
        let config = Config { max_call_depth: DEFAULT_MAX_CALL_DEPTH, helper_arity: &|_| None };
        let program = verify(&text, &[], &config).unwrap();
        let code = compile(&program, std::vec![Compiled::TAIL; program.slot_count()]).unwrap();
        let mut w = Workspace::for_program(&program).unwrap();
        for budget in (0..=most).map(Some).chain([None]) {
            let inv = Invocation { function: 0, r1: 0, r2: 0, budget, frame_size: 512 };
            let mut stack = [0u8; 512];
            let mut memory = MemoryMap::default();
            memory.map_writable(Slot::Stack, &mut stack).unwrap();
            let expected = super::super::reference::run(&program, &inv, &mut memory, &mut ConformanceHelpers);
            let got = run(&program, &code, &inv, &mut memory, &mut ConformanceHelpers, &mut w);
            assert_eq!(got, expected, "budget {budget:?}");
        }
        code.into_buffer()
    }

    #[test]
    fn super_instructions_run_as_their_two_instructions() {
        let code = same_as_reference(
            &[
                (0xb7, 0, 0, 0, 0),  // 0: r0 = 0
                (0xb7, 1, 0, 0, 0),  // 1: r1 = 0
                (0xbf, 2, 1, 0, 0),  // 2: r2 = r1
                (0x07, 2, 0, 0, 3),  // 3: r2 += 3
                (0x0f, 0, 2, 0, 0),  // 4: r0 += r2
                (0x07, 1, 0, 0, 1),  // 5: r1 += 1
                (0x15, 1, 0, 1, 5),  // 6: if r1 == 5 goto 8
                (0x05, 0, 0, -6, 0), // 7: goto 2
                (0xbc, 3, 0, 0, 0),  // 8: w3 = w0
                (0x54, 3, 0, 0, 7),  // 9: w3 &= 7
                (0xbf, 4, 3, 0, 0),  // 10: r4 = r3
                (0x0f, 4, 0, 0, 0),  // 11: r4 += r0
                (0xbc, 5, 4, 0, 0),  // 12: w5 = w4
                (0x0c, 5, 3, 0, 0),  // 13: w5 += w3
                (0xbf, 6, 5, 0, 0),  // 14: r6 = r5
                (0x0f, 6, 6, 0, 0),  // 15: r6 += r6 (reads the moved value: not fused)
                (0x0f, 0, 6, 0, 0),  // 16: r0 += r6
                (0x95, 0, 0, 0, 0),  // 17: exit
            ],
            12,
        );
        let kinds: std::vec::Vec<Kind> = code.iter().map(|c| c.kind).collect();
        assert_eq!(kinds[2], Kind::MovAdd64I);
        assert_eq!(kinds[6], Kind::Jeq64IJa);
        assert_eq!(kinds[8], Kind::MovAnd32I);
        assert_eq!(kinds[10], Kind::MovAdd64R);
        assert_eq!(kinds[12], Kind::MovAdd32R);
        assert_eq!(kinds[14], Kind::Mov64R);
        // The second slots keep their own entries.
        assert_eq!((kinds[3], kinds[7], kinds[9]), (Kind::Add64I, Kind::Ja, Kind::And32I));
    }

    #[test]
    fn a_jump_target_is_never_swallowed() {
        let code = same_as_reference(
            &[
                (0xb7, 0, 0, 0, 0),  // 0: r0 = 0
                (0xbf, 2, 0, 0, 0),  // 1: r2 = r0
                (0x07, 2, 0, 0, 1),  // 2: r2 += 1 (a target)
                (0x07, 0, 0, 0, 1),  // 3: r0 += 1
                (0xa5, 0, 0, 1, 2),  // 4: if r0 < 2 goto 6 (the ja: a target)
                (0x15, 0, 0, 1, 5),  // 5: if r0 == 5 goto 7
                (0x05, 0, 0, -5, 0), // 6: goto 2
                (0x0f, 0, 2, 0, 0),  // 7: r0 += r2
                (0x95, 0, 0, 0, 0),  // 8: exit
            ],
            12,
        );
        assert_eq!((code[1].kind, code[5].kind), (Kind::Mov64R, Kind::Jeq64I));
    }

}
