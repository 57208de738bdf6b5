//! The verifier: checks a text section once at load and builds the [`VerifiedProgram`] every engine runs.
//!
//! After it, no engine re-validates or decodes: instructions decode, jumps stay inside
//! their function and land on instruction starts, control never falls off a function,
//! calls reach function starts without recursion, helpers exist, and no register
//! is read before it is defined. This module holds the rules; [`program`] the IR
//! they produce (decoded instructions with resolved targets, functions, entries).

mod program;

pub use program::{Function, Instr, Instruction, ProgramId, Target, VerifiedProgram};
use program::BuildError;

use alloc::vec::Vec;
use core::fmt;

use crate::error::ErrorCode;
use crate::fallible::{self, OutOfMemory};
use crate::format::Container;
use crate::insn::{self, DecodeErrorKind, Op, Reg, RegSet};

/// Most instruction slots a program may have: 64 KiB of text, the reach of the
/// function table's 16-bit locations.
pub const MAX_SLOTS: usize = 8192;
/// Default bound on nested local calls below the function that is run.
pub const DEFAULT_MAX_CALL_DEPTH: usize = 8;
/// The bound can be raised up to this.
pub const CALL_DEPTH_LIMIT: usize = 32;
/// Most instructions one invocation may execute without taking a jump, counting
/// the instructions of every function it calls at every call site. The budget
/// counts taken jumps only (spec §2), so this bounds a run's time at
/// (budget + 1) x this, even for a tree of calls with no jump in it.
pub const MAX_STRAIGHT_LINE_WORK: u64 = 1 << 20;

/// What the verifier needs to know about the VM the program will run in.
pub struct Config<'h> {
    pub max_call_depth: usize,
    /// Arity of helper `id` if the VM provides it: how many of r1..r5 it reads.
    pub helper_arity: &'h dyn Fn(u32) -> Option<u8>,
}

/// Why a program was rejected, at which slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyError {
    pub pc: usize,
    pub kind: VerifyErrorKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyErrorKind {
    Decode(DecodeErrorKind),
    EmptyProgram,
    TooLarge { slots: usize },
    UndefinedRegister(Reg),
    WriteToR10,
    JumpOutsideFunction { target: i64 },
    JumpIntoLddw { target: usize },
    FallsOffEnd,
    UnknownHelper(u32),
    CallTargetNotFunction { target: i64 },
    Recursion,
    CallDepth { depth: usize, max: usize },
    /// A host-callable entry slot that is not an instruction start in the text.
    EntryNotInstruction { slot: usize },
    /// Calls fan out to more straight-line work than [`MAX_STRAIGHT_LINE_WORK`].
    CallTreeTooLarge { work: u64 },
}

impl VerifyErrorKind {
    /// The error code a failed load reports.
    pub const fn code(self) -> ErrorCode {
        match self {
            VerifyErrorKind::Decode(DecodeErrorKind::BadRegister { .. })
            | VerifyErrorKind::UndefinedRegister(_)
            | VerifyErrorKind::WriteToR10 => ErrorCode::IllegalRegister,
            VerifyErrorKind::Decode(_) => ErrorCode::IllegalInstruction,
            VerifyErrorKind::EmptyProgram | VerifyErrorKind::TooLarge { .. } => ErrorCode::IllegalLen,
            VerifyErrorKind::JumpOutsideFunction { .. } | VerifyErrorKind::JumpIntoLddw { .. } => ErrorCode::IllegalJump,
            VerifyErrorKind::FallsOffEnd => ErrorCode::NoReturn,
            VerifyErrorKind::UnknownHelper(_)
            | VerifyErrorKind::CallTargetNotFunction { .. }
            | VerifyErrorKind::Recursion
            | VerifyErrorKind::CallDepth { .. }
            | VerifyErrorKind::EntryNotInstruction { .. }
            | VerifyErrorKind::CallTreeTooLarge { .. } => ErrorCode::IllegalCall,
        }
    }
}

