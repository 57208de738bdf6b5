//! Building the kernels into containers, and one runner per engine.

use std::fmt;
use std::path::{Path, PathBuf};

use fc_aot::container::build::{self, Cpu, Options};
use fc_runtime::format::{Container, Layout, LayoutChoice};
use fc_runtime::interp::{Interp, Reference};
use fc_runtime::stores::StoreContext;
use fc_runtime::vm::DEFAULT_STACK_SIZE;
use fc_runtime::VirtualMachine;
use fc_aot::backend::clif::jit::Jit;

use crate::kernels::{Folder, Kernel};
use crate::native;

/// The workspace root (benches/..).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("benches/ has a parent").to_owned()
}

pub fn cpu_name(cpu: Cpu) -> &'static str {
    match cpu {
        Cpu::V1 => "v1",
        Cpu::V2 => "v2",
        Cpu::V3 => "v3",
        Cpu::V4 => "v4",
    }
}

pub fn parse_cpu(s: &str) -> Option<Cpu> {
    match s {
        "v1" => Some(Cpu::V1),
        "v2" => Some(Cpu::V2),
        "v3" => Some(Cpu::V3),
        "v4" => Some(Cpu::V4),
        _ => None,
    }
}

fn folder_path(folder: Folder) -> PathBuf {
    match folder {
        Folder::Containers => workspace_root().join("containers"),
        Folder::Kernels => workspace_root().join("benches/kernels"),
    }
}

fn out_dir(root: &Path, cpu: Cpu, folder: Folder) -> PathBuf {
    let sub = match folder {
        Folder::Containers => "containers",
        Folder::Kernels => "kernels",
    };
    root.join(cpu_name(cpu)).join(sub)
}

/// The `.bin` of `kernel` built for `cpu` under `root`.
pub fn bin_path(root: &Path, cpu: Cpu, kernel: &Kernel) -> PathBuf {
    out_dir(root, cpu, kernel.folder).join(format!("{}.bin", kernel.name))
}

/// `fc-aot build` of `containers/` and `benches/kernels/` for `cpu` into `root/CPU/...`
/// (incremental: unchanged containers are not rebuilt).
pub fn build_all(root: &Path, cpu: Cpu) -> Result<(), String> {
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".into());
    for folder in [Folder::Containers, Folder::Kernels] {
        let opts = Options {
            dir: folder_path(folder),
            out: out_dir(root, cpu, folder),
            cpu,
            layout: Layout::Seed,
            clang: clang.clone(),
            // Folders under target/ that only the benchmarks write, also before fc-aot kept a manifest.
            force: true,
        };
        let what = || format!("fc-aot build {} --cpu {}", opts.dir.display(), cpu_name(cpu));
        let report = build::build(&opts).map_err(|e| format!("{}: {e}", what()))?;
        if let Some(e) = report.failed.first() {
            return Err(format!("{}: {e}", what()));
        }
    }
    Ok(())
}

/// The engines of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineKind {
    Native,
    Interp,
    Reference,
    Rbpf,
    /// Our Cranelift JIT (`fc_aot::backend::clif::jit::Jit`) through `VirtualMachine`.
    Jit,
    /// The `rbpf` crate's x86-64 JIT (`EbpfVmRaw::jit_compile`, `execute_program_jit`).
    RbpfJit,
    /// Runs nothing: the harness's own cost (the call through [`fcb_execute`]), subtracted from the others.
    Null,
}

impl EngineKind {
    pub const MEASURED: [EngineKind; 6] = [
        EngineKind::Native,
        EngineKind::Interp,
        EngineKind::Reference,
        EngineKind::Rbpf,
        EngineKind::Jit,
        EngineKind::RbpfJit,
    ];

    /// The engines of the `rbpf` crate: they may be unable to run a kernel (n/a with a reason).
    pub fn is_rbpf(self) -> bool {
        matches!(self, EngineKind::Rbpf | EngineKind::RbpfJit)
    }

    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Native => "native",
            EngineKind::Interp => "interp",
            EngineKind::Reference => "reference",
            EngineKind::Rbpf => "rbpf",
            EngineKind::Jit => "jit",
            EngineKind::RbpfJit => "rbpf-jit",
            EngineKind::Null => "null",
        }
    }

    pub fn parse(s: &str) -> Option<EngineKind> {
        EngineKind::MEASURED
            .into_iter()
            .chain([EngineKind::Null])
            .find(|e| e.name() == s)
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// (global store entries, local store entries), keys ascending.
pub type Stores = (Vec<(u32, u32)>, Vec<(u32, u32)>);

/// One engine with one kernel loaded.
pub trait Runner {
    /// One execution on `ctx`: r0, or why the run failed.
    fn run(&mut self, ctx: &mut [u8]) -> Result<i64, String>;
    /// What the run left in the stores.
    fn stores(&self) -> Stores;
}

/// The measured call: one execution. Callgrind counts the instructions inside it
/// (`--toggle-collect=fcb_execute`); the timing loop calls it too.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn fcb_execute(runner: &mut dyn Runner, ctx: &mut [u8]) -> Result<i64, String> {
    runner.run(ctx)
}

