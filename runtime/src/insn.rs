//! The one instruction decoder: 8-byte eBPF slots <-> the exhaustive [`Op`] enum, and its C-like rendering.
//!
//! Every consumer (dump, verifier, interpreters, assembler, backends) goes through
//! [`decode`] / [`Op::encode`]. Sub-enums carry their own code tables (`code()` /
//! `from_code()` / `mnemonic()`), so the bits of an opcode are spelled out once.

use core::fmt;

/// Size of one instruction slot in bytes.
pub const SLOT: usize = 8;

/// An eBPF register, r0..=r10; no other value can be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(u8);

impl Reg {
    pub const R0: Reg = Reg(0);
    pub const R1: Reg = Reg(1);
    pub const R2: Reg = Reg(2);
    pub const R10: Reg = Reg(10);
    /// The frame pointer; read-only for programs.
    pub const FP: Reg = Reg(10);

    pub const fn new(n: u8) -> Option<Reg> {
        if n <= 10 {
            Some(Reg(n))
        } else {
            None
        }
    }
    pub const fn index(self) -> usize {
        self.0 as usize
    }
    pub const fn num(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// Operation width: ALU vs ALU64, JMP32 vs JMP, word vs double-word atomics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    W32,
    W64,
}

/// Access size of a load or store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    B,
    H,
    W,
    DW,
}

impl Size {
    pub const ALL: [Size; 4] = [Size::B, Size::H, Size::W, Size::DW];
    const fn code(self) -> u8 {
        match self {
            Size::W => 0x00,
            Size::H => 0x08,
            Size::B => 0x10,
            Size::DW => 0x18,
        }
    }
    const fn from_code(c: u8) -> Size {
        match c & 0x18 {
            0x00 => Size::W,
            0x08 => Size::H,
            0x10 => Size::B,
            _ => Size::DW,
        }
    }
    pub const fn bytes(self) -> usize {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }
    /// Suffix of the load/store mnemonics: `ldxb`, `stdw`, ...
    pub const fn suffix(self) -> &'static str {
        match self {
            Size::B => "b",
            Size::H => "h",
            Size::W => "w",
            Size::DW => "dw",
        }
    }
}

/// The narrower width of a sign-extending load or move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SxSize {
    B,
    H,
    W,
}

impl SxSize {
    pub const fn bits(self) -> u32 {
        match self {
            SxSize::B => 8,
            SxSize::H => 16,
            SxSize::W => 32,
        }
    }
    pub const fn size(self) -> Size {
        match self {
            SxSize::B => Size::B,
            SxSize::H => Size::H,
            SxSize::W => Size::W,
        }
    }
    const fn from_bits(bits: i16) -> Option<SxSize> {
        match bits {
            8 => Some(SxSize::B),
            16 => Some(SxSize::H),
            32 => Some(SxSize::W),
            _ => None,
        }
    }
}

/// Source operand of ALU, jump and store instructions: the `K`/`X` bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    Reg(Reg),
    Imm(i32),
}

/// Binary ALU operations (NEG, END and MOVSX have their own [`Op`] variants).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    Div,
    SDiv,
    Or,
    And,
    Lsh,
    Rsh,
    Mod,
    SMod,
    Xor,
    Mov,
    Arsh,
}

impl AluOp {
    pub const ALL: [AluOp; 14] = [
        AluOp::Add,
        AluOp::Sub,
        AluOp::Mul,
        AluOp::Div,
        AluOp::SDiv,
        AluOp::Or,
        AluOp::And,
        AluOp::Lsh,
        AluOp::Rsh,
        AluOp::Mod,
        AluOp::SMod,
        AluOp::Xor,
        AluOp::Mov,
        AluOp::Arsh,
    ];
    /// The position of the operation in [`AluOp::ALL`].
    pub const fn index(self) -> usize {
        match self {
            AluOp::Add => 0,
            AluOp::Sub => 1,
            AluOp::Mul => 2,
            AluOp::Div => 3,
            AluOp::SDiv => 4,
            AluOp::Or => 5,
            AluOp::And => 6,
            AluOp::Lsh => 7,
            AluOp::Rsh => 8,
            AluOp::Mod => 9,
            AluOp::SMod => 10,
            AluOp::Xor => 11,
            AluOp::Mov => 12,
            AluOp::Arsh => 13,
        }
    }
    /// (operation nibble, offset field) of the encoding.
    const fn code(self) -> (u8, i16) {
        match self {
            AluOp::Add => (0x00, 0),
            AluOp::Sub => (0x10, 0),
            AluOp::Mul => (0x20, 0),
            AluOp::Div => (0x30, 0),
            AluOp::SDiv => (0x30, 1),
            AluOp::Or => (0x40, 0),
            AluOp::And => (0x50, 0),
            AluOp::Lsh => (0x60, 0),
            AluOp::Rsh => (0x70, 0),
            AluOp::Mod => (0x90, 0),
            AluOp::SMod => (0x90, 1),
            AluOp::Xor => (0xa0, 0),
            AluOp::Mov => (0xb0, 0),
            AluOp::Arsh => (0xc0, 0),
        }
    }
    pub const fn mnemonic(self) -> &'static str {
        match self {
            AluOp::Add => "add",
            AluOp::Sub => "sub",
            AluOp::Mul => "mul",
            AluOp::Div => "div",
            AluOp::SDiv => "sdiv",
            AluOp::Or => "or",
            AluOp::And => "and",
            AluOp::Lsh => "lsh",
            AluOp::Rsh => "rsh",
            AluOp::Mod => "mod",
            AluOp::SMod => "smod",
            AluOp::Xor => "xor",
            AluOp::Mov => "mov",
            AluOp::Arsh => "arsh",
        }
    }
    /// The C operator of the dump (`rD OP= src`); arsh prints as `>>=` like the old printer.
    const fn c_operator(self) -> &'static str {
        match self {
            AluOp::Add => "+=",
            AluOp::Sub => "-=",
            AluOp::Mul => "*=",
            AluOp::Div => "/=",
            AluOp::SDiv => "s/=",
            AluOp::Or => "|=",
            AluOp::And => "&=",
            AluOp::Lsh => "<<=",
            AluOp::Rsh | AluOp::Arsh => ">>=",
            AluOp::Mod => "%=",
            AluOp::SMod => "s%=",
            AluOp::Xor => "^=",
            AluOp::Mov => "=",
        }
    }
}

