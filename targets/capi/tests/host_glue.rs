//! Linker glue of the `host` SoC (targets/host): for every sample container, translate it
//! with `fc-aot translate --target host`, generate its entry table, link
//! `targets/host/run_native.c` + table + object + this crate's static library with gcc,
//! run it with the context and budget `scripts/demo` uses (`containers/samples.txt`), and
//! compare with `fc-aot run` on the interpreter: stdout byte for byte and the exit status.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{fc_aot, run, staticlib, workspace_root, TempDir, SYSTEM_LIBS};

use fc_runtime::format::{Container, LayoutChoice};
use fc_runtime::helpers::{Builtin, Profile};

/// What the static library needs from the system when linked into a C program.
const CFLAGS: [&str; 6] = ["-std=c11", "-pedantic", "-Wall", "-Wextra", "-Werror", "-O1"];

fn output(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// (name, context hex, budget) of every sample: its line in `containers/samples.txt`, which
/// `scripts/demo` reads too (a sample without one: no context, budget 200).
fn sample_runs(names: &[String]) -> Vec<(String, String, String)> {
    let samples = std::fs::read_to_string(workspace_root().join("containers/samples.txt")).expect("containers/samples.txt");
    let fields = |name: &str| samples.lines().map(|l| l.split_whitespace().collect::<Vec<_>>()).find(|f| f.first() == Some(&name));
    names.iter().map(|n| fields(n).map_or((n.clone(), String::new(), "200".into()), |f| (n.clone(), f[1].into(), f[2].into()))).collect()
}

/// `fc-aot`'s symbol part of a sample's name (docs/native-abi.md): the samples' names are
/// plain identifiers, which stay as they are (the sample names collide with nothing of
/// the emitter's; any other name is escaped, by `fc_aot::backend::symbols`).
fn symbol_part(name: &str) -> String {
    let plain = !name.is_empty() && name.split('_').all(|run| !run.is_empty() && run.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert!(plain, "`{name}` is not a plain identifier: fc-aot escapes its symbols (docs/native-abi.md)");
    name.to_string()
}

/// A C string literal for any name (octal escapes for everything but identifier characters).
fn c_string(name: &str) -> String {
    let mut s = String::from("\"");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' {
            s.push(b as char);
        } else {
            let _ = write!(s, "\\{b:03o}");
        }
    }
    s + "\""
}

/// `entries.c` for container `name` with function table `functions` (see targets/host/README.md).
fn entries_c(name: &str, functions: &[&str]) -> String {
    let prefix = format!("fc_{}", symbol_part(name));
    let mut c = format!(
        "/* Generated for container `{name}`: its translated functions, for run_native.c. */\n\
         #include \"fc_native_entries.h\"\n\nextern const uint32_t {prefix}_abi_version;\n"
    );
    for f in functions {
        let _ = writeln!(c, "uint64_t {prefix}_{}(fc_env *env, uint64_t r1, uint64_t r2);", symbol_part(f));
    }
    c += "\nconst fc_native_fn fc_native_entries[] = {\n";
    for f in functions {
        let _ = writeln!(c, "    {{{}, {prefix}_{}}},", c_string(f), symbol_part(f));
    }
    c += "};\nconst size_t fc_native_count = sizeof fc_native_entries / sizeof fc_native_entries[0];\n";
    let _ = writeln!(c, "const uint32_t *const fc_native_abi_version = &{prefix}_abi_version;");
    c
}

/// Whether the text calls a helper that the Sming profile maps to `builtin`.
fn calls_builtin(c: &Container, builtin: Builtin) -> bool {
    c.text.chunks_exact(8).any(|i| {
        let imm = u32::from_le_bytes([i[4], i[5], i[6], i[7]]);
        // `call imm` with src 0: a helper (src 1 is a local call). The second half of a
        // 16-byte lddw has opcode 0, so it never looks like a call.
        i[0] == 0x85 && i[1] >> 4 == 0 && Profile::Sming.builtin(imm) == Some(builtin)
    })
}

/// `fc-aot run`'s report without what only the command line adds to its error line (the
/// source line and the replay's explanation after `at insn N`), which the C report lacks.
fn error_lines_cut(stdout: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(stdout);
    let cut = |line: &str| match line.strip_prefix("error: ").and_then(|rest| rest.split_once(" at insn ")) {
        Some((code, rest)) => format!("error: {code} at insn {}", rest.split([' ', ':']).next().unwrap_or(rest)),
        None => line.to_string(),
    };
    text.split_inclusive('\n').map(|l| cut(l.trim_end_matches('\n')) + if l.ends_with('\n') { "\n" } else { "" }).collect::<String>().into_bytes()
}

