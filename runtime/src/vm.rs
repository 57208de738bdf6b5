//! `VirtualMachine`: the Sming-shaped host API (spec §4) over any [`Engine`].

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use crate::env::Environment;
use crate::error::{ErrorCode, Trap};
use crate::fallible::{self, OutOfMemory};
use crate::format::{Container, FormatError, LayoutChoice};
use crate::helpers::{Helpers, Profile};
use crate::interp::{Engine, EngineFailure, Interp, Invocation, DEFAULT_BUDGET, DEFAULT_FRAME_SIZE};
use crate::memory::{MapError, MemoryMap, Slot, CONTEXT_START, MAX_REGION_LEN, SLOT_SIZE};
use crate::stores::{Owner, Store, StoreContext};
use crate::verifier::{self, Rejection, VerifiedProgram, VerifyError, DEFAULT_MAX_CALL_DEPTH};

/// Default stack size per frame, as in Sming's `defaultStackSize`.
pub const DEFAULT_STACK_SIZE: usize = DEFAULT_FRAME_SIZE;

/// A region of a loaded program's memory, each in its own slot of the address map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Rodata,
    /// Initial data and the bss after it.
    Data,
    /// The whole reserved stack: `frames` frames of `frame_size` bytes.
    Stack { frame_size: usize, frames: usize },
    /// Not a region: the verifier's and the VM's tables of the program (decoded
    /// instructions, functions, names). Only a NO_MEMORY is about it.
    Tables,
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Section::Rodata => f.write_str("rodata"),
            Section::Data => f.write_str("data + bss"),
            Section::Stack { frame_size, frames: 1 } => write!(f, "stack (1 frame of {frame_size} bytes)"),
            Section::Stack { frame_size, frames } => write!(f, "stack ({frames} frames of {frame_size} bytes)"),
            Section::Tables => f.write_str("the program's tables"),
        }
    }
}

/// Why a load failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    Format(FormatError),
    Verify(Vec<VerifyError>),
    /// The stack size is not a positive multiple of 8.
    StackSize(usize),
    /// A region needs `bytes` (exact, even where a `usize` would overflow), more than
    /// its slot of the address map holds ([`MAX_REGION_LEN`]): ILLEGAL_LEN.
    TooLarge { section: Section, bytes: u128 },
    /// Allocating the RAM of a region that fits its slot, or of the program's tables, failed: NO_MEMORY.
    NoMemory { section: Section, bytes: usize },
    /// The engine could not prepare the verified program (a native engine's compiler
    /// failed): its error code and, when it says, why ([`Engine::failure`]).
    Engine { engine: &'static str, code: ErrorCode, reason: Option<EngineFailure> },
}

impl LoadError {
    pub fn code(&self) -> ErrorCode {
        match self {
            LoadError::Format(_) | LoadError::StackSize(_) | LoadError::TooLarge { .. } => ErrorCode::IllegalLen,
            LoadError::NoMemory { .. } => ErrorCode::NoMemory,
            LoadError::Engine { code, .. } => *code,
            LoadError::Verify(errors) => errors.first().map_or(ErrorCode::IllegalInstruction, |e| e.kind.code()),
        }
    }
    /// The instruction index the load error is about (0 when it is not about one).
    pub fn pc(&self) -> usize {
        match self {
            LoadError::Verify(errors) => errors.first().map_or(0, |e| e.pc),
            _ => 0,
        }
    }
}

impl From<OutOfMemory> for LoadError {
    fn from(e: OutOfMemory) -> Self {
        LoadError::NoMemory { section: Section::Tables, bytes: e.bytes }
    }
}