/// Conditions of conditional jumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    Eq,
    Gt,
    Ge,
    Set,
    Ne,
    Sgt,
    Sge,
    Lt,
    Le,
    Slt,
    Sle,
}

impl Cond {
    pub const ALL: [Cond; 11] = [
        Cond::Eq,
        Cond::Gt,
        Cond::Ge,
        Cond::Set,
        Cond::Ne,
        Cond::Sgt,
        Cond::Sge,
        Cond::Lt,
        Cond::Le,
        Cond::Slt,
        Cond::Sle,
    ];
    /// The position of the condition in [`Cond::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Cond::Eq => 0,
            Cond::Gt => 1,
            Cond::Ge => 2,
            Cond::Set => 3,
            Cond::Ne => 4,
            Cond::Sgt => 5,
            Cond::Sge => 6,
            Cond::Lt => 7,
            Cond::Le => 8,
            Cond::Slt => 9,
            Cond::Sle => 10,
        }
    }
    const fn code(self) -> u8 {
        match self {
            Cond::Eq => 0x10,
            Cond::Gt => 0x20,
            Cond::Ge => 0x30,
            Cond::Set => 0x40,
            Cond::Ne => 0x50,
            Cond::Sgt => 0x60,
            Cond::Sge => 0x70,
            Cond::Lt => 0xa0,
            Cond::Le => 0xb0,
            Cond::Slt => 0xc0,
            Cond::Sle => 0xd0,
        }
    }
    const fn from_code(c: u8) -> Option<Cond> {
        Some(match c {
            0x10 => Cond::Eq,
            0x20 => Cond::Gt,
            0x30 => Cond::Ge,
            0x40 => Cond::Set,
            0x50 => Cond::Ne,
            0x60 => Cond::Sgt,
            0x70 => Cond::Sge,
            0xa0 => Cond::Lt,
            0xb0 => Cond::Le,
            0xc0 => Cond::Slt,
            0xd0 => Cond::Sle,
            _ => return None,
        })
    }
    pub const fn mnemonic(self) -> &'static str {
        match self {
            Cond::Eq => "jeq",
            Cond::Gt => "jgt",
            Cond::Ge => "jge",
            Cond::Set => "jset",
            Cond::Ne => "jne",
            Cond::Sgt => "jsgt",
            Cond::Sge => "jsge",
            Cond::Lt => "jlt",
            Cond::Le => "jle",
            Cond::Slt => "jslt",
            Cond::Sle => "jsle",
        }
    }
    /// Dump operator; signed forms print the same operators as the unsigned ones (spec §1).
    const fn c_operator(self) -> &'static str {
        match self {
            Cond::Eq => "==",
            Cond::Gt | Cond::Sgt => ">",
            Cond::Ge | Cond::Sge => ">=",
            Cond::Set => "&",
            Cond::Ne => "!=",
            Cond::Lt | Cond::Slt => "<",
            Cond::Le | Cond::Sle => "<=",
        }
    }
}

/// Atomic read-modify-write operations (the `imm` of `STX | ATOMIC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    Add { fetch: bool },
    Or { fetch: bool },
    And { fetch: bool },
    Xor { fetch: bool },
    Xchg,
    CmpXchg,
}

impl AtomicOp {
    /// The value the operation stores over `old`, with `operand` from the source register
    /// and `expected` the value CMPXCHG compares with (r0, at the operation's width).
    /// One definition for every interpreter.
    pub const fn stored(self, old: u64, operand: u64, expected: u64) -> u64 {
        match self {
            AtomicOp::Add { .. } => old.wrapping_add(operand),
            AtomicOp::Or { .. } => old | operand,
            AtomicOp::And { .. } => old & operand,
            AtomicOp::Xor { .. } => old ^ operand,
            AtomicOp::Xchg => operand,
            AtomicOp::CmpXchg => {
                if old == expected {
                    operand
                } else {
                    old
                }
            }
        }
    }

    pub const ALL: [AtomicOp; 10] = [
        AtomicOp::Add { fetch: false },
        AtomicOp::Or { fetch: false },
        AtomicOp::And { fetch: false },
        AtomicOp::Xor { fetch: false },
        AtomicOp::Add { fetch: true },
        AtomicOp::Or { fetch: true },
        AtomicOp::And { fetch: true },
        AtomicOp::Xor { fetch: true },
        AtomicOp::Xchg,
        AtomicOp::CmpXchg,
    ];
    /// The position of the operation in [`AtomicOp::ALL`].
    pub const fn index(self) -> usize {
        match self {
            AtomicOp::Add { fetch } => fetch as usize * 4,
            AtomicOp::Or { fetch } => 1 + fetch as usize * 4,
            AtomicOp::And { fetch } => 2 + fetch as usize * 4,
            AtomicOp::Xor { fetch } => 3 + fetch as usize * 4,
            AtomicOp::Xchg => 8,
            AtomicOp::CmpXchg => 9,
        }
    }
    const fn code(self) -> i32 {
        match self {
            AtomicOp::Add { fetch } => fetch as i32,
            AtomicOp::Or { fetch } => 0x40 | fetch as i32,
            AtomicOp::And { fetch } => 0x50 | fetch as i32,
            AtomicOp::Xor { fetch } => 0xa0 | fetch as i32,
            AtomicOp::Xchg => 0xe1,
            AtomicOp::CmpXchg => 0xf1,
        }
    }
    const fn from_code(c: i32) -> Option<AtomicOp> {
        let fetch = c & 1 == 1;
        Some(match c {
            0x00 | 0x01 => AtomicOp::Add { fetch },
            0x40 | 0x41 => AtomicOp::Or { fetch },
            0x50 | 0x51 => AtomicOp::And { fetch },
            0xa0 | 0xa1 => AtomicOp::Xor { fetch },
            0xe1 => AtomicOp::Xchg,
            0xf1 => AtomicOp::CmpXchg,
            _ => return None,
        })
    }
    /// Name of the operation in the conformance assembly (`lock fetch add`, `lock xchg`, ...).
    pub const fn mnemonic(self) -> &'static str {
        match self {
            AtomicOp::Add { .. } => "add",
            AtomicOp::Or { .. } => "or",
            AtomicOp::And { .. } => "and",
            AtomicOp::Xor { .. } => "xor",
            AtomicOp::Xchg => "xchg",
            AtomicOp::CmpXchg => "cmpxchg",
        }
    }
    pub const fn fetches(self) -> bool {
        match self {
            AtomicOp::Add { fetch } | AtomicOp::Or { fetch } | AtomicOp::And { fetch } | AtomicOp::Xor { fetch } => {
                fetch
            }
            AtomicOp::Xchg | AtomicOp::CmpXchg => true,
        }
    }
}

