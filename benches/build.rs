//! Compiles the benchmark kernels' C natively (gcc -O2), each entry renamed
//! `native_<name>` with `-D<name>=native_<name>` so the symbols clash with nothing.
//! The helpers they call (`bpf_store_global`, ...) come from `src/native.rs`.

use std::path::PathBuf;

/// (name, folder relative to the workspace root): must match `KERNELS` in `src/kernels.rs`.
const KERNELS: [(&str, &str); 7] = [
    ("fletcher32", "containers"),
    ("crc32", "containers"),
    ("sort", "containers"),
    ("crc32_ctxtable", "benches/kernels"),
    ("store_loop", "benches/kernels"),
    ("calls", "benches/kernels"),
    ("arith64_loop", "benches/kernels"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_owned();
    let include = root.join("containers/include");
    println!("cargo:rerun-if-changed={}", include.join("fc_helpers.h").display());
    println!("cargo:rerun-if-env-changed=FC_BENCH_CC");
    // gcc unless told otherwise (the table names the compiler it was built with).
    let compiler = std::env::var("FC_BENCH_CC").unwrap_or_else(|_| "gcc".into());
    for (name, dir) in KERNELS {
        let source = root.join(dir).join(format!("{name}.c"));
        println!("cargo:rerun-if-changed={}", source.display());
        cc::Build::new()
            .compiler(&compiler)
            .file(&source)
            .include(&include)
            .opt_level(2)
            .debug(false)
            .warnings(true)
            .extra_warnings(true)
            .define(name, Some(format!("native_{name}").as_str()))
            .compile(&format!("fcbench_{name}"));
    }
    let version = std::process::Command::new(&compiler)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_owned))
        .unwrap_or_else(|| compiler.clone());
    println!("cargo:rustc-env=FC_BENCH_NATIVE_CC={version} -O2");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = std::process::Command::new(&rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or(rustc);
    println!("cargo:rustc-env=FC_BENCH_RUSTC={rustc_version}");
}
