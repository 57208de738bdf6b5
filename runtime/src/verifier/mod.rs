//! The verifier: checks a text section once at load and builds the [`VerifiedProgram`] every engine runs.
//!
//! After it, no engine re-validates or decodes: instructions decode, jumps stay inside
//! their function and land on instruction starts, control never falls off a function,
//! calls reach function starts without recursion, helpers exist, and no register
//! is read before it is defined. This module holds the rules; [`program`] the IR
//! they produce (decoded instructions with resolved targets, functions, entries).

mod program;

pub use program::{Function, Instr, Instruction, ProgramId, Target, VerifiedProgram};

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
///
/// A few linear passes over the decoded instructions: decode, function starts (the
/// entries and every local call target, a bit per slot), the rules of each function's
/// body (which also resolve its jumps and calls), the call graph, the registers.
/// Besides the program it returns, a load allocates one table per slot and one per
/// function.
pub fn verify<'a>(text: &'a [u8], entry_slots: &[usize], config: &Config) -> Result<VerifiedProgram<'a>, Rejection> {
    verify_entries(text, entry_slots.iter().copied(), config)
}

/// [`verify`] with the entry slots as an iterator: a load needs no list of them.
pub fn verify_entries<'a>(
    text: &'a [u8],
    entry_slots: impl Iterator<Item = usize> + Clone,
    config: &Config,
) -> Result<VerifiedProgram<'a>, Rejection> {
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
    let roots = entry_slots.clone().next().is_none().then_some(0).into_iter().chain(entry_slots);
    let mut v = Verifier { config, errors: Vec::new(), out_of_memory: None };
    // Per slot: 1 + the index of the instruction that starts there (0: none, an lddw's
    // second slot or one that did not decode); a bit per slot: a function starts there;
    // per instruction its [`Effect`] and its registers for [`Verifier::check_registers`].
    let mut scratch = fallible::filled(0u32, 3 * n + n.div_ceil(32))?;
    let (index_of, rest) = scratch.split_at_mut(n);
    let (effects, rest) = rest.split_at_mut(n);
    let (state, starts) = rest.split_at_mut(n);
    let mut instructions = fallible::with_capacity(n)?;
    for r in insn::Decoder::new(text) {
        match r {
            Ok(i) => {
                index_of[i.pc] = instructions.len() as u32 + 1;
                fallible::push(&mut instructions, Instruction::decoded(i.pc, i.op))?;
            }
            Err(e) => v.error(e.pc, VerifyErrorKind::Decode(e.kind)),
        }
    }
    v.rejection()?;
    let is_start = |slot: usize| index_of.get(slot).is_some_and(|&i| i != 0);
    // A host passes any slots (`VirtualMachine::load_parts`).
    for slot in roots.clone() {
        if is_start(slot) {
            bits::set(starts, slot);
        } else {
            v.error(slot, VerifyErrorKind::EntryNotInstruction { slot });
        }
    }
    v.rejection()?;
    for i in &instructions {
        let Some(target) = i.op().call_target(i.slot()) else { continue };
        match usize::try_from(target).ok().filter(|&t| is_start(t)) {
            Some(t) => bits::set(starts, t),
            None => v.error(i.slot(), VerifyErrorKind::CallTargetNotFunction { target }),
        }
    }
    v.rejection()?;
    let leaders = leaders(&instructions, starts, n)?;
    let mut functions = functions(index_of, starts, instructions.len())?;
    // Instructions before the first function belong to none: the program leaves them out.
    let before = functions[0].start;
    let dropped = index_of[before] as usize - 1;
    instructions.drain(..dropped);
    v.check_bodies(&mut instructions, &mut functions, index_of, dropped, effects)?;
    let entries = fallible::collect(roots.filter_map(|r| functions.binary_search_by_key(&r, |f| f.start).ok()))?;
    let mut nodes = fallible::filled(Node::NEW, functions.len())?;
    let order = v.call_order(&instructions, &mut functions, &entries, &mut nodes);
    if v.errors.is_empty() {
        for &e in &entries {
            nodes[e].entry = Some(RegSet::ALL);
        }
        v.check_registers(&instructions, &functions, order, &mut nodes, effects, state);
    }
    v.rejection()?;
    Ok(VerifiedProgram::new(text, instructions, functions, leaders, entries))
}

