//! `fc-aot build` output against `llvm-objdump -d -r` of the same objects, instruction by
//! instruction: the `.bin` text must be the ELF text sections merged in order, with only the
//! documented rewrites (LDDW relocations -> 0xb8/0xd8, R_BPF_64_32 calls -> resolved src=1
//! calls), and the dump's rendering must match llvm's once the spelling differences are
//! normalised.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use common::*;
use fc_runtime::format::{Container, LayoutChoice};
use fc_runtime::insn::RawSlot;
use object::elf::{R_BPF_64_32, R_BPF_64_64, SHF_ALLOC, SHF_EXECINSTR};
use object::{
    Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SectionFlags, SectionIndex, SymbolKind,
};

// ---------------------------------------------------------------------------------------------
// llvm-objdump output

#[derive(Debug)]
struct LlvmInsn {
    /// Slot index inside its section.
    index: usize,
    bytes: Vec<u8>,
    text: String,
    /// (offset in section, type, symbol) of the relocation lines that follow.
    relocs: Vec<(u64, String, String)>,
}

#[derive(Debug)]
struct LlvmSection {
    name: String,
    insns: Vec<LlvmInsn>,
}

fn llvm_objdump() -> String {
    let tool = std::env::var("LLVM_OBJDUMP").unwrap_or_else(|_| "llvm-objdump".into());
    match Command::new(&tool).arg("--version").output() {
        Ok(o) if o.status.success() => tool,
        _ => panic!("`{tool}` not found: this test needs llvm-objdump (apt-get install llvm), or set $LLVM_OBJDUMP"),
    }
}

fn objdump(object: &Path) -> Vec<LlvmSection> {
    let o = Command::new(llvm_objdump()).args(["-d", "-r"]).arg(object).output().expect("run llvm-objdump");
    assert_success(&o, &format!("llvm-objdump -d -r {}", object.display()));
    parse_objdump(&stdout(&o))
}

fn parse_objdump(out: &str) -> Vec<LlvmSection> {
    let mut sections: Vec<LlvmSection> = Vec::new();
    for line in out.lines() {
        if let Some(name) = line.strip_prefix("Disassembly of section ") {
            sections.push(LlvmSection { name: name.trim_end_matches(':').to_owned(), insns: Vec::new() });
            continue;
        }
        // Relocation line: "\t\t0000000000000020:  R_BPF_64_64\t.bss"
        if let Some(rest) = line.strip_prefix("\t\t") {
            let (offset, rest) = rest.split_once(':').unwrap_or_else(|| panic!("relocation line: {line:?}"));
            let mut parts = rest.split_whitespace();
            let (kind, symbol) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            let offset =
                u64::from_str_radix(offset.trim(), 16).unwrap_or_else(|_| panic!("relocation offset: {line:?}"));
            let insn = sections
                .last_mut()
                .and_then(|s| s.insns.last_mut())
                .unwrap_or_else(|| panic!("relocation before any instruction: {line:?}"));
            assert_eq!(offset, insn.index as u64 * 8, "relocation {line:?} does not follow its instruction");
            insn.relocs.push((offset, kind.to_owned(), symbol.to_owned()));
            continue;
        }
        // Instruction line: "      4:\t18 01 00 ... 00\tr1 = 0 ll"
        let fields: Vec<&str> = line.splitn(3, '\t').collect();
        let Some(index) = fields.first().and_then(|f| f.trim().strip_suffix(':')).and_then(|f| f.parse::<usize>().ok())
        else {
            continue;
        };
        assert_eq!(fields.len(), 3, "instruction line without text: {line:?}");
        let bytes: Vec<u8> = fields[1]
            .split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("bytes of {line:?}")))
            .collect();
        assert!(bytes.len() == 8 || bytes.len() == 16, "{} bytes in {line:?}", bytes.len());
        let section = sections.last_mut().unwrap_or_else(|| panic!("instruction outside a section: {line:?}"));
        section.insns.push(LlvmInsn { index, bytes, text: fields[2].trim().to_owned(), relocs: Vec::new() });
    }
    sections
}

