//! Shared by the fuzz targets: the structured ELF description ([`elf_model`]) and the checks
//! on what `elf::convert` accepts.

pub mod elf_model;

use elf_model::{Model, ModelSection, Place, SectionName, SectionType, SymbolType, Target};
use fc_runtime::format::{self, Container, Image, Layout, LayoutChoice};

/// The `elf` target's property of a converted image: it has functions, and it writes, in
/// both header layouts, to a container the reader accepts with the same text and names.
pub fn check_image(image: &Image) {
    assert!(!image.functions.is_empty(), "converted image without functions");
    for layout in [Layout::Seed, Layout::Sming32] {
        // The writer may refuse (a name offset or location past the table's u16 fields).
        let Ok(bin) = format::write(image, layout) else { continue };
        let c = Container::parse(&bin, LayoutChoice::Only(layout))
            .unwrap_or_else(|e| panic!("converted image written as {} does not read back: {e}", layout.name()));
        assert_eq!(c.text, &image.text[..]);
        let names: Vec<&str> = c.functions().map(|f| f.name).collect();
        let expected: Vec<&str> = image.functions.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, expected);
    }
}

/// Where the converter puts a section (spec §1: text, data then bss, rodata, each merged in
/// section order at its alignment; an empty section at the end without padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    Data,
    Bss,
    Rodata,
}

fn kind(s: &ModelSection) -> Option<Kind> {
    if !s.alloc() {
        return None;
    }
    if s.exec() {
        return Some(Kind::Text);
    }
    match s.name {
        SectionName::Data | SectionName::DataB => Some(Kind::Data),
        SectionName::Bss | SectionName::BssB => Some(Kind::Bss),
        SectionName::Rodata | SectionName::RodataStr => Some(Kind::Rodata),
        _ => None,
    }
}

/// The image the model stands for, computed independently of the converter, before
/// relocation: merged text, data and rodata bytes, bss length, and each section's place.
struct Expected {
    text: Vec<u8>,
    data: Vec<u8>,
    rodata: Vec<u8>,
    bss_len: u64,
    /// Per section: its kind, offset in the kind's output and size.
    places: Vec<Option<(Kind, u64, u64)>>,
    /// Per slot of the text: whether it is the second slot of a two-slot instruction.
    tails: Vec<bool>,
}

fn expected(model: &Model) -> Expected {
    let mut e = Expected {
        text: Vec::new(),
        data: Vec::new(),
        rodata: Vec::new(),
        bss_len: 0,
        places: Vec::new(),
        tails: Vec::new(),
    };
    for s in &model.sections {
        let Some(kind) = kind(s) else {
            e.places.push(None);
            continue;
        };
        let bytes = &s.bytes;
        let offset = match kind {
            Kind::Bss if bytes.is_empty() => e.bss_len,
            Kind::Bss => {
                let offset = e.bss_len.next_multiple_of(s.align);
                e.bss_len = offset + bytes.len() as u64;
                offset
            }
            _ => {
                let out = match kind {
                    Kind::Text => &mut e.text,
                    Kind::Data => &mut e.data,
                    _ => &mut e.rodata,
                };
                if !bytes.is_empty() {
                    let align = if kind == Kind::Text { 8 } else { s.align as usize };
                    out.resize(out.len().next_multiple_of(align), 0);
                }
                let offset = out.len() as u64;
                out.extend_from_slice(bytes);
                offset
            }
        };
        if kind == Kind::Text {
            let mut at = 0;
            while at + 8 <= bytes.len() {
                e.tails.push(false);
                if [0x18, 0xb8, 0xd8].contains(&bytes[at]) && at + 16 <= bytes.len() {
                    e.tails.push(true);
                    at += 8;
                }
                at += 8;
            }
        }
        e.places.push(Some((kind, offset, bytes.len() as u64)));
    }
    e.data.resize(e.data.len().next_multiple_of(8), 0);
    e.bss_len = e.bss_len.next_multiple_of(8);
    e
}

fn imm(slot: &[u8]) -> i32 {
    i32::from_le_bytes(slot[4..8].try_into().unwrap())
}

