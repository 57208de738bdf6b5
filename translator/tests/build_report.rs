//! `fc-aot build` as a firmware developer meets it (issue 14 §6-§8): it goes on past a
//! container that fails, says in one line what clang cannot compile for BPF and what to
//! do (clang's own text kept in a log), removes the outputs of sources that are gone,
//! and names containers by the one rule `translate` uses too.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn write_sources(dir: &Path, sources: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in sources {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn run_build(src: &Path, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    clang();
    fc_aot_env(&[&["build", src.to_str().unwrap(), "--out", out.to_str().unwrap()][..], extra].concat(), env)
}

/// Whether `clang` runs here (clang-19 is optional for these tests).
fn has(clang: &str) -> bool {
    Command::new(clang).arg("--version").output().is_ok_and(|o| o.status.success())
}

const SIGNED_DIVISION: &str = "int sdiv(int *ctx) { return ctx[0] / ctx[1]; }\n";

#[test]
fn build_goes_on_and_says_what_clang_cannot_compile() {
    let tmp = TempDir::new("build-report");
    let (src, out) = (tmp.join("src"), tmp.join("out"));
    write_sources(
        &src,
        &[
            ("good.c", "int good(unsigned *ctx) { return ctx[0] + 1; }\n"),
            ("sdiv.c", SIGNED_DIVISION),
            ("float.c", "int float_(int *ctx) { float x = ctx[0]; return (int)(x * 1.5f); }\n"),
            ("vla.c", "int vla(int *ctx) { char b[ctx[0]]; b[0] = 1; return b[ctx[1]]; }\n"),
            ("syntax.c", "int syntax(int *ctx) { return ctx[0] +; }\n"),
        ],
    );
    let o = run_build(&src, &out, &[], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{}: built\n", out.join("good.bin").display()));
    let err = stderr(&o);
    let line = |source: &str, what: &str| {
        format!("fc-aot: {}: {what}; clang's output: {}\n", src.join(source).display(), out.join(source.replace(".c", ".clang.log")).display())
    };
    let expected = [
        line("float.c", "clang cannot compile floating point for BPF (it needs `__floatsisf`): eBPF has no floating-point instructions; use integer or fixed-point arithmetic"),
        line("sdiv.c", "clang cannot compile signed division for BPF at --cpu v1: use --cpu v4 (needs clang 19: CLANG=clang-19) or unsigned arithmetic"),
        line("syntax.c", "clang failed (exit status: 1)"),
        line("vla.c", "clang cannot compile a variable-length array or alloca for BPF: use a fixed-size array"),
    ];
    for e in &expected {
        assert!(err.contains(e.as_str()), "missing {e}in:\n{err}");
    }
    assert!(err.ends_with("fc-aot: 4 of 5 containers failed\n"), "{err}");
    // Clang's stack dumps stay in the logs; an ordinary error's diagnostics are shown.
    assert!(!err.contains("Stack dump") && !err.contains("PLEASE"), "{err}");
    assert!(err.contains("error: expected expression"), "{err}");
    let log = std::fs::read_to_string(out.join("sdiv.clang.log")).unwrap();
    assert!(log.to_lowercase().contains("signed division"), "{log}");
    // The glue has what was built.
    let h = std::fs::read_to_string(out.join("containers.h")).unwrap();
    assert!(h.contains("fc_container_good[") && !h.contains("fc_container_sdiv"), "{h}");

    // clang 19 says it in its own words; at --cpu v4 it compiles signed division, and the
    // container's log goes once it builds.
    if has("clang-19") {
        let o = run_build(&src, &out, &[], &[("CLANG", "clang-19")]);
        assert!(stderr(&o).contains(&line("sdiv.c", "clang cannot compile signed division for BPF at --cpu v1: use --cpu v4 (needs clang 19: CLANG=clang-19) or unsigned arithmetic")), "{}", stderr(&o));
        std::fs::remove_file(src.join("float.c")).unwrap();
        std::fs::remove_file(src.join("vla.c")).unwrap();
        std::fs::remove_file(src.join("syntax.c")).unwrap();
        let o = run_build(&src, &out, &["--cpu", "v4"], &[("CLANG", "clang-19")]);
        assert_success(&o, "clang-19 --cpu v4");
        assert!(!out.join("sdiv.clang.log").exists());
    } else {
        eprintln!("clang-19 not installed: its part of the test is skipped");
    }
}

#[test]
fn diagnosis_of_cpu_v4_on_an_old_clang() {
    // clang 14 knows no v4: said once per container, in one line.
    let tmp = TempDir::new("build-v4");
    let (src, out) = (tmp.join("src"), tmp.join("out"));
    write_sources(&src, &[("sdiv.c", SIGNED_DIVISION)]);
    let version = Command::new(clang()).arg("--version").output().unwrap();
    if !stdout(&version).contains("version 14.") {
        eprintln!("clang is not clang 14: skipped");
        return;
    }
    let o = run_build(&src, &out, &["--cpu", "v4"], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("this clang does not know --cpu v4: use clang 19 (CLANG=clang-19)"), "{}", stderr(&o));
}

#[test]
fn outputs_of_sources_that_are_gone_are_removed() {
    let tmp = TempDir::new("build-stale");
    let (src, out) = (tmp.join("src"), tmp.join("out"));
    write_sources(&src, &[("keep.c", "int keep(unsigned *c) { return c[0]; }\n"), ("gone.c", "int gone(unsigned *c) { return c[0] + 2; }\n")]);
    build(&src, &out, &[]);
    // What others wrote stays: a user's file, translate's output of the container.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::write(out.join("gone.txt"), "mine too").unwrap();
    assert_success(&fc_aot(&["translate", out.join("gone.bin").to_str().unwrap(), "--target", "esp32c3"]), "translate");
    std::fs::remove_file(src.join("gone.c")).unwrap();
    let stdout = build(&src, &out, &[]);
    for ext in ["bin", "d", "o", "stamp"] {
        let path = out.join(format!("gone.{ext}"));
        assert!(stdout.contains(&format!("{}: removed (its source is gone)\n", path.display())), "{stdout}");
        assert!(!path.exists(), "{}", path.display());
    }
    for kept in ["notes.txt", "gone.txt", "gone.esp32c3.c", "keep.bin"] {
        assert!(out.join(kept).exists(), "{kept} was removed");
    }
    assert!(!std::fs::read_to_string(out.join("containers.h")).unwrap().contains("gone"));
}

#[test]
fn one_naming_rule_for_build_and_translate() {
    let tmp = TempDir::new("build-names");
    let (src, out) = (tmp.join("src"), tmp.join("out"));
    let body = |name: &str, n: u32| format!("int {name}(unsigned *c) {{ return c[0] + {n}; }}\n");
    let sources = [("my-filter.c", body("f", 1)), ("my_filter.c", body("f", 2)), ("1st.c", body("first", 3)), ("loop.c", body("step", 4))];
    write_sources(&src, &sources.iter().map(|(n, t)| (*n, t.as_str())).collect::<Vec<_>>());
    build(&src, &out, &[]);
    let h = std::fs::read_to_string(out.join("containers.h")).unwrap();
    for symbol in ["fc_container__my_2Dfilter", "fc_container_my_filter", "fc_container__1st", "fc_container__loop"] {
        assert!(h.contains(&format!("extern const uint8_t {symbol}[")), "{symbol} in\n{h}");
    }
    // The glue compiles as C, as C++ and as Rust.
    let main = "#include \"containers.h\"\nint main(void) { return (int)(fc_container_my_filter_len + fc_container__my_2Dfilter_len + fc_container__1st_len) == 0; }\n";
    std::fs::write(tmp.join("main.c"), main).unwrap();
    for (compiler, language) in [("gcc", "c"), ("g++", "c++")] {
        let o = Command::new(compiler)
            .args(["-Wall", "-Wextra", "-Werror", "-x", language])
            .arg(tmp.join("main.c"))
            .arg(out.join("containers.c"))
            .arg(format!("-I{}", out.display()))
            .arg("-o")
            .arg(tmp.join("glue"))
            .output()
            .unwrap();
        assert_success(&o, compiler);
    }
    let o = Command::new("rustc")
        .args(["--edition", "2021", "--crate-type", "lib", "--emit", "metadata", "-D", "warnings", "--crate-name", "glue"])
        .arg(out.join("containers.rs"))
        .arg("--out-dir")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_success(&o, "rustc containers.rs");
    // translate names the container by the same part.
    let o = fc_aot(&["translate", out.join("1st.bin").to_str().unwrap(), "--target", "esp32c3", "-o", "-"]);
    assert_success(&o, "translate 1st.bin");
    assert!(stdout(&o).contains("fc__1st_first("), "{}", stdout(&o));

    // Two containers whose glue would meet are refused up front, naming both files.
    write_sources(&src, &[("a.c", &body("a", 1)), ("a_len.c", &body("b", 1))]);
    let o = run_build(&src, &out, &[], &[]);
    assert_eq!(o.status.code(), Some(1));
    let expected = format!(
        "fc-aot: {}: its glue symbol fc_container_a_len is also one of {}'s (rename one of them)\n",
        src.join("a_len.c").display(),
        src.join("a.c").display()
    );
    assert_eq!(stderr(&o), expected);
}

#[test]
fn builds_at_once_into_one_folder_all_succeed() {
    // Tests (and make -j) run builds at once: no one takes another's temporary files or
    // loses what another recorded.
    let tmp = TempDir::new("build-at-once");
    let (src, out) = (tmp.join("src"), tmp.join("out"));
    let sources: Vec<(String, String)> = (0..6).map(|i| (format!("c{i}.c"), format!("int c{i}(unsigned *c) {{ return c[0] + {i}; }}\n"))).collect();
    write_sources(&src, &sources.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect::<Vec<_>>());
    clang();
    let args = ["build", src.to_str().unwrap(), "--out", out.to_str().unwrap()];
    let children: Vec<_> = (0..3).map(|_| Command::new(FC_AOT).args(args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()).collect();
    for child in children {
        assert_success(&child.wait_with_output().unwrap(), "a build among three");
    }
    let again = build(&src, &out, &[]);
    assert_eq!(again.lines().filter(|l| l.ends_with(": up to date")).count(), 6, "{again}");
    let manifest = std::fs::read_to_string(out.join(".fc-aot-outputs")).unwrap();
    for i in 0..6 {
        for ext in ["o", "bin", "d", "stamp"] {
            assert!(manifest.contains(&format!("\tc{i}.{ext}\t")), "c{i}.{ext} not in\n{manifest}");
        }
    }
    let left: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n.contains("fc-aot-tmp")).collect();
    assert!(left.is_empty(), "{left:?}");
}
