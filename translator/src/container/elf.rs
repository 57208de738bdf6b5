//! Converts clang's BPF ELF object into a container [`Image`] (spec §1 "From clang's ELF object").
//!
//! Sections are merged by kind (text, data then bss, rodata), relocations are
//! resolved into the two Femto-Container LDDW forms and pc-relative local calls,
//! and global functions become the function table. Whatever cannot be
//! represented is an error naming the section, relocation and symbol.
//!
//! The input is untrusted: every offset the object gives (relocation offsets, symbol
//! values, call targets, function entries) is checked against the bytes of its own
//! section before it is used, and a section whose contents are not in the file
//! (`SHT_NOBITS`) is only accepted as bss. Bad input is an error, never a panic and
//! never a container that says something other than the object.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use fc_runtime::format::Image;
use fc_runtime::insn::{RawSlot, SLOT};
use fc_runtime::memory::SLOT_SIZE;
use object::elf::{
    Rel64, R_BPF_64_32, R_BPF_64_64, SHF_ALLOC, SHF_COMPRESSED, SHF_EXECINSTR, SHF_TLS, SHT_CREL, SHT_NOBITS,
    SHT_REL, SHT_RELA,
};
use object::read::elf::{CrelIterator, ElfFile64, SectionHeader};
use object::{
    Architecture, Endianness, FileKind, Object, ObjectKind, ObjectSection, ObjectSymbol, SectionFlags, SectionIndex,
    SymbolIndex, SymbolKind, SymbolSection,
};

const OPCODE_LDDW: u8 = 0x18;
const OPCODE_LDDW_DATA: u8 = 0xb8;
const OPCODE_LDDW_RODATA: u8 = 0xd8;
const OPCODE_CALL: u8 = 0x85;

/// Instructions that take two slots (as the runtime's decoder reads them).
fn is_wide(opcode: u8) -> bool {
    matches!(opcode, OPCODE_LDDW | OPCODE_LDDW_DATA | OPCODE_LDDW_RODATA)
}

/// What went wrong, with the ELF section, relocation and symbol it concerns where there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertError {
    pub section: Option<Box<str>>,
    /// The symbol concerned; with a relocation, the symbol the relocation names.
    pub symbol: Option<Box<str>>,
    pub relocation: Option<RelocationSite>,
    pub kind: ConvertErrorKind,
}

/// One relocation entry: where it applies (offset in its section) and its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelocationSite {
    pub offset: u64,
    pub r_type: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConvertErrorKind {
    /// The object crate could not read the file.
    Malformed(String),
    NotElf,
    /// A 32-bit ELF file (BPF objects are ELF64).
    NotElf64,
    WrongMachine(String),
    NotRelocatable,
    BigEndian,
    /// An allocated section that is neither text, data, bss nor rodata.
    UnsupportedSection,
    /// An allocated section with flags the container cannot honour (`SHF_TLS`, `SHF_COMPRESSED`).
    UnsupportedSectionFlags(u64),
    /// A code, data or rodata section whose bytes are not in the file (`SHT_NOBITS`).
    NoBytes { size: u64 },
    /// A bss section stored in the file (`SHT_PROGBITS`) with a byte that is not zero.
    BssNotZero { offset: u64 },
    /// An executable section whose size is not a multiple of 8.
    TextNotSlots(u64),
    /// A code section whose last slot is the first half of a two-slot instruction.
    LddwTruncated { offset: u64 },
    /// A relocation section that refers to a symbol table other than the object's.
    RelocationsForOtherSymbolTable { link: usize },
    /// `SHT_RELA` (or CREL with addends): BPF objects carry implicit addends (`SHT_REL`).
    ExplicitAddends,
    UnknownRelocation,
    RelocationWithoutSymbol,
    /// The bytes a relocation patches are not (all) inside its section.
    RelocationOutsideSection { size: u64 },
    /// A relocation that does not start at an instruction slot.
    RelocationMisaligned,
    /// A relocation on the second slot of a two-slot instruction.
    RelocationInsideLddw,
    /// Two relocations on the same instruction.
    DuplicateRelocation,
    /// A relocation inside data or rodata: a pointer stored in memory (in the variable `holder`).
    PointerInData { holder: Option<Box<str>> },
    RelocationNotOnLddw,
    RelocationNotOnCall,
    UndefinedSymbol,
    CommonSymbol,
    AbsoluteSymbol,
    /// A symbol defined in a section that is not part of the container (not allocated).
    SymbolNotInContainer { section: Box<str> },
    /// A symbol whose value lies past the end of its section.
    SymbolOutsideSection { section: Box<str>, value: u64, size: u64 },
    /// An LDDW relocation against code (a function pointer).
    AddressOfCode,
    /// The address a relocation produces (the symbol's offset in its region plus the
    /// lddw's addend) lies outside that region.
    TargetOutsideSection { symbol_offset: u64, addend: i64, region: Region, len: u64 },
    CallTargetNotInText,
    /// A call whose target (symbol + immediate) lies outside the target symbol's section.
    CallTargetOutsideSection { section: Box<str>, offset: i64, size: u64 },
    /// A call target or function entry that is not the start of an instruction.
    NotAnInstruction { section: Box<str>, offset: i64, inside_lddw: bool },
    /// A global function symbol in a section that is not code.
    FunctionNotInText,
    /// A global function symbol without a name.
    UnnamedFunction,
    /// Two global functions of the same name.
    DuplicateFunction,
    NoGlobalFunction,
    TooLarge { what: &'static str, size: u64 },
}

/// The part of the address map an lddw relocation addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    DataAndBss,
    Rodata,
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Region::DataAndBss => "data and bss",
            Region::Rodata => "rodata",
        })
    }
}

