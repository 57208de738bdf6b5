//! `fc-aot run X.bin --target T` on every engine/target pair outside the host: the
//! runtime on the SoCs (engines `c`, `interp`, `reference`), `aot` on the other Linux
//! ISAs, under qemu, print exactly what `--engine reference --target host` prints for
//! the same container, and what a target cannot run exits 4 saying why.
//!
//! Needs clang and the cross compilers and qemu-user of `scripts/setup`. The qemu runs
//! are kept few: every sample on one SoC and one Linux ISA, three on the others.

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Every sample, built once per test.
fn samples(tmp: &TempDir) -> PathBuf {
    let out = tmp.join("out");
    build(&samples_dir(), &out, &[]);
    out
}

/// `fc-aot run BIN ARGS` on the reference interpreter and on `target` (its default
/// engine): the same stdout and exit status; returns the stdout.
fn same_as_the_reference(bin: &Path, args: &[&str], target: &str) -> String {
    same_as_the_reference_on(bin, args, target, None)
}

/// [`same_as_the_reference`] with `engine` there (its default when `None`).
fn same_as_the_reference_on(bin: &Path, args: &[&str], target: &str, engine: Option<&str>) -> String {
    let bin = bin.to_str().unwrap();
    let reference = fc_aot(&[&["run", bin, "--engine", "reference"][..], args].concat());
    let engine_args = engine.map_or_else(Vec::new, |e| vec!["--engine", e]);
    let there = fc_aot(&[&["run", bin, "--target", target][..], &engine_args, args].concat());
    let what = format!("{bin} {args:?} on {target}");
    assert_eq!(stdout(&there), stdout(&reference), "{what}: stdout (left) against the reference's (right); stderr: {}", stderr(&there));
    assert_eq!(there.status.code(), reference.status.code(), "{what}: exit status; stderr: {}", stderr(&there));
    stdout(&there)
}

/// Each sample with its context and budget from containers/samples.txt, two runs.
fn samples_match(out: &Path, target: &str, names: Option<&[&str]>) {
    samples_match_on(out, target, None, names)
}

/// [`samples_match`] with `engine` on the target.
fn samples_match_on(out: &Path, target: &str, engine: Option<&str>, names: Option<&[&str]>) {
    let table = sample_table();
    let mut checked = 0;
    for (name, (ctx, budget)) in &table {
        if names.is_some_and(|n| !n.contains(&name.as_str())) {
            continue;
        }
        let budget = budget.to_string();
        let text = same_as_the_reference_on(&out.join(format!("{name}.bin")), &["--ctx", ctx, "--budget", &budget, "--runs", "2"], target, engine);
        assert!(text.contains("run 2:\n"), "{name}: {text}");
        checked += 1;
    }
    assert_eq!(checked, names.map_or(table.len(), <[_]>::len), "samples checked on {target}");
}

#[test]
fn every_sample_runs_on_esp32c3_and_aarch64_as_on_the_host() {
    let tmp = TempDir::new("run-targets-all");
    let out = samples(&tmp);
    let soc = std::thread::spawn({
        let out = out.clone();
        move || samples_match(&out, "esp32c3", None)
    });
    samples_match(&out, "aarch64", None);
    soc.join().expect("esp32c3");
}

#[test]
fn some_samples_run_on_the_other_targets_as_on_the_host() {
    let tmp = TempDir::new("run-targets-some");
    let out = samples(&tmp);
    // Stores and data (store), printf (strings), a negative r0 (arith64).
    let some: &[&str] = &["store", "strings", "arith64"];
    let runs: Vec<_> = ["rp2040", "esp8266", "x86_64", "riscv64gc"]
        .into_iter()
        .map(|target| {
            let out = out.clone();
            std::thread::spawn(move || samples_match(&out, target, Some(some)))
        })
        .collect();
    for run in runs {
        run.join().expect("a target's samples");
    }
}

#[test]
fn every_sample_runs_on_the_runtime_of_each_soc_as_on_the_host() {
    // The runtime's own interpreters there (one program runs them all: nothing to link).
    let tmp = TempDir::new("run-targets-runtime");
    let out = samples(&tmp);
    let runs: Vec<_> = [("esp32c3", "interp"), ("rp2040", "interp"), ("esp8266", "interp"), ("esp32c3", "reference")]
        .into_iter()
        .map(|(target, engine)| {
            let out = out.clone();
            std::thread::spawn(move || samples_match_on(&out, target, Some(engine), None))
        })
        .collect();
    for run in runs {
        run.join().expect("a SoC's samples");
    }
}

