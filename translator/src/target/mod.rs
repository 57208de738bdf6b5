//! Where programs run: the engines and targets the command line can pick, the host's
//! in-process engines, Linux ISAs under qemu-user and bare-metal SoCs, and one way to
//! run conformance data on any of them.

pub mod bare_metal;
pub mod c_compiler;
#[cfg(feature = "cranelift")]
pub mod cross_linux;
mod execution;
pub mod host;
pub mod socs;
pub mod tools;

pub use execution::{verify_conformance, Execution, CONFORMANCE_BUDGET, CONFORMANCE_FRAME};

use fc_runtime::helpers::Profile;
use fc_runtime::interp::{Engine, Interp, Reference};
use fc_runtime::stores::StoreContext;
use fc_runtime::vm::{LoadError, Parts};
use fc_runtime::{error_string, VirtualMachine};

use bare_metal::Soc;

use crate::helpers::{AppHelper, HelperSet};

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

/// The SoC a `--target` names, if it is a bare-metal one.
pub fn soc(target: Target) -> Option<&'static Soc> {
    match target {
        Target::Esp32c3 => Some(&socs::ESP32C3),
        Target::Rp2040 => Some(&socs::RP2040),
        Target::Esp8266 => Some(&socs::ESP8266),
        Target::Host | Target::X86_64 | Target::Aarch64 | Target::Riscv64gc => None,
    }
}

/// Runs bare program text the way the conformance suite expects: r1 = a private
/// copy of `mem`, r2 = its length, 512-byte frames, profile `conformance`, and the
/// application helpers `apps` (in process only: no harness has them yet).
pub fn run_conformance(kind: EngineKind, target: Target, apps: &[AppHelper], program: &[u8], mem: &[u8]) -> Execution {
    if !apps.is_empty() && target != Target::Host {
        return Execution::Unavailable(format!("the {} harness has no application helpers (--app-helper runs on --target host)", target.name()));
    }
    if kind == EngineKind::C {
        if let Some(soc) = soc(target) {
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
    HelperSet::new(Profile::Conformance, apps).install(vm.environment(), |_| {});
    vm.set_engine(engine);
    vm.set_budget(Some(CONFORMANCE_BUDGET));
    let parts = Parts { text: program, data: &[], bss_len: 0, rodata: &[], functions: Vec::new() };
    if !vm.load_parts(parts, CONFORMANCE_FRAME) {
        return match vm.load_error() {
            // The engine's failure, not the program's: never "the expected error".
            Some(e @ LoadError::Engine { .. }) => Execution::Unavailable(e.to_string()),
            Some(e) => Execution::Rejected(e.to_string()),
            None => Execution::Rejected(error_string(vm.last_error()).to_string()),
        };
    }
    let mut ctx = mem.to_vec();
    let r0 = vm.execute(&mut ctx);
    match vm.last_error() {
        0 => Execution::Returned(r0 as u64),
        code => Execution::Failed(format!("{} at insn {}", error_string(code), vm.last_error_pc())),
    }
}