/// The name of a BPF relocation type.
pub fn relocation_name(r_type: u32) -> String {
    match r_type {
        0 => "R_BPF_NONE".into(),
        1 => "R_BPF_64_64".into(),
        2 => "R_BPF_64_ABS64".into(),
        3 => "R_BPF_64_ABS32".into(),
        4 => "R_BPF_64_NODYLD32".into(),
        10 => "R_BPF_64_32".into(),
        t => format!("type {t}"),
    }
}

impl fmt::Display for RelocationSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "relocation {} at offset 0x{:x}", relocation_name(self.r_type), self.offset)
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut context = Vec::new();
        if let Some(s) = &self.section {
            context.push(format!("section {s}"));
        }
        match (&self.relocation, &self.symbol) {
            (Some(r), Some(y)) => context.push(format!("{r} against `{y}`")),
            (Some(r), None) => context.push(r.to_string()),
            (None, Some(y)) => context.push(format!("symbol `{y}`")),
            (None, None) => {}
        }
        if !context.is_empty() {
            write!(f, "{}: ", context.join(", "))?;
        }
        match &self.kind {
            ConvertErrorKind::Malformed(e) => write!(f, "malformed ELF: {e}"),
            ConvertErrorKind::NotElf => f.write_str("not an ELF object"),
            ConvertErrorKind::NotElf64 => f.write_str("32-bit ELF object; BPF objects are ELF64 (clang -target bpf)"),
            ConvertErrorKind::WrongMachine(m) => write!(f, "ELF machine is {m}, expected BPF (clang -target bpf)"),
            ConvertErrorKind::NotRelocatable => f.write_str("not a relocatable object (compile with -c)"),
            ConvertErrorKind::BigEndian => f.write_str("big-endian BPF object; use -target bpf or bpfel"),
            ConvertErrorKind::UnsupportedSection => {
                f.write_str("allocated section is not .text*, .data*, .bss* or .rodata*; it cannot be represented")
            }
            ConvertErrorKind::UnsupportedSectionFlags(flags) => {
                write!(f, "allocated section with flags 0x{flags:x} (SHF_TLS/SHF_COMPRESSED) cannot be represented")
            }
            ConvertErrorKind::NoBytes { size } => write!(
                f,
                "section of {size} bytes has no contents in the file (SHT_NOBITS); only .bss* sections may be SHT_NOBITS"
            ),
            ConvertErrorKind::BssNotZero { offset } => {
                write!(f, "bss section holds a byte that is not zero at offset 0x{offset:x}")
            }
            ConvertErrorKind::TextNotSlots(n) => write!(f, "size {n} is not a multiple of 8"),
            ConvertErrorKind::LddwTruncated { offset } => {
                write!(f, "the section ends inside the two-slot lddw instruction at offset 0x{offset:x}")
            }
            ConvertErrorKind::RelocationsForOtherSymbolTable { link } => {
                write!(f, "relocation section refers to section #{link}, not to the object's symbol table")
            }
            ConvertErrorKind::ExplicitAddends => {
                f.write_str("relocations with explicit addends (SHT_RELA) are not used by BPF objects (SHT_REL)")
            }
            ConvertErrorKind::UnknownRelocation => {
                f.write_str("relocation type is not supported in code (only R_BPF_64_64 on lddw and R_BPF_64_32 on call)")
            }
            ConvertErrorKind::RelocationWithoutSymbol => f.write_str("relocation names no symbol (symbol index 0)"),
            ConvertErrorKind::RelocationOutsideSection { size } => {
                write!(f, "the bytes it patches lie outside the section ({size} bytes)")
            }
            ConvertErrorKind::RelocationMisaligned => f.write_str("offset is not at an instruction slot (a multiple of 8)"),
            ConvertErrorKind::RelocationInsideLddw => f.write_str("offset is the second slot of an lddw instruction"),
            ConvertErrorKind::DuplicateRelocation => f.write_str("a second relocation on the same instruction"),
            ConvertErrorKind::PointerInData { holder: Some(h) } => {
                write!(f, "a pointer stored in data (in `{h}`) cannot be represented (no pointer tables)")
            }
            ConvertErrorKind::PointerInData { holder: None } => {
                f.write_str("a pointer stored in data cannot be represented (no pointer tables)")
            }
            ConvertErrorKind::RelocationNotOnLddw => f.write_str("R_BPF_64_64 is not on an lddw instruction"),
            ConvertErrorKind::RelocationNotOnCall => f.write_str("R_BPF_64_32 is not on a call instruction"),
            ConvertErrorKind::UndefinedSymbol => f.write_str("undefined symbol (containers cannot link to other code)"),
            ConvertErrorKind::CommonSymbol => f.write_str("common symbol; compile with -fno-common"),
            ConvertErrorKind::AbsoluteSymbol => f.write_str("absolute symbol: its value is not an address in the container"),
            ConvertErrorKind::SymbolNotInContainer { section } => {
                write!(f, "symbol is defined in section {section}, which is not part of the container (not allocated)")
            }
            ConvertErrorKind::SymbolOutsideSection { section, value, size } => {
                write!(f, "symbol value 0x{value:x} lies outside its section {section} ({size} bytes)")
            }
            ConvertErrorKind::AddressOfCode => f.write_str("the address of code cannot be taken (no function pointers)"),
            ConvertErrorKind::TargetOutsideSection { symbol_offset, addend, region, len } => write!(
                f,
                "relocated address (offset {symbol_offset} of the symbol, addend {addend}) lies outside {region} ({len} bytes)"
            ),
            ConvertErrorKind::CallTargetNotInText => f.write_str("call target is not an instruction in text"),
            ConvertErrorKind::CallTargetOutsideSection { section, offset, size } => {
                write!(f, "call target (offset {offset}) lies outside the target's section {section} ({size} bytes)")
            }
            ConvertErrorKind::NotAnInstruction { section, offset, inside_lddw } => {
                let why = if *inside_lddw { "the second slot of an lddw" } else { "not a multiple of 8" };
                write!(f, "offset {offset} in section {section} is not the start of an instruction ({why})")
            }
            ConvertErrorKind::FunctionNotInText => f.write_str("global function symbol is not in a code section"),
            ConvertErrorKind::UnnamedFunction => f.write_str("global function symbol without a name"),
            ConvertErrorKind::DuplicateFunction => f.write_str("two global functions of this name"),
            ConvertErrorKind::NoGlobalFunction => f.write_str("no global function: nothing for the VM to run"),
            ConvertErrorKind::TooLarge { what, size } => write!(f, "{what} of {size} bytes is too large"),
        }
    }
}

