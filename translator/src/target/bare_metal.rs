//! The bare-metal SoC runner of the `c` engine (ESP32-C3, RP2040, ESP8266): the emitted
//! C cross-compiled with the SoC's gcc, linked with its start-up, crt and the shared
//! harness (`targets/common/bare_metal_harness.c`, no libc) and run under qemu-user.
//! Each SoC is one [`Soc`] description in the table of [`super::socs`].
//!
//! The start-up, crt and harness are compiled once per process and SoC and only linked
//! per program; every program gets its own scratch folder, so runs may go in parallel.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use fc_runtime::format::Container;
use fc_runtime::helpers::Profile;
use fc_runtime::verifier::VerifiedProgram;

use super::tools::{output, run_tool, scratch, write, ToolError};
use super::execution::{verify_conformance, Execution};
use crate::backend::c::emit;
use crate::backend::Input;
use crate::helpers::HelperSet;
use crate::text::hex;

/// The sources every SoC shares: the harness (plain C over crt.h), the ABI and hex
/// headers, and the crt's interface and SoC-independent part.
pub const HARNESS_C: &str = include_str!("../../../targets/common/bare_metal_harness.c");
pub const ABI_H: &str = include_str!("../../../targets/include/fc_abi.h");
pub const HEX_H: &str = include_str!("../../../targets/common/fc_hex.h");
pub const CRT_H: &str = include_str!("../../../targets/common/crt.h");
pub const CRT_COMMON_C: &str = include_str!("../../../targets/common/crt_common.c");

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
    /// Where the translated functions can go, the default (flash) first.
    pub placements: &'static [Placement],
    /// The objects, compiled on first use.
    pub cache: ObjectCache,
}

/// Where a SoC's linker puts the translated functions (`.text.fc_*`): flash or a RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// `flash`, `iram`, `sram`.
    pub name: &'static str,
    /// The linker script (one of [`Soc::linker_scripts`]) that places them.
    pub script: &'static str,
}

