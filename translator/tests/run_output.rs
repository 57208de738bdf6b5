//! What `fc-aot run` prints (issue 14, point 10): r0 signed too when its top bit is set,
//! the data section, `--runs N` on one loaded VM (data, bss and stores persist, the
//! context starts afresh, a `run I:` line before each report) and `--json`.

mod common;

use common::*;

/// A container that counts its runs in bss and a global store entry, doubles the
/// context's first word, and reads address 0 (ILLEGAL_MEM) on its second run only.
const RUNS: &str = r#"#include <fc_helpers.h>
static unsigned calls;
int runs(unsigned *ctx) {
    calls++;
    bpf_store_global(1, calls);
    ctx[0] *= 2;
    if (calls == 2) return *(volatile int *)0;
    return calls;
}
"#;

fn built(tmp: &TempDir) -> String {
    build_sources(tmp, &[("runs.c", RUNS)])
}

#[test]
fn r0_is_printed_signed_too_when_its_top_bit_is_set() {
    let tmp = TempDir::new("run-output-r0");
    build(&samples_dir(), &tmp.join("out"), &[]);
    let (ctx, _) = &sample_table()["arith64"];
    let bin = tmp.join("out/arith64.bin");
    let o = fc_aot(&["run", bin.to_str().unwrap(), "--ctx", ctx]);
    assert_success(&o, "arith64");
    assert!(stdout(&o).starts_with("r0: 18446744073709550767 (-849, 0xfffffffffffffcaf)\nerror: OK\n"), "{}", stdout(&o));
    let bin = tmp.join("out/increment.bin");
    let o = fc_aot(&["run", bin.to_str().unwrap(), "--ctx", "2900000000000000"]);
    assert!(stdout(&o).starts_with("r0: 42 (0x2a)\nerror: OK\n"), "unchanged below 2^63: {}", stdout(&o));
}

#[test]
fn runs_share_one_vm_and_each_prints_its_report() {
    let tmp = TempDir::new("run-output-runs");
    let bin = built(&tmp);
    let o = fc_aot(&["run", &bin, "--ctx", "05000000", "--runs", "3"]);
    assert_eq!(o.status.code(), Some(3), "the second run stopped with an error: {}", stderr(&o));
    // bss (`calls`) and the store carry over; the context is 5 again at each run; the
    // data section (bss here) follows the context.
    let want = "run 1:\nr0: 1 (0x1)\nerror: OK\nctx: 0a000000\ndata: 0100000000000000\nglobal store: 1=1\nlocal store: \n\
                run 2:\nr0: 18446744073709551614 (-2, 0xfffffffffffffffe)\nerror: ILLEGAL_MEM at insn ";
    assert!(stdout(&o).starts_with(want), "{}", stdout(&o));
    let third = "run 3:\nr0: 3 (0x3)\nerror: OK\nctx: 0a000000\ndata: 0300000000000000\nglobal store: 1=3\nlocal store: \n";
    assert!(stdout(&o).ends_with(third), "{}", stdout(&o));
    // One run: no `run` line, exit status 0.
    let o = fc_aot(&["run", &bin, "--ctx", "05000000"]);
    assert_success(&o, "one run");
    assert!(stdout(&o).starts_with("r0: 1 (0x1)\n"), "{}", stdout(&o));
    assert_eq!(fc_aot(&["run", &bin, "--runs", "0"]).status.code(), Some(2), "--runs 0 is a usage error");
}

#[test]
fn json_has_the_same_facts_one_object_per_run() {
    let tmp = TempDir::new("run-output-json");
    let bin = built(&tmp);
    let o = fc_aot(&["run", &bin, "--ctx", "05000000", "--runs", "2", "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let runs: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert_eq!(runs.len(), 2, "{}", stdout(&o));
    let first = serde_json::json!({
        "run": 1, "r0": 1, "r0_signed": 1, "error": "OK", "error_code": 0, "error_insn": null, "error_line": "OK",
        "printf": [], "app_helper_log": [], "ctx": "0a000000", "data": "0100000000000000",
        "global_store": [[1, 1]], "local_store": [],
    });
    assert_eq!(runs[0], first);
    assert_eq!((&runs[1]["r0"], &runs[1]["r0_signed"], &runs[1]["error"]), (&serde_json::json!(u64::MAX - 1), &serde_json::json!(-2), &serde_json::json!("ILLEGAL_MEM")));
    assert!(runs[1]["error_insn"].is_u64(), "{}", runs[1]);
    // printf lines and an empty context.
    build(&samples_dir(), &tmp.join("samples"), &[]);
    let (ctx, _) = &sample_table()["strings"];
    let o = fc_aot(&["run", tmp.join("samples/strings.bin").to_str().unwrap(), "--ctx", ctx, "--budget", "100", "--json"]);
    let run: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let text = stdout(&fc_aot(&["run", tmp.join("samples/strings.bin").to_str().unwrap(), "--ctx", ctx, "--budget", "100"]));
    let printf: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("printf: ")).collect();
    assert!(!printf.is_empty());
    assert_eq!(run["printf"], serde_json::json!(printf));
}