/// One comparison: `fc-aot run` and the native program on the same arguments.
fn compare(fc_aot: &Path, exe: &Path, bin: &Path, args: &[&str], what: &str) -> (i32, String) {
    let mut interp = output(Command::new(fc_aot).arg("run").arg(bin).args(args));
    interp.stdout = error_lines_cut(&interp.stdout);
    let native = output(Command::new(exe).arg(bin).args(args));
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert_eq!(
        text(&native.stdout),
        text(&interp.stdout),
        "{what}: stdout differs (native left, fc-aot run right); stderr: {} / {}",
        text(&native.stderr),
        text(&interp.stderr)
    );
    assert_eq!(native.stdout, interp.stdout, "{what}: stdout bytes differ");
    let code = interp.status.code().expect("fc-aot run exited");
    assert_eq!(native.status.code(), Some(code), "{what}: exit status differs; stderr: {}", text(&native.stderr));
    (code, text(&native.stdout))
}

#[test]
fn native_programs_print_what_fc_aot_run_prints() {
    let tmp = TempDir::new("host-glue");
    let fc_aot = fc_aot();
    let out = tmp.join("out");
    run(Command::new(&fc_aot).arg("build").arg(workspace_root().join("containers")).arg("--out").arg(&out));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "bin").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    let sources = std::fs::read_dir(workspace_root().join("containers"))
        .unwrap()
        .filter(|e| e.as_ref().is_ok_and(|e| matches!(e.path().extension().and_then(|x| x.to_str()), Some("c" | "cpp"))))
        .count();
    assert!(names.len() >= 12 && names.len() == sources, "samples built: {names:?} of {sources} sources");

    let host = workspace_root().join("targets/host");
    let include = workspace_root().join("targets/include");
    let common = workspace_root().join("targets/common");
    let lib = staticlib();
    let runner = tmp.join("run_native.o");
    run(Command::new("gcc").args(CFLAGS).arg("-I").arg(&include).arg("-I").arg(&common).arg("-I").arg(&host).arg("-c").arg(host.join("run_native.c")).arg("-o").arg(&runner));

    let native = tmp.join("native");
    std::fs::create_dir_all(&native).unwrap();
    let mut report = String::new();
    let mut exes = Vec::new();
    let mut run_errors = 0;
    for (name, ctx, budget) in sample_runs(&names) {
        let bin = out.join(format!("{name}.bin"));
        let bytes = std::fs::read(&bin).unwrap();
        let container = Container::parse(&bytes, LayoutChoice::Auto).unwrap_or_else(|e| panic!("{name}: {e}"));
        // `fc-aot run` reads its clock for bpf_now_ms; no sample may call it, or the outputs
        // would depend on timing.
        assert!(!calls_builtin(&container, Builtin::NowMs), "{name} calls bpf_now_ms: its output is not deterministic");
        let functions: Vec<&str> = container.functions().map(|f| f.name).collect();

        // Both backends: the Cranelift object, and the C emitter's output compiled by gcc.
        let mut exe = PathBuf::new();
        for (backend, file) in [("cranelift", format!("{name}.o")), ("c", format!("{name}.c"))] {
            let translated = native.join(&file);
            run(Command::new(&fc_aot).arg("translate").arg(&bin).args(["--target", "host", "--backend", backend, "-o"]).arg(&translated));
            let entries = native.join(format!("{name}_entries.c"));
            std::fs::write(&entries, entries_c(&name, &functions)).unwrap();
            exe = native.join(format!("run_{name}_{backend}"));
            run(Command::new("gcc")
                .args(CFLAGS)
                .arg("-I")
                .arg(&include)
                .arg("-I")
                .arg(&host)
                .arg(&runner)
                .arg(&entries)
                .arg(&translated)
                .arg(&lib)
                .args(SYSTEM_LIBS)
                .arg("-o")
                .arg(&exe));

            let args = ["--ctx", ctx.as_str(), "--budget", budget.as_str()];
            let what = format!("{name} ({backend}) --budget {budget}");
            let (code, stdout) = compare(&fc_aot, &exe, &bin, &args, &what);
            let _ = writeln!(report, "== {name} {backend} (exit {code})\n{stdout}");
            // Every other function of the table, and a budget too small for the loops: the error line.
            for f in &functions[1..] {
                compare(&fc_aot, &exe, &bin, &["--ctx", &ctx, "--budget", &budget, "--function", f], &format!("{name} ({backend}) --function {f}"));
            }
            let (code, stdout) = compare(&fc_aot, &exe, &bin, &["--ctx", &ctx, "--budget", "2"], &format!("{name} ({backend}) --budget 2"));
            // Exit status 3: the container ran and stopped with an error code.
            if code == 3 {
                assert!(stdout.contains("error: OUT_OF_BRANCHES at insn "), "{stdout}");
                run_errors += 1;
            }
        }
        exes.push((name, exe, bin));
    }
    print!("{report}");
    assert!(run_errors >= 6, "only {run_errors} sample runs stopped on a budget of 2: the error path is barely covered");

    // A program linked with another container's code refuses to load it (exit 1, no output).
    let (name, exe, _) = &exes[0];
    let (other_name, _, other_bin) = &exes[1];
    let wrong = output(Command::new(exe).arg(other_bin));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(1), "{name}'s program loading {other_name}: {stderr}");
    assert!(wrong.stdout.is_empty());
    assert!(stderr.contains("function table"), "{stderr}");
}
