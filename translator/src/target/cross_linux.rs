//! Cranelift objects for x86-64, AArch64 and RISC-V 64 Linux, linked by the ISA's gcc
//! with the one harness of every target (`targets/common/runtime_harness.c`, here over
//! the C library: `targets/linux/crt.c`) and the runtime's C API library built `no_std`
//! for the ISA ([`super::runtime_lib`]), which loads the container and calls the
//! translated code; run under qemu-user (x86-64 directly).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::harness::{native_table, Harness, RuntimeEngine, SHARED_SOURCES};
use super::runtime_lib::{self, LibraryCache, Opt, RustTarget};
use super::tools::{run_tool, write, ToolError};
use super::workdir::{cached, compiler_identity};
use crate::backend::clif::object::translate;
use crate::backend::Input;

/// crt.h's interface over the C library.
const CRT_LINUX_C: &str = include_str!("../../../targets/linux/crt.c");
/// The objects every program links with: the crt, then the harness.
const OBJECTS: [&str; 2] = ["crt.o", "runtime_harness.o"];
/// The harness with the translated code's table, and the room of a Linux process: a
/// context of up to 64 KiB as the SoCs' harness of translated code had, a container as
/// large as a command line argument can carry in hex, and an arena of 4 MiB (the
/// stack, data and bss of the program among the rest).
const CFLAGS: [&str; 5] = ["-O2", "-DFC_HARNESS_NATIVE", "-DFC_HARNESS_MAX_CONTEXT=65536", "-DFC_HARNESS_MAX_CONTAINER=65536", "-DFC_HARNESS_ARENA=4194304"];

/// A Linux ISA Cranelift translates for, run under qemu-user with the harness.
pub struct Cross {
    /// The `--target` name (`aarch64`).
    pub name: &'static str,
    pub triple: &'static str,
    pub gcc: &'static str,
    /// The Debian package that has `gcc`.
    pub gcc_package: &'static str,
    /// Empty for the host's own ISA.
    pub qemu: &'static str,
    /// The cache entry of the crt and harness objects, looked up once per process.
    objects: OnceLock<Result<PathBuf, ToolError>>,
    /// The runtime's library for the ISA, built on first use.
    runtime: LibraryCache,
}

pub static AARCH64: Cross = Cross::new("aarch64", "aarch64-unknown-linux-gnu", "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu", "qemu-aarch64");
pub static RISCV64: Cross = Cross::new("riscv64gc", "riscv64gc-unknown-linux-gnu", "riscv64-linux-gnu-gcc", "gcc-riscv64-linux-gnu", "qemu-riscv64");
pub static X86_64: Cross = Cross::new("x86_64", "x86_64-unknown-linux-gnu", "cc", "gcc", "");

impl Cross {
    const fn new(name: &'static str, triple: &'static str, gcc: &'static str, gcc_package: &'static str, qemu: &'static str) -> Self {
        Cross { name, triple, gcc, gcc_package, qemu, objects: OnceLock::new(), runtime: LibraryCache::new() }
    }

    /// The folder with the crt and harness objects (built into the cache when missing).
    fn objects(&self) -> Result<&Path, ToolError> {
        self.objects.get_or_init(|| self.build_objects()).as_deref().map_err(Clone::clone)
    }

    fn build_objects(&self) -> Result<PathBuf, ToolError> {
        let files: Vec<(&str, &str)> = SHARED_SOURCES.iter().copied().chain([("crt.c", CRT_LINUX_C)]).collect();
        let identity = compiler_identity(self.gcc, self.gcc_package)?;
        let mut inputs: Vec<&[u8]> = vec![self.gcc.as_bytes(), identity.as_bytes()];
        inputs.extend(CFLAGS.iter().map(|f| f.as_bytes()));
        for (name, text) in &files {
            inputs.extend([name.as_bytes(), text.as_bytes()]);
        }
        cached(self.name, &inputs, |dir| {
            for (name, text) in &files {
                write(&dir.join(name), text)?;
            }
            for object in OBJECTS {
                let source = dir.join(object.replace(".o", ".c"));
                run_tool(Command::new(self.gcc).args(CFLAGS).arg("-I").arg(dir).arg("-c").arg(&source).arg("-o").arg(dir.join(object)))
                    .map_err(|e| e.install_hint(self.gcc_package))?;
            }
            Ok(())
        })
    }

    /// The runtime's library for this ISA (`-O3`, as the SoCs' harness links it).
    pub fn library(&self) -> Result<PathBuf, ToolError> {
        runtime_lib::library(self.name, RustTarget::Builtin(self.triple), Opt::Speed, &self.runtime)
    }
}

impl Harness for Cross {
    fn name(&self) -> &'static str {
        self.name
    }

    fn engine(&self) -> RuntimeEngine {
        RuntimeEngine::Native
    }

    fn link(&self, input: &Input, dir: &Path) -> Result<PathBuf, ToolError> {
        // The compiler first: a missing one is what the user has to install.
        let objects = self.objects()?;
        let object = translate(input, self.triple, false, None).map_err(ToolError::Failed)?;
        let library = self.library()?;
        let (prog, source, table, exe) = (dir.join("prog.o"), dir.join("native_table.c"), dir.join("native_table.o"), dir.join("prog"));
        write(&prog, object)?;
        write(&source, native_table(input))?;
        run_tool(Command::new(self.gcc).args(CFLAGS).arg("-I").arg(objects).arg("-c").arg(&source).arg("-o").arg(&table)).map_err(|e| e.install_hint(self.gcc_package))?;
        // Static: qemu-user then needs no sysroot of the ISA's C library.
        let mut link = Command::new(self.gcc);
        link.args(["-static", "-o"]).arg(&exe).args(OBJECTS.map(|o| objects.join(o))).arg(&prog).arg(&table).arg(&library);
        run_tool(&mut link).map_err(|e| e.install_hint(self.gcc_package))?;
        Ok(exe)
    }

    fn command(&self, exe: &Path) -> Command {
        if self.qemu.is_empty() {
            Command::new(exe)
        } else {
            let mut command = Command::new(self.qemu);
            command.arg(exe);
            command
        }
    }
}
