//! The firmware library of a SoC: the runtime's C API built `no_std` for the SoC's own Rust target (`libfc_runtime.a`), what `fc-aot runtime` hands out and the harness links (on the SoCs and, built for `<isa>-unknown-linux-gnu`, on the Linux ISAs).
//!
//! rustup cannot fetch the SoCs' targets here, so Debian's `rustc-web` builds them from
//! the standard library's sources (`-Zbuild-std`: core and alloc; the Linux ISAs' library
//! is made the same way, so that it is the firmware's code and no libstd of the ISA is
//! needed). Xtensa LX106 needs two more steps:
//! its objects are made from LLVM IR by LLVM 22's `llc` and `llvm-mc`, with each
//! function's literal pool moved into its literal section ([`literal_sections`]),
//! because the assembly LLVM writes puts the pools where GNU ld cannot reach them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::tools::{output, run_tool, ToolError};

/// Debian's Rust for the SoCs (`rustc-web`, `cargo-web`, `rust-web-src`).
const RUSTC: &str = "/usr/bin/rustc";
const CARGO: &str = "/usr/bin/cargo";
const RUST_SRC: &str = "/usr/lib/rustlib/src/rust";
const RUST_PACKAGES: &str = "rustc-web cargo-web rust-web-src";
/// LLVM 22, whose Xtensa backend the LX106 library is finished with.
const LLVM_BIN: &str = "/usr/lib/llvm-22/bin";

/// The library's file name in every output folder.
pub const LIBRARY: &str = "libfc_runtime.a";

/// How a target's Rust target is named to rustc.
#[derive(Clone, Copy, Debug)]
pub enum RustTarget {
    /// A target rustc knows (`riscv32imc-unknown-none-elf`, `aarch64-unknown-linux-gnu`).
    Builtin(&'static str),
    /// A target JSON of `targets/<soc>/` (file name, text), finished through LLVM 22 for
    /// the Xtensa CPU `llvm_cpu` with the SoC's `ar`.
    XtensaJson { file: &'static str, text: &'static str, llvm_cpu: &'static str, ar: &'static str },
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
        RustTarget::XtensaJson { file, text, llvm_cpu, ar } => {
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
            let llc = format!("{LLVM_BIN}/llc");
            let mc = format!("{LLVM_BIN}/llvm-mc");
            // Per process: another build of the same library may be finishing beside this one.
            let (asm, fixed, object) = (partial_path(&out.join("runtime.s")), partial_path(&out.join("runtime-literals.s")), partial_path(&out.join("runtime.o")));
            let llvm = |e: ToolError| e.install_hint("llvm-22");
            run_tool(Command::new(&llc).args(["-march=xtensa", &format!("-mcpu={llvm_cpu}"), "-O2", "-filetype=asm"]).arg(&ir).arg("-o").arg(&asm)).map_err(llvm)?;
            let text = std::fs::read_to_string(&asm).map_err(|e| ToolError::Failed(format!("{}: {e}", asm.display())))?;
            let moved = literal_sections(&text).map_err(|e| ToolError::Failed(format!("{}: {e}", asm.display())))?;
            super::tools::write(&fixed, moved)?;
            run_tool(Command::new(&mc).args(["-triple=xtensa", &format!("-mcpu={llvm_cpu}"), "-filetype=obj"]).arg(&fixed).arg("-o").arg(&object)).map_err(llvm)?;
            let partial = partial_path(&library);
            let _ = std::fs::remove_file(&partial);
            run_tool(Command::new(ar).arg("rcs").arg(&partial).arg(&object)).map_err(|e| e.install_hint("binutils-xtensa-lx106"))?;
            for scratch in [&asm, &fixed, &object] {
                let _ = std::fs::remove_file(scratch);
            }
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

/// LLVM's Xtensa assembly with every function's literal pool written into the literal
/// section of the function's section (`.text.X` -> `.literal.X`), 4-aligned, the way GNU
/// as writes them.
///
/// LLVM writes a function's pool (`.literal_position`, then `.literal LABEL, VALUE`
/// lines) before it switches to the function's section, so its own assembler puts the
/// pool at the end of whatever section came before, unaligned; GNU ld then refuses the
/// `l32r`s ("misaligned literal target", "literal placed after use"). Pools inside the
/// text sections, which llvm-mc then resolves itself, are no way out either: LLVM 22
/// computes some of those `l32r` offsets 4 bytes off. With the pools in literal sections
/// every `l32r` is a relocation GNU ld resolves, and ld places each literal section
/// before its text section (`*(.literal .text .literal.* .text.*)`, as the ESP8266
/// linker scripts have it), within `l32r`'s 256 KiB reach.
pub fn literal_sections(asm: &str) -> Result<String, String> {
    let mut out = String::with_capacity(asm.len() + asm.len() / 8);
    let mut pending: Vec<(&str, &str)> = Vec::new();
    let mut section = ".text";
    for (n, line) in asm.lines().enumerate() {
        let t = line.trim();
        if t == ".literal_position" {
            continue;
        }
        if let Some(rest) = t.strip_prefix(".literal ") {
            let (label, value) = rest.split_once(',').ok_or_else(|| format!("line {}: `{t}` has no value", n + 1))?;
            pending.push((label.trim(), value.trim()));
            continue;
        }
        if t == ".text" {
            section = ".text";
        } else if let Some(rest) = t.strip_prefix(".section") {
            section = rest.trim().split([',', ' ', '\t']).next().unwrap_or_default();
        }
        // The function the pool belongs to starts here, in the section now current.
        if !pending.is_empty() && t.starts_with(".type") && t.ends_with("@function") {
            let Some(suffix) = section.strip_prefix(".text") else {
                return Err(format!("line {}: a function in section {section}, which has no literal section", n + 1));
            };
            out.push_str(&format!("\t.section\t.literal{suffix},\"ax\",@progbits\n\t.p2align\t2\n"));
            for (label, value) in pending.drain(..) {
                out.push_str(&format!("{label}:\n\t.long\t{value}\n"));
            }
            out.push_str("\t.previous\n");
        }
        out.push_str(line);
        out.push('\n');
    }
    if !pending.is_empty() {
        return Err(format!("{} literals belong to no function (the first: {})", pending.len(), pending[0].0));
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_move_into_the_literal_section_of_their_function() {
        let asm = "\t.literal_position\n\t.literal .LCPI0_0, foo+4\n\t.text\n\t.section\t.text.unlikely.,\"ax\",@progbits\n\t.p2align\t2\n\t.type\tf,@function\nf:\n\tl32r\ta8, .LCPI0_0\n";
        let fixed = literal_sections(asm).unwrap();
        let want = "\t.text\n\t.section\t.text.unlikely.,\"ax\",@progbits\n\t.p2align\t2\n\t.section\t.literal.unlikely.,\"ax\",@progbits\n\t.p2align\t2\n.LCPI0_0:\n\t.long\tfoo+4\n\t.previous\n\t.type\tf,@function\nf:\n\tl32r\ta8, .LCPI0_0\n";
        assert_eq!(fixed, want);
    }

    #[test]
    fn a_pool_without_a_function_is_an_error() {
        assert!(literal_sections("\t.literal .LCPI9_0, 7\n").unwrap_err().contains(".LCPI9_0"));
        assert!(literal_sections("\t.literal .LCPI9_0\n").unwrap_err().contains("line 1"));
        let in_data = "\t.literal .LCPI1_0, 7\n\t.section\t.rodata,\"a\"\n\t.type\tg,@function\n";
        assert!(literal_sections(in_data).unwrap_err().contains(".rodata"));
    }
}
