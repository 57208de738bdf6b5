//! The one native ABI (mirrored by `targets/include/fc_abi.h`): how translated code,
//! whether Cranelift or a C compiler made it, is called, and the engine that calls it.
//!
//! A translated entry function takes the environment and r1, r2 and returns r0; on a
//! fault it stores the error code and slot index in the environment.
//!
//! The budget (docs/budget.md): translated code keeps the countdown in a local, stores
//! it to `Env::budget` before every call (local or helper) and reloads it after. At a
//! taken jump with the countdown at 0 it stops with OUT_OF_BRANCHES, unless
//! [`FLAG_BUDGET_OFF`] is set: then it refills the countdown and goes on. The helper
//! dispatch charges a helper's cost against `Env::budget` before the helper runs; what
//! the budget cannot pay ends the run (`error` OUT_OF_BRANCHES and `stop`), and
//! translated code, seeing `stop` after a helper call, stores that call's slot in
//! `error_pc`.

use crate::error::{ErrorCode, Trap};
use crate::helpers::{HelperOutcome, Helpers};
use crate::interp::Invocation;
use crate::memory::{MemoryMap, Region, SLOTS};
use crate::verifier::VerifiedProgram;

/// Version of the layout below; translated code exports it and the runtime checks it.
/// 2: `flags` (was reserved), helper calls spill and reload the budget and set `error_pc`
/// when a helper stops the run.
pub const ABI_VERSION: u32 = 2;

/// `Env::flags` bit: the budget is off. The countdown never runs out (translated code
/// refills it at 0) and helpers are not charged.
pub const FLAG_BUDGET_OFF: u32 = 1;