#[test]
fn function_stack_budget_profile_and_json_work_on_a_target() {
    let tmp = TempDir::new("run-targets-options");
    let out = samples(&tmp);
    let (globalcall, store, sort) = (out.join("globalcall.bin"), out.join("store.bin"), out.join("sort.bin"));
    let text = same_as_the_reference(&globalcall, &["--function", "scale", "--ctx", "0500000007000000"], "esp32c3");
    assert!(text.starts_with("r0: "), "{text}");
    same_as_the_reference(&store, &["--ctx", "0700000063000000", "--helpers", "riot", "--stack", "1024"], "riscv64gc");
    same_as_the_reference(&store, &["--ctx", "0700000063000000", "--json", "--runs", "2"], "rp2040");
    // A budget too small: OUT_OF_BRANCHES at the same slot, exit status 3; and no bound at all.
    let (ctx, _) = &sample_table()["sort"];
    let text = same_as_the_reference(&sort, &["--ctx", ctx, "--budget", "100"], "esp8266");
    assert!(text.contains("error: OUT_OF_BRANCHES at insn"), "{text}");
    same_as_the_reference(&sort, &["--ctx", ctx, "--budget", "off"], "x86_64");
    // No such function: the host's message and status.
    let o = fc_aot(&["run", globalcall.to_str().unwrap(), "--function", "nope", "--target", "aarch64"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no function `nope` (have: globalcall, scale)"), "{}", stderr(&o));
}

#[test]
fn what_a_target_cannot_run_exits_4_saying_why() {
    let tmp = TempDir::new("run-targets-refused");
    let app = "#include <fc_helpers.h>\nFC_APP_HELPER(uint64_t, relay, 0x100, uint64_t a);\n\
               int app(void *ctx) { (void)ctx; return (int)relay(3); }\nint plain(void *ctx) { (void)ctx; return 7; }\n";
    let app = build_sources(&tmp, &[("app.c", app), ("endless.c", ENDLESS_C)]);
    let endless = tmp.join("out/endless.bin");
    let (app, endless) = (app.as_str(), endless.to_str().unwrap());

    // An application helper: the host runs it, the harness has none.
    assert_success(&fc_aot(&["run", app, "--app-helper", "0x100:1=echo"]), "on the host");
    let o = fc_aot(&["run", app, "--app-helper", "0x100:1=echo", "--target", "esp32c3"]);
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(stderr(&o), format!("fc-aot: {app}: the esp32c3 harness has no helper 0x100 (app_helper): run it on --target host\n"));
    // The runtime there verifies the whole container: not even a function that does not
    // reach the call runs, on a SoC or a Linux ISA.
    for (target, engine) in [("rp2040", "interp"), ("aarch64", "aot")] {
        let o = fc_aot(&["run", app, "--app-helper", "0x100:1=echo", "--function", "plain", "--target", target, "--engine", engine]);
        assert_eq!(o.status.code(), Some(4), "{target}: {}", stderr(&o));
        assert!(stderr(&o).contains(&format!("the {target} harness has no helper 0x100")), "{target}: {}", stderr(&o));
    }
    // More stack than the runtime's arena there holds (4 MiB on the Linux ISAs); a stack
    // of 1 MiB fits.
    let o = fc_aot(&["run", endless, "--stack", "4194304", "--target", "aarch64"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("the aarch64 harness's arena is too small for the container: cannot allocate the 4194304 bytes of stack"), "{}", stderr(&o));
    same_as_the_reference(Path::new(endless), &["--stack", "1048576"], "aarch64");
    // --timeout: qemu is stopped, exit status 4.
    let started = std::time::Instant::now();
    let o = fc_aot(&["run", endless, "--budget", "off", "--timeout", "0.5", "--target", "rp2040"]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(4), "fc-aot: run stopped by --timeout after 0.5 s\n".to_string()));
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    // A cross compiler that is not installed: the package to install.
    let empty = tmp.join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    for (target, package) in [("esp8266", "gcc-xtensa-lx106"), ("riscv64gc", "gcc-riscv64-linux-gnu"), ("esp32", "clang-22")] {
        let o = fc_aot_env(&["run", endless, "--target", target], &[("PATH", empty.to_str().unwrap())]);
        assert_eq!(o.status.code(), Some(4), "{target}: {}", stderr(&o));
        assert!(stderr(&o).contains(&format!("is not installed (install {package})")), "{target}: {}", stderr(&o));
    }
    // A pair that does not exist is a usage error naming what runs there.
    let o = fc_aot(&["run", app, "--engine", "jit", "--target", "rp2040"]);
    assert_eq!((o.status.code(), stderr(&o)), (Some(2), "fc-aot: engine `jit` does not run on target `rp2040` (there: c, interp, reference)\n".to_string()));
}

#[test]
fn run_help_names_the_engines_of_each_target() {
    let help = stdout(&fc_aot(&["run", "--help"]));
    for (target, engine) in [
        ("esp32c3", "Engines c, interp, reference:"),
        ("rp2040", "Engines c, interp, reference:"),
        ("esp8266", "Engines c, interp, reference:"),
        ("esp32", "Engines c, interp, reference:"),
        ("esp32s2", "Engines c, interp, reference:"),
        ("esp32s3", "Engines c, interp, reference:"),
        ("x86_64", "Engine aot:"),
        ("aarch64", "Engine aot:"),
        ("riscv64gc", "Engine aot:"),
    ] {
        let line = help.lines().find(|l| l.trim_start().starts_with(&format!("- {target}:"))).unwrap_or_else(|| panic!("no {target} in\n{help}"));
        assert!(line.contains(engine), "{line}");
    }
    assert!(!help.contains("conformance data"), "{help}");
}