// ---------------------------------------------------------------------------------------------
// Text normalisation

/// llvm's rendering in the dump's spelling, or `None` for forms not compared textually.
fn normalise_llvm(text: &str, bytes: &[u8], relocated: bool) -> Option<String> {
    let raw = RawSlot::from_bytes(bytes[..8].try_into().unwrap());
    let mut t = text.trim().to_owned();
    // Forms whose spelling differs in ways not worth normalising (none in the samples).
    const SKIP: [&str; 9] = ["lock ", "atomic_", "xchg", "bswap", "callx", "gotol", "(s8)", "(s16)", "(s32)"];
    if SKIP.iter().any(|s| t.contains(s)) {
        return None;
    }
    if t.contains("goto") && t.ends_with('>') {
        if let Some(i) = t.rfind(" <") {
            t.truncate(i); // the `<LBB0_6>` label
        }
    }
    for (a, b) in [
        ("(u8 *)", "(uint8_t*)"),
        ("(u16 *)", "(uint16_t*)"),
        ("(u32 *)", "(uint32_t*)"),
        ("(u64 *)", "(uint64_t*)"),
        ("(s8 *)", "(int8_t*)"),
        ("(s16 *)", "(int16_t*)"),
        ("(s32 *)", "(int32_t*)"),
        // The dump prints signed forms with the unsigned operators (spec §1).
        (" s>>= ", " >>= "),
        (" s>= ", " >= "),
        (" s<= ", " <= "),
        (" s> ", " > "),
        (" s< ", " < "),
    ] {
        t = t.replace(a, b);
    }
    if t == "exit" {
        return Some("Return r0".into());
    }
    if let Some(n) = t.strip_prefix("call ") {
        let n: i64 = n.trim().parse().ok()?;
        return match raw.src {
            0 => Some(format!("Call {}", n as i32 as u32)),
            1 if !relocated => Some(format!("call {n:+}")),
            _ => None, // relocated calls: checked by target, not by text
        };
    }
    if let Some(rest) = t.strip_suffix(" ll") {
        let (dst, value) = rest.split_once(" = ")?;
        if relocated {
            return Some(format!("{dst} = <reloc>"));
        }
        let value: i128 = value.trim().parse().ok()?;
        return Some(format!("{dst} = 0x{:x}", value as u64));
    }
    Some(t)
}

/// The dump's rendering with relocated loads and named local calls made comparable.
fn normalise_ours(text: &str, bytes: &[u8]) -> String {
    let raw = RawSlot::from_bytes(bytes[..8].try_into().unwrap());
    if text.ends_with(" + .data") || text.ends_with(" + .rodata") {
        let dst = text.split(" = ").next().unwrap_or_default();
        return format!("{dst} = <reloc>");
    }
    if text.starts_with("call <") && raw.opcode == 0x85 && raw.src == 1 {
        return format!("call {:+}", raw.imm as i64);
    }
    text.to_owned()
}

// ---------------------------------------------------------------------------------------------
// The ELF side

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Data,
    Bss,
    Rodata,
}

fn kind_of(name: &str) -> Option<Kind> {
    let prefixed = |p: &str| name == p || name.starts_with(&format!("{p}."));
    if prefixed(".data") {
        Some(Kind::Data)
    } else if prefixed(".bss") {
        Some(Kind::Bss)
    } else if prefixed(".rodata") {
        Some(Kind::Rodata)
    } else {
        None
    }
}

fn sh_flags(f: SectionFlags) -> u64 {
    match f {
        SectionFlags::Elf { sh_flags } => sh_flags,
        _ => 0,
    }
}

struct TextSection {
    index: SectionIndex,
    name: String,
    /// Byte offset in the merged text (the spec: merged in order, each 8-aligned).
    base: u64,
    size: u64,
}