/// Bit sets over the slots, in words of 32 bits.
mod bits {
    pub fn set(bits: &mut [u32], i: usize) {
        bits[i / 32] |= 1 << (i % 32);
    }
    /// The first set bit at or after `from`.
    pub fn next(bits: &[u32], from: usize) -> Option<usize> {
        let mut word = from / 32;
        let mut w = *bits.get(word)? & (u32::MAX << (from % 32));
        while w == 0 {
            word += 1;
            w = *bits.get(word)?;
        }
        Some(word * 32 + w.trailing_zeros() as usize)
    }
}

/// One function per start bit; each runs to the next start (the last to the end).
fn functions(index_of: &[u32], starts: &[u32], count: usize) -> Result<Vec<Function>, OutOfMemory> {
    let n = index_of.len();
    let mut functions = fallible::with_capacity(starts.iter().map(|w| w.count_ones() as usize).sum())?;
    let mut next = bits::next(starts, 0);
    let Some(first) = next else { return Ok(functions) };
    // Instruction indices count from the first function's first instruction.
    let base = index_of[first] as usize - 1;
    while let Some(start) = next {
        next = bits::next(starts, start + 1);
        let end = next.unwrap_or(n);
        let last = next.map_or(count, |e| index_of[e] as usize - 1);
        let instructions = index_of[start] as usize - 1 - base..last - base;
        fallible::push(&mut functions, Function { start, end, callees: Vec::new(), depth: 0, instructions })?;
    }
    Ok(functions)
}

/// Basic-block leaders, a bit per slot: function starts, jump targets, and the slot
/// after a jump or an exit (of every instruction, in a function or not).
fn leaders(instructions: &[Instruction], starts: &[u32], n: usize) -> Result<Vec<u64>, OutOfMemory> {
    let mut bits = fallible::filled(0u64, n.div_ceil(64))?;
    let mut set = |slot: usize| {
        if slot < n {
            bits[slot / 64] |= 1 << (slot % 64);
        }
    };
    for i in instructions {
        let (op, pc) = (i.op(), i.slot());
        if let Some(t) = op.jump_target(pc) {
            set(t as usize);
            set(pc + 1);
        }
        if matches!(op, Op::Exit) {
            set(pc + 1);
        }
    }
    for (i, &w) in starts.iter().enumerate() {
        bits[i / 2] |= (w as u64) << (i % 2 * 32);
    }
    Ok(bits)
}

/// What the call graph passes know of one function.
#[derive(Clone, Copy)]
struct Node {
    mark: Mark,
    /// Depth-first search: how many of its callees were visited, and its caller.
    visited: usize,
    caller: usize,
    /// The function after it in callers-first order (`NONE`: the last).
    later: usize,
    /// Straight-line work of a call of it, its callees' included.
    work: u64,
    /// Registers defined at its entry: r10 and the arguments every call site defines.
    entry: Option<RegSet>,
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    New,
    Active,
    Done,
}

impl Node {
    const NONE: usize = usize::MAX;
    const NEW: Node = Node { mark: Mark::New, visited: 0, caller: Node::NONE, later: Node::NONE, work: 0, entry: None };
}

/// Per-instruction register state of [`Verifier::check_registers`]: a [`RegSet`], or not reached.
const UNREACHED: u32 = u32::MAX;

/// What [`Verifier::check_registers`] needs of an instruction, found once by
/// [`Verifier::check_bodies`]: the registers it reads (a helper call: its arguments) in
/// bits 0-10, those it defines in bits 16-26, and these flags.
struct Effect;

impl Effect {
    const FALLS_THROUGH: u32 = 1 << 11;
    const JUMPS: u32 = 1 << 12;
    /// A local call: it makes r1-r5 undefined and defines r0.
    const CALLS: u32 = 1 << 13;

    fn reads(e: u32) -> RegSet {
        RegSet(e as u16 & RegSet::ALL.0)
    }
    /// The registers defined after the instruction, `defined` before it.
    fn after(e: u32, defined: RegSet) -> RegSet {
        if e & Effect::CALLS != 0 {
            defined.minus(RegSet::ARGS).with(Reg::R0)
        } else {
            defined.union(RegSet((e >> 16) as u16))
        }
    }
}

