//! The bare-metal SoCs (ESP32-C3, RP2040, ESP8266, the windowed ESP32s): programs
//! cross-compiled with the SoC's toolchain (its gcc, or LLVM 22 for the windowed Xtensa
//! cores), linked with its start-up and crt (no libc) and run under qemu-user. Containers run
//! on the runtime itself there (`targets/common/runtime_harness.c` over the firmware
//! library, [`super::runtime_lib`]): interpreted, or as translated C the runtime calls
//! through the native ABI. Each SoC is one [`Soc`] description in the table of
//! [`super::socs`].
//!
//! The start-up, crt and harness are compiled once into the shared object cache
//! ([`super::workdir::cached`]) and only linked per program; every program gets its own
//! scratch folder, so runs may go in parallel.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use fc_runtime::format::Container;
use fc_runtime::verifier::VerifiedProgram;

use super::execution::{Execution, Run};
use super::harness::{self, native_table, Harness, HarnessError, Request, RuntimeEngine, SHARED_SOURCES};
use super::runtime_lib::{self, LibraryCache, Opt, RustTarget};
use super::c_compiler::{Product, Toolchain};
use super::tools::{write, ToolError};
use super::workdir::cached;
use crate::backend::c::emit;
use crate::backend::Input;

/// The SoC-independent part of the bare-metal crt (memset and the others), which every
/// SoC's crt.c includes.
const CRT_COMMON_C: &str = include_str!("../../../targets/common/crt_common.c");

/// One bare-metal SoC: its toolchain, its qemu and the sources it is built from.
pub struct Soc {
    /// The `--target` name (`esp32c3`): names the cache entry of its objects.
    pub name: &'static str,
    /// What compiles and links its programs.
    pub toolchain: Toolchain,
    /// Every compile (and, with gcc, every link).
    pub cflags: &'static [&'static str],
    /// qemu-user and the arguments before the program.
    pub qemu: &'static str,
    pub qemu_args: &'static [&'static str],
    /// The SoC's own sources (start.S, crt.c: its system calls, extra helpers), written to the
    /// object folder next to the shared ones.
    pub sources: &'static [(&'static str, &'static str)],
    /// Sources compiled once besides start.S, crt.c and the shared runtime_harness.c, with
    /// their extra flags (linked after crt.c, before the harness).
    pub extra_objects: &'static [(&'static str, &'static [&'static str])],
    /// The address map and the placement fragments, as linker scripts (name, text).
    pub linker_scripts: &'static [(&'static str, &'static str)],
    /// Where the translated functions can go, the default (flash) first.
    pub placements: &'static [Placement],
    /// The SoC's Rust target, for the firmware library.
    pub rust_target: RustTarget,
    /// The objects, compiled on first use.
    pub cache: ObjectCache,
    /// The firmware library, built on first use.
    pub runtime: LibraryCache,
}

/// Where a SoC's linker puts the translated functions (`.text.fc_*`): flash or a RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// `flash`, `iram`, `sram`.
    pub name: &'static str,
    /// The linker script (one of [`Soc::linker_scripts`]) that places them.
    pub script: &'static str,
}

/// The start-up, crt and harness objects of one SoC, and its program running the
/// runtime's interpreters: their cache entries, looked up (and built when missing) once
/// per process.
pub struct ObjectCache(OnceLock<Result<Objects, ToolError>>, OnceLock<Result<PathBuf, ToolError>>);