/// Which way an END instruction converts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// 0xd4: host to little-endian (a truncation on every target here).
    ToLe,
    /// 0xdc: host to big-endian.
    ToBe,
    /// 0xd7: unconditional byte swap.
    Swap,
}

impl ByteOrder {
    pub const fn mnemonic(self) -> &'static str {
        match self {
            ByteOrder::ToLe => "le",
            ByteOrder::ToBe => "be",
            ByteOrder::Swap => "bswap",
        }
    }
}

/// Width of an END instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SwapWidth {
    W16,
    W32,
    W64,
}

impl SwapWidth {
    pub const fn bits(self) -> u32 {
        match self {
            SwapWidth::W16 => 16,
            SwapWidth::W32 => 32,
            SwapWidth::W64 => 64,
        }
    }
}

/// A set of registers, as a bit mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct RegSet(pub u16);

impl RegSet {
    pub const EMPTY: RegSet = RegSet(0);
    pub const ALL: RegSet = RegSet(0x7ff);
    /// r1..=r5: helper and local-call arguments.
    pub const ARGS: RegSet = RegSet(0b11_1110);
    /// r6..=r9: preserved across calls.
    pub const CALLEE_SAVED: RegSet = RegSet(0b11_1100_0000);

    pub const fn of(r: Reg) -> RegSet {
        RegSet(1 << r.0)
    }
    pub const fn with(self, r: Reg) -> RegSet {
        RegSet(self.0 | 1 << r.0)
    }
    pub const fn contains(self, r: Reg) -> bool {
        self.0 & (1 << r.0) != 0
    }
    pub const fn union(self, o: RegSet) -> RegSet {
        RegSet(self.0 | o.0)
    }
    pub const fn intersect(self, o: RegSet) -> RegSet {
        RegSet(self.0 & o.0)
    }
    pub const fn minus(self, o: RegSet) -> RegSet {
        RegSet(self.0 & !o.0)
    }
    /// The registers in ascending order, a step per register (not per possible one).
    pub fn iter(self) -> impl Iterator<Item = Reg> {
        let mut bits = self.0 & RegSet::ALL.0;
        core::iter::from_fn(move || {
            let n = bits.trailing_zeros() as u8;
            bits &= bits.wrapping_sub(1);
            (n < 16).then_some(Reg(n))
        })
    }
}

fn operand_regs(src: Operand) -> RegSet {
    match src {
        Operand::Reg(r) => RegSet::of(r),
        Operand::Imm(_) => RegSet::EMPTY,
    }
}

/// One decoded instruction. Matching on it without `_ =>` makes the compiler list
/// every engine that misses a newly added variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Alu { width: Width, op: AluOp, dst: Reg, src: Operand },
    /// Sign-extending move (MOV with offset 8/16/32).
    MovSx { width: Width, dst: Reg, src: Reg, from: SxSize },
    Neg { width: Width, dst: Reg },
    End { order: ByteOrder, dst: Reg, width: SwapWidth },
    /// 0x18: dst = 64-bit immediate (two slots).
    Lddw { dst: Reg, imm: u64 },
    /// 0xb8 (Femto-Container): dst = data section address + offset (two slots).
    LddwData { dst: Reg, offset: u64 },
    /// 0xd8 (Femto-Container): dst = rodata address + offset (two slots).
    LddwRodata { dst: Reg, offset: u64 },
    Load { size: Size, dst: Reg, src: Reg, off: i16 },
    LoadSx { size: SxSize, dst: Reg, src: Reg, off: i16 },
    Store { size: Size, dst: Reg, off: i16, src: Operand },
    Atomic { width: Width, op: AtomicOp, dst: Reg, src: Reg, off: i16 },
    Ja { off: i16 },
    /// JMP32 | JA: the 32-bit offset is in `imm`.
    Gotol { imm: i32 },
    Jump { width: Width, cond: Cond, dst: Reg, src: Operand, off: i16 },
    CallHelper { id: u32 },
    /// bpf-to-bpf call; the target slot is pc + 1 + imm.
    CallLocal { imm: i32 },
    Exit,
}

/// A decoded instruction and its slot index in the text section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Insn {
    pub pc: usize,
    pub op: Op,
}

/// Which field of an instruction slot a decoding error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Dst,
    Src,
    Offset,
    Imm,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Dst => "dst register",
            Field::Src => "src register",
            Field::Offset => "offset",
            Field::Imm => "immediate",
        })
    }
}

/// Why a slot does not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    UnknownOpcode(u8),
    /// A register field above r10.
    BadRegister { field: Field, value: u8 },
    /// A field the encoding reserves is not zero.
    ReservedNotZero { field: Field, value: i64 },
    /// END width other than 16, 32 or 64.
    BadEndWidth(i32),
    /// MOVSX/SDIV/SMOD offset, or LDDW pseudo-source, the RFC leaves undefined.
    UndefinedForm { field: Field, value: i64 },
    /// LDDW in the last slot, or its second slot not all zero but the immediate.
    IncompleteLddw,
    /// `call` with src=2 (helper by BTF id) or another unsupported call form.
    UnsupportedCall(u8),
}

/// A decoding error and the slot index it happened at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub pc: usize,
    pub kind: DecodeErrorKind,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeErrorKind::UnknownOpcode(op) => write!(f, "unknown opcode 0x{op:02x}"),
            DecodeErrorKind::BadRegister { field, value } => write!(f, "{field} r{value} does not exist (r0..r10)"),
            DecodeErrorKind::ReservedNotZero { field, value } => {
                write!(f, "reserved field not zero: {field} is {value}")
            }
            DecodeErrorKind::BadEndWidth(w) => write!(f, "byte swap width {w} is not 16, 32 or 64"),
            DecodeErrorKind::UndefinedForm { field, value } => {
                write!(f, "undefined instruction form: {field} is {value}")
            }
            DecodeErrorKind::IncompleteLddw => f.write_str("incomplete lddw: the second slot is missing or not zero"),
            DecodeErrorKind::UnsupportedCall(src) => write!(f, "unsupported call form (src {src})"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "insn {}: {}", self.pc, self.kind)
    }
}