/// For an unpatched model that converted: the image is what the model says. Text, data and
/// rodata are the sections merged in order; every slot no relocation names is unchanged; each
/// `R_BPF_64_64` turned its lddw into the data/rodata form loading the symbol + addend, each
/// `R_BPF_64_32` its call into a local call of the symbol + imm; the function table is the
/// global functions at their sections' places.
pub fn check_against_model(model: &Model, image: &Image) {
    // Sections of these types change how the object is read (another symbol table, group or
    // relocation sections): the model no longer tells the whole story.
    let plain = model.sections.iter().all(|s| match s.sh_type {
        SectionType::Other(t) => ![2, 4, 9, 11, 17, 18, 19, 20].contains(&(t % 32)),
        _ => true,
    });
    if !plain {
        return;
    }
    let e = expected(model);
    assert_eq!(image.text.len(), e.text.len(), "text length");
    assert_eq!(image.data, e.data, "data");
    assert_eq!(image.rodata, e.rodata, "rodata");
    assert_eq!(u64::from(image.bss_len), e.bss_len, "bss length");

    let place = |section: usize| e.places[section].expect("converted with a symbol in a section outside the container");
    // The symbol's section and value.
    let symbol = |target: Target| match target {
        Target::Section(i) => (i, 0u64),
        Target::Symbol(i) => match model.symbols[i].place {
            Place::In(section) => (section, model.symbols[i].value),
            other => panic!("converted with a relocation against a symbol {other:?}"),
        },
    };
    let mut relocated = vec![false; e.text.len() / 8];
    for r in &model.relocations {
        let Some((Kind::Text, base, size)) = e.places[r.section] else { continue };
        let width = if r.r_type == object::elf::R_BPF_64_64 { 16 } else { 8 };
        let inside = r.offset % 8 == 0 && r.offset.checked_add(width).is_some_and(|end| end <= size);
        assert!(inside, "converted with a relocation at offset {} of a {size}-byte section", r.offset);
        let pc = ((base + r.offset) / 8) as usize;
        assert!(!e.tails[pc], "converted with a relocation on the second slot of an lddw (slot {pc})");
        assert!(!relocated[pc], "converted with two relocations on slot {pc}");
        let (old, new) = (&e.text[pc * 8..pc * 8 + 8], &image.text[pc * 8..pc * 8 + 8]);
        let (section, value) = symbol(r.target);
        let (kind, offset, section_size) = place(section);
        assert!(value <= section_size, "converted with a symbol value {value} past its {section_size}-byte section");
        match r.r_type {
            object::elf::R_BPF_64_64 => {
                let (old_hi, new_hi) = (&e.text[pc * 8 + 8..pc * 8 + 16], &image.text[pc * 8 + 8..pc * 8 + 16]);
                let addend = (i64::from(imm(old_hi)) << 32) | i64::from(imm(old) as u32);
                let (opcode, region) = match kind {
                    Kind::Data => (0xb8, 0),
                    Kind::Bss => (0xb8, e.data.len() as u64),
                    Kind::Rodata => (0xd8, 0),
                    Kind::Text => panic!("converted an lddw relocation against code"),
                };
                let address = (region + offset + value) as i128 + i128::from(addend);
                let got = (i64::from(imm(new_hi)) << 32) | i64::from(imm(new) as u32);
                assert_eq!((new[0], &new[1..4]), (opcode, &old[1..4]), "lddw at slot {pc}");
                assert_eq!(&new_hi[..4], &old_hi[..4], "lddw at slot {pc}: second slot");
                assert_eq!(i128::from(got), address, "lddw at slot {pc}: address");
                relocated[pc] = true;
                relocated[pc + 1] = true;
            }
            object::elf::R_BPF_64_32 => {
                assert_eq!(kind, Kind::Text, "call at slot {pc} resolved to a non-code symbol");
                let in_section = value as i128 + (i128::from(imm(old)) + 1) * 8;
                assert!(
                    (0..section_size as i128).contains(&in_section) && in_section % 8 == 0,
                    "call at slot {pc}: converted with a target at {in_section} of a {section_size}-byte section"
                );
                let target = offset as i128 + in_section;
                assert!(!e.tails[(target / 8) as usize], "call at slot {pc}: converted with a target inside an lddw");
                assert_eq!(i128::from(imm(new)) + pc as i128 + 1, target / 8, "call at slot {pc}: target");
                let regs = old[1] & 0x0f | 0x10;
                assert_eq!((new[0], new[1], &new[2..4]), (0x85, regs, &old[2..4]), "call at slot {pc}");
                relocated[pc] = true;
            }
            other => panic!("converted with relocation type {other} in code"),
        }
    }
    for (pc, done) in relocated.iter().enumerate() {
        if !done {
            assert_eq!(&image.text[pc * 8..pc * 8 + 8], &e.text[pc * 8..pc * 8 + 8], "slot {pc} changed");
        }
    }

    let mut functions: Vec<(String, u32)> = model
        .symbols
        .iter()
        .filter(|s| s.kind == SymbolType::Func && s.global && !s.weak)
        .filter_map(|s| match s.place {
            Place::In(section) => {
                let (kind, offset, size) = place(section);
                assert_eq!(kind, Kind::Text, "converted with a global function outside code");
                let (name, value) = (s.name, s.value);
                assert!(value < size && value % 8 == 0, "converted with `{name}` at {value} of {size} bytes");
                assert!(!e.tails[((offset + s.value) / 8) as usize], "converted with `{}` inside an lddw", s.name);
                Some((s.name.to_owned(), (offset + s.value) as u32))
            }
            _ => None,
        })
        .collect();
    functions.sort();
    let mut got = image.functions.clone();
    got.sort();
    assert_eq!(got, functions, "function table");
}
