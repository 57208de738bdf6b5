//! Why a run stopped, in the source's terms: the error line of `fc-aot run`, with the
//! source line of the instruction and what the fault touched.
//!
//! Engines report only an error code and an instruction index (the native ABI has no room
//! for more, and needs none). The details come from replaying the same run on the
//! reference interpreter, which reports the access it refused; they are given only when
//! the replay stops with the same code at the same index, so a detail never describes a
//! different run than the one the engine made.

use std::cell::Cell;
use std::rc::Rc;

use fc_runtime::error::Trap;
use fc_runtime::format::Container;
use fc_runtime::helpers::Helpers;
use fc_runtime::interp::{reference, Engine, Invocation};
use fc_runtime::memory::{Access, MemoryMap, Refusal};
use fc_runtime::stores::StoreContext;
use fc_runtime::verifier::VerifiedProgram;
use fc_runtime::{error_string, ErrorCode, VirtualMachine};

use crate::container::lines::{insn_label, LineTable};
use crate::helpers::HelperSet;

/// The run to explain: what `fc-aot run` gave the VM.
pub struct Replay<'a> {
    pub container: &'a Container<'a>,
    /// The function run (`None`: the first of the function table).
    pub function: Option<&'a str>,
    /// The context as it was before the run (the run may have changed its copy).
    pub ctx: &'a [u8],
    /// Budget units allowed (`None`: `--budget off`).
    pub budget: Option<u32>,
    /// Stack bytes per frame.
    pub stack: usize,
    pub helpers: &'a HelperSet,
}

/// What follows `error: ` when a run stopped with `code` at instruction slot `pc`:
/// `ILLEGAL_MEM at insn 4 (oob.c:5): write of 4 bytes at 0x40000194, context is 20 bytes`.
/// The source line needs `lines`; the details, a replay that agrees (see the module).
pub fn describe_error(run: &Replay<'_>, lines: Option<&LineTable>, code: i32, pc: usize) -> String {
    let head = format!("{} at {}", error_string(code), insn_label(lines, pc));
    match ErrorCode::from_code(code).and_then(|code| detail(run, Trap { code, pc })) {
        Some(detail) => format!("{head}: {detail}"),
        None => head,
    }
}

/// The details of `trap`, if the replay stops the same way and there is more to say.
fn detail(run: &Replay<'_>, trap: Trap) -> Option<String> {
    let (replayed, refused) = replay(run)?;
    if replayed != Some(trap) {
        return None;
    }
    match trap.code {
        ErrorCode::IllegalMem => {
            let (attempt, why) = refused?;
            let what = match attempt.access {
                Access::Read => "read",
                Access::Write => "write",
                Access::ReadWrite => "atomic update",
            };
            Some(format!("{what} of {} bytes at 0x{:x}, {why}", attempt.len, attempt.addr))
        }
        ErrorCode::OutOfBranches => run.budget.map(|units| {
            format!("the {units} budget units allowed (taken jumps, helpers' work) ran out; --budget raises them")
        }),
        ErrorCode::Ok
        | ErrorCode::IllegalInstruction
        | ErrorCode::IllegalJump
        | ErrorCode::IllegalCall
        | ErrorCode::IllegalLen
        | ErrorCode::IllegalRegister
        | ErrorCode::NoReturn
        | ErrorCode::IllegalDiv
        | ErrorCode::NoMemory => None,
    }
}

/// The refused access of the last run and why the map refused it.
type Refused = Option<(reference::Attempt, Refusal)>;

/// The reference interpreter as an engine that keeps the access an ILLEGAL_MEM refused.
struct Detailing {
    refused: Rc<Cell<Refused>>,
}

impl Engine for Detailing {
    fn name(&self) -> &'static str {
        "reference"
    }
    fn prepare(&mut self, _program: &VerifiedProgram) -> Result<(), ErrorCode> {
        Ok(())
    }
    fn run(&mut self, program: &VerifiedProgram, inv: &Invocation, memory: &mut MemoryMap, helpers: &mut dyn Helpers) -> Result<u64, Trap> {
        reference::run_detailed(program, inv, memory, helpers).map_err(|stop| {
            let why = |a: reference::Attempt| memory.refusal(a.addr, a.len, a.access).map(|r| (a, r));
            self.refused.set(stop.refused.and_then(why));
            stop.trap
        })
    }
}

/// Runs `run` again on the reference interpreter, printing nothing: how it stopped
/// (`None` inside: it returned) and what it refused; `None` when it cannot be loaded or run.
fn replay(run: &Replay<'_>) -> Option<(Option<Trap>, Refused)> {
    let refused = Rc::new(Cell::new(None));
    let stores = StoreContext::new();
    let mut vm = VirtualMachine::new(&stores);
    vm.set_engine(Box::new(Detailing { refused: refused.clone() }));
    vm.set_budget(run.budget);
    let env = vm.environment();
    env.set_profile(run.helpers.profile);
    env.set_output(|_: &[u8]| {});
    run.helpers.install(env, |_| {});
    if !vm.load_container(run.container, run.stack) {
        return None;
    }
    let mut ctx = run.ctx.to_vec();
    match run.function {
        Some(name) => vm.execute_function(name, &mut ctx),
        None => vm.execute(&mut ctx),
    };
    let stopped = ErrorCode::from_code(vm.last_error()).filter(|&c| c != ErrorCode::Ok);
    Some((stopped.map(|code| Trap { code, pc: vm.last_error_pc() }), refused.get()))
}
