//! The interpreters and what a run needs besides memory and helpers.

pub mod fast;
pub mod reference;

use crate::memory::STACK_START;
use crate::verifier::VerifiedProgram;

/// Default size of one stack frame in bytes (spec §4).
pub const DEFAULT_FRAME_SIZE: usize = 512;
/// Default branch budget: taken jumps per run (the old engine's value).
pub const DEFAULT_BUDGET: u32 = 200;

/// One run: which function, its first two arguments, the branch budget, the frame size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// Index into [`VerifiedProgram::functions`].
    pub function: usize,
    /// Context address (0 without a context).
    pub r1: u64,
    /// Context length.
    pub r2: u64,
    /// Taken jumps allowed; `None` switches the bound off.
    pub budget: Option<u32>,
    pub frame_size: usize,
}

impl Invocation {
    /// Bytes of stack the run needs: one frame per call level, D + 1 in all
    /// (saturating: a load checks the whole reserved stack fits the address map).
    pub fn stack_len(&self, program: &VerifiedProgram) -> usize {
        self.frame_size.saturating_mul(program.depth(self.function).saturating_add(1))
    }
    /// The entry function's r10: the top of the whole reserved stack.
    pub fn stack_top(&self, program: &VerifiedProgram) -> u64 {
        STACK_START + self.stack_len(program) as u64
    }
}

use crate::error::{ErrorCode, Trap};
use crate::helpers::Helpers;
use crate::memory::MemoryMap;

/// Why an engine could not prepare a verified program: never the program's fault, so
/// never reported as one of the program's errors. Engines that fail this way return
/// ILLEGAL_INSTRUCTION from `prepare` (the program cannot be run by this engine); NO_MEMORY
/// stays for memory that could not be allocated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineFailure {
    /// The engine cannot run here: a tool it needs (a compiler, an emulator) is missing.
    Unavailable(alloc::string::String),
    /// Translating or building the program failed (the compiler's message).
    Build(alloc::string::String),
}

impl core::fmt::Display for EngineFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            EngineFailure::Unavailable(why) => write!(f, "unavailable here: {why}"),
            EngineFailure::Build(why) => write!(f, "cannot build the program: {why}"),
        }
    }
}

/// A way of executing verified programs. The VM, the conformance runner and the
/// every-engine tests run all engines through this one trait.
pub trait Engine {
    fn name(&self) -> &'static str;
    /// Called once per load, before any run (compiling goes here).
    fn prepare(&mut self, program: &VerifiedProgram) -> Result<(), ErrorCode>;
    /// Why the last [`prepare`](Self::prepare) failed, when the engine knows more than
    /// its error code (a missing compiler, a compiler's message): the VM puts it in its
    /// load error.
    fn failure(&self) -> Option<&EngineFailure> {
        None
    }
    /// Runs one invocation of the program `prepare` last saw.
    fn run(
        &mut self,
        program: &VerifiedProgram,
        inv: &Invocation,
        memory: &mut MemoryMap,
        helpers: &mut dyn Helpers,
    ) -> Result<u64, Trap>;
}

/// The reference interpreter as an engine.
#[derive(Clone, Copy, Debug, Default)]
pub struct Reference;

impl Engine for Reference {
    fn name(&self) -> &'static str {
        "reference"
    }
    fn prepare(&mut self, _program: &VerifiedProgram) -> Result<(), ErrorCode> {
        Ok(())
    }
    fn run(&mut self, program: &VerifiedProgram, inv: &Invocation, memory: &mut MemoryMap, helpers: &mut dyn Helpers) -> Result<u64, Trap> {
        reference::run(program, inv, memory, helpers)
    }
}

/// The optimized interpreter as an engine: compiles at load into a buffer it keeps.
/// A run of another program than the one `prepare` last saw fails (ILLEGAL_INSTRUCTION).
#[derive(Debug, Default)]
pub struct Interp {
    code: Option<fast::Code<alloc::vec::Vec<fast::Compiled>>>,
    workspace: Option<alloc::boxed::Box<fast::Workspace>>,
}

impl Engine for Interp {
    fn name(&self) -> &'static str {
        "interp"
    }
    fn prepare(&mut self, program: &VerifiedProgram) -> Result<(), ErrorCode> {
        let mut buffer = self.code.take().map(fast::Code::into_buffer).unwrap_or_default();
        buffer.clear();
        let n = program.slot_count();
        buffer.try_reserve_exact(n).map_err(|_| ErrorCode::NoMemory)?;
        buffer.resize(n, fast::Compiled::TAIL);
        self.code = Some(fast::compile(program, buffer)?);
        // The old workspace goes first, so that a small arena can reuse its memory.
        self.workspace = None;
        self.workspace = Some(fast::Workspace::for_program(program)?);
        Ok(())
    }
    fn run(&mut self, program: &VerifiedProgram, inv: &Invocation, memory: &mut MemoryMap, helpers: &mut dyn Helpers) -> Result<u64, Trap> {
        match (&self.code, &mut self.workspace) {
            (Some(code), Some(w)) => fast::run(program, code, inv, memory, helpers, w),
            (None, _) | (_, None) => Err(Trap { code: ErrorCode::IllegalInstruction, pc: 0 }),
        }
    }
}
