//! The optimized interpreter: the verified program compiled into a flat array of
//! specialised 16-byte instructions (register fields as byte offsets, the commonest
//! `mov` + ALU pairs fused into one), run by one dense `match` over a [`Workspace`]
//! in the engine's memory, with the address map checked in 32-bit arithmetic.
//!
//! [`compile`] writes into storage the caller owns (a [`Buffer`]: a borrowed slice,
//! a `Vec` or a boxed slice) and returns it as [`Code`]; [`run`] allocates nothing,
//! so firmware without a heap can use it with a static buffer.
//!
//! [`run`] indexes the code without bounds checks. That is sound whatever program
//! it is given: only [`compile`] makes a [`Code`], and it checks (without trusting
//! the verifier) that every instruction's successors stay inside the code; [`run`]
//! checks, once per run, that the program is the one the code was compiled from
//! and that the entry is inside the code.


use super::Invocation;
use crate::error::{ErrorCode, Trap};
use crate::helpers::{HelperOutcome, Helpers};
use crate::insn::{AluOp, AtomicOp, ByteOrder, Operand, Reg, Size, SwapWidth, SxSize, Width};
use crate::memory::{MemoryMap, SLOTS, SLOT_SHIFT};
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
    // `mov dst, src; OP dst, x` in one step, `dst = src OP x` (see `pair_family`):
    // operation x {64, 32} x {imm, reg}, in the order of `form`.
    MovAdd64I, MovAdd64R, MovAdd32I, MovAdd32R, MovSub64I, MovSub64R, MovSub32I, MovSub32R,
    MovOr64I, MovOr64R, MovOr32I, MovOr32R, MovAnd64I, MovAnd64R, MovAnd32I, MovAnd32R,
    MovLsh64I, MovLsh64R, MovLsh32I, MovLsh32R, MovRsh64I, MovRsh64R, MovRsh32I, MovRsh32R,
    MovXor64I, MovXor64R, MovXor32I, MovXor32R,
    /// The second slot of an LDDW: never executed, it keeps slot index = array index.
    Tail,
}

/// One compiled instruction; its index in the array is its slot index.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Compiled {
    kind: Kind,
    dst: u8,
    src: u8,
    /// Atomic operation (index into `AtomicOp::ALL`), or the second operand
    /// register of a register-form `Mov*` pair. Register fields hold byte offsets (`at`).
    sub: u8,
    /// Memory offset, or the jump / call target slot.
    a: i32,
    /// Immediate (sign-extended), 64-bit constant, or helper id.
    b: u64,
}

impl Compiled {
    pub const TAIL: Compiled = Compiled { kind: Kind::Tail, dst: 0, src: 0, sub: 0, a: 0, b: 0 };
}

/// A register field of [`Compiled`]: the register's byte offset in the register file,
/// so the hot loop adds it to the file's address without scaling it.
const fn at(reg: Reg) -> u8 {
    reg.num() * 8
}

/// The register at byte offset `field` (a [`Compiled`] register field) of `regs`.
#[inline(always)]
fn reg(regs: &mut [u64; 16], field: u8) -> &mut u64 {
    // SAFETY: `field & 0x78` is a multiple of 8 below 128, the offset of one of the
    // 16 registers whatever the field holds, so the pointer is in bounds and aligned.
    unsafe { &mut *regs.as_mut_ptr().byte_add(usize::from(field & 0x78)) }
}

