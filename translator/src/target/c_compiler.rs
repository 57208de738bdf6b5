//! The C compilers of the C-backend targets, which `translate --emit obj|asm` drives (as
//! wamrc drives its target's toolchain): the SoCs of [`super::socs`] with their flags, and
//! the ESP32 family, whose compilers come with ESP-IDF.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::ValueEnum;

use super::bare_metal::Soc;
use super::tools::{run_tool, write, ToolError};

/// A target's C compiler: what to run, with which flags, and what provides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CCompiler {
    pub gcc: &'static str,
    /// What to install when `gcc` is missing (a Debian package where there is one).
    pub install: &'static str,
    pub cflags: &'static [&'static str],
}

/// What a compile produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    Object,
    Assembly,
}

/// Where ESP-IDF's compilers come from: Debian has none.
const ESP_IDF: &str = "ESP-IDF's toolchain, or name another compiler with --cc";

/// The flags of lx106 (`socs::ESP8266`), which the ESP32 family's C is checked on.
const ESP32_FLAGS: &[&str] = &["-O2", "-ffreestanding", "-mlongcalls"];

/// The windowed-ABI Xtensa cores (targets/esp32*): their own compiler each.
const ESP32_FAMILY: [(&str, CCompiler); 3] = [
    ("esp32", CCompiler { gcc: "xtensa-esp32-elf-gcc", install: ESP_IDF, cflags: ESP32_FLAGS }),
    ("esp32s2", CCompiler { gcc: "xtensa-esp32s2-elf-gcc", install: ESP_IDF, cflags: ESP32_FLAGS }),
    ("esp32s3", CCompiler { gcc: "xtensa-esp32s3-elf-gcc", install: ESP_IDF, cflags: ESP32_FLAGS }),
];

/// The C compiler of `translate` target `target`, if it is a C-backend target.
pub fn c_compiler(target: &str) -> Option<CCompiler> {
    let soc = super::Target::from_str(target, false).ok().and_then(super::soc);
    soc.map(Soc::c_compiler).or_else(|| ESP32_FAMILY.iter().find(|(name, _)| *name == target).map(|(_, c)| *c))
}

impl Soc {
    /// The compiler and flags the SoC's programs are built with.
    pub fn c_compiler(&self) -> CCompiler {
        CCompiler { gcc: self.gcc, install: self.gcc_package, cflags: self.cflags }
    }
}

impl CCompiler {
    /// Compiles `c_source` into `output` (one section per function, as the SoCs' linker
    /// scripts place them) with `cc`, or this compiler when `None`. The source is written
    /// beside `output` for the compile and removed after it.
    pub fn compile(&self, cc: Option<&Path>, c_source: &str, product: Product, output: &Path) -> Result<(), ToolError> {
        let source = PathBuf::from(format!("{}.c", output.display()));
        write(&source, c_source)?;
        let mode = match product {
            Product::Object => "-c",
            Product::Assembly => "-S",
        };
        let program = cc.map_or_else(|| Path::new(self.gcc).to_owned(), Path::to_owned);
        let compiled = run_tool(
            Command::new(&program).args(self.cflags).args(["-ffunction-sections", "-fdata-sections", mode]).arg(&source).arg("-o").arg(output),
        );
        let _ = std::fs::remove_file(&source);
        // A compiler the user named is theirs to install.
        compiled.map_err(|e| if cc.is_some() { e } else { e.install_hint(self.install) })
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
        assert_eq!(c_compiler("esp32c3").map(|c| c.gcc), Some("riscv64-unknown-elf-gcc"));
        assert_eq!(c_compiler("x86_64"), None);
    }
}
