//! The `jit` engine: a verified program compiled by Cranelift in process at load.

use cranelift_jit::{JITBuilder, JITModule};
use fc_runtime::error::{ErrorCode, Trap};
use fc_runtime::helpers::Helpers;
use fc_runtime::interp::{Engine, EngineFailure, Invocation};
use fc_runtime::memory::MemoryMap;
use fc_runtime::native::{EntryFn, Linked, ABI_VERSION};
use fc_runtime::verifier::VerifiedProgram;

use super::lower::lower;
use crate::backend::symbols::{loaded_entries, Symbols};

/// Compiled code of the loaded program and its entry points.
#[derive(Default)]
pub struct Jit {
    module: Option<JITModule>,
    linked: Option<Linked>,
    /// Why the last `prepare` failed.
    failure: Option<EngineFailure>,
}

impl Jit {
    fn release(&mut self) {
        self.linked = None;
        if let Some(module) = self.module.take() {
            // No entry pointer into this module survives: `linked` was dropped above.
            unsafe { module.free_memory() };
        }
    }

    fn compile(&mut self, program: &VerifiedProgram) -> Result<(), String> {
        let isa = super::isa(&super::host_triple(), false)?;
        let mut module = JITModule::new(JITBuilder::with_isa(isa, cranelift_module::default_libcall_names()));
        let symbols = Symbols::new("jit");
        let names: Vec<(String, usize)> = loaded_entries(program).into_iter().map(|(name, f)| (symbols.entry(&name), f)).collect();
        let lowered = lower(&mut module, program, &symbols, &names, None).map_err(|e| e.to_string())?;
        module.finalize_definitions().map_err(|e| e.to_string())?;
        let mut by_slot = Vec::new();
        for ((_, function), (_, id)) in names.iter().zip(&lowered.exported) {
            let code = module.get_finalized_function(*id);
            // Cranelift compiled it with `entry_signature`, which is `EntryFn`'s C ABI.
            let entry: EntryFn = unsafe { std::mem::transmute::<*const u8, EntryFn>(code) };
            by_slot.push((program.functions()[*function].start, entry));
        }
        self.module = Some(module);
        // SAFETY: every entry is code Cranelift just compiled from `program` by `lower`,
        // for this ABI, and stays in `self.module` as long as `self.linked` exists.
        self.linked = Some(unsafe { Linked::new(ABI_VERSION, by_slot) }.map_err(|e| e.to_string())?);
        Ok(())
    }
}

impl Drop for Jit {
    fn drop(&mut self) {
        self.release();
    }
}

impl Engine for Jit {
    fn name(&self) -> &'static str {
        "jit"
    }
    fn prepare(&mut self, program: &VerifiedProgram) -> Result<(), ErrorCode> {
        self.release();
        self.failure = None;
        if let Err(why) = self.compile(program) {
            self.failure = Some(EngineFailure::Build(format!("Cranelift: {why}")));
            return Err(ErrorCode::IllegalInstruction);
        }
        self.linked.as_mut().map_or(Err(ErrorCode::NoMemory), |l| l.prepare(program))
    }
    fn failure(&self) -> Option<&EngineFailure> {
        self.failure.as_ref()
    }
    fn run(&mut self, program: &VerifiedProgram, inv: &Invocation, memory: &mut MemoryMap, helpers: &mut dyn Helpers) -> Result<u64, Trap> {
        let linked = self.linked.as_mut().ok_or(Trap { code: ErrorCode::NoMemory, pc: 0 })?;
        linked.run(program, inv, memory, helpers)
    }
}