/// A relocation read with the `object` crate: type, target symbol's section, value and name.
#[derive(Debug)]
struct Reloc {
    r_type: u32,
    section: Option<SectionIndex>,
    value: u64,
    /// The symbol name, or its section's name for a section symbol (as llvm-objdump prints it).
    name: String,
    is_global_function: bool,
}

#[derive(Default, Debug)]
struct Stats {
    instructions: usize,
    compared_text: usize,
    skipped_text: Vec<String>,
    lddw_relocs: usize,
    call_relocs: usize,
}

/// Compares one built container (`OUT/NAME.o` and `OUT/NAME.bin`) against llvm-objdump.
fn check_container(out: &Path, name: &str, stats: &mut Stats) {
    let object_path = out.join(format!("{name}.o"));
    let bin_path = out.join(format!("{name}.bin"));
    let elf_bytes = std::fs::read(&object_path).unwrap();
    let bin = std::fs::read(&bin_path).unwrap();
    let container = Container::parse(&bin, LayoutChoice::Auto).unwrap_or_else(|e| panic!("{name}.bin: {e}"));
    let file = object::File::parse(&*elf_bytes).unwrap();

    // Text sections of the ELF, in order, with their expected place in the merged text.
    let mut texts: Vec<TextSection> = Vec::new();
    let mut end = 0u64;
    for s in file.sections() {
        let flags = sh_flags(s.flags());
        if flags & SHF_ALLOC as u64 != 0 && flags & SHF_EXECINSTR as u64 != 0 && s.size() > 0 {
            let base = end.next_multiple_of(8);
            texts.push(TextSection { index: s.index(), name: s.name().unwrap().to_owned(), base, size: s.size() });
            end = base + s.size();
        }
    }
    assert_eq!(container.text.len() as u64, end, "{name}: text length is not the sum of the ELF text sections");

    // Function table: every global, non-weak function, at its merged location.
    let mut expected_functions = Vec::new();
    for sym in file.symbols() {
        if sym.kind() == SymbolKind::Text && sym.is_global() && !sym.is_weak() && sym.is_definition() {
            let t = texts.iter().find(|t| Some(t.index) == sym.section_index()).expect("function in a text section");
            expected_functions.push((sym.name().unwrap().to_owned(), t.base + sym.address()));
        }
    }
    let functions: Vec<(String, u64)> = container.functions().map(|f| (f.name.to_owned(), f.location as u64)).collect();
    assert_eq!(functions, expected_functions, "{name}: function table");

    // Relocations of the text sections, by (section, offset).
    let mut relocs: HashMap<(SectionIndex, u64), Reloc> = HashMap::new();
    for t in &texts {
        let section = file.section_by_index(t.index).unwrap();
        for (offset, r) in section.relocations() {
            let RelocationFlags::Elf { r_type } = r.flags() else { panic!("{name}: non-ELF relocation") };
            let RelocationTarget::Symbol(si) = r.target() else { panic!("{name}: relocation without symbol") };
            let sym = file.symbol_by_index(si).unwrap();
            let section_name =
                sym.section_index().and_then(|i| file.section_by_index(i).ok()).map(|s| s.name().unwrap().to_owned());
            let sym_name = match sym.name() {
                Ok("") | Err(_) => section_name.clone().unwrap_or_default(),
                Ok(n) => n.to_owned(),
            };
            let is_global_function = sym.kind() == SymbolKind::Text && sym.is_global() && !sym.is_weak();
            relocs.insert(
                (t.index, offset),
                Reloc {
                    r_type,
                    section: sym.section_index(),
                    value: sym.address(),
                    name: sym_name,
                    is_global_function,
                },
            );
        }
    }

    // Our side, through the dump's JSON (the same decoder and rendering as the text dump).
    let json = fc_aot::container::dump::json(&bin_path.display().to_string(), &container, fc_aot::container::dump::Calls::Numbered);
    let ours: Vec<&serde_json::Value> = json["text"].as_array().unwrap().iter().collect();
    let by_pc: HashMap<u64, &serde_json::Value> = ours.iter().map(|v| (v["pc"].as_u64().unwrap(), *v)).collect();
    for v in &ours {
        assert!(v["valid"].as_bool().unwrap(), "{name}: invalid instruction in our dump: {v}");
    }

    // Where each ELF data/bss/rodata section landed, derived from the rewritten LDDWs.
    let mut landed: HashMap<SectionIndex, (Kind, i128)> = HashMap::new();

    let llvm = objdump(&object_path);
    let mut llvm_count = 0;
    let mut next_text = texts.iter();
    for section in llvm.iter().filter(|s| !s.insns.is_empty()) {
        let t = next_text.next().unwrap_or_else(|| panic!("{name}: llvm shows more text sections than the ELF has"));
        assert_eq!(section.name, t.name, "{name}: text sections out of order");
        let last = section.insns.last().unwrap();
        assert_eq!(
            (last.index * 8 + last.bytes.len()) as u64,
            t.size,
            "{name} {}: llvm did not cover the section",
            t.name
        );
        for insn in &section.insns {
            llvm_count += 1;
            let pc = t.base / 8 + insn.index as u64;
            let at = format!("{name} {}+{} (pc {pc}) `{}`", t.name, insn.index, insn.text);
            let our = by_pc.get(&pc).unwrap_or_else(|| panic!("{at}: no instruction starts there in our dump"));
            let our_bytes: Vec<u8> =
                our["bytes"].as_str().unwrap().split(' ').map(|b| u8::from_str_radix(b, 16).unwrap()).collect();
            assert_eq!(our_bytes.len(), insn.bytes.len(), "{at}: instruction length");
            let our_text = our["text"].as_str().unwrap();
            let lb = &insn.bytes;
            let reloc = relocs.get(&(t.index, insn.index as u64 * 8));
            assert_eq!(
                reloc.is_some(),
                !insn.relocs.is_empty(),
                "{at}: llvm-objdump and the object crate disagree on relocations"
            );
            if let Some(r) = reloc {
                assert_eq!(insn.relocs.len(), 1, "{at}: several relocations");
                let (_, llvm_type, llvm_sym) = &insn.relocs[0];
                assert_eq!(llvm_sym, &r.name, "{at}: relocation symbol");
                match r.r_type {
                    R_BPF_64_64 => {
                        assert_eq!(llvm_type, "R_BPF_64_64");
                        stats.lddw_relocs += 1;
                        check_lddw(&at, lb, &our_bytes, r, &file, &container, &mut landed);
                    }
                    R_BPF_64_32 => {
                        assert_eq!(llvm_type, "R_BPF_64_32");
                        stats.call_relocs += 1;
                        assert_eq!((lb[0], our_bytes[0]), (0x85, 0x85), "{at}: R_BPF_64_32 not on a call");
                        assert_eq!(
                            our_bytes[1],
                            (lb[1] & 0x0f) | 0x10,
                            "{at}: call must become src=1 with the same dst"
                        );
                        assert_eq!(our_bytes[2..4], lb[2..4], "{at}: call offset field changed");
                        let old_imm = i32::from_le_bytes(lb[4..8].try_into().unwrap()) as i64;
                        let new_imm = i32::from_le_bytes(our_bytes[4..8].try_into().unwrap()) as i64;
                        let target_section = texts
                            .iter()
                            .find(|x| Some(x.index) == r.section)
                            .unwrap_or_else(|| panic!("{at}: call target {} not in text", r.name));
                        // R_BPF_64_32: target = symbol + (imm + 1) * 8; clang emits imm = -1.
                        let expected = (target_section.base + r.value) as i64 / 8 + old_imm + 1;
                        assert_eq!(pc as i64 + 1 + new_imm, expected, "{at}: call does not reach `{}`", r.name);
                        if old_imm == -1 && r.is_global_function {
                            assert_eq!(
                                our_text,
                                format!("call <{}>", r.name),
                                "{at}: rendering of a call to a global function"
                            );
                        }
                    }
                    other => panic!("{at}: unexpected relocation type {other} ({llvm_type})"),
                }
            } else {
                assert_eq!(our_bytes, *lb, "{at}: bytes differ (ours: `{our_text}`)");
            }
            match normalise_llvm(&insn.text, lb, reloc.is_some()) {
                Some(expected) => {
                    assert_eq!(
                        normalise_ours(our_text, &our_bytes),
                        expected,
                        "{at}: rendering differs (ours: `{our_text}`)"
                    );
                    stats.compared_text += 1;
                }
                None => stats.skipped_text.push(format!("{at} / ours `{our_text}`")),
            }
        }
    }
    assert!(next_text.next().is_none(), "{name}: a text section of the ELF is missing from llvm's disassembly");
    assert_eq!(ours.len(), llvm_count, "{name}: instruction count (ours vs llvm-objdump)");
    stats.instructions += llvm_count;

    // Sections of one region must not overlap.
    let mut placed: Vec<(Kind, i128, i128, String)> = landed
        .iter()
        .map(|(i, (k, base))| {
            let s = file.section_by_index(*i).unwrap();
            (*k, *base, *base + s.size() as i128, s.name().unwrap().to_owned())
        })
        .collect();
    placed.sort_by_key(|p| p.1);
    for a in &placed {
        for b in &placed {
            let same_region = (a.0 == Kind::Rodata) == (b.0 == Kind::Rodata);
            if a.3 != b.3 && same_region {
                assert!(a.2 <= b.1 || b.2 <= a.1, "{name}: sections {} and {} overlap in the container", a.3, b.3);
            }
        }
    }
}