/// Helper dispatch as translated code calls it: the environment, the helper id, r1..r5.
pub type HelperFn = unsafe extern "C" fn(env: *mut Env, id: u32, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> u64;

/// A translated entry function: `r0 = f(env, r1, r2)`.
pub type EntryFn = unsafe extern "C" fn(env: *mut Env, r1: u64, r2: u64) -> u64;

/// `fc_env`: everything translated code reads and writes besides registers.
#[derive(Debug)]
#[repr(C)]
pub struct Env {
    /// The address map: slot i holds the region at `i << 28`.
    pub regions: [Region; SLOTS],
    pub helper: HelperFn,
    /// The host's state for `helper`.
    pub host: *mut core::ffi::c_void,
    /// Budget units left (taken jumps, helper work); `u64::MAX` and refilled at 0
    /// when [`FLAG_BUDGET_OFF`] is set.
    pub budget: u64,
    /// Bytes per call level.
    pub frame_size: u64,
    /// r10 of the entry function.
    pub stack_top: u64,
    /// Out: the error code (0: none).
    pub error: i32,
    /// Out: the slot index of the fault.
    pub error_pc: u32,
    /// Set by a helper to end the program at once with r0 = the helper's result (unwind),
    /// or by the dispatch, with `error`, when the budget cannot pay a helper.
    pub stop: u32,
    /// In: [`FLAG_BUDGET_OFF`]; the other bits are 0.
    pub flags: u32,
}

/// Byte offsets of the fields translated code touches (checked against the struct in a test).
pub mod offsets {
    use super::*;
    pub const REGION_SIZE: usize = core::mem::size_of::<Region>();
    pub const REGION_BASE: usize = core::mem::offset_of!(Region, base);
    pub const REGION_LEN: usize = core::mem::offset_of!(Region, len);
    pub const REGION_WRITABLE: usize = core::mem::offset_of!(Region, writable);
    pub const HELPER: usize = core::mem::offset_of!(Env, helper);
    pub const BUDGET: usize = core::mem::offset_of!(Env, budget);
    pub const FRAME_SIZE: usize = core::mem::offset_of!(Env, frame_size);
    pub const STACK_TOP: usize = core::mem::offset_of!(Env, stack_top);
    pub const ERROR: usize = core::mem::offset_of!(Env, error);
    pub const ERROR_PC: usize = core::mem::offset_of!(Env, error_pc);
    pub const STOP: usize = core::mem::offset_of!(Env, stop);
    pub const FLAGS: usize = core::mem::offset_of!(Env, flags);
}

/// What the dispatcher reaches through `Env::host`.
struct Host<'m, 'r> {
    helpers: &'m mut dyn Helpers,
    memory: *mut MemoryMap<'r>,
}

unsafe extern "C" fn dispatch(env: *mut Env, id: u32, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> u64 {
    // SAFETY: native code passes back the `Env` that `run` lent it for the call it is
    // inside; `run` touches `env` only after that call returns.
    let env = unsafe { &mut *env };
    // SAFETY: `run` set `host` to its live `Host` for the duration of the call into
    // native code, and native code calls this only from inside that call.
    let host = unsafe { &mut *(env.host as *mut Host) };
    // SAFETY: `host.memory` is the `&mut MemoryMap` that `run` holds for the whole
    // call and does not use meanwhile.
    let memory = unsafe { &mut *host.memory };
    let args = [a1, a2, a3, a4, a5];
    let mut view = memory.helper_view();
    // The helper's work is charged first; what the budget cannot pay is not done.
    if env.flags & FLAG_BUDGET_OFF == 0 {
        let cost = host.helpers.cost(id, args, &view);
        if cost > env.budget {
            env.error = ErrorCode::OutOfBranches.code();
            env.stop = 1;
            return 0;
        }
        env.budget -= cost;
    }
    match host.helpers.call(id, args, &mut view) {
        HelperOutcome::Return(v) => v,
        HelperOutcome::Exit(v) => {
            env.stop = 1;
            v
        }
    }
}

/// Runs translated code for `inv` with the run's memory and helpers.
///
/// # Safety
/// `entry` must be code translated from `program` for this ABI version: it may only
/// touch memory through the regions of the environment.
pub unsafe fn run(
    entry: EntryFn,
    program: &VerifiedProgram,
    inv: &Invocation,
    memory: &mut MemoryMap,
    helpers: &mut dyn Helpers,
) -> Result<u64, Trap> {
    let regions = *memory.regions();
    let mut host = Host { helpers, memory: memory as *mut MemoryMap };
    let mut env = Env {
        regions,
        helper: dispatch,
        host: &mut host as *mut Host as *mut core::ffi::c_void,
        budget: inv.budget.map_or(u64::MAX, u64::from),
        frame_size: inv.frame_size as u64,
        stack_top: inv.stack_top(program),
        error: 0,
        error_pc: 0,
        stop: 0,
        flags: if inv.budget.is_none() { FLAG_BUDGET_OFF } else { 0 },
    };
    // SAFETY: the caller vouches `entry` is code translated from `program` for this ABI
    // (the function's contract); `env` and `host` live until it returns.
    let r0 = unsafe { entry(&mut env, inv.r1, inv.r2) };
    match env.error {
        0 => Ok(r0),
        code => Err(Trap {
            code: ErrorCode::from_code(code).unwrap_or(ErrorCode::IllegalInstruction),
            pc: env.error_pc as usize,
        }),
    }
}

/// Translated code linked into the host program (or loaded into it): entry points
/// by the slot their function starts at, checked against the program at load.
#[cfg(feature = "alloc")]
pub struct Linked {
    by_slot: alloc::vec::Vec<(usize, EntryFn)>,
    by_function: alloc::vec::Vec<(usize, EntryFn)>,
}

#[cfg(feature = "alloc")]
impl Linked {
    /// `abi_version` is what the translated object exports; another version is refused.
    ///
    /// # Safety
    /// Every entry point is code fc-aot translated (Cranelift or the C backend) for
    /// native ABI `abi_version` from a verified program: it touches memory only through
    /// the regions of the [`Env`] it is given and calls the host only through
    /// `Env::helper`. The engine runs it for whatever program it is prepared with.
    pub unsafe fn new(abi_version: u32, by_slot: alloc::vec::Vec<(usize, EntryFn)>) -> Result<Linked, ErrorCode> {
        if abi_version != ABI_VERSION {
            return Err(ErrorCode::IllegalInstruction);
        }
        Ok(Linked { by_slot, by_function: alloc::vec::Vec::new() })
    }
}

#[cfg(feature = "alloc")]
impl crate::interp::Engine for Linked {
    fn name(&self) -> &'static str {
        "native"
    }
    fn prepare(&mut self, program: &VerifiedProgram) -> Result<(), ErrorCode> {
        self.by_function.clear();
        for &(slot, entry) in &self.by_slot {
            let f = program.function_at(slot).ok_or(ErrorCode::IllegalCall)?;
            self.by_function.push((f, entry));
        }
        Ok(())
    }
    fn run(&mut self, program: &VerifiedProgram, inv: &Invocation, memory: &mut MemoryMap, helpers: &mut dyn Helpers) -> Result<u64, Trap> {
        let entry = self.by_function.iter().find(|(f, _)| *f == inv.function).map(|(_, e)| *e);
        let entry = entry.ok_or(Trap { code: ErrorCode::IllegalCall, pc: 0 })?;
        // SAFETY: every entry of `by_function` came from `by_slot`, which `new`'s caller
        // vouched is translated code for this ABI (`new` checked the version), and
        // `memory` and `helpers` live for the whole call.
        unsafe { run(entry, program, inv, memory, helpers) }
    }
}

#[cfg(test)]
mod tests {
    use super::offsets::*;

    #[test]
    fn the_layout_is_the_documented_one() {
        // targets/include/fc_abi.h spells the same layout for 64-bit hosts.
        assert_eq!((REGION_SIZE, REGION_BASE, REGION_LEN, REGION_WRITABLE), (16, 0, 8, 12));
        assert_eq!((HELPER, BUDGET, FRAME_SIZE, STACK_TOP), (256, 272, 280, 288));
        assert_eq!((ERROR, ERROR_PC, STOP, FLAGS), (296, 300, 304, 308));
        assert_eq!(core::mem::size_of::<super::Env>(), 312);
    }
}
