//! Where programs run: the engines and targets the command line can pick, the host's
//! in-process engines, Linux ISAs under qemu-user and bare-metal SoCs, and one way to
//! run conformance data on any of them.

pub mod bare_metal;
#[cfg(feature = "cranelift")]
pub mod cross_linux;
pub mod host;
pub mod socs;
pub mod tools;

use fc_runtime::helpers::{ConformanceHelpers, Helpers, Profile};
use fc_runtime::interp::{Engine, Interp, Reference};
use fc_runtime::stores::StoreContext;
use fc_runtime::verifier::{self, VerifiedProgram, DEFAULT_MAX_CALL_DEPTH};
use fc_runtime::vm::Parts;
use fc_runtime::{error_string, VirtualMachine};

use tools::ToolError;

/// `--engine`: the engines built so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// The reference interpreter, the oracle every engine is compared with.
    Reference,
    /// The optimized interpreter (the default).
    Interp,
    /// Cranelift, compiled in process at load.
    #[cfg(feature = "cranelift")]
    Jit,
    /// Cranelift object: on the host linked into a shared library and loaded; on
    /// other ISAs linked with the C harness and run under qemu.
    #[cfg(feature = "cranelift")]
    Aot,
    /// The C emitter's output compiled by the target's C compiler.
    C,
}

impl EngineKind {
    /// Every engine on the host, the reference first: the every-engine tests and the
    /// main job iterate this, so a new engine joins them by one line here.
    #[cfg(feature = "cranelift")]
    pub const ALL: &'static [EngineKind] =
        &[EngineKind::Reference, EngineKind::Interp, EngineKind::Jit, EngineKind::Aot, EngineKind::C];
    #[cfg(not(feature = "cranelift"))]
    pub const ALL: &'static [EngineKind] = &[EngineKind::Reference, EngineKind::Interp, EngineKind::C];

    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Reference => "reference",
            EngineKind::Interp => "interp",
            #[cfg(feature = "cranelift")]
            EngineKind::Jit => "jit",
            #[cfg(feature = "cranelift")]
            EngineKind::Aot => "aot",
            EngineKind::C => "c",
        }
    }
}

/// `--target`: where the engine's code runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// In this process.
    Host,
    /// x86-64 Linux, as a separate program.
    #[value(name = "x86_64")]
    X86_64,
    /// AArch64 Linux under qemu-aarch64.
    Aarch64,
    /// RISC-V 64 Linux under qemu-riscv64.
    Riscv64gc,
    /// ESP32-C3 (rv32imc, ilp32): the `c` engine's output cross-compiled with
    /// riscv64-unknown-elf-gcc and run bare metal under qemu-riscv32 (targets/esp32c3/).
    #[value(name = "esp32c3")]
    Esp32c3,
    /// RP2040 (Cortex-M0+, ARMv6-M Thumb): the `c` engine's output cross-compiled with
    /// arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb and run bare metal under qemu-arm (targets/rp2040/).
    #[value(name = "rp2040")]
    Rp2040,
    /// ESP8266 (Xtensa LX106, call0 ABI): the `c` engine's output cross-compiled with
    /// xtensa-lx106-elf-gcc -mlongcalls and run bare metal under qemu-xtensa -cpu lx106 (targets/esp8266/).
    #[value(name = "esp8266")]
    Esp8266,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Host => "host",
            Target::X86_64 => "x86_64",
            Target::Aarch64 => "aarch64",
            Target::Riscv64gc => "riscv64gc",
            Target::Esp32c3 => "esp32c3",
            Target::Rp2040 => "rp2040",
            Target::Esp8266 => "esp8266",
        }
    }
}

/// A fresh in-process engine of `kind` for `target`.
pub fn engine(kind: EngineKind, target: Target) -> Result<Box<dyn Engine>, String> {
    match (kind, target) {
        (EngineKind::Reference, Target::Host) => Ok(Box::new(Reference)),
        (EngineKind::Interp, Target::Host) => Ok(Box::new(Interp::default())),
        #[cfg(feature = "cranelift")]
        (EngineKind::Jit, Target::Host) => Ok(Box::new(crate::backend::clif::jit::Jit::default())),
        #[cfg(feature = "cranelift")]
        (EngineKind::Aot, Target::Host) => Ok(Box::new(host::aot_engine())),
        (EngineKind::C, Target::Host) => Ok(Box::new(host::c_engine())),
        (kind, target) => Err(format!(
            "engine `{}` does not run on target `{}` in this process (conformance data runs there through its harness)",
            kind.name(),
            target.name()
        )),
    }
}