impl From<Rejection> for LoadError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::Invalid(errors) => LoadError::Verify(errors),
            Rejection::NoMemory(e) => e.into(),
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Format(e) => e.fmt(f),
            LoadError::Verify(errors) => match errors.as_slice() {
                [] => f.write_str("rejected by the verifier"),
                [one] => one.fmt(f),
                [first, rest @ ..] => write!(f, "{first} (and {} more problems)", rest.len()),
            },
            LoadError::StackSize(n) => write!(f, "stack size {n} is not a positive multiple of 8"),
            LoadError::TooLarge { section, bytes } => write!(
                f,
                "{section} needs {bytes} bytes, more than its {} MiB slot of the address map holds ({MAX_REGION_LEN} bytes)",
                SLOT_SIZE >> 20
            ),
            LoadError::NoMemory { section, bytes } => write!(f, "cannot allocate the {bytes} bytes of {section}"),
            LoadError::Engine { engine, reason: Some(why), .. } => write!(f, "engine `{engine}` {why}"),
            LoadError::Engine { engine, code, reason: None } => write!(f, "engine `{engine}` cannot prepare the program ({code})"),
        }
    }
}

/// The RAM a load allocates, checked to fit the address map (see [`footprint`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// Bytes of data + bss.
    pub data: usize,
    /// Bytes of the whole reserved stack: `frames` frames of the stack size.
    pub stack: usize,
    /// Frames in the reserved stack: the call depth of the deepest entry point + 1.
    pub frames: usize,
}

/// Checks that a program with these sections fits the address map, with checked
/// arithmetic and before anything is allocated: rodata, data + bss, and the stack
/// (`stack_size` bytes per frame, one frame per call level of the deepest entry
/// point, D + 1 in all) each at most [`MAX_REGION_LEN`] bytes. Errors are
/// [`LoadError::StackSize`] and [`LoadError::TooLarge`], both ILLEGAL_LEN.
pub fn footprint(
    program: &VerifiedProgram,
    rodata_len: usize,
    data_len: usize,
    bss_len: usize,
    stack_size: usize,
) -> Result<Footprint, LoadError> {
    check_stack_size(stack_size)?;
    check_data(rodata_len, data_len, bss_len)?;
    let frames = program.entries().iter().map(|&f| program.depth(f)).max().unwrap_or(0) + 1;
    let section = Section::Stack { frame_size: stack_size, frames };
    let stack = fits(section, stack_size as u128 * frames as u128)?;
    Ok(Footprint { data: data_len + bss_len, stack, frames })
}

fn check_stack_size(stack_size: usize) -> Result<(), LoadError> {
    if stack_size == 0 || !stack_size.is_multiple_of(8) {
        return Err(LoadError::StackSize(stack_size));
    }
    Ok(())
}

fn check_data(rodata_len: usize, data_len: usize, bss_len: usize) -> Result<usize, LoadError> {
    fits(Section::Rodata, rodata_len as u128)?;
    fits(Section::Data, data_len as u128 + bss_len as u128)
}

/// `bytes` as a `usize` if a region of that size fits its slot.
fn fits(section: Section, bytes: u128) -> Result<usize, LoadError> {
    match usize::try_from(bytes) {
        Ok(n) if bytes <= MAX_REGION_LEN as u128 => Ok(n),
        _ => Err(LoadError::TooLarge { section, bytes }),
    }
}

/// `len` zero bytes after `init`, or NO_MEMORY: the allocation may fail, never abort.
fn allocate(section: Section, init: &[u8], len: usize) -> Result<Vec<u8>, LoadError> {
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(len).map_err(|_| LoadError::NoMemory { section, bytes: len })?;
    bytes.extend_from_slice(init);
    bytes.resize(len, 0);
    Ok(bytes)
}

/// What a loaded container needs besides its verified text.
struct Loaded<'a> {
    program: VerifiedProgram<'a>,
    rodata: &'a [u8],
    data_init: &'a [u8],
    /// RAM copy of data + bss, kept across runs.
    data: Vec<u8>,
    stack: Vec<u8>,
    frame_size: usize,
    /// Host-callable functions by name, as indices into the program's functions.
    names: Vec<(&'a str, usize)>,
}