impl std::error::Error for ConvertError {}

fn err(kind: ConvertErrorKind) -> ConvertError {
    ConvertError { section: None, symbol: None, relocation: None, kind }
}

fn malformed(e: object::Error) -> ConvertErrorKind {
    ConvertErrorKind::Malformed(e.to_string())
}

/// Where the sections of a kind go in the container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    Data,
    Bss,
    Rodata,
}

fn classify(name: &str, flags: u64) -> Option<Kind> {
    let prefixed = |p: &str| name == p || name.starts_with(&format!("{p}."));
    if flags & SHF_EXECINSTR as u64 != 0 {
        Some(Kind::Text)
    } else if prefixed(".data") {
        Some(Kind::Data)
    } else if prefixed(".bss") {
        Some(Kind::Bss)
    } else if prefixed(".rodata") {
        Some(Kind::Rodata)
    } else {
        None
    }
}

/// A section's place in the merged output.
#[derive(Clone, Copy, Debug)]
struct Placement {
    kind: Kind,
    offset: u64,
    size: u64,
}

/// A symbol resolved to its section's placement.
#[derive(Clone, Copy, Debug)]
struct Resolved {
    placement: Placement,
    section: SectionIndex,
    /// The symbol's value: its offset inside its section (at most the section's size).
    value: u64,
}

