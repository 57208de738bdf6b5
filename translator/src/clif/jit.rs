//! The `jit` engine: a verified program compiled by Cranelift in process at load.

use cranelift_jit::{JITBuilder, JITModule};
use fc_runtime::error::{ErrorCode, Trap};
use fc_runtime::helpers::Helpers;
use fc_runtime::interp::{Engine, Invocation};
use fc_runtime::memory::MemoryMap;
use fc_runtime::native::{self, EntryFn};
use fc_runtime::verifier::VerifiedProgram;

use super::lower::lower;

/// Compiled code of the loaded program and its entry points.
#[derive(Default)]
pub struct Jit {
    module: Option<JITModule>,
    /// Entry function pointer by eBPF function index.
    entries: Vec<(usize, EntryFn)>,
}

impl Jit {
    fn release(&mut self) {
        self.entries.clear();
        if let Some(module) = self.module.take() {
            // No entry pointer into this module survives: `entries` was cleared above.
            unsafe { module.free_memory() };
        }
    }

    fn compile(&mut self, program: &VerifiedProgram) -> Result<(), String> {
        let isa = super::isa(&super::host_triple(), false)?;
        let mut module = JITModule::new(JITBuilder::with_isa(isa, cranelift_module::default_libcall_names()));
        let names: Vec<(String, usize)> = program.entries().iter().map(|&f| (format!("fc_entry_{f}"), f)).collect();
        let lowered = lower(&mut module, program, "fc", &names, None).map_err(|e| e.to_string())?;
        module.finalize_definitions().map_err(|e| e.to_string())?;
        for ((_, function), (_, id)) in names.iter().zip(&lowered.exported) {
            let code = module.get_finalized_function(*id);
            // Cranelift compiled it with `entry_signature`, which is `EntryFn`'s C ABI.
            let entry: EntryFn = unsafe { std::mem::transmute::<*const u8, EntryFn>(code) };
            self.entries.push((*function, entry));
        }
        self.module = Some(module);
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
        self.compile(program).map_err(|_| ErrorCode::NoMemory)
    }
    fn run(&mut self, program: &VerifiedProgram, inv: &Invocation, memory: &mut MemoryMap, helpers: &mut dyn Helpers) -> Result<u64, Trap> {
        let entry = self.entries.iter().find(|(f, _)| *f == inv.function).map(|(_, e)| *e);
        let entry = entry.ok_or(Trap { code: ErrorCode::IllegalCall, pc: 0 })?;
        // The code was translated from `program` by `prepare` for this ABI.
        unsafe { native::run(entry, program, inv, memory, helpers) }
    }
}