struct NativeRunner(crate::kernels::NativeFn);

impl Runner for NativeRunner {
    fn run(&mut self, ctx: &mut [u8]) -> Result<i64, String> {
        // The kernel reads and writes within its context struct, which `ctx` holds whole.
        Ok(unsafe { (self.0)(ctx.as_mut_ptr()) })
    }
    fn stores(&self) -> Stores {
        native::store_entries()
    }
}

struct NullRunner;

impl Runner for NullRunner {
    fn run(&mut self, _ctx: &mut [u8]) -> Result<i64, String> {
        Ok(0)
    }
    fn stores(&self) -> Stores {
        (Vec::new(), Vec::new())
    }
}

struct VmRunner {
    vm: VirtualMachine<'static>,
}

impl Runner for VmRunner {
    fn run(&mut self, ctx: &mut [u8]) -> Result<i64, String> {
        let r0 = self.vm.execute(ctx);
        match self.vm.last_error() {
            0 => Ok(r0),
            code => Err(format!("error {code} at insn {}", self.vm.last_error_pc())),
        }
    }
    fn stores(&self) -> Stores {
        (self.vm.globals().entries().to_vec(), self.vm.locals().entries().to_vec())
    }
}

struct RbpfRunner {
    vm: rbpf::EbpfVmRaw<'static>,
}

impl Runner for RbpfRunner {
    fn run(&mut self, ctx: &mut [u8]) -> Result<i64, String> {
        self.vm.execute_program(ctx).map(|r0| r0 as i64).map_err(|e| e.to_string())
    }
    fn stores(&self) -> Stores {
        native::store_entries()
    }
}

struct RbpfJitRunner {
    vm: rbpf::EbpfVmRaw<'static>,
}

impl Runner for RbpfJitRunner {
    fn run(&mut self, ctx: &mut [u8]) -> Result<i64, String> {
        // rbpf's JIT code checks no memory access. Only kernels whose result on rbpf's
        // checking interpreter equals native's are run here (see `check`), and the
        // kernels read and write within their context and stack.
        unsafe { self.vm.execute_program_jit(ctx) }.map(|r0| r0 as i64).map_err(|e| e.to_string())
    }
    fn stores(&self) -> Stores {
        native::store_entries()
    }
}

/// Why the `rbpf` crate cannot run this container, if it cannot (checked before loading).
pub fn rbpf_unsupported(container: &Container) -> Option<String> {
    match container.entry() {
        Some(f) if f.slot() == 0 => {}
        _ => return Some("entry is not the first instruction (rbpf starts at slot 0)".into()),
    }
    let text = container.text;
    let mut slot = 0;
    while slot * 8 < text.len() {
        let opcode = text[slot * 8];
        match opcode {
            0xb8 | 0xd8 => {
                return Some(format!(
                    "LDDW {opcode:#04x} ({} address) at insn {slot}: rbpf has no Femto-Container LDDW forms",
                    if opcode == 0xb8 { ".data" } else { ".rodata" }
                ))
            }
            0x18 => slot += 2,
            _ => slot += 1,
        }
    }
    None
}

/// A runner for `engine` with `kernel` (built for `cpu` under `root`) loaded; `Err` with
/// the reason when the engine cannot run it. Our interpreters run with the budget off.
pub fn runner(engine: EngineKind, kernel: &Kernel, root: &Path, cpu: Cpu) -> Result<Box<dyn Runner>, String> {
    runner_with_budget(engine, kernel, root, cpu, None)
}

/// [`runner`], with a branch budget for our interpreters (`None`: off).
pub fn runner_with_budget(
    engine: EngineKind,
    kernel: &Kernel,
    root: &Path,
    cpu: Cpu,
    budget: Option<u32>,
) -> Result<Box<dyn Runner>, String> {
    match engine {
        EngineKind::Native => return Ok(Box::new(NativeRunner(kernel.native))),
        EngineKind::Null => return Ok(Box::new(NullRunner)),
        _ => {}
    }
    let path = bin_path(root, cpu, kernel);
    let bytes: &'static [u8] =
        Box::leak(std::fs::read(&path).map_err(|e| format!("{}: {e} (build first)", path.display()))?.into_boxed_slice());
    match engine {
        EngineKind::Interp | EngineKind::Reference | EngineKind::Jit => {
            let stores: &'static StoreContext = Box::leak(Box::new(StoreContext::new()));
            let mut vm = VirtualMachine::new(stores);
            match engine {
                EngineKind::Reference => vm.set_engine(Box::new(Reference)),
                EngineKind::Jit => vm.set_engine(Box::new(Jit::default())),
                _ => vm.set_engine(Box::new(Interp::default())),
            }
            vm.set_budget(budget);
            if !vm.load(bytes, DEFAULT_STACK_SIZE) {
                return Err(format!("{}: load failed: {:?}", path.display(), vm.load_error()));
            }
            Ok(Box::new(VmRunner { vm }))
        }
        EngineKind::Rbpf | EngineKind::RbpfJit => {
            let vm = rbpf_vm(bytes, &path)?;
            if engine == EngineKind::Rbpf {
                return Ok(Box::new(RbpfRunner { vm }));
            }
            rbpf_jit_compile(vm).map(|vm| Box::new(RbpfJitRunner { vm }) as Box<dyn Runner>)
        }
        EngineKind::Native | EngineKind::Null => unreachable!(),
    }
}