/// The raw fields of one 8-byte slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawSlot {
    pub opcode: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

impl RawSlot {
    pub fn from_bytes(b: [u8; SLOT]) -> RawSlot {
        RawSlot {
            opcode: b[0],
            dst: b[1] & 0x0f,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
    pub fn to_bytes(self) -> [u8; SLOT] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [self.opcode, (self.src << 4) | (self.dst & 0x0f), off[0], off[1], imm[0], imm[1], imm[2], imm[3]]
    }
}

// Instruction classes (low three bits of the opcode).
const LD: u8 = 0x00;
const LDX: u8 = 0x01;
const ST: u8 = 0x02;
const STX: u8 = 0x03;
const ALU: u8 = 0x04;
const JMP: u8 = 0x05;
const JMP32: u8 = 0x06;
const ALU64: u8 = 0x07;
// Source bit and modes.
const X: u8 = 0x08;
const MODE_MEM: u8 = 0x60;
const MODE_MEMSX: u8 = 0x80;
const MODE_ATOMIC: u8 = 0xc0;
// Opcodes that are single values.
const LDDW: u8 = 0x18;
const LDDW_DATA: u8 = 0xb8;
const LDDW_RODATA: u8 = 0xd8;
const OP_NEG: u8 = 0x80;
const OP_END: u8 = 0xd0;
const OP_JA: u8 = 0x00;
const OP_CALL: u8 = 0x80;
const OP_EXIT: u8 = 0x90;

/// The slot at `pc`, if the text holds it.
pub fn slot(text: &[u8], pc: usize) -> Option<RawSlot> {
    let start = pc.checked_mul(SLOT)?;
    let bytes = text.get(start..start.checked_add(SLOT)?)?;
    let mut b = [0u8; SLOT];
    b.copy_from_slice(bytes);
    Some(RawSlot::from_bytes(b))
}

/// Number of whole slots in `text`.
pub fn slot_count(text: &[u8]) -> usize {
    text.len() / SLOT
}

struct Checker {
    pc: usize,
    raw: RawSlot,
}

impl Checker {
    fn err(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { pc: self.pc, kind }
    }
    fn reg(&self, field: Field) -> Result<Reg, DecodeError> {
        let value = if field == Field::Dst { self.raw.dst } else { self.raw.src };
        Reg::new(value).ok_or(self.err(DecodeErrorKind::BadRegister { field, value }))
    }
    fn zero(&self, field: Field) -> Result<(), DecodeError> {
        let value = match field {
            Field::Dst => self.raw.dst as i64,
            Field::Src => self.raw.src as i64,
            Field::Offset => self.raw.off as i64,
            Field::Imm => self.raw.imm as i64,
        };
        if value == 0 {
            Ok(())
        } else {
            Err(self.err(DecodeErrorKind::ReservedNotZero { field, value }))
        }
    }
    fn zeros(&self, fields: &[Field]) -> Result<(), DecodeError> {
        fields.iter().try_for_each(|&f| self.zero(f))
    }
    /// The source operand selected by the opcode's X bit; the unused field must be zero.
    fn operand(&self) -> Result<Operand, DecodeError> {
        if self.raw.opcode & X != 0 {
            self.zero(Field::Imm)?;
            Ok(Operand::Reg(self.reg(Field::Src)?))
        } else {
            self.zero(Field::Src)?;
            Ok(Operand::Imm(self.raw.imm))
        }
    }
    fn unknown(&self) -> DecodeError {
        self.err(DecodeErrorKind::UnknownOpcode(self.raw.opcode))
    }
}

/// Decodes the instruction starting at slot `pc` of `text`.
///
/// LDDW forms consume two slots; [`Op::slots`] tells how many were used.
pub fn decode(text: &[u8], pc: usize) -> Result<Insn, DecodeError> {
    let raw = slot(text, pc).ok_or(DecodeError { pc, kind: DecodeErrorKind::IncompleteLddw })?;
    let c = Checker { pc, raw };
    let op = match raw.opcode & 0x07 {
        LD => decode_ld(&c, text)?,
        LDX => decode_ldx(&c)?,
        ST => decode_st(&c)?,
        STX => decode_stx(&c)?,
        ALU => decode_alu(&c, Width::W32)?,
        ALU64 => decode_alu(&c, Width::W64)?,
        JMP => decode_jmp(&c, Width::W64)?,
        _ => decode_jmp(&c, Width::W32)?,
    };
    Ok(Insn { pc, op })
}

fn decode_ld(c: &Checker, text: &[u8]) -> Result<Op, DecodeError> {
    let opcode = c.raw.opcode;
    if opcode != LDDW && opcode != LDDW_DATA && opcode != LDDW_RODATA {
        return Err(c.unknown());
    }
    let dst = c.reg(Field::Dst)?;
    if c.raw.src != 0 {
        // src 1..6 are kernel map/BTF pseudo loads, meaningless without a kernel.
        return Err(c.err(DecodeErrorKind::UndefinedForm { field: Field::Src, value: c.raw.src as i64 }));
    }
    c.zero(Field::Offset)?;
    let hi = match slot(text, c.pc + 1) {
        Some(RawSlot { opcode: 0, dst: 0, src: 0, off: 0, imm }) => imm,
        _ => return Err(c.err(DecodeErrorKind::IncompleteLddw)),
    };
    let imm = (c.raw.imm as u32 as u64) | ((hi as u32 as u64) << 32);
    Ok(match opcode {
        LDDW => Op::Lddw { dst, imm },
        LDDW_DATA => Op::LddwData { dst, offset: imm },
        _ => Op::LddwRodata { dst, offset: imm },
    })
}

fn decode_ldx(c: &Checker) -> Result<Op, DecodeError> {
    let (opcode, size) = (c.raw.opcode, Size::from_code(c.raw.opcode));
    let (dst, src, off) = (c.reg(Field::Dst)?, c.reg(Field::Src)?, c.raw.off);
    match opcode & 0xe0 {
        MODE_MEM => {
            c.zero(Field::Imm)?;
            Ok(Op::Load { size, dst, src, off })
        }
        MODE_MEMSX => {
            let size = match size {
                Size::B => SxSize::B,
                Size::H => SxSize::H,
                Size::W => SxSize::W,
                Size::DW => return Err(c.unknown()),
            };
            c.zero(Field::Imm)?;
            Ok(Op::LoadSx { size, dst, src, off })
        }
        _ => Err(c.unknown()),
    }
}

fn decode_st(c: &Checker) -> Result<Op, DecodeError> {
    if c.raw.opcode & 0xe0 != MODE_MEM {
        return Err(c.unknown());
    }
    let dst = c.reg(Field::Dst)?;
    c.zero(Field::Src)?;
    Ok(Op::Store { size: Size::from_code(c.raw.opcode), dst, off: c.raw.off, src: Operand::Imm(c.raw.imm) })
}

fn decode_stx(c: &Checker) -> Result<Op, DecodeError> {
    let size = Size::from_code(c.raw.opcode);
    match c.raw.opcode & 0xe0 {
        MODE_MEM => {
            let (dst, src) = (c.reg(Field::Dst)?, c.reg(Field::Src)?);
            c.zero(Field::Imm)?;
            Ok(Op::Store { size, dst, off: c.raw.off, src: Operand::Reg(src) })
        }
        MODE_ATOMIC => {
            let width = match size {
                Size::W => Width::W32,
                Size::DW => Width::W64,
                Size::B | Size::H => return Err(c.unknown()),
            };
            let (dst, src) = (c.reg(Field::Dst)?, c.reg(Field::Src)?);
            let op = AtomicOp::from_code(c.raw.imm)
                .ok_or(c.err(DecodeErrorKind::UndefinedForm { field: Field::Imm, value: c.raw.imm as i64 }))?;
            Ok(Op::Atomic { width, op, dst, src, off: c.raw.off })
        }
        _ => Err(c.unknown()),
    }
}

fn decode_alu(c: &Checker, width: Width) -> Result<Op, DecodeError> {
    let code = c.raw.opcode & 0xf0;
    let dst = c.reg(Field::Dst)?;
    match code {
        OP_NEG => {
            if c.raw.opcode & X != 0 {
                return Err(c.unknown());
            }
            c.zeros(&[Field::Src, Field::Offset, Field::Imm])?;
            Ok(Op::Neg { width, dst })
        }
        OP_END => {
            let order = match (width, c.raw.opcode & X != 0) {
                (Width::W32, false) => ByteOrder::ToLe,
                (Width::W32, true) => ByteOrder::ToBe,
                (Width::W64, false) => ByteOrder::Swap,
                (Width::W64, true) => return Err(c.unknown()),
            };
            c.zeros(&[Field::Src, Field::Offset])?;
            let w = match c.raw.imm {
                16 => SwapWidth::W16,
                32 => SwapWidth::W32,
                64 => SwapWidth::W64,
                other => return Err(c.err(DecodeErrorKind::BadEndWidth(other))),
            };
            Ok(Op::End { order, dst, width: w })
        }
        0xe0 | 0xf0 => Err(c.unknown()),
        _ => {
            let off = c.raw.off;
            let undefined = || c.err(DecodeErrorKind::UndefinedForm { field: Field::Offset, value: off as i64 });
            let op = match (code, off) {
                (0x30, 1) => AluOp::SDiv,
                (0x90, 1) => AluOp::SMod,
                (0x30 | 0x90, _) if off != 0 => return Err(undefined()),
                (0xb0, 8 | 16 | 32) if c.raw.opcode & X != 0 => {
                    let from = SxSize::from_bits(off).ok_or_else(undefined)?;
                    if width == Width::W32 && from == SxSize::W {
                        return Err(undefined());
                    }
                    c.zero(Field::Imm)?;
                    return Ok(Op::MovSx { width, dst, src: c.reg(Field::Src)?, from });
                }
                _ => {
                    c.zero(Field::Offset)?;
                    AluOp::ALL.into_iter().find(|a| a.code() == (code, 0)).ok_or(c.unknown())?
                }
            };
            Ok(Op::Alu { width, op, dst, src: c.operand()? })
        }
    }
}

fn decode_jmp(c: &Checker, width: Width) -> Result<Op, DecodeError> {
    let code = c.raw.opcode & 0xf0;
    let is_x = c.raw.opcode & X != 0;
    match (code, width) {
        (OP_JA, _) if is_x => Err(c.unknown()),
        (OP_JA, Width::W64) => {
            c.zeros(&[Field::Dst, Field::Src, Field::Imm])?;
            Ok(Op::Ja { off: c.raw.off })
        }
        (OP_JA, Width::W32) => {
            c.zeros(&[Field::Dst, Field::Src, Field::Offset])?;
            Ok(Op::Gotol { imm: c.raw.imm })
        }
        (OP_CALL, Width::W64) if !is_x => {
            c.zeros(&[Field::Dst, Field::Offset])?;
            match c.raw.src {
                0 => Ok(Op::CallHelper { id: c.raw.imm as u32 }),
                1 => Ok(Op::CallLocal { imm: c.raw.imm }),
                src => Err(c.err(DecodeErrorKind::UnsupportedCall(src))),
            }
        }
        (OP_EXIT, Width::W64) if !is_x => {
            c.zeros(&[Field::Dst, Field::Src, Field::Offset, Field::Imm])?;
            Ok(Op::Exit)
        }
        _ => {
            let cond = Cond::from_code(code).ok_or(c.unknown())?;
            let dst = c.reg(Field::Dst)?;
            Ok(Op::Jump { width, cond, dst, src: c.operand()?, off: c.raw.off })
        }
    }
}

/// An encoded instruction: one or two slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoded {
    bytes: [u8; 2 * SLOT],
    len: usize,
}

