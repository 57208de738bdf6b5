//! The C toolchains of the C-backend targets, which the SoC harnesses and `translate --emit
//! obj|asm` drive (as wamrc drives its target's toolchain): a gcc cross compiler, or LLVM 22
//! for the windowed Xtensa cores.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::ValueEnum;

use super::bare_metal::Soc;
use super::llvm_xtensa::{Output, XtensaCore};
use super::tools::{run_tool, write, ToolError};
use super::workdir::compiler_identity;

/// How a target's C becomes objects and programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toolchain {
    /// A gcc cross compiler (from the Debian package `package`): compiles, assembles and
    /// links, with its libgcc.
    Gcc { gcc: &'static str, package: &'static str },
    /// LLVM 22 for an Xtensa core ([`super::llvm_xtensa`]), linked by GNU ld `ld` without a
    /// libgcc (there is none for the windowed ABI). `gcc_flags`: what a gcc the user names
    /// with `--cc` gets instead (ESP-IDF's compilers).
    LlvmXtensa { core: XtensaCore, ld: &'static str, gcc_flags: &'static [&'static str] },
}

/// A target's C compiler: its toolchain and the flags of every compile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CCompiler {
    pub toolchain: Toolchain,
    pub cflags: &'static [&'static str],
}

/// What a compile produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    Object,
    Assembly,
}

/// The C compiler of `translate` target `target`, if it is a C-backend target.
pub fn c_compiler(target: &str) -> Option<CCompiler> {
    super::Target::from_str(target, false).ok().and_then(super::soc).map(Soc::c_compiler)
}

impl Soc {
    /// The compiler and flags the SoC's programs are built with.
    pub fn c_compiler(&self) -> CCompiler {
        CCompiler { toolchain: self.toolchain, cflags: self.cflags }
    }
}

impl Toolchain {
    /// The GNU binutils program `tool` (`size`, `nm`, `objdump`, `ar`) for this target's
    /// objects, and the package that has it.
    pub fn binutil(&self, tool: &str) -> (String, &'static str) {
        match *self {
            Toolchain::Gcc { gcc, package } => (format!("{}{tool}", gcc.trim_end_matches("gcc")), package),
            Toolchain::LlvmXtensa { ld, .. } => (format!("{}{tool}", ld.trim_end_matches("ld")), "binutils-xtensa-lx106"),
        }
    }

    /// The flags that keep memset and memcpy from being compiled into calls of themselves.
    pub fn no_builtin_flags(&self) -> &'static [&'static str] {
        match self {
            Toolchain::Gcc { .. } => &["-fno-builtin", "-fno-tree-loop-distribute-patterns"],
            // LLVM's loop idioms are builtins too.
            Toolchain::LlvmXtensa { .. } => &["-fno-builtin"],
        }
    }

    /// What names the compiler in a cache key: its version line (and the core it builds for).
    pub fn identity(&self) -> Result<String, ToolError> {
        match *self {
            Toolchain::Gcc { gcc, package } => compiler_identity(gcc, package),
            Toolchain::LlvmXtensa { core, .. } => Ok(format!("{} {core:?}", compiler_identity("clang-22", "clang-22")?)),
        }
    }

    /// Compiles `source` (C, or assembly `.S`) into `out` with `flags`.
    pub fn compile(&self, flags: &[&OsStr], source: &Path, product: Product, out: &Path) -> Result<(), ToolError> {
        match *self {
            Toolchain::Gcc { gcc, package } => {
                let mode = match product {
                    Product::Object => "-c",
                    Product::Assembly => "-S",
                };
                run_tool(Command::new(gcc).args(flags).arg(mode).arg(source).arg("-o").arg(out)).map_err(|e| e.install_hint(package))
            }
            Toolchain::LlvmXtensa { core, .. } => {
                let output = match product {
                    Product::Object => Output::Object,
                    Product::Assembly => Output::Assembly,
                };
                core.compile(flags, source, output, out)
            }
        }
    }

    /// Links `inputs` (objects, then archives) into program `exe` with linker script
    /// `script` from folder `scripts`, dropping unused sections; `cflags` are the
    /// compile's (gcc's driver wants them at the link too).
    pub fn link(&self, cflags: &[&str], scripts: &Path, script: &str, inputs: &[PathBuf], exe: &Path) -> Result<(), ToolError> {
        let mut command;
        match *self {
            Toolchain::Gcc { gcc, .. } => {
                command = Command::new(gcc);
                command.args(cflags).args(["-ffunction-sections", "-fdata-sections", "-Wl,--gc-sections"]);
            }
            Toolchain::LlvmXtensa { ld, .. } => {
                command = Command::new(ld);
                command.args(["-static", "-nostdlib", "--gc-sections"]);
            }
        }
        command.arg("-L").arg(scripts).arg("-T").arg(script).arg("-o").arg(exe).args(inputs);
        if let Toolchain::Gcc { .. } = self {
            command.arg("-lgcc");
        }
        run_tool(&mut command).map_err(|e| e.install_hint(self.binutil("ld").1))
    }
}

impl CCompiler {
    /// Compiles `c_source` into `output` (one section per function, as the SoCs' linker
    /// scripts place them) with `cc`, or this compiler when `None`. The source is written
    /// beside `output` for the compile and removed after it.
    pub fn compile(&self, cc: Option<&Path>, c_source: &str, product: Product, output: &Path) -> Result<(), ToolError> {
        let source = PathBuf::from(format!("{}.c", output.display()));
        write(&source, c_source)?;
        let sections = ["-ffunction-sections", "-fdata-sections"];
        let compiled = match cc {
            // A compiler the user named is a gcc, theirs to install.
            Some(cc) => {
                let flags = match self.toolchain {
                    Toolchain::Gcc { .. } => self.cflags,
                    Toolchain::LlvmXtensa { gcc_flags, .. } => gcc_flags,
                };
                let mode = match product {
                    Product::Object => "-c",
                    Product::Assembly => "-S",
                };
                run_tool(Command::new(cc).args(flags).args(sections).arg(mode).arg(&source).arg("-o").arg(output))
            }
            None => {
                let flags: Vec<&OsStr> = self.cflags.iter().chain(&sections).map(OsStr::new).collect();
                self.toolchain.compile(&flags, &source, product, output)
            }
        };
        let _ = std::fs::remove_file(&source);
        compiled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_c_backend_target_has_its_compiler() {
        for t in crate::backend::translate::TARGETS.iter().filter(|t| t.triple.is_none()) {
            assert!(c_compiler(t.name).is_some(), "{}", t.name);
        }
        assert!(matches!(c_compiler("esp32c3").map(|c| c.toolchain), Some(Toolchain::Gcc { gcc: "riscv64-unknown-elf-gcc", .. })));
        assert!(matches!(c_compiler("esp32").map(|c| c.toolchain), Some(Toolchain::LlvmXtensa { .. })));
        assert_eq!(c_compiler("x86_64"), None);
    }
}