/// The Linux ISA under qemu-user that runs conformance data for `kind` on `target`, if any.
#[cfg(feature = "cranelift")]
fn cross(kind: EngineKind, target: Target) -> Option<cross_linux::Cross> {
    match (kind, target) {
        (EngineKind::Aot, Target::X86_64) => Some(cross_linux::X86_64),
        (EngineKind::Aot, Target::Aarch64) => Some(cross_linux::AARCH64),
        (EngineKind::Aot, Target::Riscv64gc) => Some(cross_linux::RISCV64),
        _ => None,
    }
}

/// Verifies bare text for the conformance profile, as the harnesses of other targets run it.
pub fn verify_conformance(program: &[u8]) -> Result<VerifiedProgram<'_>, Execution> {
    let arity = |id| ConformanceHelpers.arity(id);
    let config = verifier::Config { max_call_depth: DEFAULT_MAX_CALL_DEPTH, helper_arity: &arity };
    verifier::verify(program, &[], &config)
        .map_err(|errors| Execution::Rejected(errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")))
}

/// Taken jumps a conformance program may make: far above what any test needs,
/// low enough that a runaway program stops within a second.
pub const CONFORMANCE_BUDGET: u32 = 1 << 24;
/// Frame size the conformance tests assume.
pub const CONFORMANCE_FRAME: usize = 512;

/// How a conformance-style run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Execution {
    /// The program ran to its exit: r0.
    Returned(u64),
    /// The load (verifier) refused it.
    Rejected(String),
    /// It stopped with an error while running.
    Failed(String),
    /// The engine could not run here (a compiler or qemu is missing, or building the
    /// code failed): not a result of the program, never counted as an expected error.
    Unavailable(String),
}

impl Execution {
    /// What a harness printed when it ran: `0x<r0>` on success, else its error line.
    pub fn from_harness(outcome: Result<(bool, String), ToolError>) -> Execution {
        match outcome {
            Ok((true, out)) => {
                let out = out.trim();
                match u64::from_str_radix(out.trim_start_matches("0x"), 16) {
                    Ok(r0) => Execution::Returned(r0),
                    Err(_) => Execution::Unavailable(format!("the harness printed `{out}`")),
                }
            }
            Ok((false, out)) => Execution::Failed(out.trim().to_string()),
            Err(ToolError::Unavailable(why) | ToolError::Failed(why)) => Execution::Unavailable(why),
        }
    }
}

/// Runs bare program text the way the conformance suite expects: r1 = a private
/// copy of `mem`, r2 = its length, 512-byte frames, profile `conformance`.
pub fn run_conformance(kind: EngineKind, target: Target, program: &[u8], mem: &[u8]) -> Execution {
    if kind == EngineKind::C {
        if let Some(soc) = socs::soc(target) {
            return soc.run_conformance(program, mem);
        }
    }
    #[cfg(feature = "cranelift")]
    if let Some(cross) = cross(kind, target) {
        return cross_linux::run_conformance(cross, program, mem);
    }
    let engine = match engine(kind, target) {
        Ok(e) => e,
        Err(e) => return Execution::Unavailable(e),
    };
    let stores = StoreContext::new();
    let mut vm = VirtualMachine::new(&stores);
    vm.environment().set_profile(Profile::Conformance);
    vm.set_engine(engine);
    vm.set_budget(Some(CONFORMANCE_BUDGET));
    let parts = Parts { text: program, data: &[], bss_len: 0, rodata: &[], functions: Vec::new() };
    if !vm.load_parts(parts, CONFORMANCE_FRAME) {
        return Execution::Rejected(vm.load_error().map(|e| e.to_string()).unwrap_or_default());
    }
    let mut ctx = mem.to_vec();
    let r0 = vm.execute(&mut ctx);
    match vm.last_error() {
        0 => Execution::Returned(r0 as u64),
        code => Execution::Failed(format!("{} at insn {}", error_string(code), vm.last_error_pc())),
    }
}