impl Encoded {
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

fn operand_fields(src: Operand) -> (u8, u8, i32) {
    match src {
        Operand::Reg(r) => (X, r.num(), 0),
        Operand::Imm(i) => (0, 0, i),
    }
}

const fn width_class(width: Width, narrow: u8, wide: u8) -> u8 {
    match width {
        Width::W32 => narrow,
        Width::W64 => wide,
    }
}

impl Op {
    /// Number of 8-byte slots the instruction occupies.
    pub const fn slots(&self) -> usize {
        match self {
            Op::Lddw { .. } | Op::LddwData { .. } | Op::LddwRodata { .. } => 2,
            _ => 1,
        }
    }

    /// Registers the instruction reads. Helper arguments and a local call's
    /// arguments are not listed: the verifier handles calls by their callee.
    pub fn reads(&self) -> RegSet {
        self.registers().0
    }

    /// Registers the instruction defines (a local call also makes r1-r5 undefined).
    pub fn writes(&self) -> RegSet {
        self.registers().1
    }

    /// [`Op::reads`] and [`Op::writes`] in one match: what the verifier asks of every instruction.
    pub fn registers(&self) -> (RegSet, RegSet) {
        let (none, one) = (RegSet::EMPTY, RegSet::of);
        match *self {
            Op::Alu { op: AluOp::Mov, dst, src, .. } => (operand_regs(src), one(dst)),
            Op::Alu { dst, src, .. } => (operand_regs(src).with(dst), one(dst)),
            Op::Jump { dst, src, .. } | Op::Store { dst, src, .. } => (operand_regs(src).with(dst), none),
            Op::MovSx { dst, src, .. } | Op::Load { dst, src, .. } | Op::LoadSx { dst, src, .. } => (one(src), one(dst)),
            Op::Neg { dst, .. } | Op::End { dst, .. } => (one(dst), one(dst)),
            Op::Atomic { op: AtomicOp::CmpXchg, dst, src, .. } => (one(dst).with(src).with(Reg::R0), one(Reg::R0)),
            Op::Atomic { op, dst, src, .. } => (one(dst).with(src), if op.fetches() { one(src) } else { none }),
            Op::Exit => (one(Reg::R0), none),
            Op::Lddw { dst, .. } | Op::LddwData { dst, .. } | Op::LddwRodata { dst, .. } => (none, one(dst)),
            Op::Ja { .. } | Op::Gotol { .. } => (none, none),
            Op::CallHelper { .. } | Op::CallLocal { .. } => (none, one(Reg::R0)),
        }
    }

