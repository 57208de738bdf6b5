//! Mutated real inputs: `Container::parse` (every layout choice) and `elf::convert` must return
//! Ok or Err, never panic; what `convert` accepts must write to a valid container.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use common::*;
use fc_runtime::format::{self, Container, Layout, LayoutChoice};
use proptest::prelude::*;
use proptest::sample::Index;

/// The real inputs: every sample container and test fixture, as `.o` and `.bin`.
struct Corpus {
    /// (file name, bytes).
    files: Vec<(String, Vec<u8>)>,
    /// Byte ranges of each object that the converter reads (ELF header, section headers,
    /// symbol table, relocations, allocated sections), by file index.
    regions: Vec<Vec<(usize, usize)>>,
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let tmp = TempDir::new("mutation-corpus");
        let mut files = Vec::new();
        for (i, src) in [samples_dir(), data_dir().join("objdump")].iter().enumerate() {
            let prefix = ["samples", "fixtures"][i];
            let out = tmp.join(format!("out{i}"));
            build(src, &out, &[]);
            for name in container_names(src) {
                for ext in ["o", "bin"] {
                    let bytes = std::fs::read(out.join(format!("{name}.{ext}"))).unwrap();
                    files.push((format!("{prefix}/{name}.{ext}"), bytes));
                }
            }
        }
        let regions = files
            .iter()
            .map(|(name, bytes)| {
                if !name.ends_with(".o") {
                    return vec![(0, bytes.len())];
                }
                let mut r = vec![(0, 64)];
                for s in raw_sections(bytes) {
                    r.push((s.header, 64));
                    let interesting = matches!(s.sh_type, SHT_SYMTAB | SHT_REL) && !s.name.contains("debug")
                        || s.name.starts_with(".text")
                        || s.name.starts_with(".data")
                        || s.name.starts_with(".rodata");
                    if interesting && s.size > 0 {
                        r.push((s.offset, s.size));
                    }
                }
                r
            })
            .collect();
        Corpus { files, regions }
    })
}

thread_local! {
    /// Where the last panic on this thread happened (recorded by [`install_hook`]).
    static PANIC_AT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Records panic locations for the failure messages, then reports as usual.
fn install_hook() {
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            PANIC_AT.with(|p| *p.borrow_mut() = at);
            previous(info);
        }));
    });
}

/// An allocated section above 64 MiB (only possible for NOBITS sections of a mutated object).
fn has_huge_section(bytes: &[u8]) -> bool {
    use object::{Object, ObjectSection};
    let Ok(file) = object::File::parse(bytes) else { return false };
    file.sections().any(|s| {
        let alloc = matches!(s.flags(), object::SectionFlags::Elf { sh_flags } if sh_flags & object::elf::SHF_ALLOC as u64 != 0);
        alloc && s.size() > 64 << 20
    })
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    let message = p
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    format!("{message} (at {})", PANIC_AT.with(|p| p.borrow().clone()))
}

/// Runs every reader on `bytes`; returns a description of the first panic.
fn exercise(bytes: &[u8]) -> Result<(), String> {
    install_hook();
    for choice in [LayoutChoice::Auto, LayoutChoice::Only(Layout::Seed), LayoutChoice::Only(Layout::Sming32)] {
        let r = catch_unwind(|| {
            if let Ok(c) = Container::parse(bytes, choice) {
                // A container that parses must also dump.
                let _ = fc_aot::container::dump::text(&c, fc_aot::container::dump::Calls::Numbered);
                let _ = fc_aot::container::dump::json("x.bin", &c, fc_aot::container::dump::Calls::Numbered);
            }
        });
        r.map_err(|p| format!("Container::parse/dump ({choice:?}) panicked: {}", panic_text(&p)))?;
    }
    if has_huge_section(bytes) {
        // `convert` materialises bss as zero bytes: a mutated section size of up to 4 GiB
        // costs GiBs of memory and tens of seconds (see `huge_bss_does_not_exhaust_memory`).
        return Ok(());
    }
    let image = catch_unwind(|| fc_aot::container::elf::convert(bytes))
        .map_err(|p| format!("elf::convert panicked: {}", panic_text(&p)))?;
    if let Ok(image) = image {
        for layout in [Layout::Seed, Layout::Sming32] {
            let written = catch_unwind(AssertUnwindSafe(|| format::write(&image, layout)))
                .map_err(|p| format!("format::write panicked: {}", panic_text(&p)))?;
            if let Ok(bin) = written {
                let c = Container::parse(&bin, LayoutChoice::Only(layout))
                    .map_err(|e| format!("convert+write ({layout:?}) produced an invalid container: {e}"))?;
                if c.function_count() != image.functions.len() {
                    return Err(format!("convert+write ({layout:?}): function count changed"));
                }
                match Container::parse(&bin, LayoutChoice::Auto) {
                    Ok(_) | Err(format::FormatError::AmbiguousLayout) => {}
                    Err(e) => return Err(format!("convert+write ({layout:?}): auto layout rejects it: {e}")),
                }
            }
        }
    }
    Ok(())
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip {
        at: Index,
        bit: u8,
    },
    Byte {
        at: Index,
        value: u8,
    },
    /// 8 bytes at an 8-aligned position: the fields the converter does arithmetic on.
    Word {
        at: Index,
        value: u64,
    },
}