fn elf_flags(flags: SectionFlags) -> u64 {
    match flags {
        SectionFlags::Elf { sh_flags } => sh_flags,
        _ => 0,
    }
}

/// The most a merged section may hold: a region's 256 MiB window in the address map.
const MAX_MERGED: u64 = SLOT_SIZE - 1;

/// Where a section of `size` bytes at `align` goes after `used` bytes, and the new end.
fn next_place(used: u64, align: u64, size: u64) -> Result<(u64, u64), ConvertError> {
    let offset = used.next_multiple_of(align.clamp(1, 4096));
    match offset.checked_add(size).filter(|&end| end <= MAX_MERGED) {
        Some(end) => Ok((offset, end)),
        None => Err(err(ConvertErrorKind::TooLarge { what: "merged section", size: offset.saturating_add(size) })),
    }
}

/// Appends `bytes` to `out` at `align`, returning its offset.
fn place(out: &mut Vec<u8>, align: u64, bytes: &[u8]) -> Result<u64, ConvertError> {
    let (offset, _) = next_place(out.len() as u64, align, bytes.len() as u64)?;
    out.resize(offset as usize, 0);
    out.extend_from_slice(bytes);
    Ok(offset)
}

type Elf<'d> = ElfFile64<'d, Endianness>;

/// Converts a relocatable BPF ELF object into a container image.
pub fn convert(elf: &[u8]) -> Result<Image, ConvertError> {
    convert_placed(elf).map(|c| c.image)
}

/// A converted object, and where its code went: what maps the object's debug
/// information onto the container's instructions (`container::lines`).
#[derive(Debug)]
pub struct Converted {
    pub image: Image,
    /// The byte offset in the container's text of each code section of the object.
    pub text_offsets: HashMap<SectionIndex, u64>,
}

/// [`convert`], keeping the placement of each code section.
pub fn convert_placed(elf: &[u8]) -> Result<Converted, ConvertError> {
    match FileKind::parse(elf) {
        Ok(FileKind::Elf64) => {}
        Ok(FileKind::Elf32) => return Err(err(ConvertErrorKind::NotElf64)),
        _ => return Err(err(ConvertErrorKind::NotElf)),
    }
    let file = Elf::parse(elf).map_err(|e| err(malformed(e)))?;
    if file.architecture() != Architecture::Bpf {
        return Err(err(ConvertErrorKind::WrongMachine(format!("{:?}", file.architecture()))));
    }
    if !file.is_little_endian() {
        return Err(err(ConvertErrorKind::BigEndian));
    }
    if file.kind() != ObjectKind::Relocatable {
        return Err(err(ConvertErrorKind::NotRelocatable));
    }
    let mut c = Converter {
        file: &file,
        image: Image::default(),
        bss_len: 0,
        places: HashMap::new(),
        wide_tail: Vec::new(),
        relocated: HashSet::new(),
    };
    c.merge_sections()?;
    c.relocate()?;
    c.function_table()?;
    let text_offsets = c.places.iter().filter(|(_, p)| p.kind == Kind::Text).map(|(&i, p)| (i, p.offset)).collect();
    Ok(Converted { image: c.image, text_offsets })
}

struct Converter<'f, 'd> {
    file: &'f Elf<'d>,
    image: Image,
    /// Bss is merged on its own (as a length: it holds only zeros) and sits after the 8-byte padded data.
    bss_len: u64,
    places: HashMap<SectionIndex, Placement>,
    /// Per slot of the merged text: whether it is the second slot of a two-slot instruction.
    wide_tail: Vec<bool>,
    /// Slots of the merged text a relocation has already rewritten.
    relocated: HashSet<usize>,
}

