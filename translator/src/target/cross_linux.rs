//! Cranelift objects for x86-64, AArch64 and RISC-V 64 Linux, linked with the C
//! conformance harness by the ISA's cross gcc and run under qemu-user.

use std::path::Path;
use std::process::Command;

use fc_runtime::verifier::VerifiedProgram;

use super::tools::{output, run_tool, scratch, write, ToolError};
use super::execution::{verify_conformance, Execution};
use crate::backend::clif::object::translate;
use crate::backend::Input;
use crate::text::hex;

/// A Cranelift ISA other than the host's, run under qemu-user with the C harness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cross {
    pub triple: &'static str,
    pub gcc: &'static str,
    /// The Debian package that has `gcc`.
    pub gcc_package: &'static str,
    /// Empty for the host's own ISA.
    pub qemu: &'static str,
}

pub const AARCH64: Cross = Cross { triple: "aarch64-unknown-linux-gnu", gcc: "aarch64-linux-gnu-gcc", gcc_package: "gcc-aarch64-linux-gnu", qemu: "qemu-aarch64" };
pub const RISCV64: Cross = Cross { triple: "riscv64gc-unknown-linux-gnu", gcc: "riscv64-linux-gnu-gcc", gcc_package: "gcc-riscv64-linux-gnu", qemu: "qemu-riscv64" };
pub const X86_64: Cross = Cross { triple: "x86_64-unknown-linux-gnu", gcc: "cc", gcc_package: "gcc", qemu: "" };

/// The C harness: it runs `fc_prog_main` with the conformance profile's helper.
const HARNESS: &str = include_str!("../../../targets/common/conformance_harness.c");
const ABI_H: &str = include_str!("../../../targets/include/fc_abi.h");
const HEX_H: &str = include_str!("../../../targets/common/fc_hex.h");

/// Runs bare program text on `cross`: translate, link with the harness, run under qemu.
/// Returns the harness's stdout (`0x<r0>` or an error line) and whether it succeeded.
fn run_harness(cross: Cross, program: &VerifiedProgram, memory_hex: &str, workdir: &Path) -> Result<(bool, String), ToolError> {
    let functions = vec![("main".to_string(), program.entries()[0])];
    let input = Input { container: "prog", program, functions: &functions, data: &[], bss_len: 0, rodata: &[] };
    let object = translate(&input, cross.triple, false, None).map_err(ToolError::Failed)?;
    // The harness is compiled once per target and only linked per program.
    let harness = workdir.join(format!("conformance_harness-{}.o", cross.triple));
    if !harness.exists() {
        // Each target gets its own copy of the sources: targets may be built in parallel.
        let include = workdir.join(cross.triple);
        std::fs::create_dir_all(&include).map_err(|e| ToolError::Failed(format!("{}: {e}", include.display())))?;
        let source = include.join("conformance_harness.c");
        write(&include.join("fc_abi.h"), ABI_H)?;
        write(&include.join("fc_hex.h"), HEX_H)?;
        write(&source, HARNESS)?;
        let partial = workdir.join(format!("conformance_harness-{}.tmp.o", cross.triple));
        run_tool(Command::new(cross.gcc).args(["-O2", "-c", "-o"]).arg(&partial).arg(&source).arg("-I").arg(&include))
            .map_err(|e| e.install_hint(cross.gcc_package))?;
        std::fs::rename(&partial, &harness).map_err(|e| ToolError::Failed(format!("{}: {e}", harness.display())))?;
    }
    let dir = scratch()?;
    let (obj, exe) = (dir.join("prog.o"), dir.join("prog"));
    let out = write(&obj, object)
        .and_then(|()| run_tool(Command::new(cross.gcc).args(["-static", "-o"]).arg(&exe).arg(&harness).arg(&obj)))
        .and_then(|()| {
            let mut cmd = if cross.qemu.is_empty() { Command::new(&exe) } else { Command::new(cross.qemu) };
            if !cross.qemu.is_empty() {
                cmd.arg(&exe);
            }
            if !memory_hex.is_empty() {
                cmd.arg(memory_hex);
            }
            output(&mut cmd).map_err(|e| e.install_hint("qemu-user"))
        });
    let _ = std::fs::remove_dir_all(&dir);
    let out = out?;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stdout).trim().to_string()))
}

/// Verifies and runs bare text the conformance way on `cross`.
pub fn run_conformance(cross: Cross, program: &[u8], mem: &[u8]) -> Execution {
    let verified = match verify_conformance(program) {
        Ok(v) => v,
        Err(rejected) => return rejected,
    };
    static WORKDIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let workdir = WORKDIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("fc-aot-harness-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir
    });
    Execution::from_harness(run_harness(cross, &verified, &hex::encode(mem), workdir))
}
