//! Instruction counts (callgrind, in a subprocess) and time ratios (in this process).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

use fc_aot::container::build::Cpu;

use crate::engines::{self, cpu_name, fcb_execute, EngineKind, Runner};
use crate::kernels::Kernel;

/// The `measure` mode the parent runs under callgrind: load, check one run against
/// native, then `iters` executions through [`fcb_execute`] (the only function counted).
pub fn measure_mode(root: &Path, cpu: Cpu, kernel: &Kernel, engine: EngineKind, iters: u64) -> Result<(), String> {
    if engine != EngineKind::Null {
        if let Some(reason) = engines::check(engine, kernel, root, cpu)? {
            return Err(format!("{engine} cannot run {}: {reason}", kernel.name));
        }
    }
    let mut runner = engines::runner(engine, kernel, root, cpu)?;
    let pristine = (kernel.context)();
    let mut ctx = pristine.clone();
    // One uncounted run first: the first run may do one-time work (store inserts, lazy binding).
    runner.run(&mut ctx)?;
    for _ in 0..iters {
        ctx.copy_from_slice(&pristine);
        let r = fcb_execute(black_box(&mut *runner), black_box(&mut ctx));
        black_box(r).map_err(|e| format!("measured run failed: {e}"))?;
    }
    Ok(())
}

/// Iterations per callgrind run.
pub const CALLGRIND_ITERS: u64 = 16;

/// One callgrind job.
#[derive(Clone)]
pub struct Job {
    pub cpu: Cpu,
    pub kernel: &'static Kernel,
    pub engine: EngineKind,
}

/// What one callgrind run counted (over all its executions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    /// Ir inside `fcb_execute`.
    pub total: u64,
    /// Of those, Ir in code outside every mapped file: code a JIT compiled at run time
    /// (ours or rbpf's), as opposed to the runtime around it.
    pub jit_code: u64,
}