/// An LDDW with `R_BPF_64_64`: opcode rewritten by target kind, other fields unchanged, and
/// the new immediate the address of the same bytes in the container's region.
fn check_lddw(
    at: &str,
    lb: &[u8],
    ours: &[u8],
    r: &Reloc,
    file: &object::File,
    container: &Container,
    landed: &mut HashMap<SectionIndex, (Kind, i128)>,
) {
    assert_eq!(lb[0], 0x18, "{at}: R_BPF_64_64 not on an lddw");
    let section = file.section_by_index(r.section.unwrap_or_else(|| panic!("{at}: undefined target"))).unwrap();
    let section_name = section.name().unwrap();
    let kind =
        kind_of(section_name).unwrap_or_else(|| panic!("{at}: target section {section_name} is not data/bss/rodata"));
    let expected_opcode = if kind == Kind::Rodata { 0xd8 } else { 0xb8 };
    assert_eq!(ours[0], expected_opcode, "{at}: opcode for a target in {section_name}");
    assert_eq!(ours[1..4], lb[1..4], "{at}: registers/offset changed");
    assert_eq!(ours[8..12], lb[8..12], "{at}: second slot header changed");
    let imm = |b: &[u8]| {
        u32::from_le_bytes(b[4..8].try_into().unwrap()) as u64
            | (u32::from_le_bytes(b[12..16].try_into().unwrap()) as u64) << 32
    };
    let addend = imm(lb) as i64 as i128;
    let new = imm(ours) as i128;
    // Offset of the referenced byte inside the ELF section, and the section's place in the container.
    let in_section = r.value as i128 + addend;
    let base = new - in_section;
    let previous = landed.insert(section.index(), (kind, base));
    if let Some((_, b)) = previous {
        assert_eq!(b, base, "{at}: two relocations against {section_name} disagree on where it landed");
    }
    assert!(
        base >= 0 && in_section >= 0 && in_section <= section.size() as i128,
        "{at}: target outside {section_name}"
    );
    let (region, elf_data): (&[u8], Vec<u8>) = match kind {
        Kind::Rodata => (container.rodata, section.data().unwrap().to_vec()),
        Kind::Data => (container.data, section.data().unwrap().to_vec()),
        Kind::Bss => (container.data, vec![0; section.size() as usize]), // seed layout stores bss as zeros
    };
    let n = (section.size() as i128 - in_section).min(8) as usize;
    let (new, in_section) = (new as usize, in_section as usize);
    assert!(new + n <= region.len(), "{at}: address 0x{new:x} (+{n}) outside the container's {kind:?} region");
    assert_eq!(
        region[new..new + n],
        elf_data[in_section..in_section + n],
        "{at}: the LDDW does not point at the same bytes"
    );
}

