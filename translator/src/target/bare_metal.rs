//! What the bare-metal SoC targets of the `c` engine share (ESP32-C3, RP2040, ESP8266):
//! the emitted C cross-compiled with the SoC's gcc, linked with its start-up, crt and the
//! shared harness (no libc) and run under qemu-user. Each SoC is one [`Soc`] description
//! (see `esp32c3.rs`, `rp2040.rs`, `esp8266.rs`).
//!
//! The start-up, crt and harness are compiled once per process and SoC and only linked
//! per program; every program gets its own scratch folder, so runs may go in parallel.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use fc_runtime::format::Container;
use fc_runtime::helpers::{Helpers, Profile};
use fc_runtime::verifier::VerifiedProgram;

use crate::cgen::{emit, CInput};
use crate::engines::Execution;
use crate::host_native::{run_tool, scratch};

/// The sources every SoC shares: the harness (plain C over crt.h), the ABI and hex
/// headers, and the crt's interface and SoC-independent part.
pub const HARNESS_C: &str = include_str!("../../targets/esp32c3/harness.c");
pub const ABI_H: &str = include_str!("../../targets/include/fc_abi.h");
pub const HEX_H: &str = include_str!("../../targets/common/fc_hex.h");
pub const CRT_H: &str = include_str!("../../targets/common/crt.h");
pub const CRT_COMMON_C: &str = include_str!("../../targets/common/crt_common.c");

/// One bare-metal SoC: its toolchain, its qemu and the sources it is built from.
pub struct Soc {
    /// Short name (`esp32c3`): names the per-process object folder.
    pub name: &'static str,
    /// The cross compiler and the Debian package that has it.
    pub gcc: &'static str,
    pub gcc_package: &'static str,
    /// Every compile and link.
    pub cflags: &'static [&'static str],
    /// qemu-user and the arguments before the program.
    pub qemu: &'static str,
    pub qemu_args: &'static [&'static str],
    /// The SoC's own sources (start.S, crt.c: its system calls, extra helpers), written to the
    /// object folder next to the shared ones.
    pub sources: &'static [(&'static str, &'static str)],
    /// Sources compiled once per process besides start.S, crt.c and the shared
    /// harness.c, with their extra flags (linked after crt.c, before harness.c).
    pub extra_objects: &'static [(&'static str, &'static [&'static str])],
    /// The address map and the placement fragments, as linker scripts (name, text).
    pub linker_scripts: &'static [(&'static str, &'static str)],
    /// The objects, compiled on first use.
    pub cache: ObjectCache,
}

/// The start-up, crt and harness objects of one SoC, compiled once per process.
pub struct ObjectCache(OnceLock<Result<Objects, String>>);

impl ObjectCache {
    pub const fn new() -> Self {
        ObjectCache(OnceLock::new())
    }
}

impl Default for ObjectCache {
    fn default() -> Self {
        Self::new()
    }
}

/// The compiled objects and the folder holding them and the linker scripts.
pub struct Objects {
    dir: PathBuf,
    files: Vec<PathBuf>,
}

impl Soc {
    fn objects(&self) -> Result<&Objects, String> {
        self.cache.0.get_or_init(|| self.build_objects()).as_ref().map_err(Clone::clone)
    }