fn flip() -> impl Strategy<Value = Mutation> {
    (any::<Index>(), 0..8u8).prop_map(|(at, bit)| Mutation::Flip { at, bit })
}

fn byte() -> impl Strategy<Value = Mutation> {
    (any::<Index>(), prop_oneof![Just(0u8), Just(0xff), Just(0x7f), Just(0x80), any::<u8>()])
        .prop_map(|(at, value)| Mutation::Byte { at, value })
}

fn word() -> impl Strategy<Value = Mutation> {
    let value = prop_oneof![
        Just(u64::MAX),
        Just(u64::MAX - 7),
        Just(1u64 << 63),
        Just(u32::MAX as u64),
        Just(0x1_0000_0000),
        Just(0),
        any::<u64>()
    ];
    (any::<Index>(), value).prop_map(|(at, value)| Mutation::Word { at, value })
}

/// Applies `m` inside `[start, start + len)` of `bytes`.
fn apply(bytes: &mut [u8], (start, len): (usize, usize), m: &Mutation) {
    let len = len.min(bytes.len().saturating_sub(start));
    if len == 0 {
        return;
    }
    match m {
        Mutation::Flip { at, bit } => bytes[start + at.index(len)] ^= 1 << bit,
        Mutation::Byte { at, value } => bytes[start + at.index(len)] = *value,
        Mutation::Word { at, value } => {
            let pos = (start + at.index(len)) & !7;
            let end = (pos + 8).min(bytes.len());
            bytes[pos..end].copy_from_slice(&value.to_le_bytes()[..end - pos]);
        }
    }
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 2000, failure_persistence: None, max_shrink_iters: 500, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn truncated_files_never_panic(file in any::<Index>(), len in any::<Index>()) {
        let (name, bytes) = &corpus().files[file.index(corpus().files.len())];
        let cut = &bytes[..len.index(bytes.len() + 1)];
        prop_assert!(exercise(cut).is_ok(), "{name} cut to {} bytes: {}", cut.len(), exercise(cut).unwrap_err());
    }

    #[test]
    fn bit_flips_never_panic(file in any::<Index>(), flips in prop::collection::vec(flip(), 1..=8)) {
        let (name, bytes) = &corpus().files[file.index(corpus().files.len())];
        let mut m = bytes.clone();
        for f in &flips {
            let all = (0, m.len());
            apply(&mut m, all, f);
        }
        if let Err(e) = exercise(&m) {
            prop_assert!(false, "{name} with {flips:?}: {e}");
        }
    }

    #[test]
    fn byte_overwrites_and_truncation_never_panic(
        file in any::<Index>(),
        writes in prop::collection::vec(byte(), 1..=8),
        cut in prop::option::of(any::<Index>()),
    ) {
        let (name, bytes) = &corpus().files[file.index(corpus().files.len())];
        let mut m = bytes.clone();
        for w in &writes {
            let all = (0, m.len());
            apply(&mut m, all, w);
        }
        if let Some(cut) = &cut {
            m.truncate(cut.index(m.len() + 1));
        }
        if let Err(e) = exercise(&m) {
            prop_assert!(false, "{name} with {writes:?}, cut {cut:?}: {e}");
        }
    }

    /// Mutations aimed at what the converter reads: ELF and section headers, symbol table,
    /// relocations, and the allocated sections, with flips, bytes and whole 64-bit words.
    #[test]
    fn mutations_of_elf_structures_never_panic(
        file in any::<Index>(),
        edits in prop::collection::vec((any::<Index>(), prop_oneof![flip(), byte(), word()]), 1..=8),
    ) {
        let c = corpus();
        let i = file.index(c.files.len());
        let (name, bytes) = &c.files[i];
        let mut m = bytes.clone();
        for (region, e) in &edits {
            let regions = &c.regions[i];
            apply(&mut m, regions[region.index(regions.len())], e);
        }
        if let Err(e) = exercise(&m) {
            prop_assert!(false, "{name} with {edits:?}: {e}");
        }
    }
}

