//! Converts clang's BPF ELF object into a container [`Image`] (spec §1 "From clang's ELF object").
//!
//! Sections are merged by kind (text, data then bss, rodata), relocations are
//! resolved into the two Femto-Container LDDW forms and pc-relative local calls,
//! and global functions become the function table. Whatever cannot be
//! represented is an error naming the section and symbol.

use std::collections::HashMap;
use std::fmt;

use fc_runtime::format::Image;
use fc_runtime::insn::{RawSlot, SLOT};
use fc_runtime::memory::SLOT_SIZE;
use object::elf::{R_BPF_64_32, R_BPF_64_64, SHF_ALLOC, SHF_EXECINSTR};
use object::{
    Architecture, BinaryFormat, Object, ObjectKind, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget,
    SectionFlags, SectionIndex, SymbolIndex, SymbolKind, SymbolSection,
};

const OPCODE_LDDW: u8 = 0x18;
const OPCODE_LDDW_DATA: u8 = 0xb8;
const OPCODE_LDDW_RODATA: u8 = 0xd8;
const OPCODE_CALL: u8 = 0x85;

/// What went wrong, with the ELF section and symbol it concerns where there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertError {
    pub section: Option<String>,
    pub symbol: Option<String>,
    pub kind: ConvertErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConvertErrorKind {
    /// The object crate could not read the file.
    Malformed(String),
    NotElf,
    WrongMachine(String),
    NotRelocatable,
    BigEndian,
    /// An allocated section that is neither text, data, bss nor rodata.
    UnsupportedSection,
    /// An executable section whose size is not a multiple of 8.
    TextNotSlots(u64),
    UnknownRelocation(u32),
    /// A relocation inside data or rodata: a pointer stored in memory.
    PointerInData { offset: u64 },
    RelocationNotOnLddw { offset: u64 },
    RelocationNotOnCall { offset: u64 },
    UndefinedSymbol,
    CommonSymbol,
    /// An LDDW relocation against code (a function pointer).
    AddressOfCode,
    /// The address a relocation produces lies outside its section.
    TargetOutsideSection { offset: i128 },
    CallTargetNotInText,
    NoGlobalFunction,
    TooLarge { what: &'static str, size: u64 },
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.section, &self.symbol) {
            (Some(s), Some(y)) => write!(f, "section {s}, symbol `{y}`: ")?,
            (Some(s), None) => write!(f, "section {s}: ")?,
            (None, Some(y)) => write!(f, "symbol `{y}`: ")?,
            (None, None) => {}
        }
        match &self.kind {
            ConvertErrorKind::Malformed(e) => write!(f, "malformed ELF: {e}"),
            ConvertErrorKind::NotElf => f.write_str("not an ELF object"),
            ConvertErrorKind::WrongMachine(m) => write!(f, "ELF machine is {m}, expected BPF (clang -target bpf)"),
            ConvertErrorKind::NotRelocatable => f.write_str("not a relocatable object (compile with -c)"),
            ConvertErrorKind::BigEndian => f.write_str("big-endian BPF object; use -target bpf or bpfel"),
            ConvertErrorKind::UnsupportedSection => {
                f.write_str("allocated section is not .text*, .data*, .bss* or .rodata*; it cannot be represented")
            }
            ConvertErrorKind::TextNotSlots(n) => write!(f, "size {n} is not a multiple of 8"),
            ConvertErrorKind::UnknownRelocation(t) => write!(f, "relocation type {t} is not supported"),
            ConvertErrorKind::PointerInData { offset } => write!(
                f,
                "relocation at offset 0x{offset:x}: a pointer stored in data cannot be represented (no pointer tables)"
            ),
            ConvertErrorKind::RelocationNotOnLddw { offset } => {
                write!(f, "R_BPF_64_64 at offset 0x{offset:x} is not on an lddw instruction")
            }
            ConvertErrorKind::RelocationNotOnCall { offset } => {
                write!(f, "R_BPF_64_32 at offset 0x{offset:x} is not on a call instruction")
            }
            ConvertErrorKind::UndefinedSymbol => f.write_str("undefined symbol (containers cannot link to other code)"),
            ConvertErrorKind::CommonSymbol => f.write_str("common symbol; compile with -fno-common"),
            ConvertErrorKind::AddressOfCode => f.write_str("the address of code cannot be taken (no function pointers)"),
            ConvertErrorKind::TargetOutsideSection { offset } => {
                write!(f, "relocated address (offset {offset}) lies outside its section")
            }
            ConvertErrorKind::CallTargetNotInText => f.write_str("call target is not an instruction in text"),
            ConvertErrorKind::NoGlobalFunction => f.write_str("no global function: nothing for the VM to run"),
            ConvertErrorKind::TooLarge { what, size } => write!(f, "{what} of {size} bytes is too large"),
        }
    }
}

