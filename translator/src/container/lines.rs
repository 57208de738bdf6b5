//! Line tables: which source line each instruction of a container came from, read from
//! the DWARF of clang's object (`-g`) and kept beside the `.bin` as `NAME.lines`.
//!
//! The object's addresses are offsets inside its own code sections; the table maps them
//! onto the container's text exactly as [`elf::convert_placed`] merged those sections, by
//! applying the debug sections' relocations with each code section's place in the text
//! (a C++ container's `.text.*` sections all start at address 0 in the object). The
//! `.bin` itself is not touched: the table carries a fingerprint of the text it describes,
//! and a table whose text changed is ignored.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use gimli::{EndianSlice, LittleEndian, RelocateReader, SectionId};
use object::read::elf::ElfFile64;
use object::{Endianness, Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SectionIndex};

use crate::container::elf::{self, relocation_name, ConvertError};
use fc_runtime::insn::SLOT;

/// The BPF relocations clang puts in debug sections (the `object` crate has no names for them).
const R_BPF_64_ABS64: u32 = 2;
const R_BPF_64_ABS32: u32 = 3;

/// The first line of every table file: identifies the format (and says who wrote it).
const HEADER: &str = "fc-aot line table 1: instruction -> source line, written by fc-aot build; do not edit";

/// Why no line table could be read from an object.
#[derive(Debug)]
pub enum LinesError {
    /// The object does not convert, so there are no instructions to map.
    Convert(ConvertError),
    /// The object crate could not read a section or symbol.
    Object { section: String, error: String },
    /// A debug section compressed in the object (`-gz`).
    Compressed { section: String },
    /// A relocation of a debug section that is not an absolute address or offset of a symbol.
    Relocation { section: String, offset: u64, r_type: Option<u32> },
    /// The DWARF does not parse.
    Dwarf(gimli::Error),
    /// Writing the table file failed.
    Io { path: PathBuf, error: String },
}

impl fmt::Display for LinesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinesError::Convert(e) => e.fmt(f),
            LinesError::Object { section, error } => write!(f, "section {section}: {error}"),
            LinesError::Compressed { section } => {
                write!(f, "section {section} is compressed; compile without -gz to get line numbers")
            }
            LinesError::Relocation { section, offset, r_type: Some(t) } => write!(
                f,
                "section {section}: relocation {} at offset 0x{offset:x} is not an address (R_BPF_64_ABS64/ABS32)",
                relocation_name(*t)
            ),
            LinesError::Relocation { section, offset, r_type: None } => {
                write!(f, "section {section}: relocation at offset 0x{offset:x} names no symbol of the object")
            }
            LinesError::Dwarf(e) => write!(f, "DWARF: {e}"),
            LinesError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for LinesError {}

/// What a relocation adds where it applies: `S + A`, and whether the value stored there
/// is an addend too (`SHT_REL`, which BPF objects use) or is replaced (`SHT_RELA`).
#[derive(Clone, Copy, Debug)]
struct Patch {
    value: u64,
    implicit_addend: bool,
}

/// The relocations of one debug section by section offset, for gimli's [`RelocateReader`].
#[derive(Clone, Debug, Default)]
struct Relocations(Rc<BTreeMap<usize, Patch>>);

impl Relocations {
    fn apply(&self, offset: usize, stored: u64) -> u64 {
        match self.0.get(&offset) {
            Some(p) if p.implicit_addend => stored.wrapping_add(p.value),
            Some(p) => p.value,
            None => stored,
        }
    }
}

impl gimli::Relocate for Relocations {
    fn relocate_address(&self, offset: usize, value: u64) -> gimli::Result<u64> {
        Ok(self.apply(offset, value))
    }

    fn relocate_offset(&self, offset: usize, value: usize) -> gimli::Result<usize> {
        // Offsets into other debug sections: a section symbol (value 0) plus the addend.
        usize::try_from(self.apply(offset, value as u64)).map_err(|_| gimli::Error::UnsupportedOffset)
    }
}

type Reader<'d> = RelocateReader<EndianSlice<'d, LittleEndian>, Relocations>;