/// One relocation entry as read from its section.
#[derive(Clone, Copy, Debug)]
struct Entry {
    offset: u64,
    r_type: u32,
    r_sym: u32,
}

impl Converter<'_, '_> {
    fn section_name(&self, index: SectionIndex) -> Box<str> {
        let name = self.file.section_by_index(index).ok().and_then(|s| s.name().ok().map(Box::from));
        name.unwrap_or_else(|| format!("#{}", index.0).into())
    }

    fn in_section(&self, index: SectionIndex, kind: ConvertErrorKind) -> ConvertError {
        ConvertError { section: Some(self.section_name(index)), ..err(kind) }
    }

    fn merge_sections(&mut self) -> Result<(), ConvertError> {
        let endian = self.file.endian();
        for section in self.file.sections() {
            let flags = elf_flags(section.flags());
            if flags & SHF_ALLOC as u64 == 0 {
                continue;
            }
            let index = section.index();
            let name = section.name().map_err(|e| self.in_section(index, malformed(e)))?;
            let size = section.size();
            let Some(kind) = classify(name, flags) else {
                if size == 0 {
                    continue;
                }
                return Err(self.in_section(index, ConvertErrorKind::UnsupportedSection));
            };
            let bad_flags = flags & (SHF_TLS | SHF_COMPRESSED) as u64;
            if bad_flags != 0 {
                return Err(self.in_section(index, ConvertErrorKind::UnsupportedSectionFlags(bad_flags)));
            }
            if kind == Kind::Text && size % SLOT as u64 != 0 {
                return Err(self.in_section(index, ConvertErrorKind::TextNotSlots(size)));
            }
            let nobits = section.elf_section_header().sh_type(endian) == SHT_NOBITS;
            let bytes: &[u8] = if nobits {
                if kind != Kind::Bss && size != 0 {
                    return Err(self.in_section(index, ConvertErrorKind::NoBytes { size }));
                }
                &[]
            } else {
                let bytes = section.data().map_err(|e| self.in_section(index, malformed(e)))?;
                if bytes.len() as u64 != size {
                    let e = format!("{} bytes in the file for a section of {size} bytes", bytes.len());
                    return Err(self.in_section(index, ConvertErrorKind::Malformed(e)));
                }
                bytes
            };
            if kind == Kind::Bss {
                if let Some(at) = bytes.iter().position(|&b| b != 0) {
                    return Err(self.in_section(index, ConvertErrorKind::BssNotZero { offset: at as u64 }));
                }
            }
            if kind == Kind::Text {
                self.mark_wide(bytes).map_err(|kind| self.in_section(index, kind))?;
            }
            let offset = match kind {
                // An empty section takes no room (and adds no alignment padding): its symbols sit at the end.
                Kind::Text | Kind::Data | Kind::Rodata if size == 0 => Ok(self.merged(kind).len() as u64),
                Kind::Bss if size == 0 => Ok(self.bss_len),
                Kind::Text => place(&mut self.image.text, SLOT as u64, bytes),
                Kind::Data => place(&mut self.image.data, section.align(), bytes),
                Kind::Bss => next_place(self.bss_len, section.align(), size).map(|(offset, end)| {
                    self.bss_len = end;
                    offset
                }),
                Kind::Rodata => place(&mut self.image.rodata, section.align(), bytes),
            }
            .map_err(|e| ConvertError { section: Some(name.into()), ..e })?;
            self.places.insert(index, Placement { kind, offset, size });
        }
        debug_assert_eq!(self.wide_tail.len() * SLOT, self.image.text.len());
        // Bss follows data at an 8-byte boundary in both header layouts.
        self.image.data.resize(self.image.data.len().next_multiple_of(SLOT), 0);
        let bss_len = self.bss_len.next_multiple_of(SLOT as u64);
        if self.image.data.len() as u64 + bss_len > MAX_MERGED {
            let size = self.image.data.len() as u64 + bss_len;
            return Err(err(ConvertErrorKind::TooLarge { what: "data and bss", size }));
        }
        self.image.bss_len = bss_len as u32;
        Ok(())
    }