/// The sources of a program for [`VirtualMachine::load_parts`].
pub struct Parts<'a> {
    pub text: &'a [u8],
    /// Initial data; bss (zeros) follows it.
    pub data: &'a [u8],
    pub bss_len: usize,
    pub rodata: &'a [u8],
    /// Host-callable functions: (name, slot). Empty: the program starts at slot 0.
    pub functions: Vec<(&'a str, usize)>,
}

impl<'a> Parts<'a> {
    /// The parts of a parsed container.
    fn of(c: &Container<'a>) -> Result<Parts<'a>, OutOfMemory> {
        Ok(Parts {
            text: c.text,
            data: c.data,
            bss_len: c.header.bss_len as usize,
            rodata: c.rodata,
            functions: fallible::collect(c.functions().map(|f| (f.name, f.slot())))?,
        })
    }
}

/// A host region added to a VM (spec §2 "extra"), mapped at slot 5 + its index.
enum Extra<'a> {
    ReadOnly(&'a [u8]),
    ReadWrite(&'a mut [u8]),
}

/// A VM that loads one container at a time and runs it on an engine.
pub struct VirtualMachine<'a> {
    env: Environment<'a>,
    engine: Box<dyn Engine + 'a>,
    /// The loaded program and its memory live on the heap: the VM itself stays small.
    loaded: Option<Box<Loaded<'a>>>,
    budget: Option<u32>,
    max_call_depth: usize,
    last_error: i32,
    last_error_pc: usize,
    load_error: Option<Box<LoadError>>,
    extras: Vec<Extra<'a>>,
}

impl<'a> VirtualMachine<'a> {
    /// An empty VM using `stores`, the `sming` helper profile and the optimized interpreter.
    pub fn new(stores: &'a StoreContext) -> Self {
        Self::with_engine(stores, Box::new(Interp::default()))
    }

    /// [`VirtualMachine::new`], or the memory its engine would have taken: what firmware
    /// with a fixed arena calls.
    pub fn try_new(stores: &'a StoreContext) -> Result<Self, OutOfMemory> {
        Ok(Self::with_engine(stores, fallible::boxed(Interp::default())?))
    }

    fn with_engine(stores: &'a StoreContext, engine: Box<dyn Engine + 'a>) -> Self {
        VirtualMachine {
            env: Environment::new(stores, Profile::Sming),
            engine,
            loaded: None,
            budget: Some(DEFAULT_BUDGET),
            max_call_depth: DEFAULT_MAX_CALL_DEPTH,
            last_error: 0,
            last_error_pc: 0,
            load_error: None,
            extras: Vec::new(),
        }
    }

    /// Adds a host region containers may read and write, in the next extra slot
    /// (0x5000_0000, 0x6000_0000, ... in the order added); returns its address.
    pub fn add_region(&mut self, bytes: &'a mut [u8]) -> Result<u64, MapError> {
        self.add_extra(bytes.len(), Extra::ReadWrite(bytes))
    }

    /// Adds a host region containers may only read; returns its address.
    pub fn add_readonly_region(&mut self, bytes: &'a [u8]) -> Result<u64, MapError> {
        self.add_extra(bytes.len(), Extra::ReadOnly(bytes))
    }

    fn add_extra(&mut self, len: usize, extra: Extra<'a>) -> Result<u64, MapError> {
        let slot = MemoryMap::extra_slot(self.extras.len())?;
        if len as u64 >= crate::memory::SLOT_SIZE {
            return Err(MapError::TooLarge);
        }
        fallible::push(&mut self.extras, extra).map_err(|_| MapError::NoMemory)?;
        Ok(crate::memory::slot_start(slot))
    }

    /// A VM with `container` loaded; check [`last_error`](Self::last_error).
    pub fn with_container(stores: &'a StoreContext, container: &'a [u8], stack_size: usize) -> Self {
        let mut vm = Self::new(stores);
        vm.load(container, stack_size);
        vm
    }