impl fmt::Display for VerifyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            VerifyErrorKind::Decode(k) => k.fmt(f),
            VerifyErrorKind::EmptyProgram => f.write_str("empty program"),
            VerifyErrorKind::TooLarge { slots } => write!(f, "{slots} instruction slots, more than the limit of {MAX_SLOTS}"),
            VerifyErrorKind::UndefinedRegister(r) => write!(f, "read of undefined register {r}"),
            VerifyErrorKind::WriteToR10 => f.write_str("write to r10, the read-only frame pointer"),
            VerifyErrorKind::JumpOutsideFunction { target } => write!(f, "jump target {target} is outside the function"),
            VerifyErrorKind::JumpIntoLddw { target } => write!(f, "jump target {target} is the second slot of an lddw"),
            VerifyErrorKind::FallsOffEnd => f.write_str("control falls off the end of the function"),
            VerifyErrorKind::UnknownHelper(id) => write!(f, "helper 0x{id:x} is not provided by this VM"),
            VerifyErrorKind::CallTargetNotFunction { target } => {
                write!(f, "local call target {target} is not the start of a function")
            }
            VerifyErrorKind::Recursion => f.write_str("recursive local call"),
            VerifyErrorKind::CallDepth { depth, max } => write!(f, "call depth {depth} exceeds the bound of {max}"),
            VerifyErrorKind::CallTreeTooLarge { work } => write!(
                f,
                "local calls fan out to {work} instructions between jumps, more than {MAX_STRAIGHT_LINE_WORK}"
            ),
            VerifyErrorKind::EntryNotInstruction { slot } => {
                write!(f, "entry point {slot} is not the start of an instruction in the text")
            }
        }
    }
}

/// Why the verifier refused a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The program breaks these rules (sorted by slot, never empty).
    Invalid(Vec<VerifyError>),
    /// The verifier's tables did not fit in the memory left (NO_MEMORY).
    NoMemory(OutOfMemory),
}

impl Rejection {
    /// The broken rules; none when the verifier ran out of memory.
    pub fn errors(&self) -> &[VerifyError] {
        match self {
            Rejection::Invalid(errors) => errors,
            Rejection::NoMemory(_) => &[],
        }
    }
}

impl From<OutOfMemory> for Rejection {
    fn from(e: OutOfMemory) -> Self {
        Rejection::NoMemory(e)
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "insn {}: {}", self.pc, self.kind)
    }
}

/// Verifies the text of a container; the function table gives the entry points.
pub fn verify_container<'a>(c: &Container<'a>, config: &Config) -> Result<VerifiedProgram<'a>, Rejection> {
    let entries = fallible::collect(c.functions().map(|f| f.slot()))?;
    verify(c.text, &entries, config)
}

/// Verifies `text`; `entry_slots` are the host-callable functions (slot 0 when empty).
pub fn verify<'a>(text: &'a [u8], entry_slots: &[usize], config: &Config) -> Result<VerifiedProgram<'a>, Rejection> {
    let n = insn::slot_count(text);
    let fail = |pc, kind| match fallible::collect([VerifyError { pc, kind }]) {
        Ok(one) => Err(Rejection::Invalid(one)),
        Err(e) => Err(Rejection::NoMemory(e)),
    };
    if n == 0 {
        return fail(0, VerifyErrorKind::EmptyProgram);
    }
    if n > MAX_SLOTS {
        return fail(MAX_SLOTS, VerifyErrorKind::TooLarge { slots: n });
    }
    let mut v = Verifier { config, ops: fallible::filled(None, n)?, errors: Vec::new(), out_of_memory: None };
    v.decode_all(text);
    v.rejection()?;
    let roots = if entry_slots.is_empty() { fallible::collect([0])? } else { fallible::collect(entry_slots.iter().copied())? };
    // A host passes any slots (`VirtualMachine::load_parts`); the passes below index by them.
    for &slot in &roots {
        if v.ops.get(slot).is_none_or(|op| op.is_none()) {
            v.error(slot, VerifyErrorKind::EntryNotInstruction { slot });
        }
    }
    v.rejection()?;
    let functions = v.functions(&roots)?;
    v.rejection()?;
    let mut functions = v.check_bodies(functions)?;
    let entries = fallible::collect(roots.iter().filter_map(|r| functions.iter().position(|f| f.start == *r)))?;
    let order = v.call_order(&mut functions, &entries)?;
    if v.errors.is_empty() {
        v.check_registers(&functions, &entries, &order)?;
    }
    v.rejection()?;
    let leaders = v.leaders(&functions)?;
    match VerifiedProgram::new(text, &v.ops, functions, leaders, entries) {
        Ok(program) => Ok(program),
        Err(BuildError::Invalid(e)) => fail(e.pc, e.kind),
        Err(BuildError::NoMemory(e)) => Err(Rejection::NoMemory(e)),
    }
}

struct Verifier<'c, 'h> {
    config: &'c Config<'h>,
    /// The instruction starting at each slot; `None` for LDDW second slots.
    ops: Vec<Option<Op>>,
    errors: Vec<VerifyError>,
    /// An error could not be recorded: the load fails with NO_MEMORY whatever else was found.
    out_of_memory: Option<OutOfMemory>,
}

impl Verifier<'_, '_> {
    fn error(&mut self, pc: usize, kind: VerifyErrorKind) {
        if let Err(e) = fallible::push(&mut self.errors, VerifyError { pc, kind }) {
            self.out_of_memory = Some(e);
        }
    }