    /// Whether control can go on to the next instruction.
    pub const fn falls_through(&self) -> bool {
        !matches!(self, Op::Exit | Op::Ja { .. } | Op::Gotol { .. })
    }

    /// The slot a jump goes to when taken, for the jump at `pc`.
    pub fn jump_target(&self, pc: usize) -> Option<i64> {
        let rel = match *self {
            Op::Ja { off } | Op::Jump { off, .. } => off as i64,
            Op::Gotol { imm } => imm as i64,
            _ => return None,
        };
        Some(pc as i64 + 1 + rel)
    }

    /// The slot a local call enters, for the call at `pc`.
    pub fn call_target(&self, pc: usize) -> Option<i64> {
        match *self {
            Op::CallLocal { imm } => Some(pc as i64 + 1 + imm as i64),
            _ => None,
        }
    }

    /// Encodes back to the exact bytes [`decode`] accepts.
    pub fn encode(&self) -> Encoded {
        let one = |opcode: u8, dst: u8, src: u8, off: i16, imm: i32| RawSlot { opcode, dst, src, off, imm };
        let wide = |opcode: u8, dst: Reg, v: u64| {
            [one(opcode, dst.num(), 0, 0, v as u32 as i32), one(0, 0, 0, 0, (v >> 32) as u32 as i32)]
        };
        let slots: [RawSlot; 2] = match *self {
            Op::Alu { width, op, dst, src } => {
                let (code, off) = op.code();
                let (x, s, imm) = operand_fields(src);
                [one(code | x | width_class(width, ALU, ALU64), dst.num(), s, off, imm), one(0, 0, 0, 0, 0)]
            }
            Op::MovSx { width, dst, src, from } => [
                one(0xb0 | X | width_class(width, ALU, ALU64), dst.num(), src.num(), from.bits() as i16, 0),
                one(0, 0, 0, 0, 0),
            ],
            Op::Neg { width, dst } => [one(OP_NEG | width_class(width, ALU, ALU64), dst.num(), 0, 0, 0), one(0, 0, 0, 0, 0)],
            Op::End { order, dst, width } => {
                let opcode = match order {
                    ByteOrder::ToLe => OP_END | ALU,
                    ByteOrder::ToBe => OP_END | X | ALU,
                    ByteOrder::Swap => OP_END | ALU64,
                };
                [one(opcode, dst.num(), 0, 0, width.bits() as i32), one(0, 0, 0, 0, 0)]
            }
            Op::Lddw { dst, imm } => wide(LDDW, dst, imm),
            Op::LddwData { dst, offset } => wide(LDDW_DATA, dst, offset),
            Op::LddwRodata { dst, offset } => wide(LDDW_RODATA, dst, offset),
            Op::Load { size, dst, src, off } => {
                [one(MODE_MEM | size.code() | LDX, dst.num(), src.num(), off, 0), one(0, 0, 0, 0, 0)]
            }
            Op::LoadSx { size, dst, src, off } => {
                [one(MODE_MEMSX | size.size().code() | LDX, dst.num(), src.num(), off, 0), one(0, 0, 0, 0, 0)]
            }
            Op::Store { size, dst, off, src } => {
                let slot = match src {
                    Operand::Reg(r) => one(MODE_MEM | size.code() | STX, dst.num(), r.num(), off, 0),
                    Operand::Imm(i) => one(MODE_MEM | size.code() | ST, dst.num(), 0, off, i),
                };
                [slot, one(0, 0, 0, 0, 0)]
            }
            Op::Atomic { width, op, dst, src, off } => {
                let size = width_class(width, Size::W.code(), Size::DW.code());
                [one(MODE_ATOMIC | size | STX, dst.num(), src.num(), off, op.code()), one(0, 0, 0, 0, 0)]
            }
            Op::Ja { off } => [one(OP_JA | JMP, 0, 0, off, 0), one(0, 0, 0, 0, 0)],
            Op::Gotol { imm } => [one(OP_JA | JMP32, 0, 0, 0, imm), one(0, 0, 0, 0, 0)],
            Op::Jump { width, cond, dst, src, off } => {
                let (x, s, imm) = operand_fields(src);
                [one(cond.code() | x | width_class(width, JMP32, JMP), dst.num(), s, off, imm), one(0, 0, 0, 0, 0)]
            }
            Op::CallHelper { id } => [one(OP_CALL | JMP, 0, 0, 0, id as i32), one(0, 0, 0, 0, 0)],
            Op::CallLocal { imm } => [one(OP_CALL | JMP, 0, 1, 0, imm), one(0, 0, 0, 0, 0)],
            Op::Exit => [one(OP_EXIT | JMP, 0, 0, 0, 0), one(0, 0, 0, 0, 0)],
        };
        let mut bytes = [0u8; 2 * SLOT];
        bytes[..SLOT].copy_from_slice(&slots[0].to_bytes());
        bytes[SLOT..].copy_from_slice(&slots[1].to_bytes());
        Encoded { bytes, len: self.slots() * SLOT }
    }

