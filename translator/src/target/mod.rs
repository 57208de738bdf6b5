//! Where programs run: the engines and targets the command line can pick (and which
//! pairs of them exist), the host's in-process engines, Linux ISAs under qemu-user and
//! bare-metal SoCs (both through one harness), and one way to run conformance data on
//! any of them.

pub mod bare_metal;
pub mod c_compiler;
#[cfg(feature = "cranelift")]
pub mod cross_linux;
mod execution;
pub mod harness;
pub mod host;
pub mod llvm_xtensa;
pub mod runtime_lib;
pub mod socs;
pub mod tools;
pub mod workdir;

pub use execution::{verify_conformance, Execution, Line, Run, CONFORMANCE_BUDGET, CONFORMANCE_FRAME};

use fc_runtime::helpers::Profile;
use fc_runtime::interp::{Engine, Interp, Reference};
use fc_runtime::stores::StoreContext;
use fc_runtime::vm::{LoadError, Parts};
use fc_runtime::{error_string, VirtualMachine};

use bare_metal::Soc;
use harness::RuntimeEngine;

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
    /// other ISAs linked with the runtime built for the ISA, run under qemu.
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

/// `--target`: where the engine's code runs. Each value's help names the engines it
/// takes (the pairs [`place`] knows), the first being the default there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// In this process: every engine (default interp).
    Host,
    /// Engine aot: x86-64 Linux, as a separate program (the runtime built for the ISA
    /// calling the Cranelift objects, as on every target but the host).
    #[cfg(feature = "cranelift")]
    #[value(name = "x86_64")]
    X86_64,
    /// Engine aot: AArch64 Linux under qemu-aarch64 (the runtime built for the ISA).
    #[cfg(feature = "cranelift")]
    Aarch64,
    /// Engine aot: RISC-V 64 Linux under qemu-riscv64 (the runtime built for the ISA).
    #[cfg(feature = "cranelift")]
    Riscv64gc,
    /// Engines c, interp, reference: ESP32-C3 (rv32imc, ilp32): the runtime bare metal under
    /// qemu-riscv32, translated C cross-compiled with riscv64-unknown-elf-gcc (targets/esp32c3/).
    #[value(name = "esp32c3")]
    Esp32c3,
    /// Engines c, interp, reference: RP2040 (Cortex-M0+, ARMv6-M Thumb): the runtime bare
    /// metal under qemu-arm, translated C cross-compiled with arm-none-eabi-gcc
    /// -mcpu=cortex-m0plus -mthumb (targets/rp2040/).
    #[value(name = "rp2040")]
    Rp2040,
    /// Engines c, interp, reference: ESP8266 (Xtensa LX106, call0 ABI): the runtime bare
    /// metal under qemu-xtensa -cpu lx106, translated C cross-compiled with
    /// xtensa-lx106-elf-gcc -mlongcalls (targets/esp8266/).
    #[value(name = "esp8266")]
    Esp8266,
    /// Engines c, interp, reference: ESP32 (Xtensa LX6, windowed ABI): the runtime bare metal
    /// under qemu-xtensa -cpu dc233c, translated C compiled by LLVM 22 (clang-22, llc
    /// -mcpu=esp32) (targets/esp32/).
    #[value(name = "esp32")]
    Esp32,
    /// Engines c, interp, reference: ESP32-S2 (Xtensa LX7, windowed ABI, no loops/MAC16/FPU):
    /// as esp32, with the S2's options (targets/esp32s2/).
    #[value(name = "esp32s2")]
    Esp32s2,
    /// Engines c, interp, reference: ESP32-S3 (Xtensa LX7, windowed ABI): as esp32, with the
    /// S3's address map (targets/esp32s3/).
    #[value(name = "esp32s3")]
    Esp32s3,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Host => "host",
            #[cfg(feature = "cranelift")]
            Target::X86_64 => "x86_64",
            #[cfg(feature = "cranelift")]
            Target::Aarch64 => "aarch64",
            #[cfg(feature = "cranelift")]
            Target::Riscv64gc => "riscv64gc",
            Target::Esp32c3 => "esp32c3",
            Target::Rp2040 => "rp2040",
            Target::Esp8266 => "esp8266",
            Target::Esp32 => "esp32",
            Target::Esp32s2 => "esp32s2",
            Target::Esp32s3 => "esp32s3",
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
        (kind, target) => Err(format!("engine `{}` does not run on target `{}` in this process", kind.name(), target.name())),
    }
}