impl ObjectCache {
    pub const fn new() -> Self {
        ObjectCache(OnceLock::new(), OnceLock::new())
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
    /// Start-up, crt and the SoC's extra objects: what every program links.
    crt: Vec<PathBuf>,
    /// runtime_harness.c for the interpreters, and with -DFC_HARNESS_NATIVE.
    runtime_harness: PathBuf,
    runtime_harness_native: PathBuf,
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
        let files: Vec<(&str, &str)> =
            self.sources.iter().chain(&SHARED_SOURCES).chain(&[("crt_common.c", CRT_COMMON_C)]).chain(self.linker_scripts).copied().collect();
        let start_and_crt: [(&str, &[&str]); 2] = [("start.S", &[]), ("crt.c", self.toolchain.no_builtin_flags())];
        let harness: [(&str, &[&str]); 2] = [("runtime_harness.c", &[]), ("runtime_harness.c", &["-DFC_HARNESS_NATIVE"])];
        let compiled: Vec<(&str, &[&str])> = start_and_crt.iter().chain(self.extra_objects).chain(&harness).copied().collect();
        let object = |source: &str, extra: &[&str]| source.replace(['.'], "_") + if extra.contains(&"-DFC_HARNESS_NATIVE") { "_native.o" } else { ".o" };
        // The key: the compiler, every flag and every file the objects are built from.
        let identity = self.toolchain.identity()?;
        let mut inputs: Vec<&[u8]> = vec![identity.as_bytes()];
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
                let flags: Vec<&OsStr> = self.cflags.iter().chain(*extra).map(OsStr::new).chain([OsStr::new("-I"), dir.as_os_str()]).collect();
                self.toolchain.compile(&flags, &dir.join(source), Product::Object, &dir.join(object(source, extra)))?;
            }
            Ok(())
        })?;
        let mut files: Vec<PathBuf> = compiled.iter().map(|(source, extra)| dir.join(object(source, extra))).collect();
        let runtime_harness_native = files.pop().expect("two harness objects");
        let runtime_harness = files.pop().expect("two harness objects");
        Ok(Objects { dir, crt: files, runtime_harness, runtime_harness_native })
    }

    /// The firmware library (the runtime, `opt` optimized) for this SoC.
    pub fn library(&self, opt: Opt) -> Result<PathBuf, ToolError> {
        runtime_lib::library(self.name, self.rust_target, opt, &self.runtime)
    }

    /// The program that runs any container on the runtime's interpreters: one per SoC, in
    /// the cache (its key: the objects and the library's bytes).
    fn interpreter_program(&self) -> Result<PathBuf, ToolError> {
        // Looked up once per process: every conformance program of a run uses it.
        self.cache.1.get_or_init(|| self.link_interpreter_program()).clone()
    }

    fn link_interpreter_program(&self) -> Result<PathBuf, ToolError> {
        let objects = self.objects()?;
        let library = self.library(Opt::Speed)?;
        let bytes = std::fs::read(&library).map_err(|e| ToolError::Failed(format!("{}: {e}", library.display())))?;
        let dir = cached(&format!("{}-runtime", self.name), &[objects.dir.as_os_str().as_encoded_bytes(), &bytes], |dir| {
            self.link_runtime(&objects.runtime_harness, &[], &library, &dir.join("prog"), self.flash())
        })?;
        Ok(dir.join("prog"))
    }

    /// Links the runtime harness object `harness` with `extra` inputs and `library` into `exe`.
    fn link_runtime(&self, harness: &Path, extra: &[PathBuf], library: &Path, exe: &Path, placement: Placement) -> Result<(), ToolError> {
        let objects = self.objects()?;
        let inputs: Vec<PathBuf> = objects.crt.iter().chain([&harness.to_path_buf()]).chain(extra).chain([&library.to_path_buf()]).cloned().collect();
        self.toolchain.link(self.cflags, &objects.dir, placement.script, &inputs, exe)
    }

    /// Links a container translated to C with the runtime harness that hands its
    /// functions to the runtime (`fc_vm_set_native`) into `dir/prog`.
    fn link_native(&self, input: &Input, dir: &Path, placement: Placement) -> Result<PathBuf, ToolError> {
        let objects = self.objects()?;
        let library = self.library(Opt::Speed)?;
        let (source, table, exe) = (dir.join("prog.c"), dir.join("native_table.c"), dir.join("prog"));
        write(&source, emit(input))?;
        write(&table, native_table(input))?;
        let mut compiled = Vec::new();
        let flags: Vec<&OsStr> =
            self.cflags.iter().chain(&["-ffunction-sections", "-fdata-sections"]).map(OsStr::new).chain([OsStr::new("-I"), objects.dir.as_os_str()]).collect();
        for c in [&source, &table] {
            let o = c.with_extension("o");
            self.toolchain.compile(&flags, c, Product::Object, &o)?;
            compiled.push(o);
        }
        self.link_runtime(&objects.runtime_harness_native, &compiled, &library, &exe, placement)?;
        Ok(exe)
    }

    /// Compiles `c_source` alone into `dir/prog.o` with the link's flags (for disassembly).
    pub fn compile_object(&self, c_source: &str, dir: &Path) -> Result<PathBuf, ToolError> {
        let object = dir.join("prog.o");
        self.c_compiler().compile(None, c_source, Product::Object, &object)?;
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

    /// Bare program text the conformance way (profile `conformance`, 512-byte frames,
    /// budget 1 << 24, r1 = a copy of `mem`), on the SoC's runtime under qemu with
    /// `engine` (translated code in flash).
    pub fn run_conformance(&self, engine: RuntimeEngine, program: &[u8], mem: &[u8]) -> Execution {
        harness::run_conformance(&self.placed(engine, self.flash()), program, mem)
    }

    /// Runs a container as `request` asks on the SoC's runtime under qemu with `engine`,
    /// translated functions placed per `placement` ([`harness::run_container`]).
    pub fn run_container(&self, engine: RuntimeEngine, container: &Container, request: &Request, placement: Placement) -> Result<Vec<Run>, HarnessError> {
        harness::run_container(&self.placed(engine, placement), container, request)
    }

    /// The SoC's runtime running `engine`, translated functions placed per `placement`: a [`Harness`].
    pub fn placed(&self, engine: RuntimeEngine, placement: Placement) -> Placed<'_> {
        Placed { soc: self, engine, placement }
    }
}

/// The runtime on a SoC with one engine and the placement of translated functions: what
/// containers run on there.
pub struct Placed<'s> {
    soc: &'s Soc,
    engine: RuntimeEngine,
    placement: Placement,
}

impl Harness for Placed<'_> {
    fn name(&self) -> &'static str {
        self.soc.name
    }
    fn engine(&self) -> RuntimeEngine {
        self.engine
    }
    fn link(&self, input: &Input, dir: &Path) -> Result<PathBuf, ToolError> {
        match self.engine {
            RuntimeEngine::Native => self.soc.link_native(input, dir, self.placement),
            // One program runs every container.
            RuntimeEngine::Reference | RuntimeEngine::Interp => self.soc.interpreter_program(),
        }
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