    fn build_objects(&self) -> Result<Objects, String> {
        // A folder of its own, kept for the life of the process (the objects are linked from it).
        let dir = std::env::temp_dir().join(format!("fc-aot-{}-{}", self.name, std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let shared = [("harness.c", HARNESS_C), ("fc_abi.h", ABI_H), ("fc_hex.h", HEX_H), ("crt.h", CRT_H), ("crt_common.c", CRT_COMMON_C)];
        for &(name, text) in self.sources.iter().chain(&shared).chain(self.linker_scripts) {
            std::fs::write(dir.join(name), text).map_err(|e| format!("{}: {e}", dir.join(name).display()))?;
        }
        let mut files = Vec::new();
        let start_and_crt: [(&str, &[&str]); 2] = [
            ("start.S", &[]),
            // memset/memcpy must not be turned into calls of themselves.
            ("crt.c", &["-fno-builtin", "-fno-tree-loop-distribute-patterns"]),
        ];
        let harness: [(&str, &[&str]); 1] = [("harness.c", &[])];
        for &(source, extra) in start_and_crt.iter().chain(self.extra_objects).chain(&harness) {
            let object = dir.join(source.replace(['.'], "_") + ".o");
            run_tool(Command::new(self.gcc).args(self.cflags).args(extra).arg("-I").arg(&dir).arg("-c").arg(dir.join(source)).arg("-o").arg(&object))
                .map_err(|e| format!("{e} (install {})", self.gcc_package))?;
            files.push(object);
        }
        Ok(Objects { dir, files })
    }

    /// Compiles `c_source` (a translated container named `prog` exporting `main`) and
    /// links it with the harness into `dir/prog`, with the SoC's address map and the
    /// linker script `script` (one of `linker_scripts`: where the translated functions go).
    pub fn link(&self, c_source: &str, dir: &Path, script: &str) -> Result<PathBuf, String> {
        let objects = self.objects()?;
        let (source, exe) = (dir.join("prog.c"), dir.join("prog"));
        std::fs::write(&source, c_source).map_err(|e| format!("{}: {e}", source.display()))?;
        run_tool(
            Command::new(self.gcc)
                .args(self.cflags)
                // One section per function: `.text.fc_prog_*`, which fc_container.ld places.
                .args(["-ffunction-sections", "-fdata-sections"])
                .arg("-L")
                .arg(&objects.dir)
                .arg("-T")
                .arg(script)
                .arg("-o")
                .arg(&exe)
                .args(&objects.files)
                .arg(&source)
                // 64-bit division and shifts on a 32-bit core (what the SoC's extra sources
                // or ROM do not provide).
                .arg("-lgcc"),
        )?;
        Ok(exe)
    }

    /// Compiles `c_source` alone into `dir/prog.o` with the link's flags (for disassembly).
    pub fn compile_object(&self, c_source: &str, dir: &Path) -> Result<PathBuf, String> {
        let (source, object) = (dir.join("prog.c"), dir.join("prog.o"));
        std::fs::write(&source, c_source).map_err(|e| format!("{}: {e}", source.display()))?;
        run_tool(Command::new(self.gcc).args(self.cflags).args(["-ffunction-sections", "-fdata-sections", "-c"]).arg(&source).arg("-o").arg(&object))
            .map_err(|e| format!("{e} (install {})", self.gcc_package))?;
        Ok(object)
    }

    /// Runs a linked program under qemu; returns whether it exited 0 and its stdout.
    pub fn run(&self, exe: &Path, args: &[String]) -> Result<(bool, String), String> {
        let out = Command::new(self.qemu)
            .args(self.qemu_args)
            .arg(exe)
            .args(args)
            .output()
            .map_err(|e| format!("{}: {e} (install qemu-user)", self.qemu))?;
        Ok((out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned()))
    }

    /// Bare program text the conformance way (profile `conformance`, 512-byte frames,
    /// budget 1 << 24, r1 = a copy of `mem`), on the SoC under qemu, linked with `script`.
    pub fn run_conformance(&self, program: &[u8], mem: &[u8], script: &str) -> Execution {
        let arity = |id| fc_runtime::helpers::ConformanceHelpers.arity(id);
        let config = fc_runtime::verifier::Config { max_call_depth: fc_runtime::verifier::DEFAULT_MAX_CALL_DEPTH, helper_arity: &arity };
        let verified = match fc_runtime::verifier::verify(program, &[], &config) {
            Ok(v) => v,
            Err(errors) => return Execution::Rejected(errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")),
        };
        let source = prog_c(&verified, &[], 0, &[]);
        let dir = match scratch() {
            Ok(d) => d,
            Err(e) => return Execution::Failed(e),
        };
        let args: Vec<String> = if mem.is_empty() { Vec::new() } else { vec![hex(mem)] };
        let outcome = self.link(&source, &dir, script).and_then(|exe| self.run(&exe, &args));
        let _ = std::fs::remove_dir_all(&dir);
        match outcome {
            Ok((true, out)) => {
                let out = out.trim();
                match u64::from_str_radix(out.trim_start_matches("0x"), 16) {
                    Ok(r0) => Execution::Returned(r0),
                    Err(_) => Execution::Failed(format!("harness printed `{out}`")),
                }
            }
            Ok((false, out)) => Execution::Failed(out.trim().to_string()),
            Err(e) => Execution::Failed(e),
        }
    }

    /// Runs a container's entry function `runs` times in one process (data and stores
    /// persist between runs, the context starts from `ctx` each time) on the SoC under
    /// qemu, with the harness's minimal `sming` helpers; `budget` None means no bound.
    pub fn run_container(&self, container: &Container, ctx: &[u8], budget: Option<u32>, runs: u32, script: &str) -> Result<Vec<Run>, String> {
        let program = crate::translate::verify(container, Profile::Sming)?;
        let source = prog_c(&program, container.data, container.header.bss_len as usize, container.rodata);
        let dir = scratch()?;
        let mut args = vec![hex(ctx), format!("-n{runs}"), "-v".to_string()];
        args.push(budget.map_or_else(|| "-boff".to_string(), |b| format!("-b{b}")));
        let outcome = self.link(&source, &dir, script).and_then(|exe| self.run(&exe, &args));
        let _ = std::fs::remove_dir_all(&dir);
        let (_, out) = outcome?;
        let parsed = parse_runs(&out)?;
        if parsed.len() != runs as usize {
            return Err(format!("{} runs reported, {runs} expected; output:\n{out}", parsed.len()));
        }
        Ok(parsed)
    }
}

/// The C of a verified program as container `prog` with its first entry as `main`.
pub fn prog_c(program: &VerifiedProgram, data: &[u8], bss_len: usize, rodata: &[u8]) -> String {
    let functions = vec![("main".to_string(), program.entries()[0])];
    emit(&CInput { container: "prog", program, functions: &functions, data, bss_len, rodata })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What one run of a container on the harness showed (`harness.c -v`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Run {
    /// r0 when the run succeeded.
    pub r0: Option<u64>,
    /// The error code (0 when none) and the slot it stopped at.
    pub error: i32,
    pub error_pc: Option<usize>,
    /// printf output, one entry per line, without the newline.
    pub printf: Vec<String>,
    pub ctx: Vec<u8>,
    /// The data section (with bss) after the run.
    pub data: Vec<u8>,
    pub globals: Vec<(u32, u32)>,
    pub locals: Vec<(u32, u32)>,
}

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    crate::conformance::parse_plugin_hex(text)
}

fn parse_store(text: &str) -> Result<Vec<(u32, u32)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (k, v) = e.split_once('=').ok_or_else(|| format!("store entry `{e}`"))?;
            Ok((k.parse().map_err(|_| format!("key `{k}`"))?, v.parse().map_err(|_| format!("value `{v}`"))?))
        })
        .collect()
}

/// Parses the `-v` output of `runs` runs.
fn parse_runs(out: &str) -> Result<Vec<Run>, String> {
    let mut runs = Vec::new();
    let mut run = Run::default();
    for line in out.lines() {
        if let Some(text) = line.strip_prefix("printf: ") {
            run.printf.push(text.to_string());
        } else if let Some(h) = line.strip_prefix("ctx:") {
            run.ctx = parse_hex(h)?;
        } else if let Some(h) = line.strip_prefix("data:") {
            run.data = parse_hex(h)?;
        } else if let Some(s) = line.strip_prefix("global store:") {
            run.globals = parse_store(s)?;
        } else if let Some(s) = line.strip_prefix("local store:") {
            run.locals = parse_store(s)?;
        } else if let Some(h) = line.strip_prefix("0x") {
            run.r0 = Some(u64::from_str_radix(h, 16).map_err(|_| format!("r0 line `{line}`"))?);
            runs.push(std::mem::take(&mut run));
        } else if let Some(rest) = line.strip_prefix("error ") {
            let (code, pc) = rest.split_once(" at insn ").ok_or_else(|| format!("error line `{line}`"))?;
            run.error = code.parse().map_err(|_| format!("error line `{line}`"))?;
            run.error_pc = Some(pc.parse().map_err(|_| format!("error line `{line}`"))?);
            runs.push(std::mem::take(&mut run));
        } else {
            return Err(format!("harness printed `{line}`"));
        }
    }
    Ok(runs)
}

/// The public functions of a SoC module (`esp32c3`, `rp2040`, `esp8266`) over its `SOC`
/// and its `Placement` enum: `Placement::script` (which linker script each placement
/// links with), `link`, `run`, `run_conformance` (placement `Flash`) and `run_container`.
/// `on` names the core and the qemu, for the documentation.
macro_rules! soc_functions {
    (placements: { $($placement:ident => $script:literal),+ $(,)? }, on: $on:literal $(,)?) => {
        impl Placement {
            fn script(self) -> &'static str {
                match self {
                    $(Placement::$placement => $script,)+
                }
            }
        }

        /// Compiles `c_source` (a translated container named `prog` exporting `main`) and
        /// links it with the harness into `dir/prog`, with the SoC's address map and the
        /// translated functions placed per `placement`.
        pub fn link(c_source: &str, dir: &std::path::Path, placement: Placement) -> Result<std::path::PathBuf, String> {
            SOC.link(c_source, dir, placement.script())
        }

        #[doc = concat!("Runs a linked program on ", $on, "; returns whether it exited 0 and its stdout.")]
        pub fn run(exe: &std::path::Path, args: &[String]) -> Result<(bool, String), String> {
            SOC.run(exe, args)
        }

        #[doc = concat!("Bare program text the conformance way, on ", $on, " (see [`Soc::run_conformance`](crate::bare_metal::Soc::run_conformance)).")]
        pub fn run_conformance(program: &[u8], mem: &[u8]) -> crate::engines::Execution {
            SOC.run_conformance(program, mem, Placement::Flash.script())
        }

        #[doc = concat!("Runs a container's entry function `runs` times in one process on ", $on, " (see [`Soc::run_container`](crate::bare_metal::Soc::run_container)).")]
        pub fn run_container(
            container: &fc_runtime::format::Container,
            ctx: &[u8],
            budget: Option<u32>,
            runs: u32,
            placement: Placement,
        ) -> Result<Vec<Run>, String> {
            SOC.run_container(container, ctx, budget, runs, placement.script())
        }
    };
}
pub(crate) use soc_functions;

/// `&[(NAME, text)]`: files of `targets/DIR/`, embedded, for [`Soc::sources`] and
/// [`Soc::linker_scripts`].
macro_rules! target_files {
    ($dir:literal: $($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../../targets/", $dir, "/", $name)))),+]
    };
}
pub(crate) use target_files;
