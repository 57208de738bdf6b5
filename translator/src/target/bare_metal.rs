//! The bare-metal SoC runner of the `c` engine (ESP32-C3, RP2040, ESP8266): the emitted
//! C cross-compiled with the SoC's gcc, linked with its start-up, crt and the shared
//! harness (`targets/common/bare_metal_harness.c`, no libc) and run under qemu-user.
//! Each SoC is one [`Soc`] description in the table of [`super::socs`].
//!
//! The start-up, crt and harness are compiled once into the shared object cache
//! ([`super::workdir::cached`]) and only linked per program; every program gets its own
//! scratch folder, so runs may go in parallel.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use fc_runtime::format::Container;
use fc_runtime::verifier::VerifiedProgram;

use super::execution::{Execution, Run};
use super::harness::{self, Harness, HarnessError, Request, SHARED_SOURCES};
use super::tools::{run_tool, write, ToolError};
use super::workdir::{cached, compiler_identity};
use crate::backend::c::emit;
use crate::backend::Input;

/// The SoC-independent part of the bare-metal crt (memset and the others), which every
/// SoC's crt.c includes.
pub const CRT_COMMON_C: &str = include_str!("../../../targets/common/crt_common.c");

/// One bare-metal SoC: its toolchain, its qemu and the sources it is built from.
pub struct Soc {
    /// The `--target` name (`esp32c3`): names the cache entry of its objects.
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
    /// Sources compiled once besides start.S, crt.c and the shared harness.c, with their
    /// extra flags (linked after crt.c, before harness.c).
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

/// The start-up, crt and harness objects of one SoC: their cache entry, looked up (and
/// built when missing) once per process.
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

/// The compiled objects and the folder holding them and the linker scripts (a cache
/// entry: read only).
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
        let shared = [("crt_common.c", CRT_COMMON_C)];
        let files: Vec<(&str, &str)> = self.sources.iter().chain(&SHARED_SOURCES).chain(&shared).chain(self.linker_scripts).copied().collect();
        let start_and_crt: [(&str, &[&str]); 2] = [
            ("start.S", &[]),
            // memset/memcpy must not be turned into calls of themselves.
            ("crt.c", &["-fno-builtin", "-fno-tree-loop-distribute-patterns"]),
        ];
        let harness: [(&str, &[&str]); 1] = [("harness.c", &[])];
        let compiled: Vec<(&str, &[&str])> = start_and_crt.iter().chain(self.extra_objects).chain(&harness).copied().collect();
        let object = |source: &str| source.replace(['.'], "_") + ".o";
        // The key: the compiler, every flag and every file the objects are built from.
        let identity = compiler_identity(self.gcc, self.gcc_package)?;
        let mut inputs: Vec<&[u8]> = vec![self.gcc.as_bytes(), identity.as_bytes()];
        inputs.extend(self.cflags.iter().map(|f| f.as_bytes()));
        for (source, extra) in &compiled {
            inputs.push(source.as_bytes());
            inputs.extend(extra.iter().map(|f| f.as_bytes()));
        }
        for (name, text) in &files {
            inputs.extend([name.as_bytes(), text.as_bytes()]);
        }
        let dir = cached(self.name, &inputs, |dir| {
            for (name, text) in &files {
                write(&dir.join(name), text)?;
            }
            for (source, extra) in &compiled {
                run_tool(Command::new(self.gcc).args(self.cflags).args(*extra).arg("-I").arg(dir).arg("-c").arg(dir.join(source)).arg("-o").arg(dir.join(object(source))))
                    .map_err(|e| e.install_hint(self.gcc_package))?;
            }
            Ok(())
        })?;
        let files = compiled.iter().map(|(source, _)| dir.join(object(source))).collect();
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

    /// The qemu-user command that runs a linked program.
    fn command(&self, exe: &Path) -> Command {
        let mut command = Command::new(self.qemu);
        command.args(self.qemu_args).arg(exe);
        command
    }

    /// Runs a linked program under qemu; returns whether it exited 0 and its stdout.
    pub fn run(&self, exe: &Path, args: &[String]) -> Result<(bool, String), ToolError> {
        harness::run_to_end(self.command(exe).args(args))
    }

    /// [`run`](Self::run) for at most `limit`: `None` when the program was still running
    /// then (qemu is killed), for programs that may never end (`-boff`).
    pub fn run_with_timeout(&self, exe: &Path, args: &[String], limit: Duration) -> Result<Option<(bool, String)>, ToolError> {
        harness::run_for(self.command(exe).args(args), limit)
    }

    /// Bare program text the conformance way (profile `conformance`, 512-byte frames,
    /// budget 1 << 24, r1 = a copy of `mem`), on the SoC under qemu, from flash.
    pub fn run_conformance(&self, program: &[u8], mem: &[u8]) -> Execution {
        harness::run_conformance(&self.placed(self.flash()), program, mem)
    }

    /// Runs a container as `request` asks on the SoC under qemu, the translated
    /// functions placed per `placement` ([`harness::run_container`]).
    pub fn run_container(&self, container: &Container, request: &Request, placement: Placement) -> Result<Vec<Run>, HarnessError> {
        harness::run_container(&self.placed(placement), container, request)
    }

    /// The SoC with its translated functions placed per `placement`: a [`Harness`].
    pub fn placed(&self, placement: Placement) -> Placed<'_> {
        Placed { soc: self, placement }
    }
}

/// A SoC with the placement of its translated functions: what the harness runs on.
pub struct Placed<'s> {
    soc: &'s Soc,
    placement: Placement,
}

impl Harness for Placed<'_> {
    fn name(&self) -> &'static str {
        self.soc.name
    }
    fn link(&self, input: &Input, dir: &Path) -> Result<PathBuf, ToolError> {
        self.soc.link(&emit(input), dir, self.placement)
    }
    fn command(&self, exe: &Path) -> Command {
        self.soc.command(exe)
    }
}

/// The C of a verified program as container `prog` with its function `function` (an
/// index into its functions) as `main`.
pub fn prog_c(program: &VerifiedProgram, function: usize, data: &[u8], bss_len: usize, rodata: &[u8]) -> String {
    let functions = vec![("main".to_string(), function)];
    emit(&Input { container: "prog", program, functions: &functions, data, bss_len, rodata })
}

/// `&[(NAME, text)]`: files of `targets/DIR/`, embedded, for [`Soc::sources`] and
/// [`Soc::linker_scripts`].
macro_rules! target_files {
    ($dir:literal: $($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../../../targets/", $dir, "/", $name)))),+]
    };
}
pub(crate) use target_files;