/// The relocations of `section`, with every symbol in a code section moved to where the
/// converter put that section in the text; other symbols (debug sections) keep their value.
fn relocations(
    file: &ElfFile64<'_, Endianness>,
    section: &object::read::elf::ElfSection64<'_, '_, Endianness>,
    text_offsets: &HashMap<SectionIndex, u64>,
) -> Result<Relocations, LinesError> {
    let name = || section.name().unwrap_or("?").to_owned();
    let mut map = BTreeMap::new();
    for (offset, relocation) in section.relocations() {
        let refuse = |r_type| LinesError::Relocation { section: name(), offset, r_type };
        let r_type = match relocation.flags() {
            RelocationFlags::Elf { r_type } => r_type,
            _ => return Err(refuse(None)),
        };
        match r_type {
            object::elf::R_BPF_NONE => continue,
            R_BPF_64_ABS64 | R_BPF_64_ABS32 => {}
            other => return Err(refuse(Some(other))),
        }
        let RelocationTarget::Symbol(index) = relocation.target() else { return Err(refuse(None)) };
        let symbol = file.symbol_by_index(index).map_err(|_| refuse(None))?;
        let placed = symbol.section_index().and_then(|s| text_offsets.get(&s)).copied().unwrap_or(0);
        let value = placed.wrapping_add(symbol.address()).wrapping_add(relocation.addend() as u64);
        let offset = usize::try_from(offset).map_err(|_| refuse(Some(r_type)))?;
        map.insert(offset, Patch { value, implicit_addend: relocation.has_implicit_addend() });
    }
    Ok(Relocations(Rc::new(map)))
}

/// The instruction index -> file:line table of one container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineTable {
    /// Fingerprint of the text this table describes ([`fingerprint`]).
    text_hash: u64,
    /// File names (the last component of the path DWARF records), each once.
    files: Vec<String>,
    /// Per instruction slot of the text: (index into `files`, line).
    slots: Vec<Option<(usize, u32)>>,
}

/// 64-bit FNV-1a of the container's text: cheap, stable across builds, enough to tell
/// a table from one written for another text.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
}

/// The line table of the container `object` converts to. An object without DWARF line
/// information (compiled without `-g`) gives a table without lines.
pub fn table(object: &[u8]) -> Result<LineTable, LinesError> {
    let converted = elf::convert_placed(object).map_err(LinesError::Convert)?;
    // `convert_placed` accepted the file as a little-endian ELF64 object.
    let file = ElfFile64::<Endianness>::parse(object)
        .map_err(|e| LinesError::Object { section: "(headers)".into(), error: e.to_string() })?;
    let load = |id: SectionId| -> Result<Reader<'_>, LinesError> {
        let Some(section) = file.section_by_name(id.name()) else {
            return Ok(RelocateReader::new(EndianSlice::new(&[], LittleEndian), Relocations::default()));
        };
        let name = || id.name().to_owned();
        let compressed = section.compressed_file_range().map_err(|e| LinesError::Object { section: name(), error: e.to_string() })?;
        if compressed.format != object::CompressionFormat::None {
            return Err(LinesError::Compressed { section: name() });
        }
        let data = section.data().map_err(|e| LinesError::Object { section: name(), error: e.to_string() })?;
        let relocations = relocations(&file, &section, &converted.text_offsets)?;
        Ok(RelocateReader::new(EndianSlice::new(data, LittleEndian), relocations))
    };
    let dwarf = gimli::Dwarf::load(load)?;
    let text = &converted.image.text;
    let mut table =
        LineTable { text_hash: fingerprint(text), files: Vec::new(), slots: vec![None; text.len() / SLOT] };
    let mut units = dwarf.units();
    while let Some(header) = units.next()? {
        let unit = dwarf.unit(header)?;
        if let Some(program) = unit.line_program.clone() {
            table.add_program(&dwarf, &unit, program)?;
        }
    }
    Ok(table)
}

impl From<gimli::Error> for LinesError {
    fn from(e: gimli::Error) -> Self {
        LinesError::Dwarf(e)
    }
}