fn form(width: Width, src: Operand) -> (usize, u8, u64) {
    let w = if width == Width::W64 { 0 } else { 2 };
    match src {
        Operand::Imm(i) => (w, 0, i as i64 as u64),
        Operand::Reg(r) => (w + 1, at(r), 0),
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
    let jumps = conditional || matches!(c.kind, Kind::Ja | Kind::CallLocal);
    let falls_through = !matches!(c.kind, Kind::Ja | Kind::Exit | Kind::Tail);
    let next = pc + if c.kind == Kind::Const64 || is_pair(c.kind) { 2 } else { 1 };
    let target_inside = usize::try_from(c.a).is_ok_and(|t| t < n);
    (!jumps || target_inside) && (!falls_through || next < n)
}

fn is_pair(kind: Kind) -> bool {
    (Kind::MovAdd64I as u8..=Kind::MovXor32R as u8).contains(&(kind as u8))
}

/// The pair kinds of `op` following a `mov` of its width, if it has them: the
/// operations clang puts after a copy to make a three-operand one.
const fn pair_family(op: AluOp) -> Option<Kind> {
    match op {
        AluOp::Add => Some(Kind::MovAdd64I),
        AluOp::Sub => Some(Kind::MovSub64I),
        AluOp::Or => Some(Kind::MovOr64I),
        AluOp::And => Some(Kind::MovAnd64I),
        AluOp::Lsh => Some(Kind::MovLsh64I),
        AluOp::Rsh => Some(Kind::MovRsh64I),
        AluOp::Xor => Some(Kind::MovXor64I),
        AluOp::Mul | AluOp::Div | AluOp::SDiv | AluOp::Mod | AluOp::SMod | AluOp::Mov | AluOp::Arsh => None,
    }
}

/// `mov dst, src` at `first` and the ALU operation `second` on `dst` after it, as one
/// pair instruction: `dst = src OP x`. Only when nothing jumps to `second` (it is no
/// leader), so every path that runs one runs both, and neither can fault or take the
/// budget, so the pair keeps every observable effect. `second`'s own entry stays as
/// it is; the pair continues after it.
fn pair(program: &VerifiedProgram, first: &Instruction, second: &Instruction) -> Option<Compiled> {
    let Instr::Alu { width, op: AluOp::Mov, dst, src: Operand::Reg(src) } = first.instr() else { return None };
    let Instr::Alu { width: w2, op, dst: d2, src: x } = second.instr() else { return None };
    if w2 != width || d2 != dst || second.slot() != first.slot() + 1 || program.is_leader(second.slot()) {
        return None;
    }
    let (f, x, imm) = form(width, x);
    // `OP dst, dst` reads the copy, which is `src`.
    let x = if x == at(dst) && f % 2 == 1 { at(src) } else { x };
    let kind = kind_at(pair_family(op)?, f);
    Some(Compiled { kind, dst: at(dst), src: at(src), sub: x, a: 0, b: imm })
}

/// Compiles the instructions of `program` into `buffer`, which needs one entry per instruction slot
/// ([`VerifiedProgram::slot_count`]); NO_MEMORY when it has fewer.
pub fn compile<B: Buffer>(program: &VerifiedProgram, mut buffer: B) -> Result<Code<B>, ErrorCode> {
    let n = program.slot_count();
    let out = buffer.entries_mut();
    if out.len() < n {
        return Err(ErrorCode::NoMemory);
    }
    out[..n].fill(Compiled::TAIL);
    let instructions = program.instructions();
    for (k, insn) in instructions.iter().enumerate() {
        let pc = insn.slot();
        let mut c = Compiled::TAIL;
        if let Some(p) = instructions.get(k + 1).and_then(|next| pair(program, insn, next)) {
            out[pc] = if stays_inside(&p, pc, n) { p } else { Compiled::TAIL };
            continue;
        }
        match insn.instr() {
            Instr::Alu { width, op, dst, src } => {
                let (f, s, imm) = form(width, src);
                c = Compiled { kind: kind_at(Kind::Add64I, op.index() * 4 + f), dst: at(dst), src: s, b: imm, ..c };
            }
            Instr::Branch { width, cond, dst, src, target } => {
                let (f, s, imm) = form(width, src);
                let (kind, a) = (kind_at(Kind::Jeq64I, cond.index() * 4 + f), target.slot() as i32);
                c = Compiled { kind, dst: at(dst), src: s, a, b: imm, ..c };
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
                c = Compiled { kind, dst: at(dst), src: at(src), ..c };
            }
            Instr::Neg { width, dst } => {
                c = Compiled { kind: if width == Width::W64 { Kind::Neg64 } else { Kind::Neg32 }, dst: at(dst), ..c };
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
                c = Compiled { kind, dst: at(dst), ..c };
            }
            Instr::Const { dst, value } => c = Compiled { kind: Kind::Const64, dst: at(dst), b: value, ..c },
            Instr::Load { size, dst, src, off } => {
                let kind = [Kind::Ldxb, Kind::Ldxh, Kind::Ldxw, Kind::Ldxdw][size_index(size)];
                c = Compiled { kind, dst: at(dst), src: at(src), a: off as i32, ..c };
            }
            Instr::LoadSx { size, dst, src, off } => {
                let kind = [Kind::Ldxsb, Kind::Ldxsh, Kind::Ldxsw][size_index(size.size())];
                c = Compiled { kind, dst: at(dst), src: at(src), a: off as i32, ..c };
            }
            Instr::Store { size, dst, off, src: Operand::Imm(imm) } => {
                let kind = [Kind::Stb, Kind::Sth, Kind::Stw, Kind::Stdw][size_index(size)];
                c = Compiled { kind, dst: at(dst), a: off as i32, b: imm as i64 as u64, ..c };
            }
            Instr::Store { size, dst, off, src: Operand::Reg(s) } => {
                let kind = [Kind::Stxb, Kind::Stxh, Kind::Stxw, Kind::Stxdw][size_index(size)];
                c = Compiled { kind, dst: at(dst), src: at(s), a: off as i32, ..c };
            }
            Instr::Atomic { width, op, dst, src, off } => {
                let kind = if width == Width::W64 { Kind::Atomic64 } else { Kind::Atomic32 };
                let sub = op.index() as u8;
                c = Compiled { kind, dst: at(dst), src: at(src), sub, a: off as i32, ..c };
            }
            Instr::Goto { target } => c = Compiled { kind: Kind::Ja, a: target.slot() as i32, ..c },
            Instr::CallHelper { id } => c = Compiled { kind: Kind::CallHelper, b: id as u64, ..c },
            Instr::Call { callee } => {
                c = Compiled { kind: Kind::CallLocal, a: program.functions()[callee].start as i32, ..c };
            }
            Instr::Exit => c = Compiled { kind: Kind::Exit, ..c },
        }
        // Verified code always stays inside; this re-check keeps `run` sound on `Code`
        // alone. Slots outside every function (before the first one, which the verifier
        // only checks) are not instructions of the program and stay faults.
        out[pc] = if stays_inside(&c, pc, n) { c } else { Compiled::TAIL };
    }
    Ok(Code { buffer, slots: n, program: program.id() })
}

const fn size_index(size: Size) -> usize {
    match size {
        Size::B => 0,
        Size::H => 1,
        Size::W => 2,
        Size::DW => 3,
    }
}

/// The region table in the form the hot loop wants: per slot, the host base,
/// and the readable and writable lengths (0 when the access is not granted).
/// Lengths are 32-bit: every region lies inside the low 4 GiB of the address space,
/// so a 32-bit core checks an access in 32-bit arithmetic once the upper half of the
/// address is known to be 0.
#[derive(Debug)]
struct Regions {
    base: [*mut u8; SLOTS],
    read_len: [u32; SLOTS],
    write_len: [u32; SLOTS],
}

impl Regions {
    const EMPTY: Regions = Regions { base: [core::ptr::null_mut(); SLOTS], read_len: [0; SLOTS], write_len: [0; SLOTS] };

    fn fill(&mut self, memory: &MemoryMap) {
        for (i, region) in memory.regions().iter().enumerate() {
            self.base[i] = region.base;
            self.read_len[i] = region.len;
            self.write_len[i] = if region.writable != 0 { region.len } else { 0 };
        }
    }

    /// The host address of `[addr, addr + N)` if `lens` grants it.
    #[inline(always)]
    fn at<const N: u32>(&self, lens: &[u32; SLOTS], addr: u64) -> Option<*mut u8> {
        let (high, low) = ((addr >> 32) as u32, addr as u32);
        let slot = (low >> SLOT_SHIFT) as usize;
        let offset = low & ((1 << SLOT_SHIFT) - 1);
        // `slot < 16 = SLOTS` (a 32-bit value shifted right by 28), so the index needs
        // no bounds check; `offset < 2^28`, so `offset + N` cannot wrap.
        if high == 0 && offset + N <= lens[slot % SLOTS] {
            // SAFETY: the address is `slot << 28 | offset` (upper half 0), and
            // `offset + N <= lens[slot]`, which is 0 or the length of the region at
            // `base[slot]`, borrowed by the map for the whole run (`fill` at its start).
            Some(unsafe { self.base[slot % SLOTS].add(offset as usize) })
        } else {
            None
        }
    }

    #[inline(always)]
    fn load<const N: u32>(&self, addr: u64) -> Option<u64> {
        let p = self.at::<N>(&self.read_len, addr)?;
        if (p as usize).is_multiple_of(N as usize) {
            // SAFETY: `at` proved N bytes at `p` readable, and `p` is aligned for the
            // N-byte type read; the guest's memory is little-endian whatever the host.
            return Some(unsafe {
                match N {
                    1 => *p as u64,
                    2 => u16::from_le(p.cast::<u16>().read()) as u64,
                    4 => u32::from_le(p.cast::<u32>().read()) as u64,
                    _ => u64::from_le(p.cast::<u64>().read()),
                }
            });
        }
        let mut b = [0u8; 8];
        // SAFETY: `at` proved N (<= 8) bytes at `p` readable; `b` holds 8; a byte
        // copy needs no alignment.
        unsafe { core::ptr::copy_nonoverlapping(p, b.as_mut_ptr(), N as usize) };
        Some(u64::from_le_bytes(b))
    }

    #[inline(always)]
    fn store<const N: u32>(&self, addr: u64, value: u64) -> Option<()> {
        let p = self.at::<N>(&self.write_len, addr)?;
        if (p as usize).is_multiple_of(N as usize) {
            // SAFETY: `at` proved N bytes at `p` writable, in a region of the map `run`
            // holds `&mut`, and `p` is aligned for the N-byte type written; no
            // reference into the region is live during the write.
            unsafe {
                match N {
                    1 => *p = value as u8,
                    2 => p.cast::<u16>().write((value as u16).to_le()),
                    4 => p.cast::<u32>().write((value as u32).to_le()),
                    _ => p.cast::<u64>().write(value.to_le()),
                }
            }
            return Some(());
        }
        // SAFETY: `at` proved N (<= 8) bytes at `p` writable, in a region of the map
        // `run` holds `&mut`; no reference into it is live during the copy.
        unsafe { core::ptr::copy_nonoverlapping(value.to_le_bytes().as_ptr(), p, N as usize) };
        Some(())
    }
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    return_pc: usize,
    saved: [u64; 4],
    r10: u64,
}

/// What a run works on, kept in the engine's memory rather than on the native stack
/// (a microcontroller's is a few KiB, and the hot loop reaches all of it through one
/// pointer): the registers, the region table and room for the deepest chain of local
/// calls the verifier proved. Allocated once per loaded program.
#[derive(Debug)]
pub struct Workspace {
    /// Sixteen registers so that `index & 15` needs no bounds check; 11..15 stay unused.
    regs: [u64; 16],
    regions: Regions,
    frames: alloc::vec::Vec<Frame>,
}

impl Workspace {
    /// A workspace for `program`'s deepest call chain, in one allocation besides the
    /// frames'; NO_MEMORY when there is no room.
    pub fn for_program(program: &VerifiedProgram) -> Result<alloc::boxed::Box<Workspace>, ErrorCode> {
        let depth = (0..program.functions().len()).map(|f| program.depth(f)).max().unwrap_or(0);
        let frames = crate::fallible::with_capacity(depth).map_err(|_| ErrorCode::NoMemory)?;
        crate::fallible::boxed(Workspace { regs: [0; 16], regions: Regions::EMPTY, frames }).map_err(|_| ErrorCode::NoMemory)
    }
}

/// Runs `program`, [`compile`]d into `code`. Code compiled from another program,
/// or an entry outside the code, fails the run with ILLEGAL_INSTRUCTION at slot 0.
pub fn run<B: Buffer>(
    program: &VerifiedProgram,
    code: &Code<B>,
    inv: &Invocation,
    memory: &mut MemoryMap,
    helpers: &mut dyn Helpers,
    ws: &mut Workspace,
) -> Result<u64, Trap> {
    let refused = Trap { code: ErrorCode::IllegalInstruction, pc: 0 };
    if code.program != program.id() || code.slots != program.slot_count() {
        return Err(refused);
    }
    let mut pc = program.functions().get(inv.function).ok_or(refused)?.start;
    let code = code.buffer.entries().get(..code.slots).ok_or(refused)?;
    if pc >= code.len() {
        return Err(refused);
    }
    let Workspace { regs: r, regions, frames } = ws;
    regions.fill(memory);
    *r = [0; 16];
    r[1] = inv.r1;
    r[2] = inv.r2;
    r[10] = inv.stack_top(program);
    // Budget off: a countdown that is refilled whenever it reaches 0, and helpers cost nothing.
    let off = inv.budget.is_none();
    let mut budget: u32 = inv.budget.unwrap_or(u32::MAX);
    frames.clear();
    let frame_size = inv.frame_size as u64;
    macro_rules! fault {
        ($code:expr) => {
            return Err(Trap { code: $code, pc })
        };
    }
    macro_rules! jump {
        ($cond:expr, $i:expr) => {
            if $cond {
                if budget == 0 {
                    if !off {
                        fault!(ErrorCode::OutOfBranches);
                    }
                    budget = u32::MAX;
                }
                budget -= 1;
                pc = $i.a as usize;
                continue;
            }
        };
    }
    macro_rules! load {
        ($n:literal, $i:expr) => {
            match regions.load::<$n>((*reg(r, $i.src)).wrapping_add($i.a as i64 as u64)) {
                Some(v) => v,
                None => fault!(ErrorCode::IllegalMem),
            }
        };
    }
    macro_rules! store {
        ($n:literal, $i:expr, $v:expr) => {
            if regions.store::<$n>((*reg(r, $i.dst)).wrapping_add($i.a as i64 as u64), $v).is_none() {
                fault!(ErrorCode::IllegalMem);
            }
        };
    }
    loop {
        debug_assert!(pc < code.len());
        // SAFETY: `pc < code.len()`. It holds for the entry (checked above), and every
        // later `pc` is a successor of an entry of `code`: a jump or call target, the
        // slot after an instruction that falls through (two after a Const64), or the
        // return slot after a CallLocal, popped from `frames`. `compile`, the only maker
        // of a `Code`, kept only entries whose successors are all below `code.len()`
        // (`stays_inside`), and `code` is exactly those entries.
        let i = unsafe { code.get_unchecked(pc) };
        // Fields are read inside each arm, so an operation loads only what it uses.
        macro_rules! d {
            () => {
                *reg(r, i.dst)
            };
        }
        macro_rules! s {
            () => {
                *reg(r, i.src)
            };
        }
        macro_rules! x {
            () => {
                *reg(r, i.sub)
            };
        }
        // A pair's result, and the slot after its second instruction.
        macro_rules! pair {
            ($v:expr) => {{
                d!() = $v;
                pc += 2;
                continue;
            }};
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
                pc += 2;
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
                let wide = i.kind == Kind::Atomic64;
                let addr = d!().wrapping_add(i.a as i64 as u64);
                // Read and write access are both required, even when nothing is stored.
                let writable = if wide { regions.at::<8>(&regions.write_len, addr) } else { regions.at::<4>(&regions.write_len, addr) };
                if writable.is_none() {
                    fault!(ErrorCode::IllegalMem);
                }
                let old = if wide { regions.load::<8>(addr) } else { regions.load::<4>(addr) };
                let Some(old) = old else { fault!(ErrorCode::IllegalMem) };
                let mask = if wide { u64::MAX } else { u32::MAX as u64 };
                let operand = s!();
                let op = AtomicOp::ALL[i.sub as usize];
                let new = match op {
                    AtomicOp::Add { .. } => old.wrapping_add(operand),
                    AtomicOp::Or { .. } => old | operand,
                    AtomicOp::And { .. } => old & operand,
                    AtomicOp::Xor { .. } => old ^ operand,
                    AtomicOp::Xchg => operand,
                    AtomicOp::CmpXchg => {
                        if old == r[0] & mask {
                            operand
                        } else {
                            old
                        }
                    }
                };
                let stored = if wide { regions.store::<8>(addr, new) } else { regions.store::<4>(addr, new) };
                if stored.is_none() {
                    fault!(ErrorCode::IllegalMem);
                }
                match op {
                    AtomicOp::CmpXchg => r[0] = old,
                    _ if op.fetches() => s!() = old,
                    _ => {}
                }
            }
            Kind::Ja => jump!(true, i),
            Kind::CallHelper => {
                let args = [r[1], r[2], r[3], r[4], r[5]];
                let mut view = memory.helper_view();
                // The helper's work is charged first; what the budget cannot pay is not done.
                if !off {
                    let cost = helpers.cost(i.b as u32, args, &view);
                    if cost > u64::from(budget) {
                        fault!(ErrorCode::OutOfBranches);
                    }
                    budget -= cost as u32;
                }
                match helpers.call(i.b as u32, args, &mut view) {
                    HelperOutcome::Return(v) => r[0] = v,
                    HelperOutcome::Exit(v) => return Ok(v),
                }
            }
            Kind::CallLocal => {
                let frame = Frame { return_pc: pc + 1, saved: [r[6], r[7], r[8], r[9]], r10: r[10] };
                // Never full for a verified program (its depth sized the frames); push then
                // stays within the capacity and never allocates.
                if frames.len() == frames.capacity() {
                    fault!(ErrorCode::IllegalCall);
                }
                frames.push(frame);
                r[10] -= frame_size;
                pc = i.a as usize;
                continue;
            }
            Kind::Exit => match frames.pop() {
                Some(frame) => {
                    r[6..10].copy_from_slice(&frame.saved);
                    r[10] = frame.r10;
                    pc = frame.return_pc;
                    continue;
                }
                None => return Ok(r[0]),
            },
            Kind::MovAdd64I => pair!(s!().wrapping_add(i.b)),
            Kind::MovAdd64R => pair!(s!().wrapping_add(x!())),
            Kind::MovAdd32I => pair!((s!() as u32).wrapping_add(i.b as u32) as u64),
            Kind::MovAdd32R => pair!((s!() as u32).wrapping_add(x!() as u32) as u64),
            Kind::MovSub64I => pair!(s!().wrapping_sub(i.b)),
            Kind::MovSub64R => pair!(s!().wrapping_sub(x!())),
            Kind::MovSub32I => pair!((s!() as u32).wrapping_sub(i.b as u32) as u64),
            Kind::MovSub32R => pair!((s!() as u32).wrapping_sub(x!() as u32) as u64),
            Kind::MovOr64I => pair!(s!() | i.b),
            Kind::MovOr64R => pair!(s!() | x!()),
            Kind::MovOr32I => pair!((s!() as u32 | i.b as u32) as u64),
            Kind::MovOr32R => pair!((s!() as u32 | x!() as u32) as u64),
            Kind::MovAnd64I => pair!(s!() & i.b),
            Kind::MovAnd64R => pair!(s!() & x!()),
            Kind::MovAnd32I => pair!((s!() as u32 & i.b as u32) as u64),
            Kind::MovAnd32R => pair!((s!() as u32 & x!() as u32) as u64),
            Kind::MovLsh64I => pair!(s!() << (i.b & 63)),
            Kind::MovLsh64R => pair!(s!() << (x!() & 63)),
            Kind::MovLsh32I => pair!(((s!() as u32) << (i.b & 31)) as u64),
            Kind::MovLsh32R => pair!(((s!() as u32) << (x!() & 31)) as u64),
            Kind::MovRsh64I => pair!(s!() >> (i.b & 63)),
            Kind::MovRsh64R => pair!(s!() >> (x!() & 63)),
            Kind::MovRsh32I => pair!(((s!() as u32) >> (i.b & 31)) as u64),
            Kind::MovRsh32R => pair!(((s!() as u32) >> (x!() & 31)) as u64),
            Kind::MovXor64I => pair!(s!() ^ i.b),
            Kind::MovXor64R => pair!(s!() ^ x!()),
            Kind::MovXor32I => pair!((s!() as u32 ^ i.b as u32) as u64),
            Kind::MovXor32R => pair!((s!() as u32 ^ x!() as u32) as u64),
            Kind::Tail => fault!(ErrorCode::IllegalInstruction),
        }
        pc += 1;
    }
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
}