    /// The errors found so far, sorted by slot, as the verdict; Ok while there are none.
    fn rejection(&mut self) -> Result<(), Rejection> {
        if let Some(e) = self.out_of_memory {
            return Err(Rejection::NoMemory(e));
        }
        if self.errors.is_empty() {
            return Ok(());
        }
        let mut errors = core::mem::take(&mut self.errors);
        // Stable (the first error found at a slot stays first) without the scratch buffer
        // `sort_by_key` allocates; each pass reports in slot order, so this is near linear.
        for i in 1..errors.len() {
            let mut j = i;
            while j > 0 && errors[j - 1].pc > errors[j].pc {
                errors.swap(j - 1, j);
                j -= 1;
            }
        }
        errors.dedup();
        Err(Rejection::Invalid(errors))
    }

    fn decode_all(&mut self, text: &[u8]) {
        for r in insn::Decoder::new(text) {
            match r {
                Ok(i) => self.ops[i.pc] = Some(i.op),
                Err(e) => self.error(e.pc, VerifyErrorKind::Decode(e.kind)),
            }
        }
    }

    /// Function starts are the entries and every local call target; each function
    /// runs to the next start.
    fn functions(&mut self, roots: &[usize]) -> Result<Vec<Function>, OutOfMemory> {
        let n = self.ops.len();
        let mut starts = fallible::collect(roots.iter().copied())?;
        for pc in 0..n {
            let Some(target) = self.ops[pc].and_then(|op| op.call_target(pc)) else { continue };
            match usize::try_from(target).ok().filter(|&t| t < n && self.ops[t].is_some()) {
                Some(t) => fallible::push(&mut starts, t)?,
                None => self.error(pc, VerifyErrorKind::CallTargetNotFunction { target }),
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let ends = starts.iter().skip(1).copied().chain([n]);
        fallible::collect(starts.iter().zip(ends).map(|(&start, end)| Function { start, end, callees: Vec::new(), depth: 0, instructions: 0..0 }))
    }

    /// Per-instruction rules that need the function's extent; fills in the callees.
    fn check_bodies(&mut self, mut functions: Vec<Function>) -> Result<Vec<Function>, OutOfMemory> {
        let starts = fallible::collect(functions.iter().map(|f| f.start))?;
        for f in functions.iter_mut() {
            for pc in f.start..f.end {
                let Some(op) = self.ops[pc] else { continue };
                if op.writes().contains(Reg::R10) {
                    self.error(pc, VerifyErrorKind::WriteToR10);
                }
                if let Some(target) = op.jump_target(pc) {
                    match usize::try_from(target).ok().filter(|t| (f.start..f.end).contains(t)) {
                        None => self.error(pc, VerifyErrorKind::JumpOutsideFunction { target }),
                        Some(t) if self.ops[t].is_none() => self.error(pc, VerifyErrorKind::JumpIntoLddw { target: t }),
                        Some(_) => {}
                    }
                }
                if op.falls_through() && pc + op.slots() >= f.end {
                    self.error(pc, VerifyErrorKind::FallsOffEnd);
                }
                match op {
                    Op::CallHelper { id } if (self.config.helper_arity)(id).is_none() => {
                        self.error(pc, VerifyErrorKind::UnknownHelper(id))
                    }
                    Op::CallLocal { .. } => {
                        let target = op.call_target(pc).unwrap_or(-1) as usize;
                        if let Ok(callee) = starts.binary_search(&target) {
                            if !f.callees.contains(&callee) {
                                fallible::push(&mut f.callees, callee)?;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(functions)
    }

    fn first_call_to(&self, f: &Function, callee_start: usize) -> usize {
        (f.start..f.end).find(|&pc| self.ops[pc].and_then(|op| op.call_target(pc)) == Some(callee_start as i64)).unwrap_or(f.start)
    }

    /// Rejects recursion, computes depths, and returns the functions reachable
    /// from the entries with every caller before its callees.
    fn call_order(&mut self, functions: &mut [Function], entries: &[usize]) -> Result<Vec<usize>, OutOfMemory> {
        // Depth-first post-order; a function met again while on the stack is recursion.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut mark = fallible::filled(Mark::New, functions.len())?;
        let mut post = Vec::new();
        for &root in entries {
            let mut stack = fallible::collect([(root, 0usize)])?;
            if mark[root] != Mark::New {
                continue;
            }
            mark[root] = Mark::Active;
            while let Some(&mut (f, ref mut next)) = stack.last_mut() {
                if let Some(&callee) = functions[f].callees.get(*next) {
                    *next += 1;
                    match mark[callee] {
                        Mark::New => {
                            mark[callee] = Mark::Active;
                            fallible::push(&mut stack, (callee, 0))?;
                        }
                        Mark::Active => {
                            let pc = self.first_call_to(&functions[f], functions[callee].start);
                            self.error(pc, VerifyErrorKind::Recursion);
                        }
                        Mark::Done => {}
                    }
                } else {
                    mark[f] = Mark::Done;
                    fallible::push(&mut post, f)?;
                    stack.pop();
                }
            }
        }
        if !self.errors.is_empty() {
            return Ok(post);
        }
        // Post-order visits callees first, so their depths and work are final when read.
        let mut work = fallible::filled(0u64, functions.len())?;
        for &f in &post {
            functions[f].depth = functions[f].callees.iter().map(|&c| functions[c].depth + 1).max().unwrap_or(0);
            let (start, end) = (functions[f].start, functions[f].end);
            let calls = (start..end).filter_map(|pc| self.ops[pc].and_then(|op| op.call_target(pc)));
            let callee_work: u64 = calls
                .filter_map(|t| functions.iter().position(|g| g.start as i64 == t))
                .fold(0u64, |sum, c| sum.saturating_add(work[c]));
            work[f] = ((end - start) as u64).saturating_add(callee_work);
        }
        for &root in entries {
            if work[root] > MAX_STRAIGHT_LINE_WORK {
                self.error(functions[root].start, VerifyErrorKind::CallTreeTooLarge { work: work[root] });
            }
        }
        let max = self.config.max_call_depth.min(CALL_DEPTH_LIMIT);
        for &root in entries {
            let depth = functions[root].depth;
            if depth > max {
                self.error(functions[root].start, VerifyErrorKind::CallDepth { depth, max });
            }
        }
        post.reverse();
        Ok(post)
    }

    /// Forward data flow of the set of defined registers through each function,
    /// callers first so every call site's state is known before its callee's entry.
    fn check_registers(&mut self, functions: &[Function], entries: &[usize], order: &[usize]) -> Result<(), OutOfMemory> {
        // A callee starts with r10 and those of r1..r5 defined at every call site.
        let mut entry_state: Vec<Option<RegSet>> = fallible::filled(None, functions.len())?;
        for &e in entries {
            entry_state[e] = Some(RegSet::ALL);
        }
        for &f in order {
            let func = &functions[f];
            let Some(start_state) = entry_state[f] else { continue };
            let mut state: Vec<Option<RegSet>> = fallible::filled(None, func.end - func.start)?;
            state[0] = Some(start_state);
            let mut work = fallible::collect([func.start])?;
            while let Some(pc) = work.pop() {
                let (Some(op), Some(defined)) = (self.ops[pc], state[pc - func.start]) else { continue };
                let after = match op {
                    Op::CallLocal { .. } => {
                        let callee = functions.binary_search_by_key(&(op.call_target(pc).unwrap_or(-1) as usize), |g| g.start);
                        if let Ok(c) = callee {
                            let arrive = defined.intersect(RegSet::ARGS).with(Reg::R10);
                            entry_state[c] = Some(entry_state[c].map_or(arrive, |s| s.intersect(arrive)));
                        }
                        defined.minus(RegSet::ARGS).with(Reg::R0)
                    }
                    _ => defined.union(op.writes()),
                };
                let successors = [op.falls_through().then_some(pc + op.slots()), op.jump_target(pc).map(|t| t as usize)];
                for next in successors.into_iter().flatten() {
                    let Some(slot) = next.checked_sub(func.start).filter(|&i| i < state.len()) else { continue };
                    let merged = state[slot].map_or(after, |s| s.intersect(after));
                    if state[slot] != Some(merged) {
                        state[slot] = Some(merged);
                        fallible::push(&mut work, next)?;
                    }
                }
            }
            for pc in func.start..func.end {
                let (Some(op), Some(defined)) = (self.ops[pc], state[pc - func.start]) else { continue };
                let mut reads = op.reads();
                if let Op::CallHelper { id } = op {
                    let arity = (self.config.helper_arity)(id).unwrap_or(0).min(5);
                    reads = RegSet(RegSet::ARGS.0 & ((1u16 << (arity + 1)) - 1));
                }
                if let Some(r) = reads.minus(defined).iter().next() {
                    self.error(pc, VerifyErrorKind::UndefinedRegister(r));
                }
            }
        }
        Ok(())
    }

    fn leaders(&self, functions: &[Function]) -> Result<Vec<u64>, OutOfMemory> {
        let n = self.ops.len();
        let mut bits = fallible::filled(0u64, n.div_ceil(64))?;
        let mut set = |slot: usize| {
            if slot < n {
                bits[slot / 64] |= 1 << (slot % 64);
            }
        };
        for f in functions {
            set(f.start);
        }
        for pc in 0..n {
            let Some(op) = self.ops[pc] else { continue };
            if let Some(t) = op.jump_target(pc) {
                set(t as usize);
                set(pc + 1);
            }
            if matches!(op, Op::Exit) {
                set(pc + 1);
            }
        }
        Ok(bits)
    }
}
