//! A structured description of a BPF relocatable object, written as a real ELF file with
//! `object::write`: the `elf_structured` target's input.
//!
//! Byte-level mutation of clang's objects almost never produces a consistent object with a
//! new shape (a relocation on a `SHT_NOBITS` code section, a symbol past its section, a
//! relocation section for another symbol table). Here libFuzzer mutates the shape instead:
//! sections (name, type PROGBITS/NOBITS/other, flags, alignment, instructions or bytes),
//! symbols (section, value, kind, binding), relocations of the BPF types
//! (R_BPF_64_64 = 1, R_BPF_64_ABS64 = 2, R_BPF_64_ABS32 = 3, R_BPF_64_NODYLD32 = 4,
//! R_BPF_64_32 = 10, others) at instruction or arbitrary offsets, and a few patches of
//! section header and symbol fields after writing (what `object::write` never emits).
//!
//! Each section, symbol and relocation is either a well-formed one (code, data, bss; a
//! function at an instruction, a variable; an `R_BPF_64_64` on an lddw, an `R_BPF_64_32`
//! on a call) or a free one (every field arbitrary), so that many inputs convert and the
//! free parts land in otherwise valid objects. [`Desc::model`] resolves the description
//! into concrete sections, symbols and relocations ([`Model`]), which [`Model::write`]
//! writes and the target's oracle checks the converted image against.

use arbitrary::Arbitrary;
use object::elf;
use object::write::{Object, Relocation, SectionId, Symbol, SymbolId, SymbolSection};
use object::{Architecture, BinaryFormat, Endianness, RelocationFlags, SectionFlags, SectionKind, SymbolFlags};
use object::{SymbolKind, SymbolScope};

const MAX_SECTIONS: usize = 8;
const MAX_SYMBOLS: usize = 12;
const MAX_RELOCATIONS: usize = 16;
const MAX_PATCHES: usize = 4;
const MAX_BYTES: usize = 512;

// object::elf has no names for these BPF relocation types.
const R_BPF_64_ABS64: u32 = 2;
const R_BPF_64_ABS32: u32 = 3;
const R_BPF_64_NODYLD32: u32 = 4;

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionName {
    Text,
    TextA,
    TextB,
    Data,
    DataB,
    Bss,
    BssB,
    Rodata,
    RodataStr,
    Maps,
    Empty,
}