fn check_folder(test: &str, src: &Path, cpu: &str) -> Stats {
    let tmp = TempDir::new(test);
    let out = tmp.join("out");
    build(src, &out, &["--cpu", cpu]);
    let mut stats = Stats::default();
    let names = container_names(src);
    assert!(!names.is_empty());
    for name in &names {
        check_container(&out, name, &mut stats);
    }
    eprintln!(
        "{test}: {} containers, {} instructions, {} compared as text, {} lddw relocations, {} call relocations; not compared: {:#?}",
        names.len(),
        stats.instructions,
        stats.compared_text,
        stats.lddw_relocs,
        stats.call_relocs,
        stats.skipped_text
    );
    assert!(stats.instructions > 0);
    assert!(
        stats.compared_text * 100 >= stats.instructions * 90,
        "only {} of {} instructions compared as text",
        stats.compared_text,
        stats.instructions
    );
    stats
}

#[test]
fn sample_containers_v1_agree_with_llvm_objdump() {
    let stats = check_folder("objdump-v1", &samples_dir(), "v1");
    // The samples have LDDW relocations (crc32, store, strings); keep the check honest.
    assert!(stats.lddw_relocs >= 5, "{stats:?}");
}

#[test]
fn sample_containers_v3_agree_with_llvm_objdump() {
    check_folder("objdump-v3", &samples_dir(), "v3");
}

