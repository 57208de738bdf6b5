//! `fc-aot convert` on objects it must refuse (one `fc-aot: ` line on stderr, exit 1, no output
//! file), and `fc-aot build` behaviour: clang diagnostics, duplicate stems, missing clang,
//! incremental rebuilds, the generated glue, and the seed's dump of `increment`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;
use fc_aot::container::elf::{self, ConvertErrorKind};
use object::elf::{
    R_BPF_64_32, R_BPF_64_64, SHF_ALLOC, SHF_COMPRESSED, SHF_EXECINSTR, SHF_TLS, SHF_WRITE, SHT_PROGBITS,
};
use object::write::{SectionId, SymbolId};

// ---------------------------------------------------------------------------------------------
// convert

/// Runs `fc-aot convert OBJECT -o OUT` and checks the failure contract; returns the line.
fn convert_fails(tmp: &TempDir, object: &Path, needles: &[&str]) -> String {
    let out = tmp.join("out.bin");
    let _ = std::fs::remove_file(&out);
    let o = fc_aot(&["convert", object.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "exit code for {}; stderr: {err}", object.display());
    assert!(stdout(&o).is_empty(), "stdout not empty: {}", stdout(&o));
    assert_eq!(err.lines().count(), 1, "expected exactly one line on stderr, got:\n{err}");
    assert!(err.ends_with('\n'));
    let line = err.trim_end().to_owned();
    assert!(line.starts_with("fc-aot: "), "{line}");
    let file_name = object.file_name().unwrap().to_str().unwrap();
    assert!(line.contains(file_name), "the message does not name the file {file_name}: {line}");
    for n in needles {
        assert!(line.contains(n), "the message does not mention {n:?}: {line}");
    }
    assert!(!out.exists(), "an output file was written despite the error");
    line
}

const GOOD: &str = "int counter;\nint f(int *c) { counter += *c; return counter; }\n";

#[test]
fn wrong_machine_from_x86_compile() {
    let tmp = TempDir::new("bad-elf-x86");
    let source = tmp.join("x86.c");
    std::fs::write(&source, GOOD).unwrap();
    let object = tmp.join("x86.o");
    let o = Command::new(clang())
        .args(["-target", "x86_64-linux-gnu", "-O2", "-c", "-nostdinc", "-isystem", clang_include()])
        .arg(&source)
        .arg("-o")
        .arg(&object)
        .output()
        .unwrap();
    assert_success(&o, "clang -target x86_64");
    let line = convert_fails(&tmp, &object, &["machine", "BPF"]);
    assert!(line.contains("X86_64") || line.contains("x86"), "{line}");
}

#[test]
fn wrong_machine_patched_e_machine() {
    let tmp = TempDir::new("bad-elf-machine");
    let object = compile_snippet(tmp.path(), "patched.c", GOOD);
    let mut bytes = std::fs::read(&object).unwrap();
    assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), 247, "EM_BPF expected");
    bytes[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    std::fs::write(&object, &bytes).unwrap();
    convert_fails(&tmp, &object, &["machine", "BPF"]);
}

#[test]
fn unknown_relocation_type() {
    let tmp = TempDir::new("bad-elf-reloc-type");
    let object = compile_snippet(tmp.path(), "reltype.c", GOOD);
    let mut bytes = std::fs::read(&object).unwrap();
    let sections = raw_sections(&bytes);
    let rel = sections.iter().find(|s| s.name == ".rel.text").expect(".rel.text");
    assert!(rel.size >= 16);
    let r_info = u64::from_le_bytes(bytes[rel.offset + 8..rel.offset + 16].try_into().unwrap());
    assert_eq!(r_info & 0xffff_ffff, 1, "R_BPF_64_64 expected");
    let symtab = &sections[rel.link as usize];
    let symbol = raw_symbol_name(&bytes, &sections, symtab, (r_info >> 32) as usize);
    assert_eq!(symbol, "counter");
    bytes[rel.offset + 8] = 7; // r_type 7: not a BPF relocation
    std::fs::write(&object, &bytes).unwrap();
    convert_fails(&tmp, &object, &["relocation type 7", ".text", "`counter`"]);
}

#[test]
fn undefined_variable() {
    let tmp = TempDir::new("bad-elf-undef-var");
    let object =
        compile_snippet(tmp.path(), "undefvar.c", "extern int ext_var;\nint f(void *c) { (void)c; return ext_var; }\n");
    convert_fails(&tmp, &object, &["`ext_var`", "undefined"]);
}

#[test]
fn undefined_function() {
    let tmp = TempDir::new("bad-elf-undef-fn");
    let object =
        compile_snippet(tmp.path(), "undeffn.c", "extern int ext_fn(int);\nint f(int *c) { return ext_fn(*c); }\n");
    convert_fails(&tmp, &object, &["`ext_fn`", "undefined"]);
}

