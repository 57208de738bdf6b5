//! Collecting the numbers for every (cpu, kernel, engine) and rendering the report.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use fc_aot::build::Cpu;

use crate::engines::{self, cpu_name, EngineKind};
use crate::kernels::{Kernel, KERNELS};
use crate::measure::{self, Job};

pub const CPUS: [Cpu; 2] = [Cpu::V1, Cpu::V3];

pub struct Settings {
    pub rounds: usize,
    pub batch_secs: f64,
    pub iters: u64,
}

/// Index of an engine in the per-kernel arrays (the order of [`EngineKind::MEASURED`]).
fn slot(engine: EngineKind) -> usize {
    EngineKind::MEASURED.iter().position(|&e| e == engine).expect("a measured engine")
}
const NATIVE: usize = 0;
const INTERP: usize = 1;
const REFERENCE: usize = 2;
const RBPF: usize = 3;

pub struct Row {
    pub kernel: &'static Kernel,
    /// Host instructions of one execution, harness subtracted.
    pub ir: [Option<f64>; 4],
    /// Seconds per execution (median of rounds), harness subtracted.
    pub time: [Option<f64>; 4],
    /// Why an engine has no numbers.
    pub na: [Option<String>; 4],
}

pub struct CpuResults {
    pub cpu: Cpu,
    pub rows: Vec<Row>,
}

pub struct Results {
    pub cpus: Vec<CpuResults>,
    /// Ir of the harness alone (one `fcb_execute` call of the null runner).
    pub harness_ir: f64,
    pub seconds: f64,
}

pub fn collect(root: &Path, settings: &Settings) -> Result<Results, String> {
    let start = Instant::now();
    let mut cpus: Vec<CpuResults> = Vec::new();
    for cpu in CPUS {
        eprintln!("fc-bench: building containers and kernels for -mcpu={}", cpu_name(cpu));
        engines::build_all(root, cpu)?;
        let mut rows = Vec::new();
        for kernel in &KERNELS {
            let mut na: [Option<String>; 4] = Default::default();
            for engine in [EngineKind::Interp, EngineKind::Reference, EngineKind::Rbpf] {
                // Err (a wrong result or a failing interpreter of ours) stops everything.
                na[slot(engine)] = engines::check(engine, kernel, root, cpu)?;
            }
            rows.push(Row { kernel, ir: [None; 4], time: [None; 4], na });
        }
        cpus.push(CpuResults { cpu, rows });
    }
    eprintln!("fc-bench: every engine agrees with native (r0, context, stores) on every kernel");

    // Instruction counts.
    let mut jobs = vec![Job { cpu: Cpu::V1, kernel: &KERNELS[0], engine: EngineKind::Null }];
    let mut places = Vec::new();
    for (c, cr) in cpus.iter().enumerate() {
        for (k, row) in cr.rows.iter().enumerate() {
            for engine in EngineKind::MEASURED {
                if row.na[slot(engine)].is_none() {
                    jobs.push(Job { cpu: cr.cpu, kernel: row.kernel, engine });
                    places.push((c, k, slot(engine)));
                }
            }
        }
    }
    eprintln!("fc-bench: {} callgrind runs of {} executions each", jobs.len(), settings.iters);
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let totals = measure::callgrind_all(&exe, root, &jobs, settings.iters)?;
    let per_run = |total: u64| total as f64 / settings.iters as f64;
    let harness_ir = per_run(totals[0]);
    for (&(c, k, e), &total) in places.iter().zip(&totals[1..]) {
        cpus[c].rows[k].ir[e] = Some(per_run(total) - harness_ir);
    }

    // Time ratios, side by side in this process.
    eprintln!("fc-bench: timing ({} interleaved rounds per kernel)", settings.rounds);
    for cr in &mut cpus {
        for row in &mut cr.rows {
            let mut engines_here = vec![EngineKind::Null];
            engines_here.extend(EngineKind::MEASURED.into_iter().filter(|&e| row.na[slot(e)].is_none()));
            let mut runners = engines_here
                .iter()
                .map(|&e| engines::runner(e, row.kernel, root, cr.cpu))
                .collect::<Result<Vec<_>, _>>()?;
            let medians = measure::time_runners(&mut runners, &(row.kernel.context)(), settings.rounds, settings.batch_secs);
            for (&engine, &t) in engines_here.iter().zip(&medians).skip(1) {
                row.time[slot(engine)] = Some((t - medians[0]).max(0.0));
            }
        }
    }
    Ok(Results { cpus, harness_ir, seconds: start.elapsed().as_secs_f64() })
}

fn ir_text(ir: f64) -> String {
    let whole = ir.round() as u64;
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if (ir - ir.round()).abs() >= 0.05 {
        let _ = write!(out, ".{}", ((ir - ir.floor()) * 10.0).round() as u64 % 10);
    }
    out
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn x(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |r| if r >= 100.0 { format!("{r:.0}x") } else { format!("{r:.1}x") })
}