struct Verifier<'c, 'h> {
    config: &'c Config<'h>,
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

    /// Per-instruction rules that need the function's extent; resolves each jump's
    /// target and each call's callee, and fills in the callees. `index_of` counts
    /// instructions from before the `dropped` ones that precede the first function.
    fn check_bodies(
        &mut self,
        instructions: &mut [Instruction],
        functions: &mut [Function],
        index_of: &[u32],
        dropped: usize,
        effects: &mut [u32],
    ) -> Result<(), OutOfMemory> {
        for f in 0..functions.len() {
            let (start, end) = (functions[f].start, functions[f].end);
            for k in functions[f].instructions.clone() {
                let (pc, op) = (instructions[k].slot(), instructions[k].op());
                let ((mut reads, writes), jump, falls_through) = (op.registers(), op.jump_target(pc), op.falls_through());
                if writes.contains(Reg::R10) {
                    self.error(pc, VerifyErrorKind::WriteToR10);
                }
                let target = jump.and_then(|target| {
                    match usize::try_from(target).ok().filter(|t| (start..end).contains(t)) {
                        None => self.error(pc, VerifyErrorKind::JumpOutsideFunction { target }),
                        Some(t) if index_of[t] == 0 => self.error(pc, VerifyErrorKind::JumpIntoLddw { target: t }),
                        Some(t) => return Some(index_of[t] as usize - 1 - dropped),
                    }
                    None
                });
                if falls_through && pc + op.slots() >= end {
                    self.error(pc, VerifyErrorKind::FallsOffEnd);
                }
                let mut callee = None;
                match op {
                    Op::CallHelper { id } => match (self.config.helper_arity)(id) {
                        Some(arity) => reads = RegSet(RegSet::ARGS.0 & ((1u16 << (arity.min(5) + 1)) - 1)),
                        None => self.error(pc, VerifyErrorKind::UnknownHelper(id)),
                    },
                    Op::CallLocal { .. } => {
                        let target = op.call_target(pc).unwrap_or(-1) as usize;
                        callee = functions.binary_search_by_key(&target, |g| g.start).ok();
                        if let Some(c) = callee.filter(|c| !functions[f].callees.contains(c)) {
                            fallible::push(&mut functions[f].callees, c)?;
                        }
                    }
                    _ => {}
                }
                if let Some(link) = target.or(callee) {
                    instructions[k].resolve(link);
                }
                let flags = [(jump.is_some(), Effect::JUMPS), (falls_through, Effect::FALLS_THROUGH), (callee.is_some(), Effect::CALLS)];
                effects[k] = flags.iter().fold(reads.0 as u32 | (writes.0 as u32) << 16, |e, &(set, flag)| if set { e | flag } else { e });
            }
        }
        Ok(())
    }

    /// The slot of `f`'s first call of `callee`.
    fn first_call_to(instructions: &[Instruction], f: &Function, callee: usize) -> usize {
        instructions[f.instructions.clone()]
            .iter()
            .find(|i| matches!(i.op(), Op::CallLocal { .. }) && i.link() == callee)
            .map_or(f.start, |i| i.slot())
    }