impl LineTable {
    /// Gives each slot the row of `program` whose address range covers it.
    fn add_program<'d>(
        &mut self,
        dwarf: &gimli::Dwarf<Reader<'d>>,
        unit: &gimli::Unit<Reader<'d>>,
        program: gimli::IncompleteLineProgram<Reader<'d>>,
    ) -> Result<(), LinesError> {
        let mut rows = program.rows();
        // The row in effect: its start address and what it says.
        let mut open: Option<(u64, Option<(usize, u32)>)> = None;
        while let Some((header, row)) = rows.next_row()? {
            if let Some((start, at)) = open.take() {
                self.cover(start, row.address(), at);
            }
            if row.end_sequence() {
                continue;
            }
            // Line 0 is code no source line stands for (the compiler's own).
            let line = row.line().and_then(|l| u32::try_from(l.get()).ok());
            let at = match (line, header.file(row.file_index())) {
                (Some(line), Some(file)) => {
                    let path = dwarf.attr_string(unit, file.path_name())?;
                    Some((self.file_index(&gimli::Reader::to_string_lossy(&path)?), line))
                }
                _ => None,
            };
            open = Some((row.address(), at));
        }
        Ok(())
    }

    /// Sets the slots whose address lies in `[start, end)` (clipped to the text).
    fn cover(&mut self, start: u64, end: u64, at: Option<(usize, u32)>) {
        let slot = |address: u64| usize::try_from(address.div_ceil(SLOT as u64)).unwrap_or(usize::MAX);
        let (first, last) = (slot(start).min(self.slots.len()), slot(end).min(self.slots.len()));
        if first < last {
            self.slots[first..last].fill(at);
        }
    }

    fn file_index(&mut self, path: &str) -> usize {
        let name = Path::new(path).file_name().map_or(Cow::Borrowed(path), |n| n.to_string_lossy()).into_owned();
        match self.files.iter().position(|f| *f == name) {
            Some(i) => i,
            None => {
                self.files.push(name);
                self.files.len() - 1
            }
        }
    }

    /// The source file (its name) and line of instruction slot `insn`, when known.
    pub fn at(&self, insn: usize) -> Option<(&str, u32)> {
        let (file, line) = (*self.slots.get(insn)?)?;
        Some((self.files[file].as_str(), line))
    }

    /// Where the table of `bin` lives: `NAME.lines` beside `NAME.bin`.
    pub fn path_beside(bin: &Path) -> PathBuf {
        bin.with_extension("lines")
    }

    /// Writes the table beside `bin` ([`path_beside`](Self::path_beside)); returns its path.
    pub fn write_beside(&self, bin: &Path) -> Result<PathBuf, LinesError> {
        let path = Self::path_beside(bin);
        std::fs::write(&path, self.to_text()).map_err(|e| LinesError::Io { path: path.clone(), error: e.to_string() })?;
        Ok(path)
    }

    /// The table beside `bin` if there is one and it was written for `text` (the
    /// container's text section); a missing, foreign or stale table is `None`.
    pub fn read_beside(bin: &Path, text: &[u8]) -> Option<LineTable> {
        Self::parse(&std::fs::read_to_string(Self::path_beside(bin)).ok()?, text)
    }

    /// The file: [`HEADER`], `text FINGERPRINT SLOTS`, one `file NAME` per file, then one
    /// line per run of slots with the same source line, `SLOT FILE LINE` (or `SLOT -`
    /// for slots without one), each run lasting until the next.
    fn to_text(&self) -> String {
        let mut out = format!("{HEADER}\ntext {:016x} {}\n", self.text_hash, self.slots.len());
        for f in &self.files {
            // One name per line: a line break in a file name would end it early.
            let _ = writeln!(out, "file {}", f.replace(['\n', '\r'], "?"));
        }
        let mut previous = None;
        for (slot, at) in self.slots.iter().enumerate() {
            if previous == Some(at) {
                continue;
            }
            previous = Some(at);
            let _ = match at {
                Some((file, line)) => writeln!(out, "{slot} {file} {line}"),
                None => writeln!(out, "{slot} -"),
            };
        }
        out
    }

    /// Reads [`to_text`](Self::to_text)'s format; `None` unless it describes exactly `text`.
    fn parse(file: &str, text: &[u8]) -> Option<LineTable> {
        let mut lines = file.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let (hash, count) = lines.next()?.strip_prefix("text ")?.split_once(' ')?;
        let text_hash = u64::from_str_radix(hash, 16).ok()?;
        let count: usize = count.parse().ok()?;
        if text_hash != fingerprint(text) || count != text.len() / SLOT {
            return None;
        }
        let mut table = LineTable { text_hash, files: Vec::new(), slots: vec![None; count] };
        let mut runs = Vec::new();
        for line in lines {
            if let Some(name) = line.strip_prefix("file ") {
                table.files.push(name.to_owned());
                continue;
            }
            let mut fields = line.split(' ');
            let slot: usize = fields.next()?.parse().ok()?;
            let at = match (fields.next()?, fields.next(), fields.next()) {
                ("-", None, None) => None,
                (file, Some(line), None) => Some((file.parse::<usize>().ok()?, line.parse::<u32>().ok()?)),
                _ => return None,
            };
            if at.is_some_and(|(f, _)| f >= table.files.len()) || runs.last().is_some_and(|&(s, _)| s >= slot) {
                return None;
            }
            runs.push((slot, at));
        }
        for (i, &(start, at)) in runs.iter().enumerate() {
            let end = runs.get(i + 1).map_or(count, |&(next, _)| next);
            table.slots.get_mut(start..end)?.fill(at);
        }
        Some(table)
    }
}

