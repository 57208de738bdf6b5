//! `fc-aot run`: run a container, here or on a target through its harness, and print
//! r0, the error, printf output, the context, the data section and the stores of each run
//! (as text or JSON).

use std::path::PathBuf;
use std::process::ExitCode;

use fc_runtime::format::Container;
use fc_runtime::interp::{EngineFailure, DEFAULT_BUDGET};
use fc_runtime::stores::StoreContext;
use fc_runtime::vm::{LoadError, DEFAULT_STACK_SIZE};
use fc_runtime::{error_string, VirtualMachine};

use super::common::*;
use super::explain::{describe_error, Replay};
use crate::container::lines::{insn_label, LineTable};
use crate::helpers::HelperSet;
use crate::target::harness::{self, Harness, HarnessError, Request};
use crate::target::tools::ToolError;
use crate::target::{self as engines, workdir, EngineKind, Line, Run, Target};
use crate::text::hex;

#[derive(clap::Args)]
pub struct Args {
    pub file: PathBuf,
    /// Run this function-table entry instead of the first.
    #[arg(long)]
    pub function: Option<String>,
    /// Context bytes as hex.
    #[arg(long, conflicts_with = "ctx_file", value_parser = parse_hex)]
    pub ctx: Option<Bytes>,
    /// Context bytes from a file.
    #[arg(long)]
    pub ctx_file: Option<PathBuf>,
    /// Budget units allowed: one per taken jump, and helpers pay for their work (one unit
    /// per started 4 KiB past the first 4 KiB a memcpy moves or a printf prints); or
    /// `off`: no bound at all (see --timeout). docs/budget.md.
    #[arg(long, default_value_t = Budget(Some(DEFAULT_BUDGET)), value_parser = parse_budget)]
    pub budget: Budget,
    /// Stop after SECONDS of wall time (all runs together), whatever the budget (meant
    /// for `--budget off`): prints `fc-aot: run stopped by --timeout after SECONDS s` and
    /// exits with status 4.
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
    /// Stack bytes per frame (a multiple of 8). On the other targets the stack comes from
    /// the arena of the runtime there, with the rest of the loaded container: 64 KiB on
    /// the SoCs, 4 MiB on the Linux ISAs.
    #[arg(long, default_value_t = DEFAULT_STACK_SIZE)]
    pub stack: usize,
    /// Runs of the one loaded container: data, bss and the stores persist between them,
    /// as on a device; the context starts from the given bytes each time. With N > 1 each
    /// run's report follows a line `run I:` (I from 1); the exit status is 3 when any run
    /// stopped with an error.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Print each run as one JSON object on a line of its own: run (from 1), r0 (unsigned),
    /// r0_signed, error (`OK` or the name), error_code, error_insn (null without error),
    /// error_line (what the text's `error:` says: source line, access), printf (the
    /// lines), app_helper_log (lines of `log` behaviours), ctx and data (hex),
    /// global_store and local_store ([key, value] pairs, keys ascending).
    #[arg(long)]
    pub json: bool,
    /// The engine; by default the target's first (interp on host, c on the SoCs, aot on
    /// the Linux ISAs).
    #[arg(long, value_enum)]
    pub engine: Option<EngineKind>,
    /// Where the engine's code runs. On a target other than host the container runs in
    /// one process of the harness under qemu, on the runtime built for the target
    /// (targets/common/runtime_harness.c): the helpers of the sming, riot and conformance
    /// profiles, no application helpers (not even in a function --function does not
    /// reach: the runtime verifies the whole container), and now_ms is always 0 there (no
    /// clock under qemu-user; the host counts milliseconds since the run started, 0 for
    /// short runs).
    #[arg(long, value_enum, default_value = "host")]
    pub target: Target,
    #[command(flatten)]
    pub helpers: HelperArgs,
    #[arg(long, value_enum, default_value = "auto")]
    pub layout: ReadLayout,
}

