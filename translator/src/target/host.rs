//! The `aot` and `c` engines on the host: native code translated, linked into a shared
//! library with the host's `cc`, loaded into this process and run through the runtime's
//! `Linked` engine, so runs share the VM's memory and helpers.

use std::process::Command;

use fc_runtime::error::{ErrorCode, Trap};
use fc_runtime::helpers::Helpers;
use fc_runtime::interp::{Engine, EngineFailure, Invocation};
use fc_runtime::memory::MemoryMap;
use fc_runtime::native::{EntryFn, Linked, ABI_VERSION};
use fc_runtime::verifier::VerifiedProgram;

use super::tools::{run_tool, write, ToolError};
use super::workdir::Scratch;
use crate::backend::symbols::{loaded_entries, Symbols};
use crate::backend::Input;

/// Container name of code built for loading: symbols are `fc_loaded_...`.
pub const NATIVE_CONTAINER: &str = "loaded";

/// Produces one file `cc` can build into a shared library (an object or C source)
/// exporting `Symbols::new(NATIVE_CONTAINER).entry(name)` for each (name, function index).
pub type Produce = fn(&VerifiedProgram, &[(String, usize)]) -> Result<(&'static str, Vec<u8>), String>;

/// An engine whose code is built by `produce` and loaded at `prepare`.
pub struct HostNative {
    name: &'static str,
    produce: Produce,
    // Dropped before the library it points into (fields drop in order).
    linked: Option<Linked>,
    library: Option<libloading::Library>,
    /// Why the last `prepare` failed.
    failure: Option<EngineFailure>,
}

impl HostNative {
    pub fn new(name: &'static str, produce: Produce) -> Self {
        HostNative { name, produce, linked: None, library: None, failure: None }
    }

    fn build(&mut self, program: &VerifiedProgram) -> Result<(), ToolError> {
        let functions = loaded_entries(program);
        let (file, bytes) = (self.produce)(program, &functions).map_err(ToolError::Failed)?;
        let dir = Scratch::new()?;
        let (input, lib) = (dir.join(file), dir.join("container.so"));
        let built = write(&input, bytes)
            .and_then(|()| run_tool(Command::new("cc").args(["-O2", "-fPIC", "-shared", "-o"]).arg(&lib).arg(&input)).map_err(|e| e.install_hint("gcc")))
            // SAFETY: the library is the one just built from translated code; its initialisers
            // are the C compiler's own (translated code has no constructors).
            .and_then(|()| unsafe { libloading::Library::new(&lib) }.map_err(|e| ToolError::Failed(e.to_string())));
        // The library stays mapped once loaded; the files are not needed after that.
        drop(dir);
        let library = built?;
        let symbols = Symbols::new(NATIVE_CONTAINER);
        let missing = |e: libloading::Error| ToolError::Failed(e.to_string());
        // SAFETY: `abi_version` is a `const uint32_t` in the code just produced (both backends
        // export it with this type); the library outlives the read.
        let version = unsafe { **library.get::<*const u32>(symbols.abi_version().as_bytes()).map_err(missing)? };
        let mut by_slot = Vec::new();
        for (name, f) in &functions {
            // SAFETY: each exported entry was produced with the native ABI's `EntryFn` signature;
            // the pointer is kept in `linked`, which is dropped before `library`.
            let entry = unsafe { library.get::<EntryFn>(symbols.entry(name).as_bytes()) }.map_err(missing)?;
            by_slot.push((program.functions()[*f].start, *entry));
        }
        // SAFETY: the entries are the code `produce` just translated from `program` for the
        // native ABI, and the library that holds them outlives `linked` (dropped first).
        let linked = unsafe { Linked::new(version, by_slot) }
            .map_err(|_| ToolError::Failed(format!("code has ABI version {version}, the runtime {ABI_VERSION}")))?;
        self.library = Some(library);
        self.linked = Some(linked);
        Ok(())
    }
}

impl Engine for HostNative {
    fn name(&self) -> &'static str {
        self.name
    }
    fn prepare(&mut self, program: &VerifiedProgram) -> Result<(), ErrorCode> {
        self.linked = None;
        self.library = None;
        self.failure = None;
        if let Err(e) = self.build(program) {
            self.failure = Some(match e {
                ToolError::Unavailable(why) => EngineFailure::Unavailable(why),
                ToolError::Failed(why) => EngineFailure::Build(why),
            });
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

/// The `c` engine on the host: the emitted C compiled with the host's `cc -O2`.
pub fn c_engine() -> HostNative {
    HostNative::new("c", |program, functions| {
        let input = Input { container: NATIVE_CONTAINER, program, functions, data: &[], bss_len: 0, rodata: &[] };
        Ok(("container.c", crate::backend::c::emit(&input).into_bytes()))
    })
}

/// The `aot` engine on the host: the Cranelift object, position-independent.
#[cfg(feature = "cranelift")]
pub fn aot_engine() -> HostNative {
    use crate::backend::clif::{host_triple, object::translate};
    HostNative::new("aot", |program, functions| {
        let input = Input { container: NATIVE_CONTAINER, program, functions, data: &[], bss_len: 0, rodata: &[] };
        Ok(("container.o", translate(&input, &host_triple(), true, None)?))
    })
}
