//! `fc-aot convert` on objects it must refuse (one `fc-aot: ` line on stderr, exit 1, no output
//! file), and `fc-aot build` behaviour: clang diagnostics, duplicate stems, missing clang,
//! incremental rebuilds, the generated glue, and the seed's dump of `increment`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;

// ---------------------------------------------------------------------------------------------
// convert

/// Runs `fc-aot convert OBJECT -o OUT` and checks the failure contract; returns the line.
fn convert_fails(tmp: &TempDir, object: &Path, needles: &[&str]) -> String {
    let out = tmp.join("out.bin");
    let _ = std::fs::remove_file(&out);
    let o = fc_aot(&["convert", object.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "exit code for {}; stderr: {err}", object.display());
    assert!(stdout(&o).is_empty(), "stdout not empty: {}", stdout(&o));
    assert_eq!(err.lines().count(), 1, "expected exactly one line on stderr, got:\n{err}");
    assert!(err.ends_with('\n'));
    let line = err.trim_end().to_owned();
    assert!(line.starts_with("fc-aot: "), "{line}");
    let file_name = object.file_name().unwrap().to_str().unwrap();
    assert!(line.contains(file_name), "the message does not name the file {file_name}: {line}");
    for n in needles {
        assert!(line.contains(n), "the message does not mention {n:?}: {line}");
    }
    assert!(!out.exists(), "an output file was written despite the error");
    line
}

const GOOD: &str = "int counter;\nint f(int *c) { counter += *c; return counter; }\n";

#[test]
fn wrong_machine_from_x86_compile() {
    let tmp = TempDir::new("bad-elf-x86");
    let source = tmp.join("x86.c");
    std::fs::write(&source, GOOD).unwrap();
    let object = tmp.join("x86.o");
    let o = Command::new(clang())
        .args(["-target", "x86_64-linux-gnu", "-O2", "-c", "-nostdinc", "-isystem", clang_include()])
        .arg(&source)
        .arg("-o")
        .arg(&object)
        .output()
        .unwrap();
    assert_success(&o, "clang -target x86_64");
    let line = convert_fails(&tmp, &object, &["machine", "BPF"]);
    assert!(line.contains("X86_64") || line.contains("x86"), "{line}");
}

#[test]
fn wrong_machine_patched_e_machine() {
    let tmp = TempDir::new("bad-elf-machine");
    let object = compile_snippet(tmp.path(), "patched.c", GOOD);
    let mut bytes = std::fs::read(&object).unwrap();
    assert_eq!(u16::from_le_bytes([bytes[18], bytes[19]]), 247, "EM_BPF expected");
    bytes[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    std::fs::write(&object, &bytes).unwrap();
    convert_fails(&tmp, &object, &["machine", "BPF"]);
}

#[test]
fn unknown_relocation_type() {
    let tmp = TempDir::new("bad-elf-reloc-type");
    let object = compile_snippet(tmp.path(), "reltype.c", GOOD);
    let mut bytes = std::fs::read(&object).unwrap();
    let sections = raw_sections(&bytes);
    let rel = sections.iter().find(|s| s.name == ".rel.text").expect(".rel.text");
    assert!(rel.size >= 16);
    let r_info = u64::from_le_bytes(bytes[rel.offset + 8..rel.offset + 16].try_into().unwrap());
    assert_eq!(r_info & 0xffff_ffff, 1, "R_BPF_64_64 expected");
    let symtab = &sections[rel.link as usize];
    let symbol = raw_symbol_name(&bytes, &sections, symtab, (r_info >> 32) as usize);
    assert_eq!(symbol, "counter");
    bytes[rel.offset + 8] = 7; // r_type 7: not a BPF relocation
    std::fs::write(&object, &bytes).unwrap();
    convert_fails(&tmp, &object, &["relocation type 7", ".text", "`counter`"]);
}

#[test]
fn undefined_variable() {
    let tmp = TempDir::new("bad-elf-undef-var");
    let object =
        compile_snippet(tmp.path(), "undefvar.c", "extern int ext_var;\nint f(void *c) { (void)c; return ext_var; }\n");
    convert_fails(&tmp, &object, &["`ext_var`", "undefined"]);
}

#[test]
fn undefined_function() {
    let tmp = TempDir::new("bad-elf-undef-fn");
    let object =
        compile_snippet(tmp.path(), "undeffn.c", "extern int ext_fn(int);\nint f(int *c) { return ext_fn(*c); }\n");
    convert_fails(&tmp, &object, &["`ext_fn`", "undefined"]);
}

/// The allocated non-code section holding relocations (the pointer table) and the symbol
/// its first relocation refers to, as the message should name them.
fn pointer_table(object: &Path) -> (String, String) {
    let bytes = std::fs::read(object).unwrap();
    let sections = raw_sections(&bytes);
    let rel = sections
        .iter()
        .find(|s| s.sh_type == SHT_REL && [".rel.data", ".rel.rodata"].iter().any(|p| s.name.starts_with(p)))
        .unwrap_or_else(|| panic!("no relocated data section in {}: {sections:#?}", object.display()));
    let target = sections[rel.info as usize].name.clone();
    let r_info = u64::from_le_bytes(bytes[rel.offset + 8..rel.offset + 16].try_into().unwrap());
    let symtab = &sections[rel.link as usize];
    let mut symbol = raw_symbol_name(&bytes, &sections, symtab, (r_info >> 32) as usize);
    if symbol.is_empty() {
        // A section symbol: named after its section.
        let shndx =
            u16::from_le_bytes(bytes[symtab.offset + (r_info >> 32) as usize * 24 + 6..][..2].try_into().unwrap());
        symbol = sections[shndx as usize].name.clone();
    }
    (target, symbol)
}

#[test]
fn pointer_in_data() {
    let tmp = TempDir::new("bad-elf-ptr-data");
    let object = compile_snippet(tmp.path(), "ptrdata.c", "int x;\nint *p = &x;\nint f(int *c) { return *p + *c; }\n");
    let (section, target) = pointer_table(&object);
    assert_eq!((section.as_str(), target.as_str()), (".data", "x"));
    // The error names the variable holding the pointer.
    convert_fails(&tmp, &object, &["section .data", "`p`", "pointer"]);
}

#[test]
fn pointer_table_of_strings() {
    let tmp = TempDir::new("bad-elf-ptr-table");
    let object = compile_snippet(
        tmp.path(),
        "names.c",
        "static const char *names[] = {\"a\", \"b\"};\nint f(int *c) { return names[*c & 1][0]; }\n",
    );
    let (section, _target) = pointer_table(&object);
    assert!([".data", ".data.rel.ro", ".rodata"].contains(&section.as_str()), "{section}");
    convert_fails(&tmp, &object, &[&format!("section {section}"), "`names`", "pointer"]);
}

#[test]
fn truncated_elf() {
    let tmp = TempDir::new("bad-elf-truncated");
    let object = compile_snippet(tmp.path(), "whole.c", GOOD);
    let bytes = std::fs::read(&object).unwrap();
    for (i, len) in [bytes.len() / 2, 64, 20].into_iter().enumerate() {
        let cut = tmp.join(format!("cut{i}.o"));
        std::fs::write(&cut, &bytes[..len]).unwrap();
        convert_fails(&tmp, &cut, &[]);
    }
}

#[test]
fn empty_file() {
    let tmp = TempDir::new("bad-elf-empty");
    let object = tmp.join("empty.o");
    std::fs::write(&object, b"").unwrap();
    convert_fails(&tmp, &object, &["ELF"]);
}

#[test]
fn container_is_not_an_elf() {
    let tmp = TempDir::new("bad-elf-bin");
    let object = compile_snippet(tmp.path(), "good.c", GOOD);
    let bin = tmp.join("good.bin");
    let o = fc_aot(&["convert", object.to_str().unwrap(), "-o", bin.to_str().unwrap()]);
    assert_success(&o, "convert good.c");
    convert_fails(&tmp, &bin, &["ELF"]);
}

#[test]
fn missing_object_file() {
    let tmp = TempDir::new("bad-elf-missing");
    convert_fails(&tmp, &tmp.join("nothere.o"), &[]);
}

#[test]
fn no_global_function() {
    let tmp = TempDir::new("bad-elf-no-global");
    let object = compile_snippet(tmp.path(), "static.c", "__attribute__((used)) static int f(int *c) { return *c; }\n");
    convert_fails(&tmp, &object, &["no global function"]);
}

// ---------------------------------------------------------------------------------------------
// build

/// Runs `fc-aot build DIR --out OUT [extra]` without asserting anything.
fn run_build(dir: &Path, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut args = vec!["build", dir.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    fc_aot_env(&args, env)
}

#[test]
fn build_shows_clang_diagnostics_unchanged() {
    let tmp = TempDir::new("build-syntax-error");
    let dir = tmp.join("src");
    std::fs::create_dir(&dir).unwrap();
    let source = dir.join("broken.c");
    std::fs::write(&source, "int f(int *c) { return *c }\n").unwrap();
    // What clang itself says about the file, for comparison.
    let direct = Command::new(clang())
        .args(["-target", "bpf", "-c", "-nostdinc", "-isystem", clang_include()])
        .arg(&source)
        .arg("-o")
        .arg(tmp.join("direct.o"))
        .output()
        .unwrap();
    let direct_err = stderr(&direct);
    let diagnostic = direct_err.lines().find(|l| l.contains("error:")).expect("clang reports an error").to_owned();

    let o = run_build(&dir, &tmp.join("out"), &[], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("error:") && err.contains("broken.c"), "{err}");
    assert!(err.contains(&diagnostic), "clang's diagnostic {diagnostic:?} is not on stderr unchanged:\n{err}");
    let last = err.lines().last().unwrap();
    assert!(last.starts_with("fc-aot: ") && last.contains("broken.c"), "{last}");
    assert_eq!(err.lines().filter(|l| l.starts_with("fc-aot: ")).count(), 1, "{err}");
}

#[test]
fn build_rejects_two_sources_with_the_same_stem() {
    let tmp = TempDir::new("build-same-stem");
    let dir = tmp.join("src");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a.c"), "int a(int *c) { return *c; }\n").unwrap();
    std::fs::write(dir.join("a.cpp"), "extern \"C\" int a(int *c) { return *c; }\n").unwrap();
    let o = run_build(&dir, &tmp.join("out"), &[], &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("fc-aot: "), "{err}");
    let (c, cpp) = (dir.join("a.c").display().to_string(), dir.join("a.cpp").display().to_string());
    assert!(err.contains(&cpp), "does not name {cpp}: {err}");
    assert!(err.replace(&cpp, "").contains(&c), "does not name {c}: {err}");
}

#[test]
fn build_without_clang_says_how_to_install_it() {
    let tmp = TempDir::new("build-no-clang");
    let dir = tmp.join("src");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("one.c"), "int one(int *c) { return *c; }\n").unwrap();
    let o = run_build(&dir, &tmp.join("out"), &[], &[("CLANG", "/nonexistent/clang")]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("fc-aot: "), "{err}");
    for needle in ["/nonexistent/clang", "not found", "install"] {
        assert!(err.contains(needle), "missing {needle:?}: {err}");
    }
}

/// `OUT/NAME.bin: built|up to date` lines by container name.
fn outcomes(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .map(|l| {
            let (path, what) = l.rsplit_once(": ").unwrap_or_else(|| panic!("unexpected build output line {l:?}"));
            let name = Path::new(path).file_stem().unwrap().to_string_lossy().into_owned();
            (name, what.to_owned())
        })
        .collect()
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn build_is_incremental() {
    let tmp = TempDir::new("build-incremental");
    let dir = tmp.join("src");
    let out = tmp.join("out");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("my.h"), "#define STEP 1\n").unwrap();
    std::fs::write(dir.join("one.c"), "#include \"my.h\"\nlong one(long *c) { return *c + STEP; }\n").unwrap();
    std::fs::write(dir.join("two.c"), "long two(long *c) { return *c * 2; }\n").unwrap();
    let built = |extra: &[&str]| outcomes(&build(&dir, &out, extra));

    assert_eq!(built(&[]), expect(&[("one", "built"), ("two", "built")]));
    assert_eq!(built(&[]), expect(&[("one", "up to date"), ("two", "up to date")]));

    // Same content rewritten: still up to date (content, not time, decides).
    std::fs::write(dir.join("two.c"), "long two(long *c) { return *c * 2; }\n").unwrap();
    assert_eq!(built(&[]), expect(&[("one", "up to date"), ("two", "up to date")]));

    std::fs::write(dir.join("two.c"), "long two(long *c) { return *c * 3; }\n").unwrap();
    assert_eq!(built(&[]), expect(&[("one", "up to date"), ("two", "built")]));
    let two = std::fs::read(out.join("two.bin")).unwrap();
    assert!(two.windows(8).any(|w| w == [0x27, 0, 0, 0, 3, 0, 0, 0]), "two.bin was not rebuilt from the new source");

    std::fs::write(dir.join("my.h"), "#define STEP 7\n").unwrap();
    assert_eq!(built(&[]), expect(&[("one", "built"), ("two", "up to date")]));
    let one = std::fs::read(out.join("one.bin")).unwrap();
    assert!(one.windows(8).any(|w| w == [0x07, 0, 0, 0, 7, 0, 0, 0]), "one.bin was not rebuilt from the new header");
    assert_eq!(built(&[]), expect(&[("one", "up to date"), ("two", "up to date")]));

    assert_eq!(built(&["--cpu", "v3"]), expect(&[("one", "built"), ("two", "built")]));
    assert_eq!(built(&["--cpu", "v3"]), expect(&[("one", "up to date"), ("two", "up to date")]));
    assert_eq!(built(&["--cpu", "v3", "--layout", "sming32"]), expect(&[("one", "built"), ("two", "built")]));

    // A deleted output is rebuilt.
    std::fs::remove_file(out.join("one.bin")).unwrap();
    assert_eq!(built(&["--cpu", "v3", "--layout", "sming32"]), expect(&[("one", "built"), ("two", "up to date")]));
}

/// `fc-aot build containers --out OUT` into a fresh temp dir; returns it and the container names.
fn samples_build(test: &str) -> (TempDir, Vec<String>) {
    let tmp = TempDir::new(test);
    build(&samples_dir(), &tmp.join("out"), &[]);
    (tmp, container_names(&samples_dir()))
}

#[test]
fn glue_c_header_and_rust_match_the_bins() {
    let (tmp, names) = samples_build("build-glue");
    let out = tmp.join("out");
    let names = &names;
    let header = std::fs::read_to_string(out.join("containers.h")).unwrap();
    let rust = std::fs::read_to_string(out.join("containers.rs")).unwrap();
    let mut main = String::from(
        "#include <stdint.h>\n#include <stdio.h>\n#include \"containers.h\"\n\nint main(void)\n{\n    FILE *f;\n",
    );
    for name in names {
        let id = fc_aot::container::build::identifier(name);
        let bin = std::fs::read(out.join(format!("{name}.bin"))).unwrap();
        assert!(
            header.contains(&format!("extern const uint8_t fc_container_{id}[{}];", bin.len())),
            "containers.h lacks fc_container_{id}:\n{header}"
        );
        assert!(
            header.contains(&format!("extern const size_t fc_container_{id}_len;")),
            "containers.h lacks fc_container_{id}_len"
        );
        // containers.rs: `pub static NAME: &[u8] = &[ 0x.., ... ];` with the same bytes.
        let start =
            rust.find(&format!("pub static {id}: &[u8] = &[")).unwrap_or_else(|| panic!("containers.rs lacks {id}"));
        let body = &rust[start..];
        let body = &body[body.find("= &[").unwrap() + 4..body.find("];").unwrap()];
        let bytes: Vec<u8> = body
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| u8::from_str_radix(s.trim_start_matches("0x"), 16).unwrap())
            .collect();
        assert_eq!(bytes, bin, "containers.rs bytes of {name}");
        main.push_str(&format!(
            "    if ((uintptr_t)fc_container_{id} % 8 != 0) return 2;\n    \
             if (!(f = fopen(\"{id}.got\", \"wb\"))) return 3;\n    \
             fwrite(fc_container_{id}, 1, fc_container_{id}_len, f);\n    fclose(f);\n"
        ));
    }
    main.push_str("    return 0;\n}\n");
    std::fs::write(tmp.join("main.c"), main).unwrap();

    let gcc = std::env::var("CC").unwrap_or_else(|_| "gcc".into());
    let compile = |args: &[&str]| {
        let o = Command::new(&gcc).args(args).current_dir(tmp.path()).output().unwrap_or_else(|e| panic!("{gcc}: {e}"));
        assert_success(&o, &format!("{gcc} {}", args.join(" ")));
    };
    let glue_c = out.join("containers.c");
    let include = format!("-I{}", out.display());
    compile(&["-Wall", "-Wextra", "-Werror", "-c", glue_c.to_str().unwrap(), "-o", "containers.o"]);
    compile(&["-Wall", "-Wextra", "-Werror", &include, "main.c", "containers.o", "-o", "glue_test"]);
    let run = Command::new(tmp.join("glue_test")).current_dir(tmp.path()).output().unwrap();
    assert_success(&run, "glue_test");
    for name in names {
        let id = fc_aot::container::build::identifier(name);
        let got = std::fs::read(tmp.join(format!("{id}.got"))).unwrap();
        assert_eq!(got, std::fs::read(out.join(format!("{name}.bin"))).unwrap(), "containers.c bytes of {name}");
    }

    // containers.rs compiles warning-free as a library.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let o = Command::new(&rustc)
        .args([
            "--edition",
            "2021",
            "--crate-type",
            "lib",
            "--emit",
            "metadata",
            "-D",
            "warnings",
            "--crate-name",
            "glue",
        ])
        .arg(out.join("containers.rs"))
        .arg("--out-dir")
        .arg(tmp.path())
        .output()
        .unwrap_or_else(|e| panic!("{rustc}: {e}"));
    assert_success(&o, "rustc containers.rs");
}

fn dump_increment(test: &str) -> String {
    let (tmp, _) = samples_build(test);
    let o = fc_aot(&["dump", tmp.join("out/increment.bin").to_str().unwrap()]);
    assert_success(&o, "fc-aot dump increment.bin");
    expand_tabs(&stdout(&o))
}

#[test]
fn increment_dump_matches_the_expected_copy() {
    let expected = std::fs::read_to_string(data_dir().join("increment.dump")).unwrap();
    assert_eq!(dump_increment("dump-copy"), expected);
}

#[test]
fn increment_dump_matches_the_shared_expected_file() {
    let shared_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared");
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/expected/increment.dump");
    if !Path::new(shared_dir).exists() {
        eprintln!("{shared_dir} does not exist (clean clone): compared against tests/data/increment.dump only");
        return;
    }
    let expected = std::fs::read_to_string(shared).unwrap_or_else(|e| {
        panic!("{shared}: {e}: the seed's expected dump of `increment` is missing from the shared folder")
    });
    let copy = std::fs::read_to_string(data_dir().join("increment.dump")).unwrap();
    assert_eq!(copy, expected, "tests/data/increment.dump differs from {shared}; refresh the copy");
    assert_eq!(dump_increment("dump-shared"), expected);
}

#[test]
fn expand_tabs_is_expand_t8() {
    assert_eq!(expand_tabs("a\tb\n\tc\nabcdefgh\ti\n"), "a       b\n        c\nabcdefgh        i\n");
}