pub fn run(args: Args) -> ExitCode {
    let Args { file, function, ctx, ctx_file, budget, timeout, stack, runs, json, engine, target, helpers, layout } = args;
    let ctx = match (ctx, ctx_file) {
        (Some(Bytes(bytes)), _) => Ok(bytes),
        (None, Some(f)) => read(&f),
        (None, None) => Ok(Vec::new()),
    };
    let ctx = match ctx {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let Budget(budget) = budget;
    let helpers = helpers.set();
    if let Some(app) = helpers.without_behaviour() {
        eprintln!("fc-aot: --app-helper 0x{:x}: a run needs its behaviour: 0x{:x}=zero, =echo, =sum or =log", app.id, app.id);
        return ExitCode::from(EXIT_USAGE);
    }
    let engine = engine.unwrap_or(engines::engines_on(target)[0]);
    let place = match engines::place(engine, target) {
        Ok(place) => place,
        Err(e) => {
            eprintln!("fc-aot: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let args = RunArgs { file, function, ctx, budget, stack, runs, json, engine, helpers, layout };
    match (place.harness(), timeout) {
        (Some(harness), timeout) => run_on(harness.as_ref(), args, timeout),
        (None, None) => run_here(args, target),
        (None, Some(limit)) => run_with_timeout(args, target, limit),
    }
}

/// `--timeout SECONDS`: a positive number of seconds (fractions allowed).
fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    match s.parse::<f64>() {
        Ok(secs) if secs > 0.0 => std::time::Duration::try_from_secs_f64(secs).map_err(|e| e.to_string()),
        _ => Err(format!("`{s}` is not a positive number of seconds")),
    }
}

/// Runs the container on a worker thread; when it has not finished after `limit`, the
/// whole process ends with [`EXIT_UNAVAILABLE`] (in-process engines cannot be interrupted:
/// native code has no check it could be told to stop at).
fn run_with_timeout(args: RunArgs, target: Target, limit: std::time::Duration) -> ExitCode {
    let (done, finished) = std::sync::mpsc::channel();
    // The interpreters keep call frames on the stack: as much as the main thread has.
    let worker = std::thread::Builder::new().name("fc-aot run".into()).stack_size(8 << 20).spawn(move || {
        let code = run_here(args, target);
        let _ = done.send(code);
    });
    if let Err(e) = worker {
        return fail(format!("cannot start the run: {e}"));
    }
    match finished.recv_timeout(limit) {
        Ok(code) => code,
        // Disconnected: the worker panicked, which it reported itself.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => ExitCode::FAILURE,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            eprintln!("fc-aot: {}", HarnessError::TimedOut(limit));
            // Exiting skips the worker's cleanup: a native engine may be building in a scratch folder.
            workdir::remove_scratch();
            std::process::exit(EXIT_UNAVAILABLE.into())
        }
    }
}

/// `--budget N|off`: `None` is no bound.
#[derive(Clone, Copy, Debug)]
pub struct Budget(Option<u32>);

impl std::fmt::Display for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => f.write_str("off"),
        }
    }
}

fn parse_budget(s: &str) -> Result<Budget, String> {
    match s {
        "off" => Ok(Budget(None)),
        n => n.parse().map(|n| Budget(Some(n))).map_err(|_| format!("`{n}` is not a number of budget units or `off`")),
    }
}

/// `--ctx HEX`: one value (a plain `Vec<u8>` would be many `u8` values to clap).
#[derive(Clone, Debug)]
pub struct Bytes(Vec<u8>);

fn parse_hex(text: &str) -> Result<Bytes, String> {
    hex::decode(text).map(Bytes)
}

struct RunArgs {
    file: PathBuf,
    function: Option<String>,
    ctx: Vec<u8>,
    budget: Option<u32>,
    stack: usize,
    runs: u32,
    json: bool,
    engine: EngineKind,
    helpers: HelperSet,
    layout: ReadLayout,
}