    /// The C-like rendering of the dump. `local_name` names the function that starts
    /// at a slot index, so local calls print as `call <name>`.
    pub fn display<'n>(&self, pc: usize, local_name: &'n dyn Fn(usize) -> Option<&'n str>) -> Rendering<'n> {
        Rendering { op: *self, pc, local_name }
    }
}

/// An [`Op`] shown as the dump shows it; see [`Op::display`].
pub struct Rendering<'a> {
    op: Op,
    pc: usize,
    local_name: &'a dyn Fn(usize) -> Option<&'a str>,
}

/// `rN` or `wN` depending on the operation width.
struct R(Width, Reg);

impl fmt::Display for R {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Width::W32 => write!(f, "w{}", self.1.num()),
            Width::W64 => write!(f, "r{}", self.1.num()),
        }
    }
}

struct Src(Width, Operand);

impl fmt::Display for Src {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Operand::Reg(r) => R(self.0, r).fmt(f),
            Operand::Imm(i) => write!(f, "{i}"),
        }
    }
}

/// `(uintN_t*)(rB + OFF)`, with negative offsets as `- N`.
struct Mem(&'static str, Reg, i16);

impl fmt::Display for Mem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (sign, mag) = if self.2 < 0 { ('-', -(self.2 as i32)) } else { ('+', self.2 as i32) };
        write!(f, "({}*)({} {} {})", self.0, self.1, sign, mag)
    }
}

/// A jump offset with its sign: `+3`, `-2`.
struct Off(i64);

impl fmt::Display for Off {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:+}", self.0)
    }
}

const fn c_type(size: Size) -> &'static str {
    match size {
        Size::B => "uint8_t",
        Size::H => "uint16_t",
        Size::W => "uint32_t",
        Size::DW => "uint64_t",
    }
}

const fn c_signed_type(size: SxSize) -> &'static str {
    match size {
        SxSize::B => "int8_t",
        SxSize::H => "int16_t",
        SxSize::W => "int32_t",
    }
}

impl fmt::Display for Rendering<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            Op::Alu { width, op, dst, src } => write!(f, "{} {} {}", R(width, dst), op.c_operator(), Src(width, src)),
            Op::MovSx { width, dst, src, from } => {
                write!(f, "{} = ({}){}", R(width, dst), c_signed_type(from), R(width, src))
            }
            Op::Neg { width, dst } => write!(f, "{} = -{}", R(width, dst), R(width, dst)),
            Op::End { order, dst, width } => write!(f, "{dst} = {}{} {dst}", order.mnemonic(), width.bits()),
            Op::Lddw { dst, imm } => write!(f, "{dst} = 0x{imm:x}"),
            Op::LddwData { dst, offset } => write!(f, "{dst} = 0x{offset:x} + .data"),
            Op::LddwRodata { dst, offset } => write!(f, "{dst} = 0x{offset:x} + .rodata"),
            Op::Load { size, dst, src, off } => write!(f, "{dst} = *{}", Mem(c_type(size), src, off)),
            Op::LoadSx { size, dst, src, off } => write!(f, "{dst} = *{}", Mem(c_signed_type(size), src, off)),
            Op::Store { size, dst, off, src } => write!(f, "*{} = {}", Mem(c_type(size), dst, off), Src(Width::W64, src)),
            Op::Atomic { width, op, dst, src, off } => {
                let mem = Mem(width_type(width), dst, off);
                match op {
                    AtomicOp::Add { fetch: false }
                    | AtomicOp::Or { fetch: false }
                    | AtomicOp::And { fetch: false }
                    | AtomicOp::Xor { fetch: false } => {
                        let operator = match op {
                            AtomicOp::Or { .. } => "|=",
                            AtomicOp::And { .. } => "&=",
                            AtomicOp::Xor { .. } => "^=",
                            _ => "+=",
                        };
                        write!(f, "lock *{mem} {operator} {}", R(width, src))
                    }
                    AtomicOp::CmpXchg => {
                        write!(f, "{} = cmpxchg({mem}, {}, {})", R(width, Reg::R0), R(width, Reg::R0), R(width, src))
                    }
                    AtomicOp::Xchg => write!(f, "{} = xchg({mem}, {})", R(width, src), R(width, src)),
                    AtomicOp::Add { fetch: true }
                    | AtomicOp::Or { fetch: true }
                    | AtomicOp::And { fetch: true }
                    | AtomicOp::Xor { fetch: true } => {
                        write!(f, "{} = atomic_fetch_{}({mem}, {})", R(width, src), op.mnemonic(), R(width, src))
                    }
                }
            }
            Op::Ja { off } => write!(f, "goto {}", Off(off as i64)),
            Op::Gotol { imm } => write!(f, "gotol {}", Off(imm as i64)),
            Op::Jump { width, cond, dst, src, off } => {
                write!(f, "if {} {} {} goto {}", R(width, dst), cond.c_operator(), Src(width, src), Off(off as i64))
            }
            Op::CallHelper { id } => write!(f, "Call {id}"),
            Op::CallLocal { imm } => {
                let target = (self.pc as i64).checked_add(1 + imm as i64).filter(|t| *t >= 0);
                match target.and_then(|t| (self.local_name)(t as usize)) {
                    Some(name) => write!(f, "call <{name}>"),
                    None => write!(f, "call {}", Off(imm as i64)),
                }
            }
            Op::Exit => f.write_str("Return r0"),
        }
    }
}

const fn width_type(width: Width) -> &'static str {
    match width {
        Width::W32 => "uint32_t",
        Width::W64 => "uint64_t",
    }
}