    pub fn set_engine(&mut self, engine: Box<dyn Engine + 'a>) {
        self.unload();
        self.engine = engine;
    }
    pub fn engine_name(&self) -> &'static str {
        self.engine.name()
    }
    /// Taken jumps allowed per run; `None` switches the bound off.
    pub fn set_budget(&mut self, budget: Option<u32>) {
        self.budget = budget;
    }
    pub fn set_max_call_depth(&mut self, depth: usize) {
        self.max_call_depth = depth;
    }
    /// Helpers, output sink, clock and application helpers.
    pub fn environment(&mut self) -> &mut Environment<'a> {
        &mut self.env
    }

    fn fail_load(&mut self, e: LoadError) -> bool {
        self.last_error = e.code().code();
        self.last_error_pc = e.pc();
        // Without memory for the error itself only its code is kept.
        self.load_error = fallible::boxed(e).ok();
        false
    }

    /// Parses (either header layout), verifies and prepares a container.
    pub fn load(&mut self, container: &'a [u8], stack_size: usize) -> bool {
        match Container::parse(container, LayoutChoice::Auto) {
            Ok(c) => self.load_container(&c, stack_size),
            Err(e) => {
                self.unload();
                self.fail_load(LoadError::Format(e))
            }
        }
    }

    pub fn load_container(&mut self, c: &Container<'a>, stack_size: usize) -> bool {
        match Parts::of(c) {
            Ok(parts) => self.load_parts(parts, stack_size),
            Err(e) => {
                self.unload();
                self.fail_load(e.into())
            }
        }
    }

    /// Loads a program from its parts (the conformance runner loads bare text this way).
    pub fn load_parts(&mut self, parts: Parts<'a>, stack_size: usize) -> bool {
        self.unload();
        self.load_error = None;
        let (program, footprint) = match self.check_parts(&parts, stack_size) {
            Ok(checked) => checked,
            Err(e) => return self.fail_load(e),
        };
        let stack_section = Section::Stack { frame_size: stack_size, frames: footprint.frames };
        let memory = allocate(Section::Data, parts.data, footprint.data)
            .and_then(|data| Ok((data, allocate(stack_section, &[], footprint.stack)?)));
        let (data, stack) = match memory {
            Ok(memory) => memory,
            Err(e) => return self.fail_load(e),
        };
        if let Err(code) = self.engine.prepare(&program) {
            let reason = self.engine.failure().cloned();
            return self.fail_load(LoadError::Engine { engine: self.engine.name(), code, reason });
        }
        // The function table becomes the names, in place: a slot becomes its function's index.
        let mut names = parts.functions;
        names.retain_mut(|(_, slot)| program.function_at(*slot).map(|i| *slot = i).is_some());
        let loaded = fallible::boxed(Loaded {
            stack,
            program,
            rodata: parts.rodata,
            data_init: parts.data,
            data,
            frame_size: stack_size,
            names,
        });
        match loaded {
            Ok(loaded) => self.loaded = Some(loaded),
            Err(e) => return self.fail_load(e.into()),
        }
        self.last_error = 0;
        self.last_error_pc = 0;
        true
    }

    /// Everything a load checks, without loading or allocating: the container's
    /// format, the verifier with this VM's helpers and call depth, and that every
    /// region fits the address map with `stack_size` bytes per frame ([`footprint`]).
    /// `fc-aot verify` checks containers this way. Leaves the VM as it was.
    pub fn check(&self, container: &[u8], stack_size: usize) -> Result<Footprint, LoadError> {
        let c = Container::parse(container, LayoutChoice::Auto).map_err(LoadError::Format)?;
        self.check_container(&c, stack_size)
    }

    /// [`check`](Self::check) for a parsed container.
    pub fn check_container(&self, c: &Container<'_>, stack_size: usize) -> Result<Footprint, LoadError> {
        self.verify_container(c, stack_size).map(|(_, footprint)| footprint)
    }

    /// Everything [`check_container`](Self::check_container) checks, and the verified
    /// program it proved, for a translator that needs exactly this VM's verdict.
    pub fn verify_container<'p>(&self, c: &Container<'p>, stack_size: usize) -> Result<(VerifiedProgram<'p>, Footprint), LoadError> {
        self.check_parts(&Parts::of(c)?, stack_size)
    }

    /// The verified program and the RAM it needs, or why `parts` cannot be loaded.
    fn check_parts<'p>(&self, parts: &Parts<'p>, stack_size: usize) -> Result<(VerifiedProgram<'p>, Footprint), LoadError> {
        // Sizes that cannot fit are reported before the verifier runs; the stack needs the call depth.
        check_stack_size(stack_size)?;
        check_data(parts.rodata.len(), parts.data.len(), parts.bss_len)?;
        let env = &self.env;
        let arity = |id| env.arity(id);
        let config = verifier::Config { max_call_depth: self.max_call_depth, helper_arity: &arity };
        let program = verifier::verify_entries(parts.text, parts.functions.iter().map(|f| f.1), &config)?;
        let footprint = footprint(&program, parts.rodata.len(), parts.data.len(), parts.bss_len, stack_size)?;
        Ok((program, footprint))
    }

    /// Frees the container's RAM and returns this VM's local store entries to the pool.
    pub fn unload(&mut self) {
        self.loaded = None;
        self.env.stores().release(self.env.local_owner());
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded.is_some()
    }

    /// Runs the entry function (the first function-table entry) with `ctx`
    /// (empty: no context). Returns r0, or the error code when the run failed.
    pub fn execute(&mut self, ctx: &mut [u8]) -> i64 {
        let entry = self.loaded.as_ref().and_then(|l| l.program.entries().first().copied());
        self.run_function(entry, ctx)
    }

    /// A typed context, passed by pointer as the seed's samples do.
    ///
    /// The container may write any byte of `*ctx`, so `T` must be plain old data
    /// ([`bytemuck::Pod`]): no padding, and every bit pattern a valid value.
    ///
    /// ```
    /// # use fc_runtime::{stores::StoreContext, VirtualMachine};
    /// #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
    /// #[repr(C)]
    /// struct Ctx {
    ///     value: u64,
    ///     count: u32,
    ///     flags: u32,
    /// }
    /// let stores = StoreContext::new();
    /// let mut vm = VirtualMachine::new(&stores);
    /// let mut ctx = Ctx { value: 1, count: 2, flags: 3 };
    /// vm.execute_with(&mut ctx); // nothing loaded: fails with NO_MEMORY, but type-checks
    /// ```
    ///
    /// A `bool` (only 0 and 1 are valid) or a reference (a container could point it
    /// anywhere) is refused at compile time, as is padding:
    ///
    /// ```compile_fail,E0277
    /// # use fc_runtime::{stores::StoreContext, VirtualMachine};
    /// #[derive(Clone, Copy)]
    /// #[repr(C)]
    /// struct Ctx {
    ///     flag: bool,
    /// }
    /// let stores = StoreContext::new();
    /// let mut vm = VirtualMachine::new(&stores);
    /// vm.execute_with(&mut Ctx { flag: true });
    /// ```
    ///
    /// ```compile_fail,E0277
    /// # use fc_runtime::{stores::StoreContext, VirtualMachine};
    /// #[derive(Clone, Copy)]
    /// #[repr(C)]
    /// struct Ctx<'r> {
    ///     value: &'r u64,
    /// }
    /// let stores = StoreContext::new();
    /// let mut vm = VirtualMachine::new(&stores);
    /// let value = 7u64;
    /// vm.execute_with(&mut Ctx { value: &value });
    /// ```
    ///
    /// ```compile_fail,E0277
    /// // Neither can such a struct claim to be plain old data.
    /// #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
    /// #[repr(C)]
    /// struct Ctx {
    ///     flag: bool,
    ///     value: u32,
    /// }
    /// ```
    pub fn execute_with<T: bytemuck::Pod>(&mut self, ctx: &mut T) -> i64 {
        self.execute(bytemuck::bytes_of_mut(ctx))
    }

    /// Runs the host-callable function `name`.
    pub fn execute_function(&mut self, name: &str, ctx: &mut [u8]) -> i64 {
        let f = self.loaded.as_ref().and_then(|l| l.names.iter().find(|(n, _)| *n == name).map(|&(_, i)| i));
        self.run_function(f, ctx)
    }

    /// Names of the functions a host can run, in function-table order.
    pub fn function_names(&self) -> Vec<&'a str> {
        self.loaded.as_ref().map_or_else(Vec::new, |l| l.names.iter().map(|(n, _)| *n).collect())
    }

    fn run_function(&mut self, function: Option<usize>, ctx: &mut [u8]) -> i64 {
        let Some(loaded) = self.loaded.as_mut() else {
            self.last_error = ErrorCode::NoMemory.code();
            return self.last_error as i64;
        };
        let Some(function) = function else {
            self.last_error = ErrorCode::IllegalCall.code();
            return self.last_error as i64;
        };
        let inv = Invocation {
            function,
            r1: if ctx.is_empty() { 0 } else { CONTEXT_START },
            r2: ctx.len() as u64,
            budget: self.budget,
            frame_size: loaded.frame_size,
        };
        let stack_len = inv.stack_len(&loaded.program);
        let stack = &mut loaded.stack[..stack_len];
        stack.fill(0);
        let mut memory = MemoryMap::default();
        let mapped = memory
            .map_readonly(Slot::Rodata, loaded.rodata)
            .and_then(|_| memory.map_writable(Slot::Data, &mut loaded.data))
            .and_then(|_| memory.map_writable(Slot::Stack, stack))
            .and_then(|_| if ctx.is_empty() { Ok(0) } else { memory.map_writable(Slot::Context, ctx) })
            .and_then(|_| {
                self.extras.iter_mut().enumerate().try_fold(0, |_, (n, extra)| match extra {
                    Extra::ReadOnly(bytes) => memory.map_extra_readonly(n, bytes),
                    Extra::ReadWrite(bytes) => memory.map_extra(n, bytes),
                })
            });
        if mapped.is_err() {
            self.last_error = ErrorCode::IllegalLen.code();
            return self.last_error as i64;
        }
        let result = self.engine.run(&loaded.program, &inv, &mut memory, &mut self.env);
        self.env.flush();
        match result {
            Ok(r0) => {
                self.last_error = 0;
                r0 as i64
            }
            Err(Trap { code, pc }) => {
                self.last_error = code.code();
                self.last_error_pc = pc;
                code.code() as i64
            }
        }
    }

    /// Error code of the last load or run: 0 on success.
    pub fn last_error(&self) -> i32 {
        self.last_error
    }
    /// Instruction slot index where the last failed load or run stopped.
    pub fn last_error_pc(&self) -> usize {
        self.last_error_pc
    }
    /// Details of the last failed load.
    pub fn load_error(&self) -> Option<&LoadError> {
        self.load_error.as_deref()
    }
    /// The container's data section (with bss) as it is now.
    pub fn data(&self) -> &[u8] {
        self.loaded.as_ref().map_or(&[], |l| &l.data)
    }
    /// Restores the data section to its state at load.
    pub fn reset_data(&mut self) {
        if let Some(l) = self.loaded.as_mut() {
            let init = l.data_init.len();
            l.data[..init].copy_from_slice(l.data_init);
            l.data[init..].fill(0);
        }
    }

    pub fn globals(&self) -> Store<'a> {
        Store::new(self.env.stores(), Owner::Global)
    }
    pub fn locals(&self) -> Store<'a> {
        Store::new(self.env.stores(), self.env.local_owner())
    }
}

impl Drop for VirtualMachine<'_> {
    fn drop(&mut self) {
        self.unload();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vm_state_stays_small() {
        // Issue 5's bound: VM state apart from the stack <= 256 bytes (+ 48 per call level,
        // the interpreters' frame records: return slot, r6-r9, r10).
        let size = core::mem::size_of::<VirtualMachine>();
        std::println!("VirtualMachine: {size} bytes");
        assert!(size <= 256, "VirtualMachine is {size} bytes");
    }
}