/// Reads and parses the container, runs it with `run` and prints the runs' reports.
fn run_and_report(args: &RunArgs, run: impl FnOnce(&Container) -> Result<Vec<Run>, ExitCode>) -> ExitCode {
    let bytes = match read(&args.file) {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let container = match parse(&args.file, &bytes, args.layout) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    match run(&container) {
        Ok(runs) => {
            let lines = LineTable::read_beside(&args.file, container.text);
            let errors: Vec<String> = runs.iter().enumerate().map(|(i, run)| error_text(args, &container, lines.as_ref(), i, run)).collect();
            report(&runs, &errors, args.json)
        }
        Err(code) => code,
    }
}

/// What follows `error: ` for run `index`: `OK`, or the error with its source line and,
/// for the first run, what the reference interpreter's replay says it touched (later
/// runs start from state the replay does not have, so they get the source line only).
fn error_text(args: &RunArgs, container: &Container, lines: Option<&LineTable>, index: usize, run: &Run) -> String {
    match run.error_pc {
        None => "OK".to_string(),
        Some(pc) if index == 0 => {
            let replay = Replay {
                container,
                function: args.function.as_deref(),
                ctx: &args.ctx,
                budget: args.budget,
                stack: args.stack,
                helpers: &args.helpers,
            };
            describe_error(&replay, lines, run.error, pc)
        }
        Some(pc) => format!("{} at {}", error_string(run.error), insn_label(lines, pc)),
    }
}

/// Runs the container in this process on one VM, `args.runs` times.
fn run_here(args: RunArgs, target: Target) -> ExitCode {
    run_and_report(&args, |container| {
        let stores = StoreContext::new();
        let lines = std::cell::RefCell::new(Vec::<Line>::new());
        let started = std::time::Instant::now();
        let engine = engines::engine(args.engine, target).map_err(fail)?;
        let mut vm = VirtualMachine::new(&stores);
        vm.set_engine(engine);
        vm.set_budget(args.budget);
        let env = vm.environment();
        env.set_profile(args.helpers.profile);
        env.set_output(|line: &[u8]| {
            let text = String::from_utf8_lossy(line);
            lines.borrow_mut().push(Line::Printf(text.strip_suffix('\n').unwrap_or(&text).to_string()));
        });
        args.helpers.install(env, |line| lines.borrow_mut().push(Line::AppHelper(line)));
        env.set_clock(move || started.elapsed().as_millis() as u32);
        if !vm.load_container(container, args.stack) {
            let e = vm.load_error().map_or_else(|| error_string(vm.last_error()).to_string(), LoadError::to_string);
            let message = format!("{}: {e}", args.file.display());
            return Err(match vm.load_error() {
                Some(LoadError::Engine { reason: Some(EngineFailure::Unavailable(_)), .. }) => unavailable(message),
                _ => fail(message),
            });
        }
        if let Some(name) = args.function.as_deref().filter(|name| !vm.function_names().contains(name)) {
            return Err(fail(format!("{}: no function `{name}` (have: {})", args.file.display(), vm.function_names().join(", "))));
        }
        let mut runs = Vec::new();
        for _ in 0..args.runs {
            let mut ctx = args.ctx.clone();
            let r0 = match &args.function {
                Some(name) => vm.execute_function(name, &mut ctx),
                None => vm.execute(&mut ctx),
            } as u64;
            let error = vm.last_error();
            runs.push(Run {
                r0: (error == 0).then_some(r0),
                error,
                error_pc: (error != 0).then(|| vm.last_error_pc()),
                lines: std::mem::take(&mut *lines.borrow_mut()),
                ctx,
                data: vm.data().to_vec(),
                globals: vm.globals().entries().to_vec(),
                locals: vm.locals().entries().to_vec(),
            });
        }
        Ok(runs)
    })
}

/// Runs the container on `harness`, a target outside this process.
fn run_on(harness: &dyn Harness, args: RunArgs, timeout: Option<std::time::Duration>) -> ExitCode {
    run_and_report(&args, |container| {
        let request = Request {
            ctx: &args.ctx,
            budget: args.budget,
            runs: args.runs,
            frame: args.stack,
            function: args.function.as_deref(),
            helpers: &args.helpers,
            timeout,
        };
        harness::run_container(harness, container, &request).map_err(|e| {
            let file = args.file.display();
            match e {
                HarnessError::Tool(ToolError::Unavailable(why)) => unavailable(format!("{file}: {why}")),
                HarnessError::TimedOut(_) => unavailable(e),
                HarnessError::Rejected(_) | HarnessError::NoFunction { .. } | HarnessError::Tool(ToolError::Failed(_)) => {
                    fail(format!("{file}: {e}"))
                }
            }
        })
    })
}

/// r0 as the VM returns it: the error code when the run failed.
fn r0(run: &Run) -> u64 {
    run.r0.unwrap_or(run.error as i64 as u64)
}

/// `r0: 42 (0x2a)`; with the top bit set the signed value too:
/// `r0: 18446744073709551615 (-1, 0xffffffffffffffff)`.
fn r0_line(r0: u64) -> String {
    match r0 as i64 {
        signed if signed < 0 => format!("r0: {r0} ({signed}, 0x{r0:x})"),
        _ => format!("r0: {r0} (0x{r0:x})"),
    }
}

fn join_entries(entries: &[(u32, u32)]) -> String {
    entries.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// One run's report as text (the format of targets/common/fc_run_report.h, which has no
/// source lines), `error` being what follows `error: `.
fn print_text(run: &Run, error: &str) {
    println!("{}", r0_line(r0(run)));
    println!("error: {error}");
    for line in &run.lines {
        match line {
            Line::Printf(text) => println!("printf: {text}"),
            Line::AppHelper(text) => println!("{text}"),
        }
    }
    if !run.ctx.is_empty() {
        println!("ctx: {}", hex::encode(&run.ctx));
    }
    if !run.data.is_empty() {
        println!("data: {}", hex::encode(&run.data));
    }
    println!("global store: {}", join_entries(&run.globals));
    println!("local store: {}", join_entries(&run.locals));
}

/// One run's report as one JSON object (`--json`'s help lists the fields).
fn json(number: usize, run: &Run, error_line: &str) -> serde_json::Value {
    let r0 = r0(run);
    let logs = run.lines.iter().filter_map(|l| match l {
        Line::AppHelper(text) => Some(text.as_str()),
        Line::Printf(_) => None,
    });
    serde_json::json!({
        "run": number,
        "r0": r0,
        "r0_signed": r0 as i64,
        "error": error_string(run.error).to_string(),
        "error_code": run.error,
        "error_insn": run.error_pc,
        "error_line": error_line,
        "printf": run.printf().collect::<Vec<_>>(),
        "app_helper_log": logs.collect::<Vec<_>>(),
        "ctx": hex::encode(&run.ctx),
        "data": hex::encode(&run.data),
        "global_store": run.globals,
        "local_store": run.locals,
    })
}

/// Prints every run (`run I:` before each when there are several); exit status 3 when
/// any stopped with an error.
fn report(runs: &[Run], errors: &[String], as_json: bool) -> ExitCode {
    for (i, (run, error)) in runs.iter().zip(errors).enumerate() {
        if as_json {
            println!("{}", json(i + 1, run, error));
        } else {
            if runs.len() > 1 {
                println!("run {}:", i + 1);
            }
            print_text(run, error);
        }
    }
    if runs.iter().all(|r| r.error_pc.is_none()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_RUN_ERROR)
    }
}