fn command_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(|l| l.trim().to_owned()))
        .unwrap_or_else(|| format!("({cmd} not found)"))
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())))
        .unwrap_or_else(|| "unknown".into())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn rbpf_version() -> String {
    let lock = std::fs::read_to_string(engines::workspace_root().join("Cargo.lock")).unwrap_or_default();
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l == "name = \"rbpf\"" {
            if let Some(v) = lines.next().and_then(|v| v.strip_prefix("version = ")) {
                return v.trim_matches('"').to_owned();
            }
        }
    }
    "0.4".into()
}

/// A target's verdict: `got` against `bound` (at least, or at most).
fn verdict(got: Option<f64>, bound: f64, at_least: bool) -> String {
    let Some(got) = got else { return "n/a".into() };
    let met = if at_least { got >= bound } else { got <= bound };
    if met {
        format!("{got:.1}x: met")
    } else if at_least {
        format!("{got:.1}x: **missed** by {:.0}% (needs ≥ {bound}x)", (1.0 - got / bound) * 100.0)
    } else {
        format!("{got:.1}x: **missed** by {:.0}% (needs ≤ {bound}x)", (got / bound - 1.0) * 100.0)
    }
}

pub fn render(results: &Results, settings: &Settings) -> String {
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".into());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut s = String::new();
    let _ = writeln!(s, "# fc-aot benchmark results\n");
    let _ = writeln!(
        s,
        "Made by `scripts/bench` (which runs `./scripts/setup`, installs valgrind if missing, then \
         `cargo run --release -p fc-bench -- table`); this run: `fc-bench {}`.\n",
        args.join(" ")
    );
    let _ = writeln!(s, "| | |\n|---|---|");
    let _ = writeln!(s, "| date | {} |", command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]));
    let _ = writeln!(s, "| host CPU | {} |", cpu_model());
    let _ = writeln!(s, "| rustc | {} |", env!("FC_BENCH_RUSTC"));
    let _ = writeln!(s, "| clang (containers) | {} |", command_line(&clang, &["--version"]));
    let _ = writeln!(s, "| native build | {} |", env!("FC_BENCH_NATIVE_CC"));
    let _ = writeln!(s, "| valgrind | {} |", command_line("valgrind", &["--version"]));
    let _ = writeln!(s, "| rbpf crate | {} (`EbpfVmRaw`, its interpreter) |", rbpf_version());
    let _ = writeln!(s, "| run time | {:.0} s (build, checks, callgrind, timing) |", results.seconds);
    let _ = writeln!(s, "| load average at the end | {} |\n", load_average());

    let _ = writeln!(
        s,
        "**Ir** = host instructions of one execution, counted by callgrind inside `fcb_execute` only \
         (`--toggle-collect`), {iters} executions after one uncounted warm-up run, divided by {iters}, \
         minus the harness's own {harness} Ir (the same call on an engine that does nothing). For \
         `interp` and `reference` one execution is `VirtualMachine::execute` (budget off) including its \
         per-run setup (memory map, zeroing the stack); for `rbpf` it is `EbpfVmRaw::execute_program` \
         including its per-run setup (it allocates a zeroed stack); for `native` it is a call of the \
         same C compiled natively. Every engine's r0, context after the run and stores were checked \
         equal to native's before measuring. **time** = median over {rounds} interleaved rounds (each \
         round times every engine for about {ms} ms in rotating order) of the time per execution, \
         minus the harness's, as a multiple of native's. The context is restored before every \
         execution (outside the counted call).\n",
        iters = settings.iters,
        harness = ir_text(results.harness_ir),
        rounds = settings.rounds,
        ms = settings.batch_secs * 1000.0,
    );

    let mut notes: Vec<String> = Vec::new();
    for cr in &results.cpus {
        let _ = writeln!(s, "## Containers built with -mcpu={}\n", cpu_name(cr.cpu));
        let _ = writeln!(
            s,
            "| kernel | native Ir | interp Ir (x native) | reference Ir (x native) | rbpf Ir (x native) | \
             interp vs reference | interp vs rbpf | interp time (x native) | reference time (x native) | \
             rbpf time (x native) |"
        );
        let _ = writeln!(s, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        for row in &cr.rows {
            let native = row.ir[NATIVE];
            let mut cells = vec![format!("{} ({})", row.kernel.name, row.kernel.what), native.map_or("n/a".into(), ir_text)];
            for e in [INTERP, REFERENCE, RBPF] {
                cells.push(match (row.ir[e], &row.na[e]) {
                    (Some(ir), _) => format!("{} ({})", ir_text(ir), x(ratio(Some(ir), native))),
                    (None, Some(reason)) => {
                        let n = match notes.iter().position(|r| r == reason) {
                            Some(i) => i + 1,
                            None => {
                                notes.push(reason.clone());
                                notes.len()
                            }
                        };
                        format!("n/a [{n}]")
                    }
                    (None, None) => "n/a".into(),
                });
            }
            cells.push(format!("{} fewer", x(ratio(row.ir[REFERENCE], row.ir[INTERP]))));
            cells.push(match ratio(row.ir[RBPF], row.ir[INTERP]) {
                Some(r) => format!("{} fewer", x(Some(r))),
                None => "n/a".into(),
            });
            for e in [INTERP, REFERENCE, RBPF] {
                cells.push(x(ratio(row.time[e], row.time[NATIVE])));
            }
            let _ = writeln!(s, "| {} |", cells.join(" | "));
        }
        s.push('\n');
    }
    if !notes.is_empty() {
        for (i, n) in notes.iter().enumerate() {
            let _ = writeln!(s, "[{}] {n}", i + 1);
            s.push('\n');
        }
    }

    // The targets.
    let _ = writeln!(s, "## Targets (issue 7)\n");
    let _ = writeln!(s, "Instruction counts (Ir). CRC-32 against rbpf uses `crc32_ctxtable` (rbpf cannot run the table in .rodata).\n");
    let header: Vec<String> = results.cpus.iter().map(|c| format!("-mcpu={}", cpu_name(c.cpu))).collect();
    let _ = writeln!(s, "| target | kernel | {} |", header.join(" | "));
    let _ = writeln!(s, "|---|---|{}", "---|".repeat(header.len()));
    let find = |cr: &'_ CpuResults, name: &str| -> Option<[Option<f64>; 4]> {
        cr.rows.iter().find(|r| r.kernel.name == name).map(|r| r.ir)
    };
    type Pick = fn([Option<f64>; 4]) -> Option<f64>;
    let targets: [(&str, &str, Pick, f64, bool); 9] = [
        ("interp ≥ 3x fewer Ir than reference", "fletcher32", |ir| ratio(ir[REFERENCE], ir[INTERP]), 3.0, true),
        ("interp ≥ 3x fewer Ir than reference", "crc32", |ir| ratio(ir[REFERENCE], ir[INTERP]), 3.0, true),
        ("interp ≥ 3x fewer Ir than reference", "sort", |ir| ratio(ir[REFERENCE], ir[INTERP]), 3.0, true),
        ("interp ≥ 8x fewer Ir than rbpf", "fletcher32", |ir| ratio(ir[RBPF], ir[INTERP]), 8.0, true),
        ("interp ≥ 8x fewer Ir than rbpf", "crc32_ctxtable", |ir| ratio(ir[RBPF], ir[INTERP]), 8.0, true),
        ("interp ≥ 8x fewer Ir than rbpf", "sort", |ir| ratio(ir[RBPF], ir[INTERP]), 8.0, true),
        ("interp ≤ 12x native Ir", "fletcher32", |ir| ratio(ir[INTERP], ir[NATIVE]), 12.0, false),
        ("interp ≤ 12x native Ir", "crc32", |ir| ratio(ir[INTERP], ir[NATIVE]), 12.0, false),
        ("interp ≤ 12x native Ir", "sort", |ir| ratio(ir[INTERP], ir[NATIVE]), 12.0, false),
    ];
    let mut missed = 0;
    for (what, kernel, pick, bound, at_least) in targets {
        let cells: Vec<String> = results
            .cpus
            .iter()
            .map(|cr| {
                let v = verdict(find(cr, kernel).and_then(pick), bound, at_least);
                if !v.ends_with("met") {
                    missed += 1;
                }
                v
            })
            .collect();
        let _ = writeln!(s, "| {what} | {kernel} | {} |", cells.join(" | "));
    }
    let _ = writeln!(
        s,
        "\n{}\n",
        if missed == 0 { "All targets met.".to_string() } else { format!("{missed} target cells missed or n/a.") }
    );
    let _ = writeln!(
        s,
        "## Notes\n\n\
         - The instruction counts are exact and repeatable: the counted process gets a fixed \
         environment and relative paths, so even rbpf's helper lookups (a hash map seeded from \
         addresses) cost the same from run to run. A count with a fraction means the executions \
         of one process differ slightly (rbpf allocates its stack on every run).\n\
         - Times on a shared machine are noisy (see the load average above); the instruction \
         counts are the numbers to compare. Native code also runs at a different \
         instructions-per-cycle than an interpreter, so time ratios and Ir ratios differ.\n\
         - `calls.c` defines its functions so that every local call jumps forward: rbpf 0.4.1 \
         computes a call target with `insn_ptr += imm as usize`, which panics on a backward call \
         in a debug build (release wraps and works).\n\
         - clang 14 emits no BPF `mod`: `%` becomes divide, multiply, subtract.\n"
    );
    s
}