    fn merged(&self, kind: Kind) -> &[u8] {
        match kind {
            Kind::Text => &self.image.text,
            Kind::Data => &self.image.data,
            Kind::Rodata => &self.image.rodata,
            Kind::Bss => &[],
        }
    }

    /// Records which slots of a code section (about to be appended to the text) are the
    /// second halves of two-slot instructions; a section may not end inside one.
    fn mark_wide(&mut self, bytes: &[u8]) -> Result<(), ConvertErrorKind> {
        let slots = bytes.len() / SLOT;
        let mut tail = vec![false; slots];
        let mut i = 0;
        while i < slots {
            if is_wide(bytes[i * SLOT]) {
                if i + 1 == slots {
                    return Err(ConvertErrorKind::LddwTruncated { offset: (i * SLOT) as u64 });
                }
                tail[i + 1] = true;
                i += 2;
            } else {
                i += 1;
            }
        }
        self.wide_tail.extend(tail);
        Ok(())
    }

    /// A symbol's name (for messages) and its definition inside its kind's merged output.
    fn resolve_symbol(&self, index: SymbolIndex) -> (Box<str>, Result<Resolved, ConvertErrorKind>) {
        let symbol = match self.file.symbol_by_index(index) {
            Ok(s) => s,
            Err(e) => return (format!("#{}", index.0).into(), Err(malformed(e))),
        };
        let name = match symbol.name() {
            Ok("") | Err(_) => match symbol.section_index() {
                Some(s) => self.section_name(s),
                None => format!("#{}", index.0).into(),
            },
            Ok(n) => n.into(),
        };
        let section = match symbol.section() {
            SymbolSection::Section(s) => s,
            SymbolSection::Common => return (name, Err(ConvertErrorKind::CommonSymbol)),
            SymbolSection::Absolute => return (name, Err(ConvertErrorKind::AbsoluteSymbol)),
            _ => return (name, Err(ConvertErrorKind::UndefinedSymbol)),
        };
        let Some(&placement) = self.places.get(&section) else {
            return (name, Err(ConvertErrorKind::SymbolNotInContainer { section: self.section_name(section) }));
        };
        let value = symbol.address();
        if value > placement.size {
            let section = self.section_name(section);
            return (name, Err(ConvertErrorKind::SymbolOutsideSection { section, value, size: placement.size }));
        }
        (name, Ok(Resolved { placement, section, value }))
    }

    /// The name of the data symbol in section `index` that covers `offset`.
    fn symbol_covering(&self, index: SectionIndex, offset: u64) -> Option<Box<str>> {
        self.file
            .symbols()
            .filter(|s| s.section_index() == Some(index) && s.kind() != SymbolKind::Section)
            .find(|s| (s.address()..s.address().saturating_add(s.size().max(1))).contains(&offset))
            .and_then(|s| s.name().ok().map(Box::from))
    }

    /// The relocation entries of every section in the container, by section index, each
    /// section's in the order of its relocation sections. Relocation sections the object
    /// crate would skip (another symbol table, unreadable) are errors here.
    fn relocation_entries(&self) -> Result<BTreeMap<usize, Vec<Entry>>, ConvertError> {
        let endian = self.file.endian();
        let data = self.file.data();
        let symtab = self.file.elf_symbol_table().section();
        let mut all: BTreeMap<usize, Vec<Entry>> = BTreeMap::new();
        for (index, header) in self.file.elf_section_table().enumerate() {
            let sh_type = header.sh_type(endian);
            if ![SHT_REL, SHT_RELA, SHT_CREL].contains(&sh_type) {
                continue;
            }
            let target = SectionIndex(header.sh_info(endian) as usize);
            if !self.places.contains_key(&target) {
                // Relocations of debug info and other sections outside the container.
                continue;
            }
            let here = |kind| self.in_section(index, kind);
            if header.link(endian) != symtab {
                return Err(here(ConvertErrorKind::RelocationsForOtherSymbolTable { link: header.link(endian).0 }));
            }
            let entries = all.entry(target.0).or_default();
            match sh_type {
                SHT_REL => {
                    let rels: &[Rel64<Endianness>] =
                        header.data_as_array(endian, data).map_err(|e| here(malformed(e)))?;
                    entries.extend(rels.iter().map(|r| Entry {
                        offset: r.r_offset.get(endian),
                        r_type: r.r_type(endian),
                        r_sym: r.r_sym(endian),
                    }));
                }
                SHT_CREL => {
                    let bytes = header.data(endian, data).map_err(|e| here(malformed(e)))?;
                    let crels = CrelIterator::new(bytes).map_err(|e| here(malformed(e)))?;
                    if crels.is_rela() {
                        return Err(here(ConvertErrorKind::ExplicitAddends));
                    }
                    for crel in crels {
                        let crel = crel.map_err(|e| here(malformed(e)))?;
                        entries.push(Entry { offset: crel.r_offset, r_type: crel.r_type, r_sym: crel.r_sym });
                    }
                }
                _ => return Err(here(ConvertErrorKind::ExplicitAddends)),
            }
        }
        Ok(all)
    }