/// The allocated non-code section holding relocations (the pointer table) and the symbol
/// its first relocation refers to, as the message should name them.
fn pointer_table(object: &Path) -> (String, String) {
    let bytes = std::fs::read(object).unwrap();
    let sections = raw_sections(&bytes);
    let rel = sections
        .iter()
        .find(|s| s.sh_type == SHT_REL && [".rel.data", ".rel.rodata"].iter().any(|p| s.name.starts_with(p)))
        .unwrap_or_else(|| panic!("no relocated data section in {}: {sections:#?}", object.display()));
    let target = sections[rel.info as usize].name.clone();
    let r_info = u64::from_le_bytes(bytes[rel.offset + 8..rel.offset + 16].try_into().unwrap());
    let symtab = &sections[rel.link as usize];
    let mut symbol = raw_symbol_name(&bytes, &sections, symtab, (r_info >> 32) as usize);
    if symbol.is_empty() {
        // A section symbol: named after its section.
        let shndx =
            u16::from_le_bytes(bytes[symtab.offset + (r_info >> 32) as usize * 24 + 6..][..2].try_into().unwrap());
        symbol = sections[shndx as usize].name.clone();
    }
    (target, symbol)
}

#[test]
fn pointer_in_data() {
    let tmp = TempDir::new("bad-elf-ptr-data");
    let object = compile_snippet(tmp.path(), "ptrdata.c", "int x;\nint *p = &x;\nint f(int *c) { return *p + *c; }\n");
    let (section, target) = pointer_table(&object);
    assert_eq!((section.as_str(), target.as_str()), (".data", "x"));
    // The error names the variable holding the pointer.
    convert_fails(&tmp, &object, &["section .data", "`p`", "pointer"]);
}

#[test]
fn pointer_table_of_strings() {
    let tmp = TempDir::new("bad-elf-ptr-table");
    let object = compile_snippet(
        tmp.path(),
        "names.c",
        "static const char *names[] = {\"a\", \"b\"};\nint f(int *c) { return names[*c & 1][0]; }\n",
    );
    let (section, _target) = pointer_table(&object);
    assert!([".data", ".data.rel.ro", ".rodata"].contains(&section.as_str()), "{section}");
    convert_fails(&tmp, &object, &[&format!("section {section}"), "`names`", "pointer"]);
}

#[test]
fn truncated_elf() {
    let tmp = TempDir::new("bad-elf-truncated");
    let object = compile_snippet(tmp.path(), "whole.c", GOOD);
    let bytes = std::fs::read(&object).unwrap();
    for (i, len) in [bytes.len() / 2, 64, 20].into_iter().enumerate() {
        let cut = tmp.join(format!("cut{i}.o"));
        std::fs::write(&cut, &bytes[..len]).unwrap();
        convert_fails(&tmp, &cut, &[]);
    }
}

#[test]
fn empty_file() {
    let tmp = TempDir::new("bad-elf-empty");
    let object = tmp.join("empty.o");
    std::fs::write(&object, b"").unwrap();
    convert_fails(&tmp, &object, &["ELF"]);
}

#[test]
fn container_is_not_an_elf() {
    let tmp = TempDir::new("bad-elf-bin");
    let object = compile_snippet(tmp.path(), "good.c", GOOD);
    let bin = tmp.join("good.bin");
    let o = fc_aot(&["convert", object.to_str().unwrap(), "-o", bin.to_str().unwrap()]);
    assert_success(&o, "convert good.c");
    convert_fails(&tmp, &bin, &["ELF"]);
}

#[test]
fn missing_object_file() {
    let tmp = TempDir::new("bad-elf-missing");
    convert_fails(&tmp, &tmp.join("nothere.o"), &[]);
}

#[test]
fn no_global_function() {
    let tmp = TempDir::new("bad-elf-no-global");
    let object = compile_snippet(tmp.path(), "static.c", "__attribute__((used)) static int f(int *c) { return *c; }\n");
    convert_fails(&tmp, &object, &["no global function"]);
}

// ---------------------------------------------------------------------------------------------
// convert: hand-built objects (object::write) with what clang never emits

/// An 8-byte instruction slot: opcode, dst | src << 4, offset, immediate.
const fn insn(opcode: u8, regs: u8, off: i16, imm: i32) -> [u8; 8] {
    let (o, i) = (off.to_le_bytes(), imm.to_le_bytes());
    [opcode, regs, o[0], o[1], i[0], i[1], i[2], i[3]]
}

const MOV_R0_0: [u8; 8] = insn(0xb7, 0, 0, 0);
const EXIT: [u8; 8] = insn(0x95, 0, 0, 0);
/// `lddw r1, 0`: two slots.
const LDDW: [[u8; 8]; 2] = [insn(0x18, 1, 0, 0), [0; 8]];

/// `call imm` as clang emits it for a local function (src = 1).
const fn call(imm: i32) -> [u8; 8] {
    insn(0x85, 0x10, 0, imm)
}

