//! Line tables from clang's DWARF: each instruction of the converted text maps to the
//! source line it came from, in C and in C++ whose functions sit in `.text.*` sections
//! (every one at address 0 of the object, so only the applied relocations tell them apart).

mod common;

use common::*;
use fc_aot::container::elf;
use fc_aot::container::lines::{self, LineTable};
use fc_runtime::insn::RawSlot;

/// The slot of the first instruction of `text` that `wanted` picks.
fn slot_where(text: &[u8], wanted: impl Fn(RawSlot) -> bool) -> usize {
    text.chunks_exact(8)
        .map(|s| RawSlot::from_bytes(s.try_into().unwrap()))
        .position(wanted)
        .unwrap_or_else(|| panic!("no such instruction in the text"))
}

/// The slot of the first instruction with this opcode and immediate.
fn slot_of(text: &[u8], opcode: u8, imm: i32) -> usize {
    slot_where(text, |r| r.opcode == opcode && r.imm == imm)
}

fn compiled(tmp: &TempDir, name: &str, source: &str, extra: &[&str]) -> Vec<u8> {
    let path = tmp.join(name);
    std::fs::write(&path, source).unwrap();
    let object = path.with_extension("o");
    compile_bpf(&path, &object, extra);
    std::fs::read(object).unwrap()
}

const OOB_C: &str = "#include <stdint.h>\n\
int64_t oob(uint32_t *ctx)\n\
{\n\
\tuint32_t seen = ctx[0];\n\
\tctx[5] = 0x77;\n\
\treturn seen;\n\
}\n";

#[test]
fn c_instructions_map_to_their_lines() {
    let tmp = TempDir::new("lines-c");
    let object = compiled(&tmp, "oob.c", OOB_C, &["-g"]);
    let table = lines::table(&object).unwrap();
    let text = elf::convert(&object).unwrap().text;
    // stxw [r1+20], r2 (v1 has no store of an immediate)
    let store = slot_where(&text, |r| r.opcode == 0x63 && r.off == 20);
    assert_eq!(table.at(store), Some(("oob.c", 5)), "{table:?}");
    assert_eq!(lines::insn_label(Some(&table), store), format!("insn {store} (oob.c:5)"));
}

const TWO_SECTIONS_CPP: &str = "#include <stdint.h>\n\
namespace {\n\
__attribute__((noinline)) uint64_t twice(uint64_t x)\n\
{\n\
\treturn x * 0x1234;\n\
}\n\
}\n\
extern \"C\" __attribute__((noinline)) uint64_t thrice(uint64_t x)\n\
{\n\
\treturn x * 0x5678;\n\
}\n\
extern \"C\" int64_t entry(uint64_t *ctx)\n\
{\n\
\treturn twice(ctx[0]) + thrice(ctx[1]);\n\
}\n";

#[test]
fn cxx_functions_in_their_own_sections_map_to_their_lines() {
    let tmp = TempDir::new("lines-cxx");
    let object = compiled(&tmp, "parts.cpp", TWO_SECTIONS_CPP, &["-g", "-ffunction-sections"]);
    let converted = elf::convert_placed(&object).unwrap();
    assert!(converted.text_offsets.len() >= 3, "one section per function: {:?}", converted.text_offsets);
    let table = lines::table(&object).unwrap();
    let text = &converted.image.text;
    // r0 *= imm (mul64 with an immediate) in each helper function.
    assert_eq!(table.at(slot_of(text, 0x27, 0x1234)), Some(("parts.cpp", 5)), "{table:?}");
    assert_eq!(table.at(slot_of(text, 0x27, 0x5678)), Some(("parts.cpp", 10)), "{table:?}");
    // Each function's instructions map only into that function's lines.
    for (slot, want) in [(slot_of(text, 0x27, 0x1234), 3..=6), (slot_of(text, 0x27, 0x5678), 8..=11)] {
        let line = table.at(slot).map(|(_, l)| l).unwrap();
        assert!(want.contains(&line), "slot {slot}: line {line}");
    }
}

#[test]
fn the_sample_containers_built_with_g_have_tables() {
    let tmp = TempDir::new("lines-samples");
    for name in ["counter.cpp", "sort.c"] {
        let object = tmp.join(name).with_extension("o");
        compile_bpf(&samples_dir().join(name), &object, &["-g", "-I", samples_dir().join("include").to_str().unwrap()]);
        let bytes = std::fs::read(&object).unwrap();
        let table = lines::table(&bytes).unwrap();
        let text = elf::convert(&bytes).unwrap().text;
        let named = (0..text.len() / 8).filter(|&i| table.at(i).is_some_and(|(f, _)| f == name)).count();
        assert!(named * 2 > text.len() / 8, "{name}: most instructions have a line of their own source ({named})");
        // Written beside a .bin and read back for the same text only.
        let bin = tmp.join(name).with_extension("bin");
        table.write_beside(&bin).unwrap();
        assert_eq!(LineTable::read_beside(&bin, &text), Some(table));
        assert_eq!(LineTable::read_beside(&bin, &text[8..]), None);
    }
}

#[test]
fn an_object_without_debug_info_has_a_table_without_lines() {
    let tmp = TempDir::new("lines-nodebug");
    let object = compiled(&tmp, "oob.c", OOB_C, &[]);
    let table = lines::table(&object).unwrap();
    assert_eq!(table.at(0), None);
}

#[test]
fn verify_names_the_source_line_of_each_problem() {
    let tmp = TempDir::new("lines-verify");
    let source = "#include <stdint.h>\n\
static int64_t (*const app)(int64_t) = (void *)0x100;\n\
int64_t calls_app(uint64_t *ctx)\n\
{\n\
\treturn app(ctx[0]) + 1;\n\
}\n";
    let object = compiled(&tmp, "app.c", source, &["-g"]);
    let bin = tmp.join("app.bin");
    let bin_text = bin.to_str().unwrap();
    assert_success(&fc_aot(&["convert", tmp.join("app.o").to_str().unwrap(), "-o", bin_text]), "convert");
    let call = slot_where(&elf::convert(&object).unwrap().text, |r| r.opcode == 0x85 && r.imm == 0x100);
    let without = stdout(&fc_aot(&["verify", bin_text]));
    assert!(without.starts_with(&format!("insn {call}: helper 0x100 is not provided")), "no table, no line:\n{without}");
    lines::table(&object).unwrap().write_beside(&bin).unwrap();
    let with = stdout(&fc_aot(&["verify", bin_text]));
    assert!(with.starts_with(&format!("insn {call} (app.c:5): helper 0x100 is not provided")), "{with}");
}