    /// Rejects recursion, computes depths, and returns the first of the functions
    /// reachable from the entries, listed (by [`Node::later`]) with every caller
    /// before its callees.
    fn call_order(&mut self, instructions: &[Instruction], functions: &mut [Function], entries: &[usize], nodes: &mut [Node]) -> usize {
        // Depth-first post-order; a function met again while on the stack is recursion.
        // Post-order visits callees first, so their depths and work are final when read.
        let mut first = Node::NONE;
        for &root in entries {
            if nodes[root].mark != Mark::New {
                continue;
            }
            nodes[root].mark = Mark::Active;
            let mut f = root;
            loop {
                if let Some(&callee) = functions[f].callees.get(nodes[f].visited) {
                    nodes[f].visited += 1;
                    match nodes[callee].mark {
                        Mark::New => {
                            nodes[callee] = Node { mark: Mark::Active, caller: f, ..nodes[callee] };
                            f = callee;
                        }
                        Mark::Active => {
                            let pc = Self::first_call_to(instructions, &functions[f], callee);
                            self.error(pc, VerifyErrorKind::Recursion);
                        }
                        Mark::Done => {}
                    }
                    continue;
                }
                let func = &functions[f];
                let depth = func.callees.iter().map(|&c| functions[c].depth + 1).max().unwrap_or(0);
                let callee_work = instructions[func.instructions.clone()].iter().fold(0u64, |sum, i| match i.op() {
                    Op::CallLocal { .. } => sum.saturating_add(nodes[i.link()].work),
                    _ => sum,
                });
                let work = ((func.end - func.start) as u64).saturating_add(callee_work);
                functions[f].depth = depth;
                nodes[f] = Node { mark: Mark::Done, work, later: first, ..nodes[f] };
                first = f;
                if f == root {
                    break;
                }
                f = nodes[f].caller;
            }
        }
        if !self.errors.is_empty() {
            return first;
        }
        for &root in entries {
            let work = nodes[root].work;
            if work > MAX_STRAIGHT_LINE_WORK {
                self.error(functions[root].start, VerifyErrorKind::CallTreeTooLarge { work });
            }
        }
        let max = self.config.max_call_depth.min(CALL_DEPTH_LIMIT);
        for &root in entries {
            let depth = functions[root].depth;
            if depth > max {
                self.error(functions[root].start, VerifyErrorKind::CallDepth { depth, max });
            }
        }
        first
    }

    /// Forward data flow of the set of defined registers through each function,
    /// callers first (from `first`) so every call site's state is known before its
    /// callee's entry (an entry's starts with every register defined); `effects` and
    /// `state` hold one entry per instruction.
    fn check_registers(
        &mut self,
        instructions: &[Instruction],
        functions: &[Function],
        first: usize,
        nodes: &mut [Node],
        effects: &[u32],
        state: &mut [u32],
    ) {
        let mut next = first;
        while let Some(node) = nodes.get(next).copied() {
            let f = next;
            next = node.later;
            let Some(entry) = node.entry else { continue };
            let range = functions[f].instructions.clone();
            let (body, effects, state) = (&instructions[range.clone()], &effects[range.clone()], &mut state[range.clone()]);
            state.fill(UNREACHED);
            state[0] = entry.0 as u32;
            // In slot order until nothing changes: a pass takes every forward edge, only
            // a loop's way back needs another.
            let mut again = true;
            while again {
                again = false;
                for k in 0..body.len() {
                    let Some(defined) = reached(state[k]) else { continue };
                    let e = effects[k];
                    let after = Effect::after(e, defined);
                    if e & Effect::FALLS_THROUGH != 0 {
                        merge(state, k + 1, after);
                    }
                    if e & Effect::JUMPS != 0 {
                        let t = body[k].link().wrapping_sub(range.start);
                        again |= merge(state, t, after) && t <= k;
                    }
                }
            }
            for (k, i) in body.iter().enumerate() {
                let Some(defined) = reached(state[k]) else { continue };
                if effects[k] & Effect::CALLS != 0 {
                    // A callee starts with r10 and those of r1..r5 defined at every call site.
                    let arrive = defined.intersect(RegSet::ARGS).with(Reg::R10);
                    let callee = &mut nodes[i.link()].entry;
                    *callee = Some(callee.map_or(arrive, |s| s.intersect(arrive)));
                }
                if let Some(r) = Effect::reads(effects[k]).minus(defined).iter().next() {
                    self.error(i.slot(), VerifyErrorKind::UndefinedRegister(r));
                }
            }
        }
    }
}

/// Merges `after` into the state of instruction `s`; whether it changed.
fn merge(state: &mut [u32], s: usize, after: RegSet) -> bool {
    let Some(at) = state.get_mut(s) else { return false };
    let merged = reached(*at).map_or(after, |s| s.intersect(after)).0 as u32;
    let changed = *at != merged;
    *at = merged;
    changed
}

/// The registers of a per-instruction state, `None` when not reached.
fn reached(state: u32) -> Option<RegSet> {
    (state != UNREACHED).then_some(RegSet(state as u16))
}
