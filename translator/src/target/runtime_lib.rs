//! The firmware library of a SoC: the runtime's C API built `no_std` for the SoC's own Rust target (`libfc_runtime.a`), what `fc-aot runtime` hands out and the harness links (on the SoCs and, built for `<isa>-unknown-linux-gnu`, on the Linux ISAs).
//!
//! rustup cannot fetch the SoCs' targets here, so Debian's `rustc-web` builds them from
//! the standard library's sources (`-Zbuild-std`: core and alloc; the Linux ISAs' library
//! is made the same way, so that it is the firmware's code and no libstd of the ISA is
//! needed). The Xtensa libraries need one more step: their objects are made from LLVM IR
//! by LLVM 22 ([`super::llvm_xtensa`]), because rustc's own Xtensa objects put the
//! literal pools where GNU ld cannot reach them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::llvm_xtensa::{Output, XtensaCore};
use super::tools::{output, run_tool, ToolError};

/// Debian's Rust for the SoCs (`rustc-web`, `cargo-web`, `rust-web-src`).
const RUSTC: &str = "/usr/bin/rustc";
const CARGO: &str = "/usr/bin/cargo";
const RUST_SRC: &str = "/usr/lib/rustlib/src/rust";
const RUST_PACKAGES: &str = "rustc-web cargo-web rust-web-src";

/// The library's file name in every output folder.
pub const LIBRARY: &str = "libfc_runtime.a";

/// How a target's Rust target is named to rustc.
#[derive(Clone, Copy, Debug)]
pub enum RustTarget {
    /// A target rustc knows (`riscv32imc-unknown-none-elf`, `aarch64-unknown-linux-gnu`).
    Builtin(&'static str),
    /// A target JSON of `targets/<soc>/` (file name, text), finished through LLVM 22 for
    /// the Xtensa `core` with the SoC's `ar`.
    XtensaJson { file: &'static str, text: &'static str, core: XtensaCore, ar: &'static str },
}

/// The optimization the library is built with (cargo's `opt-level`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opt {
    /// `-O3`: what the harnesses run.
    Speed,
    /// `-Os`: smallest code.
    Size,
    /// `-O2`.
    O2,
}

impl Opt {
    fn level(self) -> &'static str {
        match self {
            Opt::Speed => "3",
            Opt::Size => "s",
            Opt::O2 => "2",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Opt::Speed => "o3",
            Opt::Size => "os",
            Opt::O2 => "o2",
        }
    }
}

/// The libraries of one SoC, built at most once per process and optimization.
pub struct LibraryCache([OnceLock<Result<PathBuf, ToolError>>; 3]);

impl LibraryCache {
    pub const fn new() -> Self {
        LibraryCache([OnceLock::new(), OnceLock::new(), OnceLock::new()])
    }
}

impl Default for LibraryCache {
    fn default() -> Self {
        Self::new()
    }
}

/// The root of the runtime's sources: this crate's workspace.
fn sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `libfc_runtime.a` of `soc` (`target`) built with `opt`, in the cache; built on first
/// use in a process (cargo rebuilds only what changed).
pub fn library(soc: &str, target: RustTarget, opt: Opt, cache: &LibraryCache) -> Result<PathBuf, ToolError> {
    let slot = match opt {
        Opt::Speed => &cache.0[0],
        Opt::Size => &cache.0[1],
        Opt::O2 => &cache.0[2],
    };
    slot.get_or_init(|| build(soc, target, opt)).clone()
}