/// `insn 12 (sensor.c:17)`, or `insn 12` without a table or a line for it: how every
/// message names an instruction.
pub fn insn_label(lines: Option<&LineTable>, insn: usize) -> String {
    match lines.and_then(|t| t.at(insn)) {
        Some((file, line)) => format!("insn {insn} ({file}:{line})"),
        None => format!("insn {insn}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Vec<u8>, LineTable) {
        let text = vec![0x95u8; 6 * SLOT];
        let files = vec!["oob.c".to_owned(), "fc helpers.h".to_owned()];
        let slots = vec![Some((0, 3)), Some((0, 3)), None, Some((1, 40)), Some((0, 5)), Some((0, 5))];
        (text.clone(), LineTable { text_hash: fingerprint(&text), files, slots })
    }

    #[test]
    fn the_file_format_round_trips_and_names_lines() {
        let (text, table) = sample();
        let written = table.to_text();
        assert!(written.starts_with("fc-aot line table 1:"), "{written}");
        assert!(written.contains("\n0 0 3\n2 -\n3 1 40\n4 0 5\n"), "runs, not slots:\n{written}");
        assert_eq!(LineTable::parse(&written, &text), Some(table.clone()));
        assert_eq!(table.at(4), Some(("oob.c", 5)));
        assert_eq!(table.at(3), Some(("fc helpers.h", 40)));
        assert_eq!(table.at(2), None);
        assert_eq!(table.at(6), None, "past the text");
        assert_eq!(insn_label(Some(&table), 4), "insn 4 (oob.c:5)");
        assert_eq!(insn_label(Some(&table), 2), "insn 2");
        assert_eq!(insn_label(None, 4), "insn 4");
    }

    #[test]
    fn a_table_for_another_text_is_ignored() {
        let (mut text, table) = sample();
        let written = table.to_text();
        text[8] = 0xb7;
        assert_eq!(LineTable::parse(&written, &text), None, "same length, other bytes");
        assert_eq!(LineTable::parse(&written, &text[..4 * SLOT]), None, "other length");
        assert_eq!(LineTable::parse(&written.replacen("table 1", "table 2", 1), &sample().0), None, "other format");
        assert_eq!(LineTable::parse(&written.replace("3 1 40", "3 7 40"), &sample().0), None, "no file 7");
    }

    #[test]
    fn tables_live_beside_their_bin() {
        let dir = std::env::temp_dir().join(format!("fc-aot-lines-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("oob.bin");
        let (text, table) = sample();
        assert_eq!(table.write_beside(&bin).unwrap(), dir.join("oob.lines"));
        assert_eq!(LineTable::read_beside(&bin, &text), Some(table));
        assert_eq!(LineTable::read_beside(&dir.join("other.bin"), &text), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