    fn relocate(&mut self) -> Result<(), ConvertError> {
        for (index, entries) in self.relocation_entries()? {
            let index = SectionIndex(index);
            let placement = self.places[&index];
            for entry in entries {
                self.apply(index, placement, entry)?;
            }
        }
        Ok(())
    }

    /// Applies one relocation of section `index` (placed at `placement`).
    fn apply(&mut self, index: SectionIndex, placement: Placement, entry: Entry) -> Result<(), ConvertError> {
        let Entry { offset, r_type, r_sym } = entry;
        let site = Some(RelocationSite { offset, r_type });
        let section = Some(self.section_name(index));
        if r_sym == 0 {
            let kind = ConvertErrorKind::RelocationWithoutSymbol;
            return Err(ConvertError { section, symbol: None, relocation: site, kind });
        }
        let (name, target) = self.resolve_symbol(SymbolIndex(r_sym as usize));
        let fail = |kind| ConvertError { section: section.clone(), symbol: Some(name.clone()), relocation: site, kind };
        let target = target.map_err(&fail)?;
        if placement.kind != Kind::Text {
            // Name the variable that holds the pointer, too.
            let holder = self.symbol_covering(index, offset);
            return Err(fail(ConvertErrorKind::PointerInData { holder }));
        }
        let width = match r_type {
            R_BPF_64_64 => 2 * SLOT as u64,
            R_BPF_64_32 => SLOT as u64,
            _ => return Err(fail(ConvertErrorKind::UnknownRelocation)),
        };
        if offset % SLOT as u64 != 0 {
            return Err(fail(ConvertErrorKind::RelocationMisaligned));
        }
        if offset.checked_add(width).is_none_or(|end| end > placement.size) {
            return Err(fail(ConvertErrorKind::RelocationOutsideSection { size: placement.size }));
        }
        // In bounds of the section, hence of the merged text.
        let pc = ((placement.offset + offset) / SLOT as u64) as usize;
        if self.wide_tail[pc] {
            return Err(fail(ConvertErrorKind::RelocationInsideLddw));
        }
        if !self.relocated.insert(pc) {
            return Err(fail(ConvertErrorKind::DuplicateRelocation));
        }
        let slot = fc_runtime::insn::slot(&self.image.text, pc).expect("slot inside its section");
        match r_type {
            R_BPF_64_64 if slot.opcode == OPCODE_LDDW => self.resolve_lddw(pc, slot, target),
            R_BPF_64_64 => Err(ConvertErrorKind::RelocationNotOnLddw),
            _ if slot.opcode == OPCODE_CALL => self.resolve_call(pc, slot, target),
            _ => Err(ConvertErrorKind::RelocationNotOnCall),
        }
        .map_err(fail)
    }

