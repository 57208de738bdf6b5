//! The C emitter's output compiles without warnings under -Wall -Wextra -O2 with gcc and with clang.

mod common;

use common::{fc_aot, samples_dir, TempDir};

fn run_fc_aot_ok(args: &[&str]) {
    let out = fc_aot(args);
    assert!(out.status.success(), "fc-aot {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn emitted_c_is_warning_free_with_gcc_and_clang() {
    let tmp = TempDir::new("cgen-warnings");
    let out = tmp.join("out");
    run_fc_aot_ok(&["build", samples_dir().to_str().unwrap(), "--out", out.to_str().unwrap(), "--cpu", "v3"]);
    let mut checked = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let bin = entry.unwrap().path();
        if bin.extension().is_none_or(|e| e != "bin") {
            continue;
        }
        let c = bin.with_extension("c");
        run_fc_aot_ok(&["translate", bin.to_str().unwrap(), "--backend", "c", "-o", c.to_str().unwrap()]);
        for compiler in ["gcc", "clang"] {
            let status = std::process::Command::new(compiler)
                .args(["-Wall", "-Wextra", "-Werror", "-O2", "-c", "-o", "/dev/null"])
                .arg(&c)
                .status()
                .unwrap_or_else(|e| panic!("{compiler}: {e}"));
            assert!(status.success(), "{compiler} warns on {}", c.display());
        }
        checked += 1;
    }
    assert!(checked >= 12, "only {checked} containers translated");
}