/// Where an engine's code runs for a `--target`.
pub enum Place {
    /// In this process ([`engine`]).
    Host,
    /// On a bare-metal SoC under qemu, on the runtime there with one of its engines.
    Soc(&'static Soc, RuntimeEngine),
    /// On a Linux ISA under qemu-user, through the harness.
    #[cfg(feature = "cranelift")]
    Cross(&'static cross_linux::Cross),
}

impl Place {
    /// The harness that runs programs there (a SoC's translated code in flash); `None`
    /// in this process.
    pub fn harness(&self) -> Option<Box<dyn harness::Harness>> {
        match *self {
            Place::Host => None,
            Place::Soc(soc, engine) => Some(Box::new(soc.placed(engine, soc.flash()))),
            #[cfg(feature = "cranelift")]
            Place::Cross(cross) => Some(Box::new(cross)),
        }
    }
}

/// An engine and a target that do not go together: a usage error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoSuchPair {
    pub kind: EngineKind,
    pub target: Target,
}

impl std::fmt::Display for NoSuchPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let there: Vec<&str> = engines_on(self.target).iter().map(|e| e.name()).collect();
        write!(f, "engine `{}` does not run on target `{}` (there: {})", self.kind.name(), self.target.name(), there.join(", "))
    }
}

impl std::error::Error for NoSuchPair {}

/// The engines that run on `target`, its default first.
pub fn engines_on(target: Target) -> &'static [EngineKind] {
    match target {
        Target::Host => {
            const HOST_DEFAULT_FIRST: &[EngineKind] = &[
                EngineKind::Interp,
                EngineKind::Reference,
                #[cfg(feature = "cranelift")]
                EngineKind::Jit,
                #[cfg(feature = "cranelift")]
                EngineKind::Aot,
                EngineKind::C,
            ];
            HOST_DEFAULT_FIRST
        }
        #[cfg(feature = "cranelift")]
        Target::X86_64 | Target::Aarch64 | Target::Riscv64gc => &[EngineKind::Aot],
        Target::Esp32c3 | Target::Rp2040 | Target::Esp8266 | Target::Esp32 | Target::Esp32s2 | Target::Esp32s3 => {
            &[EngineKind::C, EngineKind::Interp, EngineKind::Reference]
        }
    }
}

/// Where `kind` runs on `target`: every engine on the host, `c` and the runtime's
/// interpreters on the SoCs, `aot` on the other Linux ISAs.
pub fn place(kind: EngineKind, target: Target) -> Result<Place, NoSuchPair> {
    if !engines_on(target).contains(&kind) {
        return Err(NoSuchPair { kind, target });
    }
    Ok(match target {
        Target::Host => Place::Host,
        #[cfg(feature = "cranelift")]
        Target::X86_64 => Place::Cross(&cross_linux::X86_64),
        #[cfg(feature = "cranelift")]
        Target::Aarch64 => Place::Cross(&cross_linux::AARCH64),
        #[cfg(feature = "cranelift")]
        Target::Riscv64gc => Place::Cross(&cross_linux::RISCV64),
        Target::Esp32c3 | Target::Rp2040 | Target::Esp8266 | Target::Esp32 | Target::Esp32s2 | Target::Esp32s3 => {
            let soc = soc(target).expect("a SoC target");
            let engine = match kind {
                EngineKind::Reference => RuntimeEngine::Reference,
                EngineKind::Interp => RuntimeEngine::Interp,
                EngineKind::C => RuntimeEngine::Native,
                #[cfg(feature = "cranelift")]
                EngineKind::Jit | EngineKind::Aot => return Err(NoSuchPair { kind, target }),
            };
            Place::Soc(soc, engine)
        }
    })
}

/// The SoC a `--target` names, if it is a bare-metal one.
pub fn soc(target: Target) -> Option<&'static Soc> {
    match target {
        Target::Esp32c3 => Some(&socs::ESP32C3),
        Target::Rp2040 => Some(&socs::RP2040),
        Target::Esp8266 => Some(&socs::ESP8266),
        Target::Esp32 => Some(&socs::ESP32),
        Target::Esp32s2 => Some(&socs::ESP32S2),
        Target::Esp32s3 => Some(&socs::ESP32S3),
        Target::Host => None,
        #[cfg(feature = "cranelift")]
        Target::X86_64 | Target::Aarch64 | Target::Riscv64gc => None,
    }
}

/// Runs bare program text the way the conformance suite expects: r1 = a private
/// copy of `mem`, r2 = its length, 512-byte frames, profile `conformance`, and the
/// application helpers `apps` (in process only: no harness has them yet).
pub fn run_conformance(kind: EngineKind, target: Target, apps: &[AppHelper], program: &[u8], mem: &[u8]) -> Execution {
    if !apps.is_empty() && target != Target::Host {
        return Execution::Unavailable(format!("the {} harness has no application helpers (--app-helper runs on --target host)", target.name()));
    }
    let place = match place(kind, target) {
        Ok(p) => p,
        Err(e) => return Execution::Unavailable(e.to_string()),
    };
    if let Some(harness) = place.harness() {
        return harness::run_conformance(harness.as_ref(), program, mem);
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