/// The `rbpf` crate's VM with `bytes`' text loaded and the store helpers registered.
pub fn rbpf_vm(bytes: &'static [u8], path: &Path) -> Result<rbpf::EbpfVmRaw<'static>, String> {
    let container = Container::parse(bytes, LayoutChoice::Auto).map_err(|e| format!("{}: {e:?}", path.display()))?;
    if let Some(reason) = rbpf_unsupported(&container) {
        return Err(reason);
    }
    let mut vm = rbpf::EbpfVmRaw::new(Some(container.text)).map_err(|e| format!("rbpf rejects it: {e}"))?;
    for (id, helper) in native::rbpf_helpers() {
        vm.register_helper(id, helper).map_err(|e| e.to_string())?;
    }
    Ok(vm)
}

/// `jit_compile` of the `rbpf` crate (x86-64 only). Its compiler asserts that the code fits
/// one 4 KiB page and panics on opcodes it does not implement: a panic there becomes the reason.
#[cfg(target_arch = "x86_64")]
pub fn rbpf_jit_compile(mut vm: rbpf::EbpfVmRaw<'static>) -> Result<rbpf::EbpfVmRaw<'static>, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let compiled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| vm.jit_compile()));
    std::panic::set_hook(hook);
    match compiled {
        Ok(Ok(())) => Ok(vm),
        Ok(Err(e)) => Err(format!("rbpf's JIT rejects it: {e}")),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("rbpf's JIT compiler panics: {what}"))
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub fn rbpf_jit_compile(_vm: rbpf::EbpfVmRaw<'static>) -> Result<rbpf::EbpfVmRaw<'static>, String> {
    Err("the rbpf crate's JIT is x86-64 only".into())
}

/// What one run produced: r0, the context after it, the stores after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub r0: i64,
    pub ctx: Vec<u8>,
    pub stores: Stores,
}

/// One run of `runner` from the kernel's context and empty native stores.
pub fn outcome(runner: &mut dyn Runner, kernel: &Kernel) -> Result<Outcome, String> {
    native::reset_stores();
    let mut ctx = (kernel.context)();
    let r0 = runner.run(&mut ctx)?;
    Ok(Outcome { r0, ctx, stores: runner.stores() })
}

/// Checks `engine` against native on `kernel`: `Ok(None)` when they agree, `Ok(Some(reason))`
/// when the engine cannot run the kernel (the rbpf crate's engines only), `Err` when the
/// results differ or an engine of ours fails. rbpf's JIT checks no memory access, so it runs
/// a kernel only when rbpf's interpreter (which does) ran it and agreed with native; a
/// result of rbpf's JIT that differs from native's makes it n/a too, with the difference.
pub fn check(engine: EngineKind, kernel: &Kernel, root: &Path, cpu: Cpu) -> Result<Option<String>, String> {
    if engine == EngineKind::RbpfJit {
        if let Some(reason) = check(EngineKind::Rbpf, kernel, root, cpu)? {
            return Ok(Some(reason));
        }
    }
    let expected = outcome(&mut *runner(EngineKind::Native, kernel, root, cpu)?, kernel)?;
    let mut r = match runner(engine, kernel, root, cpu) {
        Ok(r) => r,
        Err(reason) if engine.is_rbpf() => return Ok(Some(reason)),
        Err(e) => return Err(e),
    };
    let got = match outcome(&mut *r, kernel) {
        Ok(o) => o,
        Err(reason) if engine.is_rbpf() => return Ok(Some(format!("{engine} fails at run time: {reason}"))),
        Err(e) => return Err(format!("{} {} on {engine}: {e}", kernel.name, cpu_name(cpu))),
    };
    if got != expected {
        let what = if got.r0 != expected.r0 {
            format!("r0 {:#x}, native {:#x}", got.r0, expected.r0)
        } else if got.ctx != expected.ctx {
            "context after the run differs from native's".to_string()
        } else {
            format!("stores {:?}, native {:?}", got.stores, expected.stores)
        };
        if engine == EngineKind::RbpfJit {
            return Ok(Some(format!("rbpf's JIT computes a different result: {what}")));
        }
        return Err(format!("{} -mcpu={} on {engine}: {what}", kernel.name, cpu_name(cpu)));
    }
    Ok(None)
}