/// A little-endian BPF relocatable object, built section by section with `object::write`.
struct Obj(object::write::Object<'static>);

impl Obj {
    fn new() -> Obj {
        Obj(object::write::Object::new(
            object::BinaryFormat::Elf,
            object::Architecture::Bpf,
            object::Endianness::Little,
        ))
    }

    fn section(&mut self, name: &str, kind: object::SectionKind, sh_flags: u32) -> SectionId {
        let id = self.0.add_section(Vec::new(), name.as_bytes().to_vec(), kind);
        self.0.section_mut(id).flags = object::SectionFlags::Elf { sh_flags: sh_flags.into() };
        id
    }

    /// An `SHT_PROGBITS` section holding `bytes`.
    fn progbits(&mut self, name: &str, sh_flags: u32, bytes: &[u8]) -> SectionId {
        let id = self.section(name, object::SectionKind::Elf(SHT_PROGBITS), sh_flags);
        self.0.section_mut(id).set_data(bytes.to_vec(), 8);
        id
    }

    /// A code section (`SHF_ALLOC | SHF_EXECINSTR`) of these instruction slots.
    fn text(&mut self, name: &str, slots: &[[u8; 8]]) -> SectionId {
        self.progbits(name, SHF_ALLOC | SHF_EXECINSTR, &slots.concat())
    }

    /// An `SHT_NOBITS` section of `size` bytes.
    fn nobits(&mut self, name: &str, sh_flags: u32, size: u64) -> SectionId {
        let id = self.section(name, object::SectionKind::UninitializedData, sh_flags);
        self.0.section_mut(id).append_bss(size, 8);
        id
    }

    fn symbol(&mut self, name: &str, kind: object::SymbolKind, section: SectionId, value: u64, size: u64) -> SymbolId {
        self.0.add_symbol(object::write::Symbol {
            name: name.as_bytes().to_vec(),
            value,
            size,
            kind,
            scope: object::SymbolScope::Dynamic,
            weak: false,
            section: object::write::SymbolSection::Section(section),
            flags: object::SymbolFlags::None,
        })
    }

    /// A global function (`STT_FUNC`) at `value` in `section`.
    fn function(&mut self, name: &str, section: SectionId, value: u64) -> SymbolId {
        self.symbol(name, object::SymbolKind::Text, section, value, 0)
    }

    /// A global variable (`STT_OBJECT`) of `size` bytes at `value` in `section`.
    fn variable(&mut self, name: &str, section: SectionId, value: u64, size: u64) -> SymbolId {
        self.symbol(name, object::SymbolKind::Data, section, value, size)
    }

    /// A relocation (`SHT_REL`, implicit addend) of type `r_type` at `offset` in `section`.
    fn reloc(&mut self, section: SectionId, offset: u64, r_type: u32, symbol: SymbolId) {
        let flags = object::RelocationFlags::Elf { r_type };
        self.0.add_relocation(section, object::write::Relocation { offset, symbol, addend: 0, flags }).unwrap();
    }

    fn bytes(&self) -> Vec<u8> {
        self.0.write().expect("object::write")
    }
}

/// Patches a 32- or 64-bit field (`width` bytes at `field`) of the header of section `name`.
fn patch_header(bytes: &mut [u8], name: &str, field: usize, width: usize, value: u64) {
    let section = raw_sections(bytes).into_iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no {name}"));
    bytes[section.header + field..][..width].copy_from_slice(&value.to_le_bytes()[..width]);
}

const SH_TYPE: usize = 4;
const SH_SIZE: usize = 0x20;
const SH_LINK: usize = 0x28;

/// `elf::convert` refuses `bytes`, and `fc-aot convert` prints the error as its one line
/// (exit 1, no output file) with every needle in it; returns the error.
fn refuses(test: &str, bytes: &[u8], needles: &[&str]) -> elf::ConvertError {
    let error = match elf::convert(bytes) {
        Ok(image) => panic!("{test}: converted to {image:?}"),
        Err(e) => e,
    };
    let tmp = TempDir::new(test);
    let object = tmp.join(format!("{test}.o"));
    std::fs::write(&object, bytes).unwrap();
    let line = convert_fails(&tmp, &object, needles);
    assert!(line.ends_with(&error.to_string()), "{line}\n  does not end with\n{error}");
    error
}

/// `.text`: `f` calls `g` (global, at slot 2); `.data`: `x`, loaded by `f`'s lddw.
fn well_formed() -> (Obj, SectionId, SymbolId, SymbolId) {
    let mut o = Obj::new();
    let text = o.text(".text", &[LDDW[0], LDDW[1], call(-1), EXIT, MOV_R0_0, EXIT]);
    o.function("f", text, 0);
    let g = o.function("g", text, 32);
    let data = o.progbits(".data", SHF_ALLOC | SHF_WRITE, &[1, 2, 3, 4, 5, 6, 7, 8]);
    let x = o.variable("x", data, 4, 4);
    o.reloc(text, 0, R_BPF_64_64, x);
    o.reloc(text, 16, R_BPF_64_32, g);
    (o, text, x, g)
}

#[test]
fn hand_built_object_converts() {
    let (o, ..) = well_formed();
    let image = elf::convert(&o.bytes()).unwrap();
    assert_eq!(image.functions, [("f".to_owned(), 0), ("g".to_owned(), 32)]);
    assert_eq!(image.data, [1, 2, 3, 4, 5, 6, 7, 8]);
    let slots: Vec<[u8; 8]> = image.text.chunks(8).map(|s| s.try_into().unwrap()).collect();
    // lddw r1, x -> data-relative lddw of offset 4; call g -> pc-relative call of +1.
    assert_eq!(slots, [insn(0xb8, 1, 0, 4), [0; 8], call(1), EXIT, MOV_R0_0, EXIT]);
}

/// Issue 13: an executable `SHT_NOBITS` section before the real `.text`, with an
/// `R_BPF_64_64` relocation on it: `convert` panicked (exit 101) patching `.text`'s bytes.
#[test]
fn nobits_code_with_lddw_relocation() {
    let mut o = Obj::new();
    let ghost = o.nobits(".text.a", SHF_ALLOC | SHF_EXECINSTR, 16);
    let text = o.text(".text", &[LDDW[0]]);
    o.function("f", text, 0);
    let data = o.progbits(".data", SHF_ALLOC | SHF_WRITE, &[0; 8]);
    let x = o.variable("x", data, 0, 8);
    o.reloc(ghost, 0, R_BPF_64_64, x);
    let e = refuses("nobits-lddw", &o.bytes(), &["section .text.a", "SHT_NOBITS"]);
    assert!(matches!(e.kind, ConvertErrorKind::NoBytes { size: 16 }), "{e:?}");
}

/// Issue 13 with `R_BPF_64_32`: the relocation landed on `.text`'s call (a wrong container, exit 0).
#[test]
fn nobits_code_with_call_relocation() {
    let mut o = Obj::new();
    let ghost = o.nobits(".text.a", SHF_ALLOC | SHF_EXECINSTR, 16);
    let text = o.text(".text", &[call(-1), EXIT, MOV_R0_0, EXIT]);
    o.function("f", text, 0);
    let g = o.function("g", text, 16);
    o.reloc(ghost, 0, R_BPF_64_32, g);
    let e = refuses("nobits-call", &o.bytes(), &["section .text.a", "SHT_NOBITS"]);
    assert!(matches!(e.kind, ConvertErrorKind::NoBytes { size: 16 }), "{e:?}");
}

/// `.data` and `.rodata` must have their bytes in the file; TLS and compressed sections cannot be placed.
#[test]
fn data_without_bytes_or_with_unsupported_flags() {
    for (name, kind, sh_flags) in [
        (".data", object::SectionKind::UninitializedData, SHF_ALLOC | SHF_WRITE),
        (".rodata", object::SectionKind::UninitializedData, SHF_ALLOC),
        (".data", object::SectionKind::Elf(SHT_PROGBITS), SHF_ALLOC | SHF_WRITE | SHF_TLS),
        (".rodata", object::SectionKind::Elf(SHT_PROGBITS), SHF_ALLOC | SHF_COMPRESSED),
    ] {
        let mut o = Obj::new();
        let text = o.text(".text", &[LDDW[0], LDDW[1], EXIT]);
        o.function("f", text, 0);
        let data = o.section(name, kind, sh_flags);
        match kind {
            object::SectionKind::UninitializedData => o.0.append_section_bss(data, 8, 8),
            _ => o.0.append_section_data(data, &[7; 8], 8),
        };
        let x = o.variable("x", data, 0, 8);
        o.reloc(text, 0, R_BPF_64_64, x);
        let test = format!("data-flags-{}-{sh_flags:x}", &name[1..]);
        let e = refuses(&test, &o.bytes(), &[&format!("section {name}")]);
        assert!(
            matches!(e.kind, ConvertErrorKind::NoBytes { .. } | ConvertErrorKind::UnsupportedSectionFlags(_)),
            "{e:?}"
        );
    }
}

/// A `.bss` stored in the file with bytes that are not zero: they would be dropped.
#[test]
fn bss_with_bytes_that_are_not_zero() {
    let mut o = Obj::new();
    let text = o.text(".text", &[MOV_R0_0, EXIT]);
    o.function("f", text, 0);
    o.progbits(".bss", SHF_ALLOC | SHF_WRITE, &[0, 0, 0, 9]);
    let e = refuses("bss-bytes", &o.bytes(), &["section .bss", "not zero at offset 0x3"]);
    assert_eq!(e.kind, ConvertErrorKind::BssNotZero { offset: 3 });
}

/// Relocations whose bytes are not (all) inside their section, or not at an instruction slot.
#[test]
fn relocation_outside_its_section_or_slot() {
    for (offset, r_type, what) in [
        (0x100, R_BPF_64_64, "outside the section (24 bytes)"),
        (16, R_BPF_64_64, "outside the section (24 bytes)"),
        (24, R_BPF_64_32, "outside the section (24 bytes)"),
        (u64::MAX - 7, R_BPF_64_32, "outside the section (24 bytes)"),
        (4, R_BPF_64_64, "not at an instruction slot"),
    ] {
        let (mut o, text, x, _) = well_formed_small();
        o.reloc(text, offset, r_type, x);
        let test = format!("reloc-outside-{offset:x}-{r_type}");
        let name = if r_type == R_BPF_64_64 { "R_BPF_64_64" } else { "R_BPF_64_32" };
        let site = format!("relocation {name} at offset 0x{offset:x} against `x`");
        let e = refuses(&test, &o.bytes(), &["section .text", &site, what]);
        assert!(
            matches!(
                e.kind,
                ConvertErrorKind::RelocationOutsideSection { .. } | ConvertErrorKind::RelocationMisaligned
            ),
            "{e:?}"
        );
    }
}

/// `.text` of three slots (`mov; mov; exit`, function `f`) and `.data` with `x`.
fn well_formed_small() -> (Obj, SectionId, SymbolId, SectionId) {
    let mut o = Obj::new();
    let text = o.text(".text", &[MOV_R0_0, MOV_R0_0, EXIT]);
    o.function("f", text, 0);
    let data = o.progbits(".data", SHF_ALLOC | SHF_WRITE, &[0; 8]);
    let x = o.variable("x", data, 0, 8);
    (o, text, x, data)
}

/// A relocation on the second slot of an lddw (whose bytes happen to read as an lddw or a
/// call) rewrote the lddw's immediate and the next instruction.
#[test]
fn relocation_on_the_second_slot_of_an_lddw() {
    for (second, r_type) in [(insn(0x18, 0, 0, 0), R_BPF_64_64), (call(-1), R_BPF_64_32)] {
        let mut o = Obj::new();
        let text = o.text(".text", &[LDDW[0], second, MOV_R0_0, EXIT]);
        let f = o.function("f", text, 0);
        let data = o.progbits(".data", SHF_ALLOC | SHF_WRITE, &[0; 8]);
        let x = o.variable("x", data, 0, 8);
        o.reloc(text, 8, r_type, if r_type == R_BPF_64_64 { x } else { f });
        let e = refuses(
            &format!("reloc-lddw-tail-{r_type}"),
            &o.bytes(),
            &["section .text", "at offset 0x8", "second slot of an lddw"],
        );
        assert_eq!(e.kind, ConvertErrorKind::RelocationInsideLddw);
    }
}

/// Two `R_BPF_64_32` on one call: the second read the first's result as its addend.
#[test]
fn two_relocations_on_one_call() {
    let mut o = Obj::new();
    let text = o.text(".text", &[call(-1), EXIT, MOV_R0_0, EXIT, MOV_R0_0, EXIT]);
    o.function("f", text, 0);
    let g = o.function("g", text, 16);
    o.reloc(text, 0, R_BPF_64_32, g);
    o.reloc(text, 0, R_BPF_64_32, g);
    let e = refuses(
        "reloc-twice",
        &o.bytes(),
        &["section .text", "relocation R_BPF_64_32 at offset 0x0 against `g`", "second relocation"],
    );
    assert_eq!(e.kind, ConvertErrorKind::DuplicateRelocation);
}

/// A symbol whose value lies past its section: the lddw loaded from the next section.
#[test]
fn data_symbol_outside_its_section() {
    let (mut o, text, _, data) = well_formed_small();
    o.progbits(".data.b", SHF_ALLOC | SHF_WRITE, &[0; 8]);
    let y = o.variable("y", data, 12, 4);
    let code = o.0.section_mut(text).data_mut();
    code[..16].copy_from_slice(&[LDDW[0], LDDW[1]].concat());
    o.reloc(text, 0, R_BPF_64_64, y);
    let e = refuses(
        "symbol-outside",
        &o.bytes(),
        &["section .text", "against `y`", "0xc lies outside its section .data (8 bytes)"],
    );
    assert!(matches!(e.kind, ConvertErrorKind::SymbolOutsideSection { value: 12, size: 8, .. }), "{e:?}");
}

/// Function-table entries past their section (in the next one) or inside an lddw.
#[test]
fn function_entry_outside_its_section_or_inside_an_lddw() {
    let mut o = Obj::new();
    let text = o.text(".text", &[MOV_R0_0, EXIT]);
    o.text(".text.b", &[MOV_R0_0, EXIT]);
    o.function("f", text, 16);
    let e = refuses("function-outside", &o.bytes(), &["symbol `f`", "0x10 lies outside its section .text (16 bytes)"]);
    assert!(matches!(e.kind, ConvertErrorKind::SymbolOutsideSection { .. }), "{e:?}");

    let mut o = Obj::new();
    let text = o.text(".text", &[LDDW[0], LDDW[1], EXIT]);
    o.function("f", text, 0);
    o.function("g", text, 8);
    let e =
        refuses("function-in-lddw", &o.bytes(), &["symbol `g`", "offset 8 in section .text", "second slot of an lddw"]);
    assert!(matches!(e.kind, ConvertErrorKind::NotAnInstruction { inside_lddw: true, .. }), "{e:?}");

    let mut o = Obj::new();
    let text = o.text(".text", &[MOV_R0_0, EXIT]);
    o.function("f", text, 4);
    let e = refuses("function-unaligned", &o.bytes(), &["symbol `f`", "not a multiple of 8"]);
    assert!(matches!(e.kind, ConvertErrorKind::NotAnInstruction { inside_lddw: false, .. }), "{e:?}");
}

/// Call targets (symbol + immediate) outside the target's section, or inside an lddw.
#[test]
fn call_target_outside_its_section_or_inside_an_lddw() {
    let mut o = Obj::new();
    let text = o.text(".text", &[call(1), EXIT]);
    o.text(".text.b", &[MOV_R0_0, EXIT, MOV_R0_0, EXIT]);
    let f = o.function("f", text, 0);
    o.reloc(text, 0, R_BPF_64_32, f);
    let e = refuses(
        "call-outside",
        &o.bytes(),
        &[
            "relocation R_BPF_64_32 at offset 0x0 against `f`",
            "call target (offset 16) lies outside the target's section .text (16 bytes)",
        ],
    );
    assert!(matches!(e.kind, ConvertErrorKind::CallTargetOutsideSection { offset: 16, size: 16, .. }), "{e:?}");

    let mut o = Obj::new();
    let text = o.text(".text", &[call(1), LDDW[0], LDDW[1], EXIT]);
    let f = o.function("f", text, 0);
    o.reloc(text, 0, R_BPF_64_32, f);
    let e =
        refuses("call-in-lddw", &o.bytes(), &["against `f`", "offset 16 in section .text", "second slot of an lddw"]);
    assert!(matches!(e.kind, ConvertErrorKind::NotAnInstruction { inside_lddw: true, .. }), "{e:?}");
}

/// A code section ending in the first half of an lddw: the next section's first slot became its second.
#[test]
fn code_section_ending_inside_an_lddw() {
    let mut o = Obj::new();
    let text = o.text(".text", &[MOV_R0_0, LDDW[0]]);
    o.text(".text.b", &[[0; 8], EXIT]);
    o.function("f", text, 0);
    let e = refuses(
        "lddw-truncated",
        &o.bytes(),
        &["section .text", "ends inside the two-slot lddw instruction at offset 0x8"],
    );
    assert_eq!(e.kind, ConvertErrorKind::LddwTruncated { offset: 8 });
}

/// Relocation sections the object crate skips without a word (RELA read as REL-sized, another
/// symbol table, a size that is not whole entries): the lddw stayed a plain `lddw r1, 0`.
#[test]
fn relocation_sections_that_cannot_be_read() {
    let (mut o, text, x, _) = well_formed_small();
    let code = o.0.section_mut(text).data_mut();
    code[..16].copy_from_slice(&[LDDW[0], LDDW[1]].concat());
    o.reloc(text, 0, R_BPF_64_64, x);
    let good = o.bytes();
    elf::convert(&good).expect("the unpatched object converts");
    let strtab = raw_sections(&good).iter().position(|s| s.name == ".strtab").unwrap() as u64;
    for (test, field, width, value, needle) in [
        ("rel-as-rela", SH_TYPE, 4, 4, "explicit addends (SHT_RELA)"),
        ("rel-other-symtab", SH_LINK, 4, strtab, "not to the object's symbol table"),
        ("rel-partial-entry", SH_SIZE, 8, 17, "malformed ELF"),
    ] {
        let mut bytes = good.clone();
        patch_header(&mut bytes, ".rel.text", field, width, value);
        refuses(test, &bytes, &["section .rel.text", needle]);
    }
}

/// A relocation naming symbol 0 (no symbol).
#[test]
fn relocation_without_a_symbol() {
    let (mut o, text, x, _) = well_formed_small();
    o.reloc(text, 0, R_BPF_64_64, x);
    let mut bytes = o.bytes();
    let rel = raw_sections(&bytes).into_iter().find(|s| s.name == ".rel.text").unwrap();
    bytes[rel.offset + 12..rel.offset + 16].fill(0); // r_info's symbol index
    let e = refuses("reloc-no-symbol", &bytes, &["relocation R_BPF_64_64 at offset 0x0", "names no symbol"]);
    assert_eq!(e.kind, ConvertErrorKind::RelocationWithoutSymbol);
}

/// Global functions must have distinct names, and a name: an unnamed one was given its section's name.
#[test]
fn function_names_missing_or_twice() {
    let mut o = Obj::new();
    let text = o.text(".text", &[MOV_R0_0, EXIT, MOV_R0_0, EXIT]);
    o.function("f", text, 0);
    o.function("f", text, 16);
    let e = refuses("function-twice", &o.bytes(), &["symbol `f`", "two global functions"]);
    assert_eq!(e.kind, ConvertErrorKind::DuplicateFunction);

    let mut o = Obj::new();
    let text = o.text(".text", &[MOV_R0_0, EXIT]);
    o.function("", text, 0);
    let e = refuses("function-unnamed", &o.bytes(), &["without a name"]);
    assert_eq!(e.kind, ConvertErrorKind::UnnamedFunction);
}

/// Symbols in empty sections resolve (to the end of their kind's output), and are in bounds.
#[test]
fn symbols_in_empty_sections() {
    let mut o = Obj::new();
    let text = o.text(".text", &[LDDW[0], LDDW[1], EXIT]);
    o.function("f", text, 0);
    o.progbits(".data", SHF_ALLOC | SHF_WRITE, &[1, 2, 3]);
    let empty = o.progbits(".data.empty", SHF_ALLOC | SHF_WRITE, &[]);
    let end = o.variable("end", empty, 0, 0);
    o.reloc(text, 0, R_BPF_64_64, end);
    let image = elf::convert(&o.bytes()).unwrap();
    assert_eq!(image.text[..8], insn(0xb8, 1, 0, 3));

    let mut o = Obj::new();
    let text = o.text(".text", &[MOV_R0_0, EXIT]);
    o.function("f", text, 0);
    let empty = o.text(".text.empty", &[]);
    o.function("g", empty, 0);
    let e = refuses("function-in-empty", &o.bytes(), &["symbol `g`", "outside its section .text.empty (0 bytes)"]);
    assert!(matches!(e.kind, ConvertErrorKind::SymbolOutsideSection { .. }), "{e:?}");
}

// ---------------------------------------------------------------------------------------------
// build

/// Runs `fc-aot build DIR --out OUT [extra]` without asserting anything.
fn run_build(dir: &Path, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut args = vec!["build", dir.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    fc_aot_env(&args, env)
}

#[test]
fn build_shows_clang_diagnostics_unchanged() {
    let tmp = TempDir::new("build-syntax-error");
    let dir = tmp.join("src");
    std::fs::create_dir(&dir).unwrap();
    let source = dir.join("broken.c");
    std::fs::write(&source, "int f(int *c) { return *c }\n").unwrap();
    // What clang itself says about the file, for comparison.
    let direct = Command::new(clang())
        .args(["-target", "bpf", "-c", "-nostdinc", "-isystem", clang_include()])
        .arg(&source)
        .arg("-o")
        .arg(tmp.join("direct.o"))
        .output()
        .unwrap();
    let direct_err = stderr(&direct);
    let diagnostic = direct_err.lines().find(|l| l.contains("error:")).expect("clang reports an error").to_owned();

    let o = run_build(&dir, &tmp.join("out"), &[], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("error:") && err.contains("broken.c"), "{err}");
    assert!(err.contains(&diagnostic), "clang's diagnostic {diagnostic:?} is not on stderr unchanged:\n{err}");
    // One line for the container (naming clang's log), then the count of failures.
    let ours: Vec<&str> = err.lines().filter(|l| l.starts_with("fc-aot: ")).collect();
    assert_eq!(ours.len(), 2, "{err}");
    assert!(ours[0].contains("broken.c: clang failed") && ours[0].ends_with("broken.clang.log"), "{err}");
    assert_eq!(ours[1], "fc-aot: 1 of 1 containers failed");
}

#[test]
fn build_rejects_two_sources_with_the_same_stem() {
    let tmp = TempDir::new("build-same-stem");
    let dir = tmp.join("src");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a.c"), "int a(int *c) { return *c; }\n").unwrap();
    std::fs::write(dir.join("a.cpp"), "extern \"C\" int a(int *c) { return *c; }\n").unwrap();
    let o = run_build(&dir, &tmp.join("out"), &[], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("fc-aot: "), "{err}");
    let (c, cpp) = (dir.join("a.c").display().to_string(), dir.join("a.cpp").display().to_string());
    assert!(err.contains(&cpp), "does not name {cpp}: {err}");
    assert!(err.replace(&cpp, "").contains(&c), "does not name {c}: {err}");
}

#[test]
fn build_without_clang_says_how_to_install_it() {
    let tmp = TempDir::new("build-no-clang");
    let dir = tmp.join("src");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("one.c"), "int one(int *c) { return *c; }\n").unwrap();
    let o = run_build(&dir, &tmp.join("out"), &[], &[("CLANG", "/nonexistent/clang")]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("fc-aot: "), "{err}");
    for needle in ["/nonexistent/clang", "not found", "install"] {
        assert!(err.contains(needle), "missing {needle:?}: {err}");
    }
}

/// `OUT/NAME.bin: built|up to date` lines by container name.
fn outcomes(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .map(|l| {
            let (path, what) = l.rsplit_once(": ").unwrap_or_else(|| panic!("unexpected build output line {l:?}"));
            let name = Path::new(path).file_stem().unwrap().to_string_lossy().into_owned();
            (name, what.to_owned())
        })
        .collect()
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn build_is_incremental() {
    let tmp = TempDir::new("build-incremental");
    let dir = tmp.join("src");
    let out = tmp.join("out");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("my.h"), "#define STEP 1\n").unwrap();
    std::fs::write(dir.join("one.c"), "#include \"my.h\"\nlong one(long *c) { return *c + STEP; }\n").unwrap();
    std::fs::write(dir.join("two.c"), "long two(long *c) { return *c * 2; }\n").unwrap();
    let built = |extra: &[&str]| outcomes(&build(&dir, &out, extra));

    assert_eq!(built(&[]), expect(&[("one", "built"), ("two", "built")]));
    assert_eq!(built(&[]), expect(&[("one", "up to date"), ("two", "up to date")]));

    // Same content rewritten: still up to date (content, not time, decides).
    std::fs::write(dir.join("two.c"), "long two(long *c) { return *c * 2; }\n").unwrap();
    assert_eq!(built(&[]), expect(&[("one", "up to date"), ("two", "up to date")]));

    std::fs::write(dir.join("two.c"), "long two(long *c) { return *c * 3; }\n").unwrap();
    assert_eq!(built(&[]), expect(&[("one", "up to date"), ("two", "built")]));
    let two = std::fs::read(out.join("two.bin")).unwrap();
    assert!(two.windows(8).any(|w| w == [0x27, 0, 0, 0, 3, 0, 0, 0]), "two.bin was not rebuilt from the new source");

    std::fs::write(dir.join("my.h"), "#define STEP 7\n").unwrap();
    assert_eq!(built(&[]), expect(&[("one", "built"), ("two", "up to date")]));
    let one = std::fs::read(out.join("one.bin")).unwrap();
    assert!(one.windows(8).any(|w| w == [0x07, 0, 0, 0, 7, 0, 0, 0]), "one.bin was not rebuilt from the new header");
    assert_eq!(built(&[]), expect(&[("one", "up to date"), ("two", "up to date")]));

    assert_eq!(built(&["--cpu", "v3"]), expect(&[("one", "built"), ("two", "built")]));
    assert_eq!(built(&["--cpu", "v3"]), expect(&[("one", "up to date"), ("two", "up to date")]));
    assert_eq!(built(&["--cpu", "v3", "--layout", "sming32"]), expect(&[("one", "built"), ("two", "built")]));

    // A deleted output is rebuilt.
    std::fs::remove_file(out.join("one.bin")).unwrap();
    assert_eq!(built(&["--cpu", "v3", "--layout", "sming32"]), expect(&[("one", "built"), ("two", "up to date")]));
}

/// `fc-aot build containers --out OUT` into a fresh temp dir; returns it and the container names.
fn samples_build(test: &str) -> (TempDir, Vec<String>) {
    let tmp = TempDir::new(test);
    build(&samples_dir(), &tmp.join("out"), &[]);
    (tmp, container_names(&samples_dir()))
}

#[test]
fn glue_c_header_and_rust_match_the_bins() {
    let (tmp, names) = samples_build("build-glue");
    let out = tmp.join("out");
    let names = &names;
    let header = std::fs::read_to_string(out.join("containers.h")).unwrap();
    let rust = std::fs::read_to_string(out.join("containers.rs")).unwrap();
    let mut main = String::from(
        "#include <stdint.h>\n#include <stdio.h>\n#include \"containers.h\"\n\nint main(void)\n{\n    FILE *f;\n",
    );
    for name in names {
        let id = fc_aot::container::names::container_part(name);
        let bin = std::fs::read(out.join(format!("{name}.bin"))).unwrap();
        assert!(
            header.contains(&format!("extern const uint8_t fc_container_{id}[{}];", bin.len())),
            "containers.h lacks fc_container_{id}:\n{header}"
        );
        assert!(
            header.contains(&format!("extern const size_t fc_container_{id}_len;")),
            "containers.h lacks fc_container_{id}_len"
        );
        // containers.rs: `pub static NAME: &[u8] = &[ 0x.., ... ];` with the same bytes.
        let start =
            rust.find(&format!("pub static {id}: &[u8] = &[")).unwrap_or_else(|| panic!("containers.rs lacks {id}"));
        let body = &rust[start..];
        let body = &body[body.find("= &[").unwrap() + 4..body.find("];").unwrap()];
        let bytes: Vec<u8> = body
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| u8::from_str_radix(s.trim_start_matches("0x"), 16).unwrap())
            .collect();
        assert_eq!(bytes, bin, "containers.rs bytes of {name}");
        main.push_str(&format!(
            "    if ((uintptr_t)fc_container_{id} % 8 != 0) return 2;\n    \
             if (!(f = fopen(\"{id}.got\", \"wb\"))) return 3;\n    \
             fwrite(fc_container_{id}, 1, fc_container_{id}_len, f);\n    fclose(f);\n"
        ));
    }
    main.push_str("    return 0;\n}\n");
    std::fs::write(tmp.join("main.c"), main).unwrap();

    let gcc = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    let compile = |args: &[&str]| {
        let o = Command::new(&gcc).args(args).current_dir(tmp.path()).output().unwrap_or_else(|e| panic!("{gcc}: {e}"));
        assert_success(&o, &format!("{gcc} {}", args.join(" ")));
    };
    let glue_c = out.join("containers.c");
    let include = format!("-I{}", out.display());
    compile(&["-Wall", "-Wextra", "-Werror", "-c", glue_c.to_str().unwrap(), "-o", "containers.o"]);
    compile(&["-Wall", "-Wextra", "-Werror", &include, "main.c", "containers.o", "-o", "glue_test"]);
    let run = Command::new(tmp.join("glue_test")).current_dir(tmp.path()).output().unwrap();
    assert_success(&run, "glue_test");
    for name in names {
        let id = fc_aot::container::names::container_part(name);
        let got = std::fs::read(tmp.join(format!("{id}.got"))).unwrap();
        assert_eq!(got, std::fs::read(out.join(format!("{name}.bin"))).unwrap(), "containers.c bytes of {name}");
    }

    // containers.rs compiles warning-free as a library.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let o = Command::new(&rustc)
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "lib",
            "--emit",
            "metadata",
            "-D",
            "warnings",
            "--crate-name",
            "glue",
        ])
        .arg(out.join("containers.rs"))
        .arg("--out-dir")
        .arg(tmp.path())
        .output()
        .unwrap_or_else(|e| panic!("{rustc}: {e}"));
    assert_success(&o, "rustc containers.rs");
}