#[test]
fn fixtures_with_call_relocations_and_several_text_sections_agree_with_llvm_objdump() {
    for cpu in ["v1", "v3"] {
        let stats = check_folder(&format!("objdump-fixtures-{cpu}"), &data_dir().join("objdump"), cpu);
        assert!(stats.call_relocs >= 4, "{stats:?}");
        assert!(stats.lddw_relocs >= 4, "{stats:?}");
    }
}

#[test]
fn objdump_parser_reads_instructions_and_relocations() {
    let text = "\nx.o:\tfile format elf64-bpf\n\nDisassembly of section .text:\n\n0000000000000000 <f>:\n       0:\tbf 16 00 00 00 00 00 00\tr6 = r1\n       1:\t18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0 ll\n\t\t0000000000000008:  R_BPF_64_64\t.bss\n       3:\t95 00 00 00 00 00 00 00\texit\n";
    let s = parse_objdump(text);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].insns.len(), 3);
    assert_eq!(s[0].insns[1].relocs, vec![(8, "R_BPF_64_64".to_owned(), ".bss".to_owned())]);
    assert_eq!(s[0].insns[2].index, 3);
    assert_eq!(normalise_llvm("goto +3 <LBB0_6>", &[5, 0, 3, 0, 0, 0, 0, 0], false).unwrap(), "goto +3");
    assert_eq!(
        normalise_llvm("r1 = -1 ll", &[0x18, 1, 0, 0, 0xff, 0xff, 0xff, 0xff], false).unwrap(),
        "r1 = 0xffffffffffffffff"
    );
    assert_eq!(
        normalise_llvm("if w4 < w2 goto -5 <LBB0_3>", &[0xae, 0x24, 0xfb, 0xff, 0, 0, 0, 0], false).unwrap(),
        "if w4 < w2 goto -5"
    );
    assert_eq!(
        normalise_llvm("if r1 s> r2 goto -2 <LBB0_1>", &[0x6d, 0x21, 0, 0, 0, 0, 0, 0], false).unwrap(),
        "if r1 > r2 goto -2"
    );
}