fn build(soc: &str, target: RustTarget, opt: Opt) -> Result<PathBuf, ToolError> {
    for path in [RUSTC, CARGO, RUST_SRC] {
        if !Path::new(path).exists() {
            return Err(ToolError::Unavailable(format!("the {soc} runtime library needs {path} (install {RUST_PACKAGES}; scripts/setup does)")));
        }
    }
    let root = sources();
    if !root.join("targets/capi/Cargo.toml").is_file() {
        return Err(ToolError::Unavailable(format!(
            "the {soc} runtime library is built from the fc-aot sources, which are not at {} any more",
            root.display()
        )));
    }
    // Beside the sources it is built from (not in the object cache, which a user or a test
    // may point elsewhere): `target/fc-aot-runtime` of the checkout, or $FC_AOT_RUNTIME_DIR.
    let dir = std::env::var_os("FC_AOT_RUNTIME_DIR").filter(|d| !d.is_empty()).map_or_else(|| root.join("target/fc-aot-runtime"), PathBuf::from);
    let out = dir.join(format!("{soc}-{}", opt.name()));
    std::fs::create_dir_all(&out).map_err(|e| ToolError::Failed(format!("{}: {e}", out.display())))?;
    let mut cargo = Command::new(CARGO);
    cargo
        .current_dir(&root)
        .env("RUSTC", RUSTC)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", opt.level())
        // One module (fat LTO, one codegen unit): the runtime's crates, core and alloc are
        // optimized as one, which drops about an eighth of the code a firmware links.
        .env("CARGO_PROFILE_RELEASE_LTO", "fat")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        // The bare-metal targets abort on panic anyway; the Linux ones would unwind, which
        // needs an unwinder and a personality routine no_std has not.
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env_remove("RUSTFLAGS")
        .args(["rustc", "--quiet", "-p", "fc-runtime-capi", "--release", "--no-default-features", "--crate-type", "staticlib"])
        .args(["-Zbuild-std=core,alloc", "--target-dir"])
        .arg(dir.join(format!("cargo-{}", opt.name())));
    let library = out.join(LIBRARY);
    match target {
        RustTarget::Builtin(triple) => {
            run_tool(cargo.args(["--target", triple]))?;
            let built = dir.join(format!("cargo-{}", opt.name())).join(triple).join("release/libfc_runtime_capi.a");
            let partial = partial_path(&library);
            copy(&built, &partial)?;
            rename(&partial, &library)?;
        }
        RustTarget::XtensaJson { file, text, core, ar } => {
            let json = out.join(file);
            super::tools::write(&json, text)?;
            // The one module as LLVM IR: llc makes its assembly.
            run_tool(
                cargo
                    .arg("--target")
                    .arg(&json)
                    .args(["-Zjson-target-spec", "--", "--emit=llvm-ir,link"]),
            )?;
            let stem = file.trim_end_matches(".json");
            let deps = dir.join(format!("cargo-{}", opt.name())).join(stem).join("release/deps");
            let ir = newest_ir(&deps)?;
            // The library made from this IR is there already (cargo left the IR as it was).
            let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
            if let (Some(lib), Some(ir)) = (modified(&library), modified(&ir)) {
                if lib > ir {
                    return Ok(library);
                }
            }
            // Per process: another build of the same library may be finishing beside this one.
            let object = partial_path(&out.join("runtime.o"));
            core.finish_ir(&ir, Output::Object, &object, &partial_path(&out.join("runtime")))?;
            let partial = partial_path(&library);
            let _ = std::fs::remove_file(&partial);
            let archived = run_tool(Command::new(ar).arg("rcs").arg(&partial).arg(&object)).map_err(|e| e.install_hint("binutils-xtensa-lx106"));
            let _ = std::fs::remove_file(&object);
            archived?;
            rename(&partial, &library)?;
        }
    }
    Ok(library)
}

/// `path` with this process's id in its name: the library appears whole, by a rename.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.partial", std::process::id()));
    path.with_file_name(name)
}

fn rename(from: &Path, to: &Path) -> Result<(), ToolError> {
    std::fs::rename(from, to).map_err(|e| ToolError::Failed(format!("{} -> {}: {e}", from.display(), to.display())))
}

fn copy(from: &Path, to: &Path) -> Result<(), ToolError> {
    std::fs::copy(from, to).map(drop).map_err(|e| ToolError::Failed(format!("{} -> {}: {e}", from.display(), to.display())))
}

/// The LLVM IR rustc wrote last into `deps` (one per build of the library).
fn newest_ir(deps: &Path) -> Result<PathBuf, ToolError> {
    let entries = std::fs::read_dir(deps).map_err(|e| ToolError::Failed(format!("{}: {e}", deps.display())))?;
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ll") && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("fc_runtime_capi")))
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .ok_or_else(|| ToolError::Failed(format!("rustc wrote no LLVM IR into {}", deps.display())))
}

/// Code, read-only data and RAM (data + bss) of the library's objects, in bytes: what the
/// library can add to a firmware before the firmware's `--gc-sections` drops the unused.
pub fn sizes(library: &Path, size_tool: &str, package: &str) -> Result<(u64, u64, u64), ToolError> {
    let out = output(Command::new(size_tool).arg("-A").arg(library)).map_err(|e| e.install_hint(package))?;
    let (mut code, mut rodata, mut ram) = (0, 0, 0);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(size)) = (words.next(), words.next().and_then(|s| s.parse::<u64>().ok())) else { continue };
        if name.starts_with(".text") || name.starts_with(".literal") {
            code += size;
        } else if name.starts_with(".rodata") || name.starts_with(".srodata") {
            rodata += size;
        } else if name.starts_with(".data") || name.starts_with(".bss") || name.starts_with(".sdata") || name.starts_with(".sbss") {
            ram += size;
        }
    }
    Ok((code, rodata, ram))
}
