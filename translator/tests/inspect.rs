//! Inspecting containers from the command line: `dump --names [--helpers P]` names helper
//! calls as bpftool does (without `--names` the seed's `Call N` stays), and `disasm` reads a
//! `.bin` (one function's text) as well as raw instruction bytes.

mod common;

use common::*;
use fc_aot::text::asm::assemble;
use fc_runtime::format::{self, Image, Layout};

/// A container of `asm` with these functions (name, slot), written to `dir/name`.
fn container(tmp: &TempDir, name: &str, asm: &str, functions: &[(&str, u32)]) -> String {
    let image = Image {
        text: assemble(asm).unwrap(),
        functions: functions.iter().map(|&(n, slot)| (n.to_owned(), slot * 8)).collect(),
        ..Image::default()
    };
    let path = tmp.join(name);
    std::fs::write(&path, format::write(&image, Layout::Sming32).unwrap()).unwrap();
    path.to_str().unwrap().to_owned()
}

const CALLS: &str = "mov %r1, 1\ncall 0x13\ncall 0x100\ncall 7\nexit\n";

#[test]
fn dump_names_helper_calls_by_profile_only_when_asked() {
    let tmp = TempDir::new("inspect-dump");
    let bin = container(&tmp, "calls.bin", CALLS, &[("calls", 0)]);
    let numbered = fc_aot(&["dump", &bin]);
    assert_success(&numbered, "dump");
    let numbered = stdout(&numbered);
    assert!(numbered.contains(" Call 19\n") && numbered.contains(" Call 256\n"), "the seed's text:\n{numbered}");
    assert!(!numbered.contains("bpf_"), "{numbered}");

    let sming = stdout(&fc_aot(&["dump", &bin, "--names"]));
    for call in ["call bpf_fetch_local#19\n", "call app_helper#256\n", "call unknown#7\n"] {
        assert!(sming.contains(call), "{call}in:\n{sming}");
    }
    assert_eq!(sming.replace("call bpf_fetch_local#19", "Call 19").replace("call app_helper#256", "Call 256").replace("call unknown#7", "Call 7"), numbered, "only the calls change");
    let riot = stdout(&fc_aot(&["dump", &bin, "--names", "--helpers", "riot"]));
    assert!(riot.contains("call bpf_fetch_global#19\n"), "{riot}");
    let json = stdout(&fc_aot(&["dump", &bin, "--names", "--json"]));
    assert!(json.contains("\"call bpf_fetch_local#19\""), "{json}");

    let alone = fc_aot(&["dump", &bin, "--helpers", "riot"]);
    assert_eq!(alone.status.code(), Some(2), "--helpers without --names is a usage error: {}", stderr(&alone));
}

#[test]
fn disasm_reads_a_container_function_or_raw_bytes() {
    let tmp = TempDir::new("inspect-disasm");
    let two = "mov %r0, 1\nexit\nlddw %r0, 0x1122334455667788\nexit\n";
    let bin = container(&tmp, "two.bin", two, &[("first", 0), ("second", 2)]);
    let disasm = |args: &[&str]| {
        let o = fc_aot(&[&["disasm"], args].concat());
        assert_success(&o, &format!("disasm {args:?}"));
        stdout(&o)
    };
    assert_eq!(disasm(&[&bin]), "mov %r0, 1\nexit\n", "the first function");
    assert_eq!(disasm(&[&bin, "--function", "second"]), "lddw %r0, 0x1122334455667788\nexit\n");
    let missing = fc_aot(&["disasm", &bin, "--function", "third"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no function `third` (have: first, second)"), "{}", stderr(&missing));

    let raw = tmp.join("two.raw");
    std::fs::write(&raw, assemble(two).unwrap()).unwrap();
    let raw = raw.to_str().unwrap();
    assert_eq!(disasm(&[raw]), two, "raw bytes: all of them");
    let function_of_raw = fc_aot(&["disasm", raw, "--function", "first"]);
    assert_eq!(function_of_raw.status.code(), Some(1));
    assert!(stderr(&function_of_raw).contains("--function needs a container"), "{}", stderr(&function_of_raw));
}
