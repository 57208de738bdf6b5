//! `cli::explain::describe_error`: the error line of `fc-aot run` names the source line,
//! and for ILLEGAL_MEM the access and the region, for OUT_OF_BRANCHES the budget; only when
//! the reference interpreter's replay stops the same way.

mod common;

use common::*;
use fc_aot::cli::explain::{describe_error, Replay};
use fc_aot::container::{elf, lines};
use fc_aot::helpers::HelperSet;
use fc_aot::text::asm::assemble;
use fc_runtime::format::{self, Container, Image, Layout, LayoutChoice};
use fc_runtime::helpers::Profile;
use fc_runtime::ErrorCode;

const ILLEGAL_MEM: i32 = ErrorCode::IllegalMem as i32;
const OUT_OF_BRANCHES: i32 = ErrorCode::OutOfBranches as i32;

fn container_bytes(asm: &str) -> Vec<u8> {
    let text = assemble(asm).unwrap();
    let image = Image { text, functions: vec![("f".into(), 0)], ..Image::default() };
    format::write(&image, Layout::Sming32).unwrap()
}

/// `describe_error` for a run of `bytes` with this context and budget.
fn describe(bytes: &[u8], ctx: &[u8], budget: Option<u32>, code: i32, pc: usize) -> String {
    let container = Container::parse(bytes, LayoutChoice::Auto).unwrap();
    let helpers = HelperSet::profile(Profile::Sming);
    let run = Replay { container: &container, function: None, ctx, budget, stack: 512, helpers: &helpers };
    describe_error(&run, None, code, pc)
}

#[test]
fn an_illegal_mem_names_the_access_and_the_region() {
    let store = container_bytes("mov %r0, 0\nstw [%r1+20], 7\nexit\n");
    assert_eq!(
        describe(&store, &[0; 20], Some(200), ILLEGAL_MEM, 1),
        "ILLEGAL_MEM at insn 1: write of 4 bytes at 0x40000014, context is 20 bytes"
    );
    let load = container_bytes("lddw %r1, 0x72345678\nldxdw %r0, [%r1]\nexit\n");
    assert_eq!(
        describe(&load, &[], Some(200), ILLEGAL_MEM, 2),
        "ILLEGAL_MEM at insn 2: read of 8 bytes at 0x72345678, no region there"
    );
    let atomic = container_bytes("mov %r2, 1\nlock add [%r1+16], %r2\nmov %r0, 0\nexit\n");
    assert_eq!(
        describe(&atomic, &[0; 20], Some(200), ILLEGAL_MEM, 1),
        "ILLEGAL_MEM at insn 1: atomic update of 8 bytes at 0x40000010, context is 20 bytes"
    );
}

#[test]
fn a_replay_that_disagrees_adds_nothing() {
    let store = container_bytes("mov %r0, 0\nstw [%r1+20], 7\nexit\n");
    assert_eq!(describe(&store, &[0; 20], Some(200), ILLEGAL_MEM, 0), "ILLEGAL_MEM at insn 0", "another index");
    assert_eq!(describe(&store, &[0; 24], Some(200), ILLEGAL_MEM, 1), "ILLEGAL_MEM at insn 1", "the replay returns");
    assert_eq!(describe(&store, &[0; 20], Some(200), OUT_OF_BRANCHES, 1), "OUT_OF_BRANCHES at insn 1", "another code");
}

#[test]
fn out_of_branches_says_the_budget_and_how_to_raise_it() {
    let endless = container_bytes("mov %r0, 0\nja -1\nexit\n");
    assert_eq!(
        describe(&endless, &[], Some(50), OUT_OF_BRANCHES, 1),
        "OUT_OF_BRANCHES at insn 1: the 50 budget units allowed (taken jumps, helpers' work) ran out; --budget raises them"
    );
}

#[test]
fn the_error_names_the_source_line() {
    let tmp = TempDir::new("explain-oob");
    let source = tmp.join("oob.c");
    std::fs::write(&source, "#include <stdint.h>\nstruct ctx { uint32_t v[5]; };\nint64_t oob(struct ctx *c)\n{\n\t((uint32_t *)c)[5] = 1;\n\treturn 0;\n}\n").unwrap();
    let object = tmp.join("oob.o");
    compile_bpf(&source, &object, &["-g"]);
    let elf_bytes = std::fs::read(&object).unwrap();
    let bytes = format::write(&elf::convert(&elf_bytes).unwrap(), Layout::Sming32).unwrap();
    let table = lines::table(&elf_bytes).unwrap();
    let container = Container::parse(&bytes, LayoutChoice::Auto).unwrap();
    let store = container.text.chunks_exact(8).position(|s| s[0] & 0x07 >= 0x02 && s[0] & 0x07 <= 0x03).unwrap();
    let helpers = HelperSet::profile(Profile::Sming);
    let run = Replay { container: &container, function: None, ctx: &[0; 20], budget: Some(200), stack: 512, helpers: &helpers };
    assert_eq!(
        describe_error(&run, Some(&table), ILLEGAL_MEM, store),
        format!("ILLEGAL_MEM at insn {store} (oob.c:5): write of 4 bytes at 0x40000014, context is 20 bytes")
    );
}

/// The case end to end: a C container built by `fc-aot build` writes past its
/// context; `fc-aot run` names the source line, the access and the region, on every
/// engine and on an emulated SoC, and exits 3.
#[test]
fn run_explains_an_out_of_bounds_write_from_c_on_every_engine() {
    let tmp = TempDir::new("explain-run");
    let src = tmp.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("oob.c"), "int oob(unsigned *ctx) {\n  unsigned x = ctx[0];\n  ctx[100] = x;\n  return 0;\n}\n").unwrap();
    build(&src, &tmp.join("out"), &[]);
    let bin = tmp.join("out/oob.bin");
    let want = "error: ILLEGAL_MEM at insn 1 (oob.c:3): write of 4 bytes at 0x40000190, context is 20 bytes\n";
    let mut pairs: Vec<(&str, &str)> = fc_aot::target::EngineKind::ALL.iter().map(|e| (e.name(), "host")).collect();
    pairs.push(("c", "esp32c3"));
    for (engine, target) in pairs {
        let o = fc_aot(&["run", bin.to_str().unwrap(), "--ctx", &"00".repeat(20), "--engine", engine, "--target", target]);
        assert_eq!(o.status.code(), Some(3), "{engine}/{target}: {}", stderr(&o));
        assert!(stdout(&o).contains(want), "{engine}/{target}:\n{}", stdout(&o));
    }
}
