//! The C API from C: builds `tests/c/test_runtime.c` with gcc against `fc_runtime.h` and
//! this crate's static library, builds real containers with `fc-aot build`, runs the program.
//! Also checks the header from C++ and that header and library declare the same functions.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::*;

/// The success line `test_runtime.c` prints last.
const SUCCESS: &str = "fc_runtime C test: all ";

/// Compiles and links C (`gcc`) or C++ (`g++`) sources with the static library.
fn link(compiler: &str, std: &str, sources: &[PathBuf], exe: &Path) {
    let mut cmd = Command::new(compiler);
    cmd.args([std, "-pedantic", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(include_dir())
        .args(sources)
        .arg(staticlib())
        .args(SYSTEM_LIBS)
        .arg("-o")
        .arg(exe);
    run(&mut cmd);
}

#[test]
fn c_program_runs_real_containers() {
    let tmp = TempDir::new("c-program");
    // The samples the program uses and the test's own containers, built in one go.
    let src = tmp.join("containers");
    std::fs::create_dir_all(&src).unwrap();
    let samples = workspace_root().join("containers");
    let extra = manifest_dir().join("tests/c/containers");
    let containers = [
        samples.join("increment.c"),
        samples.join("store.c"),
        samples.join("fibonacci.c"),
        extra.join("app_helper.c"),
        extra.join("unregistered.c"),
    ];
    for c in &containers {
        std::fs::copy(c, src.join(c.file_name().unwrap())).unwrap_or_else(|e| panic!("{}: {e}", c.display()));
    }
    let out = tmp.join("out");
    run(Command::new(fc_aot()).arg("build").arg(&src).arg("--out").arg(&out));
    let bins: Vec<PathBuf> =
        containers.iter().map(|c| out.join(c.file_stem().unwrap()).with_extension("bin")).collect();

    let exe = tmp.join("test_runtime");
    link("gcc", "-std=c11", &[manifest_dir().join("tests/c/test_runtime.c")], &exe);
    let result = Command::new(&exe).args(&bins).output().expect("run test_runtime");
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(result.status.success(), "test_runtime failed ({}):\n{stderr}", result.status);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with(SUCCESS) && last.ends_with(" checks passed"), "unexpected last line: {last:?}");
}

#[test]
fn header_works_from_cxx() {
    let tmp = TempDir::new("cxx");
    let source = tmp.join("api.cpp");
    std::fs::write(
        &source,
        r#"#include "fc_runtime.h"
#include <cstdio>
#include <cstring>

static uint64_t helper(void *, fc_mem *mem, const uint64_t args[5]) {
    return fc_mem_translate(mem, args[0], 1, false) ? 1 : 0;
}
static void sink(void *, const char *, size_t) {}
static uint32_t clock_ms(void *) { return 0; }
static void lock() {}

int main() {
    fc_stores *stores = fc_stores_new();
    if (!fc_stores_set_lock(stores, lock, lock)) return 1;
    fc_vm *vm = fc_vm_new(stores);
    bool ok = vm != nullptr && fc_vm_register_helper(vm, 0x100, 1, helper, nullptr)
        && fc_vm_set_output(vm, sink, nullptr) && fc_vm_set_clock(vm, clock_ms, nullptr)
        && fc_vm_execute(vm, nullptr, 0) == FC_NO_MEMORY
        && std::strcmp(fc_error_string(fc_vm_last_error(vm)), "NO_MEMORY") == 0
        && fc_global_update(stores, 1, 2) && fc_global_get(stores, 1) == 2;
    fc_vm_free(vm);
    fc_stores_free(stores);
    std::printf("%s\n", ok ? "c++ ok" : "c++ FAILED");
    return ok ? 0 : 1;
}
"#,
    )
    .unwrap();
    let exe = tmp.join("api_cxx");
    link("g++", "-std=c++11", &[source], &exe);
    let out = run(&mut Command::new(&exe));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "c++ ok");
}

/// `fc_*` function names declared in the header (`name(` after a return type).
fn header_functions() -> Vec<String> {
    let header = std::fs::read_to_string(include_dir().join("fc_runtime.h")).unwrap();
    let mut names: Vec<String> = header
        .lines()
        .filter(|l| !l.trim_start().starts_with(['*', '/', '#']) && !l.contains("typedef"))
        .filter_map(|l| {
            let open = l.find('(')?;
            let name = l[..open].rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).next()?;
            name.starts_with("fc_").then(|| name.to_owned())
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The `extern "C"` functions a source file of the crate defines.
fn defined_in(file: &str) -> Vec<String> {
    let source = std::fs::read_to_string(manifest_dir().join("src").join(file)).unwrap();
    let mut names: Vec<String> = source
        .split("extern \"C\" fn ")
        .skip(1)
        .filter_map(|rest| rest.split('(').next())
        .filter(|name| name.starts_with("fc_"))
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// What the firmware provides to the firmware library (declared in bare_metal.rs's `extern` block).
const FIRMWARE_PROVIDES: &[&str] = &["fc_runtime_panic"];

#[test]
fn header_and_library_declare_the_same_functions() {
    let declared = header_functions();
    let host = defined_in("lib.rs");
    let firmware_only = defined_in("bare_metal.rs");
    assert!(declared.len() >= 30, "header parse found only {declared:?}");
    assert_eq!(firmware_only, ["fc_runtime_heap", "fc_runtime_init"], "the firmware library's own functions");
    let mut all: Vec<String> = host.iter().chain(&firmware_only).cloned().chain(FIRMWARE_PROVIDES.iter().map(|s| s.to_string())).collect();
    all.sort();
    assert_eq!(declared, all, "fc_runtime.h and src/lib.rs + src/bare_metal.rs disagree");
    let declared = host;
    // Every declared function resolves in the static library.
    let tmp = TempDir::new("symbols");
    let mut c = String::from("#include \"fc_runtime.h\"\n#include <stdio.h>\nint main(void) {\n");
    for name in &declared {
        c += &format!("    printf(\"%p\\n\", (void *)(uintptr_t)&{name});\n");
    }
    c += "    return 0;\n}\n";
    let source = tmp.join("symbols.c");
    std::fs::write(&source, c).unwrap();
    let exe = tmp.join("symbols");
    link("gcc", "-std=c11", &[source], &exe);
    let out = run(&mut Command::new(&exe));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), declared.len());
}