impl std::error::Error for ConvertError {}

fn err(kind: ConvertErrorKind) -> ConvertError {
    ConvertError { section: None, symbol: None, kind }
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

/// Converts a relocatable BPF ELF object into a container image.
pub fn convert(elf: &[u8]) -> Result<Image, ConvertError> {
    let file = object::File::parse(elf).map_err(|e| err(ConvertErrorKind::Malformed(e.to_string())))?;
    if file.format() != BinaryFormat::Elf {
        return Err(err(ConvertErrorKind::NotElf));
    }
    if file.architecture() != Architecture::Bpf {
        return Err(err(ConvertErrorKind::WrongMachine(format!("{:?}", file.architecture()))));
    }
    if !file.is_little_endian() {
        return Err(err(ConvertErrorKind::BigEndian));
    }
    if file.kind() != ObjectKind::Relocatable {
        return Err(err(ConvertErrorKind::NotRelocatable));
    }
    let mut c = Converter { file: &file, image: Image::default(), bss_len: 0, places: HashMap::new() };
    c.merge_sections()?;
    c.relocate()?;
    c.function_table()?;
    Ok(c.image)
}

struct Converter<'f, 'd> {
    file: &'f object::File<'d>,
    image: Image,
    /// Bss is merged on its own (as a length: it holds only zeros) and sits after the 8-byte padded data.
    bss_len: u64,
    places: HashMap<SectionIndex, Placement>,
}

impl Converter<'_, '_> {
    fn section_name(&self, index: SectionIndex) -> String {
        self.file
            .section_by_index(index)
            .ok()
            .and_then(|s| s.name().ok().map(str::to_owned))
            .unwrap_or_else(|| format!("#{}", index.0))
    }

    fn in_section(&self, index: SectionIndex, kind: ConvertErrorKind) -> ConvertError {
        ConvertError { section: Some(self.section_name(index)), symbol: None, kind }
    }

    fn merge_sections(&mut self) -> Result<(), ConvertError> {
        for section in self.file.sections() {
            let flags = elf_flags(section.flags());
            if flags & SHF_ALLOC as u64 == 0 || section.size() == 0 {
                continue;
            }
            let index = section.index();
            let name = section.name().map_err(|e| self.in_section(index, ConvertErrorKind::Malformed(e.to_string())))?;
            let kind = classify(name, flags).ok_or(self.in_section(index, ConvertErrorKind::UnsupportedSection))?;
            let size = section.size();
            let bytes = match kind {
                Kind::Bss => None,
                _ => Some(section.data().map_err(|e| self.in_section(index, ConvertErrorKind::Malformed(e.to_string())))?),
            };
            if kind == Kind::Text && size % SLOT as u64 != 0 {
                return Err(self.in_section(index, ConvertErrorKind::TextNotSlots(size)));
            }
            let bytes = bytes.unwrap_or_default();
            let offset = match kind {
                Kind::Text => place(&mut self.image.text, SLOT as u64, bytes),
                Kind::Data => place(&mut self.image.data, section.align(), bytes),
                Kind::Bss => next_place(self.bss_len, section.align(), size).map(|(offset, end)| {
                    self.bss_len = end;
                    offset
                }),
                Kind::Rodata => place(&mut self.image.rodata, section.align(), bytes),
            }
            .map_err(|e| ConvertError { section: Some(name.to_owned()), ..e })?;
            self.places.insert(index, Placement { kind, offset, size });
        }
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

    /// Offset of a symbol's definition inside its kind's merged output.
    fn symbol_place(&self, index: SymbolIndex) -> Result<(Placement, u64, String), ConvertError> {
        let symbol = self.file.symbol_by_index(index).map_err(|e| err(ConvertErrorKind::Malformed(e.to_string())))?;
        let name = match symbol.name() {
            Ok("") | Err(_) => match symbol.section_index() {
                Some(s) => self.section_name(s),
                None => format!("#{}", index.0),
            },
            Ok(n) => n.to_owned(),
        };
        let named = |kind| ConvertError { section: None, symbol: Some(name.clone()), kind };
        let section = match symbol.section() {
            SymbolSection::Section(s) => s,
            SymbolSection::Common => return Err(named(ConvertErrorKind::CommonSymbol)),
            _ => return Err(named(ConvertErrorKind::UndefinedSymbol)),
        };
        let placement = self.places.get(&section).copied().ok_or(named(ConvertErrorKind::UndefinedSymbol))?;
        Ok((placement, symbol.address(), name))
    }

    /// The name of the data symbol in section `index` that covers `offset`.
    fn symbol_covering(&self, index: SectionIndex, offset: u64) -> Option<String> {
        self.file
            .symbols()
            .filter(|s| s.section_index() == Some(index) && s.kind() != SymbolKind::Section)
            .find(|s| (s.address()..s.address().saturating_add(s.size().max(1))).contains(&offset))
            .and_then(|s| s.name().ok().map(str::to_owned))
    }

    fn relocate(&mut self) -> Result<(), ConvertError> {
        let sections: Vec<(SectionIndex, Placement)> = {
            let mut v: Vec<_> = self.places.iter().map(|(i, p)| (*i, *p)).collect();
            v.sort_by_key(|(i, _)| i.0);
            v
        };
        for (index, placement) in sections {
            let section = self.file.section_by_index(index).map_err(|e| err(ConvertErrorKind::Malformed(e.to_string())))?;
            for (offset, reloc) in section.relocations() {
                let r_type = match reloc.flags() {
                    RelocationFlags::Elf { r_type } => r_type,
                    _ => 0,
                };
                let symbol = match reloc.target() {
                    RelocationTarget::Symbol(s) => s,
                    _ => return Err(self.in_section(index, ConvertErrorKind::UnknownRelocation(r_type))),
                };
                let (target, value, name) = self.symbol_place(symbol).map_err(|e| ConvertError {
                    section: Some(self.section_name(index)),
                    ..e
                })?;
                let section_name = self.section_name(index);
                let at = |kind| ConvertError { section: Some(section_name.clone()), symbol: Some(name.clone()), kind };
                if placement.kind != Kind::Text {
                    // Name the table that holds the pointer, not what it points at.
                    let holder = self.symbol_covering(index, offset).unwrap_or(name.clone());
                    let kind = ConvertErrorKind::PointerInData { offset };
                    return Err(ConvertError { section: Some(section_name), symbol: Some(holder), kind });
                }
                let fits = |n: u64| offset % SLOT as u64 == 0 && offset.checked_add(n).is_some_and(|e| e <= placement.size);
                let pos = placement.offset + offset.min(placement.size);
                let slot = fits(SLOT as u64)
                    .then(|| fc_runtime::insn::slot(&self.image.text, (pos / SLOT as u64) as usize))
                    .flatten();
                match r_type {
                    R_BPF_64_64 => {
                        let lddw = slot.filter(|s| s.opcode == OPCODE_LDDW && fits(2 * SLOT as u64));
                        let lddw = lddw.ok_or(at(ConvertErrorKind::RelocationNotOnLddw { offset }))?;
                        self.resolve_lddw(pos as usize, lddw, target, value).map_err(at)?;
                    }
                    R_BPF_64_32 => {
                        let call = slot.filter(|s| s.opcode == OPCODE_CALL);
                        let call = call.ok_or(at(ConvertErrorKind::RelocationNotOnCall { offset }))?;
                        self.resolve_call(pos as usize, call, target, value).map_err(at)?;
                    }
                    other => return Err(at(ConvertErrorKind::UnknownRelocation(other))),
                }
            }
        }
        Ok(())
    }

    /// `R_BPF_64_64`: the implicit addend is the LDDW's 64-bit immediate.
    fn resolve_lddw(&mut self, pos: usize, first: RawSlot, target: Placement, value: u64) -> Result<(), ConvertErrorKind> {
        let hi = fc_runtime::insn::slot(&self.image.text, pos / SLOT + 1).map_or(0, |s| s.imm);
        let addend = ((hi as u32 as u64) << 32 | first.imm as u32 as u64) as i64;
        let (opcode, base, len) = match target.kind {
            Kind::Data => (OPCODE_LDDW_DATA, 0, self.image.data.len() as u64 + self.image.bss_len as u64),
            Kind::Bss => (OPCODE_LDDW_DATA, self.image.data.len() as u64, self.image.data.len() as u64 + self.image.bss_len as u64),
            Kind::Rodata => (OPCODE_LDDW_RODATA, 0, self.image.rodata.len() as u64),
            Kind::Text => return Err(ConvertErrorKind::AddressOfCode),
        };
        let address = base as i128 + target.offset as i128 + value as i128 + addend as i128;
        if address < 0 || address > len as i128 {
            return Err(ConvertErrorKind::TargetOutsideSection { offset: address });
        }
        let address = address as u64;
        let text = &mut self.image.text;
        text[pos] = opcode;
        text[pos + 4..pos + 8].copy_from_slice(&(address as u32).to_le_bytes());
        text[pos + 12..pos + 16].copy_from_slice(&((address >> 32) as u32).to_le_bytes());
        Ok(())
    }

    /// `R_BPF_64_32` on a call: target = symbol + (imm + 1) * 8, rewritten as a
    /// pc-relative local call (src = 1).
    fn resolve_call(&mut self, pos: usize, call: RawSlot, target: Placement, value: u64) -> Result<(), ConvertErrorKind> {
        if target.kind != Kind::Text {
            return Err(ConvertErrorKind::CallTargetNotInText);
        }
        let byte = target.offset as i128 + value as i128 + (call.imm as i128 + 1) * SLOT as i128;
        if byte < 0 || byte % SLOT as i128 != 0 || byte >= self.image.text.len() as i128 {
            return Err(ConvertErrorKind::CallTargetNotInText);
        }
        let imm = byte / SLOT as i128 - (pos / SLOT) as i128 - 1;
        let imm = i32::try_from(imm).map_err(|_| ConvertErrorKind::CallTargetNotInText)?;
        let slot = RawSlot { src: 1, imm, ..call };
        self.image.text[pos..pos + SLOT].copy_from_slice(&slot.to_bytes());
        Ok(())
    }

    fn function_table(&mut self) -> Result<(), ConvertError> {
        for symbol in self.file.symbols() {
            if symbol.kind() != SymbolKind::Text || !symbol.is_global() || symbol.is_weak() || !symbol.is_definition() {
                continue;
            }
            let (placement, value, name) = self.symbol_place(symbol.index())?;
            let location = placement.offset.saturating_add(value);
            if placement.kind != Kind::Text || location % SLOT as u64 != 0 || location >= self.image.text.len() as u64 {
                return Err(ConvertError { section: None, symbol: Some(name), kind: ConvertErrorKind::CallTargetNotInText });
            }
            self.image.functions.push((name, location as u32));
        }
        if self.image.functions.is_empty() {
            return Err(err(ConvertErrorKind::NoGlobalFunction));
        }
        Ok(())
    }
}