impl SectionName {
    pub fn as_str(self) -> &'static str {
        match self {
            SectionName::Text => ".text",
            SectionName::TextA => ".text.a",
            SectionName::TextB => ".text.b",
            SectionName::Data => ".data",
            SectionName::DataB => ".data.b",
            SectionName::Bss => ".bss",
            SectionName::BssB => ".bss.b",
            SectionName::Rodata => ".rodata",
            SectionName::RodataStr => ".rodata.str1.1",
            SectionName::Maps => ".maps",
            SectionName::Empty => "",
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionType {
    Progbits,
    /// `SHT_NOBITS` as `object::write` writes bss: no bytes in the file.
    Nobits,
    /// Any other `sh_type` (taken modulo 32: NULL, SYMTAB, STRTAB, RELA, NOTE, NOBITS with
    /// bytes in the file, REL, ...).
    Other(u8),
}

/// One instruction slot or two (lddw).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Insn {
    /// `lddw dst, imm`: a small immediate, the addend of a relocation as clang emits it.
    Lddw { dst: u8, imm: i8 },
    /// `lddw dst, imm` with any immediate.
    LddwWide { dst: u8, imm: i64 },
    /// `call (imm >> 4)` with src = 1 (a local call, as clang emits it with `R_BPF_64_32`;
    /// -1 for a call of a function symbol).
    Call { imm: i8 },
    Exit,
    Mov { dst: u8, imm: i32 },
    Ja { off: i8 },
    Raw([u8; 8]),
}

impl Insn {
    fn push(self, out: &mut Vec<u8>) {
        let slot = |opcode: u8, regs: u8, off: i16, imm: i32| {
            let (o, i) = (off.to_le_bytes(), imm.to_le_bytes());
            [opcode, regs, o[0], o[1], i[0], i[1], i[2], i[3]]
        };
        match self {
            Insn::Lddw { dst, imm } => Insn::LddwWide { dst, imm: imm.into() }.push(out),
            Insn::LddwWide { dst, imm } => {
                out.extend(slot(0x18, dst & 0xf, 0, imm as i32));
                out.extend(slot(0, 0, 0, (imm >> 32) as i32));
            }
            Insn::Call { imm } => out.extend(slot(0x85, 0x10, 0, (imm >> 4).into())),
            Insn::Exit => out.extend(slot(0x95, 0, 0, 0)),
            Insn::Mov { dst, imm } => out.extend(slot(0xb7, dst & 0xf, 0, imm)),
            Insn::Ja { off } => out.extend(slot(0x05, 0, off.into(), 0)),
            Insn::Raw(bytes) => out.extend(bytes),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Contents {
    Code(Vec<Insn>),
    Bytes(Vec<u8>),
    Zeros(u16),
}

/// A section's bytes, and where its lddw and call instructions start.
#[derive(Debug, Clone, Default)]
struct Bytes {
    bytes: Vec<u8>,
    lddws: Vec<u64>,
    calls: Vec<u64>,
}

impl Contents {
    fn bytes(&self) -> Bytes {
        let mut out = Bytes::default();
        match self {
            Contents::Code(insns) => {
                for insn in insns {
                    if out.bytes.len() >= MAX_BYTES {
                        break;
                    }
                    match insn {
                        Insn::Lddw { .. } | Insn::LddwWide { .. } => out.lddws.push(out.bytes.len() as u64),
                        Insn::Call { .. } => out.calls.push(out.bytes.len() as u64),
                        _ => {}
                    }
                    insn.push(&mut out.bytes);
                }
            }
            Contents::Bytes(b) => out.bytes.extend(b.iter().take(MAX_BYTES)),
            Contents::Zeros(n) => out.bytes.resize(usize::from(*n), 0),
        }
        out
    }
}

/// A section with every field free.
#[derive(Arbitrary, Debug, Clone)]
pub struct FreeSection {
    pub name: SectionName,
    pub sh_type: SectionType,
    pub alloc: bool,
    pub exec: bool,
    pub write: bool,
    /// 1: `SHF_TLS`, 2: `SHF_COMPRESSED`, 3: `SHF_MERGE | SHF_STRINGS`; anything else: none.
    pub extra_flags: u8,
    pub align_log2: u8,
    pub contents: Contents,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum SectionDesc {
    /// `SHF_ALLOC | SHF_EXECINSTR` PROGBITS `.text`, `.text.a` or `.text.b` (`exit` when empty).
    Code { name: u8, insns: Vec<Insn> },
    /// `.data*` (writable) or `.rodata*` PROGBITS.
    Data { name: u8, bytes: Vec<u8>, align_log2: u8 },
    /// `.bss*` NOBITS.
    Bss { name: u8, size: u16, align_log2: u8 },
    Free(FreeSection),
}

/// A value used as an offset: a slot (times 8), a small byte offset, or anything.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Offset {
    Slot(u8),
    Byte(u8),
    Raw(u64),
}

impl Offset {
    pub fn get(self) -> u64 {
        match self {
            Offset::Slot(s) => u64::from(s) * 8,
            Offset::Byte(b) => b.into(),
            Offset::Raw(r) => r,
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolName {
    F,
    G,
    H,
    X,
    Y,
    Main,
    Empty,
}

impl SymbolName {
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolName::F => "f",
            SymbolName::G => "g",
            SymbolName::H => "h",
            SymbolName::X => "x",
            SymbolName::Y => "y",
            SymbolName::Main => "main",
            SymbolName::Empty => "",
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolPlace {
    /// Section `n % section count` (undefined when there are no sections).
    In(u8),
    Undefined,
    Absolute,
    Common,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolType {
    Func,
    Object,
    NoType,
}

/// A symbol with every field free.
#[derive(Arbitrary, Debug, Clone)]
pub struct FreeSymbol {
    pub name: SymbolName,
    pub place: SymbolPlace,
    pub value: Offset,
    pub size: u8,
    pub kind: SymbolType,
    pub global: bool,
    pub weak: bool,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum SymbolDesc {
    /// A global function at instruction `insn` (modulo the count) of code section `section`
    /// (modulo the number of code sections).
    Function { name: SymbolName, section: u8, insn: u8 },
    /// A global variable at `offset` (modulo the size + 1) of data, rodata or bss section `section`.
    Variable { name: SymbolName, section: u8, offset: u16, size: u8 },
    Free(FreeSymbol),
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocationType {
    Bpf64_64,
    Abs64,
    Abs32,
    NoDyld32,
    Bpf64_32,
    Other(u32),
}

impl RelocationType {
    pub fn r_type(self) -> u32 {
        match self {
            RelocationType::Bpf64_64 => elf::R_BPF_64_64,
            RelocationType::Abs64 => R_BPF_64_ABS64,
            RelocationType::Abs32 => R_BPF_64_ABS32,
            RelocationType::NoDyld32 => R_BPF_64_NODYLD32,
            RelocationType::Bpf64_32 => elf::R_BPF_64_32,
            RelocationType::Other(t) => t,
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum RelocationTarget {
    /// Symbol `n` (of those that fit the relocation, for the well-formed kinds).
    Symbol(u8),
    /// The section symbol of section `n` (of those that fit the relocation, for the well-formed kinds).
    SectionSymbol(u8),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum RelocationDesc {
    /// `R_BPF_64_64` on lddw `insn` of code section `section` (of those with an lddw; none
    /// when there is none), against a variable or a data section.
    Lddw { section: u8, insn: u8, target: RelocationTarget },
    /// `R_BPF_64_32` on call `insn` of code section `section` (of those with a call; none
    /// when there is none), against a function or a code section.
    Call { section: u8, insn: u8, target: RelocationTarget },
    /// Any type at any offset of section `n % section count`, against any symbol.
    Free { section: u8, offset: Offset, r_type: RelocationType, target: RelocationTarget },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum SectionField {
    Type,
    Flags,
    Offset,
    Size,
    Link,
    Info,
    Addralign,
    Entsize,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum SymbolField {
    Info,
    Shndx,
    Value,
    Size,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Patch {
    /// A field of section header `n % section header count` (of the written file).
    Section { index: u8, field: SectionField, value: Offset },
    /// A field of symbol `n % symbol count` of the written symbol table.
    Symbol { index: u8, field: SymbolField, value: Offset },
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Desc {
    /// A `.text` section of these instructions, at position `text_at` (modulo the count + 1)
    /// among the other sections.
    pub text: Vec<Insn>,
    pub text_at: u8,
    /// The global function `main` at this instruction of the first code section.
    pub main: u8,
    pub sections: Vec<SectionDesc>,
    pub symbols: Vec<SymbolDesc>,
    pub relocations: Vec<RelocationDesc>,
    pub patches: Vec<Patch>,
}

/// A section as written.
#[derive(Debug, Clone)]
pub struct ModelSection {
    pub name: SectionName,
    pub sh_type: SectionType,
    pub sh_flags: u64,
    /// A power of two, 1 to 16.
    pub align: u64,
    /// Its contents (a [`SectionType::Nobits`] section is as long, with no bytes in the file).
    pub bytes: Vec<u8>,
    lddws: Vec<u64>,
    calls: Vec<u64>,
}

impl ModelSection {
    pub fn alloc(&self) -> bool {
        self.sh_flags & u64::from(elf::SHF_ALLOC) != 0
    }

    pub fn exec(&self) -> bool {
        self.sh_flags & u64::from(elf::SHF_EXECINSTR) != 0
    }

    /// Allocated and executable: the converter puts it in the text.
    pub fn is_code(&self) -> bool {
        self.alloc() && self.exec()
    }
}

/// Where a symbol is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Index into [`Model::sections`].
    In(usize),
    Undefined,
    Absolute,
    Common,
}

/// A symbol as written.
#[derive(Debug, Clone)]
pub struct ModelSymbol {
    pub name: &'static str,
    pub place: Place,
    pub value: u64,
    pub size: u64,
    pub kind: SymbolType,
    pub global: bool,
    pub weak: bool,
}

/// What a relocation names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Index into [`Model::symbols`].
    Symbol(usize),
    /// The section symbol of this index into [`Model::sections`].
    Section(usize),
}

/// A relocation as written: section index, offset, ELF type and target.
#[derive(Debug, Clone, Copy)]
pub struct ModelRelocation {
    pub section: usize,
    pub offset: u64,
    pub r_type: u32,
    pub target: Target,
}

/// The object a [`Desc`] stands for.
#[derive(Debug, Clone)]
pub struct Model {
    pub sections: Vec<ModelSection>,
    pub symbols: Vec<ModelSymbol>,
    pub relocations: Vec<ModelRelocation>,
    pub patches: Vec<Patch>,
}

/// Item `n` (modulo the length) of `preferred`, else of `0..all`; `None` when both are empty.
fn pick(preferred: &[usize], all: usize, n: u8) -> Option<usize> {
    if !preferred.is_empty() {
        Some(preferred[usize::from(n) % preferred.len()])
    } else {
        (all > 0).then(|| usize::from(n) % all)
    }
}

fn nth<T: Copy + Default>(list: &[T], n: u8) -> T {
    if list.is_empty() {
        T::default()
    } else {
        list[usize::from(n) % list.len()]
    }
}

impl Desc {
    /// Resolves the description: indices to sections and symbols, instruction numbers to offsets.
    pub fn model(&self) -> Model {
        let mut sections: Vec<ModelSection> = self.sections.iter().take(MAX_SECTIONS - 1).map(section).collect();
        let text = section(&SectionDesc::Code { name: 0, insns: self.text.clone() });
        sections.insert(usize::from(self.text_at) % (sections.len() + 1), text);
        let indices = |f: &dyn Fn(&ModelSection) -> bool| -> Vec<usize> {
            sections.iter().enumerate().filter(|(_, s)| f(s)).map(|(i, _)| i).collect()
        };
        let code = indices(&|s| s.is_code());
        // A well-formed relocation goes to a code section with an instruction it fits, or is left out.
        let with_lddw = indices(&|s| s.is_code() && !s.lddws.is_empty());
        let with_call = indices(&|s| s.is_code() && !s.calls.is_empty());
        let data = indices(&|s| s.alloc() && !s.exec());
        let slot_starts = |i: usize| -> Vec<u64> {
            let s = &sections[i];
            let mut starts = Vec::new();
            let mut at = 0;
            while at + 8 <= s.bytes.len() as u64 {
                starts.push(at);
                at += if s.lddws.contains(&at) { 16 } else { 8 };
            }
            starts
        };
        let n = sections.len();
        let mut symbols = Vec::new();
        let main = SymbolDesc::Function { name: SymbolName::Main, section: 0, insn: self.main };
        for s in std::iter::once(&main).chain(self.symbols.iter().take(MAX_SYMBOLS)) {
            symbols.push(match *s {
                SymbolDesc::Function { name, section, insn } => {
                    let section = pick(&code, n, section);
                    let value = section.map_or(0, |i| nth(&slot_starts(i), insn));
                    let place = section.map_or(Place::Undefined, Place::In);
                    let name = name.as_str();
                    ModelSymbol { name, place, value, size: 8, kind: SymbolType::Func, global: true, weak: false }
                }
                SymbolDesc::Variable { name, section, offset, size } => {
                    let section = pick(&data, n, section);
                    let len = section.map_or(0, |i| sections[i].bytes.len() as u64);
                    let place = section.map_or(Place::Undefined, Place::In);
                    let (name, value, size) = (name.as_str(), u64::from(offset) % (len + 1), size.into());
                    ModelSymbol { name, place, value, size, kind: SymbolType::Object, global: true, weak: false }
                }
                SymbolDesc::Free(ref f) => ModelSymbol {
                    name: f.name.as_str(),
                    place: match f.place {
                        SymbolPlace::In(s) => pick(&[], n, s).map_or(Place::Undefined, Place::In),
                        SymbolPlace::Undefined => Place::Undefined,
                        SymbolPlace::Absolute => Place::Absolute,
                        SymbolPlace::Common => Place::Common,
                    },
                    value: f.value.get(),
                    size: f.size.into(),
                    kind: f.kind,
                    global: f.global,
                    weak: f.weak,
                },
            });
        }
        let symbol_indices = |f: &dyn Fn(&ModelSymbol) -> bool| -> Vec<usize> {
            symbols.iter().enumerate().filter(|(_, s)| f(s)).map(|(i, _)| i).collect()
        };
        let functions = symbol_indices(&|s| s.kind == SymbolType::Func);
        let variables = symbol_indices(&|s| s.kind != SymbolType::Func);
        // Free: symbol `k` or the section symbol of section `k`. Well-formed: a symbol of
        // `symbols`, else the section symbol of a section of `sections` (none when both are empty).
        let free = |t: RelocationTarget| match t {
            RelocationTarget::Symbol(k) => pick(&[], symbols.len(), k).map(Target::Symbol),
            RelocationTarget::SectionSymbol(k) => pick(&[], n, k).map(Target::Section),
        };
        let target = |t: RelocationTarget, symbols: &[usize], sections: &[usize]| match t {
            RelocationTarget::Symbol(k) if !symbols.is_empty() => pick(symbols, 0, k).map(Target::Symbol),
            RelocationTarget::Symbol(k) | RelocationTarget::SectionSymbol(k) => {
                pick(sections, 0, k).map(Target::Section)
            }
        };
        let mut relocations = Vec::new();
        for r in self.relocations.iter().take(MAX_RELOCATIONS) {
            let resolved = match *r {
                RelocationDesc::Lddw { section, insn, target: t } => pick(&with_lddw, 0, section).and_then(|s| {
                    let offset = nth(&sections[s].lddws, insn);
                    let target = target(t, &variables, &data)?;
                    Some(ModelRelocation { section: s, offset, r_type: elf::R_BPF_64_64, target })
                }),
                RelocationDesc::Call { section, insn, target: t } => pick(&with_call, 0, section).and_then(|s| {
                    let offset = nth(&sections[s].calls, insn);
                    let target = target(t, &functions, &code)?;
                    Some(ModelRelocation { section: s, offset, r_type: elf::R_BPF_64_32, target })
                }),
                RelocationDesc::Free { section, offset, r_type, target: t } => pick(&[], n, section).and_then(|s| {
                    let target = free(t)?;
                    Some(ModelRelocation { section: s, offset: offset.get(), r_type: r_type.r_type(), target })
                }),
            };
            relocations.extend(resolved);
        }
        Model { sections, symbols, relocations, patches: self.patches.iter().take(MAX_PATCHES).copied().collect() }
    }
}

fn section(desc: &SectionDesc) -> ModelSection {
    let text_names = [SectionName::Text, SectionName::TextA, SectionName::TextB];
    let data_names = [SectionName::Data, SectionName::DataB, SectionName::Rodata, SectionName::RodataStr];
    let (alloc, exec, write) = (elf::SHF_ALLOC, elf::SHF_EXECINSTR, elf::SHF_WRITE);
    let (name, sh_type, sh_flags, align_log2, contents) = match desc {
        SectionDesc::Code { name, insns } => {
            let name = text_names[usize::from(*name) % 3];
            let insns = if insns.is_empty() { vec![Insn::Exit] } else { insns.clone() };
            (name, SectionType::Progbits, alloc | exec, 3, Contents::Code(insns).bytes())
        }
        SectionDesc::Data { name, bytes, align_log2 } => {
            let name = data_names[usize::from(*name) % 4];
            let flags = if matches!(name, SectionName::Data | SectionName::DataB) { alloc | write } else { alloc };
            (name, SectionType::Progbits, flags, *align_log2, Contents::Bytes(bytes.clone()).bytes())
        }
        SectionDesc::Bss { name, size, align_log2 } => {
            let name = if name % 2 == 0 { SectionName::Bss } else { SectionName::BssB };
            (name, SectionType::Nobits, alloc | write, *align_log2, Contents::Zeros(*size).bytes())
        }
        SectionDesc::Free(f) => {
            let mut flags = 0;
            for (on, flag) in [(f.alloc, alloc), (f.exec, exec), (f.write, write)] {
                if on {
                    flags |= flag;
                }
            }
            flags |= match f.extra_flags {
                1 => elf::SHF_TLS,
                2 => elf::SHF_COMPRESSED,
                3 => elf::SHF_MERGE | elf::SHF_STRINGS,
                _ => 0,
            };
            (f.name, f.sh_type, flags, f.align_log2, f.contents.bytes())
        }
    };
    let Bytes { bytes, lddws, calls } = contents;
    ModelSection { name, sh_type, sh_flags: sh_flags.into(), align: 1 << (align_log2 % 5), bytes, lddws, calls }
}

/// What [`Model::write`] produced.
pub struct Written {
    pub elf: Vec<u8>,
    /// Whether header or symbol patches were applied (the model no longer tells the contents).
    pub patched: bool,
}

impl Model {
    /// The ELF file, or `None` when `object::write` refuses the model.
    pub fn write(&self) -> Option<Written> {
        let mut obj = Object::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little);
        let mut sections: Vec<SectionId> = Vec::new();
        for s in &self.sections {
            let kind = match s.sh_type {
                SectionType::Progbits => SectionKind::Elf(elf::SHT_PROGBITS),
                SectionType::Nobits => SectionKind::UninitializedData,
                SectionType::Other(t) => SectionKind::Elf(u32::from(t % 32)),
            };
            let id = obj.add_section(Vec::new(), s.name.as_str().as_bytes().to_vec(), kind);
            let section = obj.section_mut(id);
            section.flags = SectionFlags::Elf { sh_flags: s.sh_flags };
            if section.is_bss() {
                section.append_bss(s.bytes.len() as u64, s.align);
            } else {
                section.set_data(s.bytes.clone(), s.align);
            }
            sections.push(id);
        }
        let mut symbols: Vec<SymbolId> = Vec::new();
        for s in &self.symbols {
            let section = match s.place {
                Place::In(i) => SymbolSection::Section(sections[i]),
                Place::Undefined => SymbolSection::Undefined,
                Place::Absolute => SymbolSection::Absolute,
                Place::Common => SymbolSection::Common,
            };
            let kind = match s.kind {
                SymbolType::Func => SymbolKind::Text,
                SymbolType::Object => SymbolKind::Data,
                SymbolType::NoType => SymbolKind::Unknown,
            };
            symbols.push(obj.add_symbol(Symbol {
                name: s.name.as_bytes().to_vec(),
                value: s.value,
                size: s.size,
                kind,
                scope: if s.global { SymbolScope::Dynamic } else { SymbolScope::Compilation },
                weak: s.weak,
                section,
                flags: SymbolFlags::None,
            }));
        }
        for r in &self.relocations {
            let symbol = match r.target {
                Target::Symbol(i) => symbols[i],
                Target::Section(i) => obj.section_symbol(sections[i]),
            };
            let flags = RelocationFlags::Elf { r_type: r.r_type };
            let relocation = Relocation { offset: r.offset, symbol, addend: 0, flags };
            obj.add_relocation(sections[r.section], relocation).ok()?;
        }
        let mut elf = obj.write().ok()?;
        for patch in &self.patches {
            apply(&mut elf, *patch);
        }
        Some(Written { elf, patched: !self.patches.is_empty() })
    }
}

// Offsets come from patched headers: any arithmetic on them may overflow.

fn read(elf: &[u8], at: usize, width: usize) -> u64 {
    let field = at.checked_add(width).and_then(|end| elf.get(at..end));
    field.map_or(0, |b| b.iter().rev().fold(0, |v, &b| v << 8 | u64::from(b)))
}

fn write(elf: &mut [u8], at: Option<usize>, width: usize, value: u64) {
    let field = at.and_then(|at| Some(at..at.checked_add(width)?)).and_then(|range| elf.get_mut(range));
    if let Some(field) = field {
        field.copy_from_slice(&value.to_le_bytes()[..width]);
    }
}

/// Applies one patch to the ELF64 little-endian file `object::write` produced.
fn apply(elf: &mut [u8], patch: Patch) {
    let shoff = read(elf, 0x28, 8) as usize;
    let count = read(elf, 0x3c, 2) as usize;
    if count == 0 {
        return;
    }
    let header = |i: usize| shoff.saturating_add(i * 64);
    match patch {
        Patch::Section { index, field, value } => {
            let (at, width) = match field {
                SectionField::Type => (4, 4),
                SectionField::Flags => (8, 8),
                SectionField::Offset => (0x18, 8),
                SectionField::Size => (0x20, 8),
                SectionField::Link => (0x28, 4),
                SectionField::Info => (0x2c, 4),
                SectionField::Addralign => (0x30, 8),
                SectionField::Entsize => (0x38, 8),
            };
            write(elf, header(usize::from(index) % count).checked_add(at), width, value.get());
        }
        Patch::Symbol { index, field, value } => {
            let header_field = |i: usize, at: usize, width: usize| read(elf, header(i).saturating_add(at), width);
            let Some(symtab) = (0..count).find(|&i| header_field(i, 4, 4) == u64::from(elf::SHT_SYMTAB)) else {
                return;
            };
            let (offset, size) = (header_field(symtab, 0x18, 8) as usize, header_field(symtab, 0x20, 8));
            let symbols = (size / 24) as usize;
            if symbols == 0 {
                return;
            }
            let (at, width) = match field {
                SymbolField::Info => (4, 1),
                SymbolField::Shndx => (6, 2),
                SymbolField::Value => (8, 8),
                SymbolField::Size => (16, 8),
            };
            let entry = usize::from(index) % symbols * 24 + at;
            write(elf, offset.checked_add(entry), width, value.get());
        }
    }
}
