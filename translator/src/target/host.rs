//! Native code built for this machine and loaded into the process (the `aot` and
//! `c` engines on the host): translated, linked into a shared library with the
//! host's `cc`, loaded, and run through the runtime's `Linked` engine.

use std::path::PathBuf;
use std::process::Command;

use fc_runtime::error::{ErrorCode, Trap};
use fc_runtime::helpers::Helpers;
use fc_runtime::interp::{Engine, Invocation};
use fc_runtime::memory::MemoryMap;
use fc_runtime::native::{EntryFn, Linked, ABI_VERSION};
use fc_runtime::verifier::VerifiedProgram;

/// Container name of code built for loading: symbols are `fc_native_...`.
pub const NATIVE_CONTAINER: &str = "native";

/// A fresh scratch directory.
pub fn scratch() -> Result<PathBuf, String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("fc-aot-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// Runs a tool; its stderr becomes the error.
pub fn run_tool(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{:?} failed: {}", cmd.get_program(), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Produces one file `cc` can build into a shared library (an object or C source)
/// exporting `fc_native_<name>` for each (name, function index).
pub type Produce = fn(&VerifiedProgram, &[(String, usize)]) -> Result<(&'static str, Vec<u8>), String>;

/// An engine whose code is built by `produce` and loaded at `prepare`.
pub struct HostNative {
    name: &'static str,
    produce: Produce,
    // Dropped before the library it points into (fields drop in order).
    linked: Option<Linked>,
    library: Option<libloading::Library>,
}

impl HostNative {
    pub fn new(name: &'static str, produce: Produce) -> Self {
        HostNative { name, produce, linked: None, library: None }
    }

    fn build(&mut self, program: &VerifiedProgram) -> Result<(), String> {
        let functions: Vec<(String, usize)> = program.entries().iter().map(|&f| (format!("e{f}"), f)).collect();
        let (file, bytes) = (self.produce)(program, &functions)?;
        let dir = scratch()?;
        let (input, lib) = (dir.join(file), dir.join("container.so"));
        std::fs::write(&input, bytes).map_err(|e| e.to_string())?;
        let built = run_tool(Command::new("cc").args(["-O2", "-fPIC", "-shared", "-o"]).arg(&lib).arg(&input));
        // The library stays mapped once loaded; the files are not needed after that.
        let library = built.and_then(|()| unsafe { libloading::Library::new(&lib) }.map_err(|e| e.to_string()));
        let _ = std::fs::remove_dir_all(&dir);
        let library = library?;
        let symbol = |name: &str| format!("fc_{NATIVE_CONTAINER}_{name}\0");
        // Symbols of the code just produced, declared with these C types.
        let version = unsafe { library.get::<*const u32>(symbol("abi_version").as_bytes()) }.map_err(|e| e.to_string())?;
        let version = unsafe { **version };
        let mut by_slot = Vec::new();
        for (name, f) in &functions {
            let entry = unsafe { library.get::<EntryFn>(symbol(name).as_bytes()) }.map_err(|e| e.to_string())?;
            by_slot.push((program.functions()[*f].start, *entry));
        }
        let linked = Linked::new(version, by_slot).map_err(|_| format!("code has ABI version {version}, the runtime {ABI_VERSION}"))?;
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
        self.build(program).map_err(|_| ErrorCode::NoMemory)?;
        self.linked.as_mut().map_or(Err(ErrorCode::NoMemory), |l| l.prepare(program))
    }
    fn run(&mut self, program: &VerifiedProgram, inv: &Invocation, memory: &mut MemoryMap, helpers: &mut dyn Helpers) -> Result<u64, Trap> {
        let linked = self.linked.as_mut().ok_or(Trap { code: ErrorCode::NoMemory, pc: 0 })?;
        linked.run(program, inv, memory, helpers)
    }
}