fn dump_increment(test: &str) -> String {
    let (tmp, _) = samples_build(test);
    let o = fc_aot(&["dump", tmp.join("out/increment.bin").to_str().unwrap()]);
    assert_success(&o, "fc-aot dump increment.bin");
    expand_tabs(&stdout(&o))
}

#[test]
fn increment_dump_matches_the_expected_copy() {
    let expected = std::fs::read_to_string(data_dir().join("increment.dump")).unwrap();
    assert_eq!(dump_increment("dump-copy"), expected);
}

#[test]
fn increment_dump_matches_the_shared_expected_file() {
    let shared_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared");
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/expected/increment.dump");
    if !Path::new(shared_dir).exists() {
        eprintln!("{shared_dir} does not exist (clean clone): compared against tests/data/increment.dump only");
        return;
    }
    let expected = std::fs::read_to_string(shared).unwrap_or_else(|e| {
        panic!("{shared}: {e}: the seed's expected dump of `increment` is missing from the shared folder")
    });
    let copy = std::fs::read_to_string(data_dir().join("increment.dump")).unwrap();
    assert_eq!(copy, expected, "tests/data/increment.dump differs from {shared}; refresh the copy");
    assert_eq!(dump_increment("dump-shared"), expected);
}

#[test]
fn expand_tabs_is_expand_t8() {
    assert_eq!(expand_tabs("a\tb\n\tc\nabcdefgh\ti\n"), "a       b\n        c\nabcdefgh        i\n");
}