    /// `R_BPF_64_64` on the lddw at slot `pc`: the implicit addend is the LDDW's 64-bit immediate.
    fn resolve_lddw(&mut self, pc: usize, first: RawSlot, target: Resolved) -> Result<(), ConvertErrorKind> {
        let hi = fc_runtime::insn::slot(&self.image.text, pc + 1).expect("lddw's second slot").imm;
        let addend = ((hi as u32 as u64) << 32 | first.imm as u32 as u64) as i64;
        let data_len = self.image.data.len() as u64 + self.image.bss_len as u64;
        let (opcode, base, region, len) = match target.placement.kind {
            Kind::Data => (OPCODE_LDDW_DATA, 0, Region::DataAndBss, data_len),
            Kind::Bss => (OPCODE_LDDW_DATA, self.image.data.len() as u64, Region::DataAndBss, data_len),
            Kind::Rodata => (OPCODE_LDDW_RODATA, 0, Region::Rodata, self.image.rodata.len() as u64),
            Kind::Text => return Err(ConvertErrorKind::AddressOfCode),
        };
        // Each term is at most MAX_MERGED: no overflow.
        let symbol_offset = base + target.placement.offset + target.value;
        let address = (symbol_offset as i64).checked_add(addend).filter(|a| (0..=len as i64).contains(a));
        let Some(address) = address.map(|a| a as u64) else {
            return Err(ConvertErrorKind::TargetOutsideSection { symbol_offset, addend, region, len });
        };
        let pos = pc * SLOT;
        let text = &mut self.image.text;
        text[pos] = opcode;
        text[pos + 4..pos + 8].copy_from_slice(&(address as u32).to_le_bytes());
        text[pos + 12..pos + 16].copy_from_slice(&((address >> 32) as u32).to_le_bytes());
        Ok(())
    }

    /// `R_BPF_64_32` on the call at slot `pc`: target = symbol + (imm + 1) * 8, which must be
    /// an instruction of the symbol's section; rewritten as a pc-relative local call (src = 1).
    fn resolve_call(&mut self, pc: usize, call: RawSlot, target: Resolved) -> Result<(), ConvertErrorKind> {
        if target.placement.kind != Kind::Text {
            return Err(ConvertErrorKind::CallTargetNotInText);
        }
        let offset = target.value as i64 + (call.imm as i64 + 1) * SLOT as i64;
        let size = target.placement.size;
        let section = || self.section_name(target.section);
        if offset < 0 || offset >= size as i64 {
            return Err(ConvertErrorKind::CallTargetOutsideSection { section: section(), offset, size });
        }
        let to = self.instruction_at(target, offset)?;
        let imm = i32::try_from(to as i64 - pc as i64 - 1).map_err(|_| ConvertErrorKind::CallTargetNotInText)?;
        let slot = RawSlot { src: 1, imm, ..call };
        self.image.text[pc * SLOT..(pc + 1) * SLOT].copy_from_slice(&slot.to_bytes());
        Ok(())
    }

    /// The merged-text slot of the instruction at `offset` (inside the section) of a code section.
    fn instruction_at(&self, target: Resolved, offset: i64) -> Result<usize, ConvertErrorKind> {
        let section = || self.section_name(target.section);
        if offset % SLOT as i64 != 0 {
            return Err(ConvertErrorKind::NotAnInstruction { section: section(), offset, inside_lddw: false });
        }
        let pc = ((target.placement.offset as i64 + offset) / SLOT as i64) as usize;
        if self.wide_tail[pc] {
            return Err(ConvertErrorKind::NotAnInstruction { section: section(), offset, inside_lddw: true });
        }
        Ok(pc)
    }

    fn function_table(&mut self) -> Result<(), ConvertError> {
        let mut names = HashSet::new();
        for symbol in self.file.symbols() {
            if symbol.kind() != SymbolKind::Text || !symbol.is_global() || symbol.is_weak() || !symbol.is_definition() {
                continue;
            }
            let (name, resolved) = self.resolve_symbol(symbol.index());
            let named = |kind| ConvertError { symbol: Some(name.clone()), ..err(kind) };
            match symbol.name() {
                Ok("") => return Err(named(ConvertErrorKind::UnnamedFunction)),
                Err(e) => return Err(named(malformed(e))),
                Ok(_) => {}
            }
            let target = resolved.map_err(named)?;
            if target.placement.kind != Kind::Text {
                return Err(named(ConvertErrorKind::FunctionNotInText));
            }
            if target.value >= target.placement.size {
                let (section, value, size) = (self.section_name(target.section), target.value, target.placement.size);
                return Err(named(ConvertErrorKind::SymbolOutsideSection { section, value, size }));
            }
            let pc = self.instruction_at(target, target.value as i64).map_err(named)?;
            if !names.insert(name.clone()) {
                return Err(named(ConvertErrorKind::DuplicateFunction));
            }
            self.image.functions.push((name.into(), (pc * SLOT) as u32));
        }
        if self.image.functions.is_empty() {
            return Err(err(ConvertErrorKind::NoGlobalFunction));
        }
        Ok(())
    }
}