/// Iterates over the instructions of a text section. A slot that does not decode
/// yields its error and the walk goes on at the next slot, so a dump can show
/// `<invalid>` and continue.
pub struct Decoder<'a> {
    text: &'a [u8],
    pc: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(text: &'a [u8]) -> Self {
        Decoder { text, pc: 0 }
    }
}

impl Iterator for Decoder<'_> {
    type Item = Result<Insn, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.pc >= slot_count(self.text) {
            return None;
        }
        let r = decode(self.text, self.pc);
        self.pc += match &r {
            Ok(insn) => insn.op.slots(),
            Err(_) => 1,
        };
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(words: &[u64]) -> alloc_free::Buf {
        alloc_free::Buf::from(words)
    }

    // A fixed buffer keeps the tests free of `alloc`.
    mod alloc_free {
        pub struct Buf(pub [u8; 64], pub usize);
        impl Buf {
            pub fn from(words: &[u64]) -> Buf {
                let mut b = [0u8; 64];
                for (i, w) in words.iter().enumerate() {
                    b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
                }
                Buf(b, words.len() * 8)
            }
            pub fn text(&self) -> &[u8] {
                &self.0[..self.1]
            }
        }
    }

    #[test]
    fn every_opcode_byte_decodes_or_errors_and_round_trips() {
        // All 256 opcodes x a spread of field values: decode never panics, and what
        // decodes encodes back to the same bytes.
        let fields: [(u8, i16, i32); 8] =
            [(0x00, 0, 0), (0x21, 0, 0), (0x12, 1, 16), (0x03, 8, 32), (0x01, 0, 16), (0x21, -3, 0xe1), (0x00, 5, 0), (0xb5, 0, 7)];
        let mut valid_opcodes = 0;
        for opcode in 0..=255u8 {
            let mut valid = false;
            for &(regs, off, imm) in &fields {
                let s = RawSlot { opcode, dst: regs & 0xf, src: regs >> 4, off, imm }.to_bytes();
                let mut text = [0u8; 16];
                text[..8].copy_from_slice(&s);
                if let Ok(insn) = decode(&text, 0) {
                    valid = true;
                    assert_eq!(insn.op.encode().as_bytes(), &text[..insn.op.slots() * 8], "{opcode:#x}");
                }
            }
            valid_opcodes += valid as usize;
        }
        // ALU 27, ALU64 26, JMP 25, JMP32 23, LD 3 (0x18 0xb8 0xd8), LDX 7, ST 4, STX 6.
        assert_eq!(valid_opcodes, 121);
    }

    #[test]
    fn index_is_the_position_in_all() {
        for (i, op) in AluOp::ALL.iter().enumerate() {
            assert_eq!(op.index(), i, "{op:?}");
        }
        for (i, cond) in Cond::ALL.iter().enumerate() {
            assert_eq!(cond.index(), i, "{cond:?}");
        }
        for (i, op) in AtomicOp::ALL.iter().enumerate() {
            assert_eq!(op.index(), i, "{op:?}");
        }
    }

    #[test]
    fn lddw_is_fused() {
        let b = bytes(&[0x5566778800000018, 0x1122334400000000, 0x95]);
        let insn = decode(b.text(), 0).unwrap();
        assert_eq!(insn.op, Op::Lddw { dst: Reg::R0, imm: 0x1122334455667788 });
        assert_eq!(Decoder::new(b.text()).count(), 2);
        // Missing or dirty second slot.
        assert_eq!(decode(&b.text()[..8], 0).unwrap_err().kind, DecodeErrorKind::IncompleteLddw);
        let dirty = bytes(&[0x18, 0x0000000000000095]);
        assert_eq!(decode(dirty.text(), 0).unwrap_err().kind, DecodeErrorKind::IncompleteLddw);
    }

    #[test]
    fn reserved_fields_are_named() {
        // mov64 r0, r1 with offset 1 (negative/unused-mov64_reg-offset.data).
        let b = bytes(&[0x0000_0000_0001_00bf]);
        assert_eq!(
            decode(b.text(), 0).unwrap_err().kind,
            DecodeErrorKind::ReservedNotZero { field: Field::Offset, value: 1 }
        );
        // call with dst 1.
        let b = bytes(&[0x0000_0000_0000_0185]);
        assert_eq!(decode(b.text(), 0).unwrap_err().kind, DecodeErrorKind::ReservedNotZero { field: Field::Dst, value: 1 });
        // be16 with src 1.
        let b = bytes(&[0x0000_0010_0000_10dc]);
        assert_eq!(decode(b.text(), 0).unwrap_err().kind, DecodeErrorKind::ReservedNotZero { field: Field::Src, value: 1 });
        // r11.
        let b = bytes(&[0x0000_0001_0000_0bb7]);
        assert!(matches!(decode(b.text(), 0).unwrap_err().kind, DecodeErrorKind::BadRegister { .. }));
    }

    #[test]
    fn renders_like_the_seed() {
        let none = |_: usize| None;
        let cases: [(u64, &str); 12] = [
            (0x0000_0000_0000_1079, "r0 = *(uint64_t*)(r1 + 0)"),
            (0x0000_0001_0000_0007, "r0 += 1"),
            (0x95, "Return r0"),
            (0x0000_0000_fff8_1a7b, "*(uint64_t*)(r10 - 8) = r1"),
            (0x0000_0005_0000_00b4, "w0 = 5"),
            (0x0000_0000_0003_201d, "if r0 == r2 goto +3"),
            (0x0000_0007_fffe_0066, "if w0 > 7 goto -2"),
            (0x0000_0010_0000_0085, "Call 16"),
            (0x0000_0000_0001_1dbf, "r13 = r1"),
            (0x0000_0020_0000_01dc, "r1 = be32 r1"),
            (0x0000_0000_0010_21bf, "r1 = (int16_t)r2"),
            (0x0000_0000_0001_213f, "r1 s/= r2"),
        ];
        for (i, (w, text)) in cases.iter().enumerate() {
            let b = bytes(&[*w]);
            match decode(b.text(), 0) {
                Ok(insn) => assert_eq!(insn.op.display(0, &none).to_string(), *text, "case {i}"),
                Err(_) => assert_eq!(i, 8, "case {i} should decode"),
            }
        }
    }

    use std::string::ToString;
}