/// Instructions (Ir) of `iters` executions, counted by callgrind in `fcb_execute` only.
pub fn callgrind(exe: &Path, root: &Path, job: &Job, iters: u64) -> Result<Count, String> {
    let dir = root.join("callgrind");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out: PathBuf = dir.join(format!("{}-{}-{}.out", cpu_name(job.cpu), job.kernel.name, job.engine));
    let _ = std::fs::remove_file(&out);
    // The counted process gets a fixed environment and relative paths: its stack addresses
    // then do not depend on the caller's shell or checkout folder. (rbpf's helper table is a
    // hash map seeded from addresses, so its helper lookups cost what the addresses say.)
    let valgrind = find_in_path("valgrind").ok_or("valgrind not found (install it: apt-get install valgrind)")?;
    let workspace = engines::workspace_root();
    let relative = |p: &Path| p.strip_prefix(&workspace).map(Path::to_owned).unwrap_or_else(|_| p.to_owned());
    let output = Command::new(valgrind)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .current_dir(&workspace)
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--toggle-collect=fcb_execute")
        .arg("--collect-atstart=no")
        .arg("-q")
        .arg(relative(exe))
        .args(["measure", "--dir"])
        .arg(relative(root))
        .args(["--cpu", cpu_name(job.cpu), "--kernel", job.kernel.name, "--engine", job.engine.name()])
        .args(["--iters", &iters.to_string()])
        .output()
        .map_err(|e| format!("valgrind: {e} (install it: apt-get install valgrind)"))?;
    if !output.status.success() {
        return Err(format!(
            "valgrind on {} {} {}: {}\n{}",
            cpu_name(job.cpu),
            job.kernel.name,
            job.engine,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let total = parse_total(&text).ok_or_else(|| format!("{}: no summary/totals line", out.display()))?;
    Ok(Count { total, jit_code: parse_unmapped_self(&text) })
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file())
}

/// The Ir total of a callgrind output file (`summary:` line, else `totals:`).
pub fn parse_total(text: &str) -> Option<u64> {
    let line = |prefix: &str| text.lines().find_map(|l| l.strip_prefix(prefix)).map(str::trim);
    let value = line("summary:").or_else(|| line("totals:"))?;
    value.split_whitespace().next()?.parse().ok()
}

/// The self cost (Ir) of every function of object `???` in a callgrind output file: code
/// in no mapped file, which in this process is what a JIT wrote at run time. A cost line
/// right after `calls=` is the inclusive cost of a call and is not counted.
pub fn parse_unmapped_self(text: &str) -> u64 {
    let mut objects: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    // `ob=(3) /path` names object 3; a later `ob=(3)` refers to it.
    let mut resolve = |spec: &str| -> String {
        let spec = spec.trim();
        match spec.strip_prefix('(').and_then(|r| r.split_once(')')) {
            Some((id, name)) if !name.trim().is_empty() => {
                objects.insert(id.to_owned(), name.trim().to_owned());
                name.trim().to_owned()
            }
            Some((id, _)) => objects.get(id).cloned().unwrap_or_default(),
            None => spec.to_owned(),
        }
    };
    let mut in_unmapped = false;
    let mut after_calls = false;
    let mut sum = 0u64;
    for line in text.lines() {
        if let Some(spec) = line.strip_prefix("ob=") {
            in_unmapped = resolve(spec) == "???";
        } else if let Some(spec) = line.strip_prefix("cob=") {
            resolve(spec);
        } else if line.starts_with("calls=") {
            after_calls = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-' || c == '*') {
            if !after_calls && in_unmapped {
                sum += line.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            }
            after_calls = false;
        }
    }
    sum
}

/// Runs `jobs` under callgrind, two at a time; results in job order (Ir of `iters` runs).
pub fn callgrind_all(exe: &Path, root: &Path, jobs: &[Job], iters: u64) -> Result<Vec<Count>, String> {
    let results: Mutex<Vec<Option<Result<Count, String>>>> = Mutex::new(vec![None; jobs.len()]);
    let next = Mutex::new(0usize);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(job) = jobs.get(i) else { break };
                let r = callgrind(exe, root, job, iters);
                eprint!(".");
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    eprintln!();
    results.into_inner().unwrap().into_iter().map(|r| r.expect("every job ran")).collect()
}

/// Median seconds per execution of each runner, measured in interleaved rounds
/// (each round times every runner once, in rotating order).
pub fn time_runners(runners: &mut [Box<dyn Runner>], context: &[u8], rounds: usize, target_secs: f64) -> Vec<f64> {
    let mut ctx = context.to_vec();
    let batch = |runner: &mut dyn Runner, ctx: &mut Vec<u8>, n: u64| -> f64 {
        let start = Instant::now();
        for _ in 0..n {
            ctx.copy_from_slice(context);
            let r = fcb_execute(black_box(&mut *runner), black_box(&mut ctx[..]));
            let _ = black_box(r);
        }
        start.elapsed().as_secs_f64()
    };
    // Calibrate: iterations that take about `target_secs` per batch.
    let iters: Vec<u64> = runners
        .iter_mut()
        .map(|r| {
            let mut n = 1u64;
            loop {
                let t = batch(&mut **r, &mut ctx, n);
                if t >= target_secs / 4.0 || n >= 1 << 24 {
                    break ((n as f64 * target_secs / t.max(1e-9)).ceil() as u64).max(1);
                }
                n *= 2;
            }
        })
        .collect();
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); runners.len()];
    for round in 0..rounds {
        for k in 0..runners.len() {
            let i = (k + round) % runners.len();
            let t = batch(&mut *runners[i], &mut ctx, iters[i]);
            samples[i].push(t / iters[i] as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(|a, b| a.total_cmp(b));
            if std::env::var_os("FC_BENCH_DEBUG").is_some() {
                eprintln!(
                    "  min {:.1} ns  q1 {:.1}  median {:.1}  q3 {:.1}  max {:.1}",
                    s[0] * 1e9,
                    s[s.len() / 4] * 1e9,
                    s[s.len() / 2] * 1e9,
                    s[s.len() * 3 / 4] * 1e9,
                    s[s.len() - 1] * 1e9
                );
            }
            s[s.len() / 2]
        })
        .collect()
}
