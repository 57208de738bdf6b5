//! Relocatable objects through `cranelift-object`, and the `aot` engine that runs them:
//! on the host linked into a shared object and loaded in process, on other ISAs
//! linked with the C harness and run under qemu.

use std::path::Path;
use std::process::Command;

use cranelift_module::{DataDescription, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};
use fc_runtime::native::ABI_VERSION;
use fc_runtime::verifier::VerifiedProgram;

use super::lower::lower;
use crate::host_native::{run_tool, scratch, HostNative, NATIVE_CONTAINER};
use crate::translate::symbol_part;

/// What goes into an object besides code.
pub struct ObjectInput<'a> {
    /// Container name: symbols are `fc_<container>_...`.
    pub container: &'a str,
    pub program: &'a VerifiedProgram<'a>,
    /// Exported functions: (name, function index).
    pub functions: &'a [(String, usize)],
    pub data: &'a [u8],
    pub bss_len: usize,
    pub rodata: &'a [u8],
}

fn define_bytes(module: &mut ObjectModule, name: &str, bytes: &[u8], align: u64) -> Result<(), String> {
    let id = module.declare_data(name, Linkage::Export, false, false).map_err(|e| e.to_string())?;
    let mut data = DataDescription::new();
    data.define(bytes.to_vec().into_boxed_slice());
    data.set_align(align);
    module.define_data(id, &data).map_err(|e| e.to_string())
}

/// Translates to a relocatable object for `triple` (Cranelift ISAs only).
/// `clif` receives the IR text when given.
pub fn translate(input: &ObjectInput, triple: &str, pic: bool, clif: Option<&mut String>) -> Result<Vec<u8>, String> {
    let isa = super::isa(triple, pic)?;
    let builder = ObjectBuilder::new(isa, input.container, cranelift_module::default_libcall_names()).map_err(|e| e.to_string())?;
    let mut module = ObjectModule::new(builder);
    let prefix = format!("fc_{}", symbol_part(input.container));
    let exported: Vec<(String, usize)> =
        input.functions.iter().map(|(name, f)| (format!("{prefix}_{}", symbol_part(name)), *f)).collect();
    lower(&mut module, input.program, &prefix, &exported, clif).map_err(|e| e.to_string())?;
    let u32_le = |v: usize| (v as u32).to_le_bytes();
    define_bytes(&mut module, &format!("{prefix}_abi_version"), &ABI_VERSION.to_le_bytes(), 4)?;
    for (name, f) in &exported {
        define_bytes(&mut module, &format!("{name}_depth"), &u32_le(input.program.depth(*f)), 4)?;
    }
    // Native code owns aligned copies of its data and rodata (spec §2 "Alignment").
    define_bytes(&mut module, &format!("{prefix}_rodata"), &padded(input.rodata), 8)?;
    define_bytes(&mut module, &format!("{prefix}_rodata_len"), &u32_le(input.rodata.len()), 4)?;
    define_bytes(&mut module, &format!("{prefix}_data"), &padded(input.data), 8)?;
    define_bytes(&mut module, &format!("{prefix}_data_len"), &u32_le(input.data.len()), 4)?;
    define_bytes(&mut module, &format!("{prefix}_bss_len"), &u32_le(input.bss_len), 4)?;
    module.finish().emit().map_err(|e| e.to_string())
}

/// At least one byte, so every symbol has an address.
fn padded(bytes: &[u8]) -> Vec<u8> {
    if bytes.is_empty() { vec![0] } else { bytes.to_vec() }
}

/// The `aot` engine on the host: the object linked into a shared library with the
/// host's `cc` and loaded in process, so runs share the VM's memory and helpers.
pub fn aot_engine() -> HostNative {
    HostNative::new("aot", |program, functions| {
        let input = ObjectInput { container: NATIVE_CONTAINER, program, functions, data: &[], bss_len: 0, rodata: &[] };
        Ok(("container.o", translate(&input, &super::host_triple(), true, None)?))
    })
}

/// A Cranelift ISA other than the host's, run under qemu-user with the C harness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cross {
    pub triple: &'static str,
    pub gcc: &'static str,
    pub qemu: &'static str,
}

pub const AARCH64: Cross = Cross { triple: "aarch64-unknown-linux-gnu", gcc: "aarch64-linux-gnu-gcc", qemu: "qemu-aarch64" };
pub const RISCV64: Cross = Cross { triple: "riscv64gc-unknown-linux-gnu", gcc: "riscv64-linux-gnu-gcc", qemu: "qemu-riscv64" };
pub const X86_64: Cross = Cross { triple: "x86_64-unknown-linux-gnu", gcc: "cc", qemu: "" };

/// The C harness: it runs `fc_prog_main` with the conformance profile's helper.
const HARNESS: &str = include_str!("../../../targets/common/conformance_harness.c");
const ABI_H: &str = include_str!("../../../targets/include/fc_abi.h");
const HEX_H: &str = include_str!("../../../targets/common/fc_hex.h");

/// Runs bare program text on `cross`: translate, link with the harness, run under qemu.
/// Returns the harness's stdout (`0x<r0>` or an error line) and whether it succeeded.
pub fn run_cross(cross: Cross, program: &VerifiedProgram, memory_hex: &str, workdir: &Path) -> Result<(bool, String), String> {
    let functions = vec![("main".to_string(), program.entries()[0])];
    let input = ObjectInput { container: "prog", program, functions: &functions, data: &[], bss_len: 0, rodata: &[] };
    let object = translate(&input, cross.triple, false, None)?;
    // The harness is compiled once per target and only linked per program.
    let harness = workdir.join(format!("conformance_harness-{}.o", cross.triple));
    if !harness.exists() {
        // Each target gets its own copy of the sources: targets may be built in parallel.
        let include = workdir.join(cross.triple);
        std::fs::create_dir_all(&include).map_err(|e| e.to_string())?;
        let source = include.join("conformance_harness.c");
        std::fs::write(include.join("fc_abi.h"), ABI_H).map_err(|e| e.to_string())?;
        std::fs::write(include.join("fc_hex.h"), HEX_H).map_err(|e| e.to_string())?;
        std::fs::write(&source, HARNESS).map_err(|e| e.to_string())?;
        let partial = workdir.join(format!("conformance_harness-{}.tmp.o", cross.triple));
        run_tool(Command::new(cross.gcc).args(["-O2", "-c", "-o"]).arg(&partial).arg(&source).arg("-I").arg(&include))?;
        std::fs::rename(&partial, &harness).map_err(|e| e.to_string())?;
    }
    let dir = scratch()?;
    let (obj, exe) = (dir.join("prog.o"), dir.join("prog"));
    std::fs::write(&obj, object).map_err(|e| e.to_string())?;
    run_tool(Command::new(cross.gcc).args(["-static", "-o"]).arg(&exe).arg(&harness).arg(&obj))?;
    let mut cmd = if cross.qemu.is_empty() { Command::new(&exe) } else { Command::new(cross.qemu) };
    if !cross.qemu.is_empty() {
        cmd.arg(&exe);
    }
    if !memory_hex.is_empty() {
        cmd.arg(memory_hex);
    }
    let out = cmd.output().map_err(|e| format!("{}: {e}", cross.qemu));
    let _ = std::fs::remove_dir_all(&dir);
    let out = out?;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stdout).trim().to_string()))
}
