//! fc-bench: real containers on the optimized interpreter, the reference interpreter,
//! the `rbpf` crate's interpreter and native code. Host instruction counts come from
//! callgrind (exact and repeatable), time ratios from interleaved rounds in one process.
//! `fc-bench table` prints the tables and writes `benches/RESULTS.md`.

mod engines;
mod kernels;
mod measure;
mod native;
mod report;
mod translation;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use engines::{parse_cpu, EngineKind};

#[derive(Parser)]
#[command(name = "fc-bench", about = "Benchmarks of fc-aot's interpreters against rbpf and native code")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build, check every engine against native, count instructions, time, print the
    /// tables and write them to benches/RESULTS.md.
    Table {
        /// Where to write the report (default: benches/RESULTS.md).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Timing rounds per kernel (the median is taken).
        #[arg(long, default_value_t = 41)]
        rounds: usize,
        /// Milliseconds per timed batch.
        #[arg(long, default_value_t = 1.5)]
        batch_ms: f64,
        /// Executions counted per callgrind run.
        #[arg(long, default_value_t = measure::CALLGRIND_ITERS)]
        iters: u64,
        /// Repetitions of each translation timing (the median is taken).
        #[arg(long, default_value_t = 21)]
        translate_reps: usize,
        /// Print only; do not write the report.
        #[arg(long)]
        no_write: bool,
    },
    /// Build and check every engine against native; print r0 per kernel.
    Check,
    /// Time one kernel's engines side by side (FC_BENCH_DEBUG=1 prints the spread).
    Time {
        #[arg(long)]
        kernel: String,
        #[arg(long, default_value = "v1")]
        cpu: String,
        #[arg(long, default_value_t = 41)]
        rounds: usize,
        #[arg(long, default_value_t = 1.5)]
        batch_ms: f64,
    },
    /// Count one (kernel, cpu, engine) with callgrind and print Ir per execution
    /// (for checking repeatability by hand).
    Count {
        #[arg(long)]
        kernel: String,
        #[arg(long, default_value = "v1")]
        cpu: String,
        #[arg(long)]
        engine: String,
        #[arg(long, default_value_t = measure::CALLGRIND_ITERS)]
        iters: u64,
    },
    /// Internal: what `table` runs under callgrind.
    #[command(hide = true)]
    Measure {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        cpu: String,
        #[arg(long)]
        kernel: String,
        #[arg(long)]
        engine: String,
        #[arg(long)]
        iters: u64,
    },
}

fn build_root() -> PathBuf {
    engines::workspace_root().join("target/fc-bench")
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Cmd::Table { out, rounds, batch_ms, iters, translate_reps, no_write } => {
            let settings = report::Settings { rounds, batch_secs: batch_ms / 1000.0, iters, translate_reps };
            let results = report::collect(&build_root(), &settings)?;
            let text = report::render(&results, &settings);
            println!("{text}");
            if !no_write {
                let path = out.unwrap_or_else(|| engines::workspace_root().join("benches/RESULTS.md"));
                std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
                eprintln!("fc-bench: wrote {}", path.display());
            }
            Ok(())
        }
        Cmd::Check => {
            let root = build_root();
            for cpu in report::CPUS {
                engines::build_all(&root, cpu)?;
                for kernel in &kernels::KERNELS {
                    let native = engines::outcome(&mut *engines::runner(EngineKind::Native, kernel, &root, cpu)?, kernel)?;
                    let mut line = format!("{:>2} {:<15} r0 {:#018x}", engines::cpu_name(cpu), kernel.name, native.r0);
                    for engine in EngineKind::MEASURED.into_iter().skip(1) {
                        match engines::check(engine, kernel, &root, cpu)? {
                            None => line += &format!("  {engine}: ok"),
                            Some(reason) => line += &format!("  {engine}: n/a ({reason})"),
                        }
                    }
                    println!("{line}");
                }
            }
            Ok(())
        }
        Cmd::Time { kernel, cpu, rounds, batch_ms } => {
            let root = build_root();
            let cpu = parse_cpu(&cpu).ok_or("--cpu: v1, v2, v3 or v4")?;
            let kernel = kernels::kernel(&kernel).ok_or("--kernel: unknown kernel")?;
            engines::build_all(&root, cpu)?;
            let mut names = Vec::new();
            let mut runners = Vec::new();
            for e in [EngineKind::Null].into_iter().chain(EngineKind::MEASURED) {
                // rbpf's JIT checks no access: only kernels that pass the check run on it.
                if e == EngineKind::RbpfJit && engines::check(e, kernel, &root, cpu)?.is_some() {
                    continue;
                }
                if let Ok(r) = engines::runner(e, kernel, &root, cpu) {
                    names.push(e);
                    runners.push(r);
                }
            }
            let t = measure::time_runners(&mut runners, &(kernel.context)(), rounds, batch_ms / 1000.0);
            for (e, &te) in names.iter().zip(&t) {
                println!("{e:>9}: {:10.1} ns  ({:.1}x native after the harness)", te * 1e9, (te - t[0]) / (t[1] - t[0]));
            }
            Ok(())
        }
        Cmd::Count { kernel, cpu, engine, iters } => {
            let root = build_root();
            let cpu = parse_cpu(&cpu).ok_or("--cpu: v1, v2, v3 or v4")?;
            let kernel = kernels::kernel(&kernel).ok_or("--kernel: unknown kernel")?;
            let engine = EngineKind::parse(&engine).ok_or("--engine: native, interp, reference, rbpf, jit, rbpf-jit or null")?;
            engines::build_all(&root, cpu)?;
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let job = measure::Job { cpu, kernel, engine };
            let count = measure::callgrind(&exe, &root, &job, iters)?;
            let total = count.total;
            println!("{} {} {}: {total} Ir in {iters} executions = {} Ir each (harness included)", engines::cpu_name(cpu), kernel.name, engine, total as f64 / iters as f64);
            if count.jit_code > 0 {
                println!("  of which {} Ir each in JIT-compiled code", count.jit_code as f64 / iters as f64);
            }
            Ok(())
        }
        Cmd::Measure { dir, cpu, kernel, engine, iters } => {
            let cpu = parse_cpu(&cpu).ok_or("--cpu")?;
            let kernel = kernels::kernel(&kernel).ok_or("--kernel")?;
            let engine = EngineKind::parse(&engine).ok_or("--engine")?;
            measure::measure_mode(&dir, cpu, kernel, engine, iters)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fc-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
