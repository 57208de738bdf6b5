//! LLVM 22's Xtensa backend as a C toolchain: the windowed ESP32s' compiler (no windowed
//! gcc is packaged) and the finishing step of every Xtensa runtime library.
//!
//! C goes through `clang-22` to LLVM IR (its driver refuses `-mcpu=esp32`), then `llc`
//! for the core's CPU and options, then the literal pools are moved where GNU ld can
//! reach them ([`literal_sections`]) and `llvm-mc` assembles. Objects are linked by GNU
//! ld (`xtensa-lx106-elf-ld`: the ELF relocations are the same for every Xtensa core,
//! and code from llc carries no relaxation that needs the core's ISA tables).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::tools::{run_tool, write, ToolError};

/// LLVM 22 (`llvm-22`, `clang-22`).
const LLVM_BIN: &str = "/usr/lib/llvm-22/bin";
const CLANG: &str = "clang-22";

/// An Xtensa core as LLVM 22 knows it: a CPU model and the options switched off or on
/// against it (`llc -mattr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XtensaCore {
    /// `esp32` or `esp8266`.
    pub cpu: &'static str,
    /// `-mattr` (`-mul32high,-fp`), empty for the model as it is.
    pub attrs: &'static str,
}

/// What a compile produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Object,
    Assembly,
}

impl XtensaCore {
    fn llvm_args(&self) -> Vec<String> {
        let mut args = vec![format!("-mcpu={}", self.cpu)];
        if !self.attrs.is_empty() {
            args.push(format!("-mattr={}", self.attrs));
        }
        args
    }

    /// Finishes LLVM IR `ir` into `output` (an object or its assembly), one section per
    /// function and data object, as the SoCs' linker scripts place them. `scratch` names
    /// the intermediate files (removed after).
    pub fn finish_ir(&self, ir: &Path, output: Output, out: &Path, scratch: &Path) -> Result<(), ToolError> {
        let llvm = |e: ToolError| e.install_hint("llvm-22");
        let (asm, fixed) = (scratch.with_extension("llc.s"), scratch.with_extension("pools.s"));
        let result = (|| {
            run_tool(
                Command::new(format!("{LLVM_BIN}/llc"))
                    .arg("-march=xtensa")
                    .args(self.llvm_args())
                    .args(["-O2", "-function-sections", "-data-sections", "-filetype=asm"])
                    .arg(ir)
                    .arg("-o")
                    .arg(&asm),
            )
            .map_err(llvm)?;
            let text = std::fs::read_to_string(&asm).map_err(|e| ToolError::Failed(format!("{}: {e}", asm.display())))?;
            let moved = literal_sections(&text).map_err(|e| ToolError::Failed(format!("{}: {e}", asm.display())))?;
            match output {
                Output::Assembly => write(out, moved),
                Output::Object => {
                    write(&fixed, moved)?;
                    self.assemble(&fixed, out)
                }
            }
        })();
        for file in [&asm, &fixed] {
            let _ = std::fs::remove_file(file);
        }
        result
    }

    /// Assembles `source` (assembly as llvm-mc reads it) into object `out`.
    fn assemble(&self, source: &Path, out: &Path) -> Result<(), ToolError> {
        run_tool(Command::new(format!("{LLVM_BIN}/llvm-mc")).arg("-triple=xtensa").args(self.llvm_args()).arg("-filetype=obj").arg(source).arg("-o").arg(out))
            .map_err(|e| e.install_hint("llvm-22"))
    }

    /// Compiles C (`.c`) or preprocessed assembly (`.S`) `source` into `out` with clang-22's
    /// `flags` (`-O2`, `-I`, `-D`: the CPU comes from this core, never from the flags).
    pub fn compile(&self, flags: &[&std::ffi::OsStr], source: &Path, output: Output, out: &Path) -> Result<(), ToolError> {
        let clang = |e: ToolError| e.install_hint("clang-22");
        let scratch = scratch_name(out);
        let assembly = source.extension().is_some_and(|x| x == "S");
        let ir = scratch.with_extension(if assembly { "i.s" } else { "ll" });
        let mut clang_cmd = Command::new(CLANG);
        clang_cmd.arg("--target=xtensa").args(flags);
        if assembly {
            clang_cmd.args(["-E", "-P", "-x", "assembler-with-cpp"]);
        } else {
            clang_cmd.args(["-S", "-emit-llvm"]);
        }
        let result = run_tool(clang_cmd.arg(source).arg("-o").arg(&ir)).map_err(clang).and_then(|()| match (assembly, output) {
            (true, Output::Object) => self.assemble(&ir, out),
            (true, Output::Assembly) => std::fs::copy(&ir, out).map(drop).map_err(|e| ToolError::Failed(format!("{}: {e}", out.display()))),
            (false, _) => self.finish_ir(&ir, output, out, &scratch),
        });
        let _ = std::fs::remove_file(&ir);
        result
    }
}

/// Intermediate files beside `out`, named for this process (parallel builds of one
/// output never share them).
fn scratch_name(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    out.with_file_name(name)
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
/// before its text section (`*(.literal .text .literal.* .text.*)`, as the ESP linker
/// scripts have it), within `l32r`'s 256 KiB reach.
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
