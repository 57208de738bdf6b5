//! RFC 9669 conformance: the runner on every engine and through the plugin, and the negative suite.

use std::path::PathBuf;

use fc_aot::conformance::{run_dir, Executor, Summary, Verdict};
use fc_aot::conformance::data;
use fc_aot::target::{EngineKind, Target};
use fc_runtime::helpers::Profile;
use fc_runtime::insn::DecodeErrorKind;
use fc_runtime::stores::StoreContext;
use fc_runtime::verifier::VerifyErrorKind;
use fc_runtime::vm::{LoadError, Parts};
use fc_runtime::VirtualMachine;

/// The repository's copy of the suite (so a clean clone can run it).
fn suite(part: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance/bpf_conformance").join(part);
    assert!(dir.is_dir(), "conformance data missing at {}", dir.display());
    dir
}

#[test]
fn the_copy_equals_the_shared_suite() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/bpf_conformance");
    if !shared.is_dir() {
        // A clean clone on its own has only the copy; nothing to compare with.
        return;
    }
    for part in ["tests", "negative"] {
        let mut names: Vec<_> = std::fs::read_dir(shared.join(part)).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        for name in &names {
            let a = std::fs::read(shared.join(part).join(name)).unwrap();
            let b = std::fs::read(suite(part).join(name)).unwrap_or_default();
            assert!(a == b, "{part}/{} differs from the shared suite", name.to_string_lossy());
        }
        assert_eq!(std::fs::read_dir(suite(part)).unwrap().count(), names.len(), "{part}: extra files in the copy");
    }
}

fn run(executor: &Executor) -> (Summary, Vec<String>) {
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let summary = run_dir(&suite("tests"), executor, |name, v| match v {
        Verdict::Fail(why) => failures.push(format!("{name}: {why}")),
        Verdict::Skip(_) => skipped.push(name.to_string()),
        Verdict::Pass => {}
    })
    .unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
    (summary, skipped)
}


#[test]
fn every_engine_passes_the_suite() {
    for &engine in EngineKind::ALL {
        let (summary, skipped) = run(&Executor::Engine(engine, Target::Host, Vec::new()));
        assert_eq!(summary, Summary { passed: 312, failed: 0, skipped: 1 }, "{}", engine.name());
        assert_eq!(skipped, ["callx.data"]);
    }
}

#[test]
fn aot_passes_the_suite_on_every_cranelift_isa() {
    let runs: Vec<_> = [Target::X86_64, Target::Aarch64, Target::Riscv64gc]
        .into_iter()
        .map(|target| std::thread::spawn(move || (target, run(&Executor::Engine(EngineKind::Aot, target, Vec::new())).0)))
        .collect();
    for handle in runs {
        let (target, summary) = handle.join().expect("a target's run panicked");
        assert_eq!(summary, Summary { passed: 312, failed: 0, skipped: 1 }, "aot on {}", target.name());
    }
}

#[test]
fn the_plugin_passes_the_suite() {
    let plugin = PathBuf::from(env!("CARGO_BIN_EXE_fc-aot-plugin"));
    let (summary, _) = run(&Executor::Plugin(plugin, vec!["--engine".into(), "reference".into()]));
    assert_eq!(summary, Summary { passed: 312, failed: 0, skipped: 1 });
}

#[test]
fn the_cli_prints_the_summary_last() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fc-aot"))
        .args(["conformance", suite("tests").to_str().unwrap(), "--engine", "reference"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().last(), Some("312 passed, 0 failed, 1 skipped"));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SKIP callx.data"));
}

#[test]
fn an_empty_folder_is_a_failure() {
    let dir = std::env::temp_dir().join(format!("fc-aot-empty-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fc-aot")).args(["conformance", dir.to_str().unwrap()]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().last(), Some("0 passed, 0 failed, 0 skipped"));
    assert_eq!(out.status.code(), Some(1), "zero tests executed must fail");
}

#[test]
fn unused_field_programs_are_rejected_at_load_for_their_field() {
    let mut count = 0;
    for entry in std::fs::read_dir(suite("negative")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("unused-") {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let case = data::parse(&name, &text).unwrap();
        let program = case.program().unwrap();
        let stores = StoreContext::new();
        let mut vm = VirtualMachine::new(&stores);
        vm.environment().set_profile(Profile::Conformance);
        let parts = Parts { text: &program, data: &[], bss_len: 0, rodata: &[], functions: Vec::new() };
        assert!(!vm.load_parts(parts, 512), "{name} loaded");
        match vm.load_error() {
            Some(LoadError::Verify(errors)) => assert!(
                matches!(errors[0].kind, VerifyErrorKind::Decode(DecodeErrorKind::ReservedNotZero { .. })),
                "{name}: {errors:?}"
            ),
            other => panic!("{name}: {other:?}"),
        }
        count += 1;
    }
    assert_eq!(count, 45);
}