/// The start-up, crt and harness objects of one SoC, compiled once per process.
pub struct ObjectCache(OnceLock<Result<Objects, ToolError>>);

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
    /// The default placement (flash).
    pub fn flash(&self) -> Placement {
        self.placements[0]
    }

    /// The placement called `name`.
    pub fn placement(&self, name: &str) -> Option<Placement> {
        self.placements.iter().copied().find(|p| p.name == name)
    }

    fn objects(&self) -> Result<&Objects, ToolError> {
        self.cache.0.get_or_init(|| self.build_objects()).as_ref().map_err(Clone::clone)
    }

    fn build_objects(&self) -> Result<Objects, ToolError> {
        // A folder of its own, kept for the life of the process (the objects are linked from it).
        let dir = std::env::temp_dir().join(format!("fc-aot-{}-{}", self.name, std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| ToolError::Failed(format!("{}: {e}", dir.display())))?;
        let shared = [("harness.c", HARNESS_C), ("fc_abi.h", ABI_H), ("fc_hex.h", HEX_H), ("crt.h", CRT_H), ("crt_common.c", CRT_COMMON_C)];
        for &(name, text) in self.sources.iter().chain(&shared).chain(self.linker_scripts) {
            write(&dir.join(name), text)?;
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
                .map_err(|e| e.install_hint(self.gcc_package))?;
            files.push(object);
        }
        Ok(Objects { dir, files })
    }

    /// Compiles `c_source` (a translated container named `prog` exporting `main`) and
    /// links it with the harness into `dir/prog`, with the SoC's address map and the
    /// translated functions placed per `placement`.
    pub fn link(&self, c_source: &str, dir: &Path, placement: Placement) -> Result<PathBuf, ToolError> {
        let objects = self.objects()?;
        let (source, exe) = (dir.join("prog.c"), dir.join("prog"));
        write(&source, c_source)?;
        run_tool(
            Command::new(self.gcc)
                .args(self.cflags)
                // One section per function: `.text.fc_prog_*`, which fc_container.ld places.
                .args(["-ffunction-sections", "-fdata-sections"])
                .arg("-L")
                .arg(&objects.dir)
                .arg("-T")
                .arg(placement.script)
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
    pub fn compile_object(&self, c_source: &str, dir: &Path) -> Result<PathBuf, ToolError> {
        let object = dir.join("prog.o");
        self.c_compiler().compile(None, c_source, super::c_compiler::Product::Object, &object)?;
        Ok(object)
    }

    /// Runs a linked program under qemu; returns whether it exited 0 and its stdout.
    pub fn run(&self, exe: &Path, args: &[String]) -> Result<(bool, String), ToolError> {
        let out = output(Command::new(self.qemu).args(self.qemu_args).arg(exe).args(args)).map_err(|e| e.install_hint("qemu-user"))?;
        Ok((out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned()))
    }

    /// [`run`](Self::run) for at most `limit`: `None` when the program was still running
    /// then (qemu is killed), for programs that may never end (`-boff`).
    pub fn run_with_timeout(&self, exe: &Path, args: &[String], limit: std::time::Duration) -> Result<Option<(bool, String)>, ToolError> {
        use std::io::Read;
        let mut child = Command::new(self.qemu)
            .args(self.qemu_args)
            .arg(exe)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => ToolError::Unavailable(format!("`{}` is not installed (install qemu-user)", self.qemu)),
                _ => ToolError::Failed(format!("`{}`: {e}", self.qemu)),
            })?;
        // Read on a thread of its own, so that a program printing much cannot block on a full pipe.
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.read_to_end(&mut out);
            out
        });
        let started = std::time::Instant::now();
        let status = loop {
            match child.try_wait().map_err(|e| ToolError::Failed(format!("`{}`: {e}", self.qemu)))? {
                Some(status) => break Some(status),
                None if started.elapsed() >= limit => break None,
                None => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        };
        let Some(status) = status else {
            let _ = child.kill();
            let _ = child.wait();
            let _ = reader.join();
            return Ok(None);
        };
        let out = reader.join().unwrap_or_default();
        Ok(Some((status.success(), String::from_utf8_lossy(&out).into_owned())))
    }

    /// Bare program text the conformance way (profile `conformance`, 512-byte frames,
    /// budget 1 << 24, r1 = a copy of `mem`), on the SoC under qemu, from flash.
    pub fn run_conformance(&self, program: &[u8], mem: &[u8]) -> Execution {
        let verified = match verify_conformance(program) {
            Ok(v) => v,
            Err(rejected) => return rejected,
        };
        let source = prog_c(&verified, &[], 0, &[]);
        let args: Vec<String> = if mem.is_empty() { Vec::new() } else { vec![hex::encode(mem)] };
        let outcome = scratch().and_then(|dir| {
            let outcome = self.link(&source, &dir, self.flash()).and_then(|exe| self.run(&exe, &args));
            let _ = std::fs::remove_dir_all(&dir);
            outcome
        });
        Execution::from_harness(outcome)
    }

    /// Runs a container's entry function `runs` times in one process (data and stores
    /// persist between runs, the context starts from `ctx` each time) on the SoC under
    /// qemu, with the harness's minimal `sming` helpers; `budget` None means no bound.
    pub fn run_container(
        &self,
        container: &Container,
        ctx: &[u8],
        budget: Option<u32>,
        runs: u32,
        placement: Placement,
    ) -> Result<Vec<Run>, ToolError> {
        let program = HelperSet::profile(Profile::Sming).verify(container).map_err(|e| ToolError::Failed(e.to_string()))?;
        let source = prog_c(&program, container.data, container.header.bss_len as usize, container.rodata);
        let dir = scratch()?;
        let mut args = vec![hex::encode(ctx), format!("-n{runs}"), "-v".to_string()];
        args.push(budget.map_or_else(|| "-boff".to_string(), |b| format!("-b{b}")));
        let outcome = self.link(&source, &dir, placement).and_then(|exe| self.run(&exe, &args));
        let _ = std::fs::remove_dir_all(&dir);
        let (_, out) = outcome?;
        let parsed = parse_runs(&out).map_err(ToolError::Failed)?;
        if parsed.len() != runs as usize {
            return Err(ToolError::Failed(format!("{} runs reported, {runs} expected; output:\n{out}", parsed.len())));
        }
        Ok(parsed)
    }
}

/// The C of a verified program as container `prog` with its first entry as `main`.
pub fn prog_c(program: &VerifiedProgram, data: &[u8], bss_len: usize, rodata: &[u8]) -> String {
    let functions = vec![("main".to_string(), program.entries()[0])];
    emit(&Input { container: "prog", program, functions: &functions, data, bss_len, rodata })
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
            run.ctx = hex::decode(h)?;
        } else if let Some(h) = line.strip_prefix("data:") {
            run.data = hex::decode(h)?;
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

/// `&[(NAME, text)]`: files of `targets/DIR/`, embedded, for [`Soc::sources`] and
/// [`Soc::linker_scripts`].
macro_rules! target_files {
    ($dir:literal: $($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../../../targets/", $dir, "/", $name)))),+]
    };
}
pub(crate) use target_files;
