//! Translation time per container: what our JIT takes to compile a kernel (a whole
//! `VirtualMachine::load`, and `Jit::prepare` alone), what `fc_aot::backend::translate::translate`
//! takes to produce a host object, and what the `rbpf` crate's `jit_compile` takes.

use std::path::Path;
use std::time::Instant;

use fc_aot::container::build::Cpu;
use fc_aot::backend::clif::jit::Jit;
use fc_aot::backend::translate::{self, Backend, Emit};
use fc_aot::helpers::HelperSet;
use fc_runtime::format::{Container, LayoutChoice};
use fc_runtime::helpers::Profile;
use fc_runtime::interp::{Engine, Interp};
use fc_runtime::stores::StoreContext;
use fc_runtime::vm::DEFAULT_STACK_SIZE;
use fc_runtime::VirtualMachine;

use crate::engines::{self, bin_path};
use crate::kernels::Kernel;

/// Medians (seconds) over the repetitions, for one kernel and cpu.
pub struct Translation {
    pub kernel: &'static Kernel,
    /// eBPF instruction slots of the text.
    pub slots: usize,
    /// `VirtualMachine::load` on the optimized interpreter: parse, verify, pre-decode.
    pub load_interp: f64,
    /// `VirtualMachine::load` on our JIT: parse, verify, lower to CLIF, compile, finalize.
    pub load_jit: f64,
    /// `Jit::prepare` alone on an already verified program.
    pub prepare_jit: f64,
    /// `translate(.., "host", Cranelift, Emit::Obj)`: verify, lower, compile, write the object
    /// (seconds, object bytes), or why it failed.
    pub obj: Result<(f64, usize), String>,
    /// The `rbpf` crate's `jit_compile`, or why rbpf cannot run the kernel.
    pub rbpf_jit: Result<f64, String>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs `f` `reps` times (after one untimed run) and returns the median of what it reports.
fn repeat(reps: usize, mut f: impl FnMut() -> Result<f64, String>) -> Result<f64, String> {
    f()?;
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        times.push(f()?);
    }
    Ok(median(times))
}

/// Times the translations of `kernel` (built for `cpu` under `root`), `reps` times each.
/// `rbpf_na`: why rbpf cannot run the kernel, if it cannot (then its JIT is not timed).
pub fn measure(kernel: &'static Kernel, root: &Path, cpu: Cpu, reps: usize, rbpf_na: Option<&str>) -> Result<Translation, String> {
    let path = bin_path(root, cpu, kernel);
    let bytes: &'static [u8] =
        Box::leak(std::fs::read(&path).map_err(|e| format!("{}: {e} (build first)", path.display()))?.into_boxed_slice());
    let container = Container::parse(bytes, LayoutChoice::Auto).map_err(|e| format!("{}: {e:?}", path.display()))?;
    let stores: &'static StoreContext = Box::leak(Box::new(StoreContext::new()));

    let load = |jit: bool| {
        repeat(reps, || {
            let mut vm = VirtualMachine::new(stores);
            if jit {
                vm.set_engine(Box::new(Jit::default()));
            } else {
                vm.set_engine(Box::new(Interp::default()));
            }
            vm.set_budget(None);
            let start = Instant::now();
            let ok = vm.load(bytes, DEFAULT_STACK_SIZE);
            let t = start.elapsed().as_secs_f64();
            if !ok {
                return Err(format!("{}: load failed: {:?}", path.display(), vm.load_error()));
            }
            // Unloading (freeing the code) happens here, outside the timed part.
            drop(vm);
            Ok(t)
        })
    };
    let load_interp = load(false)?;
    let load_jit = load(true)?;

    let program = HelperSet::profile(Profile::Sming).verify(&container).map_err(|e| format!("{}: {e}", path.display()))?;
    let prepare_jit = repeat(reps, || {
        let mut jit = Jit::default();
        let start = Instant::now();
        let r = jit.prepare(&program);
        let t = start.elapsed().as_secs_f64();
        r.map_err(|e| format!("Jit::prepare: {e:?}"))?;
        drop(jit);
        Ok(t)
    })?;

    let mut size = 0;
    let obj = repeat(reps, || {
        let start = Instant::now();
        let program = HelperSet::profile(Profile::Sming).verify(&container).map_err(|e| e.to_string())?;
        let object = translate::translate(kernel.name, &container, &program, "host", Backend::Cranelift, Emit::Obj)?;
        let t = start.elapsed().as_secs_f64();
        size = object.len();
        Ok(t)
    })
    .map(|t| (t, size));

    let rbpf_jit = match rbpf_na {
        Some(reason) => Err(reason.to_owned()),
        None => {
            // Compiles once through the panic-catching wrapper (the kernel is known to work),
            // then times plain `jit_compile` calls.
            engines::rbpf_jit_compile(engines::rbpf_vm(bytes, &path)?).and_then(|_| repeat(reps, || {
                let mut vm = engines::rbpf_vm(bytes, &path)?;
                let start = Instant::now();
                let r = vm.jit_compile();
                let t = start.elapsed().as_secs_f64();
                r.map_err(|e| e.to_string())?;
                drop(vm);
                Ok(t)
            }))
        }
    };
    Ok(Translation { kernel, slots: container.text.len() / 8, load_interp, load_jit, prepare_jit, obj, rbpf_jit })
}
