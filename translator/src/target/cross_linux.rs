//! Cranelift objects for x86-64, AArch64 and RISC-V 64 Linux, linked by the ISA's gcc
//! with the one harness of every target (`targets/common/bare_metal_harness.c`, here over
//! the C library: `targets/linux/crt.c`) and run under qemu-user (x86-64 directly).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::harness::{Harness, SHARED_SOURCES};
use super::tools::{run_tool, write, ToolError};
use super::workdir::{cached, compiler_identity};
use crate::backend::clif::object::translate;
use crate::backend::Input;

/// crt.h's interface over the C library.
const CRT_LINUX_C: &str = include_str!("../../../targets/linux/crt.c");
/// The objects every program links with: the crt, then the harness.
const OBJECTS: [&str; 2] = ["crt.o", "harness.o"];
const CFLAGS: [&str; 1] = ["-O2"];

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
}

pub static AARCH64: Cross = Cross::new("aarch64", "aarch64-unknown-linux-gnu", "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu", "qemu-aarch64");
pub static RISCV64: Cross = Cross::new("riscv64gc", "riscv64gc-unknown-linux-gnu", "riscv64-linux-gnu-gcc", "gcc-riscv64-linux-gnu", "qemu-riscv64");
pub static X86_64: Cross = Cross::new("x86_64", "x86_64-unknown-linux-gnu", "cc", "gcc", "");

impl Cross {
    const fn new(name: &'static str, triple: &'static str, gcc: &'static str, gcc_package: &'static str, qemu: &'static str) -> Self {
        Cross { name, triple, gcc, gcc_package, qemu, objects: OnceLock::new() }
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
}

impl Harness for Cross {
    fn name(&self) -> &'static str {
        self.name
    }

    fn link(&self, input: &Input, dir: &Path) -> Result<PathBuf, ToolError> {
        let object = translate(input, self.triple, false, None).map_err(ToolError::Failed)?;
        let objects = self.objects()?;
        let (prog, exe) = (dir.join("prog.o"), dir.join("prog"));
        write(&prog, object)?;
        // Static: qemu-user then needs no sysroot of the ISA's C library.
        let mut link = Command::new(self.gcc);
        link.args(["-static", "-o"]).arg(&exe).args(OBJECTS.map(|o| objects.join(o))).arg(&prog);
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