/// The unmutated corpus converts and round-trips (so the properties start from valid inputs).
#[test]
fn corpus_is_valid() {
    let c = corpus();
    assert!(c.files.len() >= 20, "{} files", c.files.len());
    for (name, bytes) in &c.files {
        if name.ends_with(".o") {
            let image = fc_aot::container::elf::convert(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            let bin = format::write(&image, Layout::Seed).unwrap();
            let built = &c.files.iter().find(|(n, _)| *n == name.replace(".o", ".bin")).unwrap().1;
            assert_eq!(&bin, built, "{name}: convert differs from fc-aot build's .bin");
        } else {
            Container::parse(bytes, LayoutChoice::Auto).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        exercise(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Patches every symbol value of every object to values near `u64::MAX`: the converter
/// adds symbol values to section offsets, which must not overflow.
#[test]
fn symbol_values_near_u64_max_are_errors_not_panics() {
    let mut failures = Vec::new();
    for (name, bytes) in corpus().files.iter().filter(|(n, _)| n.ends_with(".o")) {
        let sections = raw_sections(bytes);
        let symtab = sections.iter().find(|s| s.sh_type == SHT_SYMTAB).unwrap();
        for index in 1..symtab.size / 24 {
            for value in [u64::MAX, u64::MAX - 7] {
                let mut m = bytes.clone();
                let at = symtab.offset + index * 24 + 8; // st_value
                m[at..at + 8].copy_from_slice(&value.to_le_bytes());
                if let Err(e) = exercise(&m) {
                    let symbol = raw_symbol_name(bytes, &sections, symtab, index);
                    failures.push(format!("{name}: symbol #{index} `{symbol}` st_value=0x{value:x}: {e}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} panics:\n{}", failures.len(), failures.join("\n"));
}

/// Patches the r_offset of every relocation of allocated sections to values near `u64::MAX`.
#[test]
fn relocation_offsets_near_u64_max_are_errors_not_panics() {
    let mut failures = Vec::new();
    for (name, bytes) in corpus().files.iter().filter(|(n, _)| n.ends_with(".o")) {
        for rel in raw_sections(bytes)
            .iter()
            .filter(|s| s.sh_type == SHT_REL && !s.name.contains("debug") && !s.name.contains("BTF"))
        {
            for index in 0..rel.size / 16 {
                for value in [u64::MAX - 7, u64::MAX - 15, u64::MAX] {
                    let mut m = bytes.clone();
                    let at = rel.offset + index * 16; // r_offset
                    m[at..at + 8].copy_from_slice(&value.to_le_bytes());
                    if let Err(e) = exercise(&m) {
                        failures.push(format!("{name}: {} entry {index} r_offset=0x{value:x}: {e}", rel.name));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} panics:\n{}", failures.len(), failures.join("\n"));
}

/// A 3.75 GiB `.bss` (`char big[0xF0000000]`, or a one-field corruption of a small object) must
/// not make `convert` allocate GiBs: with the sming32 layout bss is not even stored in the
/// file. Run under a 2 GiB address-space limit so a failure is a quick allocation abort rather
/// than a machine swapping.
#[test]
fn huge_bss_does_not_exhaust_memory() {
    let tmp = TempDir::new("mutation-huge-bss");
    let object =
        compile_snippet(tmp.path(), "big.c", "char big[0xF0000000UL];\nint f(int *c) { big[*c] = 1; return 0; }\n");
    let out = tmp.join("big.bin");
    let script = "ulimit -v 2097152 && exec \"$0\" convert \"$1\" -o \"$2\" --layout sming32";
    let o = std::process::Command::new("sh")
        .args(["-c", script, FC_AOT])
        .arg(&object)
        .arg(&out)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run sh");
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "fc-aot convert of a 3.75 GiB .bss (sming32 layout) under a 2 GiB memory limit: {} (expected success with \
         bss_len in the header, or a one-line error); stderr: {}",
        o.status,
        stderr(&o).trim_end()
    );
    if o.status.success() {
        assert!(std::fs::metadata(&out).unwrap().len() < 4096, "the sming32 file must not store the bss");
    } else {
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
}
