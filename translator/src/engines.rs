//! The engines and targets the command line can pick (spec §5), and one way to run a program on them.

use fc_runtime::helpers::Profile;
use fc_runtime::interp::{Engine, Interp, Reference};
use fc_runtime::stores::StoreContext;
use fc_runtime::vm::Parts;
use fc_runtime::{error_string, VirtualMachine};

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
}

impl EngineKind {
    /// Every engine on the host, the reference first: the every-engine tests and the
    /// main job iterate this, so a new engine joins them by one line here.
    #[cfg(feature = "cranelift")]
    pub const ALL: &'static [EngineKind] = &[EngineKind::Reference, EngineKind::Interp, EngineKind::Jit];
    #[cfg(not(feature = "cranelift"))]
    pub const ALL: &'static [EngineKind] = &[EngineKind::Reference, EngineKind::Interp];

    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Reference => "reference",
            EngineKind::Interp => "interp",
            #[cfg(feature = "cranelift")]
            EngineKind::Jit => "jit",
        }
    }
}

/// `--target`: where the engine's code runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Host,
}

/// A fresh engine of `kind` for `target`.
pub fn engine(kind: EngineKind, target: Target) -> Box<dyn Engine> {
    match (kind, target) {
        (EngineKind::Reference, Target::Host) => Box::new(Reference),
        (EngineKind::Interp, Target::Host) => Box::new(Interp::default()),
        #[cfg(feature = "cranelift")]
        (EngineKind::Jit, Target::Host) => Box::new(crate::clif::jit::Jit::default()),
    }
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
}

/// Runs bare program text the way the conformance suite expects: r1 = a private
/// copy of `mem`, r2 = its length, 512-byte frames, profile `conformance`.
pub fn run_conformance(kind: EngineKind, target: Target, program: &[u8], mem: &[u8]) -> Execution {
    let stores = StoreContext::new();
    let mut vm = VirtualMachine::new(&stores);
    vm.environment().set_profile(Profile::Conformance);
    vm.set_engine(engine(kind, target));
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
